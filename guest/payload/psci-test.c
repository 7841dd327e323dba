/*
 * psci-test: checks the PSCI firmware a guest sees: lkvm's (mode=user) or KVM's in-kernel one
 * (mode=kernel, only what both implement alike). Parameters in bootargs: mode=user|kernel,
 * conduit=hvc|smc (what lkvm advertises), test=all|basics|affinity|cpuon|race|suspend|
 * syssuspend|reset2-args (the sets of test=all) or reset|reset2|off-race (end the VM).
 * Only vCPU 0 prints; the other vCPUs report through their slots.
 */
#include "lib.h"

const char payload_name[] = "psci-test";

#define WAIT_MS		20000		/* generous: the KVM host itself is emulated */
#define TIMER_MS	10
#define RACE_ROUNDS	4
#define FIB_N		20
#define FIB_WANT	6765

/* What a started vCPU does: context_id = 0xC7 << 24 | job << 16 | seq, with free high bits. */
enum job { JOB_HOLD = 1, JOB_RACE, JOB_SPIN, JOB_PSCI_SPIN };
#define CTX(job, seq)	(0xC7000000UL | (u64)(job) << 16 | ((seq) & 0xffff))
#define CTX_OK(c)	(((c) >> 24 & 0xff) == 0xC7)
#define CTX_JOB(c)	(((c) >> 16) & 0xff)
#define CTX_SEQ(c)	((c) & 0xffff)

/* Written only by its vCPU: what it saw at its entry, and its part in the CPU_ON race. */
struct slot {
	u64 ctx, t_entry, sp, state, cfun;
	u64 race_ready, race_done, race_ret;
	u64 runs;		/* entries so far; written last */
} __attribute__((aligned(128)));
static volatile struct slot slots[MAX_CPUS];
/* Written only by vCPU 0. */
static volatile u64 release[MAX_CPUS];	/* a JOB_HOLD vCPU turns off when this is its seq */
static volatile u64 race_go, race_fid, race_ctx, race_target;
static unsigned int ncpus;
static u32 seq;

extern char stacks[];

static const char *bits(u32 fid)
{
	return fid & FN64_BIT ? "64" : "";
}

static bool wait_for(volatile u64 *p, u64 v)
{
	u64 end = now() + ms_to_ticks(WAIT_MS);

	while (*p != v) {
		if (now() > end)
			return false;
		cpu_relax();
	}
	return true;
}

/* Polls AFFINITY_INFO(cpu, 0) until it answers want; returns the last answer. */
static u64 poll_aff(unsigned int cpu, u64 want)
{
	u64 end = now() + ms_to_ticks(WAIT_MS), r;

	while ((r = psci(PSCI_FN64(AFFINITY_INFO), cpu_mpidr(cpu), 0, 0)) != want && now() < end)
		delay_us(100);
	return r;
}

/* ---- the started vCPUs ---- */

static __attribute__((noinline)) u64 fib(u64 n)
{
	return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

static void race_caller(unsigned int cpu)
{
	volatile struct slot *s = &slots[cpu];

	for (u64 r = 1; r <= RACE_ROUNDS; r++) {
		s->race_ready = r;
		dsb();
		if (!wait_for(&race_go, r))
			return;
		s->race_ret = psci((u32)race_fid, cpu_mpidr((unsigned int)race_target),
				   (u64)cpu_entry, race_ctx);
		dsb();
		s->race_done = r;
		dsb();
	}
}

void secondary_main(u64 ctx, u64 t_entry, unsigned int cpu)
{
	volatile struct slot *s = &slots[cpu];
	u64 sp;

	if (cpu == 0) {
		check(false, ctx, (u64)&resume_ctxs[0],
		      "vCPU 0 entered the entry point with no resume expected, x0");
		finish();
	}
	__asm__ volatile("mov %0, sp" : "=r"(sp));
	s->ctx = ctx;
	s->t_entry = t_entry;
	s->sp = sp;
	s->state = read_sysreg(CurrentEL) >> 2 | (read_sysreg(sctlr_el1) & 1) << 4 |
		   (read_sysreg(daif) & 0x3c0);
	s->cfun = fib(FIB_N);
	dsb();
	s->runs = s->runs + 1;
	dsb();
	if (!CTX_OK(ctx))
		cpu_off();
	switch (CTX_JOB(ctx)) {
	case JOB_HOLD:
		wait_for(&release[cpu], CTX_SEQ(ctx));
		break;
	case JOB_RACE:
		race_caller(cpu);
		break;
	case JOB_SPIN:
		for (;;)
			cpu_relax();
	case JOB_PSCI_SPIN:
		for (;;)
			psci(PSCI_FN(VERSION), 0, 0, 0);
	}
	cpu_off();
}

/* Starts vCPU cpu with a job and waits until it runs: only failures are reported. */
static bool start_cpu(unsigned int cpu, enum job job)
{
	u64 runs = slots[cpu].runs, ctx = CTX(job, ++seq), r;

	r = psci(PSCI_FN64(CPU_ON), cpu_mpidr(cpu), (u64)cpu_entry, ctx);
	if (r != SUCCESS)
		return check(false, r, SUCCESS, "CPU_ON64 of vCPU %u", cpu);
	if (!wait_for(&slots[cpu].runs, runs + 1))
		return check(false, slots[cpu].runs, runs + 1, "vCPU %u starts", cpu);
	return true;
}

/* Lets a JOB_HOLD vCPU turn itself off; returns AFFINITY_INFO's answer, 1 (OFF) once it is. */
static u64 stop_cpu(unsigned int cpu)
{
	release[cpu] = CTX_SEQ(slots[cpu].ctx);
	dsb();
	return poll_aff(cpu, 1);
}

/* ---- the checks ---- */

static bool implemented(u32 fid)
{
	switch (fid) {
	case PSCI_FN(VERSION): case PSCI_FN(CPU_SUSPEND): case PSCI_FN(CPU_OFF):
	case PSCI_FN(CPU_ON): case PSCI_FN(AFFINITY_INFO): case PSCI_FN(MIGRATE_INFO_TYPE):
	case PSCI_FN(SYSTEM_OFF): case PSCI_FN(SYSTEM_RESET): case PSCI_FN(FEATURES):
	case PSCI_FN(NODE_HW_STATE): case PSCI_FN(SYSTEM_SUSPEND): case PSCI_FN(STAT_RESIDENCY):
	case PSCI_FN(STAT_COUNT): case PSCI_FN(SYSTEM_RESET2):
	case PSCI_FN64(CPU_SUSPEND): case PSCI_FN64(CPU_ON): case PSCI_FN64(AFFINITY_INFO):
	case PSCI_FN64(NODE_HW_STATE): case PSCI_FN64(SYSTEM_SUSPEND):
	case PSCI_FN64(STAT_RESIDENCY): case PSCI_FN64(STAT_COUNT): case PSCI_FN64(SYSTEM_RESET2):
		return true;
	}
	return false;
}

/* The functions PSCI 1.0 mandates: what KVM's FEATURES must report too. */
static bool mandatory(u32 fid)
{
	switch (fid) {
	case PSCI_FN(VERSION): case PSCI_FN(CPU_SUSPEND): case PSCI_FN(CPU_OFF):
	case PSCI_FN(CPU_ON): case PSCI_FN(AFFINITY_INFO): case PSCI_FN(SYSTEM_OFF):
	case PSCI_FN(SYSTEM_RESET): case PSCI_FN(FEATURES): case PSCI_FN64(CPU_SUSPEND):
	case PSCI_FN64(CPU_ON): case PSCI_FN64(AFFINITY_INFO):
		return true;
	}
	return false;
}

static void test_basics(void)
{
	u64 v;

	expect(PSCI_FN(VERSION), 0, 0, 0, 0x10001, "PSCI 1.1");
	v = psci(SMCCC_VERSION, 0, 0, 0);
	check(v >= 0x10001 && v < 0x80000000UL, v, 0x10001, "SMCCC_VERSION 0x%lx is 1.1 or later", v);
	expect(PSCI_FN(FEATURES), SMCCC_VERSION, 0, 0, SUCCESS, "SMCCC_VERSION");
	check(streq(boot.psci_method, par.smc ? "smc" : "hvc"), 0, 0,
	      "the device tree's /psci method is \"%s\"", par.smc ? "smc" : "hvc");
	/* user: every PSCI function ID; kernel: the mandatory functions */
	for (u32 n = 0; n < 0x40; n++) {
		u32 fid = n < 0x20 ? PSCI_FN(n) : PSCI_FN64(n - 0x20);

		if (par.user || mandatory(fid))
			expect(PSCI_FN(FEATURES), fid, 0, 0, implemented(fid) ? SUCCESS : NOT_SUPPORTED,
			       fid == PSCI_FN(CPU_SUSPEND) || fid == PSCI_FN64(CPU_SUSPEND) ?
			       "original power_state format, platform-coordinated" : NULL);
	}
	expect(PSCI_FN(MIGRATE_INFO_TYPE), 0, 0, 0, 2, "no Trusted OS to migrate");
	if (!par.user)
		return;

	/* Calling what is not implemented, MIGRATE and MIGRATE_INFO_UP_CPU among them. */
	for (u32 n = 0; n < 0x40; n++) {
		u32 fid = n < 0x20 ? PSCI_FN(n) : PSCI_FN64(n - 0x20);

		if (!implemented(fid))
			expect(fid, 0, 0, 0, NOT_SUPPORTED, "not implemented");
	}
	/* No SMCCC function IDs (bits [23:16] set): -1 in either width, as KVM's filter denies. */
	for (u32 i = 0; i < 4; i++) {
		v = psci(0x95c1ba5eU + i, 0, 0, 0);
		check((u32)v == 0xffffffffU && (v >> 32 == 0 || v >> 32 == 0xffffffffU), v,
		      0xffffffffU, "fn 0x%x() = NOT_SUPPORTED: a PSCI 0.1 function ID", 0x95c1ba5eU + i);
	}
	expect_via(true, PSCI_FN(VERSION), 0, 0, 0, NOT_SUPPORTED, "not the advertised conduit");
	expect_via(true, PSCI_FN64(AFFINITY_INFO), 0, 0, 0, NOT_SUPPORTED,
		   "not the advertised conduit");
	v = psci(PSCI_FN(AFFINITY_INFO), 1UL << 31, 0, 0);
	check(v == 0xfffffffeUL, v, 0xfffffffeUL,
	      "an SMC32 call's error is narrowed to 32 bits: AFFINITY_INFO(0x80000000, 0)");
	v = psci(PSCI_FN64(AFFINITY_INFO), 1UL << 40, 0, 0);
	check(v == (u64)-2L, v, (u64)-2L,
	      "an SMC64 call's error is sign-extended: AFFINITY_INFO64(1 << 40, 0)");
}

static void test_affinity(void)
{
	check(ncpus == boot.dt_cpus, ncpus, boot.dt_cpus,
	      "AFFINITY_INFO finds %u vCPUs, as many as the device tree's /cpus", ncpus);
	for (unsigned int i = 0; i < ncpus; i++) {
		expect(PSCI_FN(AFFINITY_INFO), cpu_mpidr(i), 0, 0, i ? 1 : 0, i ? NULL : "the caller");
		expect(PSCI_FN64(AFFINITY_INFO), cpu_mpidr(i), 0, 0, i ? 1 : 0, i ? NULL : "the caller");
	}
	expect(PSCI_FN(AFFINITY_INFO), cpu_mpidr(1), 1, 0, 0, "level 1 holds vCPU 0");
	expect(PSCI_FN64(AFFINITY_INFO), cpu_mpidr(1), 2, 0, 0, "level 2 holds vCPU 0");
	expect(PSCI_FN(AFFINITY_INFO), 0, 4, 0, INVALID_PARAMETERS, "no level 4");
	expect(PSCI_FN(AFFINITY_INFO), cpu_mpidr(ncpus), 0, 0, INVALID_PARAMETERS, "no such vCPU");
	expect(PSCI_FN64(AFFINITY_INFO), 1UL << 40, 0, 0, INVALID_PARAMETERS,
	       "bit 40 is no affinity field");
}

/* vCPU 1: errors, a start with SMC32 and another with SMC64, CPU_OFF, NODE_HW_STATE. */
static void test_cpu_on(void)
{
	volatile struct slot *s = &slots[1];
	u64 e = (u64)cpu_entry, ram_end = boot.ram_base + boot.ram_size, ctx, runs, v;
	const u64 junk = 0xffffffff00000000UL;
	bool ok;

	if (ncpus < 2) {
		check(false, ncpus, 2, "cpuon needs 2 vCPUs");
		return;
	}
	expect(PSCI_FN(CPU_ON), cpu_mpidr(ncpus), e, 0, INVALID_PARAMETERS, "no such vCPU");
	expect(PSCI_FN(CPU_ON), 1UL << 31 | 1, e, 0, INVALID_PARAMETERS, "bit 31 is no affinity field");
	expect(PSCI_FN64(CPU_ON), 1UL << 40 | 1, e, 0, INVALID_PARAMETERS,
	       "bit 40 is no affinity field");
	expect(PSCI_FN(CPU_ON), cpu_mpidr(0), e, 0, ALREADY_ON, "the caller itself");
	expect(PSCI_FN64(CPU_ON), cpu_mpidr(0), e, 0, ALREADY_ON, "the caller itself");
	if (par.user) {
		expect(PSCI_FN(CPU_ON), cpu_mpidr(1), 0x1000, 0, INVALID_ADDRESS, "entry point below RAM");
		expect(PSCI_FN64(CPU_ON), cpu_mpidr(1), ram_end, 0, INVALID_ADDRESS,
		       "entry point at the end of RAM");
	}

	ctx = CTX(JOB_HOLD, ++seq);
	runs = s->runs;
	expect(PSCI_FN(CPU_ON), cpu_mpidr(1), e, ctx, SUCCESS, "vCPU 1 starts");
	v = psci(PSCI_FN(AFFINITY_INFO), cpu_mpidr(1), 0, 0);
	check(ret_is(PSCI_FN(AFFINITY_INFO), v, 0) || ret_is(PSCI_FN(AFFINITY_INFO), v, 2), v, 0,
	      "AFFINITY_INFO(0x1, 0) right after CPU_ON is ON or ON_PENDING");
	ok = wait_for(&s->runs, runs + 1);
	check(ok && s->ctx == ctx, s->ctx, ctx, "vCPU 1 runs at the entry point with x0 = context_id");
	check(ok && s->cfun == FIB_WANT && s->sp > (u64)stacks + STACK_SIZE &&
	      s->sp <= (u64)stacks + 2 * STACK_SIZE, s->cfun, FIB_WANT,
	      "vCPU 1 runs C code on its own stack");
	check(ok && s->state == 0x3c1, s->state, 0x3c1,
	      "vCPU 1 starts at EL1 with the MMU off and DAIF masked");
	expect(PSCI_FN64(AFFINITY_INFO), cpu_mpidr(1), 0, 0, 0, "while vCPU 1 runs");
	expect(PSCI_FN(CPU_ON), cpu_mpidr(1), e, 0, ALREADY_ON, "vCPU 1 runs");
	expect(PSCI_FN64(CPU_ON), cpu_mpidr(1), e, 0, ALREADY_ON, "vCPU 1 runs");
	if (par.user) {
		expect(PSCI_FN(NODE_HW_STATE), cpu_mpidr(1), 0, 0, 0, NULL);
		expect(PSCI_FN64(NODE_HW_STATE), cpu_mpidr(0), 0, 0, 0, "the caller");
	}
	v = stop_cpu(1);
	check(v == 1, v, 1, "vCPU 1 calls CPU_OFF: AFFINITY_INFO(0x1, 0) becomes OFF");
	if (par.user) {
		expect(PSCI_FN64(NODE_HW_STATE), cpu_mpidr(1), 0, 0, 1, "after CPU_OFF");
		expect(PSCI_FN(NODE_HW_STATE), cpu_mpidr(ncpus), 0, 0, INVALID_PARAMETERS, "no such vCPU");
		expect(PSCI_FN64(NODE_HW_STATE), 1UL << 40, 0, 0, INVALID_PARAMETERS,
		       "bit 40 is no affinity field");
	}

	/* Once more, with SMC64 and a 64-bit context_id. */
	ctx = CTX(JOB_HOLD, ++seq) | 0x5a5a5a5a00000000UL;
	runs = s->runs;
	expect(PSCI_FN64(CPU_ON), cpu_mpidr(1), e, ctx, SUCCESS, "vCPU 1 starts again");
	ok = wait_for(&s->runs, runs + 1);
	check(ok && s->ctx == ctx, s->ctx, ctx, "vCPU 1 runs again, with the 64-bit context_id");
	v = stop_cpu(1);
	check(v == 1, v, 1, "vCPU 1 is OFF again");

	if (!par.user)
		return;
	ctx = CTX(JOB_HOLD, ++seq);
	runs = s->runs;
	expect(PSCI_FN(CPU_ON), junk | cpu_mpidr(1), junk | e, junk | ctx, SUCCESS,
	       "SMC32 arguments are narrowed to 32 bits");
	ok = wait_for(&s->runs, runs + 1);
	check(ok && s->ctx == ctx, s->ctx, ctx, "vCPU 1 runs with the narrowed context_id");
	v = stop_cpu(1);
	check(v == 1, v, 1, "vCPU 1 is OFF again");
}

/*
 * vCPUs 0..n-2 call CPU_ON on vCPU n-1 at once, in rounds: one wins, the others see
 * ALREADY_ON. The target holds until all callers are done, then turns itself off.
 */
static void test_race(void)
{
	unsigned int t = ncpus - 1, i;
	u64 e = (u64)cpu_entry;
	bool ok = true;

	if (ncpus < 3) {
		check(false, ncpus, 4, "race needs 3 vCPUs or more");
		return;
	}
	race_target = t;
	for (i = 1; i < t; i++)
		if (!start_cpu(i, JOB_RACE))
			return;
	for (i = 0; i < ncpus; i++)
		expect(PSCI_FN64(AFFINITY_INFO), cpu_mpidr(i), 0, 0, i < t ? 0 : 1,
		       i < t ? "a race caller is ON" : "the race target is OFF");
	for (u64 r = 1; r <= RACE_ROUNDS; r++) {
		u32 fid = r & 1 ? PSCI_FN(CPU_ON) : PSCI_FN64(CPU_ON);
		u64 ctx = CTX(JOB_HOLD, ++seq), runs = slots[t].runs, rets[MAX_CPUS];
		unsigned int success = 0, already = 0;

		ok = true;
		for (i = 1; i < t; i++)
			ok &= wait_for(&slots[i].race_ready, r);
		race_fid = fid;
		race_ctx = ctx;
		dsb();
		race_go = r;
		dsb();
		rets[0] = psci(fid, cpu_mpidr(t), e, ctx);
		for (i = 1; i < t; i++) {
			ok &= wait_for(&slots[i].race_done, r);
			rets[i] = slots[i].race_ret;
		}
		for (i = 0; i < t; i++) {
			success += ret_is(fid, rets[i], SUCCESS);
			already += ret_is(fid, rets[i], ALREADY_ON);
		}
		check(ok && success == 1 && already == t - 1, (u64)success << 8 | already,
		      1 << 8 | (t - 1), "CPU_ON%s race round %lu: %u callers, one SUCCESS, %u ALREADY_ON",
		      bits(fid), r, t, t - 1);
		ok = wait_for(&slots[t].runs, runs + 1) && slots[t].ctx == ctx;
		ok &= stop_cpu(t) == 1;
		check(ok && slots[t].runs == runs + 1, slots[t].ctx, ctx,
		      "race round %lu: the target started once with the context_id, then turned off", r);
	}
	ok = true;
	for (i = 1; i < t; i++)
		ok &= poll_aff(i, 1) == 1;
	check(ok, 0, 1, "the race callers turn off");
}

/* A suspend call, with the timer armed to wake it and cpu_entry ready to resume a powerdown. */
struct susp {
	bool resumed;		/* at the entry point, with x0 = ctx */
	u64 ret, ctx, want_ctx;
	u64 deadline, t1;
	bool fired;
	unsigned int calls;
};

static void suspend(u32 fid, u64 ps, u64 entry, struct susp *o)
{
	struct resume_ctx *rc = &resume_ctxs[0];
	bool sys = (fid & 0xffff) == SYSTEM_SUSPEND;
	u64 r;

	o->calls = 0;
	o->resumed = false;
	o->want_ctx = (u64)rc;
	if (!gic_init_timer())
		print("# GICv3 setup for the timer failed\n");
	o->deadline = timer_arm_ms(TIMER_MS);
	r = ctx_save(rc);
	if (r) {
		o->resumed = true;
		o->ctx = r;
	} else {
		rc->magic = RESUME_MAGIC;
		dsb();
		/* A standby may end early on any wake event: go on until the timer fired. */
		do {
			o->calls++;
			o->ret = sys ? psci(fid, entry, (u64)rc, 0) : psci(fid, ps, entry, (u64)rc);
		} while (!sys && !(ps & PS_POWERDOWN) && ret_is(fid, o->ret, SUCCESS) &&
			 !timer_fired() && o->calls < 100);
		rc->magic = 0;
	}
	o->t1 = now();
	o->fired = timer_fired();
	timer_off();
}

static void suspend_fails(u32 fid, u64 ps, u64 entry, s64 want, const char *what)
{
	struct susp o;

	suspend(fid, ps, entry, &o);
	check(!o.resumed && ret_is(fid, o.ret, want), o.resumed ? o.ctx : o.ret,
	      fid & FN64_BIT ? (u64)want : (u32)want, "%s%s(0x%lx, 0x%lx) = %s: %s", fn_name(fid),
	      bits(fid), (fid & 0xffff) == SYSTEM_SUSPEND ? entry : ps,
	      (fid & 0xffff) == SYSTEM_SUSPEND ? o.want_ctx : entry, ret_name(want), what);
}

static void check_resume(u32 fid, const struct susp *o, const char *what)
{
	check(o->resumed && o->ctx == o->want_ctx, o->resumed ? o->ctx : o->ret, o->want_ctx,
	      "%s%s(%s) resumes at the entry point with x0 = context_id", fn_name(fid), bits(fid),
	      what);
	check(o->t1 >= o->deadline, o->t1, o->deadline, "%s%s(%s) wakes when the timer fires",
	      fn_name(fid), bits(fid), what);
}

static u64 stat(u32 fid, u64 ps)
{
	return psci(fid, cpu_mpidr(0), ps, 0);
}

/* vCPU 0 alone: standby (both), powerdown, bad power_states, statistics (user). */
static void test_suspend(void)
{
	static const u32 fids[2] = { PSCI_FN(CPU_SUSPEND), PSCI_FN64(CPU_SUSPEND) };
	u64 e = (u64)cpu_entry, cnt_sb = 0, cnt_pd = 0, res_sb = 0, res_pd = 0, v;
	unsigned int standby = 0, powerdown = 0;
	struct susp o;

	if (par.user) {
		cnt_sb = stat(PSCI_FN(STAT_COUNT), 0);
		cnt_pd = stat(PSCI_FN64(STAT_COUNT), PS_POWERDOWN);
		res_sb = stat(PSCI_FN64(STAT_RESIDENCY), 0);
		res_pd = stat(PSCI_FN(STAT_RESIDENCY), PS_POWERDOWN);
	}
	for (int i = 0; i < 2; i++) {
		suspend(fids[i], 0, e, &o);
		check(!o.resumed && ret_is(fids[i], o.ret, SUCCESS), o.resumed ? o.ctx : o.ret, 0,
		      "CPU_SUSPEND%s(standby) returns SUCCESS", bits(fids[i]));
		check(o.fired && o.t1 >= o.deadline, o.t1, o.deadline,
		      "CPU_SUSPEND%s(standby) returns once the timer fired", bits(fids[i]));
		standby += o.calls;
	}
	if (!par.user)
		return;
	for (int i = 0; i < 2; i++) {
		suspend(fids[i], PS_POWERDOWN, e, &o);
		check_resume(fids[i], &o, "powerdown");
		powerdown += o.calls;
	}
	for (int i = 0; i < 2; i++) {
		suspend_fails(fids[i], 1U << 30, e, INVALID_PARAMETERS, "reserved bit 30");
		suspend_fails(fids[i], 3U << 24, e, INVALID_PARAMETERS, "no power level 3");
	}
	suspend_fails(PSCI_FN64(CPU_SUSPEND), PS_POWERDOWN, 0x1000, INVALID_ADDRESS,
		      "entry point below RAM");

	v = stat(PSCI_FN(STAT_COUNT), 0) - cnt_sb;
	check(v == standby, v, standby, "PSCI_STAT_COUNT(0x0, standby) went up by the %u standbys",
	      standby);
	v = stat(PSCI_FN64(STAT_COUNT), PS_POWERDOWN) - cnt_pd;
	check(v == powerdown, v, powerdown,
	      "PSCI_STAT_COUNT64(0x0, powerdown) went up by the %u powerdowns", powerdown);
	v = stat(PSCI_FN64(STAT_RESIDENCY), 0);
	check(v > res_sb, v, res_sb + 1, "PSCI_STAT_RESIDENCY64(0x0, standby) went up");
	v = stat(PSCI_FN(STAT_RESIDENCY), PS_POWERDOWN);
	check(v > res_pd, v, res_pd + 1, "PSCI_STAT_RESIDENCY(0x0, powerdown) went up");
}

static void test_system_suspend(void)
{
	u64 e = (u64)cpu_entry, ram_end = boot.ram_base + boot.ram_size, v;
	struct susp o;

	if (!par.user)
		return;
	if (ncpus >= 2 && start_cpu(1, JOB_HOLD)) {
		suspend_fails(PSCI_FN(SYSTEM_SUSPEND), 0, e, DENIED, "vCPU 1 is on");
		suspend_fails(PSCI_FN64(SYSTEM_SUSPEND), 0, e, DENIED, "vCPU 1 is on");
		v = stop_cpu(1);
		check(v == 1, v, 1, "vCPU 1 turns off");
	}
	suspend_fails(PSCI_FN64(SYSTEM_SUSPEND), 0, 0x1000, INVALID_ADDRESS, "entry point below RAM");
	suspend_fails(PSCI_FN(SYSTEM_SUSPEND), 0, ram_end, INVALID_ADDRESS,
		      "entry point at the end of RAM");
	suspend(PSCI_FN(SYSTEM_SUSPEND), 0, e, &o);
	check_resume(PSCI_FN(SYSTEM_SUSPEND), &o, "the last vCPU on");
	suspend(PSCI_FN64(SYSTEM_SUSPEND), 0, e, &o);
	check_resume(PSCI_FN64(SYSTEM_SUSPEND), &o, "the last vCPU on");
}

static void test_reset2_args(void)
{
	if (!par.user)
		return;
	expect(PSCI_FN(SYSTEM_RESET2), 1, 0, 0, INVALID_PARAMETERS, "no architectural reset type 1");
	expect(PSCI_FN64(SYSTEM_RESET2), 1, 0, 0, INVALID_PARAMETERS, "no architectural reset type 1");
	expect(PSCI_FN(SYSTEM_RESET2), 0x80000000UL, 0, 0, INVALID_PARAMETERS, "no vendor reset types");
	expect(PSCI_FN64(SYSTEM_RESET2), 0x80000000UL, 0, 0, INVALID_PARAMETERS,
	       "no vendor reset types");
}

/* test=reset, test=reset2: the VM resets (lkvm --on-reset=exit exits 3); returning is a failure. */
static void test_reset(void)
{
	print("%s: calling SYSTEM_RESET\n", payload_name);
	check(false, psci(PSCI_FN(SYSTEM_RESET), 0, 0, 0), 0, "SYSTEM_RESET returned");
}

static void test_reset2(void)
{
	print("%s: calling SYSTEM_RESET2(warm)\n", payload_name);
	check(false, psci(PSCI_FN64(SYSTEM_RESET2), 0, 0, 0), 0, "SYSTEM_RESET2(0, 0) returned");
}

/* test=off-race: SYSTEM_OFF while the other vCPUs spin, half of them in PSCI calls. */
static void test_off_race(void)
{
	for (unsigned int i = 1; i < ncpus; i++)
		if (!start_cpu(i, i & 1 ? JOB_PSCI_SPIN : JOB_SPIN))
			return;
	print("%s: calling SYSTEM_OFF while %u vCPUs spin\n", payload_name, ncpus - 1);
	check(false, psci(PSCI_FN(SYSTEM_OFF), 0, 0, 0), 0, "SYSTEM_OFF returned");
}

/*
 * vCPU hot-add (lkvm run -c 1 --max-cpus 2 --psci=user): vCPU 1 is unplugged, so CPU_ON answers
 * DENIED; the test host then runs `lkvm cpu plug 1`, and CPU_ON succeeds. Then it turns vCPU 1
 * off and waits for `lkvm cpu unplug 1`: DENIED again.
 */
static void test_hotplug(void)
{
	u64 ctx = CTX(JOB_HOLD, ++seq), r = (u64)(s64)DENIED, end, runs = slots[1].runs;

	expect(PSCI_FN64(CPU_ON), cpu_mpidr(1), (u64)cpu_entry, ctx, DENIED, "unplugged vCPU 1");
	expect(PSCI_FN(CPU_ON), cpu_mpidr(1), (u64)cpu_entry, ctx, DENIED, "unplugged vCPU 1");
	expect(PSCI_FN64(AFFINITY_INFO), cpu_mpidr(1), 0, 0, 1, "unplugged vCPU 1 is OFF");
	print("hotplug: waiting for plug of vCPU 1\n");
	for (end = now() + ms_to_ticks(60000); now() < end && r == (u64)(s64)DENIED; delay_us(20000))
		r = psci(PSCI_FN64(CPU_ON), cpu_mpidr(1), (u64)cpu_entry, ctx);
	if (!check(r == SUCCESS, r, SUCCESS, "CPU_ON64 of vCPU 1 once plugged"))
		return;
	check(wait_for(&slots[1].runs, runs + 1), slots[1].runs, runs + 1, "plugged vCPU 1 runs");
	check(stop_cpu(1) == 1, 0, 0, "vCPU 1 turns off");
	print("hotplug: waiting for unplug of vCPU 1\n");
	ctx = CTX(JOB_HOLD, ++seq);
	/* Off most of the time: the host's unplug is refused while vCPU 1 is on. */
	for (end = now() + ms_to_ticks(60000); now() < end; delay_us(200000)) {
		/*
		 * While it is still plugged, CPU_ON succeeds: turn it off again and retry. Its run
		 * count is read before CPU_ON: read after, a vCPU 1 that started at once would have
		 * counted already, and waiting for one run more held it on for all of WAIT_MS, so
		 * every unplug the host tried in between was refused.
		 */
		runs = slots[1].runs;
		r = psci(PSCI_FN64(CPU_ON), cpu_mpidr(1), (u64)cpu_entry, ctx);
		if (r != SUCCESS)
			break;
		if (!wait_for(&slots[1].runs, runs + 1)) {
			check(false, slots[1].runs, runs + 1, "vCPU 1 starts again");
			return;
		}
		stop_cpu(1);
		ctx = CTX(JOB_HOLD, ++seq);
	}
	check(ret_is(PSCI_FN64(CPU_ON), r, DENIED), r, (u64)(s64)DENIED, "CPU_ON64 of unplugged vCPU 1");
}

static const struct test {
	const char *name;
	void (*fn)(void);
	bool in_all;
} tests[] = {
	{ "basics", test_basics, true },
	{ "affinity", test_affinity, true },
	{ "cpuon", test_cpu_on, true },
	{ "race", test_race, true },
	{ "suspend", test_suspend, true },
	{ "syssuspend", test_system_suspend, true },
	{ "reset2-args", test_reset2_args, true },
	{ "reset", test_reset, false },
	{ "reset2", test_reset2, false },
	{ "off-race", test_off_race, false },
	{ "hotplug", test_hotplug, false },
};

void payload_main(void)
{
	bool all = streq(par.test, "all"), found = false;

	/* vCPUs answer AFFINITY_INFO; the first MPIDR that does not is the count. */
	for (ncpus = 0; ncpus < MAX_CPUS; ncpus++)
		if (ret_is(PSCI_FN64(AFFINITY_INFO), psci(PSCI_FN64(AFFINITY_INFO),
							   cpu_mpidr(ncpus), 0, 0), INVALID_PARAMETERS))
			break;
	if (par.cpus)
		ncpus = par.cpus;
	for (unsigned int i = 0; i < ARRAY_SIZE(tests); i++) {
		if (all ? tests[i].in_all : streq(par.test, tests[i].name)) {
			print("# %s\n", tests[i].name);
			tests[i].fn();
			found = true;
		}
	}
	if (!found)
		check(false, 0, 0, "test=%s: no such test", par.test);
}
