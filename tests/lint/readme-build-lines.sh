#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The README's own build lines work after `make`, without `make install`
# (issue 13, item 2): the sh block of "## Building a target" is run line by
# line, as written, on a small program that includes <ukcov.h>, with the
# build tree's uninstalled pkg-config file ($BUILD/ukcov-uninstalled.pc):
# each compile line must compile, each link line must link a program that
# runs and collects its own PCs through the build tree's libukcov (its
# libukcov.so found by its run path, or libukcov.a linked in).  The only
# change to a line is $PWD/build, which names this tree's BUILD folder; a
# line whose compiler is missing (clang) is skipped with a message.
# Environment: BUILD (default build), CC (default gcc).  Exit 0/1/77.
set -u
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
CC=${CC:-gcc}
root=$PWD
command -v pkg-config >/dev/null 2>&1 || { echo "SKIP: pkg-config is not installed"; exit 77; }
make -s BUILD="$BUILD" CC="$CC" lib >/dev/null 2>&1 || { echo "readme: building ukcov failed"; exit 1; }
[ -f "$BUILD/ukcov-uninstalled.pc" ] || { echo "readme: no $BUILD/ukcov-uninstalled.pc"; exit 1; }

block=$(awk '
	/^## / { insec = ($0 == "## Building a target") }
	insec && /^```sh$/ { inb = 1; next }
	inb && /^```$/ { exit }
	inb { print }
' README.md)
[ -n "$block" ] || { echo "readme: no sh block under \"## Building a target\""; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat >"$tmp/prog.c" <<'C'
#include <stdio.h>
#include <sys/mman.h>
#include <ukcov.h>
static volatile int in = 5, sink;
static int __attribute__((noinline)) f(int x) { return x > 3 ? x * 2 : x + 1; }
int main(void)
{
	int fd = ukcov_open();
	unsigned long *a, n;

	if (fd < 0 || ukcov_ioctl(fd, KCOV_INIT_TRACE, 1024UL))
		return 1;
	a = ukcov_mmap(NULL, 1024 * sizeof(long), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (a == MAP_FAILED || ukcov_ioctl(fd, KCOV_ENABLE, KCOV_TRACE_PC))
		return 2;
	a[0] = 0;
	sink = f(in);
	n = __atomic_load_n(&a[0], __ATOMIC_ACQUIRE);
	ukcov_ioctl(fd, KCOV_DISABLE, 0UL);
	printf("collected %lu\n", n);
	return n ? 0 : 3;
}
C

fail=0 compiled=0 linked=0
unset PKG_CONFIG_PATH PKG_CONFIG_LIBDIR
while IFS= read -r line; do
	[ -n "$line" ] || continue
	cmd=${line//\$PWD\/build/$root/$BUILD}
	case $cmd in
	export\ *)
		eval "$cmd"
		continue ;;
	esac
	first=${cmd%% *}
	command -v "$first" >/dev/null 2>&1 || { echo "readme: $first is not installed: skipped: $line"; continue; }
	rm -f "$tmp/prog"
	if ! out=$(cd "$tmp" && bash -c "$cmd" 2>&1); then
		printf '%s\n' "$out" | sed 's/^/    /' | tail -n 8
		echo "readme: this line failed: $line"
		fail=1
		continue
	fi
	case $cmd in *" -c "*) compiled=$((compiled + 1)); continue ;; esac
	linked=$((linked + 1))
	if ! out=$(cd "$tmp" && ./prog 2>&1); then
		echo "readme: the program linked by this line failed ($out): $line"
		fail=1
	elif ldd "$tmp/prog" | grep -q 'libukcov\.so' &&
		! ldd "$tmp/prog" | grep -q "=> $root/$BUILD/libukcov\.so"; then
		echo "readme: the program linked by this line does not use $BUILD's libukcov.so: $line"
		fail=1
	fi
done <<<"$block"
[ $compiled -ge 1 ] && [ $linked -ge 2 ] ||
	{ echo "readme: ran $compiled compile and $linked link lines, want at least 1 and 2"; fail=1; }
exit $fail
