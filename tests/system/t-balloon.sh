# virtio-balloon: `lkvm run --balloon`, driven from the test host's shell with `lkvm balloon`
# while a Linux guest watches its MemTotal (guest/tests/balloon.sh).

# balloon_ctl OUT ARGS: runs `lkvm balloon ARGS`, which must succeed, its stdout in $T/OUT.
balloon_ctl() {
	_out=$1
	shift
	echo "lkvm balloon $*" >>"$T/commands"
	"$LKVM" balloon "$@" >"$T/$_out" 2>"$T/$_out.err" ||
		fail "lkvm balloon $* failed: $(cat "$T/$_out.err")"
}

# balloon_grep FILE REGEX: FILE (in $T) has a line matching REGEX.
balloon_grep() {
	grep -q -e "$2" "$T/$1" || fail "$1: no line matches '$2': $(cat "$T/$1")"
}

# console_kb KEY: the number of the console's line "balloon: KEY=N".
console_kb() {
	sed -n "s/^balloon: $1=\([0-9]*\)$/\1/p" "$T/console" | head -n 1
}

# rss_kb NAME: lkvm's resident memory in kB, its pid from `lkvm list`.
rss_kb() {
	_pid=$("$LKVM" list | awk -v n="$1" '$1 == n { print $2 }')
	vm_rss_kb "$_pid"
}

balloon_linux() {
	name=balloon-$$
	vm_start "$name" -k "$LKVM_KERNEL" -i "$LKVM_INITRD" -c 1 -m 256M $VT --balloon \
		-p "-- sh /tests/balloon.sh"
	wait_console '^balloon: waiting for inflate'
	rss0=$(rss_kb "$name")
	balloon_ctl query0 --name "$name"
	balloon_grep query0 '^target 0 (0 pages), actual 0 (0 pages), RAM 256M$'
	balloon_ctl inflate --name "$name" inflate 64M
	balloon_grep inflate '^target 64M (16384 pages)'
	echo >&3
	wait_console '^balloon: waiting for deflate'
	rss1=$(rss_kb "$name")
	balloon_ctl query1 --name "$name"
	balloon_grep query1 '^target 64M (16384 pages), actual 64M (16384 pages), RAM 256M$'
	# The guest's statistics (STATS_VQ), refreshed when the first query gave their buffer back.
	balloon_grep query1 '^guest stats ([0-9]*s old):.* free [0-9]*K total [0-9]*K'
	# Beyond RAM: refused, with the reason, and the target stays.
	"$LKVM" balloon --name "$name" inflate 1G >"$T/refused" 2>&1 &&
		fail "inflate 1G of 256M succeeded"
	grep -q '^lkvm: balloon: inflate 1G: .*beyond' "$T/refused" || fail "inflate 1G: $(cat "$T/refused")"
	# kvmtool's spelling, in MiB.
	balloon_ctl deflate --name "$name" --deflate 64
	balloon_grep deflate '^target 0 (0 pages)'
	echo >&3
	vm_wait
	expect_rc 0
	expect_console '^balloon: driver present$'
	before=$(console_kb memtotal)
	inflated=$(console_kb 'inflated memtotal')
	deflated=$(console_kb 'deflated memtotal')
	[ -n "$before" ] && [ -n "$inflated" ] && [ -n "$deflated" ] || fail "no MemTotal lines"
	drop=$((before - inflated))
	[ "$drop" -ge 61440 ] && [ "$drop" -le 69632 ] ||
		fail "MemTotal dropped by ${drop} kB (from $before to $inflated), not about 64M"
	back=$((deflated - inflated))
	[ "$back" -ge 61440 ] && [ "$deflated" -le "$before" ] && [ "$deflated" -ge $((before - 4096)) ] ||
		fail "MemTotal after deflate is $deflated kB, before the balloon $before"
	# The guest touched its free memory before: most of what it gave back was really allocated.
	[ -n "$rss0" ] && [ -n "$rss1" ] && [ $((rss0 - rss1)) -ge 32768 ] ||
		fail "lkvm's RSS went from ${rss0} kB to ${rss1} kB: the balloon released too little"
	[ ! -s "$T/stderr" ] || fail "lkvm run complained: $(cat "$T/stderr")"
}

# A VM without --balloon (a cheap one: the PSCI payload waiting for a hot-plug) says so.
balloon_absent() {
	name=balloon-absent-$$
	vm_start "$name" -k "$LKVM_PAYLOADS/psci-test.bin" -c 1 --max-cpus 2 --psci=user \
		-m 64M -p "mode=user test=hotplug"
	wait_console '^hotplug: waiting for plug'
	for args in "" "inflate 1M" "--deflate 1"; do
		# shellcheck disable=SC2086
		"$LKVM" balloon --name "$name" $args >"$T/out" 2>"$T/err"
		_rc=$?
		[ "$_rc" = 1 ] || fail "lkvm balloon $args of a VM without --balloon: exit $_rc"
		[ ! -s "$T/out" ] || fail "lkvm balloon $args printed: $(cat "$T/out")"
		[ "$(cat "$T/err")" = "lkvm: balloon: this VM has no balloon (start it with --balloon)" ] ||
			fail "lkvm balloon $args: $(cat "$T/err")"
	done
	"$LKVM" stop --name "$name" || fail "lkvm stop failed"
	vm_wait
	expect_rc 5
}

balloon_errors() {
	"$LKVM" balloon --name nosuchvm-$$ inflate 1M >"$T/out" 2>"$T/stderr"
	rc=$?
	expect_rc 1
	expect_error "nosuchvm-$$: no such VM"
	"$LKVM" balloon --help >"$T/help" 2>&1 || fail "lkvm balloon --help failed"
	grep -q '^ usage: lkvm balloon --name NAME \[inflate|deflate SIZE | --json\]' "$T/help" ||
		fail "lkvm balloon --help: $(cat "$T/help")"
	"$LKVM" help >"$T/help" 2>&1
	grep -q '^ *balloon ' "$T/help" || fail "lkvm help does not list balloon"
	# Usage errors are found before any VM is asked.
	for args in "inflate 6Q" "inflate" "grow 1M" "-i 1M deflate 1M" "--inflate"; do
		# shellcheck disable=SC2086
		"$LKVM" balloon --name nosuchvm-$$ $args >"$T/out" 2>"$T/stderr"
		rc=$?
		expect_rc 2
		expect_error 'balloon|inflate|value'
	done
	"$LKVM" balloon inflate 1M >"$T/out" 2>"$T/stderr"
	rc=$?
	expect_rc 2
	expect_error 'name'
}

run_test_both balloon-linux balloon_linux
run_test balloon-absent balloon_absent
run_test balloon-errors balloon_errors
