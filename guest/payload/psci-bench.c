/*
 * psci-bench: timings in counter ticks, one parseable line each. bootargs: test=version|mmio|
 * cpuon, and N as n=N or a bare number (default 100000; cpuon: 1000 rounds at most).
 *   bench version calls=N ticks=T freq=F          PSCI_VERSION N times
 *   bench mmio reads=N ticks=T freq=F             N reads of an address with no device
 *   bench cpuon rounds=N min=A median=B mean=C freq=F
 *                                                 CPU_ON of vCPU 1 to its first instruction
 * then "psci-bench: 1 passed, 0 failed" (or 0 passed, 1 failed and why) and SYSTEM_OFF.
 */
#include "lib.h"

const char payload_name[] = "psci-bench";

#define UNBACKED_MMIO	0x00100000UL
#define MAX_ROUNDS	1000
#define WAIT_MS		20000

static volatile u64 entry_ticks, entries;	/* written by vCPU 1 only */
static u64 samples[MAX_ROUNDS];

void secondary_main(u64 ctx, u64 t_entry, unsigned int cpu)
{
	(void)ctx;
	if (cpu == 0) {
		print("%s: vCPU 0 entered the entry point\n", payload_name);
		finish();
	}
	entry_ticks = t_entry;
	dsb();
	entries = entries + 1;
	dsb();
	cpu_off();
}

static void bench_version(u64 n)
{
	u64 t0 = now();

	for (u64 i = 0; i < n; i++)
		psci(PSCI_FN(VERSION), 0, 0, 0);
	print("bench version calls=%lu ticks=%lu freq=%lu\n", n, now() - t0, timer_freq());
	n_pass++;
}

static void bench_mmio(u64 n)
{
	u64 t0 = now();

	for (u64 i = 0; i < n; i++)
		mmio_read32(UNBACKED_MMIO);
	print("bench mmio reads=%lu ticks=%lu freq=%lu\n", n, now() - t0, timer_freq());
	n_pass++;
}

static bool wait_off(void)
{
	u64 end = now() + ms_to_ticks(WAIT_MS);

	while (psci(PSCI_FN64(AFFINITY_INFO), cpu_mpidr(1), 0, 0) != 1)
		if (now() > end)
			return false;
	return true;
}

static void bench_cpuon(u64 n)
{
	u64 sum = 0, end;

	if (n > MAX_ROUNDS)
		n = MAX_ROUNDS;
	for (u64 i = 0; i < n; i++) {
		u64 seen = entries, t0, r;

		t0 = now();
		r = psci(PSCI_FN64(CPU_ON), cpu_mpidr(1), (u64)cpu_entry, i);
		if (r != 0) {
			print("%s: CPU_ON of vCPU 1 returned 0x%lx\n", payload_name, r);
			n_fail++;
			return;
		}
		end = now() + ms_to_ticks(WAIT_MS);
		while (entries == seen)
			if (now() > end) {
				print("%s: vCPU 1 did not start\n", payload_name);
				n_fail++;
				return;
			}
		samples[i] = entry_ticks - t0;
		sum += samples[i];
		if (!wait_off()) {
			print("%s: vCPU 1 did not turn off\n", payload_name);
			n_fail++;
			return;
		}
	}
	/* insertion sort: n is small */
	for (u64 i = 1; i < n; i++) {
		u64 v = samples[i], j = i;

		for (; j && samples[j - 1] > v; j--)
			samples[j] = samples[j - 1];
		samples[j] = v;
	}
	if (n)
		print("bench cpuon rounds=%lu min=%lu median=%lu mean=%lu freq=%lu\n", n, samples[0],
		      samples[n / 2], sum / n, timer_freq());
	n_pass++;
}

void payload_main(void)
{
	u64 n = par.n ? par.n : streq(par.test, "cpuon") ? MAX_ROUNDS : 100000;

	if (streq(par.test, "version"))
		bench_version(n);
	else if (streq(par.test, "mmio"))
		bench_mmio(n);
	else if (streq(par.test, "cpuon"))
		bench_cpuon(n);
	else {
		print("%s: test=%s: use test=version, mmio or cpuon\n", payload_name, par.test);
		n_fail++;
	}
}
