# The console options: virtio-console as hvc0 (the UART stays as ttyS0), input through it, and
# --nodefaults leaving the kernel command line exactly as -p gives it.
console_virtio() {
	lk_run_input 300 "$T/console.raw" '^console-test: reading' 1 typed-through-hvc0 run \
		-k "$LKVM_KERNEL" -i "$LKVM_INITRD" -c 1 -m 256M --console virtio \
		-p "-- cat /proc/consoles; ls /dev/ttyS0; echo console-test: reading; read l; echo got=\$l"
	expect_rc 0
	expect_console '^hvc0 '
	expect_console '^/dev/ttyS0$'
	expect_console '^got=typed-through-hvc0$'
}

nodefaults() {
	lk_run 300 run -k "$LKVM_KERNEL" -i "$LKVM_INITRD" -c 1 -m 256M --nodefaults \
		-p "console=ttyS0 only=this -- cat /proc/cmdline"
	expect_rc 0
	expect_console '^console=ttyS0 only=this -- cat /proc/cmdline$'
}

run_test console-virtio console_virtio
run_test nodefaults nodefaults
