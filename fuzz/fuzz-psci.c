/*
 * libFuzzer target for lkvm's PSCI state machine (psci/psci.c), as the vCPUs and the control
 * socket drive it: each 8-byte step picks a vCPU and an action, a PSCI call from a running vCPU
 * (SMC32 or SMC64 IDs, arguments around the real MPIDRs), a pending vCPU starting, a suspended
 * one waking, or a plug/unplug. The fuzzer keeps the vCPU threads' side of the contract (only a
 * running vCPU calls; only a started one runs) and checks after every step that each answer
 * matches the states it was given in, and that the states only move as PSCI allows.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lkvm/psci.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NR_CPUS		4
#define RAM_BASE	0x80000000ULL

static bool stopped;

static bool fake_valid_entry(struct psci *p, u64 addr)
{
	(void)p;
	return addr >= RAM_BASE && addr < RAM_BASE + (1 << 20);
}

static struct psci_cpu_on_verdict fake_policy(struct psci *p, unsigned int caller, unsigned int t)
{
	(void)p;
	(void)caller;
	/* Some targets refused by the policy, some started late. */
	return (struct psci_cpu_on_verdict){ .ret = t == 3 ? PSCI_RET_DENIED : PSCI_RET_SUCCESS,
					     .delay_ns = t == 2 ? 1000 : 0 };
}

static void fake_suspend(struct psci *p, unsigned int cpu, enum psci_suspend_type type)
{
	(void)p;
	(void)cpu;
	(void)type;
}

static void fake_stop(struct psci *p)
{
	(void)p;
	stopped = true;
}

static u64 fake_now(struct psci *p)
{
	(void)p;
	return 42;
}

static const struct psci_ops ops = {
	.valid_entry = fake_valid_entry, .cpu_on_policy = fake_policy, .suspend = fake_suspend,
	.system_off = fake_stop, .system_reset = fake_stop, .now_ns = fake_now,
};

static const u64 mpidrs[NR_CPUS] = { 0x0, 0x1, 0x100, 0x10000 };
static const u8 fns[] = {
	PSCI_NR_VERSION, PSCI_NR_CPU_SUSPEND, PSCI_NR_CPU_OFF, PSCI_NR_CPU_ON,
	PSCI_NR_AFFINITY_INFO, PSCI_NR_MIGRATE_INFO_TYPE, PSCI_NR_FEATURES, PSCI_NR_NODE_HW_STATE,
	PSCI_NR_SYSTEM_SUSPEND, PSCI_NR_STAT_RESIDENCY, PSCI_NR_STAT_COUNT, PSCI_NR_SYSTEM_RESET2,
	PSCI_NR_MIGRATE, 0x1f,
};

/* An argument near what matters: an MPIDR, an entry point in or out of RAM, or raw bits. */
static u64 arg_of(u8 b, u8 raw)
{
	switch (b & 3) {
	case 0: return mpidrs[(b >> 2) % NR_CPUS];
	case 1: return RAM_BASE + ((u64)raw << 12);
	case 2: return (u64)raw << ((b >> 2) & 31);
	default: return ~(u64)raw;
	}
}

static void check_cpu_on(const struct psci_call *c, enum psci_cpu_state before[NR_CPUS],
			  struct psci *p)
{
	s64 ret = (s64)c->res[0];
	int t = -1;

	for (int i = 0; i < NR_CPUS; i++)
		if (mpidrs[i] == (c->fid & SMCCC_FN64 ? c->arg[1] : c->arg[1] & 0xffffffffULL))
			t = i;
	if (t < 0 || ret == PSCI_RET_INVALID_ADDRESS)
		return;
	if (ret == PSCI_RET_SUCCESS &&
	    (before[t] != PSCI_STATE_OFF || psci__cpu_state(p, (unsigned int)t) != PSCI_STATE_ON_PENDING))
		abort();
	if (ret == PSCI_RET_ALREADY_ON && before[t] != PSCI_STATE_ON &&
	    before[t] != PSCI_STATE_ON_PENDING && before[t] != PSCI_STATE_SUSPENDED)
		abort();
	if (ret == PSCI_RET_DENIED && before[t] != PSCI_STATE_ABSENT && t != 3)
		abort();
}

static void step(struct psci *p, const u8 *s)
{
	unsigned int cpu = s[0] % NR_CPUS;
	enum psci_cpu_state before[NR_CPUS], st = psci__cpu_state(p, cpu);
	struct psci_call c = { 0 };
	bool reset;
	u64 entry, ctx, delay;

	for (unsigned int i = 0; i < NR_CPUS; i++)
		before[i] = psci__cpu_state(p, i);
	switch (s[0] >> 6) {
	case 0:
	case 1:
		if (st != PSCI_STATE_ON)
			return;
		c.fid = PSCI_FN(fns[s[1] % sizeof(fns)]) | (s[1] & 0x80 ? SMCCC_FN64 : 0);
		c.arg[1] = arg_of(s[2], s[5]);
		c.arg[2] = arg_of(s[3], s[6]);
		c.arg[3] = arg_of(s[4], s[7]);
		if (psci__call(p, cpu, &c) == PSCI_NO_RETURN &&
		    psci__cpu_state(p, cpu) == PSCI_STATE_ON && !stopped)
			abort();	/* it went off, suspended or stopped the VM */
		if ((c.fid & SMCCC_FN_MASK) == PSCI_NR_CPU_ON)
			check_cpu_on(&c, before, p);
		return;
	case 2:
		if (st != PSCI_STATE_ON_PENDING && st != PSCI_STATE_ON)
			return;
		if (!psci__wait_cpu_on(p, cpu, &reset, &entry, &ctx, &delay))
			abort();
		if (delay)
			psci__cpu_started(p, cpu);
		if (psci__cpu_state(p, cpu) != PSCI_STATE_ON || (reset && !fake_valid_entry(p, entry)))
			abort();
		return;
	default:
		if (st == PSCI_STATE_SUSPENDED && (s[1] & 1)) {
			psci__cpu_woke(p, cpu, &reset, &entry, &ctx);
			if (psci__cpu_state(p, cpu) != PSCI_STATE_ON)
				abort();
			return;
		}
		if (cpu && psci__set_present(p, cpu, s[1] & 2) == 0 &&
		    psci__cpu_state(p, cpu) != (s[1] & 2 ? (st == PSCI_STATE_ABSENT ? PSCI_STATE_OFF : st) :
						PSCI_STATE_ABSENT))
			abort();
		return;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct psci p;

	stopped = false;
	if (psci__init(&p, &ops, NR_CPUS, mpidrs, NULL))
		return 0;
	for (; size >= 8 && !stopped; data += 8, size -= 8)
		step(&p, data);
	psci__exit(&p);
	return 0;
}
