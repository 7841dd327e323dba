#!/bin/sh
# Runs on ttyS0 while virtio-console sits on PCI (t-pci.sh): hvc0 output before and after Linux
# removes the device and rescans the bus (a reset, BAR sizing and assignment again), then a flood
# of lines through hvc0. Once hvc0 is back, all output goes there: the UART drains its buffer
# after echo returns, so a line written to ttyS0 just before could be cut by hvc0's output.
dev=/sys/bus/pci/devices/0000:00:00.0
echo "hvc0-before-remove" >/dev/hvc0
echo 1 >$dev/remove
[ -e $dev ] && echo "rescan: still there after remove"
echo 1 >/sys/bus/pci/rescan
for i in 1 2 3 4 5 6 7 8 9 10; do
	[ -e /dev/hvc0 ] && [ -e $dev/driver ] && break
	sleep 0.5
done
found="rescan: $(cat $dev/vendor) $(cat $dev/device) $(basename "$(readlink $dev/driver)")"
[ -e /dev/hvc0 ] || { echo "$found, but no /dev/hvc0"; exit 1; }
exec >/dev/hvc0
echo "$found"
grep virtio-pci-modern /proc/iomem | sed 's/^ */iomem: /'
echo "hvc0-after-rescan"
yes pci-flood-line | head -n 3000
echo "rescan: done"
