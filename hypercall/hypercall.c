#include "lkvm/hypercall.h"
#include "lkvm/init.h"
#include "lkvm/kvm-compat.h"
#include "lkvm/kvm-cpu.h"
#include "lkvm/kvm.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#define REG_X(n) (KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM_CORE | \
		  (offsetof(struct kvm_regs, regs.regs[0]) / sizeof(u32) + 2 * (n)))
#define SMCCC_FN64 (1U << 30)

int hypercall__register(struct kvm *kvm, const struct hypercall_service *svc)
{
	struct hypercall_table *t = &kvm->hypercalls;

	if (t->nr_services == ARRAY_SIZE(t->services)) {
		pr_err("%s: too many firmware call services", svc->name);
		return -ENOSPC;
	}
	t->services[t->nr_services++] = svc;
	return 0;
}

static int hypercall__filter(struct kvm *kvm, const struct hc_range *r, u8 action,
			     const char *name)
{
	struct kvm_smccc_filter f = { .base = r->base, .nr_functions = r->nr, .action = action };
	struct kvm_device_attr attr = {
		.group = KVM_ARM_VM_SMCCC_CTRL, .attr = KVM_ARM_VM_SMCCC_FILTER,
		.addr = (u64)(uintptr_t)&f,
	};

	if (ioctl(kvm->vm_fd, KVM_SET_DEVICE_ATTR, &attr)) {
		int err = -errno;

		pr_err("%s: cannot route SMCCC calls 0x%08x-0x%08x: %s", name, r->base,
		       r->base + r->nr - 1, strerror(-err));
		return err;
	}
	return 0;
}

/* Installs every service's ranges in KVM's SMCCC filter: must precede the first KVM_RUN. */
static int hypercall__install(struct kvm *kvm)
{
	struct hypercall_table *t = &kvm->hypercalls;
	struct kvm_device_attr probe = {
		.group = KVM_ARM_VM_SMCCC_CTRL, .attr = KVM_ARM_VM_SMCCC_FILTER,
	};
	int err = 0;

	bool filter = !ioctl(kvm->vm_fd, KVM_HAS_DEVICE_ATTR, &probe);

	for (unsigned int i = 0; i < t->nr_services && !err; i++) {
		const struct hypercall_service *s = t->services[i];

		if (!filter && s->optional)
			continue;
		if (!filter) {
			pr_err("%s: this host's KVM cannot forward firmware calls to lkvm "
			       "(the SMCCC filter needs Linux 6.4 or later)", s->name);
			return -ENODEV;
		}

		for (unsigned int r = 0; r < s->nr_ranges && !err; r++)
			err = hypercall__filter(kvm, &s->ranges[r], KVM_SMCCC_FILTER_FWD_TO_USER,
						s->name);
		for (unsigned int r = 0; r < s->nr_deny && !err; r++)
			err = hypercall__filter(kvm, &s->deny[r], KVM_SMCCC_FILTER_DENY, s->name);
	}
	return err;
}
late_init(hypercall__install, NULL)

static const struct hypercall_service *hypercall__owner(struct kvm *kvm, u32 fid)
{
	struct hypercall_table *t = &kvm->hypercalls;

	for (unsigned int i = 0; i < t->nr_services; i++) {
		const struct hypercall_service *s = t->services[i];

		for (unsigned int r = 0; r < s->nr_ranges; r++) {
			if (fid - s->ranges[r].base < s->ranges[r].nr)
				return s;
		}
	}
	return NULL;
}

static void hypercall__trace(struct kvm_cpu *cpu, const struct hc_call *c, unsigned int nr_args,
			     unsigned int nr_res)
{
	char args[64] = "", res[80] = "does not return";
	size_t n = 0;

	for (unsigned int i = 1; i <= nr_args && i <= HC_MAX_ARGS; i++)
		n += (size_t)snprintf(args + n, sizeof(args) - n, "%s0x%" PRIx64, i > 1 ? ", " : "",
				      c->arg[i]);
	for (unsigned int i = 0, m = 0; i < nr_res && i < 4; i++)
		m += (size_t)snprintf(res + m, sizeof(res) - m, "%s0x%" PRIx64, i ? " " : "",
				      c->res[i]);
	pr_trace("firmware: vCPU %u %s 0x%08x(%s) = %s", cpu->id, c->smc ? "SMC" : "HVC", c->fid,
		 args, res);
}

int hypercall__handle(struct kvm_cpu *cpu)
{
	struct kvm_run *run = cpu->run;
	struct hc_call call = {
		.fid = (u32)run->hypercall.nr,
		.smc = KVM_HYPERCALL_FLAGS(run) & KVM_HYPERCALL_EXIT_SMC,
		.res = { SMCCC_RET_NOT_SUPPORTED },
	};
	const struct hypercall_service *svc = hypercall__owner(cpu->kvm, call.fid);
	unsigned int nr_args = 0, nr_res = 1;
	int err = 0;

	/* KVM forwards only what lkvm asked for; anything else is a KVM bug, answered as unknown. */
	if (svc)
		nr_args = svc->nr_args(call.fid);
	for (unsigned int i = 1; i <= nr_args && i <= HC_MAX_ARGS && !err; i++)
		err = kvm_cpu__get_reg(cpu, REG_X(i), &call.arg[i]);
	if (err) {
		pr_err("vCPU %u: cannot read the arguments of call 0x%08x: %s", cpu->id, call.fid,
		       strerror(-err));
		return err;
	}
	if (svc)
		nr_res = svc->call(cpu, &call);
	if (cpu->kvm->cfg->debug_firmware)
		hypercall__trace(cpu, &call, nr_args, nr_res);
	/* PC already points past the HVC/SMC: only the results are ours to write. */
	for (unsigned int i = 0; i < nr_res && i < 4 && !err; i++) {
		u64 v = call.fid & SMCCC_FN64 ? call.res[i] : call.res[i] & 0xffffffffULL;

		err = kvm_cpu__set_reg(cpu, REG_X(i), v);
	}
	if (err)
		pr_err("vCPU %u: cannot return the result of call 0x%08x: %s", cpu->id, call.fid,
		       strerror(-err));
	return err;
}
