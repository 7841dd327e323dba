/*
 * One dispatcher for the SMCCC calls KVM forwards to lkvm (KVM_EXIT_HYPERCALL). From the
 * registered services (firmware.h) and the configuration, each VM installs in KVM's SMCCC filter
 * exactly the ranges lkvm answers or denies, before any vCPU runs; the dispatcher then reads only
 * the argument registers a call needs, and writes back the results, narrowed to 32 bits for SMC32
 * calls. Unowned calls never reach lkvm.
 */
#ifndef LKVM_HYPERCALL_H
#define LKVM_HYPERCALL_H

#include "lkvm/firmware.h"

#define HC_MAX_ARGS		5	/* x1..x5: SDEI's EVENT_REGISTER takes five */
#define HC_MAX_SERVICES		16

struct hc_call {
	u32 fid;
	bool smc;		/* made with SMC rather than HVC */
	u64 arg[HC_MAX_ARGS + 1];	/* arg[n] = xn; arg[0] unused */
	u64 res[4];		/* x0..x3 */
};

/* A VM's routes: its ranges lkvm answers (FW_LKVM) or KVM denies (FW_DENIED), in ID order. */
struct hypercall_table {
	struct fw_range routes[FW_MAX_RANGES];
	unsigned int nr_routes;
	const struct fw_service *set_up[HC_MAX_SERVICES];	/* in set-up order */
	unsigned int nr_set_up;
};

/*
 * Fills t with cfg's routes; filter: whether the host's KVM has the SMCCC filter (without it,
 * optional services are absent and the others an error). Returns 0 or < 0, reported.
 */
int hypercall__routes(struct hypercall_table *t, const struct lkvm_config *cfg, bool filter);
/* The service that answers fid in t, or NULL if lkvm answers none there. */
const struct fw_service *hypercall__owner(const struct hypercall_table *t, u32 fid);
/* Handles a KVM_EXIT_HYPERCALL on this vCPU's thread. Returns 0, or < 0 if the vCPU must stop. */
int hypercall__handle(struct kvm_cpu *cpu);

#endif
