#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Issue 12, Security, item 8: ukcov-run -o never follows a planted link
# and never writes into a file it did not create (ukcov-run(1), -o: a new
# file of its own, renamed to PATH).  In a sticky 1777 directory (another
# user's links there: nobody's, when root), PATH is
#  - a symbolic link to a victim file: the victim is unchanged and PATH is
#    now a regular coverage file;
#  - a dangling symbolic link: its target is not created;
#  - a hard link to a victim: the victim is unchanged, PATH a new file.
# A PATH ukcov-run cannot write fails before the program runs (it would
# create a marker file): exit 125, one line on stderr, for a directory
# that does not exist, for PATH naming a directory and for a PATH that
# ends in '/'.
# Environment: BUILD, CC, SAN.  Exit 0 pass, 1 fail, 77 skip.
# shellcheck source=run-lib.bash
. "$(dirname "$0")/run-lib.bash"
run_setup run-symlink

sticky=$tmp/sticky
mkdir -m 1777 "$sticky"
echo "victim's data" >"$tmp/want"
# plant PATH: owned by another user when we can.
plant() {
	if [ "$(id -u)" = 0 ] && id nobody >/dev/null 2>&1; then
		chown -h nobody "$1"
	fi
}
# coverage_file PATH: a regular file (not a link) of whole records with
# areas in it, linked once.
coverage_file() {
	local r
	[ -f "$1" ] && [ ! -L "$1" ] || { problem "$CASE: $1 is not a regular file now"; return; }
	[ "$(stat -c %h "$1")" = 1 ] || problem "$CASE: $1 has $(stat -c %h "$1") links"
	r=$(records "$1")
	set -- $r
	[ "${2:-0}" -ge 1 ] && [ "${3:-}" = 1 ] ||
		problem "$CASE: not a coverage file (records: '$r')"
}

for form in $FORMS; do
	prog=$tmp/prog-$form
	build_target "$form" "$prog"

	CASE=$form/symlink
	cp "$tmp/want" "$tmp/victim"
	ln -s "$tmp/victim" "$sticky/sym.cov"
	plant "$sticky/sym.cov"
	"$RUN" -q -o "$sticky/sym.cov" -- "$prog" return >/dev/null 2>"$tmp/err" ||
		problem "$CASE: ukcov-run failed: $(cat "$tmp/err")"
	cmp -s "$tmp/victim" "$tmp/want" || problem "$CASE: the victim changed"
	coverage_file "$sticky/sym.cov"

	CASE=$form/dangling
	ln -s "$tmp/created" "$sticky/dangling.cov"
	plant "$sticky/dangling.cov"
	"$RUN" -q -o "$sticky/dangling.cov" -- "$prog" return >/dev/null 2>"$tmp/err" ||
		problem "$CASE: ukcov-run failed: $(cat "$tmp/err")"
	[ ! -e "$tmp/created" ] || problem "$CASE: the link's target was created"
	coverage_file "$sticky/dangling.cov"

	CASE=$form/hardlink
	cp "$tmp/want" "$tmp/victim2"
	ln "$tmp/victim2" "$sticky/hard.cov"
	"$RUN" -q -o "$sticky/hard.cov" -- "$prog" return >/dev/null 2>"$tmp/err" ||
		problem "$CASE: ukcov-run failed: $(cat "$tmp/err")"
	cmp -s "$tmp/victim2" "$tmp/want" || problem "$CASE: the victim changed"
	[ "$(stat -c %h "$tmp/victim2")" = 1 ] || problem "$CASE: the victim is still linked"
	coverage_file "$sticky/hard.cov"
	rm -f "$sticky"/*.cov

	for out in "$tmp/no/such/dir/x.cov" "$sticky" "$sticky/" "$sticky/new/"; do
		CASE="$form/-o $out"
		rm -f "$tmp/ran"
		"$RUN" -q -o "$out" -- "$prog" touch "$tmp/ran" >/dev/null 2>"$tmp/err"
		rc=$?
		[ "$rc" = 125 ] || problem "$CASE: exited $rc, want 125"
		[ "$(wc -l <"$tmp/err")" = 1 ] && grep -q "^ukcov-run: cannot write $out: " "$tmp/err" ||
			{ problem "$CASE: stderr is not one line:"; cat "$tmp/err"; }
		[ ! -e "$tmp/ran" ] || problem "$CASE: the program ran"
		[ -z "$(ls -A "$sticky")" ] || problem "$CASE: left $(ls -A "$sticky")"
	done
done
exit $fail
