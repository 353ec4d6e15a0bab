// SPDX-License-Identifier: MIT
/*
 * A forked child SIGKILLed while it appends a section to its parent's area
 * leaves the cross-process append lock held by a process that is gone.
 * Until the parent reaps it the child is a zombie, and kill(pid, 0) still
 * finds it: the lock must be taken over from a zombie too, or the
 * parent's next section stop spins forever (the runner's timeout fails
 * this test).
 *
 * Each round: a child runs long sections for the parent's handle without
 * pause (so it holds the lock a good part of the time), the parent kills
 * it at a random moment and, before reaping it, runs a section of its own
 * for the same handle.  That section must land whole: the area holds
 * only the sections' PCs, and the parent's last section is there.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "helpers.h"

#define WORDS (1ul << 20)

static const uint64_t H = UKCOV_SUBSYSTEM_APP(21) | 3;
static volatile long sink;
static volatile unsigned long *area; /* the owner's, shared with children */

__attribute__((noinline)) void child_work(int n);
__attribute__((noinline)) void child_work(int n)
{
	for (int i = 0; i < n; i++)
		sink += i;
}

/* The child's loop: its PCs after each start are the section's too. */
__attribute__((noinline, noreturn)) void child_loop(void);
__attribute__((noinline, noreturn)) void child_loop(void)
{
	for (;;) {
		ukcov_remote_start(H);
		child_work(8000);
		ukcov_remote_stop();
		/* The only appender while it lives: it keeps room. */
		if (area[0] > WORDS / 2)
			area[0] = 0;
	}
}

__attribute__((noinline)) void parent_work(void);
__attribute__((noinline)) void parent_work(void)
{
	sink++;
}

int main(void)
{
	struct t_range child = t_range_of(child_work);
	struct t_range loop = t_range_of(child_loop);
	struct t_range parent = t_range_of(parent_work);
	double end = t_now() + t_stress_seconds(2);
	struct t_actor owner;
	struct t_kcov k;
	unsigned long n, i, rounds = 0;

	t_actor_start(&owner);
	t_kcov_open(&k, WORDS);
	/* Sections of up to 64Ki words: a long copy under the lock. */
	t_expect_ok(t_actor_remote_enable(&owner, k.fd, KCOV_TRACE_PC, 1 << 16,
					  0, 1, &H));
	area = k.area;
	srand((unsigned int)time(NULL));
	while (rounds < 20 || (t_now() < end && rounds < 2000)) {
		struct timespec ts = { 0, 200000 + rand() % 800000 };
		siginfo_t si;
		bool found = false;
		pid_t pid;
		int status;

		t_set_count(&k, 0);
		pid = fork();
		t_assert(pid >= 0);
		if (pid == 0)
			child_loop();
		nanosleep(&ts, NULL);
		t_assert(kill(pid, SIGKILL) == 0);
		/* A zombie now, not reaped: WNOWAIT. */
		t_assert(waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT) == 0);
		ukcov_remote_start(H);
		parent_work();
		ukcov_remote_stop();
		n = t_count(&k);
		t_assert(n > 0 && n < WORDS);
		for (i = 1; i <= n; i++) {
			if (t_in(parent, k.area[i]))
				found = true;
			else if (!t_in(child, k.area[i]) &&
				 !t_in(loop, k.area[i]))
				t_fail("round %lu: entry %lu: %#lx is no "
				       "section's", rounds, i, k.area[i]);
		}
		if (!found)
			t_fail("round %lu: the parent's section is missing (%lu entries, last %#lx)", rounds, n, k.area[n]);
		/* The parent's section last: after whatever the child
		 * finished. */
		t_assert(t_in(parent, k.area[n]));
		t_assert(waitpid(pid, &status, 0) == pid);
		t_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
		rounds++;
	}
	printf("%lu rounds\n", rounds);
	t_actor_stop(&owner);
	return T_EXIT_PASS;
}
