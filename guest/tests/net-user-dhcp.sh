#!/bin/sh
# udhcpc's script for the net-user tests (busybox has none of its own here): on a lease, puts
# the address, the default route and the resolver in place and says what it got.
case "$1" in
bound | renew)
	ip addr flush dev "$interface"
	ip addr add "$ip/$mask" dev "$interface"
	ip route add default via "$router" dev "$interface"
	echo "nameserver $dns" >/etc/resolv.conf
	echo "dhcp: ip=$ip mask=$mask router=$router dns=$dns"
	;;
deconfig)
	ip addr flush dev "$interface"
	ip link set "$interface" up
	;;
esac
exit 0
