#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The compiler wrapper under a configure script and plain make (issue 13,
# items 1, 3 and 4), with the fixture of tests/wrapper/:
#   - CC=ukcov-cc CXX=ukcov-c++ tests/wrapper/configure: every autoconf-style
#     check gives a plain compiler's answer (programs link and run, the
#     preprocessor is silent, a missing function or header is still
#     missing, -Werror builds are silent, -z defs still rejects undefined
#     symbols, -static links);
#   - make check: a -z defs shared library, a dlopen'ed plugin, a C and a
#     C++ program and a -static one; each program checks its own coverage
#     (trace-pc and trace-cmp from the library and the plugin) and that the
#     process has exactly one ukcov runtime;
#   - for gcc (ukcov-cc, ukcov-c++) and clang (ukcov-clang, ukcov-clang++),
#     each with UKCOV_CC_RUNTIME=static (the default) and shared;
#   - which objects depend on libukcov.so in each mode (readelf -d);
#   - the default build under ukcov-run: ukcov-report finds the library's
#     and the plugin's functions, in one main-thread area.
# Environment: BUILD (default build), CC (default gcc).  Exit 0/1.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/wrapper/common.sh
build_ukcov wrapper-configure

problem() {
	echo "wrapper-configure: $*"
	fail=1
}
# needs_ukcov FILE: does FILE have libukcov.so.0 as DT_NEEDED?
needs_ukcov() {
	readelf -dW "$1" | grep -q '(NEEDED).*\[libukcov\.so\.'
}

for pair in "${pairs[@]}"; do
	# shellcheck disable=SC2086 # the pair is two words
	set -- $pair
	for mode in static shared; do
		label="$1/$mode"
		dir=$tmp/$1-$mode
		mkdir -p "$dir"
		if ! (cd "$dir" && CC=$tools/$1 CXX=$tools/$2 UKCOV_CC_RUNTIME=$mode \
			"$src/configure" >configure.out 2>&1); then
			sed 's/^/    /' "$dir/config.log" | tail -n 12
			sed 's/^/    /' "$dir/configure.out" | tail -n 3
			problem "$label: configure failed (above: the end of config.log)"
			continue
		fi
		if ! (cd "$dir" && UKCOV_CC_RUNTIME=$mode \
			make -f "$src/Makefile" RUNTIME=$mode check >make.out 2>&1); then
			sed 's/^/    /' "$dir/make.out" | tail -n 12
			problem "$label: make check failed (above: its end)"
			continue
		fi
		grep -q '^static: ' "$dir/make.out" || problem "$label: the -static program did not run"
		for f in libfixture.so plugin.so main; do
			if [ $mode = static ] && needs_ukcov "$dir/$f"; then
				problem "$label: $f depends on libukcov.so (a second runtime)"
			elif [ $mode = shared ] && ! needs_ukcov "$dir/$f"; then
				problem "$label: $f does not depend on libukcov.so"
			fi
		done
	done
done

# The default build, run as a user would: ukcov-run, then ukcov-report.
dir=$tmp/ukcov-cc-static
if [ -x "$dir/main" ]; then
	if ! "$tools/ukcov-run" -q -o "$tmp/run.cov" -- "$dir/main" static "$dir/plugin.so" \
		>"$tmp/run.out" 2>&1; then
		sed 's/^/    /' "$tmp/run.out" | tail -n 12
		problem "ukcov-run failed (above: its output)"
	else
		"$tools/ukcov-report" -r -u -s "$tmp/run.cov" >"$tmp/raw" 2>&1
		grep -Eq 'libfixture\.so.* fixture_lib_classify( |$)' "$tmp/raw" ||
			problem "ukcov-report: no PC of fixture_lib_classify in libfixture.so"
		grep -Eq 'plugin\.so.* fixture_plugin_score( |$)' "$tmp/raw" ||
			problem "ukcov-report: no PC of fixture_plugin_score in plugin.so"
		"$tools/ukcov-report" "$tmp/run.cov" >"$tmp/summary" 2>&1
		n=$(grep -c '^main ' "$tmp/summary")
		[ "$n" = 1 ] || problem "ukcov-report: $n main-thread areas, want 1 (one runtime)"
	fi
fi
exit $fail
