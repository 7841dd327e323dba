#!/bin/sh
# The guest's side of the net-user tests (tests/system/t-net-user.sh): eth0 on lkvm's user
# network gets its address by DHCP (udhcpc, configured by net-user-dhcp.sh), then fetches URL
# over HTTP from the test host through the network's gateway, and with NAME, looks NAME up through
# the DNS address DHCP gave. Each step has its "net-user:" line.
# Usage: net-user.sh URL [NAME]
mkdir -p /etc
ip link set eth0 up
udhcpc -i eth0 -s /tests/net-user-dhcp.sh -f -q -n -t 5 -T 3 ||
	{ echo "net-user: no DHCP lease"; exit 1; }
echo "net-user: route $(ip route show default)"
echo "net-user: resolver $(cat /etc/resolv.conf)"
# (No -T: busybox 1.35's wget crashes with it.)
wget -q -O /tmp/fetched "$1" || { echo "net-user: wget $1 failed"; exit 1; }
echo "net-user: fetched $(md5sum </tmp/fetched | cut -d' ' -f1)"
[ -n "${2:-}" ] || exit 0
nslookup "$2" >/tmp/dns 2>&1 || { cat /tmp/dns; echo "net-user: nslookup $2 failed"; exit 1; }
sed -n 's/^Address: */net-user: resolved /p' /tmp/dns
