#!/bin/sh
# Builds a busybox initramfs (gzip'ed newc cpio) whose /init is INIT, for the arm64 guest or test host.
# Usage: scripts/build-initramfs.sh INIT OUT.cpio.gz [DIR=/DEST]...
# Each DIR=/DEST adds the files of DIR under /DEST (e.g. guest/tests=/tests).
# The busybox applet links are made by /init at boot (busybox --install -s), so building needs
# no arm64 emulation. Rebuilt only when an input is newer than OUT.
set -eu

[ $# -ge 2 ] || { echo "usage: $0 INIT OUT.cpio.gz [DIR=/DEST]..." >&2; exit 2; }
init=$1 out=$2
shift 2
top=$(cd "$(dirname "$0")/.." && pwd)
busybox=$("$top/scripts/busybox.sh")

uptodate() {
	[ -s "$out" ] || return 1
	[ -n "$(find "$init" "$busybox" "$0" -newer "$out")" ] && return 1
	for extra in "$@"; do
		[ -z "$(find "${extra%%=*}" -newer "$out")" ] || return 1
	done
	# The list of DIR=/DEST arguments counts too.
	[ "$(cat "$out.args" 2>/dev/null)" = "$*" ]
}
uptodate "$@" && exit 0

stage="$out.d"
rm -rf "$stage"
mkdir -p "$stage/bin" "$stage/sbin" "$stage/usr/bin" "$stage/usr/sbin" \
	"$stage/dev" "$stage/proc" "$stage/sys" "$stage/tmp" "$stage/root"
cp "$busybox" "$stage/bin/busybox"
ln -s busybox "$stage/bin/sh"
cp "$init" "$stage/init"
chmod 0755 "$stage/init"
for extra in "$@"; do
	mkdir -p "$stage/${extra#*=}"
	cp -R "${extra%%=*}/." "$stage/${extra#*=}/"
done
# Without /dev/console in the cpio the kernel starts init with no stdio (init reopens it, but
# early errors would be lost). Only root can make the node; non-root builds go without it.
if [ "$(id -u)" = 0 ]; then
	mknod -m 600 "$stage/dev/console" c 5 1
fi
(cd "$stage" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) | gzip -9 >"$out.tmp"
mv "$out.tmp" "$out"
echo "$*" >"$out.args"
rm -rf "$stage"
