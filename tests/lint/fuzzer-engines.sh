#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Issue 14, items 2 and 3: the feeds, driven by the real engines, on the
# example harness (examples/fuzzing/pool-harness.c: a 4-thread pool whose
# jobs say "done" from inside, a ticker thread that never stops).
#   libFuzzer (libukcov-libfuzzer.a):
#     - -runs=0 over 6 seeds of different job kinds keeps all 6 (each has
#       features of its own), with the same feature count twice;
#     - a short run (-runs=3000) ends cleanly; -merge=1 works;
#     - the crashing input is reported as libFuzzer reports a crash; no
#       memory for the feed's area is one line and exit 1, before libFuzzer
#       runs (no crash artifact); no warning of missing sanitizer functions.
#   AFL++ (libukcov-afl.a):
#     - afl-showmap gives each seed the same map 10 times in 10 processes
#       (none of the ticker's code, all of the late jobs'), and different
#       seeds different maps;
#     - afl-showmap on the crashing input: a crash, with a map (the crash
#       handler folds what ran); tests/fuzzer/ends-harness.c: an abort on
#       a pool thread, an exit() there, an abort on the harness thread all
#       have maps, the two crashes different ones;
#     - afl-fuzz for 8 seconds: stability 100.00%, in persistent mode.
#   The AFL++ driver's bad input (a shared memory id that is not one, a map
#   size or loop count out of range, a missing input file): exit 2 with
#   one line; a segment smaller than the map is written within.
#   The build lines of ukcov_fuzzer(3): examples/fuzzing/build.sh against
#   this build tree, and examples/fuzzing/oss-fuzz-build.sh in OSS-Fuzz's
#   environment (libfuzzer and afl, each with AddressSanitizer), each
#   binary run on the seeds.
# libFuzzer comes with clang (Debian: libclang-rt-14-dev), AFL++ from the
# afl++ package: installed with apt-get when missing and running as root;
# a part whose engine is missing is skipped (the whole test exits 77 when
# both are).  Environment: BUILD (default build), CC (default gcc).
set -u
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
CC=${CC:-gcc}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0 ran=0
problem() {
	echo "fuzzer-engines: $*"
	fail=1
}

if ! command -v afl-showmap >/dev/null 2>&1 && [ "$(id -u)" = 0 ] &&
	command -v apt-get >/dev/null 2>&1; then
	{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq afl++; } >/dev/null 2>&1
fi
if ! make -s BUILD="$BUILD" CC="$CC" examples >"$tmp/make.log" 2>&1; then
	cat "$tmp/make.log"
	echo "fuzzer-engines: the examples did not build"
	exit 1
fi
LF=$BUILD/examples/fuzzing/pool-harness-libfuzzer
AFL=$BUILD/examples/fuzzing/pool-harness-afl

# Seeds: byte 0 the job kind, byte 1 the jobs (1 + n % 8), then data.
seeds=$tmp/seeds
mkdir -p "$seeds"
printf '\000\000hello'   >"$seeds/sum1"
printf '\001\001abab'    >"$seeds/xor2"
printf '\002\002aabbz'   >"$seeds/count3"
printf '\003\003zzzz'    >"$seeds/max4"
printf '\000\007a'       >"$seeds/sum8"
printf '\002\000'        >"$seeds/count-empty"
printf 'CRASH!'          >"$tmp/crash"

# ---- the AFL++ driver's answers to bad input: one line, exit 2 -----------
bad() {	# WHAT, then the command's environment and arguments
	local what=$1 out rc
	shift
	out=$(env "$@" <"$seeds/sum1" 2>&1 >/dev/null)
	rc=$?
	[ $rc = 2 ] && [ "$(printf '%s\n' "$out" | wc -l)" = 1 ] &&
		case $out in ukcov-afl:*) true ;; *) false ;; esac ||
		problem "$what: exit $rc, said '$out' (want exit 2 and one ukcov-afl: line)"
}
bad "__AFL_SHM_ID not a number" __AFL_SHM_ID=abc "$AFL"
bad "__AFL_SHM_ID of no segment" __AFL_SHM_ID=2147483647 "$AFL"
bad "UKCOV_AFL_MAP_SIZE=0" UKCOV_AFL_MAP_SIZE=0 "$AFL"
bad "UKCOV_AFL_LOOP=x" UKCOV_AFL_LOOP=x "$AFL"
bad "an input file that is not there" "$AFL" "$tmp/no-such-input"
if command -v python3 >/dev/null 2>&1; then
	# A segment smaller than the map: the driver writes within it.
	python3 - "$AFL" "$seeds/sum1" <<'PY' || problem "a 1 KiB segment: the driver failed"
import ctypes, os, subprocess, sys
libc = ctypes.CDLL(None, use_errno=True)
shm = libc.shmget(0, 1024, 0o1600)  # IPC_PRIVATE, IPC_CREAT | 0600
try:
    env = dict(os.environ, __AFL_SHM_ID=str(shm))
    r = subprocess.run([sys.argv[1]], stdin=open(sys.argv[2]), env=env)
    sys.exit(r.returncode)
finally:
    libc.shmctl(shm, 0, None)  # IPC_RMID
PY
fi

# ---- libFuzzer ----------------------------------------------------------
if [ -x "$LF" ]; then
	ran=1
	inited() { grep -E '^#[0-9]+[[:space:]]+INITED' "$1" | head -n 1; }
	for i in 1 2; do
		timeout 60 "$LF" -runs=0 "$seeds" >"$tmp/lf$i.log" 2>&1 ||
			problem "libFuzzer -runs=0 failed: $(tail -n 1 "$tmp/lf$i.log")"
	done
	l1=$(inited "$tmp/lf1.log") l2=$(inited "$tmp/lf2.log")
	echo "libFuzzer -runs=0: $l1"
	case $l1 in
	*"corp: 6/"*) ;;
	*) problem "libFuzzer kept not all 6 seeds: $l1" ;;
	esac
	ft1=$(echo "$l1" | sed -E 's/.* ft: ([0-9]+).*/\1/')
	ft2=$(echo "$l2" | sed -E 's/.* ft: ([0-9]+).*/\1/')
	[ -n "$ft1" ] && [ "$ft1" = "$ft2" ] ||
		problem "libFuzzer features differ between runs: '$ft1' '$ft2'"
	grep -q "65536 Extra Counters" "$tmp/lf1.log" ||
		problem "libFuzzer did not see the extra counters"

	mkdir -p "$tmp/corpus" "$tmp/merged"
	cp "$seeds"/* "$tmp/corpus/"
	if timeout 120 "$LF" -runs=3000 -seed=1 -use_cmp=0 -use_memmem=0 "$tmp/corpus" >"$tmp/lfrun.log" 2>&1; then
		echo "libFuzzer -runs=3000: $(grep -E '^#[0-9]+[[:space:]]+DONE' "$tmp/lfrun.log")"
	else
		problem "libFuzzer -runs=3000 failed: $(grep -E 'ERROR|SUMMARY' "$tmp/lfrun.log" | head -n 2)"
	fi
	timeout 120 "$LF" -merge=1 "$tmp/merged" "$tmp/corpus" >"$tmp/lfmerge.log" 2>&1 ||
		problem "libFuzzer -merge=1 failed: $(tail -n 1 "$tmp/lfmerge.log")"
	[ "$(ls "$tmp/merged" | wc -l)" -ge 6 ] ||
		problem "libFuzzer -merge=1 kept $(ls "$tmp/merged" | wc -l) inputs, want 6 or more"
	# A setup failure is ukcov's, said before libFuzzer runs: no artifact.
	(ulimit -v 1500000 && cd "$tmp" && UKCOV_FUZZER_AREA_WORDS=268435455 \
		timeout 60 "$OLDPWD/$LF" -runs=1 "$seeds") >"$tmp/lfsetup.log" 2>&1
	rc=$?
	{ [ $rc = 1 ] && grep -q "^ukcov-fuzzer: cannot collect coverage" "$tmp/lfsetup.log" &&
		! ls "$tmp"/crash-* >/dev/null 2>&1; } ||
		problem "libFuzzer driver, no memory for the area: exit $rc, $(tail -n 1 "$tmp/lfsetup.log")"
	grep -q "Failed to find function" "$tmp/lf1.log" &&
		problem "libFuzzer warns of missing sanitizer functions"
	if timeout 60 "$LF" "$tmp/crash" >"$tmp/lfcrash.log" 2>&1; then
		problem "libFuzzer: the crashing input did not crash"
	else
		grep -q "deadly signal" "$tmp/lfcrash.log" ||
			problem "libFuzzer: no crash report for the crashing input"
	fi
else
	echo "fuzzer-engines: libFuzzer part skipped: $LF not built (needs clang's libFuzzer, libclang-rt-14-dev)"
fi

# ---- AFL++ ----------------------------------------------------------------
if command -v afl-showmap >/dev/null 2>&1 && command -v afl-fuzz >/dev/null 2>&1; then
	ran=1
	export AFL_SKIP_CPUFREQ=1 AFL_NO_UI=1 AFL_NO_AFFINITY=1 \
		AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_QUIET=1
	prev=''
	for f in "$seeds"/*; do
		n=$(basename "$f")
		for i in $(seq 1 10); do
			timeout 30 afl-showmap -q -o "$tmp/$n.$i" -- "$AFL" <"$f" ||
				problem "afl-showmap $n: exit $?"
		done
		[ -s "$tmp/$n.1" ] || problem "afl-showmap $n: an empty map"
		for i in $(seq 2 10); do
			cmp -s "$tmp/$n.1" "$tmp/$n.$i" ||
				{ problem "afl-showmap $n: run $i's map differs from run 1's"; break; }
		done
		for p in $prev; do
			cmp -s "$tmp/$n.1" "$tmp/$p.1" &&
				problem "afl-showmap: $n and $p have the same map"
		done
		prev="$prev $n"
	done
	echo "afl-showmap: 6 seeds x 10 processes, tuples per seed:$(for f in "$seeds"/*; do echo -n " $(wc -l <"$tmp/$(basename "$f").1")"; done)"
	timeout 30 afl-showmap -q -o "$tmp/crash.map" -- "$AFL" <"$tmp/crash"
	rc=$?
	[ $rc = 2 ] || problem "afl-showmap on the crashing input: exit $rc, want 2 (crashed)"
	[ -s "$tmp/crash.map" ] || problem "afl-showmap on the crashing input: no map"
	# Inputs that end otherwise (tests/fuzzer/ends-harness.c): each has
	# a map, and a crash on the worker differs from one on the harness.
	ends=$tmp/ends-afl
	if $CC -O1 -g -fsanitize-coverage=trace-pc,trace-cmp -Iinclude \
		tests/fuzzer/ends-harness.c -o "$ends" "$BUILD/libukcov-afl.a" \
		"$BUILD/libukcov.a" -lpthread -ldl >"$tmp/ends.log" 2>&1; then
		for e in W:2 X:0 C:2 a:0; do
			printf '%sbc' "${e%%:*}" >"$tmp/end-${e%%:*}"
			timeout 30 afl-showmap -q -o "$tmp/end-${e%%:*}.map" -- "$ends" \
				<"$tmp/end-${e%%:*}"
			rc=$?
			[ $rc = "${e#*:}" ] || problem "ends-harness '${e%%:*}': afl-showmap exit $rc, want ${e#*:}"
			[ -s "$tmp/end-${e%%:*}.map" ] ||
				problem "ends-harness '${e%%:*}': an empty map"
		done
		cmp -s "$tmp/end-W.map" "$tmp/end-C.map" &&
			problem "ends-harness: a crash on the worker and one on the harness thread have the same map"
		echo "ends-harness tuples: worker abort $(wc -l <"$tmp/end-W.map"), exit() $(wc -l <"$tmp/end-X.map"), harness abort $(wc -l <"$tmp/end-C.map"), return $(wc -l <"$tmp/end-a.map")"
	else
		problem "tests/fuzzer/ends-harness.c did not build: $(tail -n 2 "$tmp/ends.log")"
	fi

	mkdir -p "$tmp/afl-in"
	cp "$seeds"/* "$tmp/afl-in/"
	timeout 60 afl-fuzz -V 8 -i "$tmp/afl-in" -o "$tmp/afl-out" -- "$AFL" \
		>"$tmp/afl.log" 2>&1
	stats=$tmp/afl-out/default/fuzzer_stats
	if [ -e "$stats" ]; then
		stab=$(sed -n 's/^stability *: //p' "$stats")
		execs=$(sed -n 's/^execs_done *: //p' "$stats")
		eps=$(sed -n 's/^execs_per_sec *: //p' "$stats")
		edges=$(sed -n 's/^edges_found *: //p' "$stats")
		echo "afl-fuzz 8 s: stability $stab, $execs execs ($eps/s), $edges edges"
		[ "$stab" = "100.00%" ] || problem "afl-fuzz stability $stab, want 100.00%"
		[ "${execs:-0}" -gt 100 ] || problem "afl-fuzz ran $execs inputs"
		grep -q "Persistent mode binary detected" "$tmp/afl.log" ||
			problem "afl-fuzz did not see persistent mode"
	else
		problem "afl-fuzz did not run: $(grep -E 'ABORT|FATAL|\[-\]' "$tmp/afl.log" | head -n 3)"
	fi
else
	echo "fuzzer-engines: AFL++ part skipped: afl-fuzz is not installed (apt-get install afl++)"
fi

# ---- the build lines of ukcov_fuzzer(3) -----------------------------------
# examples/fuzzing/build.sh against this build tree, and
# examples/fuzzing/oss-fuzz-build.sh under OSS-Fuzz's environment for each
# engine with AddressSanitizer (its flags as OSS-Fuzz's builder sets them).
ABS=$(cd "$BUILD" && pwd)
asan_rt=$(clang -print-runtime-dir 2>/dev/null)/libclang_rt.asan-x86_64.a
if command -v clang >/dev/null 2>&1 && [ -x "$LF" ]; then
	mkdir -p "$tmp/ex"
	cp examples/fuzzing/build.sh examples/fuzzing/pool-harness.c "$tmp/ex/"
	inc=$PWD/include
	if (cd "$tmp/ex" && LIBRARY_PATH="$ABS" C_INCLUDE_PATH="$inc" \
		./build.sh) >"$tmp/ex.log" 2>&1; then
		LD_LIBRARY_PATH="$ABS" timeout 60 "$tmp/ex/pool-harness-libfuzzer" \
			-runs=0 "$seeds" >"$tmp/ex-lf.log" 2>&1 ||
			problem "examples/fuzzing/build.sh: its libFuzzer binary failed"
		[ -x "$tmp/ex/pool-harness-afl" ] ||
			problem "examples/fuzzing/build.sh: no AFL++ binary"
	else
		problem "examples/fuzzing/build.sh failed: $(tail -n 2 "$tmp/ex.log")"
	fi
fi
oss() {	# ENGINE CC CXX EXTRA-CFLAGS
	local d=$tmp/oss-$1 flags
	mkdir -p "$d/src" "$d/work" "$d/out"
	ln -s "$PWD" "$d/src/ukcov"
	flags="-O1 -fno-omit-frame-pointer -gline-tables-only -fsanitize=address -fsanitize-address-use-after-scope $4"
	env SRC="$d/src" WORK="$d/work" OUT="$d/out" CC="$2" CXX="$3" \
		CFLAGS="$flags" CXXFLAGS="$flags" FUZZING_ENGINE="$1" \
		SANITIZER=address examples/fuzzing/oss-fuzz-build.sh >"$d/build.log" 2>&1 ||
		{ problem "oss-fuzz-build.sh ($1): $(tail -n 2 "$d/build.log")"; return 1; }
	[ -x "$d/out/pool-harness" ] || { problem "oss-fuzz-build.sh ($1): no binary"; return 1; }
}
if [ -x "$LF" ] && [ -e "$asan_rt" ]; then
	if oss libfuzzer clang clang++ -fsanitize=fuzzer-no-link; then
		timeout 120 "$tmp/oss-libfuzzer/out/pool-harness" -runs=0 "$seeds" \
			>"$tmp/oss-lf.log" 2>&1 ||
			problem "oss-fuzz-build.sh (libfuzzer): the binary failed"
		l=$(grep -E '^#[0-9]+[[:space:]]+INITED' "$tmp/oss-lf.log" | head -n 1)
		echo "oss-fuzz-build.sh, libfuzzer+address: $l"
		case $l in *"corp: 6/"*) ;; *) problem "oss-fuzz-build.sh (libfuzzer): $l" ;; esac
	fi
fi
if command -v afl-clang-fast >/dev/null 2>&1 && command -v afl-showmap >/dev/null 2>&1 &&
	[ -e "$asan_rt" ]; then
	if oss afl afl-clang-fast afl-clang-fast++ ""; then
		b=$tmp/oss-afl/out/pool-harness
		for i in 1 2 3; do
			timeout 30 afl-showmap -q -o "$tmp/oss-afl.$i" -- "$b" <"$seeds/count3" ||
				problem "oss-fuzz-build.sh (afl): afl-showmap exit $?"
		done
		cmp -s "$tmp/oss-afl.1" "$tmp/oss-afl.2" && cmp -s "$tmp/oss-afl.1" "$tmp/oss-afl.3" ||
			problem "oss-fuzz-build.sh (afl): maps differ between runs"
		echo "oss-fuzz-build.sh, afl+address: $(wc -l <"$tmp/oss-afl.1") tuples, the same 3 times"
	fi
fi

[ $ran = 1 ] || { echo "fuzzer-engines: neither libFuzzer nor AFL++ is available"; exit 77; }
exit $fail
