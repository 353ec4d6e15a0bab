#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Issue 12, Servers, item 16: areas are labelled stably (ukcov-report(1),
# the area labels; docs/design.md, "Labels"): a thread's own name if it
# set one (pthread_setname_np, or prctl, seen when it ends), else its
# start routine's symbol, numbered in creation order; never the name it
# inherited.  run-target.c labels: two threads name themselves sub-a and
# sub-b and each creates four unnamed pool threads (one start routine),
# racing; two more name themselves.  Three runs: the sorted labels are
# the same every time and exactly the expected ones; no pool thread is
# labelled after sub-a or sub-b; each marker is in exactly its areas.
# Environment: BUILD, CC, SAN.  Exit 0 pass, 1 fail, 77 skip.
# shellcheck source=run-lib.bash
. "$(dirname "$0")/run-lib.bash"
run_setup run-labels

pools="thread:lbl_pool thread:lbl_pool#2 thread:lbl_pool#3 thread:lbl_pool#4 thread:lbl_pool#5 thread:lbl_pool#6 thread:lbl_pool#7 thread:lbl_pool#8"
want="common main $pools thread:named-prctl thread:named-ps thread:sub-a thread:sub-b"
for form in $FORMS; do
	prog=$tmp/prog-$form
	build_target "$form" "$prog"
	for run in 1 2 3; do
		CASE="$form/run $run"
		cov=$tmp/$form-$run.cov
		"$RUN" -q -o "$cov" -- "$prog" labels >/dev/null 2>"$tmp/err" ||
			{ problem "$CASE: ukcov-run failed: $(cat "$tmp/err")"; continue; }
		got=$(labels "$cov" | tr '\n' ' ' | sed 's/ $//')
		[ "$got" = "$want" ] || problem "$CASE: labels '$got', want '$want'"
		check_tids_once "$cov"
		check_marker "$cov" m_lbl_pool "$pools"
		check_marker "$cov" m_lbl_sub "thread:sub-a thread:sub-b"
		check_marker "$cov" m_named "thread:named-prctl thread:named-ps"
	done
done
exit $fail
