// SPDX-License-Identifier: MIT
/*
 * ukcov_mmap's checks and sharing (reference §2.2 "mmap", §1.7, §9): EINVAL
 * before INIT_TRACE, for a nonzero offset, and when the length rounded up to
 * pages is not exactly the area's size in bytes (so an area that is not a
 * multiple of 512 words can never be mapped); 512 words map with 4096 bytes
 * or with 4095 (rounded up).  Mapping again, and read-only, work in any
 * state and see the same pages; plain mmap(2) of the descriptor maps the
 * same pages as ukcov_mmap.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "helpers.h"

#define RW (PROT_READ | PROT_WRITE)

static void expect_einval(int fd, size_t len, off_t off)
{
	void *p;

	errno = 0;
	p = ukcov_mmap(NULL, len, RW, MAP_SHARED, fd, off);
	if (p != MAP_FAILED || errno != EINVAL)
		t_fail("ukcov_mmap len %zu off %lld: %p errno %d, want EINVAL",
		       len, (long long)off, p, errno);
}

static unsigned long *map_ok(int fd, size_t len, int prot)
{
	unsigned long *p = ukcov_mmap(NULL, len, prot, MAP_SHARED, fd, 0);

	if (p == MAP_FAILED)
		t_fail("ukcov_mmap len %zu: %s", len, strerror(errno));
	return p;
}

int main(void)
{
	unsigned long *a, *b, *ro, *plain, *big;
	int fd, fd2;

	t_assert(sysconf(_SC_PAGESIZE) == 4096);

	/* Before INIT_TRACE: EINVAL, for any length. */
	fd = ukcov_open();
	t_assert(fd >= 0);
	expect_einval(fd, 4096, 0);
	expect_einval(fd, 1, 0);
	/* A failed INIT_TRACE gives no area either. */
	t_expect_err(ukcov_ioctl(fd, KCOV_INIT_TRACE, 1ul), EINVAL);
	expect_einval(fd, 4096, 0);

	/* 512 words: 4096 bytes, or anything that rounds up to it. */
	t_expect_ok(ukcov_ioctl(fd, KCOV_INIT_TRACE, 512ul));
	expect_einval(fd, 4096, 4096);		/* nonzero offset */
	expect_einval(fd, 4096, 8192);
	expect_einval(fd, 4097, 0);		/* rounds up to 8192 */
	expect_einval(fd, 8192, 0);
	expect_einval(fd, 1 << 20, 0);
	expect_einval(fd, 0, 0);
	a = map_ok(fd, 4096, RW);
	b = map_ok(fd, 4095, RW);
	ro = map_ok(fd, 4096, PROT_READ);
	/* Plain mmap(2) of the descriptor: the same pages again. */
	plain = mmap(NULL, 4096, RW, MAP_SHARED, fd, 0);
	t_assert(plain != MAP_FAILED);
	t_assert(a != b && a != ro && a != plain);

	/* A write through any view is seen through every other one. */
	a[1] = 0x1111;
	t_assert(b[1] == 0x1111 && ro[1] == 0x1111 && plain[1] == 0x1111);
	b[511] = 0x2222;
	t_assert(a[511] == 0x2222 && ro[511] == 0x2222 && plain[511] == 0x2222);
	plain[100] = 0x3333;
	t_assert(a[100] == 0x3333 && b[100] == 0x3333 && ro[100] == 0x3333);

	/* Mapping works while enabled too, and sees what the thread records. */
	a[0] = 0;
	t_expect_ok(ukcov_ioctl(fd, KCOV_ENABLE, KCOV_TRACE_PC));
	big = map_ok(fd, 4096, PROT_READ);
	expect_einval(fd, 8192, 0);
	t_expect_ok(ukcov_ioctl(fd, KCOV_DISABLE, 0));
	t_assert(a[0] > 0);
	t_assert(b[0] == a[0] && ro[0] == a[0] && plain[0] == a[0] &&
		 big[0] == a[0]);
	t_assert(memcmp(a, big, 4096) == 0 && memcmp(a, plain, 4096) == 0);
	munmap(big, 4096);
	munmap(plain, 4096);
	munmap(ro, 4096);
	munmap(b, 4095);
	munmap(a, 4096);
	t_expect_ok(close(fd));

	/* 1024 words: too small a length is refused, 4097 rounds up to it. */
	fd = ukcov_open();
	t_assert(fd >= 0);
	t_expect_ok(ukcov_ioctl(fd, KCOV_INIT_TRACE, 1024ul));
	expect_einval(fd, 4096, 0);
	expect_einval(fd, 1, 0);
	expect_einval(fd, 8193, 0);
	expect_einval(fd, 12288, 0);
	a = map_ok(fd, 8192, RW);
	b = map_ok(fd, 4097, RW);
	a[1023] = 0x4444;
	t_assert(b[1023] == 0x4444);
	munmap(b, 4097);
	munmap(a, 8192);
	t_expect_ok(close(fd));

	/* Sizes that are not a multiple of 512 words never map. */
	fd = ukcov_open();
	fd2 = ukcov_open();
	t_assert(fd >= 0 && fd2 >= 0);
	t_expect_ok(ukcov_ioctl(fd, KCOV_INIT_TRACE, 100ul));
	t_expect_ok(ukcov_ioctl(fd2, KCOV_INIT_TRACE, 2ul));
	expect_einval(fd, 800, 0);
	expect_einval(fd, 799, 0);
	expect_einval(fd, 801, 0);
	expect_einval(fd, 4096, 0);
	expect_einval(fd, 1, 0);
	expect_einval(fd2, 16, 0);
	expect_einval(fd2, 4096, 0);
	/* ... but they can still be enabled (no mmap needed). */
	t_expect_ok(ukcov_ioctl(fd, KCOV_ENABLE, KCOV_TRACE_PC));
	t_expect_ok(ukcov_ioctl(fd, KCOV_DISABLE, 0));
	t_expect_ok(close(fd2));
	t_expect_ok(close(fd));
	return T_EXIT_PASS;
}
