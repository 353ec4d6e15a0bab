#!/usr/bin/env bash
# Run test programs, each under a timeout.  Exit status 0 = pass, 77 = skip,
# anything else (or the timeout) = fail.  Prints one line per test and ends
# with "N passed, N failed, N skipped".  Exits non-zero if any test failed.
#
# Environment: TIMEOUT (seconds per test, default 120), TEST_EXCLUDE
# (space-separated test names to skip), SUITE (a label for the lines).
set -u
timeout_s=${TIMEOUT:-120}
suite=${SUITE:-}
passed=0 failed=0 skipped=0
failures=()
logdir=$(mktemp -d)
trap 'rm -rf "$logdir"' EXIT

for t in "$@"; do
	name=$(basename "$t")
	name=${name%.t}
	label=${suite:+$suite/}$name
	case " ${TEST_EXCLUDE:-} " in
	*" $name "*)
		echo "SKIP $label (excluded)"
		skipped=$((skipped + 1))
		continue ;;
	esac
	start=$(date +%s.%N)
	# TSAN_WRAP: a command prefix for every test (setarch -R for TSan).
	timeout -k 5 "$timeout_s" ${TSAN_WRAP:-} "$t" >"$logdir/out" 2>&1
	rc=$?
	secs=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN{printf "%.1f", e-s}')
	case $rc in
	0)
		echo "PASS $label (${secs}s)"
		passed=$((passed + 1)) ;;
	77)
		echo "SKIP $label: $(tail -n 1 "$logdir/out")"
		skipped=$((skipped + 1)) ;;
	124|137)
		echo "FAIL $label: timed out after ${timeout_s}s"
		sed 's/^/    /' "$logdir/out" | tail -n 20
		failed=$((failed + 1)); failures+=("$label") ;;
	*)
		echo "FAIL $label (exit $rc)"
		sed 's/^/    /' "$logdir/out" | tail -n 20
		failed=$((failed + 1)); failures+=("$label") ;;
	esac
done
[ ${#failures[@]} -gt 0 ] && echo "failed: ${failures[*]}"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
