# virtio-rng (--rng): a Linux guest finds it as hwrng virtio_rng.0, selects it, and reads
# random bytes from it: not all zero, and different each time.
rng_hwrng() {
	lk_run 600 run -k "$LKVM_KERNEL" -i "$LKVM_INITRD" -c 1 -m 256M $VT --rng \
		-p "quiet -- sh /tests/rng-hwrng.sh"
	expect_rc 0
	expect_console '^rng: available=.*virtio_rng\.0'
	expect_console '^rng: current=virtio_rng\.0$'
	a=$(sed -n 's/^rng: read1=//p' "$T/console")
	b=$(sed -n 's/^rng: read2=//p' "$T/console")
	echo "$a" | grep -qE '^[0-9a-f]{128}$' || fail "first read: not 64 bytes: '$a'"
	echo "$b" | grep -qE '^[0-9a-f]{128}$' || fail "second read: not 64 bytes: '$b'"
	echo "$a" | grep -q '[1-9a-f]' || fail "the bytes read are all zero"
	[ "$a" != "$b" ] || fail "two reads gave the same bytes"
}

run_test_both rng-hwrng rng_hwrng
