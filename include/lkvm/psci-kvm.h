/* The vCPU run loop's hooks into lkvm's PSCI (--psci=user); no-ops under in-kernel PSCI. */
#ifndef LKVM_PSCI_KVM_H
#define LKVM_PSCI_KVM_H

#include "lkvm/util.h"

struct kvm;
struct kvm_cpu;

/* Before each KVM_RUN: waits while the vCPU is off, resets it if CPU_ON asks. False: stop. */
bool psci_kvm__before_run(struct kvm_cpu *cpu);
/* KVM_SYSTEM_EVENT_WAKEUP: the vCPU left a suspend state. */
int psci_kvm__wakeup(struct kvm_cpu *cpu);
/* Releases vCPU threads waiting to be turned on, so that the VM can stop. */
void psci_kvm__stop(struct kvm *kvm);

#endif
