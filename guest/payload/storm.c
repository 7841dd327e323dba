/*
 * storm: a hostile guest's firmware-call storm. Every vCPU (cpus=N, default all in the DT)
 * issues random SMCCC calls for n=SECONDS (default 60): random owners and function numbers,
 * SMC32 and SMC64, through HVC and SMC at random, with random arguments. It skips only what
 * would stop the storm itself: PSCI calls that turn off, suspend or reset a vCPU or the VM, or
 * start one (CPU_ON) at a random address, lkvm's own exit call, and SDEI registrations at
 * random entry points (with test=sdei each vCPU
 * registers real handlers for events 0 and 1000 first, so that the host's `lkvm sdei signal`
 * and `lkvm nmi` have somewhere to land, until a random call undoes them).
 * Then vCPU 0 prints "storm: vCPU N calls=C events=E" per vCPU and the total, and powers off:
 * that every call returned is what the storm checks; the host checks lkvm's side.
 *
 * test=psci is a power storm instead: vCPU 0 turns every other vCPU on again as soon as
 * AFFINITY_INFO says it is off; each one, once started, asks AFFINITY_INFO and NODE_HW_STATE
 * of the others, suspends in standby until its timer wakes it, and turns itself off, over and
 * over; then vCPU 0 prints "storm: vCPU N starts=S suspends=U" and checks that each vCPU
 * came and went. test=sdei-loop: every vCPU registers event 0, enables it, unmasks itself,
 * signals it to itself, waits for its handler, then unregisters and masks, over and over; no
 * signal may go unhandled (the host's own signals may add events).
 */
#include "lib.h"

const char payload_name[] = "storm";

#define LKVM_EXIT_FN		0x86000082U

static volatile u64 calls[MAX_CPUS], events[MAX_CPUS], suspends[MAX_CPUS], lost[MAX_CPUS];
#define PSCI_STORM_CTX		0x5053	/* a start for the power storm */
#define NODE_HW_STATE_FN	PSCI_FN64(NODE_HW_STATE)
static volatile bool done[MAX_CPUS];	/* each written by its own vCPU only */
static u64 deadline;

/* The handlers: count the event in *ep_arg, then COMPLETE through the conduit they serve. */
void sdei_entry_hvc(void);
void sdei_entry_smc(void);
__asm__(".pushsection .text\n"
	".macro storm_handler name, insn\n"
	".global \\name\n"
	"\\name:\n"
	"	ldr x2, [x1]\n"
	"	add x2, x2, #1\n"
	"	str x2, [x1]\n"
	"	movz x0, #0x0025\n"
	"	movk x0, #0xC400, lsl #16\n"
	"	mov x1, #0\n"
	"	\\insn #0\n"
	"	b .\n"
	".endm\n"
	"storm_handler sdei_entry_hvc, hvc\n"
	"storm_handler sdei_entry_smc, smc\n"
	".popsection\n");

/* xorshift64*: each vCPU its own stream, seeded from its index and the counter. */
static u64 next(u64 *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545F4914F6CDD1DUL;
}

/* Calls the storm must not make: they end or suspend the caller or the VM. */
static bool forbidden(u32 fid)
{
	u32 base = fid & ~FN64_BIT;
	unsigned int fn = fid & 0xffff;

	if (base == LKVM_EXIT_FN)
		return true;
	if ((base & 0xffff0000U) != 0x84000000U)
		return false;
	switch (fn) {
	case CPU_SUSPEND: case CPU_OFF: case CPU_ON: case SYSTEM_OFF: case SYSTEM_RESET: case 0x0B:
	case 0x0C:
	case SYSTEM_SUSPEND: case SYSTEM_RESET2: case 0x15:
		return true;
	case 0x20 + S_REGISTER:
		return true;
	default:
		return false;
	}
}

/* A function ID near the services that exist, or anywhere. */
static u32 random_fid(u64 r)
{
	static const u32 owners[] = { 0, 4, 4, 4, 5, 6, 6, 1, 2, 3, 48, 63 };
	u32 owner = owners[r % ARRAY_SIZE(owners)];
	u32 fn = (r >> 8) & 0xff;

	if ((r >> 16) % 16 == 0)
		return (u32)(r >> 32) | 0x80000000U;	/* any fast call at all */
	if (owner == 6 && (r >> 20) & 1)
		fn = 0x80 + (fn & 0xf);			/* lkvm's own vendor calls */
	else if (owner == 4)
		fn &= 0x7f;				/* PSCI, SDEI, TRNG */
	return 0x80000000U | owner << 24 | ((r >> 21) & 1 ? FN64_BIT : 0) | fn;
}

static u64 random_arg(u64 *s)
{
	u64 r = next(s);

	switch (r & 3) {
	case 0: return r >> 60;					/* small: event numbers, levels */
	case 1: return boot.ram_base + ((r >> 8) % boot.ram_size);	/* in RAM */
	case 2: return cpu_mpidr((unsigned int)(r >> 8) % MAX_CPUS);	/* an MPIDR */
	default: return next(s);
	}
}

static void register_events(unsigned int cpu)
{
	u64 entry = par.smc ? (u64)sdei_entry_smc : (u64)sdei_entry_hvc;
	const u64 evs[] = { 0, 1000 };

	for (unsigned int i = 0; i < ARRAY_SIZE(evs); i++) {
		sdei(S_REGISTER, evs[i], entry, (u64)&events[cpu], 0, 0);
		sdei(S_ENABLE, evs[i], 0, 0, 0, 0);
	}
	sdei(S_PE_UNMASK, 0, 0, 0, 0, 0);
}

/* test=sdei-loop: one vCPU's rounds of register, enable, unmask, signal, handle, unregister. */
static void sdei_loop(unsigned int cpu)
{
	u64 entry = par.smc ? (u64)sdei_entry_smc : (u64)sdei_entry_hvc;

	while (now() < deadline) {
		u64 seen = events[cpu], end = now() + ms_to_ticks(5000);

		sdei(S_REGISTER, 0, entry, (u64)&events[cpu], 0, 0);
		sdei(S_ENABLE, 0, 0, 0, 0, 0);
		sdei(S_PE_UNMASK, 0, 0, 0, 0, 0);
		sdei(S_SIGNAL, 0, cpu_mpidr(cpu), 0, 0, 0);
		while (events[cpu] == seen && now() < end)
			cpu_relax();
		if (events[cpu] == seen)
			lost[cpu] = lost[cpu] + 1;
		sdei(S_UNREGISTER, 0, 0, 0, 0, 0);
		sdei(S_PE_MASK, 0, 0, 0, 0, 0);
		calls[cpu] = calls[cpu] + 1;
	}
}

static void storm(unsigned int cpu)
{
	u64 s = (now() ^ (0x9E3779B97F4A7C15UL * (cpu + 1))) | 1, res[4];

	if (par.test && streq(par.test, "sdei-loop")) {
		sdei_loop(cpu);
		return;
	}
	if (par.test && streq(par.test, "sdei"))
		register_events(cpu);
	while (now() < deadline) {
		u64 r = next(&s);
		u32 fid = random_fid(r);
		u64 a1 = random_arg(&s), a2 = random_arg(&s), a3 = random_arg(&s);

		if (forbidden(fid))
			continue;
		if ((r >> 40) & 1)
			smc_call(fid, a1, a2, a3, res);
		else
			hvc_call(fid, a1, a2, a3, res);
		calls[cpu] = calls[cpu] + 1;
	}
}

/* One start of the power storm: look around, nap until the timer, then go off again. */
static void __noreturn power_cycle(unsigned int cpu, unsigned int cpus)
{
	calls[cpu] = calls[cpu] + 1;
	for (unsigned int i = 0; i < cpus; i++) {
		psci(PSCI_FN64(AFFINITY_INFO), cpu_mpidr(i), 0, 0);
		psci(NODE_HW_STATE_FN, cpu_mpidr(i), 0, 0);
	}
	if (gic_init_timer()) {
		timer_arm_ms(1);
		if (psci(PSCI_FN(CPU_SUSPEND), 0, 0, 0) == SUCCESS)
			suspends[cpu] = suspends[cpu] + 1;
		timer_off();
	}
	cpu_off();
}

/* vCPU 0's side: every vCPU that is off is started again, until the deadline. */
static void power_storm(unsigned int cpus)
{
	while (now() < deadline) {
		for (unsigned int i = 1; i < cpus; i++) {
			if (psci(PSCI_FN64(AFFINITY_INFO), cpu_mpidr(i), 0, 0) == 1)
				psci(PSCI_FN64(CPU_ON), cpu_mpidr(i), (u64)cpu_entry, PSCI_STORM_CTX);
		}
	}
	for (unsigned int i = 1; i < cpus; i++) {
		u64 end = now() + ms_to_ticks(10000);

		while (psci(PSCI_FN64(AFFINITY_INFO), cpu_mpidr(i), 0, 0) != 1 && now() < end)
			cpu_relax();
	}
	for (unsigned int i = 1; i < cpus; i++) {
		print("%s: vCPU %u starts=%lu suspends=%lu\n", payload_name, i, calls[i], suspends[i]);
		check(calls[i] > 0 && suspends[i] > 0, calls[i], 1, "vCPU %u came and went", i);
	}
	finish();
}

void secondary_main(u64 ctx, u64 t_entry, unsigned int cpu)
{
	(void)t_entry;
	if (ctx == PSCI_STORM_CTX)
		power_cycle(cpu, par.cpus ? par.cpus : boot.dt_cpus);
	storm(cpu);
	dsb();
	done[cpu] = true;
	dsb();
	cpu_off();
}

void payload_main(void)
{
	unsigned int cpus = par.cpus ? par.cpus : boot.dt_cpus, started = 1;
	u64 secs = par.n ? par.n : 60, total = 0;
	bool on[MAX_CPUS] = { true };

	if (cpus > MAX_CPUS)
		cpus = MAX_CPUS;
	deadline = now() + secs * timer_freq();
	print("%s: test=%s seconds=%lu\n", payload_name, par.test ? par.test : "calls", secs);
	if (par.test && streq(par.test, "psci"))
		power_storm(cpus);
	for (unsigned int i = 1; i < cpus; i++) {
		on[i] = psci(PSCI_FN64(CPU_ON), cpu_mpidr(i), (u64)cpu_entry, 0) == SUCCESS;
		started += on[i];
	}
	check(started == cpus, started, cpus, "every vCPU joins the storm");
	storm(0);
	for (unsigned int i = 1; i < cpus; i++)
		while (on[i] && !done[i])
			cpu_relax();
	for (unsigned int i = 0; i < cpus; i++) {
		print("%s: vCPU %u calls=%lu events=%lu\n", payload_name, i, calls[i], events[i]);
		total += calls[i];
	}
	if (par.test && streq(par.test, "sdei-loop"))
		for (unsigned int i = 0; i < cpus; i++)
			check(calls[i] && !lost[i], lost[i], 0,
			      "vCPU %u handled each of its %lu signals", i, calls[i]);
	print("%s: calls=%lu seconds=%lu\n", payload_name, total, secs);
	check(total > 0, total, 1, "the calls returned");
	finish();
}
