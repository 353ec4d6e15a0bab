#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Issue 11 with issue 12: ukcov-run --mode unique collects each PC once
# per area (ukcov-run(1)), in thread, common-handle and handle areas, so
# that a loop never fills an area.  run-target.c's "loop N" runs a marker
# N times in main, in a thread and in a pool job (a common-handle
# section).  With a 512-word area and N = 5000:
#   - pc mode drops entries and says so, naming --mode unique;
#   - unique mode drops nothing and warns of nothing, the file is in
#     unique-pc mode, every area's entries are distinct PCs, and each
#     marker is in exactly the areas it is in under pc mode;
#   - when the unique map cannot be reserved (RLIMIT_AS of 200 MiB: room
#     for the program and the region's 128 MiB index, not for 128 MiB
#     more; set with prlimit(1), not under the sanitizers, which reserve
#     far more), the areas fall back to ordered traces, still
#     attributed, and ukcov-run says so.
# Environment: BUILD, CC, SAN.  Exit 0 pass, 1 fail, 77 skip.
# shellcheck source=run-lib.bash
. "$(dirname "$0")/run-lib.bash"
run_setup run-unique

# entries_unique FILE: "LABEL ENTRIES UNIQUE" per area of the summary.
entries_unique() {
	"$REPORT" "$1" | awk '$2 ~ /^[0-9]+$/ && $3 ~ /^[0-9]+$/ { print $1, $2, $3 }'
}

for form in $FORMS; do
	prog=$tmp/prog-$form
	build_target "$form" "$prog"

	CASE="$form/pc"
	"$RUN" -m pc -s 512 -o "$tmp/pc.cov" -- "$prog" loop 5000 >/dev/null 2>"$tmp/err" ||
		problem "$CASE: ukcov-run failed: $(cat "$tmp/err")"
	grep -q "entries were dropped.*or with --mode unique" "$tmp/err" ||
		problem "$CASE: no drop warning naming --mode unique: $(cat "$tmp/err")"
	want_main=$(marker_areas "$tmp/pc.cov" m_loop_main)
	want_thread=$(marker_areas "$tmp/pc.cov" m_loop_thread)
	want_job=$(marker_areas "$tmp/pc.cov" m_loop_job)
	[ "$want_main" = main ] && [ "$want_job" = common ] &&
		[ -n "$want_thread" ] ||
		problem "$CASE: markers in '$want_main' '$want_thread' '$want_job'"

	CASE="$form/unique"
	"$RUN" -m unique -s 512 -o "$tmp/u.cov" -- "$prog" loop 5000 >/dev/null 2>"$tmp/err" ||
		problem "$CASE: ukcov-run failed: $(cat "$tmp/err")"
	grep -q "warning" "$tmp/err" && problem "$CASE: $(grep warning "$tmp/err")"
	"$REPORT" "$tmp/u.cov" | head -n 1 | grep -q "unique-pc mode" ||
		problem "$CASE: not in unique-pc mode: $("$REPORT" "$tmp/u.cov" | head -n 1)"
	check_marker "$tmp/u.cov" m_loop_main "$want_main"
	check_marker "$tmp/u.cov" m_loop_thread "$want_thread"
	check_marker "$tmp/u.cov" m_loop_job "$want_job"
	n=0
	while read -r label entries uniq; do
		n=$((n + 1))
		[ "$entries" = "$uniq" ] ||
			problem "$CASE: $label has $entries entries, $uniq distinct"
		[ "$entries" -lt 200 ] ||
			problem "$CASE: $label has $entries entries for a loop"
	done < <(entries_unique "$tmp/u.cov")
	[ "$n" -ge 3 ] || problem "$CASE: $n areas in the summary"

	[ -n "${SAN:-}" ] && continue
	command -v prlimit >/dev/null 2>&1 || continue
	CASE="$form/unique, RLIMIT_AS 200 MiB"
	# The program's limit only: prlimit sets it and runs the program.
	"$RUN" --no-check -m unique -s 512 -o "$tmp/f.cov" -- \
		prlimit --as=$((200 << 20)) "$prog" loop 5000 \
		>/dev/null 2>"$tmp/err" ||
		problem "$CASE: ukcov-run failed: $(cat "$tmp/err")"
	grep -q "areas hold an ordered trace" "$tmp/err" ||
		problem "$CASE: no fall-back warning: $(cat "$tmp/err")"
	check_marker "$tmp/f.cov" m_loop_main "$want_main"
	check_marker "$tmp/f.cov" m_loop_job "$want_job"
done
exit $fail
