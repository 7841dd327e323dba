# lkvm's firmware services other than PSCI, called directly by the bare-metal fw-test payload:
# TRNG (--trng=user|off, --trng-seed), lkvm's vendor calls (UID, VERSION, LOG and its rate limit,
# EXIT and its exit codes), --smccc rules, and --timeout on a guest that never stops.
FW="$LKVM_PAYLOADS/fw-test.bin"

# fw ARGS...: runs fw-test on one vCPU with ARGS.
fw() { lk_run 120 run -k "$FW" -c 1 -m 64M "$@"; }

# expect_stderr REGEX: some line lkvm wrote to stderr matches REGEX.
expect_stderr() {
	grep -q -e "$1" "$T/stderr" || fail "stderr: no line matches '$1'"
}

fw_services() {
	fw --trng=user -p "test=all"
	expect_rc 0
	expect_no_console '^not ok'
	expect_console '^fw-test: 91 passed, 0 failed$'
	# LKVM_LOG: the guest's bytes, with the vCPU, and the tab shown escaped.
	expect_stderr '^lkvm: guest vCPU 0: fw-test says hello\\x09through LKVM_LOG$'
	expect_stderr "^lkvm: guest vCPU 0: x\{4096\}\$"
	# An SMC32 LOG with garbage in the upper halves of x1 and x2 reads w1 and w2.
	expect_stderr '^lkvm: guest vCPU 0: SMC32 LOG reads w1 and w2$'
	[ "$(grep -c 'guest vCPU 0: ' "$T/stderr")" = 4 ] || fail "LKVM_LOG: a failed call was logged"
	# --loglevel error: the guest's lines are not written.
	fw --trng=user --loglevel error -p "test=vendor"
	expect_rc 0
	! grep -q 'guest vCPU' "$T/stderr" || fail "--loglevel error: LKVM_LOG lines written"
}

# A guest that floods LKVM_LOG gets its first lines through, then a few a second; the line
# after a pause is preceded by how many were dropped, and every line is either shown or counted.
fw_log_flood() {
	_n=3000
	_t0=$(date +%s)
	fw -p "test=log-flood n=$_n"
	_took=$(($(date +%s) - _t0 + 1))
	expect_rc 0
	expect_console '^fw-test: 2 passed, 0 failed$'
	_shown=$(grep -c '^lkvm: guest vCPU 0: flood$' "$T/stderr")
	grep -q '^lkvm: LKVM_LOG: [0-9]* guest lines dropped' "$T/stderr" ||
		fail "no 'LKVM_LOG: N guest lines dropped' line"
	# Each time a line gets through after some were dropped, it is preceded by their count.
	_dropped=$(sed -n 's/^lkvm: LKVM_LOG: \([0-9]*\) guest lines dropped.*/\1/p' "$T/stderr" |
		awk '{ n += $1 } END { print n + 0 }')
	[ "$((_shown + _dropped))" = "$_n" ] || fail "$_shown shown + $_dropped dropped != $_n"
	[ "$_shown" -le $((200 + 50 * _took)) ] || fail "$_shown lines in ${_took}s: not rate-limited"
	# After the pause the bucket has room again: the last line gets through. Lines dropped at
	# the end of the flood can only be counted just before it, so the sum above covers them.
	tail -n 1 "$T/stderr" | grep -q '^lkvm: guest vCPU 0: flood over$' ||
		fail "the line after the flood is not the last one: $(tail -n 1 "$T/stderr")"
	# Each count comes just before the line that got through after the lines it counts.
	_counts=$(grep -c '^lkvm: LKVM_LOG: ' "$T/stderr")
	_before=$(grep -A1 '^lkvm: LKVM_LOG: ' "$T/stderr" | grep -c '^lkvm: guest vCPU 0: flood')
	[ "$_counts" = "$_before" ] || fail "$_counts dropped counts, $_before of them before a line"
}

fw_trng_off() {
	fw --trng=off -p "test=trng-off"
	expect_rc 0
	expect_console '^fw-test: 5 passed, 0 failed$'
}

# trng_sample ARGS...: runs the TRNG checks; prints the 192 bits the payload drew at the end.
trng_sample() {
	fw --trng=user "$@" -p "test=trng"
	expect_rc 0
	expect_console '^fw-test: 69 passed, 0 failed$'
	sed -n 's/^trng-sample: //p' "$T/console"
}

fw_trng_seed() {
	a=$(trng_sample --trng-seed=0123456789abcdef) || exit 1
	grep -qi 'not random' "$T/stderr" || fail "--trng-seed: no warning that the stream is not random"
	b=$(trng_sample --trng-seed=0123456789abcdef) || exit 1
	c=$(trng_sample --trng-seed=fedcba9876543210) || exit 1
	d=$(trng_sample) || exit 1
	e=$(trng_sample) || exit 1
	[ -n "$a" ] || fail "no trng-sample line"
	[ "$a" = "$b" ] || fail "one seed, two streams: '$a' and '$b'"
	[ "$a" != "$c" ] || fail "two seeds, one stream: '$a'"
	[ "$d" != "$e" ] && [ "$d" != "$a" ] || fail "unseeded streams repeat: '$d', '$e'"
}

# LKVM_EXIT(status), without the guest powering off: lkvm exits 0 for 0 and 64 + status for
# 1-59, never one of its own codes (exit-codes.md).
fw_exit() {
	for s in 0:0 1:65 7:71 42:106 59:123; do
		fw -p "test=exit n=${s%:*}"
		expect_rc "${s#*:}"
		expect_no_console '^not ok'
		expect_no_console 'passed'
	done
	# An SMC32 call: the upper half of x1 is not part of the status.
	fw -p "test=exit-hi n=7"
	expect_rc 71
	# Any other status is refused (the call returns); the guest then powers off: 0.
	for s in 60 124 130 143 255 256; do
		fw -p "test=exit n=$s"
		expect_rc 0
		expect_console '^fw-test: 1 passed, 0 failed$'
	done
}

fw_smccc() {
	fw --smccc 0x82000001:ignore --smccc 0x82000002-0x820000ff:deny \
		--smccc 0x83000010:unsupported -p "test=smccc"
	expect_rc 0
	expect_console '^smccc 0x82000001 = 0$'
	expect_console '^smccc 0x82000002 = -3$'
	expect_console '^smccc 0x820000ff = -3$'
	expect_console '^smccc 0x83000010 = -1$'
	# Without a rule, KVM answers: NOT_SUPPORTED.
	fw -p "test=smccc"
	expect_rc 0
	expect_console '^smccc 0x82000001 = -1$'
	expect_console '^smccc 0x82000002 = -1$'
}

fw_smccc_list() {
	lk_run 30 run --smccc 0x82000001-0x82000003:deny --list-firmware-calls
	expect_rc 0
	expect_console '^0x82000001-0x82000003 *lkvm *--smccc deny'
	expect_console '^0x84000000-0x8400001f *kvm *PSCI'
	lk_run 30 run --psci=user --trng=user --list-firmware-calls
	expect_console '^0x84000000-0x8400001f *lkvm *PSCI'
	expect_console '^0xc4000050-0xc400005f *lkvm *TRNG'
}

# Not lk_run: its timeout check takes 124 for timeout(1)'s own.
fw_timeout() {
	echo "lkvm run -k $FW --timeout 3 -p test=spin" >>"$T/commands"
	_t0=$(date +%s)
	timeout -s KILL 60 "$LKVM" run -k "$FW" -c 1 -m 64M --timeout 3 -p "test=spin" \
		</dev/null >"$T/console" 2>"$T/stderr"
	rc=$?
	_took=$(($(date +%s) - _t0))
	[ "$rc" != 137 ] || fail "lkvm did not stop at --timeout 3 (killed after 60s)"
	expect_rc 124
	expect_console '^fw-test: spinning$'
	expect_error 'timeout'
	[ "$_took" -ge 3 ] && [ "$_took" -le 30 ] || fail "--timeout 3 took ${_took}s"
}

run_test fw-services fw_services
run_test fw-trng-off fw_trng_off
run_test fw-trng-seed fw_trng_seed
run_test fw-exit fw_exit
run_test fw-log-flood fw_log_flood
run_test fw-smccc fw_smccc
run_test fw-smccc-list fw_smccc_list
run_test fw-timeout fw_timeout
# Invalid --smccc rules: a usage error naming the rule (bad is t-bad-input.sh's).
run_test fw-smccc-overlaps-psci bad 2 'smccc|overlap|psci' run -k "$FW" --smccc 0x84000000:ignore -p x
run_test fw-smccc-overlap bad 2 'smccc|overlap' run -k "$FW" \
	--smccc 0x82000001-0x82000010:deny --smccc 0x82000005:ignore -p x
run_test fw-smccc-reversed bad 2 'smccc' run -k "$FW" --smccc 0x82000002-0x82000001:deny -p x
run_test fw-smccc-not-a-number bad 2 'smccc' run -k "$FW" --smccc zzz:deny -p x
run_test fw-smccc-bad-action bad 2 'smccc|action|ignore' run -k "$FW" --smccc 0x82000001:frob -p x
run_test fw-timeout-zero bad 2 'timeout' run -k "$FW" --timeout 0 -p x
