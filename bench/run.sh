#!/usr/bin/env bash
# `make bench`: ukcov's benchmarks.  Builds into build-bench/, prints every
# figure next to its budget (OK/OVER: printed, never a failure) and writes
# BENCHMARKS.md (section 6, a server under ukcov-run: BENCHMARKS-server.md).
# valgrind (and strace, clang, python3) are installed with
# apt-get when missing and running as root; otherwise the figures that need
# them are skipped, and said so.  About 3-4 minutes on 2 cores.
set -u
cd "$(dirname "$0")/.."

need=()
command -v python3 >/dev/null 2>&1 || need+=(python3)
command -v valgrind >/dev/null 2>&1 || need+=(valgrind)
command -v strace >/dev/null 2>&1 || need+=(strace)
command -v clang >/dev/null 2>&1 || need+=(clang)
command -v objdump >/dev/null 2>&1 || need+=(binutils)
# Section 5 builds ukcov-report, which needs elfutils.
[ -e /usr/include/elfutils/libdw.h ] || need+=(libdw-dev)
if [ ${#need[@]} -gt 0 ]; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
		echo "bench: installing ${need[*]} (apt-get)"
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
			apt-get install -y -qq "${need[@]}"; } >/dev/null 2>&1 ||
			echo "bench: could not install ${need[*]}"
	else
		echo "bench: missing ${need[*]} and not root: not installing them"
	fi
fi
if ! command -v python3 >/dev/null 2>&1 || ! command -v objdump >/dev/null 2>&1; then
	echo "bench: python3 and objdump are required; no benchmarks run"
	exit 1
fi

export HAVE_VALGRIND=1 HAVE_STRACE=1
if ! command -v valgrind >/dev/null 2>&1; then
	echo "bench: no valgrind: the callgrind figures are skipped"
	HAVE_VALGRIND=0
fi
if ! command -v strace >/dev/null 2>&1; then
	echo "bench: no strace: the system-call counts are skipped"
	HAVE_STRACE=0
fi
# strace needs ptrace, which some containers refuse.
if [ "$HAVE_STRACE" = 1 ] && ! strace -f -c -o /dev/null true >/dev/null 2>&1; then
	echo "bench: strace cannot trace here: the system-call counts are skipped"
	HAVE_STRACE=0
fi
if [ -z "${BENCH_CCS:-}" ]; then
	BENCH_CCS=gcc
	if command -v clang >/dev/null 2>&1; then
		BENCH_CCS="gcc clang"
	else
		echo "bench: no clang: the clang figures are skipped"
	fi
	export BENCH_CCS
fi
python3 bench/bench.py || exit
# Section 6 runs ukcov-run, which needs elfutils like ukcov-report.
if [ -e /usr/include/elfutils/libdw.h ]; then
	exec python3 bench/server.py
fi
echo "bench: section 6 (a server under ukcov-run) skipped: no libdw-dev"
