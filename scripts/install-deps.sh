#!/bin/sh
# Installs the Debian packages lkvm's build and tests need, and only those that are missing.
# Usage: scripts/install-deps.sh build|check|demo
# build: cross toolchain and target libraries (or native ones on arm64)
# check/demo: also the arm64 test host (kernel source, QEMU, busybox, dtc)
# check: also clang and its libFuzzer runtime, for make fuzz
set -eu

what=${1:-check}
arch=$(dpkg --print-architecture 2>/dev/null || echo unknown)

pkgs="make gcc pkg-config"
if [ "$arch" = arm64 ]; then
	pkgs="$pkgs libfdt-dev zlib1g-dev check libsubunit-dev libslirp-dev libglib2.0-dev"
else
	pkgs="$pkgs gcc-aarch64-linux-gnu libc6-dev-arm64-cross"
	pkgs="$pkgs libfdt-dev:arm64 zlib1g-dev:arm64 check:arm64 libsubunit-dev:arm64 qemu-user-static"
	# -n mode=user: libslirp links dynamically from the package; a static lkvm builds it from
	# Debian's source of the same version (scripts/libslirp-source.sh), with glib's archive.
	pkgs="$pkgs libslirp-dev:arm64 libglib2.0-dev:arm64"
fi
# The 32-bit test payload (guest/payload/a32-test.s, for --aarch32): the arm32 assembler.
pkgs="$pkgs binutils-arm-linux-gnueabihf"
case "$what" in
check|demo)
	pkgs="$pkgs device-tree-compiler cpio gzip xz-utils"
	# iasl, which disassembles the --acpi tables (tests/check-acpi.sh)
	pkgs="$pkgs acpica-tools"
	# xmllint, headless Chromium and python3 (its zlib reads the PNG): tests/check-timeline.sh
	pkgs="$pkgs libxml2-utils chromium python3"
	# the man pages' checker (groff), bash's completion framework (tests/check-completion.sh),
	# and the Debian package's build and lintian (tests/check-deb.sh)
	pkgs="$pkgs groff-base man-db bash-completion dpkg-dev debhelper fakeroot lintian file"
	if [ "$arch" != arm64 ] || [ ! -c /dev/kvm ]; then
		pkgs="$pkgs linux-source-6.12 bc bison flex libssl-dev qemu-system-arm"
	fi
	;;
esac
# make fuzz: clang and its libFuzzer/sanitizer runtimes (libclang_rt.fuzzer-*.a, in
# libclang-rt-14-dev on Debian 12, which libclang-rt-dev pulls in).
[ "$what" != check ] || pkgs="$pkgs clang libclang-rt-dev"
# make check-sanitize builds the unit tests natively (the sanitizers do not run under
# qemu-user): elsewhere than arm64 that takes the build machine's own libraries too. Named with
# the architecture, or the arm64 package of the same name would count. libfdt-dev cannot be
# installed for two architectures: the native build takes libfdt1 and arm64's libfdt.h.
if [ "$what" = check ] && [ "$arch" != arm64 ]; then
	for p in libfdt1 zlib1g-dev check libsubunit-dev libslirp-dev libglib2.0-dev; do
		pkgs="$pkgs $p:$arch"
	done
fi

missing=
for p in $pkgs; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
	if command -v sudo >/dev/null 2>&1; then
		sudo=sudo
	else
		echo "lkvm: install-deps: need root to install:$missing" >&2
		exit 1
	fi
else
	sudo=
fi

echo "lkvm: installing Debian packages:$missing"
case "$missing" in
*:arm64*)
	if ! dpkg --print-foreign-architectures | grep -qx arm64; then
		echo "lkvm: enabling the arm64 architecture in dpkg (dpkg --add-architecture arm64)"
		$sudo dpkg --add-architecture arm64
	fi
	;;
esac
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q >/dev/null
# shellcheck disable=SC2086
$sudo apt-get install -y -q --no-install-recommends $missing >/dev/null
echo "lkvm: packages installed"
