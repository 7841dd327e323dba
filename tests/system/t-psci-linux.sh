# Linux guests under --psci=user: lkvm's PSCI brings up, offlines, onlines, resets, suspends and
# powers off a real kernel. (Bare-metal payloads check every PSCI code: t-psci-payload.sh.)

psci_linux_hotplug() {
	lk_run 300 run -k "$LKVM_KERNEL" -i "$LKVM_INITRD" -c 4 -m 256M --psci=user --debug-psci \
		-p "-- sh /tests/psci-linux.sh"
	expect_rc 0
	expect_console '^online=0-3$'
	expect_console 'psci: PSCIv1.1 detected in firmware'
	expect_console 'psci: SMC Calling Convention v1.1'
	expect_console '^after-offline=0$'
	expect_console '^after-online=0-3$'
	expect_console '^nproc=4$'
	expect_no_console 'line-failed='	# online-failed= or offline-failed=
	# The calls were lkvm's: its trace shows each one.
	grep -q 'vCPU 0 CPU_ON64(0x3, ' "$T/stderr" || fail "no CPU_ON of vCPU 3 in lkvm's trace"
	grep -q 'vCPU 2 CPU_OFF() = does not return' "$T/stderr" || fail "no CPU_OFF from vCPU 2 in lkvm's trace"
	grep -q 'AFFINITY_INFO64(0x1, 0x0) = 0x1' "$T/stderr" || fail "no AFFINITY_INFO = OFF in lkvm's trace"
	grep -q 'SYSTEM_OFF() = does not return' "$T/stderr" || fail "poweroff did not reach lkvm's SYSTEM_OFF"
}

# A guest reboot restarts the guest once (it then powers off): under both PSCI implementations.
linux_reboot_once() { # MODE
	lk_run_input 300 "$T/console.raw" '^reboot-once: waiting' 2 off run -k "$LKVM_KERNEL" \
		-i "$LKVM_INITRD" -c 4 -m 256M --psci="$1" --debug-psci -p "-- sh /tests/reboot-once.sh"
	expect_rc 0
	[ "$(count_console '^Booting Linux')" = 2 ] || fail "the guest booted $(count_console '^Booting Linux') times, expected 2"
	expect_console '^second boot: powering off'
	[ "$1" = kernel ] || grep -q 'SYSTEM_RESET' "$T/stderr" || fail "reboot did not reach lkvm's SYSTEM_RESET(2)"
}

# A bare --psci means --psci=user, as kvmtool spells it.
psci_linux_reset_exit() {
	lk_run 300 run -k "$LKVM_KERNEL" -i "$LKVM_INITRD" -c 2 -m 256M --psci --debug-psci \
		--on-reset=exit -p "-- reboot -f"
	expect_rc 3
	[ "$(count_console '^Booting Linux')" = 1 ] || fail "the guest booted more than once"
	grep -q 'SYSTEM_RESET' "$T/stderr" || fail "reboot did not reach lkvm's SYSTEM_RESET(2)"
}

psci_linux_suspend() {
	lk_run_input 300 "$T/stderr" 'SYSTEM_SUSPEND64(' 1 wake run -k "$LKVM_KERNEL" -i "$LKVM_INITRD" \
		-c 4 -m 256M --psci=user --debug-psci -p "-- sh /tests/suspend.sh"
	expect_rc 0
	expect_console '^states=.*mem'
	expect_console '^resumed online=0-3$'
	grep -q 'SYSTEM_SUSPEND64(.*) = does not return' "$T/stderr" || fail "no SYSTEM_SUSPEND in lkvm's trace"
}

run_test psci-linux-hotplug psci_linux_hotplug
run_test reboot-once-kernel linux_reboot_once kernel
run_test psci-linux-reboot-once linux_reboot_once user
run_test psci-linux-reset-exit psci_linux_reset_exit
run_test psci-linux-suspend psci_linux_suspend
