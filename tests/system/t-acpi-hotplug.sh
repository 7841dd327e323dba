# ACPI vCPU hot-add (--acpi --max-cpus 4 -c 1 --psci=user), the way upstream Linux does it: the
# MADT has vCPUs 1-3 online-capable, `lkvm cpu plug` enables one and notifies the guest through
# the Generic Event Device, `lkvm cpu unplug` asks the guest to eject it and the guest's _EJ0
# unplugs it. guest/tests/acpi-hotplug.sh is the guest's side: it reports what it sees before each
# "acpi-hp: waiting" line, and the host checks that `lkvm cpu list` agrees at every step.

# cpu2_is STATE: `lkvm cpu list` shows vCPU 2 in STATE (absent, on, on,eject...).
cpu2_is() {
	"$LKVM" cpu list --name "$name" >"$T/list" || fail "lkvm cpu list failed"
	grep -qE "^2 +0x[0-9a-f]+ +$1 " "$T/list" || fail "cpu list: vCPU 2 not $1: $(cat "$T/list")"
}

# step WHAT: waits for the guest's "acpi-hp: waiting WHAT", then the commands given after it.
step() {
	_what=$1
	shift
	wait_console "^acpi-hp: waiting $_what\$"
	"$@"
}
go() { echo >&3; }

# agree REPORT ONLINE CPU2 STATE: the guest's report REPORT shows ONLINE and cpu2 registered or
# not (CPU2), and lkvm shows vCPU 2 in STATE.
agree() {
	wait_console "^acpi-hp: $1 online=$2 enabled=[0-9,-]* cpu2=$3\$"
	cpu2_is "$4"
}

acpi_hotplug() { # IRQCHIP
	name=acpi-hp-$$
	rm -rf "$LKVM_OUT/acpi-hotplug-$1"
	vm_start "$name" -k "$LKVM_KERNEL" -i "$LKVM_INITRD" --acpi --max-cpus 4 -c 1 --psci=user \
		--irqchip "$1" -m 256M --dump-acpi "$LKVM_OUT/acpi-hotplug-$1" -p "-- sh /tests/acpi-hotplug.sh 20"
	"$LKVM" events --name "$name" >"$T/events" 2>&1 &
	step plug agree boot 0 no absent
	wait_console '^acpi-hp: online2=failed: .*\(No such file\|nonexistent\)'
	# The boot vCPU cannot be unplugged; plugging a plugged vCPU changes nothing.
	"$LKVM" cpu unplug --name "$name" 0 >"$T/refused" 2>&1 && fail "unplug of vCPU 0 succeeded"
	grep -q '^lkvm: vCPU 0: .*boots' "$T/refused" || fail "vCPU 0's unplug: $(cat "$T/refused")"
	lkvm_ok cpu plug --name "$name" 0
	lkvm_ok cpu plug --name "$name" 2
	lkvm_ok cpu plug --name "$name" 2
	go
	step unplug agree plugged 0,2 yes on
	expect_load
	lkvm_ok cpu unplug --name "$name" 2
	go
	step "plug 1" agree unplugged 0 no absent
	for _n in $(seq 20); do
		lkvm_ok cpu plug --name "$name" 2
		go
		step "unplug $_n" agree "cycle $_n on" 0,2 yes on
		lkvm_ok cpu unplug --name "$name" 2
		go
		if [ "$_n" -lt 20 ]; then
			step "plug $((_n + 1))" agree "cycle $_n off" 0 no absent
		fi
	done
	step "plug offline" agree "cycle 20 off" 0 no absent
	lkvm_ok cpu plug --name "$name" 2
	go
	step "unplug offline" agree "offline plugged" 0 yes off
	lkvm_ok cpu unplug --name "$name" 2
	go
	step "plug refuse" agree "offline unplugged" 0 no absent
	refused_eject
	vm_wait
	expect_rc 0
	expect_no_console 'ACPI.*\(Error\|Warning\)\|Firmware Bug\|^WARNING:\|Call trace:\|Eject incomplete'
	expect_no_console 'acpi-hp: cpu2 registered is never'
	[ "$(count_console '^acpi-hp: online2=ok$')" = 22 ] || fail "cpu2 did not come online 22 times"
	[ "$(count_console 'CPU2 has been hot-added')" = 23 ] || fail "not 23 hot-adds of CPU2"
	# Every plug and unplug made exactly one notification: no duplicate for the repeated ones.
	[ "$(grep -c '"acpi_notify","vcpu":2,"kind":"device_check"' "$T/events")" = 23 ] ||
		fail "not 23 device checks: $(cat "$T/events")"
	[ "$(grep -c '"acpi_notify","vcpu":2,"kind":"eject_request"' "$T/events")" = 23 ] ||
		fail "not 23 eject requests: $(cat "$T/events")"
	[ "$(grep -c '"acpi_eject","vcpu":2' "$T/events")" = 23 ] || fail "not 23 ejects"
	! grep -q '"vcpu":0,"kind"\|"acpi_eject","vcpu":0' "$T/events" || fail "vCPU 0 notified or ejected"
	events_in_order "$T/events" cpu_on_denied:2 plug acpi_notify=device_check cpu_on_granted:2 \
		cpu_start acpi_notify=eject_request cpu_off acpi_eject unplug plug acpi_notify=device_check
	# lkvm timeline marks each notification and eject on vCPU 2's row, and each plug and unplug.
	lkvm_ok timeline -o "$T/timeline.svg" "$T/events"
	sed -n '/id="vcpu2"/,/^<\/g>$/p' "$T/timeline.svg" >"$T/row2"
	for _m in acpi:'"acpi_[a-z]*","vcpu":2[,}]' plug:'"plug","vcpu":2}' unplug:'"unplug","vcpu":2}'; do
		[ "$(grep -c "\"mark ${_m%%:*}\"" "$T/row2")" = "$(grep -c "${_m#*:}" "$T/events")" ] ||
			fail "timeline: vCPU 2's ${_m%%:*} marks are not its events': $(grep -c mark "$T/row2")"
	done
}

# Load on cpu2: the guest's pinned busy loop ran there.
expect_load() {
	wait_console '^acpi-hp: load ticks=[0-9]*$'
	_ticks=$(tr -d '\r' <"$T/console.raw" | sed -n 's/^acpi-hp: load ticks=//p')
	[ "$_ticks" -gt 0 ] || fail "cpu2 ran no user time under the pinned load"
}

# The guest disables ejects: the request stays pending (`on,eject`), a second unplug sends no
# second notification, and the guest's own eject (sysfs) completes it.
refused_eject() {
	lkvm_ok cpu plug --name "$name" 2
	go
	step "unplug refused" cpu2_is on
	lkvm_ok cpu unplug --name "$name" 2
	wait_console 'Eject disabled'
	cpu2_is on,eject
	lkvm_ok cpu unplug --name "$name" 2
	cpu2_is on,eject
	go
	step "guest eject" agree refused 0,2 yes on,eject
	go
	step end agree "guest ejected" 0 no absent
	go
}

# (GICv2: the same device and AML; the emulated test host's GICv3 has no GICv2 compatibility.)
run_test acpi-hotplug-gicv3 acpi_hotplug gicv3

# guest COMMAND [ARG]: has the guest's command loop (acpi-hotplug.sh commands) run it; reboot
# and off do not return: the next boot's lines tell.
guest() {
	case $1 in reboot | off)
		echo "$1" >&3
		return ;;
	esac
	_done=$(($(tr -d '\r' <"$T/console.raw" | grep -c "^acpi-hp: done $1\$") + 1))
	echo "$*" >&3
	wait_console "^acpi-hp: done $1\$" "$_done"
}

# The plan outlives a reboot: the next boot's MADT enables the vCPUs plugged then (Linux brings
# cpu2 up at boot, its _STA 0xF; vCPU 1's stays 0xD), and an unplug sticks the same way.
acpi_hotplug_reboot() {
	name=acpi-hp-reboot-$$
	vm_start "$name" -k "$LKVM_KERNEL" -i "$LKVM_INITRD" --acpi --max-cpus 4 -c 1 --psci=user \
		-m 256M -p "-- sh /tests/acpi-hotplug.sh commands"
	wait_console '^acpi-hp: boot online=0 enabled=0 cpu2=no$'
	lkvm_ok cpu plug --name "$name" 2
	guest registered yes
	guest online
	guest reboot
	wait_console '^acpi-hp: boot online=0,2 enabled=0,2 cpu2=yes$'
	wait_console '^acpi-hp: processor uid=2 status=15$'
	expect_status 1 13
	cpu2_is on
	lkvm_ok cpu unplug --name "$name" 2
	guest registered no
	guest reboot
	wait_console '^acpi-hp: boot online=0 enabled=0 cpu2=no$' 2
	wait_console '^acpi-hp: processor uid=2 status=13$'
	cpu2_is absent
	guest off
	vm_wait
	expect_rc 0
	[ "$(count_console '^smp: Brought up 1 node, 2 CPUs$')" = 1 ] || fail "not one boot with 2 CPUs"
	[ "$(count_console '^smp: Brought up 1 node, 1 CPU$')" = 2 ] || fail "not two boots with 1 CPU"
}
# expect_status UID STATUS: the processor device's _STA as Linux read it, this boot.
expect_status() {
	[ "$(tr -d '\r' <"$T/console.raw" | grep "^acpi-hp: processor uid=$1 " | tail -n 1)" = \
		"acpi-hp: processor uid=$1 status=$2" ] || fail "processor $1's status is not $2"
}
run_test acpi-hotplug-reboot acpi_hotplug_reboot
