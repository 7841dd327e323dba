/*
 * KVM uapi definitions newer than the build host's headers (Debian 12 ships Linux 6.1's).
 * Values from Linux 6.12 include/uapi; each guarded so newer headers win.
 */
#ifndef LKVM_KVM_COMPAT_H
#define LKVM_KVM_COMPAT_H

#include <linux/kvm.h>

#ifndef KVM_ARM_VM_SMCCC_CTRL
#define KVM_ARM_VM_SMCCC_CTRL		0
#define KVM_ARM_VM_SMCCC_FILTER		0

enum kvm_smccc_filter_action {
	KVM_SMCCC_FILTER_HANDLE = 0,
	KVM_SMCCC_FILTER_DENY,
	KVM_SMCCC_FILTER_FWD_TO_USER,
};

struct kvm_smccc_filter {
	__u32 base;
	__u32 nr_functions;
	__u8 action;
	__u8 pad[15];
};
#endif

#ifndef KVM_HYPERCALL_EXIT_SMC
#define KVM_HYPERCALL_EXIT_SMC		(1U << 0)
#define KVM_HYPERCALL_EXIT_16BIT	(1U << 1)
#endif

/*
 * Nested virtualisation: the vCPU feature is in Linux 6.1's uapi for an ABI KVM did not yet
 * offer; the capability that says KVM offers it came with Linux 6.16 (so not in 6.12, which
 * answers 0 for it, as for any unknown capability).
 */
#ifndef KVM_ARM_VCPU_HAS_EL2
#define KVM_ARM_VCPU_HAS_EL2		7
#endif
#ifndef KVM_CAP_ARM_EL2
#define KVM_CAP_ARM_EL2			240
#endif

/* 6.4 turned hypercall.longmode into a union with flags; longmode names its low word in both. */
#define KVM_HYPERCALL_FLAGS(run)	((run)->hypercall.longmode)

#endif
