// SPDX-License-Identifier: MIT
/*
 * Automatic per-signal sections: the main thread registers
 * ukcov_remote_handle(UKCOV_SUBSYSTEM_SIGNAL, SIGUSR2) and (.., SIGALRM)
 * with a common handle; two threads it creates (inheriting the common
 * handle) collect locally while they receive SIGUSR2 (pthread_kill) and
 * SIGALRM (a per-thread POSIX timer).  All handler code lands in the
 * owner's area, none in any local trace; ukcov_common_handle() is 0 in the
 * handlers and the common handle outside.  After the owner's KCOV_DISABLE,
 * further signals add nothing.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "helpers.h"

#define WORDS (1ul << 20)
#define LWORDS (1ul << 16)
#define COMMON 0x7171ull
#define NTHREADS 2

#ifndef sigev_notify_thread_id
#define sigev_notify_thread_id _sigev_un._tid
#endif

/* Per thread (handlers and task code run on both collectors); the
 * counters and the stop flag are shared: atomic. */
static __thread volatile long sink;
static int usr2_hits, alrm_hits, bad_common;
static bool stop;

__attribute__((noinline)) void usr2_work(int n);
__attribute__((noinline)) void usr2_work(int n)
{
	int i;

	for (i = 0; i < n; i++)
		sink += (i & 1) ? i * 3 : 1;
}

__attribute__((noinline)) void alrm_work(int n);
__attribute__((noinline)) void alrm_work(int n)
{
	int i;

	for (i = 0; i < n; i++)
		sink ^= (i & 1) ? i * 5 : 2;
}

__attribute__((noinline)) void on_usr2(int sig);
__attribute__((noinline)) void on_usr2(int sig)
{
	if (ukcov_common_handle() != 0)
		__atomic_add_fetch(&bad_common, 1, __ATOMIC_RELAXED);
	usr2_work(sig);
	__atomic_add_fetch(&usr2_hits, 1, __ATOMIC_RELAXED);
}

__attribute__((noinline)) void on_alrm(int sig);
__attribute__((noinline)) void on_alrm(int sig)
{
	if (ukcov_common_handle() != 0)
		__atomic_add_fetch(&bad_common, 1, __ATOMIC_RELAXED);
	alrm_work(sig);
	__atomic_add_fetch(&alrm_hits, 1, __ATOMIC_RELAXED);
}

__attribute__((noinline)) void thread_work(int n);
__attribute__((noinline)) void thread_work(int n)
{
	int i;

	for (i = 0; i < n; i++)
		sink -= (i & 1) ? i : 7;
}

static struct t_range r_usr2, r_alrm, r_on_usr2, r_on_alrm;
static uint64_t common_h;
static volatile int leaked[NTHREADS], ready;

__attribute__((noinline)) void *collector(void *p);
__attribute__((noinline)) void *collector(void *p)
{
	int id = (int)(uintptr_t)p;
	struct timespec ts = { 0, 200000 };
	struct itimerspec its = { { 0, 1000000 }, { 0, 1000000 } };
	struct sigevent sev;
	struct t_kcov k;
	timer_t timer;

	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = SIGEV_THREAD_ID;
	sev.sigev_signo = SIGALRM;
	sev.sigev_notify_thread_id = (pid_t)syscall(SYS_gettid);
	t_expect_ok(timer_create(CLOCK_MONOTONIC, &sev, &timer));
	t_kcov_open(&k, LWORDS);
	t_expect_ok(ukcov_ioctl(k.fd, KCOV_ENABLE, KCOV_TRACE_PC));
	t_assert(ukcov_common_handle() == common_h);
	t_expect_ok(timer_settime(timer, 0, &its, NULL));
	__atomic_add_fetch(&ready, 1, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&stop, __ATOMIC_ACQUIRE)) {
		thread_work(10);
		/* Also lets TSan deliver the signals it deferred. */
		nanosleep(&ts, NULL);
		if (t_count(&k) > LWORDS / 2) {
			leaked[id] += t_count_in(&k, r_usr2) +
				      t_count_in(&k, r_alrm) +
				      t_count_in(&k, r_on_usr2) +
				      t_count_in(&k, r_on_alrm);
			t_set_count(&k, 0);
		}
		if (ukcov_common_handle() != common_h)
			t_fail("common handle lost in task context");
	}
	its.it_value.tv_nsec = its.it_interval.tv_nsec = 0;
	t_expect_ok(timer_settime(timer, 0, &its, NULL));
	leaked[id] += t_count_in(&k, r_usr2) + t_count_in(&k, r_alrm) +
		      t_count_in(&k, r_on_usr2) + t_count_in(&k, r_on_alrm);
	t_assert(t_count_in(&k, t_range_of(thread_work)) > 0);
	t_expect_ok(ukcov_ioctl(k.fd, KCOV_DISABLE, 0));
	t_kcov_close(&k);
	timer_delete(timer);
	return NULL;
}

static void storm(pthread_t *t, double secs)
{
	double end = t_now() + secs;
	struct timespec ts = { 0, 100000 };
	int i = 0;

	while (t_now() < end) {
		pthread_kill(t[i++ % NTHREADS], SIGUSR2);
		nanosleep(&ts, NULL);
	}
}

int main(void)
{
	const uint64_t hs[2] = {
		ukcov_remote_handle(UKCOV_SUBSYSTEM_SIGNAL, SIGUSR2),
		ukcov_remote_handle(UKCOV_SUBSYSTEM_SIGNAL, SIGALRM),
	};
	struct t_range ok[4];
	pthread_t t[NTHREADS];
	struct sigaction sa;
	struct t_kcov owner;
	sigset_t set;
	unsigned long usr2_pcs;
	struct ukcov_stats st;
	int i, h2, ha;

	r_usr2 = ok[0] = t_range_of(usr2_work);
	r_alrm = ok[1] = t_range_of(alrm_work);
	r_on_usr2 = ok[2] = t_range_of(on_usr2);
	r_on_alrm = ok[3] = t_range_of(on_alrm);
	t_assert(hs[0] && hs[1]);
	/* What one SIGUSR2 handler's usr2_work records (compilers differ). */
	usr2_pcs = t_sig_pcs_of(usr2_work, SIGUSR2);

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	sa.sa_handler = on_usr2;
	t_expect_ok(sigaction(SIGUSR2, &sa, NULL));
	sa.sa_handler = on_alrm;
	t_expect_ok(sigaction(SIGALRM, &sa, NULL));

	t_kcov_open(&owner, WORDS);
	t_expect_ok(t_remote_enable(owner.fd, KCOV_TRACE_PC, 4096, COMMON, 2,
				    hs));
	common_h = kcov_remote_handle(KCOV_SUBSYSTEM_COMMON, COMMON);
	for (i = 0; i < NTHREADS; i++)
		t_assert(pthread_create(&t[i], NULL, collector,
					(void *)(uintptr_t)i) == 0);
	/* The owner itself takes no signals: they go to the collectors. */
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	sigaddset(&set, SIGALRM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	while (__atomic_load_n(&ready, __ATOMIC_ACQUIRE) < NTHREADS)
		usleep(1000);

	storm(t, t_stress_seconds(1.0));
	/* Let handlers still running finish their sections. */
	usleep(100000);
	h2 = __atomic_load_n(&usr2_hits, __ATOMIC_RELAXED);
	ha = __atomic_load_n(&alrm_hits, __ATOMIC_RELAXED);
	t_assert(h2 > 0 && ha > 0);
	t_assert(__atomic_load_n(&bad_common, __ATOMIC_RELAXED) == 0);
	if (t_sig_count_outside(&owner, ok, 4))
		t_fail("%lu entries of the owner's area are not handler code",
		       t_sig_count_outside(&owner, ok, 4));
	if (t_count_in(&owner, r_usr2) < 1 || t_count_in(&owner, r_alrm) < 1)
		t_fail("owner: %lu SIGUSR2 and %lu SIGALRM PCs",
		       t_count_in(&owner, r_usr2), t_count_in(&owner, r_alrm));
	/* Unless the area filled up: whole sections only, one per SIGUSR2
	 * handled, but for sections the runtime skipped and counted (a
	 * handler that interrupts its own thread while it appends a
	 * section to this owner cannot take the owner's lock). */
	t_expect_ok(ukcov_get_stats(owner.fd, &st));
	if (t_count(&owner) < owner.words - 1) {
		unsigned long n2 = t_count_in(&owner, r_usr2);
		unsigned long want = (unsigned long)h2 > st.sections_skipped ?
			((unsigned long)h2 - st.sections_skipped) * usr2_pcs :
			0;

		if (n2 % usr2_pcs || n2 < want || n2 > (unsigned long)h2 *
		    usr2_pcs)
			t_fail("owner: %lu SIGUSR2 PCs for %d signals (%llu "
			       "sections skipped), want %lu..%lu in steps of "
			       "%lu", n2, h2,
			       (unsigned long long)st.sections_skipped, want,
			       (unsigned long)h2 * usr2_pcs, usr2_pcs);
		t_assert(st.sections_skipped < (unsigned long)(h2 + ha) / 10);
	}
	printf("signals: %d SIGUSR2, %d SIGALRM; owner %lu entries, %llu "
	       "sections skipped\n", h2, ha, t_count(&owner),
	       (unsigned long long)st.sections_skipped);

	/* After DISABLE: nothing more. */
	t_expect_ok(ukcov_ioctl(owner.fd, KCOV_DISABLE, 0));
	t_set_count(&owner, 0);
	storm(t, 0.3);
	t_assert(__atomic_load_n(&usr2_hits, __ATOMIC_RELAXED) > h2);
	if (t_count(&owner))
		t_fail("%lu entries appended after KCOV_DISABLE",
		       t_count(&owner));

	__atomic_store_n(&stop, true, __ATOMIC_RELEASE);
	for (i = 0; i < NTHREADS; i++)
		t_assert(pthread_join(t[i], NULL) == 0);
	for (i = 0; i < NTHREADS; i++)
		if (leaked[i])
			t_fail("thread %d: %d handler PCs in its local trace",
			       i, leaked[i]);
	t_assert(ukcov_irq_sections_skipped() == 0);
	t_kcov_close(&owner);
	return T_EXIT_PASS;
}
