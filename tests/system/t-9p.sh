# virtio-9p: a Linux guest mounts a host directory (--9p DIR,TAG) and works in it (the guest half
# is guest/tests/9p-ops.sh), finds no way out of it, and boots from one (-d DIR, no initrd).

# The share: a file, a large file, and symlinks pointing out of it; a marker file outside.
p9_prepare() {
	mkdir -p "$T/share"
	echo host-secret-marker >"$T/outside-marker"
	echo from-the-host >"$T/share/hostfile"
	echo from-the-host >"$T/share/hostsuid"
	chmod 4755 "$T/share/hostsuid"
	chmod 750 "$T/share"
	ln -s / "$T/share/hostroot"
	ln -s ../.. "$T/share/up"
	ln -s ../outside-marker "$T/share/marker-link"
	ln -s "$T/outside-marker" "$T/share/marker-abs"
	dd if=/dev/urandom of="$T/share/hostbig" bs=1M count=4 2>/dev/null
}

# md5 NAME: the checksum the guest printed for NAME.
p9_guest_md5() {
	sed -n "s/^9p-md5 $1 \([0-9a-f]*\)$/\1/p" "$T/console" | head -n 1
}

p9_ops() {
	p9_prepare
	mkdir -p "$T/share2"
	echo second >"$T/share2/file2"
	lk_run 900 run -k "$LKVM_KERNEL" -i "$LKVM_INITRD" -c 2 -m 256M $VT --9p "$T/share,share" \
		--9p "$T/share2,second" -p "-- sh /tests/9p-ops.sh $T/outside-marker"
	expect_rc 0
	expect_console '^9p: mounted$'
	expect_console '^9p: done$'
	expect_no_console '^9p-FAIL'
	expect_no_console 'host-secret-marker'
	for c in read create write mkdir rename rename-dirs unlink rmdir symlink link chmod truncate \
		setuid-chmod setuid-create setgid-mkdir setuid-write root-chmod-refused readdir df \
		mknod-dev mkfifo dotdot-stays-in-guest symlink-to-root-is-guest-root no-marker \
		second-share; do
		expect_console "^9p-ok: $c$"
	done
	# What the guest did, seen from the host.
	[ "$(cat "$T/share/created")" = "$(printf 'heXYo-from-guest\nmore')" ] || fail "created: wrong content"
	[ "$(readlink "$T/share/guestlink")" = created ] || fail "guestlink: not a symlink to created"
	[ "$(cat "$T/share/moved-up")" = x ] || fail "moved-up: missing after the renames"
	[ ! -e "$T/share/todelete" ] && [ ! -e "$T/share/newdir" ] || fail "removed files are still there"
	[ ! -e "$T/share/devnull" ] || fail "the guest made a device node"
	for f in guestsuid copiedsuid sgiddir hostsuid; do
		[ "$(stat -c %a "$T/share/$f")" -lt 1000 ] || fail "$f: setuid or setgid on the host"
	done
	[ "$(stat -c %a "$T/share")" = 750 ] || fail "the guest changed the share root's mode"
	[ "$(cat "$T/outside-marker")" = host-secret-marker ] || fail "the marker outside was changed"
	[ "$(stat -c %s "$T/share/guestbig")" = 4194304 ] || fail "guestbig: wrong size"
	g=$(p9_guest_md5 guestbig)
	[ -n "$g" ] && [ "$g" = "$(md5sum "$T/share/guestbig" | cut -d ' ' -f 1)" ] ||
		fail "guestbig: the guest's checksum ($g) is not the host's"
	h=$(p9_guest_md5 hostbig)
	[ -n "$h" ] && [ "$h" = "$(md5sum "$T/share/hostbig" | cut -d ' ' -f 1)" ] ||
		fail "hostbig: the guest read $h, not what the host wrote"
}

# cache=loose: Linux caches only files whose qid version is not 0. Reading the 4 MiB file twice
# then takes a few large read-ahead requests, where uncached it takes 4K ones (over 2000).
p9_cache_loose() {
	p9_prepare
	_opts=trans=virtio,version=9p2000.L,cache=loose,msize=524288 _md5="md5sum /mnt/hostbig"
	lk_run 900 run -k "$LKVM_KERNEL" -i "$LKVM_INITRD" -c 2 -m 256M --debug --9p "$T/share,share" \
		-p "-- mkdir -p /mnt && mount -t 9p -o $_opts share /mnt && $_md5 && $_md5"
	expect_rc 0
	_want=$(md5sum "$T/share/hostbig" | cut -d ' ' -f 1)
	[ "$(count_console "^$_want  /mnt/hostbig\$")" = 2 ] || fail "the guest did not read hostbig twice whole"
	_n=$(sed -n 's/.*virtio-9p: queue 0: \([0-9]*\) notifications.*/\1/p' "$T/stderr")
	[ -n "$_n" ] || fail "stderr: no notification count for virtio-9p"
	[ "$_n" -lt 300 ] || fail "$_n requests for two reads of 4 MiB: the guest did not cache"
}

# -d DIR without an initrd: the guest's root is DIR over 9p (the initramfs unpacked there).
p9_root() {
	mkdir -p "$T/root"
	(cd "$T/root" && gzip -dc "$LKVM_INITRD" | cpio -id 2>/dev/null)
	[ -x "$T/root/init" ] || fail "could not unpack $LKVM_INITRD"
	lk_run 900 run -k "$LKVM_KERNEL" -c 1 -m 256M -d "$T/root" \
		-p "init=/init -- echo 9p-root-echo; grep 9p /proc/mounts; echo hi >/from-guest"
	expect_rc 0
	expect_console '^9p-root-echo$'
	expect_console '^/dev/root / 9p '
	[ "$(cat "$T/root/from-guest" 2>/dev/null)" = hi ] || fail "the guest's write to / is not in DIR"
}

# The host removes the shared directory under a guest that has it mounted: the guest's
# operations fail (the directory is gone, lkvm holds it open and never follows a new one of the
# same name), lkvm runs on, and the guest powers off cleanly.
p9_share_removed() {
	mkdir -p "$T/share"
	echo from-the-host >"$T/share/f"
	vm_start p9gone-$$ -k "$LKVM_KERNEL" -i "$LKVM_INITRD" -c 1 -m 256M --9p "$T/share,share" \
		-p "-- sh /tests/9p-gone.sh"
	wait_console '^p9-gone: mounted$'
	rm -rf "$T/share"
	mkdir "$T/share"
	echo >&3
	vm_wait
	expect_rc 0
	expect_console '^from-the-host$'
	expect_console '^p9-gone: cat=1$'
	expect_console '^p9-gone: touch=1$'
	expect_console '^p9-gone: ls=0$'
	[ -z "$(ls -A "$T/share")" ] || fail "the guest wrote into the new directory of the same name"
}

# lkvm runs as a user without privilege (root would read anyway): the host makes the share and a
# directory in it unreadable under the guest, then readable again. The guest's operations fail
# while it is, and work again after; lkvm runs on, and nothing outside the share changes.
p9_share_unreadable() {
	nonroot_setup
	trap nonroot_undo EXIT
	mkdir -p "$T/share/d"
	echo in-the-share >"$T/share/f"
	echo outside >"$T/outside"
	chown -R 4242:4242 "$T/share"
	LKVM=$LKVM_4242
	vm_start p9deny-$$ -k "$LKVM_KERNEL" -i "$LKVM_INITRD" -c 1 -m 256M --9p "$T/share,share" \
		-p "-- sh /tests/9p-deny.sh"
	wait_console '^p9-deny: mounted$'
	chmod 000 "$T/share/d" "$T/share"
	echo >&3
	wait_console '^p9-deny: waiting$'
	chmod 755 "$T/share/d" "$T/share"
	echo >&3
	vm_wait
	expect_rc 0
	for _op in cat ls touch; do
		expect_console "^p9-deny: before $_op=0$"
		grep -q "^p9-deny: denied $_op=[1-9]" "$T/console" || fail "$_op worked in the unreadable share"
		expect_console "^p9-deny: again $_op=0$"
	done
	[ "$(cat "$T/outside")" = outside ] || fail "a file outside the share changed"
	[ "$(ls -A "$T/share" | tr '\n' ' ')" = "d f new " ] || fail "the share holds: $(ls -A "$T/share")"
	[ "$(grep -c . "$T/stderr")" -le 1 ] || fail "lkvm said more than one line: $(cat "$T/stderr")"
}

run_test_both 9p-ops p9_ops
run_test 9p-share-removed p9_share_removed
run_test 9p-share-unreadable p9_share_unreadable
run_test 9p-cache-loose p9_cache_loose
run_test 9p-root p9_root
