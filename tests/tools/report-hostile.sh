#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Hostile coverage files against ukcov-report (and ukcov-run's summary),
# generated here: truncations at every record boundary and inside every
# record, huge counts and sizes, count * 8 and count * 32 overflows, lengths
# past the end, FIFOs, devices and directories as the input and as module
# paths, control bytes and missing NULs in names and paths, empty files,
# wrong magic, version and word size, and 1e6 areas.  A bad file gets a
# non-zero exit and exactly one line on stderr; a cut-short one exit 0 and
# one warning; nothing crashes, hangs or trips ASan+UBSan (the asan suite
# builds the tools with them).  Environment: BUILD.  Exit 0/1/77.
set -u
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
RUN=$BUILD/tools/ukcov-run
REPORT=$BUILD/tools/ukcov-report
[ -x "$RUN" ] && [ -x "$REPORT" ] ||
	{ echo "the tools are not built (libdw-dev missing?)"; exit 77; }
command -v perl >/dev/null 2>&1 || { echo "perl is not installed"; exit 77; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export XDG_CACHE_HOME=$tmp/cache
# A sanitizer's report must not look like the tool's own exit 1.
export ASAN_OPTIONS=exitcode=86:detect_leaks=1 UBSAN_OPTIONS=exitcode=86:halt_on_error=1
export TSAN_OPTIONS=exitcode=86
fail=0 runs=0
problem() {
	echo "report-hostile: $*"
	fail=1
}

# A real module for the records to name (symbols, no DWARF needed).
printf 'int f(int x) { return x + 1; }\nint main(void) { return f(0); }\n' >"$tmp/m.c"
cc -O1 -o "$tmp/mod" "$tmp/m.c" || { echo "cannot build a module"; exit 1; }

# gen.pl CASE OUT [ARG]: write a coverage file (ukcov-file(5)) for CASE;
# prints the whole-record boundaries of the file, one offset a line.
cat >"$tmp/gen.pl" <<'EOP'
use strict;
my ($case, $out, $arg) = @ARGV;
my $mod = $ENV{MOD};
my $buf = "";
my @bounds;
sub hdr { my ($magic, $ver, $ws) = @_;
	$buf .= pack('a8VVQ<', $magic // "UKCOVRUN", $ver // 2, $ws // 8, 0);
	push @bounds, length $buf; }
sub rec { my ($t, $b, $size) = @_;
	$buf .= pack('VVQ<', $t, 0, $size // length $b) . $b;
	push @bounds, length $buf; }
sub pad { my $s = shift; $s . ("\0" x ((8 - length($s) % 8) % 8)); }
# module(pid, path, build id, path_len override, build_id_len override)
sub module { my ($pid, $path, $id, $plen, $blen) = @_;
	$id //= ""; $path //= "$mod\0";
	rec(1, pack('Q<Q<Q<Q<VV', $pid, 0x400000, 0x401000, 0x500000,
		    $blen // length $id, $plen // length $path) .
	       pad($id . $path)); }
sub area_body { my (%a) = @_;
	my $n = $a{entries} // [0x401100, 0x401200];
	my $w = ($a{mode} // 0) == 1 ? 4 : 1;
	my $cnt = $a{count} // (@$n / $w);
	pack('Q<Q<VVQ<Q<Q<Q<Q<Q<VVa16', $a{pid} // 100, $a{tid} // 100,
	     $a{kind} // 1, $a{mode} // 0, $a{handle} // 0, $cnt,
	     1000, 0, $a{seq} // 0, 0, $a{flags} // 0, 0,
	     $a{name} // "prog") . pack('Q<*', @$n); }
sub area { my (%a) = @_; rec(2, area_body(%a), $a{size}); }
sub run { my ($how, $st, $fl) = @_; rec(3, pack('VlVVQ<Q<', $how // 1, $st // 0,
					       $fl // 0, 0, 0, 0)); }
sub base {
	hdr();
	module(100);
	area(tid => 100);
	area(tid => 101, seq => 1, name => "worker");
	area(tid => 0, kind => 2, handle => 0x64, name => "");
	area(tid => 0, kind => 3, handle => 0x8100000000000001, name => "");
	area(tid => 0, kind => 4, handle => (0x40 << 56) | 14, name => "");
	run();
}
if ($case eq "base") { base(); }
elsif ($case eq "cmp") { hdr(); module(100);
	area(mode => 1, entries => [1, 2, 3, 0x401100, 5, 6, 7, 0x401200]); run(); }
elsif ($case eq "empty") { }
elsif ($case eq "short-header") { $buf = "UKCOVRUN\2\0"; }
elsif ($case eq "magic") { hdr("UKCOVRUX"); run(); }
elsif ($case eq "version1") { hdr(undef, 1); }
elsif ($case eq "version3") { hdr(undef, 3); run(); }
elsif ($case eq "wordsize") { hdr(undef, 2, 4); run(); }
elsif ($case eq "type") { hdr(); rec(9, pack('Q<', 0)); run(); }
elsif ($case eq "size-odd") { hdr(); rec(2, area_body(), 97); run(); }
elsif ($case eq "size-huge") { hdr(); module(100); area(size => 0x7ffffffffffffff8); run(); }
elsif ($case eq "size-small") { hdr(); rec(2, pack('Q<', 0)); run(); }
elsif ($case eq "count-huge") { hdr(); module(100); area(count => 0x7fffffffffffffff); run(); }
elsif ($case eq "count-wrap8") { hdr(); module(100); area(count => 1 << 61); run(); }
elsif ($case eq "count-wrap32") { hdr(); module(100);
	area(mode => 1, count => 1 << 59, entries => [1, 2, 3, 4]); run(); }
elsif ($case eq "count-one-more") { hdr(); module(100); area(count => 3); run(); }
elsif ($case eq "count-fewer") { hdr(); module(100); area(count => 1); run(); }
elsif ($case eq "mode") { hdr(); area(mode => 7); run(); }
elsif ($case eq "kind") { hdr(); area(kind => 9); run(); }
elsif ($case eq "name-nonul") { hdr(); area(name => "ABCDEFGHIJKLMNOP"); run(); }
elsif ($case eq "path-nonul") { hdr(); module(100, "/bin/true"); run(); }
elsif ($case eq "path-len-huge") { hdr(); module(100, undef, "", 0xffffffff); run(); }
elsif ($case eq "bid-len-huge") { hdr(); module(100, undef, "", undef, 0xfffffff0); run(); }
elsif ($case eq "start-end") { hdr(); rec(1, pack('Q<Q<Q<Q<VV', 100, 0, 9, 1, 0, 8) .
					    pad("/x\0")); run(); }
elsif ($case eq "run-how") { hdr(); run(9); }
elsif ($case eq "run-size") { hdr(); rec(3, pack('VlVVQ<Q<Q<', 1, 0, 0, 0, 0, 0, 0)); }
elsif ($case eq "control") { hdr();
	module(100, "$mod\0");
	module(100, "/tmp/\e[31mred\nline\r\0");
	module(101, "/x\e]0;\a\0");
	area(tid => 101, name => "\e[2J\x07\x7f\n", entries => [0x401100, 0x401200]);
	area(pid => 101, tid => 102, name => "\e[2J", entries => [0x401100]);
	run(); }
elsif ($case eq "module-path") { hdr(); module(100, "$arg\0");
	area(entries => [0x401100, 0x401100, 0x401200]); run(); }
elsif ($case eq "many-areas") { hdr(); module(100);
	# One pack per area: 1e6 areas of one PC, every thread named alike.
	my $b = area_body(tid => 1000, seq => 1, name => "worker", entries => [0x401100]);
	my $r = pack('VVQ<', 2, 0, length $b);
	open(my $f, '>', $out) or die; binmode $f;
	print $f $buf;
	for my $i (1 .. $arg) {
		substr($b, 8, 8) = pack('Q<', 1000 + $i);
		substr($b, 56, 8) = pack('Q<', $i);
		print $f $r, $b;
	}
	close $f or die;
	exit 0; }
else { die "no case $case\n"; }
open(my $f, '>', $out) or die; binmode $f; print $f $buf; close $f or die;
print "$_\n" for @bounds;
EOP
gen() { MOD=$tmp/mod perl "$tmp/gen.pl" "$@"; }

# check WHAT WANT CMD...: WANT is ok (exit 0, no stderr), warn (exit 0,
# one line), or bad (exit 1, one line); nothing else is allowed, and a
# sanitizer's report or a hang is a failure.
check() {
	local what=$1 want=$2 rc lines
	shift 2
	runs=$((runs + 1))
	timeout -k 5 40 "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	lines=$(wc -l <"$tmp/err")
	case $rc in
	124|137) problem "$what: hung (timeout)"; return ;;
	86) problem "$what: sanitizer report:"; head -20 "$tmp/err"; return ;;
	esac
	if [ "$rc" -ge 128 ]; then
		problem "$what: killed by signal $((rc - 128))"
		return
	fi
	if grep -Eq 'Sanitizer|runtime error' "$tmp/err"; then
		problem "$what: sanitizer report:"
		head -20 "$tmp/err"
		return
	fi
	case $want in
	ok) [ $rc = 0 ] && [ "$lines" = 0 ] ;;
	warn) [ $rc = 0 ] && [ "$lines" = 1 ] ;;
	bad) [ $rc = 1 ] && [ "$lines" = 1 ] ;;
	esac || { problem "$what: want $want, got exit $rc and $lines stderr lines:"; head -5 "$tmp/err"; }
	# No control byte reaches the terminal.
	if LC_ALL=C grep -q "$(printf '[\001-\010\013-\037\177]')" "$tmp/out" "$tmp/err"; then
		problem "$what: a control byte in the output"
	fi
}

# ---- bad files: one line, exit 1 -----------------------------------------
for c in empty short-header magic version1 version3 wordsize type size-odd \
	size-huge size-small count-huge count-wrap8 count-wrap32 count-one-more \
	count-fewer mode kind name-nonul path-nonul path-len-huge bid-len-huge \
	start-end run-how run-size; do
	gen "$c" "$tmp/$c.cov" >/dev/null || { problem "gen $c failed"; continue; }
	check "$c" bad "$REPORT" "$tmp/$c.cov"
	check "$c -r" bad "$REPORT" -r "$tmp/$c.cov"
done
"$REPORT" "$tmp/version1.cov" 2>&1 | grep -q '^ukcov-report: .*version 1 file: written by an older ukcov-run; run the program again$' ||
	problem "version 1: not the documented line"
"$REPORT" "$tmp/count-wrap8.cov" 2>&1 | grep -q 'its size does not match its count of entries' ||
	problem "count * 8 overflow not caught as such"

# ---- truncations: at every record boundary, and inside every record ------
gen base "$tmp/base.cov" >"$tmp/bounds" || problem "gen base failed"
check "base" ok "$REPORT" "$tmp/base.cov"
size=$(stat -c %s "$tmp/base.cov")
prev=
k=0
while read -r b; do
	# At the boundary: a whole file of fewer records.
	if [ "$b" -lt "$size" ]; then
		head -c "$b" "$tmp/base.cov" >"$tmp/cut.cov"
		check "cut at record boundary $b" ok "$REPORT" "$tmp/cut.cov"
		grep -q "the run's end was not recorded" "$tmp/out" ||
			problem "cut at $b: the missing run record not said"
	fi
	# Inside the next record: its header, its body's start, middle, end.
	if [ -n "$prev" ]; then
		for at in $((prev + 1)) $((prev + 8)) $((prev + 15)) $((prev + 16)) \
			$((prev + 17)) $((prev + 40)) $(((prev + b) / 2)) $((b - 1)); do
			[ "$at" -gt "$prev" ] && [ "$at" -lt "$b" ] || continue
			head -c "$at" "$tmp/base.cov" >"$tmp/cut.cov"
			check "cut inside a record at $at" warn "$REPORT" "$tmp/cut.cov"
			grep -q "file truncated after $((k - 1)) whole records" "$tmp/err" ||
				{ problem "cut at $at: want 'after $((k - 1)) whole records':"; cat "$tmp/err"; }
			check "cut inside a record at $at, -r -u -s" warn "$REPORT" -r -u -s "$tmp/cut.cov"
		done
	fi
	prev=$b
	k=$((k + 1))
done <"$tmp/bounds"
# Inside the file header: not a coverage file.
for at in 1 8 23; do
	head -c $at "$tmp/base.cov" >"$tmp/cut.cov"
	check "cut inside the header at $at" bad "$REPORT" "$tmp/cut.cov"
done

# ---- FIFOs, devices, directories: as the input and as a module -----------
mkfifo "$tmp/fifo"
check "FIFO input" bad "$REPORT" "$tmp/fifo"
grep -q 'a FIFO, not a regular file' "$tmp/err" || problem "FIFO input: not said"
check "directory input" bad "$REPORT" "$tmp"
check "device input" bad "$REPORT" /dev/null
check "FIFO as --diff" bad "$REPORT" --diff "$tmp/fifo" "$tmp/base.cov"
for m in "$tmp/fifo" /dev/zero "$tmp" /dev/null /nonexistent/mod; do
	gen module-path "$tmp/mp.cov" "$m" >/dev/null
	check "module $m" ok "$REPORT" "$tmp/mp.cov"
	grep -q 'cannot be read' "$tmp/out" || problem "module $m: not said to be unreadable"
	check "module $m, -r -u -s" ok "$REPORT" -r -u -s "$tmp/mp.cov"
	check "module $m, -L" warn "$REPORT" -L - "$tmp/mp.cov"
	check "module $m, --uncovered" ok "$REPORT" --uncovered "$tmp/mp.cov"
done

# ---- control bytes in names and paths ----------------------------------
gen control "$tmp/ctl.cov" >/dev/null
check "control bytes" ok "$REPORT" -f "$tmp/ctl.cov"
check "control bytes, -r -u -s" ok "$REPORT" -r -u -s "$tmp/ctl.cov"
check "control bytes, --diff" ok "$REPORT" --diff "$tmp/ctl.cov" "$tmp/ctl.cov"
check "control bytes, -a" bad "$REPORT" -a "$(printf 'x\033[1m')" "$tmp/ctl.cov"
check "control bytes, -L" warn "$REPORT" -L - "$tmp/ctl.cov"
check "base, -r -u -s" ok "$REPORT" -r -u -s "$tmp/base.cov"
check "base, --diff" ok "$REPORT" --diff "$tmp/base.cov" "$tmp/base.cov"
gen cmp "$tmp/cmp.cov" >/dev/null
check "cmp records, summary" ok "$REPORT" "$tmp/cmp.cov"
check "cmp records, -r -u -s" ok "$REPORT" -r -u -s "$tmp/cmp.cov"

# (What a program can do to ukcov-run's file: tests/tools/run-hostile.sh.)

# ---- 1e6 areas: linear, bounded ------------------------------------------
# TSan makes this single-threaded tool ~10 times slower: 1e5 there.
n=1000000
[ "${SAN:-}" = thread ] && n=100000
n=${HOSTILE_AREAS:-$n}
gen many-areas "$tmp/many.cov" "$n" || problem "gen many-areas failed"
start=$(date +%s)
# The whole summary (to /dev/null: 2 lines an area), then one area of it.
check "$n areas" ok sh -c '"$0" "$1" >/dev/null' "$REPORT" "$tmp/many.cov"
check "$n areas, the last" ok "$REPORT" -a "thread:worker#$n" "$tmp/many.cov"
grep -q "^thread:worker#$n " "$tmp/out" || problem "$n areas: no thread:worker#$n"
echo "report-hostile: $n areas: $(($(date +%s) - start)) s for both"
rm -f "$tmp/many.cov"
echo "report-hostile: $runs runs"
exit $fail
