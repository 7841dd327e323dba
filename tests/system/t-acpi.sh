# --acpi: Linux guests boot from lkvm's ACPI tables and EFI stub, with no firmware: every vCPU,
# the console, the devices on both transports, power off and reboot, both PSCI modes, TRNG; Linux
# reads back exactly the tables --dump-acpi wrote, and logs no ACPI error. Debian's stock kernel
# boots too. guest/tests/acpi.sh is the guest's side; tests/check-acpi.sh then disassembles the
# tables a test dumped (in $LKVM_OUT/TESTNAME) with iasl on the build machine (system-check.sh).

# The start of a kernel message line, with its time stamp where the kernel prints one (Debian's).
ts='^\(\[ *[0-9.]*\] \)\?'

# No error or warning from ACPI or about the firmware, no kernel WARNING. ("No ACPI PMU IRQ" is
# Linux's note that there is no PMU without --pmu: a fact, as on any ACPI machine without one.)
acpi_clean() {
	expect_no_console 'ACPI.*\(Error\|Warning\|error\|failed\)\|Firmware Bug\|FW_BUG\|\[Firmware'
	expect_no_console "${ts}WARNING:\\|Call trace:\\|Failed to\\|Unable to"
	expect_console "${ts}efi: EFI v2.7 by lkvm\$"
	expect_console "${ts}ACPI: Interpreter enabled\$"
}

# Every table the guest has (/sys/firmware/acpi/tables) is the file --dump-acpi wrote, byte for
# byte; every dumped table but the RSDP and XSDT (which Linux does not export) is there.
acpi_tables_match() { # DIR
	_n=0
	for _f in "$1"/*.dat; do
		_sig=$(basename "$_f" .dat | tr '[:lower:]' '[:upper:]')
		case $_sig in RSDP | XSDT) continue ;; esac
		_sum=$(md5sum <"$_f" | cut -d' ' -f1)
		expect_console "^acpi-table: $_sig $_sum\$"
		_n=$((_n + 1))
	done
	[ "$(count_console '^acpi-table: ')" = "$_n" ] || fail "the guest has tables lkvm did not dump"
	[ "$_n" -ge 5 ] || fail "only $_n tables dumped"
}

# Four vCPUs, all online and each an enabled processor device; the UART as the SPCR's console and
# earlycon; PSCI found through the FADT. The dump stays for tests/check-acpi.sh.
acpi_boot() {
	rm -rf "$LKVM_OUT/acpi-boot"
	lk_run 300 run -k "$LKVM_KERNEL" -i "$LKVM_INITRD" -c 4 -m 256M --acpi \
		--dump-acpi "$LKVM_OUT/acpi-boot" -p "-- sh /tests/acpi.sh tables; sh /tests/acpi.sh cpus"
	expect_rc 0
	acpi_clean
	expect_console '^ACPI: SPCR: console: uart,mmio,0x1000000,115200$'
	expect_console '^earlycon: uart0 at MMIO 0x0000000001000000'
	expect_console '^00:0[0-9]: ttyS0 at MMIO 0x1000000 .* is a 16550A$'
	expect_console '^psci: PSCIv1.1 detected in firmware.$'
	expect_console '^acpi-cpus: online=0-3$'
	for _i in 0 1 2 3; do
		expect_console "^acpi-processor: ACPI0007:0$_i uid=$_i status=15\$"
	done
	acpi_tables_match "$LKVM_OUT/acpi-boot"
	for _f in "$LKVM_OUT/acpi-boot"/*.dat; do
		[ "$(stat -c %a "$_f")" = 644 ] || fail "$_f: mode $(stat -c %a "$_f")"
	done
	expect_no_console '^acpi-table: MCFG'
}
run_test acpi-boot acpi_boot

# Every kind of virtio device over TRANSPORT, each bound to its driver and interrupting through
# its DSDT (mmio) or _PRT (pci) interrupt; the disk, the 9p share and the rng work.
acpi_devices() { # TRANSPORT INTID_RE
	seq 1 200000 | head -c 1048576 >"$T/disk.img"
	mkdir -p "$T/share"
	echo "shared-over-$1" >"$T/share/file"
	rm -rf "$LKVM_OUT/acpi-devices-$1"
	lk_run 300 run -k "$LKVM_KERNEL" -i "$LKVM_INITRD" -c 2 -m 256M --acpi --virtio-transport "$1" \
		--dump-acpi "$LKVM_OUT/acpi-devices-$1" -d "$T/disk.img" --9p "$T/share,share" --rng --balloon \
		-n mode=user --console virtio -p "console=ttyS0 -- sh /tests/acpi.sh devices; sh /tests/acpi.sh tables"
	expect_rc 0
	acpi_clean
	for _d in 0x0001=virtio_net 0x0002=virtio_blk 0x0003=virtio_console 0x0004=virtio_rng \
		0x0005=virtio_balloon 0x0009=9pnet_virtio; do
		expect_console "^acpi-virtio: device=${_d%=*} driver=${_d#*=}\$"
	done
	[ "$(count_console '^acpi-irq: .* Level *virtio[0-9]$')" = 6 ] || fail "not 6 virtio interrupts"
	if grep '^acpi-irq: .* virtio' "$T/console" | grep -vqE "GICv3 +$2 Level"; then
		fail "a virtio interrupt outside $2: $(grep '^acpi-irq: .* virtio' "$T/console")"
	fi
	expect_console "^blk-read: md5=$(seq 1 200000 | head -c 1048576 | md5sum | cut -d' ' -f1)\$"
	expect_console "^acpi-9p: shared-over-$1\$"
	expect_console '^rng: read2=[0-9a-f]\{128\}$'
	acpi_tables_match "$LKVM_OUT/acpi-devices-$1"
}
# virtio-mmio slot n interrupts on SPI 16 + n (INTID 48 + n); PCI device n's INTA on SPI 48 + n.
run_test acpi-devices-mmio acpi_devices mmio '(4[89]|5[0-9])'
acpi_devices_pci() {
	acpi_devices pci '(8[0-9])'
	expect_console 'ECAM area \[mem 0x10000000-0x100fffff\] reserved by PNP0C02:00'
	expect_console '^pci_bus 0000:00: root bus resource \[mem 0x20000000-0x3fffffff window\]$'
}
run_test acpi-devices-pci acpi_devices_pci

# A reboot makes a new VM with new tables: the second boot reads them too, then powers off.
acpi_reboot() { # PSCI
	lk_run_input 300 "$T/console.raw" '^reboot-once: waiting' 2 off run -k "$LKVM_KERNEL" \
		-i "$LKVM_INITRD" -c 2 -m 256M --acpi --psci="$1" -p "-- sh /tests/reboot-once.sh"
	expect_rc 0
	acpi_clean
	expect_console '^second boot: powering off$'
	[ "$(count_console '^ACPI: Interpreter enabled$')" = 2 ] || fail "not two ACPI boots"
	[ "$(count_console '^smp: Brought up 1 node, 2 CPUs$')" = 2 ] || fail "not 2 CPUs twice"
}
run_test acpi-reboot-psci-kernel acpi_reboot kernel
run_test acpi-reboot-psci-user acpi_reboot user

# The FADT's conduit: SMC, answered by lkvm's PSCI; the TRNG through the same conduit.
acpi_smc_trng() {
	lk_run 300 run -k "$LKVM_KERNEL" -i "$LKVM_INITRD" -c 2 -m 256M --acpi --psci=user \
		--psci-conduit smc --trng=user -p "-- sh /tests/acpi.sh cpus; cat /sys/class/misc/hw_random/rng_available"
	expect_rc 0
	acpi_clean
	expect_console '^psci: PSCIv1.1 detected in firmware.$'
	expect_console '^acpi-cpus: online=0-1$'
	expect_console 'smccc_trng'
}
run_test acpi-smc-trng acpi_smc_trng

# A GICv3 with an ITS in the MADT and the IORT: Linux sets the ITS up without a warning, and the
# PCI disk interrupts with MSI-X through it.
acpi_its() {
	seq 1 200000 | head -c 1048576 >"$T/disk.img"
	rm -rf "$LKVM_OUT/acpi-its"
	lk_run 300 run -k "$LKVM_KERNEL" -i "$LKVM_INITRD" -c 2 -m 256M --acpi --irqchip gicv3-its \
		--virtio-transport pci -d "$T/disk.img" --dump-acpi "$LKVM_OUT/acpi-its" \
		-p "-- sh /tests/blk.sh read /dev/vda 0; grep virtio /proc/interrupts"
	expect_rc 0
	acpi_clean
	expect_console '^ITS \[mem 0x0c020000-0x0c03ffff\]$'
	expect_console 'ITS-[A-Za-z-]*MSI.*virtio0'
	expect_no_console 'Level *virtio0'
	expect_console "^blk-read: md5=$(seq 1 200000 | head -c 1048576 | md5sum | cut -d' ' -f1)\$"
}
run_test acpi-its acpi_its

# Debian 12's stock arm64 kernel (scripts/debian-kernel.sh) boots from the tables to our
# initramfs, with both vCPUs and its console on the UART through 8250_pnp.
acpi_debian() {
	[ -s "${LKVM_DEBIAN_KERNEL:-}" ] || fail "no Debian kernel (LKVM_DEBIAN_KERNEL)"
	lk_run 300 run -k "$LKVM_DEBIAN_KERNEL" -i "$LKVM_INITRD" -c 2 -m 512M --acpi \
		-p "-- uname -r; sh /tests/acpi.sh cpus"
	expect_rc 0
	acpi_clean
	expect_console '^6\.12\.[0-9]*+deb12-arm64$'
	expect_console '^acpi-cpus: online=0-1$'
	expect_console "${ts}00:0[0-9]: ttyS0 at MMIO 0x1000000 .* is a 16550A\$"
}
run_test acpi-debian-kernel acpi_debian

# Without --acpi the guest has a device tree and no ACPI at all.
acpi_not_by_default() {
	lk_run 300 run -k "$LKVM_KERNEL" -i "$LKVM_INITRD" -c 1 -m 256M -p "-- sh /tests/acpi.sh tables"
	expect_rc 0
	expect_no_console '^acpi-table: \|ACPI: Interpreter enabled\|^efi: EFI'
	expect_console '^ACPI: Interpreter disabled.$'
}
run_test acpi-not-by-default acpi_not_by_default

acpi_bad_options() {
	lk_run 60 run -k "$LKVM_KERNEL" -m 256M --dump-acpi "$T/d" -p "-- true"
	expect_rc 2
	expect_error 'dump-acpi'
	lk_run 60 run -k "$LKVM_KERNEL" -m 256M --acpi --aarch32 -p "-- true"
	expect_rc 2
	expect_error 'aarch32'
	# A symbolic link as the directory: refused, nothing written where it points.
	mkdir "$T/real"
	ln -s "$T/real" "$T/link"
	lk_run 60 run -k "$LKVM_KERNEL" -i "$LKVM_INITRD" -m 256M --acpi --dump-acpi "$T/link" -p "-- true"
	expect_rc 1
	expect_error 'link'
	expect_no_console 'Booting Linux'
	[ -z "$(ls "$T/real")" ] || fail "files written through the symlink: $(ls "$T/real")"
}
run_test acpi-bad-options acpi_bad_options
