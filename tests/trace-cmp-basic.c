// SPDX-License-Identifier: MIT
/*
 * trace-cmp records (reference §1.5, §3.2; spec §3.1): in KCOV_TRACE_CMP
 * mode word 0 counts records of 4 u64 words (type, arg1, arg2, ip).
 *  - Compiler-emitted comparisons of 1, 2, 4 and 8 bytes give type
 *    KCOV_CMP_SIZE(n), with KCOV_CMP_CONST when one side is a constant
 *    (either order accepted, both values checked), a switch gives one CONST
 *    record per case (arg1 the case, arg2 the operand), and ip lies inside
 *    the function that compared.
 *  - Direct calls of every callback pin the exact type word, argument
 *    placement, zero extension and the ip; __sanitizer_cov_trace_switch with
 *    widths 8/16/32/64 and invalid widths (nothing recorded); cmpf/cmpd
 *    record the IEEE bit patterns with size 2/3 | UKCOV_CMP_FLOAT.
 *  - trace_pc records nothing in CMP mode, the cmp callbacks nothing in PC
 *    mode.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "helpers.h"

#define WORDS 4096ul

volatile int sink;
/*
 * Every target also touches this: a function with no side effect of its own
 * is "pure" to the optimizer (the coverage calls are inserted after that
 * analysis), which may then move the test's reset of the count across it.
 */
volatile unsigned long touched;

__attribute__((noinline)) int f1(uint8_t a, uint8_t b);
__attribute__((noinline)) int f1(uint8_t a, uint8_t b)
{
	touched++;
	return a < b ? 5 : 7;
}

__attribute__((noinline)) int f2(uint16_t a, uint16_t b);
__attribute__((noinline)) int f2(uint16_t a, uint16_t b)
{
	touched++;
	return a < b ? 5 : 7;
}

__attribute__((noinline)) int f4(uint32_t a, uint32_t b);
__attribute__((noinline)) int f4(uint32_t a, uint32_t b)
{
	touched++;
	return a < b ? 5 : 7;
}

__attribute__((noinline)) int f8(uint64_t a, uint64_t b);
__attribute__((noinline)) int f8(uint64_t a, uint64_t b)
{
	touched++;
	return a < b ? 5 : 7;
}

__attribute__((noinline)) int k1(uint8_t a);
__attribute__((noinline)) int k1(uint8_t a)
{
	touched++;
	return a == 0x5a ? 5 : 7;
}

__attribute__((noinline)) int k2(uint16_t a);
__attribute__((noinline)) int k2(uint16_t a)
{
	touched++;
	return a == 0x5a5b ? 5 : 7;
}

__attribute__((noinline)) int k4(uint32_t a);
__attribute__((noinline)) int k4(uint32_t a)
{
	touched++;
	return a == 0x12345678u ? 5 : 7;
}

__attribute__((noinline)) int k8(uint64_t a);
__attribute__((noinline)) int k8(uint64_t a)
{
	touched++;
	return a == 0x123456789abcull ? 5 : 7;
}

__attribute__((noinline)) void case_a(void);
__attribute__((noinline)) void case_a(void)
{
	sink = 1;
}

__attribute__((noinline)) void case_b(void);
__attribute__((noinline)) void case_b(void)
{
	sink = 2;
}

__attribute__((noinline)) void case_c(void);
__attribute__((noinline)) void case_c(void)
{
	sink = 3;
}

__attribute__((noinline)) void case_d(void);
__attribute__((noinline)) void case_d(void)
{
	sink = 4;
}

/* Calls in every case keep the compilers from turning it into a table. */
__attribute__((noinline)) void sw(uint32_t x);
__attribute__((noinline)) void sw(uint32_t x)
{
	switch (x) {
	case 3:
		case_a();
		break;
	case 17:
		case_b();
		break;
	case 1000:
		case_c();
		break;
	case 40000:
		case_d();
		break;
	default:
		sink = 0;
	}
}

#ifndef __clang__
/* gcc also instruments floating-point comparisons (clang does not). */
__attribute__((noinline)) int fd8(double a, double b);
__attribute__((noinline)) int fd8(double a, double b)
{
	touched++;
	return a < b ? 5 : 7;
}
#endif

static struct t_kcov k;

static uint64_t *rec(unsigned long i)
{
	return (uint64_t *)k.area + 1 + i * KCOV_WORDS_PER_CMP;
}

/*
 * Number of records of type t whose ip is inside fn and whose operands are
 * {a, b}: in this order, or in either order if any_order.
 */
static unsigned int find(uint64_t t, uint64_t a, uint64_t b, bool any_order,
			 const void *fn)
{
	uintptr_t lo = (uintptr_t)fn;
	size_t sz = t_func_size(fn);
	unsigned long i, n = t_count(&k);
	unsigned int hits = 0;

	t_assert(sz > 0);
	t_assert(n <= (WORDS - 1) / 4);
	for (i = 0; i < n; i++) {
		uint64_t *r = rec(i);

		if (r[0] != t || r[3] < lo || r[3] >= lo + sz)
			continue;
		if ((r[1] == a && r[2] == b) ||
		    (any_order && r[1] == b && r[2] == a))
			hits++;
	}
	return hits;
}

static void reset(void)
{
	__atomic_store_n(&k.area[0], 0, __ATOMIC_RELAXED);
}

/* Every record is well formed: a known type and an ip in the program. */
static void check_all_records(void)
{
	unsigned long i, n = t_count(&k);

	for (i = 0; i < n; i++) {
		uint64_t t = rec(i)[0];

		t_assert((t & ~(uint64_t)(KCOV_CMP_MASK | KCOV_CMP_CONST |
					  UKCOV_CMP_FLOAT)) == 0);
		t_assert(rec(i)[3] >= 4096);
	}
}

/* Direct calls: with no coverage of its own, only these calls record. */
struct direct {
	unsigned long n_cmp;	/* count after the comparison callbacks */
	unsigned long n_sw;	/* count after the valid switches */
	unsigned long n_bad;	/* count after the invalid switches */
	unsigned long n_pc;	/* count after a direct trace_pc */
};

T_NOCOV void direct_calls(struct direct *d, unsigned long *area);
T_NOCOV void direct_calls(struct direct *d, unsigned long *area)
{
	uint64_t c8[] = { 3, 8, 1, 0x7f, 0xff };
	uint64_t c16[] = { 2, 16, 0x100, 0xffff };
	uint64_t c32[] = { 1, 32, 0x80000000u };
	uint64_t c64[] = { 2, 64, 1ull << 63, 42 };
	uint64_t bad0[] = { 2, 0, 1, 2 };
	uint64_t bad7[] = { 2, 7, 1, 2 };
	uint64_t bad33[] = { 2, 33, 1, 2 };
	uint64_t bad128[] = { 2, 128, 1, 2 };
	uint64_t empty[] = { 0, 32 };

	__atomic_store_n(&area[0], 0, __ATOMIC_RELAXED);
	__sanitizer_cov_trace_cmp1(0xab, 0xcd);
	__sanitizer_cov_trace_cmp2(0xabcd, 0x1234);
	__sanitizer_cov_trace_cmp4(0xdeadbeefu, 0x12345678u);
	__sanitizer_cov_trace_cmp8(0x0123456789abcdefull, 0xfedcba9876543210ull);
	__sanitizer_cov_trace_const_cmp1(0x80, 0x01);
	__sanitizer_cov_trace_const_cmp2(0x8001, 0x0203);
	__sanitizer_cov_trace_const_cmp4(0x80000001u, 0x04050607u);
	__sanitizer_cov_trace_const_cmp8(0x8000000000000001ull, 0x08);
	__sanitizer_cov_trace_cmpf(-1.5f, -2.0f);
	__sanitizer_cov_trace_cmpd(1.5, -2.0);
	d->n_cmp = __atomic_load_n(&area[0], __ATOMIC_RELAXED);
	__sanitizer_cov_trace_switch(0x7f, c8);
	__sanitizer_cov_trace_switch(0x1234, c16);
	__sanitizer_cov_trace_switch(5, c32);
	__sanitizer_cov_trace_switch(~0ull, c64);
	d->n_sw = __atomic_load_n(&area[0], __ATOMIC_RELAXED);
	__sanitizer_cov_trace_switch(1, bad0);
	__sanitizer_cov_trace_switch(1, bad7);
	__sanitizer_cov_trace_switch(1, bad33);
	__sanitizer_cov_trace_switch(1, bad128);
	__sanitizer_cov_trace_switch(1, empty);
	d->n_bad = __atomic_load_n(&area[0], __ATOMIC_RELAXED);
	__sanitizer_cov_trace_pc();
	d->n_pc = __atomic_load_n(&area[0], __ATOMIC_RELAXED);
}

struct expect {
	uint64_t type, a1, a2;
};

static void check_direct(void)
{
	static const struct expect want[] = {
		{ KCOV_CMP_SIZE(0), 0xab, 0xcd },
		{ KCOV_CMP_SIZE(1), 0xabcd, 0x1234 },
		{ KCOV_CMP_SIZE(2), 0xdeadbeef, 0x12345678 },
		{ KCOV_CMP_SIZE(3), 0x0123456789abcdefull,
		  0xfedcba9876543210ull },
		{ KCOV_CMP_SIZE(0) | KCOV_CMP_CONST, 0x80, 0x01 },
		{ KCOV_CMP_SIZE(1) | KCOV_CMP_CONST, 0x8001, 0x0203 },
		{ KCOV_CMP_SIZE(2) | KCOV_CMP_CONST, 0x80000001, 0x04050607 },
		{ KCOV_CMP_SIZE(3) | KCOV_CMP_CONST, 0x8000000000000001ull, 8 },
		/* IEEE-754 bit patterns of -1.5f, -2.0f and 1.5, -2.0. */
		{ KCOV_CMP_SIZE(2) | UKCOV_CMP_FLOAT, 0xbfc00000, 0xc0000000 },
		{ KCOV_CMP_SIZE(3) | UKCOV_CMP_FLOAT, 0x3ff8000000000000ull,
		  0xc000000000000000ull },
		/* Switches: one CONST record per case, arg2 the operand. */
		{ KCOV_CMP_SIZE(0) | KCOV_CMP_CONST, 1, 0x7f },
		{ KCOV_CMP_SIZE(0) | KCOV_CMP_CONST, 0x7f, 0x7f },
		{ KCOV_CMP_SIZE(0) | KCOV_CMP_CONST, 0xff, 0x7f },
		{ KCOV_CMP_SIZE(1) | KCOV_CMP_CONST, 0x100, 0x1234 },
		{ KCOV_CMP_SIZE(1) | KCOV_CMP_CONST, 0xffff, 0x1234 },
		{ KCOV_CMP_SIZE(2) | KCOV_CMP_CONST, 0x80000000, 5 },
		{ KCOV_CMP_SIZE(3) | KCOV_CMP_CONST, 1ull << 63, ~0ull },
		{ KCOV_CMP_SIZE(3) | KCOV_CMP_CONST, 42, ~0ull },
	};
	const unsigned long nwant = sizeof(want) / sizeof(want[0]);
	uintptr_t lo = (uintptr_t)direct_calls;
	size_t sz = t_func_size(direct_calls);
	struct direct d;
	unsigned long i;

	t_assert(sz > 0);
	t_expect_ok(ukcov_ioctl(k.fd, KCOV_ENABLE, KCOV_TRACE_CMP));
	direct_calls(&d, k.area);
	t_expect_ok(ukcov_ioctl(k.fd, KCOV_DISABLE, 0));
	t_assert(d.n_cmp == 10);
	t_assert(d.n_sw == nwant);
	t_assert(d.n_bad == nwant);	/* invalid widths: nothing */
	t_assert(d.n_pc == nwant);	/* trace_pc: nothing in CMP mode */
	for (i = 0; i < nwant; i++) {
		const uint64_t *r = (const uint64_t *)k.area + 1 + 4 * i;

		if (r[0] != want[i].type || r[1] != want[i].a1 ||
		    r[2] != want[i].a2)
			t_fail("record %lu: {%#llx, %#llx, %#llx}, want "
			       "{%#llx, %#llx, %#llx}",
			       i, (unsigned long long)r[0],
			       (unsigned long long)r[1],
			       (unsigned long long)r[2],
			       (unsigned long long)want[i].type,
			       (unsigned long long)want[i].a1,
			       (unsigned long long)want[i].a2);
		t_assert(r[3] >= lo && r[3] < lo + sz);
	}
	/* The records of one switch call share its ip; calls differ. */
	t_assert(rec(10)[3] == rec(11)[3] && rec(11)[3] == rec(12)[3]);
	t_assert(rec(13)[3] == rec(14)[3]);
	t_assert(rec(16)[3] == rec(17)[3]);
	t_assert(rec(0)[3] != rec(1)[3] && rec(12)[3] != rec(13)[3]);

	/* PC mode: the comparison callbacks record nothing, trace_pc one PC. */
	t_expect_ok(ukcov_ioctl(k.fd, KCOV_ENABLE, KCOV_TRACE_PC));
	direct_calls(&d, k.area);
	t_expect_ok(ukcov_ioctl(k.fd, KCOV_DISABLE, 0));
	t_assert(d.n_cmp == 0 && d.n_sw == 0 && d.n_bad == 0);
	t_assert(d.n_pc == 1);
	t_assert(k.area[1] >= lo && k.area[1] < lo + sz);
}

int main(void)
{
	static const uint32_t cases[] = { 3, 17, 1000, 40000 };
	uint64_t sz2 = KCOV_CMP_SIZE(2) | KCOV_CMP_CONST;
	unsigned int i, hits;

	t_kcov_open(&k, WORDS);
	t_assert(KCOV_CMP_SIZE(3) == KCOV_CMP_MASK && UKCOV_CMP_FLOAT == 8);

	/* Compiler-emitted comparisons. */
	t_expect_ok(ukcov_ioctl(k.fd, KCOV_ENABLE, KCOV_TRACE_CMP));
	reset();
	sink = f1(0x12, 0xe4);
	t_assert(find(KCOV_CMP_SIZE(0), 0x12, 0xe4, true, f1) == 1);
	reset();
	sink = f2(0x1234, 0xfedc);
	t_assert(find(KCOV_CMP_SIZE(1), 0x1234, 0xfedc, true, f2) == 1);
	reset();
	sink = f4(0x12345678u, 0xfedcba98u);
	t_assert(find(KCOV_CMP_SIZE(2), 0x12345678, 0xfedcba98, true, f4) ==
		 1);
	reset();
	sink = f8(0x123456789abcdef0ull, 0xfedcba9876543210ull);
	t_assert(find(KCOV_CMP_SIZE(3), 0x123456789abcdef0ull,
		      0xfedcba9876543210ull, true, f8) == 1);
	check_all_records();

	/* Constants: CONST bit; the compilers pass the constant as arg1. */
	reset();
	sink = k1(0x33);
	t_assert(find(KCOV_CMP_SIZE(0) | KCOV_CMP_CONST, 0x5a, 0x33, true,
		      k1) == 1);
	reset();
	sink = k2(0x3344);
	t_assert(find(KCOV_CMP_SIZE(1) | KCOV_CMP_CONST, 0x5a5b, 0x3344, true,
		      k2) == 1);
	reset();
	sink = k4(0x33445566u);
	t_assert(find(sz2, 0x12345678, 0x33445566, true, k4) == 1);
	reset();
	sink = k8(0x3344556677ull);
	t_assert(find(KCOV_CMP_SIZE(3) | KCOV_CMP_CONST, 0x123456789abcull,
		      0x3344556677ull, true, k8) == 1);
	check_all_records();

	/* A switch: one CONST record per case, arg1 the case, arg2 x. */
	reset();
	sw(17);
	for (i = 0; i < 4; i++)
		t_assert(find(sz2, cases[i], 17, false, sw) == 1);
	reset();
	sw(12345);
	for (i = 0; i < 4; i++)
		t_assert(find(sz2, cases[i], 12345, false, sw) == 1);
	check_all_records();

#ifndef __clang__
	reset();
	sink = fd8(1.5, -2.0);
	hits = find(KCOV_CMP_SIZE(3) | UKCOV_CMP_FLOAT, 0x3ff8000000000000ull,
		    0xc000000000000000ull, true, fd8);
	t_assert(hits >= 1);
#endif
	(void)hits;

	/* Disabled: nothing more. */
	t_expect_ok(ukcov_ioctl(k.fd, KCOV_DISABLE, 0));
	reset();
	sink = f4(1, 2);
	sw(3);
	t_assert(t_count(&k) == 0);

	/* In PC mode the same code records PCs, never comparison records:
	 * every entry is a PC in the program, never a type word. */
	t_expect_ok(ukcov_ioctl(k.fd, KCOV_ENABLE, KCOV_TRACE_PC));
	reset();
	sink = f4(1, 2);
	sink = k8(5);
	sw(40000);
	t_expect_ok(ukcov_ioctl(k.fd, KCOV_DISABLE, 0));
	t_assert(t_count(&k) > 0);
	for (i = 0; i < t_count(&k); i++)
		t_assert(k.area[1 + i] >= 4096);
	t_assert(t_has_pc_in(&k, (uintptr_t)sw,
			     (uintptr_t)sw + t_func_size(sw)));

	check_direct();
	t_kcov_close(&k);
	return T_EXIT_PASS;
}
