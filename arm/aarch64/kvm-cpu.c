/* arm64 vCPUs: creation, registers, and the thread that runs each one. */
#include "lkvm/kvm-cpu.h"
#include "lkvm/hypercall.h"
#include "lkvm/kvm-compat.h"
#include "lkvm/kvm.h"
#include "lkvm/sdei-kvm.h"
#include "lkvm/sdei.h"

#include <errno.h>
#include <stdatomic.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#define SIG_KICK SIGUSR1

#define CORE_REG(x) (KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM_CORE | \
		     (offsetof(struct kvm_regs, x) / sizeof(u32)))
#define REG_X(n)	(CORE_REG(regs.regs[0]) + 2 * (n))	/* 64-bit registers: 2 u32 slots */
#define REG_PC		CORE_REG(regs.pc)
#define REG_PSTATE	CORE_REG(regs.pstate)
#define REG_MPIDR_EL1	ARM64_SYS_REG(3, 0, 0, 0, 5)

/* AArch32 entry state, as kvmtool sets it: SVC mode, IRQ and FIQ masked; T for Thumb code. */
#define AA32_MODE_SVC	0x13
#define AA32_T_BIT	0x20
#define AA32_F_BIT	0x40
#define AA32_I_BIT	0x80
#define AA32_BOOT_PSTATE (AA32_MODE_SVC | AA32_I_BIT | AA32_F_BIT)

/* SVE vector lengths, in 128-bit quadwords (VQ), as KVM's SVE_VLS register counts them. */
#define SVE_VQ_BITS	128
#define SVE_VLS_WORDS	KVM_ARM64_SVE_VLS_WORDS

int kvm_cpu__parse_sve_vl(const char *val, unsigned int *vq, const char **why)
{
	unsigned int bits;

	/* kvmtool's rule: a power of 2 (so not 384, though SVE allows it), 128 up to SVE's 65536 */
	if (parse_uint(val, 1, UINT32_MAX, &bits) || bits & (bits - 1)) {
		*why = "need a vector length in bits, a power of 2 (128, 256, ... 2048)";
		return -EINVAL;
	}
	if (bits < KVM_ARM64_SVE_VQ_MIN * SVE_VQ_BITS || bits > KVM_ARM64_SVE_VQ_MAX * SVE_VQ_BITS) {
		*why = "out of range: SVE vector lengths are 128 to 65536 bits";
		return -EINVAL;
	}
	*vq = bits / SVE_VQ_BITS;
	return 0;
}

int kvm_cpu__check_features(const struct lkvm_config *cfg, char *why, size_t len)
{
	if (cfg->sve_max_vq && cfg->disable_sve)
		snprintf(why, len, "--sve-max-vl: conflicts with --disable-sve");
	else if (cfg->aarch32 && cfg->sve_max_vq)
		snprintf(why, len, "--sve-max-vl: a 32-bit guest (--aarch32) has no SVE");
	else if (cfg->aarch32 && cfg->nested)
		snprintf(why, len, "--nested: a 32-bit guest (--aarch32) cannot have EL2");
	/* RAM starts at 2G and a 32-bit guest enters with 32-bit addresses: the DTB must fit. */
	else if (cfg->aarch32 && LKVM_RAM_BASE + cfg->ram_size > (1ULL << 32))
		snprintf(why, len, "-m: with --aarch32 at most %lluM (RAM starts at %lluM, below 4G)",
			 ((1ULL << 32) - LKVM_RAM_BASE) >> 20, LKVM_RAM_BASE >> 20);
	else
		return 0;
	return -EINVAL;
}

static bool kvm_cpu__has_cap(struct kvm *kvm, long cap)
{
	return ioctl(kvm->vm_fd, KVM_CHECK_EXTENSION, cap) > 0;
}

/* Whether the vCPUs have SVE: KVM has it and the options leave it on. */
static bool kvm_cpu__has_sve(struct kvm *kvm)
{
	return !kvm->cfg->disable_sve && !kvm->cfg->aarch32 && kvm_cpu__has_cap(kvm, KVM_CAP_ARM_SVE);
}

/*
 * The feature bits of KVM_ARM_VCPU_INIT, the same for every vCPU and every reset. What the
 * options ask for and the host cannot give is an error here, at vCPU creation: before the
 * guest's files are opened, so the kvm-unit-tests runner skips the test (kvmtool.md).
 */
static int kvm_cpu__select_features(struct kvm *kvm, u32 *features)
{
	const struct lkvm_config *cfg = kvm->cfg;
	u32 f = 1U << KVM_ARM_VCPU_PSCI_0_2;

	if (cfg->aarch32) {
		if (!kvm_cpu__has_cap(kvm, KVM_CAP_ARM_EL1_32BIT)) {
			pr_err("--aarch32: this host's CPUs cannot run AArch32 at EL1 "
			       "(KVM has no KVM_CAP_ARM_EL1_32BIT)");
			return -ENODEV;
		}
		f |= 1U << KVM_ARM_VCPU_EL1_32BIT;
	}
	if (cfg->pmu) {
		if (!kvm_cpu__has_cap(kvm, KVM_CAP_ARM_PMU_V3)) {
			pr_err("--pmu: this host's KVM has no PMUv3 for guests (no KVM_CAP_ARM_PMU_V3)");
			return -ENODEV;
		}
		f |= 1U << KVM_ARM_VCPU_PMU_V3;
	}
	if (cfg->sve_max_vq && !kvm_cpu__has_sve(kvm)) {
		pr_err("--sve-max-vl %u: this host's KVM has no SVE (no KVM_CAP_ARM_SVE)",
		       cfg->sve_max_vq * SVE_VQ_BITS);
		return -ENODEV;
	}
	if (kvm_cpu__has_sve(kvm))
		f |= 1U << KVM_ARM_VCPU_SVE;
	if (cfg->nested) {
		if (!kvm_cpu__has_cap(kvm, KVM_CAP_ARM_EL2)) {
			pr_err("--nested: this host's KVM cannot give vCPUs EL2 (no KVM_CAP_ARM_EL2: "
			       "that needs Linux 6.16 or later on a CPU with FEAT_NV2)");
			return -ENODEV;
		}
		f |= 1U << KVM_ARM_VCPU_HAS_EL2;
	}
	*features = f;
	return 0;
}

/*
 * MTE is the VM's, not a vCPU's: KVM takes it only before the first vCPU exists. On by default
 * where KVM has it, as in kvmtool; never for a 32-bit guest, which KVM refuses with MTE.
 */
static int kvm_cpu__enable_mte(struct kvm *kvm)
{
	struct kvm_enable_cap cap = { .cap = KVM_CAP_ARM_MTE };

	if (kvm->cfg->disable_mte || kvm->cfg->aarch32 || !kvm_cpu__has_cap(kvm, KVM_CAP_ARM_MTE))
		return 0;
	if (ioctl(kvm->vm_fd, KVM_ENABLE_CAP, &cap)) {
		int err = -errno;

		pr_err("MTE: KVM cannot enable it: %s (--disable-mte does without)", strerror(-err));
		return err;
	}
	pr_debug("MTE enabled for the guest");
	return 0;
}

static int kvm_cpu__sve_error(struct kvm_cpu *cpu, const char *what)
{
	int err = -errno;

	pr_err("vCPU %u: SVE: %s: %s", cpu->id, what, strerror(-err));
	return err;
}

/*
 * Before the first run: the SVE vector lengths (at most --sve-max-vl), then SVE is final.
 * Reports its errors.
 */
static int kvm_cpu__finalize_sve(struct kvm_cpu *cpu)
{
	unsigned int max_vq = cpu->kvm->cfg->sve_max_vq;
	u64 vls[SVE_VLS_WORDS];
	int feature = KVM_ARM_VCPU_SVE;
	struct kvm_one_reg reg = { .id = KVM_REG_ARM64_SVE_VLS, .addr = (u64)(uintptr_t)vls };

	if (max_vq) {
		if (ioctl(cpu->fd, KVM_GET_ONE_REG, &reg))
			return kvm_cpu__sve_error(cpu, "KVM cannot tell its vector lengths");
		if (!(vls[(max_vq - 1) / 64] >> ((max_vq - 1) % 64) & 1)) {
			unsigned int top = 0;

			for (unsigned int vq = 1; vq <= SVE_VLS_WORDS * 64; vq++)
				top = vls[(vq - 1) / 64] >> ((vq - 1) % 64) & 1 ? vq : top;
			pr_err("--sve-max-vl %u: not a vector length this host's KVM offers "
			       "(its longest: %u)", max_vq * SVE_VQ_BITS, top * SVE_VQ_BITS);
			return -EINVAL;
		}
		/* Only ever take lengths away from what KVM offers, as kvmtool does. */
		for (unsigned int vq = max_vq + 1; vq <= SVE_VLS_WORDS * 64; vq++)
			vls[(vq - 1) / 64] &= ~(1ULL << ((vq - 1) % 64));
		if (ioctl(cpu->fd, KVM_SET_ONE_REG, &reg))
			return kvm_cpu__sve_error(cpu, "KVM refuses the vector lengths");
	}
	if (ioctl(cpu->fd, KVM_ARM_VCPU_FINALIZE, &feature))
		return kvm_cpu__sve_error(cpu, "KVM cannot finalise it");
	return 0;
}

int kvm_cpu__get_reg(struct kvm_cpu *cpu, u64 id, u64 *val)
{
	struct kvm_one_reg reg = { .id = id, .addr = (u64)(uintptr_t)val };

	return ioctl(cpu->fd, KVM_GET_ONE_REG, &reg) ? -errno : 0;
}

int kvm_cpu__set_reg(struct kvm_cpu *cpu, u64 id, u64 val)
{
	struct kvm_one_reg reg = { .id = id, .addr = (u64)(uintptr_t)&val };

	return ioctl(cpu->fd, KVM_SET_ONE_REG, &reg) ? -errno : 0;
}

/* KVM_ARM_VCPU_INIT; again on a vCPU that has run, it is a full reset. */
static int kvm_cpu__vcpu_init(struct kvm_cpu *cpu, bool power_off)
{
	struct kvm_vcpu_init init;

	if (ioctl(cpu->kvm->vm_fd, KVM_ARM_PREFERRED_TARGET, &init))
		return -errno;
	init.features[0] = cpu->features;
	if (power_off)
		init.features[0] |= 1U << KVM_ARM_VCPU_POWER_OFF;
	return ioctl(cpu->fd, KVM_ARM_VCPU_INIT, &init) ? -errno : 0;
}

static int kvm_cpu__init_regs(struct kvm_cpu *cpu)
{
	/*
	 * Secondaries wait for the guest's CPU_ON: powered off in KVM for its PSCI; for lkvm's,
	 * in lkvm, already reset, so that CPU_ON need only set the entry registers.
	 */
	bool user_psci = cpu->kvm->cfg->psci == PSCI_USER;
	int err = kvm_cpu__vcpu_init(cpu, cpu->id != 0 && !user_psci);

	cpu->is_reset = user_psci;
	return err ? err : kvm_cpu__get_reg(cpu, REG_MPIDR_EL1, &cpu->mpidr);
}

int kvm_cpu__reset(struct kvm_cpu *cpu)
{
	int err = cpu->is_reset ? 0 : kvm_cpu__vcpu_init(cpu, false);

	cpu->is_reset = !err;
	return err;
}

int kvm_cpu__enter_at(struct kvm_cpu *cpu, u64 pc, u64 x0)
{
	int err = kvm_cpu__reset(cpu);

	cpu->is_reset = false;
	/* A 32-bit entry point with bit 0 set is Thumb code, as PSCI has it (and KVM's does). */
	if (!err && cpu->kvm->cfg->aarch32 && (pc & 1)) {
		pc &= ~1ULL;
		err = kvm_cpu__set_reg(cpu, REG_PSTATE, AA32_BOOT_PSTATE | AA32_T_BIT);
	}
	if (!err)
		err = kvm_cpu__set_reg(cpu, REG_PC, pc);
	if (!err)
		err = kvm_cpu__set_reg(cpu, REG_X(0), x0);
	return err;
}

int kvm_cpu__create(struct kvm *kvm, unsigned int id, struct kvm_cpu **out)
{
	struct kvm_cpu *cpu;
	u32 features;
	int err = id == 0 ? kvm_cpu__enable_mte(kvm) : 0;

	if (!err)
		err = kvm_cpu__select_features(kvm, &features);
	if (err)
		return err;
	cpu = calloc(1, sizeof(*cpu));
	if (!cpu)
		return -ENOMEM;
	cpu->kvm = kvm;
	cpu->id = id;
	cpu->features = features;
	cpu->power_check = true;
	cpu->fd = ioctl(kvm->vm_fd, KVM_CREATE_VCPU, id);
	if (cpu->fd < 0) {
		err = -errno;
		free(cpu);
		pr_err("vCPU %u: cannot create: %s", id, strerror(-err));
		return err;
	}
	cpu->run = mmap(NULL, kvm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, cpu->fd, 0);
	if (cpu->run == MAP_FAILED) {
		err = -errno;
		cpu->run = NULL;
		goto fail;
	}
	err = kvm_cpu__init_regs(cpu);
	if (err)
		goto fail;
	/* It says what is wrong itself: a vector length KVM does not offer is the user's. */
	if (cpu->features & (1U << KVM_ARM_VCPU_SVE) && (err = kvm_cpu__finalize_sve(cpu))) {
		kvm_cpu__destroy(cpu);
		return err;
	}
	*out = cpu;
	return 0;
fail:
	pr_err("vCPU %u: cannot set up: %s", id, strerror(-err));
	kvm_cpu__destroy(cpu);
	return err;
}

u64 *kvm_cpu__mpidrs(struct kvm *kvm)
{
	u64 *mpidrs = calloc(kvm->nr_cpus, sizeof(*mpidrs));

	for (unsigned int i = 0; mpidrs && i < kvm->nr_cpus; i++)
		mpidrs[i] = kvm->cpus[i]->mpidr;
	return mpidrs;
}

void kvm_cpu__destroy(struct kvm_cpu *cpu)
{
	if (cpu->run)
		munmap(cpu->run, cpu->kvm->run_size);
	close(cpu->fd);
	free(cpu);
}

/* The 32-bit ARM boot protocol: SVC mode, r0 = 0, r1 = machine type ~0 (a DT), r2 = the DTB. */
static int kvm_cpu__set_boot_regs32(struct kvm_cpu *cpu, u64 pc, u64 fdt_addr)
{
	int err = kvm_cpu__set_reg(cpu, REG_PSTATE, AA32_BOOT_PSTATE);

	if (!err)
		err = kvm_cpu__set_reg(cpu, REG_PC, pc);
	if (!err)
		err = kvm_cpu__set_reg(cpu, REG_X(0), 0);
	if (!err)
		err = kvm_cpu__set_reg(cpu, REG_X(1), 0xffffffffULL);
	if (!err)
		err = kvm_cpu__set_reg(cpu, REG_X(2), fdt_addr);
	return err;
}

int kvm_cpu__set_boot_regs(struct kvm_cpu *cpu, u64 pc, u64 fdt_addr)
{
	int err = 0;

	if (cpu->kvm->cfg->aarch32) {
		err = kvm_cpu__set_boot_regs32(cpu, pc, fdt_addr);
	} else {
		err = kvm_cpu__set_reg(cpu, REG_PC, pc);
		if (!err)
			err = kvm_cpu__set_reg(cpu, REG_X(0), fdt_addr);
		for (int i = 1; i < 4 && !err; i++)
			err = kvm_cpu__set_reg(cpu, REG_X(i), 0);
	}
	if (err)
		pr_err("vCPU %u: cannot set boot registers: %s", cpu->id, strerror(-err));
	return err;
}

static void kvm_cpu__handle_mmio(struct kvm_cpu *cpu)
{
	struct kvm_run *run = cpu->run;

	mmio__access(&cpu->kvm->mmio, run->mmio.phys_addr, run->mmio.data, run->mmio.len,
		     run->mmio.is_write);
	cpu->exit_unfinished = true;
}

static void kvm_cpu__handle_system_event(struct kvm_cpu *cpu)
{
	switch (cpu->run->system_event.type) {
	case KVM_SYSTEM_EVENT_SHUTDOWN:
		kvm__request_stop(cpu->kvm, VM_STOP_POWEROFF);
		break;
	case KVM_SYSTEM_EVENT_RESET:
		kvm__request_stop(cpu->kvm, VM_STOP_RESET);
		break;
	case KVM_SYSTEM_EVENT_CRASH:
		kvm__request_stop(cpu->kvm, VM_STOP_CRASH);
		break;
	case KVM_SYSTEM_EVENT_WAKEUP:
		/* Only lkvm's PSCI suspends vCPUs in KVM, and only it is woken so. */
		if (!cpu->kvm->power || cpu->kvm->power->wakeup(cpu))
			kvm__request_stop(cpu->kvm, VM_STOP_ERROR);
		break;
	default:
		pr_warn("vCPU %u: ignoring system event %u", cpu->id, cpu->run->system_event.type);
		break;
	}
}

/* Returns false when the vCPU cannot go on and the VM must stop. */
static bool kvm_cpu__handle_exit(struct kvm_cpu *cpu)
{
	struct kvm_run *run = cpu->run;

	switch (run->exit_reason) {
	case KVM_EXIT_MMIO:
		kvm_cpu__handle_mmio(cpu);
		return true;
	case KVM_EXIT_SYSTEM_EVENT:
		kvm_cpu__handle_system_event(cpu);
		return true;
	case KVM_EXIT_HYPERCALL:
		return hypercall__handle(cpu) == 0;
	case KVM_EXIT_INTR:
		return true;
	case KVM_EXIT_ARM_NISV:
		pr_err("vCPU %u: guest made an MMIO access KVM cannot decode at 0x%llx",
		       cpu->id, (unsigned long long)run->arm_nisv.fault_ipa);
		return false;
	case KVM_EXIT_FAIL_ENTRY:
		pr_err("vCPU %u: KVM could not enter the guest (reason 0x%llx)", cpu->id,
		       (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
		return false;
	default:
		pr_err("vCPU %u: unexpected KVM exit %u", cpu->id, run->exit_reason);
		return false;
	}
}

static void *kvm_cpu__thread(void *arg)
{
	struct kvm_cpu *cpu = arg;
	sigset_t kick;
	int err;

	sigemptyset(&kick);
	sigaddset(&kick, SIG_KICK);
	pthread_sigmask(SIG_UNBLOCK, &kick, NULL);
	while (!kvm__stopping(cpu->kvm)) {
		kvm__wait_unpaused(cpu->kvm);
		if (cpu->kvm->power && cpu->power_check) {
			if (!cpu->kvm->power->before_run(cpu))
				break;
			cpu->power_check = false;
		}
		/*
		 * An SDEI event for this vCPU: entered here, on its own thread (sdei-kvm.c). KVM
		 * finishes an MMIO access (its register, the PC) only at the next KVM_RUN: an
		 * immediate exit does that first, so that the context saved is the real one.
		 */
		if (cpu->kvm->sdei && sdei__may_dispatch(cpu->kvm->sdei, cpu->id)) {
			if (cpu->exit_unfinished)
				cpu->run->immediate_exit = 1;
			else if (!sdei_kvm__before_run(cpu))
				break;
		}
		err = ioctl(cpu->fd, KVM_RUN, 0);
		cpu->exit_unfinished = false;
		if (err < 0) {
			if (errno == EINTR || errno == EAGAIN) {
				/* A kick: whoever kicked set its reason first, the loop looks at it. */
				cpu->run->immediate_exit = 0;
				atomic_thread_fence(memory_order_seq_cst);
				continue;
			}
			pr_err("vCPU %u: KVM_RUN failed: %s", cpu->id, strerror(errno));
			break;
		}
		if (!kvm_cpu__handle_exit(cpu))
			break;
	}
	/* Whatever ended the loop, the VM cannot run without this vCPU. */
	kvm__request_stop(cpu->kvm, VM_STOP_ERROR);
	return NULL;
}

int kvm_cpu__start(struct kvm_cpu *cpu)
{
	const struct lkvm_config *cfg = cpu->kvm->cfg;
	pthread_attr_t attr;
	char name[16];
	int err = pthread_attr_init(&attr);

	/* --vcpu-affinity: the thread starts where it may run, before its first KVM_RUN. */
	if (!err && cfg->pin_vcpus)
		err = pthread_attr_setaffinity_np(&attr, sizeof(cfg->vcpu_affinity),
						  &cfg->vcpu_affinity);
	if (!err)
		err = pthread_create(&cpu->thread, &attr, kvm_cpu__thread, cpu);
	pthread_attr_destroy(&attr);
	if (err == EINVAL && cfg->pin_vcpus) {
		pr_err("--vcpu-affinity: vCPU %u cannot run there: none of those host CPUs is "
		       "online", cpu->id);
		return -err;
	}
	if (err) {
		pr_err("vCPU %u: cannot start its thread: %s", cpu->id, strerror(err));
		return -err;
	}
	/* For top -H, and for scripts that check where vCPUs run. */
	snprintf(name, sizeof(name), "vcpu%u", cpu->id);
	pthread_setname_np(cpu->thread, name);
	cpu->thread_started = true;
	return 0;
}

void kvm_cpu__kick(struct kvm_cpu *cpu)
{
	if (!cpu->thread_started)
		return;
	/* immediate_exit covers a thread that is about to enter KVM_RUN; the signal one inside it. */
	cpu->run->immediate_exit = 1;
	pthread_kill(cpu->thread, SIG_KICK);
}

void kvm_cpu__join(struct kvm_cpu *cpu)
{
	if (!cpu->thread_started)
		return;
	pthread_join(cpu->thread, NULL);
	cpu->thread_started = false;
}

static void kvm_cpu__kick_handler(int sig)
{
	(void)sig;
}

int kvm_cpu__init_signals(void)
{
	struct sigaction sa = { .sa_handler = kvm_cpu__kick_handler };
	sigset_t kick;

	/* No SA_RESTART: KVM_RUN must return EINTR. Blocked except in vCPU threads. */
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIG_KICK, &sa, NULL))
		return -errno;
	sigemptyset(&kick);
	sigaddset(&kick, SIG_KICK);
	return -pthread_sigmask(SIG_BLOCK, &kick, NULL);
}
