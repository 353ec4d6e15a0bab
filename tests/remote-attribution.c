// SPDX-License-Identifier: MIT
/*
 * Remote attribution: two owners (two threads, each with its own remote
 * kcov and disjoint global handles) are served by the same two worker
 * threads, which alternate sections for all four handles, each section
 * calling its owner's function.  Entry by entry, owner A's area holds only
 * PCs of A's function and of the worker loop inside the sections, never B's
 * function, never the code the workers run outside sections and never the
 * owners' own code; the same for B.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "helpers.h"

#define ITERS 300
#define NWORKERS 2

/* Per thread: workers and owners run these functions concurrently. */
__thread volatile long sink;

static const uint64_t handles[4] = {
	UKCOV_SUBSYSTEM_APP(9) | 1,	/* A */
	UKCOV_SUBSYSTEM_APP(9) | 2,	/* A */
	UKCOV_SUBSYSTEM_APP(9) | 3,	/* B */
	UKCOV_SUBSYSTEM_APP(9) | 4,	/* B */
};

__attribute__((noinline)) void work_for_a(long x);
__attribute__((noinline)) void work_for_a(long x)
{
	long i, s = 0;

	for (i = 0; i < x; i++)
		s += (i & 1) ? i * 3 : i ^ 0x11;
	sink = s + 101;
}

__attribute__((noinline)) void work_for_b(long x);
__attribute__((noinline)) void work_for_b(long x)
{
	long i, s = 7;

	for (i = 0; i < x; i++)
		s -= (i & 2) ? i * 5 : i ^ 0x22;
	sink = s + 202;
}

/* What the workers do between sections: must land nowhere. */
__attribute__((noinline)) void worker_outside(long x);
__attribute__((noinline)) void worker_outside(long x)
{
	if (x & 1)
		sink = x * 9;
	else
		sink = x - 9;
}

/* The owners' own code while they own their remote kcov. */
__attribute__((noinline)) long owner_own(void *p);
__attribute__((noinline)) long owner_own(void *p)
{
	long i, n = (long)(uintptr_t)p;

	for (i = 0; i < n; i++)
		sink += (i % 3) ? i : -i;
	return 0;
}

static int sections[4];	/* per handle, summed after the joins */

__attribute__((noinline)) void *worker_main(void *p);
__attribute__((noinline)) void *worker_main(void *p)
{
	int w = (int)(uintptr_t)p, i;
	int *done = calloc(4, sizeof(int));

	t_assert(done);
	for (i = 0; i < ITERS; i++) {
		int j = (i + w) % 4;

		worker_outside(i);
		ukcov_remote_start(handles[j]);
		if (j < 2)
			work_for_a(3 + (i & 7));
		else
			work_for_b(3 + (i & 7));
		ukcov_remote_stop();
		worker_outside(i + 1);
		done[j]++;
	}
	return done;
}

struct owner {
	const char *name;
	struct t_actor actor;
	struct t_kcov k;
	struct t_range mine, theirs;
	int first;	/* index of its first handle */
};

static void check_owner(struct owner *o, struct t_range worker,
			struct t_range outside, struct t_range own)
{
	unsigned long i, n = t_count(&o->k), mine = 0;

	t_assert(n > 0 && n < o->k.words - 1);
	for (i = 1; i <= n; i++) {
		uintptr_t pc = o->k.area[i];

		if (t_in(o->theirs, pc))
			t_fail("%s: entry %lu (%#lx) is the other owner's",
			       o->name, i, (unsigned long)pc);
		if (t_in(outside, pc))
			t_fail("%s: entry %lu (%#lx) is worker code outside "
			       "any section", o->name, i, (unsigned long)pc);
		if (t_in(own, pc))
			t_fail("%s: entry %lu (%#lx) is the owner's own code",
			       o->name, i, (unsigned long)pc);
		if (t_in(o->mine, pc))
			mine++;
		else if (!t_in(worker, pc))
			t_fail("%s: entry %lu (%#lx) outside every expected "
			       "function", o->name, i, (unsigned long)pc);
	}
	/* Each section ran the owner's function at least once. */
	t_assert(mine >= (unsigned long)(sections[o->first] +
					 sections[o->first + 1]));
}

int main(void)
{
	struct t_range ra = t_range_of(work_for_a), rb = t_range_of(work_for_b);
	struct t_range rw = t_range_of(worker_main);
	struct t_range rout = t_range_of(worker_outside);
	struct t_range rown = t_range_of(owner_own);
	struct owner own[2] = {
		{ .name = "A", .mine = ra, .theirs = rb, .first = 0 },
		{ .name = "B", .mine = rb, .theirs = ra, .first = 2 },
	};
	pthread_t tid[NWORKERS];
	int o, w, j;

	for (o = 0; o < 2; o++) {
		t_kcov_open(&own[o].k, 1 << 16);
		t_actor_start(&own[o].actor);
		t_expect_ok(t_actor_remote_enable(&own[o].actor, own[o].k.fd,
						  KCOV_TRACE_PC, 4096, 0, 2,
						  &handles[2 * o]));
		t_set_count(&own[o].k, 0);
		t_actor_call(&own[o].actor, owner_own, (void *)100);
	}
	for (w = 0; w < NWORKERS; w++)
		t_assert(!pthread_create(&tid[w], NULL, worker_main,
					 (void *)(uintptr_t)w));
	for (o = 0; o < 2; o++)
		t_actor_call(&own[o].actor, owner_own, (void *)1000);
	for (w = 0; w < NWORKERS; w++) {
		int *done;

		t_assert(!pthread_join(tid[w], (void **)&done));
		for (j = 0; j < 4; j++)
			sections[j] += done[j];
		free(done);
	}
	for (o = 0; o < 2; o++)
		t_actor_call(&own[o].actor, owner_own, (void *)100);
	for (j = 0; j < 4; j++)
		t_assert(sections[j] == NWORKERS * ITERS / 4);

	for (o = 0; o < 2; o++)
		check_owner(&own[o], rw, rout, rown);
	for (o = 0; o < 2; o++) {
		t_expect_ok(t_actor_ioctl(&own[o].actor, own[o].k.fd,
					  KCOV_DISABLE, 0));
		t_actor_stop(&own[o].actor);
		t_kcov_close(&own[o].k);
	}
	return T_EXIT_PASS;
}
