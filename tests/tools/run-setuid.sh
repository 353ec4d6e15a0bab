#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Issue 12, Security, item 7: a set-user-ID (or set-group-ID) program
# never trusts the environment (ukcov-run(1), "The environment"; the
# collector reads UKCOV_RUN with secure_getenv).  Root only: the program
# (run-target.c euid) is copied into a 0755 directory, owned by root, mode
# 4755 (and a copy 2755), and run as nobody (setpriv):
#  (a) under ukcov-run: it runs and exits 0; the collector says once that
#      UKCOV_RUN is ignored; ukcov-run says once that the collector did
#      not run; the file has no area;
#  (b) with UKCOV_RUN naming a region nobody crafted (a non-set-user-ID
#      copy collects into it, so it would be taken), or root's open
#      root-only file, and the old variables (UKCOV_OUTPUT into a 0700
#      root directory, ...): no file is created, neither file changes, the
#      program runs and exits 0.
# Skipped, with the reason, when not root or the set-user-ID bit has no
# effect (a nosuid mount).
# Environment: BUILD, CC, SAN.  Exit 0 pass, 1 fail, 77 skip.
# shellcheck source=run-lib.bash
. "$(dirname "$0")/run-lib.bash"
run_setup run-setuid
[ "$(id -u)" = 0 ] || { echo "not root: cannot make a set-user-ID root program"; exit 77; }
command -v setpriv >/dev/null 2>&1 ||
	{ echo "setpriv (util-linux) is not installed"; exit 77; }
id nobody >/dev/null 2>&1 && getent group nogroup >/dev/null 2>&1 ||
	{ echo "no user nobody or group nogroup"; exit 77; }
as_nobody() {
	setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"
}
# The region layout (include/ukcov/region.h): header, handles, index.
DATA_OFF=$((4096 + 4096 * 8 + (1 << 20) * 128))

chmod 755 "$tmp"
pub=$tmp/pub			# nobody's: the coverage file, the crafted region
mkdir -m 1777 "$pub"
vault=$tmp/vault		# root's, 0700: nothing may appear in it
mkdir -m 700 "$vault"
echo "root's secret" >"$vault/secret"
chmod 600 "$vault/secret"
# craft_region: $pub/region, nobody's, a region header and sparse.
craft_region() {
	rm -f "$pub/region"
	as_nobody perl -e '
		open(my $f, ">", $ARGV[0]) or die; binmode $f;
		print $f "UKCOVRGN", pack("VVQ<VVQ<", 1, 0, $ARGV[1], 0, 0, 512);
		close $f; truncate($ARGV[0], $ARGV[1]) or die;' \
		"$pub/region" $((DATA_OFF + (1 << 20)))
}
# What a write into the region changes: its header page, its allocated
# blocks, its modification time.
region_state() {
	head -c 4096 "$pub/region" | sha256sum
	stat -c '%b %y' "$pub/region"
}
snapshot() {
	(cd "$tmp" && find . -path ./cache -prune -o -print | sort)
	sha256sum "$vault/secret"
	region_state
}

for form in $FORMS; do
	bin=$tmp/bin-$form
	mkdir -m 755 "$bin"
	build_target "$form" "$bin/prog"
	cp "$bin/prog" "$bin/plain"
	cp "$bin/prog" "$bin/setgid"
	chown root:root "$bin/prog" "$bin/setgid"
	chmod 4755 "$bin/prog"
	chmod 2755 "$bin/setgid"
	nobody_ids="euid=$(id -u nobody) egid=$(getent group nogroup | cut -d: -f3)"
	out=$(cd "$pub" && as_nobody "$bin/prog" euid 2>&1)
	case $out in
	"euid=0 egid="*) ;;
	"$nobody_ids") echo "the set-user-ID bit has no effect in $tmp (nosuid mount?)"; exit 77 ;;
	*) problem "$form: the set-user-ID program does not run as nobody: $out"; continue ;;
	esac
	out=$(cd "$pub" && as_nobody "$bin/setgid" euid 2>&1)
	[ "$out" = "euid=$(id -u nobody) egid=0" ] ||
		problem "$form: the set-group-ID program: $out"

	# (a) Under ukcov-run.
	for p in prog setgid; do
		CASE=$form/$p/ukcov-run
		rm -f "$pub/a.cov"
		(cd "$pub" && as_nobody "$RUN" -q -o "$pub/a.cov" -- "$bin/$p" euid) \
			>"$tmp/out" 2>"$tmp/err"
		rc=$?
		[ "$rc" = 0 ] || problem "$CASE: exited $rc: $(cat "$tmp/err")"
		grep -q '^euid=' "$tmp/out" || problem "$CASE: the program did not run"
		[ "$(grep -c 'UKCOV_RUN is ignored in a set-user-ID or set-group-ID program' "$tmp/err")" = 1 ] ||
			{ problem "$CASE: the collector's line, once:"; cat "$tmp/err"; }
		[ "$(grep -c "did not run libukcov's collector" "$tmp/err")" = 1 ] ||
			{ problem "$CASE: ukcov-run's line, once:"; cat "$tmp/err"; }
		[ "$(wc -l <"$tmp/err")" = 2 ] || { problem "$CASE: more on stderr:"; cat "$tmp/err"; }
		set -- $(records "$pub/a.cov")
		[ "${2:-}" = 0 ] || problem "$CASE: records (modules areas runs) '$*', want no area"
	done

	# (b) A region nobody crafted (a header ukcov-run would write), open
	# read-write as descriptor 5; the pid part names root's shell, whose
	# descriptors nobody cannot reach: an ordinary program then takes its
	# own descriptor 5, a set-user-ID one could reach both.
	craft_region
	exec 5<>"$pub/region" 6<"$vault/secret"
	before=$(region_state)
	(cd "$pub" && as_nobody env UKCOV_RUN=$$:5 "$bin/plain" euid) >/dev/null 2>&1
	[ "$(region_state)" != "$before" ] ||
		problem "$form: the crafted region is not taken by an ordinary program (the test proves nothing)"
	exec 5<&-
	craft_region
	exec 5<>"$pub/region"
	old_vars=(UKCOV_OUTPUT="$vault/created.cov" UKCOV_MODE=cmp UKCOV_AREA_WORDS=512
		UKCOV_HANDLES=0x8100000000000001 UKCOV_SIGNALS=USR1 UKCOV_COMMON=1)
	for p in prog setgid; do
		for run in $$:5 $$:6; do
			CASE="$form/$p/UKCOV_RUN=$run"
			before=$(snapshot)
			(cd "$pub" && as_nobody env UKCOV_RUN="$run" "${old_vars[@]}" "$bin/$p" euid) \
				>"$tmp/out" 2>"$tmp/err"
			rc=$?
			[ "$rc" = 0 ] && grep -q '^euid=' "$tmp/out" ||
				problem "$CASE: the program did not run normally (exit $rc): $(cat "$tmp/err")"
			[ "$(cat "$tmp/err")" = "ukcov: UKCOV_RUN is ignored in a set-user-ID or set-group-ID program" ] ||
				{ problem "$CASE: stderr is not the one warning:"; cat "$tmp/err"; }
			after=$(snapshot)
			[ "$after" = "$before" ] ||
				{ problem "$CASE: files created or changed:"; diff <(echo "$before") <(echo "$after"); }
		done
	done
	exec 5<&- 6<&-
done
exit $fail
