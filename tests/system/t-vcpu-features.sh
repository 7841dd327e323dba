# kvmtool's vCPU feature options (Documentation/vcpu-features.md), seen from inside the guest by
# the bare-metal vcpu-test payload (and a32-test for --aarch32): --pmu, --disable-sve and
# --sve-max-vl, --disable-mte, --no-pvtime, --nested, --aarch32.
VT_BIN="$LKVM_PAYLOADS/vcpu-test.bin"
# LKVM_PVTIME_BASE in include/lkvm/memory-map.h: vCPU n's stolen time is at + 64 * n.
PVTIME_BASE=0x2000000

# vt TEST ARGS...: runs vcpu-test's test=TEST on one vCPU with ARGS (a -p there overrides the
# test's); it must pass.
vt() {
	_test=$1
	shift
	lk_run 120 run -k "$VT_BIN" -c 1 -m 64M -p "test=$_test" "$@"
	expect_rc 0
	expect_no_console '^not ok'
	expect_console '^vcpu-test: [1-9][0-9]* passed, 0 failed$'
}

# host_error ARGS... KEYWORDS: lkvm refuses ARGS as this host cannot give them: exit 1, one line
# naming KEYWORDS, said before the kernel is opened (the kvm-unit-tests runner then skips).
host_error() {
	_kw=$1
	shift
	lk_run 60 run -k /nonexistent/kernel -c 1 -m 64M "$@"
	expect_rc 1
	expect_error "$_kw"
	! grep -q 'Unable to open kernel' "$T/stderr" || fail "the kernel was opened first"
}

vcpu_pmu() {
	vt pmu --pmu
	expect_console '^ok [0-9]* - PMCCNTR_EL0 advances while enabled$'
	vt no-pmu
}

# A Linux guest finds the PMU the device tree describes, with its overflow interrupt (PPI 7 is
# INTID 23). (The test kernel has no CONFIG_PARAVIRT, so Linux does not use stolen time: the
# payload checks that.)
vcpu_pmu_linux() {
	lk_run 600 run -k "$LKVM_KERNEL" -i "$LKVM_INITRD" -c 1 -m 256M --pmu \
		-p "quiet -- grep -H . /sys/bus/event_source/devices/armv8_pmuv3*/type; \
		    grep arm-pmu /proc/interrupts"
	expect_rc 0
	expect_console '^/sys/bus/event_source/devices/armv8_pmuv3.*/type:[0-9]'
	expect_console 'GICv3 *23 .*arm-pmu'
}

vcpu_sve() {
	vt sve
	_vl=$(sed -n 's/^sve-vl: //p' "$T/console")
	[ "${_vl:-0}" -ge 256 ] || fail "default SVE vector length $_vl: expected KVM's longest"
	vt sve --sve-max-vl=256 -p "test=sve n=256"
	vt sve --sve-max-vl=128 -p "test=sve n=128"
	vt no-sve --disable-sve
}

vcpu_sve_unsupported() {
	host_error 'sve-max-vl 65536.*longest' --sve-max-vl=65536
}

# The emulated host has no MTE (QEMU's virt machine without mte=on): the guest sees none, with
# or without --disable-mte, and the option is accepted.
vcpu_mte() {
	vt no-mte
	vt no-mte --disable-mte
}

vcpu_pvtime() {
	lk_run 120 run -k "$VT_BIN" -c 2 -m 64M -p "test=pvtime n=$PVTIME_BASE"
	expect_rc 0
	expect_no_console '^not ok'
	expect_console '^vcpu-test: 7 passed, 0 failed$'
	# With lkvm answering firmware calls (the SMCCC filter installed), PV_TIME still reaches KVM.
	lk_run 120 run -k "$VT_BIN" -c 2 -m 64M --psci=user --trng=user \
		-p "test=pvtime n=$PVTIME_BASE"
	expect_rc 0
	expect_console '^vcpu-test: 7 passed, 0 failed$'
	vt no-pvtime --no-pvtime
}

# --list-firmware-calls shows PV_TIME as KVM's, and --smccc cannot take it from KVM.
vcpu_pvtime_routing() {
	lk_run 30 run -k x --psci=user --trng=user --list-firmware-calls
	expect_rc 0
	grep -q '^0xc5000020-0xc5000021  kvm  .*PV_TIME' "$T/console" ||
		fail "PV_TIME not listed as KVM's: $(cat "$T/console")"
	lk_run 30 run -k x --smccc 0xc5000000-0xc500ffff:deny
	expect_rc 2
	expect_error 'overlaps PV_TIME'
}

vcpu_nested_unsupported() {
	host_error 'nested.*KVM_CAP_ARM_EL2' --nested
}

# The emulated host's CPU (QEMU -cpu max) runs AArch32 at EL1: a 32-bit payload, loaded at
# RAM + 0x8000, finds the 32-bit ARM boot protocol's entry state, prints through the UART and
# powers off through PSCI, KVM's or lkvm's (its HVC from AArch32 forwarded to userspace).
vcpu_aarch32() {
	for psci in kernel user; do
		lk_run 60 run -k "$LKVM_PAYLOADS/a32-test.bin" --aarch32 -c 1 -m 64M --psci=$psci
		expect_rc 0
		expect_console '^a32-test: hello from AArch32 EL1$'
		expect_console '^a32-test: entry state ok'
	done
	# An arm64 Image is refused: as A32 code it would only crash.
	lk_run 60 run -k "$LKVM_KERNEL" --aarch32 -c 1 -m 64M
	expect_rc 1
	expect_error 'aarch32.*arm64 Image'
}

# bad_value ARGS... : a usage error (exit 2), one line.
bad_value() {
	lk_run 30 run -k "$VT_BIN" "$@"
	expect_rc 2
	expect_error "$(echo "$1" | sed 's/=.*//')"
}

vcpu_bad_values() {
	for v in 0 64 100 384 131072 x -128 "256k" ""; do
		( bad_value "--sve-max-vl=$v" ) || fail "--sve-max-vl=$v: $(cat "$T/reason")"
	done
	( bad_value --sve-max-vl=256 --disable-sve ) || fail "--sve-max-vl with --disable-sve"
	( bad_value --nested --aarch32 ) || fail "--nested with --aarch32"
	( bad_value --sve-max-vl=256 --aarch32 ) || fail "--sve-max-vl with --aarch32"
	( bad_value -m 3G --aarch32 ) || fail "-m 3G with --aarch32"
	( bad_value --pmu=1 ) || fail "--pmu=1"
}

run_test vcpu-pmu vcpu_pmu
run_test vcpu-pmu-linux vcpu_pmu_linux
run_test vcpu-sve vcpu_sve
run_test vcpu-sve-unsupported vcpu_sve_unsupported
run_test vcpu-mte vcpu_mte
run_test vcpu-pvtime vcpu_pvtime
run_test vcpu-pvtime-routing vcpu_pvtime_routing
run_test vcpu-nested-unsupported vcpu_nested_unsupported
run_test vcpu-aarch32 vcpu_aarch32
run_test vcpu-bad-values vcpu_bad_values
