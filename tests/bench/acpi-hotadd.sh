#!/bin/sh
# ACPI vCPU hot-add latency (a `make bench` row; tests/bench/run.sh runs it, or run it alone with
# scripts/lkvm-host tests/bench/acpi-hotadd.sh): from `lkvm cpu plug` to the vCPU online in the
# guest, which waits for cpu2 to appear in sysfs and onlines it itself (no udev), in
# milliseconds of host uptime (10 ms steps); prints the median of CYCLES (default 7).
set -eu
: "${LKVM:=lkvm}"
cycles=${1:-7}
tmp=/tmp/lkvm-bench-hotadd
rm -rf "$tmp"
mkdir -p "$tmp"
now_ms() { awk '{ printf "%d", $1 * 1000 }' /proc/uptime; }
name=bench-hotadd-$$

# Each guest line "acpi-hp: bench ready|online N" is stamped as it arrives (a blocking read).
"$LKVM" run --name "$name" -k "$LKVM_KERNEL" -i "$LKVM_INITRD" --acpi --max-cpus 4 -c 1 \
	--psci=user -m 256M -p "quiet -- sh /tests/acpi-hotplug.sh bench $cycles" </dev/null 2>"$tmp/stderr" |
	while IFS= read -r line; do
		case $line in
		*"acpi-hp: bench "*) echo "$(now_ms) ${line#*acpi-hp: bench }" | tr -d '\r' >>"$tmp/lines" ;;
		esac
	done &
# stamp WHAT N: waits (60 s at most) for the guest's line and prints its time.
stamp() {
	for _i in $(seq 3000); do
		_t=$(awk -v w="$1" -v n="$2" '$2 == w && $3 == n { print $1 }' "$tmp/lines" 2>/dev/null) || true
		[ -z "$_t" ] || { echo "$_t"; return 0; }
		sleep 0.02
	done
	echo "acpi-hotadd: no '$1 $2' from the guest" >&2
	cat "$tmp/stderr" >&2
	exit 1
}
for n in $(seq "$cycles"); do
	stamp ready "$n" >/dev/null
	t0=$(now_ms)
	"$LKVM" cpu plug --name "$name" 2
	echo $(($(stamp online "$n") - t0)) >>"$tmp/ms"
	"$LKVM" cpu unplug --name "$name" 2
done
wait
sort -n "$tmp/ms" | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
