# virtio-net on the user-mode network (-n mode=user, libslirp): the guest gets its address by
# DHCP and fetches a file over HTTP from a server on the test host's loopback, which it reaches
# through the network's gateway (host_ip). No tap, no privilege; nothing leaves the test host.
NU_PORT=8080

# nu_serve: an HTTP server on the test host's 127.0.0.1:$NU_PORT serving $T/www, whose blob is
# 300000 random bytes; its pid in nu_httpd.
nu_serve() {
	ip link set lo up 2>/dev/null
	mkdir -p "$T/www"
	head -c 300000 /dev/urandom >"$T/www/blob"
	chmod -R a+rX "$T/www"
	httpd -f -p "127.0.0.1:$NU_PORT" -h "$T/www" &
	nu_httpd=$!
	sleep 0.5
	kill -0 "$nu_httpd" 2>/dev/null || fail "httpd did not start on 127.0.0.1:$NU_PORT"
}

nu_stop() {
	kill "$nu_httpd" 2>/dev/null
	wait "$nu_httpd" 2>/dev/null
}

# nu_expect_fetch IP MASK ROUTER DNS: the guest's lease, and the blob arrived whole.
nu_expect_fetch() {
	expect_console "^dhcp: ip=$1 mask=$2 router=$3 dns=$4\$"
	expect_console "^net-user: route default via $3 dev eth0"
	expect_console "^net-user: resolver nameserver $4\$"
	expect_console "^net-user: fetched $(md5sum <"$T/www/blob" | cut -d' ' -f1)\$"
}

# kvmtool's defaults: 192.168.33.0/24, the guest .15, the host .1 (libslirp's DNS address .2).
net_user() {
	nu_serve
	lk_run 900 run -k "$LKVM_KERNEL" -i "$LKVM_INITRD" -c 1 -m 256M --loglevel info $VT \
		-n mode=user -p "quiet -- sh /tests/net-user.sh http://192.168.33.1:$NU_PORT/blob"
	nu_stop
	expect_rc 0
	grep -q "virtio-net: eth0 is on the user network, guest 192.168.33.15, host 192.168.33.1, guest MAC 02:15:15:15:15:00\$" \
		"$T/stderr" || fail "lkvm did not log the user network"
	nu_expect_fetch 192.168.33.15 24 192.168.33.1 192.168.33.2
}

# As a user with no privilege but access to /dev/kvm: the user network works with addresses of
# its own (guest_ip, host_ip, guest_mac), DNS included, where a tap is refused for want of the
# privilege. (DNS is tested here, where the test may own the host's /etc/resolv.conf.)
net_user_nonroot() {
	nonroot_setup
	trap 'kill $_dns 2>/dev/null; nonroot_undo' EXIT
	# DNS: the host's resolver is a responder on its loopback that answers 10.9.8.7 to all.
	echo "nameserver 127.0.0.1" >/etc/resolv.conf
	ip link set lo up 2>/dev/null
	dnsanswer 10.9.8.7 >"$T/dns.log" 2>&1 &
	_dns=$!
	sleep 0.5
	grep -q '^dnsanswer: listening$' "$T/dns.log" || fail "dnsanswer: $(cat "$T/dns.log")"
	nu_serve
	# lkvm's control socket goes in a directory of that user's.
	LKVM=$LKVM_4242
	lk_run 900 run -k "$LKVM_KERNEL" -i "$LKVM_INITRD" -c 1 -m 256M \
		-n mode=user,guest_ip=10.0.7.20,host_ip=10.0.7.2,guest_mac=02:00:00:00:07:20 \
		-p "quiet -- cat /sys/class/net/eth0/address; sh /tests/net-user.sh http://10.0.7.2:$NU_PORT/blob lkvm.test"
	nu_stop
	expect_rc 0
	expect_console '^02:00:00:00:07:20$'
	nu_expect_fetch 10.0.7.20 24 10.0.7.2 10.0.7.3
	# The guest asked 10.0.7.3, which forwarded to the host's resolver.
	expect_console '^net-user: resolved 10.9.8.7$'
	grep -q '^dnsanswer: lkvm.test$' "$T/dns.log" || fail "the host's resolver was not asked"
	[ -c /dev/net/tun ] || return 0
	lk_run 120 run -k "$LKVM_KERNEL" -i "$LKVM_INITRD" -c 1 \
		-m 128M -n mode=tap -p "-- true"
	expect_rc 1
	expect_error '^lkvm: -n mode=tap: cannot (create the tap device: Operation not permitted|open /dev/net/tun: Permission denied)$'
}

# Bad -n mode=user fields: one line, and exit code 2, before any VM.
net_user_usage() {
	for _bad in "mode=user,guest_ip=192.168.33.300" "mode=user,host_ip=10.0.0.1" \
		"mode=user,tapif=tap0" "mode=user,guest_ip=192.168.33.1" "mode=user,dns=1.1.1.1"; do
		lk_run 60 run -k "$LKVM_KERNEL" -i "$LKVM_INITRD" -n "$_bad" -p "-- true"
		expect_rc 2
		expect_error "^lkvm: -n $_bad: "
	done
	lk_run 60 run -k "$LKVM_KERNEL" -i "$LKVM_INITRD" -n mode=user -n mode=user -p "-- true"
	expect_rc 2
	expect_error '^lkvm: -n mode=user: only one mode=user network device'
}

# kvmtool's rootfs mode: a guest whose root is -d DIR over 9p boots with ip=dhcp on the user
# network; --no-dhcp leaves it out, and so does a boot from an initrd.
net_user_no_dhcp() {
	mkdir -p "$T/root"
	(cd "$T/root" && gzip -dc "$LKVM_INITRD" | cpio -id 2>/dev/null)
	[ -x "$T/root/init" ] || fail "could not unpack $LKVM_INITRD"
	lk_run 900 run -k "$LKVM_KERNEL" -c 1 -m 256M -d "$T/root" -n mode=user \
		-p "init=/init -- cat /proc/cmdline"
	expect_rc 0
	expect_console '^console=ttyS0 earlycon root=/dev/root .* ip=dhcp init=/init -- cat /proc/cmdline$'
	# --no-dhcp: not in the guest's command line, nor in the DTB's bootargs it came from.
	lk_run 900 run -k "$LKVM_KERNEL" -c 1 -m 256M -d "$T/root" -n mode=user --no-dhcp \
		--dump-dtb "$T/no-dhcp.dtb" -p "init=/init -- cat /proc/cmdline"
	expect_rc 0
	expect_console '^console=ttyS0 earlycon root=/dev/root .* rw init=/init -- cat /proc/cmdline$'
	expect_no_console 'ip=dhcp'
	grep -q 'root=/dev/root' "$T/no-dhcp.dtb" || fail "no 9p root in the DTB's bootargs"
	! grep -q 'ip=dhcp' "$T/no-dhcp.dtb" || fail "--no-dhcp: ip=dhcp is in the DTB's bootargs"
	# An initrd is no 9p root: no ip=dhcp either.
	lk_run 900 run -k "$LKVM_KERNEL" -i "$LKVM_INITRD" -c 1 -m 256M -n mode=user \
		-p "-- cat /proc/cmdline"
	expect_rc 0
	expect_console '^console=ttyS0 earlycon -- cat /proc/cmdline$'
}

run_test_both net-user net_user
run_test net-user-nonroot net_user_nonroot
run_test net-user-usage net_user_usage
run_test net-user-no-dhcp net_user_no_dhcp
