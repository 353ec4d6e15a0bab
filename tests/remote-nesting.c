// SPDX-License-Identifier: MIT
/*
 * Nested remote sections (spec §3.2; Linux refuses them): the inner section
 * collects for its own handle, the outer one resumes after the inner stop.
 * Up to UKCOV_REMOTE_MAX_DEPTH (4) levels work; a 5th and 6th nested
 * start/stop are no-ops and the 4th-level section keeps collecting.  A
 * start for 0 or for an unregistered handle inside a section keeps the
 * outer one collecting, and its stop does not end the outer.  An unmatched
 * stop is harmless.  A thread's local collection resumes after sections
 * (nested or not) and goes on inside no-op sections.
 */
#include <errno.h>
#include <string.h>

#include "helpers.h"

#define NOWN 6
#define H(i) (UKCOV_SUBSYSTEM_APP(13) | (uint64_t)(i + 1))
#define HUNREG (UKCOV_SUBSYSTEM_APP(13) | 99)
#define WORDS 8192

volatile long sink;

/* Distinct bodies (distinct constants), so no two are folded together. */
#define WORK_FN(name, c)                                                       \
	__attribute__((noinline)) void name(long n);                           \
	__attribute__((noinline)) void name(long n)                            \
	{                                                                      \
		long i, s = c;                                                 \
		for (i = 0; i < n; i++)                                        \
			s = (i & 1) ? s * (c) : s + i + (c);                   \
		sink = s;                                                      \
	}

WORK_FN(f1a, 101)
WORK_FN(f1b, 102)
WORK_FN(f2a, 103)
WORK_FN(f2b, 104)
WORK_FN(f3a, 105)
WORK_FN(f3b, 106)
WORK_FN(f4a, 107)
WORK_FN(f4b, 108)
WORK_FN(f4c, 109)
WORK_FN(f5, 110)
WORK_FN(f6, 111)
WORK_FN(g1, 112)
WORK_FN(g2, 113)
WORK_FN(g3, 114)
WORK_FN(g4, 115)
WORK_FN(g5, 116)
WORK_FN(l1, 117)
WORK_FN(l2, 118)
WORK_FN(l3, 119)

static struct t_actor owners[NOWN];
static struct t_kcov areas[NOWN];

static unsigned long in(int owner, void (*fn)(long))
{
	return t_count_in(&areas[owner], t_range_of((const void *)fn));
}

static void reset_all(void)
{
	int i;

	for (i = 0; i < NOWN; i++)
		t_set_count(&areas[i], 0);
}

/* fn ran only into owner o's area (o < 0: into none of them). */
static void only_in(void (*fn)(long), int o)
{
	int i;

	for (i = 0; i < NOWN; i++) {
		unsigned long n = in(i, fn);

		if (i == o && n == 0)
			t_fail("owner %d: missing %p", i, (void *)fn);
		if (i != o && n != 0)
			t_fail("owner %d: %lu entries of %p, expected in %d",
			       i, n, (void *)fn, o);
	}
}

static void two_levels(void)
{
	reset_all();
	ukcov_remote_start(H(0));
	f1a(5);
	ukcov_remote_start(H(1));
	f2a(5);
	ukcov_remote_stop();
	f1b(5);
	ukcov_remote_stop();
	only_in(f1a, 0);
	only_in(f1b, 0);
	only_in(f2a, 1);
}

static void depth_limit(void)
{
	reset_all();
	ukcov_remote_start(H(0));
	f1a(5);
	ukcov_remote_start(H(1));
	f2a(5);
	ukcov_remote_start(H(2));
	f3a(5);
	ukcov_remote_start(H(3));
	f4a(5);
	/* 5th and 6th levels: no-ops, level 4 keeps collecting. */
	ukcov_remote_start(H(4));
	f5(5);
	ukcov_remote_start(H(5));
	f6(5);
	ukcov_remote_stop();
	f4b(5);
	ukcov_remote_stop();
	f4c(5);
	ukcov_remote_stop();
	f3b(5);
	ukcov_remote_stop();
	f2b(5);
	ukcov_remote_stop();
	f1b(5);
	ukcov_remote_stop();
	only_in(f1a, 0);
	only_in(f1b, 0);
	only_in(f2a, 1);
	only_in(f2b, 1);
	only_in(f3a, 2);
	only_in(f3b, 2);
	only_in(f4a, 3);
	only_in(f5, 3);
	only_in(f6, 3);
	only_in(f4b, 3);
	only_in(f4c, 3);
	t_assert(t_count(&areas[4]) == 0);
	t_assert(t_count(&areas[5]) == 0);
	/* Everything closed: code now goes nowhere. */
	g1(5);
	only_in(g1, -1);
}

static void placeholders(void)
{
	reset_all();
	ukcov_remote_start(H(0));
	g1(5);
	ukcov_remote_start(0);
	g2(5);
	ukcov_remote_stop();
	g3(5);
	ukcov_remote_start(HUNREG);
	g4(5);
	ukcov_remote_stop();
	g5(5);
	ukcov_remote_stop();
	only_in(g1, 0);
	only_in(g2, 0);
	only_in(g3, 0);
	only_in(g4, 0);
	only_in(g5, 0);

	/* Placeholders stacked up to the limit inside a section, then a
	 * registered handle past it: still the outer's. */
	reset_all();
	ukcov_remote_start(H(0));
	ukcov_remote_start(0);
	ukcov_remote_start(HUNREG);
	ukcov_remote_start(0);
	ukcov_remote_start(H(1));
	g1(5);
	ukcov_remote_stop();
	ukcov_remote_stop();
	ukcov_remote_stop();
	ukcov_remote_stop();
	g2(5);
	ukcov_remote_stop();
	only_in(g1, 0);
	only_in(g2, 0);

	/* The unmatched stop: harmless, and sections work after it. */
	ukcov_remote_stop();
	ukcov_remote_stop();
	reset_all();
	g3(5);
	ukcov_remote_start(H(2));
	g4(5);
	ukcov_remote_stop();
	g5(5);
	only_in(g3, -1);
	only_in(g4, 2);
	only_in(g5, -1);
}

static void with_local(void)
{
	struct t_range r1 = t_range_of(l1), r2 = t_range_of(l2);
	struct t_range r3 = t_range_of(l3), rf = t_range_of(f1a);
	struct t_range rg = t_range_of(f2a);
	struct t_kcov l;

	t_kcov_open(&l, WORDS);
	t_expect_ok(ukcov_ioctl(l.fd, KCOV_ENABLE, KCOV_TRACE_PC));
	reset_all();
	t_set_count(&l, 0);
	l1(5);
	ukcov_remote_start(H(0));
	f1a(5);
	ukcov_remote_stop();
	l2(5);
	ukcov_remote_start(H(0));
	ukcov_remote_start(H(1));
	f2a(5);
	ukcov_remote_stop();
	ukcov_remote_stop();
	l3(5);
	t_assert(t_count_in(&l, r1) > 0);
	t_assert(t_count_in(&l, r2) > 0);
	t_assert(t_count_in(&l, r3) > 0);
	t_assert(t_count_in(&l, rf) == 0);
	t_assert(t_count_in(&l, rg) == 0);
	only_in(f1a, 0);
	only_in(f2a, 1);
	only_in(l1, -1);
	only_in(l2, -1);
	only_in(l3, -1);

	/* Inside a no-op section the local collection goes on. */
	t_set_count(&l, 0);
	ukcov_remote_start(0);
	l1(5);
	ukcov_remote_start(HUNREG);
	l2(5);
	ukcov_remote_stop();
	ukcov_remote_stop();
	t_assert(t_count_in(&l, r1) > 0);
	t_assert(t_count_in(&l, r2) > 0);
	t_expect_ok(ukcov_ioctl(l.fd, KCOV_DISABLE, 0));
	t_kcov_close(&l);
}

int main(void)
{
	int i;

	for (i = 0; i < NOWN; i++) {
		uint64_t h = H(i);

		t_kcov_open(&areas[i], WORDS);
		t_actor_start(&owners[i]);
		t_expect_ok(t_actor_remote_enable(&owners[i], areas[i].fd,
						  KCOV_TRACE_PC, 2048, 0, 1,
						  &h));
	}
	two_levels();
	depth_limit();
	placeholders();
	with_local();
	for (i = 0; i < NOWN; i++) {
		t_expect_ok(t_actor_ioctl(&owners[i], areas[i].fd,
					  KCOV_DISABLE, 0));
		t_actor_stop(&owners[i]);
		t_kcov_close(&areas[i]);
	}
	return T_EXIT_PASS;
}
