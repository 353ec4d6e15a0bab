// SPDX-License-Identifier: MIT
/*
 * A bounded signal storm (about 3 s, UKCOV_STRESS_SECONDS).  Four worker
 * threads collect locally and serve task-context sections for two owners,
 * A and B; a fifth thread sends SIGUSR1 and SIGUSR2 to random workers at a
 * high rate.  The handlers run inside automatic per-signal sections (A
 * registered the SIGUSR1 handle, B the SIGUSR2 one) and open explicit
 * sections for the other owner, and nest into each other.  Afterwards:
 *   - every entry of A's area comes from a function that runs for A (its
 *     task sections, the SIGUSR1 handler, the SIGUSR2 handler's section for
 *     A), and the same for B: nothing of the other owner's, nothing local;
 *   - each worker's local trace holds only the worker's own code;
 *   - nothing deadlocked (the test ends), every kind of section landed.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "helpers.h"

#define NW 4
#define OWORDS (1ul << 21)
#define LWORDS (1ul << 15)

static const uint64_t HA = UKCOV_SUBSYSTEM_APP(26) | 1;
static const uint64_t HB = UKCOV_SUBSYSTEM_APP(26) | 2;

/* Per thread: every worker and handler writes it.  stop: atomic. */
static __thread volatile long sink;
static bool stop;
static int delivered[3];

#define WORK_FN(name, k)                                                       \
	__attribute__((noinline)) void name(int n);                            \
	__attribute__((noinline)) void name(int n)                             \
	{                                                                      \
		int i;                                                         \
		for (i = 0; i < n; i++)                                        \
			sink += (i & 1) ? i * (k) : (k);                       \
	}

WORK_FN(local_work, 3)	/* the workers' own code */
WORK_FN(task_a_work, 5)	/* task sections for A */
WORK_FN(task_b_work, 7)	/* task sections for B */
WORK_FN(usr1_body, 9)	/* SIGUSR1: automatic section for A */
WORK_FN(usr1_for_b, 11)	/* SIGUSR1: explicit section for B */
WORK_FN(usr2_body, 13)	/* SIGUSR2: automatic section for B */
WORK_FN(usr2_for_a, 15)	/* SIGUSR2: explicit section for A */

__attribute__((noinline)) void on_usr1(int sig);
__attribute__((noinline)) void on_usr1(int sig)
{
	usr1_body(4);
	ukcov_remote_start(HB);
	usr1_for_b(4);
	ukcov_remote_stop();
	usr1_body(sig & 3);
	__atomic_add_fetch(&delivered[1], 1, __ATOMIC_RELAXED);
}

__attribute__((noinline)) void on_usr2(int sig);
__attribute__((noinline)) void on_usr2(int sig)
{
	usr2_body(4);
	ukcov_remote_start(HA);
	usr2_for_a(4);
	ukcov_remote_stop();
	usr2_body(sig & 3);
	__atomic_add_fetch(&delivered[2], 1, __ATOMIC_RELAXED);
}

__attribute__((noinline)) void run_a(int n);
__attribute__((noinline)) void run_a(int n)
{
	ukcov_remote_start(HA);
	task_a_work(n);
	ukcov_remote_stop();
}

__attribute__((noinline)) void run_b(int n);
__attribute__((noinline)) void run_b(int n)
{
	ukcov_remote_start(HB);
	task_b_work(n);
	ukcov_remote_stop();
}

static struct t_range r_local, r_ta, r_tb, r_u1, r_u1b, r_u2, r_u2a, r_h1,
	r_h2, r_run_a, r_run_b, r_worker;
static unsigned long local_bad[NW];

/* Runs while collecting: not instrumented itself. */
T_NOCOV static unsigned long check_local(struct t_kcov *k)
{
	struct t_range ok[4] = { r_local, r_run_a, r_run_b, r_worker };

	return t_sig_count_outside(k, ok, 4) + t_count_in(k, r_ta) +
	       t_count_in(k, r_tb) + t_count_in(k, r_h1) + t_count_in(k, r_h2);
}

__attribute__((noinline)) void *worker(void *p);
__attribute__((noinline)) void *worker(void *p)
{
	int id = (int)(uintptr_t)p;
	struct timespec ts = { 0, 1000 };
	struct t_kcov k;
	unsigned int i;

	t_kcov_open(&k, LWORDS);
	t_expect_ok(ukcov_ioctl(k.fd, KCOV_ENABLE, KCOV_TRACE_PC));
	for (i = 0; !__atomic_load_n(&stop, __ATOMIC_ACQUIRE); i++) {
		local_work(3);
		if (i & 1)
			run_a(5);
		else
			run_b(5);
		local_work(2);
		if ((i & 15) == 0)
			nanosleep(&ts, NULL); /* TSan delivers signals here */
		if (t_count(&k) > LWORDS / 2) {
			local_bad[id] += check_local(&k);
			t_set_count(&k, 0);
		}
	}
	local_bad[id] += check_local(&k);
	t_expect_ok(ukcov_ioctl(k.fd, KCOV_DISABLE, 0));
	t_kcov_close(&k);
	return NULL;
}

static pthread_t workers[NW];

__attribute__((noinline)) void *sender(void *p);
__attribute__((noinline)) void *sender(void *p)
{
	double end = t_now() + *(double *)p;
	unsigned int seed = 12345, i = 0;
	struct timespec ts = { 0, 20000 };

	while (t_now() < end) {
		seed = seed * 1103515245u + 12345u;
		pthread_kill(workers[(seed >> 16) % NW],
			     (seed >> 8) & 1 ? SIGUSR1 : SIGUSR2);
		if ((++i & 7) == 0)
			nanosleep(&ts, NULL);
	}
	return NULL;
}

int main(void)
{
	const uint64_t ha[2] = {
		HA, ukcov_remote_handle(UKCOV_SUBSYSTEM_SIGNAL, SIGUSR1) };
	const uint64_t hb[2] = {
		HB, ukcov_remote_handle(UKCOV_SUBSYSTEM_SIGNAL, SIGUSR2) };
	double secs = t_stress_seconds(3.0);
	struct t_actor oa, ob;
	struct t_kcov a, b;
	struct sigaction sa;
	pthread_t s;
	struct timespec deadline;
	sigset_t set;
	int i;

	r_local = t_range_of(local_work);
	r_ta = t_range_of(task_a_work);
	r_tb = t_range_of(task_b_work);
	r_u1 = t_range_of(usr1_body);
	r_u1b = t_range_of(usr1_for_b);
	r_u2 = t_range_of(usr2_body);
	r_u2a = t_range_of(usr2_for_a);
	r_h1 = t_range_of(on_usr1);
	r_h2 = t_range_of(on_usr2);
	r_run_a = t_range_of(run_a);
	r_run_b = t_range_of(run_b);
	r_worker = t_range_of(worker);

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	sa.sa_handler = on_usr1;
	t_expect_ok(sigaction(SIGUSR1, &sa, NULL));
	sa.sa_handler = on_usr2;
	t_expect_ok(sigaction(SIGUSR2, &sa, NULL));

	/* Only the workers take the signals (threads inherit the mask). */
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	t_actor_start(&oa);
	t_actor_start(&ob);
	t_kcov_open(&a, OWORDS);
	t_kcov_open(&b, OWORDS);
	t_expect_ok(t_actor_remote_enable(&oa, a.fd, KCOV_TRACE_PC, 256, 0, 2,
					  ha));
	t_expect_ok(t_actor_remote_enable(&ob, b.fd, KCOV_TRACE_PC, 256, 0, 2,
					  hb));
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	for (i = 0; i < NW; i++)
		t_assert(pthread_create(&workers[i], NULL, worker,
					(void *)(uintptr_t)i) == 0);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	t_assert(pthread_create(&s, NULL, sender, &secs) == 0);
	t_assert(pthread_join(s, NULL) == 0);
	__atomic_store_n(&stop, true, __ATOMIC_RELEASE);
	/* A worker that does not finish is stuck in the runtime (a handler
	 * spinning on a lock that is never released): say so and leave at
	 * once (_exit: no destructor may wait for those locks) rather than
	 * run into the suite's timeout. */
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += 30;
	for (i = 0; i < NW; i++) {
		int e = pthread_timedjoin_np(workers[i], NULL, &deadline);

		if (e == ETIMEDOUT) {
			fprintf(stderr, "%s:%d: worker %d still running 30 s "
				"after the storm ended: deadlocked in ukcov\n",
				__FILE__, __LINE__, i);
			fflush(stderr);
			_exit(T_EXIT_FAIL);
		}
		t_assert(e == 0);
	}

	for (i = 0; i < NW; i++)
		if (local_bad[i])
			t_fail("worker %d: %lu foreign PCs in its local trace",
			       i, local_bad[i]);
	t_assert(delivered[1] > 0 && delivered[2] > 0);
	{
		/* What runs for A: its task sections, the SIGUSR1 handler
		 * (automatic section), the SIGUSR2 handler's section for A
		 * (usr2_for_a and the lines of on_usr2 around it). */
		struct t_range a_ok2[6] = { r_ta, r_run_a, r_u1, r_h1, r_u2a,
					    r_h2 };
		struct t_range b_ok2[6] = { r_tb, r_run_b, r_u2, r_h2, r_u1b,
					    r_h1 };

		if (t_sig_count_outside(&a, a_ok2, 6))
			t_fail("A: %lu misattributed entries",
			       t_sig_count_outside(&a, a_ok2, 6));
		if (t_sig_count_outside(&b, b_ok2, 6))
			t_fail("B: %lu misattributed entries",
			       t_sig_count_outside(&b, b_ok2, 6));
	}
	if (t_count_in(&a, r_tb) || t_count_in(&a, r_u2) ||
	    t_count_in(&a, r_u1b) || t_count_in(&a, r_local))
		t_fail("A holds B's or local code");
	if (t_count_in(&b, r_ta) || t_count_in(&b, r_u1) ||
	    t_count_in(&b, r_u2a) || t_count_in(&b, r_local))
		t_fail("B holds A's or local code");
	t_assert(t_count_in(&a, r_ta) > 0 && t_count_in(&a, r_u1) > 0 &&
		 t_count_in(&a, r_u2a) > 0);
	t_assert(t_count_in(&b, r_tb) > 0 && t_count_in(&b, r_u2) > 0 &&
		 t_count_in(&b, r_u1b) > 0);
	printf("signals: %d SIGUSR1, %d SIGUSR2; A %lu, B %lu entries; "
	       "%llu skipped\n", delivered[1], delivered[2], t_count(&a),
	       t_count(&b), (unsigned long long)ukcov_irq_sections_skipped());

	t_expect_ok(t_actor_ioctl(&oa, a.fd, KCOV_DISABLE, 0));
	t_expect_ok(t_actor_ioctl(&ob, b.fd, KCOV_DISABLE, 0));
	t_actor_stop(&oa);
	t_actor_stop(&ob);
	t_kcov_close(&a);
	t_kcov_close(&b);
	return T_EXIT_PASS;
}
