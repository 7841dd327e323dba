# virtio-vsock (--vsock CID), served by the test host's vhost-vsock: a connection each way.
# The guest echoes on vsock port 1234 and the host connects to CID:1234; the host echoes on port
# 5678 and the guest connects to CID 2 (the host). Each side checks that it got its text back.

# vsock_await ERE N: until the guest's console has shown ERE N times (10 minutes at most).
vsock_await() {
	for _i in $(seq 3000); do
		[ "$(tr -d '\r' <"$T/console.raw" 2>/dev/null | grep -cE -e "$1")" -ge "$2" ] && return 0
		sleep 0.2
	done
	echo "the guest's console never showed '$1' $2 times"
	return 1
}

# vsock_host_side CID ROUNDS: the host's half, in the background: ROUNDS connections to the
# guest's echo server (one per boot or rebind) and as many accepted from it, in
# $T/host-connect and $T/host-listen. Each round starts once the guest's side of it has: each
# end waits for its peer a bounded while, and a guest slow to boot on a busy machine must not
# use up the host's while before it even listens.
vsock_host_side() {
	[ -c /dev/vhost-vsock ] || fail "no /dev/vhost-vsock in the test host"
	(for _r in $(seq "$2"); do
		vsock_await '^vsock-guest: (device|rebound|round) ' "$_r" && vsock listen 5678 || exit 1
	done) >"$T/host-listen" 2>&1 &
	listen_pid=$!
	(for _r in $(seq "$2"); do
		vsock_await '^vsock: listening on port 1234$' "$_r" &&
			vsock connect "$1" 1234 "hello-from-host-$_r" || exit 1
	done) >"$T/host-connect" 2>&1 &
	connect_pid=$!
}

# vsock_host_check ROUNDS: both halves of the host's side ended well, ROUNDS times each.
vsock_host_check() {
	wait "$connect_pid" || fail "host to guest: $(tail -n 3 "$T/host-connect")"
	wait "$listen_pid" || fail "host's echo server: $(tail -n 3 "$T/host-listen")"
	for _r in $(seq "$1"); do
		grep -q "^vsock: reply hello-from-host-$_r\$" "$T/host-connect" ||
			fail "host to guest, round $_r: $(tail -n 3 "$T/host-connect")"
	done
}

# Then the guest's driver lets the device go and takes it again: the device reset stops vhost,
# the next DRIVER_OK starts it on the new rings, and both directions work again.
vsock_echo() {
	vsock_host_side 7 2
	lk_run 600 run -k "$LKVM_KERNEL" -i "$LKVM_INITRD" -c 2 -m 256M $VT --vsock 7 \
		-p "quiet -- sh /tests/vsock.sh"
	expect_rc 0
	expect_console '^vsock-guest: device 0x0013$'
	expect_console '^vsock-guest: rebound 0x0013$'
	[ "$(count_console '^vsock: reply hello-from-guest$')" = 2 ] ||
		fail "the guest got its text back from the host $(count_console '^vsock: reply hello-from-guest$') times, expected 2"
	[ "$(count_console '^vsock-guest: connect rc=0$')" = 2 ] || fail "guest to host failed"
	[ "$(count_console '^vsock-guest: listen rc=0$')" = 2 ] || fail "host to guest failed"
	vsock_host_check 2
}

run_test_both vsock-echo vsock_echo
# virtio-pci with MSI-X through the ITS: vhost interrupts through each queue's vector's irqfd.
VT="--virtio-transport pci --irqchip gicv3-its"
run_test vsock-echo-its vsock_echo
VT=

# A guest reboot makes a new VM: the old one's vhost-vsock lets the CID go, the new one takes it,
# and connections work again both ways.
vsock_reboot() {
	vsock_host_side 8 2
	vm_start vsock-reboot -k "$LKVM_KERNEL" -i "$LKVM_INITRD" -c 2 -m 256M $VT --vsock 8 \
		-p "quiet -- sh /tests/vsock.sh reboot"
	wait_console '^vsock-guest: waiting$' 1
	wait_console '^vsock-guest: waiting$' 2
	echo off >&3
	vm_wait
	expect_rc 0
	[ "$(count_console '^vsock-guest: connect rc=0$')" = 2 ] || fail "the guest connected to the host $(count_console '^vsock-guest: connect rc=0$') times, expected 2"
	[ "$(count_console '^vsock-guest: listen rc=0$')" = 2 ] || fail "the host connected to the guest $(count_console '^vsock-guest: listen rc=0$') times, expected 2"
	vsock_host_check 2
}

run_test_both vsock-reboot vsock_reboot

# Many exchanges in a row, both ways at once: interrupts vhost raises while the guest handles
# one must not be lost (they were, on a level-triggered line vhost raised itself through an
# irqfd: the guest's EOI lowered it, and the connection hung). In make check-stress.
VSOCK_STORM_ROUNDS=150
vsock_storm() {
	vsock_host_side 10 $VSOCK_STORM_ROUNDS
	lk_run 900 run -k "$LKVM_KERNEL" -i "$LKVM_INITRD" -c 2 -m 256M $VT --vsock 10 \
		-p "quiet -- sh /tests/vsock.sh storm $VSOCK_STORM_ROUNDS"
	expect_rc 0
	[ "$(count_console '^vsock-guest: connect rc=0$')" = $VSOCK_STORM_ROUNDS ] ||
		fail "the guest connected to the host $(count_console '^vsock-guest: connect rc=0$') times, expected $VSOCK_STORM_ROUNDS"
	[ "$(count_console '^vsock-guest: listen rc=0$')" = $VSOCK_STORM_ROUNDS ] ||
		fail "the host connected to the guest $(count_console '^vsock-guest: listen rc=0$') times, expected $VSOCK_STORM_ROUNDS"
	vsock_host_check $VSOCK_STORM_ROUNDS
}

run_test_both vsock-storm vsock_storm

# A CID another VM holds: the second lkvm says so in one line and exits 1, the first runs on.
vsock_cid_in_use() {
	[ -c /dev/vhost-vsock ] || fail "no /dev/vhost-vsock in the test host"
	vm_start vsock-holder -k "$LKVM_KERNEL" -i "$LKVM_INITRD" -c 1 -m 128M --vsock 9 \
		-p "quiet -- sh /tests/vsock.sh hold"
	wait_console '^vsock-guest: holding$'
	_held=$T/console.raw
	timeout -s KILL 60 "$LKVM" run -k "$LKVM_KERNEL" -i "$LKVM_INITRD" -c 1 -m 128M --vsock 9 \
		-p "quiet -- true" </dev/null >"$T/second.console" 2>"$T/stderr"
	rc=$?
	expect_rc 1
	expect_error '^lkvm: --vsock 9: CID in use: another VM on this host has it$'
	echo done >&3
	vm_wait
	expect_rc 0
	[ -s "$_held" ] || fail "no console from the first VM"
}

run_test vsock-cid-in-use vsock_cid_in_use

# Bad CIDs and a second --vsock are usage errors (2); a host without vhost-vsock is an error (1).
vsock_bad() {
	for _cid in 0 1 2 4294967295 0x100000000 -3 abc ""; do
		lk_run 60 run -k "$LKVM_KERNEL" -i "$LKVM_INITRD" --vsock "$_cid" -p "-- true"
		expect_rc 2
		expect_error "^lkvm: --vsock $_cid: "
	done
	lk_run 60 run -k "$LKVM_KERNEL" -i "$LKVM_INITRD" --vsock 3 --vsock 4 -p "-- true"
	expect_rc 2
	expect_error '^lkvm: --vsock 4: only one --vsock: a VM has one CID$'
	[ -c /dev/vhost-vsock ] || fail "no /dev/vhost-vsock in the test host"
	mv /dev/vhost-vsock /dev/vhost-vsock.hidden
	lk_run 60 run -k "$LKVM_KERNEL" -i "$LKVM_INITRD" --vsock 3 -p "-- true"
	mv /dev/vhost-vsock.hidden /dev/vhost-vsock
	expect_rc 1
	expect_error '^lkvm: --vsock 3: /dev/vhost-vsock: not there \(the host needs vhost_vsock'
}

run_test vsock-bad vsock_bad
