# kvmtool's boot and host options: --firmware/--firmware-address, --kaslr-seed,
# --vcpu-affinity, --hugetlbfs, --force-pci and --virtio-legacy (Documentation/kvmtool.md).

# --firmware instead of a kernel: entered at its address with x0 = the DTB after it. The PSCI
# payload (linked where a raw kernel goes) finds its vCPUs and command line in that DTB, or fails.
firmware_boots() {
	lk_run 300 run --firmware "$LKVM_PAYLOADS/psci-test.bin" --firmware-address 0x80080000 \
		-c 4 -m 256M --psci=user \
		-p "mode=user conduit=hvc"
	expect_rc 0
	expect_no_console '^not ok'
	expect_console '^psci-test: 203 passed, 0 failed$'
}

firmware_at_address() {
	lk_run 60 run -f "$LKVM_PAYLOADS/hello.bin" --firmware-address 0x88000000 -c 1 -m 256M \
		--loglevel=debug
	expect_rc 0
	expect_console '^hello from a raw binary$'
	grep -q 'vCPU 0: entry 0x88000000' "$T/stderr" || fail "not entered at 0x88000000: $(cat "$T/stderr")"
}

firmware_errors() {
	lk_run 60 run -f "$LKVM_PAYLOADS/hello.bin" --firmware-address 0x10 -c 1 -m 256M
	expect_rc 1
	expect_error '^lkvm: --firmware-address 0x10: not a 4-byte aligned address in RAM'
	lk_run 60 run -f "$LKVM_PAYLOADS/hello.bin" --firmware-address 0x8ff00000 -c 1 -m 256M
	expect_rc 1
	expect_error 'leaves no room for the DTB'
	lk_run 60 run -f "$LKVM_PAYLOADS/hello.bin" -k "$LKVM_KERNEL" -c 1 -m 256M
	expect_rc 1
	expect_error '^lkvm: --firmware at 0x80000000: .*overlap the kernel'
	lk_run 60 run --firmware-address 0x80000000 -k "$LKVM_KERNEL" -c 1
	expect_rc 2
	expect_error '^lkvm: --firmware-address: needs --firmware FILE$'
	lk_run 60 run -f /nonexistent -c 1
	expect_rc 1
	expect_error '^lkvm: /nonexistent: No such file'
}

# kaslr_text SEED: where the guest kernel's text is with that --kaslr-seed.
kaslr_text() {
	lk_run 300 run -k "$LKVM_KERNEL" -i "$LKVM_INITRD" -c 1 -m 256M --kaslr-seed "$1" \
		-p "quiet -- sh /tests/kaslr.sh"
	expect_rc 0
	sed -n 's/^kaslr: text=\([0-9a-f]*\)$/\1/p' "$T/console"
}

# Linux scales the seed to its range (offset = range * seed / 2^64): seeds far apart.
kaslr_seed() {
	a=$(kaslr_text 0x123456789abcdef0) && b=$(kaslr_text 1311768467463790320) &&
		c=$(kaslr_text 0xfedcba9876543210)
	[ -n "$a" ] && [ -n "$c" ] || fail "no kaslr: text= line"
	[ "$a" = "$b" ] || fail "the same seed, in hex and decimal, gave two layouts: $a, $b"
	[ "$a" != "$c" ] || fail "another seed gave the same layout: $a"
	lk_run 60 run -k "$LKVM_KERNEL" --kaslr-seed -1
	expect_rc 2
	expect_error '^lkvm: --kaslr-seed -1: not a 64-bit number'
}

# Every vCPU thread (named vcpuN) may run only on host CPU 1; the guest runs there.
vcpu_affinity() {
	name=affinity-$$
	vm_start "$name" -k "$LKVM_KERNEL" -i "$LKVM_INITRD" -c 2 -m 256M --vcpu-affinity 1 \
		-p "quiet -- sh /tests/wait.sh"
	wait_console '^wait: ready'
	n=0
	for t in /proc/"$vm_pid"/task/*; do
		case $(cat "$t/comm") in vcpu*) ;; *) continue ;; esac
		n=$((n + 1))
		allowed=$(awk '/^Cpus_allowed_list:/ { print $2 }' "$t/status")
		[ "$allowed" = 1 ] || fail "$(cat "$t/comm") may run on $allowed, not 1"
	done
	[ "$n" = 2 ] || fail "$n vCPU threads named vcpuN, not 2"
	echo >&3
	vm_wait
	expect_rc 0
	expect_console '^wait: done'
	for list in 1-0 x 0,,1; do
		lk_run 60 run -k "$LKVM_KERNEL" --vcpu-affinity "$list"
		expect_rc 2
		expect_error "^lkvm: --vcpu-affinity $list: expected host CPU numbers"
	done
	lk_run 60 run -k "$LKVM_PAYLOADS/hello.bin" -c 1 --vcpu-affinity 63
	expect_rc 1
	expect_error '^lkvm: --vcpu-affinity: vCPU 0 cannot run there'
}

# Guest RAM from a hugetlbfs pool: a Linux guest boots on it, RAM beyond the pool is refused
# (anonymous memory would have been taken), and a directory elsewhere is no hugetlbfs.
hugetlbfs() {
	mkdir -p /tmp/hugetlbfs
	grep -q ' /tmp/hugetlbfs hugetlbfs ' /proc/mounts || mount -t hugetlbfs none /tmp/hugetlbfs ||
		fail "cannot mount hugetlbfs"
	echo 64 >/proc/sys/vm/nr_hugepages
	[ "$(awk '/^HugePages_Free:/ { print $2 }' /proc/meminfo)" = 64 ] || fail "no 64 free huge pages"
	lk_run 300 run -k "$LKVM_KERNEL" -i "$LKVM_INITRD" -c 1 -m 128M --hugetlbfs /tmp/hugetlbfs \
		-p "quiet -- sh /tests/kaslr.sh"
	expect_rc 0
	expect_console '^kaslr: text='
	lk_run 60 run -k "$LKVM_PAYLOADS/hello.bin" -c 1 -m 256M --hugetlbfs /tmp/hugetlbfs
	expect_rc 1
	expect_error '^lkvm: --hugetlbfs /tmp/hugetlbfs: cannot reserve 256M in 2M pages'
	lk_run 60 run -k "$LKVM_PAYLOADS/hello.bin" -c 1 -m 127M --hugetlbfs /tmp/hugetlbfs
	expect_rc 1
	expect_error 'is not a multiple of its page size \(2M\)'
	lk_run 60 run -k "$LKVM_PAYLOADS/hello.bin" -c 1 -m 64M --hugetlbfs /tmp
	expect_rc 1
	expect_error '^lkvm: --hugetlbfs /tmp: not a hugetlbfs mount$'
	[ "$(awk '/^HugePages_Free:/ { print $2 }' /proc/meminfo)" = 64 ] || fail "huge pages leaked"
	echo 0 >/proc/sys/vm/nr_hugepages
}

# kvmtool's older spelling of --virtio-transport=pci; virtio-legacy is refused with the reason.
force_pci() {
	lk_run 60 run -k "$LKVM_PAYLOADS/hello.bin" -c 1 --rng --force-pci --dump-dtb "$T/dtb"
	expect_rc 0
	grep -aq 'pci-host-ecam-generic' "$T/dtb" || fail "no PCI host bridge in the DTB"
	! grep -aq 'virtio,mmio' "$T/dtb" || fail "virtio-mmio devices with --force-pci"
	lk_run 60 run -k "$LKVM_PAYLOADS/hello.bin" -c 1 --virtio-legacy
	expect_rc 2
	expect_error '^lkvm: --virtio-legacy: not supported: '
}

# The files lkvm writes (OPTION FILE) refuse a symlink and another user's file, before anything
# runs, and leave them alone: in a shared /tmp either could be someone else's trap. RC: the exit
# status, 2 for --events-log (a command-line error), 1 for the others (as when they cannot be
# written at all).
output_file_refused() {
	echo keep >"$T/target"
	ln -s "$T/target" "$T/link"
	lk_run 60 run -k "$LKVM_PAYLOADS/fw-test.bin" -c 1 -m 64M "$1" "$T/link" -p test=smccc
	expect_rc "$2"
	expect_error "^lkvm: $1 $T/link: a symbolic link: refused\$"
	echo keep >"$T/theirs"
	chown 4242 "$T/theirs"
	lk_run 60 run -k "$LKVM_PAYLOADS/fw-test.bin" -c 1 -m 64M "$1" "$T/theirs" -p test=smccc
	expect_rc "$2"
	expect_error "^lkvm: $1 $T/theirs: owned by another user: refused\$"
	[ "$(cat "$T/target")" = keep ] || fail "the symlink's target changed"
	[ "$(cat "$T/theirs")" = keep ] || fail "the other user's file changed"
}

run_test opt-firmware firmware_boots
run_test opt-firmware-address firmware_at_address
run_test opt-firmware-errors firmware_errors
run_test opt-kaslr-seed kaslr_seed
run_test opt-vcpu-affinity vcpu_affinity
run_test opt-hugetlbfs hugetlbfs
run_test opt-force-pci force_pci
run_test opt-output-refused-events-log output_file_refused --events-log 2
run_test opt-output-refused-console-log output_file_refused --console-log 1
run_test opt-output-refused-dump-dtb output_file_refused --dump-dtb 1
