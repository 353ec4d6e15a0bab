// SPDX-License-Identifier: MIT
/*
 * A handler nested in a handler (Linux's 2024 hardirq-in-softirq bug).
 * The SIGUSR1 handler opens a section for owner A and, with it open,
 * raises SIGUSR2.  The main thread collects locally meanwhile.
 *   - A SIGUSR2 handler that opens no section: its code lands neither in
 *     A's area (the outer handler's section) nor in the local trace.
 *   - A SIGUSR2 handler that opens a section for owner B: its code lands in
 *     B's area only, and A's section resumes: A gets the outer handler's
 *     code from after the nested handler returned.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>

#include "helpers.h"

#define WORDS 65536

static const uint64_t HA = UKCOV_SUBSYSTEM_APP(22) | 1;
static const uint64_t HB = UKCOV_SUBSYSTEM_APP(22) | 2;

volatile long sink;
/* Keeps gcc from folding repeated task_code() calls into one. */
volatile int five = 5;
volatile int outer_done, inner_done;
static volatile bool inner_section;

__attribute__((noinline)) void outer_pre(int n);
__attribute__((noinline)) void outer_pre(int n)
{
	int i;

	for (i = 0; i < n; i++)
		sink += (i & 1) ? i : 3;
}

__attribute__((noinline)) void outer_post(int n);
__attribute__((noinline)) void outer_post(int n)
{
	int i;

	for (i = 0; i < n; i++)
		sink -= (i & 1) ? 5 : i;
}

__attribute__((noinline)) void inner_plain(int n);
__attribute__((noinline)) void inner_plain(int n)
{
	int i;

	for (i = 0; i < n; i++)
		sink ^= (i & 1) ? i * 9 : 7;
}

__attribute__((noinline)) void inner_sec(int n);
__attribute__((noinline)) void inner_sec(int n)
{
	int i;

	for (i = 0; i < n; i++)
		sink ^= (i & 2) ? i * 13 : 1;
}

__attribute__((noinline)) void inner_handler(int sig);
__attribute__((noinline)) void inner_handler(int sig)
{
	if (inner_section) {
		ukcov_remote_start(HB);
		inner_sec(10);
		ukcov_remote_stop();
	} else {
		inner_plain(10 + sig % 2);
	}
	inner_done++;
}

__attribute__((noinline)) void outer_handler(int sig);
__attribute__((noinline)) void outer_handler(int sig)
{
	ukcov_remote_start(HA);
	outer_pre(10);
	raise(SIGUSR2);
	outer_post(10 + sig % 2);
	ukcov_remote_stop();
	outer_done++;
}

__attribute__((noinline)) long task_code(int n);
__attribute__((noinline)) long task_code(int n)
{
	long acc = 0;
	int i;

	for (i = 0; i < n; i++)
		acc += (i & 1) ? i : -i;
	return acc;
}

int main(void)
{
	struct t_range r_pre, r_post, r_plain, r_sec, r_inner, r_outer, r_task;
	struct t_actor oa, ob;
	struct t_kcov a, b, local;
	struct sigaction sa;
	unsigned long pre_pcs, post_pcs, sec_pcs;
	int mode;

	r_pre = t_range_of(outer_pre);
	r_post = t_range_of(outer_post);
	r_plain = t_range_of(inner_plain);
	r_sec = t_range_of(inner_sec);
	r_inner = t_range_of(inner_handler);
	r_outer = t_range_of(outer_handler);
	r_task = t_range_of(task_code);
	/* What one call of each records (compilers differ). */
	pre_pcs = t_sig_pcs_of(outer_pre, 10);
	post_pcs = t_sig_pcs_of(outer_post, 10 + SIGUSR1 % 2);
	sec_pcs = t_sig_pcs_of(inner_sec, 10);

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = outer_handler;
	t_expect_ok(sigaction(SIGUSR1, &sa, NULL));
	sa.sa_handler = inner_handler;
	t_expect_ok(sigaction(SIGUSR2, &sa, NULL));

	t_actor_start(&oa);
	t_actor_start(&ob);
	t_kcov_open(&a, WORDS);
	t_kcov_open(&b, WORDS);
	t_kcov_open(&local, WORDS);
	t_expect_ok(t_actor_remote_enable(&oa, a.fd, KCOV_TRACE_PC, 4096, 0, 1,
					  &HA));
	t_expect_ok(t_actor_remote_enable(&ob, b.fd, KCOV_TRACE_PC, 4096, 0, 1,
					  &HB));
	t_expect_ok(ukcov_ioctl(local.fd, KCOV_ENABLE, KCOV_TRACE_PC));

	for (mode = 0; mode < 2; mode++) {
		struct t_range a_ok[3] = { r_pre, r_post, r_outer };
		struct t_range b_ok[2] = { r_sec, r_inner };
		long last_pre, first_post;

		inner_section = mode == 1;
		t_set_count(&a, 0);
		t_set_count(&b, 0);
		outer_done = inner_done = 0;
		t_set_count(&local, 0);
		sink = task_code(five);
		raise(SIGUSR1);
		sink = task_code(five);
		t_assert(outer_done == 1 && inner_done == 1);

		/* The local trace: task code only. */
		if (t_count_in(&local, r_pre) || t_count_in(&local, r_post) ||
		    t_count_in(&local, r_outer) || t_count_in(&local, r_plain) ||
		    t_count_in(&local, r_sec) || t_count_in(&local, r_inner))
			t_fail("mode %d: handler code in the local trace", mode);
		t_assert(t_count_in(&local, r_task) > 0);
		{
			struct t_range l_ok[2] = { r_task, t_range_of(main) };

			if (t_sig_count_outside(&local, l_ok, 2))
				t_fail("mode %d: foreign PCs in the local trace",
				       mode);
		}

		/* A: the outer handler's section, nothing of the nested one. */
		if (t_count_in(&a, r_plain) || t_count_in(&a, r_inner) ||
		    t_count_in(&a, r_sec))
			t_fail("mode %d: nested handler's code in the outer "
			       "handler's section (%lu plain, %lu handler, %lu "
			       "section)", mode, t_count_in(&a, r_plain),
			       t_count_in(&a, r_inner), t_count_in(&a, r_sec));
		if (t_sig_count_outside(&a, a_ok, 3))
			t_fail("mode %d: %lu foreign entries in A", mode,
			       t_sig_count_outside(&a, a_ok, 3));
		t_assert(t_count_in(&a, r_pre) == pre_pcs);
		/* Resumed after the nested handler returned. */
		if (t_count_in(&a, r_post) != post_pcs)
			t_fail("mode %d: A's section did not resume (%lu PCs "
			       "of outer_post, want %lu)", mode,
			       t_count_in(&a, r_post), post_pcs);
		last_pre = t_sig_last_in(&a, r_pre);
		first_post = t_sig_first_in(&a, r_post);
		t_assert(last_pre >= 0 && first_post > last_pre);

		/* B: only the nested handler's own section. */
		if (mode == 0) {
			t_assert(t_count(&b) == 0);
		} else {
			if (t_sig_count_outside(&b, b_ok, 2))
				t_fail("%lu foreign entries in B",
				       t_sig_count_outside(&b, b_ok, 2));
			t_assert(t_count_in(&b, r_sec) == sec_pcs);
		}
	}
	t_expect_ok(ukcov_ioctl(local.fd, KCOV_DISABLE, 0));
	t_assert(ukcov_irq_sections_skipped() == 0);
	t_expect_ok(t_actor_ioctl(&oa, a.fd, KCOV_DISABLE, 0));
	t_expect_ok(t_actor_ioctl(&ob, b.fd, KCOV_DISABLE, 0));
	t_actor_stop(&oa);
	t_actor_stop(&ob);
	t_kcov_close(&a);
	t_kcov_close(&b);
	t_kcov_close(&local);
	return T_EXIT_PASS;
}
