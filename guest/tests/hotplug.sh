#!/bin/sh
# vCPU hot-add seen from a Linux guest booted with 1 of 4 vCPUs plugged
# (tests/system/t-hotplug.sh drives it: it answers each "hotplug: waiting" line with a newline
# after acting on the VM with `lkvm cpu ...`).
online2() {
	if err=$( (echo 1 >/sys/devices/system/cpu/cpu2/online) 2>&1); then
		echo "online2=ok"
	else
		echo "online2=failed: $err"
	fi
}
echo "online=$(cat /sys/devices/system/cpu/online)"
online2
echo "hotplug: waiting for plug"
read -r _
online2
echo "nproc=$(grep -c ^processor /proc/cpuinfo)"
echo "hotplug: waiting for a refused unplug"
read -r _
echo 0 >/sys/devices/system/cpu/cpu2/online && echo "offline2=ok"
echo "hotplug: waiting for unplug"
read -r _
online2
