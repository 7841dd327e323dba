# SIGTERM and SIGINT stop lkvm while the guest runs, within a few seconds, with 128+N.
stop_by_signal() { # SIG CODE
	lk_run_signal 300 "$1" '^lkvm-guest-sleeping' 1 run -k "$LKVM_KERNEL" -i "$LKVM_INITRD" -c 2 -m 256M \
		-p "-- echo lkvm-guest-sleeping; sleep 1000"
	expect_rc "$2"
	[ "$took" -le 10 ] || fail "lkvm took ${took}s to exit after SIG$1"
}

run_test signal-term stop_by_signal TERM 143
run_test signal-int stop_by_signal INT 130
