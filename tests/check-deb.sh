#!/bin/sh
# The Debian package (make deb-check, Documentation/packaging.md): builds it from a copy of the
# tree (dpkg-buildpackage -b, with -a arm64 -Pcross when this machine is not arm64), runs
# lintian (no error, no warning), reads the .deb (arm64, an aarch64 lkvm, the man pages, bash
# completion and documentation) and checks that it holds the set of files `make install
# PREFIX=/usr` installs, plus Debian's copyright and changelog.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
name=deb
. "$top/tests/check-lib.sh"
start=$(date +%s)

# The working tree as git sees it (tracked and new files, not what .gitignore leaves out).
mkdir -p "$work/src/lkvm"
git -C "$top" ls-files -z -co --exclude-standard | tar -C "$top" --null -T - -cf - |
	tar -C "$work/src/lkvm" -xf - || die "cannot copy the tree"
cross=
[ "$(dpkg --print-architecture)" = arm64 ] || cross="-a arm64 -Pcross"
# shellcheck disable=SC2086 # the options are words
(cd "$work/src/lkvm" && dpkg-buildpackage -us -uc $cross) >"$work/build.log" 2>&1 ||
	{ tail -n 30 "$work/build.log"; die "dpkg-buildpackage failed"; }
version=$(dpkg-parsechangelog -l "$top/debian/changelog" -S Version)
deb=$work/src/lkvm_${version}_arm64.deb
[ -f "$deb" ] || die "no $deb: $(ls "$work/src")"

lintian --fail-on error,warning "$work/src/lkvm_${version}_arm64.changes" >"$work/lintian" 2>&1 ||
	fail "lintian: $(grep -E '^[EW]: ' "$work/lintian" | head -n 10)"
grep -E '^[A-Z]: ' "$work/lintian" | sed 's/^/  lintian: /'

[ "$(dpkg-deb -f "$deb" Architecture)" = arm64 ] || fail "Architecture is not arm64"
dpkg-deb -x "$deb" "$work/deb"
file -L "$work/deb/usr/bin/lkvm" | grep -q 'ELF 64-bit.*ARM aarch64' ||
	fail "usr/bin/lkvm is not an arm64 program: $(file "$work/deb/usr/bin/lkvm")"
for f in usr/share/man/man1/lkvm.1.gz usr/share/man/man1/lkvm-run.1.gz \
	usr/share/man/man1/lkvm-cpu.1.gz usr/share/man/man1/lkvm-sdei.1.gz \
	usr/share/man/man1/lkvm-stop.1.gz usr/share/bash-completion/completions/lkvm \
	usr/share/doc/lkvm/README.md.gz usr/share/doc/lkvm/copyright; do
	[ -e "$work/deb/$f" ] || fail "the package has no $f"
done
# debian/rules trades the Makefile's hardening for dpkg-buildflags': the same protections?
"$top/tests/check-hardening.sh" "$work/deb/usr/bin/lkvm" >"$work/hardening" ||
	fail "usr/bin/lkvm lacks hardening: $(grep FAIL "$work/hardening" | tr '\n' ' ')"
zcat "$work/deb/usr/share/man/man1/lkvm-run.1.gz" | grep -q '^\.TH LKVM-RUN 1 .*"lkvm '"$version"'"' ||
	fail "lkvm-run(1) does not carry the package's version"

# make install's set: the tree as the package build left it (lkvm and its man pages built).
make -C "$work/src/lkvm" -s STATIC=0 install DESTDIR="$work/inst" PREFIX=/usr >"$work/install.log" 2>&1 ||
	{ tail -n 20 "$work/install.log"; fail "make install failed"; }
(cd "$work/deb" && find . ! -type d | sed 's/\.gz$//' | grep -vE '^\./usr/share/doc/lkvm/(copyright|changelog)$' |
	sort) >"$work/deb.list"
(cd "$work/inst" && find . ! -type d | sort) >"$work/inst.list"
only_deb=$(comm -23 "$work/deb.list" "$work/inst.list" | tr '\n' ' ')
only_inst=$(comm -13 "$work/deb.list" "$work/inst.list" | tr '\n' ' ')
[ -z "$only_deb" ] || fail "in the package, not installed by make install: $only_deb"
[ -z "$only_inst" ] || fail "installed by make install, not in the package: $only_inst"
[ -s "$work/inst.list" ] || fail "make install installed nothing"

check_end "$(($(date +%s) - start))s: $(wc -l <"$work/deb.list") files, lintian clean"
