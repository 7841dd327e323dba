/* --smccc FID[-FID]:ignore|deny|unsupported: what firmware calls no service owns get. */
#include "lkvm/hypercall.h"
#include "lkvm/kvm-cpu.h"
#include "lkvm/kvm.h"

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
			c->res[0] = cfg->smccc[i].action == SMCCC_IGNORE ? 0 : SMCCC_RET_DENIED;
	}
	return 1;
}

/* ignore and deny: lkvm answers; unsupported: KVM answers NOT_SUPPORTED, without an exit. */
static unsigned int smccc_rules__ranges(const struct lkvm_config *cfg, struct fw_range *out,
					unsigned int max)
{
	static const char *const actions[] = { "--smccc ignore: x0 = 0", "--smccc deny: x0 = -3",
					       "--smccc unsupported: x0 = -1" };

	for (unsigned int i = 0; i < cfg->nr_smccc && i < max; i++) {
		const struct smccc_rule *rule = &cfg->smccc[i];

		out[i] = (struct fw_range){
			.first = rule->first, .last = rule->last, .what = actions[rule->action],
			.owner = rule->action == SMCCC_UNSUPPORTED ? FW_DENIED : FW_LKVM,
		};
	}
	return cfg->nr_smccc;
}

static const struct fw_service smccc_rules = {
	.name = "--smccc",
	.config_ranges = smccc_rules__ranges,
	.nr_args = smccc_rules__nr_args,
	.call = smccc_rules__call,
};
firmware_service(smccc_rules)
