#!/bin/sh
# Offlines and onlines cpu1 CYCLES times (default 150) as fast as the guest can, while
# tests/system/t-hotplug.sh polls `lkvm cpu list` and `lkvm events` from the host.
n=${1:-150}
echo "cycle: start"
i=0
while [ "$i" -lt "$n" ]; do
	echo 0 >/sys/devices/system/cpu/cpu1/online || { echo "cycle: offline failed at $i"; exit 1; }
	echo 1 >/sys/devices/system/cpu/cpu1/online || { echo "cycle: online failed at $i"; exit 1; }
	i=$((i + 1))
done
echo "cycle: done $i"
