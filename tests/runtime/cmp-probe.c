// SPDX-License-Identifier: MIT
/* tests/lint/runtime-copies.sh: prints how many comparison records one
 * comparison left in a KCOV_TRACE_CMP area. */
#include <stdio.h>
#include <sys/mman.h>

#include <ukcov.h>

__attribute__((noinline)) int pick(int a, int b)
{
	return a < b ? a * 3 : b + 7;
}

int main(int argc, char **argv)
{
	unsigned long *cover;
	volatile int r;
	int fd = ukcov_open();

	(void)argv;
	if (fd < 0 || ukcov_ioctl(fd, KCOV_INIT_TRACE, 4096))
		return 2;
	cover = ukcov_mmap(NULL, 4096 * sizeof(long), PROT_READ | PROT_WRITE,
			   MAP_SHARED, fd, 0);
	if (cover == MAP_FAILED || ukcov_ioctl(fd, KCOV_ENABLE, KCOV_TRACE_CMP))
		return 2;
	__atomic_store_n(&cover[0], 0, __ATOMIC_RELAXED);
	r = pick(argc, 5);
	printf("%lu\n", __atomic_load_n(&cover[0], __ATOMIC_ACQUIRE));
	return r == 3 ? 0 : 2;
}
