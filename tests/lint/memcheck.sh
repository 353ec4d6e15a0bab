#!/usr/bin/env bash
# valgrind memcheck on the single-threaded tests (issue 7): each runs under
# `valgrind --error-exitcode=1 --leak-check=full` in the plain gcc build
# (shared library).  Any memcheck error or leak (definite or possible)
# fails.  valgrind is installed with apt-get when missing and running as
# root; otherwise the script exits 77 (skip).
# Environment: BUILD (default build), MEMCHECK_TESTS (names, to override
# the list).
set -u
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
tests=${MEMCHECK_TESTS:-"errno-disable errno-enable errno-init-trace errno-misc
errno-preserved mmap-checks overflow scribbled-count trace-cmp-basic
trace-pc-basic exec-mapping"}

if ! command -v valgrind >/dev/null 2>&1; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
			apt-get install -y -qq valgrind; } >/dev/null 2>&1
	fi
	if ! command -v valgrind >/dev/null 2>&1; then
		echo "memcheck: valgrind is not installed and could not be"
		exit 77
	fi
fi

targets=
for t in $tests; do
	targets="$targets $BUILD/tests/$t.t"
done
# shellcheck disable=SC2086 # a list of targets
if ! make -s CC=gcc BUILD="$BUILD" $targets >/dev/null; then
	echo "memcheck: build failed"
	exit 1
fi

status=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for t in $tests; do
	if valgrind -q --error-exitcode=101 --leak-check=full \
		--errors-for-leak-kinds=definite,possible \
		--log-file="$log" "$BUILD/tests/$t.t" >/dev/null 2>&1; then
		echo "memcheck: $t: clean"
	else
		rc=$?
		if [ "$rc" -eq 77 ]; then
			echo "memcheck: $t: skipped by the test"
			continue
		fi
		echo "memcheck: $t: FAILED (exit $rc)"
		sed 's/^/    /' "$log" | head -n 60
		status=1
	fi
done
exit $status
