// SPDX-License-Identifier: MIT
/*
 * Remote appends are truncated to the owner's free space (Linux's
 * kcov_move_area): with a 512-word owner area, sections appending more than
 * fits stop the count at 511 PCs (127 records in CMP mode) and leave the
 * earlier entries intact; a full area takes nothing more.  The owner's mode
 * applies to the section, whatever the worker thread collects locally.  A
 * count scribbled at or above capacity drops whole sections, count
 * unchanged and no word of the area written.
 */
#include <errno.h>
#include <string.h>

#include "helpers.h"

#define HPC (UKCOV_SUBSYSTEM_APP(10) | 1)
#define HCMP (UKCOV_SUBSYSTEM_APP(10) | 2)
#define WORDS 512
#define CMP_MAGIC 0x5a5a1234u

volatile long sink;
volatile unsigned int vcmp;

/* At least one PC per call, whatever the compiler does to the branch. */
__attribute__((noinline)) void pc_leaf(long i);
__attribute__((noinline)) void pc_leaf(long i)
{
	if (i & 1)
		sink += i;
	else
		sink ^= i;
}

/* At least one PC per iteration (clang unrolls and if-converts plain
 * loops into a handful of blocks). */
__attribute__((noinline)) void many_pcs(long n);
__attribute__((noinline)) void many_pcs(long n)
{
	long i;

	for (i = 0; i < n; i++)
		pc_leaf(i);
}

static struct t_range r_leaf;

/* Entries in many_pcs or pc_leaf. */
static unsigned long count_pcs(const struct t_kcov *k, struct t_range r)
{
	return t_count_in(k, r) + t_count_in(k, r_leaf);
}

/* One 4-byte comparison of two variables per iteration, plus the loop's. */
__attribute__((noinline)) void many_cmps(unsigned int n);
__attribute__((noinline)) void many_cmps(unsigned int n)
{
	unsigned int i;
	long s = 0;

	for (i = 0; i < n; i++) {
		if (vcmp == i)
			s++;
	}
	sink = s;
}

static void section_pcs(long n)
{
	ukcov_remote_start(HPC);
	many_pcs(n);
	ukcov_remote_stop();
}

static void section_cmps(unsigned int n)
{
	ukcov_remote_start(HCMP);
	many_cmps(n);
	ukcov_remote_stop();
}

static void pc_mode(struct t_actor *owner, struct t_range r)
{
	unsigned long snap[WORDS], first, i;
	struct t_kcov k;

	t_kcov_open(&k, WORDS);
	t_expect_ok(t_actor_remote_enable(owner, k.fd, KCOV_TRACE_PC, 8192, 0,
					  1, (const uint64_t[]){ HPC }));
	t_set_count(&k, 0);

	/* A small section fits whole. */
	section_pcs(10);
	first = t_count(&k);
	t_assert(first >= 10 && first < 100);
	t_assert(count_pcs(&k, r) >= 10);
	memcpy(snap, k.area, sizeof(snap));

	/* A big one (thousands of PCs, fits its own buffer) is truncated. */
	section_pcs(2000);
	t_assert(t_count(&k) == WORDS - 1);
	t_assert(!memcmp(snap + 1, k.area + 1, first * sizeof(long)));
	for (i = first + 1; i < WORDS; i++)
		t_assert(k.area[i] != 0);
	t_assert(count_pcs(&k, r) >= WORDS - 1 - 5);

	/* Full: nothing more, nothing overwritten. */
	memcpy(snap, k.area, sizeof(snap));
	section_pcs(10);
	section_pcs(2000);
	t_assert(t_count(&k) == WORDS - 1);
	t_assert(!memcmp(snap, k.area, sizeof(snap)));

	/* Scribbled counts at or above capacity drop the section. */
	t_set_count(&k, 5);
	section_pcs(2000);
	t_assert(t_count(&k) == WORDS - 1);
	memcpy(snap, k.area, sizeof(snap));
	for (i = WORDS - 1; i <= WORDS + 1; i++) {
		t_set_count(&k, i);
		section_pcs(10);
		t_assert(t_count(&k) == i);
		snap[0] = i;
		t_assert(!memcmp(snap, k.area, sizeof(snap)));
	}
	t_set_count(&k, ~0ul);
	section_pcs(10);
	t_assert(t_count(&k) == ~0ul);
	t_set_count(&k, 1ul << 61);
	section_pcs(10);
	t_assert(t_count(&k) == 1ul << 61);
	snap[0] = 1ul << 61;
	t_assert(!memcmp(snap, k.area, sizeof(snap)));

	/* Back in range: appends again from there. */
	t_set_count(&k, 0);
	section_pcs(10);
	t_assert(t_count(&k) >= 10 && t_count(&k) < 100);
	t_expect_ok(t_actor_ioctl(owner, k.fd, KCOV_DISABLE, 0));
	t_kcov_close(&k);
}

/* CMP mode: records of 4 words, 127 fit in 512 words. */
static void cmp_mode(struct t_actor *owner, struct t_range r,
		     struct t_range rpc)
{
	const unsigned long cap = (WORDS - 1) / KCOV_WORDS_PER_CMP;
	unsigned long snap[WORDS], first, i, hits = 0, before;
	struct t_kcov k, local;
	uint64_t *rec;

	t_assert(cap == 127);
	t_kcov_open(&k, WORDS);
	t_kcov_open(&local, 1 << 14);
	t_expect_ok(t_actor_remote_enable(owner, k.fd, KCOV_TRACE_CMP, 8192, 0,
					  1, (const uint64_t[]){ HCMP }));
	t_set_count(&k, 0);

	/* This thread collects PCs locally: the section still collects
	 * comparisons, in the owner's mode, and none of it lands locally. */
	t_expect_ok(ukcov_ioctl(local.fd, KCOV_ENABLE, KCOV_TRACE_PC));
	t_set_count(&local, 0);
	vcmp = CMP_MAGIC;
	many_pcs(1);
	section_cmps(5);
	before = count_pcs(&local, rpc);
	many_pcs(1);
	vcmp = 0;
	t_expect_ok(ukcov_ioctl(local.fd, KCOV_DISABLE, 0));
	/* The local trace resumed after the section, in PC mode, and holds
	 * nothing of the section. */
	t_assert(before > 0 && count_pcs(&local, rpc) > before);
	t_assert(t_count_in(&local, r) == 0);

	first = t_count(&k);
	t_assert(first >= 5 && first < 30);
	for (i = 0; i < first; i++) {
		rec = (uint64_t *)k.area + 1 + i * KCOV_WORDS_PER_CMP;
		t_assert((rec[0] & ~(uint64_t)(KCOV_CMP_MASK | KCOV_CMP_CONST |
					       UKCOV_CMP_FLOAT)) == 0);
		if (rec[0] == KCOV_CMP_SIZE(2) &&
		    (rec[1] == CMP_MAGIC || rec[2] == CMP_MAGIC) &&
		    t_in(r, rec[3]))
			hits++;
	}
	t_assert(hits == 5);
	memcpy(snap, k.area, sizeof(snap));

	/* More records than fit. */
	section_cmps(1000);
	t_assert(t_count(&k) == cap);
	t_assert(!memcmp(snap + 1, k.area + 1,
			 first * KCOV_WORDS_PER_CMP * sizeof(long)));
	for (i = first; i < cap; i++) {
		rec = (uint64_t *)k.area + 1 + i * KCOV_WORDS_PER_CMP;
		t_assert((rec[0] & ~(uint64_t)(KCOV_CMP_MASK |
					       KCOV_CMP_CONST)) == 0);
		t_assert(rec[3] != 0);
	}

	/* Full, then scribbled counts: dropped whole, count unchanged. */
	memcpy(snap, k.area, sizeof(snap));
	section_cmps(10);
	t_assert(t_count(&k) == cap);
	t_assert(!memcmp(snap, k.area, sizeof(snap)));
	for (i = cap; i <= cap + 2; i++) {
		t_set_count(&k, i);
		section_cmps(10);
		t_assert(t_count(&k) == i);
		snap[0] = i;
		t_assert(!memcmp(snap, k.area, sizeof(snap)));
	}
	/* 511 is a valid PC count but not a valid record count. */
	t_set_count(&k, WORDS - 1);
	section_cmps(10);
	t_assert(t_count(&k) == WORDS - 1);
	t_set_count(&k, ~0ul / 2);
	section_cmps(10);
	t_assert(t_count(&k) == ~0ul / 2);
	snap[0] = ~0ul / 2;
	t_assert(!memcmp(snap, k.area, sizeof(snap)));

	t_expect_ok(t_actor_ioctl(owner, k.fd, KCOV_DISABLE, 0));
	t_kcov_close(&local);
	t_kcov_close(&k);
}

int main(void)
{
	struct t_actor owner;

	r_leaf = t_range_of(pc_leaf);
	t_actor_start(&owner);
	pc_mode(&owner, t_range_of(many_pcs));
	cmp_mode(&owner, t_range_of(many_cmps), t_range_of(many_pcs));
	t_actor_stop(&owner);
	return T_EXIT_PASS;
}
