/*
 * One dispatcher for the SMCCC calls KVM forwards to lkvm (KVM_EXIT_HYPERCALL). Services
 * register the function-ID ranges they own; the dispatcher installs exactly those in KVM's SMCCC
 * filter before any vCPU runs, reads only the argument registers a call needs, and writes back
 * the results, narrowed to 32 bits for SMC32 calls. Unowned calls never reach lkvm.
 */
#ifndef LKVM_HYPERCALL_H
#define LKVM_HYPERCALL_H

#include "lkvm/util.h"

struct kvm;
struct kvm_cpu;

#define SMCCC_RET_NOT_SUPPORTED	((u64)-1)
#define HC_MAX_ARGS		3	/* x1..x3: all SMCCC 1.1 calls need */
#define HC_MAX_SERVICES		8

struct hc_range {
	u32 base;
	u32 nr;
};

struct hc_call {
	u32 fid;
	bool smc;		/* made with SMC rather than HVC */
	u64 arg[HC_MAX_ARGS + 1];	/* arg[n] = xn; arg[0] unused */
	u64 res[4];		/* x0..x3 */
};

struct hypercall_service {
	const char *name;
	const struct hc_range *ranges;		/* forwarded to the service */
	unsigned int nr_ranges;
	const struct hc_range *deny;		/* answered NOT_SUPPORTED by KVM itself */
	unsigned int nr_deny;
	/* Argument registers (x1..xN) the call needs. */
	unsigned int (*nr_args)(u32 fid);
	/* Handles the call; returns how many of res[0..3] to write back, 0 if it does not return. */
	unsigned int (*call)(struct kvm_cpu *cpu, struct hc_call *call);
	/* Without KVM's SMCCC filter the service is quietly absent, instead of an error. */
	bool optional;
};

struct hypercall_table {
	const struct hypercall_service *services[HC_MAX_SERVICES];
	unsigned int nr_services;
};

/* Adds a service to the VM; its ranges are forwarded to lkvm once the VM is set up. */
int hypercall__register(struct kvm *kvm, const struct hypercall_service *svc);
/* Handles a KVM_EXIT_HYPERCALL on this vCPU's thread. Returns 0, or < 0 if the vCPU must stop. */
int hypercall__handle(struct kvm_cpu *cpu);

#endif
