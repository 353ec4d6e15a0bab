#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# ukcov-run -o PATH where PATH is a device node or a FIFO: written into,
# as a shell redirection would, never replaced by a regular file (a root
# user's -o /dev/null must not destroy /dev/null).  A character device
# made here (root only: mknod; else that case is skipped) stays a device
# and the run exits 0; a FIFO with a reader receives a whole coverage
# file (magic UKCOVRUN); a FIFO with no reader is refused before the
# program runs, with a one-line error and exit 125.
# Environment: BUILD, CC, SAN.  Exit 0 pass, 1 fail, 77 skip.
# shellcheck source=run-lib.bash
. "$(dirname "$0")/run-lib.bash"
run_setup run-output-special

form=${FORMS%% *}
prog=$tmp/prog
build_target "$form" "$prog"

if [ "$(id -u)" = 0 ] && mknod -m 666 "$tmp/null" c 1 3 2>/dev/null; then
	CASE="character device"
	"$RUN" -o "$tmp/null" -- "$prog" threads 2 >/dev/null 2>"$tmp/err" ||
		problem "$CASE: ukcov-run failed: $(cat "$tmp/err")"
	[ -c "$tmp/null" ] || problem "$CASE: the device was replaced: $(ls -l "$tmp/null")"
else
	echo "run-output-special: not root (or no mknod): the device case is not run"
fi

CASE="FIFO with a reader"
mkfifo "$tmp/fifo" || { echo "run-output-special: mkfifo failed"; exit 1; }
# The reader reads it all (a reader that stopped early would end the
# writer with SIGPIPE); its open counts as a reader while it waits.
cat <"$tmp/fifo" >"$tmp/all" &
reader=$!
for _ in $(seq 1 100); do
	[ "$(cat /proc/$reader/wchan 2>/dev/null)" = fifo_open ] && break
	[ -n "$(find /proc/$reader/fd -lname "$tmp/fifo" 2>/dev/null)" ] && break
	sleep 0.02
done
"$RUN" -o "$tmp/fifo" -- "$prog" threads 2 >/dev/null 2>"$tmp/err" ||
	problem "$CASE: ukcov-run failed: $(cat "$tmp/err")"
wait $reader
[ "$(head -c 8 "$tmp/all")" = UKCOVRUN ] || problem "$CASE: the reader got '$(head -c 8 "$tmp/all")'"
[ -p "$tmp/fifo" ] || problem "$CASE: the FIFO was replaced"

CASE="FIFO without a reader"
"$RUN" -o "$tmp/fifo" -- "$prog" touch "$tmp/ran" >/dev/null 2>"$tmp/err"
rc=$?
[ $rc = 125 ] || problem "$CASE: exit $rc, want 125"
[ "$(wc -l <"$tmp/err")" = 1 ] && grep -q "no reader" "$tmp/err" ||
	problem "$CASE: message: $(cat "$tmp/err")"
[ -e "$tmp/ran" ] && problem "$CASE: the program ran"
[ -p "$tmp/fifo" ] || problem "$CASE: the FIFO was replaced"
exit $fail
