/*
 * sdei-test: checks lkvm's SDEI (lkvm run --psci=user --sdei -c 3) from a bare-metal guest,
 * through the conduit in bootargs (conduit=hvc|smc, PSCI's). vCPU 0 drives and prints; vCPU 1,
 * started with CPU_ON, runs the jobs vCPU 0 posts; vCPU 2 stays off.
 *   test=all          the checks below (or test=NAME: one set), then SYSTEM_OFF
 *   test=host         waits for the test host's `lkvm sdei signal` and `lkvm nmi` (lines
 *                     "sdei-host: ready for ..." say what it waits for), then SYSTEM_OFF
 *   test=reset        checks that SDEI starts clean, uses it, then SYSTEM_RESET (n=2:
 *                     SYSTEM_RESET2): boots forever
 *   test=bench-round  n=N: EVENT_SIGNAL to itself, handler, COMPLETE: "bench sdei-round ..."
 *   test=bench-kick   n=N: vCPU 1 signals vCPU 0, whose handler reads the counter first:
 *                     "bench sdei-kick ..." (the path of a host signal: another thread kicks)
 */
#include "lib.h"

const char payload_name[] = "sdei-test";

#define SDEI_PENDING		(-5)
#define ST_REGISTERED		1
#define ST_ENABLED		2
#define ST_RUNNING		4
#define EV_SIGNAL		0
#define EV_NMI			1000
#define EV_CPU_NOTIFY		1001
#define EV_NOTIFY		2000
#define RM_PE			1
#define HANDLER_ARG		0xa5a5000000000000UL
#define WAIT_MS			20000
#define HOST_WAIT_MS		120000
#define WFI_INSN		0xd503207fU
#define LDRB_IMM		0x39400000U	/* LDRB Wt, [Xn, #imm], masked 0xffc00000 */
#define UART_LSR		0x01000005UL	/* the 16550's line status (print.c's UART) */
#define UART_LSR_THRE		0x20
#define SDEI_CPUS		4	/* vCPUs with SDEI handler stacks */
#define BENCH_MAX		1000

static const char *const sdei_names[] = {
	"SDEI_VERSION", "EVENT_REGISTER", "EVENT_ENABLE", "EVENT_DISABLE", "EVENT_CONTEXT",
	"EVENT_COMPLETE", "EVENT_COMPLETE_AND_RESUME", "EVENT_UNREGISTER", "EVENT_STATUS",
	"EVENT_GET_INFO", "EVENT_ROUTING_SET", "PE_MASK", "PE_UNMASK", "INTERRUPT_BIND",
	"INTERRUPT_RELEASE", "EVENT_SIGNAL", "SDEI_FEATURES", "PRIVATE_RESET", "SHARED_RESET",
};

/* Calls, checks the result, and names the call in the check. */
static u64 expect_sdei(u32 n, u64 a1, u64 a2, s64 want, const char *why)
{
	u64 got = sdei(n, a1, a2, 0, 0, 0);

	check(got == (u64)want, got, (u64)want, "%s(0x%lx, 0x%lx) = %ld: %s", sdei_names[n], a1, a2,
	      want, why);
	return got;
}

/* ---- handlers: start.S-style entry in assembly, the work in C ---- */

enum hjob {
	H_COMPLETE,		/* record, COMPLETE */
	H_CONTEXT,		/* record with EVENT_CONTEXT(0..17), COMPLETE */
	H_RESUME,		/* record, COMPLETE_AND_RESUME at resume_target */
	H_UNREGISTER,		/* UNREGISTER the running event, COMPLETE */
	H_REGS,			/* ends regs_spin when it interrupted it */
	H_WAIT_CRIT,		/* a normal handler that waits until a critical one ran */
	H_CPU_OFF,		/* CPU_OFF from the handler */
};

/* What a handler saw, per vCPU, normal [0] and critical [1]. count is written last. */
struct rec {
	u64 event, arg, pc, pstate, t_entry, status, ret, ctx[18], daif, count;
} __attribute__((aligned(64)));
static volatile struct rec recs[MAX_CPUS][2];
static volatile u64 hjob[MAX_CPUS];		/* enum hjob, for normal events */
static volatile u64 crit_saw_normal_count;	/* recs[0][0].count as the critical handler saw it */
static volatile u64 crit_signal_ret;
static volatile u64 wait_crit_ok;		/* H_WAIT_CRIT saw the critical handler run */
static bool bench_mode;				/* handlers do nothing but COMPLETE */
/* regs_spin's flag, on its stack, and what it left there */
static volatile u64 *volatile spin_slot;
static volatile u64 regs_done;
static u64 regs_out[31];
/* resume_target's record */
static volatile u64 resumed_elr, resumed_spsr, resumed_daif, resumed_el, resumed_count;

extern char sdei_entry[], regs_loop[], regs_loop_end[], resume_target[];
void regs_spin(u64 *out);
u64 sdei_handler(u64 event, u64 arg, u64 pc, u64 pstate, u64 t_entry);
u8 sdei_stacks[SDEI_CPUS * 2][4096] __attribute__((aligned(16)));
u64 use_smc;

#define PATTERN(n)	(0x5a5a000000000000UL + (u64)(n) * 0x10101010101UL)
#define NZCV_PATTERN	0xa0000000UL	/* N and C */

/*
 * sdei_entry: x0 = event, x1 = ep_arg, x2/x3 = interrupted PC/PSTATE. Reads the counter first,
 * moves to this vCPU's handler stack (normal or critical: a critical event may nest in a
 * normal one), keeps what the interrupted code needs beyond x0-x17 (which COMPLETE restores),
 * and completes with what sdei_handler returns: 0 COMPLETE, else COMPLETE_AND_RESUME there.
 * resume_target: where COMPLETE_AND_RESUME lands, as an IRQ vector would; records ELR, SPSR,
 * DAIF and CurrentEL, and returns to the interrupted code with ERET.
 */
__asm__(
	".text\n"
	".globl sdei_entry\n"
	".balign 8\n"
	"sdei_entry:\n"
	"	mrs	x9, cntvct_el0\n"
	"	mov	x10, sp\n"
	"	mrs	x11, mpidr_el1\n"
	"	and	x12, x11, #0xf\n"
	"	ubfx	x11, x11, #8, #8\n"
	"	add	x12, x12, x11, lsl #4\n"
	"	cmp	x12, #" "4" "\n"
	"	b.hs	.\n"
	"	lsl	x12, x12, #1\n"
	"	mov	x11, #1000\n"
	"	cmp	x0, x11\n"
	"	b.eq	1f\n"
	"	mov	x11, #2001\n"
	"	cmp	x0, x11\n"
	"	b.ne	2f\n"
	"1:	add	x12, x12, #1\n"
	"2:	adrp	x11, sdei_stacks\n"
	"	add	x11, x11, :lo12:sdei_stacks\n"
	"	add	x11, x11, x12, lsl #12\n"
	"	add	x11, x11, #4096\n"
	"	mov	sp, x11\n"
	"	stp	x10, x30, [sp, #-32]!\n"
	"	stp	x18, x29, [sp, #16]\n"
	"	mov	x4, x9\n"
	"	bl	sdei_handler\n"
	"	ldp	x18, x29, [sp, #16]\n"
	"	ldp	x10, x30, [sp], #32\n"
	"	mov	sp, x10\n"
	"	mov	x1, x0\n"
	"	ldr	x0, =0xC4000025\n"		/* EVENT_COMPLETE(HANDLED) */
	"	cbz	x1, 3f\n"
	"	ldr	x0, =0xC4000026\n"		/* EVENT_COMPLETE_AND_RESUME(x1) */
	"3:	adrp	x11, use_smc\n"
	"	ldr	x11, [x11, :lo12:use_smc]\n"
	"	cbnz	x11, 4f\n"
	"	hvc	#0\n"
	"	b	sdei_complete_returned\n"
	"4:	smc	#0\n"
	"	b	sdei_complete_returned\n"
	"\n"
	".globl resume_target\n"
	".balign 8\n"
	"resume_target:\n"
	"	stp	x0, x1, [sp, #-16]!\n"
	"	adrp	x1, resumed_elr\n"
	"	mrs	x0, elr_el1\n"
	"	str	x0, [x1, :lo12:resumed_elr]\n"
	"	adrp	x1, resumed_spsr\n"
	"	mrs	x0, spsr_el1\n"
	"	str	x0, [x1, :lo12:resumed_spsr]\n"
	"	adrp	x1, resumed_daif\n"
	"	mrs	x0, daif\n"
	"	str	x0, [x1, :lo12:resumed_daif]\n"
	"	adrp	x1, resumed_el\n"
	"	mrs	x0, CurrentEL\n"
	"	str	x0, [x1, :lo12:resumed_el]\n"
	"	adrp	x1, resumed_count\n"
	"	ldr	x0, [x1, :lo12:resumed_count]\n"
	"	add	x0, x0, #1\n"
	"	str	x0, [x1, :lo12:resumed_count]\n"
	"	ldp	x0, x1, [sp], #16\n"
	"	eret\n"
	"\n"
	/*
	 * regs_spin(out): x0-x29 and NZCV set to patterns, then a spin until the handler writes
	 * PATTERN(30) into the flag on this stack; then out[0..29] = x0-x29, out[30] = NZCV.
	 */
	".globl regs_spin\n"
	".globl regs_loop\n"
	".globl regs_loop_end\n"
	"regs_spin:\n"
	"	sub	sp, sp, #128\n"
	"	stp	x19, x20, [sp, #16]\n"
	"	stp	x21, x22, [sp, #32]\n"
	"	stp	x23, x24, [sp, #48]\n"
	"	stp	x25, x26, [sp, #64]\n"
	"	stp	x27, x28, [sp, #80]\n"
	"	stp	x29, x30, [sp, #96]\n"
	"	str	x0, [sp, #112]\n"
	"	str	xzr, [sp]\n"
	"	mov	x1, sp\n"
	"	adrp	x2, spin_slot\n"
	"	str	x1, [x2, :lo12:spin_slot]\n"
	"	dsb	sy\n"
	"	ldr	x30, =0xa0000000\n"
	"	msr	nzcv, x30\n"
	"	.irp	n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29\n"
	"	ldr	x\\n, =(0x5a5a000000000000 + \\n * 0x10101010101)\n"
	"	.endr\n"
	"regs_loop:\n"
	"	ldr	x30, [sp]\n"
	"	cbz	x30, regs_loop\n"
	"regs_loop_end:\n"
	"	mrs	x30, nzcv\n"
	"	str	x30, [sp, #8]\n"
	"	ldr	x30, [sp, #112]\n"
	"	stp	x0, x1, [x30, #0]\n"
	"	stp	x2, x3, [x30, #16]\n"
	"	stp	x4, x5, [x30, #32]\n"
	"	stp	x6, x7, [x30, #48]\n"
	"	stp	x8, x9, [x30, #64]\n"
	"	stp	x10, x11, [x30, #80]\n"
	"	stp	x12, x13, [x30, #96]\n"
	"	stp	x14, x15, [x30, #112]\n"
	"	stp	x16, x17, [x30, #128]\n"
	"	stp	x18, x19, [x30, #144]\n"
	"	stp	x20, x21, [x30, #160]\n"
	"	stp	x22, x23, [x30, #176]\n"
	"	stp	x24, x25, [x30, #192]\n"
	"	stp	x26, x27, [x30, #208]\n"
	"	stp	x28, x29, [x30, #224]\n"
	"	ldr	x0, [sp, #8]\n"
	"	str	x0, [x30, #240]\n"
	"	ldp	x19, x20, [sp, #16]\n"
	"	ldp	x21, x22, [sp, #32]\n"
	"	ldp	x23, x24, [sp, #48]\n"
	"	ldp	x25, x26, [sp, #64]\n"
	"	ldp	x27, x28, [sp, #80]\n"
	"	ldp	x29, x30, [sp, #96]\n"
	"	add	sp, sp, #128\n"
	"	ret\n"
	".ltorg\n");

void sdei_complete_returned(void);
void sdei_complete_returned(void)
{
	print("%s: vCPU %u: EVENT_COMPLETE returned\n", payload_name, this_cpu());
	if (this_cpu() == 0)
		finish();
	halt();
}

static bool critical(u64 event)
{
	return event == EV_NMI || event == 2001;
}

static bool wait_for(volatile u64 *p, u64 v, u64 ms)
{
	u64 end = now() + ms_to_ticks(ms);

	while (*p != v) {
		if (now() > end)
			return false;
		cpu_relax();
	}
	return true;
}

static u64 run_job(unsigned int cpu, volatile struct rec *r, u64 event)
{
	switch (critical(event) ? H_COMPLETE : hjob[cpu]) {
	case H_CONTEXT:
		for (unsigned int i = 0; i < 18; i++)
			r->ctx[i] = sdei(S_CONTEXT, i, 0, 0, 0, 0);
		return 0;
	case H_RESUME:
		r->ctx[0] = sdei(S_CONTEXT, 0, 0, 0, 0, 0);
		return (u64)resume_target;
	case H_UNREGISTER:
		r->ret = sdei(S_UNREGISTER, event, 0, 0, 0, 0);
		return 0;
	case H_REGS:
		if (r->pc < (u64)regs_loop || r->pc >= (u64)regs_loop_end)
			return 0;	/* not in the spin yet: vCPU 1 signals again */
		for (unsigned int i = 0; i < 18; i++)
			r->ctx[i] = sdei(S_CONTEXT, i, 0, 0, 0, 0);
		regs_done = 1;
		*spin_slot = PATTERN(30);
		return 0;
	case H_WAIT_CRIT: {
		u64 seen = recs[cpu][1].count;

		hjob[cpu] = H_COMPLETE;		/* for the next run of the event */
		print("sdei-host: ready for nmi on vCPU 0 (in a normal handler)\n");
		wait_crit_ok = wait_for(&recs[cpu][1].count, seen + 1, HOST_WAIT_MS);
		return 0;
	}
	case H_CPU_OFF:
		psci(PSCI_FN(CPU_OFF), 0, 0, 0);
		return 0;
	}
	return 0;
}

u64 sdei_handler(u64 event, u64 arg, u64 pc, u64 pstate, u64 t_entry)
{
	unsigned int cpu = this_cpu();
	volatile struct rec *r = &recs[cpu][critical(event)];
	u64 ret = 0;

	r->t_entry = t_entry;
	r->event = event;
	r->arg = arg;
	r->pc = pc;
	r->pstate = pstate;
	if (bench_mode)
		goto out;
	r->daif = read_sysreg(daif);
	r->status = sdei(S_STATUS, event, 0, 0, 0, 0);
	if (critical(event) && cpu == 0) {
		/* Nothing preempts a critical event: event 0 signalled now waits for its end. */
		crit_saw_normal_count = recs[0][0].count;
		crit_signal_ret = sdei(S_SIGNAL, EV_SIGNAL, cpu_mpidr(0), 0, 0, 0);
		delay_us(20000);
		crit_saw_normal_count = recs[0][0].count - crit_saw_normal_count;
	}
	ret = run_job(cpu, r, event);
out:
	dsb();
	r->count = r->count + 1;
	dsb();
	return ret;
}

/* Registers event on the caller with sdei_entry, enables it and unmasks the caller. */
static bool use_event(u64 event, u64 flags, u64 aff)
{
	u64 r = sdei(S_REGISTER, event, (u64)sdei_entry, HANDLER_ARG | event, flags, aff);

	r |= sdei(S_ENABLE, event, 0, 0, 0, 0);
	sdei(S_PE_UNMASK, 0, 0, 0, 0, 0);
	return r == 0;
}

/* ---- vCPU 1: runs the jobs vCPU 0 posts ---- */

enum job {
	J_NONE, J_REGISTER_MASKED, J_UNMASK, J_WFI, J_SIGNAL_REGS, J_SIGNAL_WHEN_SUSPENDED,
	J_SIGNAL_WHEN_OFF, J_STATUS, J_USE_EVENTS, J_BENCH_KICK, J_SIGNAL_LATER,
};
static volatile u64 job, job_seq, job_done, job_ret, job_n, cpu1_starts;
static volatile u64 kick_t0[BENCH_MAX];
static u64 samples[BENCH_MAX];

static void bench_kick_sender(u64 n)
{
	for (u64 i = 0; i < n && i < BENCH_MAX; i++) {
		u64 seen = recs[0][0].count;

		delay_us(200);
		kick_t0[i] = now();
		sdei(S_SIGNAL, EV_SIGNAL, cpu_mpidr(0), 0, 0, 0);
		if (!wait_for(&recs[0][0].count, seen + 1, WAIT_MS))
			return;
		samples[i] = recs[0][0].t_entry - kick_t0[i];
	}
}

static u64 do_job(unsigned int cpu, u64 j)
{
	u64 seen = recs[cpu][0].count, end;

	switch (j) {
	case J_REGISTER_MASKED:
		hjob[cpu] = H_COMPLETE;
		return sdei(S_REGISTER, EV_SIGNAL, (u64)sdei_entry, HANDLER_ARG, 0, 0) |
		       sdei(S_ENABLE, EV_SIGNAL, 0, 0, 0, 0);
	case J_UNMASK:
		return sdei(S_PE_UNMASK, 0, 0, 0, 0, 0);
	case J_WFI:
		for (end = now() + ms_to_ticks(WAIT_MS); recs[cpu][0].count == seen && now() < end;)
			__asm__ volatile("wfi");
		return recs[cpu][0].count - seen;
	case J_SIGNAL_REGS:
		/* Until the handler found vCPU 0 in its spin: the first may come too early. */
		for (unsigned int i = 0; i < 200 && !regs_done; i++) {
			seen = recs[0][0].count;
			sdei(S_SIGNAL, EV_SIGNAL, cpu_mpidr(0), 0, 0, 0);
			wait_for(&recs[0][0].count, seen + 1, WAIT_MS);
			delay_us(1000);
		}
		return regs_done;
	case J_SIGNAL_WHEN_SUSPENDED:
	case J_SIGNAL_WHEN_OFF:
		/* NODE_HW_STATE: 2 STANDBY (a standby suspend), 1 OFF (a powerdown one) */
		end = now() + ms_to_ticks(WAIT_MS);
		while (psci(PSCI_FN64(NODE_HW_STATE), cpu_mpidr(0), 0, 0) !=
		       (j == J_SIGNAL_WHEN_SUSPENDED ? 2UL : 1UL) && now() < end)
			delay_us(100);
		delay_us(1000);
		return sdei(S_SIGNAL, EV_SIGNAL, cpu_mpidr(0), 0, 0, 0);
	case J_STATUS:
		return sdei(S_STATUS, EV_SIGNAL, 0, 0, 0, 0);
	case J_USE_EVENTS:
		hjob[cpu] = H_COMPLETE;
		return !use_event(EV_CPU_NOTIFY, 0, 0) | !use_event(EV_NMI, 0, 0);
	case J_BENCH_KICK:
		bench_kick_sender(job_n);
		return 0;
	case J_SIGNAL_LATER:
		delay_us(20000);
		return sdei(S_SIGNAL, EV_SIGNAL, cpu_mpidr(0), 0, 0, 0);
	}
	return 0;
}

void secondary_main(u64 ctx, u64 t_entry, unsigned int cpu)
{
	u64 done;

	(void)ctx;
	(void)t_entry;
	if (cpu == 0) {
		check(false, ctx, 0, "vCPU 0 entered the entry point with no resume expected");
		finish();
	}
	/* Jobs posted before this start are not ours. */
	done = job_seq;
	job_done = done;
	dsb();
	cpu1_starts = cpu1_starts + 1;
	dsb();
	for (;;) {
		while (job_seq == done)
			cpu_relax();
		done = job_seq;
		job_ret = do_job(cpu, job);
		dsb();
		job_done = done;
		dsb();
	}
}

static bool cpu1_on(void)
{
	u64 seen = cpu1_starts, r;

	if (psci(PSCI_FN64(AFFINITY_INFO), cpu_mpidr(1), 0, 0) == 0)
		return true;	/* on already, running its jobs */
	r = psci(PSCI_FN64(CPU_ON), cpu_mpidr(1), (u64)cpu_entry, 0);
	if (r != 0)
		return check(false, r, 0, "CPU_ON64 of vCPU 1");
	/* Its job loop must start before the first job is posted. */
	return check(wait_for(&cpu1_starts, seen + 1, WAIT_MS), cpu1_starts, seen + 1,
		     "vCPU 1 starts");
}

/* Posts a job to vCPU 1; waits for its end if wait. */
static u64 post(u64 j, bool wait)
{
	u64 seq = job_seq + 1;

	job = j;
	dsb();
	job_seq = seq;
	dsb();
	if (wait && !wait_for(&job_done, seq, WAIT_MS))
		check(false, job_done, seq, "vCPU 1 finished job %lu", j);
	return job_ret;
}

static bool job_finished(void)
{
	return wait_for(&job_done, job_seq, WAIT_MS);
}

/* ---- the checks ---- */

static void test_basics(void)
{
	u64 v = sdei(S_VERSION, 0, 0, 0, 0, 0);

	check(v == 0x1000100000000UL, v, 0x1000100000000UL, "SDEI_VERSION is 1.1, vendor 0");
	v = sdei_via(true, SDEI_FN(S_VERSION), 0, 0, 0, 0, 0);
	check(v == (u64)NOT_SUPPORTED, v, (u64)NOT_SUPPORTED,
	      "SDEI_VERSION through the other conduit is NOT_SUPPORTED");
	check(streq(boot.sdei_method, par.smc ? "smc" : "hvc"), 0, 0,
	      "the device tree's /firmware/sdei method is \"%s\", PSCI's", par.smc ? "smc" : "hvc");
	check(streq(boot.sdei_compat, "arm,sdei-1.0"), 0, 0,
	      "/firmware/sdei is compatible with \"arm,sdei-1.0\"");
	expect_sdei(S_CONTEXT, 0, 0, DENIED, "outside a handler");
	expect_sdei(S_COMPLETE, 0, 0, DENIED, "outside a handler");
	expect_sdei(S_GET_INFO, EV_SIGNAL, 0, 0, "event 0 is private");
	expect_sdei(S_GET_INFO, EV_SIGNAL, 1, 1, "event 0 is signalable");
	expect_sdei(S_GET_INFO, EV_SIGNAL, 2, 0, "event 0 is normal");
	expect_sdei(S_GET_INFO, EV_NMI, 2, 1, "event 1000 (nmi) is critical");
	expect_sdei(S_GET_INFO, EV_NOTIFY, 0, 1, "event 2000 is shared");
	expect_sdei(S_GET_INFO, 5, 0, INVALID_PARAMETERS, "no event 5");
	expect_sdei(S_STATUS, EV_SIGNAL, 0, 0, "event 0 starts unregistered");
}

/* Event 0 signalled to vCPU 0 itself: its handler runs before EVENT_SIGNAL returns. */
static void test_self(void)
{
	volatile struct rec *r = &recs[0][0];
	u64 seen = r->count, v;

	if (!check(use_event(EV_SIGNAL, 0, 0), 0, 0, "event 0 registered, enabled, vCPU 0 unmasked"))
		return;
	expect_sdei(S_STATUS, EV_SIGNAL, 0, ST_REGISTERED | ST_ENABLED, "registered and enabled");
	hjob[0] = H_CONTEXT;
	v = sdei(S_SIGNAL, EV_SIGNAL, cpu_mpidr(0), 0, 0, 0);
	check(v == 0 && r->count == seen + 1, r->count - seen, 1,
	      "EVENT_SIGNAL(0, vCPU 0) returns SUCCESS after the handler ran once");
	check(r->event == EV_SIGNAL && r->arg == HANDLER_ARG, r->arg, HANDLER_ARG,
	      "the handler's x0 = 0 and x1 = ep_arg");
	check((r->pstate & 0x3cf) == 0x3c5, r->pstate, 0x3c5,
	      "the handler's x3 is the interrupted PSTATE (EL1h, DAIF masked)");
	check(r->ctx[0] == 0 && r->ctx[1] == cpu_mpidr(0), r->ctx[0], 0,
	      "EVENT_CONTEXT(0), (1): the interrupted x0 (EVENT_SIGNAL's result) and x1");
	check(r->status == (ST_REGISTERED | ST_ENABLED | ST_RUNNING), r->status, 7,
	      "EVENT_STATUS in the handler: registered, enabled, running");
	check(r->daif == 0x3c0, r->daif, 0x3c0, "the handler runs with D, A, I and F masked");
	hjob[0] = H_COMPLETE;
}

/* vCPU 1 signals vCPU 0 while it spins with every register set: COMPLETE restores them all. */
static void test_regs(void)
{
	volatile struct rec *r = &recs[0][0];
	bool ok = true;

	if (!cpu1_on())
		return;
	regs_done = 0;
	hjob[0] = H_REGS;
	post(J_SIGNAL_REGS, false);
	regs_spin(regs_out);
	hjob[0] = H_COMPLETE;
	job_finished();
	for (unsigned int i = 0; i < 30; i++)
		ok &= check(regs_out[i] == PATTERN(i), regs_out[i], PATTERN(i),
			    "x%u intact after the handler's COMPLETE", i);
	check(regs_out[30] >> 28 == NZCV_PATTERN >> 28, regs_out[30], NZCV_PATTERN,
	      "NZCV intact after the handler's COMPLETE");
	check(r->pc >= (u64)regs_loop && r->pc < (u64)regs_loop_end, r->pc, (u64)regs_loop,
	      "the handler's x2 is in the interrupted spin");
	for (unsigned int i = 0; i < 18; i++)
		ok &= r->ctx[i] == PATTERN(i);
	check(ok, r->ctx[4], PATTERN(4), "EVENT_CONTEXT(0..17) in the handler: the patterns");
}

/*
 * vCPU 0 reads the UART's status register into x1 in a loop, an MMIO exit each time, when vCPU
 * 1's event comes: KVM completes a read (x1, PC) only as the vCPU enters the guest again, so
 * the handler must not be entered before that, or the read lands in its x1.
 */
static void test_mmio(void)
{
	volatile struct rec *r = &recs[0][0];
	u64 seen = r->count, reads = 0, bad = 0, end = now() + ms_to_ticks(WAIT_MS);

	if (!cpu1_on())
		return;
	hjob[0] = H_COMPLETE;
	r->arg = 0;
	post(J_SIGNAL_LATER, false);
	while (r->count == seen && now() < end) {
		register u64 x1 __asm__("x1");

		__asm__ volatile("ldrb w1, [%1]" : "=r"(x1) : "r"(UART_LSR) : "memory");
		bad += !(x1 & UART_LSR_THRE);
		reads++;
	}
	job_finished();
	check(r->count == seen + 1, r->count - seen, 1, "the event comes during MMIO reads (%lu)",
	      reads);
	check(r->event == EV_SIGNAL && r->arg == HANDLER_ARG, r->arg, HANDLER_ARG,
	      "the handler's x0 and x1 are the event's, not an MMIO read's");
	check((*(volatile u32 *)(r->pc - 4) & 0xffc00000) == LDRB_IMM, r->pc, 0,
	      "its x2 is right after a completed MMIO read");
	check(bad == 0, bad, 0, "every MMIO read has the UART's status in x1");
}

/* COMPLETE_AND_RESUME: resume_target as if an IRQ was taken at the interrupted PC. */
static void test_resume(void)
{
	volatile struct rec *r = &recs[0][0];
	u64 seen = resumed_count, v;

	hjob[0] = H_RESUME;
	v = sdei(S_SIGNAL, EV_SIGNAL, cpu_mpidr(0), 0, 0, 0);
	hjob[0] = H_COMPLETE;
	check(resumed_count == seen + 1, resumed_count - seen, 1,
	      "COMPLETE_AND_RESUME lands at the resume address");
	check(resumed_elr == r->pc, resumed_elr, r->pc, "ELR_EL1 = the interrupted PC");
	check(resumed_spsr == r->pstate, resumed_spsr, r->pstate, "SPSR_EL1 = the interrupted PSTATE");
	check(resumed_daif == 0x3c0 && resumed_el == 4, resumed_daif | resumed_el, 0x3c4,
	      "the resume address runs at EL1 with DAIF masked");
	check(v == 0 && r->ctx[0] == 0, v, 0,
	      "after ERET the interrupted code goes on with its x0 restored");
}

/* UNREGISTER from its own handler: PENDING, done at COMPLETE. */
static void test_unregister(void)
{
	volatile struct rec *r = &recs[0][0];

	hjob[0] = H_UNREGISTER;
	sdei(S_SIGNAL, EV_SIGNAL, cpu_mpidr(0), 0, 0, 0);
	hjob[0] = H_COMPLETE;
	check(r->ret == (u64)SDEI_PENDING, r->ret, (u64)SDEI_PENDING,
	      "EVENT_UNREGISTER of the running event = PENDING");
	expect_sdei(S_STATUS, EV_SIGNAL, 0, 0, "unregistered once it completed");
	check(use_event(EV_SIGNAL, 0, 0), 0, 0, "event 0 registers again");
}

/*
 * vCPU 1 (on since test_regs, masked as CPU_ON left it): gets nothing until PE_UNMASK; then
 * WFI; then CPU_OFF in a handler; then on again, masked and with nothing registered.
 */
static void test_other(void)
{
	volatile struct rec *r = &recs[1][0];
	u64 seen = r->count, v;

	if (!cpu1_on())
		return;
	v = post(J_REGISTER_MASKED, true);
	check(v == 0, v, 0, "vCPU 1 registers and enables event 0 (not unmasking itself)");
	expect_sdei(S_SIGNAL, EV_SIGNAL, cpu_mpidr(1), 0, "to vCPU 1");
	delay_us(100000);
	check(r->count == seen, r->count - seen, 0,
	      "vCPU 1, started by CPU_ON, is masked: event 0 stays pending");
	post(J_UNMASK, true);
	check(r->count == seen + 1, r->count - seen, 1, "vCPU 1's PE_UNMASK lets it in at once");
	check(r->event == EV_SIGNAL && r->arg == HANDLER_ARG, r->event, EV_SIGNAL,
	      "the handler ran on vCPU 1 with x0 = 0, x1 = ep_arg");

	hjob[1] = H_COMPLETE;
	post(J_WFI, false);
	delay_us(50000);
	expect_sdei(S_SIGNAL, EV_SIGNAL, cpu_mpidr(1), 0, "to vCPU 1 in WFI");
	check(job_finished() && job_ret == 1, job_ret, 1, "vCPU 1 in WFI takes the event");
	check(*(volatile u32 *)(r->pc - 4) == WFI_INSN, r->pc, 0,
	      "its handler's x2 is right after the WFI");

	hjob[1] = H_CPU_OFF;
	seen = r->count;
	expect_sdei(S_SIGNAL, EV_SIGNAL, cpu_mpidr(1), 0, "to vCPU 1, whose handler calls CPU_OFF");
	for (u64 end = now() + ms_to_ticks(WAIT_MS);
	     psci(PSCI_FN64(AFFINITY_INFO), cpu_mpidr(1), 0, 0) != 1 && now() < end;)
		delay_us(1000);
	expect(PSCI_FN64(AFFINITY_INFO), cpu_mpidr(1), 0, 0, 1, "CPU_OFF from a handler turns it off");
	/* Off, it has nothing registered: the signal is dropped, as TF-A drops it. */
	expect_sdei(S_SIGNAL, EV_SIGNAL, cpu_mpidr(1), 0, "to vCPU 1, off: dropped");
	v = sdei(S_REGISTER, EV_NOTIFY, (u64)sdei_entry, 0, RM_PE, cpu_mpidr(1));
	check(v == (u64)INVALID_PARAMETERS, v, (u64)INVALID_PARAMETERS,
	      "EVENT_REGISTER of shared event 2000 routed to vCPU 1, off, is refused");
	v = sdei(S_REGISTER, EV_NOTIFY, (u64)sdei_entry, 0, RM_PE, cpu_mpidr(0));
	check(v == 0, v, 0, "EVENT_REGISTER of shared event 2000 routed to vCPU 0");
	expect_sdei(S_UNREGISTER, EV_NOTIFY, 0, 0, "shared event 2000");

	hjob[1] = H_COMPLETE;
	if (!cpu1_on())
		return;
	v = post(J_STATUS, true);
	check(v == 0, v, 0, "vCPU 1 on again: its event 0 is no longer registered");
	post(J_REGISTER_MASKED, true);
	seen = r->count;
	expect_sdei(S_SIGNAL, EV_SIGNAL, cpu_mpidr(1), 0, "to vCPU 1, on again");
	delay_us(100000);
	check(r->count == seen, r->count - seen, 0, "vCPU 1 on again starts masked");
	post(J_UNMASK, true);
	check(r->count == seen + 1, r->count - seen, 1, "and takes the event once unmasked");
}

/* vCPU 0 suspended by CPU_SUSPEND: an event wakes it as an interrupt would, then runs. */
static volatile u64 pd_seen;

static void test_suspend(void)
{
	volatile struct rec *const r = &recs[0][0];
	struct resume_ctx *const rc = &resume_ctxs[0];
	u64 seen = r->count, v;

	hjob[0] = H_CONTEXT;
	post(J_SIGNAL_WHEN_SUSPENDED, false);
	v = psci(PSCI_FN64(CPU_SUSPEND), 0, 0, 0);
	job_finished();
	check(v == 0 && r->count == seen + 1, r->count - seen, 1,
	      "standby CPU_SUSPEND returns SUCCESS after the event's handler ran");
	check(r->ctx[0] == 0, r->ctx[0], 0,
	      "the event interrupted the return from CPU_SUSPEND (x0 = SUCCESS)");

	/* ctx_save returns twice: what must survive is not in registers. */
	pd_seen = r->count;
	post(J_SIGNAL_WHEN_OFF, false);
	v = ctx_save(rc);
	if (!v) {
		rc->magic = RESUME_MAGIC;
		dsb();
		v = psci(PSCI_FN64(CPU_SUSPEND), PS_POWERDOWN, (u64)cpu_entry, (u64)rc);
		rc->magic = 0;
		check(false, v, 0, "powerdown CPU_SUSPEND returned");
		return;
	}
	hjob[0] = H_COMPLETE;
	job_finished();
	check(r->count == pd_seen + 1 && r->pc == (u64)cpu_entry, r->pc, (u64)cpu_entry,
	      "a powerdown CPU_SUSPEND wakes at its entry point, where the handler's x2 points");
	check(r->ctx[0] == (u64)rc && v == (u64)rc, r->ctx[0], (u64)rc,
	      "the interrupted x0 is the context_id, and the entry point resumes after COMPLETE");
}

static const struct test {
	const char *name;
	void (*fn)(void);
} tests[] = {
	{ "basics", test_basics },
	{ "self", test_self },
	{ "regs", test_regs },
	{ "mmio", test_mmio },
	{ "resume", test_resume },
	{ "unregister", test_unregister },
	{ "other", test_other },
	{ "suspend", test_suspend },
};

/* ---- test=host: what the test host's lkvm sdei signal and lkvm nmi do ---- */

static void wait_host(volatile struct rec *r, u64 seen, const char *what)
{
	check(wait_for(&r->count, seen + 1, HOST_WAIT_MS), r->count - seen, 1, "%s", what);
}

static void test_host(void)
{
	volatile struct rec *n1 = &recs[1][0], *c1 = &recs[1][1], *n0 = &recs[0][0], *c0 = &recs[0][1];
	u64 seen, nseen;

	if (!cpu1_on())
		return;
	check(post(J_USE_EVENTS, true) == 0, job_ret, 0,
	      "vCPU 1 registers events 1001 and 1000 and unmasks");
	check(use_event(EV_SIGNAL, 0, 0) && use_event(EV_NMI, 0, 0), 0, 0,
	      "vCPU 0 registers events 0 and 1000 and unmasks");

	seen = n1->count;
	print("sdei-host: ready for cpu-notify on vCPU 1\n");
	wait_host(n1, seen, "lkvm sdei signal cpu-notify --cpu 1");
	check(n1->event == EV_CPU_NOTIFY, n1->event, EV_CPU_NOTIFY, "event 1001 ran on vCPU 1");
	print("sdei-host: event %lu ran on vCPU 1\n", n1->event);

	seen = c1->count;
	print("sdei-host: ready for nmi on vCPU 1\n");
	wait_host(c1, seen, "lkvm nmi --cpu 1");
	check(c1->event == EV_NMI, c1->event, EV_NMI, "event 1000 ran on vCPU 1");
	print("sdei-host: event %lu ran on vCPU 1\n", c1->event);

	/* A normal handler on vCPU 0 waits for the host's nmi: the critical event preempts it. */
	seen = c0->count;
	nseen = n0->count;
	hjob[0] = H_WAIT_CRIT;
	sdei(S_SIGNAL, EV_SIGNAL, cpu_mpidr(0), 0, 0, 0);
	check(wait_crit_ok && c0->count == seen + 1, c0->count - seen, 1,
	      "lkvm nmi (vCPU 0) preempts the running normal handler");
	check(c0->event == EV_NMI, c0->event, EV_NMI, "event 1000 ran on vCPU 0");
	check(c0->status == (ST_REGISTERED | ST_ENABLED | ST_RUNNING), c0->status, 7,
	      "EVENT_STATUS(1000) in its handler: running");
	check(crit_signal_ret == 0 && crit_saw_normal_count == 0, crit_saw_normal_count, 0,
	      "event 0 signalled in the critical handler does not preempt it");
	wait_for(&n0->count, nseen + 2, WAIT_MS);
	check(n0->count == nseen + 2, n0->count - nseen, 2,
	      "the normal handler completes, then event 0 runs again: it was pending");
	print("sdei-host: done\n");
}

/* ---- test=reset: SDEI starts clean on every boot ---- */

static void test_reset(void)
{
	u64 seen = recs[0][0].count;

	expect_sdei(S_STATUS, EV_SIGNAL, 0, 0, "event 0 unregistered at boot");
	sdei(S_REGISTER, EV_SIGNAL, (u64)sdei_entry, HANDLER_ARG, 0, 0);
	sdei(S_ENABLE, EV_SIGNAL, 0, 0, 0, 0);
	sdei(S_SIGNAL, EV_SIGNAL, cpu_mpidr(0), 0, 0, 0);
	check(recs[0][0].count == seen, recs[0][0].count - seen, 0, "vCPU 0 is masked at boot");
	sdei(S_PE_UNMASK, 0, 0, 0, 0, 0);
	check(recs[0][0].count == seen + 1, recs[0][0].count - seen, 1, "and unmasked takes it");
	/* n=2: SYSTEM_RESET2's warm reset instead */
	print("sdei-reset: %s, calling SYSTEM_RESET%s\n", n_fail ? "not clean" : "clean",
	      par.n == 2 ? "2" : "");
	if (par.n == 2)
		psci(PSCI_FN64(SYSTEM_RESET2), 0, 0, 0);
	else
		psci(PSCI_FN(SYSTEM_RESET), 0, 0, 0);
	check(false, 0, 0, "the reset returned");
}

/* ---- benchmarks ---- */

static void sort(u64 *v, u64 n)
{
	for (u64 i = 1; i < n; i++) {
		u64 x = v[i], j = i;

		for (; j && v[j - 1] > x; j--)
			v[j] = v[j - 1];
		v[j] = x;
	}
}

static void bench_round(u64 n)
{
	u64 t0;

	bench_mode = true;
	if (!use_event(EV_SIGNAL, 0, 0))
		return;
	t0 = now();
	for (u64 i = 0; i < n; i++)
		sdei(S_SIGNAL, EV_SIGNAL, cpu_mpidr(0), 0, 0, 0);
	print("bench sdei-round rounds=%lu ticks=%lu freq=%lu\n", n, now() - t0, timer_freq());
	check(recs[0][0].count == n, recs[0][0].count, n, "every signal ran the handler");
}

static void bench_kick(u64 n)
{
	if (n > BENCH_MAX)
		n = BENCH_MAX;
	bench_mode = true;
	if (!use_event(EV_SIGNAL, 0, 0) || !cpu1_on())
		return;
	job_n = n;
	post(J_BENCH_KICK, true);
	check(recs[0][0].count == n, recs[0][0].count, n, "every signal ran the handler");
	sort(samples, n);
	print("bench sdei-kick rounds=%lu min=%lu median=%lu freq=%lu\n", n, samples[0],
	      samples[n / 2], timer_freq());
}

void payload_main(void)
{
	bool all = streq(par.test, "all"), found = false;

	use_smc = par.smc;
	for (unsigned int i = 0; i < ARRAY_SIZE(tests); i++) {
		if (all || streq(par.test, tests[i].name)) {
			print("# %s\n", tests[i].name);
			tests[i].fn();
			found = true;
		}
	}
	if (found)
		return;
	if (streq(par.test, "host"))
		test_host();
	else if (streq(par.test, "reset"))
		test_reset();
	else if (streq(par.test, "bench-round"))
		bench_round(par.n ? par.n : 10000);
	else if (streq(par.test, "bench-kick"))
		bench_kick(par.n ? par.n : 200);
	else
		check(false, 0, 0, "test=%s: no such test", par.test);
}
