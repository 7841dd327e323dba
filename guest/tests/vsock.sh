#!/bin/sh
# The guest's side of tests/system/t-vsock.sh (virtio-vsock):
#   vsock.sh          an echo server on port 1234 for the test host to connect to, and a
#                     connection to the host (CID 2) on port 5678; then the driver lets go of
#                     the device and takes it again (a device reset), and the same once more
#   vsock.sh reboot   one exchange, then reboots unless the console says "off" within 10 seconds
#   vsock.sh hold     waits for a console line: the VM holds its CID meanwhile
#   vsock.sh storm N  N exchanges in a row, each after a line "vsock-guest: round I" (but the
#                     first, after the device line), until one fails
if [ "$1" = hold ]; then
	echo "vsock-guest: holding"
	read -r line
	exit 0
fi
drv=/sys/bus/virtio/drivers/vmw_vsock_virtio_transport
dev=$(basename "$(echo "$drv"/virtio*)")
echo "vsock-guest: device $(cat "$drv/$dev/device")"
exchange() {
	vsock listen 1234 &
	srv=$!
	vsock connect 2 5678 hello-from-guest
	crc=$?
	echo "vsock-guest: connect rc=$crc"
	wait $srv
	lrc=$?
	echo "vsock-guest: listen rc=$lrc"
	[ "$crc" = 0 ] && [ "$lrc" = 0 ]
}
if [ "$1" = storm ]; then
	for i in $(seq "$2"); do
		[ "$i" = 1 ] || echo "vsock-guest: round $i"
		exchange || break
	done
	exit 0
fi
exchange
if [ "$1" != reboot ]; then
	echo "$dev" >"$drv/unbind" && echo "$dev" >"$drv/bind" &&
		echo "vsock-guest: rebound $(cat "$drv/$dev/device")"
	exchange
	exit 0
fi
echo "vsock-guest: waiting"
if read -r -t 10 line && [ "$line" = off ]; then
	poweroff -f
fi
reboot -f
