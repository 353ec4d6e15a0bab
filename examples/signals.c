// SPDX-License-Identifier: MIT
/*
 * Coverage of signal handling, without touching the handlers: a kcov that
 * registers the per-signal handles (UKCOV_SUBSYSTEM_SIGNAL, SIGALRM) and
 * (UKCOV_SUBSYSTEM_SIGNAL, SIGCHLD) receives every invocation of those
 * handlers, on any thread, while the main thread's own trace stays free of
 * handler code.  A timer fires SIGALRM; a helper process exits and its
 * SIGCHLD handler reaps it.
 */
#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ukcov.h>

#define WORDS (64 * 1024)

volatile sig_atomic_t ticks, reaped;

void on_alarm(int sig);
void on_alarm(int sig)
{
	(void)sig;
	ticks++;
}

void on_child(int sig);
void on_child(int sig)
{
	int saved = errno, status;

	(void)sig;
	while (waitpid(-1, &status, WNOHANG) > 0)
		reaped++;
	errno = saved;
}

/* Entries whose symbol is one of the handlers. */
static unsigned long in_handlers(const unsigned long *area)
{
	unsigned long i, n = __atomic_load_n(&area[0], __ATOMIC_ACQUIRE), hits = 0;
	Dl_info info;

	for (i = 0; i < n; i++) {
		if (dladdr((void *)area[i + 1], &info) && info.dli_sname &&
		    (!strcmp(info.dli_sname, "on_alarm") ||
		     !strcmp(info.dli_sname, "on_child")))
			hits++;
	}
	return hits;
}

static unsigned long *open_area(int *fd)
{
	unsigned long *area;

	*fd = ukcov_open();
	if (*fd < 0 || ukcov_ioctl(*fd, KCOV_INIT_TRACE, WORDS))
		return NULL;
	area = ukcov_mmap(NULL, WORDS * sizeof(long), PROT_READ | PROT_WRITE,
			  MAP_SHARED, *fd, 0);
	return area == MAP_FAILED ? NULL : area;
}

int main(void)
{
	/* struct kcov_remote_arg, then its two handles. */
	uint64_t buf[(sizeof(struct kcov_remote_arg) / 8) + 2];
	struct kcov_remote_arg *arg = (struct kcov_remote_arg *)buf;
	struct itimerval it = { { 0, 2000 }, { 0, 2000 } };
	struct sigaction sa;
	unsigned long *remote, *local;
	int rfd, lfd;
	pid_t pid;

	remote = open_area(&rfd);
	local = open_area(&lfd);
	if (!remote || !local) {
		perror("ukcov");
		return 1;
	}
	memset(buf, 0, sizeof(buf));
	arg->trace_mode = KCOV_TRACE_PC;
	arg->area_size = WORDS;
	arg->num_handles = 2;
	arg->handles[0] = ukcov_remote_handle(UKCOV_SUBSYSTEM_SIGNAL, SIGALRM);
	arg->handles[1] = ukcov_remote_handle(UKCOV_SUBSYSTEM_SIGNAL, SIGCHLD);
	if (ukcov_ioctl(rfd, KCOV_REMOTE_ENABLE, arg) ||
	    ukcov_ioctl(lfd, KCOV_ENABLE, KCOV_TRACE_PC)) {
		perror("ukcov_ioctl");
		return 1;
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGALRM, &sa, NULL);
	sa.sa_handler = on_child;
	sigaction(SIGCHLD, &sa, NULL);

	__atomic_store_n(&local[0], 0, __ATOMIC_RELAXED);
	setitimer(ITIMER_REAL, &it, NULL);
	pid = fork();
	if (pid == 0)
		_exit(0);
	while (ticks < 5 || !reaped)
		usleep(1000);
	it.it_value.tv_usec = it.it_interval.tv_usec = 0;
	setitimer(ITIMER_REAL, &it, NULL);

	printf("SIGALRM handled %d times, SIGCHLD reaped %d child\n",
	       (int)ticks, (int)reaped);
	printf("signal handles' area: %lu PCs, %lu of them in the handlers\n",
	       __atomic_load_n(&remote[0], __ATOMIC_ACQUIRE),
	       in_handlers(remote));
	printf("main thread's own trace: %lu PCs, %lu of them in the handlers\n",
	       __atomic_load_n(&local[0], __ATOMIC_ACQUIRE), in_handlers(local));
	return in_handlers(remote) > 0 && in_handlers(local) == 0 ? 0 : 1;
}
