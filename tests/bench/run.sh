#!/bin/sh
# lkvm's benchmarks (`make bench`), run inside the arm64 KVM host by scripts/lkvm-host. Each
# measurement is taken under --psci=user and --psci=kernel in the same run; on an emulated host
# only the ratios mean something. The table goes to stdout and to $LKVM_OUT/bench.txt.
set -eu
: "${LKVM:=lkvm}" "${LKVM_OUT:=/tmp}"
runs=${LKVM_BENCH_RUNS:-5}
calls=${LKVM_BENCH_CALLS:-20000}
tmp=/tmp/lkvm-bench
mkdir -p "$tmp"
table="$LKVM_OUT/bench.txt"
: >"$table"

row() { printf '%-44s %14s %14s %10s\n' "$@" | tee -a "$table"; }
# Milliseconds of host uptime (busybox date has no %N; /proc/uptime has hundredths).
now_ms() { awk '{ printf "%d", $1 * 1000 }' /proc/uptime; }
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR ? v[int((NR + 1) / 2)] : "-") }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }

# startup MODE: microseconds for `lkvm run` of a payload that prints a line and powers off
# (the mean of 20 runs: the clock has 10 ms steps).
startup() {
	_t0=$(now_ms)
	for _i in $(seq 20); do
		"$LKVM" run -k "$LKVM_PAYLOADS/hello.bin" -c 1 -m 64M --psci="$1" </dev/null >/dev/null
	done
	echo $((($(now_ms) - _t0) * 1000 / 20))
}

# tiny_rss MODE: lkvm's peak RSS in KiB running that payload (median).
tiny_rss() {
	for _i in $(seq "$runs"); do
		"$LKVM" run -k "$LKVM_PAYLOADS/hello.bin" -c 1 -m 64M --psci="$1" --loglevel=info \
			</dev/null 2>&1 >/dev/null | sed -n 's/.*peak RSS \([0-9]*\) KiB.*/\1/p'
	done | median
}

# boot MODE [OPTIONS...]: "seconds-to-init peak-RSS-KiB" of a Linux guest (medians), booted with
# lkvm's OPTIONS too (--acpi).
boot() {
	_mode=$1
	shift
	rm -f "$tmp/init" "$tmp/rss"
	for _i in $(seq "$runs"); do
		"$LKVM" run -k "$LKVM_KERNEL" -i "$LKVM_INITRD" -c 2 -m 256M --psci="$_mode" "$@" \
			--loglevel=info -p "quiet -- cat /proc/uptime" </dev/null >"$tmp/console" 2>"$tmp/stderr"
		tr -d '\r' <"$tmp/console" | awk '/^[0-9]+\.[0-9]+ [0-9]+\.[0-9]+$/ { print $1 * 1000; exit }' >>"$tmp/init"
		sed -n 's/.*peak RSS \([0-9]*\) KiB.*/\1/p' "$tmp/stderr" >>"$tmp/rss"
	done
	echo "$(median <"$tmp/init") $(median <"$tmp/rss")"
	rm -f "$tmp/init" "$tmp/rss"
}

# payload MODE TEST N: the psci-bench payload's result line for TEST.
payload() {
	"$LKVM" run -k "$LKVM_PAYLOADS/psci-bench.bin" -c 2 -m 64M --psci="$1" -p "test=$2 n=$3" \
		</dev/null 2>/dev/null | tr -d '\r' | grep "^bench $2 "
}
# ticks_per MODE TEST N: guest timer ticks per operation (median of $runs runs: the emulated
# host is noisy).
ticks_per() {
	for _i in $(seq "$runs"); do
		payload "$@" | sed -n 's/.* ticks=\([0-9]*\).*/\1/p' | awk -v n="$3" '{ printf "%.0f\n", $1 / n }'
	done | median
}
cpuon_median() {
	for _i in $(seq "$runs"); do
		payload "$1" cpuon 200 | sed -n 's/.* median=\([0-9]*\).*/\1/p'
	done | median
}

# sdei_bench TEST N: the sdei-test payload's benchmark in ticks per operation (median of $runs
# runs): round, ticks of its whole loop over N; kick, the median of its samples.
sdei_bench() {
	for _i in $(seq "$runs"); do
		"$LKVM" run -k "$LKVM_PAYLOADS/sdei-test.bin" -c 2 -m 64M --psci=user --sdei \
			-p "test=bench-$1 n=$2" </dev/null 2>/dev/null | tr -d '\r' |
			awk -v n="$2" '$2 == "sdei-round" { sub("ticks=", "", $4); printf "%.0f\n", $4 / n }
				$2 == "sdei-kick" { sub("median=", "", $5); print $5 }'
	done | median
}
# SDEI (--sdei, lkvm's only): dispatch and COMPLETE against the bare exit of the same run.
sdei_rows() {
	_mm=$1
	_sr=$(sdei_bench round "$calls") _sk=$(sdei_bench kick 200)
	row "SDEI EVENT_SIGNAL to itself, handler, COMPLETE (ticks)" "$_sr" "-" "-"
	row "  in bare exits (aim: 3 at most)" "$(ratio "$_sr" "$_mm")" "-" "-"
	# A host signal (lkvm sdei signal) takes the same path from the control thread: another
	# thread marks the event pending and kicks the vCPU out of KVM_RUN.
	row "SDEI signal from another thread to handler (ticks)" "$_sk" "-" "-"
	row "  in bare exits" "$(ratio "$_sk" "$_mm")" "-" "-"
}

echo "lkvm benchmarks: $runs runs each, medians; guest timer ticks at $(payload user version 1 | sed -n 's/.*freq=\([0-9]*\).*/\1/p') Hz" | tee -a "$table"
row "measurement" "--psci=user" "--psci=kernel" "user/kern"
# LKVM_BENCH_ONLY=sdei: only the SDEI rows, beside the bare exit they are counted in.
if [ "${LKVM_BENCH_ONLY:-}" = sdei ]; then
	mm=$(ticks_per user mmio "$calls")
	row "bare exit: unbacked MMIO read (ticks)" "$mm" "$mm" "-"
	sdei_rows "$mm"
	echo "bench: done" >"${LKVM_SUMMARY:-/dev/null}"
	exit 0
fi
# ACPI vCPU hot-add (tests/bench/acpi-hotadd.sh). Hot-add needs lkvm's PSCI: no --psci=kernel
# figure. LKVM_BENCH_ONLY=hotadd: only this row.
hotadd_row() { row "ACPI vCPU hot-add: cpu plug to online (ms)" "$("$(dirname "$0")/acpi-hotadd.sh")" "-" "-"; }
if [ "${LKVM_BENCH_ONLY:-}" = hotadd ]; then
	hotadd_row
	echo "bench: done" >"${LKVM_SUMMARY:-/dev/null}"
	exit 0
fi
su=$(startup user) sk=$(startup kernel)
row "lkvm start to guest power-off, raw payload (us)" "$su" "$sk" "$(ratio "$su" "$sk")"
tu=$(tiny_rss user) tk=$(tiny_rss kernel)
row "lkvm peak RSS, raw payload, -m 64M (KiB)" "$tu" "$tk" "$(ratio "$tu" "$tk")"
set -- $(boot user)
bu=$1 ru=$2
set -- $(boot kernel)
bk=$1 rk=$2
row "Linux boot to init (ms of guest uptime)" "$bu" "$bk" "$(ratio "$bu" "$bk")"
set -- $(boot user --acpi)
au=$1
set -- $(boot kernel --acpi)
ak=$1
row "Linux boot to init, --acpi (ms of guest uptime)" "$au" "$ak" "$(ratio "$au" "$ak")"
hotadd_row
row "lkvm peak RSS, Linux guest, -m 256M (KiB)" "$ru" "$rk" "$(ratio "$ru" "$rk")"
vu=$(ticks_per user version "$calls") vk=$(ticks_per kernel version "$calls")
row "PSCI_VERSION round trip (ticks)" "$vu" "$vk" "$(ratio "$vu" "$vk")"
mm=$(ticks_per user mmio "$calls")
row "bare exit: unbacked MMIO read (ticks)" "$mm" "$mm" "-"
row "  forwarded call / bare exit" "$(ratio "$vu" "$mm")" "-" "-"
cu=$(cpuon_median user) ck=$(cpuon_median kernel)
row "CPU_ON to target's first instruction (ticks)" "$cu" "$ck" "$(ratio "$cu" "$ck")"
# What answering CPU_ON in userspace costs, against its floor: the caller's one extra exit.
row "  CPU_ON user - kernel, in bare exits" "$(ratio "$((cu - ck))" "$mm")" "-" "-"
sdei_rows "$mm"
# --- devices: a Linux guest's I/O through lkvm against the test host's own, on the same device ---

# guest_io TRANSPORT "LKVM_ARGS" "GUEST_CMD": the value of the guest's iobench line (median).
guest_io() {
	for _i in $(seq "$runs"); do
		# shellcheck disable=SC2086
		"$LKVM" run -k "$LKVM_KERNEL" -i "$LKVM_INITRD" -c 2 -m 256M --virtio-transport "$1" $2 \
			-p "quiet -- $3" </dev/null 2>/dev/null | tr -d '\r' | awk '$1 ~ /^(seqread|seqwrite|cachedread|randread)$/ { print $2 }'
	done | median
}
# host_io IOBENCH_ARGS...: the same measurement in the test host (median).
host_io() {
	for _i in $(seq "$runs"); do iobench "$@" | awk '{ print $2 }'; done | median
}
# io_rows WHAT "LKVM_ARGS" GUEST_PREFIX MEASUREMENT GUEST_FILE HOST_FILE N: rows for one
# measurement, in the guest on GUEST_FILE, in the test host on HOST_FILE (which backs it).
io_rows() {
	_gm=$(guest_io mmio "$2" "$3 iobench $4 $5 $7") _gp=$(guest_io pci "$2" "$3 iobench $4 $5 $7")
	_h=$(host_io "$4" "$6" "$7")
	row "$1" "$_gm" "$_gp" "$_h"
	row "  guest / test host (mmio, pci)" "$(ratio "$_gm" "$_h")" "$(ratio "$_gp" "$_h")" "-"
}

echo | tee -a "$table"
row "device: guest through lkvm vs test host" "guest mmio" "guest pci" "test host"
if [ -b /dev/vda ]; then
	iobench seqwrite /dev/vda 64 >/dev/null	# every block written once before it is read
	io_rows "virtio-blk on host /dev/vda: seq read MiB/s" "-d /dev/vda" "" seqread /dev/vda /dev/vda 64
	io_rows "virtio-blk: seq write MiB/s" "-d /dev/vda" "" seqwrite /dev/vda /dev/vda 64
	io_rows "virtio-blk: 4K random read IOPS" "-d /dev/vda" "" randread /dev/vda /dev/vda 2000
fi
# 9p: the guest reads a file of the shared directory; the test host reads it from its tmpfs.
# O_DIRECT (and the default cache=none) makes Linux's 9p client send page-sized reads; with
# cache=loose the page cache's read-ahead sends msize-sized ones.
mkdir -p "$tmp/share"
iobench seqwrite "$tmp/share/file" 64 >/dev/null
p9_mount="mkdir -p /mnt && mount -t 9p -o trans=virtio,version=9p2000.L,msize=524288"
io_rows "9p file seq read, O_DIRECT MiB/s (host: tmpfs)" "--9p $tmp/share,bench" \
	"$p9_mount bench /mnt &&" seqread /mnt/file "$tmp/share/file" 64
io_rows "9p file first read, cache=loose MiB/s" "--9p $tmp/share,bench" \
	"$p9_mount,cache=loose bench /mnt &&" cachedread /mnt/file "$tmp/share/file" 64

# virtio-pci's interrupts: INTx (level, the ISR read per interrupt, resampled at EOI) against
# MSI-X through the GICv3 ITS (--irqchip gicv3-its: an edge per queue, nothing to read), on the
# request-per-interrupt measurements.
its_rows() {
	_gi=$(guest_io pci "$2" "$3 iobench $4 $5 $6")
	_gm=$(guest_io pci "$2 --irqchip gicv3-its" "$3 iobench $4 $5 $6")
	row "$1" "$_gi" "$_gm" "$(ratio "$_gm" "$_gi")"
}
echo | tee -a "$table"
row "virtio-pci: INTx vs MSI-X through the ITS" "INTx" "MSI-X" "MSI-X/INTx"
[ ! -b /dev/vda ] || its_rows "virtio-blk: 4K random read IOPS" "-d /dev/vda" "" randread /dev/vda 2000
its_rows "9p file seq read, O_DIRECT MiB/s" "--9p $tmp/share,bench" "$p9_mount bench /mnt &&" \
	seqread /mnt/file 64
echo "bench: done" >"${LKVM_SUMMARY:-/dev/null}"
