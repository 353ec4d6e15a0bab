#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Issue 12, Exits: whatever way a process or thread ends, each area is in
# the file exactly once, whole, and a run that ended abnormally is marked
# so (ukcov-run(1), "Collection that no exit can lose").  The program
# (run-target.c) ends by a return from main; exit() from a thread while
# another blocks; _exit in a forked child with a thread running; SIGKILL;
# SIGSEGV; a destructor that joins a pool whose threads run after main
# returned (the program's, and run-late.c's library's); exit(0) with four
# threads running.  Every case: ukcov-run's status; the areas' labels;
# each marker function in exactly the expected areas; no thread id twice;
# every entry symbolized (the module records are there); which areas are
# unfinished; the run record (how, status, INCOMPLETE).  With the suite's
# compiler and every link form (run-lib.bash).
# Environment: BUILD, CC, SAN.  Exit 0 pass, 1 fail, 77 skip.
# shellcheck source=run-lib.bash
. "$(dirname "$0")/run-lib.bash"
run_setup run-exits

# exits_case MODE RC LABELS UNFINISHED RUN: runs MODE; RC is ukcov-run's
# status, LABELS every area's label (sorted), UNFINISHED the areas marked
# unfinished, RUN the run record (run_record).  Sets $cov for more checks.
exits_case() {
	local mode=$1 rc=$2 want_labels=$3 want_unf=$4 want_run=$5 got
	CASE=$form/$mode
	cov=$tmp/$form-$mode.cov
	"$RUN" -q -o "$cov" -- "$prog" "$mode" >"$tmp/out" 2>"$tmp/err"
	got=$?
	[ "$got" = "$rc" ] || { problem "$CASE: ukcov-run exited $got, want $rc"; cat "$tmp/err"; }
	"$REPORT" "$cov" >"$tmp/summary" 2>"$tmp/rerr" ||
		{ problem "$CASE: ukcov-report failed: $(cat "$tmp/rerr")"; return; }
	got=$(labels "$cov" | tr '\n' ' ' | sed 's/ $//')
	[ "$got" = "$want_labels" ] || problem "$CASE: areas '$got', want '$want_labels'"
	check_tids_once "$cov"
	! grep -q 'outside every loaded module' "$tmp/summary" ||
		problem "$CASE: entries outside every module (module records missing)"
	! area_funcs "$cov" | grep -q '[[:space:]]?\( \|$\)' ||
		problem "$CASE: unsymbolized entries: $(area_funcs "$cov" | grep '?')"
	got=$(unfinished "$cov")
	[ "$got" = "$want_unf" ] || problem "$CASE: unfinished '$got', want '$want_unf'"
	got=$(run_record "$cov")
	[ "$got" = "$want_run" ] || problem "$CASE: run record '$got', want '$want_run'"
	case $want_run in
	"2 "*)
		head -n 1 "$tmp/summary" | grep -q "INCOMPLETE: the program was killed by SIG" ||
			problem "$CASE: the summary's first line: $(head -n 1 "$tmp/summary")"
		[ "$(grep -c 'was killed by' "$tmp/err")" = 1 ] ||
			problem "$CASE: ukcov-run does not say the program was killed: $(cat "$tmp/err")"
		;;
	*)
		! head -n 1 "$tmp/summary" | grep -q INCOMPLETE ||
			problem "$CASE: marked INCOMPLETE: $(head -n 1 "$tmp/summary")"
		;;
	esac
}

build_late "$tmp"
for form in $FORMS; do
	prog=$tmp/prog-$form
	build_target "$form" "$prog" -Wl,--no-as-needed -L"$tmp" -lrunlate -Wl,-rpath,"$tmp"

	exits_case return 0 "common main thread:thread_return" "" "1 0 0 0"
	check_marker "$cov" m_main "main"
	check_marker "$cov" m_thread_return "thread:thread_return"

	exits_case exit-thread 0 "common main thread:blocker thread:exiter" \
		"main thread:blocker" "1 0 0 0"
	check_marker "$cov" m_main "main"
	check_marker "$cov" m_blocker "thread:blocker"
	check_marker "$cov" m_exiter "thread:exiter"

	exits_case fork-exit 0 "common main proc1/main proc1/thread:child_thread" \
		"proc1/thread:child_thread" "1 0 0 0"
	check_marker "$cov" m_main "main"
	check_marker "$cov" m_child "proc1/main"
	check_marker "$cov" m_child_thread "proc1/thread:child_thread"

	exits_case sigkill 137 "common main thread:killed_thread" \
		"main thread:killed_thread" "2 9 1 0"
	check_marker "$cov" m_main "main"
	check_marker "$cov" m_before_kill "main"
	check_marker "$cov" m_killed_thread "thread:killed_thread"

	exits_case segv 139 "common main thread:killed_thread" \
		"main thread:killed_thread" "2 11 1 0"
	check_marker "$cov" m_before_kill "main"
	check_marker "$cov" m_killed_thread "thread:killed_thread"

	exits_case dtor-prog 0 "common main thread:pool_fn thread:pool_fn#2 thread:pool_fn#3" \
		"" "1 0 0 0"
	check_marker "$cov" m_main "main"
	check_marker "$cov" m_dtor "main"
	check_marker "$cov" m_pool_start "thread:pool_fn thread:pool_fn#2 thread:pool_fn#3"
	check_marker "$cov" m_late_pool "thread:pool_fn thread:pool_fn#2 thread:pool_fn#3"

	exits_case dtor-lib 0 "common main thread:late_pool_fn thread:late_pool_fn#2 thread:late_pool_fn#3" \
		"" "1 0 0 0"
	check_marker "$cov" m_main "main"
	check_marker "$cov" m_late_lib_pool \
		"thread:late_pool_fn thread:late_pool_fn#2 thread:late_pool_fn#3"

	exits_case running 0 "common main thread:running_fn thread:running_fn#2 thread:running_fn#3 thread:running_fn#4" \
		"thread:running_fn thread:running_fn#2 thread:running_fn#3 thread:running_fn#4" "1 0 0 0"
	check_marker "$cov" m_main "main"
	check_marker "$cov" m_running \
		"thread:running_fn thread:running_fn#2 thread:running_fn#3 thread:running_fn#4"
done
exit $fail
