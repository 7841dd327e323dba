/* vCPUs: one thread each, running KVM_RUN and handling its exits. */
#ifndef LKVM_KVM_CPU_H
#define LKVM_KVM_CPU_H

#include <pthread.h>
#include <linux/kvm.h>

#include "lkvm/config.h"
#include "lkvm/util.h"

struct kvm;

struct kvm_cpu {
	struct kvm *kvm;
	unsigned int id;
	int fd;
	struct kvm_run *run;
	u64 mpidr;
	pthread_t thread;
	bool thread_started;
	/* Only this vCPU's thread uses it: consult lkvm's PSCI before the next KVM_RUN. */
	bool power_check;
	bool is_reset;		/* reset and not run since: CPU_ON need not reset it again */
	/* Only its thread: KVM completes the last exit (MMIO) at the next KVM_RUN. */
	bool exit_unfinished;
	u32 features;		/* KVM_ARM_VCPU_INIT's, kept for every reset */
};

/* Creates vCPU id, initialised (powered off unless it is the boot vCPU). */
int kvm_cpu__create(struct kvm *kvm, unsigned int id, struct kvm_cpu **out);
void kvm_cpu__destroy(struct kvm_cpu *cpu);
/* Every vCPU's MPIDR, in a new array (free it), or NULL: for lkvm's PSCI and SDEI. */
u64 *kvm_cpu__mpidrs(struct kvm *kvm);
/* Sets the boot vCPU's entry registers: PC and x0..x3 as the arm64 boot protocol wants. */
int kvm_cpu__set_boot_regs(struct kvm_cpu *cpu, u64 pc, u64 fdt_addr);
/* Resets the vCPU (KVM_ARM_VCPU_INIT), unless it is fresh from a reset already. */
int kvm_cpu__reset(struct kvm_cpu *cpu);
/* Resets the vCPU if needed and sets it to run from pc with x0: PSCI CPU_ON's entry state. */
int kvm_cpu__enter_at(struct kvm_cpu *cpu, u64 pc, u64 x0);

int kvm_cpu__start(struct kvm_cpu *cpu);
/*
 * Makes the vCPU leave KVM_RUN (or not enter it) once: its thread then looks again at why it
 * should not run (the VM stops or pauses). kvm_cpu__join waits for the thread to end.
 */
void kvm_cpu__kick(struct kvm_cpu *cpu);
void kvm_cpu__join(struct kvm_cpu *cpu);

int kvm_cpu__get_reg(struct kvm_cpu *cpu, u64 id, u64 *val);
int kvm_cpu__set_reg(struct kvm_cpu *cpu, u64 id, u64 val);

/*
 * vCPU features (Documentation/vcpu-features.md). Parses --sve-max-vl BITS into quadwords:
 * 0, or -EINVAL with why set.
 */
int kvm_cpu__parse_sve_vl(const char *val, unsigned int *vq, const char **why);
/* Checks the feature options against each other, once all are read: 0, or -EINVAL with why. */
int kvm_cpu__check_features(const struct lkvm_config *cfg, char *why, size_t len);

/* Installs the signal used to kick vCPUs out of KVM_RUN; call once per process. */
int kvm_cpu__init_signals(void);

#endif
