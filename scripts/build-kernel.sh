#!/bin/sh
# Builds the test kernel Image from Debian's linux-source-6.12 and tests/kernel.config,
# cached outside the source tree, keyed by the config fragment, the source and the compiler.
# Prints the path of the cached Image on stdout; progress goes to stderr. Beside the Image, build/
# is what external modules (guest/module/) build against: the configured tree without objects.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
src=/usr/src/linux-source-6.12.tar.xz
frag="$top/tests/kernel.config"
cache=${LKVM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/lkvm}
jobs=$(nproc 2>/dev/null || echo 2)

if [ "$(uname -m)" = aarch64 ]; then
	cross=
else
	cross=aarch64-linux-gnu-
fi

[ -r "$src" ] || { echo "lkvm: build-kernel: $src: missing (install linux-source-6.12)" >&2; exit 1; }

key=$( { cat "$frag"; ls -l --time-style=+%s "$src"; "${cross}gcc" --version | head -n 1; } |
	sha256sum | cut -c1-16)
out="$cache/kernel-$key"
mkdir -p "$cache"
# One build at a time: a second caller waits for the first one's Image instead of building too.
exec 9>"$cache/build.lock"
flock 9
if [ -s "$out/Image" ]; then
	echo "$out/Image"
	exit 0
fi

echo "lkvm: building the test kernel (once per config; cached in $out)" >&2
work="$cache/build-$key.$$"
rm -rf "$work"
mkdir -p "$work"
trap 'rm -rf "$work"' EXIT
tar -C "$work" -xJf "$src"
ksrc=$(echo "$work"/linux-source-*)
kmake() { make -s -C "$ksrc" ARCH=arm64 CROSS_COMPILE="$cross" -j"$jobs" "$@"; }
kmake allnoconfig >&2
"$ksrc/scripts/kconfig/merge_config.sh" -m -O "$ksrc" "$ksrc/.config" "$frag" >/dev/null
kmake olddefconfig >&2
# Every line of the fragment must have survived Kconfig, or the kernel lacks what tests rely on.
grep '^CONFIG_' "$frag" | while read -r line; do
	grep -qx "$line" "$ksrc/.config" || { echo "lkvm: build-kernel: $line did not take" >&2; exit 1; }
done
kmake Image modules >&2
mkdir -p "$out.tmp"
cp "$ksrc/arch/arm64/boot/Image" "$ksrc/.config" "$out.tmp/"
# Keep only what `make M=` reads: the top Makefile, scripts, include and arch/arm64, no objects.
( cd "$ksrc" && find . -mindepth 1 -maxdepth 1 ! -name Makefile ! -name scripts ! -name include \
	! -name arch ! -name .config ! -name Module.symvers -exec rm -rf {} + &&
  find arch -mindepth 1 -maxdepth 1 ! -name arm64 -exec rm -rf {} + &&
  find . \( -name '*.o' -o -name '*.a' -o -name '*.cmd' \) -delete )
mv "$ksrc" "$out.tmp/build"
rm -rf "$out"
mv "$out.tmp" "$out"
echo "$out/Image"
