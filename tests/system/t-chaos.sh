# Hostile guests (guest/payload/virtio-chaos.c): a bare-metal driver does random things to every
# virtio device lkvm can attach (blk, net, rng, console, balloon, vsock, 9p) for a few seconds:
# random descriptors, indices, notification storms, queue disable and device reset with requests
# in flight, random features, queue sizes and config writes. Every device must work again after
# each round, lkvm must not crash, hang or grow (file descriptors, RSS), and the host's files
# outside the shared directory stay as they were. Seconds per transport: LKVM_TEST_CHAOS_SECONDS
# (default 4; e.g. LKVM_TEST=chaos LKVM_TEST_CHAOS_SECONDS=60 tests/system-check.sh for a long run).

chaos_run() {
	mkdir -p "$T/share"
	echo chaos-outside >"$T/outside"
	ln -s ../outside "$T/share/out-link"
	ln -s / "$T/share/root-link"
	dd if=/dev/zero of="$T/disk.img" bs=1M count=4 2>/dev/null
	_sum=$(md5sum <"$T/outside")
	_vsock=
	[ -c /dev/vhost-vsock ] && _vsock="--vsock $((100 + $$ % 1000))"
	# shellcheck disable=SC2086 # $VT and $_vsock are options
	vm_start chaos-$$ -k "$LKVM_PAYLOADS/virtio-chaos.bin" -m 64M $VT -d "$T/disk.img" \
		-n mode=user --rng --balloon --console virtio --9p "$T/share,share" $_vsock \
		-p "n=${LKVM_TEST_CHAOS_SECONDS:-4}"
	# The guest pauses a second after each of these lines, with every device reset.
	wait_console '^virtio-chaos: ready'
	fds0=$(vm_fds "$vm_pid") rss0=$(vm_rss_kb "$vm_pid")
	wait_console '^virtio-chaos: done'
	fds1=$(vm_fds "$vm_pid") rss1=$(vm_rss_kb "$vm_pid")
	vm_wait
	expect_rc 0
	_n=$(grep -c '^virtio-chaos: device .* with' "$T/console")
	[ "$_n" -ge 6 ] || fail "the guest found $_n virtio devices, want 6 or more"
	expect_console "^virtio-chaos: $((_n + 1)) passed, 0 failed"
	# Warnings about what the guest does are expected (once per device and kind); nothing else.
	_bad=$(grep -v '^lkvm: warning: ' "$T/stderr" | head -n 1)
	[ -z "$_bad" ] || fail "lkvm's stderr: $_bad"
	[ "$(md5sum <"$T/outside")" = "$_sum" ] || fail "the file next to the share changed"
	[ "$(readlink "$T/share/out-link")" = ../outside ] || fail "the share's symlink changed"
	[ "$(find "$T" -newer "$T/disk.img" ! -path "$T/share*" -name 'outside*' | wc -l)" = 0 ] ||
		fail "files outside the share were touched"
	[ "$fds1" -le "$fds0" ] || fail "lkvm's file descriptors grew from $fds0 to $fds1"
	[ "$rss1" -le $((rss0 + 1024)) ] || fail "lkvm's RSS grew from ${rss0} kB to ${rss1} kB"
	echo "fds $fds0 -> $fds1, rss $rss0 -> $rss1 kB, $(grep -a '^virtio-chaos: done' "$T/console")"
}

run_test_both chaos chaos_run
