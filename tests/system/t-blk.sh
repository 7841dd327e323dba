# virtio-blk (-d FILE[,ro][,direct]): Linux guests write and read raw images, a read-only disk
# refuses writes, what the guest fsync'ed survives a SIGKILL of lkvm, discard punches holes, an
# image in use by another lkvm is refused, a full host file system or a failing host disk is the
# guest's I/O error and nothing more. guest/tests/blk.sh is the guest's side; offsets there
# and here are in 4K blocks.

blk_pattern() { seq 1 200000 | head -c 1048576; }
blk_md5() { md5sum | cut -d' ' -f1; }
# blk_region IMG AT: the md5 of 1M of IMG from block AT.
blk_region() { dd if="$1" bs=4k skip="$2" count=256 2>/dev/null | blk_md5; }
# blk_image MB [pattern]: $T/disk.img, zeroes or the pattern all through.
blk_image() {
	if [ "${2:-}" = pattern ]; then
		for _i in $(seq "$1"); do blk_pattern; done >"$T/disk.img"
	else
		dd if=/dev/zero of="$T/disk.img" bs=1M count="$1" 2>/dev/null
	fi
}
blk_expect_region() { # AT MD5 WHAT
	[ "$(blk_region "$T/disk.img" "$1")" = "$2" ] || fail "image at block $1: $3"
}
blk_zero=$(head -c 1048576 /dev/zero | blk_md5)
blk_pat=$(blk_pattern | blk_md5)

blk_run() { # DISK_ARGS GUEST_ACTION...
	_disks=$1
	shift
	# shellcheck disable=SC2086 # the disk arguments are words
	lk_run 300 run -k "$LKVM_KERNEL" -i "$LKVM_INITRD" -c 1 -m 256M $VT $_disks \
		-p "-- sh /tests/blk.sh $*"
}

# The guest writes 1M at 1M: exactly there, with the image's size and the rest unchanged.
blk_write() { # [,OPTIONS]
	blk_image 4
	blk_run "-d $T/disk.img${1:-}" write /dev/vda 256
	expect_rc 0
	expect_console '^blk-info: vda size=8192 serial=disk.img ro=0 '
	expect_console '^blk-write: rc=0$'
	blk_expect_region 256 "$blk_pat" "not the pattern the guest wrote"
	blk_expect_region 0 "$blk_zero" "changed, the guest wrote elsewhere"
	blk_expect_region 512 "$blk_zero" "changed, the guest wrote elsewhere"
	[ "$(stat -c %s "$T/disk.img")" = 4194304 ] || fail "the image's size changed"
}

# Two disks, in order; the guest reads what the host wrote on the second.
blk_read() {
	dd if=/dev/zero of="$T/empty.img" bs=1M count=1 2>/dev/null
	blk_image 4
	blk_pattern >"$T/pattern"
	dd if="$T/pattern" of="$T/disk.img" bs=4k seek=512 conv=notrunc 2>/dev/null
	blk_run "-d $T/empty.img -d $T/disk.img" read /dev/vdb 512
	expect_rc 0
	expect_console '^blk-info: vda size=2048 serial=empty.img ro=0 '
	expect_console '^blk-info: vdb size=8192 serial=disk.img ro=0 '
	expect_console "^blk-read: md5=$blk_pat$"
}

blk_ro() {
	blk_image 2 pattern
	_before=$(blk_md5 <"$T/disk.img")
	blk_run "-d $T/disk.img,ro" ro /dev/vda
	expect_rc 0
	expect_console '^blk-info: vda size=4096 serial=disk.img ro=1 lbs=512 discard=0$'
	expect_console '^blk-ro: rc=[1-9]'
	[ "$(blk_md5 <"$T/disk.img")" = "$_before" ] || fail "the read-only image changed"
}

# lkvm is killed as soon as the guest says its dd conv=fsync returned: the data is there.
blk_fsync_kill() {
	blk_image 4
	lk_run_signal 300 KILL '^blk-write: rc=' 1 run -k "$LKVM_KERNEL" -i "$LKVM_INITRD" -c 1 \
		-m 256M -d "$T/disk.img" -p "-- sh /tests/blk.sh write-hold /dev/vda 256"
	expect_rc 137
	expect_console '^blk-write: rc=0$'
	blk_expect_region 256 "$blk_pat" "not what the guest had fsync'ed before lkvm was killed"
}

# SIGKILL while the guest writes as fast as it can, LKVM_TEST_KILL_LOOPS times (make kill-loop:
# 20): what it fsync'ed before is on the disk every time, and the disk opens again (its lock died
# with lkvm).
blk_kill_writes() {
	blk_image 4
	_i=0
	while [ "$_i" -lt "${LKVM_TEST_KILL_LOOPS:-1}" ]; do
		_i=$((_i + 1))
		lk_run_signal 300 KILL '^blk-busy: writing' 1 run -k "$LKVM_KERNEL" -i "$LKVM_INITRD" \
			-c 1 -m 256M $VT -d "$T/disk.img" -p "-- sh /tests/blk.sh write-busy /dev/vda $_i"
		expect_rc 137
		expect_console '^blk-write: rc=0$'
		blk_expect_region "$_i" "$blk_pat" "run $_i: not what the guest had fsync'ed before lkvm was killed"
	done
}

# Large requests, bypassing the guest's page cache and through it: the bytes are the guest's.
blk_large() { # [,OPTIONS]
	blk_image 32
	blk_run "-d $T/disk.img${1:-}" large /dev/vda
	expect_rc 0
	_src=$(sed -n 's/^blk-large: src=//p' "$T/console")
	[ -n "$_src" ] || fail "the guest did not say what it wrote"
	expect_no_console 'failed'
	expect_console "^blk-large: direct=$_src$"
	expect_console "^blk-large: cached=$_src$"
	[ "$(dd if="$T/disk.img" bs=1M count=16 2>/dev/null | blk_md5)" = "$_src" ] ||
		fail "the image's first 16M are not what the guest wrote with O_DIRECT"
	[ "$(dd if="$T/disk.img" bs=1M skip=16 count=16 2>/dev/null | blk_md5)" = "$_src" ] ||
		fail "the image's second 16M are not what the guest wrote"
}

blk_discard() {
	blk_image 4 pattern
	_blocks=$(stat -c %b "$T/disk.img")
	blk_run "-d $T/disk.img" discard /dev/vda 256 256
	expect_rc 0
	expect_console '^blk-info: vda size=8192 serial=disk.img ro=0 lbs=512 discard=[1-9]'
	expect_console '^blk-discard: rc=0$'
	blk_expect_region 256 "$blk_zero" "the discarded range does not read as zeroes"
	blk_expect_region 0 "$blk_pat" "changed outside the discarded range"
	blk_expect_region 512 "$blk_pat" "changed outside the discarded range"
	[ "$(stat -c %b "$T/disk.img")" -lt "$_blocks" ] || fail "no hole was punched"
}

# A guest reboot makes a new VM: the disk is closed, unlocked, and opened again.
blk_reboot() {
	blk_image 1
	blk_run "-d $T/disk.img" reboot /dev/vda
	expect_rc 0
	[ "$(count_console '^Booting Linux')" = 2 ] || fail "the guest booted $(count_console '^Booting Linux') times, expected 2"
	expect_console '^blk-reboot: first boot$'
	expect_console '^blk-reboot: second boot$'
}

# A second lkvm on an image the first one has open fails at once, for writing or reading.
blk_locked() {
	blk_image 4
	echo "lkvm run ... -d $T/disk.img (in the background)" >>"$T/commands"
	timeout -s KILL 300 "$LKVM" run -k "$LKVM_KERNEL" -i "$LKVM_INITRD" -c 1 -m 256M \
		-d "$T/disk.img" -p "-- sh /tests/blk.sh hold" </dev/null >"$T/first" 2>&1 &
	_first=$!
	trap 'kill -KILL $_first 2>/dev/null' EXIT
	_i=0
	until grep -q '^blk-hold: ready' "$T/first"; do
		kill -0 "$_first" 2>/dev/null || fail "the first lkvm exited: $(tail -n 3 "$T/first")"
		_i=$((_i + 1))
		[ "$_i" -lt 1200 ] || fail "the first lkvm's guest did not come up"
		sleep 0.25
	done
	for _opt in "" ,ro; do
		lk_run 60 run -k "$LKVM_KERNEL" -i "$LKVM_INITRD" -c 1 -m 256M -d "$T/disk.img$_opt" \
			-p "-- true"
		expect_rc 1
		expect_error 'in use by another process \(locked\)'
		grep -qxF "lkvm: $T/disk.img: in use by another process (locked)" "$T/stderr" ||
			fail "stderr: $(cat "$T/stderr")"
		expect_no_console 'Booting Linux'
	done
	kill -0 "$_first" 2>/dev/null || fail "the first lkvm did not survive"
	kill -KILL "$_first"
	wait "$_first" 2>/dev/null || true	# 137: killed
}

# -d FILE without an initrd: the guest's root is the disk (root=/dev/vda rw), as with kvmtool. A
# first boot puts an ext2 file system with a copy of the initramfs on it.
blk_root() {
	blk_image 32
	blk_run "-d $T/disk.img" mkroot /dev/vda
	expect_rc 0
	expect_console '^blk-mkroot: rc=0$'
	lk_run 300 run -k "$LKVM_KERNEL" -c 1 -m 256M -d "$T/disk.img" \
		-p "init=/init -- grep /dev/root /proc/mounts; cat /root-marker; touch /new && echo wrote"
	expect_rc 0
	expect_console '^/dev/root / ext2 rw'
	expect_console '^made-by-mkroot$'
	expect_console '^wrote$'
}

blk_missing() {
	lk_run 60 run -k "$LKVM_KERNEL" -i "$LKVM_INITRD" -c 1 -m 256M -d "$T/missing.img" \
		-p "-- true"
	expect_rc 2
	expect_error 'missing\.img.*(no such|not found)'
	expect_no_console 'Booting Linux'
}

# blk_expect_fault ACTION ERROR WHAT: the end of a host fault under guest/tests/blk.sh ACTION
# (now in $T/disk.img): the guest ran to its end, its fsync'ed 1M went through and is intact,
# its later writes failed with an I/O error, and lkvm said ERROR about WHAT once.
blk_expect_fault() {
	expect_rc 0
	expect_console '^blk-write: rc=0$'
	expect_console "^blk-$1: rc=1 .*Input/output error"
	expect_console "^blk-read: md5=$blk_pat$"
	blk_expect_region 0 "$blk_pat" "the fsync'ed 1M is not intact"
	[ "$(grep -c "$2" "$T/stderr")" = 1 ] || fail "lkvm did not warn once about $3"
}

# The host's file system fills up under the guest's writes: the guest gets I/O errors, lkvm
# warns once and runs on, and what the guest fsync'ed before is on the host, intact.
blk_full() {
	mkdir "$T/full"
	mount -t tmpfs -o size=2M lkvm-full "$T/full" || fail "cannot mount a 2M tmpfs"
	truncate -s 8M "$T/full/disk.img"
	blk_run "-d $T/full/disk.img" full /dev/vda
	cp "$T/full/disk.img" "$T/disk.img" 2>/dev/null
	umount "$T/full"
	blk_expect_fault full 'No space left on device' "the full file system"
}

# The host's disk fails under the guest's writes: lkvm's disk is a device-mapper device whose
# first 1M is a loop device's file and the rest dm's error target (guest/tools/dmtable). The guest
# gets I/O errors, lkvm warns once and runs on, and the fsync'ed 1M is in the file, intact.
blk_eio() {
	truncate -s 8M "$T/back.img"
	_loop=$(losetup -f) && losetup "$_loop" "$T/back.img" || fail "no loop device"
	_dm=$(dmtable create "lkvm-eio-$$" "0 2048 linear $_loop 0" "2048 14336 error") ||
		{ losetup -d "$_loop"; fail "cannot make the device-mapper device"; }
	blk_run "-d /dev/$_dm" eio /dev/vda
	dmtable remove "lkvm-eio-$$"
	losetup -d "$_loop"
	mv "$T/back.img" "$T/disk.img"
	blk_expect_fault eio 'Input/output error' "the failing disk"
}

run_test_both blk-write blk_write
run_test blk-write-direct blk_write ,direct
run_test_both blk-read blk_read
run_test_both blk-ro blk_ro
run_test_both blk-fsync-kill blk_fsync_kill
run_test_both blk-kill-writes blk_kill_writes
run_test blk-large blk_large
run_test_both blk-large-direct blk_large ,direct
run_test_both blk-discard blk_discard
run_test blk-reboot blk_reboot
run_test blk-locked blk_locked
run_test blk-root blk_root
run_test blk-missing blk_missing
run_test_both blk-full blk_full
run_test_both blk-eio blk_eio
