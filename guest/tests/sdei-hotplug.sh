#!/bin/sh
# A Linux guest with 2 vCPUs and the NMI test module takes cpu1 offline and back online
# (tests/system/t-sdei-linux.sh answers each "sdei-hotplug: waiting" line with a newline after
# checking `lkvm sdei list` and sending `lkvm nmi` to vCPU 1). Linux masks a CPU going offline
# (after unregistering its private events) and, coming online, registers them again and unmasks.
sh /tests/sdei-module.sh load || exit 1
echo "sdei-hotplug: waiting (online)"
read -r _
echo 0 >/sys/devices/system/cpu/cpu1/online && echo "sdei-hotplug: offline1=ok"
echo "sdei-hotplug: waiting (offline)"
read -r _
echo 1 >/sys/devices/system/cpu/cpu1/online && echo "sdei-hotplug: online1=ok"
echo "sdei-hotplug: waiting (online again)"
read -r _
sh /tests/sdei-module.sh counts
sh /tests/sdei-module.sh unload
