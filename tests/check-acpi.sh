#!/bin/sh
# Checks the ACPI tables that an --acpi system test dumped (tests/system/t-acpi.sh, --dump-acpi)
# with Debian's iasl (acpica-tools), on the build machine: every table disassembles with no error
# or warning, and the DSDT's disassembly compiles back with no error or warning, to the same AML.
# The RSDP is no table with a header: this iasl (20200925) cannot read it from a file, so its
# signature and both checksums are checked here.
# Usage: tests/check-acpi.sh DIR NAME   (prints "PASS NAME" or "FAIL NAME: why")
set -u
dir=$1 name=$2
. "$(dirname "$0")/check-lib.sh"
command -v iasl >/dev/null || die "no iasl (scripts/install-deps.sh check installs acpica-tools)"
[ -s "$dir/dsdt.dat" ] && [ -s "$dir/facp.dat" ] || die "no tables in $dir"
sum() { od -An -tu1 -v -N "$2" "$1" | tr -s ' ' '\n' | awk '{ s += $1 } END { print s % 256 }'; }
[ "$(head -c 8 "$dir/rsdp.dat")" = "RSD PTR " ] || die "rsdp.dat: no RSDP signature"
[ "$(stat -c %s "$dir/rsdp.dat")" = 36 ] || die "rsdp.dat: not 36 bytes"
[ "$(sum "$dir/rsdp.dat" 20)" = 0 ] && [ "$(sum "$dir/rsdp.dat" 36)" = 0 ] ||
	die "rsdp.dat: bad checksum"
for f in "$dir"/*.dat; do
	t=$(basename "$f" .dat)
	[ "$t" != rsdp ] || continue
	cp "$f" "$work/$t.dat"
	( cd "$work" && iasl -d "$t.dat" ) >"$work/$t.log" 2>&1 || die "iasl -d $t.dat: $(tail -n 3 "$work/$t.log")"
	# iasl reports problems in its log and marks fields it cannot decode in the disassembly.
	if grep -iE 'error|warning' "$work/$t.log" "$work/$t.dsl" | grep -v 'Compiler ID\|Errors\b.*0'; then
		die "iasl -d $t.dat complains (above)"
	fi
done
# -oa: no optimizations, which would shorten names (\_SB_ to _SB_): the same AML as lkvm's.
( cd "$work" && iasl -oa -p dsdt-again dsdt.dsl ) >"$work/compile.log" 2>&1 ||
	die "the DSDT's disassembly does not compile: $(grep -iE 'error|warning' "$work/compile.log" | head -n 3)"
grep -qE 'Compilation successful\. +0 Errors, +0 Warnings, +0 Remarks' "$work/compile.log" ||
	die "the DSDT recompiles with complaints: $(grep -E 'Errors|Warning|Remark' "$work/compile.log" | head -n 3)"
# The header differs (iasl's compiler ID and checksum): the AML after it must not.
tail -c +37 "$work/dsdt.dat" >"$work/ours.aml"
tail -c +37 "$work/dsdt-again.aml" >"$work/again.aml"
cmp -s "$work/ours.aml" "$work/again.aml" || die "the DSDT recompiled differs from lkvm's AML"
check_end
