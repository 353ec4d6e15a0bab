// SPDX-License-Identifier: MIT
/*
 * ukcov's signal interposition is transparent to the program:
 *   - sigaction's oldact round-trips (handler, flags, mask); a query with
 *     act == NULL returns what was installed;
 *   - SA_SIGINFO handlers get the signal number, si_code and si_value
 *     (sigqueue);
 *   - SA_RESETHAND: after one delivery a query shows SIG_DFL;
 *   - the signal is blocked in its handler unless SA_NODEFER; sa_mask
 *     signals are blocked in the handler;
 *   - SIG_IGN and SIG_DFL install and query back;
 *   - signal() returns the previous handler; sigset(SIG_HOLD) blocks the
 *     signal and returns the previous disposition, and sigset() of a
 *     handler returns SIG_HOLD when the signal was held;
 *   - errno of the interrupted code survives a handler that does not touch
 *     it, and a handler that sets errno leaves it set (as without ukcov).
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "helpers.h"

/* sigset() is obsolescent, and tested here on purpose. */
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

#ifndef SA_RESTORER
#define SA_RESTORER 0x04000000
#endif

volatile int hits;
volatile int got_sig, got_code, got_value, got_pid;
volatile int self_blocked, usr2_blocked;

__attribute__((noinline)) void h_a(int sig);
__attribute__((noinline)) void h_a(int sig)
{
	(void)sig;
	hits++;
}

__attribute__((noinline)) void h_b(int sig);
__attribute__((noinline)) void h_b(int sig)
{
	(void)sig;
	hits += 100;
}

__attribute__((noinline)) void h_info(int sig, siginfo_t *si, void *uc);
__attribute__((noinline)) void h_info(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	got_sig = sig;
	got_code = si->si_code;
	got_value = si->si_value.sival_int;
	got_pid = si->si_pid;
	hits++;
}

__attribute__((noinline)) void h_mask(int sig);
__attribute__((noinline)) void h_mask(int sig)
{
	sigset_t cur;

	sigprocmask(SIG_BLOCK, NULL, &cur);
	self_blocked = sigismember(&cur, sig);
	usr2_blocked = sigismember(&cur, SIGUSR2);
	hits++;
}

__attribute__((noinline)) void h_errno(int sig);
__attribute__((noinline)) void h_errno(int sig)
{
	(void)sig;
	errno = ERANGE;
	hits++;
}

static void install(int sig, void (*h)(int), int flags, int masked)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = h;
	sa.sa_flags = flags;
	sigemptyset(&sa.sa_mask);
	if (masked)
		sigaddset(&sa.sa_mask, masked);
	t_expect_ok(sigaction(sig, &sa, NULL));
}

static bool blocked(int sig)
{
	sigset_t cur;

	sigprocmask(SIG_BLOCK, NULL, &cur);
	return sigismember(&cur, sig);
}

int main(void)
{
	struct sigaction sa, old, q;
	union sigval v;
	int i;

	/* oldact round trip. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = h_a;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, SIGUSR2);
	sigaddset(&sa.sa_mask, SIGWINCH);
	t_expect_ok(sigaction(SIGUSR1, &sa, NULL));
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = h_b;
	sa.sa_flags = SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	t_expect_ok(sigaction(SIGUSR1, &sa, &old));
	t_assert(old.sa_handler == h_a);
	t_assert(!(old.sa_flags & SA_SIGINFO));
	if ((old.sa_flags & ~SA_RESTORER) != SA_RESTART)
		t_fail("oldact flags %#x, want SA_RESTART", old.sa_flags);
	t_assert(sigismember(&old.sa_mask, SIGUSR2) == 1);
	t_assert(sigismember(&old.sa_mask, SIGWINCH) == 1);
	t_assert(sigismember(&old.sa_mask, SIGTERM) == 0);
	t_assert(sigismember(&old.sa_mask, SIGUSR1) == 0);
	t_expect_ok(sigaction(SIGUSR1, NULL, &q));
	t_assert(q.sa_handler == h_b);
	if ((q.sa_flags & ~SA_RESTORER) != SA_NODEFER)
		t_fail("query flags %#x, want SA_NODEFER", q.sa_flags);
	t_assert(sigismember(&q.sa_mask, SIGUSR2) == 0);
	hits = 0;
	raise(SIGUSR1);
	t_assert(hits == 100);

	/* SA_SIGINFO and sigqueue. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = h_info;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	t_expect_ok(sigaction(SIGUSR2, &sa, NULL));
	t_expect_ok(sigaction(SIGUSR2, NULL, &q));
	t_assert(q.sa_sigaction == h_info && (q.sa_flags & SA_SIGINFO));
	hits = 0;
	v.sival_int = 1234;
	t_expect_ok(sigqueue(getpid(), SIGUSR2, v));
	for (i = 0; i < 5000 && !hits; i++)
		usleep(1000);
	t_assert(hits == 1);
	t_assert(got_sig == SIGUSR2);
	t_assert(got_code == SI_QUEUE);
	t_assert(got_value == 1234);
	t_assert(got_pid == getpid());
	/* A handler without SA_SIGINFO (ukcov adds it for the kernel). */
	t_expect_ok(sigaction(SIGUSR1, &sa, NULL));
	install(SIGUSR1, h_a, 0, 0);
	t_expect_ok(sigaction(SIGUSR1, NULL, &q));
	t_assert(!(q.sa_flags & SA_SIGINFO) && q.sa_handler == h_a);

	/* SA_RESETHAND. */
	install(SIGUSR1, h_a, SA_RESETHAND, 0);
	hits = 0;
	raise(SIGUSR1);
	t_assert(hits == 1);
	t_expect_ok(sigaction(SIGUSR1, NULL, &q));
	if (q.sa_handler != SIG_DFL)
		t_fail("SA_RESETHAND: handler %p after delivery, want SIG_DFL",
		       (void *)q.sa_handler);

	/* Blocked in its own handler unless SA_NODEFER; sa_mask.  Under
	 * TSan the mask a handler sees is TSan's (it runs handlers from its
	 * own dispatch, with signals blocked as it chooses): there only the
	 * delivery and the mask after the handler are checked. */
	hits = 0;
	install(SIGUSR1, h_mask, 0, 0);
	raise(SIGUSR1);
	t_assert(T_SIG_TSAN || (self_blocked == 1 && usr2_blocked == 0));
	install(SIGUSR1, h_mask, SA_NODEFER, 0);
	raise(SIGUSR1);
	t_assert(T_SIG_TSAN || (self_blocked == 0 && usr2_blocked == 0));
	install(SIGUSR1, h_mask, SA_NODEFER, SIGUSR2);
	raise(SIGUSR1);
	t_assert(T_SIG_TSAN || (self_blocked == 0 && usr2_blocked == 1));
	install(SIGUSR1, h_mask, 0, SIGUSR2);
	raise(SIGUSR1);
	t_assert(T_SIG_TSAN || (self_blocked == 1 && usr2_blocked == 1));
	t_assert(hits == 4);
	t_assert(!blocked(SIGUSR1) && !blocked(SIGUSR2));

	/* SIG_IGN and SIG_DFL. */
	install(SIGUSR1, SIG_IGN, 0, 0);
	t_expect_ok(sigaction(SIGUSR1, NULL, &q));
	t_assert(q.sa_handler == SIG_IGN);
	hits = 0;
	raise(SIGUSR1);
	t_assert(hits == 0);
	install(SIGUSR1, h_a, 0, 0);
	install(SIGUSR1, SIG_DFL, 0, 0);
	t_expect_ok(sigaction(SIGUSR1, NULL, &q));
	t_assert(q.sa_handler == SIG_DFL);
	install(SIGUSR1, SIG_IGN, 0, 0);
	t_expect_ok(sigaction(SIGUSR1, &sa, &old));
	t_assert(old.sa_handler == SIG_IGN);

	/* signal(). */
	t_assert(signal(SIGUSR1, h_a) == (sighandler_t)(void *)h_info);
	t_assert(signal(SIGUSR1, h_b) == h_a);
	t_assert(signal(SIGUSR1, SIG_IGN) == h_b);
	t_assert(signal(SIGUSR1, SIG_DFL) == SIG_IGN);
	t_assert(signal(SIGUSR1, h_a) == SIG_DFL);
	hits = 0;
	raise(SIGUSR1);
	t_assert(hits == 1);

	/* sigset() and SIG_HOLD. */
	t_assert(sigset(SIGUSR1, h_b) == h_a);
	t_assert(!blocked(SIGUSR1));
	t_assert(sigset(SIGUSR1, SIG_HOLD) == h_b);
	t_assert(blocked(SIGUSR1));
	hits = 0;
	raise(SIGUSR1);
	t_assert(hits == 0);
	t_assert(sigset(SIGUSR1, SIG_HOLD) == SIG_HOLD);
	t_assert(sigset(SIGUSR1, h_a) == SIG_HOLD);
	t_assert(!blocked(SIGUSR1));
	for (i = 0; i < 5000 && !hits; i++)
		usleep(1000);
	t_assert(hits == 1);

	/* errno. */
	install(SIGUSR1, h_a, 0, 0);
	errno = EDOM;
	raise(SIGUSR1);
	if (errno != EDOM)
		t_fail("errno %d after a handler that does not touch it, "
		       "want EDOM", errno);
	/* TSan's own signal dispatch restores errno after every handler. */
	if (!T_SIG_TSAN) {
		install(SIGUSR1, h_errno, 0, 0);
		errno = EDOM;
		hits = 0;
		raise(SIGUSR1);
		t_assert(hits == 1);
		if (errno != ERANGE)
			t_fail("errno %d after a handler that set ERANGE",
			       errno);
	}
	return T_EXIT_PASS;
}
