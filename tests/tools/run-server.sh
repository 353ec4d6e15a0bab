#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Issue 12, Servers: ukcov-run is usable on a server without tuning.
# run-server.c, a loopback server (an acceptor, four workers, a ticking
# maintenance thread), runs under ukcov-run with default settings while
# a client (not collected) sends 2 connections of 40000 requests, then
# "shutdown".  With the defaults: the run exits 0 and warns of nothing
# (no entry dropped), the client's replies are the same as without
# ukcov-run, every area holds distinct PCs, the request handlers are in
# worker areas only and the tick in the maintenance thread's only.  The
# same load with -m pc -s 64K (every execution, into areas a quarter of
# the default size) drops entries: the load would fill ordered areas,
# and the defaults hold it (with gcc's instrumentation it overflows the
# default 256 Ki words too; clang's places fewer callbacks).
# Environment: BUILD, CC, SAN.  Exit 0 pass, 1 fail, 77 skip.
# shellcheck source=run-lib.bash
. "$(dirname "$0")/run-lib.bash"
run_setup run-server

# serve_and_load COV STDERR [OPTIONS...]: the server under ukcov-run, the
# load against it; the client's checksum on standard output.
serve_and_load() {
	local cov=$1 err=$2 ready=$tmp/ready pid port
	shift 2
	rm -f "$ready"
	"$RUN" "$@" -o "$cov" -- "$prog" serve "$ready" >/dev/null 2>"$err" &
	pid=$!
	wait_file "$ready" 60 || { problem "$CASE: the server did not start: $(cat "$err")"; kill "$pid"; return; }
	port=$(cat "$ready")
	"$prog" load "$port" 2 40000 || problem "$CASE: the client failed"
	wait "$pid" || problem "$CASE: ukcov-run exited $?: $(cat "$err")"
}

for form in $FORMS; do
	prog=$tmp/server-$form
	# shellcheck disable=SC2046
	"$CC" $(cov_flags) -o "$prog" "$SRC/tests/tools/run-server.c" \
		$(link_flags "$form") -lpthread ||
		{ echo "run-server: cannot build run-server.c ($form)"; exit 1; }

	CASE="$form/plain"
	rm -f "$tmp/ready"
	"$prog" serve "$tmp/ready" &
	spid=$!
	wait_file "$tmp/ready" 60 || { problem "$CASE: no start"; kill $spid; continue; }
	want=$("$prog" load "$(cat "$tmp/ready")" 2 40000)
	wait $spid

	CASE="$form/defaults"
	got=$(serve_and_load "$tmp/d.cov" "$tmp/d.err")
	[ "$got" = "$want" ] || problem "$CASE: replies' checksum $got, want $want"
	grep -q warning "$tmp/d.err" && problem "$CASE: $(grep warning "$tmp/d.err")"
	while read -r label entries uniq; do
		[ "$entries" = "$uniq" ] ||
			problem "$CASE: $label has $entries entries, $uniq distinct"
	done < <("$REPORT" "$tmp/d.cov" | awk '$2 ~ /^[0-9]+$/ && $3 ~ /^[0-9]+$/ { print $1, $2, $3 }')
	for m in m_srv_get m_srv_set; do
		areas=$(marker_areas "$tmp/d.cov" $m)
		[ -n "$areas" ] || problem "$CASE: $m in no area"
		for a in $areas; do
			case $a in
			thread:worker*) ;;
			*) problem "$CASE: $m in $a, not a worker's area" ;;
			esac
		done
	done
	check_marker "$tmp/d.cov" m_srv_tick "thread:ticker"

	CASE="$form/-m pc -s 64K"
	serve_and_load "$tmp/p.cov" "$tmp/p.err" -m pc -s 64K >/dev/null
	grep -q "entries were dropped" "$tmp/p.err" ||
		problem "$CASE: nothing dropped: the load is too light to test the defaults"
done
exit $fail
