# SDEI (lkvm run --psci=user --sdei): the sdei-test payload checks every delivery path through
# both conduits; the host drives `lkvm sdei list|signal` and `lkvm nmi` against it, follows
# `lkvm events`, and checks the errors. lkvm_ok and events_in_order are t-hotplug.sh's.

sdei_payload() {
	lk_run 300 run -k "$LKVM_PAYLOADS/sdei-test.bin" -c 3 -m 64M --psci=user --sdei \
		--psci-conduit "$1" -p "conduit=$1"
	expect_rc 0
	expect_no_console '^not ok'
	expect_console '^sdei-test: 90 passed, 0 failed$'
}

# sdei_refused WANT_RC REGEX ARGS...: `lkvm ARGS` fails with WANT_RC and one line matching REGEX.
sdei_refused() {
	_want=$1 _pat=$2
	shift 2
	echo "lkvm $* (must fail)" >>"$T/commands"
	"$LKVM" "$@" >"$T/out" 2>&1 </dev/null
	_rc=$?
	[ "$_rc" = "$_want" ] || fail "lkvm $*: exit $_rc, expected $_want: $(cat "$T/out")"
	[ "$(wc -l <"$T/out")" = 1 ] && grep -qE "^lkvm: .*$_pat" "$T/out" ||
		fail "lkvm $*: expected one line 'lkvm: ...$_pat', got: $(cat "$T/out")"
}

# expect_list REGEX...: `lkvm sdei list` has a line matching each REGEX.
expect_list() {
	"$LKVM" sdei list --name "$name" >"$T/list" 2>&1 || fail "lkvm sdei list failed: $(cat "$T/list")"
	for _re in "$@"; do
		grep -qE -e "$_re" "$T/list" || fail "sdei list: no line matches '$_re': $(cat "$T/list")"
	done
}

sdei_host() {
	name=sdei-host-$$
	vm_start "$name" -k "$LKVM_PAYLOADS/sdei-test.bin" -c 3 -m 64M --psci=user --sdei \
		-p "test=host"
	"$LKVM" events --name "$name" >"$T/events" 2>&1 &
	wait_console '^sdei-host: ready for cpu-notify on vCPU 1'
	expect_list '^vcpu 0: on, unmasked$' '^vcpu 1: on, unmasked$' '^vcpu 2: off, masked$' \
		'^event 0 sw-signal: private normal$' '^event 1000 nmi: private critical$' \
		'^event 1001 cpu-notify: private normal$' '^  vcpu 1: registered enabled entry=0x' \
		'^event 2000 notify: shared normal$'
	sdei_refused 1 'vCPU 2 is off' sdei signal --name "$name" cpu-notify --cpu 2
	sdei_refused 1 'not registered on vCPU 0' sdei signal --name "$name" cpu-notify
	sdei_refused 1 'no such event' sdei signal --name "$name" bogus --cpu 1
	sdei_refused 1 'vCPU 9: no such vCPU' nmi --name "$name" --cpu 9
	sdei_refused 1 'no such VM' nmi --name no-such-vm-$$
	sdei_refused 2 'missing arguments' sdei signal --name "$name"
	sdei_refused 2 'not a vCPU number' sdei signal --name "$name" nmi --cpu one
	sdei_refused 2 'no such command' sdei raise --name "$name" nmi
	lkvm_ok sdei signal --name "$name" cpu-notify --cpu 1
	wait_console '^sdei-host: event 1001 ran on vCPU 1$'
	wait_console '^sdei-host: ready for nmi on vCPU 1$'
	lkvm_ok nmi --name "$name" --cpu 1
	wait_console '^sdei-host: event 1000 ran on vCPU 1$'
	wait_console '^sdei-host: ready for nmi on vCPU 0 (in a normal handler)$'
	expect_list '^  vcpu 0: registered enabled running entry=0x'
	lkvm_ok nmi --name "$name"
	wait_console '^sdei-host: done$'
	vm_wait
	expect_rc 0
	expect_no_console '^not ok'
	expect_console '^sdei-test: 12 passed, 0 failed$'
	events_in_order "$T/events" sdei_dispatch sdei_complete sdei_dispatch sdei_complete
	grep -q '"event":"sdei_dispatch","vcpu":1,"sdei_event":1001}' "$T/events" ||
		fail "events: no dispatch of 1001 on vCPU 1: $(cat "$T/events")"
	grep -qE '"event":"sdei_complete","vcpu":1,"sdei_event":1001,"duration_ns":[0-9]+}' "$T/events" ||
		fail "events: no completion of 1001 on vCPU 1 with its duration: $(cat "$T/events")"
	grep -qE '"event":"sdei_complete","vcpu":0,"sdei_event":1000,"duration_ns":[0-9]+}' "$T/events" ||
		fail "events: no completion of the nmi on vCPU 0: $(cat "$T/events")"
}

# Each boot finds SDEI clean (nothing registered, vCPU 0 masked), uses it, and resets
# (ARG: 1 SYSTEM_RESET, 2 SYSTEM_RESET2).
sdei_reset() {
	lk_run_signal 120 TERM '^sdei-reset: ' 2 run -k "$LKVM_PAYLOADS/sdei-test.bin" -c 2 -m 64M \
		--psci=user --sdei -p "test=reset n=$1"
	expect_rc 143
	expect_no_console '^not ok'
	[ "$(count_console '^sdei-reset: clean, calling SYSTEM_RESET')" -ge 2 ] ||
		fail "fewer than 2 clean boots"
}

# vCPU hot-add: an unplugged vCPU is absent for SDEI too, plugged it is off, and back.
sdei_hotplug() {
	name=sdei-hp-$$
	vm_start "$name" -k "$LKVM_PAYLOADS/sdei-test.bin" -c 2 --max-cpus 3 -m 64M --psci=user \
		--sdei -p "test=host"
	wait_console '^sdei-host: ready for cpu-notify on vCPU 1'
	expect_list '^vcpu 1: on, unmasked$' '^vcpu 2: absent, masked$'
	sdei_refused 1 'vCPU 2 is absent' sdei signal --name "$name" nmi --cpu 2
	lkvm_ok cpu plug --name "$name" 2
	expect_list '^vcpu 2: off, masked$'
	sdei_refused 1 'vCPU 2 is off' sdei signal --name "$name" nmi --cpu 2
	lkvm_ok cpu unplug --name "$name" 2
	expect_list '^vcpu 2: absent, masked$'
	lkvm_ok stop --name "$name"
	vm_wait
	expect_rc 5
}

sdei_needs_user_psci() {
	lk_run 30 run -k "$LKVM_PAYLOADS/hello.bin" -c 1 --sdei
	expect_rc 2
	expect_error '--sdei: needs --psci=user'
	lk_run 30 run -k "$LKVM_PAYLOADS/hello.bin" -c 1 --psci=kernel --sdei
	expect_rc 2
	expect_error '--sdei: needs --psci=user'
}

# A VM without --sdei: the commands say so.
sdei_absent() {
	name=sdei-absent-$$
	vm_start "$name" -k "$LKVM_PAYLOADS/sdei-test.bin" -c 3 -m 64M --psci=user -p "test=host"
	sdei_refused 1 'no SDEI' sdei list --name "$name"
	sdei_refused 1 'no SDEI' nmi --name "$name"
	lkvm_ok stop --name "$name"
	vm_wait
	expect_rc 5
}

run_test sdei-payload-hvc sdei_payload hvc
run_test sdei-payload-smc sdei_payload smc
run_test sdei-host sdei_host
run_test sdei-reset sdei_reset 1
run_test sdei-reset2 sdei_reset 2
run_test sdei-hotplug sdei_hotplug
run_test sdei-needs-user-psci sdei_needs_user_psci
run_test sdei-absent sdei_absent
