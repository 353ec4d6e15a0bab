// SPDX-License-Identifier: MIT
/*
 * The process ends while other threads are inside sections (spec §3.9,
 * issue 10): exit, _exit, _Exit, quick_exit, and libc's own exit after
 * main returns (only ukcov's destructor runs then).  The parent owns a
 * handle; a forked child (which inherits the registry, so its sections
 * append to the parent's area) starts two threads that spin inside
 * sections for it, and ends by one of the routes from its main thread,
 * itself inside a section.  Every open section is closed and appended as
 * the process ends: the parent's area has the spinning threads' code and
 * the main thread's.
 */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"

#define WORDS (1 << 20)

static const uint64_t HA = UKCOV_SUBSYSTEM_APP(33) | 1;
static struct t_kcov A;
static __thread volatile long sink;	/* each thread its own: no race */
static volatile int spinning;

__attribute__((noinline)) void spin_work(int x);
__attribute__((noinline)) void spin_work(int x)
{
	if (x & 1)
		sink += x;
	else
		sink -= x;
}

__attribute__((noinline)) void main_work(int x);
__attribute__((noinline)) void main_work(int x)
{
	if (x & 2)
		sink += x * 5;
	else
		sink -= x * 5;
}

static void *spinner(void *p)
{
	int i;

	(void)p;
	ukcov_remote_start(HA);
	for (i = 0;; i++) {
		spin_work(i);
		if (i == 1000)
			__atomic_add_fetch(&spinning, 1, __ATOMIC_RELEASE);
	}
	return NULL;
}

enum route { R_EXIT, R__EXIT, R__EXIT2, R_QUICK_EXIT, R_LIBC_EXIT };
static const char *const names[] = {
	"exit", "_exit", "_Exit", "quick_exit", "libc's exit (as after main)",
};

T_NOCOV static void child(enum route r)
{
	pthread_t t[2];
	void (*libc_exit)(int);
	void *libc;
	int i;

	for (i = 0; i < 2; i++)
		if (pthread_create(&t[i], NULL, spinner, NULL))
			_exit(90);
	while (__atomic_load_n(&spinning, __ATOMIC_ACQUIRE) < 2)
		usleep(1000);
	ukcov_remote_start(HA);
	main_work(3);
	switch (r) {
	case R_EXIT:
		exit(0);
	case R__EXIT:
		_exit(0);
	case R__EXIT2:
		_Exit(0);
	case R_QUICK_EXIT:
		quick_exit(0);
	case R_LIBC_EXIT:
		/* What __libc_start_main does after main: libc's exit, not
		 * the interposed one. */
		libc = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
		libc_exit = libc ? (void (*)(int))dlsym(libc, "exit") : NULL;
		if (!libc_exit)
			_exit(91);
		libc_exit(0);
	}
	_exit(92);
}

int main(void)
{
	struct t_range spin = t_range_of((void *)spin_work);
	struct t_range mainr = t_range_of((void *)main_work);
	int r, status;
	pid_t pid;

	t_kcov_open(&A, WORDS);
	t_expect_ok(t_remote_enable(A.fd, KCOV_TRACE_PC, 1 << 16, 0, 1, &HA));
	for (r = R_EXIT; r <= R_LIBC_EXIT; r++) {
		t_set_count(&A, 0);
		pid = fork();
		if (pid < 0)
			t_fail("fork: %s", strerror(errno));
		if (pid == 0)
			child((enum route)r);
		if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
		    WEXITSTATUS(status))
			t_fail("%s: the child ended with status %#x", names[r],
			       status);
		if (!t_count_in(&A, spin))
			t_fail("%s: the spinning threads' sections were lost",
			       names[r]);
		if (!t_count_in(&A, mainr))
			t_fail("%s: the exiting thread's section was lost",
			       names[r]);
	}
	t_expect_ok(ukcov_ioctl(A.fd, KCOV_DISABLE, 0));
	printf("every exit route appended the open sections\n");
	return 0;
}
