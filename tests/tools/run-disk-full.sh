#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Issue 12, Exits, item 4: a short write (RLIMIT_FSIZE here; a full disk
# is the same error path) leaves whole records only, says so, and exits
# 125 (ukcov-run(1), EXIT STATUS; ukcov-file(5), "Records").  The program
# runs 200 threads; a first run under no limit gives the whole file's size,
# a second one runs under a soft `ulimit -f` of half of it (bash counts
# 1024-byte blocks; the soft limit only: ukcov-run sizes its region under
# the hard one).  Then: status 125 and one line on stderr, saying the file
# holds the whole records written before; the file is the header and whole
# records, its size a record boundary, with areas in it and no run record;
# ukcov-report reads it (exit 0) and says the run's end was not recorded.
# Environment: BUILD, CC, SAN.  Exit 0 pass, 1 fail, 77 skip.
# shellcheck source=run-lib.bash
. "$(dirname "$0")/run-lib.bash"
run_setup run-disk-full

for form in $FORMS; do
	CASE=$form
	prog=$tmp/prog-$form
	build_target "$form" "$prog"
	cov=$tmp/$form.cov
	"$RUN" -q -o "$cov" -- "$prog" threads 200 >/dev/null 2>"$tmp/err" ||
		{ problem "$CASE: the run without a limit failed: $(cat "$tmp/err")"; continue; }
	size=$(stat -c %s "$cov")
	set -- $(records "$cov")
	[ "$#" = 3 ] && [ "$2" -ge 201 ] && [ "$3" = 1 ] ||
		{ problem "$CASE: the whole file: records '$*'"; continue; }
	blocks=$((size / 2048))
	rm -f "$cov"
	(ulimit -S -f "$blocks" && exec "$RUN" -q -o "$cov" -- "$prog" threads 200) \
		>/dev/null 2>"$tmp/err"
	rc=$?
	[ "$rc" = 125 ] || problem "$CASE: ukcov-run exited $rc under ulimit -f $blocks, want 125"
	[ "$(wc -l <"$tmp/err")" = 1 ] &&
		grep -q "^ukcov-run: $cov: File too large: the file holds the whole records written before$" "$tmp/err" ||
		{ problem "$CASE: stderr is not the one line:"; cat "$tmp/err"; }
	[ -f "$cov" ] || { problem "$CASE: no file"; continue; }
	cut=$(stat -c %s "$cov")
	[ "$cut" -le $((blocks * 1024)) ] && [ "$cut" -lt "$size" ] ||
		problem "$CASE: $cut bytes, whole $size, limit $((blocks * 1024))"
	set -- $(records "$cov")
	if [ "$1" = bad ]; then
		problem "$CASE: $cut bytes is not a record boundary"
	else
		[ "$2" -ge 1 ] && [ "$3" = 0 ] ||
			problem "$CASE: records (modules areas runs) '$*', want areas and no run record"
	fi
	"$REPORT" "$cov" >"$tmp/summary" 2>"$tmp/rerr" ||
		problem "$CASE: ukcov-report rejects a file of whole records: $(cat "$tmp/rerr")"
	grep -q "the run's end was not recorded" "$tmp/summary" ||
		problem "$CASE: the summary does not say the end is missing: $(head -n 3 "$tmp/summary")"
	"$REPORT" -r -u -s "$cov" >/dev/null 2>"$tmp/rerr" ||
		problem "$CASE: ukcov-report -r -u -s failed: $(cat "$tmp/rerr")"
done
exit $fail
