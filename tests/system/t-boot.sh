# Boots a Linux guest with 1, 2 and 4 vCPUs, from the raw and from the gzip'ed Image: the guest
# must see the -p parameters in /proc/cmdline and N processors, and power off (exit 0).
boot_linux() { # KERNEL NCPUS
	_m=marker$$n$2
	lk_run 300 run -k "$1" -i "$LKVM_INITRD" -c "$2" -m 256M \
		-p "lkvmtest=$_m -- echo cmdline=\$(cat /proc/cmdline); echo ncpus=\$(grep -c ^processor /proc/cpuinfo)"
	expect_rc 0
	expect_console "^cmdline=.*lkvmtest=$_m"
	expect_console "^ncpus=$2\$"
}

for n in 1 2 4; do
	run_test "boot-raw-${n}cpu" boot_linux "$LKVM_KERNEL" "$n"
	run_test "boot-gzip-${n}cpu" boot_linux "$LKVM_KERNEL_GZ" "$n"
done

# The default command line: earlycon, unless -p has quiet (Documentation/kvmtool.md).
boot_earlycon() {
	lk_run 300 run -k "$LKVM_KERNEL" -i "$LKVM_INITRD" -c 1 -m 256M -p "-- cat /proc/cmdline"
	expect_rc 0
	expect_console '^console=ttyS0 earlycon -- cat /proc/cmdline$'
	expect_console '^earlycon: ns16550a0 at MMIO'
	lk_run 300 run -k "$LKVM_KERNEL" -i "$LKVM_INITRD" -c 1 -m 256M -p "quiet -- cat /proc/cmdline"
	expect_rc 0
	expect_console '^console=ttyS0 quiet -- cat /proc/cmdline$'
	expect_no_console 'earlycon|Booting Linux'
}
run_test boot-earlycon-unless-quiet boot_earlycon
