# --irqchip gicv3-its: a GICv3 ITS beside the GIC, and virtio-pci devices that interrupt with
# MSI-X through it (KVM irqfds on MSI routes carrying the requester ID as the ITS DeviceID).

# its_devices ARGS...: boots with a disk, a 9p share, a tap, virtio-rng and virtio-console on
# --irqchip gicv3-its plus ARGS; the guest uses each and reports its interrupt counts.
its_devices() {
	printf 'itsdisk' | dd of="$T/disk" bs=1M count=4 conv=sync 2>/dev/null
	mkdir -p "$T/share"
	echo its-marker >"$T/share/marker"
	lk_run 900 run -k "$LKVM_KERNEL" -i "$LKVM_INITRD" -c 2 -m 256M --irqchip gicv3-its \
		--console virtio -d "$T/disk" --9p "$T/share,share" -n mode=tap --rng "$@" \
		-p "lkvmdtb=1 -- sh /tests/pci-its.sh"
	expect_rc 0
	expect_console '^its: dt arm,gic-v3-its msi-cells 00000001$'
	expect_console '^its: disk itsd$'
	expect_console '^its: share its-marker$'
	expect_console '^its: rng 32$'
	expect_console '^its: done$'
	[ "$(count_console '^its-dev: ')" = 5 ] || fail "$(count_console '^its-dev: ') virtio devices, expected 5"
}

# its_counts: for each virtio device, whether its MSIs counted up and whether it had any INTx.
its_check_msis() {
	grep '^its-dev: ' "$T/console" | while read -r _ dev id _ before after _ ibefore iafter; do
		[ "$after" -gt "$before" ] || { echo "$dev ($id): MSIs $before -> $after"; continue; }
		[ "$iafter" = 0 ] || echo "$dev ($id): $iafter INTx interrupts"
	done >"$T/bad"
	[ ! -s "$T/bad" ] || fail "not all through the ITS: $(tr '\n' ';' <"$T/bad")"
}

its_pci_devices() {
	rm -f "$LKVM_OUT/lkvm-its.dtb"
	its_devices --virtio-transport pci --debug --dump-dtb "$LKVM_OUT/lkvm-its.dtb"
	expect_console 'ITS \[mem 0x0c020000-0x0c03ffff\]'
	# Every device's vectors are on ITS MSI lines, none on the GIC's INTx SPIs.
	expect_console '^irq: .*ITS-[A-Za-z-]*MSI.*virtio'
	its_check_msis
	# lkvm's side: each device sent MSIs through its irqfd, routed with its requester ID.
	for _d in virtio-console virtio-blk virtio-9p virtio-net virtio-rng; do
		grep -q "^lkvm: debug: $_d: MSI-X vector [0-9]*: [1-9][0-9]* MSIs through its irqfd" \
			"$T/stderr" || fail "$_d sent no MSI through an irqfd"
	done
	grep -q '^lkvm: debug: GSI [0-9]*: routed as MSI 0x[0-9a-f]* to 0xc030040, device 0x0$' \
		"$T/stderr" || fail "no MSI route to GITS_TRANSLATER for device 00.0"
	! grep -q 'KVM_SIGNAL_MSI\|refuses' "$T/stderr" || fail "$(grep -m 1 'KVM_SIGNAL_MSI\|refuses' "$T/stderr")"
	[ -s "$LKVM_OUT/lkvm-its.dtb" ] || fail "no DTB written"
}

# virtio-mmio beside an ITS: its devices keep their SPIs, and work.
its_mmio_devices() {
	its_devices
	expect_console 'ITS \[mem 0x0c020000-0x0c03ffff\]'
	grep '^its-dev: ' "$T/console" | while read -r _ dev id _ before after _ ibefore iafter; do
		[ "$iafter" -gt "$ibefore" ] || echo "$dev ($id): SPI $ibefore -> $iafter"
	done >"$T/bad"
	[ ! -s "$T/bad" ] || fail "virtio-mmio devices without interrupts: $(tr '\n' ';' <"$T/bad")"
}

# The default (auto) has no ITS: virtio-pci keeps INTx, and the guest has no ITS.
its_not_by_default() {
	lk_run_input 300 "$T/console.raw" '^pci-test: reading' 1 typed run -k "$LKVM_KERNEL" \
		-i "$LKVM_INITRD" -c 1 -m 256M --virtio-transport pci --rng -p "-- sh /tests/pci.sh"
	expect_rc 0
	expect_no_console 'ITS \[mem'
	expect_no_console 'ITS-[A-Za-z-]*MSI'
	expect_console '^irq: [0-9]*: .* GICv3 *80 Level *virtio0$'
	expect_console '^got=typed$'
}

# A guest reboot makes a new VM with a new ITS and new routes: the devices work again.
its_reboot() {
	lk_run_input 600 "$T/console.raw" '^reboot-once: waiting' 2 off run -k "$LKVM_KERNEL" \
		-i "$LKVM_INITRD" -c 1 -m 256M --irqchip gicv3-its --virtio-transport pci \
		--console virtio --rng -p "-- sh /tests/reboot-once.sh"
	expect_rc 0
	[ "$(count_console 'ITS \[mem 0x0c020000-0x0c03ffff\]')" = 2 ] ||
		fail "the ITS did not come up in both boots"
	[ "$(count_console '^reboot-once: waiting')" = 2 ] || fail "hvc0 did not work in both boots"
	expect_console '^second boot: powering off'
}

run_test its-pci-devices its_pci_devices
run_test its-mmio-devices its_mmio_devices
run_test its-not-by-default its_not_by_default
run_test its-reboot its_reboot
