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

int main(int argc, char **argv)
{
	return LLVMFuzzerRunDriver(&argc, &argv, run_one);
}
