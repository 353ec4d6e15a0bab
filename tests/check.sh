#!/usr/bin/env bash
# The whole test suite, as the README's test command runs it:
#   - the tests built with gcc, and with clang, against the shared library;
#   - the tests built with ASan+UBSan and with TSan (gcc and clang; static
#     library); each of these suites runs the tools' tests (tests/tools/)
#     too, against its own build of the tools;
#   - the lints and install checks in tests/lint/.
# Missing packages (clang, valgrind, pkg-config, g++, libdw-dev, lcov,
# groff) are installed with apt-get when running as root; otherwise what
# needs them is reported as skipped.  Ends with one line
# "N passed, N failed, N skipped" summing every suite.
set -u
cd "$(dirname "$0")/.."
jobs=$(nproc 2>/dev/null || echo 2)
passed=0 failed=0 skipped=0

need_pkgs=()
command -v clang >/dev/null 2>&1 || need_pkgs+=(clang)
command -v valgrind >/dev/null 2>&1 || need_pkgs+=(valgrind)
command -v pkg-config >/dev/null 2>&1 || need_pkgs+=(pkg-config)
command -v g++ >/dev/null 2>&1 || need_pkgs+=(g++)
# ukcov-report symbolizes with libdw; its tests feed genhtml.
[ -e /usr/include/elfutils/libdw.h ] || need_pkgs+=(libdw-dev)
command -v genhtml >/dev/null 2>&1 || need_pkgs+=(lcov)
command -v groff >/dev/null 2>&1 || need_pkgs+=(groff)
if [ ${#need_pkgs[@]} -gt 0 ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
	echo "check: installing ${need_pkgs[*]} (apt-get)"
	{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq "${need_pkgs[@]}"; } >/dev/null 2>&1 ||
		echo "check: could not install ${need_pkgs[*]}; their suites are skipped"
fi

add_counts() {
	local line
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$' "$1" | tail -n 1)
	if [ -z "$line" ]; then
		failed=$((failed + 1))
		return
	fi
	set -- $line
	passed=$((passed + $1)); failed=$((failed + $3)); skipped=$((skipped + $5))
}

# suite LABEL MAKE-ARGS...: build, then run that build's tests.
suite() {
	local label=$1; shift
	local log
	log=$(mktemp)
	echo "== $label"
	if ! make -s -j"$jobs" all "$@" >"$log" 2>&1; then
		cat "$log"
		echo "FAIL $label: build failed"
		failed=$((failed + 1))
		rm -f "$log"
		return
	fi
	make -s runtests "$@" SUITE="$label" 2>&1 | tee "$log" | grep -v '^PASS'
	add_counts "$log"
	rm -f "$log"
}

skip_suite() {
	echo "== $1"
	echo "SKIP $1: $2"
	skipped=$((skipped + 1))
}

suite gcc CC=gcc BUILD=build
if command -v clang >/dev/null 2>&1; then
	suite clang CC=clang BUILD=build-clang
else
	skip_suite clang "clang is not installed"
fi
suite asan CC=gcc BUILD=build-asan SAN=address
# TSan needs a fixed address-space layout on kernels with 32-bit mmap
# randomisation: setarch -R gives it one.
TSAN_WRAP="setarch $(uname -m) -R" suite tsan CC=gcc BUILD=build-tsan SAN=thread
# clang's ThreadSanitizer runtime is linked into the program statically:
# ukcov's interposers forward to its interceptors (src/routes.c).
if command -v clang >/dev/null 2>&1; then
	TSAN_WRAP="setarch $(uname -m) -R" suite tsan-clang CC=clang BUILD=build-tsan-clang SAN=thread
else
	skip_suite tsan-clang "clang is not installed"
fi

echo "== lint"
log=$(mktemp)
BUILD=build CC=gcc tests/runtests.sh $(ls tests/lint/*.sh 2>/dev/null) | tee "$log" | grep -v '^PASS'
add_counts "$log"
rm -f "$log"

echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
