#!/bin/sh
# virtio-balloon seen from a Linux guest booted with --balloon (tests/system/t-balloon.sh drives
# it: it answers each "balloon: waiting" line with a newline after changing the balloon's target
# with `lkvm balloon`). Without DEFLATE_ON_OOM the balloon comes out of MemTotal.
mt() { awk '/^MemTotal:/ { print $2 }' /proc/meminfo; }

# settle FROM: waits (at most 90s) until MemTotal is at least 60M away from FROM kB and stays put
# for a second; prints it.
settle() {
	_last=$(mt) _i=0
	while [ "$_i" -lt 180 ]; do
		sleep 0.5
		_now=$(mt)
		_d=$((_now > $1 ? _now - $1 : $1 - _now))
		[ "$_d" -ge 61440 ] && [ "$_now" = "$_last" ] && break
		_last=$_now _i=$((_i + 1))
	done
	echo "$_now"
}

# Touch memory and free it again: the balloon then takes pages the host has really allocated,
# and the host test sees lkvm's RSS shrink.
dd if=/dev/zero of=/tmp/fill bs=1M count=128 2>/dev/null
rm -f /tmp/fill
before=$(mt)
echo "balloon: memtotal=$before"
[ -d /sys/bus/virtio/drivers/virtio_balloon ] && echo "balloon: driver present"
echo "balloon: waiting for inflate"
read -r _
inflated=$(settle "$before")
echo "balloon: inflated memtotal=$inflated"
echo "balloon: waiting for deflate"
read -r _
# From the inflated size, not a fresh reading: the host deflates before it answers.
echo "balloon: deflated memtotal=$(settle "$inflated")"
