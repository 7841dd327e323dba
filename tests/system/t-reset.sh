# Guest reset (PSCI SYSTEM_RESET from `reboot -f`). By default lkvm rebuilds the VM and boots
# again: the guest reboots forever, so the test stops it with SIGTERM after the second boot.
# With --on-reset=exit, lkvm exits 3 after the first boot.
reset_restart() {
	lk_run_signal 300 TERM '^Booting Linux' 2 run -k "$LKVM_KERNEL" -i "$LKVM_INITRD" -c 1 -m 256M \
		-p "-- reboot -f"
	expect_rc 143
	[ "$took" -le 10 ] || fail "lkvm took ${took}s to exit after SIGTERM"
}

reset_exit() {
	lk_run 300 run -k "$LKVM_KERNEL" -i "$LKVM_INITRD" -c 1 -m 256M --on-reset=exit -p "-- reboot -f"
	expect_rc 3
	[ "$(count_console '^Booting Linux')" = 1 ] || fail "the guest booted $(count_console '^Booting Linux') times, expected 1"
	expect_console '^reboot: Restarting system'
}

run_test reset-restart reset_restart
run_test reset-exit reset_exit
