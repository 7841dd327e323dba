#!/bin/sh
# The guest's side of tests/system/t-acpi.sh: what Linux made of lkvm's ACPI tables.
case $1 in
tables)		# each table Linux read, with its md5, to compare with --dump-acpi's
	for f in /sys/firmware/acpi/tables/*; do
		[ -f "$f" ] && echo "acpi-table: ${f##*/} $(md5sum <"$f" | cut -d' ' -f1)"
	done
	;;
devices)	# each virtio device, its driver and its interrupt
	for d in /sys/bus/virtio/devices/*; do
		[ -e "$d" ] || continue
		drv=$(readlink "$d/driver")
		echo "acpi-virtio: ${d##*/} device=$(cat "$d/device") driver=${drv##*/}"
	done
	grep -E 'virtio|ttyS0' /proc/interrupts | sed 's/^/acpi-irq: /'
	;;
cpus)		# how many CPUs are online, and which processor devices ACPI has
	echo "acpi-cpus: online=$(cat /sys/devices/system/cpu/online)"
	for d in /sys/bus/acpi/devices/ACPI0007:*; do
		echo "acpi-processor: ${d##*/} uid=$(cat "$d/uid") status=$(cat "$d/status")"
	done
	;;
esac
