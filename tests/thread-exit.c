// SPDX-License-Identifier: MIT
/*
 * A thread that exits while bound is unbound as by KCOV_DISABLE (Linux's
 * kcov_task_exit):
 *   - a thread enables, collects and exits without DISABLE: the kcov is
 *     READY again (another thread's ENABLE succeeds, then the main thread's)
 *     and the area still holds what the thread recorded;
 *   - a thread enables, closes the descriptor and keeps collecting, then
 *     exits: the object lives until the exit and is freed by it (the
 *     runtime's "memfd:ukcov" mapping disappears from /proc/self/maps).
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "helpers.h"

#define WORDS 4096
#define MEMFD "memfd:ukcov"

volatile int sink;

__attribute__((noinline)) int fn_exiting(int x);
__attribute__((noinline)) int fn_exiting(int x)
{
	if (x > 5)
		return x * 3;
	return x - 1;
}

__attribute__((noinline)) int fn_closing(int x);
__attribute__((noinline)) int fn_closing(int x)
{
	if (x > 9)
		return x * 5 + 1;
	return x + 7;
}

__attribute__((noinline)) int fn_main(int x);
__attribute__((noinline)) int fn_main(int x)
{
	if (x > 2)
		return x * 11;
	return x ^ 3;
}

static struct t_kcov k1;
static unsigned long snap[WORDS];
static unsigned long snap_n;

/* Enable, collect, record what is there, exit without DISABLE. */
__attribute__((noinline)) void *exiting_thread(void *p);
__attribute__((noinline)) void *exiting_thread(void *p)
{
	(void)p;
	t_expect_ok(ukcov_ioctl(k1.fd, KCOV_ENABLE, KCOV_TRACE_PC));
	__atomic_store_n(&k1.area[0], 0, __ATOMIC_RELAXED);
	sink = fn_exiting(7);
	sink = fn_exiting(1);
	snap_n = t_count(&k1);
	memcpy(snap, k1.area, sizeof(snap));
	return NULL;
}

/* Another thread: the kcov must be READY, so ENABLE and DISABLE work. */
__attribute__((noinline)) void *second_thread(void *p);
__attribute__((noinline)) void *second_thread(void *p)
{
	(void)p;
	t_expect_ok(ukcov_ioctl(k1.fd, KCOV_ENABLE, KCOV_TRACE_CMP));
	t_expect_ok(ukcov_ioctl(k1.fd, KCOV_DISABLE, 0));
	return NULL;
}

static struct t_kcov k2;
static pthread_barrier_t closed, go;
static unsigned long after_close;

/* Enable, close the descriptor while enabled, keep collecting, exit. */
__attribute__((noinline)) void *closing_thread(void *p);
__attribute__((noinline)) void *closing_thread(void *p)
{
	(void)p;
	t_expect_ok(ukcov_ioctl(k2.fd, KCOV_ENABLE, KCOV_TRACE_PC));
	t_expect_ok(close(k2.fd));
	__atomic_store_n(&k2.area[0], 0, __ATOMIC_RELAXED);
	sink = fn_closing(12);
	after_close = t_count(&k2);
	pthread_barrier_wait(&closed);
	/* The main thread looks at the mappings, then unmaps its view. */
	pthread_barrier_wait(&go);
	sink = fn_closing(2);
	return NULL;
}

int main(void)
{
	uintptr_t ex_lo = (uintptr_t)fn_exiting, cl_lo = (uintptr_t)fn_closing;
	uintptr_t m_lo = (uintptr_t)fn_main;
	size_t ex_sz = t_func_size(fn_exiting), cl_sz = t_func_size(fn_closing);
	size_t m_sz = t_func_size(fn_main);
	pthread_t t;
	unsigned long i;
	int base;

	t_assert(ex_sz && cl_sz && m_sz);

	/* 1. Exit without DISABLE. */
	t_kcov_open(&k1, WORDS);
	t_run_thread(exiting_thread, NULL);
	t_assert(snap_n >= 1 && snap_n < WORDS);
	t_assert(t_has_pc_in(&k1, ex_lo, ex_lo + ex_sz));
	/* Kept: the count did not go back, the recorded PCs are intact. */
	t_assert(t_count(&k1) >= snap_n);
	for (i = 1; i <= snap_n; i++)
		if (k1.area[i] != snap[i])
			t_fail("area[%lu] changed after the thread exited", i);
	/* Not bound to the dead thread: nothing is added any more. */
	snap_n = t_count(&k1);
	sink = fn_exiting(8);
	t_assert(t_count(&k1) == snap_n);
	/* READY: another thread, then this one, can enable it. */
	t_run_thread(second_thread, NULL);
	t_expect_ok(ukcov_ioctl(k1.fd, KCOV_ENABLE, KCOV_TRACE_PC));
	__atomic_store_n(&k1.area[0], 0, __ATOMIC_RELAXED);
	sink = fn_main(4);
	t_expect_ok(ukcov_ioctl(k1.fd, KCOV_DISABLE, 0));
	t_assert(t_has_pc_in(&k1, m_lo, m_lo + m_sz));
	t_assert(!t_has_pc_in(&k1, ex_lo, ex_lo + ex_sz));
	t_kcov_close(&k1);

	/* 2. close() while enabled, then exit: the exit frees the object. */
	base = t_maps_count(MEMFD);
	t_assert(base >= 0);
	t_kcov_open(&k2, WORDS);
	/* The runtime's own mapping and the test's. */
	t_assert(t_maps_count(MEMFD) == base + 2);
	t_assert(pthread_barrier_init(&closed, NULL, 2) == 0);
	t_assert(pthread_barrier_init(&go, NULL, 2) == 0);
	t_assert(pthread_create(&t, NULL, closing_thread, NULL) == 0);
	pthread_barrier_wait(&closed);
	/* Closed but bound: collection went on, the object is alive. */
	if (after_close < 1 || !t_has_pc_in(&k2, cl_lo, cl_lo + cl_sz))
		t_fail("no collection after close(): count %lu", after_close);
	t_assert(t_maps_count(MEMFD) == base + 2);
	t_assert(munmap(k2.area, WORDS * sizeof(unsigned long)) == 0);
	if (t_maps_count(MEMFD) != base + 1)
		t_fail("closed but still bound: object freed too early "
		       "(%d memfd:ukcov mappings, want %d)",
		       t_maps_count(MEMFD), base + 1);
	pthread_barrier_wait(&go);
	t_assert(pthread_join(t, NULL) == 0);
	if (t_maps_count(MEMFD) != base)
		t_fail("thread exited after close(): object not freed "
		       "(%d memfd:ukcov mappings, want %d)",
		       t_maps_count(MEMFD), base);
	pthread_barrier_destroy(&closed);
	pthread_barrier_destroy(&go);
	return T_EXIT_PASS;
}
