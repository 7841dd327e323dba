#!/bin/sh
# The Debian package (make deb-check, Documentation/packaging.md): builds it from a copy of the
# tree (dpkg-buildpackage -b, with -a arm64 -Pcross when this machine is not arm64), runs
# lintian (no error, no warning), reads the .deb (arm64, an aarch64 lkvm, the man pages, bash
# completion and documentation) and checks that it holds the set of files `make install
# PREFIX=/usr` installs, plus Debian's copyright and changelog.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0
fail() { echo "FAIL deb: $*"; failed=1; }
start=$(date +%s)

# The working tree as git sees it (tracked and new files, not what .gitignore leaves out).
mkdir -p "$tmp/src/lkvm"
git -C "$top" ls-files -z -co --exclude-standard | tar -C "$top" --null -T - -cf - |
	tar -C "$tmp/src/lkvm" -xf - || { echo "FAIL deb: cannot copy the tree"; exit 1; }
cross=
[ "$(dpkg --print-architecture)" = arm64 ] || cross="-a arm64 -Pcross"
# shellcheck disable=SC2086 # the options are words
(cd "$tmp/src/lkvm" && dpkg-buildpackage -us -uc $cross) >"$tmp/build.log" 2>&1 ||
	{ tail -n 30 "$tmp/build.log"; echo "FAIL deb: dpkg-buildpackage failed"; exit 1; }
version=$(dpkg-parsechangelog -l "$top/debian/changelog" -S Version)
deb=$tmp/src/lkvm_${version}_arm64.deb
[ -f "$deb" ] || { echo "FAIL deb: no $deb"; ls "$tmp/src"; exit 1; }

lintian --fail-on error,warning "$tmp/src/lkvm_${version}_arm64.changes" >"$tmp/lintian" 2>&1 ||
	fail "lintian: $(grep -E '^[EW]: ' "$tmp/lintian" | head -n 10)"
grep -E '^[A-Z]: ' "$tmp/lintian" | sed 's/^/  lintian: /'

[ "$(dpkg-deb -f "$deb" Architecture)" = arm64 ] || fail "Architecture is not arm64"
dpkg-deb -x "$deb" "$tmp/deb"
file -L "$tmp/deb/usr/bin/lkvm" | grep -q 'ELF 64-bit.*ARM aarch64' ||
	fail "usr/bin/lkvm is not an arm64 program: $(file "$tmp/deb/usr/bin/lkvm")"
for f in usr/share/man/man1/lkvm.1.gz usr/share/man/man1/lkvm-run.1.gz \
	usr/share/man/man1/lkvm-cpu.1.gz usr/share/man/man1/lkvm-sdei.1.gz \
	usr/share/man/man1/lkvm-stop.1.gz usr/share/bash-completion/completions/lkvm \
	usr/share/doc/lkvm/README.md.gz usr/share/doc/lkvm/copyright; do
	[ -e "$tmp/deb/$f" ] || fail "the package has no $f"
done
zcat "$tmp/deb/usr/share/man/man1/lkvm-run.1.gz" | grep -q '^\.TH LKVM-RUN 1 .*"lkvm '"$version"'"' ||
	fail "lkvm-run(1) does not carry the package's version"

# make install's set: the tree as the package build left it (lkvm and its man pages built).
make -C "$tmp/src/lkvm" -s STATIC=0 install DESTDIR="$tmp/inst" PREFIX=/usr >"$tmp/install.log" 2>&1 ||
	{ tail -n 20 "$tmp/install.log"; fail "make install failed"; }
(cd "$tmp/deb" && find . ! -type d | sed 's/\.gz$//' | grep -vE '^\./usr/share/doc/lkvm/(copyright|changelog)$' |
	sort) >"$tmp/deb.list"
(cd "$tmp/inst" && find . ! -type d | sort) >"$tmp/inst.list"
only_deb=$(comm -23 "$tmp/deb.list" "$tmp/inst.list" | tr '\n' ' ')
only_inst=$(comm -13 "$tmp/deb.list" "$tmp/inst.list" | tr '\n' ' ')
[ -z "$only_deb" ] || fail "in the package, not installed by make install: $only_deb"
[ -z "$only_inst" ] || fail "installed by make install, not in the package: $only_inst"
[ -s "$tmp/inst.list" ] || fail "make install installed nothing"

if [ "$failed" = 0 ]; then
	echo "PASS deb ($(($(date +%s) - start))s: $(wc -l <"$tmp/deb.list") files, lintian clean)"
else
	exit 1
fi
