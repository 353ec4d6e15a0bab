// SPDX-License-Identifier: MIT
/*
 * A remote section opened inside a signal handler (the softirq section):
 *   - the main thread collects locally; a SIGUSR1 handler opens a section
 *     for a handle owned by another thread (owner A): the section's PCs land
 *     in A's area, and the local trace holds exactly the PCs of a run
 *     without the signal (entry for entry);
 *   - a worker thread inside a task-context section for owner W is hit by
 *     the same handler: W's area holds exactly the entries of a run without
 *     the signal, and the handler's section still goes to A.
 * Code the handler runs outside its section lands nowhere.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>

#include "helpers.h"

#define WORDS 65536
#define ROUNDS 5

static const uint64_t HA = UKCOV_SUBSYSTEM_APP(20) | 1;
static const uint64_t HW = UKCOV_SUBSYSTEM_APP(20) | 2;

volatile long sink;
volatile int handled;
static volatile bool signals_on;

__attribute__((noinline)) void sec_work(int n);
__attribute__((noinline)) void sec_work(int n)
{
	int i;

	for (i = 0; i < n; i++)
		sink += (i & 1) ? i * 7 : i ^ 3;
}

__attribute__((noinline)) void sec_outside(int n);
__attribute__((noinline)) void sec_outside(int n)
{
	if (n & 1)
		sink = n * 11;
	else
		sink = n - 11;
}

__attribute__((noinline)) void sec_handler(int sig);
__attribute__((noinline)) void sec_handler(int sig)
{
	sec_outside(sig);
	ukcov_remote_start(HA);
	sec_work(20);
	ukcov_remote_stop();
	sec_outside(sig + 1);
	handled++;
}

/* The interrupted code: the same instrumented path with or without signals
 * (the raise is done by an uninstrumented helper). */
__attribute__((noinline)) long steps(int n);
__attribute__((noinline)) long steps(int n)
{
	long acc = 0;
	int i;

	for (i = 0; i < n; i++) {
		t_sig_raise_if(signals_on, SIGUSR1);
		acc += (i & 3) ? i : -i;
	}
	return acc;
}

__attribute__((noinline)) long worker_job(void *p);
__attribute__((noinline)) long worker_job(void *p)
{
	ukcov_remote_start(HW);
	sink = steps((int)(uintptr_t)p);
	ukcov_remote_stop();
	return 0;
}

static struct t_range r_work, r_outside, r_handler, r_steps;
/* PCs of one sec_work(20) call, measured (compilers differ). */
static unsigned long work_pcs;

static void check_owner_a(struct t_kcov *a, int signals)
{
	struct t_range ok[2] = { r_work, r_handler };

	if (t_sig_count_outside(a, ok, 2))
		t_fail("owner A: %lu entries not from the handler's section",
		       t_sig_count_outside(a, ok, 2));
	if (t_count_in(a, r_outside))
		t_fail("owner A: handler code outside the section recorded");
	/* Every handler's section, whole: sec_work(20) once per signal. */
	if (t_count_in(a, r_work) != (unsigned long)signals * work_pcs)
		t_fail("owner A: %lu sec_work PCs for %d signals, want %lu",
		       t_count_in(a, r_work), signals,
		       (unsigned long)signals * work_pcs);
}

static void check_clean(struct t_kcov *k, const char *who)
{
	if (t_count_in(k, r_work) || t_count_in(k, r_outside) ||
	    t_count_in(k, r_handler))
		t_fail("%s: handler PCs recorded (%lu %lu %lu)", who,
		       t_count_in(k, r_work), t_count_in(k, r_outside),
		       t_count_in(k, r_handler));
}

int main(void)
{
	static unsigned long base[WORDS], got[WORDS];
	struct t_actor oa, ow, worker;
	struct t_kcov a, w, local;
	struct sigaction sa;
	unsigned long nb, ng;
	int round, sigs;

	r_work = t_range_of(sec_work);
	r_outside = t_range_of(sec_outside);
	r_handler = t_range_of(sec_handler);
	r_steps = t_range_of(steps);
	work_pcs = t_sig_pcs_of(sec_work, 20);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = sec_handler;
	sigemptyset(&sa.sa_mask);
	t_expect_ok(sigaction(SIGUSR1, &sa, NULL));

	t_actor_start(&oa);
	t_actor_start(&ow);
	t_actor_start(&worker);
	t_kcov_open(&a, WORDS);
	t_kcov_open(&w, WORDS);
	t_kcov_open(&local, WORDS);
	t_expect_ok(t_actor_remote_enable(&oa, a.fd, KCOV_TRACE_PC, 4096, 0, 1,
					  &HA));
	t_expect_ok(t_actor_remote_enable(&ow, w.fd, KCOV_TRACE_PC, 4096, 0, 1,
					  &HW));

	/* 1. The main thread, collecting locally. */
	t_expect_ok(ukcov_ioctl(local.fd, KCOV_ENABLE, KCOV_TRACE_PC));
	for (round = 0; round < ROUNDS; round++) {
		signals_on = false;
		t_set_count(&local, 0);
		sink = steps(20);
		nb = t_sig_snapshot(&local, base, WORDS);
		t_assert(t_count_in(&local, r_steps) > 0);

		t_set_count(&a, 0);
		handled = 0;
		signals_on = true;
		t_set_count(&local, 0);
		sink = steps(20);
		signals_on = false;
		ng = t_sig_snapshot(&local, got, WORDS);
		sigs = handled;
		t_assert(sigs == 20);
		if (ng != nb || memcmp(base, got, nb * sizeof(long)))
			t_fail("local trace changed by the handler: %lu vs %lu "
			       "entries", ng, nb);
		check_clean(&local, "local trace");
		check_owner_a(&a, sigs);
	}
	t_expect_ok(ukcov_ioctl(local.fd, KCOV_DISABLE, 0));

	/* 2. A worker inside a task-context section for W. */
	for (round = 0; round < ROUNDS; round++) {
		signals_on = false;
		t_set_count(&w, 0);
		t_actor_call(&worker, worker_job, (void *)20);
		nb = t_sig_snapshot(&w, base, WORDS);
		t_assert(t_count_in(&w, r_steps) > 0);

		t_set_count(&a, 0);
		t_set_count(&w, 0);
		handled = 0;
		signals_on = true;
		t_actor_call(&worker, worker_job, (void *)20);
		signals_on = false;
		ng = t_sig_snapshot(&w, got, WORDS);
		t_assert(handled == 20);
		if (ng != nb || memcmp(base, got, nb * sizeof(long)))
			t_fail("section entries changed by the handler: %lu vs "
			       "%lu entries", ng, nb);
		check_clean(&w, "worker's section");
		check_owner_a(&a, 20);
	}

	t_assert(ukcov_irq_sections_skipped() == 0);
	t_expect_ok(t_actor_ioctl(&oa, a.fd, KCOV_DISABLE, 0));
	t_expect_ok(t_actor_ioctl(&ow, w.fd, KCOV_DISABLE, 0));
	t_actor_stop(&oa);
	t_actor_stop(&ow);
	t_actor_stop(&worker);
	t_kcov_close(&a);
	t_kcov_close(&w);
	t_kcov_close(&local);
	return T_EXIT_PASS;
}
