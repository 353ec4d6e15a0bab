// SPDX-License-Identifier: MIT
/*
 * Per-thread state (the task_struct fields of kcov) and every transition
 * between a thread's contexts: the task context, the remote sections opened
 * in it, and signal handlers (the soft-interrupt analogue) with their own
 * sections.  Each route by which control enters or leaves a context, listed
 * in routes.c and signal.c, calls one of the functions here:
 *
 *   a handler starts / returns         __ukcov_hframe_enter / _exit
 *   longjmp, a C++ landing pad         __ukcov_leave_below
 *   pthread_exit                       __ukcov_leave_all
 *   the thread ends                    thread_exit (a pthread key destructor)
 *   a new process (fork, _Fork, clone) __ukcov_task_init_child
 *   vfork, clone(CLONE_VFORK)          __ukcov_vfork_enter / _leave
 *   the process ends                   __ukcov_process_exit
 *
 * The rules they keep: a handler records nothing into what it interrupted
 * and, left by any route, leaves the thread as a return would; a section
 * left by any route is closed and appended (its owner gets what was
 * gathered so far, nothing gathered after); a new process starts with
 * nothing collecting but the common handle, as Linux's kcov_task_init.
 */
#include <elf.h>
#include <errno.h>
#include <link.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

/*
 * Publish a feed: everything else first, then the mode (a signal handler or
 * the callbacks on this thread read mode first, see check in callbacks.c).
 */
void __ukcov_gen_start(struct ukcov_gen *live, const struct ukcov_gen *g)
{
	bool unique = g->mode >= UKCOV_MODE_UNIQUE_PC;

	live->area = g->area;
	live->cap = g->cap;
	live->pccap = unique ? 0 : g->cap;
	live->kcov = g->kcov;
	live->sequence = g->sequence;
	live->dropped = g->dropped;
	live->map = g->map;
	barrier(); /* pairs with the barrier after the mode read in callbacks */
	/*
	 * mode, then pcmode: a handler that runs between the two saves
	 * mode and restores pcmode derived from it (hframe_exit calls this),
	 * so the store below leaves the two agreeing whatever interrupts.
	 */
	WRITE_ONCE(live->mode, g->mode);
	barrier();
	WRITE_ONCE(live->pcmode, unique ? UKCOV_MODE_TRACE_PC : g->mode);
}

/* Withdraw a feed: the mode first, then the rest. */
void __ukcov_gen_stop(struct ukcov_gen *live)
{
	/* mode, then pcmode, as in __ukcov_gen_start. */
	WRITE_ONCE(live->mode, UKCOV_MODE_DISABLED);
	barrier();
	WRITE_ONCE(live->pcmode, UKCOV_MODE_DISABLED);
	barrier(); /* pairs with the barrier after the mode read in callbacks */
	live->area = NULL;
	live->cap = 0;
	live->pccap = 0;
	live->kcov = NULL;
	live->sequence = 0;
	live->dropped = NULL;
	live->map = NULL;
}

/*
 * The feed of the thread's own (task-level) collection: the live one, or,
 * while remote sections are open on top of it, the one the lowest section
 * saved and will restore.
 */
struct ukcov_gen *__ukcov_base_gen(struct ukcov_thread *th)
{
	struct ukcov_ctx *c = &th->task_ctx;
	unsigned int i;

	for (i = 0; i < c->depth; i++) {
		if (c->frames[i].kcov || c->frames[i].muted)
			return &c->frames[i].saved;
	}
	return &th->gen;
}

void __ukcov_warn(const char *first, ...)
{
	const char *s;
	va_list ap;

	if (write(2, "ukcov: ", 7) < 0)
		return;
	va_start(ap, first);
	for (s = first; s; s = va_arg(ap, const char *))
		if (write(2, s, strlen(s)) < 0)
			break;
	va_end(ap);
	if (write(2, "\n", 1) < 0)
		return;
}

/* --- Lifecycle observers ---------------------------------------------- */

#define MAX_OBSERVERS 4
static const struct ukcov_observer *observers[MAX_OBSERVERS];
static unsigned int nobservers;

/* Called from constructors, before any thread but the main one exists. */
void __ukcov_observe(const struct ukcov_observer *o)
{
	if (nobservers < MAX_OBSERVERS)
		observers[nobservers++] = o;
}

#define NOTIFY(hook, ...)                                                      \
	do {                                                                   \
		unsigned int i_;                                               \
		for (i_ = 0; i_ < nobservers; i_++)                            \
			if (observers[i_]->hook)                               \
				observers[i_]->hook(__VA_ARGS__);              \
	} while (0)

void __ukcov_notify_thread_named(const char *name)
{
	NOTIFY(thread_named, name);
}

/* Threads created in this process, for their creation order. */
static uint64_t thread_seq;

/* --- Handler contexts -------------------------------------------------- */

#define HSTACK (sizeof(((struct ukcov_thread *)0)->hstack) / sizeof(void *))

static inline struct ukcov_ctx *cur_ctx(struct ukcov_thread *th)
{
	return th->ctx ? th->ctx : &th->task_ctx;
}

void __ukcov_hframe_enter(struct ukcov_hframe *f, int sig,
			  uintptr_t interrupted_sp)
{
	struct ukcov_thread *th = &__ukcov_cur;

	f->saved = th->gen;
	__ukcov_gen_stop(&th->gen);
	f->ctx.depth = 0;
	f->ctx.skipped = 0;
	f->outer_ctx = th->ctx;
	f->link = th->hframes;
	/* The frame lives in the wrapper's (or the handler's) own frame, above
	 * everything the handler calls. */
	f->entry_sp = (uintptr_t)(f + 1);
	f->interrupted_sp = interrupted_sp;
	barrier();
	/* From here on, ukcov calls on this thread see handler context. */
	if (th->sig_depth < HSTACK)
		th->hstack[th->sig_depth] = f;
	th->hframes = f;
	th->ctx = &f->ctx;
	th->sig_depth++;
	barrier();
	/* Automatic per-signal section, when someone registered the handle. */
	if (sig > 0 && READ_ONCE(__ukcov_signal_handles))
		__ukcov_remote_start_at(kcov_remote_handle(UKCOV_SUBSYSTEM_SIGNAL,
							   (uint64_t)sig),
					f->entry_sp);
}

void __ukcov_hframe_exit(struct ukcov_hframe *f)
{
	struct ukcov_thread *th = &__ukcov_cur;

	/* The automatic section and anything the handler left open. */
	__ukcov_ctx_unwind(th, &f->ctx, 0);
	barrier();
	th->sig_depth--;
	th->ctx = f->outer_ctx;
	th->hframes = f->link;
	barrier();
	__ukcov_gen_stop(&th->gen);
	__ukcov_gen_start(&th->gen, &f->saved);
}

/* --- Non-local exits --------------------------------------------------- */

/* End every section of c started below target (deeper on the stack). */
static void ctx_leave_below(struct ukcov_thread *th, struct ukcov_ctx *c,
			    uintptr_t target)
{
	/* Starts past the depth limit were all deeper than the frames. */
	if (c->skipped && c->skipped_sp < target)
		c->skipped = 0;
	while (c->depth && c->frames[c->depth - 1].sp < target)
		__ukcov_section_close(th, c);
}

/*
 * The feed a context gives the callbacks when nothing above it runs: its
 * innermost collecting section's, or nothing under a muted frame, or (the
 * task context with no section) the thread's local kcov's.  What a frame's
 * saved copy holds, recomputed, for when that copy is gone.
 */
static void ctx_feed(struct ukcov_thread *th, struct ukcov_ctx *c, bool task,
		     struct ukcov_gen *g)
{
	unsigned int i = c->depth;
	struct ukcov *k;

	memset(g, 0, sizeof(*g));
	while (i--) {
		struct ukcov_frame *f = &c->frames[i];

		if (f->muted)
			return;
		if (!f->kcov)
			continue;
		g->mode = f->mode;
		g->area = f->buf;
		g->cap = ukcov_capacity(f->mode, f->words);
		g->kcov = f->kcov;
		g->sequence = f->sequence;
		g->dropped = &f->dropped;
		if (f->mode == UKCOV_MODE_UNIQUE_SEC)
			g->map = f->own_map ? th->smap[i] : __ukcov_zero_map;
		return;
	}
	k = th->local;
	if (!task || !k)
		return;
	/* Bound to this thread: only this thread changes these. */
	__ukcov_local_feed(k, g);
}

/*
 * Handler frames deeper than depth d were abandoned by an unwinding that ran
 * no code of theirs, and their memory is gone (or about to go: whoever
 * calls this runs on it).  Never read them: the surviving frame comes from
 * hstack, their sections are closed from the interrupt areas' records
 * (signal.c), and the feed from what survives.
 */
static void abandon_handlers_to(struct ukcov_thread *th, unsigned int d)
{
	struct ukcov_gen g;

	__ukcov_irq_abandon(th, d);
	barrier();
	th->sig_depth = d;
	th->hframes = d ? th->hstack[d - 1] : NULL;
	th->ctx = d ? &th->hstack[d - 1]->ctx : NULL;
	barrier();
	ctx_feed(th, d ? &th->hstack[d - 1]->ctx : &th->task_ctx, !d, &g);
	__ukcov_gen_stop(&th->gen);
	__ukcov_gen_start(&th->gen, &g);
}

/*
 * A landing pad whose frame's stack pointer is sp: handler frames below sp
 * are gone.  Only recorded depths (hstack) can be told apart; past them,
 * frames are taken as gone with the innermost (documented).
 */
static void abandon_handlers_below(struct ukcov_thread *th, uintptr_t sp)
{
	unsigned int d = th->sig_depth < HSTACK ? th->sig_depth : HSTACK;

	if (!th->hframes || (uintptr_t)th->hframes >= sp)
		return; /* the innermost is whole, so are the others */
	while (d && (uintptr_t)th->hstack[d - 1] < sp)
		d--;
	abandon_handlers_to(th, d);
}

/*
 * A handler survives a non-local exit only if target lies in its stack
 * range: from where the code it interrupted stood... up to its entry.  The
 * range of the innermost one starts at lo, where the exit is made from.
 * With no interrupted stack pointer known (ukcov_signal_enter, or an
 * architecture whose context ukcov does not read), the handler is taken to
 * run on the stack it interrupted.  frames_gone: the stack below target is
 * already unwound (a landing pad), so handler frames there are abandoned
 * unread; a longjmp has not jumped yet and they are still whole.
 */
void __ukcov_leave_below(uintptr_t target, uintptr_t lo, bool frames_gone)
{
	struct ukcov_thread *th = &__ukcov_cur;
	struct ukcov_hframe *f;

	if (__ukcov_in_vfork_child(th))
		return;
	if (frames_gone)
		abandon_handlers_below(th, target);
	while ((f = th->hframes)) {
		if (target >= lo && target < f->entry_sp)
			break; /* within this handler */
		__ukcov_hframe_exit(f);
		lo = f->interrupted_sp ? f->interrupted_sp : f->entry_sp;
	}
	ctx_leave_below(th, cur_ctx(th), target);
}

void __ukcov_leave_all(void)
{
	__ukcov_leave_below(UINTPTR_MAX,
			    (uintptr_t)__builtin_frame_address(0), false);
}

/*
 * The end of handler frame f, however the handler ends (signal.c).  Frames
 * of handlers nested in it that are still linked were abandoned (an
 * unwinding left them through f, or a bracket was never closed): closed
 * unread first, then f as at its return.
 */
void __ukcov_hframe_end(struct ukcov_hframe *f)
{
	struct ukcov_thread *th = &__ukcov_cur;
	unsigned int d;

	if (__ukcov_in_vfork_child(th))
		return;
	if (th->hframes == f) {
		__ukcov_hframe_exit(f); /* the usual return */
		return;
	}
	/* Still running, under abandoned ones?  (A longjmp may have
	 * closed it; past hstack's depth nothing is known: left alone.) */
	for (d = th->sig_depth < HSTACK ? th->sig_depth : HSTACK; d; d--)
		if (th->hstack[d - 1] == f)
			break;
	if (!d)
		return;
	abandon_handlers_to(th, d);
	__ukcov_hframe_exit(f);
}

/* --- Threads ----------------------------------------------------------- */

/* Threads that may have sections open: the exit flush walks them. */
static struct ukcov_thread *threads;
static ukcov_lock_t threads_lock;	/* protects threads and the links */

static pthread_key_t exit_key;
static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static void thread_unlist(struct ukcov_thread *th)
{
	sigset_t ss;

	__ukcov_lock(&threads_lock, &ss);
	if (th->pprev_th) {
		*th->pprev_th = th->next_th;
		if (th->next_th)
			th->next_th->pprev_th = th->pprev_th;
		th->pprev_th = NULL;
		th->next_th = NULL;
	}
	__ukcov_unlock(&threads_lock, &ss);
}

/* Linux's kcov_task_exit, for a thread's bindings and contexts. */
static void thread_exit(void *p)
{
	struct ukcov_thread *th = p;

	th->exit_hook = false;
	/*
	 * Handler frames still linked here were abandoned by an unwinding
	 * that no ukcov code saw (cancellation through a handler bracketed
	 * with ukcov_signal_enter and no cleanup): their memory is gone.
	 * Forget them; their sections cannot be reached (documented).
	 */
	th->hframes = NULL;
	th->ctx = NULL;
	th->sig_depth = 0;
	/* A thread that exits inside sections ends them (Linux leaks here). */
	__ukcov_ctx_unwind(th, &th->task_ctx, 0);
	thread_unlist(th);
	/* ukcov-run's collector: the thread's own area, still bound. */
	NOTIFY(thread_end, );
	__ukcov_thread_unbind(th);
	__ukcov_smaps_free(th);
}

void __ukcov_arm_exit_hook(struct ukcov_thread *th)
{
	sigset_t ss;

	if (th->exit_hook)
		return;
	th->exit_hook = true;
	pthread_setspecific(exit_key, th);
	__ukcov_lock(&threads_lock, &ss);
	th->next_th = threads;
	if (threads)
		threads->pprev_th = &th->next_th;
	th->pprev_th = &threads;
	threads = th;
	__ukcov_unlock(&threads_lock, &ss);
}

/*
 * The process ends while other threads may be inside sections: append what
 * each open task-context section holds so far, as if it had stopped now.
 * A frame is taken with a CAS (OPEN -> FLUSHED) so that the section's own
 * stop, racing with this, appends it or not, never twice; the stop then
 * only recycles.  Handler sections of other threads are not flushed.
 */
static void flush_other_threads(struct ukcov_thread *self)
{
	struct ukcov_thread *th;
	sigset_t ss;
	unsigned int i;

	__ukcov_lock(&threads_lock, &ss);
	for (th = threads; th; th = th->next_th) {
		if (th == self)
			continue;
		for (i = 0; i < UKCOV_REMOTE_MAX_DEPTH; i++) {
			struct ukcov_frame *f = &th->task_ctx.frames[i];
			unsigned int open = FRAME_OPEN;

			/* Pairs with the release in section_open. */
			if (__atomic_compare_exchange_n(&f->state, &open,
							FRAME_FLUSHED, false,
							__ATOMIC_ACQUIRE,
							__ATOMIC_RELAXED))
				__ukcov_section_flush(self, f);
		}
	}
	__ukcov_unlock(&threads_lock, &ss);
}

void __ukcov_process_exit(void)
{
	struct ukcov_thread *th = &__ukcov_cur;

	if (__ukcov_in_vfork_child(th))
		return; /* the parent's process goes on */
	__ukcov_leave_all();
	flush_other_threads(th);
	NOTIFY(process_exit, );
}

/* --- New processes ------------------------------------------------------ */

/*
 * The sections open in the parent are the parent's: in the child they
 * become no-op frames, which keep the child's stops paired and suspend
 * nothing (a kcov the child enables records at once, as a new task's).
 */
static void forget_sections(struct ukcov_ctx *c)
{
	unsigned int i;

	for (i = 0; i < c->depth; i++) {
		/* The references, buffers and interrupt areas are the
		 * parent's; the child's copies are simply left. */
		c->frames[i].kcov = NULL;
		c->frames[i].muted = false;
		c->frames[i].state = FRAME_IDLE;
	}
}

/*
 * Linux's kcov_task_init, in a new process: no binding, no collection, but
 * the common handle.  Open sections (and handler frames, when the process
 * was created from a handler) keep their places so that their stops and
 * returns still pair up, but record and restore nothing.  Only what is
 * async-signal-safe: _Fork may be called from a handler.
 */
void __ukcov_task_init_child(bool from_atfork)
{
	struct ukcov_thread *th = &__ukcov_cur;
	struct ukcov_hframe *f;

	__ukcov_kcov_atfork_child(from_atfork);
	__ukcov_remote_atfork_child();
	__ukcov_signal_atfork_child();
	threads_lock = 0;
	/* The other threads did not follow; this one is listed anew. */
	threads = NULL;
	th->next_th = NULL;
	th->pprev_th = NULL;
	th->exit_hook = false;
	th->klocks = 0;
	th->vfork_depth = 0;
	th->lp_depth = 0;
	__ukcov_gen_stop(&th->gen);
	th->local = NULL;
	th->remote = NULL;
	forget_sections(&th->task_ctx);
	/* Copies of the parent's section maps, maybe with a section's marks:
	 * the child's sections start from new ones. */
	__ukcov_smaps_free(th);
	for (f = th->hframes; f; f = f->link) {
		forget_sections(&f->ctx);
		__ukcov_gen_stop(&f->saved);
	}
	/* Under ukcov-run, the child collects for itself from here on. */
	thread_seq = 0;
	NOTIFY(child, );
	{
		struct ukcov_thread_info ti = { 0, NULL };

		NOTIFY(thread_begin, &ti);
	}
}

/*
 * vfork: until the child execs or exits it runs on this thread's memory,
 * TLS included, while the parent thread waits.  Enter (in the parent)
 * saves and withdraws the feed; while vfork_depth is set, whatever runs on
 * this TLS is the child, which records nothing and whose ukcov calls change
 * nothing (remote.c, kcov.c, routes.c check it).  Leave, in the parent
 * once the child is gone, restores the saved state.  Nested vforks (a
 * vfork child that vforks) only count.
 */
void __ukcov_vfork_enter(void)
{
	struct ukcov_thread *th = &__ukcov_cur;

	if (th->vfork_depth) {
		th->vfork_depth++;
		return;
	}
	/*
	 * Saved before the depth says "vfork child": a handler that runs
	 * until then returns through hframe_exit and leaves the state as it
	 * found it; one that runs after skips hframe_exit (the child shares
	 * this thread state) and leaves its frame linked, which
	 * __ukcov_vfork_leave then overwrites with what is saved here.
	 */
	th->vfork_save.gen = th->gen;
	th->vfork_save.ctx = th->ctx;
	th->vfork_save.hframes = th->hframes;
	th->vfork_save.sig_depth = th->sig_depth;
	barrier();
	th->vfork_depth = 1;
	barrier();
	__ukcov_gen_stop(&th->gen);
}

/* ret: what vfork returned (0 in the child, which changes nothing here). */
void __ukcov_vfork_leave(long ret)
{
	struct ukcov_thread *th = &__ukcov_cur;

	if (ret == 0 || !th->vfork_depth)
		return;
	/* Depth first: a handler that runs between the two is exited by
	 * hframe_exit as usual, and what it restores is overwritten here. */
	if (--th->vfork_depth)
		return;
	barrier();
	th->ctx = th->vfork_save.ctx;
	th->hframes = th->vfork_save.hframes;
	th->sig_depth = th->vfork_save.sig_depth;
	barrier();
	__ukcov_gen_start(&th->gen, &th->vfork_save.gen);
}

/* --- Initialisation ------------------------------------------------------ */

/*
 * One runtime per process.  Every copy of ukcov (libukcov.so, or
 * libukcov.a linked into a program or a library) carries this ELF note,
 * which its module's PT_NOTE segment maps with the code: found with
 * dl_iterate_phdr, with no symbol exported.  Two copies split the process:
 * code that calls one is collected only by the kcovs of that one (a
 * plugin linked with libukcov.so in a program linked with libukcov.a
 * loses its coverage without a word).  The copy that starts second says so.
 */
#define UKCOV_NOTE_TYPE 0x75636f76u /* "ucov" */
#if defined(__has_attribute)
#if __has_attribute(retain)
#define UKCOV_RETAIN __attribute__((retain))
#endif
#endif
#ifndef UKCOV_RETAIN
#define UKCOV_RETAIN
#endif
static const struct {
	uint32_t namesz, descsz, type;
	char name[8];
} runtime_note __attribute__((section(".note.ukcov"), used, aligned(4)))
UKCOV_RETAIN = { 6, 0, UKCOV_NOTE_TYPE, "ukcov" };

struct other_runtime {
	const char *path;	/* a module with another copy's note */
};

static bool has_runtime_note(const struct dl_phdr_info *info,
			     const ElfW(Phdr) *ph)
{
	const char *p = (const char *)(info->dlpi_addr + ph->p_vaddr);
	const char *end = p + ph->p_memsz;

	while ((size_t)(end - p) >= 12) {
		uint32_t namesz, descsz, type;
		size_t step;

		memcpy(&namesz, p, 4);
		memcpy(&descsz, p + 4, 4);
		memcpy(&type, p + 8, 4);
		step = 12 + ((namesz + 3ul) & ~3ul) + ((descsz + 3ul) & ~3ul);
		if (step > (size_t)(end - p))
			break;
		if (type == UKCOV_NOTE_TYPE && namesz == 6 &&
		    !memcmp(p + 12, "ukcov", 6))
			return true;
		p += step;
	}
	return false;
}

static int find_other_runtime(struct dl_phdr_info *info, size_t size,
			      void *arg)
{
	struct other_runtime *o = arg;
	uintptr_t self = (uintptr_t)&runtime_note;
	int i;

	(void)size;
	for (i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t lo = info->dlpi_addr + ph->p_vaddr;

		if (ph->p_type != PT_NOTE || self - lo < ph->p_memsz)
			continue;
		if (has_runtime_note(info, ph)) {
			o->path = info->dlpi_name && *info->dlpi_name
					  ? info->dlpi_name
					  : "the program";
			return 1;
		}
	}
	return 0;
}

static void check_runtimes(void)
{
	struct other_runtime o = { NULL };

	dl_iterate_phdr(find_other_runtime, &o);
	if (!o.path)
		return;
	__ukcov_warn("another copy of ukcov's runtime is in this process (in ",
		     o.path, "): code calling one copy is collected only by "
		     "that copy's kcovs", NULL);
	__ukcov_warn("link the program and its libraries with the same "
		     "libukcov: all with libukcov.so, or only the program with "
		     "libukcov.a (and -rdynamic, so that plugins bind to it)",
		     NULL);
}

static void atfork_child(void)
{
	__ukcov_task_init_child(true);
}

static void init_once_fn(void)
{
	__ukcov_kcov_init();
	__ukcov_routes_init();
	pthread_key_create(&exit_key, thread_exit);
	pthread_atfork(__ukcov_atfork_prepare, __ukcov_atfork_parent,
		       atfork_child);
	__ukcov_signal_init();
	check_runtimes();
}

void __ukcov_init(void)
{
	pthread_once(&init_once, init_once_fn);
}

__attribute__((constructor)) static void ukcov_ctor(void)
{
	__ukcov_init();
	/* Outside the once-routine: it opens descriptors, which init again. */
	__ukcov_auto_init();
}

/* Returning from main ends the process without calling exit's PLT entry. */
__attribute__((destructor)) static void ukcov_dtor(void)
{
	__ukcov_process_exit();
}

/*
 * Thread creation: the new thread inherits its creator's common handle
 * (Linux copies task->kcov_handle in dup_task_struct), and observers hear
 * of it.  Threads of creators without a handle, with no observer, start
 * exactly as without ukcov.
 */
struct start_args {
	void *(*fn)(void *);
	void *arg;
	uint64_t common_handle;
	uint64_t seq;
};

static void *thread_start(void *p)
{
	struct start_args a = *(struct start_args *)p;
	struct ukcov_thread_info ti = { a.seq, (void *)a.fn };

	free(p);
	__ukcov_cur.common_handle = a.common_handle;
	NOTIFY(thread_begin, &ti);
	return a.fn(a.arg);
}

/* pthread_create through the route (routes.c), with the real function. */
int __ukcov_thread_create(int (*real)(pthread_t *, const pthread_attr_t *,
				      void *(*)(void *), void *),
			  pthread_t *thread, const pthread_attr_t *attr,
			  void *(*fn)(void *), void *arg)
{
	struct ukcov_thread *th = &__ukcov_cur;
	struct start_args *a;
	uint64_t h = th->common_handle;
	int ret;

	if ((!h && !nobservers) || th->sig_depth ||
	    __ukcov_in_vfork_child(th))
		return real(thread, attr, fn, arg);
	a = malloc(sizeof(*a));
	if (!a)
		return EAGAIN;
	a->fn = fn;
	a->arg = arg;
	a->common_handle = h;
	/* Numbered by the creator: the order does not depend on which new
	 * thread runs first. */
	a->seq = __atomic_add_fetch(&thread_seq, 1, __ATOMIC_RELAXED);
	ret = real(thread, attr, thread_start, a);
	if (ret)
		free(a);
	return ret;
}

uint64_t ukcov_common_handle(void)
{
	/* Linux: 0 outside task context. */
	if (__ukcov_cur.sig_depth)
		return 0;
	return __ukcov_cur.common_handle;
}

uint64_t ukcov_remote_handle(uint64_t subsystem, uint64_t instance)
{
	return kcov_remote_handle(subsystem, instance);
}

int ukcov_version_major(void)
{
	return UKCOV_VERSION_MAJOR;
}

int ukcov_version_minor(void)
{
	return UKCOV_VERSION_MINOR;
}
