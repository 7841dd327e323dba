/*
 * libFuzzer target for the firmware-call dispatcher (hypercall.c) with every service behind it:
 * PSCI (psci/psci-kvm.c), SDEI (sdei/sdei-kvm.c), TRNG, lkvm's vendor calls and --smccc rules,
 * set up as hypercall__init does it, against a fake KVM: the SMCCC filter, the vCPUs' registers
 * and power states are this file's (the ioctls lkvm makes land here). Four vCPUs make calls
 * (any function ID, HVC or SMC, SMC32 or SMC64 IDs, arguments with junk above 32 bits), run (the
 * vCPU thread's PSCI and SDEI steps before KVM_RUN), wake from a suspend; the host signals SDEI
 * events and plugs vCPUs. A stop (SYSTEM_OFF, SYSTEM_RESET, LKVM_EXIT) makes a new VM, as lkvm
 * does.
 *
 * Checked on each call: lkvm writes only x0-x3 back, narrowed for SMC32 IDs; calls that KVM did
 * not forward, or through the wrong conduit, are NOT_SUPPORTED; each function answers from its
 * own set (AFFINITY_INFO what PSCI's states say, TRNG exactly the bits asked for, LKVM_LOG's
 * errors what its buffer says). After each step: a vCPU is suspended in KVM exactly when PSCI
 * says so, SDEI's event states hold together, a vCPU that another thread gave an event to was
 * kicked, and lkvm logged no error (the fake never fails).
 *
 * Input: the configuration (4 bytes, see fuzz__config), then 12-byte steps (see fuzz__step).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "arm64-regs.h"
#include "lkvm/hotplug.h"
#include "lkvm/kvm-compat.h"
#include "lkvm/kvm-cpu.h"
#include "lkvm/kvm.h"
#include "lkvm/memory-map.h"
#include "lkvm/psci.h"
#include "lkvm/sdei-kvm.h"
#include "lkvm/sdei.h"

int LLVMFuzzerTestOneInput(const u8 *data, size_t size);

#define NR_CPUS		4
#define RAM_SIZE	0x10000U
#define VM_FD		1000	/* fds only the fake ioctl knows */
#define VCPU_FD		1001
#define NR_REGS		(sizeof(struct fuzz_arm64_regs) / sizeof(u64))
#define REG_IDX(f)	(offsetof(struct fuzz_arm64_regs, f) / sizeof(u64))
#define CORE_ID		(KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM_CORE)
#define STEP		12
#define MAX_STEPS	128
#define RULES_BASE	0x82000000U	/* --smccc rules go into the SiP range */
#define TRNG_RND32	0x84000053U
#define LKVM_FN(n)	(0x86000080U + (n))

static struct {
	struct lkvm_config cfg;
	struct kvm kvm;
	struct kvm_cpu cpu[NR_CPUS];
	struct kvm_cpu *cpus[NR_CPUS];
	struct kvm_run run[NR_CPUS];
	struct cpu_plan plan;
	bool plugged[NR_CPUS];
	u64 regs[NR_CPUS][NR_REGS];
	u64 written[NR_CPUS];		/* a bit per register of regs[] that lkvm set */
	u32 mp_state[NR_CPUS];
	bool kicked[NR_CPUS];
	struct kvm_smccc_filter filter[FW_MAX_RANGES];
	unsigned int nr_filter;
	bool running;			/* a VM is set up */
	u8 *ram;			/* exactly RAM_SIZE: ASan sees past its end */
} F;

static const u64 mpidrs[NR_CPUS] = { 0x80000000, 0x80000001, 0x80000100, 0x80010000 };

/* ---- The fake KVM: what the sources linked here ask of kvm.c, kvm-cpu.c and the kernel ---- */

static unsigned int fuzz__cpu_of_fd(int fd)
{
	if (fd < VCPU_FD || fd >= VCPU_FD + NR_CPUS)
		abort();
	return (unsigned int)(fd - VCPU_FD);
}

/* lkvm's ioctls on the VM and its vCPUs; any other fd's go to the kernel. */
int ioctl(int fd, unsigned long req, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (fd < VM_FD || fd >= VCPU_FD + NR_CPUS)
		return (int)syscall(SYS_ioctl, fd, req, arg);
	if (fd == VM_FD && req == KVM_HAS_DEVICE_ATTR)
		return 0;
	if (fd == VM_FD && req == KVM_SET_DEVICE_ATTR) {
		const struct kvm_device_attr *a = arg;

		if (a->group != KVM_ARM_VM_SMCCC_CTRL || F.nr_filter == FW_MAX_RANGES)
			abort();
		memcpy(&F.filter[F.nr_filter++], (const void *)(uintptr_t)a->addr,
		       sizeof(F.filter[0]));
		return 0;
	}
	if (req == KVM_SET_MP_STATE) {
		F.mp_state[fuzz__cpu_of_fd(fd)] = ((const struct kvm_mp_state *)arg)->mp_state;
		return 0;
	}
	abort();	/* an ioctl this target does not expect lkvm to make here */
}

/*
 * lkvm's log lines, one write each (util.c): the guest's own (LKVM_LOG) and the rate limit's
 * count of those dropped must be one printable line, which is all the guest can forge; they are
 * checked and dropped here, so that the fuzzer's log stays readable. Others are written.
 */
static bool starts(const char *line, size_t len, const char *prefix)
{
	return len >= strlen(prefix) && !memcmp(line, prefix, strlen(prefix));
}

ssize_t write(int fd, const void *buf, size_t len)
{
	const char *line = buf;

	if (fd != STDERR_FILENO || (!starts(line, len, "lkvm: guest vCPU ") &&
				    !starts(line, len, "lkvm: LKVM_LOG: ")))
		return syscall(SYS_write, fd, buf, len);
	if (line[len - 1] != '\n')
		abort();
	for (size_t i = 0; i + 1 < len; i++) {
		if (line[i] < 0x20 || line[i] > 0x7e)
			abort();
	}
	return (ssize_t)len;
}

static unsigned int fuzz__reg(u64 id)
{
	u64 idx = (id & 0xffff) / 2;

	if ((id & ~0xffffULL) != CORE_ID || (id & 1) || idx >= NR_REGS)
		abort();
	return (unsigned int)idx;
}

int kvm_cpu__get_reg(struct kvm_cpu *cpu, u64 id, u64 *val)
{
	*val = F.regs[cpu->id][fuzz__reg(id)];
	return 0;
}

int kvm_cpu__set_reg(struct kvm_cpu *cpu, u64 id, u64 val)
{
	unsigned int r = fuzz__reg(id);

	F.regs[cpu->id][r] = val;
	F.written[cpu->id] |= 1ULL << r;
	return 0;
}

int kvm_cpu__reset(struct kvm_cpu *cpu)
{
	memset(F.regs[cpu->id], 0, sizeof(F.regs[0]));
	cpu->is_reset = true;
	return 0;
}

int kvm_cpu__enter_at(struct kvm_cpu *cpu, u64 pc, u64 x0)
{
	if (!kvm__gpa_to_host(cpu->kvm, pc, 4))
		abort();	/* PSCI let an entry point outside RAM through */
	kvm_cpu__reset(cpu);
	F.regs[cpu->id][REG_IDX(regs.pc)] = pc;
	F.regs[cpu->id][0] = x0;
	return 0;
}

void kvm_cpu__kick(struct kvm_cpu *cpu)
{
	F.kicked[cpu->id] = true;
}

u64 *kvm_cpu__mpidrs(struct kvm *kvm)
{
	u64 *m = malloc(sizeof(mpidrs));

	(void)kvm;
	if (m)
		memcpy(m, mpidrs, sizeof(mpidrs));
	return m;
}

u64 cpu_plan__start_delay_ns(struct cpu_plan *p, unsigned int cpu)
{
	(void)p;
	(void)cpu;
	return 0;
}

void kvm__request_stop(struct kvm *kvm, enum vm_stop why)
{
	int running = VM_RUNNING;

	atomic_compare_exchange_strong(&kvm->stop_reason, &running, (int)why);
}

void kvm__post_vm_event(struct kvm *kvm, struct vm_event *ev)
{
	(void)kvm;
	if (ev->type >= VM_EV_NR_TYPES || ev->vcpu >= NR_CPUS || ev->target >= NR_CPUS)
		abort();
}

void kvm__post_event(struct kvm *kvm, enum vm_event_type type, unsigned int vcpu,
		     unsigned int target)
{
	struct vm_event ev = { .type = type, .vcpu = vcpu, .target = target };

	kvm__post_vm_event(kvm, &ev);
}

/* ---- The VM ---- */

/* Config bytes: [0] conduit, TRNG, SDEI, PSCI; [1] plugged vCPUs; [2..3] one --smccc rule. */
static void fuzz__config(const u8 *c)
{
	struct lkvm_config *cfg = &F.cfg;
	u32 first = RULES_BASE + (c[2] & 0xf);

	memset(cfg, 0, sizeof(*cfg));
	cfg->psci_conduit = c[0] & 1 ? CONDUIT_SMC : CONDUIT_HVC;
	cfg->trng = (enum trng_mode)((c[0] >> 1) % 3);
	cfg->psci = c[0] & 0x18 ? PSCI_USER : PSCI_KERNEL;
	cfg->sdei = cfg->psci == PSCI_USER && (c[0] & 0x20);
	if (c[3] % 4 != 3) {
		cfg->smccc[0] = (struct smccc_rule){ .first = first, .last = first + (c[2] >> 4),
						     .action = (enum smccc_action)(c[3] % 3) };
		cfg->nr_smccc = 1;
	}
	for (unsigned int i = 0; i < NR_CPUS; i++)
		F.plugged[i] = !i || (c[1] >> i & 1);
}

static bool fuzz__vm_start(void)
{
	struct kvm *kvm = &F.kvm;

	memset(kvm, 0, sizeof(*kvm));
	kvm->cfg = &F.cfg;
	kvm->vm_fd = VM_FD;
	kvm->stop_fd = -1;
	kvm->nr_cpus = NR_CPUS;
	kvm->cpus = F.cpus;
	kvm->plan = &F.plan;
	kvm->ram = F.ram;
	kvm->ram_size = RAM_SIZE;
	memset(F.ram, 0, RAM_SIZE);
	F.plan = (struct cpu_plan){ .nr_cpus = NR_CPUS, .plugged = F.plugged };
	F.nr_filter = 0;
	for (unsigned int i = 0; i < NR_CPUS; i++) {
		F.cpus[i] = &F.cpu[i];
		F.cpu[i] = (struct kvm_cpu){ .kvm = kvm, .id = i, .fd = VCPU_FD + (int)i,
					     .run = &F.run[i], .mpidr = mpidrs[i],
					     .power_check = true };
		F.mp_state[i] = KVM_MP_STATE_RUNNABLE;
		memset(F.regs[i], 0, sizeof(F.regs[i]));
	}
	if (init__run(kvm, &kvm->init))
		return false;
	F.running = true;
	return true;
}

static void fuzz__vm_stop(void)
{
	if (F.running)
		init__exit(&F.kvm, &F.kvm.init);
	F.running = false;
}

/* The filter lkvm installed: sorted, disjoint, one entry per route. */
static void fuzz__check_filter(void)
{
	const struct hypercall_table *t = &F.kvm.hypercalls;

	if (F.nr_filter != t->nr_routes)
		abort();
	for (unsigned int i = 0; i < F.nr_filter; i++) {
		const struct kvm_smccc_filter *f = &F.filter[i];

		if (!f->nr_functions || f->base != t->routes[i].first ||
		    f->base + f->nr_functions - 1 != t->routes[i].last ||
		    (i && F.filter[i - 1].base + F.filter[i - 1].nr_functions > f->base))
			abort();
	}
}

/* What KVM does with a call: forward it (FWD_TO_USER), or answer it itself. */
static bool fuzz__forwarded(u32 fid)
{
	for (unsigned int i = 0; i < F.nr_filter; i++) {
		if (fid - F.filter[i].base < F.filter[i].nr_functions)
			return F.filter[i].action == KVM_SMCCC_FILTER_FWD_TO_USER;
	}
	return false;
}

static enum psci_cpu_state fuzz__state(unsigned int cpu)
{
	return F.kvm.psci ? psci__cpu_state(F.kvm.psci, cpu) : PSCI_STATE_ON;
}

/* ---- Calls ---- */

struct call {
	u32 fid;
	bool smc;
	u64 arg[HC_MAX_ARGS + 1];
	u64 res[4];
	bool returned;
};

static u64 x0_of(const struct call *c, s64 v)
{
	return c->fid & SMCCC_FN64 ? (u64)v : (u64)v & 0xffffffffULL;
}

static bool ret_in(const struct call *c, const s64 *set, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (c->res[0] == x0_of(c, set[i]))
			return true;
	}
	return false;
}

#define RET_IN(c, ...) ret_in(c, (const s64[]){ __VA_ARGS__ }, \
			      sizeof((const s64[]){ __VA_ARGS__ }) / sizeof(s64))

/* AFFINITY_INFO of one vCPU at level 0: what its PSCI state says. */
static s64 fuzz__aff(enum psci_cpu_state s)
{
	return s == PSCI_STATE_ON || s == PSCI_STATE_SUSPENDED ? PSCI_AFF_ON :
	       s == PSCI_STATE_ON_PENDING ? PSCI_AFF_ON_PENDING : PSCI_AFF_OFF;
}

static void fuzz__check_psci(const struct call *c, const enum psci_cpu_state *before)
{
	u64 a1 = c->fid & SMCCC_FN64 ? c->arg[1] : c->arg[1] & 0xffffffffULL;
	u64 a2 = c->fid & SMCCC_FN64 ? c->arg[2] : c->arg[2] & 0xffffffffULL;
	int t = -1;

	for (int i = 0; i < NR_CPUS; i++)
		t = a1 == (mpidrs[i] & MPIDR_HWID_MASK) ? i : t;
	switch (c->fid & SMCCC_FN_MASK) {
	case PSCI_NR_VERSION:
		if (c->res[0] != PSCI_VERSION_1_1 && !RET_IN(c, PSCI_RET_NOT_SUPPORTED))
			abort();
		break;
	case PSCI_NR_AFFINITY_INFO:
		if (t >= 0 && !a2 &&
		    !RET_IN(c, fuzz__aff(before[t]), PSCI_RET_NOT_SUPPORTED))
			abort();
		if (!RET_IN(c, 0, 1, 2, PSCI_RET_INVALID_PARAMS, PSCI_RET_NOT_SUPPORTED))
			abort();
		break;
	case PSCI_NR_CPU_ON:
		if (!RET_IN(c, 0, PSCI_RET_INVALID_PARAMS, PSCI_RET_DENIED, PSCI_RET_ALREADY_ON,
			    PSCI_RET_INVALID_ADDRESS, PSCI_RET_NOT_SUPPORTED))
			abort();
		/* Granted: the target was off and is starting now. */
		if (t >= 0 && c->res[0] == 0 &&
		    (before[t] != PSCI_STATE_OFF || fuzz__state((unsigned)t) != PSCI_STATE_ON_PENDING))
			abort();
		break;
	case PSCI_NR_STAT_RESIDENCY:
	case PSCI_NR_STAT_COUNT:
		break;	/* any count */
	default:
		if (!RET_IN(c, 0, 1, 2, PSCI_RET_INVALID_PARAMS, PSCI_RET_DENIED,
			    PSCI_RET_INVALID_ADDRESS, PSCI_RET_NOT_SUPPORTED))
			abort();
		break;
	}
}

/* TRNG's random words hold exactly the bits asked for: nothing above them. */
static void fuzz__check_trng(const struct call *c)
{
	unsigned int w = c->fid & SMCCC_FN64 ? 64 : 32, max = 3 * w;
	u64 n = c->arg[1] & (w == 32 ? 0xffffffffULL : ~0ULL);

	if ((c->fid | SMCCC_FN64) != (TRNG_RND32 | SMCCC_FN64))
		return;
	if (n == 0 || n > max) {
		if (!RET_IN(c, SMCCC_RET_INVALID_PARAMETERS) || c->res[1] || c->res[2] || c->res[3])
			abort();
		return;
	}
	if (!RET_IN(c, 0, SMCCC_RET_DENIED))
		abort();
	for (unsigned int i = 0; i < 3; i++) {
		unsigned int lo = (2 - i) * w;
		u64 allowed = n <= lo ? 0 : n - lo >= w ? (w == 64 ? ~0ULL : 0xffffffffULL) :
			      (1ULL << (n - lo)) - 1;

		if (c->res[1 + i] & ~allowed)
			abort();
	}
}

static void fuzz__check_lkvm(const struct call *c)
{
	u64 a1 = c->fid & SMCCC_FN64 ? c->arg[1] : c->arg[1] & 0xffffffffULL;
	u64 a2 = c->fid & SMCCC_FN64 ? c->arg[2] : c->arg[2] & 0xffffffffULL;

	if (c->fid == LKVM_FN(3) || c->fid == (LKVM_FN(3) | SMCCC_FN64)) {
		s64 want = !a2 || a2 > 4096 ? -2 : !kvm__gpa_to_host(&F.kvm, a1, a2) ? -9 : 0;

		if (!RET_IN(c, want))
			abort();
	} else if (c->fid == LKVM_FN(2) && c->returned != (a1 > 59)) {
		abort();
	}
}

static void fuzz__check_sdei(const struct call *c)
{
	unsigned int fn = (c->fid & SMCCC_FN_MASK) - (SDEI_FN_FIRST & SMCCC_FN_MASK);

	if (!c->returned || fn == SDEI_NR_VERSION || fn == SDEI_NR_EVENT_CONTEXT ||
	    fn == SDEI_NR_EVENT_GET_INFO)
		return;
	if ((s64)c->res[0] > 7 || (s64)c->res[0] < SDEI_OUT_OF_RESOURCE ||
	    !sdei__ret_name((s64)c->res[0] < 0 ? (s64)c->res[0] : 0))
		abort();
}

/* What lkvm answered, by who owns the ID. */
static void fuzz__check_call(const struct call *c, const enum psci_cpu_state *before)
{
	const struct lkvm_config *cfg = &F.cfg;
	bool conduit = c->smc == (cfg->psci_conduit == CONDUIT_SMC);
	u32 fid = c->fid;

	if (!fuzz__forwarded(fid) || hypercall__owner(&F.kvm.hypercalls, fid) == NULL) {
		if (!c->returned || !RET_IN(c, SMCCC_RET_NOT_SUPPORTED))
			abort();
		return;
	}
	if (fid >= RULES_BASE && fid < RULES_BASE + 0x100) {
		if (!RET_IN(c, cfg->smccc[0].action == SMCCC_IGNORE ? 0 : -3))
			abort();
	} else if ((fid & ~(SMCCC_FN64 | 0x1fU)) == PSCI_FN_BASE) {
		if (c->returned && !conduit && !RET_IN(c, SMCCC_RET_NOT_SUPPORTED))
			abort();
		if (c->returned && conduit)
			fuzz__check_psci(c, before);
	} else if (fid >= SDEI_FN_FIRST && fid <= SDEI_FN_LAST) {
		if (!conduit && (!c->returned || !RET_IN(c, SMCCC_RET_NOT_SUPPORTED)))
			abort();
		fuzz__check_sdei(c);
	} else if ((fid & ~(SMCCC_FN64 | 0xfU)) == 0x84000050U) {
		fuzz__check_trng(c);
	} else {
		fuzz__check_lkvm(c);
	}
}

static void fuzz__call(unsigned int cpu, struct call *c)
{
	u64 *x = F.regs[cpu];
	struct kvm_run *run = &F.run[cpu];
	enum psci_cpu_state before[NR_CPUS];
	u64 keep[NR_REGS], writable = 0xf;

	for (unsigned int i = 0; i < NR_CPUS; i++)
		before[i] = fuzz__state(i);
	x[0] = c->fid;
	memcpy(&x[1], &c->arg[1], HC_MAX_ARGS * sizeof(u64));
	memcpy(keep, x, sizeof(keep));
	memset(run, 0, sizeof(*run));
	run->exit_reason = KVM_EXIT_HYPERCALL;
	run->hypercall.nr = c->fid;
	KVM_HYPERCALL_FLAGS(run) = c->smc ? KVM_HYPERCALL_EXIT_SMC : 0;
	F.written[cpu] = 0;
	if (hypercall__handle(&F.cpu[cpu]))
		abort();
	/* An SDEI COMPLETE does not return: it restores x0-x17, PC, PSTATE, ELR, SPSR. */
	c->returned = (F.written[cpu] & 1) && !(F.written[cpu] >> REG_IDX(regs.pc) & 1);
	memcpy(c->res, x, sizeof(c->res));
	if (c->fid >= SDEI_FN_FIRST && c->fid <= SDEI_FN_LAST && !c->returned)
		writable = (1ULL << SDEI_SAVED_REGS) - 1 | 1ULL << REG_IDX(regs.pc) |
			   1ULL << REG_IDX(regs.pstate) | 1ULL << REG_IDX(elr_el1) |
			   1ULL << REG_IDX(spsr[KVM_SPSR_EL1]);
	for (unsigned int i = 0; i < NR_REGS; i++) {
		if ((F.written[cpu] >> i & 1 ? !(writable >> i & 1) : x[i] != keep[i]))
			abort();
	}
	if (c->returned && writable == 0xf && !(c->fid & SMCCC_FN64)) {
		for (unsigned int i = 0; i < 4; i++) {
			if (F.written[cpu] >> i & 1 && x[i] >> 32)
				abort();
		}
	}
	fuzz__check_call(c, before);
}

/* ---- Steps ---- */

static u32 fuzz__fid(u8 sel, u32 raw)
{
	unsigned int n = sel & 0x1f;

	switch (sel >> 5) {
	case 0: case 1: return PSCI_FN(n);
	case 2: return SDEI_FN(n);
	case 3: return 0x84000050U + (n & 0xf);	/* TRNG */
	case 4: return LKVM_FN(n & 0xf);
	case 5: return RULES_BASE + n;
	case 6: return n < 4 ? PSCI_0_1_FN_BASE + n : n < 8 ? 0x86000000U + n : 0x80000000U + n;
	default: return raw;
	}
}

/* Arguments near what matters: MPIDRs, RAM, events, function IDs, junk in the upper half. */
static u64 fuzz__arg(u8 b, u32 raw)
{
	static const u64 table[] = {
		0, 1, 2, 3, 32, 64, 96, 97, 192, 193, 4096, 4097, SDEI_EVENT_NMI,
		SDEI_EVENT_CPU_NOTIFY, SDEI_EVENT_NOTIFY, SDEI_EVENT_ALERT, PSCI_PS_TYPE_POWERDOWN,
		1U << 24, TRNG_RND32, TRNG_RND32 | SMCCC_FN64, 0x84000050U, SDEI_FN_FIRST, 59, 60,
	};
	u64 junk = (u64)raw << 32;

	switch (b & 7) {
	case 0: return mpidrs[(b >> 3) % NR_CPUS] & (b & 0x80 ? ~0ULL : MPIDR_HWID_MASK);
	case 1: return LKVM_RAM_BASE + (raw % (RAM_SIZE + 16));
	case 2: return table[(b >> 3) % ARRAY_SIZE(table)];
	case 3: return junk | table[(b >> 3) % ARRAY_SIZE(table)];
	case 4: return junk | (LKVM_RAM_BASE + (raw & 0xfffc));
	case 5: return b >> 3;
	case 6: return raw;
	default: return ~0ULL << (b >> 3);
	}
}

/* The vCPU thread's steps before KVM_RUN (kvm-cpu.c): PSCI's start, then SDEI's dispatch. */
static void fuzz__run(unsigned int cpu)
{
	struct kvm_cpu *c = &F.cpu[cpu];
	struct kvm *kvm = &F.kvm;
	enum psci_cpu_state s = fuzz__state(cpu);

	if (kvm->power && c->power_check) {
		if (s == PSCI_STATE_OFF || s == PSCI_STATE_ABSENT)
			return;		/* its thread waits for CPU_ON */
		/* A powerdown suspend goes on in KVM_RUN; a start is over. */
		if (!kvm->power->before_run(c) ||
		    fuzz__state(cpu) != (s == PSCI_STATE_SUSPENDED ? s : PSCI_STATE_ON))
			abort();
		c->power_check = false;
	}
	if (kvm->sdei && sdei__may_dispatch(kvm->sdei, cpu) && !sdei_kvm__before_run(c))
		abort();
}

static void fuzz__host(const u8 *s)
{
	static const char *const names[] = { "sw-signal", "nmi", "cpu-notify", "notify", "alert",
					     "2000", "bogus" };
	char payload[32], err[160];
	struct kvm *kvm = &F.kvm;
	unsigned int cpu = s[2] % NR_CPUS;

	if (s[1] & 1 && kvm->psci) {
		psci__set_present(kvm->psci, cpu ? cpu : 1, s[1] & 2);
		return;
	}
	if (!kvm->sdei)
		return;
	snprintf(payload, sizeof(payload), s[1] & 2 ? "%s -" : "%s %u",
		 names[(s[1] >> 2) % ARRAY_SIZE(names)], s[2] % (NR_CPUS + 1));
	err[0] = '\0';
	if (sdei_kvm__signal(kvm, payload, err, sizeof(err)) && !err[0])
		abort();
}

static void fuzz__call_step(unsigned int cpu, const u8 *s)
{
	u32 raw = (u32)s[8] | (u32)s[9] << 8 | (u32)s[10] << 16 | (u32)s[11] << 24;
	struct call c = { .fid = fuzz__fid(s[1], raw) ^ (s[2] & 2 ? SMCCC_FN64 : 0),
			  .smc = s[2] & 1 };
	enum log_level saved = log_level;

	/* Only a running vCPU calls: one that went through its thread's checks first. */
	if (F.cpu[cpu].power_check)
		fuzz__run(cpu);
	if (fuzz__state(cpu) != PSCI_STATE_ON || F.cpu[cpu].power_check)
		return;
	for (unsigned int i = 1; i <= HC_MAX_ARGS; i++)
		c.arg[i] = fuzz__arg(s[2 + i], raw * (2 * i + 1));
	/* The guest's lines are warnings' peers: shown only for LKVM_LOG, and rate-limited. */
	if ((c.fid & ~SMCCC_FN64) == LKVM_FN(3))
		log_level = LOG_WARNING;
	fuzz__call(cpu, &c);
	log_level = saved;
}

/*
 * s[0]: bits 0-1 the vCPU, 2-4 what: 0-3 a call (s[1] the function, s[2] bit 0 SMC, bit 1 the
 * other width, s[3..7] the arguments, s[8..11] raw bits for them), 4 the vCPU runs, 5 it wakes
 * from a suspend, 6 the host (signal, plug), 7 the guest writes s[4..11] into RAM at s[1..3].
 */
static void fuzz__step(const u8 *s)
{
	unsigned int cpu = s[0] % NR_CPUS, op = s[0] >> 2 & 7;
	u32 off = ((u32)s[1] | (u32)s[2] << 8 | (u32)s[3] << 16) % (RAM_SIZE - 8);

	switch (op) {
	case 0: case 1: case 2: case 3:
		fuzz__call_step(cpu, s);
		break;
	case 4:
		fuzz__run(cpu);
		break;
	case 5:
		if (F.kvm.power && fuzz__state(cpu) == PSCI_STATE_SUSPENDED &&
		    F.kvm.power->wakeup(&F.cpu[cpu]))
			abort();
		break;
	case 6:
		fuzz__host(s);
		break;
	default:
		memcpy(F.kvm.ram + off, s + 4, 8);
		break;
	}
}

/* SDEI's event states hold together (the state machine's own fuzzer checks the rest). */
static void fuzz__check_sdei_states(void)
{
	const struct sdei_event_desc *evs;
	struct sdei_event_state st;
	unsigned int n;

	if (!F.kvm.sdei)
		return;
	evs = sdei__events(&n);
	for (unsigned int e = 0; e < n; e++) {
		for (unsigned int pe = 0; pe < NR_CPUS; pe++) {
			if (!sdei__event_state(F.kvm.sdei, evs[e].num, pe, &st) ||
			    (st.unregister_pending && (st.registered || !st.running)) ||
			    (st.enabled && !st.registered) ||
			    (evs[e].shared && st.running != (st.running_cpu >= 0)) ||
			    st.running_cpu >= NR_CPUS)
				abort();
		}
	}
}

static void fuzz__check_vm(const bool *may_before, unsigned int actor)
{
	struct kvm *kvm = &F.kvm;

	for (unsigned int i = 0; i < NR_CPUS; i++) {
		bool suspended = fuzz__state(i) == PSCI_STATE_SUSPENDED;

		if (suspended != (F.mp_state[i] == KVM_MP_STATE_SUSPENDED))
			abort();
		if (kvm->sdei && i != actor && !may_before[i] && sdei__may_dispatch(kvm->sdei, i) &&
		    !F.kicked[i])
			abort();
	}
	fuzz__check_sdei_states();
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	u8 config[4] = { 0 };
	unsigned int errors, steps = 0;

	if (!F.ram) {
		log_level = LOG_ERROR;
		if (!(F.ram = malloc(RAM_SIZE)))
			abort();
	}
	memcpy(config, data, size < 4 ? size : 4);
	data += size < 4 ? size : 4;
	size -= size < 4 ? size : 4;
	fuzz__config(config);
	errors = log__errors();
	for (bool again = true; again && steps < MAX_STEPS;) {
		if (!fuzz__vm_start())
			abort();
		fuzz__check_filter();
		again = false;
		for (; size >= STEP && steps < MAX_STEPS; data += STEP, size -= STEP, steps++) {
			bool may[NR_CPUS];

			for (unsigned int i = 0; i < NR_CPUS; i++) {
				may[i] = F.kvm.sdei && sdei__may_dispatch(F.kvm.sdei, i);
				F.kicked[i] = false;
			}
			fuzz__step(data);
			fuzz__check_vm(may, (data[0] >> 2 & 7) == 6 ? NR_CPUS : data[0] % NR_CPUS);
			if (log__errors() != errors)
				abort();	/* lkvm failed where nothing could fail */
			if (kvm__stopping(&F.kvm)) {
				if (atomic_load(&F.kvm.stop_reason) == VM_STOP_ERROR)
					abort();
				again = true;
				data += STEP, size -= STEP, steps++;
				break;
			}
		}
		fuzz__vm_stop();
	}
	return 0;
}
