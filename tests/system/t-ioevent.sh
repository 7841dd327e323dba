# Queue notifications through KVM ioeventfds and the virtio-mmio interrupt through an irqfd with
# resampling: with --debug lkvm says which path each queue and interrupt took, and at teardown
# how much went through them. Output through hvc0 needs the transmit queue's doorbell, input
# needs the interrupt (the guest's read waits for it).

# ioevent_stderr_count REGEX [COUNT]: COUNT (default 1) lines of lkvm's stderr match REGEX.
ioevent_stderr_count() {
	_n=$(grep -c -e "$1" "$T/stderr")
	[ "$_n" = "${2:-1}" ] || fail "stderr: $_n lines match '$1', expected ${2:-1}"
}

ioevent_console() {
	lk_run_input 300 "$T/console.raw" '^ioevent-test: reading' 1 typed-through-irqfd run \
		-k "$LKVM_KERNEL" -i "$LKVM_INITRD" -c 2 -m 256M --console virtio --debug \
		-p "-- echo ioevent-test: reading; read l; echo got=\$l; seq 1 2000"
	expect_rc 0
	ioevent_stderr_count 'virtio-console: queue 0: notifications through ioeventfd$'
	ioevent_stderr_count 'virtio-console: queue 1: notifications through ioeventfd$'
	ioevent_stderr_count 'virtio-console: interrupts through irqfd$'
	expect_console '^got=typed-through-irqfd$'
	# KVM did signal the eventfds, and its resampler saw the guest's EOIs (counts at teardown).
	_num='[1-9][0-9]*'
	ioevent_stderr_count "virtio-console: queue 1: $_num notifications came through its ioeventfd\$"
	ioevent_stderr_count "SPI [0-9]*: raised $_num times through its irqfd, resampled $_num times\$"
	# Every line, in order: no doorbell was lost on the way through the I/O thread.
	[ "$(grep -E '^[0-9]+$' "$T/console" | tail -n 1)" = 2000 ] || fail "seq's output ends early"
	[ "$(grep -cE '^[0-9]+$' "$T/console")" -ge 2000 ] || fail "seq's output lost lines"
}

# A guest reset tears the VM down (ioeventfds, irqfd, the I/O thread) and builds it again: the
# second boot's console works through them too (it reads "off" through hvc0).
ioevent_reset() {
	lk_run_input 300 "$T/console.raw" '^reboot-once: waiting' 2 off run -k "$LKVM_KERNEL" \
		-i "$LKVM_INITRD" -c 1 -m 256M --console virtio --debug -p "-- sh /tests/reboot-once.sh"
	expect_rc 0
	expect_console '^second boot: powering off$'
	ioevent_stderr_count 'virtio-console: queue 1: notifications through ioeventfd$' 2
	ioevent_stderr_count 'virtio-console: interrupts through irqfd$' 2
	! grep -q 'cannot remove' "$T/stderr" || fail "stderr: $(grep 'cannot remove' "$T/stderr")"
}

run_test ioevent-console ioevent_console
run_test ioevent-reset ioevent_reset
