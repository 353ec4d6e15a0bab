// SPDX-License-Identifier: MIT
/*
 * A full area (reference §3.1, §3.2, §9; spec §3.1): 512 words hold exactly
 * 511 PCs or 127 comparison records.  Further entries are dropped, the count
 * stays at capacity and the entries already written stay intact; in CMP
 * mode the 3 words after the last whole record are never written.  The
 * area is mapped with ukcov_mmap between two PROT_NONE pages of this test
 * (and the runtime keeps guard pages around its own view), so a write past
 * either end would crash.  Small areas that are not a multiple of 512 words
 * (2, 5, 101, 103 words), read through plain mmap(2) of the descriptor's
 * page, show that no word past the capacity is ever written.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "helpers.h"

#define WORDS 512ul
#define SENTINEL(i) (0x5e5e000000000000ul | (i))

volatile int sink;
/*
 * Every target also touches this: a function with no side effect of its own
 * is "pure" to the optimizer (the coverage calls are inserted after that
 * analysis), which may then move the test's reset of the count across it.
 */
volatile unsigned long touched;

__attribute__((noinline)) int target(int x);
__attribute__((noinline)) int target(int x)
{
	touched++;
	if (x > 3)
		return x * 2;
	return x + 1;
}

__attribute__((noinline)) int cmp_target(uint32_t a, uint32_t b);
__attribute__((noinline)) int cmp_target(uint32_t a, uint32_t b)
{
	touched++;
	return a < b ? 11 : 13;
}

/*
 * Fill words 1..words-1 with sentinels, set the count to start, then make
 * `calls` callbacks of the given mode from one call site; returns the count.
 * No coverage of its own, so only these calls record.
 */
T_NOCOV unsigned long fill_and_call(unsigned long *area, unsigned long words,
				    unsigned long start, unsigned int calls,
				    bool cmp);
T_NOCOV unsigned long fill_and_call(unsigned long *area, unsigned long words,
				    unsigned long start, unsigned int calls,
				    bool cmp)
{
	unsigned long i;

	for (i = 1; i < words; i++)
		area[i] = SENTINEL(i);
	__atomic_store_n(&area[0], start, __ATOMIC_RELAXED);
	for (i = 0; i < calls; i++) {
		if (cmp)
			__sanitizer_cov_trace_cmp8(0xc0ffee00ul + i, i);
		else
			__sanitizer_cov_trace_pc();
	}
	return __atomic_load_n(&area[0], __ATOMIC_RELAXED);
}

static bool in_fill(unsigned long ip)
{
	uintptr_t lo = (uintptr_t)fill_and_call;

	return ip >= lo && ip < lo + t_func_size(fill_and_call);
}

/* PC mode, a 512-word area. */
static void pc_mode(int fd, unsigned long *area)
{
	static unsigned long snap[WORDS];
	unsigned long i, n;

	t_expect_ok(ukcov_ioctl(fd, KCOV_ENABLE, KCOV_TRACE_PC));

	/* Exactly 511 PCs fit. */
	n = fill_and_call(area, WORDS, 0, 511, false);
	t_assert(n == 511);
	for (i = 1; i <= 511; i++)
		t_assert(in_fill(area[i]));
	/* One more: dropped. */
	n = fill_and_call(area, WORDS, 511, 1, false);
	t_assert(n == 511);
	for (i = 1; i < WORDS; i++)
		t_assert(area[i] == SENTINEL(i));
	/* 500 entries already there, 20 calls: 11 land, the 500 stay. */
	n = fill_and_call(area, WORDS, 500, 20, false);
	t_assert(n == 511);
	for (i = 1; i <= 500; i++)
		t_assert(area[i] == SENTINEL(i));
	for (i = 501; i <= 511; i++)
		t_assert(in_fill(area[i]));

	/* Instrumented code overflowing the area by far. */
	__atomic_store_n(&area[0], 0, __ATOMIC_RELAXED);
	for (i = 0; i < 2000; i++)
		sink = target((int)i);
	t_assert(t_count(&(struct t_kcov){ .area = area }) == 511);
	memcpy(snap, area, sizeof(snap));
	for (i = 0; i < 2000; i++)
		sink = target((int)i);
	t_assert(memcmp(snap, area, sizeof(snap)) == 0);
	t_expect_ok(ukcov_ioctl(fd, KCOV_DISABLE, 0));
}

/* CMP mode, a 512-word area: 127 records, words 509..511 never written. */
static void cmp_mode(int fd, unsigned long *area)
{
	static unsigned long snap[WORDS];
	unsigned long i, n;

	t_expect_ok(ukcov_ioctl(fd, KCOV_ENABLE, KCOV_TRACE_CMP));

	n = fill_and_call(area, WORDS, 0, 127, true);
	t_assert(n == 127);
	for (i = 0; i < 127; i++) {
		const unsigned long *r = area + 1 + 4 * i;

		t_assert(r[0] == KCOV_CMP_SIZE(3));
		t_assert(r[1] == 0xc0ffee00ul + i && r[2] == i);
		t_assert(in_fill(r[3]));
	}
	for (i = 509; i < WORDS; i++)
		t_assert(area[i] == SENTINEL(i));
	/* One more: dropped. */
	n = fill_and_call(area, WORDS, 127, 1, true);
	t_assert(n == 127);
	for (i = 1; i < WORDS; i++)
		t_assert(area[i] == SENTINEL(i));
	/* 120 records there, 20 calls: 7 land, the rest stays. */
	n = fill_and_call(area, WORDS, 120, 20, true);
	t_assert(n == 127);
	for (i = 1; i <= 480; i++)
		t_assert(area[i] == SENTINEL(i));
	for (i = 0; i < 7; i++) {
		const unsigned long *r = area + 481 + 4 * i;

		t_assert(r[0] == KCOV_CMP_SIZE(3) && r[2] == i);
	}
	for (i = 509; i < WORDS; i++)
		t_assert(area[i] == SENTINEL(i));

	/* Instrumented comparisons overflowing the area by far. */
	__atomic_store_n(&area[0], 0, __ATOMIC_RELAXED);
	for (i = 0; i < 1000; i++)
		sink = cmp_target((uint32_t)i, 500);
	t_assert(__atomic_load_n(&area[0], __ATOMIC_ACQUIRE) == 127);
	for (i = 509; i < WORDS; i++)
		t_assert(area[i] == SENTINEL(i));
	memcpy(snap, area, sizeof(snap));
	for (i = 0; i < 1000; i++)
		sink = cmp_target((uint32_t)i, 7);
	t_assert(memcmp(snap, area, sizeof(snap)) == 0);
	t_expect_ok(ukcov_ioctl(fd, KCOV_DISABLE, 0));
}

/*
 * An area of `words` words, not a page multiple: ukcov_mmap refuses it, so
 * read it through plain mmap(2) of its page.  Words from `words` on (and,
 * in CMP mode, past the last whole record) must never be written.
 */
static void small_area(unsigned long words, bool cmp)
{
	unsigned long cap = cmp ? (words - 1) / 4 : words - 1;
	unsigned long used = cmp ? 1 + 4 * cap : 1 + cap;
	unsigned long *page, i, n;
	int fd;

	fd = ukcov_open();
	t_assert(fd >= 0);
	t_expect_ok(ukcov_ioctl(fd, KCOV_INIT_TRACE, words));
	page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	t_assert(page != MAP_FAILED);
	t_expect_ok(ukcov_ioctl(fd, KCOV_ENABLE,
				cmp ? KCOV_TRACE_CMP : KCOV_TRACE_PC));
	n = fill_and_call(page, WORDS, 0, (unsigned int)cap + 10, cmp);
	t_expect_ok(ukcov_ioctl(fd, KCOV_DISABLE, 0));
	if (n != cap)
		t_fail("%lu words, %s mode: count %lu, want %lu", words,
		       cmp ? "CMP" : "PC", n, cap);
	for (i = used; i < WORDS; i++) {
		if (page[i] != SENTINEL(i))
			t_fail("%lu words, %s mode: word %lu written", words,
			       cmp ? "CMP" : "PC", i);
	}
	if (cap)
		t_assert(cmp ? page[used - 1] != SENTINEL(used - 1) &&
				       in_fill(page[used - 1])
			     : in_fill(page[used - 1]));
	munmap(page, 4096);
	t_expect_ok(close(fd));
}

int main(void)
{
	unsigned long *area;
	int fd;

	t_assert(sysconf(_SC_PAGESIZE) == 4096);
	t_assert(t_func_size(fill_and_call) > 0);
	fd = ukcov_open();
	t_assert(fd >= 0);
	t_expect_ok(ukcov_ioctl(fd, KCOV_INIT_TRACE, WORDS));
	/* Exactly the area, with PROT_NONE pages on both sides. */
	area = t_map_guarded(fd, WORDS * sizeof(long), PROT_READ | PROT_WRITE);

	pc_mode(fd, area);
	cmp_mode(fd, area);
	/* And PC mode again after CMP, with CMP leftovers in the area. */
	pc_mode(fd, area);

	t_unmap_guarded(area, WORDS * sizeof(long));
	t_expect_ok(close(fd));

	small_area(2, false);	/* 1 PC */
	small_area(2, true);	/* no record fits */
	small_area(5, true);	/* 1 record */
	small_area(8, true);	/* 1 record, 3 spare words */
	small_area(101, false);	/* 100 PCs */
	small_area(103, true);	/* 25 records, 2 spare words */
	return T_EXIT_PASS;
}
