#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# ukcov-report's file:line of every PC, for a program built with gcc and
# with clang (clang 14 writes no .debug_aranges), against binutils'
# addr2line at the same address (the PC - 1: the call before the recorded
# return address; where that is line 0, at the return address).  Also: clang's lcov output has lines and genhtml takes
# it.  Environment: BUILD (default build).  Exit 0 pass, 1 fail, 77 skip.
# shellcheck source=report-lib.bash
. "$(dirname "$0")/report-lib.bash"
report_setup report-lines
command -v addr2line >/dev/null 2>&1 || { echo "addr2line is not installed"; exit 77; }

cat >"$tmp/prog.c" <<'EOC'
#include <stdlib.h>
volatile int sink;
static inline __attribute__((always_inline)) int twice(int v)
{
	if (v & 1)
		return v * 2;
	return v + 2;
}
static __attribute__((noinline)) int classify(int v)
{
	int r = 0;

	if (v < 0)
		r = -1;
	else if (v == 0)
		r = 0;
	else if (v < 10)
		r = twice(v);
	else
		r = v / 3;
	return r;
}
__attribute__((noinline)) void loop(int n)
{
	for (int i = -2; i < n; i++) {
		sink += classify(i);
		if (sink > 1000)
			sink = 0;
	}
}
int main(int argc, char **argv)
{
	loop(argc > 1 ? atoi(argv[1]) : 14);
	return 0;
}
EOC
compilers=gcc
if [ -n "$SANFLAGS" ]; then
	echo "report-lines: $SAN build: gcc only"
elif command -v clang >/dev/null 2>&1; then
	compilers="gcc clang"
else
	echo "report-lines: clang is not installed: gcc only"
fi
for cc in $compilers; do
	extra=
	# clang's UBSan runtime would shadow libukcov.so's callbacks.
	[ "$cc" = clang ] && extra=-fno-sanitize-link-runtime
	$cc -O1 -g -Iinclude -fsanitize-coverage=trace-pc $extra $SANFLAGS \
		-o "$tmp/prog-$cc" "$tmp/prog.c" $LINK ||
		{ problem "$cc: cannot build the program"; continue; }
	"$RUN" -q -o "$tmp/$cc.cov" -- "$tmp/prog-$cc" >/dev/null 2>&1 ||
		{ problem "$cc: ukcov-run failed"; continue; }
	"$REPORT" -r -u -s -a main "$tmp/$cc.cov" >"$tmp/$cc.raw" 2>"$tmp/$cc.err" ||
		{ problem "$cc: ukcov-report failed: $(cat "$tmp/$cc.err")"; continue; }
	n=0 bad=0
	while read -r loc fn fileline rest; do
		case $loc in "#"*) continue ;; esac
		off=${loc##*+}
		want=$(addr2line -e "$tmp/prog-$cc" "$(printf '0x%x' $((off - 1)))" |
			sed 's/ (discriminator [0-9]*)//')
		want=${want##*/}
		# A call on line 0 (clang): the line of the return address.
		case $want in
		*:0|*:\?)
			want=$(addr2line -e "$tmp/prog-$cc" "$(printf '0x%x' "$off")" |
				sed 's/ (discriminator [0-9]*)//')
			want=${want##*/} ;;
		esac
		n=$((n + 1))
		if [ "$fileline" != "$want" ]; then
			problem "$cc: $loc ($fn): report says $fileline, addr2line $want"
			bad=$((bad + 1))
		fi
	done <"$tmp/$cc.raw"
	[ "$n" -ge 8 ] || problem "$cc: only $n PCs compared (want 8 or more):" \
		"$(cat "$tmp/$cc.raw")"
	echo "report-lines: $cc: $n PCs, $bad differ from addr2line"
	grep -q ' classify prog.c:[0-9]' "$tmp/$cc.raw" ||
		problem "$cc: classify has no line"
	# Lines in lcov, with absolute paths only.
	"$REPORT" -L "$tmp/$cc.info" "$tmp/$cc.cov" 2>"$tmp/$cc.err" ||
		problem "$cc: -L failed: $(cat "$tmp/$cc.err")"
	grep -q "^SF:$tmp/prog.c\$" "$tmp/$cc.info" ||
		problem "$cc: no SF: for prog.c in the lcov output"
	grep -q '^DA:' "$tmp/$cc.info" || problem "$cc: no DA: lines in the lcov output"
	! grep -q '^SF:[^/]' "$tmp/$cc.info" || problem "$cc: a relative SF: path"
	! grep -q 'no line information' "$tmp/$cc.err" ||
		problem "$cc: -L says there are no lines"
	if command -v genhtml >/dev/null 2>&1; then
		genhtml -q -o "$tmp/html-$cc" "$tmp/$cc.info" >"$tmp/gh" 2>&1 ||
			{ problem "$cc: genhtml failed:"; cat "$tmp/gh"; }
	fi
done
exit $fail
