// SPDX-License-Identifier: MIT
/*
 * The SQLite driver of `make bench-peers`: SQLite (the amalgamation, built
 * with one kind of coverage instrumentation) under one collector
 * (coll.h, chosen at build time: COLL_NONE, COLL_UKCOV, COLL_LF, COLL_AFL;
 * its mode at run time).  This file is never instrumented itself.
 *
 *   COLL_LF + LF_OWN_LOOP  no main: libFuzzer's own loop (FuzzerDriver,
 *               mutation, corpus, RunOne) calls LLVMFuzzerTestOneInput,
 *               which runs the bench's inputs in order and ignores the
 *               mutated bytes
 *
 * Usage:  driver cpu ROWS [MODE]     workload (a): a database of ROWS rows
 *         driver fuzz N [MODE]       workload (b): N generated inputs
 *         driver threads T N [MODE]  workload (c): T threads, N inputs each
 *         driver verify N WORDS      ukcov only: unique mode (a bitmap of
 *                                    WORDS words) against the ordered trace
 *                                    on the first N inputs of (b)
 * MODE is the collector's (coll.h): for ukcov off (the default), on,
 * buckets, cmp or unique=WORDS; for the peers on (the default) or
 * nobuckets.  Each run prints one line of key=value pairs; a collector
 * that is not available prints skip=REASON and exits with 77.
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

#include "coll.h"

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

#ifdef COLL_UKCOV
/* ----------------------------------------------------- unique check -- */

static int cmp_ul(const void *a, const void *b)
{
	unsigned long x = *(const unsigned long *)a, y = *(const unsigned long *)b;

	return x < y ? -1 : x > y;
}

/* Sort n PCs in place and drop repeats; returns how many stay. */
static unsigned long distinct(unsigned long *pc, unsigned long n)
{
	unsigned long i, k = 0;

	qsort(pc, n, sizeof(*pc), cmp_ul);
	for (i = 0; i < n; i++)
		if (!k || pc[i] != pc[k - 1])
			pc[k++] = pc[i];
	return k;
}

/*
 * SQLite's allocator for the check: glibc's realloc grows a block in place
 * or moves it depending on what the heap holds, and SQLite's paths follow
 * (dbReallocFinish, sqlite3AddColumn...), so two runs of one input differ
 * by a few PCs.  This one never reuses memory and every realloc moves: the
 * same input takes the same path every time.
 */
#define BUMP_SIZE (1ul << 34)	/* address space only (MAP_NORESERVE) */
static char *bump_base;
static unsigned long bump_used;

static void *bump_malloc(int n)
{
	unsigned long sz = ((unsigned long)n + 15) & ~15ul;
	char *p;

	if (n <= 0 || bump_used + 16 + sz > BUMP_SIZE)
		return NULL;
	p = bump_base + bump_used;
	bump_used += 16 + sz;
	*(unsigned long *)p = sz;
	return p + 16;
}
static void bump_free(void *p) { (void)p; }
static int bump_size(void *p)
{
	return p ? (int)*(unsigned long *)((char *)p - 16) : 0;
}
static void *bump_realloc(void *p, int n)
{
	void *q = bump_malloc(n);
	int old = bump_size(p);

	if (q && p)
		memcpy(q, p, old < n ? old : n);
	return q;
}
static int bump_roundup(int n) { return (n + 15) & ~15; }
static int bump_init(void *x) { (void)x; return SQLITE_OK; }
static void bump_shutdown(void *x) { (void)x; }

static void deterministic_heap(void)
{
	static const sqlite3_mem_methods m = {
		bump_malloc, bump_free, bump_realloc, bump_size, bump_roundup,
		bump_init, bump_shutdown, NULL,
	};

	bump_base = mmap(NULL, BUMP_SIZE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (bump_base == MAP_FAILED)
		die("mmap");
	if (sqlite3_config(SQLITE_CONFIG_MALLOC, &m) != SQLITE_OK)
		die("sqlite3_config(SQLITE_CONFIG_MALLOC)");
}

/* One kcov of `words` words, mapped; not enabled. */
static unsigned long *open_area(int *fd, unsigned long words)
{
	unsigned long *a;

	*fd = ukcov_open();
	if (*fd < 0 || ukcov_ioctl(*fd, KCOV_INIT_TRACE, words))
		die("ukcov_open / KCOV_INIT_TRACE");
	a = ukcov_mmap(NULL, words * sizeof(long), PROT_READ | PROT_WRITE,
		       MAP_SHARED, *fd, 0);
	if (a == MAP_FAILED)
		die("ukcov_mmap");
	return a;
}

/*
 * Input i under an ordered trace (KCOV_ENABLE, KCOV_TRACE_PC): its
 * distinct PCs, sorted, into out; returns how many, or -1 when the trace
 * filled.
 */
static long ordered_pcs(int fd, unsigned long *area, unsigned long words,
			const char *sql, unsigned long *out)
{
	unsigned long n;

	if (ukcov_ioctl(fd, KCOV_ENABLE, KCOV_TRACE_PC))
		die("KCOV_ENABLE");
	__atomic_store_n(&area[0], 0, __ATOMIC_RELAXED);
	run_input(sql);
	if (ukcov_ioctl(fd, KCOV_DISABLE, 0))
		die("KCOV_DISABLE");
	n = __atomic_load_n(&area[0], __ATOMIC_ACQUIRE);
	if (n >= words - 1)
		return -1;
	memcpy(out, area + 1, n * sizeof(*out));
	return (long)distinct(out, n);
}

/*
 * `driver verify N WORDS`: unique mode checked against the ordered trace,
 * input by input.  Each of the N inputs runs three times in a fresh
 * database: under an ordered trace, in unique mode (KCOV_UNIQUE_ENABLE
 * with a bitmap of WORDS words, KCOV_RESET_TRACE, run, read the trace at
 * area[WORDS]), under an ordered trace again.  Unique mode must append
 * each PC once (dups: repeats within one input's trace) and exactly the
 * ordered trace's distinct PCs (equal / differ); an input whose two
 * ordered runs disagree is not SQLite-deterministic and is not compared
 * (nondet).
 */
static void workload_verify(unsigned n, unsigned long bw)
{
	const unsigned long ow = 1ul << 22, uw = bw + (1ul << 20);
	unsigned long *oa, *ua, *p1, *p2, *pu, *ut = NULL, un, total = 0;
	unsigned long dups = 0, equal = 0, differ = 0, nondet = 0, full = 0;
	unsigned long missing = 0, extra = 0;
	int ofd, ufd;
	char buf[INPUT_MAX];
	unsigned i;

	deterministic_heap();
	oa = open_area(&ofd, ow);
	ua = open_area(&ufd, uw);
	p1 = malloc(ow * sizeof(long));
	p2 = malloc(ow * sizeof(long));
	pu = malloc(uw * sizeof(long));
	if (!p1 || !p2 || !pu)
		die("malloc");
	ut = ua + bw;
	for (i = 0; i < n; i++) {
		long n1, n2;
		unsigned long a, b;

		gen_input(i, buf, sizeof(buf));
		run_input(buf);	/* warm: SQLite's first-time paths (initialisation) */
		n1 = ordered_pcs(ofd, oa, ow, buf, p1);
		if (ukcov_ioctl(ufd, KCOV_UNIQUE_ENABLE, bw))
			die("KCOV_UNIQUE_ENABLE");
		if (ukcov_ioctl(ufd, KCOV_RESET_TRACE, 0))
			die("KCOV_RESET_TRACE");
		run_input(buf);
		if (ukcov_ioctl(ufd, KCOV_DISABLE, 0))
			die("KCOV_DISABLE");
		un = __atomic_load_n(&ut[0], __ATOMIC_ACQUIRE);
		n2 = ordered_pcs(ofd, oa, ow, buf, p2);
		if (n1 < 0 || n2 < 0 || un >= (1ul << 20) - 1) {
			full++;
			continue;
		}
		memcpy(pu, ut + 1, un * sizeof(*pu));
		a = distinct(pu, un);
		dups += un - a;
		total += a;
		un = a;
		if (n1 != n2 || memcmp(p1, p2, n1 * sizeof(*p1))) {
			nondet++;
			continue;
		}
		if ((unsigned long)n1 == un && !memcmp(p1, pu, un * sizeof(*pu))) {
			equal++;
			continue;
		}
		differ++;
		/* Which side has PCs the other lacks (both sorted). */
		for (a = b = 0; a < (unsigned long)n1 || b < un;) {
			if (b >= un || (a < (unsigned long)n1 && p1[a] < pu[b]))
				missing++, a++;
			else if (a >= (unsigned long)n1 || pu[b] < p1[a])
				extra++, b++;
			else
				a++, b++;
		}
	}
	printf("coll=%s workload=verify n=%u bitmap_words=%lu equal=%lu "
	       "differ=%lu nondet=%lu full=%lu dups=%lu missing=%lu extra=%lu "
	       "pcs_per_input=%.1f\n", COLL_NAME, n, bw, equal, differ, nondet,
	       full, dups, missing, extra,
	       n > full ? (double)total / (n - full) : 0.0);
	free(p1);
	free(p2);
	free(pu);
}
#endif /* COLL_UKCOV */

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
	const char *mode;

	if (argc < 3)
		die("usage: driver cpu ROWS [MODE] | fuzz N [MODE] | verify N WORDS | "
		    "threads T N [MODE]");
	if (!strcmp(argv[1], "threads") || !strcmp(argv[1], "verify")) {
		if (argc < 4)
			die("usage: driver threads T N [MODE] | verify N WORDS");
		mode = !strcmp(argv[1], "verify") ? NULL :
		       argc > 4 ? argv[4] : NULL;
	} else {
		mode = argc > 3 ? argv[3] : NULL;
	}
	if (coll_parse(mode))
		die("unknown collector mode");
	if (!strcmp(argv[1], "cpu"))
		workload_cpu((unsigned)atoi(argv[2]));
	else if (!strcmp(argv[1], "fuzz"))
		workload_fuzz((unsigned)atoi(argv[2]));
	else if (!strcmp(argv[1], "threads"))
		workload_threads((unsigned)atoi(argv[2]), (unsigned)atoi(argv[3]));
#ifdef COLL_UKCOV
	else if (!strcmp(argv[1], "verify"))
		workload_verify((unsigned)atoi(argv[2]),
				strtoul(argv[3], NULL, 0));
#endif
	else
		die("unknown workload");
	return 0;
}
#endif
