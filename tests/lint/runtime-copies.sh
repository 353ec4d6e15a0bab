#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Issue 13, item 3 and 4: ukcov says when the program's coverage does not
# reach it, instead of collecting nothing in silence.
#   - Shadowed callbacks: clang links its UBSan runtime, with weak
#     comparison callbacks, into a program built with -fsanitize-coverage
#     and linked with -lukcov in one step; those win over libukcov.so's.
#     The runtime must notice (its own addresses are hidden aliases, which
#     no interposition changes) and warn, naming the callback; with
#     -fno-sanitize-link-runtime it records and says nothing.
#   - Two runtimes: a plugin linked with libukcov.so in a program linked
#     with libukcov.a: the copy that starts second warns (its ELF note,
#     src/task.c).  One runtime (the program's libukcov.a exported with
#     -rdynamic, a plugin without libukcov; or libukcov.so for both): no
#     warning.
# Environment: BUILD (default build), CC (default gcc).
set -u
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
CC=${CC:-gcc}
ABS=$(cd "$BUILD" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
problem() {
	echo "runtime-copies: $*"
	fail=1
}
[ -e "$ABS/libukcov.so" ] && [ -e "$ABS/libukcov.a" ] ||
	{ echo "runtime-copies: $BUILD's libraries are not built"; exit 1; }
so="-L$ABS -lukcov -Wl,-rpath,$ABS"

if command -v clang >/dev/null 2>&1; then
	clang -O1 -fsanitize-coverage=trace-pc,trace-cmp -Iinclude \
		-o "$tmp/shadowed" tests/runtime/cmp-probe.c $so ||
		{ echo "runtime-copies: cannot build with clang"; exit 1; }
	clang -O1 -fsanitize-coverage=trace-pc,trace-cmp -Iinclude \
		-fno-sanitize-link-runtime -o "$tmp/ours" \
		tests/runtime/cmp-probe.c $so ||
		{ echo "runtime-copies: cannot build with clang"; exit 1; }
	if nm "$tmp/shadowed" | grep -q " [WTV] __sanitizer_cov_trace_cmp4$"; then
		n=$("$tmp/shadowed" 2>"$tmp/err")
		grep -q "__sanitizer_cov_trace_cmp4 resolves to" "$tmp/err" ||
			problem "shadowed callbacks ($n records): no warning: $(cat "$tmp/err")"
	else
		echo "runtime-copies: this clang links no runtime callbacks (nothing shadowed to check)"
	fi
	n=$("$tmp/ours" 2>"$tmp/err")
	[ -s "$tmp/err" ] && problem "-fno-sanitize-link-runtime: $(cat "$tmp/err")"
	[ "$n" -gt 0 ] 2>/dev/null ||
		problem "-fno-sanitize-link-runtime: $n comparison records"
else
	echo "runtime-copies: no clang: the shadowed-callback case is not run"
fi

cov="-O1 -fsanitize-coverage=trace-pc -Iinclude"
# shellcheck disable=SC2086
"$CC" $cov -fPIC -shared -o "$tmp/libwith.so" tests/runtime/plugin.c $so &&
	"$CC" $cov -fPIC -shared -o "$tmp/libbare.so" tests/runtime/plugin.c &&
	"$CC" $cov -o "$tmp/host-static" tests/runtime/host.c \
		"$ABS/libukcov.a" -lpthread -ldl &&
	"$CC" $cov -rdynamic -o "$tmp/host-whole" tests/runtime/host.c \
		-Wl,--whole-archive "$ABS/libukcov.a" -Wl,--no-whole-archive \
		-lpthread -ldl &&
	"$CC" $cov -o "$tmp/host-shared" tests/runtime/host.c $so -ldl ||
	{ echo "runtime-copies: cannot build the plugin cases"; exit 1; }

"$tmp/host-static" "$tmp/libwith.so" >/dev/null 2>"$tmp/err" ||
	problem "libukcov.a + a plugin with libukcov.so: the program failed"
grep -q "another copy of ukcov's runtime is in this process" "$tmp/err" ||
	problem "libukcov.a + a plugin with libukcov.so: no warning: $(cat "$tmp/err")"
for c in "host-whole libbare" "host-shared libwith" "host-shared libbare"; do
	set -- $c
	"$tmp/$1" "$tmp/$2.so" >/dev/null 2>"$tmp/err" ||
		problem "$1 + $2: the program failed: $(cat "$tmp/err")"
	[ -s "$tmp/err" ] && problem "$1 + $2: $(cat "$tmp/err")"
done
exit $fail
