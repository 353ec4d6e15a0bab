/* SPDX-License-Identifier: MIT */
/*
 * ukcov's feeds for fuzzing engines: the coverage of one input, taken from
 * the harness thread and from every remote section run for it (pool jobs,
 * threads that start sections for the common handle), folded into the
 * byte map an engine reads: libFuzzer's extra counters, AFL++'s shared
 * map.  See ukcov_fuzzer(3).
 *
 * A harness needs none of this: linking libukcov-libfuzzer.a or
 * libukcov-afl.a brings a main() that brackets LLVMFuzzerTestOneInput
 * with ukcov_fuzzer_begin() and ukcov_fuzzer_end().  These calls are for
 * other engines and for tests.
 */
#ifndef UKCOV_FUZZER_H
#define UKCOV_FUZZER_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Start an input on the calling thread: on the first call, open its two
 * kcovs (the thread's own trace, KCOV_ENABLE; a remote kcov whose common
 * handle the threads it creates inherit, KCOV_REMOTE_ENABLE); then empty
 * both areas.  0, or -1 with errno (the first call's ukcov error).
 */
int ukcov_fuzzer_begin(void);

/*
 * End the input: wait until every section open for the calling thread's
 * common handle has landed (at most UKCOV_FUZZER_WAIT_MS, default 500),
 * then add one
 * to map[i] for every PC recorded since ukcov_fuzzer_begin(), i being
 * ukcov_fuzzer_index(pc, size); a counter stays at 255 once there (at 1
 * with UKCOV_FUZZER_COUNTS=0: sites, not hit counts).  The
 * map is not cleared (engines clear their own).  Returns the PCs folded,
 * or -1 with errno: EINVAL (no input begun on this thread, or size 0).
 */
long ukcov_fuzzer_end(uint8_t *map, size_t size);

/*
 * The map index of a PC: a hash of its module's name and its offset in
 * the module, so the same site has the same index in every process of a
 * run (libFuzzer's -fork and -jobs, AFL++'s restarts), whatever the load
 * address.  In [0, size); size must not be 0.
 */
size_t ukcov_fuzzer_index(uintptr_t pc, size_t size);

/*
 * The common handle of the calling thread's remote kcov (0 before its
 * first ukcov_fuzzer_begin()): a pool created before the harness thread
 * ran can start its jobs' sections for it, or capture it at submission
 * (ukcov_capture(3)).
 */
uint64_t ukcov_fuzzer_handle(void);

/*
 * Inputs for which the wait timed out, and entries that did not fit an
 * area, since the process started (both warned about once on stderr).
 */
uint64_t ukcov_fuzzer_timeouts(void);
uint64_t ukcov_fuzzer_dropped(void);

#ifdef __cplusplus
}
#endif

#endif /* UKCOV_FUZZER_H */
