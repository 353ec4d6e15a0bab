// SPDX-License-Identifier: MIT
/*
 * Every way a program on glibc installs a signal handler (spec §3.9,
 * issue 10): sigaction, __sigaction, signal, ssignal, bsd_signal,
 * sysv_signal, __sysv_signal, sigset, and sigaction and signal called by an
 * uninstrumented library linked against libc alone (its references name
 * glibc's symbol versions).  For each route:
 *   - transparency: the route returns (or reports in oldact) the program's
 *     previous handler, never ukcov's;
 *   - the kernel runs ukcov's wrapper, not the handler itself;
 *   - exclusion: the handler's code is not in the interrupted thread's
 *     trace, and it ran as a soft interrupt: the per-signal handle's area
 *     got its PCs.
 * Then sigignore and siginterrupt, and the kernel as the truth: an action
 * changed behind ukcov's back (a raw rt_sigaction) is what sigaction
 * reports.
 */
#include <dlfcn.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "helpers.h"

/* sigset is deprecated, and bsd_signal declared only for old standards;
 * both are exported routes all the same. */
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
extern __sighandler_t bsd_signal(int, __sighandler_t);

#define WORDS 65536

static struct t_kcov L, S;
volatile long sink;
static volatile int ran;

__attribute__((noinline)) void h0(int sig);
__attribute__((noinline)) void h0(int sig)
{
	sink += sig;
}

/* The handler every route installs: instrumented. */
__attribute__((noinline)) void h1(int sig);
__attribute__((noinline)) void h1(int sig)
{
	if (sig == SIGUSR1)
		sink += sig * 3;
	else
		sink -= sig;
	ran++;
}

/* The kernel's view of an action: the raw rt_sigaction layout. */
struct k_sigaction {
	void *handler;
	unsigned long flags;
	void *restorer;
	unsigned long mask;
};

T_NOCOV static struct k_sigaction kernel_action(int sig)
{
	struct k_sigaction k;

	if (syscall(SYS_rt_sigaction, sig, NULL, &k, 8))
		t_fail("rt_sigaction: %s", strerror(errno));
	return k;
}

typedef void (*handler_t)(int);
static int (*lib_sigaction)(int, handler_t, handler_t *);
static handler_t (*lib_signal)(int, handler_t);
extern int __sigaction(int, const struct sigaction *, struct sigaction *);

T_NOCOV static handler_t via_sigaction(handler_t h)
{
	struct sigaction a, o;

	memset(&a, 0, sizeof(a));
	a.sa_handler = h;
	if (sigaction(SIGUSR1, &a, &o))
		return SIG_ERR;
	return o.sa_handler;
}

T_NOCOV static handler_t via___sigaction(handler_t h)
{
	struct sigaction a, o;

	memset(&a, 0, sizeof(a));
	a.sa_handler = h;
	if (__sigaction(SIGUSR1, &a, &o))
		return SIG_ERR;
	return o.sa_handler;
}

T_NOCOV static handler_t via_signal(handler_t h)
{
	return signal(SIGUSR1, h);
}

T_NOCOV static handler_t via_ssignal(handler_t h)
{
	return ssignal(SIGUSR1, h);
}

T_NOCOV static handler_t via_bsd_signal(handler_t h)
{
	return bsd_signal(SIGUSR1, h);
}

T_NOCOV static handler_t via_sysv_signal(handler_t h)
{
	return sysv_signal(SIGUSR1, h);
}

T_NOCOV static handler_t via___sysv_signal(handler_t h)
{
	return __sysv_signal(SIGUSR1, h);
}

T_NOCOV static handler_t via_sigset(handler_t h)
{
	return sigset(SIGUSR1, h);
}

T_NOCOV static handler_t via_lib_sigaction(handler_t h)
{
	handler_t old;

	return lib_sigaction(SIGUSR1, h, &old) ? SIG_ERR : old;
}

T_NOCOV static handler_t via_lib_signal(handler_t h)
{
	return lib_signal(SIGUSR1, h);
}

static const struct {
	const char *name;
	handler_t (*install)(handler_t);
} routes[] = {
	{ "sigaction", via_sigaction },
	{ "__sigaction", via___sigaction },
	{ "signal", via_signal },
	{ "ssignal", via_ssignal },
	{ "bsd_signal", via_bsd_signal },
	{ "sysv_signal", via_sysv_signal },
	{ "__sysv_signal", via___sysv_signal },
	{ "sigset", via_sigset },
	{ "a library's sigaction", via_lib_sigaction },
	{ "a library's signal", via_lib_signal },
};

T_NOCOV static void load_library(void)
{
	char exe[PATH_MAX], path[PATH_MAX + 32];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	void *lib;

	if (n <= 0)
		t_fail("readlink: %s", strerror(errno));
	exe[n] = 0;
	snprintf(path, sizeof(path), "%s/libroute-lib.so", dirname(exe));
	lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!lib)
		t_fail("dlopen: %s", dlerror());
	lib_sigaction = (int (*)(int, handler_t, handler_t *))dlsym(
		lib, "route_lib_sigaction");
	lib_signal = (handler_t(*)(int, handler_t))dlsym(lib,
							"route_lib_signal");
	t_assert(lib_sigaction && lib_signal);
}

/* The interrupted code: the same instrumented path with or without it. */
__attribute__((noinline)) void interrupted(int n);
__attribute__((noinline)) void interrupted(int n)
{
	int i;

	for (i = 0; i < n; i++) {
		t_sig_raise_if(i == n / 2, SIGUSR1);
		sink += i;
	}
}

T_NOCOV static void check_route(const char *name,
				handler_t (*install)(handler_t))
{
	struct t_range r1 = t_range_of((void *)h1);
	struct k_sigaction k;
	struct sigaction a;
	handler_t prev;
	int before = ran;

	memset(&a, 0, sizeof(a));
	a.sa_handler = h0;
	t_expect_ok(sigaction(SIGUSR1, &a, NULL));
	prev = install(h1);
	if (prev != h0)
		t_fail("%s: returned %p as the previous handler, not the "
		       "program's %p", name, (void *)prev, (void *)h0);
	k = kernel_action(SIGUSR1);
	if (k.handler == (void *)h1)
		t_fail("%s: the kernel runs the handler itself, not through "
		       "ukcov", name);
	t_set_count(&L, 0);
	t_set_count(&S, 0);
	interrupted(8);
	if (ran != before + 1)
		t_fail("%s: the handler ran %d times, not once", name,
		       ran - before);
	if (t_count_in(&L, r1))
		t_fail("%s: %lu of the handler's PCs in the interrupted trace",
		       name, t_count_in(&L, r1));
	if (!t_count_in(&S, r1))
		t_fail("%s: the per-signal section did not get the handler's "
		       "PCs", name);
	/* And the program sees its own handler now. */
	t_expect_ok(sigaction(SIGUSR1, NULL, &a));
	if (a.sa_handler != h1 && !(strstr(name, "sysv")))
		t_fail("%s: sigaction reports %p, not the handler", name,
		       (void *)a.sa_handler);
}

int main(void)
{
	uint64_t hs = ukcov_remote_handle(UKCOV_SUBSYSTEM_SIGNAL, SIGUSR1);
	struct t_actor owner;
	struct k_sigaction k;
	struct sigaction a;
	size_t i;

	load_library();
	t_kcov_open(&L, WORDS);
	t_kcov_open(&S, WORDS);
	t_actor_start(&owner);
	if (t_actor_remote_enable(&owner, S.fd, KCOV_TRACE_PC, 8192, 0, 1,
				  &hs))
		t_fail("REMOTE_ENABLE: %s", strerror(errno));
	t_expect_ok(ukcov_ioctl(L.fd, KCOV_ENABLE, KCOV_TRACE_PC));

	for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
		check_route(routes[i].name, routes[i].install);

	/* sigignore: SIG_IGN, reported as such, and nothing runs. */
	via_sigaction(h1);
	t_expect_ok(sigignore(SIGUSR1));
	t_expect_ok(sigaction(SIGUSR1, NULL, &a));
	t_assert(a.sa_handler == SIG_IGN);
	t_assert(kernel_action(SIGUSR1).handler == (void *)SIG_IGN);
	raise(SIGUSR1);

	/* siginterrupt: SA_RESTART off and on, in oldact and in the kernel,
	 * while the kernel keeps running the wrapper. */
	memset(&a, 0, sizeof(a));
	a.sa_handler = h1;
	a.sa_flags = SA_RESTART;
	t_expect_ok(sigaction(SIGUSR1, &a, NULL));
	t_expect_ok(siginterrupt(SIGUSR1, 1));
	t_expect_ok(sigaction(SIGUSR1, NULL, &a));
	k = kernel_action(SIGUSR1);
	t_assert(a.sa_handler == h1 && !(a.sa_flags & SA_RESTART));
	t_assert(k.handler != (void *)h1 && !(k.flags & SA_RESTART));
	t_expect_ok(siginterrupt(SIGUSR1, 0));
	t_expect_ok(sigaction(SIGUSR1, NULL, &a));
	t_assert(a.sa_handler == h1 && (a.sa_flags & SA_RESTART));
	t_assert(kernel_action(SIGUSR1).flags & SA_RESTART);

	/* The kernel is the truth: a raw rt_sigaction behind ukcov's back. */
	k = kernel_action(SIGUSR1);
	k.handler = (void *)SIG_IGN;
	t_assert(syscall(SYS_rt_sigaction, SIGUSR1, &k, NULL, 8) == 0);
	t_expect_ok(sigaction(SIGUSR1, NULL, &a));
	if (a.sa_handler != SIG_IGN)
		t_fail("sigaction reports %p after a raw rt_sigaction set "
		       "SIG_IGN", (void *)a.sa_handler);

	t_expect_ok(ukcov_ioctl(L.fd, KCOV_DISABLE, 0));
	t_actor_stop(&owner);
	printf("%zu handler-installation routes run through ukcov\n", i);
	return 0;
}
