# SPDX-License-Identifier: MIT
# `make bench-fuzz-zstd`: zstd's multi-threaded compression fuzzed with
# libFuzzer and AFL++, with their own instrumentation and with ukcov's feed
# (bench/fuzz-zstd/run.sh; about 20 minutes).  Not part of `make check` or
# CI: it fetches zstd's Debian source.  `make bench-fuzz-zstd-build` only
# builds.  Everything goes to build-fuzz-zstd/.
.PHONY: bench-fuzz-zstd bench-fuzz-zstd-build
bench-fuzz-zstd:
	bench/fuzz-zstd/run.sh
bench-fuzz-zstd-build:
	FUZZ_ZSTD_BUILD_ONLY=1 bench/fuzz-zstd/run.sh
