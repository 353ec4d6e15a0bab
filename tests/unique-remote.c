// SPDX-License-Identifier: MIT
/*
 * Unique mode for remote sections (ukcov's; Linux's series has none): an
 * owner registered with UKCOV_REMOTE_UNIQUE_ENABLE gets each PC its
 * sections run once between two of its resets, whichever thread ran the
 * section, and however often.
 *
 *   - 4 threads x many sections of the same loops: the owner's trace holds
 *     each PC once (no duplicate anywhere in it), exactly the PCs an
 *     ordered section of the same code records;
 *   - a section's buffer of 64 words is enough for a loop of 100,000
 *     iterations: only first hits go into it (no entry dropped);
 *   - a section nested in another, for a second owner, gives that owner
 *     the PCs too, though the outer section saw them first;
 *   - after the owner's KCOV_RESET_TRACE the PCs come again, once;
 *   - threads collecting for themselves in unique mode each get every PC
 *     of the same code (a bitmap per kcov, never shared).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"

#define TRACE 65536 /* words of trace */
/* The bitmap mirrors every call site's index: sized at run time. */
static unsigned long bitmap_words;
#define BITMAP bitmap_words
#define WORDS (bitmap_words + TRACE)
#define THREADS 4

static const uint64_t H1 = UKCOV_SUBSYSTEM_APP(31) | 1;
static const uint64_t H2 = UKCOV_SUBSYSTEM_APP(31) | 2;
static __thread volatile long sink;

__attribute__((noinline)) void loop_a(int n);
__attribute__((noinline)) void loop_a(int n)
{
	for (int i = 0; i < n; i++) {
		if (i & 1)
			sink += i;
		else
			sink ^= i;
	}
}

__attribute__((noinline)) void loop_b(int n);
__attribute__((noinline)) void loop_b(int n)
{
	for (int i = 0; i < n; i++)
		sink -= i % 7 ? 1 : 2;
}

static T_NOCOV int cmp_ul(const void *a, const void *b)
{
	unsigned long x = *(const unsigned long *)a, y = *(const unsigned long *)b;

	return x < y ? -1 : x > y;
}

/* Sorted distinct PCs of trace[1..n] in r; *dups: how many repeats. */
static T_NOCOV unsigned long distinct(const unsigned long *trace,
				      unsigned long n, struct t_range r,
				      unsigned long *out, unsigned long *dups)
{
	unsigned long i, m = 0, k = 0;

	for (i = 0; i < n; i++)
		if (t_in(r, trace[1 + i]))
			out[m++] = trace[1 + i];
	qsort(out, m, sizeof(*out), cmp_ul);
	for (i = 0; i < m; i++)
		if (!k || out[k - 1] != out[i])
			out[k++] = out[i];
	if (dups)
		*dups = m - k;
	return k;
}

static struct t_kcov own1, own2;
static struct t_actor owner1, owner2;

struct ue {
	int fd;
	uint64_t h;
};

static long unique_register(void *p)
{
	const struct ue *u = p;
	uint64_t buf[4];
	struct ukcov_remote_unique_arg *a = (void *)buf;

	memset(buf, 0, sizeof(buf));
	a->trace_mode = KCOV_TRACE_PC;
	a->area_size = 64; /* words per section buffer: 31 pairs */
	a->num_handles = 1;
	a->bitmap_words = BITMAP;
	a->handles[0] = u->h;
	return ukcov_ioctl(u->fd, UKCOV_REMOTE_UNIQUE_ENABLE, a);
}

static int phase; /* 0: flat sections, 1: nested */

static void *worker(void *p)
{
	(void)p;
	for (int i = 0; i < 200; i++) {
		ukcov_remote_start(H1);
		loop_a(i % 2 ? 1000 : 100000 / 200);
		if (phase == 1) {
			ukcov_remote_start(H2);
			loop_a(50);
			ukcov_remote_stop();
		}
		if (i % 3 == 0)
			loop_b(100);
		ukcov_remote_stop();
	}
	return NULL;
}

static void run_workers(void)
{
	pthread_t t[THREADS];
	int i;

	for (i = 0; i < THREADS; i++)
		pthread_create(&t[i], NULL, worker, NULL);
	for (i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
}

/* The PCs of loop_a and loop_b, from an ordered local trace. */
static unsigned long reference(unsigned long *a, unsigned long *na,
			       unsigned long *b)
{
	struct t_kcov k;
	unsigned long n, nb;

	t_kcov_open(&k, WORDS);
	t_expect_ok(ukcov_ioctl(k.fd, KCOV_ENABLE, KCOV_TRACE_PC));
	t_set_count(&k, 0);
	loop_a(1000);
	loop_b(100);
	n = t_count(&k);
	t_expect_ok(ukcov_ioctl(k.fd, KCOV_DISABLE, 0));
	*na = distinct(k.area, n, t_range_of(loop_a), a, NULL);
	nb = distinct(k.area, n, t_range_of(loop_b), b, NULL);
	t_kcov_close(&k);
	return nb;
}

static void check_owner(const char *what, const unsigned long *trace,
			const unsigned long *ref_a, unsigned long na,
			const unsigned long *ref_b, unsigned long nb,
			bool want_b)
{
	static unsigned long got[TRACE];
	struct t_range all = { 0, ~(uintptr_t)0 };
	unsigned long n = __atomic_load_n(&trace[0], __ATOMIC_ACQUIRE), dups;

	distinct(trace, n, all, got, &dups);
	if (dups)
		t_fail("%s: %lu repeated PCs in %lu entries", what, dups, n);
	if (distinct(trace, n, t_range_of(loop_a), got, NULL) != na ||
	    memcmp(got, ref_a, na * sizeof(*got)))
		t_fail("%s: loop_a's PCs differ from an ordered trace's", what);
	if (want_b && (distinct(trace, n, t_range_of(loop_b), got, NULL) != nb ||
		       memcmp(got, ref_b, nb * sizeof(*got))))
		t_fail("%s: loop_b's PCs differ from an ordered trace's", what);
}

static void *local_unique(void *p)
{
	unsigned long *got = malloc(TRACE * sizeof(*got));
	unsigned long *na = p, n;
	struct t_kcov k;

	t_assert(got);
	t_kcov_open(&k, WORDS);
	t_expect_ok(ukcov_ioctl(k.fd, KCOV_UNIQUE_ENABLE, (unsigned long)BITMAP));
	loop_a(10000);
	n = __atomic_load_n(&k.area[BITMAP], __ATOMIC_ACQUIRE);
	t_expect_ok(ukcov_ioctl(k.fd, KCOV_DISABLE, 0));
	if (distinct(k.area + BITMAP, n, t_range_of(loop_a), got, NULL) != *na)
		t_fail("a thread's own unique trace misses loop_a's PCs");
	free(got);
	t_kcov_close(&k);
	return NULL;
}

int main(void)
{
	static unsigned long ref_a[TRACE], ref_b[TRACE];
	struct ue u1, u2;
	struct ukcov_stats st;
	unsigned long na, nb;
	pthread_t t[THREADS];
	int i;

	/* Whole pages: kcov maps only an area of whole pages. */
	bitmap_words = ((ukcov_unique_bits() + 63) / 64 + 511) & ~511ul;
	nb = reference(ref_a, &na, ref_b);
	t_assert(na >= 3 && nb >= 2);

	t_actor_start(&owner1);
	t_actor_start(&owner2);
	t_kcov_open(&own1, WORDS);
	t_kcov_open(&own2, WORDS);
	u1.fd = own1.fd;
	u1.h = H1;
	u2.fd = own2.fd;
	u2.h = H2;
	t_assert(t_actor_call(&owner1, unique_register, &u1) == 0);
	t_assert(t_actor_call(&owner2, unique_register, &u2) == 0);

	/* Flat sections from 4 threads. */
	run_workers();
	check_owner("owner 1", own1.area + BITMAP, ref_a, na, ref_b, nb, true);
	t_expect_ok(ukcov_get_stats(own1.fd, &st));
	if (st.entries_dropped)
		t_fail("%lu entries dropped from 31-pair section buffers",
		       st.entries_dropped);
	t_assert(st.sections_appended == THREADS * 200);

	/* Reset: everything comes again, once; nested sections for owner 2
	 * get loop_a although owner 1's sections ran it first. */
	t_assert(t_actor_ioctl(&owner1, own1.fd, KCOV_RESET_TRACE, 0) == 0);
	t_assert(__atomic_load_n(&own1.area[BITMAP], __ATOMIC_ACQUIRE) == 0);
	phase = 1;
	run_workers();
	check_owner("owner 1 after its reset", own1.area + BITMAP, ref_a, na,
		    ref_b, nb, true);
	check_owner("owner 2 (nested)", own2.area + BITMAP, ref_a, na, ref_b,
		    nb, false);

	/* Threads collecting for themselves: each sees every PC. */
	for (i = 0; i < THREADS; i++)
		pthread_create(&t[i], NULL, local_unique, &na);
	for (i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);

	t_assert(t_actor_ioctl(&owner1, own1.fd, KCOV_DISABLE, 0) == 0);
	t_assert(t_actor_ioctl(&owner2, own2.fd, KCOV_DISABLE, 0) == 0);
	t_actor_stop(&owner1);
	t_actor_stop(&owner2);
	return T_EXIT_PASS;
}
