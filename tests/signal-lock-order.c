// SPDX-License-Identifier: MIT
/*
 * No lock-order deadlock through signal handlers.  Two kcovs A and B; a
 * worker X runs long task sections for A, a worker Y for B; X's handler
 * opens a section for B, Y's for A.  If a handler could wait for a kcov
 * lock while its own thread held one, X interrupted while appending to A
 * and Y interrupted while appending to B would each spin forever on the
 * other's lock.  The test bombards both workers with signals for a bounded
 * time and fails if they stop making progress (or on the runner's
 * timeout); it also checks that handler sections did land, and that the
 * ones that could not wait were skipped and counted.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "helpers.h"

static const uint64_t HA = UKCOV_SUBSYSTEM_APP(30) | 1;
static const uint64_t HB = UKCOV_SUBSYSTEM_APP(30) | 2;
static __thread volatile long sink;
static __thread int role; /* 0: X (task A, handler B); 1: Y */
static int stop;
static unsigned long rounds[2];

__attribute__((noinline)) void work(int n);
__attribute__((noinline)) void work(int n)
{
	for (int i = 0; i < n; i++)
		sink += i;
}

static void on_usr1(int sig)
{
	(void)sig;
	ukcov_remote_start(role ? HA : HB);
	work(3);
	ukcov_remote_stop();
}

static void *worker(void *p)
{
	role = (int)(uintptr_t)p;
	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
		ukcov_remote_start(role ? HB : HA);
		work(20000);
		ukcov_remote_stop();
		__atomic_add_fetch(&rounds[role], 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

int main(void)
{
	double end = t_now() + t_stress_seconds(3), stuck_since = 0;
	unsigned long last[2] = { 0, 0 };
	struct ukcov_stats sa_, sb_;
	struct t_actor oa, ob;
	struct t_kcov a, b;
	struct sigaction sa;
	pthread_t t[2];
	long n;
	int i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sigaction(SIGUSR1, &sa, NULL);
	t_actor_start(&oa);
	t_actor_start(&ob);
	t_kcov_open(&a, 1 << 20);
	t_kcov_open(&b, 1 << 20);
	t_expect_ok(t_actor_remote_enable(&oa, a.fd, KCOV_TRACE_PC, 1 << 17,
					  0, 1, &HA));
	t_expect_ok(t_actor_remote_enable(&ob, b.fd, KCOV_TRACE_PC, 1 << 17,
					  0, 1, &HB));
	for (i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, worker, (void *)(uintptr_t)i);
	for (n = 0; t_now() < end; n++) {
		pthread_kill(t[n & 1], SIGUSR1);
		if (n % 512)
			continue;
		usleep(200);
		t_set_count(&a, 0);
		t_set_count(&b, 0);
		unsigned long r0 = __atomic_load_n(&rounds[0], __ATOMIC_RELAXED);
		unsigned long r1 = __atomic_load_n(&rounds[1], __ATOMIC_RELAXED);

		if (r0 != last[0] && r1 != last[1]) {
			stuck_since = 0;
		} else if (!stuck_since) {
			stuck_since = t_now();
		} else if (t_now() - stuck_since > 10) {
			/* A worker made no progress for 10 s: deadlocked. */
			fprintf(stderr, "deadlock: rounds %lu %lu\n", r0, r1);
			_exit(T_EXIT_FAIL);
		}
		if (r0 != last[0] && r1 != last[1]) {
			last[0] = r0;
			last[1] = r1;
		}
	}
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	for (i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	t_expect_ok(ukcov_get_stats(a.fd, &sa_));
	t_expect_ok(ukcov_get_stats(b.fd, &sb_));
	printf("%ld signals, rounds %lu %lu; A: %llu appended %llu skipped; "
	       "B: %llu appended %llu skipped\n",
	       n, rounds[0], rounds[1],
	       (unsigned long long)sa_.sections_appended,
	       (unsigned long long)sa_.sections_skipped,
	       (unsigned long long)sb_.sections_appended,
	       (unsigned long long)sb_.sections_skipped);
	t_assert(rounds[0] > 0 && rounds[1] > 0);
	/* Task sections plus handler sections landed on both sides. */
	t_assert(sa_.sections_appended > rounds[0]);
	t_assert(sb_.sections_appended > rounds[1]);
	t_actor_stop(&oa);
	t_actor_stop(&ob);
	return T_EXIT_PASS;
}
