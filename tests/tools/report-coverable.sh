#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Coverable PCs (the call sites of __sanitizer_cov_trace_pc) and what the
# report makes of them, for gcc and clang builds: the per-function and total
# counts against the call sites counted here in objdump's listing (per
# function, by awk), a straight-line function with exactly one; PLT,
# -fno-plt (call through the GOT) and static (direct call) builds;
# --uncovered; lcov's DA:line,0 for lines not reached; -r -u's counts; the
# cache (~/.cache/ukcov): used, rebuilt when corrupt, ignored when not
# private.  Environment: BUILD.  Exit 0 pass, 1 fail, 77 skip.
# shellcheck source=report-lib.bash
. "$(dirname "$0")/report-lib.bash"
report_setup report-coverable
command -v objdump >/dev/null 2>&1 || { echo "objdump is not installed"; exit 77; }

cat >"$tmp/prog.c" <<'EOC'
volatile int sink;
__attribute__((noinline)) int straight(int x)
{
	return x * 3 + 1;
}
__attribute__((noinline)) int branchy(int x)
{
	if (x > 10)
		sink = 1;
	else
		sink = 2;
	return sink;
}
__attribute__((noinline)) void never_called(int x)
{
	for (int i = 0; i < x; i++)
		sink += i;
}
int main(int argc, char **argv)
{
	(void)argv;
	sink = straight(argc) + branchy(argc);
	if (argc > 5)
		never_called(argc);
	return 0;
}
EOC
# calls BINARY FUNCTION: its calls to the callback, by objdump's listing.
calls() {
	objdump -d "$1" | awk -v fn="<$2>:" '
		/^[0-9a-f]+ <.*>:$/ { cur = $2 }
		cur == fn && /call/ && /<__sanitizer_cov_trace_pc(@[^>]*)?>/ { n++ }
		END { print n + 0 }'
}
builds="gcc:plt gcc:noplt gcc:static"
if [ -n "$SANFLAGS" ]; then
	echo "report-coverable: $SAN build: gcc, static library only"
	builds=gcc:static
elif command -v clang >/dev/null 2>&1; then
	builds="$builds clang:plt clang:static"
else
	echo "report-coverable: clang is not installed: gcc only"
fi
for b in $builds; do
	cc=${b%%:*} kind=${b#*:}
	flags="-O1 -g -fsanitize-coverage=trace-pc -fno-optimize-sibling-calls $SANFLAGS"
	[ "$cc" = clang ] && flags="$flags -fno-sanitize-link-runtime"
	case $kind in
	plt) link=$LINK ;;
	noplt) flags="$flags -fno-plt"; link=$LINK ;;
	# The whole archive: the program calls none of the API, and the
	# collector (a constructor) must be linked in.
	static) link="-Wl,--whole-archive $ABS/libukcov.a -Wl,--no-whole-archive -lpthread -ldl" ;;
	esac
	p=$tmp/prog-$cc-$kind
	$cc $flags -o "$p" "$tmp/prog.c" $link ||
		{ problem "$b: cannot build"; continue; }
	"$RUN" -q -o "$p.cov" -- "$p" >/dev/null 2>&1 || { problem "$b: ukcov-run failed"; continue; }
	"$REPORT" -f "$p.cov" >"$p.sum" 2>"$p.err" ||
		{ problem "$b: ukcov-report failed: $(cat "$p.err")"; continue; }
	total=0
	for f in straight branchy never_called main; do
		n=$(calls "$p" $f)
		total=$((total + n))
		[ "$n" -gt 0 ] || problem "$b: objdump finds no call site in $f"
		case $f in
		never_called)
			"$REPORT" --uncovered "$p.cov" >"$p.unc" 2>&1
			grep -Eq "^ +[0-9]+ never_called \\($n PCs?\\)\$" "$p.unc" ||
				{ problem "$b: --uncovered, want never_called with $n PCs:"; cat "$p.unc"; } ;;
		*)
			grep -Eq "(^| )$f [0-9]+/$n(,|\$)" "$p.sum" ||
				{ problem "$b: summary, want $f with $n coverable PCs:"; grep -A2 '^main ' "$p.sum"; } ;;
		esac
	done
	[ "$(calls "$p" straight)" = 1 ] || problem "$b: straight() has $(calls "$p" straight) call sites, want 1"
	# Every call site of the binary (sanitizers add constructors).
	total=$(objdump -d "$p" | grep -c 'call.*<__sanitizer_cov_trace_pc\(@[^>]*\)\?>')
	grep -Eq "^all selected areas: [0-9]+/$total " "$p.sum" ||
		{ problem "$b: want $total coverable PCs in all:"; grep '^all' "$p.sum"; }
	grep -Eq ": DWARF .*; $total coverable PCs \\(objdump\\)" "$p.sum" ||
		{ problem "$b: module line:"; sed -n '/^symbols:/,$p' "$p.sum"; }
	# What the main thread ran is covered and coverable.
	u=$("$REPORT" -r -u -a main "$p.cov" | sed -n 's/^# main: \([0-9]*\) entries, \([0-9]*\) unique$/\2/p')
	grep -Eq "^main +[0-9]+ +$u .* $u/$total " "$p.sum" ||
		{ problem "$b: main's $u unique PCs not all covered coverable PCs:"; grep '^main ' "$p.sum"; }
	# lcov: never_called's lines at 0, straight's at its count.
	"$REPORT" -L "$p.info" "$p.cov" 2>/dev/null || problem "$b: -L failed"
	first=$(grep -n '^__attribute__((noinline)) void never_called' "$tmp/prog.c" | cut -d: -f1)
	n=$(awk -F'[:,]' -v a="$first" -v b=$((first + 4)) \
		'/^DA:/ && $2 >= a && $2 <= b && $3 == 0 { n++ } END { print n + 0 }' "$p.info")
	[ "$n" -gt 0 ] || problem "$b: no DA:line,0 for never_called's lines"
	grep -Eq "^DA:[0-9]+,[1-9]" "$p.info" || problem "$b: no covered DA: line"
	grep -q "^FNDA:0,never_called\$" "$p.info" || problem "$b: no FNDA:0,never_called"
	grep -q "^FNDA:1,straight\$" "$p.info" || problem "$b: no FNDA:1,straight"
done

# The cache: the second report reads it, a corrupt one is recomputed, a
# directory others can write is not used.
p=$tmp/prog-${builds%% *}
p=${p/:/-}
[ -n "$(ls "$XDG_CACHE_HOME/ukcov/" 2>/dev/null)" ] || problem "nothing cached in $XDG_CACHE_HOME/ukcov"
[ "$(stat -c %a "$XDG_CACHE_HOME/ukcov")" = 700 ] || problem "cache directory not 0700"
"$REPORT" "$p.cov" 2>&1 | grep -q 'coverable PCs (cache)' || problem "the cache was not used"
id=$(readelf -n "$p" | sed -n 's/.*Build ID: //p')
c=$XDG_CACHE_HOME/ukcov/pcs-$id
[ -f "$c" ] || problem "no cache file $c"
# The last offset's low byte plus one: still sorted and inside the code,
# caught by the checksum alone.
at=$(($(stat -c %s "$c") - 8))
b=$(od -An -tu1 -j "$at" -N1 "$c" | tr -d ' ')
printf "\\$(printf '%03o' $(((b + 1) & 255)))" | dd of="$c" bs=1 seek="$at" conv=notrunc 2>/dev/null
"$REPORT" "$p.cov" >"$tmp/o" 2>&1
grep -q 'coverable PCs (objdump)' "$tmp/o" || problem "a corrupt cache file was trusted"
cmp -s <(grep '^all' "$tmp/o") <(grep '^all' "$p.sum") || problem "totals differ after a corrupt cache"
chmod 0770 "$XDG_CACHE_HOME/ukcov"
"$REPORT" "$p.cov" >"$tmp/o" 2>"$tmp/e"
grep -q 'not a private directory' "$tmp/e" && grep -q 'coverable PCs (objdump)' "$tmp/o" ||
	problem "a group-writable cache directory was used"
exit $fail
