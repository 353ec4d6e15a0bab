#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# ukcov-run and ukcov-report (issue 5), run for real:
#   - ukcov-run on the examples: every thread's trace present, a thread
#     that exits early kept, attributions right (a function only a worker
#     runs is under the worker / the handle, not under the main thread);
#   - ukcov-report's symbolized output against known functions and lines of
#     a test program built with -g; inlined frames; the symbol-table
#     fallback (--no-dwarf);
#   - module+offset form identical across two runs (ASLR on); diff;
#   - lcov output accepted by genhtml (installed with apt-get when root,
#     else that part is skipped with a message);
#   - every user error: one line on stderr and a non-zero exit.
# Environment: BUILD (default build), CC (default gcc).  Exit 0/1/77.
set -u
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
CC=${CC:-gcc}
RUN=$BUILD/tools/ukcov-run
REPORT=$BUILD/tools/ukcov-report

# The tools need elfutils (libdw-dev); installed when root, else skipped.
if [ ! -e /usr/include/elfutils/libdw.h ] || [ ! -e /usr/include/gelf.h ]; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
			apt-get install -y -qq libdw-dev; } >/dev/null 2>&1
	fi
	[ -e /usr/include/elfutils/libdw.h ] && [ -e /usr/include/gelf.h ] ||
		{ echo "tools: libdw-dev is not installed (not root, or apt-get failed)"; exit 77; }
fi
make -s BUILD="$BUILD" CC="$CC" lib tools examples >/dev/null 2>&1 ||
	{ echo "tools: build failed"; exit 1; }
[ -x "$RUN" ] && [ -x "$REPORT" ] || { echo "tools: not built"; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# ukcov-report caches coverable PCs there: not in the user's ~/.cache.
export XDG_CACHE_HOME=$tmp/cache
fail=0
problem() {
	echo "tools: $*"
	fail=1
}
# expect_in FILE PATTERN WHAT: grep -E must find PATTERN in FILE.
expect_in() {
	grep -Eq -- "$2" "$1" || { problem "$3 (no /$2/ in:)"; sed 's/^/    /' "$1" | head -40; }
}
expect_not_in() {
	! grep -Eq -- "$2" "$1" || problem "$3 (found /$2/)"
}

# ---- a test program built with -g, with known functions and lines ------
cat >"$tmp/target.c" <<'EOF'
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <ukcov.h>
volatile int sink;
__attribute__((noinline)) void only_in_worker(int v)
{
	sink = v + 1; /* TARGET-LINE-WORKER */
}
__attribute__((noinline)) void only_in_early(int v)
{
	sink = v * 2; /* TARGET-LINE-EARLY */
}
__attribute__((noinline)) void only_in_main(int v)
{
	if (v > 3)
		sink = v; /* TARGET-LINE-MAIN */
}
__attribute__((noinline)) void only_remote(int v)
{
	sink = v - 1; /* TARGET-LINE-REMOTE */
}
__attribute__((noinline)) void only_in_handler(int v)
{
	sink = v ^ 5; /* TARGET-LINE-HANDLER */
}
static inline __attribute__((always_inline)) void inlined_helper(int v)
{
	if (v & 1)
		sink = v << 1; /* TARGET-LINE-INLINED */
}
__attribute__((noinline)) void calls_inline(int v)
{
	inlined_helper(v);
}
void on_usr1(int s)
{
	only_in_handler(s);
}
static void *worker(void *a)
{
	pthread_setname_np(pthread_self(), "worker");
	only_in_worker((int)(long)a);
	/* A remote section for a global handle given to ukcov-run. */
	ukcov_remote_start(ukcov_remote_handle(UKCOV_SUBSYSTEM_APP(3), 7));
	only_remote(2);
	ukcov_remote_stop();
	return NULL;
}
static void *early(void *a)
{
	only_in_early((int)(long)a);
	return NULL;	/* exits long before the process */
}
int main(int argc, char **argv)
{
	pthread_t w, e;
	signal(SIGUSR1, on_usr1);
	pthread_create(&e, NULL, early, (void *)3L);
	pthread_join(e, NULL);
	pthread_create(&w, NULL, worker, (void *)1L);
	pthread_join(w, NULL);
	only_in_main(argc + 4);
	calls_inline(argc | 1);
	raise(SIGUSR1);
	if (argc > 1)
		only_in_main(argc + 10);
	return argv[0] ? 0 : 1;
}
EOF
cat >"$tmp/plain.c" <<'EOF'
int main(void) { return 0; }
EOF
LINK="-L$BUILD -lukcov -Wl,-rpath,$(cd "$BUILD" && pwd) -lpthread"
$CC -O1 -g -Iinclude -fsanitize-coverage=trace-pc,trace-cmp \
	-fno-optimize-sibling-calls -o "$tmp/target" "$tmp/target.c" $LINK ||
	{ echo "tools: cannot build the test program"; exit 1; }
$CC -O1 -Iinclude -o "$tmp/plain" "$tmp/plain.c" || exit 1
$CC -O1 -Iinclude -o "$tmp/uninstr" "$tmp/plain.c" $LINK -Wl,--no-as-needed -lukcov || exit 1
line_of() { grep -n "$1" "$tmp/target.c" | cut -d: -f1; }

H=0x8300000000000007
"$RUN" -q -o "$tmp/t1.cov" -H $H -S USR1 -- "$tmp/target" >"$tmp/out" 2>&1 ||
	{ problem "ukcov-run on the test program failed:"; cat "$tmp/out"; }
"$REPORT" -f "$tmp/t1.cov" >"$tmp/sum" 2>&1 || problem "ukcov-report failed"
# Threads: main, the early thread (labelled by its start routine), the worker.
expect_in "$tmp/sum" '^main .*"target", the main thread' "main thread's trace"
expect_in "$tmp/sum" '^thread:worker .*"worker"' "worker's trace, by its pthread name"
expect_in "$tmp/sum" '^thread:early ' "early thread's trace (labelled by its start routine)"
expect_in "$tmp/sum" '^handle:app3:7 ' "global handle area"
expect_in "$tmp/sum" '^signal:SIGUSR1 ' "per-signal area"
expect_in "$tmp/sum" '^common ' "common area"

# Attribution, per area, from symbolized unique PCs.
area() { "$REPORT" -r -u -s -a "$1" "$tmp/t1.cov"; }
area main >"$tmp/main"
area thread:early >"$tmp/early"
area thread:worker >"$tmp/worker"
area handle:app3:7 >"$tmp/remote"
area signal:USR1 >"$tmp/sig"
expect_in "$tmp/early" " only_in_early target.c:$(line_of TARGET-LINE-EARLY)\$" "early thread kept, with its function and line"
expect_in "$tmp/worker" " only_in_worker target.c:$(line_of TARGET-LINE-WORKER)\$" "worker's function under the worker"
expect_in "$tmp/remote" " only_remote target.c:$(line_of TARGET-LINE-REMOTE)\$" "remote section under its handle"
expect_in "$tmp/sig" " only_in_handler target.c:$(line_of TARGET-LINE-HANDLER)\$" "handler under its signal"
expect_in "$tmp/main" " only_in_main target.c:$(line_of TARGET-LINE-MAIN)\$" "main's function and line"
expect_in "$tmp/main" " inlined_helper target.c:$(line_of TARGET-LINE-INLINED) \(inlined into calls_inline at target.c:[0-9]+\)" "inlined frame"
for f in only_in_worker only_in_early only_remote only_in_handler; do
	expect_not_in "$tmp/main" " $f " "$f under the main thread"
done
expect_not_in "$tmp/worker" " only_remote " "remote section's code in the worker's own trace"
expect_not_in "$tmp/sig" " main " "main under the signal"

# Symbol-table fallback: functions, no lines, said per module.
"$REPORT" --no-dwarf "$tmp/t1.cov" >"$tmp/nodw" 2>&1
expect_in "$tmp/nodw" "target: symbol table only" "fallback named per module"
"$REPORT" --no-dwarf -r -u -s -a thread:worker "$tmp/t1.cov" >"$tmp/nodw2"
expect_in "$tmp/nodw2" "^target\+0x[0-9a-f]+ only_in_worker\$" "fallback function from the symbol table"
# Without debug info at all (stripped of .debug_*): says so.
cp "$tmp/target" "$tmp/target.full"
objcopy --strip-debug "$tmp/target" 2>/dev/null &&
	{ "$REPORT" "$tmp/t1.cov" >"$tmp/strip" 2>&1
	  expect_in "$tmp/strip" "symbol table only \(no debug info" "missing debug info said per module"; }
# A rebuilt program (another build id): said.
$CC -O2 -g -Iinclude -fsanitize-coverage=trace-pc -o "$tmp/target" "$tmp/target.c" $LINK
"$REPORT" "$tmp/t1.cov" >"$tmp/rebuilt" 2>&1
expect_in "$tmp/rebuilt" "build id differs" "rebuilt module detected"
cp "$tmp/target.full" "$tmp/target"

# ---- module+offset form: identical across two runs (ASLR on) -----------
"$RUN" -q -o "$tmp/t2.cov" -H $H -S USR1 -- "$tmp/target" >/dev/null 2>&1
for a in main thread:early thread:worker handle:app3:7 signal:SIGUSR1; do
	"$REPORT" -r -a "$a" "$tmp/t1.cov" >"$tmp/r1"
	"$REPORT" -r -a "$a" "$tmp/t2.cov" >"$tmp/r2"
	cmp -s "$tmp/r1" "$tmp/r2" || { problem "raw $a differs across runs:"; diff "$tmp/r1" "$tmp/r2" | head; }
done
grep -q '^target+0x' "$tmp/r1" || problem "raw output not in module+offset form"
# cmp mode records
"$RUN" -q -m cmp -o "$tmp/c.cov" -- "$tmp/target" >/dev/null 2>&1
"$REPORT" -r -a main "$tmp/c.cov" >"$tmp/cmp"
expect_in "$tmp/cmp" '^target\+0x[0-9a-f]+ cmp(8|16|32|64)( const)? 0x[0-9a-f]+ 0x[0-9a-f]+$' "cmp records"
"$REPORT" "$tmp/c.cov" >"$tmp/cmpsum"
expect_in "$tmp/cmpsum" "cmp mode" "cmp summary"

# ---- diff: the second argument takes only_in_main's other branch -------
"$RUN" -q -o "$tmp/t3.cov" -- "$tmp/target" x >/dev/null 2>&1
"$REPORT" -a main --diff "$tmp/t1.cov" "$tmp/t3.cov" >"$tmp/diff" 2>&1 || problem "diff failed"
expect_in "$tmp/diff" "^covered by $tmp/t3.cov and not by $tmp/t1.cov: [1-9]" "diff finds the new PCs"
expect_in "$tmp/diff" "^covered by $tmp/t1.cov and not by $tmp/t3.cov: 0 PCs" "diff the other way"
expect_in "$tmp/diff" "target main: target.c:[0-9]+" "diff names function and line"

# ---- the examples: every thread's trace present ------------------------
"$RUN" -q -o "$tmp/tp.cov" -- "$BUILD/examples/thread-pool" >/dev/null 2>&1
n=$("$REPORT" -a threads -r "$tmp/tp.cov" | grep -c '^# ')
[ "$n" = 5 ] || problem "thread-pool: $n thread areas, want 5 (main, 2 workers, 2 requesters)"
"$RUN" -q -o "$tmp/rw.cov" -- "$BUILD/examples/remote-worker" >/dev/null 2>&1
n=$("$REPORT" -a threads -r "$tmp/rw.cov" | grep -c '^# ')
[ "$n" = 3 ] || problem "remote-worker: $n thread areas, want 3"
"$RUN" -q -o "$tmp/d.cov" -H 0x8100000000000001,0x8100000000000002 -S ALRM,CHLD \
	-- "$BUILD/examples/demo-server" >/dev/null 2>&1 || problem "demo-server failed under ukcov-run"
"$REPORT" -f "$tmp/d.cov" >"$tmp/d" 2>&1
for t in main thread:config thread:pool-0 thread:pool-1 thread:pool-2 \
	thread:client-0 thread:client-1 common handle:app1:1 handle:app1:2 \
	signal:SIGALRM signal:SIGCHLD; do
	expect_in "$tmp/d" "^$t " "demo-server: area $t"
done
"$REPORT" -r -u -s -a handle:app1:1 "$tmp/d.cov" >"$tmp/c0"
"$REPORT" -r -u -s -a handle:app1:2 "$tmp/d.cov" >"$tmp/c1"
"$REPORT" -r -u -s -a main "$tmp/d.cov" >"$tmp/dm"
expect_in "$tmp/c0" " handle_get " "client-0's GETs under its handle"
expect_not_in "$tmp/c0" " handle_put " "client-1's PUTs under client-0's handle"
expect_in "$tmp/c1" " handle_put " "client-1's PUTs under its handle"
expect_not_in "$tmp/c1" " handle_get " "client-0's GETs under client-1's handle"
for f in handle_get handle_put on_alarm on_child pool_worker; do
	expect_not_in "$tmp/dm" " $f " "demo-server: $f under the main thread"
done

# ---- lcov and genhtml ---------------------------------------------------
"$REPORT" -l "$tmp/lcov" "$tmp/t1.cov" 2>/dev/null || problem "--lcov failed"
[ -s "$tmp/lcov/main.info" ] && [ -s "$tmp/lcov/thread_worker.info" ] ||
	problem "--lcov: per-area tracefiles missing: $(ls "$tmp/lcov")"
expect_in "$tmp/lcov/thread_worker.info" "^DA:$(line_of TARGET-LINE-WORKER),1\$" "lcov line of the worker"
expect_in "$tmp/lcov/thread_worker.info" "^FN:[0-9]+,only_in_worker\$" "lcov function of the worker"
"$REPORT" -L "$tmp/all.info" "$tmp/t1.cov" 2>/dev/null || problem "--lcov-merged failed"
if ! command -v genhtml >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
	{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq lcov; } >/dev/null 2>&1
fi
if command -v genhtml >/dev/null 2>&1; then
	genhtml -q --show-details -o "$tmp/html" "$tmp/all.info" >"$tmp/gh" 2>&1 ||
		{ problem "genhtml rejected the merged tracefile:"; cat "$tmp/gh"; }
	genhtml -q -o "$tmp/html2" "$tmp"/lcov/*.info >"$tmp/gh" 2>&1 ||
		{ problem "genhtml rejected the per-area tracefiles:"; cat "$tmp/gh"; }
	[ -s "$tmp/html/index.html" ] || problem "genhtml wrote no index.html"
else
	echo "tools: genhtml part skipped: lcov is not installed and cannot be (not root or no apt-get)"
fi

# ---- user errors: one line, non-zero ------------------------------------
# err WHAT PATTERN CMD...: CMD must exit non-zero with exactly one line
# matching PATTERN on stderr.
err() {
	local what=$1 pat=$2 rc lines
	shift 2
	"$@" >"$tmp/eo" 2>"$tmp/ee"
	rc=$?
	lines=$(wc -l <"$tmp/ee")
	if [ $rc -eq 0 ] || [ "$lines" -ne 1 ] || ! grep -Eq -- "$pat" "$tmp/ee"; then
		problem "$what: exit $rc, stderr:"
		sed 's/^/    /' "$tmp/ee"
	fi
}
err "not linked" "not linked with libukcov" "$RUN" -o "$tmp/x.cov" -- "$tmp/plain"
err "not instrumented" "not instrumented" "$RUN" -o "$tmp/x.cov" -- "$tmp/uninstr"
err "no such program" "no such program" "$RUN" -o "$tmp/x.cov" -- "$tmp/nonexistent"
err "script" "not an ELF file" "$RUN" -o "$tmp/x.cov" -- "$0"
err "unwritable output" "cannot write" "$RUN" -o "$tmp/no/such/dir/x.cov" -- "$tmp/target"
err "bad option" "unknown option" "$RUN" --frobnicate -- "$tmp/target"
err "bad mode" "not pc, unique or cmp" "$RUN" -m edge -- "$tmp/target"
err "bad size" "512..0xfffffff" "$RUN" -s 12 -- "$tmp/target"
err "bad handle" "not a global handle" "$RUN" -H 0x1234 -- "$tmp/target"
err "bad signal" "not a signal" "$RUN" -S NOPE -- "$tmp/target"
err "no program" "no program to run" "$RUN" -o "$tmp/x.cov"
err "missing file" "No such file" "$REPORT" "$tmp/missing.cov"
printf 'garbage!garbage!garbage!garbage!' >"$tmp/bad.cov"
err "not a coverage file" "not a ukcov coverage file" "$REPORT" "$tmp/bad.cov"
: >"$tmp/empty.cov"
err "empty file" "empty file" "$REPORT" "$tmp/empty.cov"
# A cut-short last record: the whole records before it are kept, one
# warning, exit 0.
head -c 100 "$tmp/t1.cov" >"$tmp/trunc.cov"
"$REPORT" "$tmp/trunc.cov" >"$tmp/eo" 2>"$tmp/ee" ||
	problem "truncated file: exit $?"
[ "$(wc -l <"$tmp/ee")" = 1 ] && grep -q "file truncated after 0 whole records" "$tmp/ee" ||
	{ problem "truncated file: stderr:"; cat "$tmp/ee"; }
expect_in "$tmp/eo" "the run's end was not recorded" "truncated file: no run record said"
{ printf 'UKCOVRUN'; printf '\x09\x00\x00\x00\x08\x00\x00\x00'; head -c 8 /dev/zero; } >"$tmp/v9.cov"
err "future version" "version 9 is not supported" "$REPORT" "$tmp/v9.cov"
{ printf 'UKCOVRUN'; printf '\x01\x00\x00\x00\x08\x00\x00\x00'; head -c 8 /dev/zero; } >"$tmp/v1.cov"
err "version 1" "version 1 file: written by an older ukcov-run; run the program again" "$REPORT" "$tmp/v1.cov"
err "unwritable lcov" "cannot (write|create)" "$REPORT" -L "$tmp/no/such/dir/x.info" "$tmp/t1.cov"
err "unknown area" "no area matches" "$REPORT" -a thread:nobody "$tmp/t1.cov"
err "report bad option" "unknown option" "$REPORT" --frobnicate "$tmp/t1.cov"
err "report no file" "no coverage file" "$REPORT"
# A killed run: the summary's first line says so.
"$RUN" -q --no-check -o "$tmp/k.cov" -- sh -c 'kill -KILL $$' >/dev/null 2>&1
"$REPORT" "$tmp/k.cov" >"$tmp/ko" 2>&1
head -n 1 "$tmp/ko" | grep -q "^$tmp/k.cov: INCOMPLETE: the program was killed by SIGKILL" ||
	{ problem "killed run not said on the first line:"; head -n 3 "$tmp/ko"; }
expect_not_in "$tmp/sum" "the run's end was not recorded" "a whole run said to be cut short"
# --no-check runs a program anyway; it then writes no coverage: said once.
"$RUN" --no-check -o "$tmp/p.cov" -- "$tmp/plain" >/dev/null 2>"$tmp/ee"
grep -q "did not run libukcov's collector" "$tmp/ee" && [ "$(wc -l <"$tmp/ee")" = 1 ] ||
	problem "--no-check on a plain program: $(cat "$tmp/ee")"

exit $fail
