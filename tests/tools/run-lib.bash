# SPDX-License-Identifier: MIT
# Shared by the tests of ukcov-run's collection (tests/tools/run-*.sh):
# sourced, never run (.bash, not .sh: every .sh here is a test).
#
# run_setup NAME: cd to the top of the tree, check that the tools are
# built (else skip), make a temporary directory ($tmp) and set:
#   RUN, REPORT   this build's ukcov-run and ukcov-report
#   FORMS         the link forms to test: "shared static" (the shared
#                 library; the static one, not whole-archive), or "whole"
#                 in the sanitizer suites (the whole static archive with
#                 -rdynamic, as they link: their runtimes have coverage
#                 callbacks of their own)
#   problem MSG   says what failed ("$TEST: MSG") and marks the test
#                 failed ($fail, the script's exit status); the checks
#                 below name the case under test by $CASE
# Environment: BUILD, CC, SAN (as the suites set them).
set -u

run_setup() {
	TEST=$1
	cd "$(dirname "${BASH_SOURCE[0]}")/../.." || exit 1
	SRC=$PWD
	BUILD=${BUILD:-build}
	CC=${CC:-cc}
	RUN=$BUILD/tools/ukcov-run
	REPORT=$BUILD/tools/ukcov-report
	[ -x "$RUN" ] && [ -x "$REPORT" ] ||
		{ echo "the tools are not built (libdw-dev missing?)"; exit 77; }
	RUN=$(cd "$BUILD/tools" && pwd)/ukcov-run
	REPORT=$(cd "$BUILD/tools" && pwd)/ukcov-report
	ABS=$(cd "$BUILD" && pwd)
	case ${SAN:-} in
	address) SANFLAGS="-fsanitize=address,undefined" ;;
	thread) SANFLAGS="-fsanitize=thread" ;;
	*) SANFLAGS= ;;
	esac
	if [ -n "$SANFLAGS" ]; then
		FORMS="whole"
	else
		FORMS="shared static"
	fi
	# A crash is the program's, not the sanitizer's to report.
	export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}handle_segv=0:detect_leaks=0
	export UBSAN_OPTIONS=${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}handle_segv=0
	export TSAN_OPTIONS=${TSAN_OPTIONS:+$TSAN_OPTIONS:}handle_segv=0
	ulimit -c 0
	# sort groups an area's lines by bytes, whatever the user's locale.
	export LC_ALL=C
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	# ukcov-report caches coverable PCs there: not in the user's ~/.cache.
	export XDG_CACHE_HOME=$tmp/cache
	fail=0
}

problem() {
	echo "$TEST: $*"
	fail=1
}

# The coverage flags, as the README gives them; gcc would merge the
# marker functions, which are identical, without -fno-ipa-icf.
cov_flags() {
	local f="-O1 -g -fsanitize-coverage=trace-pc -fno-optimize-sibling-calls -I$SRC/include"
	case $("$CC" --version 2>/dev/null) in
	*clang*) ;;
	*) f="$f -fno-ipa-icf" ;;
	esac
	echo "$f $SANFLAGS"
}

# link_flags FORM: how a program is linked with this build's libukcov.
link_flags() {
	local clang_rt=
	case $("$CC" --version 2>/dev/null) in
	*clang*) [ -z "$SANFLAGS" ] && clang_rt=-fno-sanitize-link-runtime ;;
	esac
	case $1 in
	shared) echo "-L$ABS -lukcov -Wl,-rpath,$ABS $clang_rt" ;;
	static) echo "$ABS/libukcov.a -lpthread -ldl $clang_rt" ;;
	whole) echo "-Wl,--whole-archive $ABS/libukcov.a -Wl,--no-whole-archive -lpthread -ldl" ;;
	esac
}

# build_target FORM OUT [CFLAGS...]: tests/tools/run-target.c, exporting
# its symbols (-rdynamic) so that run-late.c's library binds to its
# runtime in the static forms.
build_target() {
	local form=$1 out=$2
	shift 2
	# shellcheck disable=SC2046
	"$CC" $(cov_flags) -o "$out" "$SRC/tests/tools/run-target.c" "$@" \
		-rdynamic $(link_flags "$form") ||
		{ echo "$TEST: cannot build run-target ($form)"; exit 1; }
}

# build_late DIR: run-late.c's library, instrumented, as DIR/librunlate.so;
# its runtime is the program's.
build_late() {
	# shellcheck disable=SC2046
	"$CC" $(cov_flags) -fPIC -shared -o "$1/librunlate.so" \
		"$SRC/tests/tools/run-late.c" -lpthread ||
		{ echo "$TEST: cannot build run-late.c"; exit 1; }
}

# area_funcs FILE: one line per area, "LABEL<TAB>FUNC FUNC...", the
# functions its entries belong to (sorted, once each), from ukcov-report
# -r -u -s; "?" for entries outside every module.
area_funcs() {
	"$REPORT" -r -u -s "$1" | awk '
		/^# .*: [0-9]+ (entries|comparisons)/ {
			label = $0
			sub(/^# /, "", label)
			sub(/: [0-9]+ (entries|comparisons).*$/, "", label)
			print label "\t"
			next
		}
		/^\?/ { print label "\t?"; next }
		NF >= 2 && $2 !~ /^\(/ { print label "\t" $2 }' |
		sort -u | awk -F '\t' '
		$1 != last {
			if (NR > 1) print line
			line = $1 "\t"; sep = ""; last = $1
		}
		$2 != "" { line = line sep $2; sep = " " }
		END { if (NR) print line }'
}

# marker_areas FILE MARKER: the labels of the areas that ran MARKER,
# sorted, space-separated.
marker_areas() {
	area_funcs "$1" | awk -F '\t' -v m="$2" '
		{ n = split($2, f, " "); for (i = 1; i <= n; i++) if (f[i] == m) print $1 }' |
		sort | tr '\n' ' ' | sed 's/ $//'
}

# check_marker FILE MARKER WANT: MARKER is in exactly the areas WANT
# (sorted labels, space-separated).
check_marker() {
	local got
	got=$(marker_areas "$1" "$2")
	[ "$got" = "$3" ] || problem "$CASE: $2 in '$got', want '$3'"
}

# areas_per_tid FILE: "TID COUNT" for every thread id of the summary's
# thread areas.
areas_per_tid() {
	"$REPORT" "$1" | sed -n 's/.* thread tid \([0-9][0-9]*\).*/\1/p' |
		sort -n | uniq -c | awk '{ print $2, $1 }'
}

# check_tids_once FILE: no thread id has two areas.
check_tids_once() {
	local twice
	twice=$(areas_per_tid "$1" | awk '$2 > 1 { printf "%s(%s) ", $1, $2 }')
	[ -z "$twice" ] || problem "$CASE: thread ids with several areas: $twice"
}

# unfinished FILE: the labels of the areas the summary marks unfinished,
# sorted, space-separated.
unfinished() {
	"$REPORT" "$1" | awk '/, unfinished \(still running at the end\)/ { print $1 }' |
		sort | tr '\n' ' ' | sed 's/ $//'
}

# labels FILE: every area's label, sorted, one per line.
labels() {
	"$REPORT" -r "$1" | sed -n 's/^# \(.*\): [0-9]* \(entries\|comparisons\).*/\1/p' | sort
}

# run_record FILE: "how status flags areas_lost" of the run record, or
# "none"; "bad" when the file is not whole records (ukcov-file(5)).
run_record() {
	perl -e '
		open(my $f, "<", $ARGV[0]) or exit(print "bad\n");
		binmode $f; local $/; my $d = <$f>;
		$d = "" unless defined $d;
		my $p = 24; my $run = "none";
		exit(print "bad\n") if length($d) < 24 || substr($d, 0, 8) ne "UKCOVRUN";
		while ($p < length $d) {
			exit(print "bad\n") if $p + 16 > length $d;
			my ($t, $r, $sz) = unpack("VVQ<", substr($d, $p, 16));
			exit(print "bad\n") if $p + 16 + $sz > length $d;
			if ($t == 3) {
				my ($how, $st, $fl, $res, $lost) =
					unpack("VlVVQ<", substr($d, $p + 16, 24));
				$run = "$how $st $fl $lost";
			}
			$p += 16 + $sz;
		}
		print "$run\n";' "$1"
}

# records FILE: "MODULES AREAS RUNS" counted over the file's records, or
# "bad" when the file is not a header and whole records (ukcov-file(5):
# a 24-byte header, records of a 16-byte header and `size` bytes).
records() {
	perl -e '
		open(my $f, "<", $ARGV[0]) or exit(print "bad\n");
		binmode $f; local $/; my $d = <$f>;
		$d = "" unless defined $d;
		exit(print "bad\n") if length($d) < 24 || substr($d, 0, 8) ne "UKCOVRUN";
		my $p = 24; my @n = (0, 0, 0, 0);
		while ($p < length $d) {
			exit(print "bad\n") if $p + 16 > length $d;
			my ($t, $r, $sz) = unpack("VVQ<", substr($d, $p, 16));
			exit(print "bad\n") if $t < 1 || $t > 3 || $p + 16 + $sz > length $d;
			$n[$t]++;
			$p += 16 + $sz;
		}
		print "$n[1] $n[2] $n[3]\n";' "$1"
}

# wait_file PATH [SECONDS]: until PATH exists (default 20 s); false if not.
wait_file() {
	local i n=$((${2:-20} * 20))
	for ((i = 0; i < n; i++)); do
		[ -e "$1" ] && return 0
		sleep 0.05
	done
	return 1
}
