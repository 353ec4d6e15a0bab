#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Issue 12, strict input, item 13: a FIFO given as PROGRAM never blocks
# ukcov-run (ukcov-run(1), CHECKS: only a regular file is read).  A FIFO
# named by its path, with and without --no-check, and found through
# PATH: ukcov-run returns at once (within 10 s; a block would otherwise
# hang until the runner's timeout), with a non-zero status and one line
# on stderr.  And -o naming a FIFO with no reader: nothing blocks either,
# the run is refused before the program runs (exit 125, one line), and
# the FIFO is left as it is (run-output-special.sh: with a reader, the
# file is written into it).
# Environment: BUILD, CC, SAN.  Exit 0 pass, 1 fail, 77 skip.
# shellcheck source=run-lib.bash
. "$(dirname "$0")/run-lib.bash"
run_setup run-fifo

mkdir "$tmp/bin"
mkfifo "$tmp/bin/fifo-prog"
chmod 755 "$tmp/bin/fifo-prog"
# fifo_case NAME ARGS...: ukcov-run ARGS... returns promptly, non-zero,
# with one line on stderr.
fifo_case() {
	local rc
	CASE=$1
	shift
	timeout -k 2 10 "$@" >/dev/null 2>"$tmp/err" </dev/null
	rc=$?
	case $rc in
	124|137) problem "$CASE: ukcov-run blocked (still running after 10 s)" ;;
	0) problem "$CASE: exited 0" ;;
	esac
	[ "$(wc -l <"$tmp/err")" = 1 ] && grep -q '^ukcov-run: ' "$tmp/err" ||
		{ problem "$CASE: stderr is not one line:"; cat "$tmp/err"; }
}
fifo_case path "$RUN" -q -o "$tmp/a.cov" -- "$tmp/bin/fifo-prog"
fifo_case "path --no-check" "$RUN" -q --no-check -o "$tmp/a.cov" -- "$tmp/bin/fifo-prog"
fifo_case PATH env PATH="$tmp/bin:$PATH" "$RUN" -q -o "$tmp/a.cov" -- fifo-prog
fifo_case "PATH --no-check" env PATH="$tmp/bin:$PATH" "$RUN" -q --no-check -o "$tmp/a.cov" -- fifo-prog
[ ! -e "$tmp/a.cov" ] || problem "a coverage file was written for a FIFO"

for form in $FORMS; do
	CASE="$form: -o FIFO"
	prog=$tmp/prog-$form
	build_target "$form" "$prog"
	rm -f "$tmp/out.cov"
	mkfifo "$tmp/out.cov"
	timeout -k 2 10 "$RUN" -q -o "$tmp/out.cov" -- "$prog" return >/dev/null 2>"$tmp/err"
	rc=$?
	[ "$rc" = 125 ] || problem "$CASE: exited $rc, want 125: $(cat "$tmp/err")"
	[ "$(wc -l <"$tmp/err")" = 1 ] || problem "$CASE: message: $(cat "$tmp/err")"
	[ -p "$tmp/out.cov" ] || problem "$CASE: the FIFO was replaced"
done
exit $fail
