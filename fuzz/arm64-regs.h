/*
 * arm64's core register IDs (<asm/kvm.h> of arm64) for the sources that name them, built on the
 * fuzzing host, whose <linux/kvm.h> is its own architecture's: the same layout under another
 * struct name, so that the IDs those sources compute are arm64's own.
 */
#ifndef FUZZ_ARM64_REGS_H
#define FUZZ_ARM64_REGS_H

#include <linux/kvm.h>

#ifndef __aarch64__
#define KVM_REG_ARM_CORE	(0x0010 << 16)
#define KVM_SPSR_EL1		0
#define KVM_NR_SPSR		5

struct fuzz_arm64_regs {
	struct {
		__u64 regs[31];
		__u64 sp;
		__u64 pc;
		__u64 pstate;
	} regs;
	__u64 sp_el1;
	__u64 elr_el1;
	__u64 spsr[KVM_NR_SPSR];
};
#define kvm_regs fuzz_arm64_regs
#endif

#endif
