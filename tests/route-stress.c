// SPDX-License-Identifier: MIT
/*
 * Every route in and out of a context, mixed on several threads while
 * signals with sections arrive (issue 10; t_stress_seconds, default 2.5 s;
 * `make stress DURATION=N` runs it longer).
 *
 * Three owner threads each own a remote kcov (a global handle, a common
 * handle; owner 0 also the SIGUSR1 handle, owner 1 the SIGUSR2 one) and
 * DISABLE and REMOTE_ENABLE it again all the time: their handles are
 * registered and unregistered under the workers' feet.  Four worker threads
 * collect locally and, at random, run:
 *   - a section for one owner (global handle, common handle, or through
 *     ukcov_run_captured);
 *   - a chain of five nested sections for the three owners, the fifth past
 *     the depth limit;
 *   - longjmp/siglongjmp out of sections, and out of a handler (SIGALRM,
 *     raised) that opened a section, from inside a task section or not;
 *   - fork children that run a section for an owner's handle and end by
 *     exit, _exit or quick_exit (sometimes inside the section), from inside
 *     a section or not; clone children (without CLONE_VM) likewise;
 *   - vfork and clone(CLONE_VM | CLONE_VFORK) children that run
 *     instrumented code and a section start, then exec a missing path or
 *     _exit; posix_spawn and system helpers;
 *   - the end of the worker, which is then replaced: pthread_exit inside
 *     sections or inside a handler's section, deferred cancellation inside
 *     a section or a handler's section, asynchronous cancellation inside a
 *     section.
 * A fifth thread sends SIGUSR1 and SIGUSR2 to the workers with
 * pthread_kill: the handlers run in the automatic per-signal sections and
 * open explicit ones for owner 2.
 *
 * Checked (each check can fail):
 *   - no crash, no hang (the runner's timeout);
 *   - each owner's area, read after each DISABLE, holds only PCs of the
 *     functions that run inside sections for it: its own sections' work;
 *     the work of sections nested inside its own in the chain (an inner
 *     section whose owner is unregistered is a no-op frame by design: its
 *     code goes on to the outer section); its handlers' sections; its
 *     children's sections (which reach its area through the shared
 *     mapping);
 *   - each worker's local trace, per iteration, holds no handler code, no
 *     child's code, and no code of a section whose owner stayed registered
 *     for the whole iteration (owners publish a sequence count around each
 *     registration, as a seqlock); its own code is recorded after every
 *     route;
 *   - a fork or clone child's section found the owner whenever the owner
 *     was registered at the fork (its copy of the sequence count says so),
 *     and the section's code is in the child's own local trace exactly when
 *     the section found no owner; every child exits 0;
 *   - at the end, all 64 interrupt areas are free (64 nested handler
 *     sections on a fresh thread skip none; not under ThreadSanitizer,
 *     where handlers do not nest), and every kcov object is freed:
 *     descriptors back to the baseline, no memfd:ukcov mapping left.
 * Under ThreadSanitizer, what it cannot follow is left out, and said: vfork
 * and clone (its vfork is a fork), _longjmp (not intercepted: it loses
 * track of the stack), jumps out of handlers (a raise() from the task
 * context after one was seen to return without running the handler), the
 * 64 nested handlers (signals wait until a handler returns), and every end
 * of a worker inside its contexts: a
 * handler left by pthread_exit or a cancellation skips its handler
 * wrapper, asynchronous cancellation acts only at libc calls, and the
 * section that a thread's exit closes (in ukcov's thread-specific data
 * destructor, under the owner's lock) is reported as racing with the
 * owner's DISABLE (under the same lock): a false report, it seems, of
 * ThreadSanitizer's handling of destructors at thread exit, not yet
 * pinned down (tests/route-thread-exit.c covers these ends there, one at
 * a time).
 */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "helpers.h"

#define NOWN 3
#define NW 4
#define OWORDS (1ul << 16)	/* owner areas */
#define LWORDS (1ul << 15)	/* local areas */
#define SWORDS 1024		/* a task section's buffer */
#define CHILD_STACK (256 << 10)

extern char **environ;

T_NOCOV static uint64_t gh(int o)
{
	return UKCOV_SUBSYSTEM_APP(41) | (uint64_t)(o + 1);
}

/* A common handle: subsystem 0, so the handle is its instance (and no
 * call of the header's instrumented inline function runs in a section). */
T_NOCOV static uint64_t ch(int o)
{
	return 0x5100 + (uint64_t)o;
}

/* Per thread: every worker, handler and child writes them. */
static __thread volatile long sink, tail;

/*
 * The instrumented code.  Each ends with a store after its last block's
 * callback, so that no callback is a tail call (whose recorded PC would be
 * the caller's).
 */
#define WORK(name, k)                                                          \
	__attribute__((noinline)) void name(int n);                            \
	__attribute__((noinline)) void name(int n)                             \
	{                                                                      \
		int i;                                                         \
		for (i = 0; i < n; i++)                                        \
			sink += (i & 1) ? i * (k) : (k);                       \
		tail = n;                                                      \
	}

WORK(local_work, 3)	/* a worker's own code */
WORK(sec_w0, 5)		/* task sections, global handle of owner 0 */
WORK(sec_w1, 7)
WORK(sec_w2, 11)
WORK(com_w0, 13)	/* common handle sections (and run_captured) */
WORK(com_w1, 17)
WORK(com_w2, 19)
WORK(deep_work, 23)	/* past the depth limit */
WORK(usr1_body, 29)	/* SIGUSR1: automatic section for owner 0 */
WORK(usr1_for2, 31)	/* SIGUSR1: explicit section for owner 2 */
WORK(usr2_body, 37)	/* SIGUSR2: automatic section for owner 1 */
WORK(usr2_for2, 41)	/* SIGUSR2: explicit section for owner 2 */
WORK(hsec_w0, 43)	/* SIGALRM: explicit section for owner N */
WORK(hsec_w1, 47)
WORK(hsec_w2, 53)
WORK(child_w0, 59)	/* fork/clone children: section for owner N */
WORK(child_w1, 61)
WORK(child_w2, 67)
WORK(vchild_work, 71)	/* vfork-style children: recorded nowhere */
WORK(nest_work, 73)	/* the final 64 nested handlers */

static void (*const sec_w[NOWN])(int) = { sec_w0, sec_w1, sec_w2 };
static void (*const com_w[NOWN])(int) = { com_w0, com_w1, com_w2 };
static void (*const hsec_w[NOWN])(int) = { hsec_w0, hsec_w1, hsec_w2 };
static void (*const child_w[NOWN])(int) = { child_w0, child_w1, child_w2 };

/* --- Owners ------------------------------------------------------------- */

struct owner {
	int idx;
	struct t_kcov k;
	pthread_t tid;
	unsigned long periods, entries;
	struct t_range allowed[16];
	unsigned int nallowed;
};

int main(void);
static struct owner owners[NOWN];
/*
 * seq[o]: odd while owner o's handles are registered and stay so; the
 * owner makes it odd after REMOTE_ENABLE returns and even before DISABLE
 * (seq_cst both sides: a start that saw the handle unregistered is ordered
 * before a read that still sees the old odd value... which it cannot be).
 */
static unsigned long seq[NOWN];
static int stop;	/* atomic */

static struct {
	unsigned long iterations, sections, chains, jumps, handler_raises,
		forks, clones, vforks, vm_clones, spawns, systems, thread_exits,
		cancels, async_cancels, handler_cancels, handler_exits,
		signals_sent, usr1, usr2, fell_local, child_noowner;
} fig;	/* atomic adds */

#define COUNT(f) __atomic_add_fetch(&fig.f, 1, __ATOMIC_RELAXED)

struct named {
	void (*fn)(int);
	const char *name;
};
#define N(f) { f, #f }
static const struct named names[] = {
	N(local_work), N(sec_w0), N(sec_w1), N(sec_w2), N(com_w0), N(com_w1),
	N(com_w2), N(deep_work), N(usr1_body), N(usr1_for2), N(usr2_body),
	N(usr2_for2), N(hsec_w0), N(hsec_w1), N(hsec_w2), N(child_w0),
	N(child_w1), N(child_w2), N(vchild_work), N(nest_work),
};

T_NOCOV static const char *name_of(uintptr_t pc)
{
	unsigned int i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (t_in(t_range_of((const void *)names[i].fn), pc))
			return names[i].name;
	return "(elsewhere)";
}

T_NOCOV static void allow(struct owner *o, void (*fn)(int))
{
	o->allowed[o->nallowed++] = t_range_of((const void *)fn);
}

/*
 * What may reach owner o's area.  The chain nests owner 0's section
 * around owner 1's around owner 2's: an inner section whose owner is
 * unregistered is a no-op frame, and its code goes on to the outer one.
 */
T_NOCOV static void owner_ranges(struct owner *o)
{
	int j;

	for (j = o->idx; j < NOWN; j++) {
		allow(o, sec_w[j]);
		allow(o, com_w[j]);
	}
	allow(o, deep_work);
	allow(o, hsec_w[o->idx]);
	allow(o, child_w[o->idx]);
	if (o->idx == 0) {
		allow(o, usr1_body);
		allow(o, usr1_for2); /* owner 2 unregistered: falls to usr1's */
	} else if (o->idx == 1) {
		allow(o, usr2_body);
		allow(o, usr2_for2);
	} else {
		allow(o, usr1_for2);
		allow(o, usr2_for2);
	}
}

/* The area of a disabled owner: nothing appends to it in this process. */
T_NOCOV static void owner_check(struct owner *o)
{
	unsigned long n = t_count(&o->k), i;

	if (t_sig_count_outside(&o->k, o->allowed, o->nallowed) == 0) {
		o->entries += n;
		return;
	}
	for (i = 0; i < n && i + 1 < o->k.words; i++) {
		unsigned int j;

		for (j = 0; j < o->nallowed; j++)
			if (t_in(o->allowed[j], o->k.area[i + 1]))
				break;
		if (j == o->nallowed)
			t_fail("owner %d: entry %lu of %lu, %#lx in %s (main%+ld), "
			       "does not run for it",
			       o->idx, i, n, o->k.area[i + 1],
			       name_of(o->k.area[i + 1]),
			       (long)(o->k.area[i + 1] - (uintptr_t)main));
	}
}

T_NOCOV static unsigned int next_rand(unsigned int *s)
{
	*s = *s * 1103515245u + 12345u;
	return *s >> 8;
}

T_NOCOV static void pause_us(unsigned int us)
{
	struct timespec ts = { 0, (long)us * 1000 };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static void *owner_main(void *p)
{
	struct owner *o = p;
	uint64_t hs[2] = { gh(o->idx), 0 };
	unsigned int n = 1, seed = 777u * (unsigned int)(o->idx + 1);

	if (o->idx < 2) {
		hs[1] = ukcov_remote_handle(UKCOV_SUBSYSTEM_SIGNAL,
					    o->idx == 0 ? SIGUSR1 : SIGUSR2);
		n = 2;
	}
	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
		t_set_count(&o->k, 0);
		if (t_remote_enable(o->k.fd, KCOV_TRACE_PC, SWORDS, ch(o->idx),
				    n, hs))
			t_fail("owner %d: REMOTE_ENABLE: %s", o->idx,
			       strerror(errno));
		__atomic_add_fetch(&seq[o->idx], 1, __ATOMIC_SEQ_CST);
		pause_us(200 + next_rand(&seed) % 3000);
		__atomic_add_fetch(&seq[o->idx], 1, __ATOMIC_SEQ_CST);
		if (ukcov_ioctl(o->k.fd, KCOV_DISABLE, 0))
			t_fail("owner %d: DISABLE: %s", o->idx,
			       strerror(errno));
		owner_check(o);
		o->periods++;
		pause_us(next_rand(&seed) % 1000);
	}
	return NULL;
}

T_NOCOV static void seq_snap(unsigned long *s)
{
	int o;

	for (o = 0; o < NOWN; o++)
		s[o] = __atomic_load_n(&seq[o], __ATOMIC_SEQ_CST);
}

/* --- Workers ------------------------------------------------------------ */

enum { S_RUN, S_EXITED, S_CANCEL_ME, S_DONE };

struct slot {
	pthread_mutex_t mu;	/* protects alive against the signaller */
	pthread_t tid;
	bool alive;		/* under mu: a thread to send signals to */
	int state;		/* atomic: S_* */
	int idx;
	struct t_kcov local;
	unsigned int seed;
	unsigned int route;	/* this iteration's a and r, for messages */
	unsigned int route_r;
	unsigned int prev, prev_r;	/* the iteration before */
};

static struct slot slots[NW];
static __thread struct slot *me;

/* SIGALRM, raised by a worker: what its handler does. */
enum { A_RETURN, A_JUMP, A_EXIT, A_CANCEL };
static __thread int alrm_mode, alrm_owner;
static __thread sigjmp_buf jb;

/*
 * Waiting to be cancelled, SIGUSR1 and SIGUSR2 are blocked: glibc before
 * 2.37 acts on a deferred cancellation at once while a signal handler runs
 * on top of a blocked cancellation point (glibc bug 12683), which would
 * unwind from anywhere inside the handler's ukcov calls, as an
 * asynchronous cancellation of code that is not async-cancel-safe.
 */
T_NOCOV static void block_usr(void)
{
	sigset_t ss;

	sigemptyset(&ss);
	sigaddset(&ss, SIGUSR1);
	sigaddset(&ss, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &ss, NULL);
}

T_NOCOV static __attribute__((noreturn)) void end_thread(int state)
{
	if (state == S_CANCEL_ME)
		block_usr();
	__atomic_store_n(&me->state, state, __ATOMIC_RELEASE);
	if (state == S_EXITED)
		pthread_exit(NULL);
	for (;;)
		pause(); /* the main thread cancels us here */
}

T_NOCOV static void on_usr1(int sig)
{
	(void)sig;
	usr1_body(3);
	ukcov_remote_start(gh(2));
	usr1_for2(3);
	ukcov_remote_stop();
	COUNT(usr1);
}

T_NOCOV static void on_usr2(int sig)
{
	(void)sig;
	usr2_body(3);
	ukcov_remote_start(gh(2));
	usr2_for2(3);
	ukcov_remote_stop();
	COUNT(usr2);
}

T_NOCOV static void on_alrm(int sig)
{
	int o = alrm_owner;

	(void)sig;
	ukcov_remote_start(gh(o));
	hsec_w[o](3);
	switch (alrm_mode) {
	case A_JUMP:
		siglongjmp(jb, 1);
	case A_EXIT:
		COUNT(handler_exits);
		end_thread(S_EXITED);
	case A_CANCEL:
		COUNT(handler_cancels);
		end_thread(S_CANCEL_ME);
	default:
		ukcov_remote_stop();
	}
}

/* One section for owner o: global, common, or through run_captured. */
T_NOCOV static void captured_fn(void *p)
{
	com_w[(int)(uintptr_t)p](3);
}

T_NOCOV static void one_section(int o, unsigned int r)
{
	switch (r % 3) {
	case 0:
		ukcov_remote_start(gh(o));
		sec_w[o](3);
		ukcov_remote_stop();
		break;
	case 1:
		ukcov_remote_start_common(ch(o));
		com_w[o](3);
		ukcov_remote_stop();
		break;
	default:
		ukcov_run_captured(ch(o), captured_fn, (void *)(uintptr_t)o);
	}
	COUNT(sections);
}

/*
 * The first `levels` starts of the chain: owner 0's global section, owner
 * 1's common one, owner 2's global and common ones, then (past the limit)
 * one more.  Each level runs its work; nothing is stopped.
 */
T_NOCOV static void chain_open(int levels)
{
	if (levels < 1)
		return;
	ukcov_remote_start(gh(0));
	sec_w0(2);
	if (levels < 2)
		return;
	ukcov_remote_start_common(ch(1));
	com_w1(2);
	if (levels < 3)
		return;
	ukcov_remote_start(gh(2));
	sec_w2(2);
	if (levels < 4)
		return;
	ukcov_remote_start_common(ch(2));
	com_w2(2);
	if (levels < 5)
		return;
	ukcov_remote_start(gh(1));
	deep_work(2);
}

T_NOCOV static void chain(void)
{
	chain_open(5);
	deep_work(1);
	ukcov_remote_stop();	/* past the limit: a no-op */
	com_w2(1);
	ukcov_remote_stop();
	sec_w2(1);
	ukcov_remote_stop();
	com_w1(1);
	ukcov_remote_stop();
	sec_w0(1);
	ukcov_remote_stop();
	COUNT(chains);
}

/* Sections opened in a callee, left by a jump to the caller's frame. */
T_NOCOV static void open_and_jump(unsigned int r)
{
	chain_open(1 + (int)(r % 5));
	switch ((r >> 3) % 4) {
	case 0:
		longjmp(jb, 1);
	case 1:
		/* ThreadSanitizer intercepts longjmp, not _longjmp: it would
		 * lose track of the stack. */
		if (T_SIG_TSAN)
			longjmp(jb, 1);
		_longjmp(jb, 1);
	case 2:
		siglongjmp(jb, 1);
	default:
		/* From a handler's section, nested in the task sections.
		 * ThreadSanitizer: see the top of the file. */
		if (T_SIG_TSAN)
			siglongjmp(jb, 1);
		alrm_mode = A_JUMP;
		alrm_owner = (int)((r >> 5) % NOWN);
		raise(SIGALRM);
		t_fail("the SIGALRM handler returned");
	}
}

T_NOCOV static void jump_case(unsigned int r)
{
	/* The plain longjmp family restores no mask: none is saved. */
	if (sigsetjmp(jb, (r >> 3) % 4 >= 2) == 0)
		open_and_jump(r);
	COUNT(jumps);
}

/* SIGALRM raised: the handler's section returns, or jumps out of it. */
T_NOCOV static void handler_case(unsigned int r, int o)
{
	volatile int o2 = (int)((r >> 4) % NOWN);
	bool inside = r & 1, jump = (r & 2) && !T_SIG_TSAN;

	alrm_owner = o;
	alrm_mode = jump ? A_JUMP : A_RETURN;
	if (inside) {
		ukcov_remote_start(gh(o2));
		sec_w[o2](2);
	}
	/* The jump lands in this frame, which started the task section:
	 * the section stays open until its stop below. */
	if (jump) {
		if (sigsetjmp(jb, 1) == 0)
			raise(SIGALRM);
	} else {
		raise(SIGALRM);
	}
	if (inside) {
		sec_w[o2](1);
		ukcov_remote_stop();
	}
	COUNT(handler_raises);
}

/* Wait for a child that must exit with 0 (or with ok2, if not 0). */
T_NOCOV static int wait_ok(pid_t pid, const char *what, int ok2)
{
	int status;

	while (waitpid(pid, &status, 0) != pid)
		if (errno != EINTR)
			t_fail("%s: waitpid: %s", what, strerror(errno));
	if (!WIFEXITED(status) ||
	    (WEXITSTATUS(status) && (!ok2 || WEXITSTATUS(status) != ok2)))
		t_fail("%s child: status %#x (exit %d)", what, status,
		       WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	return WEXITSTATUS(status);
}

/*
 * A real child (fork, clone without CLONE_VM): a section for owner o's
 * handle, whose owner, if any, is the parent's kcov (the shared mapping
 * takes the section to the parent's area).  It found the owner exactly
 * when the owner's statistics (the child's copy) moved: appended, or
 * skipped for want of a buffer.  An owner registered at the fork (the
 * child's copy of seq is odd) must be found, and the code of a section
 * that found its owner is not in the child's own local trace.  A section
 * that found none is a no-op frame (its code goes on to the local trace),
 * or muted if the owner was half way through DISABLE at the fork.  Exit
 * status: 0 (found), 100 (not found), or the number of the failed check.
 * A clone child (raw) ran no atfork handler: libc's locks that other
 * threads held stay held, so it calls only what is async-signal-safe (and
 * ukcov, whose clone route set the child up) and ends by _exit.
 */
static struct t_range child_r[NOWN];

/*
 * LeakSanitizer: a forked child's exit would report what other threads of
 * the parent had allocated (their stacks did not follow): not a leak.
 */
static int in_child;
int __lsan_is_turned_off(void);
int __lsan_is_turned_off(void)
{
	return in_child;
}

T_NOCOV static __attribute__((noreturn)) void child_body(int o,
							  unsigned int r,
							  bool raw)
{
	bool registered = __atomic_load_n(&seq[o], __ATOMIC_RELAXED) & 1;
	struct ukcov_stats a, b;
	struct t_kcov own;
	unsigned long in_local;
	bool found;
	int how = raw ? 1 : (int)(r % 3);

	in_child = 1;
	if (ukcov_get_stats(owners[o].k.fd, &a))
		_exit(20);
	t_kcov_open(&own, 4096);
	if (ukcov_ioctl(own.fd, KCOV_ENABLE, KCOV_TRACE_PC))
		_exit(21);
	t_set_count(&own, 0);
	ukcov_remote_start(gh(o));
	child_w[o](4);
	if ((r >> 2) % 4 == 0) {
		/* Ends inside the section: the exit appends it. */
		if (how == 0)
			exit(0);
		if (how == 1)
			_exit(0);
		quick_exit(0);
	}
	ukcov_remote_stop();
	if (ukcov_get_stats(owners[o].k.fd, &b))
		_exit(22);
	/* Discarded counts as found: the owner's DISABLE since the fork
	 * ends the session the child's copy knew (remote.c). */
	found = a.sections_appended + a.sections_skipped +
			a.sections_discarded !=
		b.sections_appended + b.sections_skipped +
			b.sections_discarded;
	in_local = t_count_in(&own, child_r[o]);
	if (registered && !found)
		_exit(23);
	if (found && in_local)
		_exit(24);
	/* 100: no owner found, and the code went to the local trace. */
	if (how == 0)
		exit(found ? 0 : 100);
	if (how == 1)
		_exit(found ? 0 : 100);
	quick_exit(found ? 0 : 100);
}

struct clone_arg {
	int o;
	unsigned int r;
};

T_NOCOV static int clone_fn(void *p)
{
	struct clone_arg *a = p;

	child_body(a->o, a->r, true);
}

/* A vfork-style child: the parent's memory; records nothing anywhere. */
T_NOCOV static int vm_clone_fn(void *p)
{
	(void)p;
	vchild_work(3);
	ukcov_remote_start(gh(0));
	vchild_work(2);
	_exit(0);
}

/* fork or clone, from inside a section for another owner or not. */
T_NOCOV static void real_child_case(unsigned int r, int o, bool use_clone)
{
	int o2 = (int)((r >> 6) % NOWN);
	bool inside = (r >> 9) & 1;
	struct clone_arg ca = { o, r };
	void *stack = NULL;
	pid_t pid;

	if (inside) {
		ukcov_remote_start(gh(o2));
		sec_w[o2](2);
	}
	if (use_clone) {
		stack = mmap(NULL, CHILD_STACK, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (stack == MAP_FAILED)
			t_fail("mmap: %s", strerror(errno));
		pid = clone(clone_fn, (char *)stack + CHILD_STACK, SIGCHLD,
			    &ca);
	} else {
		pid = fork();
		if (pid == 0)
			child_body(o, r, false);
	}
	if (pid < 0)
		t_fail("%s: %s", use_clone ? "clone" : "fork", strerror(errno));
	if (inside) {
		sec_w[o2](1);
		ukcov_remote_stop();
	}
	if (wait_ok(pid, use_clone ? "clone" : "fork", 100) == 100)
		COUNT(child_noowner);
	if (stack)
		munmap(stack, CHILD_STACK);
	if (use_clone)
		COUNT(clones);
	else
		COUNT(forks);
}

T_NOCOV static void vm_child_case(unsigned int r)
{
	static char *const argv[] = { "/nonexistent/ukcov-route-stress",
				      NULL };
	volatile int o2 = (int)((r >> 6) % NOWN);
	bool inside = (r >> 9) & 1;
	void *volatile stack = NULL;
	pid_t pid;

	if (inside) {
		ukcov_remote_start(gh(o2));
		sec_w[o2](2);
	}
	if (r & 1) {
		stack = mmap(NULL, CHILD_STACK, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (stack == MAP_FAILED)
			t_fail("mmap: %s", strerror(errno));
		pid = clone(vm_clone_fn, (char *)stack + CHILD_STACK,
			    CLONE_VM | CLONE_VFORK | SIGCHLD, NULL);
	} else {
		pid = vfork();
		if (pid == 0) {
			vchild_work(3);
			ukcov_remote_start(gh(1));
			vchild_work(2);
			if (r & 2)
				execv(argv[0], argv);
			_exit(0);
		}
	}
	if (pid < 0)
		t_fail("vfork/clone: %s", strerror(errno));
	if (inside) {
		sec_w[o2](1);
		ukcov_remote_stop();
	}
	wait_ok(pid, r & 1 ? "clone(CLONE_VM|CLONE_VFORK)" : "vfork", 0);
	if (stack)
		munmap(stack, CHILD_STACK);
	if (r & 1)
		COUNT(vm_clones);
	else
		COUNT(vforks);
}

T_NOCOV static void helper_case(unsigned int r)
{
	static char *const argv[] = { "true", NULL };
	pid_t pid;
	int rc;

	if (r & 1) {
		rc = posix_spawn(&pid, "/bin/true", NULL, NULL, argv, environ);
		if (rc)
			t_fail("posix_spawn: %s", strerror(rc));
		wait_ok(pid, "posix_spawn", 0);
		COUNT(spawns);
	} else {
		rc = system("exit 0");
		if (rc != 0)
			t_fail("system: status %#x", rc);
		COUNT(systems);
	}
}

/* The worker ends here (the main thread replaces it). */
T_NOCOV static __attribute__((noreturn)) void end_case(unsigned int r, int o)
{
	unsigned int kind = r % 5;

	switch (kind) {
	case 0: /* pthread_exit inside sections */
		chain_open(1 + (int)((r >> 3) % 5));
		COUNT(thread_exits);
		end_thread(S_EXITED);
	case 1: /* pthread_exit inside a handler's section, maybe in a
		 * task section */
		if (r & 8)
			chain_open(1 + (int)((r >> 4) % 4));
		alrm_mode = A_EXIT;
		alrm_owner = o;
		raise(SIGALRM);
		t_fail("the SIGALRM handler returned");
	case 2: /* deferred cancellation inside sections */
		chain_open(1 + (int)((r >> 3) % 5));
		COUNT(cancels);
		end_thread(S_CANCEL_ME);
	case 3: /* asynchronous cancellation inside a section: only
		 * async-cancel-safe code may run, so no handler either */
		block_usr();
		ukcov_remote_start(gh(o));
		pthread_setcanceltype(PTHREAD_CANCEL_ASYNCHRONOUS, NULL);
		COUNT(async_cancels);
		__atomic_store_n(&me->state, S_CANCEL_ME, __ATOMIC_RELEASE);
		for (;;)
			sec_w[o](2);
	default: /* deferred cancellation inside a handler's section */
		alrm_mode = A_CANCEL;
		alrm_owner = o;
		raise(SIGALRM);
		t_fail("the SIGALRM handler returned");
	}
}

/*
 * Functions whose code is never in a worker's local trace: handlers',
 * children's.  Sections' code is, only when their owner was not
 * registered throughout.
 */
static struct t_range never_local[12];
static unsigned int n_never_local;

T_NOCOV static void check_never_local(struct slot *s, const char *when)
{
	unsigned int i;

	for (i = 0; i < n_never_local; i++) {
		unsigned long n = t_count_in(&s->local, never_local[i]);

		if (n)
			t_fail("worker %d (%s): %lu PCs of %s in its local "
			       "trace",
			       s->idx, when, n, name_of(never_local[i].lo));
	}
}

T_NOCOV static void check_local(struct slot *s, const unsigned long *s1,
				const unsigned long *s2)
{
	bool fell = false;
	int o;

	check_never_local(s, "after an iteration");
	for (o = 0; o < NOWN; o++) {
		unsigned long sec = t_count_in(&s->local,
					       t_range_of((const void *)sec_w[o]));
		unsigned long com = t_count_in(&s->local,
					       t_range_of((const void *)com_w[o]));
		bool stable = s1[o] == s2[o] && (s1[o] & 1);

		if (stable && (sec || com))
			t_fail("worker %d: owner %d stayed registered, yet %lu "
			       "PCs of its sections are in the local trace",
			       s->idx, o, sec + com);
		fell |= sec || com;
	}
	if (s1[2] == s2[2] && (s1[2] & 1) &&
	    t_count_in(&s->local, t_range_of((const void *)deep_work)))
		t_fail("worker %d: the chain's innermost owner stayed "
		       "registered, yet its code is in the local trace",
		       s->idx);
	if (!t_count_in(&s->local, t_range_of((const void *)local_work)))
		t_fail("worker %d: its own code is not recorded after route "
		       "%u (r %#x; before it %u, r %#x): %lu entries, "
		       "first %s",
		       s->idx, s->route, s->route_r, s->prev, s->prev_r,
		       (unsigned long)__atomic_load_n(&s->local.area[0],
						      __ATOMIC_RELAXED),
		       s->local.area[0] ? name_of(s->local.area[1]) : "-");
	if (fell)
		COUNT(fell_local);
}

static bool have_true;

/*
 * ThreadSanitizer makes a fork of a busy multithreaded process slow (it
 * stops the world): there, children at most every 250 ms.
 */
static long next_child_ms;	/* atomic */

T_NOCOV static bool child_allowed(void)
{
	long now = (long)(t_now() * 1000), next;

	if (!T_SIG_TSAN)
		return true;
	next = __atomic_load_n(&next_child_ms, __ATOMIC_RELAXED);
	return now >= next &&
	       __atomic_compare_exchange_n(&next_child_ms, &next, now + 250,
					   false, __ATOMIC_RELAXED,
					   __ATOMIC_RELAXED);
}

static void *worker(void *p)
{
	struct slot *s = p;

	me = s;
	if (ukcov_ioctl(s->local.fd, KCOV_ENABLE, KCOV_TRACE_PC))
		t_fail("worker %d: KCOV_ENABLE: %s", s->idx, strerror(errno));
	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
		unsigned long s1[NOWN], s2[NOWN];
		unsigned int r = next_rand(&s->seed), a = r % 1000;
		int o = (int)((r >> 10) % NOWN);

		r = next_rand(&s->seed);
		s->prev = s->route;
		s->prev_r = s->route_r;
		s->route = a;
		s->route_r = r;
		seq_snap(s1);
		t_set_count(&s->local, 0);
		local_work(2);
		if (a < 300)
			one_section(o, r);
		else if (a < 420)
			chain();
		else if (a < 540)
			jump_case(r);
		else if (a < 660)
			handler_case(r, o);
		else if (a < 690 && child_allowed())
			real_child_case(r, o, a >= 680 && !T_SIG_TSAN);
		else if (a >= 690 && a < 705 && !T_SIG_TSAN)
			vm_child_case(r);
		else if (a >= 705 && a < 707 && have_true && child_allowed())
			helper_case(r);
		else if (a >= 707 && a < 709 && !T_SIG_TSAN)
			end_case(r, o);
		local_work(2);
		seq_snap(s2);
		check_local(s, s1, s2);
		COUNT(iterations);
	}
	if (ukcov_ioctl(s->local.fd, KCOV_DISABLE, 0))
		t_fail("worker %d: KCOV_DISABLE at the end: %s", s->idx,
		       strerror(errno));
	__atomic_store_n(&s->state, S_DONE, __ATOMIC_RELEASE);
	return NULL;
}

T_NOCOV static void worker_start(struct slot *s)
{
	int rc;

	t_kcov_open(&s->local, LWORDS);
	s->state = S_RUN;
	pthread_mutex_lock(&s->mu);
	rc = pthread_create(&s->tid, NULL, worker, s);
	if (rc)
		t_fail("pthread_create: %s", strerror(rc));
	s->alive = true;
	pthread_mutex_unlock(&s->mu);
}

/* Join a worker that ended (cancelling it first if it asked). */
T_NOCOV static void worker_reap(struct slot *s, int state)
{
	void *ret;

	if (state == S_CANCEL_ME) {
		pause_us(200);
		pthread_cancel(s->tid);
	}
	pthread_mutex_lock(&s->mu);
	s->alive = false;
	pthread_mutex_unlock(&s->mu);
	if (pthread_join(s->tid, &ret))
		t_fail("pthread_join");
	if ((state == S_CANCEL_ME) != (ret == PTHREAD_CANCELED))
		t_fail("worker %d: state %d, returned %p", s->idx, state, ret);
	check_never_local(s, "after its end");
	t_kcov_close(&s->local);
}

static void *signaller(void *p)
{
	unsigned int seed = 4242;
	struct timespec ts = { 0, 30000 };
	unsigned long i = 0;

	(void)p;
	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
		unsigned int r = next_rand(&seed);
		struct slot *s = &slots[r % NW];

		pthread_mutex_lock(&s->mu);
		if (s->alive && !pthread_kill(s->tid,
					      (r >> 4) & 1 ? SIGUSR1 : SIGUSR2))
			COUNT(signals_sent);
		pthread_mutex_unlock(&s->mu);
		if ((++i & 3) == 0)
			nanosleep(&ts, NULL);
	}
	return NULL;
}

/* --- The end: every interrupt area free, every object freed ------------ */

static const uint64_t HF = UKCOV_SUBSYSTEM_APP(41) | 0x99;
static __thread int nest_depth;

T_NOCOV static void on_nest(int sig)
{
	int d = ++nest_depth;

	ukcov_remote_start(HF);
	nest_work(d & 7);
	if (d < 64)
		raise(sig);
	ukcov_remote_stop();
	nest_depth--;
}

static void *nest64(void *p)
{
	(void)p;
	raise(SIGWINCH);
	return NULL;
}

T_NOCOV static void areas_free(void)
{
	uint64_t before = ukcov_irq_sections_skipped();
	struct ukcov_stats st;
	struct sigaction sa;
	struct t_kcov f;
	uint64_t h = HF;

	if (T_SIG_TSAN) {
		printf("route-stress: 64 nested handlers: skipped under "
		       "ThreadSanitizer (handlers do not nest there)\n");
		return;
	}
	t_kcov_open(&f, OWORDS);
	t_expect_ok(t_remote_enable(f.fd, KCOV_TRACE_PC, SWORDS, 0, 1, &h));
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_nest;
	sa.sa_flags = SA_NODEFER;
	t_expect_ok(sigaction(SIGWINCH, &sa, NULL));
	t_run_thread(nest64, NULL);
	t_expect_ok(ukcov_get_stats(f.fd, &st));
	if (ukcov_irq_sections_skipped() != before || st.sections_appended != 64)
		t_fail("64 nested handler sections on a fresh thread: %llu "
		       "skipped, %llu appended: interrupt areas leaked",
		       (unsigned long long)(ukcov_irq_sections_skipped() -
					    before),
		       (unsigned long long)st.sections_appended);
	if (!t_count_in(&f, t_range_of((const void *)nest_work)))
		t_fail("64 nested handler sections: nothing recorded");
	t_expect_ok(ukcov_ioctl(f.fd, KCOV_DISABLE, 0));
	t_kcov_close(&f);
}

/* pthread_exit loads libgcc_s the first time: not from a handler. */
static void *exit_early(void *p)
{
	pthread_exit(p);
}

T_NOCOV static long count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	long n = 0;

	if (!d)
		t_fail("opendir /proc/self/fd: %s", strerror(errno));
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1; /* the directory's own descriptor */
}


int main(void)
{
	double secs = t_stress_seconds(2.5), t0;
	long fds0;
	struct sigaction sa;
	pthread_t sig_tid;
	unsigned long appended = 0, discarded = 0, skipped = 0, entries = 0;
	int i, live;

	t_run_thread(exit_early, NULL);
	fds0 = count_fds();

	if (t_maps_count("memfd:ukcov") != 0)
		t_fail("memfd:ukcov mappings before the start");
	have_true = access("/bin/true", X_OK) == 0 &&
		    access("/bin/sh", X_OK) == 0;
	n_never_local = 0;
	{
		void (*const nl[])(int) = { usr1_body, usr1_for2, usr2_body,
					    usr2_for2, hsec_w0, hsec_w1,
					    hsec_w2, child_w0, child_w1,
					    child_w2, vchild_work, nest_work };

		for (i = 0; i < 12; i++)
			never_local[n_never_local++] =
				t_range_of((const void *)nl[i]);
	}
	for (i = 0; i < NOWN; i++)
		child_r[i] = t_range_of((const void *)child_w[i]);
	memset(&sa, 0, sizeof(sa));
	sa.sa_flags = SA_RESTART;
	sa.sa_handler = on_usr1;
	t_expect_ok(sigaction(SIGUSR1, &sa, NULL));
	sa.sa_handler = on_usr2;
	t_expect_ok(sigaction(SIGUSR2, &sa, NULL));
	sa.sa_handler = on_alrm;
	t_expect_ok(sigaction(SIGALRM, &sa, NULL));

	for (i = 0; i < NOWN; i++) {
		owners[i].idx = i;
		t_kcov_open(&owners[i].k, OWORDS);
		owner_ranges(&owners[i]);
		if (pthread_create(&owners[i].tid, NULL, owner_main,
				   &owners[i]))
			t_fail("pthread_create");
	}
	for (i = 0; i < NW; i++) {
		pthread_mutex_init(&slots[i].mu, NULL);
		slots[i].idx = i;
		slots[i].seed = 0x9e3779b9u * (unsigned int)(i + 1);
		worker_start(&slots[i]);
	}
	if (pthread_create(&sig_tid, NULL, signaller, NULL))
		t_fail("pthread_create");

	t0 = t_now();
	do {
		for (i = 0; i < NW; i++) {
			int st = __atomic_load_n(&slots[i].state,
						 __ATOMIC_ACQUIRE);

			if (st == S_EXITED || st == S_CANCEL_ME) {
				worker_reap(&slots[i], st);
				slots[i].seed += 0x1001;
				worker_start(&slots[i]);
			}
		}
		pause_us(500);
	} while (t_now() - t0 < secs);
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	pthread_join(sig_tid, NULL);
	do {
		live = 0;
		for (i = 0; i < NW; i++) {
			int st = __atomic_load_n(&slots[i].state,
						 __ATOMIC_ACQUIRE);

			if (slots[i].alive && st != S_RUN)
				worker_reap(&slots[i], st);
			live += slots[i].alive;
		}
		pause_us(500);
	} while (live);
	for (i = 0; i < NOWN; i++) {
		struct ukcov_stats st;

		pthread_join(owners[i].tid, NULL);
		t_expect_ok(ukcov_get_stats(owners[i].k.fd, &st));
		appended += st.sections_appended;
		discarded += st.sections_discarded;
		skipped += st.sections_skipped;
		entries += owners[i].entries;
	}

	printf("route-stress: %.1f s, %d workers, %d owners: %lu iterations, "
	       "%lu worker ends replaced\n",
	       t_now() - t0, NW, NOWN, fig.iterations,
	       fig.thread_exits + fig.handler_exits + fig.cancels +
		       fig.async_cancels + fig.handler_cancels);
	printf("route-stress: owners: %lu/%lu/%lu registration periods, "
	       "%lu entries checked; sections %lu appended, %lu discarded, "
	       "%lu skipped; %llu handler sections skipped\n",
	       owners[0].periods, owners[1].periods, owners[2].periods,
	       entries, appended, discarded, skipped,
	       (unsigned long long)ukcov_irq_sections_skipped());
	printf("route-stress: routes: %lu single sections, %lu chains, %lu "
	       "jumps, %lu handler raises, %lu iterations with sections of an "
	       "unregistered owner in the local trace\n",
	       fig.sections, fig.chains, fig.jumps, fig.handler_raises,
	       fig.fell_local);
	printf("route-stress: signals: %lu sent, %lu SIGUSR1 and %lu SIGUSR2 "
	       "handled\n",
	       fig.signals_sent, fig.usr1, fig.usr2);
	printf("route-stress: children: %lu fork, %lu clone (%lu of them found "
	       "no owner), %lu vfork, %lu clone(CLONE_VM|CLONE_VFORK), %lu "
	       "posix_spawn, %lu system\n",
	       fig.forks, fig.clones, fig.child_noowner, fig.vforks,
	       fig.vm_clones, fig.spawns, fig.systems);
	printf("route-stress: thread ends: %lu pthread_exit in sections, %lu "
	       "in a handler; cancelled %lu deferred in sections, %lu "
	       "asynchronous, %lu in a handler\n",
	       fig.thread_exits, fig.handler_exits, fig.cancels,
	       fig.async_cancels, fig.handler_cancels);
	if (T_SIG_TSAN)
		printf("route-stress: under ThreadSanitizer: no vfork or clone "
		       "(its vfork is a fork), no _longjmp (not intercepted), "
		       "no jumps out of handlers, no worker ends inside its "
		       "contexts (see the top of tests/route-stress.c)\n");

	t_assert(fig.iterations > 0 && appended > 0 && entries > 0);
	t_assert(fig.usr1 + fig.usr2 > 0 && fig.forks > 0);

	for (i = 0; i < NOWN; i++)
		t_kcov_close(&owners[i].k);
	areas_free();
	if (t_maps_count("memfd:ukcov") != 0 || count_fds() != fds0)
		t_fail("kcov objects left: %d memfd:ukcov mappings, %ld "
		       "descriptors (%ld at the start)",
		       t_maps_count("memfd:ukcov"), count_fds(), fds0);
	return T_EXIT_PASS;
}
