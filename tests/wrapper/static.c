// SPDX-License-Identifier: MIT
/*
 * The fixture's fully static program (-static): it collects its own
 * coverage through ukcov's API.  A static program has no dynamic linker,
 * so ukcov cannot interpose libc's functions there (docs/design.md):
 * this program uses no threads, signal handlers or longjmp.  Exit 0 =
 * pass.
 */
#include <stdio.h>
#include <sys/mman.h>

#include <ukcov.h>

#define WORDS 4096

static volatile int input = 9;

static int __attribute__((noinline)) triple_if_odd(int x)
{
	return x % 2 ? x * 3 : x;
}

int main(void)
{
	unsigned long *cover, n;
	int fd = ukcov_open(), r;

	if (fd < 0 || ukcov_ioctl(fd, KCOV_INIT_TRACE, (unsigned long)WORDS))
		return 1;
	cover = ukcov_mmap(NULL, WORDS * sizeof(long), PROT_READ | PROT_WRITE,
			   MAP_SHARED, fd, 0);
	if (cover == MAP_FAILED || ukcov_ioctl(fd, KCOV_ENABLE, KCOV_TRACE_PC))
		return 1;
	__atomic_store_n(&cover[0], 0, __ATOMIC_RELAXED);
	r = triple_if_odd(input);
	n = __atomic_load_n(&cover[0], __ATOMIC_ACQUIRE);
	ukcov_ioctl(fd, KCOV_DISABLE, 0UL);
	printf("static: %lu PCs, result %d\n", n, r);
	return n > 0 && r == 27 ? 0 : 1;
}
