#!/bin/sh
# Prints the path of a static arm64 busybox, fetched from Debian's busybox-static:arm64 with
# `apt-get download` and unpacked with `dpkg -x` into a cache dir. It is never installed:
# installing it would replace this machine's own /bin/busybox.
set -eu

cache=${LKVM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/lkvm}/busybox
bin="$cache/root/bin/busybox"
if [ -x "$bin" ]; then
	echo "$bin"
	exit 0
fi

if [ "$(dpkg --print-architecture)" = arm64 ]; then
	pkg=busybox-static
else
	pkg=busybox-static:arm64
	dpkg --print-foreign-architectures | grep -qx arm64 || {
		echo "lkvm: busybox: arm64 is not a dpkg architecture here (run scripts/install-deps.sh check)" >&2
		exit 1
	}
fi

echo "lkvm: fetching $pkg (cached in $cache)" >&2
rm -rf "$cache.tmp"
mkdir -p "$cache.tmp"
# As root, apt fetches as the _apt user, which cannot write into /root/.cache: fetch as root.
sandbox=
[ "$(id -u)" = 0 ] && sandbox="-o APT::Sandbox::User=root"
if ! (cd "$cache.tmp" && apt-get download -q $sandbox "$pkg" >&2); then
	# The package lists may be stale (fresh machine, or a newer version replaced the old one).
	echo "lkvm: busybox: download failed, running apt-get update" >&2
	apt-get update -q >/dev/null
	(cd "$cache.tmp" && apt-get download -q $sandbox "$pkg" >&2)
fi
dpkg -x "$cache.tmp"/busybox-static_*.deb "$cache.tmp/root"
test -x "$cache.tmp/root/bin/busybox"
rm -f "$cache.tmp"/*.deb
rm -rf "$cache"
mv "$cache.tmp" "$cache"
echo "$bin"
