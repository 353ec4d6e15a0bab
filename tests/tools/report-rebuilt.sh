#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A module rebuilt since the run (another build id) must not credit
# functions that never ran: every mode (summary, -r, -r -u -s, -L, -l,
# --diff, --uncovered) warns on stderr and leaves its PCs unsymbolized.
# Environment: BUILD.  Exit 0 pass, 1 fail, 77 skip.
# shellcheck source=report-lib.bash
. "$(dirname "$0")/report-lib.bash"
report_setup report-rebuilt

cat >"$tmp/prog.c" <<'EOC'
volatile int sink;
__attribute__((noinline)) void ran_before(int v) { if (v) sink = v; }
int main(int argc, char **argv) { (void)argv; ran_before(argc); return 0; }
EOC
build() {
	gcc -O1 -g -fsanitize-coverage=trace-pc -fno-optimize-sibling-calls $SANFLAGS \
		-o "$tmp/prog" "$tmp/prog.c" $LINK
}
build || { echo "cannot build"; exit 1; }
"$RUN" -q -o "$tmp/a.cov" -- "$tmp/prog" >/dev/null 2>&1 || problem "ukcov-run failed"
cp "$tmp/a.cov" "$tmp/b.cov"
"$REPORT" -r -u -s "$tmp/a.cov" | grep -q ' ran_before ' ||
	problem "before the rebuild: ran_before not found"
# Rebuilt: other functions at the same offsets.
cat >"$tmp/prog.c" <<'EOC'
volatile int sink;
__attribute__((noinline)) void never_ran(int v) { if (v > 1) sink = v * 3; }
__attribute__((noinline)) void ran_before(int v) { if (v) sink = v; }
int main(int argc, char **argv) { (void)argv; ran_before(argc); never_ran(2); return 0; }
EOC
build || { echo "cannot rebuild"; exit 1; }

# mode NAME ARGS...: stderr warns, stdout names no function of the program.
mode() {
	local name=$1
	shift
	"$REPORT" "$@" >"$tmp/out" 2>"$tmp/err"
	grep -q "warning: $tmp/prog was rebuilt since the run (its build id differs): its PCs are left unsymbolized" "$tmp/err" ||
		{ problem "$name: no warning on stderr:"; cat "$tmp/err"; }
	[ "$(grep -c 'was rebuilt since the run' "$tmp/err")" -le 1 ] ||
		problem "$name: warned more than once"
	! grep -Eq 'never_ran|ran_before|functions: main|(prog|FN:[0-9]+,) ?main' "$tmp/out" ||
		{ problem "$name: credits functions of the rebuilt program:"; grep -E 'never_ran|ran_before|main' "$tmp/out"; }
}
mode summary "$tmp/a.cov"
grep -q "prog: WARNING: its build id differs from the run's" "$tmp/out" ||
	problem "summary: no warning in the symbols"
mode raw -r "$tmp/a.cov"
mode "raw unique symbolized" -r -u -s "$tmp/a.cov"
grep -q '^prog+0x[0-9a-f]* (module rebuilt since the run: not symbolized)$' "$tmp/out" ||
	{ problem "-r -u -s does not say why:"; head -3 "$tmp/out"; }
mode lcov -L - "$tmp/a.cov"
mode "lcov dir" -l "$tmp/lcov" "$tmp/a.cov"
! grep -rq 'FN:' "$tmp/lcov" 2>/dev/null || problem "-l: functions of the rebuilt program"
mode diff --diff "$tmp/b.cov" "$tmp/a.cov"
mode uncovered --uncovered "$tmp/a.cov"
exit $fail
