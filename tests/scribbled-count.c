// SPDX-License-Identifier: MIT
/*
 * A count that user code scribbled into word 0 (spec §3.1; reference §3.1,
 * §3.2 "hardening"): in both modes, with word 0 at or past the capacity
 * (cap, cap+1, huge values, values whose multiplication by the record size
 * wraps, ULONG_MAX), every callback and all instrumented code drop their
 * entries: nothing is written outside the area (it sits between PROT_NONE
 * pages in this test's mapping, and the runtime keeps guard pages around
 * its own view, so a stray write crashes), the count is unchanged and every
 * other word of the area is unchanged.  Afterwards, a sane count works.
 *
 * ULONG_MAX in PC mode: Linux computes pos = count + 1, which wraps to 0,
 * and writes the PC into word 0 (inside the buffer).  ukcov bounds the
 * count before any arithmetic and drops the entry, leaving word 0 as the
 * user wrote it; this test asserts ukcov's behaviour.
 */
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "helpers.h"

#define WORDS 512ul

volatile int sink;
/*
 * Every target also touches this: a function with no side effect of its own
 * is "pure" to the optimizer (the coverage calls are inserted after that
 * analysis), which may then move the test's reset of the count across it.
 */
volatile unsigned long touched;
static unsigned long snap[WORDS];

__attribute__((noinline)) int target(int x);
__attribute__((noinline)) int target(int x)
{
	touched++;
	if (x > 3)
		return x * 2;
	return x + 1;
}

__attribute__((noinline)) int cmp_target(uint32_t a, uint64_t b);
__attribute__((noinline)) int cmp_target(uint32_t a, uint64_t b)
{
	touched++;
	switch (a) {
	case 1:
		sink = 10;
		break;
	case 100:
		sink = 20;
		break;
	case 10000:
		sink = target(4);
		break;
	default:
		break;
	}
	if (b == 0x1234567890ull)
		return 1;
	return a < b ? 11 : 13;
}

/*
 * Set the count to v, fill the rest with a pattern, snapshot the area, then
 * call every callback a few times.  No coverage of its own.
 */
T_NOCOV void scribble_and_call(unsigned long *area, unsigned long v);
T_NOCOV void scribble_and_call(unsigned long *area, unsigned long v)
{
	uint64_t cases[] = { 3, 64, 1, 2, 3 };
	unsigned long i;

	for (i = 1; i < WORDS; i++)
		area[i] = 0xa5a5a5a5a5a50000ul | i;
	__atomic_store_n(&area[0], v, __ATOMIC_RELAXED);
	for (i = 0; i < WORDS; i++)
		snap[i] = area[i];
	for (i = 0; i < 3; i++) {
		__sanitizer_cov_trace_pc();
		__sanitizer_cov_trace_cmp1(1, 2);
		__sanitizer_cov_trace_cmp2(1, 2);
		__sanitizer_cov_trace_cmp4(1, 2);
		__sanitizer_cov_trace_cmp8(1, 2);
		__sanitizer_cov_trace_const_cmp1(1, 2);
		__sanitizer_cov_trace_const_cmp2(1, 2);
		__sanitizer_cov_trace_const_cmp4(1, 2);
		__sanitizer_cov_trace_const_cmp8(1, 2);
		__sanitizer_cov_trace_cmpf(1.0f, 2.0f);
		__sanitizer_cov_trace_cmpd(1.0, 2.0);
		__sanitizer_cov_trace_switch(2, cases);
	}
}

static void check_unchanged(const unsigned long *area, unsigned long v,
			    const char *mode, const char *what)
{
	unsigned long i;

	for (i = 0; i < WORDS; i++) {
		if (area[i] != snap[i])
			t_fail("%s mode, count %#lx, %s: word %lu changed "
			       "from %#lx to %#lx",
			       mode, v, what, i, snap[i], area[i]);
	}
	t_assert(area[0] == v);
}

static void one_mode(int fd, unsigned long *area, bool cmp)
{
	const unsigned long cap = cmp ? (WORDS - 1) / 4 : WORDS - 1;
	const unsigned long values[] = {
		cap,
		cap + 1,
		cap + 2,
		WORDS - 1,
		WORDS,
		WORDS + 1,
		1000000,
		1ul << 32,
		1ul << 59,
		(1ul << 59) - 1,
		(1ul << 59) + 1,
		1ul << 61,
		1ul << 62,
		(1ul << 62) + 1,
		(1ul << 62) - 1,
		ULONG_MAX / 4,
		ULONG_MAX / 8,
		(ULONG_MAX / 32) + 1,
		1ul << 63,
		ULONG_MAX - 1,
		ULONG_MAX,
	};
	const char *mode = cmp ? "CMP" : "PC";
	unsigned long i, n;

	t_expect_ok(ukcov_ioctl(fd, KCOV_ENABLE,
				cmp ? KCOV_TRACE_CMP : KCOV_TRACE_PC));
	for (i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		unsigned long v = values[i];

		t_assert(v >= cap);
		/* Direct calls of every callback. */
		scribble_and_call(area, v);
		check_unchanged(area, v, mode, "callbacks");
		/* Instrumented code: branches, comparisons, a switch. */
		__atomic_store_n(&area[0], v, __ATOMIC_RELAXED);
		memcpy(snap, area, sizeof(snap));
		sink = target((int)i);
		sink = cmp_target((uint32_t)i, v);
		sink = cmp_target(10000, 0x1234567890ull);
		check_unchanged(area, v, mode, "instrumented code");
	}

	/* A sane count again: exactly one more entry fits. */
	__atomic_store_n(&area[0], cap - 1, __ATOMIC_RELAXED);
	sink = target(9);
	sink = cmp_target(100, 3);
	n = __atomic_load_n(&area[0], __ATOMIC_ACQUIRE);
	t_expect_ok(ukcov_ioctl(fd, KCOV_DISABLE, 0));
	t_assert(n == cap);
}

int main(void)
{
	unsigned long *area;
	int fd;

	t_assert(sysconf(_SC_PAGESIZE) == 4096);
	fd = ukcov_open();
	t_assert(fd >= 0);
	t_expect_ok(ukcov_ioctl(fd, KCOV_INIT_TRACE, WORDS));
	area = t_map_guarded(fd, WORDS * sizeof(long), PROT_READ | PROT_WRITE);

	one_mode(fd, area, false);
	one_mode(fd, area, true);

	t_unmap_guarded(area, WORDS * sizeof(long));
	t_expect_ok(close(fd));
	return T_EXIT_PASS;
}
