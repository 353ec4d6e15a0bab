// SPDX-License-Identifier: MIT
/*
 * Requests ukcov must refuse, and KCOV_RESET_TRACE (reference §2.2, §6.2,
 * §9).  Unknown requests, including wrongly sized encodings of real ones,
 * are ENOTTY in every state; a closed descriptor is EBADF and a descriptor
 * that is not ukcov's is ENOTTY.  KCOV_RESET_TRACE: arg != 0, a non-owner
 * thread, or a kcov not enabled is EINVAL; for the owner it zeroes the count
 * (exactly 0: ukcov_ioctl is not instrumented), in both modes, and works
 * with the area mapped PROT_READ only (syzkaller's read-only reader).
 */
#include <errno.h>
#include <fcntl.h>
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

static const unsigned long unknown[] = {
	_IOR('c', 1, unsigned int),	/* 32-bit KCOV_INIT_TRACE */
	_IO('c', 103),
	_IO('x', 1),
	_IOW('c', 100, int),		/* KCOV_ENABLE with a size */
	_IOR('c', 100, unsigned long),
	_IO('c', 1),			/* KCOV_INIT_TRACE without a size */
	_IOW('c', 101, unsigned long),	/* KCOV_DISABLE with a size */
	_IO('c', 105),
	_IOW('d', 102, struct kcov_remote_arg),
	0,
	~0ul,
};

static void expect_unknown(int fd)
{
	unsigned int i;

	for (i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
		errno = 0;
		if (ukcov_ioctl(fd, unknown[i], 0ul) != -1 || errno != ENOTTY)
			t_fail("request %#lx: errno %d, want ENOTTY",
			       unknown[i], errno);
	}
}

int main(void)
{
	struct t_kcov k;
	unsigned long *ro, n;
	uintptr_t lo = (uintptr_t)target;
	size_t sz = t_func_size(target);
	int fd, p[2], mfd, r, e, err;

	t_assert(sz > 0);
	t_assert(_IOR('c', 1, unsigned int) == 0x80046301ul);
	t_assert(KCOV_RESET_TRACE == 0x6368ul);

	/* Unknown requests: ENOTTY before INIT_TRACE, when READY, enabled. */
	fd = ukcov_open();
	t_assert(fd >= 0);
	expect_unknown(fd);
	t_expect_ok(close(fd));
	t_kcov_open(&k, 512);
	expect_unknown(k.fd);
	t_expect_ok(ukcov_ioctl(k.fd, KCOV_ENABLE, KCOV_TRACE_PC));
	expect_unknown(k.fd);
	t_expect_ok(ukcov_ioctl(k.fd, KCOV_DISABLE, 0));

	/* A closed descriptor: EBADF. */
	fd = ukcov_open();
	t_assert(fd >= 0);
	t_expect_ok(close(fd));
	t_expect_err(ukcov_ioctl(fd, KCOV_INIT_TRACE, 512ul), EBADF);
	t_expect_err(ukcov_ioctl(fd, KCOV_ENABLE, KCOV_TRACE_PC), EBADF);
	t_expect_err(ukcov_ioctl(-1, KCOV_ENABLE, KCOV_TRACE_PC), EBADF);
	t_expect_err(ukcov_ioctl(1 << 20, KCOV_DISABLE, 0), EBADF);

	/* Not a ukcov descriptor: ENOTTY, for known and unknown requests. */
	t_assert(pipe(p) == 0);
	t_expect_err(ukcov_ioctl(p[0], KCOV_INIT_TRACE, 512ul), ENOTTY);
	t_expect_err(ukcov_ioctl(p[1], KCOV_ENABLE, KCOV_TRACE_PC), ENOTTY);
	t_expect_err(ukcov_ioctl(p[0], KCOV_DISABLE, 0), ENOTTY);
	t_expect_err(ukcov_ioctl(p[0], KCOV_RESET_TRACE, 0), ENOTTY);
	t_expect_err(ukcov_ioctl(p[0], _IO('x', 1), 0), ENOTTY);
	close(p[0]);
	close(p[1]);
	mfd = memfd_create("not-ukcov", MFD_CLOEXEC);
	t_assert(mfd >= 0);
	t_expect_err(ukcov_ioctl(mfd, KCOV_INIT_TRACE, 512ul), ENOTTY);
	close(mfd);

	/* KCOV_RESET_TRACE: EINVAL before INIT_TRACE and before ENABLE. */
	fd = ukcov_open();
	t_assert(fd >= 0);
	t_expect_err(ukcov_ioctl(fd, KCOV_RESET_TRACE, 0), EINVAL);
	t_expect_ok(close(fd));
	t_expect_err(ukcov_ioctl(k.fd, KCOV_RESET_TRACE, 0), EINVAL);

	/* Enabled by this thread: arg != 0 is EINVAL, count untouched. */
	t_expect_ok(ukcov_ioctl(k.fd, KCOV_ENABLE, KCOV_TRACE_PC));
	__atomic_store_n(&k.area[0], 100, __ATOMIC_RELAXED);
	t_expect_err(ukcov_ioctl(k.fd, KCOV_RESET_TRACE, 1), EINVAL);
	t_assert(t_count(&k) >= 100);
	/* From a thread that does not own it: EINVAL, count untouched. */
	__atomic_store_n(&k.area[0], 100, __ATOMIC_RELAXED);
	t_assert(t_thread_ioctl(k.fd, KCOV_RESET_TRACE, 0, &err) == -1);
	t_assert(err == EINVAL);
	t_assert(t_count(&k) >= 100);

	/* The owner: the count is exactly 0 when the call returns. */
	__atomic_store_n(&k.area[0], 300, __ATOMIC_RELAXED);
	errno = 0;
	r = ukcov_ioctl(k.fd, KCOV_RESET_TRACE, 0);
	n = __atomic_load_n(&k.area[0], __ATOMIC_RELAXED);
	e = errno;
	if (r != 0 || n != 0)
		t_fail("KCOV_RESET_TRACE: ret %d errno %d count %lu", r, e, n);
	/* Collection goes on after the reset. */
	sink = target(6);
	t_assert(t_has_pc_in(&k, lo, lo + sz));
	t_expect_ok(ukcov_ioctl(k.fd, KCOV_DISABLE, 0));
	/* Disabled again: EINVAL, and the count stays. */
	n = t_count(&k);
	t_assert(n > 0);
	t_expect_err(ukcov_ioctl(k.fd, KCOV_RESET_TRACE, 0), EINVAL);
	t_assert(t_count(&k) == n);

	/* CMP mode: the record count is reset the same way. */
	t_expect_ok(ukcov_ioctl(k.fd, KCOV_ENABLE, KCOV_TRACE_CMP));
	__atomic_store_n(&k.area[0], 50, __ATOMIC_RELAXED);
	r = ukcov_ioctl(k.fd, KCOV_RESET_TRACE, 0);
	n = __atomic_load_n(&k.area[0], __ATOMIC_RELAXED);
	if (r != 0 || n != 0)
		t_fail("KCOV_RESET_TRACE (CMP): ret %d count %lu", r, n);
	t_expect_ok(ukcov_ioctl(k.fd, KCOV_DISABLE, 0));

	/*
	 * syzkaller's read-only reader: the area mapped PROT_READ only, the
	 * count reset by the ioctl, the trace read through that mapping.
	 */
	fd = ukcov_open();
	t_assert(fd >= 0);
	t_expect_ok(ukcov_ioctl(fd, KCOV_INIT_TRACE, 512ul));
	ro = ukcov_mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
	t_assert(ro != MAP_FAILED);
	t_expect_ok(ukcov_ioctl(fd, KCOV_ENABLE, KCOV_TRACE_PC));
	sink = target(1);
	t_assert(__atomic_load_n(&ro[0], __ATOMIC_ACQUIRE) > 0);
	r = ukcov_ioctl(fd, KCOV_RESET_TRACE, 0);
	n = __atomic_load_n(&ro[0], __ATOMIC_RELAXED);
	if (r != 0 || n != 0)
		t_fail("KCOV_RESET_TRACE (read-only): ret %d count %lu", r, n);
	sink = target(8);
	{
		struct t_kcov v = { .fd = fd, .words = 512, .area = ro };

		t_assert(t_has_pc_in(&v, lo, lo + sz));
	}
	t_expect_ok(ukcov_ioctl(fd, KCOV_DISABLE, 0));
	munmap(ro, 4096);
	t_expect_ok(close(fd));

	t_kcov_close(&k);
	return T_EXIT_PASS;
}
