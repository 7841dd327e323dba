#!/bin/sh
# What the guest sees of lkvm's PCI bus (t-pci.sh): a line per device with its IDs, class and
# driver, the interrupts of virtio devices, the consoles; then a line typed on the console.
found=
for d in /sys/bus/pci/devices/*; do
	[ -e "$d" ] || continue
	found=1
	drv=none
	[ ! -e "$d/driver" ] || drv=$(basename "$(readlink "$d/driver")")
	echo "pci-dev: $(basename "$d") $(cat "$d/vendor") $(cat "$d/device") $(cat "$d/class") $drv"
done
[ -n "$found" ] || echo "pci-dev: none"
grep virtio /proc/interrupts | sed 's/^ */irq: /'
cat /proc/consoles
echo "pci-test: reading"
read -r l
echo "got=$l"
