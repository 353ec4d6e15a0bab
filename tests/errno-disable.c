// SPDX-License-Identifier: MIT
/*
 * KCOV_DISABLE's checks (reference §2.2): arg != 0, a calling thread that is
 * not the kcov's owner, a kcov that is not enabled (never initialised, only
 * initialised, or already disabled) and a thread bound to a different kcov
 * all give EINVAL.  A refused DISABLE leaves collection running for the
 * owner; the owner's DISABLE then works.
 */
#include <errno.h>
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

/* Still collecting on this thread: a fresh run of target lands in k. */
static bool collects(struct t_kcov *k)
{
	uintptr_t lo = (uintptr_t)target;
	size_t sz = t_func_size(target);

	__atomic_store_n(&k->area[0], 0, __ATOMIC_RELAXED);
	sink = target(9);
	return t_has_pc_in(k, lo, lo + sz);
}

struct other {
	int fd_own, fd_foreign;
	int r1, e1, r2, e2;
};

/* Another thread binds itself to fd_own, then disables fd_foreign. */
static void *bound_elsewhere(void *p)
{
	struct other *o = p;

	if (ukcov_ioctl(o->fd_own, KCOV_ENABLE, KCOV_TRACE_PC)) {
		o->r1 = -2;
		return NULL;
	}
	errno = 0;
	o->r1 = ukcov_ioctl(o->fd_foreign, KCOV_DISABLE, 0);
	o->e1 = errno;
	errno = 0;
	o->r2 = ukcov_ioctl(o->fd_own, KCOV_DISABLE, 0);
	o->e2 = errno;
	return NULL;
}

int main(void)
{
	struct t_kcov k, k2;
	struct other o;
	int fd, err;

	t_assert(t_func_size(target) > 0);

	/* Not initialised. */
	fd = ukcov_open();
	t_assert(fd >= 0);
	t_expect_err(ukcov_ioctl(fd, KCOV_DISABLE, 0), EINVAL);
	t_expect_err(ukcov_ioctl(fd, KCOV_DISABLE, 1), EINVAL);
	t_expect_ok(close(fd));

	/* Initialised, never enabled. */
	t_kcov_open(&k, 512);
	t_expect_err(ukcov_ioctl(k.fd, KCOV_DISABLE, 0), EINVAL);
	t_assert(t_thread_ioctl(k.fd, KCOV_DISABLE, 0, &err) == -1);
	t_assert(err == EINVAL);

	/* Enabled: arg != 0 is EINVAL, and collection goes on. */
	t_expect_ok(ukcov_ioctl(k.fd, KCOV_ENABLE, KCOV_TRACE_PC));
	t_expect_err(ukcov_ioctl(k.fd, KCOV_DISABLE, 1), EINVAL);
	t_expect_err(ukcov_ioctl(k.fd, KCOV_DISABLE, KCOV_TRACE_CMP), EINVAL);
	t_expect_err(ukcov_ioctl(k.fd, KCOV_DISABLE, ~0ul), EINVAL);
	t_assert(collects(&k));

	/* From a thread that does not own it: EINVAL (arg 0 or not). */
	t_assert(t_thread_ioctl(k.fd, KCOV_DISABLE, 0, &err) == -1);
	t_assert(err == EINVAL);
	t_assert(t_thread_ioctl(k.fd, KCOV_DISABLE, 1, &err) == -1);
	t_assert(err == EINVAL);
	t_assert(collects(&k));
	/* The kcov is still enabled: ENABLE from here is EINVAL. */
	t_expect_err(ukcov_ioctl(k.fd, KCOV_ENABLE, KCOV_TRACE_PC), EINVAL);

	/*
	 * Bound to a different kcov: this thread owns k; DISABLE of k2 is
	 * EINVAL while k2 is READY and while another thread owns it.
	 */
	t_kcov_open(&k2, 512);
	t_expect_err(ukcov_ioctl(k2.fd, KCOV_DISABLE, 0), EINVAL);
	o = (struct other){ .fd_own = k2.fd, .fd_foreign = k.fd };
	t_run_thread(bound_elsewhere, &o);
	/* That thread, bound to k2, could not disable our k ... */
	t_assert(o.r1 == -1 && o.e1 == EINVAL);
	/* ... but could disable its own. */
	t_assert(o.r2 == 0);
	t_assert(collects(&k));

	/* The owner's DISABLE works, once; then DISABLE is EINVAL again. */
	t_expect_ok(ukcov_ioctl(k.fd, KCOV_DISABLE, 0));
	t_expect_err(ukcov_ioctl(k.fd, KCOV_DISABLE, 0), EINVAL);
	__atomic_store_n(&k.area[0], 0, __ATOMIC_RELAXED);
	sink = target(4);
	t_assert(t_count(&k) == 0);

	/* Now bound to k2: DISABLE of k (READY) is EINVAL, k2 untouched. */
	t_expect_ok(ukcov_ioctl(k2.fd, KCOV_ENABLE, KCOV_TRACE_PC));
	t_expect_err(ukcov_ioctl(k.fd, KCOV_DISABLE, 0), EINVAL);
	t_assert(collects(&k2));
	t_expect_ok(ukcov_ioctl(k2.fd, KCOV_DISABLE, 0));

	t_kcov_close(&k2);
	t_kcov_close(&k);
	return T_EXIT_PASS;
}
