// SPDX-License-Identifier: MIT
/*
 * C++ exceptions leaving a context (spec §3.9, issue 10): a handler frame
 * or a section that an exception unwinds through is closed as at return
 * or stop, at exactly the frame where the unwinding lands: the owner gets
 * what was gathered so far and nothing gathered after (not the cleanups of
 * frames outside the section's scope, not the catch), while a section the
 * landing frame itself started (an RAII guard) stays open until its stop.
 *   a. an exception thrown from a SIGSEGV handler (built with
 *      -fnon-call-exceptions) and caught by the collecting thread;
 *   b. out of ukcov_run_captured();
 *   c. out of a section opened with ukcov_remote_start() in a callee;
 *   d. through a frame holding an RAII section guard;
 *   e. caught inside the section's scope;
 *   f. out of a handler that also bracketed itself with
 *      ukcov_signal_enter().
 * After each: the thread collects its own code again, its common handle is
 * its own (0 only in handlers), its ioctls work, and a new section collects
 * exactly its own code.
 */
#include <cerrno>
#include <csignal>
#include <cstring>
#include <stdexcept>

#include "helpers.h"

#define WORDS 65536

static const uint64_t HA = UKCOV_SUBSYSTEM_APP(31) | 1;
static const uint64_t HCA = 0x4ca;	/* the owner's common handle */
static const uint64_t HC = 0x1c;	/* the main thread's */
static struct t_kcov L, A, R;
volatile long sink;

struct Oops {};

#define WORK(name, k)                                                          \
	extern "C" __attribute__((noinline)) void name(int x);                 \
	extern "C" __attribute__((noinline)) void name(int x)                  \
	{                                                                      \
		if (x > (k))                                                   \
			sink += x * (k);                                       \
		else                                                           \
			sink -= x + (k);                                       \
	}
WORK(in_section_work, 1)
WORK(outside_dtor_work, 2)
WORK(catch_work, 3)
WORK(after_work, 4)
WORK(handler_work, 5)
WORK(inner_dtor_work, 6)
WORK(inside_catch_work, 7)
WORK(fresh_work, 8)

struct OutsideDtor {
	~OutsideDtor() { outside_dtor_work(1); }
};

struct InnerDtor {
	~InnerDtor() { inner_dtor_work(1); }
};

struct Guard {
	explicit Guard(uint64_t h) { ukcov_remote_start(h); }
	~Guard() { ukcov_remote_stop(); }
};

static struct t_range range(void (*fn)(int))
{
	return t_range_of(reinterpret_cast<const void *>(fn));
}

static bool in(const struct t_kcov *k, void (*fn)(int))
{
	return t_count_in(k, range(fn)) != 0;
}

extern "C" __attribute__((noinline)) void deep_throw(int x)
{
	in_section_work(x);
	if (x >= 0)
		throw Oops();
}

/* The thread is back to normal: its own code recorded, its handle, its
 * ioctls, and a new section that collects exactly its code. */
T_NOCOV static void check_normal(const char *what)
{
	unsigned long before;

	t_set_count(&L, 0);
	after_work(9);
	if (!in(&L, after_work))
		t_fail("%s: the thread's own code is not recorded after", what);
	if (ukcov_common_handle() !=
	    kcov_remote_handle(KCOV_SUBSYSTEM_COMMON, HC))
		t_fail("%s: common handle %#llx after", what,
		       (unsigned long long)ukcov_common_handle());
	struct ukcov_stats st;
	if (ukcov_get_stats(L.fd, &st))
		t_fail("%s: ukcov_get_stats: %s", what, strerror(errno));
	t_set_count(&A, 0);
	ukcov_remote_start(HA);
	fresh_work(9);
	ukcov_remote_stop();
	before = t_count(&A);
	/* All but a tail call's entry (gcc records the caller's address). */
	if (!in(&A, fresh_work) || t_count_in(&A, range(fresh_work)) + 1 < before)
		t_fail("%s: a new section got %lu entries, %lu of its code",
		       what, before, t_count_in(&A, range(fresh_work)));
	/* Stops beyond the sections are no-ops: nothing was left open. */
	ukcov_remote_stop();
	t_set_count(&L, 0);
	after_work(9);
	if (!in(&L, after_work))
		t_fail("%s: a stray stop changed the state", what);
}

/* a. An exception thrown by a SIGSEGV handler. */
static void segv_throw(int, siginfo_t *, void *)
{
	handler_work(7);
	throw Oops();
}

/*
 * Weak: clang does not model non-call exceptions and would infer that a
 * plain load cannot throw, dropping the call site from the exception table;
 * a weak function's body may be replaced, so it infers nothing.  The
 * fault is the point: no sanitizer check in front of it.
 */
extern "C" __attribute__((noinline, weak,
			   no_sanitize("address", "undefined"))) int
faulting(volatile int *p)
{
	return *p;
}

/* f. The same, from a handler that also brackets itself. */
static void segv_bracketed(int sig, siginfo_t *, void *)
{
	struct ukcov_sigctx ctx;

	ukcov_signal_enter(&ctx, sig);
	handler_work(7);
	throw Oops();
}

static void install(void (*h)(int, siginfo_t *, void *))
{
	struct sigaction a;

	memset(&a, 0, sizeof(a));
	a.sa_sigaction = h;
	a.sa_flags = SA_SIGINFO | SA_NODEFER;
	t_expect_ok(sigaction(SIGSEGV, &a, nullptr));
}

static void case_handler(const char *what, void (*h)(int, siginfo_t *, void *))
{
	/* ThreadSanitizer runs handlers inside its own wrapper, which an
	 * exception leaving the handler skips: it then believes the thread
	 * is still in a handler (and reports every malloc). */
	if (T_SIG_TSAN) {
		printf("%s: skipped under ThreadSanitizer\n", what);
		return;
	}
	install(h);
	t_set_count(&L, 0);
	try {
		sink += faulting(nullptr);
		t_fail("%s: no fault", what);
	} catch (const Oops &) {
		catch_work(5);
	}
	if (in(&L, handler_work))
		t_fail("%s: the handler's code is in the thread's trace", what);
	if (!in(&L, catch_work))
		t_fail("%s: the catch is not in the thread's trace", what);
	check_normal(what);
	signal(SIGSEGV, SIG_DFL);
}

/* b. Out of ukcov_run_captured. */
static void job(void *) { deep_throw(1); }

extern "C" __attribute__((noinline)) void captured_caller(void)
{
	OutsideDtor d;

	ukcov_run_captured(kcov_remote_handle(KCOV_SUBSYSTEM_COMMON, HCA), job,
			   nullptr);
}

/* c. Out of a section a callee opened. */
extern "C" __attribute__((noinline)) void section_opener(void)
{
	ukcov_remote_start(HA);
	deep_throw(2);
	ukcov_remote_stop();
}

extern "C" __attribute__((noinline)) void ancestor(void)
{
	OutsideDtor d;

	section_opener();
}

/* d. Through a frame holding an RAII guard. */
extern "C" __attribute__((noinline)) void guarded(void)
{
	Guard g(HA);
	InnerDtor i;

	deep_throw(3);
}

/* e. Caught inside the section's scope. */
extern "C" __attribute__((noinline)) void catches_inside(void)
{
	ukcov_remote_start(HA);
	try {
		deep_throw(4);
	} catch (const Oops &) {
		inside_catch_work(4);
	}
	ukcov_remote_stop();
}

static void run_and_catch(void (*fn)(void))
{
	t_set_count(&A, 0);
	t_set_count(&L, 0);
	try {
		fn();
	} catch (const Oops &) {
		catch_work(5);
	}
}

int main()
{
	struct t_actor owner;

	t_kcov_open(&L, WORDS);
	t_kcov_open(&A, WORDS);
	t_kcov_open(&R, WORDS);
	t_actor_start(&owner);
	if (t_actor_remote_enable(&owner, A.fd, KCOV_TRACE_PC, 8192,
				  kcov_remote_handle(KCOV_SUBSYSTEM_COMMON,
						     HCA),
				  1, &HA))
		t_fail("REMOTE_ENABLE: %s", strerror(errno));
	t_expect_ok(t_remote_enable(R.fd, KCOV_TRACE_PC, 8192,
				    kcov_remote_handle(KCOV_SUBSYSTEM_COMMON,
						       HC),
				    0, nullptr));
	t_expect_ok(ukcov_ioctl(L.fd, KCOV_ENABLE, KCOV_TRACE_PC));
	check_normal("start");

	case_handler("a. throw from a handler", segv_throw);

	run_and_catch(captured_caller);
	if (!in(&A, in_section_work) || in(&A, outside_dtor_work) ||
	    in(&A, catch_work))
		t_fail("b. run_captured: owner got section %d, outside "
		       "destructor %d, catch %d", in(&A, in_section_work),
		       in(&A, outside_dtor_work), in(&A, catch_work));
	if (!in(&L, outside_dtor_work) || !in(&L, catch_work) ||
	    in(&L, in_section_work))
		t_fail("b. run_captured: the thread's trace is wrong");
	check_normal("b. run_captured");

	run_and_catch(ancestor);
	if (!in(&A, in_section_work) || in(&A, outside_dtor_work) ||
	    in(&A, catch_work))
		t_fail("c. remote_start: owner got section %d, outside "
		       "destructor %d, catch %d", in(&A, in_section_work),
		       in(&A, outside_dtor_work), in(&A, catch_work));
	if (!in(&L, outside_dtor_work) || !in(&L, catch_work))
		t_fail("c. remote_start: the thread's trace is wrong");
	check_normal("c. remote_start");

	run_and_catch(guarded);
	if (!in(&A, in_section_work) || !in(&A, inner_dtor_work) ||
	    in(&A, catch_work))
		t_fail("d. RAII guard: owner got section %d, inner destructor "
		       "%d, catch %d", in(&A, in_section_work),
		       in(&A, inner_dtor_work), in(&A, catch_work));
	check_normal("d. RAII guard");

	run_and_catch(catches_inside);
	if (!in(&A, in_section_work) || !in(&A, inside_catch_work) ||
	    in(&A, catch_work))
		t_fail("e. catch inside: owner got section %d, catch inside "
		       "%d, catch outside %d", in(&A, in_section_work),
		       in(&A, inside_catch_work), in(&A, catch_work));
	check_normal("e. catch inside");

	case_handler("f. throw from a bracketed handler", segv_bracketed);

	t_expect_ok(ukcov_ioctl(L.fd, KCOV_DISABLE, 0));
	t_expect_ok(ukcov_ioctl(R.fd, KCOV_DISABLE, 0));
	t_actor_stop(&owner);
	printf("every exception left the contexts it crossed exactly\n");
	return 0;
}
