#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Fetch a real project's sources from Debian, for the wrapper's real-project
# tests (tests/lint/wrapper-real-*.sh):
#
#   tests/helpers/debian-source.sh PACKAGE CACHE
#
# downloads PACKAGE's Debian source package with `apt-get source
# --download-only`, from a deb-src entry for the mirror and release of the
# machine's own APT sources, with every APT path (sources list, lists,
# cache) pointed into CACHE by -o options: nothing under /etc is touched.
# apt checks the files against the release's signed index.  The upstream
# tarball is unpacked (Debian's patches are not applied) into
# CACHE/PACKAGE/src, whose path is printed.  The index is fetched again
# after a day; a package already unpacked is not fetched again.
# Exit 0; 2 with a one-line reason when the source cannot be had (no APT,
# no mirror found, no network).
set -u
pkg=${1:?usage: debian-source.sh PACKAGE CACHE}
cache=${2:?usage: debian-source.sh PACKAGE CACHE}
mkdir -p "$cache" || exit 2
cache=$(cd "$cache" && pwd)
out=$cache/$pkg/src

if [ -d "$out" ] && [ -e "$cache/$pkg/.unpacked" ]; then
	echo "$out"
	exit 0
fi
command -v apt-get >/dev/null 2>&1 || { echo "debian-source: no apt-get" >&2; exit 2; }

# The machine's Debian mirror and release: the first "deb" source for
# component main whose suite is a release (no -updates, -security).
mirror='' suite='' keyring=''
for f in /etc/apt/sources.list.d/*.sources; do
	[ -r "$f" ] || continue
	# deb822 stanzas, separated by blank lines.
	read -r mirror suite keyring < <(awk '
		function flush() {
			if (types ~ /(^| )deb( |$)/ && comps ~ /(^| )main( |$)/)
				for (i = 1; i <= ns; i++)
					if (s[i] !~ /-/ && uris != "") {
						print uris, s[i], (key == "" ? "-" : key)
						exit
					}
			types = uris = comps = key = ""; ns = 0
		}
		/^[[:space:]]*$/ { flush(); next }
		/^Types:/ { sub(/^Types:[[:space:]]*/, ""); types = $0 }
		/^URIs:/ { uris = $2 }
		/^Suites:/ { ns = 0; for (i = 2; i <= NF; i++) s[++ns] = $i }
		/^Components:/ { sub(/^Components:[[:space:]]*/, ""); comps = $0 }
		/^Signed-By:/ { key = $2 }
		END { flush() }
	' "$f")
	[ -n "$mirror" ] && break
done
if [ -z "$mirror" ] && [ -r /etc/apt/sources.list ]; then
	read -r mirror suite < <(awk '$1 == "deb" {
			for (i = 2; i <= NF && $i ~ /^\[/; i++)
				while ($i !~ /\]$/) i++
			if ($(i + 1) !~ /-/) { print $i, $(i + 1); exit }
		}' /etc/apt/sources.list)
fi
[ -n "$mirror" ] && [ -n "$suite" ] ||
	{ echo "debian-source: no Debian mirror in the APT sources" >&2; exit 2; }

apt=$cache/apt
mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$apt/parts"
opt=""
[ -n "${keyring:-}" ] && [ "$keyring" != - ] && opt="[signed-by=$keyring] "
echo "deb-src ${opt}$mirror $suite main" >"$apt/sources.list"
aptopts=(-o Dir::Etc::SourceList="$apt/sources.list"
	-o Dir::Etc::SourceParts="$apt/parts"
	-o Dir::State::Lists="$apt/lists"
	-o Dir::Cache="$apt/cache"
	-o APT::Get::List-Cleanup=false
	-o Acquire::Retries=1)
[ "$(id -u)" = 0 ] && aptopts+=(-o APT::Sandbox::User=root)

if [ -z "$(find "$apt/lists" -maxdepth 1 -name '*Sources*' -mmin -1440 2>/dev/null)" ]; then
	timeout 300 apt-get "${aptopts[@]}" -qq update >"$apt/update.log" 2>&1 ||
		{ echo "debian-source: apt-get update failed: $(tail -n 1 "$apt/update.log")" >&2; exit 2; }
fi
rm -rf "${cache:?}/$pkg"
mkdir -p "$cache/$pkg"
(cd "$cache/$pkg" && timeout 300 apt-get "${aptopts[@]}" -qq source --download-only "$pkg") \
	>"$apt/source.log" 2>&1 ||
	{ echo "debian-source: apt-get source $pkg failed: $(tail -n 1 "$apt/source.log")" >&2; exit 2; }

# The upstream tarball (a native package has one tarball only).
tarball=''
for t in "$cache/$pkg"/*.orig.tar.* "$cache/$pkg"/*.tar.*; do
	case $t in *.asc | *'*'*) continue ;; esac
	[ -f "$t" ] && { tarball=$t; break; }
done
[ -n "$tarball" ] || { echo "debian-source: no tarball in $pkg's source package" >&2; exit 2; }
mkdir -p "$out"
tar -xf "$tarball" -C "$out" --strip-components=1 ||
	{ echo "debian-source: cannot unpack $tarball" >&2; exit 2; }
: >"$cache/$pkg/.unpacked"
echo "$out"
