#!/bin/sh
# The guest's side of the virtio-blk tests (tests/system/t-blk.sh): sh /tests/blk.sh ACTION ARGS.
# Offsets and lengths are in 4K blocks. The pattern is what the host side makes too: the first
# 1M of `seq 1 200000`.
pattern() { seq 1 200000 | head -c 1048576; }
md5() { md5sum | cut -d' ' -f1; }

# One line per disk: what the guest's driver made of the device.
info() {
	for d in /sys/block/vd*; do
		echo "blk-info: ${d##*/} size=$(cat $d/size) serial=$(cat $d/serial) ro=$(cat $d/ro)" \
			"lbs=$(cat $d/queue/logical_block_size) discard=$(cat $d/queue/discard_max_bytes)"
	done
}

# DEV AT: the pattern at block AT; conv=fsync makes dd return only once the disk has it.
write() {
	pattern >/tmp/pattern
	dd if=/tmp/pattern of="$1" bs=4k seek="$2" conv=fsync 2>/tmp/dd.err
	echo "blk-write: rc=$?"
}

case $1 in
write)		# DEV AT
	info
	write "$2" "$3"
	;;
read)		# DEV AT: md5 of 1M from block AT
	info
	echo "blk-read: md5=$(dd if="$2" bs=4k skip="$3" count=256 2>/dev/null | md5)"
	;;
ro)		# DEV: writing must fail
	info
	dd if=/dev/zero of="$2" bs=4k count=16 conv=fsync 2>/tmp/dd.err
	echo "blk-ro: rc=$? $(tail -n 1 /tmp/dd.err)"
	;;
full|eio)	# DEV: 1M fsync'ed at block 0, then 4M more that the host has no room for (full)
		# or that its disk fails (eio)
	write "$2" 0
	dd if=/dev/zero of="$2" bs=4k seek=256 count=1024 conv=fsync 2>/tmp/dd.err
	echo "blk-$1: rc=$? $(tail -n 1 /tmp/dd.err)"
	echo "blk-read: md5=$(dd if="$2" bs=4k count=256 iflag=direct 2>/dev/null | md5)"
	;;
write-hold)	# DEV AT: write, say so, and wait to be killed
	write "$2" "$3"
	sleep 600
	;;
write-busy)	# DEV AT: write, say so, then write on (1M after AT) until killed
	write "$2" "$3"
	head -c 262144 /dev/urandom >/tmp/junk
	echo "blk-busy: writing"
	while :; do
		dd if=/tmp/junk of="$2" bs=4k seek=$(($3 + 256)) conv=fsync 2>/dev/null
	done
	;;
hold)		# keep the disk busy until killed
	info
	echo "blk-hold: ready"
	sleep 600
	;;
reboot)		# DEV: the first boot marks the disk and reboots, the second finds the mark
	if [ "$(dd if="$2" bs=8 count=1 2>/dev/null)" = lkvm-rb1 ]; then
		echo "blk-reboot: second boot"
	else
		printf lkvm-rb1 | dd of="$2" conv=fsync 2>/dev/null
		echo "blk-reboot: first boot"
		reboot -f
	fi
	;;
large)		# DEV: 16M of random data, written and read back 1M at a time, bypassing the
		# page cache (requests of many segments) and through it
	head -c 16777216 /dev/urandom >/tmp/r
	echo "blk-large: src=$(md5 </tmp/r)"
	dd if=/tmp/r of="$2" bs=1M oflag=direct 2>/dev/null || echo "blk-large: direct write failed"
	dd if=/tmp/r of="$2" bs=1M seek=16 conv=fsync 2>/dev/null || echo "blk-large: write failed"
	echo 3 >/proc/sys/vm/drop_caches
	echo "blk-large: direct=$(dd if="$2" bs=1M count=16 iflag=direct 2>/dev/null | md5)"
	echo "blk-large: cached=$(dd if="$2" bs=64k skip=256 count=256 2>/dev/null | md5)"
	;;
mkroot)		# DEV: an ext2 root file system on DEV, a copy of this initramfs and a marker
	mke2fs "$2" >/tmp/mkfs.out 2>&1 || { echo "blk-mkroot: mke2fs: $(tail -n 1 /tmp/mkfs.out)"; exit; }
	mkdir -p /mnt && mount -t ext2 "$2" /mnt || exit
	for d in /*; do
		case $d in
		/proc | /sys | /dev | /tmp | /mnt) mkdir -p "/mnt$d" ;;
		*) cp -a "$d" /mnt/ ;;
		esac
	done
	echo made-by-mkroot >/mnt/root-marker
	umount /mnt
	echo "blk-mkroot: rc=$?"
	;;
discard)	# DEV AT LEN
	info
	blkdiscard -o $(($3 * 4096)) -l $(($4 * 4096)) "$2"
	echo "blk-discard: rc=$?"
	;;
esac
