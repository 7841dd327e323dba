#!/bin/sh
# Runs the system tests RUNS times in a row (make soak RUNS=N; LKVM_TEST=REGEX narrows them) and
# prints, per test that failed at least once, how often: a flaky test is a defect to fix.
# Each run's results stay in build/soak/run-N; the table is also in build/soak/summary.
# Exit status: 0 if every run passed, 1 otherwise.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
runs=${1:-5}
soak="$top/build/soak"
case $runs in '' | *[!0-9]* | 0) echo "lkvm: soak: RUNS=$runs: not a positive number" >&2; exit 2 ;; esac
rm -rf "$soak"
mkdir -p "$soak"
for i in $(seq 1 "$runs"); do
	echo "soak: run $i of $runs"
	"$top/tests/system-check.sh" >"$soak/run-$i.log" 2>&1
	cp "$top/build/host-out/results" "$soak/run-$i" 2>/dev/null || : >"$soak/run-$i"
	tail -n 1 "$soak/run-$i.log"
	# A run that died before its FAIL lines counts as a failure of the whole suite.
	grep -q '^[0-9]* passed, 0 failed' "$soak/run-$i.log" || grep -q '^FAIL ' "$soak/run-$i" ||
		echo "FAIL system-tests: the run did not finish (build/soak/run-$i.log)" >>"$soak/run-$i"
done
{
	echo "tests that failed, out of $runs runs:"
	cat "$soak"/run-[0-9]* | sed -n 's/^FAIL \([^ :]*\).*/\1/p' | sort | uniq -c | sort -rn |
		awk '{ printf "  %-40s %d\n", $2, $1 } END { if (NR == 0) print "  none" }'
} | tee "$soak/summary"
! grep -q '^FAIL ' "$soak"/run-[0-9]*
