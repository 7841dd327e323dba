#!/bin/sh
# lkvm's NMI test module (guest/module/sdei_nmi.c, in the initramfs as /lib/modules/sdei_nmi.ko)
# for the Linux-guest SDEI tests (tests/system/t-sdei-linux.sh).
# Usage: sh /tests/sdei-module.sh load|unload|counts
# Linux exports neither its SDEI API nor kallsyms_lookup_name to modules: load passes that
# function's address, from /proc/kallsyms, and the module finds the API with it.
p=/sys/module/sdei_nmi/parameters
case "${1:-}" in
load)
	addr=$(awk '$3 == "kallsyms_lookup_name" { print $1; exit }' /proc/kallsyms)
	# The module's own reason for a refusal is on the console (its pr_err).
	if insmod /lib/modules/sdei_nmi.ko kallsyms_lookup_name=0x"$addr"; then
		echo "sdei-module: loaded"
	else
		echo "sdei-module: load failed"
		exit 1
	fi
	;;
unload)
	if rmmod sdei_nmi; then
		echo "sdei-module: unloaded"
	else
		echo "sdei-module: unload failed"
		exit 1
	fi
	;;
counts)
	echo "sdei-module: count=$(cat $p/count) per_cpu=$(cat $p/per_cpu)"
	;;
*)
	echo "usage: $0 load|unload|counts" >&2
	exit 2
	;;
esac
