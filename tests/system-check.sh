#!/bin/sh
# The system tests as `make system-check` runs them: tests/system/run.sh in the arm64 KVM host
# (scripts/lkvm-host), then tests/check-dtb.sh on the DTB the dump-dtb test left in build/host-out
# (dtc runs here, on the build machine). Ends with one line "N passed, N failed" for all of them.
# Usage: tests/system-check.sh          (LKVM_TEST=REGEX: only the system tests whose name matches)
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
out="$top/build/host-out"

# The whole suite takes about 20 minutes on a 2-core machine: more room than lkvm-host's default.
LKVM_HOST_TIMEOUT=${LKVM_HOST_TIMEOUT:-2700} "$top/scripts/lkvm-host" "$top/tests/system/run.sh"
host=$?
results="$out/results"
[ -f "$results" ] || : >"$results"
if grep -q ' dump-dtb\b' "$results"; then
	"$top/tests/check-dtb.sh" "$out/lkvm.dtb" | tee "$out/dtb-results"
	grep -E '^(PASS|FAIL) ' "$out/dtb-results" >>"$results"
fi
if grep -q ' its-pci-devices\b' "$results"; then
	"$top/tests/check-dtb.sh" "$out/lkvm-its.dtb" its | tee "$out/dtb-its-results"
	grep -E '^(PASS|FAIL) ' "$out/dtb-its-results" >>"$results"
fi
# iasl on the tables the --acpi tests dumped (tests/system/t-acpi.sh).
for t in acpi-boot acpi-devices-mmio acpi-devices-pci acpi-its acpi-hotplug-gicv3; do
	if grep -q "^PASS $t\b" "$results"; then
		"$top/tests/check-acpi.sh" "$out/$t" "iasl-$t" | tee -a "$results"
	fi
done
# xmllint and headless Chromium on the timeline hotplug-linux drew (tests/system/t-hotplug.sh).
if grep -q '^PASS hotplug-linux\b' "$results"; then
	"$top/tests/check-timeline.sh" "$out/hotplug-timeline.svg" timeline-render | tee -a "$results"
fi
# run.sh exits 1 when a test failed; any other failure (timeout, host died) has no FAIL line yet.
if [ "$host" != 0 ] && { [ "$host" != 1 ] || ! grep -q '^FAIL ' "$results"; }; then
	echo "FAIL system-tests: scripts/lkvm-host exited with status $host" | tee -a "$results"
fi
passed=$(grep -c '^PASS ' "$results")
failed=$(grep -c '^FAIL ' "$results")
skipped=$(grep -c '^SKIP ' "$results")
line="$passed passed, $failed failed"
[ "$skipped" = 0 ] || line="$line, $skipped skipped"
echo
echo "$line"
[ "$failed" = 0 ] && [ "$host" = 0 ]
