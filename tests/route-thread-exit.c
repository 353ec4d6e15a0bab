// SPDX-License-Identifier: MIT
/*
 * A thread that ends inside its contexts (spec §3.9, issue 10):
 *   1. pthread_exit inside a task-context section;
 *   2. pthread_exit inside a handler, inside its section, itself inside a
 *      task-context section;
 *   3. deferred cancellation acting inside a task-context section;
 *   4. deferred cancellation acting inside a handler's section (the
 *      cancellation unwinds through ukcov's handler wrapper);
 *   5. asynchronous cancellation of a thread spinning inside a section;
 *   6. pthread_exit at the bottom of 80 nested handlers, each inside a
 *      section of its own (64 interrupt areas exist: 16 are skipped);
 *   7. pthread_exit inside a handler ukcov did not install (a raw
 *      rt_sigaction) that brackets itself with ukcov_signal_enter.
 * Each time, every section the thread had open is closed and appended
 * (the owner has what was gathered), and afterwards all 64 interrupt
 * areas are free: 64 nested handler sections on another thread skip none.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "helpers.h"

#define WORDS 65536
#define NEST 80

static const uint64_t HA = UKCOV_SUBSYSTEM_APP(32) | 1;	/* task sections */
static const uint64_t HB = UKCOV_SUBSYSTEM_APP(32) | 2;	/* handler ones */
static struct t_kcov A, B;
volatile long sink;
static volatile int nest_target, nest_depth;
static int started;	/* atomic: the thread reached where it waits */
static volatile int mode;

enum { M_EXIT, M_CANCEL, M_NEST };

__attribute__((noinline)) void task_work(int x);
__attribute__((noinline)) void task_work(int x)
{
	if (x & 1)
		sink += x;
	else
		sink -= x;
}

__attribute__((noinline)) void handler_work(int x);
__attribute__((noinline)) void handler_work(int x)
{
	if (x & 2)
		sink += x * 3;
	else
		sink -= x * 3;
}

/* SIGUSR1: a section of its own, then the thread ends in it. */
static void end_in_handler(int sig)
{
	(void)sig;
	ukcov_remote_start(HB);
	handler_work(1);
	if (mode == M_EXIT)
		pthread_exit(NULL);
	/* M_CANCEL: wait to be cancelled at a cancellation point. */
	__atomic_store_n(&started, 1, __ATOMIC_RELEASE);
	for (;;)
		pause();
}

/* SIGUSR2, SA_NODEFER: nest_target levels deep, a section at each. */
static void nest(int sig)
{
	int d = ++nest_depth;

	ukcov_remote_start(HB);
	handler_work(d);
	if (d < nest_target)
		raise(sig);
	if (mode == M_EXIT)
		pthread_exit(NULL);
	/* M_NEST with no exit: return level by level. */
	ukcov_remote_stop();
	nest_depth--;
}

/* SIGURG, installed with a raw rt_sigaction: bracketed by hand. */
static void raw_handler(int sig)
{
	struct ukcov_sigctx ctx;

	ukcov_signal_enter(&ctx, sig);
	ukcov_remote_start(HB);
	handler_work(2);
	pthread_exit(NULL);
}

/* x86-64 needs SA_RESTORER for a raw rt_sigaction: rt_sigreturn. */
#if defined(__x86_64__)
extern void t_restore_rt(void);
__asm__(".text\nt_restore_rt:\n\tmovq $15, %rax\n\tsyscall\n");
#define HAVE_RAW_HANDLER 1
#endif

static void *exit_in_raw_handler(void *p)
{
	(void)p;
	ukcov_remote_start(HA);
	task_work(11);
	raise(SIGURG);
	t_fail("the handler returned");
}

static void *exit_in_section(void *p)
{
	(void)p;
	ukcov_remote_start(HA);
	task_work(1);
	pthread_exit(NULL);
}

static void *exit_in_handler(void *p)
{
	(void)p;
	ukcov_remote_start(HA);
	task_work(3);
	raise(SIGUSR1);
	t_fail("the handler returned");
}

static void *cancel_in_section(void *p)
{
	(void)p;
	ukcov_remote_start(HA);
	task_work(5);
	__atomic_store_n(&started, 1, __ATOMIC_RELEASE);
	for (;;)
		pause();
	return NULL; /* not reached */
}

static void *cancel_in_handler(void *p)
{
	(void)p;
	ukcov_remote_start(HA);
	task_work(7);
	raise(SIGUSR1);
	t_fail("the handler returned");
}

static void *async_in_section(void *p)
{
	(void)p;
	pthread_setcanceltype(PTHREAD_CANCEL_ASYNCHRONOUS, NULL);
	ukcov_remote_start(HA);
	for (;;) {
		task_work(9);
		__atomic_store_n(&started, 1, __ATOMIC_RELEASE);
	}
	return NULL; /* not reached */
}

static void *nested(void *p)
{
	nest_target = (int)(uintptr_t)p;
	nest_depth = 0;
	raise(SIGUSR2);
	return NULL;
}

T_NOCOV static void run(void *(*fn)(void *), void *arg, bool cancel)
{
	pthread_t t;
	void *ret;

	__atomic_store_n(&started, 0, __ATOMIC_RELAXED);
	if (pthread_create(&t, NULL, fn, arg))
		t_fail("pthread_create");
	if (cancel) {
		while (!__atomic_load_n(&started, __ATOMIC_ACQUIRE))
			usleep(1000);
		usleep(10000);
		pthread_cancel(t);
	}
	if (pthread_join(t, &ret))
		t_fail("pthread_join");
	if (cancel && ret != PTHREAD_CANCELED)
		t_fail("the thread was not cancelled");
}

T_NOCOV static void expect(const char *what, struct t_kcov *k, void *fn,
			   bool want)
{
	unsigned long n = t_count_in(k, t_range_of(fn));

	if (want && !n)
		t_fail("%s: the owner did not get the section's PCs", what);
	if (!want && n)
		t_fail("%s: %lu PCs where none belong", what, n);
}

/*
 * All 64 interrupt areas free: 64 nested sections, none skipped.
 * ThreadSanitizer delivers a signal raised in a handler only once the
 * handler has returned: nothing nests there, so this is not checked.
 */
T_NOCOV static void areas_free(const char *what)
{
	uint64_t before = ukcov_irq_sections_skipped();

	if (T_SIG_TSAN)
		return;
	mode = M_NEST;
	t_set_count(&B, 0);
	run(nested, (void *)(uintptr_t)64, false);
	if (ukcov_irq_sections_skipped() != before)
		t_fail("%s: %llu of 64 nested handler sections skipped after",
		       what,
		       (unsigned long long)(ukcov_irq_sections_skipped() -
					    before));
	expect(what, &B, (void *)handler_work, true);
}

/* Each case says its name first: a hang names itself. */
T_NOCOV static void reset(const char *what)
{
	printf("%s\n", what);
	fflush(stdout);
	t_set_count(&A, 0);
	t_set_count(&B, 0);
}

int main(void)
{
	struct t_actor owner;
	uint64_t hs[2] = { HA, HB };
	struct sigaction sa;
	uint64_t skipped;

	t_kcov_open(&A, WORDS);
	t_kcov_open(&B, WORDS);
	t_actor_start(&owner);
	if (t_actor_remote_enable(&owner, A.fd, KCOV_TRACE_PC, 8192, 0, 1,
				  &hs[0]))
		t_fail("REMOTE_ENABLE A: %s", strerror(errno));
	{
		struct t_actor owner_b;

		t_actor_start(&owner_b);
		if (t_actor_remote_enable(&owner_b, B.fd, KCOV_TRACE_PC, 8192,
					  0, 1, &hs[1]))
			t_fail("REMOTE_ENABLE B: %s", strerror(errno));
		/* owner_b stays alive to the end: not stopped */
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = end_in_handler;
	t_expect_ok(sigaction(SIGUSR1, &sa, NULL));
	sa.sa_handler = nest;
	sa.sa_flags = SA_NODEFER;
	t_expect_ok(sigaction(SIGUSR2, &sa, NULL));

	areas_free("at start");

	reset("1. pthread_exit in a section");
	mode = M_EXIT;
	run(exit_in_section, NULL, false);
	expect("1. pthread_exit in a section", &A, (void *)task_work, true);

	reset("2. pthread_exit in a handler");
	run(exit_in_handler, NULL, false);
	expect("2. pthread_exit in a handler: task section", &A,
	       (void *)task_work, true);
	expect("2. pthread_exit in a handler: its section", &B,
	       (void *)handler_work, true);
	areas_free("2. pthread_exit in a handler");

	reset("3. cancelled in a section");
	run(cancel_in_section, NULL, true);
	expect("3. cancelled in a section", &A, (void *)task_work, true);

	/* ThreadSanitizer holds signals back while a handler runs: the
	 * cancellation's wake-up never reaches one blocked in pause(). */
	if (T_SIG_TSAN) {
		printf("4. skipped under ThreadSanitizer\n");
		goto five;
	}
	reset("4. cancelled in a handler");
	mode = M_CANCEL;
	run(cancel_in_handler, NULL, true);
	expect("4. cancelled in a handler: task section", &A,
	       (void *)task_work, true);
	expect("4. cancelled in a handler: its section", &B,
	       (void *)handler_work, true);
	areas_free("4. cancelled in a handler");
five:

	/* ThreadSanitizer delivers the cancellation's signal only when the
	 * thread calls into libc, which this spinning thread never does. */
	if (T_SIG_TSAN) {
		printf("5. skipped under ThreadSanitizer\n");
		goto six;
	}
	reset("5. asynchronously cancelled in a section");
	run(async_in_section, NULL, true);
	expect("5. asynchronously cancelled in a section", &A,
	       (void *)task_work, true);

six:
	if (T_SIG_TSAN) {
		printf("6. skipped under ThreadSanitizer: handlers do not "
		       "nest there\n");
		goto seven;
	}
	reset("6. pthread_exit 80 handlers deep");
	mode = M_EXIT;
	skipped = ukcov_irq_sections_skipped();
	run(nested, (void *)(uintptr_t)NEST, false);
	if (ukcov_irq_sections_skipped() - skipped != NEST - 64)
		t_fail("6. %llu sections skipped, want %d",
		       (unsigned long long)(ukcov_irq_sections_skipped() -
					    skipped),
		       NEST - 64);
	expect("6. pthread_exit 80 handlers deep", &B, (void *)handler_work,
	       true);
	areas_free("6. pthread_exit 80 handlers deep");
seven:

#ifdef HAVE_RAW_HANDLER
	{
		struct {
			void *handler;
			unsigned long flags;
			void *restorer;
			unsigned long mask;
		} k = { (void *)raw_handler, 0x04000000 /* SA_RESTORER */,
			(void *)t_restore_rt, 0 };

		if (syscall(SYS_rt_sigaction, SIGURG, &k, NULL, 8))
			t_fail("rt_sigaction: %s", strerror(errno));
		reset("7. pthread_exit in a raw handler");
		run(exit_in_raw_handler, NULL, false);
		expect("7. pthread_exit in a raw handler: task section", &A,
		       (void *)task_work, true);
		expect("7. pthread_exit in a raw handler: its section", &B,
		       (void *)handler_work, true);
		areas_free("7. pthread_exit in a raw handler");
	}
#endif

	t_actor_stop(&owner);
	printf("every thread end closed its sections and freed its areas\n");
	return 0;
}
