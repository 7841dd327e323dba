/* The firmware-call routing table, derived from the registered services (firmware.h). */
#include "lkvm/firmware.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Filled by constructors before main(), like init.c's levels. */
static struct fw_registration *registry;

void firmware__register(struct fw_registration *reg)
{
	struct fw_registration **p = &registry;

	while (*p)
		p = &(*p)->next;
	reg->next = NULL;
	*p = reg;
}

const struct fw_registration *firmware__services(void)
{
	return registry;
}

static void add(struct fw_range *out, unsigned int *n, unsigned int max, struct fw_range r)
{
	if (*n < max)
		out[*n] = r;
	(*n)++;
}

/* A declared range, and its 64-bit twin, as the service's owner routes them. */
static void add_decl(struct fw_range *out, unsigned int *n, unsigned int max,
		     const struct fw_service *s, const struct fw_decl *d, enum fw_owner owner)
{
	if (d->deny_if_lkvm)
		owner = owner == FW_LKVM ? FW_DENIED : FW_ABSENT;
	if (owner == FW_ABSENT)
		return;
	add(out, n, max, (struct fw_range){ d->first, d->last, owner, d->what, s });
	if (d->fn64)
		add(out, n, max, (struct fw_range){ d->first | SMCCC_FN64, d->last | SMCCC_FN64,
						    owner, d->what, s });
}

static int cmp_range(const void *a, const void *b)
{
	const struct fw_range *x = a, *y = b;

	return x->first < y->first ? -1 : x->first > y->first;
}

unsigned int firmware__ranges(const struct lkvm_config *cfg, struct fw_range *out, unsigned int max)
{
	unsigned int n = 0;

	for (const struct fw_registration *reg = registry; reg; reg = reg->next) {
		const struct fw_service *s = reg->svc;
		enum fw_owner owner = s->route ? s->route(cfg) : s->owner;

		for (unsigned int i = 0; i < s->nr_ranges; i++)
			add_decl(out, &n, max, s, &s->ranges[i], owner);
		if (s->config_ranges) {
			unsigned int from = n < max ? n : max;

			n += s->config_ranges(cfg, out + from, max - from);
			for (unsigned int i = from; i < n && i < max; i++)
				out[i].svc = s;
		}
	}
	qsort(out, n < max ? n : max, sizeof(*out), cmp_range);
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
	struct fw_range r[FW_MAX_RANGES];
	unsigned int n;

	if (firmware__ranges(cfg, r, FW_MAX_RANGES) > FW_MAX_RANGES) {
		snprintf(why, len, "more than %u ranges with the services'", FW_MAX_RANGES);
		return -EINVAL;
	}
	/* What the services own, without the rules themselves. */
	services.nr_smccc = 0;
	n = firmware__ranges(&services, r, FW_MAX_RANGES);
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

/* Call it on a configuration firmware__check_rules accepted. */
void firmware__print(const struct lkvm_config *cfg)
{
	static const char *const owners[] = { "kvm", "lkvm", "denied" };
	struct fw_range r[FW_MAX_RANGES];
	unsigned int n = firmware__ranges(cfg, r, FW_MAX_RANGES);

	printf("%-23s %-7s %s\n", "FUNCTION IDS", "WHO", "WHAT");
	for (unsigned int i = 0; i < n && i < FW_MAX_RANGES; i++)
		printf("0x%08x-0x%08x  %-7s %s\n", r[i].first, r[i].last, owners[r[i].owner], r[i].what);
	printf("%-23s %-7s %s\n", "anything else", "kvm", "KVM's answer (NOT_SUPPORTED if it has none)");
}
