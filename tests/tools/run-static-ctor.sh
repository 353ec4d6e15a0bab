#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Issue 12, strict input, item 12: a program linked with the static
# archive (-l:libukcov.a, not whole-archive) that calls nothing of
# ukcov's and nothing ukcov interposes (no threads, no signals, no exit:
# main returns) still gets the collector (ukcov-run(1), CHECKS): ukcov-run
# accepts it without --no-check, exits 0, and the file holds its main
# area with its marker.  The program is run-target.c built with
# -DRUN_PLAIN; its object must refer to nothing but the coverage
# callback, or the case is not the one of the issue.  In the sanitizer
# suites, the whole archive, as they link.
# Environment: BUILD, CC, SAN.  Exit 0 pass, 1 fail, 77 skip.
# shellcheck source=run-lib.bash
. "$(dirname "$0")/run-lib.bash"
run_setup run-static-ctor

# shellcheck disable=SC2046
"$CC" $(cov_flags) -DRUN_PLAIN -c -o "$tmp/plain.o" "$SRC/tests/tools/run-target.c" ||
	{ echo "cannot build"; exit 1; }
if [ -z "$SANFLAGS" ]; then
	refs=$(nm -u "$tmp/plain.o" | awk '{ print $2 }' | grep -v '^_GLOBAL_OFFSET_TABLE_$' | tr '\n' ' ')
	[ "$refs" = "__sanitizer_cov_trace_pc " ] ||
		problem "the program refers to more than the callback: $refs"
	link="-L$ABS -l:libukcov.a"
	case $("$CC" --version 2>/dev/null) in
	*clang*) link="$link -fno-sanitize-link-runtime" ;;
	esac
else
	link="-rdynamic $(link_flags whole)"
fi
# shellcheck disable=SC2086
"$CC" $SANFLAGS -o "$tmp/plain" "$tmp/plain.o" $link ||
	{ echo "cannot link"; exit 1; }
CASE=plain
"$RUN" -o "$tmp/plain.cov" -- "$tmp/plain" >/dev/null 2>"$tmp/err"
rc=$?
[ "$rc" = 0 ] || { problem "ukcov-run exited $rc:"; cat "$tmp/err"; }
grep -q "wrote $tmp/plain.cov: 1 thread, 1 common" "$tmp/err" ||
	{ problem "ukcov-run's summary:"; cat "$tmp/err"; }
check_marker "$tmp/plain.cov" m_plain "main"
[ "$(run_record "$tmp/plain.cov")" = "1 0 0 0" ] ||
	problem "run record '$(run_record "$tmp/plain.cov")'"
exit $fail
