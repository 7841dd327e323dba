#!/bin/sh
# The guest's side of tests/system/t-its.sh: virtio-pci devices behind the GICv3 ITS. Uses each
# device (the disk, the 9p share, the tap, the hwrng, the console it prints on), and prints per
# virtio device its ID and how many interrupts reached it before and after, through the ITS
# (MSI) and through INTx (the GIC's level-triggered SPIs).
# msis KIND: "virtioN COUNT" per device, COUNT the interrupts on its /proc/interrupts lines of
# KIND (ITS: chips named ITS-...MSI...; INTX: GICv3 Level lines).
counts() {
	awk -v kind="$1" '/virtio/ {
		its = $0 ~ /ITS-[A-Za-z-]*MSI/; intx = $0 ~ /GICv3 .* Level /
		if ((kind == "ITS" && !its) || (kind == "INTX" && !intx)) next
		s = 0
		for (i = 2; i <= NF && $i ~ /^[0-9]+$/; i++) s += $i
		dev = $NF; sub(/-.*/, "", dev); t[dev] += s
	} END { for (d in t) print d, t[d] }' /proc/interrupts
}
its=/proc/device-tree/intc@8000000/msi-controller@c020000
echo "its: dt $(cat $its/compatible) msi-cells $(od -An -tx1 $its/#msi-cells | tr -d ' ')"
counts ITS >/tmp/its-before
counts INTX >/tmp/intx-before
echo "its: disk $(head -c 4 /dev/vda)"
head -c 2000000 /dev/vda | md5sum >/dev/null
mkdir -p /mnt/share
mount -t 9p -o trans=virtio,version=9p2000.L share /mnt/share && echo "its: share $(cat /mnt/share/marker)"
ip link set eth0 up
ip addr add 10.0.2.15/24 dev eth0
ping -c 3 -W 1 10.0.2.1 >/dev/null 2>&1
echo virtio_rng.0 >/sys/class/misc/hw_random/rng_current
echo "its: rng $(head -c 32 /dev/hwrng | wc -c)"
i=0
while [ "$i" -lt 200 ]; do echo "its: console line $i"; i=$((i + 1)); done
counts ITS >/tmp/its-after
counts INTX >/tmp/intx-after
for d in /sys/bus/virtio/devices/virtio*; do
	n=${d##*/}
	b=$(awk -v n="$n" '$1 == n { print $2 }' /tmp/its-before)
	a=$(awk -v n="$n" '$1 == n { print $2 }' /tmp/its-after)
	ib=$(awk -v n="$n" '$1 == n { print $2 }' /tmp/intx-before)
	ia=$(awk -v n="$n" '$1 == n { print $2 }' /tmp/intx-after)
	echo "its-dev: $n $(cat "$d/device") msi ${b:-0} ${a:-0} intx ${ib:-0} ${ia:-0}"
done
grep -E 'ITS|virtio' /proc/interrupts | sed 's/^ */irq: /'
echo "its: done"
