// SPDX-License-Identifier: MIT
/*
 * KCOV_INIT_TRACE's checks, in Linux's order (reference §2.2, §1.7):
 * a size below 2 or above INT_MAX/8 words is EINVAL, and it is checked
 * before the state, so an initialised kcov also answers EINVAL to a bad
 * size; a second INIT_TRACE with a good size is EBUSY.  A failed call leaves
 * the object uninitialised; 2 and INT_MAX/8 words are accepted (the area is
 * reserved lazily, so the 2 GiB one costs nothing); the area starts zeroed.
 */
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "helpers.h"

#define MAX_WORDS ((unsigned long)INT_MAX / sizeof(unsigned long))

int main(void)
{
	static const unsigned long bad[] = {
		0, 1, MAX_WORDS + 1, MAX_WORDS + 2, (unsigned long)INT_MAX,
		(unsigned long)UINT_MAX, 1ul << 63, ULONG_MAX,
	};
	unsigned long *area;
	unsigned int i;
	int fd;

	t_assert(MAX_WORDS == 268435455ul);
	fd = ukcov_open();
	t_assert(fd >= 0);

	/* Bad sizes on a fresh kcov: EINVAL, and nothing changes. */
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		t_expect_err(ukcov_ioctl(fd, KCOV_INIT_TRACE, bad[i]), EINVAL);
	/* Still uninitialised: ENABLE and mmap refuse it. */
	t_expect_err(ukcov_ioctl(fd, KCOV_ENABLE, KCOV_TRACE_PC), EINVAL);
	t_expect_err(ukcov_mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0),
		     EINVAL);

	/* The smallest valid size, then a second INIT_TRACE: EBUSY. */
	t_expect_ok(ukcov_ioctl(fd, KCOV_INIT_TRACE, 2ul));
	t_expect_err(ukcov_ioctl(fd, KCOV_INIT_TRACE, 2ul), EBUSY);
	t_expect_err(ukcov_ioctl(fd, KCOV_INIT_TRACE, 512ul), EBUSY);
	t_expect_err(ukcov_ioctl(fd, KCOV_INIT_TRACE, MAX_WORDS), EBUSY);
	/* The size is checked before the state: EINVAL, not EBUSY. */
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		t_expect_err(ukcov_ioctl(fd, KCOV_INIT_TRACE, bad[i]), EINVAL);
	/* Still initialised with its 2 words: usable, and still EBUSY. */
	t_expect_ok(ukcov_ioctl(fd, KCOV_ENABLE, KCOV_TRACE_PC));
	t_expect_ok(ukcov_ioctl(fd, KCOV_DISABLE, 0));
	t_expect_err(ukcov_ioctl(fd, KCOV_INIT_TRACE, 2ul), EBUSY);
	t_expect_ok(close(fd));

	/* EBUSY while enabled, too (any state but the initial one). */
	fd = ukcov_open();
	t_assert(fd >= 0);
	t_expect_ok(ukcov_ioctl(fd, KCOV_INIT_TRACE, 512ul));
	/* The area is zero-filled at INIT_TRACE. */
	area = ukcov_mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
	t_assert(area != MAP_FAILED);
	for (i = 0; i < 512; i++)
		t_assert(area[i] == 0);
	t_expect_ok(ukcov_ioctl(fd, KCOV_ENABLE, KCOV_TRACE_CMP));
	t_expect_err(ukcov_ioctl(fd, KCOV_INIT_TRACE, 512ul), EBUSY);
	t_expect_err(ukcov_ioctl(fd, KCOV_INIT_TRACE, 0ul), EINVAL);
	t_expect_ok(ukcov_ioctl(fd, KCOV_DISABLE, 0));
	/* This test's own comparisons were recorded meanwhile. */
	t_assert(area[0] > 0);
	munmap(area, 4096);
	t_expect_ok(close(fd));

	/* Exactly INT_MAX/8 words is accepted, and is then EBUSY. */
	fd = ukcov_open();
	t_assert(fd >= 0);
	t_expect_ok(ukcov_ioctl(fd, KCOV_INIT_TRACE, MAX_WORDS));
	t_expect_err(ukcov_ioctl(fd, KCOV_INIT_TRACE, MAX_WORDS), EBUSY);
	t_expect_err(ukcov_ioctl(fd, KCOV_INIT_TRACE, MAX_WORDS + 1), EINVAL);
	t_expect_ok(close(fd));
	return T_EXIT_PASS;
}
