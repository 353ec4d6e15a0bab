// SPDX-License-Identifier: MIT
/*
 * Per-thread isolation under concurrency: 8 threads each enable their own
 * kcov (even ones trace-pc, odd ones trace-cmp) and run their own distinct
 * noinline function in a loop, all at once, for a few seconds.  Throughout,
 * each area holds PCs of its own thread's function and never one of another
 * thread's function; a ninth thread that never enabled anything runs its
 * own function too, and none of its PCs shows up in any area.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "helpers.h"

#define NENABLED 8
#define NTHREADS (NENABLED + 1)	/* the last one never enables */
#define WORDS 8192
#define CALLS_PER_ROUND 16

/* Nine functions with distinct bodies (distinct constants), so that no
 * identical-code folding can merge two of them. */
#define DEF_FN(i, k)                                                           \
	__attribute__((noinline)) int fn##i(int x);                            \
	__attribute__((noinline)) int fn##i(int x)                             \
	{                                                                      \
		if (x > (k))                                                   \
			return x * ((k) + 3) + (i);                            \
		return x ^ ((k) * 7 + 1);                                      \
	}
DEF_FN(0, 11)
DEF_FN(1, 23)
DEF_FN(2, 37)
DEF_FN(3, 41)
DEF_FN(4, 59)
DEF_FN(5, 67)
DEF_FN(6, 73)
DEF_FN(7, 89)
DEF_FN(8, 97)

static int (*const fns[NTHREADS])(int) = {
	fn0, fn1, fn2, fn3, fn4, fn5, fn6, fn7, fn8,
};
static uintptr_t lo[NTHREADS], hi[NTHREADS];

struct worker {
	int idx;
	bool enable;
	struct t_kcov k;
	volatile int sink;	/* per thread: no shared writes */
	unsigned long rounds;
	unsigned long own;	/* entries inside the thread's own function */
	unsigned long foreign;	/* entries inside another thread's function */
	int foreign_fn;		/* one offender, for the message */
};

static struct worker workers[NTHREADS];
static pthread_barrier_t start;
static int stop;

__attribute__((noinline)) void *worker_main(void *p);
__attribute__((noinline)) void *worker_main(void *p)
{
	struct worker *w = p;
	bool cmp = w->idx & 1;
	int j, r = 0;

	if (w->enable) {
		t_kcov_open(&w->k, WORDS);
		t_expect_ok(ukcov_ioctl(w->k.fd, KCOV_ENABLE,
					cmp ? KCOV_TRACE_CMP : KCOV_TRACE_PC));
	}
	pthread_barrier_wait(&start);
	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
		if (w->enable)
			__atomic_store_n(&w->k.area[0], 0, __ATOMIC_RELAXED);
		for (j = 0; j < CALLS_PER_ROUND; j++)
			w->sink = fns[w->idx](r++ % 200);
		w->rounds++;
		if (!w->enable)
			continue;
		/* Scanned by the (uninstrumented) helpers: adds nothing. */
		w->own += t_entries_in(&w->k, cmp, lo[w->idx], hi[w->idx]);
		for (j = 0; j < NTHREADS; j++) {
			unsigned long n;

			if (j == w->idx)
				continue;
			n = t_entries_in(&w->k, cmp, lo[j], hi[j]);
			if (n) {
				w->foreign += n;
				w->foreign_fn = j;
			}
		}
	}
	if (w->enable)
		t_expect_ok(ukcov_ioctl(w->k.fd, KCOV_DISABLE, 0));
	return NULL;
}

int main(void)
{
	pthread_t tids[NTHREADS];
	double secs = t_stress_seconds(1.5);
	int i;

	for (i = 0; i < NTHREADS; i++) {
		size_t sz = t_func_size((const void *)fns[i]);

		t_assert(sz > 0);
		lo[i] = (uintptr_t)fns[i];
		hi[i] = lo[i] + sz;
	}
	/* The functions must not overlap, or "foreign" would mean nothing. */
	for (i = 0; i < NTHREADS; i++)
		for (int j = i + 1; j < NTHREADS; j++)
			t_assert(hi[i] <= lo[j] || hi[j] <= lo[i]);

	t_assert(pthread_barrier_init(&start, NULL, NTHREADS + 1) == 0);
	for (i = 0; i < NTHREADS; i++) {
		workers[i].idx = i;
		workers[i].enable = i < NENABLED;
		t_assert(pthread_create(&tids[i], NULL, worker_main,
					&workers[i]) == 0);
	}
	pthread_barrier_wait(&start);
	usleep((useconds_t)(secs * 1e6));
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	for (i = 0; i < NTHREADS; i++)
		t_assert(pthread_join(tids[i], NULL) == 0);

	for (i = 0; i < NTHREADS; i++) {
		struct worker *w = &workers[i];

		if (!w->rounds)
			t_fail("thread %d never ran its loop", i);
		if (!w->enable)
			continue;
		if (!w->own)
			t_fail("thread %d (%s): no entry of its own fn%d in %lu "
			       "rounds", i, i & 1 ? "cmp" : "pc", i, w->rounds);
		if (w->foreign)
			t_fail("thread %d (%s): %lu entries of other threads' "
			       "functions (e.g. fn%d)%s", i,
			       i & 1 ? "cmp" : "pc", w->foreign, w->foreign_fn,
			       w->foreign_fn == NENABLED ?
				       ", from the thread that never enabled" :
				       "");
		t_kcov_close(&w->k);
	}
	pthread_barrier_destroy(&start);
	return T_EXIT_PASS;
}
