// SPDX-License-Identifier: MIT
/*
 * Unique coverage, in the style of kcov's examples: a fuzzer's loop that
 * reads, per input, only the PCs it has not seen since its last reset.
 * The area is a bitmap (a bit per call site, see ukcov_unique_bits(3))
 * then a trace whose count word is at the bitmap's end; a call site's PC
 * is appended the first time it runs after KCOV_RESET_TRACE.  Build with
 * -fsanitize-coverage=trace-pc (gcc, clang) or clang's trace-pc-guard.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include <ukcov.h>

#define TRACE_WORDS (64 << 10)	/* words of trace after the bitmap */

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

volatile int result;	/* keeps the calls from being optimised away */

/* The PCs new since the reset: the trace's entries, read with acquire. */
static unsigned long show_new(const unsigned long *trace, const char *what)
{
	unsigned long n = __atomic_load_n(&trace[0], __ATOMIC_ACQUIRE), i;

	printf("%s: %lu new PC%s\n", what, n, n == 1 ? "" : "s");
	for (i = 0; i < n; i++)
		printf("  0x%lx\n", trace[i + 1]);
	return n;
}

int main(void)
{
	static const char *const inputs[] = { "12.7", "12.71", "x" };
	unsigned long *cover, *trace, i, first;
	int fd;

	fd = ukcov_open();
	if (fd == -1)
		perror("ukcov_open"), exit(1);
	/* A bitmap for every site of the program, then a page-aligned area: */
	unsigned long bitmap = (ukcov_unique_bits() + 63) / 64;
	unsigned long words = (bitmap + TRACE_WORDS + 511) & ~511ul;

	if (ukcov_ioctl(fd, KCOV_INIT_TRACE, words))
		perror("KCOV_INIT_TRACE"), exit(1);
	cover = ukcov_mmap(NULL, words * sizeof(long), PROT_READ | PROT_WRITE,
			   MAP_SHARED, fd, 0);
	if (cover == MAP_FAILED)
		perror("ukcov_mmap"), exit(1);
	/* Unique mode: the first `bitmap` words are the bitmap. */
	if (ukcov_ioctl(fd, KCOV_UNIQUE_ENABLE, bitmap))
		perror("KCOV_UNIQUE_ENABLE"), exit(1);
	/* The trace starts after the bitmap; its count is its word 0. */
	trace = cover + bitmap;
	for (i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
		/* Forget what was seen: clears the bitmap and the count, in
		 * time proportional to what the last input found. */
		if (ukcov_ioctl(fd, KCOV_RESET_TRACE, 0))
			perror("KCOV_RESET_TRACE"), exit(1);
		result = parse_version(inputs[i]);
		show_new(trace, inputs[i]);
	}
	/* Without a reset, what ran already brings nothing new: the
	 * second round of this loop appends nothing. */
	for (i = 0; i < 2; i++) {
		first = __atomic_load_n(&trace[0], __ATOMIC_ACQUIRE);
		result = parse_version("12.71");
		printf("12.71 again without a reset, round %lu: %lu new\n",
		       i + 1, __atomic_load_n(&trace[0], __ATOMIC_ACQUIRE) - first);
	}
	if (ukcov_ioctl(fd, KCOV_DISABLE, 0))
		perror("KCOV_DISABLE"), exit(1);
	if (munmap(cover, words * sizeof(long)) || close(fd))
		perror("munmap/close"), exit(1);
	return 0;
}
