#!/usr/bin/env bash
# The hot path is bare (spec §3.6): src/callbacks.c must not call anything
# that allocates, locks, prints, makes system calls or touches errno, and
# every function defined in it must carry NOCOV_HOT, NOCOV_INLINE or
# UKCOV_NOCOV.  Each forbidden pattern is self-tested: a sample line that
# must match is fed to the same matcher, and clean lines of the kind the
# file really has must not match.  Then the compiled callbacks.o of
# $BUILD/pic and $BUILD/pie (and of the other build folders, when built)
# must contain no call instruction, no system call instruction and no
# undefined symbol but the GOT's, so nothing can be reached from it.
# Environment: BUILD (default build).
set -u
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
SRC=src/callbacks.c
status=0

fail() {
	echo "callbacks-lint: $*" >&2
	status=1
}

# Forbidden patterns (extended regexps), each with a sample that must match.
# A call is an identifier followed by "(".
# shellcheck disable=SC2016 # a literal $0x80
patterns=(
	'\b(malloc|calloc|realloc|reallocarray|free|aligned_alloc|posix_memalign|memalign|valloc|strdup|strndup|alloca)[[:space:]]*\('
	'\b(mmap|mmap64|munmap|mprotect|mremap|madvise|brk|sbrk)[[:space:]]*\('
	'\bpthread_[a-z_]+[[:space:]]*\('
	'\b(mtx|cnd|thrd|tss)_[a-z_]+[[:space:]]*\('
	'\b(__ukcov_lock|__ukcov_unlock|spin_lock|spin_unlock|flockfile|funlockfile|sem_wait|sem_post|futex)[[:space:]]*\('
	'\b[a-z]*printf[[:space:]]*\('
	'\b(puts|fputs|putc|fputc|putchar|fwrite|perror|psignal|syslog|__builtin_printf)[[:space:]]*\('
	'\b(write|writev|pwrite|read|readv|open|openat|close|ioctl|fcntl|fstat|stat|getpid|gettid|getcwd|nanosleep|usleep|sleep|clock_gettime|gettimeofday|time|kill|tgkill|raise|sigaction|signal|sigprocmask|memfd_create|ftruncate|dlsym|dlopen|getenv|sysconf)[[:space:]]*\('
	'\b(syscall|__syscall|sched_yield)[[:space:]]*\('
	'\b(abort|exit|_exit|_Exit|quick_exit|atexit|assert|__assert_fail|__builtin_trap)[[:space:]]*\('
	'\b(errno|__errno_location|__errno)\b'
	'\b(asm|__asm__|__asm)[[:space:]]*(volatile|__volatile__)?[[:space:]]*\([[:space:]]*"[^"]*(syscall|sysenter|int[[:space:]]*\$0x80|svc|call)'
)
samples=(
	'	p = malloc(sizeof(*p));'
	'	area = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);'
	'	pthread_mutex_lock(&m);'
	'	mtx_lock(&m);'
	'	__ukcov_lock(&k->lock, &ss);'
	'	fprintf(stderr, "x\n");'
	'	puts("hello");'
	'	(void)write(2, "x", 1);'
	'	syscall(SYS_gettid);'
	'	abort();'
	'	int e = errno;'
	'	__asm__ __volatile__("syscall" ::: "memory");'
)
# Lines like the ones the callbacks really contain: none may match.
clean=(
	'	WRITE_ONCE(area[0], count + 1);'
	'	area[count + 1] = RET_IP();'
	'	write_cmp(CMP_SIZE(0), a, b, RET_IP());'
	'	if (unlikely(count >= g->cap))'
	'#define barrier() __asm__ __volatile__("" ::: "memory")'
	'	rec = area + 1 + count * UKCOV_WORDS_PER_CMP;'
	'	n = cases[0];'
)

# matches REGEX: read lines on stdin, print the ones that match.
matches() {
	grep -nE -- "$1"
}

for i in "${!patterns[@]}"; do
	if ! printf '%s\n' "${samples[$i]}" | matches "${patterns[$i]}" >/dev/null; then
		fail "self-test: pattern $i does not match its sample: ${samples[$i]}"
	fi
	for c in "${clean[@]}"; do
		if printf '%s\n' "$c" | matches "${patterns[$i]}" >/dev/null; then
			fail "self-test: pattern $i matches a clean line: $c"
		fi
	done
done

[ -r "$SRC" ] || { echo "callbacks-lint: $SRC not found" >&2; exit 1; }

# The source without its comments (macros stay unexpanded, strings stay).
strip_comments() {
	gcc -fpreprocessed -dD -E -x c "$1" 2>/dev/null
}
code=$(strip_comments "$SRC")
[ -n "$code" ] || { echo "callbacks-lint: cannot strip comments of $SRC" >&2; exit 1; }
# Self-test of the stripping: a comment's words are gone, code stays.
probe=$(printf '/* malloc(1) */\nint x; // free(p)\n' | strip_comments /dev/stdin)
if printf '%s\n' "$probe" | grep -qE 'malloc|free' ||
	! printf '%s\n' "$probe" | grep -q 'int x;'; then
	fail "self-test: comment stripping is broken"
fi

for i in "${!patterns[@]}"; do
	hits=$(printf '%s\n' "$code" | matches "${patterns[$i]}")
	if [ -n "$hits" ]; then
		fail "$SRC (comments stripped) matches a forbidden pattern ${patterns[$i]}:"
		printf '%s\n' "$hits" | head -n 10 >&2
	fi
done

# Functions without a no-coverage marker.  A definition is a "{" alone at
# column 0 (kernel style) or a header line ending in ") {"; its header is
# the text since the previous blank, ";", "}" or preprocessor line.
unmarked_functions() {
	awk '
		function check(hdr) {
			if (hdr !~ /NOCOV_HOT|NOCOV_INLINE|UKCOV_NOCOV/)
				print "unmarked function: " hdr
		}
		/^\{[[:space:]]*$/ { check(hdr); hdr = ""; next }
		/^[A-Za-z_][^;=]*\)[[:space:]]*\{[[:space:]]*$/ {
			check(hdr " " $0); hdr = ""; next
		}
		/^[[:space:]]*$/ || /;[[:space:]]*$/ || /^\}/ || /^#/ ||
		/^[A-Za-z_][A-Za-z0-9_]*:/ {
			hdr = ""; next
		}
		/^[A-Za-z_]/ { hdr = $0; next }
		hdr != "" && /\)[[:space:]]*\{[[:space:]]*$/ {
			check(hdr " " $0); hdr = ""; next
		}
		hdr != "" { hdr = hdr " " $0 }
	'
}
# Self-test: an unmarked definition is found, marked ones are not.
selftest=$(cat <<'EOF'
NOCOV_HOT void good1(void)
{
}

NOCOV_INLINE void good2(uint64_t type,
			unsigned long ip)
{
}

static UKCOV_NOCOV int good3(int x) {
	return x;
}

void __sanitizer_cov_trace_pc(void);
void bad1(void)
{
}

static int bad2(int a,
		int b) {
	return a + b;
}
EOF
)
got=$(printf '%s\n' "$selftest" | unmarked_functions)
if [ "$(printf '%s\n' "$got" | grep -c 'unmarked')" != 2 ] ||
	! printf '%s\n' "$got" | grep -q 'bad1' || ! printf '%s\n' "$got" | grep -q 'bad2'; then
	fail "self-test: the marker check found [$got], want bad1 and bad2"
fi
# The real file has functions, and the check sees them.
defs=$(printf '%s\n' "$code" | grep -cE '^\{[[:space:]]*$')
[ "$defs" -ge 12 ] || fail "$SRC: found only $defs function definitions (expected the 12 callbacks at least)"
hits=$(printf '%s\n' "$code" | unmarked_functions)
if [ -n "$hits" ]; then
	fail "$SRC: functions without NOCOV_HOT/NOCOV_INLINE/UKCOV_NOCOV:"
	printf '%s\n' "$hits" >&2
fi

# The objects: no call, no system call, nothing undefined to reach.
check_object() {
	local o=$1 bad
	# shellcheck disable=SC2016 # a literal $0x80
	bad=$(objdump -d --no-show-raw-insn "$o" |
		grep -E '^[[:space:]]*[0-9a-f]+:[[:space:]]+(call|callq|lcall|syscall|sysenter|int[[:space:]]+\$0x80|bl|blr|svc)([[:space:]]|$)')
	if [ -n "$bad" ]; then
		fail "$o contains call or system call instructions:"
		printf '%s\n' "$bad" | head -n 10 >&2
	fi
	# __ukcov_init may be named, from data only: a pointer that makes a
	# static link pull in the initialisation, never reached from code.
	bad=$(nm -u "$o" | awk '$2 != "_GLOBAL_OFFSET_TABLE_" && $2 != "__ukcov_init" { print $2 }')
	if [ -n "$bad" ]; then
		fail "$o references undefined symbols: $(printf '%s ' "$bad")"
	fi
	bad=$(objdump -r "$o" | awk '
		/^RELOCATION RECORDS FOR/ { sec = $4; next }
		sec ~ /^\[\.text/ && $3 ~ /^__ukcov_init/ { print sec " " $0 }')
	if [ -n "$bad" ]; then
		fail "$o reaches __ukcov_init from code:"
		printf '%s\n' "$bad" | head -n 5 >&2
	fi
	objdump -d "$o" | grep -q '<__sanitizer_cov_trace_pc>:' ||
		fail "$o does not define __sanitizer_cov_trace_pc"
}
# Self-test of the instruction check: an object with a call is caught.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf 'void ext(void);\nvoid __sanitizer_cov_trace_pc(void);\nvoid __sanitizer_cov_trace_pc(void) { ext(); ext(); }\n' >"$tmp/c.c"
if gcc -O2 -c -o "$tmp/c.o" "$tmp/c.c" 2>/dev/null; then
	saved=$status
	check_object "$tmp/c.o" 2>/dev/null
	[ "$status" = 1 ] || { status=$saved; fail "self-test: the object check missed a call"; }
	status=$saved
else
	fail "self-test: cannot compile the probe object"
fi

for o in "$BUILD/pic/callbacks.o" "$BUILD/pie/callbacks.o"; do
	if [ -e "$o" ]; then
		check_object "$o"
	else
		fail "$o is missing: build first (make lib BUILD=$BUILD)"
	fi
done
# The other builds' hot paths, when they exist (make check builds them).
for b in build build-clang build-asan build-tsan; do
	[ "$b" = "$BUILD" ] && continue
	for o in "$b/pic/callbacks.o" "$b/pie/callbacks.o"; do
		[ -e "$o" ] && check_object "$o"
	done
done
exit $status
