// SPDX-License-Identifier: MIT
/*
 * KCOV_UNIQUE_ENABLE (the 2025 series' request, reference section 6): the
 * area's first B words are the bitmap, the trace (count word first)
 * follows; each call site's PC is appended the first time it runs, and
 * KCOV_RESET_TRACE empties the trace and the bitmap.
 *
 *   - a function run 100 times leaves each of its PCs once, exactly the
 *     set an ordered trace of one run records;
 *   - running it again appends nothing; after a reset, the same set again;
 *   - a bit of the bitmap is set per PC appended (indices below B * 64);
 *   - the reset clears every bit, and a reset with nothing new is cheap
 *     enough to do per input (checked in make bench, not here);
 *   - DISABLE, then KCOV_ENABLE: an ordered trace at word 0 again.
 * Built with trace-pc (gcc, clang) and, as unique-basic-guard, with
 * clang's trace-pc-guard: the two index schemes must agree on all this.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"

#define TRACE 65536 /* words of trace */
/* The bitmap mirrors every call site's index: sized at run time. */
static unsigned long bitmap_words;
#define BITMAP bitmap_words
#define WORDS (bitmap_words + TRACE)

static volatile long sink;

__attribute__((noinline)) void work(int n);
__attribute__((noinline)) void work(int n)
{
	for (int i = 0; i < n; i++) {
		if (i % 3)
			sink += i;
		else
			sink -= i;
	}
}

/* The checks below run no instrumented code (T_NOCOV): in unique mode
 * every new PC of the test itself is appended too. */
static T_NOCOV int cmp_ul(const void *a, const void *b)
{
	unsigned long x = *(const unsigned long *)a, y = *(const unsigned long *)b;

	return x < y ? -1 : x > y;
}

/* The sorted distinct PCs of trace[1..n] within r. */
static T_NOCOV unsigned long distinct(const unsigned long *trace,
				      unsigned long n,
				      struct t_range r, unsigned long *out)
{
	unsigned long i, m = 0, k = 0;

	for (i = 0; i < n; i++)
		if (t_in(r, trace[1 + i]))
			out[m++] = trace[1 + i];
	qsort(out, m, sizeof(*out), cmp_ul);
	for (i = 0; i < m; i++)
		if (!k || out[k - 1] != out[i])
			out[k++] = out[i];
	return k;
}

static T_NOCOV unsigned long popcount(const unsigned long *bm,
				      unsigned long words)
{
	unsigned long i, n = 0;

	for (i = 0; i < words; i++)
		n += (unsigned long)__builtin_popcountl(bm[i]);
	return n;
}

/* Entries of trace[1..n] within r. */
static T_NOCOV unsigned long in_range(const unsigned long *trace,
				      unsigned long n, struct t_range r)
{
	unsigned long i, m = 0;

	for (i = 0; i < n; i++)
		m += t_in(r, trace[1 + i]);
	return m;
}

/* Bits set in the bitmap, and the trace's count, at one moment. */
static T_NOCOV unsigned long popcount_and_count(const unsigned long *bm,
						const unsigned long *trace,
						unsigned long *n)
{
	*n = __atomic_load_n(&trace[0], __ATOMIC_ACQUIRE);
	return popcount(bm, BITMAP);
}

int main(void)
{
	struct t_range r = t_range_of(work);
	static unsigned long ordered[TRACE], uniq[TRACE];
	unsigned long *trace, n_ord, n_uni, n, i, bits;
	struct t_kcov k;

	/* Whole pages: kcov maps only an area of whole pages. */
	bitmap_words = ((ukcov_unique_bits() + 63) / 64 + 511) & ~511ul;
	t_kcov_open(&k, WORDS);
	trace = k.area + BITMAP;

	/* The reference: the PCs one run of work records, ordered. */
	t_expect_ok(ukcov_ioctl(k.fd, KCOV_ENABLE, KCOV_TRACE_PC));
	t_set_count(&k, 0);
	work(100);
	n = t_count(&k);
	t_expect_ok(ukcov_ioctl(k.fd, KCOV_DISABLE, 0));
	n_ord = distinct(k.area, n, r, ordered);
	t_assert(n_ord >= 3);
	t_assert(n > n_ord); /* the loop repeats PCs */

	/* Unique: each PC once, and the same set. */
	memset(k.area, 0xff, WORDS * sizeof(unsigned long)); /* stale data */
	trace[0] = 0;
	t_expect_ok(ukcov_ioctl(k.fd, KCOV_UNIQUE_ENABLE, BITMAP));
	/* The bitmap starts empty whatever the area held: its bits are
	 * the test's own PCs since. */
	t_assert(popcount_and_count(k.area, trace, &n) == n);
	work(100);
	n = __atomic_load_n(&trace[0], __ATOMIC_ACQUIRE);
	n_uni = distinct(trace, n, r, uniq);
	if (n_uni != n_ord || memcmp(uniq, ordered, n_ord * sizeof(*uniq)))
		t_fail("unique trace holds %lu PCs of work, the ordered one "
		       "%lu", n_uni, n_ord);
	/* Each at most once, in the whole trace. */
	{
		static unsigned long all[TRACE];
		struct t_range any = { 0, ~(uintptr_t)0 };

		t_assert(distinct(trace, n, any, all) == n);
	}
	bits = popcount_and_count(k.area, trace, &n);
	t_assert(bits == n);

	/* Again: nothing new of work's (the test's own new PCs come). */
	work(100);
	n = __atomic_load_n(&trace[0], __ATOMIC_ACQUIRE);
	t_assert(in_range(trace, n, r) == n_ord);

	/* Reset: empty trace and bitmap, then the same PCs again. */
	t_expect_ok(ukcov_ioctl(k.fd, KCOV_RESET_TRACE, 0));
	/* The ioctl's own return path may record a PC or two of the test. */
	t_assert(__atomic_load_n(&trace[0], __ATOMIC_ACQUIRE) <= 2);
	t_assert(popcount_and_count(k.area, trace, &n) == n);
	work(100);
	n = __atomic_load_n(&trace[0], __ATOMIC_ACQUIRE);
	t_assert(in_range(trace, n, r) == n_ord);
	t_assert(distinct(trace, n, r, uniq) == n_ord);
	t_assert(memcmp(uniq, ordered, n_ord * sizeof(*uniq)) == 0);

	/* Many resets: each one gives the whole set back. */
	for (i = 0; i < 1000; i++) {
		t_expect_ok(ukcov_ioctl(k.fd, KCOV_RESET_TRACE, 0));
		work(10 + (int)(i % 7));
		n = __atomic_load_n(&trace[0], __ATOMIC_ACQUIRE);
		if (in_range(trace, n, r) != n_ord)
			t_fail("reset %lu: %lu PCs of work, want %lu", i,
			       in_range(trace, n, r), n_ord);
	}

	/* Back to an ordered trace at word 0. */
	t_expect_ok(ukcov_ioctl(k.fd, KCOV_DISABLE, 0));
	t_expect_ok(ukcov_ioctl(k.fd, KCOV_ENABLE, KCOV_TRACE_PC));
	t_set_count(&k, 0);
	work(100);
	n = t_count(&k);
	t_expect_ok(ukcov_ioctl(k.fd, KCOV_DISABLE, 0));
	t_assert(distinct(k.area, n, r, uniq) == n_ord);
	t_assert(n > n_ord);
	t_kcov_close(&k);
	return T_EXIT_PASS;
}
