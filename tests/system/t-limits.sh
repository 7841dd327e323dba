# The largest configuration the options accept: eight disks, eight 9p shares, four network
# devices, --rng, --balloon, --console virtio and --vsock, 24 virtio devices (MAX_VIRTIO_DEVS).
# It boots over either transport, and the guest finds each device bound to its driver and working.
limits_max() {
	[ -c /dev/net/tun ] || skip "no /dev/net/tun in the test host"
	[ -c /dev/vhost-vsock ] || fail "no /dev/vhost-vsock in the test host"
	_args=
	for _i in 0 1 2 3 4 5 6 7; do
		printf 'disk%s' "$_i" | dd of="$T/disk$_i" bs=1M count=1 conv=sync 2>/dev/null
		mkdir -p "$T/share$_i"
		echo "marker$_i" >"$T/share$_i/marker"
		_args="$_args -d $T/disk$_i --9p $T/share$_i,tag$_i"
	done
	lk_run 900 run -k "$LKVM_KERNEL" -i "$LKVM_INITRD" -c 2 -m 256M $VT $_args \
		-n mode=tap -n mode=tap -n mode=tap -n mode=tap --rng --balloon --console virtio \
		--vsock 3 -p "quiet -- sh /tests/devices-max.sh"
	expect_rc 0
	expect_console '^devices-max: done$'
	[ "$(count_console '^virtio-dev: ')" = 24 ] ||
		fail "the guest found $(count_console '^virtio-dev: ') virtio devices, expected 24"
	expect_no_console '^virtio-dev: .* none$'
	for _want in "0x0001 virtio_net 4" "0x0002 virtio_blk 8" "0x0003 virtio_console 1" \
		"0x0004 virtio_rng 1" "0x0005 virtio_balloon 1" "0x0009 9pnet_virtio 8" \
		"0x0013 vmw_vsock_virtio_transport 1"; do
		set -- $_want
		[ "$(count_console "^virtio-dev: $1 $2\$")" = "$3" ] ||
			fail "$(count_console "^virtio-dev: $1 $2\$") devices $1 with $2, expected $3"
	done
	for _i in 0 1 2 3 4 5 6 7; do
		[ "$(count_console "^disk: vd[a-h] disk$_i\$")" = 1 ] || fail "no disk shows disk$_i"
		expect_console "^share: tag$_i marker$_i\$"
	done
	for _i in 0 1 2 3; do
		expect_console "^net: eth$_i 02:15:15:15:15:0$_i\$"
	done
	expect_console '^rng: .*virtio_rng'
}

run_test_both limits-max limits_max
# The same over virtio-pci with MSI-X through the ITS (t-its.sh): 24 devices, 57 vectors.
VT="--virtio-transport pci --irqchip gicv3-its"
run_test limits-max-its limits_max
VT=

# One more of any kind is refused before anything starts: a usage error, one line.
limits_one_more() {
	: >"$T/disk"
	_args=
	for _i in 0 1 2 3 4 5 6 7 8; do
		_args="$_args -d $T/disk"
	done
	lk_run 60 run -k "$LKVM_KERNEL" -i "$LKVM_INITRD" $_args -p "-- true"
	expect_rc 2
	expect_error "^lkvm: -d $T/disk: too many disks \(at most 8\)\$"
	_args=
	for _i in 0 1 2 3 4 5 6 7 8; do
		mkdir -p "$T/share$_i"	# shares may not overlap
		_args="$_args --9p $T/share$_i,tag$_i"
	done
	lk_run 60 run -k "$LKVM_KERNEL" -i "$LKVM_INITRD" $_args -p "-- true"
	expect_rc 2
	expect_error "^lkvm: --9p $T/share8,tag8: too many shared directories \(at most 8\)\$"
	lk_run 60 run -k "$LKVM_KERNEL" -i "$LKVM_INITRD" -n mode=tap -n mode=tap -n mode=tap \
		-n mode=tap -n mode=tap -p "-- true"
	expect_rc 2
	expect_error '^lkvm: -n mode=tap: too many network devices \(at most 4\)$'
}

run_test limits-one-more limits_one_more
