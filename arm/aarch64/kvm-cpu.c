/* arm64 vCPUs: creation, registers, and the thread that runs each one. */
#include "lkvm/kvm-cpu.h"
#include "lkvm/hypercall.h"
#include "lkvm/kvm.h"

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
#define REG_MPIDR_EL1	ARM64_SYS_REG(3, 0, 0, 0, 5)

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
	init.features[0] = 1U << KVM_ARM_VCPU_PSCI_0_2;
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
	if (!err)
		err = kvm_cpu__set_reg(cpu, REG_PC, pc);
	if (!err)
		err = kvm_cpu__set_reg(cpu, REG_X(0), x0);
	return err;
}

int kvm_cpu__create(struct kvm *kvm, unsigned int id, struct kvm_cpu **out)
{
	struct kvm_cpu *cpu = calloc(1, sizeof(*cpu));
	int err;

	if (!cpu)
		return -ENOMEM;
	cpu->kvm = kvm;
	cpu->id = id;
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
	*out = cpu;
	return 0;
fail:
	pr_err("vCPU %u: cannot set up: %s", id, strerror(-err));
	kvm_cpu__destroy(cpu);
	return err;
}

void kvm_cpu__destroy(struct kvm_cpu *cpu)
{
	if (cpu->run)
		munmap(cpu->run, cpu->kvm->run_size);
	close(cpu->fd);
	free(cpu);
}

int kvm_cpu__set_boot_regs(struct kvm_cpu *cpu, u64 pc, u64 fdt_addr)
{
	int err = kvm_cpu__set_reg(cpu, REG_PC, pc);

	if (!err)
		err = kvm_cpu__set_reg(cpu, REG_X(0), fdt_addr);
	for (int i = 1; i < 4 && !err; i++)
		err = kvm_cpu__set_reg(cpu, REG_X(i), 0);
	if (err)
		pr_err("vCPU %u: cannot set boot registers: %s", cpu->id, strerror(-err));
	return err;
}

static void kvm_cpu__handle_mmio(struct kvm_cpu *cpu)
{
	struct kvm_run *run = cpu->run;

	mmio__access(&cpu->kvm->mmio, run->mmio.phys_addr, run->mmio.data, run->mmio.len,
		     run->mmio.is_write);
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
		if (ioctl(cpu->fd, KVM_RUN, 0) < 0) {
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
