// SPDX-License-Identifier: MIT
/*
 * The cost of delivering a signal through ukcov.
 *
 *   signal count N [P] raise(SIGUSR1) N times (for strace and callgrind),
 *                      the handler doing about P PCs of work (default 100)
 *   signal time        ns per delivery; with -DUSE_UKCOV also with a
 *                      section for (SIGNAL, SIGUSR1) registered by another
 *                      thread, the handler recording ~100 PCs into it
 *
 * Built twice: without libukcov (the handler installed with libc's own
 * sigaction, the baseline) and with it (-DUSE_UKCOV: the same handler run
 * through ukcov's wrapper).  The handler's work is in bench/signal-work.c,
 * instrumented in the ukcov build only.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#ifdef USE_UKCOV
#include <ukcov.h>
#endif

void handler_work(int n);
volatile int handler_pcs = 100;
volatile long delivered;

static void on_usr1(int sig)
{
	(void)sig;
	handler_work(handler_pcs);
	delivered++;
}

static double now_ns(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void deliver(long n)
{
	long i;

	for (i = 0; i < n; i++)
		raise(SIGUSR1);
}

/* Reset before each run, when set (a section's owner area). */
static unsigned long *reset_area;

/* Best of 5 runs of n deliveries: wall and CPU ns per delivery. */
static void timed(const char *name, long n)
{
	double best_w = 1e30, best_c = 1e30;
	int r;

	for (r = 0; r < 5; r++) {
		double w, c;

		if (reset_area)
			__atomic_store_n(&reset_area[0], 0, __ATOMIC_RELAXED);
		w = now_ns(CLOCK_MONOTONIC);
		c = now_ns(CLOCK_THREAD_CPUTIME_ID);
		deliver(n);
		w = (now_ns(CLOCK_MONOTONIC) - w) / (double)n;
		c = (now_ns(CLOCK_THREAD_CPUTIME_ID) - c) / (double)n;
		if (w < best_w)
			best_w = w;
		if (c < best_c)
			best_c = c;
	}
	printf("%s %.1f %.1f\n", name, best_w, best_c);
}

#ifdef USE_UKCOV
#define WORDS (1ul << 20)
static int owner_fd;
static unsigned long *owner_area;
static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int state; /* 1 registered, 2 disable */

/* The owner thread registers (SIGNAL, SIGUSR1) and waits. */
static void *owner(void *p)
{
	uint64_t buf[4] = { 0 };
	struct kcov_remote_arg *a = (struct kcov_remote_arg *)buf;

	(void)p;
	owner_fd = ukcov_open();
	if (owner_fd < 0 || ukcov_ioctl(owner_fd, KCOV_INIT_TRACE, WORDS))
		exit(1);
	owner_area = ukcov_mmap(NULL, WORDS * sizeof(long),
				PROT_READ | PROT_WRITE, MAP_SHARED, owner_fd, 0);
	a->trace_mode = KCOV_TRACE_PC;
	a->area_size = 4096;
	a->num_handles = 1;
	a->handles[0] = ukcov_remote_handle(UKCOV_SUBSYSTEM_SIGNAL, SIGUSR1);
	if (owner_area == MAP_FAILED ||
	    ukcov_ioctl(owner_fd, KCOV_REMOTE_ENABLE, a))
		exit(1);
	pthread_mutex_lock(&m);
	state = 1;
	pthread_cond_broadcast(&cv);
	while (state != 2)
		pthread_cond_wait(&cv, &m);
	pthread_mutex_unlock(&m);
	ukcov_ioctl(owner_fd, KCOV_DISABLE, 0);
	return NULL;
}
#endif

int main(int argc, char **argv)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sigaction(SIGUSR1, &sa, NULL);
	if (argc >= 3 && !strcmp(argv[1], "count")) {
		if (argc == 4)
			handler_pcs = atoi(argv[3]);
		deliver(atol(argv[2]));
		return delivered == atol(argv[2]) ? 0 : 1;
	}
	if (argc != 2 || strcmp(argv[1], "time")) {
		fprintf(stderr, "usage: signal count N [PCS] | signal time\n");
		return 2;
	}
	timed("no_section", 200000);
#ifdef USE_UKCOV
	{
		pthread_t t;
		unsigned long before;

		pthread_create(&t, NULL, owner, NULL);
		pthread_mutex_lock(&m);
		while (state != 1)
			pthread_cond_wait(&cv, &m);
		pthread_mutex_unlock(&m);
		__atomic_store_n(&owner_area[0], 0, __ATOMIC_RELAXED);
		deliver(1000);
		before = __atomic_load_n(&owner_area[0], __ATOMIC_ACQUIRE);
		printf("pcs_per_section %.1f\n", (double)before / 1000.0);
		reset_area = owner_area;
		timed("section", 2000);
		pthread_mutex_lock(&m);
		state = 2;
		pthread_cond_broadcast(&cv);
		pthread_mutex_unlock(&m);
		pthread_join(t, NULL);
	}
#endif
	return 0;
}
