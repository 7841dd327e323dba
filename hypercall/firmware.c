#include "lkvm/firmware.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FN64 (1U << 30)

static const struct fw_range arch_ranges[] = {
	{ 0x80000000, 0x8000ffff, FW_KVM, "Arm architecture calls (always KVM's)" },
	{ 0xc0000000, 0xc000ffff, FW_KVM, "Arm architecture calls (always KVM's)" },
};

static void add(struct fw_range *out, unsigned int *n, unsigned int max, u32 first, u32 last,
		enum fw_owner owner, const char *what)
{
	if (*n < max)
		out[(*n)++] = (struct fw_range){ first, last, owner, what };
}

/* A 32-bit range and its 64-bit twin. */
static void add2(struct fw_range *out, unsigned int *n, unsigned int max, u32 first, u32 last,
		 enum fw_owner owner, const char *what)
{
	add(out, n, max, first, last, owner, what);
	add(out, n, max, first | FN64, last | FN64, owner, what);
}

static int cmp_range(const void *a, const void *b)
{
	const struct fw_range *x = a, *y = b;

	return x->first < y->first ? -1 : x->first > y->first;
}

unsigned int firmware__ranges(const struct lkvm_config *cfg, struct fw_range *out, unsigned int max)
{
	static const char *const actions[] = { "--smccc ignore: x0 = 0", "--smccc deny: x0 = -3",
					       "--smccc unsupported: x0 = -1" };
	unsigned int n = 0;

	for (size_t i = 0; i < ARRAY_SIZE(arch_ranges); i++)
		add(out, &n, max, arch_ranges[i].first, arch_ranges[i].last, FW_KVM, arch_ranges[i].what);
	add2(out, &n, max, 0x84000000, 0x8400001f, cfg->psci == PSCI_USER ? FW_LKVM : FW_KVM, "PSCI");
	if (cfg->psci == PSCI_USER)
		add(out, &n, max, 0x95c1ba5e, 0x95c1ba61, FW_DENIED, "PSCI 0.1 (legacy IDs)");
	add2(out, &n, max, 0x84000050, 0x8400005f,
	     cfg->trng == TRNG_USER ? FW_LKVM : cfg->trng == TRNG_OFF ? FW_DENIED : FW_KVM, "TRNG");
	add2(out, &n, max, 0x86000000, 0x8600007f, FW_KVM, "KVM's vendor hypervisor services");
	add2(out, &n, max, 0x86000080, 0x8600008f, FW_LKVM, "lkvm calls (UID, VERSION, EXIT, LOG)");
	add2(out, &n, max, 0x8600ff00, 0x8600ffff, FW_KVM, "KVM's vendor hypervisor UID and count");
	for (unsigned int i = 0; i < cfg->nr_smccc; i++)
		add(out, &n, max, cfg->smccc[i].first, cfg->smccc[i].last,
		    cfg->smccc[i].action == SMCCC_UNSUPPORTED ? FW_DENIED : FW_LKVM,
		    actions[cfg->smccc[i].action]);
	qsort(out, n, sizeof(*out), cmp_range);
	return n;
}

static int parse_fid(const char *s, char **end, u32 *out)
{
	unsigned long long v;

	if (strncmp(s, "0x", 2) && strncmp(s, "0X", 2))
		return -EINVAL;
	v = strtoull(s + 2, end, 16);
	if (*end == s + 2 || v > 0xffffffffULL)
		return -EINVAL;
	*out = (u32)v;
	return 0;
}

int firmware__parse_rule(const char *spec, struct smccc_rule *rule, const char **why)
{
	static const char *const actions[] = { "ignore", "deny", "unsupported" };
	char *end;

	*why = "expected FID[-FID]:ignore|deny|unsupported, FIDs in hex as 0x82000001";
	if (parse_fid(spec, &end, &rule->first))
		return -EINVAL;
	rule->last = rule->first;
	if (*end == '-' && parse_fid(end + 1, &end, &rule->last))
		return -EINVAL;
	if (*end++ != ':')
		return -EINVAL;
	if (rule->last < rule->first) {
		*why = "the range ends before it starts";
		return -EINVAL;
	}
	for (size_t i = 0; i < ARRAY_SIZE(actions); i++) {
		if (!strcmp(end, actions[i])) {
			rule->action = (enum smccc_action)i;
			return 0;
		}
	}
	*why = "the action is one of ignore, deny, unsupported";
	return -EINVAL;
}

static bool overlap(u32 a1, u32 a2, u32 b1, u32 b2)
{
	return a1 <= b2 && b1 <= a2;
}

int firmware__check_rules(const struct lkvm_config *cfg, char *why, size_t len)
{
	struct lkvm_config services = *cfg;
	struct fw_range r[32];
	unsigned int n;

	/* What the services own, without the rules themselves. */
	services.nr_smccc = 0;
	n = firmware__ranges(&services, r, ARRAY_SIZE(r));
	for (unsigned int i = 0; i < cfg->nr_smccc; i++) {
		const struct smccc_rule *a = &cfg->smccc[i];

		for (unsigned int j = 0; j < i; j++) {
			if (overlap(a->first, a->last, cfg->smccc[j].first, cfg->smccc[j].last)) {
				snprintf(why, len, "0x%08x-0x%08x overlaps another --smccc range",
					 a->first, a->last);
				return -EINVAL;
			}
		}
		/* Every range in the table is some service's, KVM's or lkvm's: none is up for grabs. */
		for (unsigned int j = 0; j < n; j++) {
			if (overlap(a->first, a->last, r[j].first, r[j].last)) {
				snprintf(why, len, "0x%08x-0x%08x overlaps %s (0x%08x-0x%08x)", a->first,
					 a->last, r[j].what, r[j].first, r[j].last);
				return -EINVAL;
			}
		}
	}
	return 0;
}

void firmware__print(const struct lkvm_config *cfg)
{
	static const char *const owners[] = { "kvm", "lkvm", "denied" };
	struct fw_range r[32];
	unsigned int n = firmware__ranges(cfg, r, ARRAY_SIZE(r));

	printf("%-23s %-7s %s\n", "FUNCTION IDS", "WHO", "WHAT");
	for (unsigned int i = 0; i < n; i++)
		printf("0x%08x-0x%08x  %-7s %s\n", r[i].first, r[i].last, owners[r[i].owner], r[i].what);
	printf("%-23s %-7s %s\n", "anything else", "kvm", "KVM's answer (NOT_SUPPORTED if it has none)");
}
