// SPDX-License-Identifier: MIT
/*
 * close() of a kcov descriptor drops only the descriptor's reference
 * (Linux's kcov_close; reference §4.9 and §9):
 *   - closing an ENABLED descriptor does not stop collection: the thread
 *     keeps writing into the area the user still has mapped, and a new
 *     kcov's KCOV_ENABLE on that thread is EBUSY (even after the old area is
 *     unmapped) until the thread exits; the exit then frees the old object;
 *   - closing a READY descriptor frees the object at once (one fewer
 *     "memfd:ukcov" mapping in /proc/self/maps);
 *   - both ukcov_close() and plain close() do this;
 *   - after close, ukcov_ioctl on the number fails with EBADF.
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

__attribute__((noinline)) int fn_after_close(int x);
__attribute__((noinline)) int fn_after_close(int x)
{
	if (x > 4)
		return x * 13;
	return x + 21;
}

__attribute__((noinline)) int fn_second(int x);
__attribute__((noinline)) int fn_second(int x)
{
	if (x > 6)
		return x * 17 + 2;
	return x ^ 9;
}

static int do_close(int fd, bool plain)
{
	return plain ? close(fd) : ukcov_close(fd);
}

struct closer {
	bool plain;		/* close() rather than ukcov_close() */
	int base;		/* memfd:ukcov mappings before the thread */
	int fd2;		/* the second kcov, left READY for main */
};

/* Runs on its own thread: enable, close while enabled, go on. */
__attribute__((noinline)) void *closer_thread(void *p);
__attribute__((noinline)) void *closer_thread(void *p)
{
	struct closer *c = p;
	uintptr_t lo = (uintptr_t)fn_after_close;
	size_t sz = t_func_size(fn_after_close);
	struct t_kcov k, k2;
	int fd;

	t_kcov_open(&k, WORDS);
	fd = k.fd;
	t_expect_ok(ukcov_ioctl(fd, KCOV_ENABLE, KCOV_TRACE_PC));
	t_expect_ok(do_close(fd, c->plain));

	/* The number is closed now. */
	t_expect_err(ukcov_ioctl(fd, KCOV_DISABLE, 0), EBADF);
	t_expect_err(ukcov_ioctl(fd, KCOV_ENABLE, KCOV_TRACE_PC), EBADF);

	/* Collection goes on into the area the test still maps. */
	__atomic_store_n(&k.area[0], 0, __ATOMIC_RELAXED);
	sink = fn_after_close(8);
	sink = fn_after_close(1);
	if (t_count(&k) < 1 || !t_has_pc_in(&k, lo, lo + sz))
		t_fail("%s of an enabled fd stopped collection (count %lu)",
		       c->plain ? "close" : "ukcov_close", t_count(&k));
	/* The object is alive: its runtime mapping and ours. */
	t_assert(t_maps_count(MEMFD) == c->base + 2);

	/* This thread is still bound: a new kcov's ENABLE is EBUSY. */
	t_kcov_open(&k2, WORDS);
	t_expect_err(ukcov_ioctl(k2.fd, KCOV_ENABLE, KCOV_TRACE_PC), EBUSY);
	t_expect_err(ukcov_ioctl(k2.fd, KCOV_ENABLE, KCOV_TRACE_CMP), EBUSY);
	/* Even with the old area unmapped (Linux, §9 of the reference). */
	t_assert(munmap(k.area, WORDS * sizeof(unsigned long)) == 0);
	t_expect_err(ukcov_ioctl(k2.fd, KCOV_ENABLE, KCOV_TRACE_PC), EBUSY);
	/* Its area got nothing from this thread's code. */
	t_assert(t_count(&k2) == 0);
	/* Old runtime mapping + k2's runtime mapping + k2's test mapping. */
	t_assert(t_maps_count(MEMFD) == c->base + 3);
	t_assert(munmap(k2.area, WORDS * sizeof(unsigned long)) == 0);
	c->fd2 = k2.fd;
	return NULL;
}

static void enabled_close(bool plain)
{
	struct closer c = { .plain = plain, .base = t_maps_count(MEMFD) };
	uintptr_t lo = (uintptr_t)fn_second;
	size_t sz = t_func_size(fn_second);
	struct t_kcov k2;

	t_assert(c.base >= 0 && sz);
	t_run_thread(closer_thread, &c);
	/* The thread exited: the closed object is freed, k2 is left. */
	if (t_maps_count(MEMFD) != c.base + 1)
		t_fail("%s while enabled, then exit: %d memfd:ukcov mappings, "
		       "want %d", plain ? "close" : "ukcov_close",
		       t_maps_count(MEMFD), c.base + 1);
	/* k2 was never enabled by the thread: this thread can enable it. */
	k2.fd = c.fd2;
	k2.words = WORDS;
	k2.area = ukcov_mmap(NULL, WORDS * sizeof(unsigned long),
			     PROT_READ | PROT_WRITE, MAP_SHARED, k2.fd, 0);
	t_assert(k2.area != MAP_FAILED);
	t_expect_ok(ukcov_ioctl(k2.fd, KCOV_ENABLE, KCOV_TRACE_PC));
	__atomic_store_n(&k2.area[0], 0, __ATOMIC_RELAXED);
	sink = fn_second(9);
	t_expect_ok(ukcov_ioctl(k2.fd, KCOV_DISABLE, 0));
	t_assert(t_has_pc_in(&k2, lo, lo + sz));
	t_kcov_close(&k2);
	t_assert(t_maps_count(MEMFD) == c.base);
}

static void ready_close(bool plain)
{
	int base = t_maps_count(MEMFD), fd;
	struct t_kcov k;

	t_assert(base >= 0);
	/* READY, never mapped by the test: one mapping, the runtime's. */
	fd = ukcov_open();
	t_assert(fd >= 0);
	t_expect_ok(ukcov_ioctl(fd, KCOV_INIT_TRACE, WORDS));
	t_assert(t_maps_count(MEMFD) == base + 1);
	t_expect_ok(do_close(fd, plain));
	if (t_maps_count(MEMFD) != base)
		t_fail("%s of a READY fd did not free it (%d mappings, want "
		       "%d)", plain ? "close" : "ukcov_close",
		       t_maps_count(MEMFD), base);
	t_expect_err(ukcov_ioctl(fd, KCOV_ENABLE, KCOV_TRACE_PC), EBADF);
	t_expect_err(ukcov_ioctl(fd, KCOV_INIT_TRACE, WORDS), EBADF);

	/* READY and mapped: the object goes, the test's view stays. */
	t_kcov_open(&k, WORDS);
	t_assert(t_maps_count(MEMFD) == base + 2);
	k.area[1] = 0x1234;
	t_expect_ok(do_close(k.fd, plain));
	t_assert(t_maps_count(MEMFD) == base + 1);
	t_assert(k.area[1] == 0x1234);
	t_expect_err(ukcov_ioctl(k.fd, KCOV_DISABLE, 0), EBADF);
	t_assert(munmap(k.area, WORDS * sizeof(unsigned long)) == 0);
	t_assert(t_maps_count(MEMFD) == base);

	/* OPEN (never initialised): close works, the number is gone. */
	fd = ukcov_open();
	t_assert(fd >= 0);
	t_expect_ok(do_close(fd, plain));
	t_expect_err(ukcov_ioctl(fd, KCOV_INIT_TRACE, WORDS), EBADF);
}

int main(void)
{
	ready_close(false);
	ready_close(true);
	enabled_close(false);
	enabled_close(true);
	return T_EXIT_PASS;
}
