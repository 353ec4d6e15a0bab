// SPDX-License-Identifier: MIT
/*
 * Unique mode and signal handlers (the soft interrupts): a handler never
 * records into the thread it interrupts, and never marks that thread's
 * bitmap either.
 *
 * A worker collects for itself in unique mode while SIGUSR1 keeps
 * interrupting it.  The handler runs hwork() inside its per-signal
 * section, whose owner is registered in unique mode, and inside an
 * explicit section for a second unique owner (a handler's section cannot
 * allocate a map: every hit goes to an interrupt area, and the merge at
 * its stop deduplicates).  Then:
 *   - the worker's trace has no hwork() PC, and its bitmap has exactly as
 *     many bits as its trace has entries;
 *   - after the signals, the worker runs hwork() itself: all its PCs are
 *     new to the worker (the handlers did not mark them);
 *   - both owners have each of hwork()'s PCs once, after hundreds of
 *     handler runs, and nothing of the worker's own code.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "helpers.h"

#define TRACE 65536 /* words of trace */
/* The bitmap mirrors every call site's index: sized at run time. */
static unsigned long bitmap_words;
#define BITMAP bitmap_words
#define WORDS (bitmap_words + TRACE)

static const uint64_t HX = UKCOV_SUBSYSTEM_APP(32) | 1;
static __thread volatile long sink;
static int handled; /* atomic */

__attribute__((noinline)) void hwork(int n);
__attribute__((noinline)) void hwork(int n)
{
	for (int i = 0; i < n; i++)
		sink += i & 3 ? 1 : 3;
}

__attribute__((noinline)) void task_work(int n);
__attribute__((noinline)) void task_work(int n)
{
	for (int i = 0; i < n; i++)
		sink -= i;
}

static void on_usr1(int sig)
{
	(void)sig;
	hwork(200);
	ukcov_remote_start(HX);
	hwork(300);
	ukcov_remote_stop();
	__atomic_add_fetch(&handled, 1, __ATOMIC_RELAXED);
}

static T_NOCOV unsigned long in_range(const unsigned long *trace,
				      struct t_range r, unsigned long *total)
{
	unsigned long n = __atomic_load_n(&trace[0], __ATOMIC_ACQUIRE), i, m = 0;

	for (i = 0; i < n; i++)
		m += t_in(r, trace[1 + i]);
	if (total)
		*total = n;
	return m;
}

static T_NOCOV unsigned long bits_and_count(const unsigned long *area,
					    unsigned long *count)
{
	unsigned long i, b = 0;

	*count = __atomic_load_n(&area[BITMAP], __ATOMIC_ACQUIRE);
	for (i = 0; i < BITMAP; i++)
		b += (unsigned long)__builtin_popcountl(area[i]);
	return b;
}

/* Each PC at most once in trace[1..n]. */
static T_NOCOV int cmp_ul(const void *a, const void *b)
{
	unsigned long x = *(const unsigned long *)a, y = *(const unsigned long *)b;

	return x < y ? -1 : x > y;
}

static T_NOCOV bool all_distinct(const unsigned long *trace)
{
	static unsigned long v[TRACE];
	unsigned long n = __atomic_load_n(&trace[0], __ATOMIC_ACQUIRE), i;

	memcpy(v, trace + 1, n * sizeof(*v));
	qsort(v, n, sizeof(*v), cmp_ul);
	for (i = 1; i < n; i++)
		if (v[i] == v[i - 1])
			return false;
	return true;
}

static unsigned long hwork_pcs; /* from an ordered trace */
static pthread_t worker_thread;
/* Atomics (a volatile bool loop was loaded once by gcc 12 under UBSan). */
static bool worker_ready, worker_done;
static unsigned long worker_h_before, worker_h_after, worker_bits,
	worker_count;

static void *worker(void *p)
{
	struct t_range h = t_range_of(hwork);
	struct t_kcov k;

	(void)p;
	t_kcov_open(&k, WORDS);
	t_expect_ok(ukcov_ioctl(k.fd, KCOV_UNIQUE_ENABLE, (unsigned long)BITMAP));
	__atomic_store_n(&worker_ready, true, __ATOMIC_RELEASE);
	while (__atomic_load_n(&handled, __ATOMIC_RELAXED) < 300)
		task_work(50);
	worker_h_before = in_range(k.area + BITMAP, h, NULL);
	worker_bits = bits_and_count(k.area, &worker_count);
	hwork(300);
	worker_h_after = in_range(k.area + BITMAP, h, NULL);
	t_expect_ok(ukcov_ioctl(k.fd, KCOV_DISABLE, 0));
	t_kcov_close(&k);
	__atomic_store_n(&worker_done, true, __ATOMIC_RELEASE);
	return NULL;
}

static long register_unique(void *p)
{
	const uint64_t *h = p;
	uint64_t buf[4];
	struct ukcov_remote_unique_arg *a = (void *)buf;

	memset(buf, 0, sizeof(buf));
	a->trace_mode = KCOV_TRACE_PC;
	a->area_size = 4096;
	a->num_handles = 1;
	a->bitmap_words = BITMAP;
	a->handles[0] = *h;
	return ukcov_ioctl((int)h[1], UKCOV_REMOTE_UNIQUE_ENABLE, a);
}

int main(void)
{
	struct t_range h = t_range_of(hwork), tw = t_range_of(task_work);
	struct t_actor a1, a2;
	struct t_kcov o1, o2, ref;
	uint64_t arg1[2], arg2[2];
	struct sigaction sa;
	unsigned long n, total;

	/* h[0] the handle, h[1] the descriptor (register_unique). */

	/* Whole pages: kcov maps only an area of whole pages. */
	bitmap_words = ((ukcov_unique_bits() + 63) / 64 + 511) & ~511ul;
	/* hwork's PCs. */
	t_kcov_open(&ref, WORDS);
	t_expect_ok(ukcov_ioctl(ref.fd, KCOV_UNIQUE_ENABLE, (unsigned long)BITMAP));
	hwork(300);
	hwork_pcs = in_range(ref.area + BITMAP, h, NULL);
	t_expect_ok(ukcov_ioctl(ref.fd, KCOV_DISABLE, 0));
	t_kcov_close(&ref);
	t_assert(hwork_pcs >= 3);

	t_actor_start(&a1);
	t_actor_start(&a2);
	t_kcov_open(&o1, WORDS);
	t_kcov_open(&o2, WORDS);
	arg1[0] = ukcov_remote_handle(UKCOV_SUBSYSTEM_SIGNAL, SIGUSR1);
	arg1[1] = (uint64_t)o1.fd;
	arg2[0] = HX;
	arg2[1] = (uint64_t)o2.fd;
	t_assert(t_actor_call(&a1, register_unique, arg1) == 0);
	t_assert(t_actor_call(&a2, register_unique, arg2) == 0);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sigemptyset(&sa.sa_mask);
	t_expect_ok(sigaction(SIGUSR1, &sa, NULL));
	pthread_create(&worker_thread, NULL, worker, NULL);
	while (!__atomic_load_n(&worker_ready, __ATOMIC_ACQUIRE))
		sched_yield();
	while (__atomic_load_n(&handled, __ATOMIC_RELAXED) < 300) {
		pthread_kill(worker_thread, SIGUSR1);
		usleep(100);
	}
	pthread_join(worker_thread, NULL);
	t_assert(__atomic_load_n(&worker_done, __ATOMIC_ACQUIRE));

	if (worker_h_before)
		t_fail("%lu PCs of the handler in the worker's trace",
		       worker_h_before);
	if (worker_bits != worker_count)
		t_fail("the worker's bitmap has %lu bits for %lu entries",
		       worker_bits, worker_count);
	if (worker_h_after != hwork_pcs)
		t_fail("the worker found %lu of hwork's %lu PCs new after the "
		       "handlers ran it", worker_h_after, hwork_pcs);

	n = in_range(o1.area + BITMAP, h, &total);
	t_assert(n == hwork_pcs);
	t_assert(in_range(o1.area + BITMAP, tw, NULL) == 0);
	t_assert(all_distinct(o1.area + BITMAP));
	n = in_range(o2.area + BITMAP, h, &total);
	t_assert(n == hwork_pcs);
	t_assert(in_range(o2.area + BITMAP, tw, NULL) == 0);
	t_assert(all_distinct(o2.area + BITMAP));
	printf("%d handler runs; owners: %lu and %lu entries\n",
	       __atomic_load_n(&handled, __ATOMIC_RELAXED),
	       __atomic_load_n(&o1.area[BITMAP], __ATOMIC_ACQUIRE),
	       __atomic_load_n(&o2.area[BITMAP], __ATOMIC_ACQUIRE));

	t_assert(t_actor_ioctl(&a1, o1.fd, KCOV_DISABLE, 0) == 0);
	t_assert(t_actor_ioctl(&a2, o2.fd, KCOV_DISABLE, 0) == 0);
	t_actor_stop(&a1);
	t_actor_stop(&a2);
	return T_EXIT_PASS;
}
