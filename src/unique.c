// SPDX-License-Identifier: MIT
/*
 * Unique coverage (KCOV_UNIQUE_ENABLE, the 2025 series of Linux's kcov,
 * reference/linux-kcov.md section 6): each call site appends its PC to a
 * kcov's trace only the first time it runs since the last reset.
 *
 * What is here, away from the hot path:
 *   - the index space: trace-pc-guard modules' guards numbered at
 *     __sanitizer_cov_trace_pc_guard_init, trace-pc modules' executable
 *     segments given ranges (internal.h, "Unique mode's index space");
 *   - a kcov's unique state (struct ukcov_uniq): set up, cleared in time
 *     proportional to what was set since the last reset, and merged into
 *     from remote sections;
 *   - the per-thread maps that deduplicate within one remote section.
 * The callbacks (callbacks.c) test one byte per hit and, the first time,
 * set it and append.
 */
#include <elf.h>
#include <errno.h>
#include <link.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "internal.h"

/* Indices handed out so far, plus 1 (0 means none). */
static uint64_t next_index = 1;

/* n consecutive indices; 0 when they would pass UKCOV_INDEX_LIMIT. */
static uint64_t index_take(uint64_t n)
{
	uint64_t base = __atomic_load_n(&next_index, __ATOMIC_RELAXED);

	do {
		if (n >= UKCOV_INDEX_LIMIT || base > UKCOV_INDEX_LIMIT - n)
			return 0;
	} while (!__atomic_compare_exchange_n(&next_index, &base, base + n,
					      true, __ATOMIC_RELAXED,
					      __ATOMIC_RELAXED));
	return base;
}

/*
 * clang's -fsanitize-coverage=trace-pc-guard: every module's constructor
 * hands its guards here, once (a guard already numbered means the module
 * was seen).  Each guard gets its index; past the limit, 0.  Any context,
 * before main too: no allocation, no lock.
 */
UKCOV_API UKCOV_NOCOV void __sanitizer_cov_trace_pc_guard_init(uint32_t *start,
							      uint32_t *stop);
void __sanitizer_cov_trace_pc_guard_init(uint32_t *start, uint32_t *stop)
{
	uint64_t n, base, i;

	if (!start || start >= stop || *start)
		return;
	n = (uint64_t)(stop - start);
	base = index_take(n);
	for (i = 0; i < n; i++)
		start[i] = base ? (uint32_t)(base + i) : 0;
}

/* ---- trace-pc modules' ranges ---------------------------------------- */

static ukcov_lock_t pcmap_lock;		/* writers of __ukcov_pcmap */
static uint64_t pcmap_ids[UKCOV_PCMAP_MAX]; /* each entry's module identity */
static bool pcmap_used;			/* unique mode was asked for */

/* A symbol's name in a loaded module's dynamic symbol table. */
struct dynsyms {
	const ElfW(Sym) *sym;
	const char *str;
	const uint32_t *gnu_hash;
	const ElfW(Word) *sysv_hash;
};

static uintptr_t dyn_addr(const struct dl_phdr_info *info, ElfW(Addr) p)
{
	/* glibc relocates these in place; other loaders may not. */
	return p < info->dlpi_addr ? info->dlpi_addr + p : p;
}

static bool dynsyms_of(const struct dl_phdr_info *info, struct dynsyms *d)
{
	const ElfW(Dyn) *dyn = NULL;
	int i;

	memset(d, 0, sizeof(*d));
	for (i = 0; i < info->dlpi_phnum; i++)
		if (info->dlpi_phdr[i].p_type == PT_DYNAMIC)
			dyn = (const ElfW(Dyn) *)(info->dlpi_addr +
						  info->dlpi_phdr[i].p_vaddr);
	if (!dyn)
		return false;
	for (; dyn->d_tag != DT_NULL; dyn++) {
		switch (dyn->d_tag) {
		case DT_SYMTAB:
			d->sym = (const ElfW(Sym) *)dyn_addr(info, dyn->d_un.d_ptr);
			break;
		case DT_STRTAB:
			d->str = (const char *)dyn_addr(info, dyn->d_un.d_ptr);
			break;
		case DT_GNU_HASH:
			d->gnu_hash = (const uint32_t *)dyn_addr(info,
							      dyn->d_un.d_ptr);
			break;
		case DT_HASH:
			d->sysv_hash = (const ElfW(Word) *)dyn_addr(
				info, dyn->d_un.d_ptr);
			break;
		default:
			break;
		}
	}
	return d->sym && d->str && (d->gnu_hash || d->sysv_hash);
}

/* How many symbols the dynamic symbol table holds (from its hash table:
 * the dynamic section does not say). */
static uint32_t dynsyms_count(const struct dynsyms *d)
{
	const uint32_t *h = d->gnu_hash, *buckets, *chain;
	uint32_t nbuckets, symoffset, bloom, i, last = 0;

	if (!h)
		return d->sysv_hash[1]; /* nchain */
	nbuckets = h[0];
	symoffset = h[1];
	bloom = h[2];
	buckets = (const uint32_t *)((const ElfW(Addr) *)&h[4] + bloom);
	chain = buckets + nbuckets;
	for (i = 0; i < nbuckets; i++)
		if (buckets[i] > last)
			last = buckets[i];
	if (last < symoffset)
		return symoffset;
	while (!(chain[last - symoffset] & 1))
		last++;
	return last + 1;
}

/*
 * Whether the module's dynamic symbol table names `name`, defined or not:
 * a linear walk, since the GNU hash table holds defined symbols only.
 * Run once per module (scan_module remembers).
 */
static bool dynsyms_name(const struct dynsyms *d, const char *name)
{
	uint32_t i, n = dynsyms_count(d);

	for (i = 1; i < n; i++)
		if (!strcmp(d->str + d->sym[i].st_name, name))
			return true;
	return false;
}

static bool in_module(const struct dl_phdr_info *info, uintptr_t a)
{
	int i;

	for (i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t lo = info->dlpi_addr + ph->p_vaddr;

		if (ph->p_type == PT_LOAD && a - lo < ph->p_memsz)
			return true;
	}
	return false;
}

/*
 * A trace-pc module: it names __sanitizer_cov_trace_pc (a module linked
 * with libukcov.so imports it), or it holds ukcov itself (libukcov.a
 * linked into it: then it was built to be collected), but for
 * libukcov.so.
 */
static bool traces_pc(const struct dl_phdr_info *info)
{
	struct dynsyms d;
	const char *name = info->dlpi_name ? info->dlpi_name : "";

	if (in_module(info, (uintptr_t)&index_take))
		return !strstr(name, "libukcov.so");
	return dynsyms_of(info, &d) &&
	       dynsyms_name(&d, "__sanitizer_cov_trace_pc");
}

/* A module's identity: its GNU build id, else its path, hashed (FNV-1a),
 * and its load address. */
static uint64_t module_id(const struct dl_phdr_info *info)
{
	uint64_t h = 0xcbf29ce484222325ull ^ info->dlpi_addr;
	const unsigned char *p = (const unsigned char *)info->dlpi_name, *e;
	int i;

	for (i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		const char *n, *end;

		if (ph->p_type != PT_NOTE)
			continue;
		n = (const char *)(info->dlpi_addr + ph->p_vaddr);
		end = n + ph->p_memsz;
		while (n + sizeof(ElfW(Nhdr)) <= end) {
			const ElfW(Nhdr) *nh = (const ElfW(Nhdr) *)n;
			const char *desc =
				n + sizeof(*nh) + ((nh->n_namesz + 3) & ~3u);

			if (nh->n_type == NT_GNU_BUILD_ID && nh->n_namesz == 4 &&
			    !memcmp(n + sizeof(*nh), "GNU", 4)) {
				p = (const unsigned char *)desc;
				e = p + nh->n_descsz;
				goto hash;
			}
			n = desc + ((nh->n_descsz + 3) & ~3u);
		}
	}
	if (!p)
		return h;
	e = p + strlen((const char *)p);
hash:
	for (; p < e; p++)
		h = (h ^ *p) * 0x100000001b3ull;
	return h;
}

/* Modules whose symbols were looked at, by identity: whether they trace
 * PCs (libc and the like are looked at once). */
#define CHECKED_MAX 1024
static struct {
	uint64_t id;
	bool traces;
} checked[CHECKED_MAX];
static unsigned int nchecked;

static bool traces_pc_cached(const struct dl_phdr_info *info, uint64_t id)
{
	unsigned int i;
	bool t;

	for (i = 0; i < nchecked; i++)
		if (checked[i].id == id)
			return checked[i].traces;
	t = traces_pc(info);
	if (nchecked < CHECKED_MAX) {
		checked[nchecked].id = id;
		checked[nchecked].traces = t;
		nchecked++;
	}
	return t;
}

struct scan {
	bool seen[UKCOV_PCMAP_MAX];	/* entries still loaded */
	bool check_only;		/* stop at the first module if the
					 * loader's counters did not move */
	bool unchanged;
	unsigned long long adds, subs;
};
static unsigned long long last_adds = ~0ull, last_subs = ~0ull;

static int scan_module(struct dl_phdr_info *info, size_t size, void *data)
{
	struct scan *sc = data;
	const char *name = info->dlpi_name ? info->dlpi_name : "";
	uint64_t id;
	unsigned int i, n;
	int j;

	if (size >= offsetof(struct dl_phdr_info, dlpi_subs) +
			    sizeof(info->dlpi_subs)) {
		sc->adds = info->dlpi_adds;
		sc->subs = info->dlpi_subs;
		if (sc->check_only && sc->adds == last_adds &&
		    sc->subs == last_subs) {
			sc->unchanged = true;
			return 1;
		}
	}
	sc->check_only = false;
	if (!strncmp(name, "linux-vdso", 10) || !strncmp(name, "linux-gate", 10))
		return 0;
	id = module_id(info);
	n = __ukcov_pcmap_n;
	for (j = 0; j < info->dlpi_phnum; j++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[j];
		uintptr_t lo = info->dlpi_addr + ph->p_vaddr, len = ph->p_memsz;
		uint64_t base;
		bool known = false;

		if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X) || !len)
			continue;
		for (i = 0; i < n; i++) {
			if (__ukcov_pcmap[i].lo == lo && pcmap_ids[i] == id &&
			    __atomic_load_n(&__ukcov_pcmap[i].len,
					    __ATOMIC_RELAXED) == len) {
				sc->seen[i] = true;
				known = true;
			}
		}
		if (known || n == UKCOV_PCMAP_MAX ||
		    !traces_pc_cached(info, id))
			continue;
		base = index_take((len >> UKCOV_PC_SHIFT) + 1);
		if (!base)
			continue;
		__ukcov_pcmap[n].lo = lo;
		__ukcov_pcmap[n].base = base;
		pcmap_ids[n] = id;
		/* The entry's fields before its length, its length before n. */
		__atomic_store_n(&__ukcov_pcmap[n].len, len, __ATOMIC_RELEASE);
		sc->seen[n] = true;
		n++;
		__atomic_store_n(&__ukcov_pcmap_n, n, __ATOMIC_RELEASE);
	}
	return 0;
}

/*
 * Bring the ranges up to date with the loaded modules: new trace-pc
 * modules get ranges, unloaded ones (or a range that now holds another
 * module) lose theirs, for good: their indices are never reused.  Task
 * context (dl_iterate_phdr takes the loader's lock).  Cheap when nothing
 * was loaded or unloaded since the last call (the loader's counters).
 * Does nothing until unique mode was first asked for, unless force.
 */
void __ukcov_pcmap_update(bool force)
{
	static struct scan sc; /* under pcmap_lock */
	unsigned int i;
	sigset_t ss;

	if (!force && !__atomic_load_n(&pcmap_used, __ATOMIC_RELAXED))
		return;
	__ukcov_lock(&pcmap_lock, &ss);
	memset(&sc, 0, sizeof(sc));
	sc.check_only = __atomic_load_n(&pcmap_used, __ATOMIC_RELAXED);
	__atomic_store_n(&pcmap_used, true, __ATOMIC_RELAXED);
	dl_iterate_phdr(scan_module, &sc);
	if (!sc.unchanged) {
		for (i = 0; i < __ukcov_pcmap_n; i++)
			if (!sc.seen[i])
				__atomic_store_n(&__ukcov_pcmap[i].len, 0,
						 __ATOMIC_RELEASE);
		last_adds = sc.adds;
		last_subs = sc.subs;
	}
	__ukcov_unlock(&pcmap_lock, &ss);
}

uint64_t ukcov_unique_bits(void)
{
	__ukcov_pcmap_update(true);
	return __atomic_load_n(&next_index, __ATOMIC_RELAXED);
}

/* ---- A kcov's unique state ------------------------------------------- */

static void *reserve(size_t bytes, int prot)
{
	void *p = mmap(NULL, bytes, prot,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

int __ukcov_zero_map_init(void)
{
	uint8_t *z, *old = NULL;

	if (__atomic_load_n(&__ukcov_zero_map, __ATOMIC_ACQUIRE))
		return 0;
	z = reserve(UKCOV_INDEX_LIMIT, PROT_READ);
	if (!z)
		return -ENOMEM;
	if (!__atomic_compare_exchange_n(&__ukcov_zero_map, &old, z, false,
					 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		munmap(z, UKCOV_INDEX_LIMIT);
	return 0;
}

/*
 * Before k enters unique mode: its map and log (a log entry per trace
 * entry of the largest trace it can have), allocated once per object and
 * kept until it is freed.  Task context, no lock held.  0 or -ENOMEM.
 */
int __ukcov_uniq_alloc(struct ukcov *k)
{
	struct ukcov_uniq *u = &k->u;
	uint8_t *map, *no_map = NULL;
	uint32_t *log, *no_log = NULL;
	size_t logbytes = k->size * sizeof(uint32_t);

	if (__ukcov_zero_map_init())
		return -ENOMEM;
	if (!__atomic_load_n(&u->map, __ATOMIC_ACQUIRE)) {
		map = reserve(UKCOV_INDEX_LIMIT, PROT_READ | PROT_WRITE);
		if (!map)
			return -ENOMEM;
		if (!__atomic_compare_exchange_n(&u->map, &no_map, map, false,
						 __ATOMIC_ACQ_REL,
						 __ATOMIC_ACQUIRE))
			munmap(map, UKCOV_INDEX_LIMIT);
	}
	if (!__atomic_load_n(&u->log, __ATOMIC_ACQUIRE)) {
		log = reserve(logbytes, PROT_READ | PROT_WRITE);
		if (!log)
			return -ENOMEM;
		if (__atomic_compare_exchange_n(&u->log, &no_log, log, false,
						__ATOMIC_ACQ_REL,
						__ATOMIC_ACQUIRE))
			u->logcap = k->size;
		else
			munmap(log, logbytes);
	}
	return 0;
}

/* Every byte of the map back to 0: the pages go (async-signal-safe). */
static void map_wipe(uint8_t *map)
{
	if (madvise(map, UKCOV_INDEX_LIMIT, MADV_DONTNEED))
		memset(map, 0, UKCOV_INDEX_LIMIT); /* never expected */
}

/* The map only: what this process's copy logged, or everything. */
static void map_clear(struct ukcov_uniq *u)
{
	unsigned long i;

	if (u->logn > u->logcap) {
		map_wipe(u->map);
	} else {
		for (i = 0; i < u->logn; i++)
			u->map[u->log[i]] = 0;
	}
	u->logn = 0;
}

/*
 * Reset: the map, the bitmap and the trace's count, in time proportional
 * to the indices set since the last reset (the whole bitmap when another
 * process set bits in it, or the log overflowed).  Called with k->lock
 * held; takes the append lock, so a forked child's merge sees the reset.
 */
void __ukcov_uniq_reset(struct ukcov *k)
{
	struct ukcov_uniq *u = &k->u;
	unsigned long i;

	__ukcov_append_lock(k->shared);
	if (u->logn > u->logcap || READ_ONCE(k->shared->foreign)) {
		memset(u->bitmap, 0, u->bitmap_words * sizeof(unsigned long));
	} else {
		for (i = 0; i < u->logn; i++) {
			uint32_t x = u->log[i];

			if (x < u->nbits)
				u->bitmap[x / 64] &= ~(1ul << (x % 64));
		}
	}
	map_clear(u);
	WRITE_ONCE(k->shared->foreign, 0);
	u->reset_seen = READ_ONCE(k->shared->resets) + 1;
	WRITE_ONCE(k->shared->resets, u->reset_seen);
	__atomic_store_n(&k->trace[0], 0, __ATOMIC_RELEASE);
	__ukcov_append_unlock(k->shared);
}

/*
 * k enters unique mode with a bitmap of bitmap_words words at the start
 * of its area (the caller checked the sizes).  Every index is
 * deduplicated, in the private map; the bitmap mirrors the indices below
 * its bits.  (Linux's series appends an index past its bitmap at every
 * hit: there the bitmap is sized to the kernel's guards, here nobody knows
 * how many indices a program's modules will take.)  The map, log and
 * bitmap start empty; the trace's count is left as it is, as KCOV_ENABLE
 * leaves it.  Called with k->lock held, after __ukcov_uniq_alloc.
 */
void __ukcov_uniq_start(struct ukcov *k, unsigned long bitmap_words)
{
	struct ukcov_uniq *u = &k->u;

	u->bitmap = k->area;
	u->bitmap_words = bitmap_words;
	u->nbits = bitmap_words * 64;
	u->owner_pid = getpid();
	if (u->logn)
		map_clear(u);
	memset(u->bitmap, 0, bitmap_words * sizeof(unsigned long));
	u->reset_seen = READ_ONCE(k->shared->resets);
	WRITE_ONCE(k->shared->foreign, 0);
	k->trace = k->area + bitmap_words;
}

/* Back to a plain area (every other mode). */
void __ukcov_uniq_stop(struct ukcov *k)
{
	k->trace = k->area;
}

static void set_bit_shared(unsigned long *bitmap, uint64_t x)
{
	__atomic_or_fetch(&bitmap[x / 64], 1ul << (x % 64), __ATOMIC_RELAXED);
}

/*
 * A remote section's (PC, index) pairs into its owner, in unique mode:
 * each index not seen since the owner's last reset is marked and its PC
 * appended; one seen is skipped; one that does not fit is dropped and
 * left unmarked, so that it is appended after the next reset.  Called with
 * k->lock and the append lock held (any context: no allocation, no system
 * call but getpid's).
 */
void __ukcov_uniq_merge(struct ukcov *k, unsigned long n,
			const unsigned long *pairs, unsigned long dropped)
{
	struct ukcov_uniq *u = &k->u;
	unsigned long *trace = k->trace;
	unsigned long cap = ukcov_capacity(UKCOV_MODE_TRACE_PC,
					   k->size - u->bitmap_words);
	unsigned long len = READ_ONCE(trace[0]), i;
	unsigned int resets = READ_ONCE(k->shared->resets);
	bool foreign = false;

	/* A forked child's copy of the map lags behind the owner's resets. */
	if (resets != u->reset_seen) {
		map_clear(u);
		u->reset_seen = resets;
	}
	if (len > cap) {
		*k->drops += n + dropped;
		return;
	}
	for (i = 0; i < n; i++) {
		unsigned long pc = pairs[2 * i];
		uint64_t x = pairs[2 * i + 1];
		bool dedup = x != 0;

		if (dedup && u->map[x])
			continue;
		if (len == cap) {
			dropped++;
			continue;
		}
		if (dedup) {
			u->map[x] = 1;
			if (u->logn < u->logcap)
				u->log[u->logn] = (uint32_t)x;
			u->logn++;
			if (x < u->nbits)
				set_bit_shared(u->bitmap, x);
			foreign = true;
		}
		trace[1 + len++] = pc;
	}
	*k->drops += dropped;
	smp_store_release(&trace[0], len);
	if (foreign && getpid() != u->owner_pid)
		WRITE_ONCE(k->shared->foreign, 1);
}

/* The object is freed: its unique memory goes. */
void __ukcov_uniq_free(struct ukcov *k)
{
	struct ukcov_uniq *u = &k->u;

	if (u->map)
		munmap(u->map, UKCOV_INDEX_LIMIT);
	if (u->log)
		munmap(u->log, u->logcap * sizeof(uint32_t));
	memset(u, 0, sizeof(*u));
	k->trace = NULL;
}

/* ---- Sections' maps ------------------------------------------------------ */

/*
 * The map a unique section at task-context depth d tests, allocated the
 * first time (task context only), or NULL: the section then appends every
 * hit and relies on the merge.  One map per depth, so that a nested
 * section for another owner sees its own first hits.
 */
uint8_t *__ukcov_smap_get(struct ukcov_thread *th, unsigned int d)
{
	if (d >= UKCOV_REMOTE_MAX_DEPTH)
		return NULL;
	if (!th->smap[d])
		th->smap[d] = reserve(UKCOV_INDEX_LIMIT, PROT_READ | PROT_WRITE);
	return th->smap[d];
}

/* The section is over: its pairs' bytes back to 0. */
void __ukcov_smap_clear(uint8_t *map, unsigned long n,
			const unsigned long *pairs)
{
	unsigned long i;

	for (i = 0; i < n; i++)
		map[pairs[2 * i + 1]] = 0;
}

/* The thread ends. */
void __ukcov_smaps_free(struct ukcov_thread *th)
{
	unsigned int d;

	for (d = 0; d < UKCOV_REMOTE_MAX_DEPTH; d++) {
		if (th->smap[d])
			munmap(th->smap[d], UKCOV_INDEX_LIMIT);
		th->smap[d] = NULL;
	}
}
