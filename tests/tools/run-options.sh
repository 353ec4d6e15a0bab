#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Issue 12, strict input and honest output, items 10 and 11: every option
# of ukcov-run is honoured in full or refused (ukcov-run(1), OPTIONS).
# Honoured: one --handle list of 79 handles (over 1023 characters) gives
# 79 handle areas; 60 handles over two options give 60; a handle given
# twice is collected once; --area-words 0x0fffffff (KCOV_INIT_TRACE's
# limit) collects, with peak RSS far below the area's 2 GiB (the areas
# are not faulted in; the figure is printed), and 512, 1M, 64K collect.
# Refused, each with exit 125, exactly one line on stderr and the program
# not run (it would create a marker file): 4097 handles, handles that are
# not global ones or not numbers, empty items, --area-words out of
# 512..0x0fffffff or not a number, a bad --mode, --signal garbage.
# Environment: BUILD, CC, SAN.  Exit 0 pass, 1 fail, 77 skip.
# shellcheck source=run-lib.bash
. "$(dirname "$0")/run-lib.bash"
run_setup run-options

# hlist FIRST N: N application handles 0x81000000000000NN from FIRST, hex.
hlist() {
	local i h s=
	for ((i = $1; i < $1 + $2; i++)); do
		printf -v h '0x81%014x,' "$i"
		s+=$h
	done
	echo "${s%,}"
}

# accepted WANT_HANDLE_AREAS OPTIONS...: the run collects main (m_main)
# and exactly that many handle areas.
accepted() {
	local want=$1 n
	shift
	CASE="$form: $(echo "$*" | cut -c 1-60)"
	"$RUN" -q -o "$tmp/a.cov" "$@" -- "$prog" return >/dev/null 2>"$tmp/err" ||
		{ problem "$CASE: refused: $(cat "$tmp/err")"; return; }
	n=$(labels "$tmp/a.cov" | grep -c '^handle:')
	[ "$n" = "$want" ] || problem "$CASE: $n handle areas, want $want"
	check_marker "$tmp/a.cov" m_main "main"
}

# refused OPTIONS...: exit 125, one line on stderr, the program not run.
refused() {
	local rc
	CASE="$form: $(echo "$*" | cut -c 1-60)"
	rm -f "$tmp/ran" "$tmp/r.cov"
	"$RUN" -q -o "$tmp/r.cov" "$@" -- "$prog" touch "$tmp/ran" >/dev/null 2>"$tmp/err"
	rc=$?
	[ "$rc" = 125 ] || problem "$CASE: exited $rc, want 125"
	[ "$(wc -l <"$tmp/err")" = 1 ] && grep -q '^ukcov-run: ' "$tmp/err" ||
		{ problem "$CASE: stderr is not one line:"; cat "$tmp/err"; }
	[ ! -e "$tmp/ran" ] || problem "$CASE: the program ran"
	[ ! -e "$tmp/r.cov" ] || problem "$CASE: a file was written"
}

long=$(hlist 1 79)
[ "${#long}" -gt 1023 ] || { echo "run-options: the list is short"; exit 1; }
for form in $FORMS; do
	prog=$tmp/prog-$form
	build_target "$form" "$prog"

	accepted 79 --handle "$long"
	accepted 60 --handle "$(hlist 1 30)" -H "$(hlist 31 30)"
	accepted 1 -H 0x8100000000000007,0x8100000000000007 --handle 0x8100000000000007
	accepted 2 -H 0xff000000ffffffff,0x0100000000000001
	accepted 0 --area-words 512
	accepted 0 --area-words 1M
	accepted 0 -s 64K
	accepted 0 -s 0x0fffffff

	refused --handle "$(hlist 1 4097)"
	refused --handle "$(hlist 1 4000)" --handle "$(hlist 4001 97)"
	for h in 0x81zz "" "," -1 0x0000000000000001 0x4000000000000001 \
		0x8100000100000001 0x10000000000000000 "0x8100000000000001," \
		",0x8100000000000001" "0x8100000000000001,,0x8100000000000002" \
		" 0x8100000000000001" +0x8100000000000001 0x81000000000000001x; do
		refused --handle "$h"
	done
	for w in 0x10000000 511 0x 1G -1 "" 0 1K5 256M 0x0fffffffK; do
		refused --area-words "$w"
	done
	for m in PC "" cmpx pc,cmp; do
		refused --mode "$m"
	done
	for s in FOO 0 128 65 -1 KILL SIGSTOP "" "," "ALRM," ",ALRM" "ALRM,,HUP" SIGFOO 1x " 14" +14; do
		refused --signal "$s"
	done
	refused --no-such-option
	refused --handle
done

# The areas are not faulted in: a 2 GiB area costs what is written.
if [ -x /usr/bin/time ]; then
	form=${FORMS%% *}
	prog=$tmp/prog-$form
	/usr/bin/time -f %M -o "$tmp/rss" "$RUN" -q -o "$tmp/a.cov" -s 0x0fffffff \
		-- "$prog" threads 8 >/dev/null 2>"$tmp/err" ||
		problem "--area-words 0x0fffffff with 8 threads: $(cat "$tmp/err")"
	kb=$(tail -n 1 "$tmp/rss")
	echo "run-options: peak RSS of ukcov-run and the program, 9 threads of 0x0fffffff words (2 GiB) each: $kb KiB"
	[ "$kb" -lt $((256 * 1024)) ] || problem "peak RSS $kb KiB at 0x0fffffff words: the areas are faulted in?"
else
	echo "run-options: /usr/bin/time is not installed (apt-get install time): no peak RSS figure"
fi
exit $fail
