/* --smccc FID[-FID]:ignore|deny|unsupported: what firmware calls no service owns get. */
#include "lkvm/hypercall.h"
#include "lkvm/init.h"
#include "lkvm/kvm-cpu.h"
#include "lkvm/kvm.h"

#include <errno.h>
#include <stdlib.h>

struct smccc_rules {
	struct hypercall_service svc;
	struct hc_range fwd[MAX_SMCCC_RULES];	/* ignore, deny: lkvm answers */
	struct hc_range deny[MAX_SMCCC_RULES];	/* unsupported: KVM answers NOT_SUPPORTED */
};

static unsigned int smccc_rules__nr_args(u32 fid)
{
	(void)fid;
	return 0;
}

static unsigned int smccc_rules__call(struct kvm_cpu *cpu, struct hc_call *c)
{
	const struct lkvm_config *cfg = cpu->kvm->cfg;

	c->res[0] = SMCCC_RET_NOT_SUPPORTED;
	for (unsigned int i = 0; i < cfg->nr_smccc; i++) {
		if (c->fid >= cfg->smccc[i].first && c->fid <= cfg->smccc[i].last)
			c->res[0] = cfg->smccc[i].action == SMCCC_IGNORE ? 0 : (u64)-3;
	}
	return 1;
}

static void smccc_rules__exit(struct kvm *kvm)
{
	free(kvm->smccc_rules);
	kvm->smccc_rules = NULL;
}

static int smccc_rules__init(struct kvm *kvm)
{
	const struct lkvm_config *cfg = kvm->cfg;
	struct smccc_rules *r;
	int err;

	if (!cfg->nr_smccc)
		return 0;
	r = calloc(1, sizeof(*r));
	if (!r) {
		pr_err("--smccc: out of memory");
		return -ENOMEM;
	}
	r->svc = (struct hypercall_service){
		.name = "--smccc", .ranges = r->fwd, .deny = r->deny,
		.nr_args = smccc_rules__nr_args, .call = smccc_rules__call,
	};
	for (unsigned int i = 0; i < cfg->nr_smccc; i++) {
		const struct smccc_rule *rule = &cfg->smccc[i];
		struct hc_range range = { rule->first, rule->last - rule->first + 1 };

		if (rule->action == SMCCC_UNSUPPORTED)
			r->deny[r->svc.nr_deny++] = range;
		else
			r->fwd[r->svc.nr_ranges++] = range;
	}
	kvm->smccc_rules = r;
	err = hypercall__register(kvm, &r->svc);
	if (err)
		smccc_rules__exit(kvm);
	return err;
}

dev_init(smccc_rules__init, smccc_rules__exit)
