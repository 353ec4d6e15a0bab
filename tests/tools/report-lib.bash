# SPDX-License-Identifier: MIT
# Shared by the tests of ukcov-report (tests/tools/report-*.sh): sourced,
# never run (.bash, not .sh: every .sh here is a test).
#
# report_setup NAME: cd to the top of the tree, check that the tools are
# built (else skip), make a temporary directory ($tmp, removed at exit,
# also ukcov-report's cache: not the user's ~/.cache) and set:
#   RUN, REPORT   this build's ukcov-run and ukcov-report
#   SANFLAGS      the build's sanitizer flags (SAN), for what tests build
#   LINK          how what they build links this build's libukcov: with
#                 its sanitizer (gcc's; clang's runtime would be a second
#                 one), and as the suites link sanitizer builds, the whole
#                 static library (the sanitizer runtimes have callbacks of
#                 their own); else the shared library
#   problem MSG   says what failed ("NAME: MSG") and marks the test
#                 failed ($fail, the script's exit status)
# Environment: BUILD (default build), SAN.
set -u

report_setup() {
	TEST=$1
	cd "$(dirname "${BASH_SOURCE[0]}")/../.." || exit 1
	BUILD=${BUILD:-build}
	RUN=$BUILD/tools/ukcov-run
	REPORT=$BUILD/tools/ukcov-report
	[ -x "$RUN" ] && [ -x "$REPORT" ] ||
		{ echo "the tools are not built (libdw-dev missing?)"; exit 77; }
	ABS=$(cd "$BUILD" && pwd)
	case ${SAN:-} in
	address) SANFLAGS="-fsanitize=address,undefined" ;;
	thread) SANFLAGS="-fsanitize=thread" ;;
	*) SANFLAGS= ;;
	esac
	if [ -n "$SANFLAGS" ]; then
		LINK="-rdynamic -Wl,--whole-archive $ABS/libukcov.a -Wl,--no-whole-archive -lpthread -ldl"
	else
		LINK="-L$ABS -lukcov -Wl,-rpath,$ABS"
	fi
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	export XDG_CACHE_HOME=$tmp/cache
	fail=0
}

problem() {
	echo "$TEST: $*"
	fail=1
}
