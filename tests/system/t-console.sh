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

# --console-log: the console goes to the file as well as to stdout, from the first line on.
console_log() {
	lk_run 300 run -k "$LKVM_KERNEL" -i "$LKVM_INITRD" -c 1 -m 256M --console-log "$T/log.txt" \
		-p "-- echo console-log-marker"
	expect_rc 0
	expect_console '^console-log-marker$'
	grep -q 'Booting Linux' "$T/log.txt" || fail "--console-log: no kernel banner in the file"
	tr -d '\r' <"$T/log.txt" | grep -qx 'console-log-marker' || fail "--console-log: no marker in the file"
}

run_test console-virtio console_virtio
run_test console-log console_log
run_test console-log-unwritable bad 1 'console-log|/nonexistent' run -k "$LKVM_KERNEL" \
	-i "$LKVM_INITRD" --console-log /nonexistent/dir/log.txt -p "-- true"
# --nodefaults --console virtio: the machine has no UART, only what was asked for.
nodefaults_virtio() {
	lk_run 300 run -k "$LKVM_KERNEL" -i "$LKVM_INITRD" -c 1 -m 256M --nodefaults --console virtio \
		-p "console=hvc0 -- echo uarts=\$(ls /sys/firmware/devicetree/base | grep -c uart)"
	expect_rc 0
	expect_console '^uarts=0$'
	lk_run 300 run -k "$LKVM_KERNEL" -i "$LKVM_INITRD" -c 1 -m 256M --console virtio \
		-p "-- echo uarts=\$(ls /sys/firmware/devicetree/base | grep -c uart)"
	expect_rc 0
	expect_console '^uarts=1$'
}

run_test nodefaults nodefaults
run_test nodefaults-virtio-console nodefaults_virtio
