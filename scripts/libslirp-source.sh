#!/bin/sh
# Unpacks the source of Debian's libslirp (the package libslirp-dev is built from) into DIR, for
# a statically linked lkvm: libslirp-dev ships only the shared library. apt-get source needs
# deb-src lines, which a machine set up for binary packages lacks: this script makes its own
# from the machine's deb lines, in a private apt state under DIR.apt, and changes nothing of the
# machine's apt setup. Needs no root. Does nothing if DIR already holds the source.
# Usage: scripts/libslirp-source.sh DIR
set -eu

[ $# = 1 ] || { echo "usage: $0 DIR" >&2; exit 2; }
dir=$(mkdir -p "$(dirname "$1")" && cd "$(dirname "$1")" && pwd)/$(basename "$1")
[ ! -f "$dir/src/libslirp.h" ] || exit 0
say() { echo "lkvm: libslirp-source: $*" >&2; }

version=$(dpkg-query -W -f='${Version}' libslirp-dev:arm64 2>/dev/null ||
	dpkg-query -W -f='${Version}' libslirp-dev 2>/dev/null) ||
	{ say "libslirp-dev is not installed (scripts/install-deps.sh build)"; exit 1; }
apt="$dir.apt"
rm -rf "$apt" "$dir"
mkdir -p "$apt/parts" "$apt/lists/partial" "$apt/cache/archives/partial" "$apt/get"
: >"$apt/empty.list"
# deb-src twins of the machine's deb sources, in both formats apt reads.
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
	[ -f "$f" ] && sed -n 's/^[[:space:]]*deb[[:space:]]/deb-src /p' "$f"
done >"$apt/parts/src.list"
for f in /etc/apt/sources.list.d/*.sources; do
	[ -f "$f" ] && sed 's/^Types:.*/Types: deb-src/' "$f" && echo
done >"$apt/parts/src.sources"
opts="-q -o Dir::Etc::SourceList=$apt/empty.list -o Dir::Etc::SourceParts=$apt/parts
	-o Dir::State::Lists=$apt/lists -o Dir::Cache=$apt/cache -o Debug::NoLocking=1
	-o APT::Sandbox::User=$(id -un)"
say "fetching the source of libslirp $version (Debian's)"
# shellcheck disable=SC2086
apt-get $opts update >"$apt/update.log" 2>&1 ||
	{ cat "$apt/update.log" >&2; say "apt-get update (deb-src) failed"; exit 1; }
# shellcheck disable=SC2086
(cd "$apt/get" && apt-get $opts source --download-only "libslirp=$version") \
	>"$apt/source.log" 2>&1 ||
	{ cat "$apt/source.log" >&2; say "apt-get source libslirp=$version failed"; exit 1; }
tarball=$(ls "$apt/get/"libslirp_*.orig.tar.*)
mkdir -p "$dir.tmp"
tar -xf "$tarball" -C "$dir.tmp" --strip-components=1
# Debian's patches, if this version has any (4.7.0-1 has none).
mkdir -p "$apt/debian"
tar -xf "$apt/get/"libslirp_*.debian.tar.* -C "$apt/debian"
if [ -s "$apt/debian/debian/patches/series" ]; then
	grep -v '^#' "$apt/debian/debian/patches/series" | while read -r p _; do
		[ -n "$p" ] && patch -d "$dir.tmp" -p1 -s <"$apt/debian/debian/patches/$p"
	done
fi
mv "$dir.tmp" "$dir"
rm -rf "$apt"
say "libslirp source in $dir"
