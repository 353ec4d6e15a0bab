#!/usr/bin/env bash
# The runtime is never instrumented (spec §3.6): no instruction in the built
# $BUILD/libukcov.so, $BUILD/libukcov.a or the fuzzing feeds calls or jumps to a
# __sanitizer_cov_* symbol (the callbacks do not call each other either:
# their shared helper is always_inline), and the shared library has no PLT
# or GOT relocation for one.  A self-test first builds a tiny object with
# -fsanitize-coverage=trace-pc (as a .o and as a .so) and checks that the
# same detector flags it, and that an uninstrumented one passes, so the lint
# cannot pass silently.  Environment: BUILD (default build), CC (default gcc).
set -u
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
CC=${CC:-gcc}

fail() {
	echo "no-self-instrumentation: $*" >&2
	exit 1
}

for t in objdump readelf; do
	command -v "$t" >/dev/null 2>&1 || { echo "SKIP: $t not installed"; exit 77; }
done

# Print every call/jmp to __sanitizer_cov_* in the file given (an object,
# archive or shared object), and every dynamic relocation naming one.
# objdump -dr shows a linked call as "call ... <__sanitizer_cov_x@plt>" and,
# in a relocatable object, the call followed by its relocation line.
find_cov_calls() {
	objdump -dr --no-show-raw-insn "$1" | awk '
		# "0000000000001139 <name>:" starts a function.
		/^[0-9a-f]+ <[^>]+>:$/ {
			fn = $2
			sub(/^</, "", fn)
			sub(/>:$/, "", fn)
			last = ""
			next
		}
		/^[[:space:]]*[0-9a-f]+:[[:space:]]+(call|jmp|bnd jmp|notrack jmp|bl|b)[[:space:]]/ {
			last = $0
			if (match($0, /<__sanitizer_cov_[^>]*>/)) {
				t = substr($0, RSTART + 1, RLENGTH - 2)
				# A branch inside the current function is not a
				# call: <fn+0x..>.  Its entry, or any other
				# callback, is.
				split(t, parts, "+")
				if (t !~ /[+]/ || parts[1] != fn)
					print
			}
			next
		}
		/R_X86_64_|R_AARCH64_|R_386_/ {
			if (last != "" && $0 ~ /__sanitizer_cov_/)
				print last " " $0
			last = ""
			next
		}
		{ last = "" }
	'
	# A .so that calls one through its PLT or GOT has a dynamic reloc.
	if readelf -h "$1" 2>/dev/null | grep -q 'DYN'; then
		readelf -rW "$1" | grep -E 'JUMP_SLO|GLOB_DAT' | grep '__sanitizer_cov_'
	fi
	return 0
}

# Self-test: the detector must flag instrumented code, and only that.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat >"$tmp/probe.c" <<'EOF'
int probe(int x);
int probe(int x)
{
	if (x > 3)
		return x * 2;
	return x + 1;
}
EOF
$CC -O2 -fPIC -fsanitize-coverage=trace-pc -c -o "$tmp/cov.o" "$tmp/probe.c" ||
	fail "self-test: cannot compile with -fsanitize-coverage=trace-pc"
$CC -shared -o "$tmp/libcov.so" "$tmp/cov.o" ||
	fail "self-test: cannot link the instrumented probe"
ar rcs "$tmp/libcov.a" "$tmp/cov.o"
$CC -O2 -fPIC -c -o "$tmp/plain.o" "$tmp/probe.c" ||
	fail "self-test: cannot compile the plain probe"
$CC -shared -o "$tmp/libplain.so" "$tmp/plain.o" ||
	fail "self-test: cannot link the plain probe"
for f in cov.o libcov.so libcov.a; do
	[ -n "$(find_cov_calls "$tmp/$f")" ] ||
		fail "self-test: the detector missed the instrumented $f"
done
for f in plain.o libplain.so; do
	[ -z "$(find_cov_calls "$tmp/$f")" ] ||
		fail "self-test: the detector flagged the uninstrumented $f"
done

# The real check.
so="$BUILD/libukcov.so"
a="$BUILD/libukcov.a"
{ [ -e "$so" ] && [ -e "$a" ]; } || fail "$so or $a is missing: build first (make lib BUILD=$BUILD)"
# The callbacks must be in there, or there is nothing to check.
objdump -d "$a" | grep -q '<__sanitizer_cov_trace_pc>:' ||
	fail "$a defines no __sanitizer_cov_trace_pc"
# The fuzzing feeds' code (fuzzer/) is runtime too: in libukcov-afl.a,
# and libukcov-libfuzzer.a's own objects (the rest is libFuzzer's).
feeds="$BUILD/libukcov-afl.a"
[ -e "$feeds" ] || fail "$feeds is missing: build first (make lib BUILD=$BUILD)"
[ ! -e "$BUILD/fuzzer/libfuzzer.o" ] || feeds="$feeds $BUILD/fuzzer/libfuzzer.o"
status=0
for f in "$so" "$a" $feeds; do
	hits=$(find_cov_calls "$f")
	if [ -n "$hits" ]; then
		echo "no-self-instrumentation: $f calls coverage callbacks:" >&2
		printf '%s\n' "$hits" | head -n 20 >&2
		status=1
	fi
done
exit $status
