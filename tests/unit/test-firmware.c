/* --smccc parsing and the firmware-call routing table. */
#include <check.h>
#include <errno.h>
#include <string.h>

#include "lkvm/firmware.h"
#include "suites.h"

static struct lkvm_config cfg;
static char why[160];

static int add_rule(const char *spec)
{
	const char *w;
	int err = firmware__parse_rule(spec, &cfg.smccc[cfg.nr_smccc], &w);

	if (!err)
		cfg.nr_smccc++;
	return err;
}

START_TEST(parse_rules)
{
	struct smccc_rule r;
	const char *w;

	ck_assert_int_eq(firmware__parse_rule("0x82000001:ignore", &r, &w), 0);
	ck_assert_uint_eq(r.first, 0x82000001);
	ck_assert_uint_eq(r.last, 0x82000001);
	ck_assert_int_eq(r.action, SMCCC_IGNORE);
	ck_assert_int_eq(firmware__parse_rule("0x82000010-0x8200001F:deny", &r, &w), 0);
	ck_assert_uint_eq(r.last, 0x8200001f);
	ck_assert_int_eq(r.action, SMCCC_DENY);
	ck_assert_int_eq(firmware__parse_rule("0xc2000020:unsupported", &r, &w), 0);
	ck_assert_int_eq(r.action, SMCCC_UNSUPPORTED);
}
END_TEST

START_TEST(bad_rules)
{
	static const char *const bad[] = { "", "0x82000001", "82000001:ignore", "0x:ignore",
					   "0x82000001:", "0x82000001:bogus", "0x82000001-:deny",
					   "0x100000000:deny", "0x82000010-0x82000001:deny",
					   "0x82000001:ignore:", "zz:ignore" };
	struct smccc_rule r;
	const char *w;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(firmware__parse_rule(bad[i], &r, &w) == -EINVAL, "'%s' accepted", bad[i]);
}
END_TEST

START_TEST(overlaps)
{
	memset(&cfg, 0, sizeof(cfg));
	ck_assert_int_eq(add_rule("0x82000001-0x82000005:deny"), 0);
	ck_assert_int_eq(firmware__check_rules(&cfg, why, sizeof(why)), 0);
	ck_assert_int_eq(add_rule("0x82000003:ignore"), 0);
	ck_assert_int_eq(firmware__check_rules(&cfg, why, sizeof(why)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(why, "another --smccc"));

	/* Every service's range is taken, whoever answers it: PSCI, TRNG, vendor, architecture. */
	static const char *const taken[] = { "0x84000000:ignore", "0xc4000003:deny",
					     "0x84000053:ignore", "0x86000000:ignore",
					     "0x86000085:deny", "0x80000000:ignore",
					     "0xc0000001:unsupported", "0x8600ff01:ignore",
					     "0x83000000-0x84000000:deny" };
	for (size_t i = 0; i < sizeof(taken) / sizeof(taken[0]); i++) {
		memset(&cfg, 0, sizeof(cfg));
		ck_assert_int_eq(add_rule(taken[i]), 0);
		ck_assert_msg(firmware__check_rules(&cfg, why, sizeof(why)) == -EINVAL, "%s", taken[i]);
	}
}
END_TEST

static enum fw_owner owner_of(u32 fid)
{
	struct fw_range r[32];
	unsigned int n = firmware__ranges(&cfg, r, 32);

	for (unsigned int i = 0; i < n; i++) {
		if (fid >= r[i].first && fid <= r[i].last)
			return r[i].owner;
	}
	return FW_KVM;
}

START_TEST(routing)
{
	memset(&cfg, 0, sizeof(cfg));
	ck_assert_int_eq(owner_of(0x84000003), FW_KVM);
	ck_assert_int_eq(owner_of(0x86000082), FW_LKVM);
	ck_assert_int_eq(owner_of(0x84000053), FW_KVM);
	cfg.psci = PSCI_USER;
	cfg.trng = TRNG_OFF;
	ck_assert_int_eq(owner_of(0xc4000003), FW_LKVM);
	ck_assert_int_eq(owner_of(0x95c1ba5e), FW_DENIED);
	ck_assert_int_eq(owner_of(0xc4000053), FW_DENIED);
	cfg.trng = TRNG_USER;
	ck_assert_int_eq(owner_of(0x84000050), FW_LKVM);
	ck_assert_int_eq(add_rule("0xc2000020:unsupported"), 0);
	ck_assert_int_eq(add_rule("0x82000001:ignore"), 0);
	ck_assert_int_eq(owner_of(0xc2000020), FW_DENIED);
	ck_assert_int_eq(owner_of(0x82000001), FW_LKVM);
	ck_assert_int_eq(owner_of(0x82000002), FW_KVM);
}
END_TEST

Suite *firmware_suite(void)
{
	Suite *s = suite_create("firmware");
	TCase *tc = tcase_create("smccc");

	tcase_add_test(tc, parse_rules);
	tcase_add_test(tc, bad_rules);
	tcase_add_test(tc, overlaps);
	tcase_add_test(tc, routing);
	suite_add_tcase(s, tc);
	return s;
}
