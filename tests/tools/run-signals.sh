#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Issue 12, Servers, item 15: signals sent to ukcov-run go on to the
# program, and ukcov-run exits with the program's status (ukcov-run(1),
# SIGNALS, EXIT STATUS).  For TERM, INT, HUP, USR1 and USR2 sent to
# ukcov-run (run-target.c):
#  - a program whose handler makes it exit 3: ukcov-run exits 3, the
#    file says the program exited 3, the handler ran (in the signal's
#    area, --signal);
#  - a program with no handler: 128+N, the file says it was killed by N,
#    the program's pid is gone (no orphan);
# a program that ignores TERM stays, and once killed gives 137; a
# daemon-like program whose forked child outlives it: ukcov-run waits for
# the child, whose areas are in the file, and a TERM sent then reaches
# the child.
# Environment: BUILD, CC, SAN.  Exit 0 pass, 1 fail, 77 skip.
# shellcheck source=run-lib.bash
. "$(dirname "$0")/run-lib.bash"
run_setup run-signals

# start_run ARGS...: ukcov-run ARGS... in the background, its pid $runpid;
# the program's READY file is $ready.
start_run() {
	ready=$tmp/ready
	rm -f "$ready" "$tmp/go"
	"$RUN" -q "$@" >"$tmp/out" 2>"$tmp/err" &
	runpid=$!
	wait_file "$ready" || problem "$CASE: the program never got ready"
	progpid=$(cat "$ready" 2>/dev/null)
}
# finish WANT_RC: wait for ukcov-run (20 s at most); its status must be
# WANT_RC, and the program must be gone.  What is left is killed.
finish() {
	local rc i
	for ((i = 0; i < 400; i++)); do
		kill -0 "$runpid" 2>/dev/null || break
		sleep 0.05
	done
	if kill -0 "$runpid" 2>/dev/null; then
		problem "$CASE: ukcov-run still runs after 20 s"
		kill -KILL "$runpid"
	fi
	wait "$runpid"
	rc=$?
	[ "$rc" = "$1" ] || { problem "$CASE: ukcov-run exited $rc, want $1"; cat "$tmp/err"; }
	if [ -z "$progpid" ]; then
		problem "$CASE: the program's pid is unknown"
	elif kill -0 "$progpid" 2>/dev/null; then
		problem "$CASE: the program's process $progpid is still there (killed now)"
		kill -KILL "$progpid"
	fi
}
# still_running: ukcov-run has not ended.
still_running() {
	sleep 0.2
	kill -0 "$runpid" 2>/dev/null || problem "$CASE: ukcov-run ended early"
}

for form in $FORMS; do
	prog=$tmp/prog-$form
	build_target "$form" "$prog"
	cov=$tmp/$form.cov
	for sig in TERM INT HUP USR1 USR2; do
		num=$(kill -l "$sig")
		CASE="$form/SIG$sig handled"
		start_run -o "$cov" --signal "$sig" -- "$prog" handler "$tmp/ready"
		kill -"$sig" "$runpid"
		finish 3
		[ "$(run_record "$cov")" = "1 3 0 0" ] ||
			problem "$CASE: run record '$(run_record "$cov")', want exited 3"
		check_marker "$cov" m_handler "signal:SIG$sig"
		check_marker "$cov" m_main "main"

		CASE="$form/SIG$sig unhandled"
		start_run -o "$cov" -- "$prog" nohandler "$tmp/ready"
		kill -"$sig" "$runpid"
		finish $((128 + num))
		[ "$(run_record "$cov")" = "2 $num 1 0" ] ||
			problem "$CASE: run record '$(run_record "$cov")', want killed by $num"
		check_marker "$cov" m_main "main"
	done

	CASE="$form/SIGTERM ignored, then SIGKILL"
	start_run -o "$cov" -- "$prog" ignore "$tmp/ready"
	kill -TERM "$runpid"
	still_running
	kill -KILL "$progpid"
	finish 137
	[ "$(run_record "$cov")" = "2 9 1 0" ] ||
		problem "$CASE: run record '$(run_record "$cov")', want killed by 9"
	check_marker "$cov" m_main "main"

	CASE="$form/daemon"
	start_run -o "$cov" -- "$prog" daemon "$tmp/ready" "$tmp/go"
	still_running
	touch "$tmp/go"
	finish 0
	check_marker "$cov" m_main "main"
	check_marker "$cov" m_daemon_child "proc1/main"
	[ "$(run_record "$cov")" = "1 0 0 0" ] ||
		problem "$CASE: run record '$(run_record "$cov")', want exited 0"

	CASE="$form/daemon, SIGTERM once the program is gone"
	start_run -o "$cov" -- "$prog" daemon "$tmp/ready" "$tmp/go"
	# The program has ended when the child is ukcov-run's only child.
	for ((i = 0; i < 400; i++)); do
		[ "$(cat "/proc/$runpid/task/$runpid/children" 2>/dev/null)" = "$progpid " ] && break
		sleep 0.05
	done
	kill -TERM "$runpid"
	finish 0
	check_marker "$cov" m_main "main"
	check_marker "$cov" m_daemon_child ""
	[ "$(labels "$cov" | grep -c '^proc1/main$')" = 1 ] ||
		problem "$CASE: the child's area is missing"
done
exit $fail
