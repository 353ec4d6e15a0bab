#!/usr/bin/env bash
# The libFuzzer harness of ukcov's control API (fuzz/, issue 7): build it
# and run it for FUZZ_SECONDS (default 60) on a working copy of the seed
# corpus, one worker.  Any crash, sanitizer report, leak or model mismatch
# fails (the input is left in build-fuzz/artifacts/).  Needs clang and
# libFuzzer (Debian: libclang-rt-14-dev), installed with apt-get when
# missing and running as root; otherwise exits 77 (skip).
set -u
cd "$(dirname "$0")/../.." || exit 1
FUZZ_CC=${FUZZ_CC:-clang}
secs=${FUZZ_SECONDS:-60}

have_fuzzer() {
	command -v "$FUZZ_CC" >/dev/null 2>&1 || return 1
	local dir
	dir=$("$FUZZ_CC" -print-runtime-dir 2>/dev/null) || return 1
	[ -e "$dir/libclang_rt.fuzzer-x86_64.a" ] &&
		[ -e "$dir/libclang_rt.asan-x86_64.so" ]
}

if ! have_fuzzer; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
			apt-get install -y -qq clang libclang-rt-14-dev; } \
			>/dev/null 2>&1
	fi
	if ! have_fuzzer; then
		echo "fuzz: clang with libFuzzer (libclang-rt-14-dev) is not available"
		exit 77
	fi
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! make -s FUZZ_CC="$FUZZ_CC" fuzz >"$log" 2>&1; then
	cat "$log"
	echo "fuzz: build failed"
	exit 1
fi
if make -s FUZZ_CC="$FUZZ_CC" fuzz-run FUZZ_SECONDS="$secs" >"$log" 2>&1; then
	grep -E '^(#[0-9]+ +DONE|stat::number_of_executed_units|Done )' "$log"
	exit 0
fi
grep -v -E '^#[0-9]+ ' "$log" | tail -n 60
echo "fuzz: the harness failed"
exit 1
