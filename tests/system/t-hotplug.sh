# vCPU hot-add: `lkvm run --max-cpus` with some vCPUs unplugged, driven from the test host's shell
# with `lkvm cpu plug|unplug|list` and recorded by `lkvm events`.

hotplug_linux() {
	name=hp-linux-$$
	vm_start "$name" -k "$LKVM_KERNEL" -i "$LKVM_INITRD" -c 1 --max-cpus 4 --psci=user -m 256M \
		-p "-- sh /tests/hotplug.sh"
	"$LKVM" events --name "$name" >"$T/events" 2>&1 &
	wait_console '^hotplug: waiting for plug'
	"$LKVM" cpu list --name "$name" >"$T/list1" || fail "lkvm cpu list failed"
	grep -qE '^2 +0x[0-9a-f]+ +absent' "$T/list1" || fail "cpu list: vCPU 2 not absent: $(cat "$T/list1")"
	lkvm_ok cpu plug --name "$name" 2
	echo >&3
	wait_console '^hotplug: waiting for a refused unplug'
	"$LKVM" cpu list --name "$name" >"$T/list2" || fail "lkvm cpu list failed"
	grep -qE '^2 +0x[0-9a-f]+ +on ' "$T/list2" || fail "cpu list: vCPU 2 not on: $(cat "$T/list2")"
	# The guest has vCPU 2 online: unplugging it must be refused, with a reason.
	"$LKVM" cpu unplug --name "$name" 2 >"$T/refused" 2>&1 && fail "unplug of an online vCPU succeeded"
	grep -q '^lkvm: .*offline' "$T/refused" || fail "unplug refused without saying why: $(cat "$T/refused")"
	echo >&3
	wait_console '^hotplug: waiting for unplug'
	lkvm_ok cpu unplug --name "$name" 2
	echo >&3
	vm_wait
	expect_rc 0
	expect_console '^online=0$'
	[ "$(count_console '^online2=failed: .*Operation not permitted')" = 2 ] ||
		fail "onlining unplugged cpu2 did not fail with EPERM twice"
	expect_console '^online2=ok$'
	expect_console '^nproc=2$'
	expect_console '^offline2=ok$'
	events_in_order "$T/events" cpu_on_denied:2 plug cpu_on_granted:2 cpu_start cpu_off unplug \
		cpu_on_denied:2 system_off
	# lkvm timeline draws the session: a row per vCPU; vCPU 2's has the plug, the unplug, its
	# time on and a mark per denied CPU_ON (at boot too). tests/check-timeline.sh renders it on
	# the build machine.
	svg=$LKVM_OUT/hotplug-timeline.svg
	cp "$T/events" "$LKVM_OUT/hotplug-events.jsonl"
	lkvm_ok timeline --cpus 4 -o "$svg" "$T/events"
	[ "$(grep -c '^<g class="vcpu"' "$svg")" = 4 ] || fail "timeline: not 4 vCPU rows"
	sed -n '/id="vcpu2"/,/^<\/g>$/p' "$svg" >"$T/row2"
	grep -q '"mark plug"' "$T/row2" && grep -q '"mark unplug"' "$T/row2" &&
		[ "$(grep -c '"mark denied"' "$T/row2")" = "$(grep -c 'denied.*"target":2}' "$T/events")" ] &&
		grep -q '"state on"' "$T/row2" ||
		fail "timeline: vCPU 2's row lacks its plug, unplug, denials or time on: $(cat "$T/row2")"
}

hotplug_payload() {
	name=hp-payload-$$
	vm_start "$name" -k "$LKVM_PAYLOADS/psci-test.bin" -c 1 --max-cpus 2 --psci=user -m 64M \
		-p "mode=user test=hotplug"
	wait_console '^hotplug: waiting for plug'
	lkvm_ok cpu plug --name "$name" 1
	wait_console '^hotplug: waiting for unplug'
	# The payload finds out by calling CPU_ON, so vCPU 1 is on for a moment every 20 ms, and
	# unplug refuses a vCPU that is on: as a user's script would, try again then.
	echo "lkvm cpu unplug --name $name 1 (until vCPU 1 is off)" >>"$T/commands"
	_i=0
	until "$LKVM" cpu unplug --name "$name" 1 >"$T/out" 2>&1 </dev/null; do
		grep -q 'cannot unplug it while it is' "$T/out" ||
			fail "lkvm cpu unplug failed: $(cat "$T/out")"
		_i=$((_i + 1))
		[ "$_i" -lt 50 ] || fail "vCPU 1 was on at each of 50 unplugs"
		sleep 0.1
	done
	vm_wait
	expect_rc 0
	expect_no_console '^not ok'
	expect_console '^psci-test: 7 passed, 0 failed$'
}

# Every control command on a VM that does not exist, and bad vCPU numbers on one that does.
hotplug_errors() {
	for cmd in "cpu list" "cpu plug" "cpu unplug" stop pause resume events; do
		# shellcheck disable=SC2086
		"$LKVM" $cmd --name no-such-vm-$$ 1 >"$T/out" 2>&1 </dev/null
		_rc=$?
		[ "$_rc" = 1 ] || [ "$_rc" = 2 ] || fail "lkvm $cmd of no VM: exit $_rc"
		grep -q '^lkvm: ' "$T/out" || fail "lkvm $cmd of no VM: $(cat "$T/out")"
	done
	name=hp-err-$$
	vm_start "$name" -k "$LKVM_PAYLOADS/psci-test.bin" -c 1 --max-cpus 2 --psci=user -m 64M \
		-p "mode=user test=hotplug"
	wait_console '^hotplug: waiting for plug'
	"$LKVM" cpu plug --name "$name" 7 >"$T/out" 2>&1 && fail "plug of vCPU 7 of 2 succeeded"
	grep -q '^lkvm: .*vCPU 7' "$T/out" || fail "plug of vCPU 7: $(cat "$T/out")"
	lkvm_ok stop --name "$name"
	vm_wait
	expect_rc 5
	"$LKVM" list >"$T/list" 2>&1
	grep -q "^$name " "$T/list" && fail "lkvm list still shows a stopped VM"
	return 0
}

hotplug_needs_user_psci() {
	lk_run 30 run -k "$LKVM_PAYLOADS/hello.bin" -c 1 --max-cpus 2
	expect_rc 2
	expect_error 'psci'
}

run_test hotplug-linux hotplug_linux
run_test hotplug-payload hotplug_payload
run_test hotplug-errors hotplug_errors
run_test hotplug-needs-user-psci hotplug_needs_user_psci

# The CPU_ON policy's delay: `lkvm cpu delay` holds a vCPU's start; the events show how long.
hotplug_delay() {
	name=hp-delay-$$
	vm_start "$name" -k "$LKVM_KERNEL" -i "$LKVM_INITRD" -c 1 --max-cpus 3 --psci=user -m 256M \
		-p "-- sh /tests/hotplug.sh"
	"$LKVM" events --name "$name" >"$T/events" 2>&1 &
	wait_console '^hotplug: waiting for plug'
	lkvm_ok cpu delay --name "$name" 2 1500
	"$LKVM" cpu list --name "$name" >"$T/list" || fail "lkvm cpu list failed"
	grep -qE '^2 .* 1500$' "$T/list" || fail "cpu list does not show the delay: $(cat "$T/list")"
	lkvm_ok cpu plug --name "$name" 2
	echo >&3
	wait_console '^hotplug: waiting for a refused unplug'
	lkvm_ok stop --name "$name"
	vm_wait
	expect_rc 5
	expect_console '^online2=ok$'
	# Seconds from the grant to the start: at least the delay.
	took=$(awk -F'[:,]' '/"cpu_on_granted".*"target":2/ { g = $2 } /"cpu_start","vcpu":2/ && g { print $2 - g; exit }' "$T/events")
	[ -n "$took" ] || fail "no cpu_on_granted/cpu_start of vCPU 2 in: $(cat "$T/events")"
	awk -v t="$took" 'BEGIN { exit !(t >= 1.5 && t < 10) }' || fail "vCPU 2 started ${took}s after the grant, not 1.5s"
}

# lkvm pause stops the guest's clock of work; resume lets it go on.
vm_pause_resume() {
	name=vm-pause-$$
	vm_start "$name" -k "$LKVM_KERNEL" -i "$LKVM_INITRD" -c 2 -m 256M \
		-p "-- i=0; while [ \$i -lt 400 ]; do echo tick \$i; i=\$((i+1)); sleep 0.1; done"
	wait_console '^tick 5$'
	lkvm_ok pause --name "$name"
	sleep 1
	before=$(grep -c '^tick' "$T/console.raw")
	sleep 3
	after=$(grep -c '^tick' "$T/console.raw")
	[ "$before" = "$after" ] || fail "the guest ran while paused ($before then $after ticks)"
	lkvm_ok resume --name "$name"
	wait_console '^tick' $((after + 5))
	lkvm_ok stop --name "$name"
	vm_wait
	expect_rc 5
}

run_test hotplug-delay hotplug_delay
run_test vm-pause-resume vm_pause_resume

# A Linux guest offlines and onlines cpu1 in a loop, its kernel logging each step on the UART,
# while the host polls `lkvm cpu list` and follows `lkvm events`: no poll may hang or fail, none
# may take seconds, and the guest must get through every cycle. (A CPU_ON that took PSCI's lock,
# then the plan's, deadlocked against `lkvm cpu list`; the main loop also waited for the UART.)
# In make check-stress.
# ARGS: extra lkvm run options (--max-cpus or none: the plan exists with --psci=user either way).
hotplug_cycle_polled() {
	name=hp-cycle-$$
	vm_start "$name" -k "$LKVM_KERNEL" -i "$LKVM_INITRD" -c 2 "$@" --psci=user -m 256M \
		-p "-- sh /tests/cpu-cycle.sh 150"
	"$LKVM" events --name "$name" >"$T/events" 2>&1 &
	wait_console '^cycle: start'
	polls=0 slowest=0
	while [ "$(grep -c '^cycle: ' "$T/console.raw")" -lt 2 ]; do
		kill -0 "$vm_pid" 2>/dev/null || break
		t0=$(cut -d' ' -f1 /proc/uptime)
		timeout -s KILL 20 "$LKVM" cpu list --name "$name" >"$T/list" 2>&1 ||
			fail "lkvm cpu list failed or hung after $polls polls: $(cat "$T/list")"
		grep -qE '^1 +0x' "$T/list" || fail "cpu list without vCPU 1: $(cat "$T/list")"
		slowest=$(awk -v a="$t0" -v b="$(cut -d' ' -f1 /proc/uptime)" -v s="$slowest" \
			'BEGIN { d = b - a; print (d > s ? d : s) }')
		polls=$((polls + 1))
	done
	vm_wait
	expect_rc 0
	expect_console '^cycle: done 150$'
	echo "$polls polls during the cycles, the slowest took ${slowest}s"
	[ "$polls" -ge 20 ] || fail "only $polls polls ran while the guest cycled cpu1"
	awk -v s="$slowest" 'BEGIN { exit !(s < 2) }' || fail "a poll took ${slowest}s"
	[ "$(grep -c '"event":"cpu_on_granted"' "$T/events")" -ge 150 ] ||
		fail "fewer than 150 cpu_on_granted events: $(grep -c cpu_on_granted "$T/events")"
}

run_test hotplug-cycle-polled hotplug_cycle_polled
run_test hotplug-cycle-polled-max-cpus hotplug_cycle_polled --max-cpus 3
