// SPDX-License-Identifier: MIT
/*
 * Leaving handlers by siglongjmp / longjmp leaves ukcov's per-thread state
 * as if they had returned.  A worker thread collects locally, has a common
 * handle (inherited from the main thread, a remote owner) and runs its
 * handlers on an alternate signal stack (SA_ONSTACK).  After each of:
 *   - siglongjmp out of one handler;
 *   - siglongjmp out of two nested handlers (SIGUSR1 raising SIGUSR2);
 *   - siglongjmp out of a handler with a section open, 100 times (more than
 *     there are interrupt areas: leaked areas would make sections skip);
 *   - plain longjmp (setjmp, no mask saved) out of one handler;
 * the thread's code is recorded again, ukcov_common_handle() is the common
 * handle, and a later handler still works (its section reaches the owner,
 * its code stays out of the local trace).  A longjmp inside one handler, to
 * a setjmp point of that same handler, keeps the handler context: the code
 * after it is not recorded locally.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "helpers.h"

#define WORDS 65536
#define COMMON 0x6161ull

static const uint64_t HG = UKCOV_SUBSYSTEM_APP(23) | 1;

enum { M_JUMP, M_NEST, M_SECJUMP, M_PLAIN, M_INNER, M_NORMAL };

volatile long sink;
static volatile int mode;
volatile int handled;
static sigjmp_buf senv;
static jmp_buf penv, ienv;

#define WORK_FN(name, k)                                                       \
	__attribute__((noinline)) void name(int n);                            \
	__attribute__((noinline)) void name(int n)                             \
	{                                                                      \
		int i;                                                         \
		for (i = 0; i < n; i++)                                        \
			sink += (i & 1) ? i * (k) : (k);                       \
	}

WORK_FN(h1_code, 3)
WORK_FN(h2_code, 5)
WORK_FN(sec_code, 7)
WORK_FN(inner_before, 9)
WORK_FN(inner_after, 11)
WORK_FN(later_code, 13)
WORK_FN(after_code, 15)

__attribute__((noinline)) void on_usr2(int sig);
__attribute__((noinline)) void on_usr2(int sig)
{
	h2_code(sig);
	handled++;
	siglongjmp(senv, 2);
}

__attribute__((noinline)) void on_usr1(int sig);
__attribute__((noinline)) void on_usr1(int sig)
{
	handled++;
	switch (mode) {
	case M_JUMP:
		h1_code(sig);
		siglongjmp(senv, 1);
	case M_NEST:
		h1_code(sig);
		raise(SIGUSR2);
		t_fail("returned from the nested handler");
	case M_SECJUMP:
		ukcov_remote_start(HG);
		sec_code(sig);
		siglongjmp(senv, 1);
	case M_PLAIN:
		h1_code(sig);
		longjmp(penv, 1);
	case M_INNER:
		if (!setjmp(ienv)) {
			inner_before(sig);
			longjmp(ienv, 1);
		}
		inner_after(sig);
		break;
	case M_NORMAL:
		ukcov_remote_start(HG);
		later_code(sig);
		ukcov_remote_stop();
		break;
	}
}

static struct t_kcov local, owner;
static struct t_range r_h1, r_h2, r_sec, r_ib, r_ia, r_later, r_after;
static uint64_t common_h;
/* PCs of one call (measured: compilers differ). */
static unsigned long after20_pcs, after5_pcs, sec_pcs, later_pcs;

static void check_after(const char *what)
{
	sigset_t cur;

	if (t_count_in(&local, r_h1) || t_count_in(&local, r_h2) ||
	    t_count_in(&local, r_sec) || t_count_in(&local, r_ib) ||
	    t_count_in(&local, r_ia) || t_count_in(&local, r_later))
		t_fail("%s: handler code in the local trace", what);
	t_set_count(&local, 0);
	after_code(20);
	if (t_count_in(&local, r_after) != after20_pcs)
		t_fail("%s: collection did not resume (%lu PCs, want %lu)",
		       what, t_count_in(&local, r_after), after20_pcs);
	if (ukcov_common_handle() != common_h)
		t_fail("%s: common handle %#llx, want %#llx", what,
		       (unsigned long long)ukcov_common_handle(),
		       (unsigned long long)common_h);
	/* A later handler still works. */
	mode = M_NORMAL;
	t_set_count(&owner, 0);
	t_set_count(&local, 0);
	raise(SIGUSR1);
	if (t_count_in(&owner, r_later) != later_pcs)
		t_fail("%s: a later handler's section did not reach the owner "
		       "(%lu PCs, want %lu)", what,
		       t_count_in(&owner, r_later), later_pcs);
	if (t_count_in(&local, r_later))
		t_fail("%s: a later handler recorded into the local trace",
		       what);
	after_code(5);
	t_assert(t_count_in(&local, r_after) == after5_pcs);
	sigprocmask(SIG_SETMASK, NULL, &cur);
	if (sigismember(&cur, SIGUSR1) || sigismember(&cur, SIGUSR2))
		t_fail("%s: SIGUSR1 %s, SIGUSR2 %s after a later handler", what,
		       sigismember(&cur, SIGUSR1) ? "blocked" : "unblocked",
		       sigismember(&cur, SIGUSR2) ? "blocked" : "unblocked");
}

__attribute__((noinline)) void *worker(void *p);
__attribute__((noinline)) void *worker(void *p)
{
	static char altstack[1 << 16];
	stack_t ss = { .ss_sp = altstack, .ss_size = sizeof(altstack) };
	sigset_t one, before;
	volatile int i;

	(void)p;
	t_expect_ok(sigaltstack(&ss, NULL));
	t_kcov_open(&local, WORDS);
	t_expect_ok(ukcov_ioctl(local.fd, KCOV_ENABLE, KCOV_TRACE_PC));
	t_assert(ukcov_common_handle() == common_h);

	/* Out of one handler. */
	mode = M_JUMP;
	t_set_count(&local, 0);
	if (!sigsetjmp(senv, 1)) {
		raise(SIGUSR1);
		t_fail("M_JUMP: handler returned");
	}
	check_after("siglongjmp out of one handler");

	/* Out of two nested handlers.  Not under TSan: it defers a signal
	 * raised in a handler until that handler returns, so SIGUSR2 cannot
	 * nest in (and jump out of) the SIGUSR1 handler there. */
	if (!T_SIG_TSAN) {
		mode = M_NEST;
		t_set_count(&local, 0);
		if (sigsetjmp(senv, 1) != 2) {
			raise(SIGUSR1);
			t_fail("M_NEST: handler returned");
		}
		check_after("siglongjmp out of two nested handlers");
	}

	/* Out of a handler with a section open, more times than there are
	 * interrupt areas. */
	t_set_count(&owner, 0);
	for (i = 0; i < 100; i++) {
		mode = M_SECJUMP;
		t_set_count(&local, 0);
		if (!sigsetjmp(senv, 1)) {
			raise(SIGUSR1);
			t_fail("M_SECJUMP: handler returned");
		}
		if (t_count_in(&local, r_sec))
			t_fail("section code in the local trace");
	}
	/* Closed as at a handler's return: appended to the owner. */
	if (t_count_in(&owner, r_sec) != 100 * sec_pcs)
		t_fail("jumped-out sections: %lu PCs reached the owner, want "
		       "%lu", t_count_in(&owner, r_sec), 100 * sec_pcs);
	check_after("siglongjmp out of a handler's open section");
	t_assert(ukcov_irq_sections_skipped() == 0);

	/* Plain longjmp: the mask is not restored, unblock by hand (the
	 * kernel blocked SIGUSR1 only).  Under TSan the mask left is the one
	 * TSan's dispatch set around the handler (more than SIGUSR1): there
	 * the mask from before the signal is put back instead. */
	mode = M_PLAIN;
	t_set_count(&local, 0);
	sigprocmask(SIG_SETMASK, NULL, &before);
	if (!setjmp(penv)) {
		raise(SIGUSR1);
		t_fail("M_PLAIN: handler returned");
	}
	if (T_SIG_TSAN) {
		sigprocmask(SIG_SETMASK, &before, NULL);
	} else {
		sigemptyset(&one);
		sigaddset(&one, SIGUSR1);
		sigprocmask(SIG_UNBLOCK, &one, NULL);
	}
	check_after("longjmp out of a handler");

	/* A jump within one handler. */
	mode = M_INNER;
	t_set_count(&local, 0);
	raise(SIGUSR1);
	if (t_count_in(&local, r_ia) || t_count_in(&local, r_ib))
		t_fail("jump within a handler: %lu PCs after the jump recorded "
		       "locally", t_count_in(&local, r_ia));
	check_after("longjmp within a handler");

	t_expect_ok(ukcov_ioctl(local.fd, KCOV_DISABLE, 0));
	t_kcov_close(&local);
	ss.ss_flags = SS_DISABLE;
	sigaltstack(&ss, NULL);
	return NULL;
}

int main(void)
{
	struct sigaction sa;
	pthread_t t;

	r_h1 = t_range_of(h1_code);
	r_h2 = t_range_of(h2_code);
	r_sec = t_range_of(sec_code);
	r_ib = t_range_of(inner_before);
	r_ia = t_range_of(inner_after);
	r_later = t_range_of(later_code);
	r_after = t_range_of(after_code);
	after20_pcs = t_sig_pcs_of(after_code, 20);
	after5_pcs = t_sig_pcs_of(after_code, 5);
	sec_pcs = t_sig_pcs_of(sec_code, SIGUSR1);
	later_pcs = t_sig_pcs_of(later_code, SIGUSR1);

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_ONSTACK;
	sa.sa_handler = on_usr1;
	t_expect_ok(sigaction(SIGUSR1, &sa, NULL));
	sa.sa_handler = on_usr2;
	t_expect_ok(sigaction(SIGUSR2, &sa, NULL));

	/* The main thread owns HG and a common handle the worker inherits. */
	t_kcov_open(&owner, WORDS);
	t_expect_ok(t_remote_enable(owner.fd, KCOV_TRACE_PC, 4096, COMMON, 1,
				    &HG));
	common_h = kcov_remote_handle(KCOV_SUBSYSTEM_COMMON, COMMON);
	t_assert(pthread_create(&t, NULL, worker, NULL) == 0);
	t_assert(pthread_join(t, NULL) == 0);
	/* The jumped-out sections were closed, not lost in flight: the owner
	 * can disable and its handles are free again. */
	t_expect_ok(ukcov_ioctl(owner.fd, KCOV_DISABLE, 0));
	t_kcov_close(&owner);
	t_kcov_open(&owner, WORDS);
	t_expect_ok(t_remote_enable(owner.fd, KCOV_TRACE_PC, 4096, COMMON, 1,
				    &HG));
	t_expect_ok(ukcov_ioctl(owner.fd, KCOV_DISABLE, 0));
	t_kcov_close(&owner);
	return T_EXIT_PASS;
}
