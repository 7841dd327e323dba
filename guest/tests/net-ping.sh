#!/bin/sh
# The guest's side of the net-ping test (tests/system/t-net.sh): eth0 on lkvm's tap, 10.0.2.15,
# talking to the test host at 10.0.2.1 on the tap's host side, which the test configures once
# lkvm has created the tap. Pings (small, then frames larger than one receive buffer), a TCP
# transfer each way, then pings again after a device reset; each step has its "net:" line.
ip addr add 10.0.2.15/24 dev eth0
ip link set eth0 up
echo "net: mac=$(cat /sys/class/net/eth0/address)"
ip link show eth0
# The host may not be configured yet: wait (at most 2 minutes) for its first answer.
i=0
until ping -c 1 -W 1 10.0.2.1 >/dev/null 2>&1; do
	i=$((i + 1))
	[ "$i" -lt 120 ] || { echo "net: the host never answered"; exit 1; }
done
echo "net: small pings"
ping -c 3 -W 10 10.0.2.1
ip link set eth0 mtu 9000
echo "net: jumbo pings"
ping -c 3 -s 8000 -W 10 10.0.2.1
# TCP both ways; a FIFO held open is a stdin that neither ends nor speaks, so nc does not
# half-close the connection before the other side is done.
mkfifo /tmp/hold
exec 3<>/tmp/hold
head -c 300000 /dev/urandom >/tmp/blob
echo "net: serving $(md5sum </tmp/blob | cut -d' ' -f1)"
nc -l -p 5000 </tmp/blob
echo "net: receiving"
nc -l -p 5001 <&3 >/tmp/got
echo "net: received $(md5sum </tmp/got | cut -d' ' -f1)"
# The driver lets go of the device and takes it again: a device reset, and the network is back.
dev=$(basename "$(readlink /sys/class/net/eth0/device)")
echo "$dev" >/sys/bus/virtio/drivers/virtio_net/unbind
echo "$dev" >/sys/bus/virtio/drivers/virtio_net/bind
ip addr add 10.0.2.15/24 dev eth0
ip link set eth0 up
echo "net: after a reset"
ping -c 3 -W 10 10.0.2.1
