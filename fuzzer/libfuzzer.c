// SPDX-License-Identifier: MIT
/*
 * libukcov-libfuzzer.a's main: libFuzzer (its runtime without its main,
 * with its coverage callbacks made local so ukcov's are the program's)
 * runs the harness's LLVMFuzzerTestOneInput through LLVMFuzzerRunDriver,
 * bracketed by the feed: each input's coverage, from the harness thread
 * and from every section run for it, lands in libFuzzer's extra counters
 * (the __libfuzzer_extra_counters section, which libFuzzer clears before
 * each input and reads after it).  libFuzzer's flags, corpus handling,
 * -fork, -jobs, -merge, crash reproduction and minimisation are its own.
 */
#include <errno.h>
#include <execinfo.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feed.h"
#include "ukcov/fuzzer.h"

/* libFuzzer's entry point (fuzzer_no_main, LLVM 13 and later). */
int LLVMFuzzerRunDriver(int *argc, char ***argv,
			int (*cb)(const uint8_t *data, size_t size));

/*
 * The counters: 64 KiB, as AFL's default map.  With n sites reached, about
 * n * n / 2^17 pairs share a counter (a 10,000-site target: 760, under
 * 8%); libFuzzer scans the section, 8 bytes at a time, after every input.
 */
#ifndef UKCOV_LIBFUZZER_COUNTERS
#define UKCOV_LIBFUZZER_COUNTERS (1u << 16)
#endif
__attribute__((section("__libfuzzer_extra_counters"), used, aligned(64)))
static uint8_t counters[UKCOV_LIBFUZZER_COUNTERS];

static int run_one(const uint8_t *data, size_t size)
{
	int ret;

	if (ukcov_fuzzer_begin()) {
		fprintf(stderr, "ukcov-fuzzer: cannot collect coverage: %s\n",
			strerror(errno));
		exit(1);
	}
	ret = LLVMFuzzerTestOneInput(data, size);
	ukcov_fuzzer_end(counters, sizeof(counters));
	return ret;
}

/*
 * libFuzzer asks for these sanitizer functions and warns at start when
 * they are missing; without the first, several threads that crash at once
 * all write the crash's artifact, and it can end up empty.  Weak: a
 * sanitizer's runtime, when linked, has its own.
 */
__attribute__((weak)) int __sanitizer_acquire_crash_state(void);
__attribute__((weak)) int __sanitizer_acquire_crash_state(void)
{
	static int taken;

	return !__atomic_exchange_n(&taken, 1, __ATOMIC_SEQ_CST);
}

__attribute__((weak)) void __sanitizer_print_stack_trace(void);
__attribute__((weak)) void __sanitizer_print_stack_trace(void)
{
	void *pcs[64];
	int n = backtrace(pcs, 64);

	backtrace_symbols_fd(pcs, n, 2);
}

__attribute__((weak)) void __sanitizer_set_death_callback(void (*cb)(void));
__attribute__((weak)) void __sanitizer_set_death_callback(void (*cb)(void))
{
	(void)cb;
}

/*
 * The target built with libFuzzer's own instrumentation too
 * (-fsanitize=fuzzer-no-link): its inline counters would count every
 * thread into the map again.  libFuzzer's handlers of them are local in
 * this copy: the counters are not read, and the build is said to be
 * wrong, once.
 */
static void mixed(void)
{
	static bool said;

	if (!__atomic_exchange_n(&said, true, __ATOMIC_RELAXED))
		fprintf(stderr, "ukcov-fuzzer: a module is built with "
			"libFuzzer's own instrumentation (-fsanitize=fuzzer or "
			"fuzzer-no-link); its counters are ignored: build it "
			"with -fsanitize-coverage=trace-pc,trace-cmp only, see "
			"ukcov_fuzzer(3)\n");
}

void __sanitizer_cov_8bit_counters_init(uint8_t *start, uint8_t *stop);
void __sanitizer_cov_8bit_counters_init(uint8_t *start, uint8_t *stop)
{
	if (start != stop)
		mixed();
}

void __sanitizer_cov_bool_flag_init(bool *start, bool *stop);
void __sanitizer_cov_bool_flag_init(bool *start, bool *stop)
{
	if (start != stop)
		mixed();
}

void __sanitizer_cov_pcs_init(const uintptr_t *start, const uintptr_t *stop);
void __sanitizer_cov_pcs_init(const uintptr_t *start, const uintptr_t *stop)
{
	(void)start;
	(void)stop;
}

int main(int argc, char **argv)
{
	void *warm[1];

	/* The first backtrace() loads libgcc: not in a crash handler. */
	backtrace(warm, 1);
	/* The feed's objects, before libFuzzer runs anything: a failure here
	 * is ukcov's, not a crash of the target. */
	if (ukcov_fuzzer_begin()) {
		fprintf(stderr, "ukcov-fuzzer: cannot collect coverage: %s\n",
			strerror(errno));
		return 1;
	}
	return LLVMFuzzerRunDriver(&argc, &argv, run_one);
}
