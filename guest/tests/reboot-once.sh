#!/bin/sh
# Reboots unless the console says "off" within 5 seconds of the prompt. The test types "off" at
# the second prompt: the guest then powers off, which proves one restart and a clean end.
echo "reboot-once: waiting"
if read -t 5 line && [ "$line" = off ]; then
	echo "second boot: powering off"
	poweroff -f
fi
echo "rebooting"
reboot -f
