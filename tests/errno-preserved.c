// SPDX-License-Identifier: MIT
/*
 * The callbacks preserve errno (spec §3.6).  errno is set to a sentinel,
 * instrumented code that calls nothing but the callbacks runs (branches,
 * 1/2/4/8-byte comparisons, constant comparisons, a switch, float and
 * double comparisons), and errno must still be the sentinel: when nothing
 * collects, when trace-pc or trace-cmp collects (and the entries do land),
 * when the area is full (the count stays put), when word 0 holds a garbage
 * count, and after DISABLE.  Every callback is also called directly, one at
 * a time, with the exact records checked in trace-cmp mode.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "helpers.h"

#define WORDS 4096
#define PC_CAP (WORDS - 1)
#define CMP_CAP ((WORDS - 1) / 4)

volatile int sink;
/* Operands through volatiles: the comparisons below are not constant. */
volatile uint8_t v8 = 3;
volatile uint16_t v16 = 300;
volatile uint32_t v32 = 70000;
volatile uint64_t v64 = 5000000000ull;
volatile float vf = 1.5f;
volatile double vd = 2.5;

/* Instrumented; calls nothing but the coverage callbacks. */
__attribute__((noinline)) int work(int x);
__attribute__((noinline)) int work(int x)
{
	uint8_t a8 = v8;
	uint16_t a16 = v16;
	uint32_t a32 = v32;
	uint64_t a64 = v64;
	float f = vf;
	double d = vd;
	int r = 0;

	if (a8 == (uint8_t)x)
		r += 1;
	if (a16 < (uint16_t)(x * 100))
		r += 2;
	if (a32 > (uint32_t)x * 1000)
		r += 4;
	if (a64 != (uint64_t)x * 7)
		r += 8;
	if (x > 17)
		r += 16;
	if (f < (float)x)
		r += 32;
	if (d > (double)x)
		r += 64;
	switch (x) {
	case 1:
		r += 100;
		break;
	case 5:
		r += 200;
		break;
	case 9:
		r += 300;
		break;
	case 42:
		r += 400;
		break;
	case 77:
		r += 500;
		break;
	default:
		r -= 1;
		break;
	}
	return r;
}

static const int sentinels[] = { 0x5a5a, 0, EAGAIN };

/* Run work() with errno at each sentinel; it must come back unchanged. */
static void run_work(const char *what)
{
	unsigned int i;

	for (i = 0; i < sizeof(sentinels) / sizeof(sentinels[0]); i++) {
		int e;

		errno = sentinels[i];
		sink = work((int)i * 4 + 1);
		sink = work(42);
		e = errno;
		if (e != sentinels[i])
			t_fail("%s: errno %d after instrumented code, want %d",
			       what, e, sentinels[i]);
	}
}

/* Check errno around one direct call: the sentinel must survive. */
#define CALL(what, call)                                                       \
	do {                                                                   \
		int e_;                                                        \
		errno = 0x5a5a;                                                \
		call;                                                          \
		e_ = errno;                                                    \
		if (e_ != 0x5a5a)                                              \
			t_fail("%s: %s changed errno to %d", what, #call, e_); \
	} while (0)

/*
 * Every callback, called directly from a function that has no coverage
 * callbacks of its own, so that the records are exactly these.
 */
T_NOCOV void call_all(const char *what);
T_NOCOV void call_all(const char *what)
{
	uint64_t cases[] = { 3, 32, 1, 7, 100 };

	CALL(what, __sanitizer_cov_trace_pc());
	CALL(what, __sanitizer_cov_trace_cmp1(1, 2));
	CALL(what, __sanitizer_cov_trace_cmp2(3, 4));
	CALL(what, __sanitizer_cov_trace_cmp4(5, 6));
	CALL(what, __sanitizer_cov_trace_cmp8(7, 8));
	CALL(what, __sanitizer_cov_trace_const_cmp1(9, 10));
	CALL(what, __sanitizer_cov_trace_const_cmp2(11, 12));
	CALL(what, __sanitizer_cov_trace_const_cmp4(13, 14));
	CALL(what, __sanitizer_cov_trace_const_cmp8(15, 16));
	CALL(what, __sanitizer_cov_trace_cmpf(1.0f, 2.0f));
	CALL(what, __sanitizer_cov_trace_cmpd(3.0, 4.0));
	CALL(what, __sanitizer_cov_trace_switch(7, cases));
}

/*
 * Reset the count, call every callback, return the count: with no
 * instrumented code in between, the count is exactly call_all()'s.
 */
T_NOCOV unsigned long measure(struct t_kcov *k, const char *what);
T_NOCOV unsigned long measure(struct t_kcov *k, const char *what)
{
	__atomic_store_n(&k->area[0], 0, __ATOMIC_RELAXED);
	call_all(what);
	return t_count(k);
}

/* Records call_all() makes in trace-cmp mode: 10 comparisons + 3 cases. */
#define CMP_RECORDS 13

static void check_cmp_records(const struct t_kcov *k, unsigned long n)
{
	static const uint64_t want[CMP_RECORDS][3] = {
		{ KCOV_CMP_SIZE(0), 1, 2 },
		{ KCOV_CMP_SIZE(1), 3, 4 },
		{ KCOV_CMP_SIZE(2), 5, 6 },
		{ KCOV_CMP_SIZE(3), 7, 8 },
		{ KCOV_CMP_SIZE(0) | KCOV_CMP_CONST, 9, 10 },
		{ KCOV_CMP_SIZE(1) | KCOV_CMP_CONST, 11, 12 },
		{ KCOV_CMP_SIZE(2) | KCOV_CMP_CONST, 13, 14 },
		{ KCOV_CMP_SIZE(3) | KCOV_CMP_CONST, 15, 16 },
		{ 0, 0, 0 },	/* cmpf: checked by size only */
		{ 0, 0, 0 },	/* cmpd: checked by size only */
		{ KCOV_CMP_SIZE(2) | KCOV_CMP_CONST, 1, 7 },
		{ KCOV_CMP_SIZE(2) | KCOV_CMP_CONST, 7, 7 },
		{ KCOV_CMP_SIZE(2) | KCOV_CMP_CONST, 100, 7 },
	};
	const uint64_t *a = (const uint64_t *)k->area;
	int i;

	if (n != CMP_RECORDS)
		t_fail("direct calls made %lu records, want %d", n,
		       CMP_RECORDS);
	for (i = 0; i < CMP_RECORDS; i++) {
		const uint64_t *rec = a + 1 + 4 * i;

		if (i == 8 || i == 9) {
			t_assert((rec[0] & KCOV_CMP_MASK) ==
				 (uint64_t)KCOV_CMP_SIZE(i == 8 ? 2 : 3));
			continue;
		}
		if (rec[0] != want[i][0] || rec[1] != want[i][1] ||
		    rec[2] != want[i][2])
			t_fail("record %d: {%#llx, %llu, %llu}, want {%#llx, "
			       "%llu, %llu}", i, (unsigned long long)rec[0],
			       (unsigned long long)rec[1],
			       (unsigned long long)rec[2],
			       (unsigned long long)want[i][0],
			       (unsigned long long)want[i][1],
			       (unsigned long long)want[i][2]);
	}
}

static void set_count(struct t_kcov *k, unsigned long n)
{
	__atomic_store_n(&k->area[0], n, __ATOMIC_RELAXED);
}

static void mode_checks(struct t_kcov *k, bool cmp)
{
	const char *m = cmp ? "trace-cmp" : "trace-pc";
	unsigned long cap = cmp ? CMP_CAP : PC_CAP;
	static const unsigned long garbage[] = {
		~0ul, 1ul << 62, (1ul << 62) + 1, ~0ul / 4, WORDS,
	};
	char what[96];
	unsigned long n;
	unsigned int i;

	t_expect_ok(ukcov_ioctl(k->fd, KCOV_ENABLE,
				cmp ? KCOV_TRACE_CMP : KCOV_TRACE_PC));
	/* Collecting, with room: entries land, errno stays. */
	set_count(k, 0);
	snprintf(what, sizeof(what), "%s collecting", m);
	run_work(what);
	t_assert(t_count(k) > 0);

	n = measure(k, what);
	if (cmp)
		check_cmp_records(k, n);
	else if (n != 1) /* only trace_pc records in this mode */
		t_fail("direct calls made %lu PCs, want 1", n);

	/* Full: the count stays at capacity. */
	set_count(k, cap);
	snprintf(what, sizeof(what), "%s, area full", m);
	run_work(what);
	call_all(what);
	t_assert(t_count(k) == cap);

	/* A count user code scribbled: nothing written, errno kept. */
	for (i = 0; i < sizeof(garbage) / sizeof(garbage[0]); i++) {
		if (!cmp && garbage[i] == ~0ul)
			continue; /* Linux writes area[0] here: bounded */
		set_count(k, garbage[i]);
		snprintf(what, sizeof(what), "%s, count %#lx", m, garbage[i]);
		run_work(what);
		call_all(what);
		t_assert(t_count(k) == garbage[i]);
	}

	t_expect_ok(ukcov_ioctl(k->fd, KCOV_DISABLE, 0));
	set_count(k, 0);
	snprintf(what, sizeof(what), "%s disabled", m);
	run_work(what);
	call_all(what);
	t_assert(t_count(k) == 0);
}

int main(void)
{
	struct t_kcov k;

	/* Nothing enabled anywhere yet, then a READY kcov. */
	run_work("no kcov");
	call_all("no kcov");
	t_kcov_open(&k, WORDS);
	run_work("READY kcov");
	call_all("READY kcov");
	t_assert(t_count(&k) == 0);

	mode_checks(&k, false);
	mode_checks(&k, true);
	t_kcov_close(&k);
	return T_EXIT_PASS;
}
