// SPDX-License-Identifier: MIT
/*
 * Bounded stress of remote coverage (t_stress_seconds, default 3 s).  Four
 * owner threads repeatedly REMOTE_ENABLE a random subset of 16 handles
 * (EEXIST when another owner holds one: retried with another subset), in
 * PC or CMP mode, reset their areas (KCOV_RESET_TRACE or word 0), DISABLE,
 * and sometimes close and reopen their descriptor.  Four worker threads open
 * sections for random handles (sometimes nested, sometimes for 0 or an
 * unregistered handle), each section calling the function of its handle.
 * At each DISABLE the owner checks its area: an entry inside the function
 * of a handle outside the session's subset, or inside the code the workers
 * run outside sections, is a misattribution.  No crash, no deadlock, no
 * misattribution; make check runs it under ASan and TSan too.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "helpers.h"

#define NH 16
#define NOWNERS 4
#define NWORKERS 4
#define WORDS (1 << 15)
#define H(j) (UKCOV_SUBSYSTEM_APP(14) | (uint64_t)((j) + 1))
#define HUNREG (UKCOV_SUBSYSTEM_APP(14) | 999)

/* Per thread: workers and owners run these functions concurrently. */
__thread volatile long sink;

/*
 * work##j runs in sections for H(j).  nested##j runs in a section for H(j)
 * nested in one for H(j ^ 1): when H(j) has no owner that inner start is a
 * no-op and its code belongs to the outer section, so nested##j is
 * attributed correctly to an owner of H(j) or of H(j ^ 1).
 */
#define WORK_FN(p, j, c)                                                       \
	__attribute__((noinline)) void p##j(long n);                           \
	__attribute__((noinline)) void p##j(long n)                            \
	{                                                                      \
		long i, s = j;                                                 \
		for (i = 0; i < n; i++)                                        \
			s = (i & 1) ? s * (j + (c)) : s + i + (j);             \
		sink = s;                                                      \
	}
#define WORK_FNS(j) WORK_FN(work, j, 3) WORK_FN(nested, j, 1000)

WORK_FNS(0)
WORK_FNS(1)
WORK_FNS(2)
WORK_FNS(3)
WORK_FNS(4)
WORK_FNS(5)
WORK_FNS(6)
WORK_FNS(7)
WORK_FNS(8)
WORK_FNS(9)
WORK_FNS(10)
WORK_FNS(11)
WORK_FNS(12)
WORK_FNS(13)
WORK_FNS(14)
WORK_FNS(15)

static void (*const work[NH])(long) = {
	work0, work1, work2,  work3,  work4,  work5,  work6,  work7,
	work8, work9, work10, work11, work12, work13, work14, work15,
};
static void (*const nested[NH])(long) = {
	nested0,  nested1,  nested2,  nested3,  nested4,  nested5,
	nested6,  nested7,  nested8,  nested9,  nested10, nested11,
	nested12, nested13, nested14, nested15,
};

/* What workers run outside sections: lands nowhere. */
__attribute__((noinline)) void outside(long n);
__attribute__((noinline)) void outside(long n)
{
	long i, s = 77;

	for (i = 0; i < n; i++)
		s = (i & 1) ? s * 79 : s - i;
	sink = s;
}

static struct t_range ranges[NH], nranges[NH], r_outside;
static double deadline;
static int workers_stop;
static unsigned long total_seen, sessions, eexists, misattributed;

static unsigned int rnd(unsigned int *seed)
{
	*seed = *seed * 1103515245u + 12345u;
	return (*seed >> 16) & 0x7fff;
}

/*
 * The handles whose owner may receive pc, as a mask: 0 for code of no
 * handle function, ~0u for the workers' code outside sections (never).
 */
static unsigned int allowed(uintptr_t pc)
{
	int j;

	for (j = 0; j < NH; j++) {
		if (t_in(ranges[j], pc))
			return 1u << j;
		if (t_in(nranges[j], pc))
			return (1u << j) | (1u << (j ^ 1));
	}
	return t_in(r_outside, pc) ? ~0u : 0;
}

/* Check a disabled session's area; returns entries attributed. */
static unsigned long check(const struct t_kcov *k, bool cmp, unsigned int mask,
			   int id)
{
	unsigned long n = t_count(k), cap, i, seen = 0;

	cap = cmp ? (k->words - 1) / KCOV_WORDS_PER_CMP : k->words - 1;
	if (n > cap)
		t_fail("owner %d: count %lu above capacity %lu", id, n, cap);
	for (i = 0; i < n; i++) {
		uintptr_t pc = cmp ? k->area[1 + i * KCOV_WORDS_PER_CMP + 3]
				   : k->area[1 + i];
		unsigned int a = allowed(pc);

		if (!a)
			continue;
		if (a == ~0u || !(mask & a)) {
			if (misattributed < 20)
				fprintf(stderr,
					"owner %d: entry %lu pc %#lx for "
					"handles %#x, session mask %#x\n",
					id, i, (unsigned long)pc, a, mask);
			__atomic_add_fetch(&misattributed, 1,
					   __ATOMIC_RELAXED);
			continue;
		}
		seen++;
	}
	return seen;
}

static void *owner_main(void *p)
{
	int id = (int)(uintptr_t)p;
	unsigned int seed = 0x9e3779b9u * (unsigned int)(id + 1);
	struct t_kcov k;
	unsigned long seen = 0;

	t_kcov_open(&k, WORDS);
	while (t_now() < deadline) {
		uint64_t h[4];
		unsigned int mask = 0, n = 1 + rnd(&seed) % 4, i, rounds;
		bool cmp = rnd(&seed) % 4 == 0;

		while (__builtin_popcount(mask) < (int)n)
			mask |= 1u << (rnd(&seed) % NH);
		for (i = 0, n = 0; i < NH; i++) {
			if (mask & (1u << i))
				h[n++] = H(i);
		}
		/* Reset while READY: no append can race with it.  During the
		 * session only KCOV_RESET_TRACE, which serialises with them. */
		t_set_count(&k, 0);
		if (t_remote_enable(k.fd, cmp ? KCOV_TRACE_CMP : KCOV_TRACE_PC,
				    256 + rnd(&seed) % 4096, 0, n, h)) {
			if (errno != EEXIST)
				t_fail("owner %d: REMOTE_ENABLE: %s", id,
				       strerror(errno));
			__atomic_add_fetch(&eexists, 1, __ATOMIC_RELAXED);
			sched_yield();
			continue;
		}
		if (rnd(&seed) % 2)
			t_expect_ok(ukcov_ioctl(k.fd, KCOV_RESET_TRACE, 0));
		for (rounds = rnd(&seed) % 4; rounds; rounds--) {
			usleep(rnd(&seed) % 500);
			if (rnd(&seed) % 3 == 0)
				t_expect_ok(ukcov_ioctl(k.fd, KCOV_RESET_TRACE,
							0));
		}
		usleep(rnd(&seed) % 500);
		t_expect_ok(ukcov_ioctl(k.fd, KCOV_DISABLE, 0));
		seen += check(&k, cmp, mask, id);
		__atomic_add_fetch(&sessions, 1, __ATOMIC_RELAXED);
		if (rnd(&seed) % 8 == 0) {
			t_kcov_close(&k);
			t_kcov_open(&k, WORDS);
		}
	}
	t_kcov_close(&k);
	__atomic_add_fetch(&total_seen, seen, __ATOMIC_RELAXED);
	return NULL;
}

static uint64_t pick(unsigned int *seed, int *j)
{
	unsigned int r = rnd(seed) % (NH + 2);

	*j = (int)r;
	if (r == NH)
		return 0;
	if (r == NH + 1)
		return HUNREG;
	return H(r);
}

static void *worker_main(void *p)
{
	unsigned int seed = 0x85ebca6bu * (unsigned int)((uintptr_t)p + 1);

	while (!__atomic_load_n(&workers_stop, __ATOMIC_RELAXED)) {
		int j, k;
		uint64_t h = pick(&seed, &j);

		outside(3);
		ukcov_remote_start(h);
		if (j < NH)
			work[j](2 + rnd(&seed) % 6);
		if (j < NH && rnd(&seed) % 4 == 0) {
			k = j ^ 1;
			ukcov_remote_start(H(k));
			nested[k](2 + rnd(&seed) % 6);
			ukcov_remote_stop();
			if (j < NH)
				work[j](2);
		}
		ukcov_remote_stop();
		outside(3);
		if (rnd(&seed) % 16 == 0)
			sched_yield();
	}
	return NULL;
}

int main(void)
{
	pthread_t owners[NOWNERS], workers[NWORKERS];
	double secs = t_stress_seconds(3.0);
	int i;

	for (i = 0; i < NH; i++) {
		ranges[i] = t_range_of((const void *)work[i]);
		nranges[i] = t_range_of((const void *)nested[i]);
	}
	r_outside = t_range_of(outside);
	deadline = t_now() + secs;
	for (i = 0; i < NWORKERS; i++)
		t_assert(!pthread_create(&workers[i], NULL, worker_main,
					 (void *)(uintptr_t)i));
	for (i = 0; i < NOWNERS; i++)
		t_assert(!pthread_create(&owners[i], NULL, owner_main,
					 (void *)(uintptr_t)i));
	for (i = 0; i < NOWNERS; i++)
		t_assert(!pthread_join(owners[i], NULL));
	__atomic_store_n(&workers_stop, 1, __ATOMIC_RELAXED);
	for (i = 0; i < NWORKERS; i++)
		t_assert(!pthread_join(workers[i], NULL));

	printf("%lu sessions, %lu EEXIST, %lu entries attributed, "
	       "%lu misattributed\n",
	       sessions, eexists, total_seen, misattributed);
	t_assert(misattributed == 0);
	t_assert(sessions > 0);
	t_assert(total_seen > 0);
	return T_EXIT_PASS;
}
