# The control socket's directory, with the real lkvm as the test host's root runs it: a service
# without HOME or XDG_RUNTIME_DIR uses /run/lkvm (never /tmp), and a directory open to others is
# refused, not used and not changed. The unit tests (test-control.c) cover the other cases.
# And hostile clients: a thousand connections and silent ones that hold the slots.
FW="$LKVM_PAYLOADS/fw-test.bin"

# bare ARGS...: lkvm ARGS as a service starts it, with neither HOME nor XDG_RUNTIME_DIR.
bare() { env -u HOME -u XDG_RUNTIME_DIR "$LKVM" "$@"; }

ctl_no_home() {
	mkdir -p /run	# as on any Linux system; the test host's initramfs has none
	rm -rf /run/lkvm /tmp/.lkvm
	echo "(no HOME, no XDG_RUNTIME_DIR) lkvm run --name svc -k fw-test.bin -p test=spin" \
		>>"$T/commands"
	env -u HOME -u XDG_RUNTIME_DIR timeout -s KILL 120 "$LKVM" run --name svc -k "$FW" -c 1 \
		-m 64M -p test=spin </dev/null >"$T/console.raw" 2>"$T/stderr" &
	_pid=$!
	for _i in $(seq 100); do
		bare list 2>/dev/null | grep -q '^svc ' && break
		sleep 0.2
	done
	bare list >"$T/list" 2>>"$T/stderr"
	_mode=$(stat -c %a /run/lkvm 2>/dev/null) _sock=$(stat -c %a /run/lkvm/svc.sock 2>/dev/null)
	bare stop --name svc 2>>"$T/stderr"
	wait "$_pid"
	rc=$?
	tr -d '\r' <"$T/console.raw" >"$T/console"
	grep -q '^svc ' "$T/list" || fail "lkvm list (no HOME) does not show svc"
	expect_rc 5
	[ ! -e /tmp/.lkvm ] || fail "/tmp/.lkvm was used"
	[ "$_mode" = 700 ] || fail "/run/lkvm: mode '$_mode', not 700"
	[ "$_sock" = 600 ] || fail "/run/lkvm/svc.sock: mode '$_sock', not 600"
}

# (A guest that powers off at once: an lkvm that took the directory would exit 0.)
ctl_dir_open_to_others() {
	mkdir -p "$T/xdg/lkvm"
	chmod 777 "$T/xdg/lkvm"
	export XDG_RUNTIME_DIR="$T/xdg"
	lk_run 60 run -k "$FW" -c 1 -m 64M -p test=smccc
	expect_rc 1
	expect_error 'chmod 700'
	[ "$(stat -c %a "$T/xdg/lkvm")" = 777 ] || fail "lkvm changed the directory's mode"
	[ -z "$(ls "$T/xdg/lkvm")" ] || fail "lkvm put a socket in it"
}

# 40 clients that connect and never speak, then 1000 INFO requests one after another: the owner
# is never locked out for longer than a request's time (2 s), every request is answered, and
# the VM runs on with no descriptor left behind.
ctl_flood() {
	mkdir -p "$T/xdg"
	chmod 700 "$T/xdg"
	export XDG_RUNTIME_DIR="$T/xdg"
	vm_start flood -k "$FW" -c 1 -m 64M -p test=spin
	sock="$T/xdg/lkvm/flood.sock"
	fds0=$(vm_fds "$vm_pid")
	echo "ctlflood $sock silent 40 60 &" >>"$T/commands"
	ctlflood "$sock" silent 40 60 >"$T/silent" &
	silent=$!
	until [ -s "$T/silent" ]; do sleep 0.1; done
	_t0=$(date +%s)
	until timeout -s KILL 10 "$LKVM" list 2>>"$T/list-errors" | grep -q '^flood '; do
		[ $(($(date +%s) - _t0)) -le 10 ] || fail "lkvm list never got through the silent clients"
		sleep 0.5
	done
	echo "ctlflood $sock info 1000" >>"$T/commands"
	timeout -s KILL 120 ctlflood "$sock" info 1000 >"$T/flood"
	kill "$silent"
	wait "$silent"
	sleep 0.5
	fds1=$(vm_fds "$vm_pid")
	"$LKVM" stop --name flood 2>>"$T/stderr"
	vm_wait
	expect_rc 5
	grep -q '^ctlflood: ok=1000 error=0 hangup=0$' "$T/flood" || fail "flood: $(cat "$T/flood")"
	[ "$fds1" -le "$fds0" ] || fail "lkvm's file descriptors grew from $fds0 to $fds1"
}

run_test ctl-flood ctl_flood
run_test ctl-no-home ctl_no_home
run_test ctl-dir-open-to-others ctl_dir_open_to_others
