#!/bin/sh
# `make demo`: boots the test kernel under lkvm with userspace PSCI and shows its console.
# Runs inside the arm64 KVM host (scripts/lkvm-host). With "interactive" the guest gives you a
# shell (exit it, or type poweroff, to end); otherwise it shows a few facts and powers off.
set -eu
if [ "${1:-}" = interactive ]; then
	echo "lkvm demo: a shell in the guest; 'poweroff' ends the demo (Ctrl-A x kills the emulator)" >&2
	exec lkvm run -k "$LKVM_KERNEL" -i "$LKVM_INITRD" -c 2 -m 256M --psci=user -p quiet
fi
exec lkvm run -k "$LKVM_KERNEL" -i "$LKVM_INITRD" -c 2 -m 256M --psci=user \
	-p "quiet -- uname -a; grep -c ^processor /proc/cpuinfo; dmesg | grep -i psci"
