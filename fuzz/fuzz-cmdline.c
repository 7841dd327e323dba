/*
 * libFuzzer target for lkvm run's option-value parsers: -d/--disk, --9p, -n/--network
 * (util/devspec.c), --smccc rules (firmware.c), and the sizes, numbers and CPU lists of
 * util/util.c. The input is NUL-separated option values, each led by a byte that picks the
 * parser; one configuration collects them, as one command line does. Besides the sanitizers it
 * checks that a refusal always says why, that counts never pass their arrays, and that what a
 * parser accepts is within the limits the rest of lkvm relies on.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lkvm/config.h"
#include "lkvm/devspec.h"
#include "lkvm/firmware.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CPUS	64

static void parse_one(struct lkvm_config *cfg, u8 which, const char *val)
{
	const char *why = NULL;
	struct smccc_rule rule;
	bool set[FUZZ_CPUS];
	unsigned int count, u;
	u64 v;
	int err;

	switch (which % 7) {
	case 0: err = devspec__disk_or_dir(cfg, val, &why); break;
	case 1: err = devspec__share(cfg, val, &why); break;
	case 2: err = devspec__net(cfg, val, &why); break;
	case 3:
		err = firmware__parse_rule(val, &rule, &why);
		if (!err && (rule.last < rule.first || rule.action > SMCCC_UNSUPPORTED))
			abort();
		break;
	case 4:
		if (!parse_cpu_list(val, FUZZ_CPUS, set, &count) && count > FUZZ_CPUS)
			abort();
		return;
	case 5:
		parse_size(val, &v);
		parse_u64(val, &v);
		return;
	default:
		if (!parse_uint(val, 1, 512, &u) && (u < 1 || u > 512))
			abort();
		return;
	}
	if (err && !why)
		abort();
	if (cfg->nr_disks > MAX_DISKS || cfg->nr_shares > MAX_SHARES || cfg->nr_nets > MAX_NETS)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lkvm_config cfg = { 0 };
	char *copy = malloc(size + 1), *p, *end;

	if (!copy)
		return 0;
	memcpy(copy, data, size);
	copy[size] = '\0';
	end = copy + size;
	for (p = copy; p < end; p += strlen(p) + 1) {
		if (*p)
			parse_one(&cfg, (u8)*p, p + 1);
	}
	devspec__free(&cfg);
	free(copy);
	return 0;
}
