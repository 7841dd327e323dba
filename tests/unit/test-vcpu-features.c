/*
 * The vCPU feature options (kvm-cpu.c): --sve-max-vl parsing, the checks of the options against
 * each other, PV_TIME's place in the firmware-call routing, and the stolen-time region's place
 * in the memory map.
 */
#include <check.h>
#include <errno.h>
#include <string.h>

#include "lkvm/firmware.h"
#include "lkvm/kvm-cpu.h"
#include "lkvm/memory-map.h"
#include "suites.h"

START_TEST(sve_vl_valid)
{
	static const struct { const char *s; unsigned int vq; } ok[] = {
		{ "128", 1 }, { "256", 2 }, { "512", 4 }, { "2048", 16 }, { "65536", 512 },
	};
	const char *why;
	unsigned int vq;

	for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
		vq = 0;
		ck_assert_msg(kvm_cpu__parse_sve_vl(ok[i].s, &vq, &why) == 0, "%s", ok[i].s);
		ck_assert_uint_eq(vq, ok[i].vq);
	}
}
END_TEST

START_TEST(sve_vl_invalid)
{
	/* Not powers of 2 (384 is a valid SVE length, but kvmtool refuses it), out of range, junk. */
	static const char *const bad[] = {
		"0", "64", "100", "384", "131072", "4294967296", "-128", "+256", "256k", "0x100", "",
		" 256",
	};
	const char *why;
	unsigned int vq = 7;

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		why = NULL;
		ck_assert_msg(kvm_cpu__parse_sve_vl(bad[i], &vq, &why) == -EINVAL, "%s", bad[i]);
		ck_assert_ptr_nonnull(why);
		ck_assert_uint_eq(vq, 7);
	}
}
END_TEST

START_TEST(feature_conflicts)
{
	struct lkvm_config cfg = { .ram_size = 256ULL << 20 };
	char why[160];

	ck_assert_int_eq(kvm_cpu__check_features(&cfg, why, sizeof(why)), 0);
	cfg.pmu = cfg.disable_mte = cfg.no_pvtime = cfg.nested = true;
	cfg.sve_max_vq = 2;
	ck_assert_int_eq(kvm_cpu__check_features(&cfg, why, sizeof(why)), 0);

	cfg.disable_sve = true;
	ck_assert_int_eq(kvm_cpu__check_features(&cfg, why, sizeof(why)), -EINVAL);
	ck_assert_str_eq(why, "--sve-max-vl: conflicts with --disable-sve");

	cfg = (struct lkvm_config){ .ram_size = 2048ULL << 20, .aarch32 = true, .pmu = true,
				    .disable_sve = true, .disable_mte = true, .no_pvtime = true };
	ck_assert_int_eq(kvm_cpu__check_features(&cfg, why, sizeof(why)), 0);
	cfg.nested = true;
	ck_assert_int_eq(kvm_cpu__check_features(&cfg, why, sizeof(why)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(why, "--nested"));
	cfg.nested = false;
	cfg.disable_sve = false;
	cfg.sve_max_vq = 1;
	ck_assert_int_eq(kvm_cpu__check_features(&cfg, why, sizeof(why)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(why, "--sve-max-vl"));
	cfg.sve_max_vq = 0;
	/* A 32-bit guest's RAM (and its DTB, at the top) must end by 4G. */
	cfg.ram_size = (2048ULL << 20) + SZ_64K;
	ck_assert_int_eq(kvm_cpu__check_features(&cfg, why, sizeof(why)), -EINVAL);
	ck_assert_str_eq(why, "-m: with --aarch32 at most 2048M (RAM starts at 2048M, below 4G)");
}
END_TEST

/* KVM answers PV_TIME whatever the options; --smccc cannot take it. */
START_TEST(pvtime_calls_are_kvms)
{
	struct lkvm_config cfg = { .psci = PSCI_USER, .trng = TRNG_USER, .no_pvtime = true };
	struct fw_range r[FW_MAX_RANGES];
	unsigned int n = firmware__ranges(&cfg, r, FW_MAX_RANGES);
	const char *w;
	char why[160];
	bool found = false;

	for (unsigned int i = 0; i < n; i++) {
		if (r[i].first <= 0xC5000021U && r[i].last >= 0xC5000020U) {
			ck_assert_uint_eq(r[i].first, 0xC5000020U);
			ck_assert_uint_eq(r[i].last, 0xC5000021U);
			ck_assert_int_eq(r[i].owner, FW_KVM);
			found = true;
		}
	}
	ck_assert(found);
	ck_assert_int_eq(firmware__parse_rule("0xc5000021:ignore", &cfg.smccc[0], &w), 0);
	cfg.nr_smccc = 1;
	ck_assert_int_eq(firmware__check_rules(&cfg, why, sizeof(why)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(why, "PV_TIME"));
	/* The rest of the standard hypervisor range stays free for --smccc. */
	ck_assert_int_eq(firmware__parse_rule("0xc5000022-0xc500ffff:deny", &cfg.smccc[0], &w), 0);
	ck_assert_int_eq(firmware__check_rules(&cfg, why, sizeof(why)), 0);
}
END_TEST

/* The stolen-time region: in the gap between the UART and the GIC, page aligned, room for all. */
START_TEST(pvtime_region)
{
	ck_assert_uint_ge(LKVM_PVTIME_BASE, LKVM_UART_BASE + LKVM_UART_SIZE);
	ck_assert_uint_le(LKVM_PVTIME_BASE + LKVM_PVTIME_SIZE, LKVM_GIC_DIST_BASE);
	ck_assert_uint_eq(LKVM_PVTIME_BASE % SZ_64K, 0);
	ck_assert_uint_eq(LKVM_PVTIME_SIZE % SZ_64K, 0);
	ck_assert_uint_ge(LKVM_PVTIME_SIZE, LKVM_MAX_CPUS * LKVM_PVTIME_STRUCT_SIZE);
}
END_TEST

Suite *vcpu_features_suite(void)
{
	Suite *s = suite_create("vcpu_features");
	TCase *tc = tcase_create("options");

	tcase_add_test(tc, sve_vl_valid);
	tcase_add_test(tc, sve_vl_invalid);
	tcase_add_test(tc, feature_conflicts);
	suite_add_tcase(s, tc);
	tc = tcase_create("stolen time");
	tcase_add_test(tc, pvtime_calls_are_kvms);
	tcase_add_test(tc, pvtime_region);
	suite_add_tcase(s, tc);
	return s;
}
