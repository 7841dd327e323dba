# Helpers of the system tests, sourced by run.sh (busybox ash in the arm64 KVM host).
#
# A test is a shell function that run_test runs in a subshell with its own work dir $T. It runs
# lkvm with lk_run / lk_run_signal (always under a timeout) and checks with the expect_* helpers;
# the first failed check ends the test (fail REASON). A test that cannot run here calls skip.
# lk_run* leave the guest console in $T/console (without \r) and lkvm's stderr in $T/stderr;
# on failure run_test prints the tails of both, and keeps $T in $LKVM_OUT/failed/NAME.

: "${LKVM:=lkvm}"
: "${LKVM_OUT:=/tmp/lkvm-tests-out}"
work=/tmp/lkvm-tests
passed=0
failed=0
skipped=0
rm -rf "$work" "$LKVM_OUT/failed" "$LKVM_OUT/results"
mkdir -p "$work" "$LKVM_OUT"

say() { echo "lkvm-host: $*" >&2; }

# fail REASON: ends the current test as failed.
fail() {
	echo "$*" >"$T/reason"
	exit 1
}

# skip REASON: ends the current test as skipped.
skip() {
	echo "$*" >"$T/reason"
	exit 77
}

# lk_run SECS ARGS...: runs `lkvm ARGS` with no input; sets rc. After SECS it is killed (fail).
lk_run() {
	_secs=$1
	shift
	echo "lkvm $*" >>"$T/commands"
	# SIGKILL, so that a timeout (137) is told apart from lkvm's own exit on SIGTERM (143).
	timeout -s KILL "$_secs" "$LKVM" "$@" </dev/null >"$T/console.raw" 2>"$T/stderr"
	rc=$?
	tr -d '\r\033' <"$T/console.raw" >"$T/console"
	timed_out
}

# timed_out: fails if rc says that timeout killed lkvm (busybox: 137; coreutils: 124 or 137).
timed_out() {
	[ "$rc" != 137 ] && [ "$rc" != 124 ] || fail "lkvm did not exit within ${_secs}s (killed)"
}

# lk_run_signal SECS SIG PATTERN COUNT ARGS...: runs `lkvm ARGS` in the foreground and, once COUNT
# console lines match the regex PATTERN, sends it SIG from a watcher. Sets rc, and took: seconds
# from the signal to lkvm's exit. lkvm runs in the foreground because a background job of a
# non-interactive shell starts with SIGINT ignored, unlike lkvm under a user's terminal.
lk_run_signal() {
	_secs=$1 _sig=$2 _pat=$3 _count=$4
	shift 4
	echo "lkvm $* (then SIG$_sig after $_count x '$_pat')" >>"$T/commands"
	rm -f "$T/pid" "$T/signalled"
	: >"$T/console.raw"
	(
		until [ -s "$T/pid" ]; do sleep 0.1; done
		_pid=$(cat "$T/pid")
		while [ "$(tr -d '\r' <"$T/console.raw" | grep -c -e "$_pat")" -lt "$_count" ]; do
			kill -0 "$_pid" 2>/dev/null || exit 0
			sleep 0.2
		done
		date +%s >"$T/signalled"
		kill -"$_sig" "$_pid"
	) &
	_watcher=$!
	# The pid is lkvm's: sh execs busybox timeout, which execs lkvm in the same process.
	sh -c 'echo $$ >"$1"; shift; exec timeout -s KILL "$@"' sh "$T/pid" "$_secs" "$LKVM" "$@" \
		</dev/null >>"$T/console.raw" 2>"$T/stderr"
	rc=$?
	_end=$(date +%s)
	kill "$_watcher" 2>/dev/null
	wait "$_watcher" 2>/dev/null
	tr -d '\r\033' <"$T/console.raw" >"$T/console"
	[ -s "$T/signalled" ] || fail "lkvm exited with $rc before the console showed $_count x '$_pat'"
	took=$((_end - $(cat "$T/signalled")))
	# 137 is also what our own SIGKILL gives: it was ours if lkvm died right after it.
	[ "$_sig" = KILL ] && [ "$rc" = 137 ] && [ "$took" -le 5 ] || timed_out
}

# lk_run_input SECS FILE REGEX COUNT TEXT ARGS...: like lk_run, but once FILE ($T/console.raw
# or $T/stderr) has COUNT lines matching REGEX, types TEXT on lkvm's stdin.
lk_run_input() {
	_secs=$1 _file=$2 _pat=$3 _count=$4 _text=$5
	shift 5
	echo "lkvm $* (typing '$_text' after '$_pat')" >>"$T/commands"
	rm -f "$T/in" "$T/done"
	mkfifo "$T/in"
	: >"$T/console.raw"
	: >"$T/stderr"
	(
		exec 3>"$T/in"
		while [ "$(tr -d '\r' <"$_file" | grep -c -e "$_pat")" -lt "$_count" ]; do
			[ -e "$T/done" ] && exit 0
			sleep 0.2
		done
		printf '%s\n' "$_text" >&3
		until [ -e "$T/done" ]; do sleep 0.2; done
	) &
	_typist=$!
	timeout -s KILL "$_secs" "$LKVM" "$@" <"$T/in" >"$T/console.raw" 2>"$T/stderr"
	rc=$?
	touch "$T/done"
	wait "$_typist"
	tr -d '\r' <"$T/console.raw" >"$T/console"
	[ "$rc" != 137 ] || fail "lkvm did not exit within ${_secs}s (killed)"
}

# VMs driven from the test host's shell while they run (lkvm cpu, lkvm balloon...):
# nonroot_setup: user 4242 (lkvmtest) may use /dev/kvm, with $T/run as its home and runtime
# directory (exported); $LKVM_4242 runs lkvm as that user. Only in the throwaway emulated host.
# nonroot_undo puts /dev/kvm and /etc back; call it from the test's EXIT trap.
nonroot_setup() {
	[ "${LKVM_HOST_KIND:-}" = qemu ] || skip "needs the emulated test host (changes /dev/kvm's group)"
	echo "chgrp $(stat -c %g /dev/kvm) /dev/kvm; chmod $(stat -c %a /dev/kvm) /dev/kvm" >"$T/nonroot-undo"
	# The user, for start-stop-daemon, which looks uids up even when given as numbers.
	mkdir -p /etc
	for _f in passwd group resolv.conf; do
		if [ -e /etc/$_f ]; then
			cp /etc/$_f "$T/$_f.orig"
			echo "cp $T/$_f.orig /etc/$_f" >>"$T/nonroot-undo"
		else
			echo "rm -f /etc/$_f" >>"$T/nonroot-undo"
		fi
	done
	echo "lkvmtest:x:4242:4242::$T/run:/bin/sh" >>/etc/passwd
	echo "lkvmtest:x:4242:" >>/etc/group
	chgrp 4242 /dev/kvm && chmod 660 /dev/kvm || fail "cannot lend /dev/kvm to gid 4242"
	mkdir -p "$T/run"
	chown 4242:4242 "$T/run" && chmod 700 "$T/run"
	export XDG_RUNTIME_DIR="$T/run" HOME="$T/run"
	# start-stop-daemon execs lkvm as uid 4242, in the foreground (the pid stays lkvm's); its
	# pid file, which never exists, keeps it from refusing because an lkvm is running already.
	LKVM_4242=$T/lkvm-4242
	printf '#!/bin/sh\nexec start-stop-daemon -S -p %s -c 4242:4242 -x %s -- "$@"\n' \
		"$T/none.pid" "$LKVM" >"$LKVM_4242"
	chmod 755 "$LKVM_4242"
}
nonroot_undo() { [ ! -f "$T/nonroot-undo" ] || sh "$T/nonroot-undo"; }

# vm_start NAME ARGS...: runs `lkvm run --name NAME ARGS` in the background, its stdin a FIFO
# held open on fd 3 (type with: echo >&3); waits until `lkvm list` shows the VM.
vm_start() {
	_name=$1
	shift
	echo "lkvm run --name $_name $*" >>"$T/commands"
	mkfifo "$T/in"
	timeout -s KILL 300 "$LKVM" run --name "$_name" "$@" <"$T/in" >"$T/console.raw" 2>"$T/stderr" &
	vm_pid=$!
	exec 3>"$T/in"
	for _i in $(seq 100); do
		"$LKVM" list 2>/dev/null | grep -q "^$_name " && return 0
		sleep 0.2
	done
	fail "lkvm list never showed $_name"
}

# wait_console REGEX [COUNT]: waits until COUNT (default 1) console lines match REGEX.
wait_console() {
	for _i in $(seq 600); do
		[ "$(tr -d '\r' <"$T/console.raw" | grep -c -e "$1")" -ge "${2:-1}" ] && return 0
		kill -0 "$vm_pid" 2>/dev/null || break
		sleep 0.2
	done
	tr -d '\r' <"$T/console.raw" >"$T/console"
	fail "console never showed '$1'"
}

# vm_wait: waits for lkvm to exit; sets rc and $T/console.
vm_wait() {
	exec 3>&-
	wait "$vm_pid"
	rc=$?
	tr -d '\r' <"$T/console.raw" >"$T/console"
	[ "$rc" != 137 ] || fail "lkvm did not exit (killed)"
}

# vm_fds PID, vm_rss_kb PID: a running lkvm's open file descriptors and resident memory (kB).
vm_fds() { ls "/proc/$1/fd" | wc -l; }
vm_rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

# expect_rc CODE...: lkvm's exit status is one of CODEs.
expect_rc() {
	for _c in "$@"; do
		[ "$rc" = "$_c" ] && return 0
	done
	fail "exit status $rc, expected $*"
}

# expect_console REGEX: some console line matches REGEX.
expect_console() {
	grep -q -e "$1" "$T/console" || fail "console: no line matches '$1'"
}

# expect_no_console REGEX: no console line matches REGEX.
expect_no_console() {
	! grep -q -e "$1" "$T/console" || fail "console: unexpected line matching '$1'"
}

# count_console REGEX: prints how many console lines match REGEX.
count_console() {
	grep -c -e "$1" "$T/console"
}

# expect_error KEYWORD_ERE: stderr is exactly one line, "lkvm: ...", mentioning KEYWORD_ERE
# (case-insensitive extended regex: a few acceptable words, as the wording is lkvm's choice).
expect_error() {
	[ "$(wc -l <"$T/stderr")" = 1 ] || fail "stderr: $(wc -l <"$T/stderr") lines, expected 1"
	grep -q '^lkvm: ' "$T/stderr" || fail "stderr does not start with 'lkvm: '"
	grep -qiE -e "$1" "$T/stderr" || fail "stderr does not mention '$1'"
}

# run_test NAME FUNC [ARGS...]: runs FUNC ARGS as test NAME if it matches $LKVM_TEST and does
# not match $LKVM_TEST_SKIP (regexes; either may be empty).
run_test() {
	_name=$1
	shift
	if [ -n "${LKVM_TEST:-}" ] && ! echo "$_name" | grep -qE -e "$LKVM_TEST"; then
		return 0
	fi
	if [ -n "${LKVM_TEST_SKIP:-}" ] && echo "$_name" | grep -qE -e "$LKVM_TEST_SKIP"; then
		return 0
	fi
	T="$work/$_name"
	mkdir -p "$T"
	: >"$T/console"
	: >"$T/stderr"
	_t0=$(date +%s)
	("$@") >"$T/log" 2>&1
	_rc=$?
	_took="($(($(date +%s) - _t0))s)"
	# A test must not leave a VM behind for the next one.
	_left=$(pidof lkvm || true)
	if [ -n "$_left" ]; then
		kill -KILL $_left 2>/dev/null
		[ "$_rc" != 0 ] || { _rc=1; echo "lkvm left running (pid $_left)" >"$T/reason"; }
	fi
	case $_rc in
	0)
		passed=$((passed + 1))
		echo "PASS $_name $_took" | tee -a "$LKVM_OUT/results"
		;;
	77)
		skipped=$((skipped + 1))
		echo "SKIP $_name: $(cat "$T/reason")" | tee -a "$LKVM_OUT/results"
		;;
	*)
		failed=$((failed + 1))
		[ -s "$T/reason" ] || echo "the test exited with status $_rc" >"$T/reason"
		echo "FAIL $_name: $(cat "$T/reason") $_took" | tee -a "$LKVM_OUT/results"
		{
			[ ! -s "$T/commands" ] || sed 's/^/    | /' "$T/commands"
			[ ! -s "$T/log" ] || { echo "    test output:"; tail -n 30 "$T/log" | sed 's/^/    | /'; }
			echo "    guest console (last 30 lines):"
			tail -n 30 "$T/console" | sed 's/^/    | /'
			echo "    lkvm stderr:"
			tail -n 30 "$T/stderr" | sed 's/^/    | /'
		}
		# Regular files only: QEMU's 9p refuses to create FIFOs and other special files.
		mkdir -p "$LKVM_OUT/failed/$_name"
		for _f in "$T"/*; do
			[ ! -f "$_f" ] || cp "$_f" "$LKVM_OUT/failed/$_name/"
		done
		;;
	esac
}

# run_test_both NAME FUNC [ARGS...]: runs the test NAME over virtio-mmio and NAME-pci over
# virtio-pci; FUNC puts $VT (the --virtio-transport option) on lkvm's command line.
VT=
run_test_both() {
	_both=$1
	shift
	VT="--virtio-transport mmio"
	run_test "$_both" "$@"
	VT="--virtio-transport pci"
	run_test "$_both-pci" "$@"
	VT=
}

# summary: prints (and saves to $LKVM_SUMMARY) the closing line; returns non-zero if any failed.
summary() {
	_line="$passed passed, $failed failed"
	[ "$skipped" = 0 ] || _line="$_line, $skipped skipped"
	echo "$_line"
	[ -z "${LKVM_SUMMARY:-}" ] || echo "$_line" >"$LKVM_SUMMARY"
	[ "$failed" = 0 ]
}

# lkvm_ok ARGS: runs an lkvm control command that must succeed.
lkvm_ok() {
	echo "lkvm $*" >>"$T/commands"
	"$LKVM" "$@" >>"$T/ctl" 2>&1 || fail "lkvm $* failed: $(tail -n 1 "$T/ctl")"
}

# events_in_order FILE EVENT...: each JSON event line (as "event", "event:target" or
# "event=kind", an acpi_notify's) appears after the last.
events_in_order() {
	_f=$1
	shift
	_rest=$(cat "$_f")
	for _e in "$@"; do
		case $_e in
		*:*) _pat="\"event\":\"${_e%%:*}\",\"vcpu\":[0-9]*,\"target\":${_e#*:}}" ;;
		*=*) _pat="\"event\":\"${_e%%=*}\",\"vcpu\":[0-9]*,\"kind\":\"${_e#*=}\"}" ;;
		*) _pat="\"event\":\"$_e\"" ;;
		esac
		_n=$(echo "$_rest" | grep -n -e "$_pat" | head -n 1 | cut -d: -f1)
		[ -n "$_n" ] || fail "events: no $_e after the earlier ones: $(cat "$_f")"
		_rest=$(echo "$_rest" | sed "1,${_n}d")
	done
}
