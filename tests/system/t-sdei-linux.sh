# SDEI seen from Linux guests (--psci=user --sdei): Linux's SDEI client finds lkvm's, masks and
# unmasks CPUs going offline and online, and lkvm's NMI request (`lkvm nmi`) reaches the handler of
# the test module guest/module/sdei_nmi.c (in the initramfs; guest/tests/sdei-module.sh loads it),
# which prints "lkvm-sdei-nmi: NMI on CPU N (...)" and a backtrace. (Every SDEI function and error:
# the bare-metal payloads' tests.)

# sdei_ctl ARGS: an lkvm control command that must succeed; its output in $T/ctl.out.
sdei_ctl() {
	echo "lkvm $*" >>"$T/commands"
	"$LKVM" "$@" >"$T/ctl.out" 2>&1 </dev/null || fail "lkvm $* failed: $(cat "$T/ctl.out")"
}

# sdei_list_expect CPU STATE MASK REG: `lkvm sdei list` shows vCPU CPU in PSCI state STATE (on,
# off...) and MASK (masked or unmasked), and event 1000 registered (and enabled) there or not
# (REG: registered or unregistered). The listings are kept as $T/sdei-list.N.
lists=0
sdei_list_expect() {
	sdei_ctl sdei list --name "$name"
	lists=$((lists + 1))
	cp "$T/ctl.out" "$T/sdei-list.$lists"
	grep -qx "vcpu $1: $2, $3" "$T/ctl.out" ||
		fail "sdei list: vCPU $1 not '$2, $3': $(grep "^vcpu $1:" "$T/ctl.out")"
	# Under "event 1000 ...", a private event's registrations, one line per vCPU.
	_reg=$(awk -v c="$1" '/^event / { e = ($2 == 1000) } e && $1 == "vcpu" && $2 == c ":" { print $3, $4 }' \
		"$T/ctl.out")
	case $4 in
	registered) [ "$_reg" = "registered enabled" ] ;;
	*) [ -z "$_reg" ] ;;
	esac || fail "sdei list: event 1000 on vCPU $1: '$_reg', expected $4 (sdei-list.$lists)"
}

# sdei_vm CPUS SCRIPT [ARGS...]: boots a Linux guest with CPUS vCPUs and SDEI (and lkvm run's
# ARGS), which runs /tests/SCRIPT, as the VM $name (vm_start), and follows its events into
# $T/events.
sdei_vm() {
	name=sdei-$$
	_cpus=$1 _script=$2
	shift 2
	vm_start "$name" -k "$LKVM_KERNEL" -i "$LKVM_INITRD" -c "$_cpus" -m 256M --psci=user --sdei \
		"$@" -p "-- sh /tests/$_script"
	"$LKVM" events --name "$name" >"$T/events" 2>&1 &
	events_pid=$!
}

# sdei_vm_end: the guest powers off cleanly; its events are all in.
sdei_vm_end() {
	vm_wait
	wait "$events_pid"
	expect_rc 0
}

# ends CPU: how many NMIs on CPU the console shows as handled (their closing line).
ends() {
	tr -d '\r' <"$T/console.raw" | grep -c "lkvm-sdei-nmi: end of NMI on CPU $1\$"
}

# nmi_until CPU ERE: `lkvm nmi` to vCPU CPU, and its marker, backtrace and closing line on the
# console; again (3 times at most, a second apart) until the marker matches ERE (where the NMI
# found the CPU: idle, in user space...). The closing line matters: the CPU that took the NMI
# prints the backtrace on the console itself, from an irq_work, and an NMI sent while it does
# finds it there. Counts what it sent in sent_CPU and sent.
sent=0
nmi_until() {
	for _try in 1 2 3; do
		[ "$_try" = 1 ] || sleep 1
		_n=$(ends "$1")
		sdei_ctl nmi --name "$name" --cpu "$1"
		sent=$((sent + 1))
		eval "sent_$1=\$((\${sent_$1:-0} + 1))"
		wait_console "lkvm-sdei-nmi: end of NMI on CPU $1\$" $((_n + 1))
		tr -d '\r' <"$T/console.raw" | grep "lkvm-sdei-nmi: NMI on CPU $1 " | tail -n 1 |
			grep -qE -e "$2" && return 0
	done
	fail "3 NMIs to vCPU $1, none found it as '$2': $(grep "NMI on CPU $1 " "$T/console.raw")"
}

# handled: every NMI sent printed a backtrace from the module's handler, through Linux's SDEI
# entry; the module counted them all, per CPU (CPUS: the CPUs sent to); lkvm's events have a
# dispatch and a completion of event 1000 for each.
handled() {
	[ "$(count_console 'sdei_nmi_handler+0x')" = "$sent" ] ||
		fail "$(count_console 'sdei_nmi_handler+0x') backtraces through the handler, $sent NMIs sent"
	expect_console '__sdei_handler+0x'
	[ "$(count_console 'lkvm-sdei-nmi: end of NMI on CPU')" = "$sent" ] ||
		fail "$(count_console 'end of NMI') NMIs handled to the end, $sent sent"
	per_cpu=
	for _c in "$@"; do
		per_cpu="$per_cpu${per_cpu:+ }$_c:$(eval echo "\$sent_$_c")"
	done
	expect_console "^sdei-module: count=$sent per_cpu=$per_cpu\$"
	for _c in "$@"; do
		for _e in sdei_dispatch sdei_complete; do
			_got=$(grep "\"event\":\"$_e\"" "$T/events" | grep "\"vcpu\":$_c," |
				grep -c '"sdei_event":1000[,}]')
			[ "$_got" = "$(eval echo "\$sent_$_c")" ] ||
				fail "events: $_got $_e of event 1000 on vCPU $_c, expected $(eval echo "\$sent_$_c")"
		done
	done
}

sdei_linux_probe() {
	lk_run 300 run -k "$LKVM_KERNEL" -i "$LKVM_INITRD" -c 2 -m 256M --psci=user --sdei \
		--debug-firmware -p "-- dmesg | grep sdei:"
	expect_rc 0
	expect_console '^sdei: SDEIv1\.1 (0x0) detected in firmware\.$'
	expect_no_console 'sdei: .*\(Failed\|failed\|disabling\|Conflicting\|Not supported\)'
	# Linux's probe, on whichever CPU runs it: SDEI_VERSION, PRIVATE_RESET on each CPU,
	# SHARED_RESET; then each CPU unmasks itself with PE_UNMASK (its hotplug callback).
	for _fn in '[01] HVC 0xc4000020() = 0x1000100000000' '0 HVC 0xc4000031() = 0x0' \
		'1 HVC 0xc4000031() = 0x0' '[01] HVC 0xc4000032() = 0x0' '0 HVC 0xc400002c() = 0x0' \
		'1 HVC 0xc400002c() = 0x0'; do
		grep -q "firmware: vCPU $_fn" "$T/stderr" || fail "no 'vCPU $_fn' in lkvm's trace"
	done
}

# Without --sdei the guest finds no SDEI, makes no SDEI call, and the module says why it fails.
sdei_linux_absent() {
	lk_run 300 run -k "$LKVM_KERNEL" -i "$LKVM_INITRD" -c 2 -m 256M --psci=user \
		--debug-firmware -p "-- sh /tests/sdei-module.sh load"
	expect_rc 0
	expect_no_console 'SDEIv'
	expect_console 'lkvm-sdei-nmi: cannot register SDEI event 1000: -5 (no SDEI firmware: run lkvm with --psci=user --sdei)'
	expect_console '^sdei-module: load failed$'
	! grep -q 'firmware: vCPU [0-9]* HVC 0xc40000[23]' "$T/stderr" ||
		fail "SDEI calls reached lkvm: $(grep -m 3 'HVC 0xc40000[23]' "$T/stderr")"
}

# Idle, then busy vCPUs take the NMI; the guest goes on and powers off cleanly.
sdei_linux_nmi() {
	sdei_vm 3 sdei-nmi.sh --debug-firmware
	wait_console '^sdei-nmi: waiting (idle)'
	# The boot CPU, where the shell waits in read, and CPU 2, which idles in WFI (cpu_do_idle).
	nmi_until 0 'interrupted kernel at '
	nmi_until 2 'interrupted kernel at (cpu_do_idle|arch_cpu_idle|default_idle_call)\+'
	echo >&3
	wait_console '^sdei-nmi: waiting (busy)'
	sleep 1	# the loop gets going on CPU 1
	nmi_until 1 'interrupted user at '
	echo >&3
	sdei_vm_end
	expect_console '^sdei-nmi: the busy loop survived$'
	for _c in 0 1 2; do
		expect_console "^sdei-nmi: ran on CPU $_c\$"
	done
	expect_console '^sdei-module: unloaded$'
	expect_console 'lkvm-sdei-nmi: SDEI event 1000 unregistered'
	handled 0 1 2
	# Linux resumes an idle CPU (interrupts masked) with COMPLETE (0xc4000025), and a user-space
	# loop with COMPLETE_AND_RESUME (0xc4000026) at its IRQ vector, as if an IRQ had come.
	grep -q 'firmware: vCPU 2 HVC 0xc4000025(0x0) = does not return' "$T/stderr" ||
		fail "no EVENT_COMPLETE from vCPU 2 in lkvm's trace"
	grep -q 'firmware: vCPU 1 HVC 0xc4000026(0x[0-9a-f]*[4c]80) = does not return' "$T/stderr" ||
		fail "no EVENT_COMPLETE_AND_RESUME to an IRQ vector (VBAR + 0x480) from vCPU 1 in lkvm's trace"
}

# CPU offline masks the vCPU (Linux unregisters its private events first), online registers them
# again and unmasks it; an offline vCPU takes no NMI.
sdei_linux_hotplug() {
	sdei_vm 2 sdei-hotplug.sh
	wait_console '^sdei-hotplug: waiting (online)'
	sdei_list_expect 0 on unmasked registered
	sdei_list_expect 1 on unmasked registered
	nmi_until 1 ''
	echo >&3
	wait_console '^sdei-hotplug: waiting (offline)'
	sdei_list_expect 0 on unmasked registered
	sdei_list_expect 1 off masked unregistered
	"$LKVM" nmi --name "$name" --cpu 1 >"$T/refused" 2>&1 </dev/null &&
		fail "lkvm nmi to vCPU 1, offline, succeeded: $(cat "$T/refused")"
	grep -q '^lkvm: ' "$T/refused" || fail "lkvm nmi to an offline vCPU: $(cat "$T/refused")"
	echo >&3
	wait_console '^sdei-hotplug: waiting (online again)'
	sdei_list_expect 1 on unmasked registered
	nmi_until 1 ''
	echo >&3
	sdei_vm_end
	expect_console '^sdei-hotplug: offline1=ok$'
	expect_console '^sdei-hotplug: online1=ok$'
	expect_console '^sdei-module: unloaded$'
	handled 1
}

# A reboot with the module loaded: the next boot starts with no event registered, and the module
# registers and takes the NMI again.
sdei_linux_reboot() {
	sdei_vm 2 sdei-reboot.sh
	for boot in 1 2; do
		wait_console '^sdei-reboot: waiting (boot)' "$boot"
		sdei_list_expect 0 on unmasked unregistered
		sdei_list_expect 1 on unmasked unregistered
		echo >&3
		wait_console '^sdei-reboot: waiting (loaded)' "$boot"
		sdei_list_expect 1 on unmasked registered
		nmi_until 1 ''
		[ "$boot" = 2 ] || echo reboot >&3
	done
	echo off >&3
	sdei_vm_end
	[ "$(count_console '^Booting Linux')" = 2 ] || fail "the guest booted $(count_console '^Booting Linux') times, expected 2"
	# The second boot's module counted the second boot's NMIs only.
	expect_console "^sdei-module: count=1 per_cpu=1:1$"
	[ "$(count_console 'sdei_nmi_handler+0x')" = 2 ] || fail "not one backtrace per boot"
	grep -q '"event":"system_reset"' "$T/events" || fail "no system_reset in lkvm's events"
}

run_test sdei-linux-probe sdei_linux_probe
run_test sdei-linux-absent sdei_linux_absent
run_test sdei-linux-nmi sdei_linux_nmi
run_test sdei-linux-hotplug sdei_linux_hotplug
run_test sdei-linux-reboot sdei_linux_reboot
