#!/bin/sh
# Checks that a built lkvm carries the Makefile's hardening (HARDEN, HARDEN_LD): fortified libc
# calls, stack canaries and RELRO always; PIE and BIND_NOW when it is dynamically linked.
# Usage: tests/check-hardening.sh [LKVM]     prints one PASS/FAIL line per property
set -u
bin=${1:-lkvm}
fail=0
check() {
	if eval "$2"; then echo "PASS hardening-$1"; else echo "FAIL hardening-$1 ($bin)"; fail=1; fi
}
syms=$(readelf -sW "$bin" 2>/dev/null)
headers=$(readelf -lhdW "$bin" 2>/dev/null)
check fortify 'echo "$syms" | grep -q "__[a-z_]*_chk\b"'
check stack-protector 'echo "$syms" | grep -q "__stack_chk_fail"'
check relro 'echo "$headers" | grep -q GNU_RELRO'
if echo "$headers" | grep -q '(DYNAMIC)\|(NEEDED)'; then
	check pie 'echo "$headers" | grep -q "Type: *DYN"'
	check bind-now 'echo "$headers" | grep -q "BIND_NOW\|Flags: NOW"'
fi
exit $fail
