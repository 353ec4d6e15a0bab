/* SPDX-License-Identifier: MIT */
/*
 * Internal declarations shared by the runtime's files.  Nothing here is ABI.
 *
 * Where kernel/kcov.c keeps a concept, ukcov keeps it too:
 *   callbacks.c  __sanitizer_cov_* (the hot path; built with its own rules)
 *   kcov.c       the kcov object: states, references, ioctl, mmap, close
 *   task.c       per-thread state and every context transition: handler
 *                enter/exit, sections and handlers left by a non-local exit,
 *                thread exit, a new process (kcov_task_init), vfork; and the
 *                lifecycle observers (ukcov-run's collector subscribes)
 *   routes.c     every libc entry point ukcov interposes to see a
 *                transition: thread and process creation, exits, longjmp,
 *                C++ unwinding; each calls into task.c
 *   remote.c     handle registry, section buffers, remote start/stop
 *   signal.c     signal handlers as soft interrupts (interrupt areas), and
 *                every route that installs a handler
 */
#ifndef UKCOV_INTERNAL_H
#define UKCOV_INTERNAL_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ukcov.h"

#define hidden __attribute__((visibility("hidden")))

struct ukcov_thread;
/* A spinlock word: 0 free; see __ukcov_lock and __ukcov_klock below. */
typedef unsigned long ukcov_lock_t;

/* Never instrumented, whatever flags the file is built with. */
#if defined(__clang__)
#define UKCOV_NOCOV __attribute__((no_sanitize("coverage")))
#else
#define UKCOV_NOCOV __attribute__((no_sanitize_coverage))
#endif

/*
 * No sanitizer instrumentation: code a vfork child runs on its parent's
 * memory, where a sanitizer's per-thread state must not change.
 */
#define UKCOV_NOSANITIZE                                                       \
	__attribute__((no_sanitize("address", "thread", "undefined")))

#if defined(__x86_64__) || defined(__i386__)
#define cpu_relax() __builtin_ia32_pause()
#else
#define cpu_relax() barrier()
#endif

/*
 * Another exported name for a route's function (glibc exports several for
 * one: __sigaction, ssignal, __clone).  An assembler alias: default
 * visibility, no symbol version, and nothing for the compilers to disagree
 * on about the target's attributes.
 */
#define UKCOV_ROUTE_ALIAS(name, impl)                                          \
	__asm__(".globl " #name "\n\t.type " #name ", @function\n\t"           \
		".set " #name ", " #impl)
/* The same, weak in the static library (see UKCOV_ROUTE). */
#ifdef UKCOV_SHARED
#define UKCOV_ROUTE_ALIAS_WEAK UKCOV_ROUTE_ALIAS
#else
#define UKCOV_ROUTE_ALIAS_WEAK(name, impl)                                     \
	__asm__(".weak " #name "\n\t.type " #name ", @function\n\t"           \
		".set " #name ", " #impl)
#endif

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

/*
 * Same-thread ordering (against a signal handler on this thread) needs only
 * the compiler barrier; cross-thread ordering uses acquire/release below.
 */
#define barrier() __asm__ __volatile__("" ::: "memory")
#define READ_ONCE(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)
#define WRITE_ONCE(x, v) __atomic_store_n(&(x), (v), __ATOMIC_RELAXED)
#define smp_load_acquire(p) __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define smp_store_release(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)

/*
 * Internal modes, Linux's values (UNIQUE_PC is the 2025 series'): the
 * thread's mode word and kcov->mode.  UNIQUE_SEC is a feed's only: a
 * remote section for an owner in UNIQUE_PC mode, whose buffer holds
 * (PC, index) pairs merged into the owner's at the stop (unique.c).  The
 * callbacks test "mode >= UNIQUE_PC" for both.
 */
enum {
	UKCOV_MODE_DISABLED = 0,
	UKCOV_MODE_INIT = 1,
	UKCOV_MODE_TRACE_PC = 2,
	UKCOV_MODE_TRACE_CMP = 3,
	UKCOV_MODE_UNIQUE_PC = 5,
	UKCOV_MODE_UNIQUE_SEC = 6,
};

#define UKCOV_WORDS_PER_CMP 4
#define UKCOV_WORDS_PER_PAIR 2	/* a unique section's entry: PC, index */

/* Entries an area of `words` words holds in `mode`: word 0 is the count. */
static inline unsigned long ukcov_capacity(unsigned long mode,
					   unsigned long words)
{
	if (words < 2)
		return 0;
	if (mode == UKCOV_MODE_TRACE_CMP)
		return (words - 1) / UKCOV_WORDS_PER_CMP;
	if (mode == UKCOV_MODE_UNIQUE_SEC)
		return (words - 1) / UKCOV_WORDS_PER_PAIR;
	return words - 1;
}

/*
 * Unique mode's index space (unique.c): every call site gets an index,
 * 1 and up, unique in the process and never reused.  A trace-pc-guard
 * module's guards get theirs at __sanitizer_cov_trace_pc_guard_init; a
 * trace-pc module's executable segments a range, a PC's index being its
 * range's base plus its offset >> UKCOV_PC_SHIFT (exact: two return
 * addresses of calls are at least 2 bytes apart on x86, 4 on arm64).
 * Index 0 means none (past the limit, or a PC outside every module): such
 * a PC is appended at every hit, as Linux appends an index past its
 * bitmap.  Each map of the indices (struct ukcov_uniq, and a thread's
 * section maps) is one byte per index, UKCOV_INDEX_LIMIT bytes reserved
 * and never bounds-checked on the hot path.
 */
#define UKCOV_INDEX_LIMIT (1ul << 27)
#if defined(__x86_64__) || defined(__i386__)
#define UKCOV_PC_SHIFT 1
#elif defined(__aarch64__)
#define UKCOV_PC_SHIFT 2
#else
#define UKCOV_PC_SHIFT 0
#endif

/*
 * The PC ranges of the trace-pc modules: written under unique.c's lock
 * (entries first, then n with release), read by the callbacks without
 * one.  Entry 0 is read first, inline: the executable, or the first
 * module found.  A module unloaded has its len set to 0: its PCs then
 * have no index until a new range is registered (never the old one).
 */
#define UKCOV_PCMAP_MAX 256
struct ukcov_pcmap {
	uintptr_t lo;		/* first byte of the segment */
	uintptr_t len;		/* bytes; written last (release) */
	uint64_t base;		/* index of lo */
};
extern struct ukcov_pcmap __ukcov_pcmap[UKCOV_PCMAP_MAX] hidden;
extern unsigned int __ukcov_pcmap_n hidden;

/*
 * A kcov's unique state (KCOV_UNIQUE_ENABLE, UKCOV_REMOTE_UNIQUE_ENABLE):
 * the byte map of the indices seen since the last reset (private memory:
 * the program cannot scribble over it, and nothing but ukcov reads it),
 * the log of the indices set (a reset clears those only: O(new), not
 * O(bitmap)), and the program's bitmap, the area's first words, whose
 * bits below nbits mirror the map.  Written by the bound thread's
 * callbacks (local mode), or under the kcov's lock and the append lock
 * (remote mode: merges and resets).
 */
struct ukcov_uniq {
	uint8_t *map;		/* UKCOV_INDEX_LIMIT bytes, or NULL */
	uint32_t *log;		/* logcap indices */
	unsigned long logcap;
	unsigned long logn;	/* indices set since the reset; > logcap:
				 * the log overflowed, a reset clears all */
	unsigned long *bitmap;	/* the area's first bitmap_words words */
	unsigned long bitmap_words;
	unsigned long nbits;	/* bitmap_words * 64 */
	unsigned int reset_seen; /* shared->resets this copy cleared for */
	int owner_pid;		/* the process that enabled it */
};

/*
 * What the callbacks of one thread feed: the area, how many entries fit and
 * the mode.  The callbacks read mode first and, only if it is theirs, the
 * rest (the barrier in check_mode pairs with the one in gen_start).  A signal
 * handler saves and restores this whole struct, so it may hit at any
 * instruction of any code that changes it.
 */
struct ukcov_gen {
	unsigned int mode;	/* UKCOV_MODE_*: published last, cleared first */
	/*
	 * What trace_pc and the comparison callbacks test, derived from mode
	 * by __ukcov_gen_start: mode itself, but TRACE_PC in the unique
	 * modes, whose pccap of 0 then sends every hit to the ordered
	 * append's cold path, where the map is tested.  The ordered path
	 * stays exactly what it is without unique mode.
	 */
	unsigned int pcmode;
	unsigned int sequence;	/* kcov->sequence when this feed started */
	unsigned long *area;	/* word 0 is the count */
	unsigned long cap;	/* entries that fit: PCs, or records in CMP mode */
	unsigned long pccap;	/* cap, or 0 in the unique modes (pcmode) */
	struct ukcov *kcov;	/* the kcov fed: local one, or a section's owner */
	unsigned long *dropped;	/* entries dropped because area was full */
	uint8_t *map;		/* unique modes: the index map tested first */
};

/*
 * One open remote section, or a placeholder keeping starts and stops
 * paired: a no-op one (handle 0 or unregistered: the code inside goes on
 * to whatever fed before) or a muted one (the handle's owner exists but the
 * section could not be collected: the code inside is recorded nowhere,
 * rather than credited to an outer section).  Lives in a context's stack.
 */
struct ukcov_frame {
	struct ukcov_gen saved;	/* what was being fed below this section */
	struct ukcov *kcov;	/* owner (a reference is held), NULL if not */
	uintptr_t sp;		/* the starter's stack pointer at the start call:
				 * a non-local exit to a point above it leaves
				 * the section (task.c, __ukcov_leave_below) */
	unsigned long *buf;	/* the section's own buffer; word 0 its count */
	unsigned long words;	/* buf's size in words */
	unsigned long dropped;	/* entries the section's buffer could not hold */
	unsigned int state;	/* FRAME_* below; atomic (exit flushes) */
	unsigned int sequence;	/* owner's sequence at start */
	int irq_slot;		/* interrupt-area slot, or -1 for a task buffer */
	bool muted;		/* a skipped section: saved is restored */
	unsigned char mode;	/* the section's mode (UKCOV_MODE_*) */
	unsigned char qslot;	/* its slot in shared->slot[] */
	bool own_map;		/* UNIQUE_SEC: map is the thread's smap[] of
				 * this frame's depth, cleared at the stop */
};

/*
 * A context: the thread's task context, or one signal handler invocation
 * (the soft-interrupt analogue).  Sections nest within a context.
 */
struct ukcov_ctx {
	unsigned int depth;	/* frames in use */
	unsigned int skipped;	/* starts past UKCOV_REMOTE_MAX_DEPTH, unmatched */
	uintptr_t skipped_sp;	/* sp of the outermost of those starts */
	struct ukcov_frame frames[UKCOV_REMOTE_MAX_DEPTH];
};

/*
 * A section frame's state, for the exit flush (task.c): a thread that ends
 * the process appends the sections other threads still have open.  Whoever
 * moves OPEN on appends the section: its own stop (CLOSING) or the flush
 * (FLUSHED, after which the stop only recycles).
 */
enum {
	FRAME_IDLE = 0,		/* no-op or muted frame, or none */
	FRAME_OPEN = 1,		/* a collecting section, fields published */
	FRAME_CLOSING = 2,	/* its own thread is stopping it */
	FRAME_FLUSHED = 3,	/* the exit flush appended it */
};

/*
 * One signal handler invocation run through ukcov (the soft-interrupt
 * analogue).  Lives on the handler's own stack, in ukcov's wrapper or in the
 * caller's struct ukcov_sigctx, and links to the one it interrupted.
 */
struct ukcov_hframe {
	struct ukcov_gen saved;		/* the interrupted feed, restored at exit */
	struct ukcov_ctx ctx;		/* this handler's sections */
	struct ukcov_ctx *outer_ctx;	/* th->ctx at entry */
	struct ukcov_hframe *link;	/* the handler this one interrupted */
	uintptr_t entry_sp;		/* top of this handler's stack use */
	uintptr_t interrupted_sp;	/* sp of the interrupted code, or 0 */
};

/*
 * Per-thread state (the task_struct fields of kcov).  initial-exec TLS: the
 * callbacks reach it without a call, and it is never allocated lazily.
 */
struct ukcov_thread {
	struct ukcov_gen gen;		/* hot: read by every callback */
	struct ukcov_ctx *ctx;		/* current context (task or handler) */
	struct ukcov *local;		/* kcov bound by KCOV_ENABLE */
	struct ukcov *remote;		/* kcov bound by KCOV_REMOTE_ENABLE */
	uint64_t common_handle;		/* inherited at thread creation, fork */
	unsigned int sig_depth;		/* signal handlers running, nested */
	struct ukcov_hframe *hframes;	/* innermost running handler */
	/*
	 * The running handlers' frames by depth (hstack[d - 1] at sig_depth
	 * d, up to UKCOV_HSTACK): an unwinding that abandons handler frames
	 * finds the surviving one here, without reading the abandoned ones,
	 * whose stack memory is gone (task.c).
	 */
	struct ukcov_hframe *hstack[16];
	unsigned int klocks;		/* kcov locks held or being taken */
	bool exit_hook;			/* thread-exit destructor armed */
	/*
	 * vfork: the child shares this memory, this TLS included, until it
	 * execs or exits.  vfork_depth > 0 while a vfork child may run on it:
	 * the child records nothing and changes nothing (task.c); the parent,
	 * back, restores what vfork_save holds.
	 */
	unsigned int vfork_depth;
	struct {
		struct ukcov_gen gen;
		struct ukcov_ctx *ctx;
		struct ukcov_hframe *hframes;
		unsigned int sig_depth;
	} vfork_save;
	uintptr_t vfork_ret[4];		/* vfork's return addresses (routes) */
	unsigned int vfork_slot;	/* the slot of the vfork last made */
	bool vfork_fallback;		/* that vfork is a fork (routes.c) */
	/* C++ landing pads redirected through the trampoline (routes.c). */
	unsigned int lp_depth;
	uintptr_t lp_ip[6];
	/* Unique sections' maps of the indices seen in the section, one per
	 * task-context depth (unique.c); NULL until needed. */
	uint8_t *smap[UKCOV_REMOTE_MAX_DEPTH];
	/* The list of threads that may have sections open (exit flush). */
	struct ukcov_thread *next_th, **pprev_th;
	struct ukcov_ctx task_ctx;	/* the task context's sections */
};

#ifndef UKCOV_TLS_MODEL
#define UKCOV_TLS_MODEL "initial-exec"
#endif
extern __thread struct ukcov_thread __ukcov_cur
	__attribute__((tls_model(UKCOV_TLS_MODEL))) hidden;

/*
 * The last page of an object's memory, after the area: shared by every
 * process that inherited it (a forked child appends its remote sections to
 * the parent's area, as a Linux child's common handle does).  append_lock
 * serialises those appends across processes: it holds the holder's
 * identity (its pid, and the low 32 bits of its start time, so that a pid
 * used again is not taken for the holder), is taken inside kcov->lock (so,
 * within a process, the rule of __ukcov_klock covers it), and is taken over
 * from a holder that died, a zombie included (kcov.c).  Linux's sequence
 * check is made against sequence here, under the lock: the owner's
 * DISABLE in the parent is seen by a child's appends.
 */
struct ukcov_shared {
	uint64_t append_lock;
	/* Unique mode: resets of the owner (a forked child's copy of the map
	 * is cleared when it lags), and whether another process set bits
	 * (the owner's reset then clears the whole bitmap). */
	uint32_t resets;
	uint32_t foreign;
	/* The owner's session (kcov->sequence), written under append_lock:
	 * a forked child's sections carry its copy's, and are appended only
	 * while the owner is still in that session. */
	uint32_t sequence;
	/*
	 * Sections in flight for the owner, in this process and its forked
	 * children: opened, not yet appended or discarded (ukcov_in_flight).
	 * Each is also counted in slot[epoch & 1] as of its opening, so that
	 * a wait can tell the sections open at its call from later ones
	 * (ukcov_remote_wait; epoch written under append_lock).
	 */
	uint64_t in_flight;
	uint64_t slot[2];
	uint32_t epoch;
	/*
	 * Waiters in ukcov_remote_wait (any process), and the futex word
	 * they sleep on: a section that lands while waiters is nonzero bumps
	 * wake and wakes them (shared futex: the page is shared with forked
	 * children).  waiters is read after the slot's decrement, both
	 * sequentially consistent, so a lander either sees the waiter or the
	 * waiter sees the decrement.
	 */
	uint32_t waiters;
	uint32_t wake;
};
hidden void __ukcov_append_lock(struct ukcov_shared *s);
hidden void __ukcov_append_unlock(struct ukcov_shared *s);

/*
 * The kcov object.
 *
 * States (kcov.c's): OPEN (mode DISABLED, no area) -> INIT_TRACE -> READY
 * (mode INIT) -> ENABLE -> LOCAL (mode TRACE_*, t = the enabler) or
 * REMOTE_ENABLE -> REMOTE (remote = true, t = the owner); DISABLE, the
 * bound thread's exit or a failed REMOTE_ENABLE go back to READY through
 * kcov_reset(), which bumps sequence.  Freed when refcount reaches zero.
 *
 * References: the descriptor (1, dropped at close), the bound thread (1),
 * each remote section in flight (1).
 *
 * lock protects mode, t, remote, remote_size, sequence and the append into
 * area (kcov_move_area); it is a spinlock taken with every signal blocked
 * (the user-space spin_lock_irqsave), since a section stop in a signal
 * handler takes it.  area and size never change after INIT_TRACE.
 * Objects are type-stable: their memory is recycled, never unmapped, so a
 * lock-free reader of the handle registry may try to take a reference on an
 * object that is being freed and fail cleanly.
 */
struct ukcov {
	unsigned int refcount;		/* atomic; first field (see ukcov_open) */
	ukcov_lock_t lock;
	unsigned int mode;
	unsigned int sequence;
	unsigned long size;		/* words, after INIT_TRACE */
	unsigned long *area;		/* runtime's mapping, guard pages around */
	size_t map_len;			/* bytes of the memfd (page multiple) */
	struct ukcov_shared *shared;	/* the memfd's last page */
	struct ukcov_thread *t;		/* bound thread, or NULL */
	bool remote;
	unsigned int remote_size;	/* words per task-context section */
	uint64_t common_handle;		/* registered common handle, or 0 */
	/* Descriptor identity; protected by the global object lock. */
	int fd;				/* descriptor number it was opened as */
	bool file_ref;			/* the descriptor's reference is held */
	dev_t dev;
	ino_t ino;
	struct ukcov *next;		/* live list or free list */
	/* Guard pages around the program's mappings (ukcov_mmap), unmapped
	 * when the object is freed; under lock. */
	unsigned int nguards;
	struct {
		char *base;	/* the guard page before the mapping */
		size_t len;	/* the mapping's page-rounded length */
	} guards[4];
	/* Statistics (ukcov_get_stats).  *drops is written by the bound
	 * thread's callbacks only, and by appends under lock; the others
	 * under lock.  drops is &dropped, or where ukcov-run reads it. */
	unsigned long dropped;
	unsigned long *drops;
	/* The area is not faulted in at enable (ukcov-run's, which may be
	 * large and mostly unwritten): pages come at first write. */
	bool lazy;
	/* Unique mode: trace is the area's words after the bitmap. */
	struct ukcov_uniq u;
	unsigned long *trace;		/* area, or area + u.bitmap_words */
	unsigned long sections_appended;	/* atomic */
	unsigned long sections_discarded;	/* atomic */
	unsigned long sections_skipped;		/* atomic */
	/* Registered handles, for unregistering; under lock and reg_lock. */
	unsigned int nhandles;
	uint64_t handles[KCOV_REMOTE_MAX_HANDLES + 1];
};

/*
 * Spinlocks.  __ukcov_lock takes one with every signal of the calling thread
 * blocked (the user-space spin_lock_irqsave): a handler can never find it
 * held by the thread it interrupted.  It stores 1.
 *
 * kcov->lock may also be taken without touching the signal mask, by
 * __ukcov_klock: a remote section's start and stop then make no system
 * call.  Its rule against deadlock: a signal handler waits for a kcov lock
 * only if its own thread holds (or is taking) no kcov lock, in any context;
 * otherwise it gets false and its section is skipped, and counted.  So a
 * waiter's thread never holds a lock anyone waits for, and every holder
 * runs on: a handler on the holder's thread does not wait, and a holder
 * with signals blocked is never interrupted.  (Without the rule, two
 * threads each holding one kcov's lock, each interrupted by a handler
 * wanting the other's, would spin forever.)  A handler that opened a
 * section can always wait at its stop: the code it interrupted cannot take
 * a lock before the handler returns.
 */
hidden void __ukcov_lock(ukcov_lock_t *lock, sigset_t *saved);
hidden void __ukcov_unlock(ukcov_lock_t *lock, const sigset_t *saved);
hidden bool __ukcov_klock(ukcov_lock_t *lock, struct ukcov_thread *th);
hidden void __ukcov_kunlock(ukcov_lock_t *lock, struct ukcov_thread *th);

/* One line on stderr: "ukcov: " and the strings up to NULL.  No stdio:
 * this may run before main.  (task.c) */
hidden void __ukcov_warn(const char *first, ...)
	__attribute__((sentinel));

/* Each file's part of initialisation, run once by __ukcov_init. */
hidden void __ukcov_kcov_init(void);
hidden void __ukcov_signal_init(void);

/* kcov.c */
hidden struct ukcov *__ukcov_obj_get(int fd);
/*
 * A kcov on memory the caller mapped (ukcov-run's region, autorun.c): a
 * PROT_NONE page at base, the area's words, the shared page, a PROT_NONE
 * page; map_len covers the area and the shared page.  No descriptor: the
 * caller holds the one reference, and the memory goes with the object.
 * The object is READY; drops counts the entries it loses.  NULL if none.
 */
hidden struct ukcov *__ukcov_obj_on(char *base, size_t map_len,
				    unsigned long words,
				    unsigned long *drops);
/* KCOV_ENABLE and KCOV_DISABLE of k by th, without a descriptor. */
hidden int __ukcov_enable(struct ukcov *k, struct ukcov_thread *th,
			  unsigned long mode);
hidden int __ukcov_disable(struct ukcov *k, struct ukcov_thread *th);
/* KCOV_UNIQUE_ENABLE of k by th (ukcov-run's areas). */
hidden int __ukcov_unique_enable(struct ukcov *k, struct ukcov_thread *th,
				 unsigned long bitmap_words);
/* The feed of k, bound locally to its thread. */
hidden void __ukcov_local_feed(const struct ukcov *k, struct ukcov_gen *g);
hidden int __ukcov_arg_to_mode(unsigned long arg);
hidden bool __ukcov_tryget(struct ukcov *k);
hidden void __ukcov_put(struct ukcov *k);
hidden void __ukcov_thread_unbind(struct ukcov_thread *th);
hidden void __ukcov_reset_locked(struct ukcov *k);
hidden void __ukcov_atfork_prepare(void);
hidden void __ukcov_atfork_parent(void);
hidden void __ukcov_kcov_atfork_child(bool from_atfork);

/*
 * task.c: per-thread state and the context transitions.  Every route that
 * enters or leaves a context (routes.c, signal.c) goes through these.
 */
hidden void __ukcov_gen_start(struct ukcov_gen *live, const struct ukcov_gen *g);
hidden void __ukcov_gen_stop(struct ukcov_gen *live);
hidden struct ukcov_gen *__ukcov_base_gen(struct ukcov_thread *th);
hidden void __ukcov_arm_exit_hook(struct ukcov_thread *th);
hidden void __ukcov_init(void);
/* A signal handler starts or ends on this thread (the softirq analogue). */
hidden void __ukcov_hframe_enter(struct ukcov_hframe *f, int sig,
				 uintptr_t interrupted_sp);
hidden void __ukcov_hframe_exit(struct ukcov_hframe *f);
/* A handler ends, by return or unwinding (frames nested in it abandoned). */
hidden void __ukcov_hframe_end(struct ukcov_hframe *f);
/*
 * Control leaves for a point whose stack pointer is target, from code whose
 * stack pointer is lo (longjmp, a C++ landing pad): every handler whose
 * stack range does not hold target returns, and every section started
 * below target ends, as if each had returned or stopped.
 */
hidden void __ukcov_leave_below(uintptr_t target, uintptr_t lo,
				bool frames_gone);
/* The thread leaves every context it is in (pthread_exit, exit). */
hidden void __ukcov_leave_all(void);
/* A new process, in the child (fork, _Fork, clone without CLONE_VM):
 * Linux's kcov_task_init.  from_atfork: fork's prepare handler ran. */
hidden void __ukcov_task_init_child(bool from_atfork);
/* The process ends (exit, _exit, quick_exit, return from main): end this
 * thread's contexts and append what other threads' open sections hold. */
hidden void __ukcov_process_exit(void);
/* vfork and clone(CLONE_VM | CLONE_VFORK): see vfork_depth. */
hidden void __ukcov_vfork_enter(void);
hidden void __ukcov_vfork_leave(long ret);
static inline bool __ukcov_in_vfork_child(const struct ukcov_thread *th)
{
	return th->vfork_depth != 0;
}
/* pthread_create's route: real is the interposed function (routes.c). */
#include <pthread.h>
hidden int __ukcov_thread_create(int (*real)(pthread_t *,
					     const pthread_attr_t *,
					     void *(*)(void *), void *),
				 pthread_t *thread, const pthread_attr_t *attr,
				 void *(*fn)(void *), void *arg);

/*
 * Lifecycle observers: ukcov-run's collector (autorun.c) subscribes; the
 * core calls them and knows nothing else of it.  Each hook may be NULL.
 */
struct ukcov_thread_info {
	uint64_t seq;		/* creation order in the process: 0 for the
				 * main thread (and a new process's thread),
				 * then 1, 2... in pthread_create order */
	void *start_routine;	/* NULL for the main thread */
};
struct ukcov_observer {
	/* A thread starts (one pthread_create made, or the forking thread
	 * in a new process, after child): in that thread. */
	void (*thread_begin)(const struct ukcov_thread_info *ti);
	/* A thread ends, in that thread, its sections already closed. */
	void (*thread_end)(void);
	/* A new process, in the child, before thread_begin. */
	void (*child)(void);
	/* The process ends (exit, _exit, _Exit, quick_exit, a return from
	 * main), in the thread that ends it, its contexts closed. */
	void (*process_exit)(void);
	/* The calling thread named itself (pthread_setname_np). */
	void (*thread_named)(const char *name);
};
hidden void __ukcov_observe(const struct ukcov_observer *o);
hidden void __ukcov_notify_thread_named(const char *name);

/* routes.c */
hidden void __ukcov_routes_init(void);
/*
 * The function a route interposes, behind ukcov's definition: a sanitizer
 * runtime's interceptor when one is linked into the program, else the next
 * definition (libc's).  NULL when there is none.
 */
hidden void *__ukcov_next(const char *name, void *interceptor,
			  void *fallback);
/*
 * A sanitizer runtime linked statically into the program (clang's) defines
 * each interceptor as __interceptor_NAME with NAME a weak alias, which the
 * static libukcov's strong definition replaces: forward to the interceptor
 * then, or the sanitizer never sees the call (clang's ThreadSanitizer
 * crashed in its thread registry, and took descriptors closed through
 * ukcov for races).  libukcov.so always takes the next definition: the
 * sanitizer's NAME, if any, comes before it.
 */
#ifdef UKCOV_SHARED
#define UKCOV_INTERCEPTOR(name) NULL
#define UKCOV_DECLARE_INTERCEPTOR(name) struct ukcov_interceptor_##name
#else
#define UKCOV_INTERCEPTOR(name) ((void *)__interceptor_##name)
#define UKCOV_DECLARE_INTERCEPTOR(name)                                        \
	extern char __interceptor_##name[] __attribute__((weak))
#endif

/*
 * Routes are strong definitions: a sanitizer runtime linked into the program
 * defines the same functions weakly, and the first of two weak definitions
 * would win.  In a fully static program (-static), a strong definition
 * would clash with libc.a's where libc.a's object is pulled in for another
 * of its names: those few routes are weak in the static library
 * (UKCOV_ROUTE_WEAK: __sigaction, exit, __close, __dup2, _Unwind_SetIP),
 * and libc.a's win there.  Elsewhere ukcov's win, and dlsym finds no next
 * definition in a static program: the fallback is libc.a's own name for
 * the function (__pthread_create_2_1...), which the options of
 * ukcov-static.ldflags pull into the link, or its system call.  libc.so
 * exports none of those names: they are never used in a dynamic program.
 */
#define UKCOV_ROUTE UKCOV_API
#ifdef UKCOV_SHARED
#define UKCOV_ROUTE_WEAK UKCOV_API
#define UKCOV_FALLBACK(name) NULL
#define UKCOV_DECLARE_FALLBACK(name, sym) struct ukcov_fallback_##name
#else
#define UKCOV_ROUTE_WEAK UKCOV_API __attribute__((weak))
#define UKCOV_FALLBACK(name) ((void *)ukcov_fallback_##name)
#define UKCOV_DECLARE_FALLBACK(name, sym)                                      \
	extern char ukcov_fallback_##name[] __asm__(sym) __attribute__((weak))
#endif

/* signal.c */
hidden unsigned long *__ukcov_irq_get(int *slot, unsigned long *words);
hidden void __ukcov_irq_put(int slot);
/*
 * Who uses an interrupt area: written by the thread that took the slot, read
 * by that thread only, to close the sections of handler frames an unwinding
 * abandoned (their frames' memory is gone; the area and this are not).
 */
struct ukcov_irq_use {
	struct ukcov_thread *th;	/* the thread, NULL when free */
	struct ukcov *k;		/* the section's owner (a reference) */
	unsigned int sequence;		/* the owner's at the start */
	unsigned int depth;		/* the handler depth of the section */
	unsigned int qslot;		/* its slot in shared->slot[] */
};
hidden struct ukcov_irq_use *__ukcov_irq_use(int slot);
/* Close the sections of th's handlers deeper than depth (abandoned). */
hidden void __ukcov_irq_abandon(struct ukcov_thread *th, unsigned int depth);
hidden void __ukcov_irq_reserve(void);
extern unsigned int __ukcov_signal_handles hidden;
hidden void __ukcov_signal_atfork_child(void);

/* remote.c */
hidden int __ukcov_remote_enable(struct ukcov *k, unsigned long arg,
				 bool unique);
hidden void __ukcov_remote_unregister_locked(struct ukcov *k);
hidden void __ukcov_remote_atfork_child(void);
/* ukcov-run's handle areas: no owner thread; bitmap_words nonzero for
 * unique mode (every index deduplicated). */
hidden int __ukcov_remote_enable_unbound(struct ukcov *k, unsigned long mode,
					 unsigned int area_size,
					 uint64_t handle,
					 unsigned long bitmap_words);
hidden void __ukcov_remote_start_at(uint64_t handle, uintptr_t sp);
hidden void __ukcov_section_close(struct ukcov_thread *th, struct ukcov_ctx *c);
/* Append what another thread's open section frame f holds (exit flush). */
hidden void __ukcov_section_flush(struct ukcov_thread *self,
				  struct ukcov_frame *f);
/* Append n entries to k if its session is still seq (and count it). */
hidden void __ukcov_section_append(struct ukcov_thread *th, struct ukcov *k,
				   unsigned int seq, unsigned long n,
				   unsigned long words,
				   const unsigned long *entries,
				   unsigned long dropped, unsigned int qslot);
/* Count a section for k in flight: its slot (ukcov_remote_wait). */
hidden unsigned int __ukcov_in_flight_add(struct ukcov *k);
/* ukcov_remote_wait: 0, -EINVAL (k not remote), -ETIMEDOUT. */
hidden int __ukcov_remote_wait(struct ukcov *k, uint64_t timeout_ns);
hidden const volatile uint64_t *__ukcov_in_flight_of(struct ukcov *k);
hidden void __ukcov_ctx_unwind(struct ukcov_thread *th, struct ukcov_ctx *c,
			       unsigned int depth);
hidden bool __ukcov_handle_valid(uint64_t h, bool common_ok, bool global_ok,
				 bool zero_ok);

/* unique.c (and the maps the callbacks read, defined in callbacks.c) */
/*
 * The map a RAW unique feed tests: UKCOV_INDEX_LIMIT read-only zero bytes
 * (a unique section in a handler, which cannot allocate a map of its own:
 * every hit goes to its buffer, and the merge deduplicates).
 */
extern uint8_t *__ukcov_zero_map hidden;
hidden int __ukcov_zero_map_init(void);
hidden void __ukcov_pcmap_update(bool force);
hidden int __ukcov_uniq_alloc(struct ukcov *k);
hidden void __ukcov_uniq_start(struct ukcov *k, unsigned long bitmap_words);
hidden void __ukcov_uniq_stop(struct ukcov *k);
hidden void __ukcov_uniq_reset(struct ukcov *k);
hidden void __ukcov_uniq_merge(struct ukcov *k, unsigned long n,
			       const unsigned long *pairs,
			       unsigned long dropped);
hidden void __ukcov_uniq_free(struct ukcov *k);
hidden uint8_t *__ukcov_smap_get(struct ukcov_thread *th, unsigned int d);
hidden void __ukcov_smap_clear(uint8_t *map, unsigned long n,
			       const unsigned long *pairs);
hidden void __ukcov_smaps_free(struct ukcov_thread *th);

/* autorun.c */
hidden void __ukcov_auto_init(void);

#endif /* UKCOV_INTERNAL_H */
