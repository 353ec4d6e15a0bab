#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The benchmarks' plumbing counts what its figures divide by (no timing is
# judged here):
#   - bench/allin.c, the all-in callback driver: the plain, trace-pc and
#     trace-pc,trace-cmp builds of bench/lz.c agree on their output; "off"
#     counts no callback, "on" some; the trace-pc,trace-cmp build runs
#     exactly the trace-pc callbacks of the trace-pc build (the all-in
#     trace-cmp figure subtracts one from the other); "cmp" counts records;
#   - bench/cb.c, make bench's callback driver: its unique-mode loops
#     append what they must (one entry for a site seen N times, one per
#     call when every call is a first hit);
#   - bench/peers/zlib.c with ukcov's collector (against the system's zlib,
#     when its header is there): a collector mode it does not know is a
#     clear error, and unique mode either runs or, while libukcov answers
#     KCOV_UNIQUE_ENABLE with ENOTTY, is skipped with exit 77 and a
#     skip=REASON line (what bench-peers reports as a skipped row).
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

# --- bench/cb.c, unique mode: what make bench's callback figures divide
# by (the driver checks its own counts: one entry for a site seen N
# times, one per call when every call is a first hit) ---
$CC -O2 -Wall -Wextra -Werror -Iinclude -o "$tmp/cb" bench/cb.c \
	"$BUILD/libukcov.a" -lpthread || fail "bench/cb.c does not build"
for m in guard-seen guard-first pc-uniq-seen pc-uniq-first; do
	"$tmp/cb" $m 1000 >"$tmp/o" 2>&1 || fail "cb $m 1000: $(cat "$tmp/o")"
done
"$tmp/cb" guard-bogus 1 >/dev/null 2>&1 && fail "cb accepted an unknown mode"

# --- bench/peers/zlib.c, ukcov's collector ---
if [ ! -f /usr/include/zlib.h ]; then
	echo "allin: $n trace-pc callbacks; zlib.h not installed (zlib1g-dev): the zlib driver is not checked"
	exit 0
fi
$CC -O2 -std=gnu11 -Wall -Wextra -Werror -Iinclude -DCOLL_UKCOV -o "$tmp/zdrv" \
	bench/peers/zlib.c "$BUILD/libukcov.a" -lz -lpthread ||
	fail "bench/peers/zlib.c (COLL_UKCOV) does not build"
"$tmp/zdrv" 1 on | grep -q '^coll=ukcov workload=zlib ' || fail "zdriver 1 on printed no result line"
"$tmp/zdrv" 1 unique=100 >"$tmp/o" 2>&1
[ $? = 2 ] && grep -q 'unknown collector mode' "$tmp/o" ||
	fail "a bitmap that is not whole pages of words is not refused clearly: $(cat "$tmp/o")"
"$tmp/zdrv" 1 unique=8192 >"$tmp/o" 2>&1
rc=$?
case $rc in
0) grep -q '^coll=ukcov workload=zlib ' "$tmp/o" || fail "unique mode ran but printed no result line" ;;
77) grep -q '^skip=KCOV_UNIQUE_ENABLE:' "$tmp/o" || fail "unique mode skipped without saying why: $(cat "$tmp/o")" ;;
*) fail "unique mode: exit $rc: $(cat "$tmp/o")" ;;
esac
echo "allin: $n trace-pc callbacks; zlib driver: unique mode exit $rc"
