#!/bin/sh
# Fetches Debian 12's stock arm64 kernel once, for the --acpi test that boots a distribution
# kernel (tests/system/t-acpi.sh): `apt-get download` of the package from the archive, its
# /boot/vmlinuz extracted with dpkg-deb, cached beside the test kernel. Prints the cached path on
# stdout; progress goes to stderr.
#
# linux-image-6.12.100+deb12-arm64 (bookworm's backport of 6.12, the test kernel's series): its
# vmlinuz is a plain arm64 Image (EFI stub, not EFI zboot), which lkvm boots as it is; and 6.12 has
# the arm64 ACPI vCPU hot-add that the 6.1 kernels (linux-image-6.1.0-*-arm64) lack.
set -eu

pkg=linux-image-6.12.100+deb12-arm64
cache=${LKVM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/lkvm}
out="$cache/debian-$pkg"
mkdir -p "$cache"
exec 9>"$cache/debian-kernel.lock"
flock 9
if [ -s "$out/vmlinuz" ]; then
	echo "$out/vmlinuz"
	exit 0
fi
# dpkg knows arm64 packages only with the architecture added (install-deps.sh does it).
if [ "$(dpkg --print-architecture)" != arm64 ] &&
	! dpkg --print-foreign-architectures | grep -qx arm64; then
	echo "lkvm: debian-kernel: dpkg has no arm64 architecture: run scripts/install-deps.sh check" >&2
	exit 1
fi
echo "lkvm: fetching Debian's $pkg (once; cached in $out)" >&2
# apt's _apt user downloads into a directory it can reach and write: not under a 0700 $HOME.
work=$(mktemp -d)
trap 'rm -rf "$work" "$out.tmp"' EXIT
chmod 0755 "$work"
mkdir -m 0777 "$work/dl"
( cd "$work/dl" && apt-get download -q "$pkg:arm64" ) >&2 || {
	echo "lkvm: debian-kernel: apt-get download $pkg:arm64 failed (apt-get update first?)" >&2
	exit 1
}
dpkg-deb -x "$work/dl/"*.deb "$work/x"
rm -rf "$out" "$out.tmp"
mkdir -p "$out.tmp"
cp "$work/x/boot/vmlinuz-"* "$out.tmp/vmlinuz"
mv "$out.tmp" "$out"
echo "$out/vmlinuz"
