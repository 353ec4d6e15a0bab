// SPDX-License-Identifier: MIT
/*
 * The feed (ukcov_fuzzer(3)): one input's coverage, from the harness
 * thread and from the remote sections run for it, folded into an engine's
 * byte map.
 *
 * Each harness thread owns two kcovs: its own trace (KCOV_ENABLE) and a
 * remote kcov with a common handle of its own (KCOV_REMOTE_ENABLE), which
 * every thread it creates inherits and which pools capture.  An input:
 * empty both areas; run; ukcov_remote_wait() for the sections still open
 * (a pool's job says "done" before its section lands); fold.
 *
 * The fold counts hits per site, as the engines' own instrumentation does
 * (libFuzzer's inline 8-bit counters, AFL++'s edge counters): a site's
 * count does not depend on the order in which threads ran, so a map is
 * the same for the same input however the pool's jobs interleaved.
 * Edges between consecutive PCs would depend on that order.
 *
 * Not instrumented (built without -fsanitize-coverage): nothing here adds
 * to a trace.  ukcov_fuzzer_end's fold is also used from a crash handler
 * (afl.c), so __ukcov_fuzzer_fold touches no lock and allocates nothing.
 */
#include <errno.h>
#include <limits.h>
#include <link.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <ukcov.h>

#include "feed.h"
#include "ukcov/fuzzer.h"

/* ---- knobs -------------------------------------------------------------- */

/* Words of each thread's own area and of its remote area (KCOV_ENABLE
 * makes the own area resident, as Linux's kcov does: a process pays for
 * its size once, at its first input); words of each section's buffer
 * (touched as entries arrive); the longest wait for sections in flight,
 * in milliseconds. */
#define AREA_WORDS_DEFAULT (1ul << 20)	/* 8 MiB */
#define SECTION_WORDS_DEFAULT (1ul << 18)	/* 2 MiB */
#define WAIT_MS_DEFAULT 500ul	/* half of afl-fuzz's default -t */
/* The runtime's bounds: KCOV_INIT_TRACE takes at most INT_MAX / 8 words;
 * a section's buffer is mmap'ed whole when the section starts. */
#define AREA_WORDS_MAX ((unsigned long)INT_MAX / 8)
#define SECTION_WORDS_MAX (1ul << 27)	/* 1 GiB */

/*
 * A number from the environment: def when name is unset or empty; when
 * its value is not decimal digits within [min, max], def and *bad set.
 */
unsigned long __ukcov_fuzzer_env(const char *name, unsigned long def,
				 unsigned long min, unsigned long max,
				 bool *bad)
{
	const char *s = getenv(name);
	unsigned long v;
	char *end;

	*bad = false;
	if (!s || !*s)
		return def;
	errno = 0;
	v = strtoul(s, &end, 10);
	/* Decimal digits only: no sign, no space, no 0x. */
	if (strspn(s, "0123456789") != strlen(s) || errno || *end ||
	    v < min || v > max) {
		*bad = true;
		return def;
	}
	return v;
}

/* The feed's knobs: a bad value is said, and the default used. */
static unsigned long knob(const char *name, unsigned long def,
			  unsigned long min, unsigned long max)
{
	bool bad;
	unsigned long v = __ukcov_fuzzer_env(name, def, min, max, &bad);

	if (bad)
		fprintf(stderr, "ukcov-fuzzer: %s=%s: not a decimal number in "
			"[%lu, %lu]; using %lu\n", name, getenv(name), min,
			max, def);
	return v;
}

/* ---- where a PC is: module ranges, for indices stable across processes -- */

struct range {
	uintptr_t start, end;	/* an executable segment, loaded */
	uintptr_t bias;		/* the module's load bias */
	uint64_t name_hash;	/* of the module's file name */
};

#define RANGES_MAX 512
/*
 * Written by refresh() under ranges_lock with the count published last
 * (release); read by folds, which take the count first (acquire).  A
 * refresh that shrinks the table (dlclose) can race a fold on another
 * thread into one wrong index, never out of bounds: entries are never
 * freed.
 */
static struct range ranges[RANGES_MAX];
static unsigned int nranges;
static pthread_mutex_t ranges_lock = PTHREAD_MUTEX_INITIALIZER;

static uint64_t fnv1a(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 0x100000001b3ull;
	return h;
}

struct collect {
	struct range r[RANGES_MAX];
	unsigned int n;
};

static int collect_module(struct dl_phdr_info *info, size_t size, void *data)
{
	struct collect *c = data;
	const char *name = info->dlpi_name ? info->dlpi_name : "";
	const char *base = strrchr(name, '/');
	uint64_t h;
	int i;

	(void)size;
	/* The program itself has an empty name; a file name, not the path,
	 * so that a moved build keeps its indices. */
	h = fnv1a(base ? base + 1 : name);
	for (i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *p = &info->dlpi_phdr[i];

		if (p->p_type != PT_LOAD || !(p->p_flags & PF_X))
			continue;
		if (c->n == RANGES_MAX)
			return 1;
		c->r[c->n++] = (struct range){
			.start = info->dlpi_addr + p->p_vaddr,
			.end = info->dlpi_addr + p->p_vaddr + p->p_memsz,
			.bias = info->dlpi_addr,
			.name_hash = h,
		};
	}
	return 0;
}

static int range_cmp(const void *a, const void *b)
{
	const struct range *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/* Read the loaded modules again.  Not async-signal-safe. */
static void refresh(void)
{
	static struct collect c;	/* under ranges_lock */

	pthread_mutex_lock(&ranges_lock);
	c.n = 0;
	dl_iterate_phdr(collect_module, &c);
	qsort(c.r, c.n, sizeof(c.r[0]), range_cmp);
	__atomic_store_n(&nranges, 0, __ATOMIC_RELEASE);
	memcpy(ranges, c.r, c.n * sizeof(c.r[0]));
	__atomic_store_n(&nranges, c.n, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&ranges_lock);
}

static const struct range *find(uintptr_t pc, unsigned int n)
{
	unsigned int lo = 0, hi = n;

	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;

		if (pc < ranges[mid].start)
			hi = mid;
		else if (pc >= ranges[mid].end)
			lo = mid + 1;
		else
			return &ranges[mid];
	}
	return NULL;
}

/* The key of a PC in a range (or of a PC in none: itself). */
static inline uint64_t key_of(uintptr_t pc, const struct range *r)
{
	if (!r)
		return pc;
	return (uint64_t)(pc - r->bias) ^ r->name_hash;
}

static inline size_t index_of(uint64_t key, size_t size)
{
	/* A 64-bit mixer (splitmix64's finaliser), then a multiply-high
	 * reduction into [0, size): no division per PC. */
	key ^= key >> 30;
	key *= 0xbf58476d1ce4e5b9ull;
	key ^= key >> 27;
	key *= 0x94d049bb133111ebull;
	key ^= key >> 31;
	if (size <= UINT32_MAX)
		return (size_t)(((key >> 32) * (uint64_t)size) >> 32);
	return (size_t)(key % size);
}

size_t ukcov_fuzzer_index(uintptr_t pc, size_t size)
{
	unsigned int n = __atomic_load_n(&nranges, __ATOMIC_ACQUIRE);
	const struct range *r;

	if (size == 0)
		return 0;
	if (n == 0) {
		refresh();
		n = __atomic_load_n(&nranges, __ATOMIC_ACQUIRE);
	}
	r = find(pc, n);
	if (!r) {
		refresh();
		r = find(pc, __atomic_load_n(&nranges, __ATOMIC_ACQUIRE));
	}
	return index_of(key_of(pc, r), size);
}

/* 255: hit counts; 1: each site reached once (UKCOV_FUZZER_COUNTS=0). */
static uint8_t hits_cap = 255;

/*
 * Fold n PCs into map.  A PC in no known module (one dlopen'ed since the
 * last refresh) makes the fold read the modules again, once, if
 * may_refresh; a PC still in none is counted at its absolute address.
 * With may_refresh false: async-signal-safe (no lock, no allocation).
 */
void __ukcov_fuzzer_fold(const unsigned long *pcs, unsigned long n,
			 uint8_t *map, size_t size, bool may_refresh)
{
	unsigned int nr = __atomic_load_n(&nranges, __ATOMIC_ACQUIRE);
	const struct range *last = NULL;
	uint8_t cap = hits_cap;
	unsigned long i;

	for (i = 0; i < n; i++) {
		uintptr_t pc = pcs[i];
		const struct range *r = last;
		size_t x;

		if (!r || pc < r->start || pc >= r->end) {
			r = find(pc, nr);
			if (!r && may_refresh) {
				may_refresh = false;
				refresh();
				nr = __atomic_load_n(&nranges, __ATOMIC_ACQUIRE);
				r = find(pc, nr);
			}
			last = r;
		}
		x = index_of(key_of(pc, r), size);
		if (map[x] < cap)
			map[x]++;
	}
}

/* ---- a harness thread's kcovs ------------------------------------------- */

struct feed {
	int own_fd, rem_fd;
	unsigned long *own, *rem;	/* the areas, count first */
	unsigned long words;		/* of each */
	uint64_t handle;
	bool begun;
	uint64_t dropped_seen;		/* the kcovs' drop counters, read last */
	uint64_t skipped_seen;		/* the remote kcov's skipped sections */
	uint64_t inputs;		/* ended on this thread */
};

static __thread struct feed *cur;
/* The feed of the input begun last, on any thread: what a crash on another
 * thread (a pool's) or an exit() folds. */
static struct feed *last_begun;
static pthread_key_t feed_key;
static pthread_once_t feed_once = PTHREAD_ONCE_INIT;
static unsigned long wait_ms;
static unsigned long section_words;
static unsigned long area_words;
static uint64_t timeouts, dropped;
static unsigned int next_instance;

/* The first to see a kind of trouble says so, once per process. */
static void warn_once(bool *said, const char *msg)
{
	if (!__atomic_exchange_n(said, true, __ATOMIC_RELAXED))
		fprintf(stderr, "ukcov-fuzzer: %s\n", msg);
}

static void feed_free(void *p)
{
	struct feed *f = p;
	struct feed *expect = f;

	if (!f)
		return;
	__atomic_compare_exchange_n(&last_begun, &expect, NULL, false,
				    __ATOMIC_ACQ_REL, __ATOMIC_RELAXED);
	if (f->rem_fd >= 0) {
		ukcov_ioctl(f->rem_fd, KCOV_DISABLE, 0);
		ukcov_close(f->rem_fd);
	}
	if (f->own_fd >= 0) {
		ukcov_ioctl(f->own_fd, KCOV_DISABLE, 0);
		ukcov_close(f->own_fd);
	}
	if (f->own)
		munmap(f->own, f->words * sizeof(long));
	if (f->rem)
		munmap(f->rem, f->words * sizeof(long));
	free(f);
}

static void feed_init_once(void)
{
	pthread_key_create(&feed_key, feed_free);
	area_words = knob("UKCOV_FUZZER_AREA_WORDS", AREA_WORDS_DEFAULT,
			  512, AREA_WORDS_MAX);
	section_words = knob("UKCOV_FUZZER_SECTION_WORDS", SECTION_WORDS_DEFAULT,
			     2, SECTION_WORDS_MAX);
	wait_ms = knob("UKCOV_FUZZER_WAIT_MS", WAIT_MS_DEFAULT, 0, 3600000);
	hits_cap = knob("UKCOV_FUZZER_COUNTS", 1, 0, 1) ? 255 : 1;
	refresh();
}

static unsigned long *area_of(int fd, unsigned long words)
{
	void *p;

	if (ukcov_ioctl(fd, KCOV_INIT_TRACE, words))
		return NULL;
	p = ukcov_mmap(NULL, words * sizeof(long), PROT_READ | PROT_WRITE,
		       MAP_SHARED, fd, 0);
	return p == MAP_FAILED ? NULL : p;
}

static struct feed *feed_open(void)
{
	struct kcov_remote_arg arg = { .trace_mode = KCOV_TRACE_PC };
	struct feed *f;
	unsigned int inst;
	int err;

	pthread_once(&feed_once, feed_init_once);
	f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	f->own_fd = f->rem_fd = -1;
	f->words = area_words;
	inst = __atomic_fetch_add(&next_instance, 1, __ATOMIC_RELAXED);
	/* A common handle per harness thread, in an instance range of its
	 * own ("uf", 0x7566, then the thread's number). */
	f->handle = kcov_remote_handle(KCOV_SUBSYSTEM_COMMON,
				       0x75660000u | (inst & 0xffffu));
	f->own_fd = ukcov_open();
	f->rem_fd = ukcov_open();
	if (f->own_fd < 0 || f->rem_fd < 0)
		goto fail;
	f->own = area_of(f->own_fd, f->words);
	f->rem = area_of(f->rem_fd, f->words);
	if (!f->own || !f->rem)
		goto fail;
	arg.area_size = (uint32_t)section_words;
	arg.common_handle = f->handle;
	if (ukcov_ioctl(f->own_fd, KCOV_ENABLE, KCOV_TRACE_PC) ||
	    ukcov_ioctl(f->rem_fd, KCOV_REMOTE_ENABLE, &arg))
		goto fail;
	pthread_setspecific(feed_key, f);
	return f;
fail:
	err = errno;
	feed_free(f);
	errno = err;
	return NULL;
}

int ukcov_fuzzer_begin(void)
{
	struct feed *f = cur;

	if (!f) {
		f = feed_open();
		if (!f)
			return -1;
		cur = f;
	}
	/* Sections of an earlier input that outlived its wait land after
	 * this; they are counted in ukcov_fuzzer_timeouts(). */
	__atomic_store_n(&f->rem[0], 0, __ATOMIC_RELAXED);
	__atomic_store_n(&f->own[0], 0, __ATOMIC_RELAXED);
	f->begun = true;
	__atomic_store_n(&last_begun, f, __ATOMIC_RELEASE);
	return 0;
}

/* Entries an area holds: its count, bounded by its size (the count of a
 * kcov never passes size - 1, but the area is the program's to scribble). */
static unsigned long entries(const unsigned long *area, unsigned long words)
{
	unsigned long n = __atomic_load_n(&area[0], __ATOMIC_ACQUIRE);

	return n < words ? n : words - 1;
}

static bool said_timeout, said_dropped;

static bool said_skipped;

/* Entries dropped and sections skipped (no buffer) since the last look:
 * counted, and said once each. */
static void check_drops(struct feed *f)
{
	struct ukcov_stats a, b;
	uint64_t d;

	if (ukcov_get_stats(f->own_fd, &a) || ukcov_get_stats(f->rem_fd, &b))
		return;
	d = a.entries_dropped + b.entries_dropped;
	if (d != f->dropped_seen) {
		__atomic_add_fetch(&dropped, d - f->dropped_seen,
				   __ATOMIC_RELAXED);
		f->dropped_seen = d;
		warn_once(&said_dropped, "an input's trace did not fit: raise "
			  "UKCOV_FUZZER_AREA_WORDS (or "
			  "UKCOV_FUZZER_SECTION_WORDS)");
	}
	if (b.sections_skipped != f->skipped_seen) {
		__atomic_add_fetch(&dropped, b.sections_skipped - f->skipped_seen,
				   __ATOMIC_RELAXED);
		f->skipped_seen = b.sections_skipped;
		warn_once(&said_skipped, "sections were lost: no buffer of "
			  "UKCOV_FUZZER_SECTION_WORDS words could be had");
	}
}

long ukcov_fuzzer_end(uint8_t *map, size_t size)
{
	struct feed *f = cur;
	unsigned long n1, n2;

	if (!f || !f->begun || !map || size == 0) {
		errno = EINVAL;
		return -1;
	}
	f->begun = false;
	if (ukcov_remote_wait(f->rem_fd, (uint64_t)wait_ms * 1000000)) {
		__atomic_add_fetch(&timeouts, 1, __ATOMIC_RELAXED);
		warn_once(&said_timeout, "a remote section did not land within "
			  "UKCOV_FUZZER_WAIT_MS; its coverage may count for a "
			  "later input");
	}
	n1 = entries(f->own, f->words);
	n2 = entries(f->rem, f->words);
	__ukcov_fuzzer_fold(f->own + 1, n1, map, size, true);
	__ukcov_fuzzer_fold(f->rem + 1, n2, map, size, true);
	/* The drop counters cost four system calls: read them after the
	 * first inputs (1, 2, 4, ... 512), then every 1024, and whenever an
	 * area is full. */
	f->inputs++;
	if ((f->inputs & (f->inputs - 1)) == 0 || (f->inputs & 1023) == 0 ||
	    n1 == f->words - 1 || n2 == f->words - 1)
		check_drops(f);
	return (long)(n1 + n2);
}

uint64_t ukcov_fuzzer_handle(void)
{
	return cur ? cur->handle : 0;
}

uint64_t ukcov_fuzzer_timeouts(void)
{
	return __atomic_load_n(&timeouts, __ATOMIC_RELAXED);
}

uint64_t ukcov_fuzzer_dropped(void)
{
	if (cur)
		check_drops(cur);
	return __atomic_load_n(&dropped, __ATOMIC_RELAXED);
}

/*
 * The input in progress as it is now, for a crash handler or an exit: the
 * calling thread's, or else the one begun last on any thread (a pool
 * thread that crashes has none of its own).  The sections still open are
 * not in it.  No wait, no lock: async-signal-safe.
 */
void __ukcov_fuzzer_fold_now(uint8_t *map, size_t size)
{
	struct feed *f = cur;

	if (!f || !f->begun)
		f = __atomic_load_n(&last_begun, __ATOMIC_ACQUIRE);
	if (!f || !f->begun)
		return;
	__ukcov_fuzzer_fold(f->own + 1, entries(f->own, f->words), map, size,
			    false);
	__ukcov_fuzzer_fold(f->rem + 1, entries(f->rem, f->words), map, size,
			    false);
}
