# Bare-metal payloads (guest/payload/) call every PSCI function directly and check every result
# and error code. Under --psci=user all of PSCI 1.1 through both conduits; under --psci=kernel the
# subset KVM implements too, so that the two answer alike where both exist. The exact number of
# checks is asserted, so that a check that silently stopped running fails the test.

# payload MODE CONDUIT NCHECKS [LKVM OPTIONS...]
payload() {
	_mode=$1 _conduit=$2 _n=$3
	shift 3
	lk_run 300 run -k "$LKVM_PAYLOADS/psci-test.bin" -c 4 -m 256M --psci="$_mode" \
		--psci-conduit="$_conduit" "$@" -p "mode=$_mode conduit=$_conduit"
	expect_rc 0
	expect_no_console '^not ok'
	expect_console "^psci-test: $_n passed, 0 failed\$"
}

# payload_ends MODE TEST EXIT: a payload whose last call ends the VM (reset, off with others running).
payload_ends() {
	lk_run 300 run -k "$LKVM_PAYLOADS/psci-test.bin" -c 4 -m 256M --psci="$1" --on-reset=exit \
		-p "mode=$1 test=$2"
	expect_rc "$3"
	expect_no_console '^not ok'
}

for conduit in hvc smc; do
	run_test "psci-payload-user-$conduit" payload user "$conduit" 203
	run_test "psci-payload-kernel-$conduit" payload kernel "$conduit" 64
done
for mode in user kernel; do
	run_test "psci-payload-$mode-reset" payload_ends "$mode" reset 3
	run_test "psci-payload-$mode-reset2" payload_ends "$mode" reset2 3
	run_test "psci-payload-$mode-off-race" payload_ends "$mode" off-race 0
done
