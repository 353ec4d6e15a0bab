#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Run the fixture's programs that a build system built in DIR, as the
# Makefile's `check` does, and check which of its objects depend on
# libukcov.so: none with UKCOV_CC_RUNTIME=static (the executable's own
# runtime serves the library and the plugin), all with shared.
# Used by tests/lint/wrapper-cmake.sh and wrapper-meson.sh.
# Usage: check-built.sh DIR static|shared.  Prints what failed; exit 0/1.
set -u
dir=$1 mode=$2
fail=0
for prog in "main $mode ./plugin.so" cxx static; do
	if ! out=$(cd "$dir" && ./$prog 2>&1); then
		printf '%s\n' "$out" | sed 's/^/    /' | tail -n 12
		echo "$prog failed"
		fail=1
	fi
done
for f in libfixture.so plugin.so main; do
	if readelf -dW "$dir/$f" | grep -q '(NEEDED).*\[libukcov\.so\.'; then
		[ "$mode" = shared ] || { echo "$f depends on libukcov.so (a second runtime)"; fail=1; }
	else
		[ "$mode" = static ] || { echo "$f does not depend on libukcov.so"; fail=1; }
	fi
done
exit $fail
