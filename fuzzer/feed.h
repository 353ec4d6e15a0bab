/* SPDX-License-Identifier: MIT */
/* What the engines' drivers (libfuzzer.c, afl.c) share with feed.c. */
#ifndef UKCOV_FUZZER_FEED_H
#define UKCOV_FUZZER_FEED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Add the n PCs at pcs to map's counters (feed.c).  Async-signal-safe
 * when may_refresh is false. */
void __ukcov_fuzzer_fold(const unsigned long *pcs, unsigned long n,
			 uint8_t *map, size_t size, bool may_refresh);
/* The calling thread's input so far, without waiting: for a crash
 * handler.  Async-signal-safe. */
void __ukcov_fuzzer_fold_now(uint8_t *map, size_t size);

/* A number from the environment: def when unset or empty; def and *bad
 * when not decimal digits within [min, max] (feed.c). */
unsigned long __ukcov_fuzzer_env(const char *name, unsigned long def,
				 unsigned long min, unsigned long max,
				 bool *bad);

/* The harness's functions (libFuzzer's interface). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

#endif
