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

# A reader of lkvm's stdout that stops reading (a hung ssh session, a paused pipe) must not
# freeze lkvm: `lkvm stop` or --timeout (HOW: stop|timeout) still end it promptly. The reader
# stops for SECS seconds first; with DROPS=drops the guest must have outrun the pipe and lkvm's
# buffer by then, and the output the reader missed is counted on stderr. The UART (3 KB/s here)
# needs about 20 s to fill a pipe, which is when the old lkvm froze. ARGS: lkvm run options.
console_stalled_reader() {
	how=$1 secs=$2 drops=$3
	shift 3
	name=stall-$$
	limit=
	[ "$how" = timeout ] && limit="--timeout $((secs + 15))"
	mkfifo "$T/out"
	cat "$T/out" >"$T/console.raw" &
	reader=$!
	echo "lkvm run --name $name $limit $* (stdout read by a reader that is then stopped)" >>"$T/commands"
	# shellcheck disable=SC2086
	timeout -s KILL $((secs + 100)) "$LKVM" run --name "$name" $limit -k "$LKVM_KERNEL" \
		-i "$LKVM_INITRD" -c 1 -m 128M "$@" \
		-p "quiet -- i=0; while :; do echo line-\$i-of-a-guest-that-talks; i=\$((i+1)); done" \
		</dev/null >"$T/out" 2>"$T/stderr" &
	vm_pid=$!
	wait_console '^line-200-'
	kill -STOP "$reader"
	sleep "$secs"
	start=$(date +%s)
	if [ "$how" = stop ]; then
		timeout -s KILL 20 "$LKVM" stop --name "$name" >"$T/ctl" 2>&1 ||
			{ kill -KILL "$reader"; fail "lkvm stop failed with the reader stopped: $(cat "$T/ctl")"; }
	fi
	wait "$vm_pid"
	rc=$?
	took=$(($(date +%s) - start))
	kill -KILL "$reader"
	tr -d '\r' <"$T/console.raw" >"$T/console"
	[ "$rc" != 137 ] || fail "lkvm did not exit (killed)"
	if [ "$how" = stop ]; then
		expect_rc 5
		[ "$took" -le 10 ] || fail "lkvm took ${took}s to exit after lkvm stop"
	else
		expect_rc 124
		[ "$took" -le 25 ] || fail "lkvm took ${took}s to exit after the reader stopped"
	fi
	[ "$drops" != drops ] || grep -q '^lkvm: warning: console: [0-9]* bytes of guest output dropped' \
		"$T/stderr" || fail "no count of the dropped output on stderr"
}

run_test console-stalled-reader-uart console_stalled_reader stop 30 -
run_test console-stalled-reader-virtio console_stalled_reader stop 10 drops --console virtio
run_test console-stalled-reader-timeout console_stalled_reader timeout 10 drops --console virtio
