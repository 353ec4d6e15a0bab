#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Issue 12: the program may scribble over the run's region (docs/design.md,
# "The end": the writer validates every entry and counts what it refuses
# as lost areas).  run-target.c hostile maps the region from UKCOV_RUN and
#  - entries: forges area entries ukcov-run must refuse (data or bytes
#    past the region's end, data not page-aligned, unknown type, kind,
#    mode or state, words 0, huge, or past its data, the count word past
#    the area), one valid area whose count word is past its capacity
#    (written full: 511 entries), and module entries with a path without
#    NUL or longer than its data, and a build id longer than its data;
#  - header: an area past the region's real end, then the header's size
#    set to 0, next_data to 2^64-1 and next_entry to 2^63.
# ukcov-run neither crashes nor hangs, exits with the program's status
# (7), writes a file ukcov-report reads (exit 0), counts exactly the
# refused areas as lost (entries), and the program's own areas are there.
# And UKCOV_RUN garbage in the environment of a plain run (no ukcov-run):
# one warning line, the program runs normally.
# Environment: BUILD, CC, SAN.  Exit 0 pass, 1 fail, 77 skip.
# shellcheck source=run-lib.bash
. "$(dirname "$0")/run-lib.bash"
run_setup run-hostile

# The region layout (include/ukcov/region.h): where the data starts.
DATA_OFF=$((4096 + 4096 * 8 + (1 << 20) * 128))
echo "not a region" >"$tmp/small"
truncate -s $((DATA_OFF + 4096)) "$tmp/sparse"
perl -e '
	open(my $f, "+<", $ARGV[0]) or die; binmode $f;
	print $f "UKCOVRGN", pack("VVQ<VVQ<", 99, 0, $ARGV[1], 0, 0, 512);' \
	"$tmp/sparse" $((DATA_OFF + 4096))

for form in $FORMS; do
	prog=$tmp/prog-$form
	build_target "$form" "$prog"

	CASE=$form/entries
	cov=$tmp/$form-entries.cov
	timeout -k 2 20 "$RUN" -q -o "$cov" -- "$prog" hostile entries >"$tmp/out" 2>"$tmp/err"
	rc=$?
	[ "$rc" = 7 ] || { problem "$CASE: ukcov-run exited $rc, want 7"; cat "$tmp/err"; }
	refused=$(sed -n 's/^refused //p' "$tmp/out")
	"$REPORT" "$cov" >/dev/null 2>"$tmp/rerr" ||
		problem "$CASE: ukcov-report failed: $(cat "$tmp/rerr")"
	set -- $(run_record "$cov")
	[ "$*" = "1 7 1 ${refused:-?}" ] ||
		problem "$CASE: run record '$*', want exited 7, INCOMPLETE, ${refused:-?} areas lost"
	got=$(labels "$cov" | tr '\n' ' ' | sed 's/ $//')
	[ "$got" = "common main thread:forged" ] ||
		problem "$CASE: areas '$got', want 'common main thread:forged'"
	"$REPORT" -r -a thread:forged "$cov" | grep -q '^# thread:forged: 511 entries$' ||
		problem "$CASE: the area with its count past capacity is not written full"
	check_marker "$cov" m_main "main"
	check_marker "$cov" m_hostile "main thread:forged"
	grep -q "^ukcov-run: warning: ${refused:-?} areas were refused: not valid in the region (the program wrote over it)$" "$tmp/err" ||
		{ problem "$CASE: ukcov-run does not say what it refused:"; cat "$tmp/err"; }
	set -- $(records "$cov")
	[ "${1:-}" != bad ] || problem "$CASE: not whole records"
	! grep -aq '/forged/path\|AAAAAAAA' "$cov" || problem "$CASE: a forged module was written"

	CASE=$form/header
	cov=$tmp/$form-header.cov
	timeout -k 2 20 "$RUN" -q -o "$cov" -- "$prog" hostile header >"$tmp/out" 2>"$tmp/err"
	rc=$?
	[ "$rc" = 7 ] || { problem "$CASE: ukcov-run exited $rc, want 7"; cat "$tmp/err"; }
	"$REPORT" "$cov" >/dev/null 2>"$tmp/rerr" ||
		problem "$CASE: ukcov-report failed: $(cat "$tmp/rerr")"
	set -- $(run_record "$cov")
	[ "${1:-}" = 1 ] && [ "${2:-}" = 7 ] && [ "${3:-}" = 1 ] && [ "${4:-0}" -ge 1 ] ||
		problem "$CASE: run record '$*', want exited 7, INCOMPLETE, areas lost"
	check_marker "$cov" m_hostile "main"

	# A plain run with UKCOV_RUN garbage: one warning, a normal run.
	exec 7<"$tmp/small" 8<"$tmp/sparse"
	for v in garbage "" : 1: :3 12:3x -1:3 0:3 99999999999:3 1:99999999999 \
		"$$:7" "$$:8" "$$:9"; do
		CASE="$form/UKCOV_RUN=$v"
		UKCOV_RUN=$v "$prog" return >"$tmp/out" 2>"$tmp/err"
		rc=$?
		[ "$rc" = 0 ] || problem "$CASE: the program exited $rc"
		[ "$(wc -l <"$tmp/err")" = 1 ] &&
			grep -q "^ukcov: UKCOV_RUN=$v: not ukcov-run's region; this process is not collected$" "$tmp/err" ||
			{ problem "$CASE: stderr is not the one warning:"; cat "$tmp/err"; }
	done
	exec 7<&- 8<&-
done
exit $fail
