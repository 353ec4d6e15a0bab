// SPDX-License-Identifier: MIT
/*
 * Handlers installed before ukcov initialised are taken over.  A
 * .preinit_array function (run before any shared library's constructor,
 * hence before ukcov's) installs a SIGUSR1 handler with glibc's own
 * sigaction, found with dlsym on libc.so.6 so that ukcov's interposed
 * sigaction is bypassed.  In main, with local collection on, the handler
 * runs through ukcov: its code is not in the trace, and a sigaction query
 * returns the program's handler (with its flags and mask), not ukcov's.
 */
#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <string.h>

#include "helpers.h"

#ifndef SA_RESTORER
#define SA_RESTORER 0x04000000
#endif

volatile long sink;
volatile int handled;
static int preinit_ret = -2;
static const char *preinit_why = "preinit function did not run";

__attribute__((noinline)) void early_work(int n);
__attribute__((noinline)) void early_work(int n)
{
	int i;

	for (i = 0; i < n; i++)
		sink += (i & 1) ? i : -i;
}

__attribute__((noinline)) void early_handler(int sig);
__attribute__((noinline)) void early_handler(int sig)
{
	early_work(20 + sig % 2);
	handled++;
}

/* The interrupted code: shows that collection is on around the signals. */
volatile int five = 5;
__attribute__((noinline)) void task_code(int n);
__attribute__((noinline)) void task_code(int n)
{
	int i;

	for (i = 0; i < n; i++)
		sink -= (i & 1) ? i : 3;
}

typedef int (*sigaction_fn)(int, const struct sigaction *,
			    struct sigaction *);

T_NOCOV static void preinit(int argc, char **argv, char **envp)
{
	struct sigaction sa;
	sigaction_fn libc_sigaction;
	void *libc;

	(void)argc;
	(void)argv;
	(void)envp;
	libc = dlopen("libc.so.6", RTLD_NOLOAD | RTLD_LAZY);
	if (!libc) {
		preinit_why = "dlopen(libc.so.6, RTLD_NOLOAD) failed";
		return;
	}
	libc_sigaction = (sigaction_fn)dlsym(libc, "sigaction");
	if (!libc_sigaction) {
		preinit_why = "dlsym(libc, sigaction) failed";
		return;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = early_handler;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, SIGWINCH);
	preinit_ret = libc_sigaction(SIGUSR1, &sa, NULL);
	preinit_why = "libc's sigaction failed";
}

__attribute__((section(".preinit_array"), used)) static void (
	*const preinit_entry)(int, char **, char **) = preinit;

int main(void)
{
	struct t_range r_work = t_range_of(early_work);
	struct t_range r_handler = t_range_of(early_handler);
	struct t_range r_task = t_range_of(task_code);
	unsigned long task_pcs;
	struct sigaction q;
	struct t_kcov k;
	int i;

	if (preinit_ret != 0) {
		printf("cannot install a handler before ukcov: %s\n",
		       preinit_why);
		return T_EXIT_SKIP;
	}
	task_pcs = t_sig_pcs_of(task_code, 5);
	t_kcov_open(&k, 65536);
	t_expect_ok(ukcov_ioctl(k.fd, KCOV_ENABLE, KCOV_TRACE_PC));
	for (i = 0; i < 5; i++) {
		task_code(five);
		raise(SIGUSR1);
	}
	task_code(five);
	t_expect_ok(ukcov_ioctl(k.fd, KCOV_DISABLE, 0));
	t_assert(handled == 5);
	/* Collection was on around every signal, and went on after it. */
	if (t_count_in(&k, r_task) != 6 * task_pcs)
		t_fail("%lu task_code PCs, want %lu", t_count_in(&k, r_task),
		       6 * task_pcs);
	if (t_count_in(&k, r_work) || t_count_in(&k, r_handler))
		t_fail("the early handler's code is in the trace (%lu + %lu "
		       "PCs): it was not taken over",
		       t_count_in(&k, r_work), t_count_in(&k, r_handler));

	/* The program still sees its own handler. */
	t_expect_ok(sigaction(SIGUSR1, NULL, &q));
	if (q.sa_handler != early_handler)
		t_fail("sigaction query: handler %p, want the program's %p",
		       (void *)q.sa_handler, (void *)early_handler);
	t_assert(!(q.sa_flags & SA_SIGINFO));
	t_assert((q.sa_flags & ~SA_RESTORER) == SA_RESTART);
	t_assert(sigismember(&q.sa_mask, SIGWINCH) == 1);
	t_kcov_close(&k);
	return T_EXIT_PASS;
}
