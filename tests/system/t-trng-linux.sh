# A Linux guest under --trng=user finds lkvm's TRNG (smccc_trng) and reads /dev/hwrng: the bytes
# it reads are the ones lkvm's firmware-call trace shows it handing out. --trng=off hides it.
trng_linux_user() {
	lk_run 300 run -k "$LKVM_KERNEL" -i "$LKVM_INITRD" -c 1 -m 256M --trng=user --debug-firmware \
		-p "-- cat /sys/class/misc/hw_random/rng_available; dd if=/dev/hwrng bs=8 count=1 | od -An -tx8"
	expect_rc 0
	expect_console 'smccc_trng'
	word=$(grep -E '^ *[0-9a-f]{16} *$' "$T/console" | tr -d ' ' | head -n 1)
	[ -n "$word" ] || fail "no bytes read from /dev/hwrng"
	# The trace prints words without leading zeros.
	word=$(echo "$word" | sed 's/^0*\(.\)/\1/')
	grep -qE "firmware: vCPU [0-9]+ HVC 0xc4000053\(.*0x$word( |\$)" "$T/stderr" ||
		fail "the guest's bytes $word are not in lkvm's TRNG_RND64 trace"
}

trng_linux_off() {
	lk_run 300 run -k "$LKVM_KERNEL" -i "$LKVM_INITRD" -c 1 -m 256M --trng=off \
		-p "-- cat /sys/class/misc/hw_random/rng_available"
	expect_rc 0
	expect_no_console 'smccc_trng'
}

run_test trng-linux-user trng_linux_user
run_test trng-linux-off trng_linux_off
