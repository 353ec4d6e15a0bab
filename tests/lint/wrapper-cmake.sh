#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The compiler wrapper under cmake (issue 13, item 1): the fixture of
# tests/wrapper/ configured with -DCMAKE_C_COMPILER=ukcov-cc
# -DCMAKE_CXX_COMPILER=ukcov-c++ (and with ukcov-clang, ukcov-clang++):
# cmake's compiler identification, ABI detection and link checks pass
# through the wrapper, and the -z defs shared library, the MODULE plugin,
# the C, C++ and -static programs build and pass their own checks with
# exactly one runtime (tests/wrapper/check-built.sh).
# cmake is installed with apt-get when root and missing; otherwise the test
# is skipped.  Environment: BUILD (default build), CC (default gcc).
# Exit 0/1/77.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/wrapper/common.sh

need_tool cmake cmake || { echo "SKIP: cmake is not installed (apt-get install cmake)"; exit 77; }
build_ukcov wrapper-cmake

# shellcheck disable=SC2317 # called by fixture_builds
with_cmake() { # CC CXX DIR
	cmake -S "$src" -B "$3" -DCMAKE_C_COMPILER="$1" -DCMAKE_CXX_COMPILER="$2" &&
		cmake --build "$3" -j2
}
fixture_builds wrapper-cmake with_cmake
exit $fail
