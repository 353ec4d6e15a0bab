#!/usr/bin/env bash
# A fully static program linked with the whole libukcov.a links and runs:
# libc.a's strong definitions win over ukcov's (weak) routes, and where
# ukcov's win they fall back to libc.a's own functions (src/internal.h,
# UKCOV_ROUTE), which the link pulls in with the -u options of
# $BUILD/ukcov-static.ldflags (what ukcov-cc adds to a -static link).
# Without them the program still runs, and ukcov says on stderr what to
# add.  Environment: BUILD (default build), CC (default gcc).
set -u
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
CC=${CC:-gcc}
out=$BUILD/tests/static-routes

[ -e "$BUILD/libukcov.a" ] || { echo "static-program: $BUILD/libukcov.a not built" >&2; exit 1; }
if ! "$CC" -print-file-name=libc.a | grep -q /; then
	echo "SKIP: no libc.a (libc6-dev)"
	exit 77
fi
mkdir -p "$BUILD/tests"
[ -e "$BUILD/ukcov-static.ldflags" ] || { echo "static-program: $BUILD/ukcov-static.ldflags not built" >&2; exit 1; }
# shellcheck disable=SC2046 # a list of options
if ! "$CC" -std=gnu11 -D_GNU_SOURCE -O2 -Iinclude -static \
	-fsanitize-coverage=trace-pc -o "$out" tests/static/static-routes.c \
	$(cat "$BUILD/ukcov-static.ldflags") \
	-Wl,--whole-archive "$BUILD/libukcov.a" -Wl,--no-whole-archive \
	-lpthread 2>"$out.log"; then
	grep -v "statically linked applications requires" "$out.log" >&2
	echo "static-program: the static link failed" >&2
	exit 1
fi
"$out" 2>"$out.err" || { cat "$out.err" >&2; echo "static-program: the static program failed" >&2; exit 1; }
# With the link options, every route has its libc.a function: no warning.
if grep -q '^ukcov:' "$out.err"; then
	cat "$out.err" >&2
	echo "static-program: ukcov warned with ukcov-static.ldflags given" >&2
	exit 1
fi
