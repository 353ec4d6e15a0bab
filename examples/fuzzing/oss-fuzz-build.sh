#!/bin/bash -eu
# SPDX-License-Identifier: MIT
# A build.sh for OSS-Fuzz or ClusterFuzzLite (ukcov_fuzzer(3)): the
# example harness (pool-harness.c) with ukcov's feed instead of the
# engine's own instrumentation.  It expects what OSS-Fuzz's builder gives
# a build.sh: CC, CXX, CFLAGS, CXXFLAGS (the engine's and the sanitizer's
# flags), SRC (with this repository in $SRC/ukcov), WORK, OUT and
# FUZZING_ENGINE (libfuzzer or afl).
#
# ukcov itself: never with the project's flags (they instrument).
make -C "$SRC/ukcov" lib CC=clang CFLAGS="-O2 -g" BUILD="$WORK/ukcov"
UK="$WORK/ukcov"
for v in CFLAGS CXXFLAGS; do
    f=${!v/-fsanitize=fuzzer-no-link/}
    export $v="$f -fsanitize-coverage=trace-pc,trace-cmp -I$SRC/ukcov/include"
done
case "$FUZZING_ENGINE" in
libfuzzer) ENGINE="$UK/libukcov-libfuzzer.a" ;;
afl) ENGINE="$UK/libukcov-afl.a"; export CC=clang CXX=clang++ ;;
esac
ENGINE="$ENGINE $UK/libukcov.a -lpthread -ldl"
# ... build the project with $CC $CFLAGS, then each target:
$CC $CFLAGS -c "$SRC/ukcov/examples/fuzzing/pool-harness.c" -o "$WORK/pool-harness.o"
$CXX $CXXFLAGS "$WORK/pool-harness.o" $ENGINE -o "$OUT/pool-harness"
