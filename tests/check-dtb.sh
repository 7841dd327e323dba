#!/bin/sh
# Checks the device tree that lkvm --dump-dtb wrote in the system tests (tests/system/t-dtb.sh:
# -c 2 -m 256M -i INITRD -p lkvmdtb=1; t-its.sh: the same with --irqchip gicv3-its and virtio-pci).
# Runs on the build machine, where dtc is.
# Usage: tests/check-dtb.sh [DTB [its]]     (default: build/host-out/lkvm.dtb, without an ITS;
#        "its": the DTB must have the GICv3 ITS and a PCI bridge whose MSIs go there)
# Prints "PASS name" / "FAIL name: reason" per check, then "N passed, N failed"; exits 1 if one failed.
# The decompiled source is left next to the DTB (.dts) for reading.
set -u

top=$(cd "$(dirname "$0")/.." && pwd)
dtb=${1:-$top/build/host-out/lkvm.dtb}
its=${2:-}
passed=0
failed=0

tag=dtb${its:+-its}
pass() { passed=$((passed + 1)); echo "PASS $tag-$1"; }
fail() { failed=$((failed + 1)); echo "FAIL $tag-$1: $2"; }
# check NAME REASON COMMAND...: PASS if COMMAND succeeds, else FAIL with REASON.
check() {
	_n=$1 _r=$2
	shift 2
	if "$@" >/dev/null 2>&1; then pass "$_n"; else fail "$_n" "$_r"; fi
}
get() { fdtget -t s "$dtb" "$@" 2>/dev/null; }     # get NODE PROP: a property as string(s)
props() { fdtget -p "$dtb" "$1" 2>/dev/null; }     # props NODE: its property names
nodes() { fdtget -l "$dtb" "$1" 2>/dev/null; }     # nodes NODE: its subnode names
has() { props "$1" | grep -qx -e "$2"; }           # has NODE PROP
# node_with_compat COMPAT: the path of the first node (at the root) whose compatible has COMPAT.
node_with_compat() {
	for _c in $(nodes /); do
		get "/$_c" compatible | tr ' ' '\n' | grep -qx -e "$1" && { echo "/$_c"; return 0; }
	done
	return 1
}

summary() {
	echo "$passed passed, $failed failed"
	[ "$failed" = 0 ]
}

if [ ! -s "$dtb" ]; then
	fail present "$dtb: missing (did the dump-dtb system test run?)"
	summary
	exit 1
fi
if dtc -I dtb -O dts -o "${dtb%.dtb}.dts" "$dtb" 2>"${dtb%.dtb}.dtc-warnings"; then
	pass decompiles
	# dtc's style warnings do not make a DTB unusable: show them, don't fail.
	sed 's/^/    dtc: /' "${dtb%.dtb}.dtc-warnings"
	rm -f "${dtb%.dtb}.dtc-warnings"
else
	fail decompiles "dtc -I dtb -O dts failed: $(head -n 1 "${dtb%.dtb}.dtc-warnings")"
	summary
	exit 1
fi

mem=$(nodes / | grep -m 1 '^memory' || true)
if [ -z "$mem" ]; then
	fail memory "no /memory node"
else
	check memory "/$mem: needs device_type = \"memory\" and reg" \
		sh -c '[ "$(fdtget -t s "$1" "$2" device_type)" = memory ] && fdtget "$1" "$2" reg' sh "$dtb" "/$mem"
fi

cpus=$(nodes /cpus | grep '^cpu@' || true)
ncpus=$(echo "$cpus" | grep -c . || true)
if [ "$ncpus" != 2 ]; then
	fail cpus "/cpus has $ncpus cpu@ nodes, expected 2 (-c 2)"
else
	bad=
	for c in $cpus; do
		has "/cpus/$c" reg && [ "$(get "/cpus/$c" enable-method)" = psci ] || bad="$bad $c"
	done
	if [ -z "$bad" ]; then pass cpus; else fail cpus "without reg or enable-method = \"psci\":$bad"; fi
fi

compat=$(get /psci compatible || true)
check psci-compatible "/psci compatible is '$compat'" \
	[ "$compat" = "arm,psci-1.0 arm,psci-0.2 arm,psci" ]
method=$(get /psci method || true)
check psci-method "/psci method is '$method', expected hvc or smc" \
	sh -c '[ "$1" = hvc ] || [ "$1" = smc ]' sh "$method"

gic=$(node_with_compat arm,gic-v3 || true)
if [ -n "$gic" ] && has "$gic" interrupt-controller && has "$gic" reg; then
	pass gic-v3
else
	fail gic-v3 "no node with compatible \"arm,gic-v3\", interrupt-controller and reg"
fi

# The ITS: a child of the GIC (which then needs ranges), an MSI controller with one cell (the
# DeviceID); the PCI bridge's msi-map points at it, requester IDs mapped 1:1.
msic=$(nodes "$gic" | grep '^msi-controller@' || true)
if [ -z "$its" ]; then
	check no-its "the default has an ITS: $msic" [ -z "$msic" ]
elif [ -z "$msic" ]; then
	fail its "no msi-controller@ node under $gic"
else
	m="$gic/$msic"
	check its "$m: needs compatible arm,gic-v3-its, msi-controller, #msi-cells = <1>, reg" \
		sh -c '[ "$(fdtget -t s "$1" "$2" compatible)" = arm,gic-v3-its ] &&
			fdtget "$1" "$2" msi-controller && [ "$(fdtget "$1" "$2" "#msi-cells")" = 1 ] &&
			[ "$(fdtget -t x "$1" "$2" reg)" = "0 c020000 0 20000" ] &&
			fdtget "$1" "$3" ranges' sh "$dtb" "$m" "$gic"
	ph=$(fdtget "$dtb" "$m" phandle 2>/dev/null || true)
	pci=$(node_with_compat pci-host-ecam-generic || true)
	check its-pci-msi "$pci: msi-map (0 <its> 0 0x100) must point at $m ($ph)" \
		sh -c '[ -n "$3" ] && [ "$(fdtget "$1" "$2" msi-map)" = "0 $3 0 256" ]' \
		sh "$dtb" "$pci" "$ph"
fi

check timer "no node with compatible \"arm,armv8-timer\"" node_with_compat arm,armv8-timer

uart=$(node_with_compat ns16550a || true)
if [ -n "$uart" ] && has "$uart" reg; then pass uart; else fail uart "no node with compatible \"ns16550a\" and reg"; fi

bootargs=$(get /chosen bootargs || true)
check chosen-bootargs "bootargs '$bootargs' lack the -p parameters" \
	sh -c 'case " $1 " in *" lkvmdtb=1 "*) ;; *) exit 1 ;; esac' sh "$bootargs"
stdout=$(get /chosen stdout-path || true)
check chosen-stdout-path "stdout-path '$stdout' is not the ns16550a node ('$uart')" \
	sh -c '[ -n "$2" ] && [ "${1%%:*}" = "$2" ]' sh "$stdout" "$uart"
# A 1- or 2-cell number as one hex string.
hexprop() {
	fdtget -t x "$dtb" "$1" "$2" 2>/dev/null |
		awk '{ s = ""; for (i = 1; i <= NF; i++) { while (length($i) < 8) $i = "0" $i; s = s $i } print s }'
}
start=$(hexprop /chosen linux,initrd-start)
end=$(hexprop /chosen linux,initrd-end)
check chosen-initrd "linux,initrd-start/end missing or empty range ('$start', '$end')" \
	sh -c '[ -n "$1" ] && [ -n "$2" ] && [ $((0x$2)) -gt $((0x$1)) ]' sh "$start" "$end"
check chosen-kaslr-seed "no kaslr-seed in /chosen" has /chosen kaslr-seed
check chosen-rng-seed "no rng-seed in /chosen" has /chosen rng-seed

summary
