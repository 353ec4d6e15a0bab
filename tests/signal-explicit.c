// SPDX-License-Identifier: MIT
/*
 * Handlers ukcov does not wrap: installed with libc's own sigaction (found
 * with dlsym on libc.so.6, bypassing ukcov's interposed one) after ukcov
 * initialised.  A handler that brackets its body with ukcov_signal_enter()
 * and ukcov_signal_exit() is excluded from the interrupted thread's local
 * trace, and a section it opens reaches its owner; the same handler without
 * the bracket (the control) does pollute the trace, which shows the test
 * can see pollution.  Nested: a bracketed handler interrupted by another
 * bracketed one.
 */
#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <string.h>

#include "helpers.h"

#define WORDS 65536

static const uint64_t HE = UKCOV_SUBSYSTEM_APP(24) | 1;

volatile long sink;
/* Keeps gcc from folding repeated task_code() calls into one. */
volatile int five = 5;
volatile int handled;
static volatile bool nest;

__attribute__((noinline)) void explicit_work(int n);
__attribute__((noinline)) void explicit_work(int n)
{
	int i;

	for (i = 0; i < n; i++)
		sink += (i & 1) ? i : 5;
}

__attribute__((noinline)) void section_work(int n);
__attribute__((noinline)) void section_work(int n)
{
	int i;

	for (i = 0; i < n; i++)
		sink ^= (i & 1) ? i * 3 : 9;
}

__attribute__((noinline)) void control_work(int n);
__attribute__((noinline)) void control_work(int n)
{
	int i;

	for (i = 0; i < n; i++)
		sink -= (i & 1) ? i : 3;
}

__attribute__((noinline)) void explicit_handler(int sig);
__attribute__((noinline)) void explicit_handler(int sig)
{
	struct ukcov_sigctx ctx;

	ukcov_signal_enter(&ctx, sig);
	explicit_work(10);
	ukcov_remote_start(HE);
	section_work(10);
	if (nest && sig == SIGUSR1)
		raise(SIGUSR2);
	ukcov_remote_stop();
	explicit_work(3);
	handled++;
	ukcov_signal_exit(&ctx);
}

__attribute__((noinline)) void control_handler(int sig);
__attribute__((noinline)) void control_handler(int sig)
{
	control_work(10 + sig % 2);
	handled++;
}

typedef int (*sigaction_fn)(int, const struct sigaction *,
			    struct sigaction *);

__attribute__((noinline)) void task_code(int n);
__attribute__((noinline)) void task_code(int n)
{
	long acc = 0;
	int i;

	for (i = 0; i < n; i++)
		acc += (i & 1) ? i : -i;
	sink = acc;
}

int main(void)
{
	struct t_range r_ew, r_sw, r_cw, r_eh, r_ch, r_task;
	struct t_actor oe;
	struct t_kcov local, owner;
	struct sigaction sa;
	sigaction_fn libc_sigaction;
	void *libc;
	unsigned long task_pcs, sec_pcs;

	libc = dlopen("libc.so.6", RTLD_NOLOAD | RTLD_LAZY);
	libc_sigaction = libc ? (sigaction_fn)dlsym(libc, "sigaction") : NULL;
	if (!libc_sigaction) {
		printf("no libc sigaction: %s\n", dlerror());
		return T_EXIT_SKIP;
	}
	r_ew = t_range_of(explicit_work);
	r_sw = t_range_of(section_work);
	r_cw = t_range_of(control_work);
	r_eh = t_range_of(explicit_handler);
	r_ch = t_range_of(control_handler);
	r_task = t_range_of(task_code);
	task_pcs = t_sig_pcs_of(task_code, 5);
	sec_pcs = t_sig_pcs_of(section_work, 10);

	t_actor_start(&oe);
	t_kcov_open(&owner, WORDS);
	t_expect_ok(t_actor_remote_enable(&oe, owner.fd, KCOV_TRACE_PC, 4096, 0,
					  1, &HE));
	t_kcov_open(&local, WORDS);
	t_expect_ok(ukcov_ioctl(local.fd, KCOV_ENABLE, KCOV_TRACE_PC));

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);

	/* Control: an unbracketed, unwrapped handler pollutes the trace. */
	sa.sa_handler = control_handler;
	t_expect_ok(libc_sigaction(SIGUSR1, &sa, NULL));
	t_set_count(&local, 0);
	handled = 0;
	task_code(five);
	raise(SIGUSR1);
	task_code(five);
	t_assert(handled == 1);
	if (!t_count_in(&local, r_cw) || !t_count_in(&local, r_ch))
		t_fail("control: the unwrapped handler's PCs are not in the "
		       "trace (%lu, %lu): the test cannot see pollution",
		       t_count_in(&local, r_cw), t_count_in(&local, r_ch));

	/* Bracketed. */
	sa.sa_handler = explicit_handler;
	t_expect_ok(libc_sigaction(SIGUSR1, &sa, NULL));
	t_expect_ok(libc_sigaction(SIGUSR2, &sa, NULL));
	for (nest = false;; nest = true) {
		t_set_count(&local, 0);
		t_set_count(&owner, 0);
		handled = 0;
		task_code(five);
		raise(SIGUSR1);
		task_code(five);
		t_assert(handled == (nest ? 2 : 1));
		/* The handler's own prologue and epilogue, outside the
		 * bracket, may be recorded; nothing between. */
		if (t_count_in(&local, r_ew) || t_count_in(&local, r_sw) ||
		    t_count_in(&local, r_eh) > 4)
			t_fail("nest %d: bracketed handler in the trace (%lu, "
			       "%lu, %lu)", nest, t_count_in(&local, r_ew),
			       t_count_in(&local, r_sw),
			       t_count_in(&local, r_eh));
		/* Collection resumed after the handler. */
		t_set_count(&local, 0);
		task_code(five);
		if (t_count_in(&local, r_task) != task_pcs)
			t_fail("nest %d: collection did not resume after the "
			       "handler (%lu PCs of task_code, want %lu)", nest,
			       t_count_in(&local, r_task), task_pcs);
		/* The section reached the owner (both handlers' when nested);
		 * only section code there. */
		if (t_count_in(&owner, r_sw) != (nest ? 2 : 1) * sec_pcs)
			t_fail("nest %d: %lu section PCs at the owner, want "
			       "%lu", nest, t_count_in(&owner, r_sw),
			       (nest ? 2 : 1) * sec_pcs);
		if (t_count_in(&owner, r_ew))
			t_fail("nest %d: code outside the section at the owner",
			       nest);
		if (nest)
			break;
	}
	t_expect_ok(ukcov_ioctl(local.fd, KCOV_DISABLE, 0));
	t_assert(ukcov_irq_sections_skipped() == 0);
	t_expect_ok(t_actor_ioctl(&oe, owner.fd, KCOV_DISABLE, 0));
	t_actor_stop(&oe);
	t_kcov_close(&owner);
	t_kcov_close(&local);
	return T_EXIT_PASS;
}
