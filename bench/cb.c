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
 *   cb guard-seen N  __sanitizer_cov_trace_pc_guard in unique mode
 *                  (KCOV_UNIQUE_ENABLE), one site whose bit is set: the
 *                  first of the N calls sets it, the others find it set
 *   cb guard-first N the same, each call a first hit: a KCOV_RESET_TRACE
 *                  after every call (outside the callback: not counted)
 *   cb pc-uniq-seen N, cb pc-uniq-first N
 *                  __sanitizer_cov_trace_pc in unique mode, the same two
 *                  paths (the site's index comes from its PC)
 *
 * Built WITHOUT -fsanitize-coverage: the only callback calls are the loop's.
 * The area is sized so that it never fills (a full area takes another path);
 * in unique mode the bitmap holds every index of the modules loaded (the
 * first hit then takes its longest path: the bit is mirrored).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <ukcov.h>

void __sanitizer_cov_trace_pc(void);
void __sanitizer_cov_trace_cmp4(unsigned int a, unsigned int b);
void __sanitizer_cov_trace_pc_guard(uint32_t *guard);
void __sanitizer_cov_trace_pc_guard_init(uint32_t *start, uint32_t *stop);

/* The one guard of the guard loops, numbered as a module's would be. */
static uint32_t guard[1];
static int uniq_fd;

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

/*
 * Unique mode: a bitmap of every index handed out (whole pages of area),
 * then a trace of 16 entries, more than any loop below appends.
 */
static unsigned long *enable_unique(unsigned long *bitmap_words)
{
	unsigned long bw = (ukcov_unique_bits() + 63) / 64, words, *area;
	int fd = ukcov_open();

	words = (bw + 1 + 16 + 4095) & ~4095ul;
	if (fd < 0)
		die("ukcov_open");
	if (ukcov_ioctl(fd, KCOV_INIT_TRACE, words))
		die("KCOV_INIT_TRACE");
	area = ukcov_mmap(NULL, words * sizeof(long), PROT_READ | PROT_WRITE,
			  MAP_SHARED, fd, 0);
	if (area == MAP_FAILED)
		die("ukcov_mmap");
	if (ukcov_ioctl(fd, KCOV_UNIQUE_ENABLE, bw))
		die("KCOV_UNIQUE_ENABLE");
	if (ukcov_ioctl(fd, KCOV_RESET_TRACE, 0))
		die("KCOV_RESET_TRACE");
	uniq_fd = fd;
	*bitmap_words = bw;
	return area;
}

/* Each call a first hit: the reset after it clears the site's bit. */
__attribute__((noinline)) static unsigned long
loop_first(unsigned long n, const unsigned long *trace, int guarded)
{
	unsigned long bad = 0;

	for (unsigned long i = 0; i < n; i++) {
		/* Empty before the call, one entry after it. */
		bad += __atomic_load_n(&trace[0], __ATOMIC_RELAXED) != 0;
		if (guarded)
			__sanitizer_cov_trace_pc_guard(guard);
		else
			__sanitizer_cov_trace_pc();
		bad += __atomic_load_n(&trace[0], __ATOMIC_RELAXED) != 1;
		if (ukcov_ioctl(uniq_fd, KCOV_RESET_TRACE, 0))
			die("KCOV_RESET_TRACE");
	}
	return bad;
}

__attribute__((noinline)) static void loop_guard(unsigned long n)
{
	for (unsigned long i = 0; i < n; i++)
		__sanitizer_cov_trace_pc_guard(guard);
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
	unsigned long n, *area = NULL, got, want, bw;

	if (argc != 3) {
		fprintf(stderr, "usage: %s pc-off|pc-on|cmp4-off|cmp4-on|"
			"guard-seen|guard-first|pc-uniq-seen|pc-uniq-first N\n",
			argv[0]);
		return 2;
	}
	n = strtoul(argv[2], NULL, 0);
	__sanitizer_cov_trace_pc_guard_init(guard, guard + 1);
	if (!strncmp(argv[1], "guard-", 6) || !strncmp(argv[1], "pc-uniq-", 8)) {
		int guarded = argv[1][0] == 'g';
		const char *path = strrchr(argv[1], '-') + 1;

		area = enable_unique(&bw);
		if (!strcmp(path, "first")) {
			got = loop_first(n, area + bw, guarded);
			if (got) {
				fprintf(stderr, "cb %s: %lu calls were not a first "
					"hit appended once\n", argv[1], got);
				return 1;
			}
		} else if (!strcmp(path, "seen")) {
			if (guarded)
				loop_guard(n);
			else
				loop_pc(n);
			/* One site: appended once, at its first call. */
			got = __atomic_load_n(&area[bw], __ATOMIC_RELAXED);
			if (got != 1) {
				fprintf(stderr, "cb %s: %lu entries, expected 1\n",
					argv[1], got);
				return 1;
			}
		} else {
			fprintf(stderr, "unknown mode %s\n", argv[1]);
			return 2;
		}
		return 0;
	}
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
