# Hostile guests (guest/payload/storm.c): every vCPU makes random firmware calls through both
# conduits for a minute, or (test=psci) the vCPUs go on, look around, suspend and go off again
# as fast as they can, while the host drives the VM through every control command at once.
# lkvm must answer every call, stay responsive, not grow (file descriptors, RSS), and the guest
# must then power off cleanly.

# storm_host NAME: the host's side of the storm, until the VM is gone: each control command in
# turn, each under a timeout (a hang is lkvm not staying responsive). After each round it notes
# lkvm's descriptors and RSS in $T/sample while lkvm is still there to be measured.
storm_host() {
	_n=0
	while kill -0 "$vm_pid" 2>/dev/null; do
		_s="$(vm_fds "$vm_pid") $(vm_rss_kb "$vm_pid")"
		case $_s in *[0-9]\ [0-9]*) echo "$_s" >"$T/sample" ;; esac
		for _c in "list" "cpu list --name $1" "cpu plug --name $1 4" "cpu unplug --name $1 4" \
			"pause --name $1" "resume --name $1" "sdei list --name $1" \
			"sdei signal --name $1 sw-signal --cpu $((_n % 4))" "nmi --name $1 --cpu $((_n % 4))"; do
			# shellcheck disable=SC2086 # the command's words
			timeout -s KILL 20 "$LKVM" $_c >/dev/null 2>>"$T/host-errors" </dev/null
			[ $? = 137 ] && echo "lkvm $_c: no answer within 20s" >>"$T/hung"
		done
		# A short-lived events client too: its connection must come and go without a trace.
		timeout -s KILL 1 "$LKVM" events --name "$1" >/dev/null 2>&1 </dev/null
		_n=$((_n + 1))
	done
	echo "$_n" >"$T/rounds"
}

storm_run() { # TEST SECONDS CHECKS
	name=storm-$$
	# vCPU 4 exists but is not plugged: the host plugs and unplugs it while the guest storms.
	vm_start "$name" -k "$LKVM_PAYLOADS/storm.bin" -c 4 --max-cpus 5 -m 64M --psci=user \
		--sdei --trng=user -p "n=$2 cpus=4 test=$1"
	wait_console '^storm: test='
	sleep 2
	fds0=$(vm_fds "$vm_pid") rss0=$(vm_rss_kb "$vm_pid")
	storm_host "$name" &
	host=$!
	vm_wait
	wait "$host"
	read -r fds1 rss1 <"$T/sample"
	expect_rc 0
	expect_console "^storm: $3 passed, 0 failed"
	[ ! -s "$T/hung" ] || fail "$(head -n 1 "$T/hung")"
	[ "$(cat "$T/rounds")" -ge 3 ] || fail "the host got through only $(cat "$T/rounds") rounds"
	[ "$fds1" -le "$fds0" ] || fail "lkvm's file descriptors grew from $fds0 to $fds1"
	# RSS may settle by a few pages (stacks, the events client's buffers), not grow with the storm.
	[ "$rss1" -le $((rss0 + 1024)) ] || fail "lkvm's RSS grew from ${rss0} kB to ${rss1} kB"
	echo "fds $fds0 -> $fds1, rss $rss0 -> $rss1 kB, $(cat "$T/rounds") host rounds"
}

# The payload uses HVC and SMC at random whatever the conduit: one storm covers both.
run_test storm-firmware-calls storm_run sdei 60 2
run_test storm-psci storm_run psci 20 3
run_test storm-sdei-loop storm_run sdei-loop 20 6
