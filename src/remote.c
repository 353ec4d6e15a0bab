// SPDX-License-Identifier: MIT
/*
 * Remote coverage: KCOV_REMOTE_ENABLE, the handle registry, section buffers
 * and ukcov_remote_start/stop (Linux's kcov_remote_* and kcov_move_area).
 *
 * The registry is an open-addressing table read without locks: a section
 * start looks its handle up with acquire loads and takes a reference with
 * __ukcov_tryget, then checks that the slot still maps the handle to that
 * object (objects are type-stable, so a stale pointer is safe to try).
 * Writers (REMOTE_ENABLE, DISABLE, exit) hold reg_lock, nested inside
 * kcov->lock as Linux nests kcov_remote_lock.  A start for handle 0 or an
 * unregistered handle therefore costs no system call and no lock.
 */
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"


#define REG_SLOTS (1u << 14)	/* process-wide handle capacity */
#define REG_TOMB (~0ull)	/* a deleted slot: never a valid handle */

struct reg_slot {
	uint64_t handle;	/* 0 empty, REG_TOMB deleted; release-published */
	struct ukcov *kcov;	/* written before handle */
};

static struct reg_slot reg[REG_SLOTS];
static ukcov_lock_t reg_lock;		/* protects writers of reg[] */
/* Handles registered now; 0 lets a start skip the lookup.  A start that
 * reads a stale 0 behaves as if it came just before the registration. */
static unsigned int reg_used;

/*
 * Section buffers of task-context sections, by size (Linux's task pool):
 * reused, never freed.  While pooled, a buffer's first words hold the link
 * and its size.
 */
struct pooled {
	struct pooled *next;
	unsigned long words;
};
static ukcov_lock_t pool_lock;		/* protects pool */
static struct pooled *pool;

static inline void spin_lock(ukcov_lock_t *l)
{
	while (__atomic_exchange_n(l, 1, __ATOMIC_ACQUIRE))
		while (__atomic_load_n(l, __ATOMIC_RELAXED))
			cpu_relax();
}

static inline void spin_unlock(ukcov_lock_t *l)
{
	__atomic_store_n(l, 0, __ATOMIC_RELEASE);
}

/*
 * Linux's kcov_check_handle: reserved bytes zero; COMMON with an instance
 * only if common_ok, the value 0 only if zero_ok; a global subsystem (USB,
 * signals, applications') only if global_ok.
 */
bool __ukcov_handle_valid(uint64_t h, bool common_ok, bool global_ok,
			  bool zero_ok)
{
	uint64_t subsys = h & KCOV_SUBSYSTEM_MASK;

	if (h & ~(KCOV_SUBSYSTEM_MASK | KCOV_INSTANCE_MASK))
		return false;
	if (subsys == KCOV_SUBSYSTEM_COMMON)
		return h ? common_ok : zero_ok;
	if (subsys == KCOV_SUBSYSTEM_USB || subsys == UKCOV_SUBSYSTEM_SIGNAL ||
	    subsys >= UKCOV_SUBSYSTEM_APP_FIRST)
		return global_ok;
	return false;
}

static inline unsigned int reg_hash(uint64_t h)
{
	return (unsigned int)((h * 0x9e3779b97f4a7c15ull) >> 50) &
	       (REG_SLOTS - 1);
}

/* The owner of h with a reference taken, or NULL.  Lock-free. */
static struct ukcov *reg_lookup_get(uint64_t h)
{
	unsigned int i = reg_hash(h), n;

	for (n = 0; n < REG_SLOTS; n++, i = (i + 1) & (REG_SLOTS - 1)) {
		/* Pairs with the release store of handle in reg_insert. */
		uint64_t v = smp_load_acquire(&reg[i].handle);
		struct ukcov *k;

		if (v == 0)
			return NULL;
		if (v != h)
			continue;
		k = __atomic_load_n(&reg[i].kcov, __ATOMIC_ACQUIRE);
		if (!k || !__ukcov_tryget(k))
			return NULL;
		/* Still the owner?  Otherwise it was unregistered meanwhile. */
		if (smp_load_acquire(&reg[i].handle) == h &&
		    __atomic_load_n(&reg[i].kcov, __ATOMIC_ACQUIRE) == k)
			return k;
		__ukcov_put(k);
		return NULL;
	}
	return NULL;
}

/*
 * Is h registered to k?  Called with k->lock held: every registration and
 * unregistration of k's handles happens under it, so the answer holds for
 * as long as the caller keeps the lock.
 */
static bool reg_owned_by(uint64_t h, const struct ukcov *k)
{
	unsigned int i = reg_hash(h), n;

	for (n = 0; n < REG_SLOTS; n++, i = (i + 1) & (REG_SLOTS - 1)) {
		uint64_t v = smp_load_acquire(&reg[i].handle);

		if (v == 0)
			return false;
		if (v == h)
			return __atomic_load_n(&reg[i].kcov,
					       __ATOMIC_ACQUIRE) == k;
	}
	return false;
}

/* Called with reg_lock held.  0, -EEXIST or -ENOMEM (table full). */
static int reg_insert(uint64_t h, struct ukcov *k)
{
	unsigned int i = reg_hash(h), n;
	int free_slot = -1;

	for (n = 0; n < REG_SLOTS; n++, i = (i + 1) & (REG_SLOTS - 1)) {
		uint64_t v = reg[i].handle;

		if (v == h)
			return -EEXIST;
		if (v == REG_TOMB && free_slot < 0)
			free_slot = (int)i;
		if (v == 0) {
			if (free_slot < 0)
				free_slot = (int)i;
			break;
		}
	}
	if (free_slot < 0)
		return -ENOMEM;
	if ((h & KCOV_SUBSYSTEM_MASK) == UKCOV_SUBSYSTEM_SIGNAL)
		__atomic_add_fetch(&__ukcov_signal_handles, 1,
				   __ATOMIC_RELAXED);
	__atomic_add_fetch(&reg_used, 1, __ATOMIC_RELAXED);
	__atomic_store_n(&reg[free_slot].kcov, k, __ATOMIC_RELAXED);
	/* Pairs with the acquire loads in reg_lookup_get. */
	smp_store_release(&reg[free_slot].handle, h);
	return 0;
}

/* Called with reg_lock held. */
static void reg_remove(uint64_t h, struct ukcov *k)
{
	unsigned int i = reg_hash(h), n;

	for (n = 0; n < REG_SLOTS; n++, i = (i + 1) & (REG_SLOTS - 1)) {
		uint64_t v = reg[i].handle;

		if (v == 0)
			return;
		if (v == h && reg[i].kcov == k) {
			smp_store_release(&reg[i].handle, REG_TOMB);
			__atomic_sub_fetch(&reg_used, 1, __ATOMIC_RELAXED);
			if ((h & KCOV_SUBSYSTEM_MASK) == UKCOV_SUBSYSTEM_SIGNAL)
				__atomic_sub_fetch(&__ukcov_signal_handles, 1,
						   __ATOMIC_RELAXED);
			return;
		}
	}
}

/*
 * Unregister every handle of k (Linux's kcov_remote_reset minus the reset).
 * Called with k->lock held, signals blocked.
 */
void __ukcov_remote_unregister_locked(struct ukcov *k)
{
	unsigned int i;

	spin_lock(&reg_lock);
	for (i = 0; i < k->nhandles; i++)
		reg_remove(k->handles[i], k);
	k->nhandles = 0;
	k->common_handle = 0;
	spin_unlock(&reg_lock);
}

/* Copy from a user pointer that may be bad: -EFAULT instead of a crash. */
static int copy_from_user(void *dst, const void *src, size_t len)
{
	struct iovec local = { dst, len }, remote = { (void *)src, len };
	ssize_t n;

	n = process_vm_readv(getpid(), &local, 1, &remote, 1, 0);
	if (n == (ssize_t)len)
		return 0;
	if (n < 0 && (errno == ENOSYS || errno == EPERM)) {
		/* No process_vm_readv here: a pipe refuses bad pointers too. */
		int p[2], ret = 0;

		if (pipe(p))
			return -ENOMEM;
		while (len && !ret) {
			size_t chunk = len < 4096 ? len : 4096;

			if (write(p[1], src, chunk) != (ssize_t)chunk ||
			    read(p[0], dst, chunk) != (ssize_t)chunk)
				ret = -EFAULT;
			src = (const char *)src + chunk;
			dst = (char *)dst + chunk;
			len -= chunk;
		}
		close(p[0]);
		close(p[1]);
		return ret;
	}
	return -EFAULT;
}

int __ukcov_remote_enable(struct ukcov *k, unsigned long arg, bool unique)
{
	struct ukcov_thread *th = &__ukcov_cur;
	/* An integer until copied: a bad pointer must not be dereferenced,
	 * nor even offset (UB for NULL). */
	uintptr_t uarg = (uintptr_t)arg;
	/* The header's 24 bytes, then the handles. */
	uint64_t raw[3 + KCOV_REMOTE_MAX_HANDLES];
	const struct kcov_remote_arg *a = (const struct kcov_remote_arg *)raw;
	uint32_t num;
	sigset_t ss;
	unsigned int i;
	int mode, ret;

	/* The unlocked part, in Linux's order. */
	if (copy_from_user(&num,
			   (const void *)(uarg + offsetof(struct kcov_remote_arg,
							 num_handles)),
			   sizeof(num)))
		return -EFAULT;
	if (num > KCOV_REMOTE_MAX_HANDLES)
		return -EINVAL;
	if (copy_from_user(raw, (const void *)uarg,
			   sizeof(*a) + num * sizeof(uint64_t)))
		return -EFAULT;
	if (a->num_handles != num)
		return -EINVAL;
	if (unique) {
		/* Before the lock: these allocate and take the loader's. */
		__ukcov_pcmap_update(true);
		if (READ_ONCE(k->mode) == UKCOV_MODE_INIT && k->area &&
		    k->size && __ukcov_uniq_alloc(k))
			return -ENOMEM;
	}

	__ukcov_lock(&k->lock, &ss);
	if (k->mode != UKCOV_MODE_INIT || !k->area) {
		ret = -EINVAL;
		goto out;
	}
	if (k->t || th->remote) {
		ret = -EBUSY;
		goto out;
	}
	mode = __ukcov_arg_to_mode(a->trace_mode);
	if (mode < 0) {
		ret = mode;
		goto out;
	}
	if (unique) {
		/* The padding word of struct kcov_remote_arg (ukcov.h). */
		uint32_t bw;

		memcpy(&bw, (const char *)raw +
			     offsetof(struct ukcov_remote_unique_arg,
				      bitmap_words),
		       sizeof(bw));

		if (mode != UKCOV_MODE_TRACE_PC || bw == 0 ||
		    bw >= k->size - 1 || !k->u.map || !k->u.log) {
			ret = -EINVAL;
			goto out;
		}
		__ukcov_uniq_start(k, bw);
		mode = UKCOV_MODE_UNIQUE_PC;
	} else {
		__ukcov_uniq_stop(k);
	}
	/* area_size > LONG_MAX / sizeof(long) cannot happen with 64-bit longs. */
	k->mode = (unsigned int)mode;
	k->t = th;
	k->remote = true;
	k->remote_size = a->area_size;
	th->remote = k;

	ret = 0;
	spin_lock(&reg_lock);
	for (i = 0; i < num && !ret; i++) {
		uint64_t h = a->handles[i];

		if (!__ukcov_handle_valid(h, false, true, false))
			ret = -EINVAL;
		else
			ret = reg_insert(h, k);
		if (!ret)
			k->handles[k->nhandles++] = h;
	}
	if (!ret && a->common_handle) {
		uint64_t h = a->common_handle;

		if (!__ukcov_handle_valid(h, true, false, false))
			ret = -EINVAL;
		else
			ret = reg_insert(h, k);
		if (!ret) {
			k->handles[k->nhandles++] = h;
			k->common_handle = h;
			th->common_handle = h;
		}
	}
	spin_unlock(&reg_lock);
	if (ret) {
		/* All or nothing: back to READY, every handle released. */
		__ukcov_remote_unregister_locked(k);
		th->remote = NULL;
		th->common_handle = 0;
		__ukcov_reset_locked(k);
		goto out;
	}
	__atomic_add_fetch(&k->refcount, 1, __ATOMIC_RELAXED);
out:
	__ukcov_unlock(&k->lock, &ss);
	if (!ret) {
		__ukcov_arm_exit_hook(th);
		/* Handler sections may come now: their areas must exist. */
		__ukcov_irq_reserve();
	}
	return ret;
}

/*
 * ukcov-run's collectors: register one handle to k with no owner thread
 * (the process keeps the descriptor until it exits).  0 or -errno.
 */
int __ukcov_remote_enable_unbound(struct ukcov *k, unsigned long mode_arg,
				  unsigned int area_size, uint64_t handle,
				  unsigned long bitmap_words)
{
	bool common = (handle & KCOV_SUBSYSTEM_MASK) == KCOV_SUBSYSTEM_COMMON;
	sigset_t ss;
	int mode, ret;

	mode = __ukcov_arg_to_mode(mode_arg);
	if (mode < 0)
		return mode;
	if (!__ukcov_handle_valid(handle, common, !common, false))
		return -EINVAL;
	if (bitmap_words) {
		__ukcov_pcmap_update(true);
		if (__ukcov_uniq_alloc(k))
			return -ENOMEM;
	}
	__ukcov_lock(&k->lock, &ss);
	if (k->mode != UKCOV_MODE_INIT || !k->area ||
	    (bitmap_words && (mode != UKCOV_MODE_TRACE_PC ||
			      bitmap_words >= k->size - 1))) {
		__ukcov_unlock(&k->lock, &ss);
		return -EINVAL;
	}
	spin_lock(&reg_lock);
	ret = reg_insert(handle, k);
	spin_unlock(&reg_lock);
	if (!ret) {
		k->handles[k->nhandles++] = handle;
		if (bitmap_words) {
			__ukcov_uniq_start(k, bitmap_words);
			mode = UKCOV_MODE_UNIQUE_PC;
		}
		k->mode = (unsigned int)mode;
		k->remote = true;
		k->remote_size = area_size;
	}
	__ukcov_unlock(&k->lock, &ss);
	if (!ret)
		__ukcov_irq_reserve();
	return ret;
}

static unsigned long *buf_get(unsigned long words)
{
	struct pooled **pp, *p;
	unsigned long *buf = NULL;
	size_t bytes;

	spin_lock(&pool_lock);
	for (pp = &pool; (p = *pp); pp = &p->next) {
		if (p->words == words) {
			*pp = p->next;
			buf = (unsigned long *)p;
			break;
		}
	}
	spin_unlock(&pool_lock);
	if (buf)
		return buf;
	/* Room for the pool link even when the owner asked for less. */
	bytes = (words < 2 ? 2 : words) * sizeof(unsigned long);
	buf = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return buf == MAP_FAILED ? NULL : buf;
}

static void buf_put(unsigned long *buf, unsigned long words)
{
	struct pooled *p = (struct pooled *)buf;

	p->words = words;
	spin_lock(&pool_lock);
	p->next = pool;
	pool = p;
	spin_unlock(&pool_lock);
}

/*
 * Append a finished section to k's area (Linux's kcov_move_area), truncated
 * to the free space.  Called with k->lock held.  The count read from word 0
 * is the user's: bounded before use, and a count past capacity drops the
 * section.  The new count is published with release after the entries, so
 * a reader that loads it with acquire sees them.
 */
static void move_area(struct ukcov *k, unsigned long n,
		      const unsigned long *entries, unsigned long dropped)
{
	unsigned long ew = k->mode == UKCOV_MODE_TRACE_CMP ? UKCOV_WORDS_PER_CMP
							   : 1;
	unsigned long *dst = k->trace;
	unsigned long cap = ukcov_capacity(k->mode, k->size);
	unsigned long len = READ_ONCE(dst[0]);

	if (len > cap) {
		*k->drops += n + dropped;
		return;
	}
	if (n > cap - len) {
		dropped += n - (cap - len);
		n = cap - len;
	}
	*k->drops += dropped;
	memcpy(dst + 1 + len * ew, entries, n * ew * sizeof(unsigned long));
	smp_store_release(&dst[0], len + n);
}

/*
 * move_area, serialised with appenders in other processes, if the owner is
 * still in session seq: in a forked child, k is a copy, and only the
 * shared page knows of the owner's DISABLE since the fork.
 */
static bool append_section(struct ukcov *k, unsigned int seq,
			   unsigned long n, const unsigned long *entries,
			   unsigned long dropped)
{
	bool same;

	__ukcov_append_lock(k->shared);
	same = READ_ONCE(k->shared->sequence) == seq;
	if (same && k->mode == UKCOV_MODE_UNIQUE_PC)
		__ukcov_uniq_merge(k, n, entries, dropped);
	else if (same)
		move_area(k, n, entries, dropped);
	__ukcov_append_unlock(k->shared);
	return same;
}

static inline unsigned long min_ul(unsigned long a, unsigned long b)
{
	return a < b ? a : b;
}

static inline struct ukcov_ctx *cur_ctx(struct ukcov_thread *th)
{
	return th->ctx ? th->ctx : &th->task_ctx;
}

/* Open a section for k in frame f; false if no buffer could be had. */
static bool section_open(struct ukcov_thread *th, struct ukcov_frame *f,
			 struct ukcov *k, uint64_t handle)
{
	struct ukcov_gen g;
	unsigned long words;
	bool ok;

	if (!__ukcov_klock(&k->lock, th)) {
		__atomic_add_fetch(&k->sections_skipped, 1, __ATOMIC_RELAXED);
		return false;
	}
	/*
	 * The lookup was lock-free: the owner may have disabled and enabled
	 * again since.  Under k->lock, the session whose sequence we take
	 * must be the one that owns the handle (Linux gets the same from
	 * doing both under kcov_remote_lock).
	 */
	ok = k->remote && k->mode >= UKCOV_MODE_TRACE_PC &&
	     reg_owned_by(handle, k);
	memset(&g, 0, sizeof(g));
	g.mode = k->mode == UKCOV_MODE_UNIQUE_PC ? UKCOV_MODE_UNIQUE_SEC
						 : k->mode;
	g.sequence = k->sequence;
	words = k->remote_size;
	__ukcov_kunlock(&k->lock, th);
	if (!ok)
		return false;
	/* A unique section deduplicates in a map of its own, one per depth
	 * (a handler's cannot allocate: RAW, every hit appended). */
	f->own_map = false;
	if (g.mode == UKCOV_MODE_UNIQUE_SEC) {
		g.map = th->sig_depth ? NULL
				      : __ukcov_smap_get(th, cur_ctx(th)->depth);
		f->own_map = g.map != NULL;
		if (!g.map)
			g.map = __ukcov_zero_map;
	}
	f->dropped = 0;
	if (th->sig_depth) {
		/* A handler: a preallocated interrupt area, never allocation. */
		f->buf = __ukcov_irq_get(&f->irq_slot, &words);
		if (f->buf) {
			struct ukcov_irq_use *u = __ukcov_irq_use(f->irq_slot);

			u->k = k;
			u->sequence = g.sequence;
			u->depth = th->sig_depth;
			/* Counted before an abandonment can find it (th). */
			u->qslot = __ukcov_in_flight_add(k);
			f->qslot = (unsigned char)u->qslot;
			barrier();
			u->th = th;
		}
	} else {
		f->buf = buf_get(words);
		f->irq_slot = -1;
		if (f->buf)
			f->qslot = (unsigned char)__ukcov_in_flight_add(k);
		/* A thread that exits inside the section must end it. */
		__ukcov_arm_exit_hook(th);
	}
	if (!f->buf) {
		__atomic_add_fetch(&k->sections_skipped, 1, __ATOMIC_RELAXED);
		return false;
	}
	f->words = words;
	f->sequence = g.sequence;
	f->mode = (unsigned char)g.mode;
	f->buf[0] = 0;
	g.area = f->buf;
	g.cap = ukcov_capacity(g.mode, words);
	g.kcov = k;
	g.dropped = &f->dropped;
	f->saved = th->gen;
	f->kcov = k;
	/* Pairs with the acquire CAS of the exit flush (task.c). */
	__atomic_store_n(&f->state, FRAME_OPEN, __ATOMIC_RELEASE);
	__ukcov_gen_stop(&th->gen);
	__ukcov_gen_start(&th->gen, &g);
	return true;
}

/* A registered handle's owner was found: open its section, or mute f. */
static __attribute__((noinline)) void start_found(struct ukcov_thread *th,
						  struct ukcov_frame *f,
						  struct ukcov *k,
						  uint64_t handle)
{
	if (section_open(th, f, k, handle))
		return;
	/* Skipped: its code must not land in an outer section. */
	f->kcov = NULL;
	f->muted = true;
	f->saved = th->gen;
	__ukcov_gen_stop(&th->gen);
	__ukcov_put(k);
}

/* The lookup, out of line so the common case (no owner) stays cheap. */
static __attribute__((noinline)) void start_lookup(struct ukcov_thread *th,
						   struct ukcov_frame *f,
						   uint64_t handle)
{
	struct ukcov *k;

	if (!__ukcov_handle_valid(handle, true, true, false))
		return;
	k = reg_lookup_get(handle);
	if (k)
		start_found(th, f, k, handle);
}

/*
 * Start a section whose starter stood at stack pointer sp (the CFA of the
 * public entry point: the caller's stack pointer at the call).  A non-local
 * exit to a point above sp leaves the section (task.c).
 */
void __ukcov_remote_start_at(uint64_t handle, uintptr_t sp)
{
	struct ukcov_thread *th = &__ukcov_cur;
	struct ukcov_ctx *c = cur_ctx(th);
	struct ukcov_frame *f;

	/* A vfork child starts nothing: its parent's state is not its own. */
	if (unlikely(__ukcov_in_vfork_child(th)))
		return;
	if (unlikely(c->depth >= UKCOV_REMOTE_MAX_DEPTH)) {
		if (!c->skipped++)
			c->skipped_sp = sp;
		return;
	}
	f = &c->frames[c->depth];
	f->kcov = NULL;
	f->muted = false;
	f->sp = sp;
	f->state = FRAME_IDLE;
	/* Handle 0, or nothing registered anywhere: a no-op frame. */
	if (handle && READ_ONCE(reg_used))
		start_lookup(th, f, handle);
	/* Counted only now: the frame is complete. */
	barrier();
	c->depth++;
}

void ukcov_remote_start(uint64_t handle)
{
	__ukcov_remote_start_at(handle, (uintptr_t)__builtin_dwarf_cfa());
}

void ukcov_remote_start_common(uint64_t handle)
{
	__ukcov_remote_start_at(kcov_remote_handle(KCOV_SUBSYSTEM_COMMON,
						   handle),
				(uintptr_t)__builtin_dwarf_cfa());
}

uint64_t ukcov_capture(void)
{
	return ukcov_common_handle();
}

/*
 * ukcov_run_captured's section, as a scope: ended when fn returns, and when
 * a C++ exception, pthread_exit or a cancellation unwinds through here (this
 * file is built with -fexceptions so that the cleanup runs then too).
 */
struct captured {
	struct ukcov_ctx *ctx;
	unsigned int depth;	/* the context's depth before the start */
	bool skipped;		/* the start was past the depth limit */
};

static void captured_end(struct captured *cs)
{
	struct ukcov_thread *th = &__ukcov_cur;

	if (__ukcov_in_vfork_child(th) || cur_ctx(th) != cs->ctx)
		return;
	if (cs->skipped) {
		if (cs->ctx->skipped)
			cs->ctx->skipped--;
		return;
	}
	/* Also what fn left open: its scope ends here. */
	__ukcov_ctx_unwind(th, cs->ctx, cs->depth);
}

void ukcov_run_captured(uint64_t handle, void (*fn)(void *), void *arg)
{
	struct ukcov_thread *th = &__ukcov_cur;
	struct captured cs __attribute__((cleanup(captured_end)));

	cs.ctx = cur_ctx(th);
	cs.depth = cs.ctx->depth;
	cs.skipped = cs.depth >= UKCOV_REMOTE_MAX_DEPTH;
	/* The section's scope is this frame: a non-local exit to the caller
	 * leaves it. */
	__ukcov_remote_start_at(kcov_remote_handle(KCOV_SUBSYSTEM_COMMON,
						   handle),
				(uintptr_t)&cs);
	fn(arg);
}

unsigned int __ukcov_in_flight_add(struct ukcov *k)
{
	struct ukcov_shared *s = k->shared;
	unsigned int q = READ_ONCE(s->epoch) & 1;

	__atomic_add_fetch(&s->slot[q], 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&s->in_flight, 1, __ATOMIC_RELAXED);
	return q;
}

static uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

/*
 * Until slot q holds no more than mine (the caller's own open sections),
 * or the clock passes end (false).  Registered as a waiter, so that each
 * landing section wakes us; each sleep is also bounded (10 ms), so that
 * a wake lost to a process that died mid-landing costs that at most.
 */
static bool slot_wait(struct ukcov_shared *s, unsigned int q, uint64_t mine,
		      uint64_t end)
{
	bool ok = true;

	__atomic_add_fetch(&s->waiters, 1, __ATOMIC_SEQ_CST);
	for (;;) {
		uint32_t w = __atomic_load_n(&s->wake, __ATOMIC_ACQUIRE);
		uint64_t now, left;
		struct timespec ts;

		/* Acquire: the landed sections' appends are visible. */
		if (__atomic_load_n(&s->slot[q], __ATOMIC_SEQ_CST) <= mine)
			break;
		now = now_ns();
		if (now >= end) {
			ok = false;
			break;
		}
		left = end - now < 10000000 ? end - now : 10000000;
		ts.tv_sec = 0;
		ts.tv_nsec = (long)left;
		/* EAGAIN (a section landed since w was read), EINTR and
		 * ETIMEDOUT all mean: look again. */
		syscall(SYS_futex, &s->wake, FUTEX_WAIT, w, &ts, NULL, 0);
	}
	__atomic_sub_fetch(&s->waiters, 1, __ATOMIC_RELEASE);
	return ok;
}

/*
 * ukcov_remote_wait: until every section for k that was open when it was
 * called (its ukcov_remote_start returned) has landed, or timeout_ns have
 * passed (-ETIMEDOUT).  A flip of the epoch sends later sections to the
 * other slot; it is made only while that slot is empty (else the older
 * sections there are waited for first), so a slot waited for receives no
 * section opened after the call but for waiters' flips.  Task context;
 * sleeps on the shared page's futex word, which a landing section bumps
 * when someone waits (in_flight_done): the section path pays the counts,
 * and a system call only while a wait is on.  The calling thread's own
 * open sections for k
 * cannot end while it waits: they are not waited for (the alternative is
 * a certain timeout).
 */
int __ukcov_remote_wait(struct ukcov *k, uint64_t timeout_ns)
{
	struct ukcov_thread *th = &__ukcov_cur;
	struct ukcov_shared *s;
	uint64_t now, end, own[2] = { 0, 0 };
	unsigned int i;
	sigset_t ss;
	bool remote;

	for (i = 0; i < th->task_ctx.depth; i++) {
		const struct ukcov_frame *f = &th->task_ctx.frames[i];

		if (f->kcov == k &&
		    __atomic_load_n(&f->state, __ATOMIC_RELAXED) == FRAME_OPEN)
			own[f->qslot & 1]++;
	}

	__ukcov_lock(&k->lock, &ss);
	remote = k->remote && k->shared;
	s = k->shared;
	__ukcov_unlock(&k->lock, &ss);
	if (!remote)
		return -EINVAL;
	now = now_ns();
	end = timeout_ns > UINT64_MAX - now ? UINT64_MAX : now + timeout_ns;
	for (;;) {
		unsigned int e, q;
		bool older;

		__ukcov_append_lock(s);
		e = READ_ONCE(s->epoch);
		older = __atomic_load_n(&s->slot[(e + 1) & 1],
					__ATOMIC_ACQUIRE) > own[(e + 1) & 1];
		if (!older)
			WRITE_ONCE(s->epoch, e + 1);
		__ukcov_append_unlock(s);
		q = older ? (e + 1) & 1 : e & 1;
		if (!slot_wait(s, q, own[q], end))
			return -ETIMEDOUT;
		if (!older)
			return 0;
	}
}

const volatile uint64_t *__ukcov_in_flight_of(struct ukcov *k)
{
	return k->shared ? &k->shared->in_flight : NULL;
}

/* The section counted in slot q has landed (appended or discarded). */
static void in_flight_done(struct ukcov *k, unsigned int q)
{
	struct ukcov_shared *s = k->shared;

	/* Release: a waiter that reads the count with acquire sees the
	 * append (pairs with remote_wait's loads). */
	__atomic_sub_fetch(&s->in_flight, 1, __ATOMIC_RELEASE);
	__atomic_sub_fetch(&s->slot[q & 1], 1, __ATOMIC_SEQ_CST);
	/* After the decrement (both sequentially consistent: see struct
	 * ukcov_shared): a waiter registered before it is woken. */
	if (__atomic_load_n(&s->waiters, __ATOMIC_SEQ_CST)) {
		int saved = errno;	/* a handler's path, too */

		__atomic_add_fetch(&s->wake, 1, __ATOMIC_RELEASE);
		syscall(SYS_futex, &s->wake, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
		errno = saved;
	}
}

/*
 * Append n entries of a finished (or, at process exit, still open) section
 * to its owner, under the owner's lock; then count the outcome, and the
 * section as landed (slot qslot).
 */
void __ukcov_section_append(struct ukcov_thread *th, struct ukcov *k,
			   unsigned int seq, unsigned long n, unsigned long words,
			   const unsigned long *entries, unsigned long dropped,
			   unsigned int qslot)
{
	/* Never false here: see __ukcov_klock.  Discard if it ever were. */
	if (__ukcov_klock(&k->lock, th)) {
		/*
		 * Linux's sequence check: a DISABLE (or re-enable) since.  The
		 * same session means the same mode as at the start: the count
		 * is bounded by the section buffer's capacity in it.
		 */
		unsigned int fm = k->mode == UKCOV_MODE_UNIQUE_PC
					  ? UKCOV_MODE_UNIQUE_SEC
					  : k->mode;

		if (seq == k->sequence && k->remote &&
		    append_section(k, seq,
				   min_ul(n, ukcov_capacity(fm, words)),
				   entries, dropped)) {
			__atomic_add_fetch(&k->sections_appended, 1,
					   __ATOMIC_RELAXED);
		} else {
			__atomic_add_fetch(&k->sections_discarded, 1,
					   __ATOMIC_RELAXED);
		}
		__ukcov_kunlock(&k->lock, th);
	} else {
		__atomic_add_fetch(&k->sections_discarded, 1, __ATOMIC_RELAXED);
	}
	in_flight_done(k, qslot);
}

/* Close the innermost section of c: append, recycle, put. */
void __ukcov_section_close(struct ukcov_thread *th, struct ukcov_ctx *c)
{
	unsigned int d = c->depth - 1;
	struct ukcov_frame *f = &c->frames[d];
	struct ukcov *k = f->kcov;
	unsigned long *buf = f->buf, words = f->words, dropped = f->dropped;
	unsigned int seq = f->sequence, open = FRAME_OPEN, qslot = f->qslot;
	int irq_slot = f->irq_slot;
	bool mine, own_map;

	if (!k) {
		if (f->muted) {
			__ukcov_gen_stop(&th->gen);
			__ukcov_gen_start(&th->gen, &f->saved);
		}
		barrier();
		c->depth--;
		return;
	}
	own_map = f->own_map;
	__ukcov_gen_stop(&th->gen);
	__ukcov_gen_start(&th->gen, &f->saved);
	/* Ours to append unless the exit flush took it (task.c). */
	mine = __atomic_compare_exchange_n(&f->state, &open, FRAME_CLOSING,
					   false, __ATOMIC_ACQ_REL,
					   __ATOMIC_ACQUIRE);
	barrier();
	c->depth--;

	if (mine)
		__ukcov_section_append(th, k, seq, buf[0], words, buf + 1, dropped,
				       qslot);
	/* The section's map back to empty, for the next one at this depth. */
	if (own_map)
		__ukcov_smap_clear(th->smap[d],
				   min_ul(buf[0], ukcov_capacity(
							  UKCOV_MODE_UNIQUE_SEC,
							  words)),
				   buf + 1);
	if (irq_slot >= 0)
		__ukcov_irq_put(irq_slot);
	else
		buf_put(buf, words);
	__ukcov_put(k);
}

/*
 * The exit flush: another thread's section, taken from it with a CAS, is
 * still being written.  The callbacks store an entry before they publish
 * the count that includes it (release; acquire here): every counted entry
 * is there.
 */
void __ukcov_section_flush(struct ukcov_thread *self, struct ukcov_frame *f)
{
	unsigned long n = smp_load_acquire(&f->buf[0]);

	__ukcov_section_append(self, f->kcov, f->sequence, n, f->words,
			       f->buf + 1, READ_ONCE(f->dropped), f->qslot);
}

void ukcov_remote_stop(void)
{
	struct ukcov_thread *th = &__ukcov_cur;
	struct ukcov_ctx *c = cur_ctx(th);
	struct ukcov_frame *f;

	if (unlikely(__ukcov_in_vfork_child(th)))
		return;
	if (c->skipped) {
		c->skipped--;
		return;
	}
	if (!c->depth)
		return;
	f = &c->frames[c->depth - 1];
	if (!f->kcov && !f->muted) {
		/* A no-op frame: nothing to restore, append or put. */
		c->depth--;
		return;
	}
	__ukcov_section_close(th, c);
}

/* End every section of c above depth, and the starts past the limit
 * (thread exit, handler exit, the end of a captured call). */
void __ukcov_ctx_unwind(struct ukcov_thread *th, struct ukcov_ctx *c,
			unsigned int depth)
{
	c->skipped = 0;
	while (c->depth > depth)
		__ukcov_section_close(th, c);
}

/* fork: a holder on another thread did not follow into the child. */
void __ukcov_remote_atfork_child(void)
{
	reg_lock = 0;
	pool_lock = 0;
}
