// SPDX-License-Identifier: MIT
/*
 * The collectors of `make bench-peers`, shared by its drivers (driver.c:
 * SQLite; zlib.c: zlib).  Included once per driver object, which is never
 * instrumented; one collector per object, chosen at build time:
 *
 *   COLL_NONE   no coverage: the uninstrumented baseline
 *   COLL_UKCOV  ukcov, one kcov per thread; the mode is chosen at run time:
 *     off         callbacks linked, the thread not collecting
 *     on          KCOV_TRACE_PC, the ordered trace reset by storing 0 in
 *                 word 0; signal: syzkaller's, adjacent PCs hashed into
 *                 edges, deduplicated in a byte map (no hit counts)
 *     buckets     the same trace and edges, plus hit counts: the entries
 *                 of one input are counted per edge and each edge's count
 *                 classed in AFL's / libFuzzer's 8 buckets (1, 2, 3, 4-7,
 *                 8-15, 16-31, 32-127, 128+): signal = (edge, bucket)
 *     cmp         KCOV_TRACE_CMP: 4-word comparison records; what is read
 *                 is (arg1, arg2) hashed into a byte map (no PC signal:
 *                 under kcov a thread traces PCs or comparisons, not both)
 *     unique=W    KCOV_UNIQUE_ENABLE with a bitmap of W words (Linux's
 *                 proposed API): per input KCOV_RESET_TRACE, run, read the
 *                 trace of new PCs at area[W]; signal: PCs (no edges, no
 *                 hit counts).  Skipped (exit 77) when the request answers
 *                 ENOTTY (a libukcov without unique mode)
 *   COLL_LF     libFuzzer's inline 8-bit counters with its runtime: per
 *               input the counters are cleared, run, scanned 8 bytes at a
 *               time and each non-zero counter turned into libFuzzer's
 *               feature (index * 8 + bucket of the count), looked up in a
 *               feature set (what TPC.ResetMaps and TPC.CollectFeatures
 *               do); mode "nobuckets": feature = index (edges only)
 *   COLL_AFL    AFL++'s afl-clang-fast instrumentation with its runtime,
 *               driven as afl-fuzz does in persistent mode: the map is
 *               cleared, the input runs, then the map is classified with
 *               AFL's 16-bit bucket table and compared against (and merged
 *               into) the virgin map; mode "nobuckets": every non-zero
 *               count classed as 1 (edges only)
 *
 * Each collector provides coll_parse (the mode argument), coll_init and
 * coll_fini (per thread), coll_reset and coll_read (per input: reset
 * coverage; read it and derive the signal), and coll_drop (long workloads:
 * drain an ordered trace so that it never fills, count what it held).
 */
#ifndef BENCH_PEERS_COLL_H
#define BENCH_PEERS_COLL_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

/*
 * Under callgrind (--collect-atstart=no), only the measured part of a run
 * is counted: CALLGRIND_TOGGLE_COLLECT brackets it.  A no-op elsewhere.
 */
#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#define MEASURE_TOGGLE() CALLGRIND_TOGGLE_COLLECT
#else
#define MEASURE_TOGGLE() ((void)0)
#endif

/*
 * The collector's steps stay out of line: callgrind then shows their cost.
 * A driver need not use every one (zlib.c reads no per-input coverage).
 */
#define COLL_FN __attribute__((noinline, unused)) static

#if defined(COLL_UKCOV)
#include <ukcov.h>
#define COLL_NAME "ukcov"
#elif defined(COLL_LF)
#define COLL_NAME "libfuzzer"
#elif defined(COLL_AFL)
#define COLL_NAME "afl++"
#else
#define COLL_NAME "none"
#endif

/* Exit status of a run whose collector is not available: a skipped row. */
#define EXIT_SKIP 77

static double now(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void die(const char *what)
{
	fprintf(stderr, "driver: %s\n", what);
	exit(2);
}

/* Per-thread collector state. */
struct coll {
	unsigned long news;	/* new signal (edges, features, PCs) found */
	unsigned long items;	/* entries read / non-zero map entries seen */
	unsigned long maxitems;	/* most entries of one reset-to-read window */
	unsigned long full;	/* windows that filled the area */
#ifdef COLL_UKCOV
	int fd;
	unsigned long *area;	/* the mapping: the trace, or bitmap + trace */
	unsigned long *trace;	/* count word, then entries */
	unsigned long words;	/* the area's size in words */
	unsigned long cap;	/* entries (or records) the trace holds */
	uint8_t *sig;		/* the signal map */
	uint8_t *cnt;		/* buckets: per-edge hit counts of one input */
	uint32_t *touched;	/* buckets: the edges counted in this input */
#endif
#if defined(COLL_LF) || defined(COLL_AFL)
	uint8_t *virgin;
#endif
};

/* The 8 hit-count classes of AFL and libFuzzer (CounterToFeature). */
static inline unsigned hit_bucket(uint8_t v)
{
	return v >= 128 ? 7 : v >= 32 ? 6 : v >= 16 ? 5 : v >= 8 ? 4 :
	       v >= 4 ? 3 : v >= 3 ? 2 : v >= 2 ? 1 : 0;
}

/* ------------------------------------------------------------- ukcov -- */
#ifdef COLL_UKCOV

/* Linux's proposed request (2025, not merged), in case the header lacks it. */
#ifndef KCOV_UNIQUE_ENABLE
#define KCOV_UNIQUE_ENABLE _IOW('c', 103, unsigned long)
#endif

enum { M_OFF, M_ON, M_BUCKETS, M_CMP, M_UNIQUE };
static int coll_mode = M_OFF;
static unsigned long bitmap_words;	/* unique: the bitmap's size in words */

/* Ordered modes: big enough for any input's trace (checked: "full"). */
#define AREA_WORDS (1ul << 22)
/* Unique mode: the trace after the bitmap (first hits only). */
#define UNIQUE_TRACE_WORDS (1ul << 20)
#define SIG_BITS 21	/* 2 MiB byte map: syzkaller keeps signal in a map */
static uint32_t prev_hash[4096];	/* hash(x) & 0xfff for every x < 4096 */

/* "off", "on", "buckets", "cmp" or "unique=WORDS"; -1 when unknown. */
static int coll_parse(const char *arg)
{
	char *end;

	if (!arg || !strcmp(arg, "off"))
		coll_mode = M_OFF;
	else if (!strcmp(arg, "on"))
		coll_mode = M_ON;
	else if (!strcmp(arg, "buckets"))
		coll_mode = M_BUCKETS;
	else if (!strcmp(arg, "cmp"))
		coll_mode = M_CMP;
	else if (!strncmp(arg, "unique=", 7)) {
		errno = 0;
		bitmap_words = strtoul(arg + 7, &end, 0);
		if (errno || *end || !bitmap_words || bitmap_words % 512)
			return -1;	/* whole pages of words: mmap's rule */
		coll_mode = M_UNIQUE;
	} else
		return -1;
	return 0;
}

/* syzkaller's executor: hash(), then sig = pc ^ (hash(prev & 0xfff) & 0xfff). */
static inline uint32_t syz_hash(uint32_t a)
{
	a = (a ^ 61) ^ (a >> 16);
	a = a + (a << 3);
	a = a ^ (a >> 4);
	a = a * 0x27d4eb2d;
	a = a ^ (a >> 15);
	return a;
}

static void coll_init(struct coll *c)
{
	int mode = coll_mode == M_CMP ? KCOV_TRACE_CMP : KCOV_TRACE_PC;

	memset(c, 0, sizeof(*c));
	for (unsigned x = 0; x < 4096; x++)
		prev_hash[x] = syz_hash(x) & 0xfff;
	c->sig = calloc(1, 1ul << SIG_BITS);
	if (!c->sig)
		die("calloc");
	if (coll_mode == M_BUCKETS) {
		c->cnt = calloc(1, 1ul << SIG_BITS);
		c->touched = malloc((1ul << SIG_BITS) * sizeof(uint32_t));
		if (!c->cnt || !c->touched)
			die("calloc");
	}
	if (coll_mode == M_OFF)
		return;
	c->words = coll_mode == M_UNIQUE ? bitmap_words + UNIQUE_TRACE_WORDS
					 : AREA_WORDS;
	c->fd = ukcov_open();
	if (c->fd < 0 || ukcov_ioctl(c->fd, KCOV_INIT_TRACE, c->words))
		die("ukcov_open / KCOV_INIT_TRACE");
	c->area = ukcov_mmap(NULL, c->words * sizeof(unsigned long),
			     PROT_READ | PROT_WRITE, MAP_SHARED, c->fd, 0);
	if (c->area == MAP_FAILED)
		die("ukcov_mmap");
	if (coll_mode == M_UNIQUE) {
		/* Bitmap first, then the trace, its count word first. */
		c->trace = c->area + bitmap_words;
		c->cap = UNIQUE_TRACE_WORDS - 1;
		if (ukcov_ioctl(c->fd, KCOV_UNIQUE_ENABLE, bitmap_words)) {
			int e = errno;

			if (e == ENOTTY || e == EOPNOTSUPP) {
				printf("skip=KCOV_UNIQUE_ENABLE:%s\n",
				       e == ENOTTY ? "ENOTTY" : "EOPNOTSUPP");
				fflush(stdout);
				exit(EXIT_SKIP);
			}
			fprintf(stderr, "driver: KCOV_UNIQUE_ENABLE(%lu): %s\n",
				bitmap_words, strerror(e));
			exit(2);
		}
		return;
	}
	c->trace = c->area;
	c->cap = coll_mode == M_CMP ? (AREA_WORDS - 1) / KCOV_WORDS_PER_CMP
				    : AREA_WORDS - 1;
	if (ukcov_ioctl(c->fd, KCOV_ENABLE, mode))
		die("KCOV_ENABLE");
}

static void coll_fini(struct coll *c)
{
	if (coll_mode == M_OFF)
		return;
	ukcov_ioctl(c->fd, KCOV_DISABLE, 0);
	munmap(c->area, c->words * sizeof(unsigned long));
	ukcov_close(c->fd);
}

COLL_FN void coll_reset(struct coll *c)
{
	if (coll_mode == M_UNIQUE) {
		/* Clears the count and the bitmap. */
		if (ukcov_ioctl(c->fd, KCOV_RESET_TRACE, 0))
			die("KCOV_RESET_TRACE");
	} else if (coll_mode != M_OFF) {
		__atomic_store_n(&c->trace[0], 0, __ATOMIC_RELAXED);
	}
}

/* The count, noted; the pairs with the callbacks' release store of it. */
static inline unsigned long coll_count(struct coll *c)
{
	unsigned long n = __atomic_load_n(&c->trace[0], __ATOMIC_ACQUIRE);

	if (n > c->cap)
		n = c->cap;
	if (n > c->maxitems)
		c->maxitems = n;
	if (n >= c->cap)
		c->full++;
	c->items += n;
	return n;
}

/*
 * Long workloads, between their steps: an ordered trace is counted and
 * drained, so every callback does the full write and the area never
 * fills.  Unique mode keeps its bitmap (steady state: most bits set); the
 * trace only grows with new PCs.
 */
static inline void coll_drop(struct coll *c)
{
	unsigned long n;

	if (coll_mode == M_OFF)
		return;
	if (coll_mode == M_UNIQUE) {
		n = __atomic_load_n(&c->trace[0], __ATOMIC_ACQUIRE);
		c->items = n;
		c->maxitems = n;
		c->full = n >= c->cap;
		return;
	}
	coll_count(c);
	__atomic_store_n(&c->trace[0], 0, __ATOMIC_RELAXED);
}

/*
 * The edge signal of syzkaller's executor, its hash of the previous PC
 * tabulated; the signal is then a PC with its low 12 bits perturbed, so its
 * low SIG_BITS bits index the map directly (the instrumented text is
 * smaller than 2^SIG_BITS bytes: distinct PCs stay distinct).
 */
static void read_edges(struct coll *c, unsigned long n)
{
	/* Locals: the byte stores below would otherwise reload them. */
	const unsigned long *pcs = c->trace + 1;
	const unsigned long mask = (1ul << 12) - 1;
	uint8_t *map = c->sig;
	unsigned long news = 0, prev = 0, i;

	for (i = 0; i < n; i++) {
		unsigned long pc = pcs[i];
		uint32_t h = (uint32_t)(pc ^ prev_hash[prev & mask]) &
			     ((1u << SIG_BITS) - 1);

		prev = pc;
		if (!map[h]) {
			map[h] = 1;
			news++;
		}
	}
	c->news += news;
}

/* The same edges, counted per input and classed in buckets. */
static void read_edge_buckets(struct coll *c, unsigned long n)
{
	const unsigned long *pcs = c->trace + 1;
	const unsigned long mask = (1ul << 12) - 1;
	uint8_t *map = c->sig, *cnt = c->cnt;
	uint32_t *touched = c->touched;
	unsigned long news = 0, prev = 0, i, nt = 0;

	for (i = 0; i < n; i++) {
		unsigned long pc = pcs[i];
		uint32_t h = (uint32_t)(pc ^ prev_hash[prev & mask]) &
			     ((1u << SIG_BITS) - 1);
		uint8_t v = cnt[h];

		prev = pc;
		if (!v)
			touched[nt++] = h;
		if (v != 255)
			cnt[h] = v + 1;
	}
	/* One signal bit per bucket; only the touched counts are cleared. */
	for (i = 0; i < nt; i++) {
		uint32_t h = touched[i];
		uint8_t bit = (uint8_t)(1u << hit_bucket(cnt[h]));

		cnt[h] = 0;
		if (!(map[h] & bit)) {
			map[h] |= bit;
			news++;
		}
	}
	c->news += news;
}

/* Comparison records: (arg1, arg2) pairs, hashed into the byte map. */
static void read_cmps(struct coll *c, unsigned long n)
{
	const unsigned long *r = c->trace + 1;
	uint8_t *map = c->sig;
	unsigned long news = 0, i;

	for (i = 0; i < n; i++, r += KCOV_WORDS_PER_CMP) {
		uint64_t h = (r[1] * 0x9e3779b97f4a7c15ull) ^ r[2];

		h = (h ^ (h >> 29)) * 0xbf58476d1ce4e5b9ull;
		h >>= 64 - SIG_BITS;
		if (!map[h]) {
			map[h] = 1;
			news++;
		}
	}
	c->news += news;
}

/* Unique mode: each entry is a PC new to this input; the signal is PCs. */
static void read_pcs(struct coll *c, unsigned long n)
{
	const unsigned long *pcs = c->trace + 1;
	uint8_t *map = c->sig;
	unsigned long news = 0, i;

	for (i = 0; i < n; i++) {
		uint32_t h = (uint32_t)pcs[i] & ((1u << SIG_BITS) - 1);

		if (!map[h]) {
			map[h] = 1;
			news++;
		}
	}
	c->news += news;
}

COLL_FN void coll_read(struct coll *c)
{
	unsigned long n;

	if (coll_mode == M_OFF)
		return;
	n = coll_count(c);
	switch (coll_mode) {
	case M_ON:
		read_edges(c, n);
		break;
	case M_BUCKETS:
		read_edge_buckets(c, n);
		break;
	case M_CMP:
		read_cmps(c, n);
		break;
	default:
		read_pcs(c, n);
		break;
	}
}
#endif /* COLL_UKCOV */

/* --------------------------------------------------------- libFuzzer -- */
#ifdef COLL_LF
/* The module's counters: the linker's bounds of the section. */
extern uint8_t __start___sancov_cntrs[] __attribute__((weak, visibility("hidden")));
extern uint8_t __stop___sancov_cntrs[] __attribute__((weak, visibility("hidden")));
#define FEATURE_BITS 21	/* libFuzzer's kFeatureSetSize */
static int lf_nobuckets;

static int coll_parse(const char *arg)
{
	if (!arg || !strcmp(arg, "on"))
		lf_nobuckets = 0;
	else if (!strcmp(arg, "nobuckets"))
		lf_nobuckets = 1;
	else
		return -1;
	return 0;
}

static void coll_init(struct coll *c)
{
	memset(c, 0, sizeof(*c));
	c->virgin = calloc(1, (1ul << FEATURE_BITS) / 8);
	if (!c->virgin)
		die("calloc");
}
static void coll_fini(struct coll *c) { (void)c; }

COLL_FN void coll_reset(struct coll *c)
{
	(void)c;
	memset(__start___sancov_cntrs, 0,
	       __stop___sancov_cntrs - __start___sancov_cntrs);
}

static inline void coll_drop(struct coll *c) { (void)c; }

COLL_FN void coll_read(struct coll *c)
{
	const uint8_t *p = __start___sancov_cntrs;
	size_t n = __stop___sancov_cntrs - __start___sancov_cntrs, i, j;
	const unsigned shift = lf_nobuckets ? 0 : 3;

	/* ForEachNonZeroByte: word at a time, then the bytes of a non-zero one. */
	for (i = 0; i + 8 <= n; i += 8) {
		uint64_t w;

		memcpy(&w, p + i, 8);
		if (!w)
			continue;
		for (j = i; j < i + 8; j++) {
			uint32_t f;

			if (!p[j])
				continue;
			c->items++;
			f = ((uint32_t)j << shift) +
			    (lf_nobuckets ? 0 : hit_bucket(p[j]));
			f &= (1u << FEATURE_BITS) - 1;
			if (!(c->virgin[f >> 3] & (1u << (f & 7)))) {
				c->virgin[f >> 3] |= 1u << (f & 7);
				c->news++;
			}
		}
	}
}
#endif /* COLL_LF */

/* ------------------------------------------------------------- AFL++ -- */
#ifdef COLL_AFL
extern uint8_t *__afl_area_ptr;
extern uint32_t __afl_map_size;
extern uint32_t __afl_final_loc;
static uint16_t classify16[65536];
static int afl_nobuckets;

/* afl-fuzz's count_class_lookup8, widened to 16 bits as AFL++ does. */
static void afl_tables(void)
{
	static uint8_t c8[256];
	unsigned i, j;

	c8[0] = 0;
	c8[1] = 1;
	c8[2] = 2;
	c8[3] = 4;
	for (i = 4; i < 8; i++)
		c8[i] = 8;
	for (i = 8; i < 16; i++)
		c8[i] = 16;
	for (i = 16; i < 32; i++)
		c8[i] = 32;
	for (i = 32; i < 128; i++)
		c8[i] = 64;
	for (i = 128; i < 256; i++)
		c8[i] = 128;
	if (afl_nobuckets)	/* edges only: any count is class 1 */
		for (i = 1; i < 256; i++)
			c8[i] = 1;
	for (i = 0; i < 256; i++)
		for (j = 0; j < 256; j++)
			classify16[(i << 8) + j] = (c8[i] << 8) | c8[j];
}

static int coll_parse(const char *arg)
{
	if (!arg || !strcmp(arg, "on"))
		afl_nobuckets = 0;
	else if (!strcmp(arg, "nobuckets"))
		afl_nobuckets = 1;
	else
		return -1;
	afl_tables();
	return 0;
}

static size_t afl_size(void)
{
	/* The edges the instrumentation numbered, rounded to 8 bytes. */
	size_t n = __afl_final_loc ? __afl_final_loc : __afl_map_size;

	if (n > __afl_map_size)
		n = __afl_map_size;
	return (n + 7) & ~(size_t)7;
}

static void coll_init(struct coll *c)
{
	memset(c, 0, sizeof(*c));
	c->virgin = malloc(afl_size());
	if (!c->virgin)
		die("malloc");
	memset(c->virgin, 0xff, afl_size());
}
static void coll_fini(struct coll *c) { (void)c; }

COLL_FN void coll_reset(struct coll *c)
{
	(void)c;
	memset(__afl_area_ptr, 0, afl_size());
}

static inline void coll_drop(struct coll *c) { (void)c; }

/*
 * classify_counts and has_new_bits in one pass over 64-bit words, skipping
 * zero words as afl-fuzz does.  The classified word is kept local: with
 * threads the map is shared and is not ours to rewrite.
 */
COLL_FN void coll_read(struct coll *c)
{
	const uint64_t *m = (const uint64_t *)__afl_area_ptr;
	uint64_t *v = (uint64_t *)c->virgin;
	size_t n = afl_size() / 8, i;

	for (i = 0; i < n; i++) {
		uint64_t w = m[i], cw;
		uint16_t h[4];

		if (!w)
			continue;
		memcpy(h, &w, 8);
		h[0] = classify16[h[0]];
		h[1] = classify16[h[1]];
		h[2] = classify16[h[2]];
		h[3] = classify16[h[3]];
		memcpy(&cw, h, 8);
		c->items += __builtin_popcountll(cw);
		if (cw & v[i]) {
			c->news += __builtin_popcountll(cw & v[i]);
			v[i] &= ~cw;
		}
	}
}
#endif /* COLL_AFL */

/* -------------------------------------------------------------- none -- */
#ifdef COLL_NONE
static int coll_parse(const char *arg)
{
	return !arg || !strcmp(arg, "off") ? 0 : -1;
}
static void coll_init(struct coll *c) { memset(c, 0, sizeof(*c)); }
static void coll_fini(struct coll *c) { (void)c; }
COLL_FN void coll_reset(struct coll *c) { (void)c; }
static inline void coll_drop(struct coll *c) { (void)c; }
COLL_FN void coll_read(struct coll *c) { (void)c; }
#endif

#endif /* BENCH_PEERS_COLL_H */
