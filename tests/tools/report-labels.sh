#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# ukcov-report's area labels (ukcov-report(1), "Areas"), from a generated
# coverage file whose module is a real program: main; thread:NAME for a
# NAMED thread; thread:FUNC from the start routine's symbol; thread:NAME
# (inherited) otherwise; #k numbering equal labels in creation order
# (seq), not thread-id order; when several processes wrote the file,
# procN/ prefixes from the areas' process numbers (none for the program's
# own, 0), or pidN/ when the numbers do not name the processes one to one.  Environment: BUILD.  Exit 0 pass, 1 fail, 77 skip.
set -u
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
REPORT=$BUILD/tools/ukcov-report
[ -x "$REPORT" ] || { echo "the tools are not built (libdw-dev missing?)"; exit 77; }
command -v nm >/dev/null 2>&1 || { echo "nm (binutils) is not installed"; exit 77; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# ukcov-report caches coverable PCs there: not in the user's ~/.cache.
export XDG_CACHE_HOME=$tmp/cache
fail=0
problem() {
	echo "report-labels: $*"
	fail=1
}

cat >"$tmp/prog.c" <<'EOC'
void *pool_loop(void *a) { return a; }
void *log_loop(void *a) { return a; }
int main(void) { return 0; }
EOC
cc -O1 -o "$tmp/prog" "$tmp/prog.c" || { echo "cannot build"; exit 1; }
addr() { nm "$tmp/prog" | awk -v s="$1" '$3 == s { print "0x" $1 }'; }
POOL=$(addr pool_loop) LOG=$(addr log_loop)
[ -n "$POOL" ] && [ -n "$LOG" ] || { echo "no symbols in the program"; exit 1; }

# The file: perl (Essential in Debian) packs the records of ukcov-file(5).
perl - "$tmp/labels.cov" "$tmp/prog" "$POOL" "$LOG" <<'EOP' || exit 1
use strict;
my ($out, $prog, $pool, $log) = @ARGV;
$pool = hex($pool); $log = hex($log);
my $base = 0x555555554000;
open(my $f, '>', $out) or die;
binmode $f;
print $f "UKCOVRUN", pack('VVQ<', 2, 8, 0);
sub rec { my ($t, $b) = @_; print $f pack('VVQ<', $t, 0, length $b), $b; }
sub module {
	my ($pid) = @_;
	my $p = "$prog\0";
	$p .= "\0" x ((8 - length($p) % 8) % 8);
	rec(1, pack('Q<Q<Q<Q<VV', $pid, $base, $base, $base + 0x100000, 0,
		    length("$prog\0")) . $p);
}
# area(pid, tid, kind, handle, seq, start_routine, flags, name)
sub area {
	my ($pid, $tid, $kind, $h, $seq, $sr, $fl, $name) = @_;
	rec(2, pack('Q<Q<VVQ<Q<Q<Q<Q<Q<VVa16', $pid, $tid, $kind, 0, $h,
		    1, 1, 0, $seq, $sr, $fl, 0, $name) .
	       pack('Q<', $base + 0x1000));
}
module(100);
area(100, 100, 1, 0, 0, 0, 0, "prog");
area(100, 150, 1, 0, 1, $base + $pool, 0, "prog");  # thread:pool_loop
area(100, 120, 1, 0, 2, $base + $pool, 0, "prog");  # thread:pool_loop#2
area(100, 110, 1, 0, 3, $base + $log, 2, "net");    # NAMED: thread:net
area(100, 130, 1, 0, 4, 0, 0, "prog");              # thread:prog
area(100, 125, 1, 0, 5, $base + 3, 0, "prog");      # no symbol: thread:prog#2
area(100, 140, 1, 0, 6, $base + $log, 0, "log");    # thread:log_loop
area(100, 0, 2, 0x64, 0, 0, 0, "");                 # common
area(100, 0, 4, (0x40 << 56) | 14, 0, 0, 0, "");    # signal:SIGALRM
rec(3, pack('VlVVQ<Q<', 1, 0, 0, 0, 0, 0));
EOP
"$REPORT" -r "$tmp/labels.cov" >"$tmp/out" 2>"$tmp/err" ||
	{ problem "ukcov-report failed: $(cat "$tmp/err")"; exit 1; }
got=$(sed -n 's/^# \([^:]*:*[^:]*\): .*/\1/p' "$tmp/out" | tr '\n' ' ')
want="main thread:pool_loop thread:pool_loop#2 thread:net thread:prog thread:prog#2 thread:log_loop common signal:SIGALRM "
[ "$got" = "$want" ] || problem "labels: got '$got', want '$want'"
# -a thread:pool_loop selects both numbered areas.
n=$("$REPORT" -r -a thread:pool_loop "$tmp/labels.cov" | grep -c '^# ')
[ "$n" = 2 ] || problem "-a thread:pool_loop selected $n areas, want 2"

# A second process: every label gets its pid.
perl - "$tmp/labels.cov" <<'EOP' || exit 1
open(my $f, '>>', $ARGV[0]) or die;
binmode $f;
my $b = pack('Q<Q<VVQ<Q<Q<Q<Q<Q<VVa16', 200, 200, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	     "child");
print $f pack('VVQ<', 2, 0, length $b), $b;
EOP
"$REPORT" -r "$tmp/labels.cov" >"$tmp/out2" 2>&1
grep -q '^# pid100/thread:pool_loop#2: ' "$tmp/out2" &&
	grep -q '^# pid200/main: ' "$tmp/out2" ||
	{ problem "pid prefixes:"; grep '^#' "$tmp/out2"; }

# Process numbers (the proc field), one per process: the program's areas
# unprefixed, the others procN/, whatever their pids.
perl - "$tmp/labels.cov" <<'EOP' || exit 1
open(my $f, '>>', $ARGV[0]) or die;
binmode $f;
sub area {
	my ($pid, $proc, $name) = @_;
	my $b = pack('Q<Q<VVQ<Q<Q<Q<Q<Q<VVa16', $pid, $pid, 1, 0, 0, 0, 0, 0, 0,
		     0, 0, $proc, $name);
	print $f pack('VVQ<', 2, 0, length $b), $b;
}
area(300, 2, "third");
area(250, 1, "second");
EOP
# 100 (its areas' proc is 0), 200 (0 too): not one to one, so pids.
"$REPORT" -r "$tmp/labels.cov" >"$tmp/out3" 2>&1
grep -q '^# pid300/main: ' "$tmp/out3" ||
	{ problem "proc numbers shared by two pids must fall back to pids:"; grep '^#' "$tmp/out3"; }
# Without process 200: 100 is 0, 250 is 1, 300 is 2.
perl -e '
	open(my $f, "<", $ARGV[0]) or die; binmode $f; local $/; my $d = <$f>;
	my $o = substr($d, 0, 24); my $p = 24;
	while ($p < length $d) {
		my ($t, $r, $sz) = unpack("VVQ<", substr($d, $p, 16));
		my $rec = substr($d, $p, 16 + $sz);
		my $pid = $t == 2 ? unpack("Q<", substr($d, $p + 16, 8)) : 0;
		$o .= $rec unless $pid == 200;
		$p += 16 + $sz;
	}
	open(my $w, ">", $ARGV[1]) or die; binmode $w; print $w $o;
' "$tmp/labels.cov" "$tmp/labels2.cov" || exit 1
"$REPORT" -r "$tmp/labels2.cov" >"$tmp/out4" 2>&1
grep -q '^# thread:pool_loop#2: ' "$tmp/out4" &&
	grep -q '^# proc1/main: ' "$tmp/out4" &&
	grep -q '^# proc2/main: ' "$tmp/out4" &&
	! grep -q '^# pid' "$tmp/out4" ||
	{ problem "proc prefixes:"; grep '^#' "$tmp/out4"; }
exit $fail
