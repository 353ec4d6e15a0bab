#!/bin/sh
# SPDX-License-Identifier: MIT
# Build pool-harness.c for libFuzzer and for AFL++ with ukcov's feeds
# (ukcov_fuzzer(3)), against an installed ukcov (`make install`), or a
# build tree named by LIBRARY_PATH and C_INCLUDE_PATH.  Run from this
# folder; writes pool-harness-libfuzzer and pool-harness-afl here.
set -e
# The target's code: ukcov's instrumentation, not the engine's.
clang -g -O1 -fsanitize-coverage=trace-pc,trace-cmp -c pool-harness.c
# libFuzzer: its runtime is C++.
clang++ pool-harness.o -o pool-harness-libfuzzer -lukcov-libfuzzer -lukcov -lpthread -ldl
# AFL++: afl-fuzz -i seeds -o out -- ./pool-harness-afl
clang pool-harness.o -o pool-harness-afl -lukcov-afl -lukcov -lpthread -ldl
rm -f pool-harness.o
