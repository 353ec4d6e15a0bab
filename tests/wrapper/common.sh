# SPDX-License-Identifier: MIT
# Sourced by the wrapper's tests (tests/lint/wrapper-*.sh), from the top of
# the source tree.  Sets BUILD and CC (from the environment; default build
# and gcc), tools (the build tree's tools folder), src (this folder), tmp
# (a folder removed at exit) and fail=0, and clears the variables the
# wrapper reads: the caller's must not change what is tested.
# shellcheck shell=bash
unset UKCOV_CC UKCOV_CXX UKCOV_CC_COVERAGE UKCOV_CC_RUNTIME UKCOV_CC_VERBOSE UKCOV_CC_ACTIVE
BUILD=${BUILD:-build}
CC=${CC:-gcc}
tools=$PWD/$BUILD/tools
src=$PWD/tests/wrapper
fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# need_tool CMD PACKAGE...: CMD, installed with apt-get when root and
# missing; false when it is still missing.
need_tool() {
	local cmd=$1
	shift
	command -v "$cmd" >/dev/null 2>&1 && return 0
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
			apt-get install -y -qq "$@"; } >/dev/null 2>&1
	fi
	command -v "$cmd" >/dev/null 2>&1
}

# build_ukcov NAME: the libraries and tools of BUILD, or exit 1.
build_ukcov() {
	make -s BUILD="$BUILD" CC="$CC" lib tools >/dev/null 2>&1 ||
		{ echo "$1: building ukcov failed"; exit 1; }
}

# The wrapper pairs to test: gcc's, and clang's when clang is installed.
pairs=("ukcov-cc ukcov-c++")
if command -v clang >/dev/null 2>&1 && command -v clang++ >/dev/null 2>&1; then
	pairs+=("ukcov-clang ukcov-clang++")
else
	echo "clang or clang++ is not installed: the clang builds are skipped"
fi

# fixture_builds NAME BUILDER: for each pair, `BUILDER CC CXX DIR` builds
# the fixture into DIR (its output is shown when it fails); then the
# programs run and the dependencies are checked (check-built.sh).
fixture_builds() {
	local name=$1 builder=$2 pair dir out
	for pair in "${pairs[@]}"; do
		# shellcheck disable=SC2086 # the pair is two words
		set -- $pair
		dir=$tmp/$1
		if ! "$builder" "$tools/$1" "$tools/$2" "$dir" >"$tmp/$1.log" 2>&1; then
			sed 's/^/    /' "$tmp/$1.log" | tail -n 15
			echo "$name: $1: the build failed (above: its end)"
			fail=1
			continue
		fi
		out=$("$src/check-built.sh" "$dir" static) || {
			printf '%s\n' "$out"
			echo "$name: $1: the fixture's checks failed"
			fail=1
		}
	done
}
