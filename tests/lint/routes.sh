#!/usr/bin/env bash
# Every route into and out of a context that glibc exports is seen by ukcov
# (spec §3.9, issue 10).  The routes are enumerated from the installed
# libc's dynamic symbol table, by family, not from a list of ours: every
# exported function whose name matches a family's pattern must either be
# interposed by $BUILD/libukcov.so, exported without a symbol version (so
# that a library's "sigaction@GLIBC_2.2.5" binds to it too), or be listed
# below with the reason ukcov does not need to.  A new glibc route makes
# this fail until it is handled.  Also: libukcov.so exports nothing but
# its API (version UKCOV_*), the compiler callbacks and those routes.
# Environment: BUILD (default build).
set -u
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
lib=$BUILD/libukcov.so

fail() {
	echo "routes: $*" >&2
	exit 1
}

command -v objdump >/dev/null 2>&1 || { echo "SKIP: objdump not installed"; exit 77; }
[ -e "$lib" ] || fail "$lib not built"
libc=$(gcc -print-file-name=libc.so.6 2>/dev/null)
[ -e "$libc" ] || libc=$(ldconfig -p 2>/dev/null | awk '/libc\.so\.6 / { print $NF; exit }')
[ -e "$libc" ] || { echo "SKIP: libc.so.6 not found"; exit 77; }
libc=$(readlink -f "$libc")

# The families: process creation, thread creation and end, handler
# installation, non-local exits, the process's end, descriptors.
families='^_*(fork|vfork|_?Fork|clone[0-9]*|posix_spawnp?|system|popen|daemon|forkpty'
families+='|pthread_create|pthread_exit'
families+='|sigaction|signal|ssignal|bsd_signal|sysv_signal|sigset|sigignore|siginterrupt|sigvec'
families+='|_?longjmp|siglongjmp|longjmp_chk'
families+='|exit|_?Exit|quick_exit'
families+='|close|close_range|closefrom|dup2|dup3)$'

# Not interposed, and why (docs/design.md, "Every route in and out").
declare -A why=(
	[fork]="its atfork handlers run kcov_task_init in the child"
	[__fork]="as fork"
	[posix_spawn]="glibc's child (clone CLONE_VM|CLONE_VFORK) runs no program code before exec"
	[posix_spawnp]="as posix_spawn"
	[system]="posix_spawn inside glibc"
	[popen]="posix_spawn inside glibc"
	[daemon]="calls fork inside glibc"
	[forkpty]="calls fork inside glibc"
	[sigvec]="a compatibility symbol only: no program built today links it"
)

# Functions libc exports under a default or compatibility version
# (GLIBC_PRIVATE ones are not for programs).
libc_routes=$(objdump -T "$libc" | awk '$4 == ".text" && $(NF-1) !~ /GLIBC_PRIVATE/ { print $NF }' |
	sort -u | grep -E "$families")
[ -n "$libc_routes" ] || fail "no route found in $libc: the pattern is broken"
# Each family is represented, or the enumeration itself is broken.
for must in fork vfork clone pthread_create sigaction signal longjmp exit close; do
	echo "$libc_routes" | grep -qx "$must" || fail "$must not enumerated from $libc"
done

exports=$(objdump -T "$lib" | awk '$4 == ".text" { print $(NF-1), $NF }')
bad=0
for r in $libc_routes; do
	if [ -n "${why[$r]:-}" ]; then
		continue
	fi
	v=$(echo "$exports" | awk -v r="$r" '$2 == r { print $1 }')
	if [ -z "$v" ]; then
		echo "routes: glibc exports $r and libukcov does not interpose it" >&2
		bad=1
	elif [ "$v" != "Base" ]; then
		echo "routes: libukcov exports $r with version $v: a library's $r@GLIBC_* will not bind to it" >&2
		bad=1
	fi
done

# Nothing else leaks out: API symbols are versioned UKCOV_*, the rest are
# the callbacks and the routes above (and the unwinder's hook).
while read -r v s; do
	case $v in UKCOV_*) continue ;; esac
	case $s in
	__sanitizer_cov_*) continue ;;
	_Unwind_SetIP) continue ;;
	pthread_setname_np) continue ;; # ukcov-run's thread labels
	dlclose) continue ;; # unique mode's PC ranges
	esac
	echo "$libc_routes" | grep -qx -- "$s" && continue
	echo "routes: libukcov exports $s ($v), neither API nor a route" >&2
	bad=1
done <<<"$exports"

[ "$bad" = 0 ] || exit 1
n=$(echo "$libc_routes" | wc -w)
echo "routes: $n glibc routes, each interposed without a version or not needed"
