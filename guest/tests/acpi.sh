#!/bin/sh
# The guest's side of tests/system/t-acpi.sh: what Linux made of lkvm's ACPI tables.
case $1 in
tables)		# each table Linux read, with its md5, to compare with --dump-acpi's files
	for f in /sys/firmware/acpi/tables/*; do
		[ -f "$f" ] && echo "acpi-table: ${f##*/} $(md5sum <"$f" | cut -d' ' -f1)"
	done
	;;
cpus)		# the CPUs online, and the processor devices ACPI found
	echo "acpi-cpus: online=$(cat /sys/devices/system/cpu/online)"
	for d in /sys/bus/acpi/devices/ACPI0007:*; do
		[ -e "$d" ] && echo "acpi-processor: ${d##*/} uid=$(cat "$d/uid") status=$(cat "$d/status")"
	done
	;;
devices)	# each virtio device's driver and interrupt; then disk, 9p share and rng at work
	for d in /sys/bus/virtio/devices/*; do
		[ -e "$d" ] || continue
		drv=$(readlink "$d/driver")
		echo "acpi-virtio: device=$(cat "$d/device") driver=${drv##*/}"
	done
	grep -E 'virtio|ttyS0' /proc/interrupts | sed 's/^/acpi-irq: /'
	sh /tests/blk.sh read /dev/vda 0
	mkdir -p /share && mount -t 9p -o trans=virtio share /share && echo "acpi-9p: $(cat /share/file)"
	sh /tests/rng-hwrng.sh
	;;
esac
