#!/bin/sh
# Runs in a Linux guest under --psci=user with 4 vCPUs (tests/system/t-psci-linux.sh checks the
# output): every CPU came up, the firmware versions Linux found, and CPUs going offline and back
# online through sysfs (CPU_OFF, AFFINITY_INFO, CPU_ON).
echo "online=$(cat /sys/devices/system/cpu/online)"
dmesg | grep -E 'psci: PSCIv|SMC Calling Convention'
for c in 1 2 3; do
	echo 0 >/sys/devices/system/cpu/cpu$c/online || echo "offline-failed=$c"
done
echo "after-offline=$(cat /sys/devices/system/cpu/online)"
for c in 3 1 2; do
	echo 1 >/sys/devices/system/cpu/cpu$c/online || echo "online-failed=$c"
done
echo "after-online=$(cat /sys/devices/system/cpu/online)"
echo "nproc=$(grep -c ^processor /proc/cpuinfo)"
