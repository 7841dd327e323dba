#!/bin/sh
# Runs on ttyS0 while virtio-console sits on PCI (t-ioevent.sh): with its driver bound and hvc0
# idle, turns BAR 0's memory decoding off and on, then moves BAR 0 away and back, through config
# space in sysfs, and sets INTx Disable for a while. hvc0 works after each, so its doorbell
# followed the BAR and its interrupt came back. Nothing may write to hvc0 while it does not
# decode (a lost doorbell hangs the writer): no kernel messages on the consoles either, and all
# output goes to hvc0 (one stream: no interleaving with ttyS0), once it decodes again.
cfg=/sys/bus/pci/devices/0000:00:00.0/config
echo 1 >/proc/sys/kernel/printk
# rd OFF LEN: LEN (2 or 4) bytes of config space at OFF, in hex.
rd() {
	printf '0x%x' $((0x$(dd if=$cfg bs=$2 skip=$(($1 / $2)) count=1 2>/dev/null |
		od -An -tx$2 | tr -d ' ')))
}
# wr OFF LEN VAL: one write of LEN bytes, little-endian.
wr() {
	_b=
	for _i in $(seq 0 $(($2 - 1))); do
		_b="$_b\\$(printf %03o $((($3 >> (8 * _i)) & 255)))"
	done
	printf "$_b" | dd of=$cfg bs=$2 seek=$(($1 / $2)) count=1 conv=notrunc 2>/dev/null
}
exec >/dev/hvc0
cmd=$(rd 4 2)
bar=$(rd 16 4)
echo "pci-move: command $cmd bar $bar"
sleep 0.5
wr 4 2 $((cmd & ~2))
off=$(rd 4 2)
wr 4 2 $cmd
echo "pci-move: decoding off: command $off"
echo "hvc0-after-decoding"
sleep 0.5
wr 16 4 $((bar + 0x100000))
moved=$(rd 16 4)
wr 16 4 $bar
echo "pci-move: bar moved to $moved"
echo "pci-move: bar back at $(rd 16 4)"
echo "hvc0-after-move"
# INTx Disable while hvc0 writes (its transmit polls): the interrupt waits, then comes.
wr 4 2 $((cmd | 0x400))
echo "hvc0-intx-disabled"
sleep 0.5
wr 4 2 $cmd
echo "pci-move: intx back: command $(rd 4 2)"
yes pci-move-line | head -n 1000
echo "pci-move: done"
