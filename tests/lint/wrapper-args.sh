#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The compiler wrapper's command lines (ukcov-cc(1)), read off a stand-in
# compiler that records its arguments (UKCOV_CC names it):
#   - no input file (--version, -dumpmachine, -print-*, -Wl,--version):
#     the arguments exactly as given;
#   - compile or preprocess only (-c, -S, -E, -M, -MM, -fsyntax-only): -g
#     first, the coverage and attribution flags last, no runtime;
#     assembler only: nothing added;
#   - an executable: libukcov.a whole, the dynamic list; -static: the
#     archive, no dynamic list; -shared: no runtime; -r, -nostdlib, an
#     explicit -lukcov: no runtime;
#   - -shared with -z defs or --no-undefined (every spelling): first a link
#     to a scratch file against libukcov.so with the flag, then the real
#     one without it and without the runtime; inside @response files too;
#   - clang: -fno-sanitize-link-runtime at links (not with -fsanitize=),
#     no gcc-only -fno-ipa-icf;
#   - UKCOV_CC_COVERAGE, UKCOV_CC_RUNTIME=shared|none, and their bad values
#     (one line, exit 1); a wrapper named as its own compiler (no loop); a
#     missing compiler (127).
# Environment: BUILD (default build), CC (default gcc).  Exit 0/1.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/wrapper/common.sh >/dev/null
build_ukcov wrapper-args
W=$tools
B=$(cd "$BUILD" && pwd)

problem() {
	echo "wrapper-args: $*"
	fail=1
}

# The stand-in compiler: one line per argument, a line "--" after each
# call; it creates its -o output, fails when FAKE_FAIL_ON matches an
# argument, and answers -print-search-dirs.
log=$tmp/log
for name in fakecc fake-clang; do
	cat >"$tmp/$name" <<EOF
#!/bin/sh
[ "\$1" = -print-search-dirs ] && { echo "libraries: =$tmp/nolib"; exit 0; }
out=
prev=
for a in "\$@"; do
	printf '%s\n' "\$a" >>"$log"
	[ "\$prev" = -o ] && out=\$a
	prev=\$a
	[ -n "\${FAKE_FAIL_ON:-}" ] && [ "\$a" = "\$FAKE_FAIL_ON" ] && fail=1
done
echo -- >>"$log"
[ -n "\${fail:-}" ] && exit 1
[ -n "\$out" ] && : >"\$out"
exit 0
EOF
	chmod +x "$tmp/$name"
done

# wrap [ENV=V...] -- ARGS: run ukcov-cc on the stand-in; calls[] gets each
# call's arguments (one string, newline-separated), rc its status.
calls=()
rc=0
wrap() {
	local envs=()
	while [ "$1" != -- ]; do envs+=("$1"); shift; done
	shift
	: >"$log"
	(cd "$tmp" && env UKCOV_CC="$tmp/fakecc" "${envs[@]}" "$W/ukcov-cc" "$@") \
		>"$tmp/out" 2>"$tmp/err"
	rc=$?
	calls=()
	local cur='' line
	while IFS= read -r line; do
		if [ "$line" = -- ]; then
			calls+=("$cur")
			cur=
		else
			cur+="$line"$'\n'
		fi
	done <"$log"
}
# has CALL ARG / hasnt CALL ARG: is ARG one of the call's arguments?
has() { printf '%s' "$1" | grep -qxF -- "$2"; }
want() { # WHAT CALLNO ARG...: the call has each ARG
	local what=$1 n=$2 a
	shift 2
	[ "${#calls[@]}" -gt "$n" ] || { problem "$what: no call $n (rc $rc: $(cat "$tmp/err"))"; return; }
	for a in "$@"; do
		has "${calls[$n]}" "$a" || problem "$what: call $n lacks '$a': $(printf '%s' "${calls[$n]}" | tr '\n' ' ')"
	done
}
wantnot() { # WHAT CALLNO ARG...: the call has none of them
	local what=$1 n=$2 a
	shift 2
	[ "${#calls[@]}" -gt "$n" ] || { problem "$what: no call $n"; return; }
	for a in "$@"; do
		! has "${calls[$n]}" "$a" || problem "$what: call $n has '$a': $(printf '%s' "${calls[$n]}" | tr '\n' ' ')"
	done
}
ncalls() { # WHAT N
	[ "${#calls[@]}" = "$2" ] || problem "$1: ${#calls[@]} compiler calls, want $2"
}
exact() { # WHAT ARG...: one call, whose arguments are exactly ARG...
	local what=$1 want=
	shift
	ncalls "$what" 1
	for a in "$@"; do want+="$a"$'\n'; done
	[ "${calls[0]:-}" = "$want" ] ||
		problem "$what: arguments changed: $(printf '%s' "${calls[0]:-}" | tr '\n' ' ')"
}

COV=-fsanitize-coverage=trace-pc,trace-cmp
ARCHIVE=$B/libukcov.a
SHARED=$B/libukcov.so
DYN="--dynamic-list=$B/ukcov.dynlist"
# shellcheck disable=SC2054 # -Wl, arguments, not a list
RUNTIME_ARGS=(-Wl,--whole-archive "$ARCHIVE" -Wl,--no-whole-archive)
COMPILE=(-g "$COV" -fno-optimize-sibling-calls -fno-ipa-icf)

# ---- nothing to build: unchanged --------------------------------------
for args in "--version" "-dumpmachine" "-print-search-dirs" "-v" \
	"-Wl,--version" "-print-prog-name=ld" "-print-file-name=libc.so"; do
	# -print-search-dirs is answered by the stand-in without a log line.
	[ "$args" = -print-search-dirs ] && continue
	wrap -- $args # shellcheck disable=SC2086
	exact "$args" $args
done

# ---- compile only ------------------------------------------------------
for stop in -c -S -E -M -MM -fsyntax-only; do
	wrap -- $stop x.c -o x.o
	ncalls "$stop x.c" 1
	want "$stop x.c" 0 "${COMPILE[@]}" -isystem "$(cd include && pwd)"
	wantnot "$stop x.c" 0 "$ARCHIVE" "$SHARED" -Wl,--whole-archive
	[ "$(printf '%s' "${calls[0]}" | head -n 1)" = -g ] ||
		problem "$stop x.c: -g is not first (the project's -g options must refine it)"
	[ "$(printf '%s' "${calls[0]}" | sed -n 2p)" = "$stop" ] ||
		problem "$stop x.c: the project's arguments do not follow -g"
done
wrap -- -c y.cc -o y.o
want "-c y.cc" 0 "${COMPILE[@]}"
wrap -- -x c++ -c - -o y.o
want "-x c++ -c -" 0 "${COMPILE[@]}"
wrap -- -x c++-header -c h.hpp -o h.hpp.gch
want "a precompiled header" 0 "${COMPILE[@]}"
for asm in s.s S.S; do
	wrap -- -c $asm -o s.o
	exact "-c $asm" -c $asm -o s.o
done
wrap -- -x assembler -c x.c -o x.o
exact "-x assembler x.c" -x assembler -c x.c -o x.o
wrap -- -I x.c -c y.s -o y.o
exact "-I x.c (an option's value, not a source)" -I x.c -c y.s -o y.o

# ---- links ---------------------------------------------------------------
wrap -- x.o -o x
ncalls "exe" 1
want "exe" 0 "${RUNTIME_ARGS[@]}" -Xlinker "$DYN" -lpthread -ldl
wantnot "exe" 0 -g "$COV" "$SHARED"
wrap -- x.c y.o -o x
want "compile and link" 0 "${COMPILE[@]}" "${RUNTIME_ARGS[@]}" -Xlinker "$DYN"
wrap -- -static x.o -o x
want "-static" 0 "${RUNTIME_ARGS[@]}"
wantnot "-static" 0 "$DYN" "$SHARED"
wrap -- -static-pie x.o -o x
wantnot "-static-pie" 0 "$DYN" "$SHARED"
want "-static-pie" 0 "$ARCHIVE"
for flag in -shared -r -nostdlib -nodefaultlibs -lukcov -l:libukcov.a "$ARCHIVE"; do
	wrap -- $flag x.o -o x
	ncalls "$flag" 1
	# an explicit runtime is the project's own, there once
	n=$(printf '%s' "${calls[0]:-}" | grep -cxF -- "$ARCHIVE")
	[ "$n" -le 1 ] || problem "$flag: libukcov.a twice"
	wantnot "$flag" 0 -Wl,--whole-archive "$SHARED" "$DYN"
done
wrap -- -shared -fPIC x.c -o libx.so
want "-shared x.c" 0 "${COMPILE[@]}"
wantnot "-shared x.c" 0 "$SHARED" "$ARCHIVE"
wrap -- -flto x.o -o x
want "gcc -flto link" 0 -g -fno-optimize-sibling-calls -fno-ipa-icf

# -z defs and its spellings: a check against libukcov.so, then without.
defs_case() { # LABEL KEEP-ARGS(newline-separated, after the flag is gone) ARGS...
	local label=$1 keep=$2
	shift 2
	wrap -- -shared x.o -o libx.so "$@"
	ncalls "$label" 2
	want "$label (check)" 0 "$@" "$SHARED"
	[ "$(printf '%s' "${calls[0]:-}" | tail -n 1)" != libx.so ] ||
		problem "$label (check): writes the real output"
	local real=${calls[1]:-}
	[ "$real" = $'-shared\nx.o\n-o\nlibx.so\n'"$keep" ] ||
		problem "$label (link): got: $(printf '%s' "$real" | tr '\n' ' ')"
}
defs_case "-Wl,-z,defs" "" -Wl,-z,defs
defs_case "-Wl,--no-undefined" "" -Wl,--no-undefined
defs_case "-Wl,-zdefs" "" -Wl,-zdefs
defs_case "-Wl,-z -Wl,defs" "" -Wl,-z -Wl,defs
defs_case "-Xlinker -z -Xlinker defs" "" -Xlinker -z -Xlinker defs
defs_case "-Xlinker --no-undefined" "" -Xlinker --no-undefined
defs_case "-z defs" "" -z defs
defs_case "-Wl,--no-allow-shlib-undefined" "" -Wl,--no-allow-shlib-undefined
defs_case "a -Wl, list" $'-Wl,--as-needed,-O1\n' -Wl,--as-needed,-z,defs,-O1
defs_case "-z relro kept" $'-Wl,-z,relro\n' -Wl,-z,relro,-z,defs
defs_case "-nostdlib (libtool's C++ libraries)" $'-nostdlib\n' -Wl,-z,defs -nostdlib

# The check's failure is the link's.
wrap FAKE_FAIL_ON="$SHARED" -- -shared x.o -o libx.so -Wl,-z,defs
[ $rc = 1 ] || problem "-z defs: the check failed, the wrapper exited $rc"
ncalls "-z defs, a failing check" 1

# @response files: read for what they ask; rewritten when a flag goes.
printf '%s\n' -c 'x y.c' >"$tmp/c.rsp"
wrap -- @c.rsp -o x.o
ncalls "@file with -c" 1
want "@file with -c" 0 "${COMPILE[@]}" @c.rsp
wantnot "@file with -c" 0 "${RUNTIME_ARGS[@]}"
printf '%s\n' -shared x.o -Wl,-z,defs -o "'lib x.so'" >"$tmp/l.rsp"
wrap UKCOV_CC_VERBOSE=1 -- @l.rsp
ncalls "@file with -shared -z defs" 2
want "@file (check)" 0 @l.rsp "$SHARED"
rsp=$(printf '%s' "${calls[1]:-}" | sed -n 's/^@//p')
[ -n "$rsp" ] || problem "@file: the link has no response file"
grep -q 'ukcov-cc: .*@/' "$tmp/err" ||
	problem "@file: UKCOV_CC_VERBOSE showed no command: $(cat "$tmp/err")"
[ ! -e "$rsp" ] || problem "@file: $rsp left behind"

# One runtime: an executable that links a shared library already linked
# with libukcov.so gets libukcov.so too (a path, or -l in a -L folder).
mkdir -p "$tmp/libs"
echo 'int needs(void) { return 1; }' >"$tmp/needs.c"
"$CC" -shared -fPIC -fsanitize-coverage=trace-pc -o "$tmp/libs/libneeds.so" "$tmp/needs.c" \
		-Wl,--no-as-needed "$SHARED" &&
	"$CC" -shared -fPIC -o "$tmp/libs/libplain.so" "$tmp/needs.c" ||
	problem "cannot build the test libraries with $CC"
wrap -- x.o -L"$tmp/libs" -lneeds -o x
want "-lneeds (linked with libukcov.so)" 0 "$SHARED"
wantnot "-lneeds (linked with libukcov.so)" 0 "$ARCHIVE"
wrap -- x.o "$tmp/libs/libneeds.so" -o x
want "libneeds.so (linked with libukcov.so)" 0 "$SHARED"
wrap -- x.o -L "$tmp/libs" -lplain -lm -o x
want "-lplain" 0 "${RUNTIME_ARGS[@]}" -Xlinker "$DYN"
wantnot "-lplain" 0 "$SHARED"

# ---- clang -----------------------------------------------------------------
wrap UKCOV_CC="$tmp/fake-clang" -- x.c -o x
want "clang" 0 -g "$COV" -fno-optimize-sibling-calls -fno-sanitize-link-runtime
wantnot "clang" 0 -fno-ipa-icf
wrap UKCOV_CC="$tmp/fake-clang" -- -c x.c
wantnot "clang -c" 0 -fno-sanitize-link-runtime
wrap UKCOV_CC="$tmp/fake-clang" -- -fsanitize=address x.c -o x
wantnot "clang -fsanitize=address" 0 -fno-sanitize-link-runtime

# ---- the environment ---------------------------------------------------------
wrap UKCOV_CC_COVERAGE=trace-pc -- -c x.c
want "UKCOV_CC_COVERAGE=trace-pc" 0 -fsanitize-coverage=trace-pc
wrap UKCOV_CC_COVERAGE=none -- -c x.c
wantnot "UKCOV_CC_COVERAGE=none" 0 "$COV"
want "UKCOV_CC_COVERAGE=none" 0 -g -fno-optimize-sibling-calls
wrap UKCOV_CC_RUNTIME=shared -- x.o -o x
want "UKCOV_CC_RUNTIME=shared" 0 "$SHARED" -rpath "$B"
wantnot "UKCOV_CC_RUNTIME=shared" 0 "$ARCHIVE"
wrap UKCOV_CC_RUNTIME=shared -- -shared x.o -o libx.so -Wl,-z,defs
ncalls "UKCOV_CC_RUNTIME=shared -shared -z defs" 1
want "UKCOV_CC_RUNTIME=shared -shared" 0 "$SHARED" -Wl,-z,defs
wrap UKCOV_CC_RUNTIME=none -- x.o -o x
exact "UKCOV_CC_RUNTIME=none" x.o -o x
for bad in UKCOV_CC_COVERAGE=trace-pc,edge UKCOV_CC_RUNTIME=both; do
	wrap "$bad" -- -c x.c
	[ $rc = 1 ] && [ "$(wc -l <"$tmp/err")" = 1 ] && grep -q "^ukcov-cc: ${bad%%=*}" "$tmp/err" ||
		problem "$bad: want one line and exit 1, got $rc: $(cat "$tmp/err")"
	ncalls "$bad" 0
done
wrap UKCOV_CC="$W/ukcov-cc" -- -c x.c
[ $rc = 1 ] && [ "$(wc -l <"$tmp/err")" = 1 ] ||
	problem "UKCOV_CC=ukcov-cc: want one line and exit 1, got $rc: $(head -c 300 "$tmp/err")"
wrap UKCOV_CC="$tmp/no-such-compiler" -- -c x.c
[ $rc = 127 ] || problem "a missing compiler: exit $rc, want 127"

# The names: ukcov-c++ runs UKCOV_CXX; the clang names run clang.
(cd "$tmp" && UKCOV_CXX="$tmp/fakecc" UKCOV_CC=/nonexistent "$W/ukcov-c++" -c x.cc) ||
	problem "ukcov-c++ does not run UKCOV_CXX"
mkdir -p "$tmp/bin"
ln -sf "$tmp/fake-clang" "$tmp/bin/clang"
: >"$log"
(cd "$tmp" && PATH="$tmp/bin:$PATH" UKCOV_CC=/nonexistent "$W/ukcov-clang" -c x.c) ||
	problem "ukcov-clang does not run clang"
grep -qx -- "$COV" "$log" || problem "ukcov-clang: no coverage flag"

exit $fail
