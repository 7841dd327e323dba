#!/bin/sh
# The NMI test module across a guest reboot (tests/system/t-sdei-linux.sh answers each
# "sdei-reboot: waiting" line after checking `lkvm sdei list` or sending `lkvm nmi`). At the
# "loaded" prompt, "reboot" reboots the guest with the module loaded; anything else unloads it
# and powers off.
echo "sdei-reboot: waiting (boot)"
read -r _
sh /tests/sdei-module.sh load || exit 1
echo "sdei-reboot: waiting (loaded)"
read -r line
if [ "$line" = reboot ]; then
	echo "sdei-reboot: rebooting"
	reboot -f
fi
sh /tests/sdei-module.sh counts
sh /tests/sdei-module.sh unload
