#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `make bench-fuzz-zstd`: zstd's multi-threaded compression fuzzed with
# libFuzzer and AFL++, each with its own instrumentation and with ukcov's
# feed (issue 14, item 5; see bench/fuzz-zstd/README.md).
#
# Installs what it needs when root with apt-get (clang, clang's libFuzzer
# runtime, afl++, python3, libdw-dev for ukcov-run and ukcov-report,
# binutils), fetches Debian's zstd source (package libzstd) with
# tests/helpers/debian-source.sh into build-fuzz-zstd/debian-src (never
# committed), builds libukcov and its tools with clang into
# build-fuzz-zstd/ukcov and every variant with bench/fuzz-zstd/build.mk,
# then runs bench/fuzz-zstd/fuzz.py, which fuzzes (one fuzzer at a time),
# prints the tables and writes its section of BENCHMARKS-peers.md.
#
# FUZZ_ZSTD_BUILD_ONLY=1 stops after the builds (`make
# bench-fuzz-zstd-build`).  FUZZ_ZSTD_QUICK=1: a quick run (15 s per
# fuzzer; the markdown goes to build-fuzz-zstd/fuzz-zstd-quick.md).  Other
# knobs: see bench/fuzz-zstd/fuzz.py.  FUZZ_ZSTD_JOBS: build parallelism
# (default 2).
set -u
cd "$(dirname "$0")/../.." || exit 1
ROOT=$(pwd)
O=build-fuzz-zstd
JOBS=${FUZZ_ZSTD_JOBS:-2}

say() { echo "bench-fuzz-zstd: $*"; }
clang_major() { clang --version 2>/dev/null | sed -n 's/.*clang version \([0-9]*\).*/\1/p' | head -1; }
lf_archive() { echo "$(clang -print-runtime-dir 2>/dev/null)/libclang_rt.fuzzer_no_main-$(uname -m).a"; }

need=()
command -v python3 >/dev/null 2>&1 || need+=(python3)
command -v clang >/dev/null 2>&1 || need+=(clang)
command -v afl-clang-fast >/dev/null 2>&1 || need+=(afl++)
command -v objdump >/dev/null 2>&1 || need+=(binutils)
[ -e /usr/include/elfutils/libdw.h ] || need+=(libdw-dev)
if command -v clang >/dev/null 2>&1 && [ ! -f "$(lf_archive)" ]; then
	need+=("libclang-rt-$(clang_major)-dev")
fi
if [ ${#need[@]} -gt 0 ]; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
		say "installing ${need[*]} (apt-get)"
		apt-get update -qq >/dev/null 2>&1
		for p in "${need[@]}"; do
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$p" \
				>/dev/null 2>&1 || say "could not install $p"
		done
	else
		say "missing ${need[*]} and not root with apt-get: not installing them"
	fi
fi

for t in python3 clang; do
	command -v $t >/dev/null 2>&1 || { say "$t is required; nothing measured"; exit 1; }
done
[ -e /usr/include/elfutils/libdw.h ] ||
	{ say "ukcov-run and ukcov-report need libdw-dev; nothing measured"; exit 1; }
HAVE_LF=1 HAVE_AFL=1
if [ ! -f "$(lf_archive)" ]; then
	say "no libFuzzer runtime ($(lf_archive), package libclang-rt-$(clang_major)-dev): the libFuzzer rows are skipped"
	HAVE_LF=0
fi
if ! command -v afl-clang-fast >/dev/null 2>&1 || ! command -v afl-fuzz >/dev/null 2>&1 ||
	[ ! -f /usr/lib/afl/libAFLDriver.a ]; then
	say "no AFL++ (afl-clang-fast, afl-fuzz, /usr/lib/afl/libAFLDriver.a; package afl++): the AFL++ rows are skipped"
	HAVE_AFL=0
fi

# zstd: Debian's source package, fetched once.
src=$(tests/helpers/debian-source.sh libzstd "$O/debian-src") ||
	{ say "cannot fetch zstd's source (apt-get source libzstd); nothing measured"; exit 1; }
[ -s "$src/lib/common/pool.c" ] ||
	{ say "$src has no lib/common/pool.c; nothing measured"; exit 1; }
dsc=$(ls "$O"/debian-src/libzstd/*.dsc 2>/dev/null | head -1)
[ -n "$dsc" ] && basename "$dsc" .dsc | sed 's/_/ /' >"$O/zstd-version"

# libukcov, its feeds and its tools, with clang, from the work tree.
say "building libukcov and its tools (clang) into $O/ukcov"
if ! make -s --no-print-directory BUILD="$ROOT/$O/ukcov" CC=clang CFLAGS="-O2 -g" \
	"$ROOT/$O/ukcov/libukcov.a" "$ROOT/$O/ukcov/libukcov-afl.a" \
	$([ $HAVE_LF = 1 ] && echo "$ROOT/$O/ukcov/libukcov-libfuzzer.a") \
	"$ROOT/$O/ukcov/tools/ukcov-run" "$ROOT/$O/ukcov/tools/ukcov-report" \
	>"$O/ukcov.log" 2>&1; then
	say "libukcov does not build ($O/ukcov.log)"
	exit 1
fi

say "building zstd and the harness (make -f bench/fuzz-zstd/build.mk -j$JOBS)"
start=$(date +%s)
make --no-print-directory -f bench/fuzz-zstd/build.mk -j"$JOBS" ZSRC="$src" \
	FZ_HAVE_LF=$HAVE_LF FZ_HAVE_AFL=$HAVE_AFL ||
	{ say "build failed"; exit 1; }
say "builds ready ($(( $(date +%s) - start )) s)"
[ "${FUZZ_ZSTD_BUILD_ONLY:-0}" = 1 ] && exit 0
export FZ_HAVE_LF=$HAVE_LF FZ_HAVE_AFL=$HAVE_AFL
exec python3 bench/fuzz-zstd/fuzz.py
