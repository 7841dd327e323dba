# What the kvm-unit-tests runner (its kvmtool target, scripts/vmm.bash) does before each test:
# it runs the VMM with --kernel _NO_FILE_4Uhere_ plus the test's options, and runs the test only
# if the output has kvmtool's line for a kernel it cannot open; any other error means "skip".
KUT_OPTS="--nodefaults --network mode=none --loglevel=warning"

# kut_probe ARGS: the runner's probe; sets rc, leaves the output in $T/probe.
kut_probe() {
	echo "lkvm run --kernel _NO_FILE_4Uhere_ $*" >>"$T/commands"
	(cd "$T" && "$LKVM" run --kernel _NO_FILE_4Uhere_ "$@") >"$T/probe" 2>&1 </dev/null
	rc=$?
}

# kvmtool_parse_premature_failure, as the runner has it: true when the test may run.
kut_would_run() {
	grep -q "Fatal: Unable to open kernel _NO_FILE_4Uhere_" "$T/probe"
}

# kut_probe_runs [ARGS...]: the runner would run a test with these (extra) options.
kut_probe_runs() {
	# shellcheck disable=SC2086
	kut_probe --cpus 2 --params "x" $KUT_OPTS "$@"
	expect_rc 1
	kut_would_run || fail "the runner would skip every test: $(cat "$T/probe")"
	[ "$(wc -l <"$T/probe")" = 1 ] || fail "more than one line: $(cat "$T/probe")"
	grep -q '^lkvm: Fatal: Unable to open kernel _NO_FILE_4Uhere_: No such file' "$T/probe" ||
		fail "not lkvm's one line with the reason: $(cat "$T/probe")"
}

# A configuration this host cannot provide is reported first: the runner skips the test.
kut_probe_skips() {
	# shellcheck disable=SC2086
	kut_probe --cpus 1 $KUT_OPTS "$@"
	expect_rc 1 2
	! kut_would_run || fail "the runner would run a test this host cannot: $(cat "$T/probe")"
	grep -q '^lkvm: ' "$T/probe" || fail "no reason given: $(cat "$T/probe")"
}

run_test kut-probe-runs kut_probe_runs
# The ITS tests (its-introspection, its-trigger) ask for --irqchip=gicv3-its; the others name
# their GIC (gicv3, gicv2) or none.
run_test kut-probe-runs-its kut_probe_runs --irqchip=gicv3-its
run_test kut-probe-runs-gicv3 kut_probe_runs --irqchip=gicv3
# QEMU's emulated GICv3 has no GICv2 compatibility: KVM cannot create a GICv2.
run_test kut-probe-skips-gicv2 kut_probe_skips --irqchip gicv2
run_test kut-probe-skips-cpus kut_probe_skips --cpus 100000
# vCPU features (vcpu-features.md): what this host has runs, what it has not is skipped.
run_test kut-probe-runs-pmu kut_probe_runs --pmu --sve-max-vl=256 --no-pvtime --disable-mte
run_test kut-probe-skips-nested kut_probe_skips --nested
run_test kut-probe-skips-sve-vl kut_probe_skips --sve-max-vl=65536
