// SPDX-License-Identifier: MIT
/*
 * Remote-section driver.  A helper thread (the owner) opens a kcov and
 * registers one global handle with KCOV_REMOTE_ENABLE; the main thread then
 * runs ukcov_remote_start(h) + ukcov_remote_stop() pairs.
 *
 *   remote pairs N h0|unreg|reg   N pairs with handle 0, with a handle nobody
 *                                 registered, or with the registered one
 *                                 (for callgrind --toggle-collect and
 *                                 strace -c: nothing else in the loop)
 *   remote time                   time per pair (wall, and the thread's CPU
 *                                 time): h0, unreg, registered with an empty
 *                                 section, registered with a section
 *                                 recording and moving 1,000 PCs
 *
 * Built WITHOUT -fsanitize-coverage: the only PCs recorded are the 1,000
 * explicit __sanitizer_cov_trace_pc() calls of the last case.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include <ukcov.h>

void __sanitizer_cov_trace_pc(void);

#define SECTION_PCS 1000
#define SECTION_WORDS 2048	/* area_size of each section buffer */
#define OWNER_WORDS 4096	/* owner's area: reset before each section */

static uint64_t reg_handle, unreg_handle;
static unsigned long *owner_area;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int ready, done;

static void die(const char *what)
{
	perror(what);
	exit(2);
}

static void *owner(void *unused)
{
	struct kcov_remote_arg *arg;
	unsigned long *area;
	int fd;

	(void)unused;
	fd = ukcov_open();
	if (fd < 0)
		die("ukcov_open");
	if (ukcov_ioctl(fd, KCOV_INIT_TRACE, (unsigned long)OWNER_WORDS))
		die("KCOV_INIT_TRACE");
	area = ukcov_mmap(NULL, OWNER_WORDS * sizeof(long),
			  PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (area == MAP_FAILED)
		die("ukcov_mmap");
	arg = calloc(1, sizeof(*arg) + sizeof(uint64_t));
	if (!arg)
		die("calloc");
	arg->trace_mode = KCOV_TRACE_PC;
	arg->area_size = SECTION_WORDS;
	arg->num_handles = 1;
	arg->common_handle = 0;
	arg->handles[0] = reg_handle;
	if (ukcov_ioctl(fd, KCOV_REMOTE_ENABLE, arg))
		die("KCOV_REMOTE_ENABLE");
	free(arg);
	pthread_mutex_lock(&mu);
	owner_area = area;
	ready = 1;
	pthread_cond_broadcast(&cv);
	/* Stay alive: the handle is unregistered when the owner exits. */
	while (!done)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
	return NULL;
}

static pthread_t start_owner(void)
{
	pthread_t t;

	reg_handle = ukcov_remote_handle(UKCOV_SUBSYSTEM_APP(0), 1);
	unreg_handle = ukcov_remote_handle(UKCOV_SUBSYSTEM_APP(0), 2);
	if (pthread_create(&t, NULL, owner, NULL))
		die("pthread_create");
	pthread_mutex_lock(&mu);
	while (!ready)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
	return t;
}

static void stop_owner(pthread_t t)
{
	pthread_mutex_lock(&mu);
	done = 1;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
	pthread_join(t, NULL);
}

__attribute__((noinline)) static void pairs(unsigned long n, uint64_t h)
{
	for (unsigned long i = 0; i < n; i++) {
		ukcov_remote_start(h);
		ukcov_remote_stop();
	}
}

__attribute__((noinline)) static void pcs(void)
{
	for (int i = 0; i < SECTION_PCS; i++)
		__sanitizer_cov_trace_pc();
}

__attribute__((noinline)) static void full_sections(unsigned long n,
						    uint64_t h)
{
	for (unsigned long i = 0; i < n; i++) {
		__atomic_store_n(&owner_area[0], 0, __ATOMIC_RELAXED);
		ukcov_remote_start(h);
		pcs();
		ukcov_remote_stop();
	}
}

/* What a registered pair's locking costs in system calls alone: the four
 * pthread_sigmask() calls of two __ukcov_lock/__ukcov_unlock pairs. */
__attribute__((noinline)) static void sigmasks(unsigned long n, uint64_t h)
{
	sigset_t all, old;

	(void)h;
	sigfillset(&all);
	for (unsigned long i = 0; i < n; i++) {
		pthread_sigmask(SIG_SETMASK, &all, &old);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		pthread_sigmask(SIG_SETMASK, &all, &old);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	}
}

static double now_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

#define REPS 7

/*
 * Print the medians over REPS runs of n iterations, in ns per iteration, of
 * the wall time and of the thread's CPU time (steadier on a busy machine).
 */
static void measure(const char *name, void (*fn)(unsigned long, uint64_t),
		    unsigned long n, uint64_t h)
{
	double t[REPS], c[REPS];

	fn(n / 10 + 1, h); /* warm up: buffers pooled, pages touched */
	for (int r = 0; r < REPS; r++) {
		double t0 = now_ns(CLOCK_MONOTONIC);
		double c0 = now_ns(CLOCK_THREAD_CPUTIME_ID);

		fn(n, h);
		c[r] = (now_ns(CLOCK_THREAD_CPUTIME_ID) - c0) / (double)n;
		t[r] = (now_ns(CLOCK_MONOTONIC) - t0) / (double)n;
	}
	qsort(t, REPS, sizeof(t[0]), cmp_double);
	qsort(c, REPS, sizeof(c[0]), cmp_double);
	printf("%s %.1f %.1f\n", name, t[REPS / 2], c[REPS / 2]);
}

int main(int argc, char **argv)
{
	pthread_t t = start_owner();

	if (argc == 4 && !strcmp(argv[1], "pairs")) {
		unsigned long n = strtoul(argv[2], NULL, 0);
		uint64_t h;

		if (!strcmp(argv[3], "h0"))
			h = 0;
		else if (!strcmp(argv[3], "unreg"))
			h = unreg_handle;
		else if (!strcmp(argv[3], "reg"))
			h = reg_handle;
		else
			return 2;
		pairs(n, h);
	} else if (argc == 2 && !strcmp(argv[1], "time")) {
		unsigned long moved;

		/* Check first that a section really records and moves. */
		full_sections(1, reg_handle);
		moved = __atomic_load_n(&owner_area[0], __ATOMIC_ACQUIRE);
		if (moved != SECTION_PCS) {
			fprintf(stderr, "remote: section moved %lu PCs, not %d\n",
				moved, SECTION_PCS);
			return 1;
		}
		measure("h0_ns", pairs, 1000000, 0);
		measure("unreg_ns", pairs, 1000000, unreg_handle);
		measure("reg_empty_ns", pairs, 100000, reg_handle);
		measure("reg_1000pc_ns", full_sections, 5000, reg_handle);
		measure("sigmask4_ns", sigmasks, 100000, 0);
	} else {
		fprintf(stderr, "usage: %s pairs N h0|unreg|reg | time\n",
			argv[0]);
		return 2;
	}
	stop_owner(t);
	return 0;
}
