# Machine-readable output: --json of lkvm list, cpu list, sdei list and balloon, read back by
# guest/tools/jsoncheck (strict: malformed JSON fails); lkvm events --wait started before
# lkvm run; lkvm run --events-log FILE.

# json_of OUT ARGS...: `lkvm ARGS` must succeed with one JSON document, flattened into $T/OUT.
json_of() {
	_out=$1
	shift
	echo "lkvm $* | jsoncheck" >>"$T/commands"
	"$LKVM" "$@" >"$T/$_out.json" 2>>"$T/ctl" || fail "lkvm $* failed: $(tail -n 1 "$T/ctl")"
	jsoncheck <"$T/$_out.json" >"$T/$_out" 2>>"$T/ctl" ||
		fail "lkvm $*: not JSON: $(tail -n 1 "$T/ctl"): $(cat "$T/$_out.json")"
}

# json_has OUT LINE...: each "PATH VALUE" line is in the flattened $T/OUT.
json_has() {
	_out=$1
	shift
	for _l in "$@"; do
		grep -qxF -e "$_l" "$T/$_out" || fail "$_out: no '$_l' in: $(cat "$T/$_out.json")"
	done
}

# The hot-add payload waits for `lkvm cpu plug`: its first events (two CPU_ONs of the unplugged
# vCPU 1, denied) come right after boot, while an `lkvm events --wait` started first follows.
json_control() {
	name=json-$$
	echo "lkvm events --name $name --wait --timeout 120 &" >>"$T/commands"
	"$LKVM" events --name "$name" --wait --timeout 120 >"$T/events" 2>"$T/events-err" &
	ev=$!
	vm_start "$name" -k "$LKVM_PAYLOADS/psci-test.bin" -c 1 --max-cpus 2 --psci=user -m 64M \
		--sdei --balloon --events-log "$T/events.log" -p "mode=user test=hotplug"
	wait_console '^hotplug: waiting for plug'
	[ "$(stat -c %a "$T/events.log")" = 600 ] || fail "events.log: mode $(stat -c %a "$T/events.log")"
	json_of list list --json
	i=$(sed -n "s/^\([0-9]*\)\.name \"$name\"\$/\1/p" "$T/list")
	[ -n "$i" ] || fail "list --json: no $name in: $(cat "$T/list.json")"
	json_has list "$i.pid $vm_pid" "$i.cpus 2" "$i.plugged 1"
	json_of cpus cpu list --name "$name" --json
	json_has cpus "0.id 0" "0.state \"on\"" "0.eject false" "1.id 1" "1.state \"absent\"" \
		"1.delay_ms 0"
	grep -qE '^1\.mpidr [0-9]+$' "$T/cpus" || fail "cpu list --json: MPIDR not a number"
	! grep -q '^2\.' "$T/cpus" || fail "cpu list --json: a third vCPU"
	json_of balloon balloon --name "$name" --json
	json_has balloon "target_pages 0" "actual_pages 0" "page_size 4096" "ram_bytes 67108864"
	json_of sdei sdei list --name "$name" --json
	json_has sdei "vcpus.0.vcpu 0" 'vcpus.0.state "on"' 'vcpus.1.state "absent"' "events.0.event 0" \
		'events.0.name "sw-signal"' "events.0.shared false" "events.0.registrations []"
	grep -qE '^vcpus\.1\.masked (true|false)$' "$T/sdei" ||
		fail "sdei list --json: masked not a boolean"
	# --json where it means nothing is a usage error, and the human output is unchanged.
	"$LKVM" cpu plug --name "$name" 1 --json 2>/dev/null
	[ $? = 2 ] || fail "cpu plug --json: not exit 2"
	"$LKVM" cpu list --name "$name" >"$T/human" || fail "cpu list failed"
	grep -qE '^1 +0x[0-9a-f]+ +absent' "$T/human" || fail "cpu list: $(cat "$T/human")"
	lkvm_ok cpu plug --name "$name" 1
	wait_console '^hotplug: waiting for unplug'
	_i=0
	until "$LKVM" cpu unplug --name "$name" 1 >"$T/out" 2>&1 </dev/null; do
		_i=$((_i + 1))
		[ "$_i" -lt 50 ] || fail "vCPU 1 was on at each of 50 unplugs: $(cat "$T/out")"
		sleep 0.1
	done
	vm_wait
	expect_rc 0
	wait "$ev" || fail "lkvm events --wait: exit $?: $(cat "$T/events-err")"
	jsoncheck --lines <"$T/events.log" >"$T/events.flat" 2>"$T/check" ||
		fail "events.log: $(cat "$T/check")"
	cp "$T/events.log" "$T/events.flat.json"
	json_has events.flat '1.event "cpu_on_request"' "1.vcpu 0" "1.target 1" '2.event "cpu_on_denied"' \
		"2.target 1"
	events_in_order "$T/events.log" cpu_on_request:1 cpu_on_denied:1 cpu_on_request:1 \
		cpu_on_denied:1 plug cpu_on_granted:1 \
		cpu_start cpu_off unplug system_off
	# What lkvm events --wait showed, from the very first event on, is the log.
	cmp -s "$T/events" "$T/events.log" ||
		fail "lkvm events --wait and --events-log differ: $(head -n 3 "$T/events")"
}

# --wait for a VM that never comes: exit 1 after --timeout, saying so; --timeout needs --wait.
json_wait_timeout() {
	lk_run 30 events --name "never-$$" --wait --timeout 1
	expect_rc 1
	expect_error "never-$$: no such VM after 1 s"
	lk_run 30 events --name "never-$$" --timeout 1
	expect_rc 2
	expect_error 'only with --wait'
}

run_test json-control json_control
run_test json-wait-timeout json_wait_timeout
