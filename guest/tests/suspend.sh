#!/bin/sh
# Suspend to RAM (PSCI SYSTEM_SUSPEND after the other CPUs go offline). The console's interrupt
# is made a wake source, so a line typed on lkvm's stdin wakes the guest; then it reports.
echo "states=$(cat /sys/power/state)"
echo enabled >/sys/class/tty/ttyS0/power/wakeup
echo "suspending"
echo mem >/sys/power/state && echo "resumed online=$(cat /sys/devices/system/cpu/online)"
