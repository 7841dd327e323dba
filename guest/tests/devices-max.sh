#!/bin/sh
# The guest's side of the devices-max test (tests/system/t-limits.sh): every virtio device of the
# largest configuration lkvm accepts, as Linux sees it. A line per device with its ID and driver,
# then what each disk starts with, what each share holds, the network interfaces, the hwrng.
for d in /sys/bus/virtio/devices/*; do
	drv=none
	[ ! -e "$d/driver" ] || drv=$(basename "$(readlink "$d/driver")")
	echo "virtio-dev: $(cat "$d/device") $drv"
done
for b in /sys/block/vd*; do
	echo "disk: ${b##*/} $(head -c 5 "/dev/${b##*/}")"
done
for f in /sys/bus/virtio/drivers/9pnet_virtio/virtio*/mount_tag; do
	tag=$(tr -d '\0' <"$f")
	mkdir -p "/mnt/$tag"
	mount -t 9p -o trans=virtio,version=9p2000.L "$tag" "/mnt/$tag" &&
		echo "share: $tag $(cat "/mnt/$tag/marker")"
done
for n in /sys/class/net/eth*; do
	echo "net: ${n##*/} $(cat "$n/address")"
done
echo "rng: $(cat /sys/class/misc/hw_random/rng_available)"
echo "devices-max: done"
