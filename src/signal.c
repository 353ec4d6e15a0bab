// SPDX-License-Identifier: MIT
/*
 * Signal handlers as soft interrupts (Linux's 2020 "collect coverage from
 * interrupts" and the fixes since).
 *
 * Every handler installed through any of glibc's exported routes (see
 * "Installing handlers" below, and every handler found installed at
 * start-up) is run by wrapper(), which brackets it with a handler frame
 * (task.c, __ukcov_hframe_enter/_exit):
 *   - entry saves the interrupted thread's whole feed (ukcov_gen: local
 *     collection, an open remote section, anything) and withdraws it, so
 *     the handler records nothing unless it opens a section of its own;
 *   - sections opened in the handler collect into a preallocated interrupt
 *     area (never allocated here) and are appended to their owner at stop;
 *   - exit closes any section the handler left open and restores the saved
 *     feed exactly, whatever the handler (or a nested one) did.
 * The remote owner's binding (th->remote) is never touched by any of this,
 * which is the 2024 lost-reference bug made impossible by construction.  A
 * nested handler gets a frame of its own: it cannot write into the outer
 * handler's section (the 2024 hardirq-in-softirq bug).
 *
 * Nothing on these paths allocates, blocks or calls a function that is not
 * async-signal-safe; locks they take are spinlocks that task-context
 * holders take with every signal blocked (__ukcov_lock).
 */
#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#include "internal.h"

UKCOV_DECLARE_INTERCEPTOR(sigaction);
#ifdef UKCOV_SHARED
#define FALLBACK_sigaction NULL
#else
/*
 * rt_sigaction(2) for a fully static program whose libc.a sigaction
 * ukcov's replaced (UKCOV_ROUTE): the kernel's layout, and a restorer of
 * ukcov's own (the kernel returns from a handler through it).
 */
#if defined(__x86_64__)
#include <sys/syscall.h>
void __ukcov_restore_rt(void);
__asm__(".text\n\t.hidden __ukcov_restore_rt\n"
	"__ukcov_restore_rt:\n\tmovq $15, %rax\n\tsyscall\n\thlt\n");

struct k_sigaction {
	void *handler;
	unsigned long flags;
	void (*restorer)(void);
	unsigned long mask;
};

static int raw_sigaction(int sig, const struct sigaction *act,
			 struct sigaction *old)
{
	struct k_sigaction k, o;
	long r;

	if (act) {
		k.handler = (void *)act->sa_handler;
		k.flags = (unsigned long)act->sa_flags | 0x04000000; /* SA_RESTORER */
		k.restorer = __ukcov_restore_rt;
		memcpy(&k.mask, &act->sa_mask, sizeof(k.mask));
	}
	r = syscall(SYS_rt_sigaction, sig, act ? &k : NULL, old ? &o : NULL,
		    sizeof(k.mask));
	if (r == 0 && old) {
		memset(old, 0, sizeof(*old));
		old->sa_handler = (sighandler_t)o.handler;
		old->sa_flags = (int)(o.flags & ~0x04000000ul);
		memcpy(&old->sa_mask, &o.mask, sizeof(o.mask));
	}
	return (int)r;
}
#define FALLBACK_sigaction ((void *)raw_sigaction)
#else
#define FALLBACK_sigaction NULL
#endif
#endif

_Static_assert(sizeof(struct sigaction) % sizeof(long) == 0,
	       "sigaction is copied word by word");
_Static_assert(sizeof(struct ukcov_hframe) <= sizeof(struct ukcov_sigctx),
	       "struct ukcov_sigctx must hold a handler frame");

/* --- Interrupt areas ------------------------------------------------- */

#define IRQ_SLOTS 64
#define IRQ_WORDS_DEFAULT 0x40000ul
#define IRQ_WORDS_MIN 0x80ul
#define IRQ_WORDS_MAX 0x1000000ul

static unsigned long irq_words = IRQ_WORDS_DEFAULT;
static char *irq_base;		/* published with release, read with acquire */
static uint64_t irq_free = ~0ull;	/* bit i set: slot i is free */
static uint64_t irq_skipped;
static ukcov_lock_t irq_reserve_lock;

/*
 * Reserve every interrupt area up front, in task context (the first
 * KCOV_REMOTE_ENABLE).  MAP_NORESERVE and untouched: address space, not
 * memory, until a handler section writes into one.
 */
void __ukcov_irq_reserve(void)
{
	size_t bytes = IRQ_SLOTS * irq_words * sizeof(unsigned long);
	sigset_t ss;
	void *p;

	if (__atomic_load_n(&irq_base, __ATOMIC_ACQUIRE))
		return;
	__ukcov_lock(&irq_reserve_lock, &ss);
	if (!irq_base) {
		p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		/* Pairs with the acquire in __ukcov_irq_get. */
		if (p != MAP_FAILED)
			__atomic_store_n(&irq_base, (char *)p,
					 __ATOMIC_RELEASE);
	}
	__ukcov_unlock(&irq_reserve_lock, &ss);
}

/* A free interrupt area, or NULL (counted as a skipped section). */
unsigned long *__ukcov_irq_get(int *slot, unsigned long *words)
{
	char *base = __atomic_load_n(&irq_base, __ATOMIC_ACQUIRE);
	uint64_t m = __atomic_load_n(&irq_free, __ATOMIC_RELAXED);
	int i;

	if (base) {
		while (m) {
			i = __builtin_ctzll(m);
			if (__atomic_compare_exchange_n(&irq_free, &m,
							m & ~(1ull << i), true,
							__ATOMIC_ACQUIRE,
							__ATOMIC_RELAXED)) {
				*slot = i;
				*words = irq_words;
				return (unsigned long *)(base +
					(size_t)i * irq_words *
						sizeof(unsigned long));
			}
		}
	}
	__atomic_add_fetch(&irq_skipped, 1, __ATOMIC_RELAXED);
	return NULL;
}

static struct ukcov_irq_use irq_uses[IRQ_SLOTS];

struct ukcov_irq_use *__ukcov_irq_use(int slot)
{
	return &irq_uses[slot];
}

/*
 * Handler frames of th deeper than depth were abandoned by an unwinding
 * (their memory is gone): their sections, each in an interrupt area this
 * thread holds, are appended as at their stop, and the areas given back.
 * The section's dropped count lived in the frame: lost (0).
 */
void __ukcov_irq_abandon(struct ukcov_thread *th, unsigned int depth)
{
	int i;

	for (i = 0; i < IRQ_SLOTS; i++) {
		struct ukcov_irq_use *u = &irq_uses[i];
		unsigned long *buf;

		if (u->th != th || u->depth <= depth)
			continue;
		buf = (unsigned long *)(irq_base + (size_t)i * irq_words *
							   sizeof(unsigned long));
		__ukcov_section_append(th, u->k, u->sequence, buf[0], irq_words,
				       buf + 1, 0, u->qslot);
		__ukcov_put(u->k);
		__ukcov_irq_put(i);
	}
}

void __ukcov_irq_put(int slot)
{
	irq_uses[slot].th = NULL;
	/* Pairs with the acquire in __ukcov_irq_get: our writes are done. */
	__atomic_fetch_or(&irq_free, 1ull << slot, __ATOMIC_RELEASE);
}

uint64_t ukcov_irq_sections_skipped(void)
{
	return __atomic_load_n(&irq_skipped, __ATOMIC_RELAXED);
}

/* One line on stderr, without stdio (this may run before main).  Never
 * from the environment of a set-user-ID or set-group-ID program. */
static void read_irq_env(void)
{
	const char *s = secure_getenv("UKCOV_IRQ_AREA_SIZE");
	unsigned long v;
	char *end;

	if (!s)
		return;
	errno = 0;
	v = strtoul(s, &end, 0);
	if (!*s || *end || errno || *s == '-' || v < IRQ_WORDS_MIN ||
	    v > IRQ_WORDS_MAX) {
		__ukcov_warn("UKCOV_IRQ_AREA_SIZE=", s,
			     ": not a number of words in 0x80..0x1000000; "
			     "using 0x40000", NULL);
		return;
	}
	irq_words = v;
}

/* --- Handler frames -------------------------------------------------- */

unsigned int __ukcov_signal_handles;

void ukcov_signal_enter(struct ukcov_sigctx *ctx, int sig)
{
	__ukcov_hframe_enter((struct ukcov_hframe *)ctx, sig, 0);
}

static void handler_frame_end(struct ukcov_hframe *f);

void ukcov_signal_exit(struct ukcov_sigctx *ctx)
{
	handler_frame_end((struct ukcov_hframe *)ctx);
}

/* --- The handler table and the wrapper -------------------------------- */

/*
 * What the program asked for, per signal.  seq is a seqlock for handlers
 * reading an entry that another thread is changing (writers hold sig_lock
 * with every signal blocked, so never on the reader's own thread).
 */
struct user_action {
	unsigned int seq;
	bool wrapped;			/* the kernel runs wrapper() for it */
	struct sigaction act;		/* the program's own action */
};

static struct user_action actions[_NSIG];
static ukcov_lock_t sig_lock;
static int (*real_sigaction)(int, const struct sigaction *,
			     struct sigaction *);

/* Word-wise relaxed copies: the seqlock readers race with the writer. */
static void copy_relaxed(void *dst, const void *src, size_t len)
{
	unsigned long *d = dst;
	const unsigned long *p = src;
	size_t i;

	for (i = 0; i < len / sizeof(long); i++)
		__atomic_store_n(&d[i],
				 __atomic_load_n(&p[i], __ATOMIC_RELAXED),
				 __ATOMIC_RELAXED);
}

static void read_action(int sig, struct sigaction *out)
{
	struct user_action *u = &actions[sig];
	unsigned int s;

	do {
		while ((s = __atomic_load_n(&u->seq, __ATOMIC_ACQUIRE)) & 1)
			cpu_relax();
		copy_relaxed(out, &u->act, sizeof(*out));
		/* The release half keeps the copy before the re-check (an
		 * RMW, not a fence: ThreadSanitizer models these). */
	} while (__atomic_fetch_add(&u->seq, 0, __ATOMIC_ACQ_REL) != s);
}

/* The handler and its flags only: all that a delivery needs. */
static void read_handler(int sig, sighandler_t *fn, int *flags)
{
	struct user_action *u = &actions[sig];
	unsigned int s;

	do {
		while ((s = __atomic_load_n(&u->seq, __ATOMIC_ACQUIRE)) & 1)
			cpu_relax();
		*fn = __atomic_load_n(&u->act.sa_handler, __ATOMIC_RELAXED);
		*flags = __atomic_load_n(&u->act.sa_flags, __ATOMIC_RELAXED);
	} while (__atomic_fetch_add(&u->seq, 0, __ATOMIC_ACQ_REL) != s);
}

/* Called with sig_lock held. */
static void write_action(int sig, const struct sigaction *act, bool wrapped)
{
	struct user_action *u = &actions[sig];

	/* Odd: readers wait.  The acquire half keeps the copy after it. */
	__atomic_fetch_add(&u->seq, 1, __ATOMIC_ACQ_REL);
	copy_relaxed(&u->act, act, sizeof(*act));
	__atomic_store_n(&u->wrapped, wrapped, __ATOMIC_RELAXED);
	/* Even again; pairs with the acquire loads in read_action. */
	__atomic_fetch_add(&u->seq, 1, __ATOMIC_RELEASE);
}

static uintptr_t interrupted_sp_of(void *uc)
{
#if defined(__x86_64__)
	return (uintptr_t)((ucontext_t *)uc)->uc_mcontext.gregs[REG_RSP];
#elif defined(__aarch64__)
	return (uintptr_t)((ucontext_t *)uc)->uc_mcontext.sp;
#else
	(void)uc;
	return 0;
#endif
}

/*
 * The end of a handler frame, however the handler ends: its return, or an
 * unwinding through wrapper() (a C++ exception thrown by the handler,
 * pthread_exit, a cancellation; this file is built with -fexceptions so that
 * the cleanup runs then).  A longjmp out of the handler does not run it: the
 * longjmp route has already closed the frame (routes.c).
 */
static void handler_frame_end(struct ukcov_hframe *f)
{
	__ukcov_hframe_end(f);
}

static void wrapper(int sig, siginfo_t *si, void *uc)
{
	int e = errno;

	{
		struct ukcov_hframe f __attribute__((cleanup(handler_frame_end)));
		sighandler_t fn;
		int flags;

		__ukcov_hframe_enter(&f, sig, interrupted_sp_of(uc));
		read_handler(sig, &fn, &flags);
		if (flags & SA_RESETHAND) {
			/* The kernel reset its side to SIG_DFL before calling
			 * us. */
			struct sigaction dfl;
			sigset_t ss;

			/* Holders block signals: never held on this thread. */
			__ukcov_lock(&sig_lock, &ss);
			read_action(sig, &dfl);
			dfl.sa_handler = SIG_DFL;
			write_action(sig, &dfl, false);
			__ukcov_unlock(&sig_lock, &ss);
		}
		errno = e;
		if (flags & SA_SIGINFO) {
			/* sa_sigaction shares sa_handler's storage. */
			union {
				sighandler_t h;
				void (*a)(int, siginfo_t *, void *);
			} u = { .h = fn };

			if (u.a)
				u.a(sig, si, uc);
		} else if (fn != SIG_DFL && fn != SIG_IGN) {
			fn(sig);
		}
		e = errno;
	}
	errno = e;
}

static bool is_wrapper(const struct sigaction *a)
{
	return (a->sa_flags & SA_SIGINFO) && a->sa_sigaction == wrapper;
}

static bool is_handler(const struct sigaction *a)
{
	if (a->sa_flags & SA_SIGINFO)
		return a->sa_sigaction != NULL;
	return a->sa_handler != SIG_DFL && a->sa_handler != SIG_IGN &&
	       a->sa_handler != NULL;
}

static int sys_sigaction(int sig, const struct sigaction *act,
			 struct sigaction *old)
{
	if (!real_sigaction) {
		errno = ENOSYS;
		return -1;
	}
	return real_sigaction(sig, act, old);
}

/* --- Installing handlers ----------------------------------------------- */

/*
 * Every route glibc exports to install a handler ends in sigaction() below,
 * so that the kernel runs wrapper().  The routes, from glibc 2.36's symbol
 * table (tests/lint/routes.sh checks the list against the installed libc):
 *   sigaction, __sigaction              sigaction(2)
 *   signal, ssignal, bsd_signal         BSD semantics
 *   sysv_signal, __sysv_signal          one-shot, not masked
 *   sigset                              System V, with SIG_HOLD
 *   sigignore                           SIG_IGN
 *   siginterrupt                        changes SA_RESTART
 * sigvec exists only as a compatibility symbol (no program built today can
 * link it).  All of them are exported without a symbol version (ukcov.map),
 * so that a library linked against libc alone binds to them too.
 *
 * sigaction(2) as the program sees it: its own handler in oldact, every
 * flag and mask passed to the kernel unchanged, but the kernel calls
 * wrapper() (with SA_SIGINFO, to get the interrupted context).
 */
UKCOV_ROUTE int sigaction(int sig, const struct sigaction *act,
			struct sigaction *oldact);
int sigaction(int sig, const struct sigaction *act, struct sigaction *oldact)
{
	struct sigaction kact, prev;
	sigset_t ss;
	int ret;

	__ukcov_init();
	if (sig <= 0 || sig >= _NSIG)
		return sys_sigaction(sig, act, oldact);
	__ukcov_lock(&sig_lock, &ss);
	if (act && is_handler(act)) {
		kact = *act;
		kact.sa_sigaction = wrapper;
		kact.sa_flags |= SA_SIGINFO;
		ret = sys_sigaction(sig, &kact, &prev);
	} else {
		ret = sys_sigaction(sig, act, &prev);
	}
	if (ret == 0) {
		/*
		 * The kernel's answer is the truth, the table a cache: glibc
		 * changes actions internally (system, abort), and a raw
		 * rt_sigaction may have.  Only when the kernel runs our wrapper
		 * is the program's own action the table's.
		 */
		if (is_wrapper(&prev))
			read_action(sig, &prev);
		if (act)
			write_action(sig, act, is_handler(act));
		if (oldact)
			*oldact = prev;
	}
	__ukcov_unlock(&sig_lock, &ss);
	return ret;
}

/* signal(3) and bsd_signal(3): glibc's BSD semantics. */
static sighandler_t set_handler(int sig, sighandler_t h, int flags,
				bool mask_self)
{
	struct sigaction act, old;

	if (sig <= 0 || sig >= _NSIG || h == SIG_ERR) {
		errno = EINVAL;
		return SIG_ERR;
	}
	memset(&act, 0, sizeof(act));
	act.sa_handler = h;
	act.sa_flags = flags;
	sigemptyset(&act.sa_mask);
	if (mask_self)
		sigaddset(&act.sa_mask, sig);
	if (sigaction(sig, &act, &old))
		return SIG_ERR;
	return old.sa_handler;
}

UKCOV_ROUTE sighandler_t signal(int sig, sighandler_t h);
sighandler_t signal(int sig, sighandler_t h)
{
	return set_handler(sig, h, SA_RESTART, true);
}

UKCOV_ROUTE sighandler_t bsd_signal(int sig, sighandler_t h);
sighandler_t bsd_signal(int sig, sighandler_t h)
{
	return set_handler(sig, h, SA_RESTART, true);
}

/* sysv_signal(3): one-shot, not masked during the handler. */
UKCOV_ROUTE sighandler_t sysv_signal(int sig, sighandler_t h);
sighandler_t sysv_signal(int sig, sighandler_t h)
{
	return set_handler(sig, h, SA_RESETHAND | SA_NODEFER, false);
}

/* The other names glibc exports for the same functions. */
UKCOV_ROUTE_ALIAS_WEAK(__sigaction, sigaction);
UKCOV_ROUTE_ALIAS(ssignal, signal);
UKCOV_ROUTE_ALIAS(__sysv_signal, sysv_signal);

/* sigignore(3): SIG_IGN, no flags, an empty mask. */
UKCOV_ROUTE int sigignore(int sig);
int sigignore(int sig)
{
	struct sigaction act;

	memset(&act, 0, sizeof(act));
	act.sa_handler = SIG_IGN;
	sigemptyset(&act.sa_mask);
	return sigaction(sig, &act, NULL);
}

/* siginterrupt(3): a system call the handler interrupts fails with EINTR
 * (flag != 0) or is restarted (flag == 0). */
UKCOV_ROUTE int siginterrupt(int sig, int flag);
int siginterrupt(int sig, int flag)
{
	struct sigaction act;

	if (sigaction(sig, NULL, &act))
		return -1;
	if (flag)
		act.sa_flags &= ~SA_RESTART;
	else
		act.sa_flags |= SA_RESTART;
	return sigaction(sig, &act, NULL);
}

/* sigset(3), System V: SIG_HOLD blocks; anything else installs and
 * unblocks; returns SIG_HOLD if the signal was blocked. */
UKCOV_ROUTE sighandler_t sigset(int sig, sighandler_t h);
sighandler_t sigset(int sig, sighandler_t h)
{
	struct sigaction act, old;
	sigset_t one, prevmask;

	if (sig <= 0 || sig >= _NSIG || h == SIG_ERR) {
		errno = EINVAL;
		return SIG_ERR;
	}
	sigemptyset(&one);
	sigaddset(&one, sig);
	if (h == SIG_HOLD) {
		if (sigaction(sig, NULL, &old) ||
		    sigprocmask(SIG_BLOCK, &one, &prevmask))
			return SIG_ERR;
		return sigismember(&prevmask, sig) ? SIG_HOLD : old.sa_handler;
	}
	memset(&act, 0, sizeof(act));
	act.sa_handler = h;
	sigemptyset(&act.sa_mask);
	if (sigaction(sig, &act, &old) ||
	    sigprocmask(SIG_UNBLOCK, &one, &prevmask))
		return SIG_ERR;
	return sigismember(&prevmask, sig) ? SIG_HOLD : old.sa_handler;
}

/* Take over handlers installed before ukcov initialised. */
static void take_over_handlers(void)
{
	struct sigaction cur;
	sigset_t ss;
	int sig;

	for (sig = 1; sig < _NSIG; sig++) {
		if (sig == SIGKILL || sig == SIGSTOP)
			continue;
		__ukcov_lock(&sig_lock, &ss);
		if (!actions[sig].wrapped && sys_sigaction(sig, NULL, &cur) == 0 &&
		    is_handler(&cur) && cur.sa_sigaction != wrapper) {
			struct sigaction kact = cur;

			kact.sa_sigaction = wrapper;
			kact.sa_flags |= SA_SIGINFO;
			write_action(sig, &cur, true);
			if (sys_sigaction(sig, &kact, NULL))
				write_action(sig, &cur, false);
		}
		__ukcov_unlock(&sig_lock, &ss);
	}
}

void __ukcov_signal_atfork_child(void)
{
	sig_lock = 0;
	irq_reserve_lock = 0;
	/* The parent's handler sections are the parent's. */
	memset(irq_uses, 0, sizeof(irq_uses));
}

/*
 * A program whose coverage callbacks resolve to another runtime records
 * nothing through ukcov, silently: clang links its UBSan runtime (weak
 * comparison callbacks) into programs built with -fsanitize-coverage and
 * no sanitizer, and that copy wins over the shared library's.  Say so once.
 * Whether a name resolves to us is whether its definition lies in this
 * module: our own callbacks' addresses, taken by name, would go through
 * the GOT and be the interposing copy's too (and aliases of them would
 * rename the callbacks for profilers and objdump).
 */

static void check_callbacks(void)
{
#ifdef UKCOV_SHARED /* linked statically, the program's calls are ours */
	static const char *const cbs[] = { "__sanitizer_cov_trace_pc",
					   "__sanitizer_cov_trace_cmp4" };
	Dl_info info, self;
	size_t i;

	/* check_callbacks is static: its address is this module's. */
	if (!dladdr((void *)check_callbacks, &self))
		return;
	for (i = 0; i < sizeof(cbs) / sizeof(cbs[0]); i++) {
		void *p = dlsym(RTLD_DEFAULT, cbs[i]);

		if (!p || (dladdr(p, &info) && info.dli_fbase == self.dli_fbase))
			continue;
		__ukcov_warn(cbs[i], " resolves to ",
			     dladdr(p, &info) && info.dli_fname
				     ? info.dli_fname
				     : "another object",
			     NULL);
		__ukcov_warn("that code is not collected; with clang, link "
			     "with -fno-sanitize-link-runtime or link "
			     "libukcov.a", NULL);
	}
#endif
}

void __ukcov_signal_init(void)
{
	real_sigaction = (int (*)(int, const struct sigaction *,
				  struct sigaction *))__ukcov_next("sigaction",
								   UKCOV_INTERCEPTOR(sigaction),
								   FALLBACK_sigaction);
	read_irq_env();
	take_over_handlers();
	check_callbacks();
}
