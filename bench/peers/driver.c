// SPDX-License-Identifier: MIT
/*
 * The driver of `make bench-peers`: SQLite (the amalgamation, built with
 * one kind of coverage instrumentation) under one collector.  This file is
 * never instrumented itself.  The collector is chosen at build time:
 *
 *   COLL_NONE   no coverage: the uninstrumented baseline
 *   COLL_UKCOV  ukcov: one kcov per thread (KCOV_TRACE_PC), its area reset
 *               by storing 0 in word 0; the signal is syzkaller's: adjacent
 *               PCs hashed into edges, deduplicated in a byte map
 *   COLL_LF     clang's -fsanitize=fuzzer-no-link instrumentation (inline
 *               8-bit counters, pc table, cmp tracing) with libFuzzer's
 *               runtime: per input the counters are cleared, run, scanned
 *               8 bytes at a time and each non-zero counter turned into
 *               libFuzzer's feature (index * 8 + bucket of the count),
 *               looked up in a feature set (what TPC.ResetMaps and
 *               TPC.CollectFeatures do)
 *   COLL_LF + LF_OWN_LOOP  no main: libFuzzer's own loop (FuzzerDriver,
 *               mutation, RunOne) calls LLVMFuzzerTestOneInput, which runs
 *               the bench's inputs in order and ignores the mutated bytes
 *   COLL_AFL    AFL++'s afl-clang-fast instrumentation with its runtime,
 *               driven as afl-fuzz does in persistent mode: the map is
 *               cleared (what __afl_persistent_loop does), the input runs,
 *               then the map is classified with AFL's 16-bit bucket table
 *               and compared against (and merged into) the virgin map
 *
 * Usage:  driver cpu ROWS [on]     workload (a): a database of ROWS rows
 *         driver fuzz N [on]       workload (b): N generated inputs
 *         driver threads T N       workload (c): T threads, N inputs each
 * "on" turns ukcov's collection on (the peers' maps are always on).  Each
 * run prints one line of key=value pairs.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "sqlite3.h"

#ifdef LF_OWN_LOOP
/* Only the input generator is used: libFuzzer's main drives. */
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wunused-variable"
#endif

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

/* The collector's steps stay out of line: callgrind then shows their cost. */
#define COLL_FN __attribute__((noinline)) static

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

/* ------------------------------------------------------------ inputs -- */

/* A deterministic generator: splitmix64. */
static uint64_t mix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static const char *const types[] = {"INTEGER", "TEXT", "REAL", "BLOB", ""};
static const char *const funcs[] = {
	"abs(a)", "length(b)", "upper(b)", "substr(b,2,3)", "a*7%13",
	"coalesce(c,a)", "typeof(c)", "hex(b)", "round(c,1)", "instr(b,'x')",
	"printf('%d-%s',a,b)", "trim(b)", "a<<2", "ifnull(b,'z')", "min(a,c)",
};
static const char *const aggs[] = {"count(*)", "sum(a)", "max(b)",
				   "avg(c)", "group_concat(b)", "total(a)"};
static const char *const ops[] = {"<", ">", "=", "<=", "!=", "IS NOT"};

/*
 * Input i: a small script for a fresh in-memory database.  A table, a few
 * rows, then one or two statements among many shapes: every input takes a
 * slightly different path through the parser, planner and VDBE.
 */
static size_t gen_input(unsigned i, char *buf, size_t cap)
{
	uint64_t s = 0x5eed0000ull + i;
	size_t n = 0;
	unsigned rows = 1 + mix(&s) % 12, k, shape = mix(&s) % 10;

#define P(...)                                                                 \
	do {                                                                   \
		int w_ = snprintf(buf + n, cap - n, __VA_ARGS__);              \
		if (w_ > 0 && (size_t)w_ < cap - n)                            \
			n += w_;                                               \
	} while (0)
	P("CREATE TABLE t(a %s PRIMARY KEY, b %s, c %s);", types[mix(&s) % 5],
	  types[mix(&s) % 5], types[mix(&s) % 5]);
	if (mix(&s) % 3 == 0)
		P("CREATE INDEX tb ON t(b%s);", mix(&s) % 2 ? ",c" : "");
	P("INSERT OR IGNORE INTO t VALUES");
	for (k = 0; k < rows; k++) {
		P("%s(%d,'%c%u',%s)", k ? "," : "", (int)(mix(&s) % 200) - 50,
		  'a' + (int)(mix(&s) % 26), (unsigned)(mix(&s) % 1000),
		  mix(&s) % 4 ? "NULL" : "3.25");
	}
	P(";");
	switch (shape) {
	case 0:
		P("SELECT %s FROM t WHERE a %s %d ORDER BY %s;",
		  funcs[mix(&s) % 15], ops[mix(&s) % 6], (int)(mix(&s) % 100),
		  mix(&s) % 2 ? "b" : "a DESC");
		break;
	case 1:
		P("SELECT b, %s FROM t GROUP BY b HAVING count(*) %s 1;",
		  aggs[mix(&s) % 6], ops[mix(&s) % 6]);
		break;
	case 2:
		P("UPDATE t SET c = %s WHERE a %s %d; SELECT * FROM t;",
		  funcs[mix(&s) % 15], ops[mix(&s) % 6], (int)(mix(&s) % 100));
		break;
	case 3:
		P("WITH RECURSIVE r(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM r "
		  "WHERE x < %u) SELECT %s FROM r, t WHERE x %s a;",
		  (unsigned)(mix(&s) % 20), mix(&s) % 2 ? "sum(x)" : "x, b",
		  ops[mix(&s) % 6]);
		break;
	case 4:
		P("SELECT t1.a, t2.b FROM t t1 %s JOIN t t2 ON t1.a %s t2.a LIMIT %u;",
		  mix(&s) % 2 ? "LEFT" : "", ops[mix(&s) % 6],
		  (unsigned)(mix(&s) % 30));
		break;
	case 5:
		P("DELETE FROM t WHERE %s %s %d; SELECT %s FROM t;",
		  funcs[mix(&s) % 15], ops[mix(&s) % 6], (int)(mix(&s) % 50),
		  aggs[mix(&s) % 6]);
		break;
	case 6:
		P("CREATE VIEW v AS SELECT a, %s AS f FROM t; SELECT f, count(*) "
		  "FROM v GROUP BY f ORDER BY 2 DESC;",
		  funcs[mix(&s) % 15]);
		break;
	case 7:
		P("SELECT a, row_number() OVER (ORDER BY %s) FROM t;",
		  mix(&s) % 2 ? "b" : "c");
		break;
	case 8:
		P("SELECT CASE WHEN a %s %d THEN '%c' ELSE b END, "
		  "a IN (SELECT a FROM t WHERE c IS NULL) FROM t;",
		  ops[mix(&s) % 6], (int)(mix(&s) % 100),
		  'a' + (int)(mix(&s) % 26));
		break;
	default:
		P("SELECT %s FROM t UNION SELECT %s FROM t ORDER BY 1;",
		  funcs[mix(&s) % 15], funcs[mix(&s) % 15]);
		break;
	}
#undef P
	return n;
}

/* Run one input in a fresh in-memory database. */
static void run_input(const char *sql)
{
	sqlite3 *db;

	if (sqlite3_open_v2(":memory:", &db,
			    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL))
		die("sqlite3_open_v2");
	/* Errors (a UNIQUE clash, a type mismatch) are part of the workload. */
	sqlite3_exec(db, sql, NULL, NULL, NULL);
	sqlite3_close(db);
}

/* ---------------------------------------------------------- collectors -- */

/* Per-thread collector state. */
struct coll {
	unsigned long news;	/* new signal bits (edges, features) found */
	unsigned long items;	/* PCs read / non-zero map entries seen */
	unsigned long maxitems;	/* most PCs of one reset-to-read window */
	unsigned long full;	/* windows that filled the area */
#ifdef COLL_UKCOV
	int fd;
	unsigned long *area;
	unsigned long cap;
	uint8_t *sig;		/* the signal map */
#endif
#if defined(COLL_LF) || defined(COLL_AFL)
	uint8_t *virgin;
#endif
};

static int collect_on = 1;

#ifdef COLL_UKCOV
/* Big enough for any input's trace (checked: "full" is printed). */
#define AREA_WORDS (1ul << 22)
#define SIG_BITS 21	/* 2 MiB byte map: syzkaller keeps signal in a map */
static uint32_t prev_hash[4096];	/* hash(x) & 0xfff for every x < 4096 */

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
	memset(c, 0, sizeof(*c));
	for (unsigned x = 0; x < 4096; x++)
		prev_hash[x] = syz_hash(x) & 0xfff;
	c->sig = calloc(1, 1ul << SIG_BITS);
	if (!c->sig)
		die("calloc");
	if (!collect_on)
		return;
	c->fd = ukcov_open();
	if (c->fd < 0 || ukcov_ioctl(c->fd, KCOV_INIT_TRACE, AREA_WORDS))
		die("ukcov_open / KCOV_INIT_TRACE");
	c->area = ukcov_mmap(NULL, AREA_WORDS * sizeof(unsigned long),
			     PROT_READ | PROT_WRITE, MAP_SHARED, c->fd, 0);
	if (c->area == MAP_FAILED)
		die("ukcov_mmap");
	c->cap = AREA_WORDS - 1;
	if (ukcov_ioctl(c->fd, KCOV_ENABLE, KCOV_TRACE_PC))
		die("KCOV_ENABLE");
}

static void coll_fini(struct coll *c)
{
	if (!collect_on)
		return;
	ukcov_ioctl(c->fd, KCOV_DISABLE, 0);
	munmap(c->area, AREA_WORDS * sizeof(unsigned long));
	ukcov_close(c->fd);
}

COLL_FN void coll_reset(struct coll *c)
{
	if (collect_on)
		__atomic_store_n(&c->area[0], 0, __ATOMIC_RELAXED);
}

/* Count only: what the CPU workload does between its steps. */
static inline void coll_drop(struct coll *c)
{
	unsigned long n;

	if (!collect_on)
		return;
	n = __atomic_load_n(&c->area[0], __ATOMIC_ACQUIRE);
	if (n > c->maxitems)
		c->maxitems = n;
	if (n >= c->cap)
		c->full++;
	c->items += n;
	__atomic_store_n(&c->area[0], 0, __ATOMIC_RELAXED);
}

COLL_FN void coll_read(struct coll *c)
{
	unsigned long n, i, prev = 0;
	const unsigned long mask = (1ul << 12) - 1;

	if (!collect_on)
		return;
	n = __atomic_load_n(&c->area[0], __ATOMIC_ACQUIRE);
	if (n > c->cap)
		n = c->cap;
	if (n > c->maxitems)
		c->maxitems = n;
	if (n >= c->cap)
		c->full++;
	c->items += n;
	/*
	 * The edge signal of syzkaller's executor, its hash of the previous PC
	 * tabulated; the signal is then a PC with its low 12 bits perturbed,
	 * so its low SIG_BITS bits index the map directly (SQLite's text is
	 * smaller than 2^SIG_BITS bytes: distinct PCs stay distinct).
	 */
	/* Locals: the byte stores below would otherwise reload them. */
	const unsigned long *pcs = c->area + 1;
	uint8_t *map = c->sig;
	unsigned long news = 0;

	for (i = 0; i < n; i++) {
		unsigned long pc = pcs[i];
		uint64_t sig = pc ^ prev_hash[prev & mask];
		uint32_t h = (uint32_t)sig & ((1u << SIG_BITS) - 1);

		prev = pc;
		if (!map[h]) {
			map[h] = 1;
			news++;
		}
	}
	c->news += news;
}
#endif /* COLL_UKCOV */

#ifdef COLL_LF
/* The module's counters: the linker's bounds of the section. */
extern uint8_t __start___sancov_cntrs[] __attribute__((weak, visibility("hidden")));
extern uint8_t __stop___sancov_cntrs[] __attribute__((weak, visibility("hidden")));
#define FEATURE_BITS 21	/* libFuzzer's kFeatureSetSize */

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

/* libFuzzer's CounterToFeature. */
static inline unsigned bucket(uint8_t v)
{
	return v >= 128 ? 7 : v >= 32 ? 6 : v >= 16 ? 5 : v >= 8 ? 4 :
	       v >= 4 ? 3 : v >= 3 ? 2 : v >= 2 ? 1 : 0;
}

COLL_FN void coll_read(struct coll *c)
{
	const uint8_t *p = __start___sancov_cntrs;
	size_t n = __stop___sancov_cntrs - __start___sancov_cntrs, i, j;

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
			f = ((uint32_t)j * 8 + bucket(p[j])) &
			    ((1u << FEATURE_BITS) - 1);
			if (!(c->virgin[f >> 3] & (1u << (f & 7)))) {
				c->virgin[f >> 3] |= 1u << (f & 7);
				c->news++;
			}
		}
	}
}
#endif /* COLL_LF */

#ifdef COLL_AFL
extern uint8_t *__afl_area_ptr;
extern uint32_t __afl_map_size;
extern uint32_t __afl_final_loc;
static uint16_t classify16[65536];

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
	for (i = 0; i < 256; i++)
		for (j = 0; j < 256; j++)
			classify16[(i << 8) + j] = (c8[i] << 8) | c8[j];
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

#ifdef COLL_NONE
static void coll_init(struct coll *c) { memset(c, 0, sizeof(*c)); }
static void coll_fini(struct coll *c) { (void)c; }
COLL_FN void coll_reset(struct coll *c) { (void)c; }
static inline void coll_drop(struct coll *c) { (void)c; }
COLL_FN void coll_read(struct coll *c) { (void)c; }
#endif

/* ------------------------------------------------------ workload (b) -- */

#define INPUT_MAX 2048

#ifdef LF_OWN_LOOP
/*
 * libFuzzer's own loop: its main parses -runs, mutates, and RunOne resets
 * the counters, calls us and collects the features.  We run the bench's
 * input number `calls` instead of the mutated bytes, so the work per input
 * is the same as everyone's; the clock starts at the first call and the
 * figure is printed after N inputs (libFuzzer's own empty-input call and
 * startup excluded).
 */
static unsigned lf_n, lf_calls;
static double lf_t0, lf_c0, lf_t1;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *e = getenv("PEERS_N");

	(void)argc;
	(void)argv;
	lf_n = e ? (unsigned)atoi(e) : 3000;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char buf[INPUT_MAX];

	(void)data;
	(void)size;
	if (lf_calls == 0)
		lf_t1 = now(CLOCK_MONOTONIC);
	if (lf_calls == lf_n) {
		lf_t1 = now(CLOCK_MONOTONIC) - lf_t1;
		lf_t0 = now(CLOCK_MONOTONIC);
		lf_c0 = now(CLOCK_PROCESS_CPUTIME_ID);
		MEASURE_TOGGLE();
	}
	if (lf_calls == 2 * lf_n) {
		MEASURE_TOGGLE();
		double t = now(CLOCK_MONOTONIC) - lf_t0;
		double cpu = now(CLOCK_PROCESS_CPUTIME_ID) - lf_c0;

		printf("coll=libfuzzer-loop workload=fuzz n=%u wall=%.6f cpu=%.6f "
		       "execs=%.1f first_pass_execs=%.1f\n", lf_n, t, cpu,
		       lf_n / t, lf_n / lf_t1);
		fflush(stdout);
		_exit(0);
	}
	gen_input(lf_calls % lf_n, buf, sizeof(buf));
	lf_calls++;
	run_input(buf);
	return 0;
}
#else /* !LF_OWN_LOOP */

struct fuzz_job {
	unsigned n, first;
	struct coll c;
	unsigned long news1;	/* signal found by the first pass */
	double cpu, wall, t0, t1;
	pthread_barrier_t *go;
};

static void *fuzz_thread(void *arg)
{
	struct fuzz_job *j = arg;
	char buf[INPUT_MAX];
	double t0, c0;
	unsigned i;

	coll_init(&j->c);
	/*
	 * A first pass over the inputs finds their coverage; the second, the
	 * one measured, is a fuzzer's steady state: an input rarely brings
	 * new signal (libFuzzer's own loop would otherwise spend its time
	 * adding every input to its corpus).
	 */
	for (i = 0; i < j->n; i++) {
		gen_input(j->first + i, buf, sizeof(buf));
		coll_reset(&j->c);
		run_input(buf);
		coll_read(&j->c);
	}
	j->news1 = j->c.news;
	j->c.news = j->c.items = 0;
	if (j->go)
		pthread_barrier_wait(j->go);
	if (!j->go)
		MEASURE_TOGGLE();
	t0 = now(CLOCK_MONOTONIC);
	c0 = now(CLOCK_THREAD_CPUTIME_ID);
	for (i = 0; i < j->n; i++) {
		/* Generating the input is the fuzzer's business, not measured
		 * separately: the same for every collector. */
		gen_input(j->first + i, buf, sizeof(buf));
		coll_reset(&j->c);
		run_input(buf);
		coll_read(&j->c);
	}
	j->cpu = now(CLOCK_THREAD_CPUTIME_ID) - c0;
	if (!j->go)
		MEASURE_TOGGLE();
	j->t0 = t0;
	j->t1 = now(CLOCK_MONOTONIC);
	j->wall = j->t1 - t0;
	coll_fini(&j->c);
	return NULL;
}

static void workload_fuzz(unsigned n)
{
	struct fuzz_job j = {.n = n, .first = 0};

	fuzz_thread(&j);
	printf("coll=%s workload=fuzz n=%u wall=%.6f cpu=%.6f execs=%.1f "
	       "news=%lu news2=%lu items=%lu maxitems=%lu full=%lu\n",
	       COLL_NAME, n, j.wall, j.cpu, n / j.wall, j.news1, j.c.news,
	       j.c.items, j.c.maxitems, j.c.full);
}

static void workload_threads(unsigned t, unsigned n)
{
	struct fuzz_job *j = calloc(t, sizeof(*j));
	pthread_t *th = calloc(t, sizeof(*th));
	pthread_barrier_t go;
	double t0, t1, wall, cpu = 0, maxcpu = 0;
	unsigned i;

	pthread_barrier_init(&go, NULL, t + 1);
	for (i = 0; i < t; i++) {
		/* Every thread runs the same inputs, on its own databases. */
		j[i] = (struct fuzz_job){.n = n, .first = 0, .go = &go};
		if (pthread_create(&th[i], NULL, fuzz_thread, &j[i]))
			die("pthread_create");
	}
	pthread_barrier_wait(&go);
	for (i = 0; i < t; i++)
		pthread_join(th[i], NULL);
	/* From the first thread's start to the last one's end. */
	t0 = j[0].t0;
	t1 = j[0].t1;
	for (i = 1; i < t; i++) {
		if (j[i].t0 < t0)
			t0 = j[i].t0;
		if (j[i].t1 > t1)
			t1 = j[i].t1;
	}
	wall = t1 - t0;
	for (i = 0; i < t; i++) {
		cpu += j[i].cpu;
		if (j[i].cpu > maxcpu)
			maxcpu = j[i].cpu;
	}
	/* cpu_per_exec: thread CPU time per input, averaged over threads. */
	printf("coll=%s workload=threads threads=%u n=%u wall=%.6f "
	       "execs=%.1f cpu_per_exec_us=%.3f news0=%lu\n",
	       COLL_NAME, t, n, wall, (double)t * n / wall,
	       cpu / ((double)t * n) * 1e6, j[0].c.news);
}
#endif /* LF_OWN_LOOP */

/* ------------------------------------------------------ workload (a) -- */

static void step_all(sqlite3_stmt *st, struct coll *c)
{
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		coll_drop(c);
	coll_drop(c);
	if (rc != SQLITE_DONE)
		die("sqlite3_step");
	sqlite3_reset(st);
}

/*
 * A database of `rows` rows built and queried in memory: indexed inserts in
 * one transaction, range aggregates, ordered range scans, point updates and
 * a LIKE scan over a slice.  Collection (ukcov "on") is drained after every
 * step, so the area never fills: every callback does the full write.
 */
static void workload_cpu(unsigned rows)
{
	struct coll c;
	sqlite3 *db;
	sqlite3_stmt *ins, *agg, *scan, *upd, *like;
	uint64_t s = 42;
	double t0, c0;
	unsigned i;
	char name[32];
	sqlite3_int64 sum = 0;

	coll_init(&c);
	MEASURE_TOGGLE();
	t0 = now(CLOCK_MONOTONIC);
	c0 = now(CLOCK_PROCESS_CPUTIME_ID);
	if (sqlite3_open(":memory:", &db))
		die("sqlite3_open");
	if (sqlite3_exec(db,
			 "CREATE TABLE t(id INTEGER PRIMARY KEY, k INTEGER, "
			 "name TEXT, v REAL);"
			 "CREATE INDEX tk ON t(k);"
			 "CREATE INDEX tn ON t(name);",
			 NULL, NULL, NULL))
		die("create");
	coll_drop(&c);
	if (sqlite3_prepare_v2(db, "INSERT INTO t(k, name, v) VALUES(?, ?, ?)",
			       -1, &ins, NULL) ||
	    sqlite3_prepare_v2(db, "SELECT count(*), sum(v), max(name) FROM t "
			       "WHERE k BETWEEN ?1 AND ?1 + 2000", -1, &agg, NULL) ||
	    sqlite3_prepare_v2(db, "SELECT id, name FROM t WHERE k >= ? "
			       "ORDER BY k LIMIT 40", -1, &scan, NULL) ||
	    sqlite3_prepare_v2(db, "UPDATE t SET v = v + 1, name = ?2 "
			       "WHERE id = ?1", -1, &upd, NULL) ||
	    sqlite3_prepare_v2(db, "SELECT count(*) FROM t WHERE id BETWEEN ?1 "
			       "AND ?1 + 500 AND name LIKE '%7%'", -1, &like, NULL))
		die("prepare");
	sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
	for (i = 0; i < rows; i++) {
		uint64_t r = mix(&s);

		snprintf(name, sizeof(name), "n%llu", (unsigned long long)(r % 1000003));
		sqlite3_bind_int64(ins, 1, (sqlite3_int64)(r >> 40) % 1000000);
		sqlite3_bind_text(ins, 2, name, -1, SQLITE_TRANSIENT);
		sqlite3_bind_double(ins, 3, (double)(r & 0xffff) / 7.0);
		step_all(ins, &c);
	}
	sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	coll_drop(&c);
	for (i = 0; i < rows / 50; i++) {
		sqlite3_bind_int64(agg, 1, (sqlite3_int64)(mix(&s) % 1000000));
		if (sqlite3_step(agg) == SQLITE_ROW)
			sum += sqlite3_column_int64(agg, 0);
		coll_drop(&c);
		sqlite3_reset(agg);
	}
	for (i = 0; i < rows / 20; i++) {
		sqlite3_bind_int64(scan, 1, (sqlite3_int64)(mix(&s) % 1000000));
		step_all(scan, &c);
	}
	sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
	for (i = 0; i < rows / 4; i++) {
		uint64_t r = mix(&s);

		snprintf(name, sizeof(name), "u%llu", (unsigned long long)(r % 99991));
		sqlite3_bind_int64(upd, 1, (sqlite3_int64)(r % rows) + 1);
		sqlite3_bind_text(upd, 2, name, -1, SQLITE_TRANSIENT);
		step_all(upd, &c);
	}
	sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	coll_drop(&c);
	for (i = 0; i < rows / 100; i++) {
		sqlite3_bind_int64(like, 1, (sqlite3_int64)(mix(&s) % rows));
		step_all(like, &c);
	}
	sqlite3_finalize(ins);
	sqlite3_finalize(agg);
	sqlite3_finalize(scan);
	sqlite3_finalize(upd);
	sqlite3_finalize(like);
	sqlite3_close(db);
	coll_drop(&c);
	MEASURE_TOGGLE();
	printf("coll=%s workload=cpu rows=%u wall=%.6f cpu=%.6f check=%lld "
	       "items=%lu maxitems=%lu full=%lu\n",
	       COLL_NAME, rows, now(CLOCK_MONOTONIC) - t0,
	       now(CLOCK_PROCESS_CPUTIME_ID) - c0, (long long)sum, c.items,
	       c.maxitems, c.full);
	coll_fini(&c);
}

#ifndef LF_OWN_LOOP
int main(int argc, char **argv)
{
	if (argc < 3)
		die("usage: driver cpu ROWS [on] | fuzz N [on] | threads T N [on]");
#ifdef COLL_AFL
	afl_tables();
#endif
	if (!strcmp(argv[1], "threads")) {
		if (argc < 4)
			die("usage: driver threads T N [on]");
		collect_on = argc > 4 && !strcmp(argv[4], "on");
	} else {
		collect_on = argc > 3 && !strcmp(argv[3], "on");
	}
#if defined(COLL_LF) || defined(COLL_AFL)
	collect_on = 1;
#endif
	if (!strcmp(argv[1], "cpu"))
		workload_cpu((unsigned)atoi(argv[2]));
	else if (!strcmp(argv[1], "fuzz"))
		workload_fuzz((unsigned)atoi(argv[2]));
	else if (!strcmp(argv[1], "threads"))
		workload_threads((unsigned)atoi(argv[2]), (unsigned)atoi(argv[3]));
	else
		die("unknown workload");
	return 0;
}
#endif
