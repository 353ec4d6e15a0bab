// SPDX-License-Identifier: MIT
/*
 * A fully static program linked with the whole libukcov.a (what ukcov-cc
 * does for -static): ukcov cannot interpose libc there, but every route
 * must work as without ukcov (docs/design.md), and the kcov API too.
 * Built and run by tests/lint/static-program.sh; exit 0 when all holds.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ukcov.h>

#define CHECK(c)                                                               \
	do {                                                                   \
		if (!(c)) {                                                    \
			fprintf(stderr, "static: %s:%d: %s\n", __FILE__,       \
				__LINE__, #c);                                 \
			exit(1);                                               \
		}                                                              \
	} while (0)

static volatile int got;
static sigjmp_buf jb;
static char stack[1 << 16] __attribute__((aligned(16)));

static void on_usr1(int sig) { got += sig; }
static void on_usr2(int sig) { (void)sig; siglongjmp(jb, 7); }
static void *thread_fn(void *p) { return (char *)p + 1; }
static int clone_fn(void *p) { (void)p; _exit(5); }

int main(void)
{
	unsigned long *area;
	struct sigaction sa;
	pthread_t t;
	void *ret;
	pid_t pid;
	int fd, st;

	/* The kcov API. */
	fd = ukcov_open();
	CHECK(fd >= 0);
	CHECK(ukcov_ioctl(fd, KCOV_INIT_TRACE, 512) == 0);
	area = ukcov_mmap(NULL, 512 * sizeof(long), PROT_READ | PROT_WRITE,
			  MAP_SHARED, fd, 0);
	CHECK(area != MAP_FAILED);
	CHECK(ukcov_ioctl(fd, KCOV_ENABLE, KCOV_TRACE_PC) == 0);
	CHECK(ukcov_ioctl(fd, KCOV_DISABLE, 0) == 0);
	/* Threads. */
	CHECK(pthread_create(&t, NULL, thread_fn, (void *)1) == 0);
	CHECK(pthread_join(t, &ret) == 0 && ret == (void *)2);
	/* Handlers, by two routes, and a jump out of one. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	CHECK(sigaction(SIGUSR1, &sa, NULL) == 0);
	raise(SIGUSR1);
	CHECK(got == SIGUSR1);
	CHECK(signal(SIGUSR2, on_usr2) != SIG_ERR);
	if (sigsetjmp(jb, 1) == 0) {
		raise(SIGUSR2);
		CHECK(!"the handler returned");
	}
	/* Processes. */
	pid = fork();
	if (pid == 0)
		_exit(3);
	CHECK(waitpid(pid, &st, 0) == pid && WEXITSTATUS(st) == 3);
	pid = vfork();
	if (pid == 0)
		_exit(4);
	CHECK(waitpid(pid, &st, 0) == pid && WEXITSTATUS(st) == 4);
	pid = clone(clone_fn, stack + sizeof(stack), SIGCHLD, NULL);
	CHECK(pid > 0 && waitpid(pid, &st, 0) == pid && WEXITSTATUS(st) == 5);
	/* Descriptors. */
	CHECK(close(fd) == 0);
	CHECK(close_range(100, 200, 0) == 0);
	puts("static: every route works");
	quick_exit(0);
}
