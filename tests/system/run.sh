#!/bin/sh
# lkvm's system tests. They need an arm64 host with KVM: run them with
#   scripts/lkvm-host tests/system/run.sh        (LKVM_TEST=REGEX: only the tests whose name matches)
# Every t-*.sh here defines test functions and registers them with run_test (see lib.sh).
# Prints "PASS name" / "FAIL name: reason" per test (also in $LKVM_OUT/results), then the line
# "N passed, N failed"; exits non-zero if a test failed.
set -u
dir=${LKVM_TESTS:-$(cd "$(dirname "$0")" && pwd)}
. "$dir/lib.sh"

# A previous run that died mid-test may have left /dev/kvm moved away (t-bad-input.sh).
[ -e /dev/kvm ] || [ ! -e /dev/kvm.off ] || mv /dev/kvm.off /dev/kvm
command -v "$LKVM" >/dev/null || { echo "lkvm-host: no lkvm ($LKVM)" >&2; exit 1; }

start=$(date +%s)
for t in "$dir"/t-*.sh; do
	. "$t"
done
say "system tests took $(($(date +%s) - start))s"
summary
