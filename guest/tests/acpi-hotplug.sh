#!/bin/sh
# ACPI vCPU hot-add seen from a Linux guest booted with --acpi, 1 of 4 vCPUs plugged
# (tests/system/t-acpi-hotplug.sh drives it: it answers each "acpi-hp: waiting WHAT" line with a
# newline after acting on the VM with `lkvm cpu ...`). No udev: the script onlines cpu2 itself
# once it appears. Usage: acpi-hotplug.sh CYCLES, or acpi-hotplug.sh commands: then it reports
# and runs the commands the host types (registered yes|no, online, report WHAT, run SHELL-COMMAND, reboot, off).
cpu=/sys/devices/system/cpu

registered() { [ -e $cpu/cpu2 ] && echo yes || echo no; }
# report WHAT: the guest's view, for the host to compare with `lkvm cpu list`.
report() {
	echo "acpi-hp: $1 online=$(cat $cpu/online) enabled=$(cat $cpu/enabled) cpu2=$(registered)"
}
step() {
	echo "acpi-hp: waiting $1"
	read -r _
}
# wait_registered yes|no: until cpu2 is (or is no longer) registered, 60 s at most.
wait_registered() {
	_i=0
	while [ "$(registered)" != "$1" ]; do
		_i=$((_i + 1))
		[ "$_i" -le 600 ] || { echo "acpi-hp: cpu2 registered is never $1"; return 1; }
		sleep 0.1
	done
}
online2() {
	if err=$( (echo 1 >$cpu/cpu2/online) 2>&1); then
		echo "acpi-hp: online2=ok"
	else
		echo "acpi-hp: online2=failed: $err"
	fi
}
# cpu2's user time in /proc/stat, in ticks.
ticks2() { awk '$1 == "cpu2" { print $2 }' /proc/stat; }

# The host types the steps: what happens across reboots.
commands() {
	report boot
	for d in /sys/bus/acpi/devices/ACPI0007:*; do
		echo "acpi-hp: processor uid=$(cat "$d/uid") status=$(cat "$d/status")"
	done
	while read -r cmd arg; do
		case $cmd in
		registered) wait_registered "$arg" ;;
		online) online2 ;;
		report) report "$arg" ;;
		run)
			echo "# $arg"
			eval "$arg"
			;;
		reboot) reboot -f ;;
		off) poweroff -f ;;
		esac
		echo "acpi-hp: done $cmd"
	done
}

# The hot-add benchmark (tests/bench/acpi-hotadd.sh): cpu2 onlined as soon as it appears.
bench() {
	for n in $(seq "$1"); do
		echo "acpi-hp: bench ready $n"
		until [ -e $cpu/cpu2/online ]; do sleep 0.01; done
		echo 1 >$cpu/cpu2/online && echo "acpi-hp: bench online $n"
		wait_registered no
	done
}

[ "$1" = commands ] && { commands; exit; }
[ "$1" = bench ] && { bench "$2"; exit; }
cycles=$1
report boot
online2
step plug
wait_registered yes
online2
report plugged
# Load on cpu2: a busy loop pinned to it; cpu2's user time must grow.
t0=$(ticks2)
taskset -c 2 sh -c 'i=0; while [ $i -lt 200000 ]; do i=$((i + 1)); done'
echo "acpi-hp: load ticks=$(($(ticks2) - t0))"
step unplug
wait_registered no
report unplugged
online2

n=1
while [ "$n" -le "$cycles" ]; do
	step "plug $n"
	wait_registered yes && online2
	report "cycle $n on"
	step "unplug $n"
	wait_registered no
	report "cycle $n off"
	n=$((n + 1))
done

# A registered cpu2 that stays offline is ejected all the same.
step "plug offline"
wait_registered yes
report "offline plugged"
step "unplug offline"
wait_registered no
report "offline unplugged"

# Eject disabled in the guest: the request stays pending in lkvm until the guest ejects cpu2
# itself (through sysfs, which calls _EJ0).
step "plug refuse"
wait_registered yes && online2
echo 0 >/sys/firmware/acpi/hotplug/processor/enabled
step "unplug refused"
echo 1 >/sys/firmware/acpi/hotplug/processor/enabled
report "refused"
step "guest eject"
for d in /sys/bus/acpi/devices/ACPI0007:*; do
	[ "$(cat "$d/uid")" = 2 ] && echo 1 >"$d/eject"
done
wait_registered no
report "guest ejected"
step end
