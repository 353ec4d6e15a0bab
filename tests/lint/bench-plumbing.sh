#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The benchmarks' plumbing counts what its figures divide by (no timing is
# judged here):
#   - bench/allin.c, the all-in callback driver: the plain, trace-pc and
#     trace-pc,trace-cmp builds of bench/lz.c agree on their output; "off"
#     counts no callback, "on" some; the trace-pc,trace-cmp build runs
#     exactly the trace-pc callbacks of the trace-pc build (the all-in
#     trace-cmp figure subtracts one from the other); "cmp" counts records.
# Uses $BUILD/libukcov.a (built by the suite).  Environment: BUILD
# (default build), CC (default gcc).
set -u
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
CC=${CC:-gcc}

fail() {
	echo "bench-plumbing: $*" >&2
	exit 1
}

[ -f "$BUILD/libukcov.a" ] || { echo "SKIP: no $BUILD/libukcov.a (build first)"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# --- bench/allin.c over bench/lz.c ---
for k in plain pc pccmp; do
	case $k in
	plain) fl= ;;
	pc) fl=-fsanitize-coverage=trace-pc ;;
	pccmp) fl=-fsanitize-coverage=trace-pc,trace-cmp ;;
	esac
	$CC -O2 -DLZ_NO_MAIN $fl -c -o "$tmp/lzw-$k.o" bench/lz.c ||
		fail "bench/lz.c ($k) does not build"
	if [ $k = plain ]; then
		$CC -O2 -Wall -Wextra -Werror -Iinclude -o "$tmp/allin-$k" \
			bench/allin.c "$tmp/lzw-$k.o" || fail "bench/allin.c (plain) does not build"
	else
		$CC -O2 -Wall -Wextra -Werror -DUSE_UKCOV -Iinclude -o "$tmp/allin-$k" \
			bench/allin.c "$tmp/lzw-$k.o" "$BUILD/libukcov.a" -lpthread ||
			fail "bench/allin.c ($k) does not build"
	fi
done
# callbacks N sum S
field() { sed -n "s/^callbacks \([0-9]*\) sum \([0-9a-f]*\)$/\\$1/p"; }
out() { "$tmp/allin-$1" "$2" 1 || fail "allin-$1 $2 failed"; }
p=$(out plain plain) || exit 1
off=$(out pc off) || exit 1
on=$(out pc on) || exit 1
cmpon=$(out pccmp on) || exit 1
cmp=$(out pccmp cmp) || exit 1
sums=$(printf '%s\n' "$p" "$off" "$on" "$cmpon" "$cmp" | field 2 | sort -u | wc -l)
[ "$sums" = 1 ] || fail "the builds disagree on the output: $p / $off / $on / $cmpon / $cmp"
[ "$(echo "$p" | field 1)" = 0 ] || fail "plain counted callbacks: $p"
[ "$(echo "$off" | field 1)" = 0 ] || fail "off counted callbacks: $off"
n=$(echo "$on" | field 1)
[ "${n:-0}" -gt 0 ] || fail "on counted no callback: $on"
[ "$(echo "$cmpon" | field 1)" = "$n" ] ||
	fail "the trace-pc,trace-cmp build ran $(echo "$cmpon" | field 1) trace-pc callbacks, the trace-pc build $n"
[ "$(echo "$cmp" | field 1)" -gt 0 ] || fail "cmp counted no record: $cmp"
"$tmp/allin-pc" bogus 1 >/dev/null 2>&1 && fail "allin accepted an unknown mode"

echo "allin: $n trace-pc callbacks"
