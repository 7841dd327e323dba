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

# lkvm started with stdout closed (a service, a detached job) and stdin at EOF: the guest runs
# to the end, its output goes to --console-log only, and nothing lkvm opens later (a disk image)
# inherits the closed descriptor and receives the console's output instead.
console_stdout_closed() {
	dd if=/dev/zero of="$T/disk.img" bs=1M count=4 2>/dev/null
	_md5=$(md5sum <"$T/disk.img")
	echo "lkvm run ... -d disk.img --console-log log (stdout closed, stdin /dev/null)" >>"$T/commands"
	timeout -s KILL 300 "$LKVM" run -k "$LKVM_KERNEL" -i "$LKVM_INITRD" -c 1 -m 256M \
		-d "$T/disk.img" --console-log "$T/log" -p "-- echo stdout-closed-marker" \
		</dev/null >&- 2>"$T/stderr"
	rc=$?
	expect_rc 0
	tr -d '\r' <"$T/log" | grep -qx 'stdout-closed-marker' || fail "no marker in --console-log"
	[ "$(md5sum <"$T/disk.img")" = "$_md5" ] || fail "the disk image changed"
	[ ! -s "$T/stderr" ] || fail "stderr: $(head -n 1 "$T/stderr")"
}

run_test console-virtio console_virtio
run_test console-stdout-closed console_stdout_closed
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
# freeze lkvm: `lkvm stop` or --timeout 30 (HOW: stop|timeout) still end it. Once the reader
# stops, the test waits until --console-log shows that the guest wrote AHEAD KiB more: with 70
# the pipe (64 KiB) is full, which is when the old lkvm froze; with 200 lkvm's buffer is full too
# and lkvm has dropped output, which it must count on stderr. The UART is slow (3 KB/s here), so
# it gets 70. ARGS: lkvm run options.
console_stalled_reader() {
	how=$1 ahead=$2
	shift 2
	name=stall-$$
	limit=
	[ "$how" = timeout ] && limit="--timeout 30"
	mkfifo "$T/out"
	cat "$T/out" >"$T/console.raw" &
	reader=$!
	echo "lkvm run --name $name $limit $* (stdout read by a reader that is then stopped)" >>"$T/commands"
	# shellcheck disable=SC2086
	timeout -s KILL 200 "$LKVM" run --name "$name" $limit -k "$LKVM_KERNEL" -i "$LKVM_INITRD" \
		-c 1 -m 128M --console-log "$T/log" "$@" \
		-p "quiet -- i=0; while :; do echo line-\$i-of-a-guest-that-talks; i=\$((i+1)); done" \
		</dev/null >"$T/out" 2>"$T/stderr" &
	vm_pid=$!
	wait_console '^line-200-'
	kill -STOP "$reader"
	stopped_at=$(wc -c <"$T/log")
	for _i in $(seq 600); do
		[ $(($(wc -c <"$T/log") - stopped_at)) -ge $((ahead * 1024)) ] && break
		kill -0 "$vm_pid" 2>/dev/null || break
		sleep 0.2
	done
	[ $(($(wc -c <"$T/log") - stopped_at)) -ge $((ahead * 1024)) ] ||
		{ kill -KILL "$reader"; fail "the guest did not write ${ahead} KiB in 120 s"; }
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
	fi
	[ "$ahead" -lt 200 ] || grep -q '^lkvm: warning: console: [0-9]* bytes of guest output dropped' \
		"$T/stderr" || fail "no count of the dropped output on stderr"
}

run_test console-stalled-reader-uart console_stalled_reader stop 70
run_test console-stalled-reader-virtio console_stalled_reader stop 200 --console virtio
run_test console-stalled-reader-timeout console_stalled_reader timeout 70 --console virtio
