#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The compiler wrapper on a real autotools project (issue 13, item 1): GNU
# hello, from Debian's source package (tests/helpers/debian-source.sh),
# built with CC=ukcov-cc ./configure && make, then run under ukcov-run:
# ukcov-report must attribute PCs to hello's own functions (main in
# hello.c) and to the gnulib functions it links from its own static
# library (set_program_name), and the program must behave as built
# without ukcov.  When the source cannot be had (no network, no APT), the
# test is skipped with the reason.
# Environment: BUILD (default build), CC (default gcc).  Exit 0/1/77.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/wrapper/common.sh >/dev/null
build_ukcov wrapper-real-autotools
src=$(tests/helpers/debian-source.sh hello "$BUILD/debian-src" 2>"$tmp/err") ||
	{ echo "SKIP: GNU hello's source: $(cat "$tmp/err")"; exit 77; }

cp -a "$src" "$tmp/hello"
cd "$tmp/hello" || exit 1
if ! CC=$tools/ukcov-cc ./configure --disable-nls >"$tmp/configure.log" 2>&1; then
	tail -n 15 config.log | sed 's/^/    /'
	echo "wrapper-real-autotools: CC=ukcov-cc ./configure failed (above: config.log)"
	exit 1
fi
if ! make -j2 >"$tmp/make.log" 2>&1; then
	tail -n 15 "$tmp/make.log" | sed 's/^/    /'
	echo "wrapper-real-autotools: make failed (above: its end)"
	exit 1
fi
out=$("$tools/ukcov-run" -q -o "$tmp/hello.cov" -- ./hello -g 'built for ukcov' 2>&1)
[ "$out" = "built for ukcov" ] ||
	{ echo "wrapper-real-autotools: hello printed: $out"; fail=1; }
"$tools/ukcov-report" -r -u -s "$tmp/hello.cov" >"$tmp/raw" 2>&1
for want in 'main hello\.c' 'set_program_name progname\.c'; do
	grep -Eq "^hello\+0x[0-9a-f]+ $want:[0-9]+" "$tmp/raw" || {
		sed 's/^/    /' "$tmp/raw" | head -n 20
		echo "wrapper-real-autotools: no PC of /$want/ in ukcov-report -r -u -s (above)"
		fail=1
	}
done
exit $fail
