// SPDX-License-Identifier: MIT
/*
 * Routes: the libc entry points through which a C or C++ program on glibc
 * creates a thread or a process, leaves a context by a non-local exit, or
 * ends, each interposed so that the transition goes through task.c.
 *
 *   pthread_create               the common handle follows (task.c)
 *   pthread_exit                 every context of the thread is left
 *   _Fork, clone, __clone        a new process: kcov_task_init
 *   vfork, __vfork               routes-x86_64.S: the child changes nothing
 *   exit, _exit, _Exit,          the process ends: this thread's contexts
 *   quick_exit                   are left, other threads' sections flushed
 *   longjmp, siglongjmp,         handlers and sections the jump leaves are
 *   _longjmp, __longjmp_chk      closed as if they had returned
 *   _Unwind_SetIP                a C++ landing pad: the same, exactly at
 *                                the landing frame (routes-x86_64.S)
 *
 * fork needs no interposition (its atfork handlers, task.c); posix_spawn,
 * posix_spawnp, system and popen create their child with
 * clone(CLONE_VM | CLONE_VFORK) inside glibc and run no code of the
 * program's in it; daemon and forkpty call fork.  The handler-installation
 * routes are in signal.c, the descriptor routes (close, dup2, dup3) in
 * kcov.c.  Every route is exported without a symbol version (ukcov.map), so
 * that every object's reference binds to it, including a library's
 * `sigaction@GLIBC_2.2.5`.
 *
 * What no route can see (docs/design.md): a raw clone or clone3 system call,
 * a raw rt_sigaction, exit_group, and programs linked fully statically.
 */
#include <dlfcn.h>
#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "internal.h"

#ifndef UKCOV_SHARED
/*
 * A fully static program linked without ukcov-static.ldflags (ukcov-cc
 * adds them): some route has nothing behind it.  Said once, on stderr.
 */
static void say_static(const char *name)
{
	static int said;

	if (__atomic_exchange_n(&said, 1, __ATOMIC_RELAXED))
		return;
	__ukcov_warn(name, ": nothing behind ukcov's route: a fully static "
		     "program is linked with ukcov-static.ldflags (ukcov-cc "
		     "does it; see ukcov-cc(1))", NULL);
}
#endif

/*
 * In a fully static program dlsym finds nothing; a fallback never names a
 * function ukcov defines (or it would find ukcov's own).
 */
void *__ukcov_next(const char *name, void *interceptor, void *fallback)
{
	void *p;

	if (interceptor)
		return interceptor;
	p = dlsym(RTLD_NEXT, name);
	if (p)
		return p;
	if (fallback)
		return fallback;
#ifndef UKCOV_SHARED
	/* libukcov.a in a fully static program, without its link options. */
	say_static(name);
#endif
	return NULL;
}

UKCOV_DECLARE_INTERCEPTOR(pthread_create);
UKCOV_DECLARE_INTERCEPTOR(pthread_exit);
UKCOV_DECLARE_INTERCEPTOR(_Fork);
UKCOV_DECLARE_INTERCEPTOR(clone);
UKCOV_DECLARE_INTERCEPTOR(vfork);
UKCOV_DECLARE_INTERCEPTOR(exit);
UKCOV_DECLARE_INTERCEPTOR(_exit);
UKCOV_DECLARE_INTERCEPTOR(_Exit);
UKCOV_DECLARE_INTERCEPTOR(quick_exit);
UKCOV_DECLARE_INTERCEPTOR(longjmp);
UKCOV_DECLARE_INTERCEPTOR(siglongjmp);
UKCOV_DECLARE_INTERCEPTOR(_longjmp);
UKCOV_DECLARE_INTERCEPTOR(__longjmp_chk);
/*
 * Fully static programs (UKCOV_ROUTE): libc.a's own names for the routed
 * functions, none of which ukcov defines (or its own weak definition would
 * be found instead) nor libc.so exports; ukcov-static.ldflags pulls their
 * members in, and libc.a's exit with its strong definition.  Where libc.a
 * has no other name, the fallback is the system call: _exit and _Exit
 * (exit_group), _Fork (a clone like glibc's, below), clone and vfork
 * (routes-x86_64.S).
 */
UKCOV_DECLARE_FALLBACK(pthread_create, "__pthread_create_2_1");
UKCOV_DECLARE_FALLBACK(pthread_exit, "__pthread_exit");
UKCOV_DECLARE_FALLBACK(exit, "exit");
UKCOV_DECLARE_FALLBACK(quick_exit, "__new_quick_exit");
UKCOV_DECLARE_FALLBACK(longjmp, "__libc_longjmp");
UKCOV_DECLARE_FALLBACK(siglongjmp, "__libc_siglongjmp");
UKCOV_DECLARE_FALLBACK(_longjmp, "__libc_longjmp");
UKCOV_DECLARE_FALLBACK(__longjmp_chk, "__libc_siglongjmp");
#ifdef UKCOV_SHARED
#define FALLBACK__Fork NULL
#define FALLBACK_clone NULL
#define FALLBACK__exit NULL
#define FALLBACK_vfork NULL
#else
/*
 * glibc's _Fork: the child's kernel thread id lands in the thread's own
 * record (the address glibc gave set_tid_address, which the kernel tells
 * back) and the robust-mutex list is set again in the child.
 */
static pid_t raw__Fork(void)
{
	void *tid = NULL, *head = NULL;
	size_t len = 0;
	long pid;

	if (prctl(PR_GET_TID_ADDRESS, &tid))
		tid = NULL;
	syscall(SYS_get_robust_list, 0, &head, &len);
	pid = syscall(SYS_clone,
		      (tid ? CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID : 0) |
			      SIGCHLD,
		      0, NULL, tid, 0);
	if (pid == 0 && head)
		syscall(SYS_set_robust_list, head, len);
	return (pid_t)pid;
}

static __attribute__((noreturn)) void raw__exit(int status)
{
	for (;;)
		syscall(SYS_exit_group, status);
}
#define FALLBACK__Fork ((void *)raw__Fork)
#define FALLBACK_clone ((void *)__ukcov_raw_clone)
#define FALLBACK__exit ((void *)raw__exit)
#define FALLBACK_vfork ((void *)__ukcov_raw_vfork)
int __ukcov_raw_clone(int (*fn)(void *), void *stack, int flags, void *arg,
		      ...);
pid_t __ukcov_raw_vfork(void);
#endif

typedef int (*pthread_create_fn)(pthread_t *, const pthread_attr_t *,
				 void *(*)(void *), void *);
typedef void (*noreturn_ptr_fn)(void *) __attribute__((noreturn));
typedef void (*noreturn_int_fn)(int) __attribute__((noreturn));
typedef pid_t (*fork_fn)(void);
typedef int (*clone_fn)(int (*)(void *), void *, int, void *, ...);
typedef void (*jump_fn)(void *, int) __attribute__((noreturn));

UKCOV_DECLARE_INTERCEPTOR(pthread_setname_np);
UKCOV_DECLARE_FALLBACK(pthread_setname_np, "__pthread_setname_np");
static int (*real_pthread_setname_np)(pthread_t, const char *);
static pthread_create_fn real_pthread_create;
static noreturn_ptr_fn real_pthread_exit;
static fork_fn real__Fork, real_vfork, real_fork;
static clone_fn real_clone;
static noreturn_int_fn real_exit, real__exit, real__Exit, real_quick_exit;
static jump_fn real_longjmp, real_siglongjmp, real__longjmp, real_longjmp_chk;

/* Resolved once, in the constructor (a route used earlier resolves then). */
void __ukcov_routes_init(void)
{
#define RESOLVE(var, type, name)                                               \
	var = (type)__ukcov_next(#name, UKCOV_INTERCEPTOR(name),             \
				 UKCOV_FALLBACK(name))
	RESOLVE(real_pthread_create, pthread_create_fn, pthread_create);
	RESOLVE(real_pthread_exit, noreturn_ptr_fn, pthread_exit);
	real_pthread_setname_np = (int (*)(pthread_t, const char *))
		__ukcov_next("pthread_setname_np",
			     UKCOV_INTERCEPTOR(pthread_setname_np),
			     UKCOV_FALLBACK(pthread_setname_np));
	real__Fork = (fork_fn)__ukcov_next("_Fork", UKCOV_INTERCEPTOR(_Fork),
					   FALLBACK__Fork);
	real_vfork = (fork_fn)__ukcov_next("vfork", UKCOV_INTERCEPTOR(vfork),
					   FALLBACK_vfork);
	real_clone = (clone_fn)__ukcov_next("clone", UKCOV_INTERCEPTOR(clone),
					    FALLBACK_clone);
	RESOLVE(real_exit, noreturn_int_fn, exit);
	real__exit = (noreturn_int_fn)__ukcov_next(
		"_exit", UKCOV_INTERCEPTOR(_exit), FALLBACK__exit);
	real__Exit = (noreturn_int_fn)__ukcov_next(
		"_Exit", UKCOV_INTERCEPTOR(_Exit), FALLBACK__exit);
	RESOLVE(real_quick_exit, noreturn_int_fn, quick_exit);
	RESOLVE(real_longjmp, jump_fn, longjmp);
	RESOLVE(real_siglongjmp, jump_fn, siglongjmp);
	RESOLVE(real__longjmp, jump_fn, _longjmp);
	RESOLVE(real_longjmp_chk, jump_fn, __longjmp_chk);
#undef RESOLVE
	real_fork = (fork_fn)__ukcov_next("fork", NULL, (void *)fork);
}

/* A route called before the constructor (another object's constructor). */
#define READY(var)                                                             \
	do {                                                                   \
		if (!(var))                                                    \
			__ukcov_init();                                        \
	} while (0)

/* --- Threads -------------------------------------------------------------- */

UKCOV_ROUTE int pthread_create(pthread_t *thread, const pthread_attr_t *attr,
			     void *(*fn)(void *), void *arg);
int pthread_create(pthread_t *thread, const pthread_attr_t *attr,
		   void *(*fn)(void *), void *arg)
{
	READY(real_pthread_create);
	if (!real_pthread_create)
		return EAGAIN;
	return __ukcov_thread_create(real_pthread_create, thread, attr, fn,
				     arg);
}

/* ukcov-run labels a thread by the name it gives itself (autorun.c). */

UKCOV_ROUTE int pthread_setname_np(pthread_t t, const char *name);
int pthread_setname_np(pthread_t t, const char *name)
{
	int ret;

	READY(real_pthread_setname_np);
	if (!real_pthread_setname_np)
		return ENOSYS;
	ret = real_pthread_setname_np(t, name);
	if (!ret && pthread_equal(t, pthread_self()))
		__ukcov_notify_thread_named(name);
	return ret;
}

/*
 * dlclose: a trace-pc module unloaded loses its index range at once
 * (unique.c), before another module can be mapped where it was and have
 * its PCs taken for the old one's.  (dlopen is not interposed: glibc
 * resolves a name against its caller's RUNPATH, which would become
 * ukcov's; a module loaded gets its range at the next enable or reset.)
 * Strong: a sanitizer runtime linked into the program defines dlclose
 * weakly, and libc.a too, whose own name for it is __dlclose (pulled into
 * a fully static link by ukcov-static.ldflags).
 */
UKCOV_DECLARE_INTERCEPTOR(dlclose);
UKCOV_DECLARE_FALLBACK(dlclose, "__dlclose");
static int (*real_dlclose)(void *);

UKCOV_ROUTE int dlclose(void *handle);
int dlclose(void *handle)
{
	int ret;

	if (!real_dlclose)
		real_dlclose = (int (*)(void *))__ukcov_next(
			"dlclose", UKCOV_INTERCEPTOR(dlclose),
			UKCOV_FALLBACK(dlclose));
	if (!real_dlclose)
		return -1;
	ret = real_dlclose(handle);
	if (!ret)
		__ukcov_pcmap_update(false);
	return ret;
}

/* Every handler and section of the thread is left: closed as at return. */
UKCOV_ROUTE __attribute__((noreturn)) void pthread_exit(void *retval);
void pthread_exit(void *retval)
{
	READY(real_pthread_exit);
	__ukcov_leave_all();
	real_pthread_exit(retval);
}

/* --- Processes -------------------------------------------------------------- */

/* _Fork(3): fork without the atfork handlers; async-signal-safe. */
UKCOV_ROUTE pid_t _Fork(void);
pid_t _Fork(void)
{
	pid_t pid;

	READY(real__Fork);
	pid = real__Fork();
	if (pid == 0) {
		int e = errno;

		__ukcov_task_init_child(false);
		errno = e;
	}
	return pid;
}

#ifndef UKCOV_SHARED
/* The raw clone's failure (routes-x86_64.S): -1 with errno. */
int __ukcov_raw_clone_errno(int e);
int __ukcov_raw_clone_errno(int e)
{
	errno = e;
	return -1;
}
#endif

/* A clone(2) child without CLONE_VM: a new process, set up first. */
struct clone_start {
	int (*fn)(void *);
	void *arg;
};

static int clone_child(void *p)
{
	/* The child's own copy of the parent's memory holds *p. */
	struct clone_start cs = *(struct clone_start *)p;

	__ukcov_task_init_child(false);
	return cs.fn(cs.arg);
}

/*
 * clone(2) through glibc.  Without CLONE_VM the child is a new process
 * (kcov_task_init in it).  With CLONE_VM and CLONE_VFORK (and no
 * CLONE_SETTLS) the child runs on the caller's thread state until it execs
 * or exits, as a vfork child.  With CLONE_VM alone, the child shares the
 * calling thread's TLS with it while both run: ukcov cannot tell them apart
 * and passes the call on unchanged (docs/design.md).
 */
UKCOV_ROUTE int clone(int (*fn)(void *), void *stack, int flags, void *arg, ...);
int clone(int (*fn)(void *), void *stack, int flags, void *arg, ...)
{
	struct clone_start cs = { fn, arg };
	pid_t *ptid, *ctid;
	void *tls;
	va_list ap;
	int ret, e;

	/* Read whether passed or not, as glibc's own clone does. */
	va_start(ap, arg);
	ptid = va_arg(ap, pid_t *);
	tls = va_arg(ap, void *);
	ctid = va_arg(ap, pid_t *);
	va_end(ap);
	READY(real_clone);
	if (!(flags & CLONE_VM))
		return real_clone(clone_child, stack, flags, &cs, ptid, tls,
				  ctid);
	if (!(flags & CLONE_VFORK) || (flags & CLONE_SETTLS))
		return real_clone(fn, stack, flags, arg, ptid, tls, ctid);
	__ukcov_vfork_enter();
	ret = real_clone(fn, stack, flags, arg, ptid, tls, ctid);
	e = errno;
	/* The child has exec'd or exited: the parent's state comes back. */
	__ukcov_vfork_leave(ret ? ret : -1);
	errno = e;
	return ret;
}

UKCOV_ROUTE_ALIAS(__clone, clone);

/*
 * vfork's C half (the assembly is in routes-x86_64.S).  Before: the return
 * address goes to the thread state, since the child will reuse the stack,
 * and the thread's state is saved.  The "real" vfork may be a fork in
 * disguise (ThreadSanitizer's is): the child then has its own memory, in
 * which fork's handlers made it a new task, and finds its return address
 * in the slot prepare named, which they leave alone.  Nested past
 * vfork_ret's depth, a vfork child's vfork becomes a fork (POSIX allows
 * it), whose two returns happen in separate memory.
 */
void *__ukcov_vfork_prepare(uintptr_t ret);
void *__ukcov_vfork_prepare(uintptr_t ret)
{
	struct ukcov_thread *th = &__ukcov_cur;
	const unsigned int n = sizeof(th->vfork_ret) / sizeof(th->vfork_ret[0]);

	READY(real_vfork);
	if (th->vfork_depth >= n - 1) {
		th->vfork_fallback = true;
		th->vfork_slot = n - 1;
		th->vfork_ret[n - 1] = ret;
		return (void *)real_fork;
	}
	__ukcov_vfork_enter();
	th->vfork_slot = th->vfork_depth - 1;
	th->vfork_ret[th->vfork_slot] = ret;
	return (void *)real_vfork;
}

/* After: where to return, and vfork's result (rax:rdx). */
struct vfork_back {
	uintptr_t to;
	long ret;
};

/*
 * The child's path runs on its parent's memory: nothing instrumented by a
 * sanitizer (whose thread state is the parent's too), nothing called.
 */
UKCOV_NOSANITIZE struct vfork_back __ukcov_vfork_back(long ret);
UKCOV_NOSANITIZE struct vfork_back __ukcov_vfork_back(long ret)
{
	struct ukcov_thread *th = &__ukcov_cur;
	struct vfork_back b = { 0, ret };
	int e;

	if (th->vfork_fallback || ret == 0) {
		/* The fork fallback (either side), or the child. */
		b.to = th->vfork_ret[th->vfork_slot];
		if (th->vfork_fallback && ret != 0)
			th->vfork_fallback = false;
		return b;
	}
	/* The parent, the child gone: its slot is the innermost. */
	b.to = th->vfork_ret[th->vfork_depth - 1];
	e = errno;
	__ukcov_vfork_leave(ret);
	errno = e;
	return b;
}

/* --- The process ends ------------------------------------------------------ */

#define EXIT_ROUTE(name)                                                       \
	UKCOV_ROUTE __attribute__((noreturn)) void name(int status);           \
	void name(int status)                                                  \
	{                                                                      \
		READY(real_##name);                                            \
		__ukcov_process_exit();                                        \
		real_##name(status);                                           \
	}

#define EXIT_ROUTE_WEAK(name)                                                  \
	UKCOV_ROUTE_WEAK __attribute__((noreturn)) void name(int status);      \
	void name(int status)                                                  \
	{                                                                      \
		READY(real_##name);                                            \
		__ukcov_process_exit();                                        \
		real_##name(status);                                           \
	}

EXIT_ROUTE_WEAK(exit)
EXIT_ROUTE(_exit)
EXIT_ROUTE(_Exit)
EXIT_ROUTE(quick_exit)

/* --- Non-local exits ------------------------------------------------------- */

/*
 * The stack pointer a jmp_buf returns to.  glibc mangles it; on x86_64 it is
 * rol(sp ^ guard, 0x11), the guard at %fs:0x30.  0 elsewhere: every running
 * handler is then taken as left (the common case), no section is.
 */
static uintptr_t jmp_target_sp(const void *env)
{
#if defined(__x86_64__) && defined(__GLIBC__)
	uintptr_t m = ((const uintptr_t *)env)[6], guard;

	__asm__("mov %%fs:0x30, %0" : "=r"(guard));
	m = (m >> 0x11) | (m << (64 - 0x11));
	return m ^ guard;
#else
	(void)env;
	return 0;
#endif
}

#define JUMP_ROUTE(name, real)                                                 \
	UKCOV_ROUTE __attribute__((noreturn)) void name(void *env, int val);   \
	void name(void *env, int val)                                          \
	{                                                                      \
		READY(real);                                                   \
		__ukcov_leave_below(jmp_target_sp(env),                        \
				    (uintptr_t)__builtin_frame_address(0),     \
				    false);                                    \
		(real ? real : real_longjmp)(env, val);                        \
	}

JUMP_ROUTE(longjmp, real_longjmp)
JUMP_ROUTE(siglongjmp, real_siglongjmp)
JUMP_ROUTE(_longjmp, real__longjmp)
JUMP_ROUTE(__longjmp_chk, real_longjmp_chk)

/*
 * C++ exceptions (and the forced unwinding of pthread_exit and cancellation
 * through C++ frames): a personality routine calls _Unwind_SetIP to install
 * a landing pad, a cleanup or a catch, in the frame it has unwound to.
 * ukcov interposes it and installs its trampoline instead
 * (routes-x86_64.S), which runs with that frame's own stack pointer: every
 * handler and section started below it is left exactly there, before any of
 * the frame's code runs, and a section the frame itself started (an RAII
 * guard whose destructor stops it) stays open.  The pads wait in lp_ip, a
 * per-thread stack (an unwinding inside a handler may come in between).
 * libgcc's own C personality calls it internally: C cleanups are not seen,
 * which is why ukcov's own cleanups do the work themselves.  In the static
 * library the definition is weak, so that a program with libgcc_eh linked
 * in still links (then no landing pad is seen).
 */
#if defined(__x86_64__)
struct _Unwind_Context;
extern char __ukcov_lp_trampoline[] hidden;

UKCOV_ROUTE_WEAK void _Unwind_SetIP(struct _Unwind_Context *ctx, uintptr_t ip);
void _Unwind_SetIP(struct _Unwind_Context *ctx, uintptr_t ip)
{
	static void (*real)(struct _Unwind_Context *, uintptr_t);
	struct ukcov_thread *th = &__ukcov_cur;
	void (*r)(struct _Unwind_Context *, uintptr_t) =
		__atomic_load_n(&real, __ATOMIC_RELAXED);
	const unsigned int n = sizeof(th->lp_ip) / sizeof(th->lp_ip[0]);

	if (!r) {
		/* libgcc_s is loaded by now: its caller needs it. */
		r = (void (*)(struct _Unwind_Context *, uintptr_t))dlsym(
			RTLD_NEXT, "_Unwind_SetIP");
		if (!r)
			abort();
		__atomic_store_n(&real, r, __ATOMIC_RELAXED);
	}
	if (ip && th->lp_depth < n && !__ukcov_in_vfork_child(th)) {
		th->lp_ip[th->lp_depth++] = ip;
		ip = (uintptr_t)__ukcov_lp_trampoline;
	}
	r(ctx, ip);
}

/* The trampoline's C half: sp is the landing frame's stack pointer. */
uintptr_t __ukcov_landing_pad(uintptr_t sp);
uintptr_t __ukcov_landing_pad(uintptr_t sp)
{
	struct ukcov_thread *th = &__ukcov_cur;
	uintptr_t ip = th->lp_ip[--th->lp_depth];
	int e = errno;

	__ukcov_leave_below(sp, sp, true);
	errno = e;
	return ip;
}
#endif
