#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The compiler wrapper on a real cmake project (issue 13, item 1): cJSON,
# from Debian's source package (tests/helpers/debian-source.sh), built as a
# shared library with its tests, by cmake -DCMAKE_C_COMPILER=ukcov-cc (and
# ukcov-clang); its own compiler flags include -Werror, so the wrapper must
# add no warning.  Its test program runs under ukcov-run: ukcov-report must
# attribute PCs to the library's functions in libcjson.so, which must not
# depend on libukcov.so (one runtime: the program's).  cmake is installed
# with apt-get when root and missing.  When cmake or the source cannot be
# had, the test is skipped with the reason.
# Environment: BUILD (default build), CC (default gcc).  Exit 0/1/77.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/wrapper/common.sh >/dev/null

need_tool cmake cmake || { echo "SKIP: cmake is not installed (apt-get install cmake)"; exit 77; }
build_ukcov wrapper-real-cmake
src=$(tests/helpers/debian-source.sh cjson "$BUILD/debian-src" 2>"$tmp/err") ||
	{ echo "SKIP: cJSON's source: $(cat "$tmp/err")"; exit 77; }

for pair in "${pairs[@]}"; do
	w=${pair%% *}
	b=$tmp/$w
	if ! cmake -S "$src" -B "$b" -DCMAKE_C_COMPILER="$tools/$w" \
		-DBUILD_SHARED_LIBS=ON -DENABLE_CJSON_TEST=ON >"$tmp/$w.log" 2>&1 ||
		! cmake --build "$b" -j2 --target cJSON_test >>"$tmp/$w.log" 2>&1; then
		tail -n 15 "$tmp/$w.log" | sed 's/^/    /'
		echo "wrapper-real-cmake: $w: cmake failed (above: its end)"
		fail=1
		continue
	fi
	if readelf -dW "$b/libcjson.so" | grep -q '(NEEDED).*libukcov'; then
		echo "wrapper-real-cmake: $w: libcjson.so depends on libukcov.so (a second runtime)"
		fail=1
	fi
	if ! (cd "$b" && "$tools/ukcov-run" -q -o "$tmp/$w.cov" -- ./cJSON_test) >"$tmp/$w.out" 2>&1 ||
		! grep -q '^Version: ' "$tmp/$w.out"; then
		tail -n 10 "$tmp/$w.out" | sed 's/^/    /'
		echo "wrapper-real-cmake: $w: cJSON_test failed under ukcov-run"
		fail=1
		continue
	fi
	"$tools/ukcov-report" -r -u -s "$tmp/$w.cov" >"$tmp/$w.raw" 2>&1
	for f in cJSON_Delete print_value; do
		grep -Eq "^libcjson\.so[.0-9]*\+0x[0-9a-f]+ $f( |$)" "$tmp/$w.raw" || {
			sed 's/^/    /' "$tmp/$w.raw" | head -n 10
			echo "wrapper-real-cmake: $w: no PC of $f in libcjson.so (above: the report)"
			fail=1
		}
	done
done
exit $fail
