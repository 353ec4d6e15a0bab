#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `make bench-peers`: ukcov against libFuzzer and AFL++ on SQLite and zlib.
#
# Installs what it needs when root with apt-get (afl++, clang's libFuzzer
# runtime, npm, valgrind, clang, dpkg-dev), fetches SQLite's amalgamation
# with `npm pack better-sqlite3@12` and Debian's zlib source with `apt-get
# source zlib` into build-peers/ (ignored by git, never committed), builds every variant into build-peers/ (kept between runs:
# only what changed is rebuilt), then runs bench/peers/peers.py, which
# prints the table and writes BENCHMARKS-peers.md.  A peer that cannot be
# installed is said so and its column skipped.
#
# PEERS_BUILD_ONLY=1 stops after the builds (what CI runs).  Other knobs:
# see bench/peers/peers.py.
set -u
cd "$(dirname "$0")/../.."
O=build-peers
JOBS=${PEERS_JOBS:-$(nproc 2>/dev/null || echo 2)}

say() { echo "bench-peers: $*"; }

clang_major() { clang --version 2>/dev/null | sed -n 's/.*clang version \([0-9]*\).*/\1/p' | head -1; }
lf_archive() { echo "$(clang -print-runtime-dir 2>/dev/null)/libclang_rt.fuzzer_no_main-x86_64.a"; }

# What is missing, as Debian package names.
need=()
command -v python3 >/dev/null 2>&1 || need+=(python3)
command -v gcc >/dev/null 2>&1 || need+=(gcc)
command -v clang >/dev/null 2>&1 || need+=(clang)
command -v npm >/dev/null 2>&1 || need+=(npm)
command -v valgrind >/dev/null 2>&1 || need+=(valgrind)
command -v dpkg-source >/dev/null 2>&1 || need+=(dpkg-dev)
command -v afl-clang-fast >/dev/null 2>&1 || need+=(afl++)
if command -v clang >/dev/null 2>&1 && [ ! -f "$(lf_archive)" ]; then
	need+=("libclang-rt-$(clang_major)-dev")
fi
if [ ${#need[@]} -gt 0 ]; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
		say "installing ${need[*]} (apt-get)"
		apt-get update -qq >/dev/null 2>&1
		for p in "${need[@]}"; do
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$p" \
				>/dev/null 2>&1 || say "could not install $p"
		done
		# Older Debian releases ship libFuzzer on its own.
		if command -v clang >/dev/null 2>&1 && [ ! -f "$(lf_archive)" ]; then
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
				"libfuzzer-$(clang_major)-dev" >/dev/null 2>&1 || true
		fi
	else
		say "missing ${need[*]} and not root with apt-get: not installing them"
	fi
fi

for t in python3 gcc; do
	command -v $t >/dev/null 2>&1 || { say "$t is required; nothing measured"; exit 1; }
done
HAVE_CLANG=1 HAVE_LF=1 HAVE_AFL=1
export HAVE_VALGRIND=1
if ! command -v clang >/dev/null 2>&1; then
	say "no clang: the clang, libFuzzer and AFL++ columns are skipped"
	HAVE_CLANG=0 HAVE_LF=0 HAVE_AFL=0
fi
if [ $HAVE_CLANG = 1 ] && [ ! -f "$(lf_archive)" ]; then
	say "no libFuzzer runtime ($(lf_archive), package libclang-rt-$(clang_major)-dev): the libFuzzer columns are skipped"
	HAVE_LF=0
fi
if [ $HAVE_CLANG = 1 ] && ! command -v afl-clang-fast >/dev/null 2>&1; then
	say "no afl-clang-fast (package afl++): the AFL++ column is skipped"
	HAVE_AFL=0
fi
if ! command -v valgrind >/dev/null 2>&1; then
	say "no valgrind: the callgrind (Ir) columns are skipped"
	HAVE_VALGRIND=0
fi

# SQLite: the amalgamation inside better-sqlite3@12, fetched once.
if [ ! -s $O/src/sqlite3.c ] || [ ! -s $O/src/sqlite3.h ]; then
	if ! command -v npm >/dev/null 2>&1; then
		say "no npm: cannot fetch SQLite (npm pack better-sqlite3@12); nothing measured"
		# Build-only (CI): nothing to build is a skip, not a failure.
		[ "${PEERS_BUILD_ONLY:-0}" = 1 ] && exit 0
		exit 1
	fi
	mkdir -p $O/dl $O/src
	say "fetching SQLite: npm pack better-sqlite3@12"
	rm -f $O/dl/better-sqlite3-*.tgz
	(cd $O/dl && npm pack better-sqlite3@12 --silent >/dev/null) &&
		tar xzf $O/dl/better-sqlite3-*.tgz -C $O/dl package/deps/sqlite3 &&
		cp -p $O/dl/package/deps/sqlite3/sqlite3.c $O/dl/package/deps/sqlite3/sqlite3.h $O/src/ ||
		{ say "could not fetch or unpack better-sqlite3@12; nothing measured"
		  [ "${PEERS_BUILD_ONLY:-0}" = 1 ] && exit 0
		  exit 1; }
fi

# zlib: Debian's own source package, fetched once with `apt-get source`
# through a deb-src list of our own under build-peers/apt (the system's apt
# configuration and lists are left alone), from the mirror and suite of the
# system's first deb entry.  Without it the zlib rows are skipped.
debian_mirror() { # prints "URI SUITE KEYRING" of the first non-security entry
	local f=/etc/apt/sources.list.d/debian.sources
	if [ -f $f ]; then
		awk 'BEGIN { RS = ""; FS = "\n" }
		{ u = s = k = "";
		  for (i = 1; i <= NF; i++) {
			if ($i ~ /^URIs:/) { u = $i; sub(/^URIs: */, "", u); sub(/ .*/, "", u) }
			if ($i ~ /^Suites:/) { s = $i; sub(/^Suites: */, "", s); sub(/ .*/, "", s) }
			if ($i ~ /^Signed-By:/) { k = $i; sub(/^Signed-By: */, "", k) }
		  }
		  if (u != "" && s != "" && s !~ /security/) { print u, s, k; exit } }' $f
	elif [ -f /etc/apt/sources.list ]; then
		awk '$1 == "deb" && $0 !~ /security/ {
			for (i = 2; i <= NF; i++) if ($i !~ /^\[/) break
			print $i, $(i + 1); exit }' /etc/apt/sources.list
	fi
}
fetch_zlib() {
	[ -s $O/zlib/src/deflate.c ] && [ -s $O/zlib/src/zlib.h ] && return 0
	if ! command -v apt-get >/dev/null 2>&1 || ! command -v dpkg-source >/dev/null 2>&1; then
		say "no apt-get or dpkg-source (package dpkg-dev): cannot fetch Debian's zlib source; the zlib rows are skipped"
		return 1
	fi
	local m uri suite key a
	m=$(debian_mirror)
	read -r uri suite key <<<"$m"
	if [ -z "$uri" ] || [ -z "$suite" ]; then
		say "no Debian mirror in /etc/apt/sources.list.d/debian.sources or /etc/apt/sources.list; the zlib rows are skipped"
		return 1
	fi
	rm -rf $O/apt $O/zlib
	mkdir -p $O/apt/lists/partial $O/apt/cache/archives/partial $O/apt/parts $O/apt/src $O/zlib
	echo "deb-src ${key:+[signed-by=$key] }$uri $suite main" >$O/apt/sources.list
	a=(-o "Dir::Etc::sourcelist=$ROOT/$O/apt/sources.list"
	   -o "Dir::Etc::sourceparts=$ROOT/$O/apt/parts"
	   -o "Dir::State::Lists=$ROOT/$O/apt/lists"
	   -o "Dir::Cache=$ROOT/$O/apt/cache")
	say "fetching zlib: apt-get source zlib (deb-src $uri $suite, $O/apt/sources.list)"
	if ! apt-get "${a[@]}" update >$O/apt/update.log 2>&1 ||
	   ! (cd $O/apt/src && apt-get "${a[@]}" source zlib) >$O/apt/source.log 2>&1; then
		say "apt-get source zlib failed ($O/apt/*.log); the zlib rows are skipped"
		return 1
	fi
	local d
	d=$(find $O/apt/src -mindepth 1 -maxdepth 1 -type d -name 'zlib-*' | head -1)
	if [ -z "$d" ] || [ ! -s "$d/deflate.c" ]; then
		say "apt-get source zlib gave no zlib source tree; the zlib rows are skipped"
		return 1
	fi
	mkdir -p $O/zlib/src
	cp -p "$d"/*.c "$d"/*.h $O/zlib/src/ &&
		basename "$d" >$O/zlib/version
}
HAVE_ZLIB=1
ROOT=$(pwd)
fetch_zlib || HAVE_ZLIB=0

# libukcov, each compiler: the static archive (-fPIE, local-exec TLS) and
# the shared library, from the work tree; when the work tree does not build
# (an edit in progress), from a snapshot of git's HEAD, and said so.
# DWARF 4: valgrind 3.19 cannot read clang's default DWARF 5.
build_ukcov() { # srcdir cc
	make -s --no-print-directory -C "$1" BUILD="$ROOT/$O/ukcov-$2" CC="$2" \
		CFLAGS="-O2 -g -gdwarf-4" \
		"$ROOT/$O/ukcov-$2/libukcov.a" "$ROOT/$O/ukcov-$2/libukcov.so"
}
for cc in gcc clang; do
	[ $cc = clang ] && [ $HAVE_CLANG = 0 ] && continue
	# A library built from HEAD's snapshot is not the work tree's.
	[ "$(cat $O/ukcov-$cc/.source 2>/dev/null)" = worktree ] || rm -rf $O/ukcov-$cc
	mkdir -p $O/ukcov-$cc
	if build_ukcov "$ROOT" $cc >$O/ukcov-$cc.log 2>&1; then
		echo worktree >$O/ukcov-$cc/.source
	else
		say "libukcov ($cc) does not build from the work tree ($O/ukcov-$cc.log): using git HEAD"
		rm -rf $O/ukcov-head $O/ukcov-$cc
		mkdir -p $O/ukcov-head
		git archive HEAD | tar -x -C $O/ukcov-head &&
			build_ukcov "$ROOT/$O/ukcov-head" $cc ||
			{ say "libukcov ($cc) failed to build"; exit 1; }
		echo head >$O/ukcov-$cc/.source
	fi
done

# The SQLite builds: side by side, cached in build-peers/.
say "building (make -f bench/peers/build.mk -j$JOBS; the first time takes a while)"
start=$(date +%s)
make --no-print-directory -f bench/peers/build.mk -j"$JOBS" \
	PEERS_HAVE_CLANG=$HAVE_CLANG PEERS_HAVE_LF=$HAVE_LF PEERS_HAVE_AFL=$HAVE_AFL \
	PEERS_HAVE_ZLIB=$HAVE_ZLIB ||
	{ say "build failed"; exit 1; }
say "builds ready ($(( $(date +%s) - start )) s)"
[ "${PEERS_BUILD_ONLY:-0}" = 1 ] && exit 0
export PEERS_HAVE_CLANG=$HAVE_CLANG PEERS_HAVE_LF=$HAVE_LF PEERS_HAVE_AFL=$HAVE_AFL \
	PEERS_HAVE_ZLIB=$HAVE_ZLIB
exec python3 bench/peers/peers.py
