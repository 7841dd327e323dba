# Bad input: lkvm exits 2 (usage error) or 1 (other error), with one line on stderr,
# "lkvm: <what>: <why>", naming the culprit (one of a few keywords), and boots no guest.
# Every run gets "-- true" so that a wrongly accepted input ends quickly.
bad() { # EXPECTED_CODES KEYWORD_ERE LKVM_ARGS...
	_codes=$1 _kw=$2
	shift 2
	lk_run 60 "$@"
	expect_rc $_codes
	expect_error "$_kw"
	expect_no_console 'Booting Linux'
}

# The runs below use "$K" and "$I"; files they need are made in $T by each test.
K=$LKVM_KERNEL I=$LKVM_INITRD

bad_missing_kernel() { bad 1 '/nonexistent/Image' run -k /nonexistent/Image -i "$I" -m 256M -p "-- true"; }

bad_kernel_dir() { bad 1 "$T" run -k "$T" -i "$I" -m 256M -p "-- true"; }

bad_kernel_text() {
	for _i in 1 2 3 4 5 6 7 8; do echo "This is a text file, not an arm64 Linux Image."; done >"$T/notakernel.txt"
	bad 1 'notakernel|image|kernel' run -k "$T/notakernel.txt" -i "$I" -m 256M -p "-- true"
}

bad_truncated_gzip() {
	head -c 100000 "$LKVM_KERNEL_GZ" >"$T/truncated.gz"
	bad 1 'gzip|truncated|decompress' run -k "$T/truncated.gz" -i "$I" -m 256M -p "-- true"
}

bad_initrd_too_big() {
	dd if=/dev/zero of="$T/big.initrd" bs=1M count=40 2>/dev/null
	bad 1 'initrd' run -k "$K" -i "$T/big.initrd" -m 32M -p "-- true"
}

bad_no_kvm() {
	# Moving a device node is safe only in the throwaway emulated host.
	[ "${LKVM_HOST_KIND:-}" = qemu ] || skip "needs the emulated test host (moves /dev/kvm away)"
	mv /dev/kvm /dev/kvm.off || fail "cannot move /dev/kvm"
	trap 'mv /dev/kvm.off /dev/kvm' EXIT
	bad 1 '/dev/kvm' run -k "$K" -i "$I" -m 256M -p "-- true"
}

run_test bad-missing-kernel bad_missing_kernel
run_test bad-kernel-is-dir bad_kernel_dir
run_test bad-kernel-is-text bad_kernel_text
run_test bad-truncated-gzip bad_truncated_gzip
run_test bad-initrd-too-big bad_initrd_too_big
run_test bad-mem-too-small bad 2 '-m|mem' run -k "$K" -i "$I" -m 1M -p "-- true"
# Too large: either rejected when parsing (2) or when KVM or the address space refuses it (1).
run_test bad-mem-too-large bad '1 2' '-m|mem' run -k "$K" -i "$I" -m 100T -p "-- true"
run_test bad-cpus-zero bad 2 '-c|cpu' run -k "$K" -i "$I" -c 0 -m 256M -p "-- true"
# More vCPUs than KVM allows: found out from KVM (1), or above lkvm's own limit (2).
run_test bad-cpus-too-many bad '1 2' '-c|cpu' run -k "$K" -i "$I" -c 100000 -m 256M -p "-- true"
run_test bad-unknown-option bad 2 'no-such-option' run -k "$K" -i "$I" --no-such-option -m 256M -p "-- true"
run_test bad-no-kvm bad_no_kvm
# QEMU's emulated GICv3 has no GICv2 compatibility: KVM cannot create a GICv2.
run_test bad-irqchip-gicv2 bad 1 'gicv2' run -k "$K" -i "$I" --irqchip gicv2 -m 256M -p "-- true"
