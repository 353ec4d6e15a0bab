// SPDX-License-Identifier: MIT
/*
 * trace-pc: after KCOV_ENABLE the thread's instrumented code lands in the
 * area, PCs inside the functions that ran; after KCOV_DISABLE nothing more.
 */
#include <errno.h>
#include <string.h>

#include "helpers.h"

/* Results go to a volatile sink: the compilers would otherwise drop calls
 * to functions they see as pure (coverage is inserted after that pass). */
volatile int sink;

__attribute__((noinline)) int target(int x);
__attribute__((noinline)) int target(int x)
{
	if (x > 3)
		return x * 2;
	return x + 1;
}

int main(void)
{
	struct t_kcov k;
	uintptr_t lo = (uintptr_t)target;
	size_t sz = t_func_size(target);
	unsigned long n;

	t_assert(sz > 0);
	t_kcov_open(&k, 4096);
	t_expect_ok(ukcov_ioctl(k.fd, KCOV_ENABLE, KCOV_TRACE_PC));
	__atomic_store_n(&k.area[0], 0, __ATOMIC_RELAXED);
	sink = target(5);
	n = t_count(&k);
	t_expect_ok(ukcov_ioctl(k.fd, KCOV_DISABLE, 0));
	t_assert(n >= 1);
	t_assert(t_has_pc_in(&k, lo, lo + sz));

	/* Disabled: nothing more is recorded. */
	__atomic_store_n(&k.area[0], 0, __ATOMIC_RELAXED);
	sink = target(1);
	t_assert(t_count(&k) == 0);
	t_kcov_close(&k);
	return T_EXIT_PASS;
}
