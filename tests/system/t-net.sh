# virtio-net on a tap device (-n). The test host plays the host side of the tap, as a user would:
# 10.0.2.1/24 on lkvmtap0 once lkvm has created it. These addresses exist only inside the
# emulated test host, which has no network of its own: no frame leaves it.
NET_TAP=lkvmtap0
NET_MAC=02:aa:bb:cc:dd:01

# net_wait_tap SECS: waits until lkvm has created $NET_TAP; fails the helper otherwise.
net_wait_tap() {
	_i=0
	until ip link show "$NET_TAP" >/dev/null 2>&1; do
		_i=$((_i + 1))
		[ "$_i" -lt $(($1 * 5)) ] || return 1
		sleep 0.2
	done
}

# net_nc SECS ARGS...: `nc ARGS` with the FIFO stdin of fd 3, retried while the guest is not
# listening yet (connection refused), for at most SECS.
net_nc() {
	_secs=$1
	shift
	_end=$(($(date +%s) + _secs))
	until timeout 60 nc "$@"; do
		[ "$(date +%s)" -lt "$_end" ] || return 1
		sleep 1
	done
}

# The host's side of net-ping, in the background: configures the tap, notes what the host sees
# of the guest, checks that a second lkvm cannot take the tap, and moves a file each way over TCP.
net_ping_host() {
	net_wait_tap 300 || { echo "the tap never appeared" >"$T/host.log"; return 1; }
	ip addr add 10.0.2.1/24 dev "$NET_TAP" && ip link set "$NET_TAP" mtu 9000 &&
		ip link set "$NET_TAP" up || { echo "cannot configure $NET_TAP" >"$T/host.log"; return 1; }
	echo configured >"$T/host.log"
	# The guest's MAC as the host learns it from its ARP request.
	_i=0
	until grep -q '^10\.0\.2\.15 .* 0x2 ' /proc/net/arp || [ "$_i" -ge 300 ]; do
		_i=$((_i + 1))
		sleep 0.5
	done
	cp /proc/net/arp "$T/arp"
	# The tap is lkvm's as long as it runs.
	timeout 120 "$LKVM" run -k "$LKVM_KERNEL" -i "$LKVM_INITRD" -c 1 -m 128M \
		-n "mode=tap,tapif=$NET_TAP" -p "-- true" </dev/null >/dev/null 2>"$T/busy.stderr"
	echo $? >"$T/busy.rc"
	rm -f "$T/hold"
	mkfifo "$T/hold"
	exec 3<>"$T/hold"
	net_nc 300 10.0.2.15 5000 <&3 >"$T/from-guest" || echo "fetching failed" >>"$T/host.log"
	head -c 400000 /dev/urandom >"$T/to-guest"
	net_nc 300 10.0.2.15 5001 <"$T/to-guest" || echo "sending failed" >>"$T/host.log"
	exec 3>&-
	echo done >>"$T/host.log"
}

net_ping() {
	[ -c /dev/net/tun ] || skip "no /dev/net/tun in the test host"
	net_ping_host &
	_host=$!
	lk_run 900 run -k "$LKVM_KERNEL" -i "$LKVM_INITRD" -c 2 -m 256M --loglevel info $VT \
		-n "mode=tap,tapif=$NET_TAP,guest_mac=$NET_MAC" -p "quiet -- sh /tests/net-ping.sh"
	wait "$_host"
	expect_rc 0
	grep -q "virtio-net: eth0 is on tap device $NET_TAP" "$T/stderr" ||
		fail "lkvm did not log the tap's name"
	# The MAC: in the guest's sysfs and ip link, and on the wire.
	expect_console "^net: mac=$NET_MAC\$"
	expect_console "link/ether $NET_MAC "
	grep -q "^10\.0\.2\.15 .* $NET_MAC " "$T/arp" || fail "the host's ARP table lacks $NET_MAC"
	# Pings without loss: small ones, ones over several receive buffers, after a reset.
	[ "$(count_console "^3 packets transmitted, 3 packets received, 0% packet loss")" = 3 ] ||
		fail "the pings did not all come back"
	# A second lkvm cannot have the tap; the error says why, on one line.
	[ "$(cat "$T/busy.rc")" = 1 ] || fail "a second lkvm on $NET_TAP exited with $(cat "$T/busy.rc")"
	[ "$(wc -l <"$T/busy.stderr")" = 1 ] &&
		grep -qi "^lkvm: -n tapif=$NET_TAP: cannot create the tap device: .*busy" \
			"$T/busy.stderr" || fail "second lkvm: $(cat "$T/busy.stderr")"
	# TCP each way, intact.
	grep -q '^done$' "$T/host.log" && ! grep -q failed "$T/host.log" ||
		fail "host side: $(tr '\n' ' ' <"$T/host.log")"
	expect_console "^net: serving $(md5sum <"$T/from-guest" | cut -d' ' -f1)\$"
	expect_console "^net: received $(md5sum <"$T/to-guest" | cut -d' ' -f1)\$"
}

# -n mode=none adds nothing; -n mode=tap alone gets a kernel-chosen name and the default MAC,
# the Nth device's ending in N, and the guest's ethN is the Nth -n. (And without --rng, there is
# no virtio-rng.)
net_defaults() {
	[ -c /dev/net/tun ] || skip "no /dev/net/tun in the test host"
	lk_run 600 run -k "$LKVM_KERNEL" -i "$LKVM_INITRD" -c 1 -m 256M --loglevel info \
		-n mode=none -n mode=tap -n mode=tap \
		-p "quiet -- ls -1 /sys/class/net; grep . /sys/class/net/eth*/address /sys/class/misc/hw_random/rng_available"
	expect_rc 0
	for _n in 0 1; do
		grep -q "virtio-net: eth$_n is on tap device tap[0-9]*, guest MAC 02:15:15:15:15:0$_n\$" \
			"$T/stderr" || fail "lkvm did not log a tap%d device for eth$_n"
		expect_console "^eth$_n\$"
		expect_console "^/sys/class/net/eth$_n/address:02:15:15:15:15:0$_n\$"
	done
	expect_no_console '^eth2$'
	expect_no_console 'virtio_rng'
}

# A guest reboot builds a new VM: the old one lets go of the tap, the new one takes it again.
net_reboot() {
	[ -c /dev/net/tun ] || skip "no /dev/net/tun in the test host"
	lk_run_input 600 "$T/console.raw" '^reboot-once: waiting' 2 off run -k "$LKVM_KERNEL" \
		-i "$LKVM_INITRD" -c 1 -m 256M --loglevel info -n "mode=tap,tapif=$NET_TAP" \
		-p "quiet -- ls /sys/class/net/eth0 >/dev/null && sh /tests/reboot-once.sh"
	expect_rc 0
	expect_console '^second boot: powering off'
	[ "$(grep -c "virtio-net: eth0 is on tap device $NET_TAP," "$T/stderr")" = 2 ] ||
		fail "lkvm did not take $NET_TAP once per boot"
	! ip link show "$NET_TAP" >/dev/null 2>&1 || fail "$NET_TAP is still there after lkvm exited"
}

net_mode_usage() {
	lk_run 60 run -k "$LKVM_KERNEL" -i "$LKVM_INITRD" -n mode=foo -p "-- true"
	expect_rc 2
	expect_error '-n.*mode must be tap, user or none'
}

net_not_a_tap() {
	[ -c /dev/net/tun ] || skip "no /dev/net/tun in the test host"
	lk_run 60 run -k "$LKVM_KERNEL" -i "$LKVM_INITRD" -n mode=tap,tapif=lo -p "-- true"
	expect_rc 1
	expect_error '^lkvm: -n tapif=lo: cannot create the tap device: Invalid argument .*not a tap'
}

net_no_tun() {
	# Moving a device node is safe only in the throwaway emulated host.
	[ "${LKVM_HOST_KIND:-}" = qemu ] || skip "needs the emulated test host (moves /dev/net/tun)"
	[ -c /dev/net/tun ] || skip "no /dev/net/tun in the test host"
	mv /dev/net/tun /dev/net/tun.off || fail "cannot move /dev/net/tun"
	trap 'mv /dev/net/tun.off /dev/net/tun' EXIT
	lk_run 60 run -k "$LKVM_KERNEL" -i "$LKVM_INITRD" -n mode=tap -p "-- true"
	expect_rc 1
	expect_error '^lkvm: -n mode=tap: cannot open /dev/net/tun: No such file or directory$'
}

# The host deletes the tap under a running guest: lkvm says once that the guest's network is
# down, and the guest runs on and powers off cleanly.
net_tap_deleted() {
	[ -c /dev/net/tun ] || skip "no /dev/net/tun in the test host"
	vm_start tapdel-$$ -k "$LKVM_KERNEL" -i "$LKVM_INITRD" -c 1 -m 128M \
		-n "mode=tap,tapif=$NET_TAP" \
		-p "-- echo tapdel: up; read -r _; ping -c 2 -W 1 10.0.2.1; echo tapdel: alive"
	net_wait_tap 60 || fail "lkvm never created $NET_TAP"
	wait_console '^tapdel: up$'
	ip link del "$NET_TAP" || fail "cannot delete $NET_TAP"
	echo >&3
	vm_wait
	expect_rc 0
	expect_console '^tapdel: alive$'
	[ "$(grep -c "virtio-net: $NET_TAP: .*the network is down for the guest" "$T/stderr")" = 1 ] ||
		fail "no single line about the tap that went away: $(head -n 2 "$T/stderr")"
}

run_test_both net-ping net_ping
run_test net-tap-deleted net_tap_deleted
run_test net-defaults net_defaults
run_test net-reboot net_reboot
run_test net-mode-usage net_mode_usage
run_test net-not-a-tap net_not_a_tap
run_test net-no-tun net_no_tun
