# --virtio-transport pci: virtio devices on lkvm's ECAM PCI host bridge. Linux assigns the BARs
# itself, drives virtio-console through the BAR and INTx, and hvc0 works both ways; the device tree
# has the bridge only with pci (the virtio-mmio default has no PCI node).

# pci_dtb_has FILE STRING: the DTB's strings (node names, string properties) include STRING.
pci_dtb_has() {
	tr -c 'a-zA-Z0-9@,._-' '\n' <"$1" | grep -qx -e "$2"
}

pci_console() {
	lk_run_input 300 "$T/console.raw" '^pci-test: reading' 1 typed-over-pci run \
		-k "$LKVM_KERNEL" -i "$LKVM_INITRD" -c 2 -m 256M --virtio-transport pci \
		--console virtio --dump-dtb "$T/pci.dtb" -p "-- sh /tests/pci.sh"
	expect_rc 0
	expect_console 'pci-host-generic 10000000.pcie: ECAM at \[mem 0x10000000-0x100fffff\] for \[bus 00\]'
	# Linux moved BAR 0 itself (no linux,pci-probe-only): the bus decodes it where it went.
	expect_console 'pci 0000:00:00.0: BAR 0 \[mem 0x[0-9a-f]*-0x[0-9a-f]*\]: assigned'
	expect_console '^pci-dev: 0000:00:00.0 0x1af4 0x1043 0x078000 virtio-pci$'
	[ "$(count_console '^pci-dev: ')" = 1 ] || fail "$(count_console '^pci-dev: ') PCI devices, expected 1"
	# INTA of slot 0 is SPI LKVM_PCI_SPI_BASE = 48, GIC INTID 80, level-triggered.
	expect_console '^irq: [0-9]*: .*[1-9].* GICv3 *80 Level *virtio0$'
	expect_console '^hvc0 '
	expect_console '^got=typed-over-pci$'
	[ -s "$T/pci.dtb" ] || fail "no DTB written"
	pci_dtb_has "$T/pci.dtb" 'pcie@10000000' || fail "the DTB has no pcie@10000000 node"
	pci_dtb_has "$T/pci.dtb" 'pci-host-ecam-generic' || fail "the DTB has no pci-host-ecam-generic"
	! pci_dtb_has "$T/pci.dtb" 'virtio_mmio@d000000' || fail "the DTB has a virtio-mmio node too"
}

# The default transport: the console on virtio-mmio, no PCI bus in the device tree or the guest.
pci_not_by_default() {
	lk_run_input 300 "$T/console.raw" '^pci-test: reading' 1 typed-over-mmio run \
		-k "$LKVM_KERNEL" -i "$LKVM_INITRD" -c 1 -m 256M --console virtio \
		--dump-dtb "$T/mmio.dtb" -p "-- sh /tests/pci.sh"
	expect_rc 0
	expect_console '^pci-dev: none$'
	expect_console '^got=typed-over-mmio$'
	expect_no_console 'pci-host-generic'
	pci_dtb_has "$T/mmio.dtb" 'virtio_mmio@d000000' || fail "the DTB has no virtio-mmio node"
	! pci_dtb_has "$T/mmio.dtb" 'pcie@10000000' || fail "the DTB has a PCI node"
	! pci_dtb_has "$T/mmio.dtb" 'pci-host-ecam-generic' || fail "the DTB has a PCI host bridge"
}

# A bridge with nothing on it (pci, but the serial console): Linux probes an empty bus and boots.
pci_empty_bus() {
	lk_run_input 300 "$T/console.raw" '^pci-test: reading' 1 typed-over-serial run \
		-k "$LKVM_KERNEL" -i "$LKVM_INITRD" -c 1 -m 256M --virtio-transport pci \
		-p "-- sh /tests/pci.sh"
	expect_rc 0
	expect_console 'pci-host-generic 10000000.pcie: PCI host bridge to bus 0000:00'
	expect_console '^pci-dev: none$'
	expect_console '^got=typed-over-serial$'
}

run_test pci-console pci_console
run_test pci-not-by-default pci_not_by_default
run_test pci-empty-bus pci_empty_bus

# The guest on ttyS0, virtio-console on PCI beside it: Linux removes the device and rescans the
# bus (device reset, BAR sizing and assignment again), hvc0 works before and after, and a flood of
# 3000 lines through it arrives whole.
pci_rescan() {
	lk_run 300 run -k "$LKVM_KERNEL" -i "$LKVM_INITRD" -c 2 -m 256M --virtio-transport pci \
		--console virtio -p "console=ttyS0 -- sh /tests/pci-rescan.sh"
	expect_rc 0
	expect_console '^hvc0-before-remove$'
	expect_no_console '^rescan: still there'
	expect_console '^rescan: 0x1af4 0x1043 virtio-pci$'
	expect_console '^iomem: 2[0-9a-f]*-2[0-9a-f]* : virtio-pci-modern$'
	expect_console '^hvc0-after-rescan$'
	expect_console '^rescan: done$'
	[ "$(count_console '^pci-flood-line$')" = 3000 ] ||
		fail "$(count_console '^pci-flood-line$') of 3000 flood lines arrived through hvc0"
	expect_no_console 'NEEDS_RESET\|needs reset'
	! grep -q 'needs reset' "$T/stderr" || fail "lkvm: $(cat "$T/stderr")"
}

run_test pci-rescan pci_rescan

# A guest reboot makes a new VM: the bus and its device come up again, and hvc0 still takes input.
pci_reboot() {
	lk_run_input 300 "$T/console.raw" '^reboot-once: waiting' 2 off run -k "$LKVM_KERNEL" \
		-i "$LKVM_INITRD" -c 2 -m 256M --virtio-transport pci --console virtio \
		-p "-- sh /tests/reboot-once.sh"
	expect_rc 0
	[ "$(count_console '^Booting Linux')" = 2 ] || fail "the guest booted $(count_console '^Booting Linux') times, expected 2"
	[ "$(count_console 'virtio-pci 0000:00:00.0: enabling device')" = 2 ] ||
		fail "virtio-pci came up $(count_console 'virtio-pci 0000:00:00.0: enabling device') times, expected 2"
	expect_console '^second boot: powering off'
}

run_test pci-reboot pci_reboot
