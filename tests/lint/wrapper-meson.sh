#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The compiler wrapper under meson (issue 13, item 1): the fixture of
# tests/wrapper/ set up with CC=ukcov-cc CXX=ukcov-c++ meson setup (and
# with ukcov-clang, ukcov-clang++) and built by ninja.  meson's sanity
# checks pass through the wrapper, its b_lundef (-Wl,--no-undefined on the
# shared library) links, and the programs pass their own checks with
# exactly one runtime (tests/wrapper/check-built.sh).
# meson and ninja are installed with apt-get when root and missing;
# otherwise the test is skipped.  Environment: BUILD (default build), CC
# (default gcc).  Exit 0/1/77.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/wrapper/common.sh

need_tool meson meson && need_tool ninja ninja-build ||
	{ echo "SKIP: meson or ninja is not installed (apt-get install meson ninja-build)"; exit 77; }
build_ukcov wrapper-meson

# shellcheck disable=SC2317 # called by fixture_builds
with_meson() { # CC CXX DIR
	CC=$1 CXX=$2 meson setup "$3" "$src" && ninja -C "$3" || return 1
	grep -q -- '--no-undefined' "$3/build.ninja" ||
		{ echo "meson did not link with --no-undefined (b_lundef)"; return 1; }
}
fixture_builds wrapper-meson with_meson
exit $fail
