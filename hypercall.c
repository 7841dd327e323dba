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

int hypercall__routes(struct hypercall_table *t, const struct lkvm_config *cfg, bool filter)
{
	struct fw_range r[FW_MAX_RANGES];
	unsigned int n = firmware__ranges(cfg, r, FW_MAX_RANGES);

	t->nr_routes = 0;
	if (n > FW_MAX_RANGES) {
		pr_err("firmware calls: more than %u ranges to route", FW_MAX_RANGES);
		return -E2BIG;
	}
	for (unsigned int i = 0; i < n; i++) {
		if (r[i].owner == FW_KVM || (!filter && r[i].svc->optional))
			continue;
		if (!filter) {
			pr_err("%s: this host's KVM cannot forward firmware calls to lkvm "
			       "(the SMCCC filter needs Linux 6.4 or later)", r[i].svc->name);
			return -ENODEV;
		}
		t->routes[t->nr_routes++] = r[i];
	}
	return 0;
}

/* Dispatch is on every forwarded call's path: a binary search of the VM's sorted routes. */
const struct fw_service *hypercall__owner(const struct hypercall_table *t, u32 fid)
{
	unsigned int lo = 0, hi = t->nr_routes;

	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;
		const struct fw_range *r = &t->routes[mid];

		if (fid < r->first)
			hi = mid;
		else if (fid > r->last)
			lo = mid + 1;
		else
			return r->owner == FW_LKVM ? r->svc : NULL;
	}
	return NULL;
}

static int hypercall__filter(struct kvm *kvm, const struct fw_range *r)
{
	struct kvm_smccc_filter f = {
		.base = r->first, .nr_functions = r->last - r->first + 1,
		.action = r->owner == FW_LKVM ? KVM_SMCCC_FILTER_FWD_TO_USER : KVM_SMCCC_FILTER_DENY,
	};
	struct kvm_device_attr attr = {
		.group = KVM_ARM_VM_SMCCC_CTRL, .attr = KVM_ARM_VM_SMCCC_FILTER,
		.addr = (u64)(uintptr_t)&f,
	};

	if (ioctl(kvm->vm_fd, KVM_SET_DEVICE_ATTR, &attr)) {
		int err = -errno;

		pr_err("%s: cannot route SMCCC calls 0x%08x-0x%08x: %s", r->svc->name, r->first,
		       r->last, strerror(-err));
		return err;
	}
	return 0;
}

static bool hypercall__answers(const struct hypercall_table *t, const struct fw_service *s)
{
	for (unsigned int i = 0; i < t->nr_routes; i++) {
		if (t->routes[i].svc == s && t->routes[i].owner == FW_LKVM)
			return true;
	}
	return false;
}

static void hypercall__exit(struct kvm *kvm)
{
	struct hypercall_table *t = &kvm->hypercalls;

	while (t->nr_set_up) {
		const struct fw_service *s = t->set_up[--t->nr_set_up];

		if (s->exit)
			s->exit(kvm);
	}
}

/* Sets up, in registration order, each service that answers some of this VM's calls. */
static int hypercall__set_up(struct kvm *kvm)
{
	struct hypercall_table *t = &kvm->hypercalls;

	for (const struct fw_registration *reg = firmware__services(); reg; reg = reg->next) {
		const struct fw_service *s = reg->svc;
		int err;

		if (!hypercall__answers(t, s))
			continue;
		if (t->nr_set_up == ARRAY_SIZE(t->set_up)) {
			pr_err("%s: too many firmware call services", s->name);
			return -ENOSPC;
		}
		err = s->init ? s->init(kvm) : 0;
		if (err)
			return err;
		t->set_up[t->nr_set_up++] = s;
	}
	return 0;
}

/* Sets up the services, then the SMCCC filter: it must precede the first KVM_RUN. */
static int hypercall__init(struct kvm *kvm)
{
	struct hypercall_table *t = &kvm->hypercalls;
	struct kvm_device_attr probe = {
		.group = KVM_ARM_VM_SMCCC_CTRL, .attr = KVM_ARM_VM_SMCCC_FILTER,
	};
	bool filter = !ioctl(kvm->vm_fd, KVM_HAS_DEVICE_ATTR, &probe);
	int err = hypercall__routes(t, kvm->cfg, filter);

	if (!err)
		err = hypercall__set_up(kvm);
	for (unsigned int i = 0; i < t->nr_routes && !err; i++)
		err = hypercall__filter(kvm, &t->routes[i]);
	if (err)
		hypercall__exit(kvm);
	return err;
}
firmware_init(hypercall__init, hypercall__exit)

static void hypercall__trace(struct kvm_cpu *cpu, const struct hc_call *c, unsigned int nr_args,
			     unsigned int nr_res)
{
	char args[112] = "", res[80] = "does not return";
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
	const struct fw_service *svc = hypercall__owner(&cpu->kvm->hypercalls, call.fid);
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
