#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Documentation lint:
#   - `groff -man -ww -z` prints nothing for any page in man/ (groff reports
#     problems on stderr but exits 0, so its output is what is checked);
#   - every page renders with `man -l` from the source tree, with nothing
#     on stderr (alias pages are symbolic links to a page in man/, which
#     work there and once installed; a `.so man3/x.3` request would only
#     resolve from an installed hierarchy); man-db is installed with
#     apt-get when root, else that part is skipped with a message;
#   - every page's .TH line carries the Makefile's MAN_DATE and
#     "ukcov VERSION" (`make man-th` writes them);
#   - every public function of include/ukcov.h has a section 3 page;
#   - every code block of docs/design.md, and every .EX/.EE excerpt of the
#     man pages, is found verbatim in a file of examples/.
# Exit 0 = pass, 1 = fail, 77 = skip (groff missing and not installable).
set -u
cd "$(dirname "$0")/../.." || exit 1

if ! command -v groff >/dev/null 2>&1; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
			apt-get install -y -qq groff; } >/dev/null 2>&1
	fi
	if ! command -v groff >/dev/null 2>&1; then
		echo "groff is not installed"
		exit 77
	fi
fi

fail=0
problem() {
	echo "man-lint: $*"
	fail=1
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# 1. groff, from a man hierarchy so that ".so man3/x.3" resolves as it does
#    once installed.
pages=$(ls man/*.[1-8] 2>/dev/null)
[ -n "$pages" ] || problem "no man pages in man/"
for p in $pages; do
	sec=${p##*.}
	mkdir -p "$tmp/man/man$sec"
	cp "$p" "$tmp/man/man$sec/"
done
for p in $pages; do
	sec=${p##*.}
	out=$(cd "$tmp/man" && groff -man -ww -z "man$sec/${p##*/}" 2>&1)
	[ -z "$out" ] || problem "$p: groff says: $out"
done

# 1b. Alias pages are links to a page beside them; no .so requests.
for p in $pages; do
	if [ -L "$p" ]; then
		t=$(readlink "$p")
		case $t in */*) problem "$p: links to $t, not to a page beside it" ;; esac
		[ -f "man/$t" ] && [ ! -L "man/$t" ] || problem "$p: links to $t, which is not a page in man/"
	elif grep -q '^\.so ' "$p"; then
		problem "$p: a .so request (it fails with man -l from the source tree; use a symbolic link)"
	fi
done

# 1c. man -l from the source tree, as a reader of a fresh clone runs it.
if ! command -v man >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
	{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq man-db; } >/dev/null 2>&1
fi
if command -v man >/dev/null 2>&1; then
	for p in $pages; do
		if ! out=$(MANWIDTH=80 man -l "$p" 2>&1 >/dev/null) || [ -n "$out" ]; then
			problem "$p: man -l says: ${out:-a failure}"
		fi
	done
else
	echo "man-lint: man is not installed (apt-get install man-db): the man -l check is skipped"
fi

# 1d. One date and one version string, the Makefile's.
version=$(sed -n 's/^VERSION := //p' Makefile)
date=$(sed -n 's/^MAN_DATE := //p' Makefile)
[ -n "$version" ] && [ -n "$date" ] || problem "no VERSION or MAN_DATE in the Makefile"
for p in $pages; do
	[ -L "$p" ] && continue
	th=$(grep -m 1 '^\.TH ' "$p")
	case $th in
	".TH "*" ${p##*.} $date \"ukcov $version\" "*) ;;
	*) problem "$p: '$th' does not carry section ${p##*.}, $date and \"ukcov $version\" (make man-th)" ;;
	esac
done

# 2. A section 3 page for every function declared UKCOV_API.
funcs=$(grep -E '^UKCOV_API' include/ukcov.h |
	grep -oE '\bukcov_[a-z0-9_]+\(' | tr -d '(' | sort -u)
[ -n "$funcs" ] || problem "no UKCOV_API function found in include/ukcov.h"
for f in $funcs; do
	[ -f "man/$f.3" ] || problem "$f: no man/$f.3"
done
[ -f man/ukcov.7 ] || problem "no man/ukcov.7"

# 3. Code excerpts come from examples/.
examples=$(find examples -type f 2>/dev/null | sort)
# found BLOCKFILE: is the block a run of whole lines of some example?
found() {
	local block ex content
	block=$(cat "$1")
	[ -n "$block" ] || return 0
	for ex in $examples; do
		content=$(cat "$ex")
		case $'\n'"$content"$'\n' in
		*$'\n'"$block"$'\n'*) return 0 ;;
		esac
	done
	return 1
}

if [ -f docs/design.md ]; then
	# Fenced blocks: ``` or ```lang ... ```.
	awk -v dir="$tmp" '
		/^```/ {
			if (inblk) { inblk = 0; close(f) }
			else { inblk = 1; n++; f = dir "/md." n; start[n] = NR;
			       printf "" > f; print NR > (f ".line") ; close(f ".line") }
			next
		}
		inblk { print > f }
	' docs/design.md
	for b in "$tmp"/md.*; do
		case $b in *.line) continue ;; esac
		[ -e "$b" ] || continue
		found "$b" || problem "docs/design.md:$(cat "$b.line"): code block not found verbatim in examples/"
	done
fi

for p in $pages; do
	# Excerpts between .EX and .EE, with troff escapes undone.
	awk -v dir="$tmp" -v base="${p##*/}" '
		/^\.EX/ { inblk = 1; n++; f = dir "/ex." base "." n;
			  printf "" > f; print NR > (f ".line"); close(f ".line"); next }
		/^\.EE/ { inblk = 0; close(f); next }
		inblk {
			line = $0
			sub(/^\\&/, "", line)
			gsub(/\\-/, "-", line)
			gsub(/\\e/, "\\", line)
			print line > f
		}
	' "$p"
	for b in "$tmp"/ex."${p##*/}".*; do
		case $b in *.line) continue ;; esac
		[ -e "$b" ] || continue
		found "$b" || problem "$p:$(cat "$b.line"): excerpt not found verbatim in examples/"
	done
done

exit $fail
