// SPDX-License-Identifier: MIT
/*
 * KCOV_ENABLE's checks, in Linux's order (reference §2.2, §9): the state
 * first (before INIT_TRACE, or already enabled by this or any other thread:
 * EINVAL, not EBUSY), then the calling thread's binding (already bound to
 * another kcov: EBUSY), then the mode (2 and up: EINVAL, leaving the kcov
 * usable).  KCOV_TRACE_CMP works; ENABLE needs no mmap; after DISABLE the
 * kcov can be enabled again in the other mode and from another thread.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "helpers.h"

volatile int sink;
/*
 * Every target also touches this: a function with no side effect of its own
 * is "pure" to the optimizer (the coverage calls are inserted after that
 * analysis), which may then move the test's reset of the count across it.
 */
volatile unsigned long touched;

__attribute__((noinline)) int target(int x);
__attribute__((noinline)) int target(int x)
{
	touched++;
	if (x > 3)
		return x * 2;
	return x + 1;
}

/* A 4-byte comparison with no constant operand. */
__attribute__((noinline)) int cmp_target(uint32_t a, uint32_t b);
__attribute__((noinline)) int cmp_target(uint32_t a, uint32_t b)
{
	touched++;
	return a < b ? 11 : 13;
}

static bool has_cmp4(const unsigned long *area, uint64_t a, uint64_t b)
{
	unsigned long i, n = __atomic_load_n(&area[0], __ATOMIC_ACQUIRE);

	for (i = 0; i < n && 1 + 4 * (i + 1) <= 512; i++) {
		const unsigned long *r = area + 1 + 4 * i;

		if (r[0] == KCOV_CMP_SIZE(2) && r[1] == a && r[2] == b)
			return true;
	}
	return false;
}

struct tk {
	int fd;
	int ret, err;
	const unsigned long *area;
	bool saw_pc;
};

/* On another thread: enable fd in PC mode, run target, check, disable. */
static void *enable_run_disable(void *p)
{
	struct tk *a = p;
	uintptr_t lo = (uintptr_t)target;
	size_t sz = t_func_size(target);
	struct t_kcov k = { .fd = a->fd, .words = 512,
			    .area = (unsigned long *)a->area };

	errno = 0;
	a->ret = ukcov_ioctl(a->fd, KCOV_ENABLE, KCOV_TRACE_PC);
	a->err = errno;
	if (a->ret)
		return NULL;
	__atomic_store_n(&k.area[0], 0, __ATOMIC_RELAXED);
	sink = target(7);
	a->saw_pc = sz && t_has_pc_in(&k, lo, lo + sz);
	if (ukcov_ioctl(a->fd, KCOV_DISABLE, 0))
		a->ret = -2;
	return NULL;
}

int main(void)
{
	static const unsigned long bad_modes[] = {
		2, 3, 4, 5, 0x100, 1ul << 32, (unsigned long)INT_MAX + 1,
		ULONG_MAX,
	};
	uintptr_t lo = (uintptr_t)target;
	size_t sz = t_func_size(target);
	struct t_kcov k;
	struct tk a;
	unsigned long *area;
	unsigned int i;
	int fd, fd2, err;

	t_assert(sz > 0);

	/* Before INIT_TRACE: EINVAL, whatever the mode argument. */
	fd = ukcov_open();
	t_assert(fd >= 0);
	t_expect_err(ukcov_ioctl(fd, KCOV_ENABLE, KCOV_TRACE_PC), EINVAL);
	t_expect_err(ukcov_ioctl(fd, KCOV_ENABLE, KCOV_TRACE_CMP), EINVAL);
	t_expect_err(ukcov_ioctl(fd, KCOV_ENABLE, 7ul), EINVAL);

	/* ENABLE needs INIT_TRACE only, not mmap. */
	t_expect_ok(ukcov_ioctl(fd, KCOV_INIT_TRACE, 512ul));

	/* Bad modes: EINVAL, and the kcov stays usable. */
	for (i = 0; i < sizeof(bad_modes) / sizeof(bad_modes[0]); i++)
		t_expect_err(ukcov_ioctl(fd, KCOV_ENABLE, bad_modes[i]), EINVAL);
	t_expect_ok(ukcov_ioctl(fd, KCOV_ENABLE, KCOV_TRACE_PC));
	sink = target(5);
	/* Enabled: a second ENABLE from this thread is EINVAL, not EBUSY. */
	t_expect_err(ukcov_ioctl(fd, KCOV_ENABLE, KCOV_TRACE_PC), EINVAL);
	t_expect_err(ukcov_ioctl(fd, KCOV_ENABLE, KCOV_TRACE_CMP), EINVAL);
	t_expect_err(ukcov_ioctl(fd, KCOV_ENABLE, 2ul), EINVAL);
	/* ... and from another thread while enabled: EINVAL too. */
	t_assert(t_thread_ioctl(fd, KCOV_ENABLE, KCOV_TRACE_PC, &err) == -1);
	t_assert(err == EINVAL);
	t_assert(t_thread_ioctl(fd, KCOV_ENABLE, KCOV_TRACE_CMP, &err) == -1);
	t_assert(err == EINVAL);
	t_expect_ok(ukcov_ioctl(fd, KCOV_DISABLE, 0));

	/* Mapped only now: the unmapped enable did collect target's PCs. */
	area = ukcov_mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
			  0);
	t_assert(area != MAP_FAILED);
	k = (struct t_kcov){ .fd = fd, .words = 512, .area = area };
	t_assert(t_count(&k) > 0);
	t_assert(t_has_pc_in(&k, lo, lo + sz));

	/* Re-enable after DISABLE, in the other mode: CMP records. */
	t_expect_ok(ukcov_ioctl(fd, KCOV_ENABLE, KCOV_TRACE_CMP));
	__atomic_store_n(&area[0], 0, __ATOMIC_RELAXED);
	sink = cmp_target(0x1234567u, 0x7654321u);
	t_expect_ok(ukcov_ioctl(fd, KCOV_DISABLE, 0));
	t_assert(has_cmp4(area, 0x1234567u, 0x7654321u));

	/* Enabled and then disabled by another thread, in PC mode. */
	a = (struct tk){ .fd = fd, .area = area };
	t_run_thread(enable_run_disable, &a);
	t_assert(a.ret == 0);
	t_assert(a.saw_pc);
	/* Back here, in CMP mode again. */
	t_expect_ok(ukcov_ioctl(fd, KCOV_ENABLE, KCOV_TRACE_CMP));
	__atomic_store_n(&area[0], 0, __ATOMIC_RELAXED);
	sink = cmp_target(0xabcdefu, 0xfedcbau);
	t_expect_ok(ukcov_ioctl(fd, KCOV_DISABLE, 0));
	t_assert(has_cmp4(area, 0xabcdefu, 0xfedcbau));

	/*
	 * A thread bound to fd can't enable fd2: EBUSY once fd2 is READY,
	 * whatever the mode argument (the binding is checked first); EINVAL
	 * while fd2 is not initialised (its state is checked first of all).
	 */
	fd2 = ukcov_open();
	t_assert(fd2 >= 0);
	t_expect_ok(ukcov_ioctl(fd, KCOV_ENABLE, KCOV_TRACE_PC));
	t_expect_err(ukcov_ioctl(fd2, KCOV_ENABLE, KCOV_TRACE_PC), EINVAL);
	t_expect_ok(ukcov_ioctl(fd2, KCOV_INIT_TRACE, 512ul));
	t_expect_err(ukcov_ioctl(fd2, KCOV_ENABLE, KCOV_TRACE_PC), EBUSY);
	t_expect_err(ukcov_ioctl(fd2, KCOV_ENABLE, KCOV_TRACE_CMP), EBUSY);
	t_expect_err(ukcov_ioctl(fd2, KCOV_ENABLE, 2ul), EBUSY);
	/* fd is unaffected by the refusals: still ours, still enabled. */
	t_expect_err(ukcov_ioctl(fd, KCOV_ENABLE, KCOV_TRACE_PC), EINVAL);
	t_expect_ok(ukcov_ioctl(fd, KCOV_DISABLE, 0));
	/* The refused fd2 was left READY: once unbound, this thread enables
	 * it. */
	t_expect_ok(ukcov_ioctl(fd2, KCOV_ENABLE, KCOV_TRACE_CMP));
	/* Now bound to fd2: fd (READY) is EBUSY for this thread. */
	t_expect_err(ukcov_ioctl(fd, KCOV_ENABLE, KCOV_TRACE_PC), EBUSY);
	t_expect_ok(ukcov_ioctl(fd2, KCOV_DISABLE, 0));
	/* Unbound again: fd enables. */
	t_expect_ok(ukcov_ioctl(fd, KCOV_ENABLE, KCOV_TRACE_PC));
	t_expect_ok(ukcov_ioctl(fd, KCOV_DISABLE, 0));

	munmap(area, 4096);
	t_expect_ok(close(fd2));
	t_expect_ok(close(fd));
	return T_EXIT_PASS;
}
