// SPDX-License-Identifier: MIT
/*
 * kcov's trace-pc example, ported to ukcov: collect the PCs of one call
 * into instrumented code and print them.  Under Linux the traced work is a
 * system call; here it is parse_version(), built with
 * -fsanitize-coverage=trace-pc like the rest of this file.  The PCs are
 * run-time addresses: subtract the executable's load address (see
 * /proc/self/maps) before handing them to addr2line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include <ukcov.h>

#define COVER_SIZE (64 << 10)	/* words: a multiple of a page's worth */

/* The code under test: "MAJOR.MINOR" to MAJOR * 100 + MINOR, or -1. */
static __attribute__((noinline)) int parse_version(const char *s)
{
	int major = 0, minor = 0;

	for (; *s >= '0' && *s <= '9'; s++)
		major = major * 10 + (*s - '0');
	if (*s++ != '.')
		return -1;
	for (; *s >= '0' && *s <= '9'; s++)
		minor = minor * 10 + (*s - '0');
	return *s ? -1 : major * 100 + minor;
}

volatile int result;	/* keeps the call from being optimised away */

int main(void)
{
	unsigned long *cover, n, i;
	int fd;

	/* One kcov object per thread that collects. */
	fd = ukcov_open();
	if (fd == -1)
		perror("ukcov_open"), exit(1);
	/* Set the area size, in words. */
	if (ukcov_ioctl(fd, KCOV_INIT_TRACE, COVER_SIZE))
		perror("KCOV_INIT_TRACE"), exit(1);
	/* Map the area shared between the runtime and this program. */
	cover = ukcov_mmap(NULL, COVER_SIZE * sizeof(unsigned long),
			   PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (cover == MAP_FAILED)
		perror("ukcov_mmap"), exit(1);
	/* Collect PCs of this thread from now on. */
	if (ukcov_ioctl(fd, KCOV_ENABLE, KCOV_TRACE_PC))
		perror("KCOV_ENABLE"), exit(1);
	/* Reset the count: collection stays enabled. */
	__atomic_store_n(&cover[0], 0, __ATOMIC_RELAXED);
	/* The traced work. */
	result = parse_version("12.7");
	/* The count, with acquire: the entries it counts are visible. */
	n = __atomic_load_n(&cover[0], __ATOMIC_ACQUIRE);
	for (i = 0; i < n; i++)
		printf("0x%lx\n", cover[i + 1]);
	/* Stop collecting for this thread. */
	if (ukcov_ioctl(fd, KCOV_DISABLE, 0))
		perror("KCOV_DISABLE"), exit(1);
	/* Release the area and the object. */
	if (munmap(cover, COVER_SIZE * sizeof(unsigned long)))
		perror("munmap"), exit(1);
	if (close(fd))
		perror("close"), exit(1);
	return n > 0 ? 0 : 1;
}
