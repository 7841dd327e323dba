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

# --- virtio-pci (--virtio-transport pci): the doorbells sit in BAR 0, which Linux assigns itself,
# and INTx (SPI 48) goes through the irqfd. ---

# ioevent_doorbell_follows_bar BASE: the last doorbell of each console queue that lkvm put in an
# ioeventfd is in BAR 0 at BASE (0x...), at 0x3000 + 4 * queue.
ioevent_doorbell_follows_bar() {
	for _q in 0 1; do
		_want=$(printf '0x%x' $(($1 + 0x3000 + 4 * _q)))
		_got=$(grep -o "virtio-console: queue $_q: doorbell at 0x[0-9a-f]*" "$T/stderr" |
			tail -n 1 | sed 's/.* at //')
		[ "$_got" = "$_want" ] || fail "queue $_q: doorbell at '$_got', BAR 0 wants $_want"
	done
}

# ioevent_pci_counts [ADDS] [VMS]: each console queue got at least ADDS ioeventfds and every one
# was taken away again (reset, BAR moves, teardown), none fell back to MMIO exits, KVM signalled
# them, and each of VMS VMs had INTx's irqfd, whose resampler saw the guest's EOIs.
ioevent_pci_counts() {
	_num='[1-9][0-9]*'
	for _q in 0 1; do
		_p="virtio-console: queue $_q:"
		_add=$(grep -c "$_p notifications through ioeventfd\$" "$T/stderr")
		_del=$(grep -c "$_p [0-9]* notifications came through its ioeventfd\$" "$T/stderr")
		[ "$_add" -ge "${1:-1}" ] || fail "queue $_q: $_add ioeventfds, expected at least ${1:-1}"
		[ "$_add" = "$_del" ] || fail "queue $_q: $_add ioeventfds added, $_del taken away"
	done
	ioevent_stderr_count 'notifications through MMIO exits' 0
	grep -q "virtio-console: queue 1: $_num notifications came through its ioeventfd\$" "$T/stderr" ||
		fail "stderr: no notification came through queue 1's ioeventfd"
	# One irqfd per VM, and the guest's EOIs came back through its resampler.
	ioevent_stderr_count 'SPI 48: raised [0-9]* times through its irqfd, resampled [0-9]* times$' \
		"${2:-1}"
	grep -q "SPI 48: raised $_num times through its irqfd, resampled $_num times\$" "$T/stderr" ||
		fail "stderr: INTx was never raised and resampled through its irqfd"
	! grep -q 'cannot remove' "$T/stderr" || fail "stderr: $(grep 'cannot remove' "$T/stderr")"
}

ioevent_pci_console() {
	lk_run_input 300 "$T/console.raw" '^ioevent-test: reading' 1 typed-through-pci-irqfd run \
		-k "$LKVM_KERNEL" -i "$LKVM_INITRD" -c 2 -m 256M --virtio-transport pci \
		--console virtio --debug -p "-- echo ioevent-test: reading; read l; echo got=\$l; seq 1 2000"
	expect_rc 0
	ioevent_stderr_count 'virtio-console: interrupts through irqfd$'
	expect_console '^got=typed-through-pci-irqfd$'
	ioevent_pci_counts 1
	# Linux's own BAR assignment: the ioeventfds went where it put BAR 0.
	_bar=$(grep -o 'pci 0000:00:00.0: BAR 0 \[mem 0x[0-9a-f]*-0x[0-9a-f]*\]: assigned' \
		"$T/console" | tail -n 1 | sed 's/.*\[mem \(0x[0-9a-f]*\)-.*/\1/')
	[ -n "$_bar" ] || fail "console: Linux did not say where it put BAR 0"
	ioevent_doorbell_follows_bar "$_bar"
	[ "$(grep -E '^[0-9]+$' "$T/console" | tail -n 1)" = 2000 ] || fail "seq's output ends early"
	[ "$(grep -cE '^[0-9]+$' "$T/console")" -ge 2000 ] || fail "seq's output lost lines"
}

# The device removed and the bus rescanned (reset, BAR sizing and assignment again): the
# ioeventfds go away with the reset and come back where BAR 0 is now; 3000 lines arrive whole.
ioevent_pci_rescan() {
	lk_run 300 run -k "$LKVM_KERNEL" -i "$LKVM_INITRD" -c 2 -m 256M --virtio-transport pci \
		--console virtio --debug -p "console=ttyS0 -- sh /tests/pci-rescan.sh"
	expect_rc 0
	expect_console '^hvc0-before-remove$'
	expect_console '^rescan: 0x1af4 0x1043 virtio-pci$'
	expect_console '^hvc0-after-rescan$'
	expect_console '^rescan: done$'
	[ "$(count_console '^pci-flood-line$')" = 3000 ] ||
		fail "$(count_console '^pci-flood-line$') of 3000 flood lines arrived through hvc0"
	expect_no_console 'NEEDS_RESET\|needs reset'
	ioevent_stderr_count 'virtio-console: interrupts through irqfd$'
	ioevent_pci_counts 2
	_bar=$(sed -n 's/^iomem: \(2[0-9a-f]*\)-2[0-9a-f]* : virtio-pci-modern$/0x\1/p' "$T/console")
	[ -n "$_bar" ] || fail "console: no iomem line for BAR 0 after the rescan"
	ioevent_doorbell_follows_bar "$_bar"
}

# With the driver bound, the guest turns memory decoding off and on, then moves BAR 0 by 1M and
# back (guest/tests/pci-move.sh): each time the ioeventfds go away and come back where the
# doorbells are, and hvc0 works through them afterwards.
ioevent_pci_move() {
	lk_run 300 run -k "$LKVM_KERNEL" -i "$LKVM_INITRD" -c 2 -m 256M --virtio-transport pci \
		--console virtio --debug -p "console=ttyS0 -- sh /tests/pci-move.sh"
	expect_rc 0
	# Memory Space (bit 1) was off: the last hex digit has bit 1 clear.
	expect_console '^pci-move: decoding off: command 0x[0-9a-f]*[014589cd]$'
	for _l in hvc0-after-decoding hvc0-after-move hvc0-intx-disabled 'pci-move: done'; do
		expect_console "^$_l\$"
	done
	[ "$(count_console '^pci-move-line$')" = 1000 ] ||
		fail "$(count_console '^pci-move-line$') of 1000 lines arrived through hvc0 after the move"
	_bar=$(sed -n 's/^pci-move: command 0x[0-9a-f]* bar \(0x[0-9a-f]*\)$/\1/p' "$T/console")
	[ -n "$_bar" ] || fail "console: the guest did not say where BAR 0 was"
	expect_console "^pci-move: bar moved to $(printf '0x%x' $((_bar + 0x100000)))\$"
	expect_no_console 'nobody cared'
	# Boot, decoding back on, moved, back: queue 1's doorbell went with BAR 0 each time.
	_at=$(printf '0x%x' $((_bar + 0x3004)))
	_moved=$(printf '0x%x' $((_bar + 0x100000 + 0x3004)))
	_seq=$(grep -o 'virtio-console: queue 1: doorbell at 0x[0-9a-f]*' "$T/stderr" |
		sed 's/.* at //' | tr '\n' ' ')
	[ "$_seq" = "$_at $_at $_moved $_at " ] ||
		fail "queue 1's doorbells: '$_seq', expected '$_at $_at $_moved $_at '"
	ioevent_pci_counts 4
	ioevent_doorbell_follows_bar "$_bar"
}

# A guest reboot: both VMs' doorbells and INTx go through KVM, and all of it is taken away.
ioevent_pci_reset() {
	lk_run_input 300 "$T/console.raw" '^reboot-once: waiting' 2 off run -k "$LKVM_KERNEL" \
		-i "$LKVM_INITRD" -c 1 -m 256M --virtio-transport pci --console virtio --debug \
		-p "-- sh /tests/reboot-once.sh"
	expect_rc 0
	expect_console '^second boot: powering off$'
	ioevent_stderr_count 'virtio-console: interrupts through irqfd$' 2
	ioevent_pci_counts 2 2
}

run_test ioevent-pci-console ioevent_pci_console
run_test ioevent-pci-rescan ioevent_pci_rescan
run_test ioevent-pci-move ioevent_pci_move
run_test ioevent-pci-reset ioevent_pci_reset
