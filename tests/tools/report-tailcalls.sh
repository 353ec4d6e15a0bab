#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# gcc's tail calls: a function whose last callback is a jump records its
# caller's return address.  In libukcov (ukcov_run_captured, the signal
# wrapper) that PC is a tail call into uninstrumented code, in instrumented
# code after a call it is at no coverage call site: counted apart, shown as
# such by -r -s, never a function or line of the summary, lcov or --diff,
# and genhtml never sees a path of libukcov.  Environment: BUILD.  Exit 0
# pass, 1 fail, 77 skip.
# shellcheck source=report-lib.bash
. "$(dirname "$0")/report-lib.bash"
report_setup report-tailcalls
command -v objdump >/dev/null 2>&1 || { echo "objdump is not installed"; exit 77; }

cat >"$tmp/prog.c" <<'EOC'
#include <signal.h>
#include <ukcov.h>
volatile int sink;
/* gcc -O2 ends this with a jump to the callback. */
__attribute__((noinline)) void tail_leaf(int v)
{
	if (v > 2)
		sink = v;
}
__attribute__((noinline)) void calls_leaf(int v)
{
	tail_leaf(v);
	sink++;
}
/* Called by libukcov: ukcov_run_captured, the signal wrapper. */
static void job(void *a)
{
	if ((long)a > 2)
		sink = 3;
}
static void on_usr1(int s)
{
	if (s > 2)
		sink = s;
}
int main(int argc, char **argv)
{
	(void)argv;
	calls_leaf(argc + 5);
	ukcov_run_captured(ukcov_capture(), job, (void *)5L);
	signal(SIGUSR1, on_usr1);
	raise(SIGUSR1);
	return 0;
}
EOC
gcc -O2 -g -Iinclude -fsanitize-coverage=trace-pc $SANFLAGS -o "$tmp/prog" "$tmp/prog.c" \
	$LINK || { echo "cannot build"; exit 1; }
jumps=$(objdump -d "$tmp/prog" | awk '/^[0-9a-f]+ <.*>:$/ { f = $2 }
	/jmp/ && /<__sanitizer_cov_trace_pc(@plt)?>/ { print f }' | sort -u | tr -d '<>:' | tr '\n' ' ')
case $jumps in
*tail_leaf*) ;;
*) echo "gcc made no tail call to the callback here (jumps in: $jumps)"; exit 77 ;;
esac
# libukcov.so is not instrumented; linked statically (sanitizer builds),
# its code is part of the instrumented program, at no call site.
if [ -n "$SANFLAGS" ]; then
	INTO="at no coverage call site" LIBUKCOV=prog
else
	INTO="into uninstrumented code" LIBUKCOV='libukcov\.so[^ ]*'
fi
"$RUN" -q -o "$tmp/t.cov" -S USR1 -- "$tmp/prog" >/dev/null 2>&1 || problem "ukcov-run failed"
"$REPORT" -f "$tmp/t.cov" >"$tmp/sum" 2>&1 || problem "ukcov-report failed"
grep -A3 '^main ' "$tmp/sum" | grep -q 'tail call at no coverage call site, not attributed' ||
	{ problem "main: the tail call after calls_leaf's call not said:"; grep -A3 '^main ' "$tmp/sum"; }
for a in common signal:SIGUSR1; do
	case " $jumps " in
	*" job "*) [ $a = common ] || continue ;;
	*" on_usr1 "*) [ $a = signal:SIGUSR1 ] || continue ;;
	*) continue ;;
	esac
	grep -A3 "^$a " "$tmp/sum" | grep -q "tail call $INTO, not attributed" ||
		{ problem "$a: the tail call into libukcov not said:"; grep -A3 "^$a " "$tmp/sum"; }
done
[ -n "$SANFLAGS" ] ||
grep -Eq 'libukcov.so[^:]*: .*not instrumented; [0-9]+ entr(y is a|ies are) tail calls? into it' "$tmp/sum" ||
	{ problem "libukcov's line in symbols:"; sed -n '/^symbols:/,$p' "$tmp/sum"; }
# No function of libukcov is covered code.
! grep -A2 -E '^(common|signal:SIGUSR1|main) ' "$tmp/sum" |
	grep -Eq 'ukcov_run_captured|signal_wrapper|__ukcov' ||
	problem "a libukcov function listed as covered: $(grep functions: "$tmp/sum")"
"$REPORT" -r -u -s "$tmp/t.cov" >"$tmp/raw"
grep -Eq "^$LIBUKCOV\+0x[0-9a-f]+ (ukcov_run_captured|wrapper) \(tail call $INTO: not attributed\)\$" "$tmp/raw" ||
	{ problem "-r -s does not mark the tail call into libukcov:"; grep -E 'ukcov_run_captured|wrapper' "$tmp/raw"; }
grep -q '^prog+0x[0-9a-f]* calls_leaf (tail call at no coverage call site: not attributed)$' "$tmp/raw" ||
	{ problem "-r -s does not mark the tail call in calls_leaf:"; grep calls_leaf "$tmp/raw"; }
# lcov: only the program's source, absolute.
"$REPORT" -L "$tmp/t.info" "$tmp/t.cov" 2>/dev/null || problem "-L failed"
bad=$(grep '^SF:' "$tmp/t.info" | grep -v "^SF:$tmp/prog.c\$" | sort -u)
[ -z "$bad" ] || problem "lcov has other sources: $bad"
! grep -q 'ukcov_run_captured' "$tmp/t.info" || problem "lcov names ukcov_run_captured"
if command -v genhtml >/dev/null 2>&1; then
	genhtml -q -o "$tmp/html" "$tmp/t.info" >"$tmp/gh" 2>&1 ||
		{ problem "genhtml failed:"; cat "$tmp/gh"; }
fi
# --diff against a run without the signal: no libukcov PC either way.
"$RUN" -q -o "$tmp/u.cov" -- "$tmp/prog" >/dev/null 2>&1
"$REPORT" --diff "$tmp/u.cov" "$tmp/t.cov" >"$tmp/diff" 2>&1 || problem "--diff failed"
! grep -q 'libukcov' "$tmp/diff" || { problem "--diff lists libukcov:"; cat "$tmp/diff"; }
exit $fail
