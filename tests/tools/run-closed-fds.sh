#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Issue 12, Security, item 9: the program cannot break the tool's
# descriptors (ukcov-run(1), "Collection that no exit can lose": the
# region is reached again through ukcov-run's /proc/PID/fd/N).  The
# program (run-target.c closed-fds) closes every descriptor from 3 to
# 1023 at its start, opens its own data file and dup2()s it onto every
# number the region had (the one it inherited, libukcov's own), writes
# known bytes, starts four threads (created after the close, so the
# common handle follows them) that each run a marker and a
# ukcov_capture()/ukcov_run_captured() section, and ends with exit(0).
# Then: exit 0, every thread's area with its marker, the sections in the
# common area only, and the data file holds exactly what the program
# wrote.
# Environment: BUILD, CC, SAN.  Exit 0 pass, 1 fail, 77 skip.
# shellcheck source=run-lib.bash
. "$(dirname "$0")/run-lib.bash"
run_setup run-closed-fds

for i in $(seq 0 99); do echo "block-$i"; done >"$tmp/want.head"
for form in $FORMS; do
	CASE=$form
	prog=$tmp/prog-$form
	build_target "$form" "$prog"
	cov=$tmp/$form.cov
	data=$tmp/$form.data
	"$RUN" -q -m pc -o "$cov" -- "$prog" closed-fds "$data" >/dev/null 2>"$tmp/err"
	rc=$?
	[ "$rc" = 0 ] || { problem "$CASE: exited $rc: $(cat "$tmp/err")"; continue; }
	[ ! -s "$tmp/err" ] || { problem "$CASE: stderr:"; cat "$tmp/err"; }
	# The program reused the region's numbers (else this proves nothing).
	n=$(sed -n 's/^memfds \([0-9]*\)$/\1/p' "$data")
	[ -n "$n" ] && [ "$n" -ge 1 ] ||
		problem "$CASE: the program found no region descriptor to reuse"
	{ cat "$tmp/want.head"; echo "memfds ${n:-0}"; } >"$tmp/want"
	cmp -s "$tmp/want" "$data" ||
		{ problem "$CASE: the data file is not what the program wrote:"; diff "$tmp/want" "$data" | head -5; }
	got=$(labels "$cov" | tr '\n' ' ' | sed 's/ $//')
	want="common main thread:closed_fn thread:closed_fn#2 thread:closed_fn#3 thread:closed_fn#4"
	[ "$got" = "$want" ] || problem "$CASE: areas '$got', want '$want'"
	check_tids_once "$cov"
	check_marker "$cov" m_main "main"
	check_marker "$cov" m_closed_thread \
		"thread:closed_fn thread:closed_fn#2 thread:closed_fn#3 thread:closed_fn#4"
	check_marker "$cov" m_captured_job "common"
	n=$("$REPORT" -r -s -a common "$cov" | grep -c ' m_captured_job ')
	[ "$n" = 4 ] || problem "$CASE: the common area ran m_captured_job $n times, want 4"
done
exit $fail
