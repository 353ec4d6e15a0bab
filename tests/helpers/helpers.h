/* SPDX-License-Identifier: MIT */
/*
 * Test helpers.  This file and helpers.c are built WITHOUT coverage
 * instrumentation, so calling them never adds entries to a trace; each
 * tests/NAME.c is built with -fsanitize-coverage=trace-pc,trace-cmp.
 */
#ifndef UKCOV_TEST_HELPERS_H
#define UKCOV_TEST_HELPERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <ukcov.h>

enum t_result {
	T_EXIT_PASS = 0,
	T_EXIT_FAIL = 1,
	T_EXIT_SKIP = 77,
};

/* Fail the test (exit 1) with file:line and a message. */
#define t_fail(...)                                                            \
	do {                                                                   \
		fprintf(stderr, "%s:%d: ", __FILE__, __LINE__);                \
		fprintf(stderr, __VA_ARGS__);                                  \
		fputc('\n', stderr);                                           \
		exit(T_EXIT_FAIL);                                             \
	} while (0)

#define t_assert(cond)                                                         \
	do {                                                                   \
		if (!(cond))                                                   \
			t_fail("assertion failed: %s", #cond);                 \
	} while (0)

/* An ioctl/call that must fail with -1 and exactly errno e. */
#define t_expect_err(call, e)                                                  \
	do {                                                                   \
		errno = 0;                                                     \
		long r_ = (long)(call);                                        \
		int e_ = errno;                                                \
		if (r_ != -1 || e_ != (e))                                     \
			t_fail("%s: got %ld errno %d (%s), want -1 errno %d "  \
			       "(%s)",                                          \
			       #call, r_, e_, strerror(e_), (e), strerror(e)); \
	} while (0)

/* A call that must return 0. */
#define t_expect_ok(call)                                                      \
	do {                                                                   \
		errno = 0;                                                     \
		long r_ = (long)(call);                                        \
		if (r_ != 0)                                                   \
			t_fail("%s: got %ld errno %d (%s), want 0", #call, r_, \
			       errno, strerror(errno));                        \
	} while (0)

/* A kcov descriptor with an area of `words` words, mapped read-write. */
struct t_kcov {
	int fd;
	unsigned long words;
	unsigned long *area;
};

/* Open, INIT_TRACE and map; fails the test on any error. */
void t_kcov_open(struct t_kcov *k, unsigned long words);
void t_kcov_close(struct t_kcov *k);

/* The count word, loaded with acquire as ukcov(7) asks of readers. */
unsigned long t_count(const struct t_kcov *k);

/* True if pc was recorded (trace-pc mode) within [lo, hi). */
bool t_has_pc_in(const struct t_kcov *k, uintptr_t lo, uintptr_t hi);

/* Address range of a function: [fn, fn + its size).  Uses the symbol size
 * from the test's own ELF symbol table; 0 on failure. */
size_t t_func_size(const void *fn);

/* Number of seconds a stress test runs: UKCOV_STRESS_SECONDS or dflt. */
double t_stress_seconds(double dflt);
double t_now(void);

#endif
