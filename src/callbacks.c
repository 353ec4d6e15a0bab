// SPDX-License-Identifier: MIT
/*
 * The compiler's coverage callbacks: the hot path.
 *
 * Built without -fsanitize-coverage and without any sanitizer or stack
 * protector (the Makefile's HOT_FLAGS), and every function carries UKCOV_NOCOV,
 * so nothing here calls back into coverage.  The callbacks read the calling
 * thread's ukcov_gen and nothing else; they never allocate, lock, print,
 * make system calls or touch errno (tests/lint/callbacks-lint.sh checks this
 * file, tests/lint/no-self-instrumentation.sh the built library).
 *
 * Order inside a callback, against a signal handler that interrupts it and
 * records too (with its own feed: it saves and restores ukcov_gen):
 *   1. read the mode; barrier; then the area and capacity (pairs with the
 *      stores-then-barrier-then-mode in __ukcov_gen_start);
 *   2. bound the count read from word 0 against the capacity *before* any
 *      arithmetic on it: user code may have written anything there;
 *   3. store the entry, then publish count + 1 (a release store: a plain
 *      store on x86), so that whoever reads the count (the thread itself
 *      after a signal handler left it by longjmp, another thread flushing
 *      its sections at the process's end, a reader of its area) finds
 *      every counted entry written.  Linux publishes the count first (its
 *      2022 fix) because an interrupt may append to the buffer it
 *      interrupted; here a handler never feeds what it interrupts (it
 *      saves the feed and starts with none), so no writer re-enters.
 */
#include "internal.h"

#define NOCOV_HOT UKCOV_API UKCOV_NOCOV __attribute__((hot))
#define NOCOV_INLINE UKCOV_NOCOV __attribute__((always_inline)) static inline

/* 8-byte operands: the compiler passes them as unsigned long on LP64. */
typedef unsigned long ukcov_u64;

/* Every callback, in the form the compilers call it. */
void __sanitizer_cov_trace_pc(void);
void __sanitizer_cov_trace_pc_guard(uint32_t *guard);
void __sanitizer_cov_trace_cmp1(uint8_t a, uint8_t b);
void __sanitizer_cov_trace_cmp2(uint16_t a, uint16_t b);
void __sanitizer_cov_trace_cmp4(uint32_t a, uint32_t b);
void __sanitizer_cov_trace_cmp8(ukcov_u64 a, ukcov_u64 b);
void __sanitizer_cov_trace_const_cmp1(uint8_t a, uint8_t b);
void __sanitizer_cov_trace_const_cmp2(uint16_t a, uint16_t b);
void __sanitizer_cov_trace_const_cmp4(uint32_t a, uint32_t b);
void __sanitizer_cov_trace_const_cmp8(ukcov_u64 a, ukcov_u64 b);
void __sanitizer_cov_trace_cmpf(float a, float b);
void __sanitizer_cov_trace_cmpd(double a, double b);
void __sanitizer_cov_trace_switch(ukcov_u64 val, ukcov_u64 *cases);

/*
 * The mode is read with a plain load, exactly once per callback, so that the
 * compilers fold it into the comparison (cmpq $2, %fs:...): an atomic or
 * volatile load costs a separate instruction on the path every uncollected
 * callback takes.  The barrier() that follows keeps the area and capacity
 * loads after it; an aligned word load is single-copy atomic on every
 * supported target.
 */
#define MODE_OF(g) ((g)->mode)
#define PCMODE_OF(g) ((g)->pcmode)

#define RET_IP() ((unsigned long)__builtin_return_address(0))

/*
 * The thread state lives here, next to its hottest readers: in the static
 * library (built -fPIE) the compiler then reaches it with local-exec TLS, a
 * single %fs-relative access; in the shared one initial-exec is one load of
 * the offset more.  UKCOV_TLS_MODEL is set by src/Makefile.
 */
__thread struct ukcov_thread __ukcov_cur
	__attribute__((tls_model(UKCOV_TLS_MODEL))) hidden;

/*
 * The static library: a program that calls nothing of ukcov's but the
 * callbacks links only this object from the archive.  This reference pulls
 * in the initialisation (its constructor, ukcov-run's collector, the
 * routes) with it.
 */
__attribute__((used)) static void (*const keep_init)(void) = __ukcov_init;

/* The trace-pc modules' ranges (unique.c writes them; here so that this
 * object refers to nothing outside itself). */
struct ukcov_pcmap __ukcov_pcmap[UKCOV_PCMAP_MAX];
unsigned int __ukcov_pcmap_n;
uint8_t *__ukcov_zero_map;

/* The cold path: the area is full (or its count was scribbled over). */
NOCOV_INLINE void note_drop(struct ukcov_gen *g)
{
	unsigned long *d = g->dropped;

	if (d)
		WRITE_ONCE(*d, READ_ONCE(*d) + 1);
}

/*
 * Unique mode, the first hit of index x since the reset (its byte in
 * g->map was 0), or index 0 (none: appended at every hit, as Linux
 * appends an index it cannot mark).
 *
 * UNIQUE_PC, a thread's own kcov: mark x in the kcov's map, log it (a
 * reset clears what was logged), mirror it in the program's bitmap, and
 * append the PC.  Only the bound thread runs this for its kcov (a handler
 * never feeds it), so plain stores do.  A PC that does not fit is dropped
 * and x left unmarked, to be found new after the reset.
 *
 * UNIQUE_SEC, a remote section for an owner in unique mode: append the
 * pair (PC, x) to the section's buffer, and mark x in the section's own
 * map if it has one (not the read-only zero map of a RAW feed); the stop
 * merges the pairs into the owner's trace (unique.c).
 */
NOCOV_INLINE void unique_first(struct ukcov_gen *g, unsigned long x,
			       unsigned long pc)
{
	/* Read again: the hot path then compares the mode in memory. */
	unsigned long mode = READ_ONCE(g->mode);
	unsigned long *area = g->area, count;

	count = READ_ONCE(area[0]);
	if (unlikely(count >= g->cap)) {
		note_drop(g);
		return;
	}
	if (mode == UKCOV_MODE_UNIQUE_PC) {
		struct ukcov_uniq *u = &g->kcov->u;

		if (likely(x)) {
			unsigned long n = u->logn;

			g->map[x] = 1;
			if (likely(n < u->logcap))
				u->log[n] = (uint32_t)x;
			u->logn = n + 1;
			if (x < u->nbits)
				u->bitmap[x / 64] |= 1ul << (x % 64);
		}
		area[count + 1] = pc;
		smp_store_release(&area[0], count + 1);
		return;
	}
	if (x && g->map != __ukcov_zero_map)
		g->map[x] = 1;
	area[1 + count * UKCOV_WORDS_PER_PAIR] = pc;
	area[2 + count * UKCOV_WORDS_PER_PAIR] = x;
	smp_store_release(&area[0], count + 1);
}

/* A PC's index in the trace-pc modules' ranges, or 0. */
NOCOV_INLINE unsigned long pc_index(unsigned long pc)
{
	const struct ukcov_pcmap *m = __ukcov_pcmap;
	uintptr_t len = __atomic_load_n(&m->len, __ATOMIC_ACQUIRE);
	uintptr_t off = pc - m->lo;
	unsigned int i, n;

	if (likely(off < len))
		return m->base + (off >> UKCOV_PC_SHIFT);
	n = __atomic_load_n(&__ukcov_pcmap_n, __ATOMIC_ACQUIRE);
	for (i = 1; i < n && i < UKCOV_PCMAP_MAX; i++) {
		m = &__ukcov_pcmap[i];
		len = __atomic_load_n(&m->len, __ATOMIC_ACQUIRE);
		off = pc - m->lo;
		if (off < len)
			return m->base + (off >> UKCOV_PC_SHIFT);
	}
	return 0;
}

/*
 * Append one PC to an ordered trace (mode read, barrier passed).  The
 * unique modes reach the cold branch at every hit (pccap 0, see
 * struct ukcov_gen): the PC's index is tested there, so that the ordered
 * path is the same instructions as without unique mode.
 */
NOCOV_INLINE void append_pc(struct ukcov_gen *g, unsigned long pc)
{
	unsigned long *area = g->area, count;

	count = READ_ONCE(area[0]);
	if (unlikely(count >= g->pccap)) {
		if (g->map) {
			unsigned long x = pc_index(pc);

			if (!g->map[x])
				unique_first(g, x, pc);
		} else {
			note_drop(g);
		}
		return;
	}
	area[count + 1] = pc;
	smp_store_release(&area[0], count + 1);
}

NOCOV_HOT void __sanitizer_cov_trace_pc(void)
{
	/*
	 * One address computation for the whole function: clang otherwise
	 * reloads the TLS offset for every field in a shared library.
	 */
	struct ukcov_gen *g = &__ukcov_cur.gen;

	/* Not collecting is the fall-through path: one compare in memory. */
	if (likely(PCMODE_OF(g) != UKCOV_MODE_TRACE_PC))
		return;
	barrier();
	append_pc(g, RET_IP());
}

/*
 * clang's trace-pc-guard: *guard is the call site's index (unique.c), so
 * unique mode, the mode this callback is for, tests one byte, first.  The
 * index is masked to the maps' size: a guard some other runtime numbered
 * cannot send the test out of the map.  The ordered mode records the PC,
 * as trace_pc does.
 */
NOCOV_HOT void __sanitizer_cov_trace_pc_guard(uint32_t *guard)
{
	struct ukcov_gen *g = &__ukcov_cur.gen;

	if (likely(MODE_OF(g) >= UKCOV_MODE_UNIQUE_PC)) {
		unsigned long x = *guard & (UKCOV_INDEX_LIMIT - 1);

		/* One register for x (gcc otherwise keeps copies of it). */
		__asm__("" : "+r"(x));
		barrier();
		if (likely(g->map[x]))
			return;
		unique_first(g, x, RET_IP());
		return;
	}
	/* Read again: the test above then compares the mode in memory. */
	if (READ_ONCE(g->mode) == UKCOV_MODE_TRACE_PC) {
		barrier();
		append_pc(g, RET_IP());
	}
}

/* Append one comparison record; ip is the callback's return address. */
NOCOV_INLINE void write_cmp(uint64_t type, uint64_t a1, uint64_t a2,
			    unsigned long ip)
{
	struct ukcov_gen *g = &__ukcov_cur.gen;
	uint64_t *area, count, *rec;

	if (likely(MODE_OF(g) != UKCOV_MODE_TRACE_CMP))
		return;
	barrier();
	area = (uint64_t *)g->area;
	count = READ_ONCE(area[0]);
	/* Bounded first: count * 4 below cannot wrap. */
	if (unlikely(count >= g->cap)) {
		note_drop(g);
		return;
	}
	rec = area + 1 + count * UKCOV_WORDS_PER_CMP;
	rec[0] = type;
	rec[1] = a1;
	rec[2] = a2;
	rec[3] = ip;
	smp_store_release(&area[0], count + 1);
}

#define CMP_SIZE(n) KCOV_CMP_SIZE(n)

NOCOV_HOT void __sanitizer_cov_trace_cmp1(uint8_t a, uint8_t b)
{
	write_cmp(CMP_SIZE(0), a, b, RET_IP());
}

NOCOV_HOT void __sanitizer_cov_trace_cmp2(uint16_t a, uint16_t b)
{
	write_cmp(CMP_SIZE(1), a, b, RET_IP());
}

NOCOV_HOT void __sanitizer_cov_trace_cmp4(uint32_t a, uint32_t b)
{
	write_cmp(CMP_SIZE(2), a, b, RET_IP());
}

NOCOV_HOT void __sanitizer_cov_trace_cmp8(ukcov_u64 a, ukcov_u64 b)
{
	write_cmp(CMP_SIZE(3), a, b, RET_IP());
}

NOCOV_HOT void __sanitizer_cov_trace_const_cmp1(uint8_t a, uint8_t b)
{
	write_cmp(CMP_SIZE(0) | KCOV_CMP_CONST, a, b, RET_IP());
}

NOCOV_HOT void __sanitizer_cov_trace_const_cmp2(uint16_t a, uint16_t b)
{
	write_cmp(CMP_SIZE(1) | KCOV_CMP_CONST, a, b, RET_IP());
}

NOCOV_HOT void __sanitizer_cov_trace_const_cmp4(uint32_t a, uint32_t b)
{
	write_cmp(CMP_SIZE(2) | KCOV_CMP_CONST, a, b, RET_IP());
}

NOCOV_HOT void __sanitizer_cov_trace_const_cmp8(ukcov_u64 a, ukcov_u64 b)
{
	write_cmp(CMP_SIZE(3) | KCOV_CMP_CONST, a, b, RET_IP());
}

/*
 * gcc's floating-point comparisons, which kcov has no record type for: the
 * operands' IEEE-754 bit patterns, with the operand size and ukcov's own
 * UKCOV_CMP_FLOAT bit (bit 3, outside KCOV_CMP_MASK and KCOV_CMP_CONST).
 */
NOCOV_HOT void __sanitizer_cov_trace_cmpf(float a, float b)
{
	union {
		float f;
		uint32_t u;
	} x = { .f = a }, y = { .f = b };

	write_cmp(CMP_SIZE(2) | UKCOV_CMP_FLOAT, x.u, y.u, RET_IP());
}

NOCOV_HOT void __sanitizer_cov_trace_cmpd(double a, double b)
{
	union {
		double f;
		uint64_t u;
	} x = { .f = a }, y = { .f = b };

	write_cmp(CMP_SIZE(3) | UKCOV_CMP_FLOAT, x.u, y.u, RET_IP());
}

/*
 * cases[0] is the number of cases, cases[1] the operand width in bits; one
 * constant record per case (arg1 the case value, arg2 the operand).  Other
 * widths record nothing, as in Linux.
 */
NOCOV_HOT void __sanitizer_cov_trace_switch(ukcov_u64 val, ukcov_u64 *cases)
{
	unsigned long ip = RET_IP();
	uint64_t i, n, type;

	if (likely(MODE_OF(&__ukcov_cur.gen) != UKCOV_MODE_TRACE_CMP))
		return;
	switch (cases[1]) {
	case 8:
		type = CMP_SIZE(0);
		break;
	case 16:
		type = CMP_SIZE(1);
		break;
	case 32:
		type = CMP_SIZE(2);
		break;
	case 64:
		type = CMP_SIZE(3);
		break;
	default:
		return;
	}
	n = cases[0];
	for (i = 0; i < n; i++)
		write_cmp(type | KCOV_CMP_CONST, cases[i + 2], val, ip);
}
