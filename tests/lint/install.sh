#!/usr/bin/env bash
# Installation and the public ABI (spec §2):
#   - `make install DESTDIR=<tmp> PREFIX=/usr` installs the headers, both
#     libraries and a pkg-config file whose paths are PREFIX's (also checked
#     with a second PREFIX, so a stale ukcov.pc cannot pass);
#   - a small instrumented program compiles against the installed header
#     and library through pkg-config (sysroot = DESTDIR), as C with gcc and
#     as C++ with g++ (and with clang/clang++ when installed), runs with
#     LD_LIBRARY_PATH into DESTDIR, and collects its own PCs;
#   - <linux/kcov.h> included before and after <ukcov.h> does not clash, in
#     C and C++, and the kcov constants and layout are Linux's
#     (static_assert: sizeof(struct kcov_remote_arg) == 24, the request
#     numbers, ...);
#   - the compiler wrapper (ukcov-cc and its links, the dynamic list, its
#     man page) is installed, and the staged copy builds the client from
#     the staged header and libukcov.a, found from its own place under
#     DESTDIR; every installed man page, alias links included, resolves;
#   - the library's SONAME is libukcov.so.0, and `nm -D --defined-only`
#     exports only ukcov_*, __sanitizer_cov_*, close and pthread_create, and
#     the libc functions ukcov interposes to run signal handlers as soft
#     interrupts (spec §3.3: sigaction, signal and relatives, the longjmp
#     family), including every function ukcov.h declares and every callback.
# Environment: BUILD (default build), CC (default gcc).  Exits 77 only when
# no C++ compiler exists at all.
set -u
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
CC=${CC:-gcc}
status=0

fail() {
	echo "install: $*" >&2
	status=1
}
die() {
	echo "install: $*" >&2
	exit 1
}

command -v pkg-config >/dev/null 2>&1 || die "pkg-config is not installed"
cxx_found=
for c in g++ clang++; do
	command -v "$c" >/dev/null 2>&1 && cxx_found=1
done
[ -n "$cxx_found" ] || { echo "SKIP: no C++ compiler (g++ or clang++)"; exit 77; }

tmp=$(mktemp -d)
# make install may regenerate $BUILD/ukcov.pc for our PREFIX: put the
# build's own copy back afterwards.
pc_saved=
if [ -e "$BUILD/ukcov.pc" ]; then
	cp -p "$BUILD/ukcov.pc" "$tmp/ukcov.pc.saved" && pc_saved=1
fi
# shellcheck disable=SC2317 # run by the trap
cleanup() {
	[ -n "$pc_saved" ] && cp -p "$tmp/ukcov.pc.saved" "$BUILD/ukcov.pc"
	rm -rf "$tmp"
}
trap cleanup EXIT

D=$tmp/dest
make -s install DESTDIR="$D" PREFIX=/usr BUILD="$BUILD" CC="$CC" >"$tmp/make.log" 2>&1 ||
	{ cat "$tmp/make.log" >&2; die "make install DESTDIR=$D PREFIX=/usr failed"; }

for f in usr/include/ukcov.h usr/include/ukcov/kcov.h usr/lib/libukcov.a \
	usr/lib/libukcov.so usr/lib/libukcov.so.0 usr/lib/pkgconfig/ukcov.pc \
	usr/include/ukcov/fuzzer.h usr/lib/libukcov-afl.a \
	usr/share/man/man3/ukcov_fuzzer.3; do
	[ -e "$D/$f" ] || fail "not installed: /$f"
done
# The libFuzzer feed is built when clang's libFuzzer is there.
[ ! -e "$BUILD/libukcov-libfuzzer.a" ] || [ -e "$D/usr/lib/libukcov-libfuzzer.a" ] ||
	fail "not installed: /usr/lib/libukcov-libfuzzer.a"
real_so=$(readlink -f "$D/usr/lib/libukcov.so.0")
[ -f "$real_so" ] || die "/usr/lib/libukcov.so.0 does not lead to a file"
[ "$(readlink -f "$D/usr/lib/libukcov.so")" = "$real_so" ] ||
	fail "libukcov.so and libukcov.so.0 are not the same library"

# The pkg-config file must name the PREFIX of the install.
check_pc() { # PCFILE PREFIX
	local v want
	for v in prefix libdir includedir; do
		case $v in
		prefix) want=$2 ;;
		libdir) want=$2/lib ;;
		includedir) want=$2/include ;;
		esac
		grep -qx "$v=$want" "$1" ||
			fail "$1: want $v=$want, have: $(grep "^$v=" "$1") (is \$(BUILD)/ukcov.pc regenerated when PREFIX changes?)"
	done
}
check_pc "$D/usr/lib/pkgconfig/ukcov.pc" /usr
D2=$tmp/dest2
if make -s install DESTDIR="$D2" PREFIX=/opt/ukcov BUILD="$BUILD" CC="$CC" >"$tmp/make2.log" 2>&1; then
	check_pc "$D2/opt/ukcov/lib/pkgconfig/ukcov.pc" /opt/ukcov
else
	cat "$tmp/make2.log" >&2
	fail "make install DESTDIR=$D2 PREFIX=/opt/ukcov failed"
fi

# pkg-config into the DESTDIR.  /usr/include and /usr/lib are "system"
# directories that pkg-config leaves out unless allowed; the paths are
# forced to PREFIX's so that the rest runs even when the .pc is stale (that
# is reported above).
export PKG_CONFIG_LIBDIR=$D/usr/lib/pkgconfig PKG_CONFIG_PATH=$D/usr/lib/pkgconfig
export PKG_CONFIG_SYSROOT_DIR=$D
export PKG_CONFIG_ALLOW_SYSTEM_CFLAGS=1 PKG_CONFIG_ALLOW_SYSTEM_LIBS=1
pc_fix=(--define-variable=prefix=/usr --define-variable=libdir=/usr/lib
	--define-variable=includedir=/usr/include)
cflags=$(pkg-config "${pc_fix[@]}" --cflags ukcov) || die "pkg-config --cflags ukcov failed"
libs=$(pkg-config "${pc_fix[@]}" --libs ukcov) || die "pkg-config --libs ukcov failed"
case $cflags in *"$D/usr/include"*) ;; *) fail "pkg-config --cflags does not point into DESTDIR: $cflags" ;; esac
case $libs in *"$D/usr/lib"*) ;; *) fail "pkg-config --libs does not point into DESTDIR: $libs" ;; esac
pkg-config --modversion ukcov | grep -qx '0\.1\.[0-9]*' ||
	fail "pkg-config --modversion: $(pkg-config --modversion ukcov)"

# A client: it collects its own coverage through the installed library.
cat >"$tmp/prog.c" <<'EOF'
#include <stdio.h>
#include <sys/mman.h>
#include <ukcov.h>
__attribute__((noinline)) int f(int x);
__attribute__((noinline)) int f(int x) { return x > 3 ? x * 2 : x + 1; }
volatile int in = 5;
int main(void)
{
	int fd = ukcov_open();
	if (fd < 0 || ukcov_ioctl(fd, KCOV_INIT_TRACE, 1024UL)) return 1;
	unsigned long *a = (unsigned long *)ukcov_mmap(NULL, 1024 * sizeof(long), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (a == MAP_FAILED || ukcov_ioctl(fd, KCOV_ENABLE, KCOV_TRACE_PC)) return 2;
	a[0] = 0; volatile int s = f(in); (void)s;
	unsigned long n = __atomic_load_n(&a[0], __ATOMIC_ACQUIRE);
	if (ukcov_ioctl(fd, KCOV_DISABLE, 0UL) || n == 0) return 3;
	printf("collected %lu, ukcov %d.%d\n", n, ukcov_version_major(), ukcov_version_minor());
	return ukcov_close(fd) ? 4 : 0;
}
EOF
cp "$tmp/prog.c" "$tmp/prog.cc"

compilers=()
for c in gcc g++ clang clang++; do
	command -v "$c" >/dev/null 2>&1 && compilers+=("$c")
done
is_cxx() { case $1 in *++) return 0 ;; esac; return 1; }

for c in "${compilers[@]}"; do
	src=$tmp/prog.c
	is_cxx "$c" && src=$tmp/prog.cc
	exe=$tmp/prog-$c
	# As the README says: clang's UBSan runtime would shadow the
	# callbacks (and libukcov says so at start, which fails the check).
	nort=
	case $c in clang*) nort=-fno-sanitize-link-runtime ;; esac
	# shellcheck disable=SC2086 # pkg-config output is a word list
	if ! $c -O2 -Wall -Wextra -Werror -fsanitize-coverage=trace-pc \
		$cflags -o "$exe" "$src" $libs $nort 2>"$tmp/cc.log"; then
		cat "$tmp/cc.log" >&2
		fail "$c: the client does not build against the installed library"
		continue
	fi
	out=$(LD_LIBRARY_PATH=$D/usr/lib "$exe" 2>&1)
	rc=$?
	[ $rc = 0 ] || { fail "$c: the client exited $rc: $out"; continue; }
	case $out in "collected "*", ukcov 0.1") ;; *) fail "$c: client printed: $out" ;; esac
	# It ran the installed library, not some other copy.
	LD_LIBRARY_PATH=$D/usr/lib ldd "$exe" | grep -q "$D/usr/lib/libukcov.so.0" ||
		fail "$c: the client did not load DESTDIR's libukcov.so.0"
done

# The compiler wrapper, staged: it must use DESTDIR's files, not the build
# tree's nor /usr's.
for f in usr/bin/ukcov-cc usr/bin/ukcov-c++ usr/bin/ukcov-clang usr/bin/ukcov-clang++ \
	usr/lib/ukcov/ukcov.dynlist usr/share/man/man1/ukcov-cc.1 usr/share/man/man1/ukcov-c++.1; do
	[ -e "$D/$f" ] || fail "not installed: /$f"
done
for f in "$D"/usr/share/man/man*/*; do
	[ -e "$f" ] || fail "installed man page ${f#"$D"} leads nowhere ($(readlink "$f"))"
done
if [ -x "$D/usr/bin/ukcov-cc" ]; then
	if UKCOV_CC_VERBOSE=1 "$D/usr/bin/ukcov-cc" -O2 -o "$tmp/wrapped" "$tmp/prog.c" \
		>"$tmp/cc.log" 2>&1; then
		grep -q -- "-isystem $D/usr/include" "$tmp/cc.log" ||
			fail "ukcov-cc (staged) did not add DESTDIR's headers: $(cat "$tmp/cc.log")"
		grep -q -- " $D/usr/lib/libukcov.a " "$tmp/cc.log" ||
			fail "ukcov-cc (staged) did not link DESTDIR's libukcov.a: $(cat "$tmp/cc.log")"
		out=$("$tmp/wrapped" 2>&1) || fail "the client built by ukcov-cc exited $?: $out"
		case $out in "collected "*) ;; *) fail "the client built by ukcov-cc printed: $out" ;; esac
	else
		cat "$tmp/cc.log" >&2
		fail "ukcov-cc (staged) could not build the client"
	fi
fi

# Headers: <linux/kcov.h> before and after <ukcov.h>, C and C++.
asserts='
#ifdef __cplusplus
#define SA(c) static_assert(c, #c)
#else
#define SA(c) _Static_assert(c, #c)
#endif
#include <stddef.h>
SA(sizeof(struct kcov_remote_arg) == 24);
SA(offsetof(struct kcov_remote_arg, trace_mode) == 0);
SA(offsetof(struct kcov_remote_arg, area_size) == 4);
SA(offsetof(struct kcov_remote_arg, num_handles) == 8);
SA(offsetof(struct kcov_remote_arg, common_handle) == 16);
SA(offsetof(struct kcov_remote_arg, handles) == 24);
SA(KCOV_INIT_TRACE == 0x80086301ul);
SA(KCOV_ENABLE == 0x6364);
SA(KCOV_DISABLE == 0x6365);
SA(KCOV_REMOTE_ENABLE == 0x40186366);
SA(KCOV_RESET_TRACE == 0x6368);
SA(KCOV_TRACE_PC == 0 && KCOV_TRACE_CMP == 1);
SA(KCOV_CMP_CONST == 1 && KCOV_CMP_SIZE(3) == 6 && KCOV_CMP_MASK == 6);
SA(KCOV_SUBSYSTEM_COMMON == 0 && KCOV_SUBSYSTEM_USB == 0x0100000000000000ull);
SA(KCOV_SUBSYSTEM_MASK == 0xff00000000000000ull);
SA(KCOV_INSTANCE_MASK == 0xffffffffull);
SA(KCOV_REMOTE_MAX_HANDLES == 0x100);
unsigned long long use(void);
unsigned long long use(void)
{
	return kcov_remote_handle(KCOV_SUBSYSTEM_USB, 7) + ukcov_remote_handle(UKCOV_SUBSYSTEM_APP(1), 2);
}
'
hdr_variants=(ukcov-only)
if [ -e /usr/include/linux/kcov.h ]; then
	hdr_variants+=(linux-first linux-after)
else
	echo "install: /usr/include/linux/kcov.h missing: clash checks skipped" >&2
fi
for v in "${hdr_variants[@]}"; do
	case $v in
	ukcov-only) inc='#include <ukcov.h>' ;;
	linux-first) inc=$'#include <linux/kcov.h>\n#include <ukcov.h>' ;;
	linux-after) inc=$'#include <ukcov.h>\n#include <linux/kcov.h>' ;;
	esac
	printf '%s\n%s\n' "$inc" "$asserts" >"$tmp/h-$v.c"
	cp "$tmp/h-$v.c" "$tmp/h-$v.cc"
	for c in "${compilers[@]}"; do
		src=$tmp/h-$v.c std=-std=gnu11
		is_cxx "$c" && src=$tmp/h-$v.cc std=-std=gnu++11
		# shellcheck disable=SC2086 # pkg-config output is a word list
		if ! $c $std -Wall -Wextra -Werror $cflags -c -o "$tmp/h.o" "$src" 2>"$tmp/cc.log"; then
			cat "$tmp/cc.log" >&2
			fail "$c: headers ($v) do not compile cleanly"
		fi
	done
done

# The library's identity and exports.
soname=$(readelf -dW "$real_so" | sed -n 's/.*(SONAME).*\[\(.*\)\].*/\1/p')
[ "$soname" = libukcov.so.0 ] || fail "SONAME is '$soname', want libukcov.so.0"
exports=$(nm -D --defined-only "$real_so" | awk '{ print $NF " " $(NF-1) }' | sed 's/@.*\( [A-Za-z]\)$/\1/')
# Nothing beyond the API, the callbacks and the routes ukcov interposes:
# tests/lint/routes.sh checks the exact list against the installed libc.
[ -n "$exports" ] || fail "nm -D --defined-only lists nothing for $real_so"
BUILD=$(dirname "$real_so") tests/lint/routes.sh >/dev/null ||
	fail "the installed library's exports: see tests/lint/routes.sh"

names=$(printf '%s\n' "$exports" | awk '{ print $1 }')
want=$(sed -n 's/^UKCOV_API [^(]*[ *]\(ukcov_[a-z_0-9]*\)(.*/\1/p' "$D/usr/include/ukcov.h")
[ -n "$want" ] || fail "no UKCOV_API functions found in ukcov.h"
want+=" close pthread_create"
for cb in pc cmp1 cmp2 cmp4 cmp8 const_cmp1 const_cmp2 const_cmp4 const_cmp8 cmpf cmpd switch; do
	want+=" __sanitizer_cov_trace_$cb"
done
for s in $want; do
	printf '%s\n' "$names" | grep -qx "$s" || fail "$s is not exported"
done
exit $status
