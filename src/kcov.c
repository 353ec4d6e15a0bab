// SPDX-License-Identifier: MIT
/*
 * The kcov object: descriptors, states, references, ioctl dispatch, mmap
 * checks and close.  Linux's kernel/kcov.c is the model for every check and
 * its order; see the state comment on struct ukcov in internal.h.
 */
#include <errno.h>
#include <linux/close_range.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "internal.h"

#ifndef MFD_NOEXEC_SEAL
#define UKCOV_MFD_NOEXEC_SEAL 0x0008U /* Linux 6.3 */
#else
#define UKCOV_MFD_NOEXEC_SEAL MFD_NOEXEC_SEAL
#endif

/*
 * Global object lock: protects the live list, the free list's pops, the
 * descriptor identity fields of every object and the fd bitmap's writers.
 */
static ukcov_lock_t objs_lock;
static struct ukcov *live_objs;
static struct ukcov *free_objs;	/* pushed lock-free, popped under objs_lock */

/* Descriptors opened by ukcov_open and not yet closed (close's fast test). */
#define FD_BITS 65536
static unsigned long fd_bitmap[FD_BITS / (8 * sizeof(long))];

static size_t page_size;

void __ukcov_lock(ukcov_lock_t *lock, sigset_t *saved)
{
	sigset_t all;
	unsigned int spins = 0;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, saved);
	/* Pairs with the release in __ukcov_unlock. */
	while (__atomic_exchange_n(lock, 1, __ATOMIC_ACQUIRE)) {
		while (__atomic_load_n(lock, __ATOMIC_RELAXED)) {
			/* The holder may be preempted: don't burn its CPU. */
			if (++spins > 64)
				sched_yield();
		}
	}
}

void __ukcov_unlock(ukcov_lock_t *lock, const sigset_t *saved)
{
	__atomic_store_n(lock, 0, __ATOMIC_RELEASE);
	pthread_sigmask(SIG_SETMASK, saved, NULL);
}

/*
 * This process's identity for the cross-process lock: its pid, and the low
 * 32 bits of its start time in clock ticks (fork updates both).
 */
static uint64_t my_ident;

/* pid's start time from /proc/<pid>/stat (field 22), and whether it is
 * still running (not a zombie, not dead).  Async-signal-safe. */
static bool proc_alive(int pid, uint64_t *start)
{
	char path[32], buf[512], *p, *end;
	uint64_t num;
	int fd, field;
	ssize_t n;
	int e = errno;

	/* "/proc/" + decimal pid, without stdio. */
	memcpy(path, "/proc/", 6);
	p = path + 6;
	{
		char tmp[16];
		int i = 0, v = pid;

		do
			tmp[i++] = (char)('0' + v % 10);
		while ((v /= 10) && i < 15);
		while (i)
			*p++ = tmp[--i];
	}
	memcpy(p, "/stat", 6);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		/* Gone; or hidden (/proc mounted hidepid=, the holder another
		 * user's now): then it is held while the pid exists. */
		bool exists = !kill(pid, 0) || errno == EPERM;

		errno = e;
		*start = ~0ull;
		return exists;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	/* Not close(): its route takes objs_lock, which a new child of a
	 * raw clone() may have inherited held (ident_of below). */
	syscall(SYS_close, fd);
	errno = e;
	if (n <= 0)
		return false;
	buf[n] = 0;
	/* The command may hold spaces and parentheses: after the last ')'. */
	p = strrchr(buf, ')');
	if (!p || p[1] != ' ')
		return false;
	p += 2;
	if (*p == 'Z' || *p == 'X' || *p == 'x')
		return false; /* a zombie holds nothing any more */
	/* Field 3 is the state; start time is field 22. */
	for (field = 3; field < 22 && *p; p++)
		if (*p == ' ')
			field++;
	/* Digits by hand: strtoull is not async-signal-safe by the book. */
	for (num = 0, end = p; *end >= '0' && *end <= '9'; end++)
		num = num * 10 + (uint64_t)(*end - '0');
	*start = num;
	return end != p;
}

static uint64_t ident_of(int pid)
{
	uint64_t start = 0;

	proc_alive(pid, &start);
	return (uint64_t)(uint32_t)pid | (start << 32);
}

void __ukcov_append_lock(struct ukcov_shared *s)
{
	uint64_t me = __atomic_load_n(&my_ident, __ATOMIC_RELAXED), v;
	unsigned int spins = 0;

	for (;;) {
		v = 0;
		/* Pairs with the release in __ukcov_append_unlock. */
		if (__atomic_compare_exchange_n(&s->append_lock, &v, me, false,
						__ATOMIC_ACQUIRE,
						__ATOMIC_RELAXED))
			return;
		if (++spins < 64) {
			cpu_relax();
			continue;
		}
		/*
		 * A holder that died (another process) never releases: not
		 * running any more (gone, or a zombie nobody reaped yet), or
		 * its pid now another process's (a different start time).
		 * This may run in a handler: only async-signal-safe calls.
		 */
		if (v != me && (spins & 63) == 0) {
			uint64_t start = 0;
			int pid = (int)(uint32_t)v;
			bool held = proc_alive(pid, &start) &&
				    (start == ~0ull ||
				     (uint32_t)start == (uint32_t)(v >> 32));

			if (!held && __atomic_compare_exchange_n(
					     &s->append_lock, &v, me, false,
					     __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
				return;
		}
		sched_yield();
	}
}

void __ukcov_append_unlock(struct ukcov_shared *s)
{
	__atomic_store_n(&s->append_lock, 0, __ATOMIC_RELEASE);
}

bool __ukcov_klock(ukcov_lock_t *lock, struct ukcov_thread *th)
{
	ukcov_lock_t me = (ukcov_lock_t)th, v;
	unsigned int spins = 0;

	/* The rule in internal.h: a handler whose thread holds one waits
	 * for none. */
	if (th->sig_depth && READ_ONCE(th->klocks))
		return false;
	/* Counted before the attempt: a handler arriving from here on sees
	 * it (same thread: the compiler barrier is the pair). */
	WRITE_ONCE(th->klocks, th->klocks + 1);
	barrier();
	for (;;) {
		v = 0;
		/* Pairs with the release in __ukcov_kunlock / __ukcov_unlock. */
		if (__atomic_compare_exchange_n(lock, &v, me, false,
						__ATOMIC_ACQUIRE,
						__ATOMIC_RELAXED))
			return true;
		if (++spins > 64)
			sched_yield();
		else
			cpu_relax();
	}
}

void __ukcov_kunlock(ukcov_lock_t *lock, struct ukcov_thread *th)
{
	__atomic_store_n(lock, 0, __ATOMIC_RELEASE);
	barrier();
	WRITE_ONCE(th->klocks, th->klocks - 1);
}

static void fd_mark(int fd, bool on)
{
	unsigned long bit;

	if (fd < 0 || fd >= FD_BITS)
		return;
	bit = 1ul << (fd % (8 * sizeof(long)));
	if (on)
		__atomic_fetch_or(&fd_bitmap[fd / (8 * sizeof(long))], bit,
				  __ATOMIC_RELAXED);
	else
		__atomic_fetch_and(&fd_bitmap[fd / (8 * sizeof(long))], ~bit,
				   __ATOMIC_RELAXED);
}

static bool fd_marked(int fd)
{
	if (fd < 0 || fd >= FD_BITS)
		return fd >= FD_BITS; /* untracked: take the slow path */
	return __atomic_load_n(&fd_bitmap[fd / (8 * sizeof(long))],
			       __ATOMIC_RELAXED) &
	       (1ul << (fd % (8 * sizeof(long))));
}

bool __ukcov_tryget(struct ukcov *k)
{
	unsigned int r = __atomic_load_n(&k->refcount, __ATOMIC_RELAXED);

	do {
		if (r == 0)
			return false;
	} while (!__atomic_compare_exchange_n(&k->refcount, &r, r + 1, true,
					      __ATOMIC_ACQUIRE,
					      __ATOMIC_RELAXED));
	return true;
}

static void obj_free(struct ukcov *k)
{
	struct ukcov **pp;
	sigset_t ss;

	__ukcov_lock(&objs_lock, &ss);
	for (pp = &live_objs; *pp; pp = &(*pp)->next) {
		if (*pp == k) {
			*pp = k->next;
			break;
		}
	}
	__ukcov_unlock(&objs_lock, &ss);
	/* The guard pages around the program's mappings (async-signal-safe). */
	while (k->nguards) {
		k->nguards--;
		munmap(k->guards[k->nguards].base, page_size);
		munmap(k->guards[k->nguards].base + page_size +
			       k->guards[k->nguards].len,
		       page_size);
	}
	__ukcov_uniq_free(k);
	/* No handle can remain: only the bound owner registers them. */
	if (k->area)
		munmap((char *)k->area - page_size, k->map_len + 2 * page_size);
	k->area = NULL;
	k->mode = UKCOV_MODE_DISABLED;
	/* Type-stable memory: back onto the free list, never unmapped. */
	k->next = __atomic_load_n(&free_objs, __ATOMIC_RELAXED);
	while (!__atomic_compare_exchange_n(&free_objs, &k->next, k, true,
					    __ATOMIC_RELEASE,
					    __ATOMIC_RELAXED))
		;
}

/* Drop a reference; the last one frees (possibly in a signal handler). */
void __ukcov_put(struct ukcov *k)
{
	/* Release our writes; the freer acquires everyone's. */
	if (__atomic_sub_fetch(&k->refcount, 1, __ATOMIC_ACQ_REL) == 0)
		obj_free(k);
}

static struct ukcov *obj_alloc(void)
{
	struct ukcov *k;

	k = __atomic_load_n(&free_objs, __ATOMIC_ACQUIRE);
	/* Pops are serialised by objs_lock, so no ABA on the next pointer. */
	while (k && !__atomic_compare_exchange_n(&free_objs, &k, k->next, true,
						 __ATOMIC_ACQUIRE,
						 __ATOMIC_ACQUIRE))
		;
	if (!k) {
		/* Never freed: see "type-stable" on struct ukcov. */
		k = mmap(NULL, sizeof(*k), PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (k == MAP_FAILED)
			return NULL;
	}
	return k;
}

/* Drop the descriptor reference of any object opened as fd (now stale). */
static struct ukcov *drop_fd_locked(int fd)
{
	struct ukcov *k;

	for (k = live_objs; k; k = k->next) {
		if (k->file_ref && k->fd == fd) {
			k->file_ref = false;
			return k;
		}
	}
	return NULL;
}

int ukcov_open(void)
{
	struct ukcov *k, *stale;
	struct stat st;
	sigset_t ss;
	int fd;

	__ukcov_init();
	/*
	 * Sealed against exec where the kernel can (Linux 6.3+): no execve or
	 * chmod +x of the descriptor.  That does not stop a PROT_EXEC mmap of
	 * it; ukcov_mmap refuses those, and the runtime's own view is RW.
	 */
	fd = memfd_create("ukcov", MFD_CLOEXEC | UKCOV_MFD_NOEXEC_SEAL);
	if (fd < 0 && errno == EINVAL)
		fd = memfd_create("ukcov", MFD_CLOEXEC);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st))
		goto out_close;
	__ukcov_lock(&objs_lock, &ss);
	k = obj_alloc();
	if (!k) {
		__ukcov_unlock(&objs_lock, &ss);
		errno = ENOMEM;
		goto out_close;
	}
	/*
	 * A section start may still hold a stale pointer to this recycled
	 * object and try to take a reference: refcount stays 0 (so that
	 * fails) until everything else is set, then is published.
	 */
	memset((char *)k + sizeof(k->refcount), 0,
	       sizeof(*k) - sizeof(k->refcount));
	k->sequence = 1;
	k->drops = &k->dropped;
	k->fd = fd;
	k->file_ref = true;
	k->dev = st.st_dev;
	k->ino = st.st_ino;
	/* Pairs with the acquire CAS in __ukcov_tryget. */
	__atomic_store_n(&k->refcount, 1, __ATOMIC_RELEASE);
	/* The number was free, so whatever held it was closed behind our back. */
	stale = drop_fd_locked(fd);
	k->next = live_objs;
	live_objs = k;
	fd_mark(fd, true);
	__ukcov_unlock(&objs_lock, &ss);
	if (stale && stale != k)
		__ukcov_put(stale);
	return fd;

out_close:
	{
		int e = errno;

		close(fd);
		errno = e;
	}
	return -1;
}

/*
 * Find the object behind fd and take a reference.  The descriptor is
 * identified by its inode, so dup()ed descriptors and those a forked child
 * inherited work too.  Returns NULL with errno EBADF or ENOTTY.
 */
struct ukcov *__ukcov_obj_get(int fd)
{
	struct ukcov *k;
	struct stat st;
	sigset_t ss;

	if (fstat(fd, &st))
		return NULL;
	__ukcov_lock(&objs_lock, &ss);
	for (k = live_objs; k; k = k->next) {
		if (k->ino == st.st_ino && k->dev == st.st_dev &&
		    __ukcov_tryget(k))
			break;
	}
	__ukcov_unlock(&objs_lock, &ss);
	if (!k)
		errno = ENOTTY;
	return k;
}

/* Back to READY: Linux's kcov_reset.  Called with k->lock held. */
void __ukcov_reset_locked(struct ukcov *k)
{
	k->t = NULL;
	k->mode = UKCOV_MODE_INIT;
	k->remote = false;
	k->remote_size = 0;
	k->sequence++;
	/* Other processes' appends see the new session from now on. */
	if (k->shared) {
		__ukcov_append_lock(k->shared);
		WRITE_ONCE(k->shared->sequence, k->sequence);
		__ukcov_append_unlock(k->shared);
	}
}

static int init_trace(struct ukcov *k, int fd, unsigned long size)
{
	size_t len;
	char *base;
	sigset_t ss;
	int busy;

	/* Checked before the state, as Linux does. */
	if (size < 2 || size > INT_MAX / sizeof(unsigned long))
		return -EINVAL;
	__ukcov_lock(&k->lock, &ss);
	busy = k->mode != UKCOV_MODE_DISABLED || k->area;
	if (!busy)
		k->area = (unsigned long *)1; /* claimed: a racing INIT is EBUSY */
	__ukcov_unlock(&k->lock, &ss);
	if (busy)
		return -EBUSY;

	len = (size * sizeof(unsigned long) + page_size - 1) & ~(page_size - 1);
	len += page_size; /* struct ukcov_shared */
	/* Guard pages on both sides of the runtime's own view of the area. */
	base = mmap(NULL, len + 2 * page_size, PROT_NONE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (base == MAP_FAILED)
		goto out_unclaim;
	if (ftruncate(fd, (off_t)len))
		goto out_unmap;
	if (mmap(base + page_size, len, PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_FIXED, fd, 0) == MAP_FAILED)
		goto out_unmap;

	__ukcov_lock(&k->lock, &ss);
	k->area = (unsigned long *)(base + page_size);
	k->size = size;
	k->map_len = len;
	k->shared = (struct ukcov_shared *)(base + len);
	k->trace = k->area;
	WRITE_ONCE(k->shared->sequence, k->sequence);
	k->mode = UKCOV_MODE_INIT;
	__ukcov_unlock(&k->lock, &ss);
	return 0;

out_unmap:
	munmap(base, len + 2 * page_size);
out_unclaim:
	__ukcov_lock(&k->lock, &ss);
	k->area = NULL;
	__ukcov_unlock(&k->lock, &ss);
	return -ENOMEM;
}

/* kcov_get_mode: the trace-mode argument of ENABLE and REMOTE_ENABLE. */
int __ukcov_arg_to_mode(unsigned long arg)
{
	if (arg == KCOV_TRACE_PC)
		return UKCOV_MODE_TRACE_PC;
	if (arg == KCOV_TRACE_CMP)
		return UKCOV_MODE_TRACE_CMP;
	return -EINVAL;
}

/* Make every page resident so the callbacks never take a first-touch fault. */
static void fault_in(const struct ukcov *k)
{
	size_t i, words_per_page = page_size / sizeof(unsigned long);

	for (i = 0; i < k->size; i += words_per_page)
		(void)READ_ONCE(k->area[i]);
}

/*
 * The feed of a kcov bound locally (its mode set): the whole area, or, in
 * unique mode, the trace after the bitmap, with the kcov's map.
 */
void __ukcov_local_feed(const struct ukcov *k, struct ukcov_gen *g)
{
	memset(g, 0, sizeof(*g));
	g->mode = k->mode;
	g->area = k->trace;
	g->cap = ukcov_capacity(k->mode, k->size - (unsigned long)(k->trace -
								  k->area));
	g->kcov = (struct ukcov *)k;
	g->sequence = k->sequence;
	g->dropped = k->drops;
	g->map = k->mode == UKCOV_MODE_UNIQUE_PC ? k->u.map : NULL;
}

/*
 * KCOV_ENABLE, and KCOV_UNIQUE_ENABLE (unique, arg the bitmap's words):
 * Linux's checks in Linux's order (reference section 6 for the unique
 * one: the state, then EBUSY, then the bitmap's size).
 */
static int enable_mode(struct ukcov *k, struct ukcov_thread *th,
		       unsigned long arg, bool unique)
{
	struct ukcov_gen g;
	sigset_t ss;
	int mode, ret = 0;

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
	if (k->t || th->local) {
		ret = -EBUSY;
		goto out;
	}
	if (unique) {
		/* At least two words remain for the trace. */
		if (arg == 0 || arg >= k->size - 1 || !k->u.map || !k->u.log) {
			ret = -EINVAL;
			goto out;
		}
		mode = UKCOV_MODE_UNIQUE_PC;
	} else {
		mode = __ukcov_arg_to_mode(arg);
		if (mode < 0) {
			ret = mode;
			goto out;
		}
	}
	if (!k->lazy)
		fault_in(k);
	if (unique)
		__ukcov_uniq_start(k, arg);
	else
		__ukcov_uniq_stop(k);
	k->mode = (unsigned int)mode;
	k->t = th;
	__atomic_add_fetch(&k->refcount, 1, __ATOMIC_RELAXED);
	th->local = k;
	__ukcov_local_feed(k, &g);
	__ukcov_gen_start(__ukcov_base_gen(th), &g);
out:
	__ukcov_unlock(&k->lock, &ss);
	if (!ret)
		__ukcov_arm_exit_hook(th);
	return ret;
}

static int enable(struct ukcov *k, struct ukcov_thread *th, unsigned long arg)
{
	return enable_mode(k, th, arg, false);
}

/*
 * Unbind th from k (Linux's kcov_disable minus the put).  Called with
 * k->lock held, th being k's bound thread.
 */
static void unbind_locked(struct ukcov *k, struct ukcov_thread *th)
{
	if (th->local == k) {
		struct ukcov_gen *g = __ukcov_base_gen(th);

		if (g->kcov == k)
			__ukcov_gen_stop(g);
		th->local = NULL;
	} else {
		/* v7.2: only a remote disable clears the common handle. */
		th->remote = NULL;
		th->common_handle = 0;
		__ukcov_remote_unregister_locked(k);
	}
	__ukcov_reset_locked(k);
}

static int disable(struct ukcov *k, struct ukcov_thread *th, unsigned long arg)
{
	sigset_t ss;

	if (arg != 0)
		return -EINVAL;
	if (th->local != k && th->remote != k)
		return -EINVAL;
	__ukcov_lock(&k->lock, &ss);
	if (k->t != th) {
		__ukcov_unlock(&k->lock, &ss);
		return -EINVAL;
	}
	unbind_locked(k, th);
	__ukcov_unlock(&k->lock, &ss);
	__ukcov_put(k); /* the bound thread's reference */
	return 0;
}

int __ukcov_enable(struct ukcov *k, struct ukcov_thread *th,
		   unsigned long mode)
{
	return enable(k, th, mode);
}

int __ukcov_unique_enable(struct ukcov *k, struct ukcov_thread *th,
			  unsigned long bitmap_words)
{
	return enable_mode(k, th, bitmap_words, true);
}

int __ukcov_disable(struct ukcov *k, struct ukcov_thread *th)
{
	return disable(k, th, 0);
}

/*
 * A kcov on memory the caller mapped: see internal.h.  Like ukcov_open and
 * KCOV_INIT_TRACE, without the memfd: the live list holds it (fork's
 * handlers reset its lock), no descriptor refers to it.
 */
struct ukcov *__ukcov_obj_on(char *base, size_t map_len, unsigned long words,
			     unsigned long *drops)
{
	struct ukcov *k;
	sigset_t ss;

	__ukcov_init();
	__ukcov_lock(&objs_lock, &ss);
	k = obj_alloc();
	if (k) {
		memset((char *)k + sizeof(k->refcount), 0,
		       sizeof(*k) - sizeof(k->refcount));
		k->sequence = 1;
		k->drops = drops ? drops : &k->dropped;
		k->fd = -1;
		k->area = (unsigned long *)(base + page_size);
		k->size = words;
		k->map_len = map_len;
		k->shared = (struct ukcov_shared *)(base + page_size +
						    map_len - page_size);
		k->trace = k->area;
		WRITE_ONCE(k->shared->sequence, k->sequence);
		k->mode = UKCOV_MODE_INIT;
		k->lazy = true;
		/* Pairs with the acquire CAS in __ukcov_tryget. */
		__atomic_store_n(&k->refcount, 1, __ATOMIC_RELEASE);
		k->next = live_objs;
		live_objs = k;
	}
	__ukcov_unlock(&objs_lock, &ss);
	return k;
}

static int reset_trace(struct ukcov *k, struct ukcov_thread *th,
		       unsigned long arg)
{
	sigset_t ss;
	int ret = 0;

	if (arg != 0)
		return -EINVAL;
	if (th->local != k && th->remote != k)
		return -EINVAL;
	/* Modules loaded since get their ranges (before the lock). */
	if (k->mode == UKCOV_MODE_UNIQUE_PC)
		__ukcov_pcmap_update(false);
	__ukcov_lock(&k->lock, &ss);
	if (k->t != th || k->mode < UKCOV_MODE_TRACE_PC) {
		ret = -EINVAL;
	} else if (k->mode == UKCOV_MODE_UNIQUE_PC) {
		/* The bitmap and the count, O(PCs since the last reset). */
		__ukcov_uniq_reset(k);
	} else {
		/* Under the locks: appends read-modify-write the count. */
		__ukcov_append_lock(k->shared);
		__atomic_store_n(&k->trace[0], 0, __ATOMIC_RELEASE);
		__ukcov_append_unlock(k->shared);
	}
	__ukcov_unlock(&k->lock, &ss);
	return ret;
}

int ukcov_get_stats(int fd, struct ukcov_stats *st)
{
	struct ukcov *k;
	sigset_t ss;

	if (__ukcov_cur.sig_depth) {
		/* Its lock may be held by the code we interrupted. */
		errno = EINVAL;
		return -1;
	}
	k = __ukcov_obj_get(fd);
	if (!k)
		return -1;
	__ukcov_lock(&k->lock, &ss);
	st->entries_dropped = READ_ONCE(*k->drops);
	st->sections_appended = READ_ONCE(k->sections_appended);
	st->sections_discarded = READ_ONCE(k->sections_discarded);
	st->sections_skipped = READ_ONCE(k->sections_skipped);
	__ukcov_unlock(&k->lock, &ss);
	__ukcov_put(k);
	return 0;
}

int ukcov_remote_wait(int fd, uint64_t timeout_ns)
{
	struct ukcov_thread *th = &__ukcov_cur;
	struct ukcov *k;
	int ret;

	k = __ukcov_obj_get(fd);
	if (!k)
		return -1;
	if (th->sig_depth || __ukcov_in_vfork_child(th))
		ret = -EINVAL;
	else
		ret = __ukcov_remote_wait(k, timeout_ns);
	__ukcov_put(k);
	if (ret < 0) {
		errno = -ret;
		return -1;
	}
	return 0;
}

const volatile uint64_t *ukcov_in_flight(int fd)
{
	const volatile uint64_t *p = NULL;
	struct ukcov *k;
	sigset_t ss;

	if (__ukcov_cur.sig_depth) {
		errno = EINVAL;
		return NULL;
	}
	k = __ukcov_obj_get(fd);
	if (!k)
		return NULL;
	__ukcov_lock(&k->lock, &ss);
	p = __ukcov_in_flight_of(k);
	__ukcov_unlock(&k->lock, &ss);
	__ukcov_put(k);
	if (!p)
		errno = EINVAL;
	return p;
}

int ukcov_ioctl(int fd, unsigned long request, ...)
{
	struct ukcov_thread *th = &__ukcov_cur;
	struct ukcov *k;
	unsigned long arg;
	va_list ap;
	int ret;

	va_start(ap, request);
	arg = va_arg(ap, unsigned long);
	va_end(ap);

	k = __ukcov_obj_get(fd);
	if (!k)
		return -1;
	/*
	 * Handlers are soft interrupts: they cannot make requests.  Nor can a
	 * vfork child, which runs on its parent thread's state until it execs.
	 */
	if (th->sig_depth || __ukcov_in_vfork_child(th)) {
		ret = -EINVAL;
		goto out;
	}
	/* The kernel's ioctl takes the request as an unsigned int. */
	switch ((unsigned int)request) {
	case KCOV_INIT_TRACE:
		ret = init_trace(k, fd, arg);
		break;
	case KCOV_ENABLE:
		ret = enable(k, th, arg);
		break;
	case KCOV_DISABLE:
		ret = disable(k, th, arg);
		break;
	case KCOV_REMOTE_ENABLE:
		ret = __ukcov_remote_enable(k, arg, false);
		break;
	case KCOV_RESET_TRACE:
		ret = reset_trace(k, th, arg);
		break;
	case KCOV_UNIQUE_ENABLE:
		ret = enable_mode(k, th, arg, true);
		break;
	case UKCOV_REMOTE_UNIQUE_ENABLE:
		ret = __ukcov_remote_enable(k, arg, true);
		break;
	case UKCOV_REMOTE_WAIT:
		/* Milliseconds; ULONG_MAX and anything past 2^64 ns: forever. */
		ret = __ukcov_remote_wait(k, arg > UINT64_MAX / 1000000
						     ? UINT64_MAX
						     : (uint64_t)arg * 1000000);
		break;
	default:
		ret = -ENOTTY;
		break;
	}
out:
	__ukcov_put(k);
	if (ret < 0) {
		errno = -ret;
		return -1;
	}
	return ret;
}

/*
 * Map the area between two inaccessible pages, so that a stray write of the
 * program just past either end faults instead of landing in a neighbour.
 * Only where ukcov places the mapping (no address asked for) and while the
 * object has room to remember the guards, which go with the object.
 */
static void *map_guarded(struct ukcov *k, void *addr, size_t len, int prot,
			 int flags, int fd)
{
	size_t rl = (len + page_size - 1) & ~(page_size - 1);
	char *base;
	void *p;
	sigset_t ss;
	bool room;

	__ukcov_lock(&k->lock, &ss);
	room = k->nguards < sizeof(k->guards) / sizeof(k->guards[0]);
	__ukcov_unlock(&k->lock, &ss);
	if (addr || (flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) || !room)
		return mmap(addr, len, prot, flags, fd, 0);
	base = mmap(NULL, rl + 2 * page_size, PROT_NONE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (base == MAP_FAILED)
		return mmap(addr, len, prot, flags, fd, 0);
	p = mmap(base + page_size, len, prot, flags | MAP_FIXED, fd, 0);
	if (p == MAP_FAILED) {
		int e = errno;

		munmap(base, rl + 2 * page_size);
		errno = e;
		return MAP_FAILED;
	}
	__ukcov_lock(&k->lock, &ss);
	if (k->nguards < sizeof(k->guards) / sizeof(k->guards[0])) {
		k->guards[k->nguards].base = base;
		k->guards[k->nguards].len = rl;
		k->nguards++;
		base = NULL;
	}
	__ukcov_unlock(&k->lock, &ss);
	if (base) { /* lost a race for the last slot: no guards then */
		munmap(base, page_size);
		munmap(base + page_size + rl, page_size);
	}
	return p;
}

void *ukcov_mmap(void *addr, size_t len, int prot, int flags, int fd,
		 off_t offset)
{
	struct ukcov *k;
	size_t want = 0;
	sigset_t ss;
	int err = 0, e;
	void *p;

	k = __ukcov_obj_get(fd);
	if (!k) /* Not a ukcov descriptor: an ordinary mmap. */
		return mmap(addr, len, prot, flags, fd, offset);
	__ukcov_lock(&k->lock, &ss);
	if (!k->area || k->area == (unsigned long *)1)
		err = EINVAL;
	else
		want = k->size * sizeof(unsigned long);
	__ukcov_unlock(&k->lock, &ss);
	if (!err && offset != 0)
		err = EINVAL;
	/* Coverage is data: never map it executable. */
	if (!err && (prot & PROT_EXEC))
		err = EPERM;
	/* The kernel rounds the length up to pages before kcov looks. */
	if (!err && ((len + page_size - 1) & ~(page_size - 1)) != want)
		err = EINVAL;
	if (err) {
		__ukcov_put(k);
		errno = err;
		return MAP_FAILED;
	}
	p = map_guarded(k, addr, len, prot, flags, fd);
	e = errno;
	__ukcov_put(k);
	errno = e;
	return p;
}

static int (*real_close)(int);

static int sys_close(int fd)
{
	if (real_close)
		return real_close(fd);
	return (int)syscall(SYS_close, fd);
}

/*
 * Another descriptor of this process open on the file (dev, ino), or -1.
 * Async-signal-safe (close(2) is): getdents64 into a stack buffer.
 */
static int other_fd_on(dev_t dev, ino_t ino)
{
	struct dirent64_hdr {
		uint64_t ino;
		int64_t off;
		unsigned short reclen;
		unsigned char type;
		char name[];
	};
	char buf[4096];
	int dir, found = -1;
	long n, off;

	dir = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0)
		return -1;
	while (found < 0 &&
	       (n = syscall(SYS_getdents64, dir, buf, sizeof(buf))) > 0) {
		for (off = 0; off < n && found < 0;) {
			struct dirent64_hdr *d = (struct dirent64_hdr *)(buf + off);
			struct stat st;
			int fd = 0;
			const char *p;

			off += d->reclen;
			for (p = d->name; *p >= '0' && *p <= '9'; p++)
				fd = fd * 10 + (*p - '0');
			if (*p || p == d->name || fd == dir)
				continue;
			/* Other threads' descriptors may close under us: a
			 * raw fstat, which sanitizers don't take for a use. */
			if (syscall(SYS_fstat, fd, &st) == 0 &&
			    st.st_dev == dev && st.st_ino == ino)
				found = fd;
		}
	}
	sys_close(dir);
	return found;
}

/*
 * Descriptor fd of k is gone (closed, or replaced by dup2).  Under Linux
 * the open file lives on while any descriptor refers to it: if a dup()
 * does, it takes over the reference; otherwise the reference is dropped.
 */
static void fd_gone(struct ukcov *k, int fd)
{
	int other = other_fd_on(k->dev, k->ino);
	sigset_t ss;

	/*
	 * Whoever turns file_ref off puts the reference: here, or ukcov_open
	 * finding the number reused (drop_fd_locked) if it came first.
	 */
	__ukcov_lock(&objs_lock, &ss);
	if (!k->file_ref || k->fd != fd) {
		k = NULL;
	} else if (other >= 0) {
		k->fd = other;
		fd_mark(other, true);
		k = NULL;
	} else {
		k->file_ref = false;
	}
	__ukcov_unlock(&objs_lock, &ss);
	if (k)
		__ukcov_put(k);
}

/*
 * The object whose descriptor reference is held as fd, with a reference
 * taken; fd's bit is cleared before the caller closes the number, so that
 * a ukcov_open that reuses it right after owns the bit.
 */
static struct ukcov *obj_of_fd(int fd)
{
	struct ukcov *k = NULL;
	sigset_t ss;

	if (!fd_marked(fd))
		return NULL;
	__ukcov_lock(&objs_lock, &ss);
	for (k = live_objs; k; k = k->next)
		if (k->file_ref && k->fd == fd && __ukcov_tryget(k))
			break;
	fd_mark(fd, false);
	__ukcov_unlock(&objs_lock, &ss);
	return k;
}

int ukcov_close(int fd)
{
	struct ukcov *k;
	int ret, e;

	/* A vfork child closes in its own descriptor table, not ours. */
	if (__ukcov_in_vfork_child(&__ukcov_cur))
		return sys_close(fd);
	k = obj_of_fd(fd);

	ret = sys_close(fd);
	e = errno;
	if (k) {
		/* Linux releases the number even when close reports an error. */
		if (ret == 0 || e != EBADF)
			fd_gone(k, fd);
		__ukcov_put(k);
	}
	errno = e;
	return ret;
}

static int (*real_dup2)(int, int);
static int (*real_dup3)(int, int, int);
static int (*real_close_range)(unsigned int, unsigned int, int);
static void (*real_closefrom)(int);

/* close() of a number the range closes: gone even if already closed. */
static void close_gone(int fd)
{
	struct ukcov *k = obj_of_fd(fd);

	sys_close(fd);
	if (k) {
		fd_gone(k, fd);
		__ukcov_put(k);
	}
}

/*
 * close_range(2) and closefrom(3) close many descriptors at once (daemons
 * close everything above 2 at start): the ukcov descriptors among them are
 * closed first, one by one, with the bookkeeping of close(); then the rest.
 */
static void close_ukcov_fds(unsigned int first, unsigned int last)
{
	int fds[32];
	unsigned int n, i, passes = 0;
	struct ukcov *k;
	sigset_t ss;

	/* Bounded: each pass closes what it found, whatever happens. */
	do {
		n = 0;
		__ukcov_lock(&objs_lock, &ss);
		for (k = live_objs; k && n < 32; k = k->next)
			if (k->file_ref && (unsigned int)k->fd >= first &&
			    (unsigned int)k->fd <= last)
				fds[n++] = k->fd;
		__ukcov_unlock(&objs_lock, &ss);
		/* A dup() in the range may take the reference over: again. */
		for (i = 0; i < n; i++)
			close_gone(fds[i]);
	} while (n && ++passes < 1024);
}

UKCOV_ROUTE int close_range(unsigned int first, unsigned int last, int flags);
int close_range(unsigned int first, unsigned int last, int flags)
{
	if (!real_close_range)
		__ukcov_init();
	/* CLOEXEC closes nothing now; UNSHARE closes in a table of this
	 * thread's own, the process's objects stay (ukcov(7)). */
	if (!(flags & (CLOSE_RANGE_CLOEXEC | CLOSE_RANGE_UNSHARE)) &&
	    first <= last && !__ukcov_in_vfork_child(&__ukcov_cur))
		close_ukcov_fds(first, last);
	if (!real_close_range)
		return (int)syscall(SYS_close_range, first, last, flags);
	return real_close_range(first, last, flags);
}

UKCOV_ROUTE void closefrom(int lowfd);
void closefrom(int lowfd)
{
	if (!real_closefrom)
		__ukcov_init();
	if (lowfd >= 0 && !__ukcov_in_vfork_child(&__ukcov_cur))
		close_ukcov_fds((unsigned int)lowfd, ~0u);
	if (real_closefrom)
		real_closefrom(lowfd);
	else if (lowfd >= 0)
		syscall(SYS_close_range, (unsigned int)lowfd, ~0u, 0);
}

/* dup2/dup3 onto a ukcov descriptor close it first. */
static int after_dup(struct ukcov *k, int newfd, int ret)
{
	struct stat st;
	int e = errno;

	if (k) {
		if (ret < 0 || (fstat(newfd, &st) == 0 && st.st_ino == k->ino &&
				st.st_dev == k->dev))
			fd_mark(newfd, true); /* still this object's */
		else
			fd_gone(k, newfd);
		__ukcov_put(k);
	}
	errno = e;
	return ret;
}

/* A vfork child's descriptors are its own: no bookkeeping there. */
static bool track_dup(int oldfd, int newfd)
{
	return oldfd != newfd && !__ukcov_in_vfork_child(&__ukcov_cur);
}

UKCOV_ROUTE int dup2(int oldfd, int newfd);
int dup2(int oldfd, int newfd)
{
	struct ukcov *k = track_dup(oldfd, newfd) ? obj_of_fd(newfd) : NULL;

	if (!real_dup2)
		__ukcov_init();
	return after_dup(k, newfd, real_dup2 ? real_dup2(oldfd, newfd)
					     : (int)syscall(SYS_dup3, oldfd,
							    newfd, 0));
}

UKCOV_ROUTE int dup3(int oldfd, int newfd, int flags);
int dup3(int oldfd, int newfd, int flags)
{
	struct ukcov *k = track_dup(oldfd, newfd) ? obj_of_fd(newfd) : NULL;

	if (!real_dup3)
		__ukcov_init();
	return after_dup(k, newfd, real_dup3 ? real_dup3(oldfd, newfd, flags)
					     : (int)syscall(SYS_dup3, oldfd,
							    newfd, flags));
}

/*
 * close(2) itself, so that a kcov client that closes its descriptor drops
 * the descriptor's reference as under Linux.  Anything else is passed on.
 */
UKCOV_ROUTE int close(int fd);
int close(int fd)
{
	return ukcov_close(fd);
}

/* The other names glibc exports for them (tests/lint/routes.sh). */
UKCOV_ROUTE_ALIAS_WEAK(__close, close);
UKCOV_ROUTE_ALIAS_WEAK(__dup2, dup2);

static int raw_close(int fd)
{
	return (int)syscall(SYS_close, fd);
}

static int raw_dup3(int oldfd, int newfd, int flags)
{
	return (int)syscall(SYS_dup3, oldfd, newfd, flags);
}

static int raw_dup2(int oldfd, int newfd)
{
	/* dup3 refuses equal descriptors; dup2 checks the one. */
	if (oldfd == newfd)
		return fcntl(oldfd, F_GETFD) < 0 ? -1 : newfd;
	return raw_dup3(oldfd, newfd, 0);
}

static int raw_close_range(unsigned int first, unsigned int last, int flags)
{
	return (int)syscall(SYS_close_range, first, last, flags);
}

static void raw_closefrom(int lowfd)
{
	raw_close_range((unsigned int)lowfd, ~0u, 0);
}

UKCOV_DECLARE_INTERCEPTOR(close);
UKCOV_DECLARE_INTERCEPTOR(dup2);
UKCOV_DECLARE_INTERCEPTOR(dup3);
UKCOV_DECLARE_INTERCEPTOR(close_range);
UKCOV_DECLARE_INTERCEPTOR(closefrom);

void __ukcov_kcov_init(void)
{
	page_size = (size_t)sysconf(_SC_PAGESIZE);
	my_ident = ident_of(getpid());
	/* In a fully static program, their system calls (UKCOV_ROUTE). */
	real_close = (int (*)(int))__ukcov_next(
		"close", UKCOV_INTERCEPTOR(close), (void *)raw_close);
	real_dup2 = (int (*)(int, int))__ukcov_next(
		"dup2", UKCOV_INTERCEPTOR(dup2), (void *)raw_dup2);
	real_dup3 = (int (*)(int, int, int))__ukcov_next(
		"dup3", UKCOV_INTERCEPTOR(dup3), (void *)raw_dup3);
	real_close_range = (int (*)(unsigned int, unsigned int, int))
		__ukcov_next("close_range", UKCOV_INTERCEPTOR(close_range),
			     (void *)raw_close_range);
	real_closefrom = (void (*)(int))__ukcov_next(
		"closefrom", UKCOV_INTERCEPTOR(closefrom),
		(void *)raw_closefrom);
}

/* A thread exits: Linux's kcov_task_exit for both of its bindings. */
void __ukcov_thread_unbind(struct ukcov_thread *th)
{
	struct ukcov *bound[2] = { th->local, th->remote };
	sigset_t ss;
	int i;

	for (i = 0; i < 2; i++) {
		struct ukcov *k = bound[i];

		if (!k)
			continue;
		__ukcov_lock(&k->lock, &ss);
		if (k->t == th) {
			unbind_locked(k, th);
			__ukcov_unlock(&k->lock, &ss);
			__ukcov_put(k);
		} else {
			__ukcov_unlock(&k->lock, &ss);
		}
	}
}

/*
 * fork: the child gets a copy of every object.  Hold the object list still
 * across the fork, and in the child forget the threads that did not follow
 * (their bindings stay in the copies, as an object enabled by another task
 * stays enabled under Linux) and the calling thread's own bindings.
 */
/* The forking thread's mask, per thread: a second thread's prepare saves
 * its own mask before it waits for objs_lock, and must not overwrite the
 * first's (which the first's parent handler would then restore). */
static __thread sigset_t fork_ss __attribute__((tls_model(UKCOV_TLS_MODEL)));

void __ukcov_atfork_prepare(void)
{
	__ukcov_lock(&objs_lock, &fork_ss);
}

void __ukcov_atfork_parent(void)
{
	__ukcov_unlock(&objs_lock, &fork_ss);
}

/*
 * The object part of a new process (task.c's __ukcov_task_init_child): the
 * locks another thread held did not follow.  After fork, the prepare
 * handler holds objs_lock with every signal blocked: release it as such.
 */
void __ukcov_kcov_atfork_child(bool from_atfork)
{
	struct ukcov *k;

	for (k = live_objs; k; k = k->next)
		k->lock = 0;
	if (from_atfork)
		__ukcov_unlock(&objs_lock, &fork_ss);
	else
		objs_lock = 0;
	my_ident = ident_of(getpid());
}
