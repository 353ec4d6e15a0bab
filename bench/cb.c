// SPDX-License-Identifier: MIT
/*
 * Callback driver for callgrind: calls one coverage callback N times in one
 * state and nothing else, so that `--toggle-collect=CALLBACK` counts exactly
 * N executions of the callback (its `ret` included, the caller's `call` and
 * the PLT stub excluded).
 *
 *   cb pc-off N    __sanitizer_cov_trace_pc, thread not collecting
 *   cb pc-on N     __sanitizer_cov_trace_pc, thread collecting (KCOV_TRACE_PC)
 *   cb cmp4-on N   __sanitizer_cov_trace_cmp4, collecting (KCOV_TRACE_CMP)
 *   cb cmp4-off N  __sanitizer_cov_trace_cmp4, not collecting
 *
 * Built WITHOUT -fsanitize-coverage: the only callback calls are the loop's.
 * The area is sized so that it never fills (a full area takes another path).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <ukcov.h>

void __sanitizer_cov_trace_pc(void);
void __sanitizer_cov_trace_cmp4(unsigned int a, unsigned int b);

static void die(const char *what)
{
	perror(what);
	exit(2);
}

/* Open a kcov for the calling thread with room for n entries of mode. */
static unsigned long *enable(unsigned long n, int mode)
{
	unsigned long words = 1 + n * (mode == KCOV_TRACE_CMP ? 4 : 1) + 16;
	unsigned long *area;
	int fd = ukcov_open();

	/* kcov maps whole pages: the size in bytes must be a page multiple. */
	words = (words + 4095) & ~4095ul;

	if (fd < 0)
		die("ukcov_open");
	if (ukcov_ioctl(fd, KCOV_INIT_TRACE, words))
		die("KCOV_INIT_TRACE");
	area = ukcov_mmap(NULL, words * sizeof(long), PROT_READ | PROT_WRITE,
			  MAP_SHARED, fd, 0);
	if (area == MAP_FAILED)
		die("ukcov_mmap");
	if (ukcov_ioctl(fd, KCOV_ENABLE, mode))
		die("KCOV_ENABLE");
	__atomic_store_n(&area[0], 0, __ATOMIC_RELAXED);
	return area;
}

__attribute__((noinline)) static void loop_pc(unsigned long n)
{
	for (unsigned long i = 0; i < n; i++)
		__sanitizer_cov_trace_pc();
}

__attribute__((noinline)) static void loop_cmp4(unsigned long n)
{
	for (unsigned long i = 0; i < n; i++) {
		/* Opaque operands: the compiler cannot hoist or fold them. */
		unsigned int a = (unsigned int)i, b = 7;

		__asm__ volatile("" : "+r"(a), "+r"(b));
		__sanitizer_cov_trace_cmp4(a, b);
	}
}

int main(int argc, char **argv)
{
	unsigned long n, *area = NULL, got, want;

	if (argc != 3) {
		fprintf(stderr, "usage: %s pc-off|pc-on|cmp4-off|cmp4-on N\n",
			argv[0]);
		return 2;
	}
	n = strtoul(argv[2], NULL, 0);
	if (!strcmp(argv[1], "pc-off")) {
		loop_pc(n);
	} else if (!strcmp(argv[1], "pc-on")) {
		area = enable(n, KCOV_TRACE_PC);
		loop_pc(n);
	} else if (!strcmp(argv[1], "cmp4-off")) {
		loop_cmp4(n);
	} else if (!strcmp(argv[1], "cmp4-on")) {
		area = enable(n, KCOV_TRACE_CMP);
		loop_cmp4(n);
	} else {
		fprintf(stderr, "unknown mode %s\n", argv[1]);
		return 2;
	}
	/* Check that the calls really recorded (or did not). */
	got = area ? __atomic_load_n(&area[0], __ATOMIC_RELAXED) : 0;
	want = area ? n : 0;
	if (got != want) {
		fprintf(stderr, "cb %s: %lu entries recorded, expected %lu\n",
			argv[1], got, want);
		return 1;
	}
	return 0;
}
