/*
 * --smccc parsing, the firmware-call routing table (and a service declared only in this file),
 * and lkvm's own calls (LKVM_EXIT, LKVM_LOG).
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lkvm/exit-codes.h"
#include "lkvm/firmware.h"
#include "lkvm/hypercall.h"
#include "lkvm/kvm-cpu.h"
#include "lkvm/kvm.h"
#include "lkvm/lkvm-calls.h"
#include "lkvm/memory-map.h"
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
	struct fw_range r[FW_MAX_RANGES];
	unsigned int n = firmware__ranges(&cfg, r, FW_MAX_RANGES);

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

/* --sdei: the SMC64 SDEI range is lkvm's, the SMC32 numbers stay KVM's (unknown there). */
START_TEST(sdei_routing)
{
	memset(&cfg, 0, sizeof(cfg));
	cfg.psci = PSCI_USER;
	ck_assert_int_eq(owner_of(0xc4000020), FW_KVM);
	cfg.sdei = true;
	ck_assert_int_eq(owner_of(0xc4000020), FW_LKVM);
	ck_assert_int_eq(owner_of(0xc400003f), FW_LKVM);
	ck_assert_int_eq(owner_of(0x84000021), FW_KVM);
	ck_assert_int_eq(owner_of(0xc4000040), FW_KVM);
	ck_assert_int_eq(add_rule("0xc4000030:deny"), 0);
	ck_assert_int_ne(firmware__check_rules(&cfg, why, sizeof(why)), 0);
}
END_TEST

/*
 * ---- A firmware service declared here and nowhere else: its file and its firmware_service()
 * line are all it takes to be listed, kept from --smccc, filtered and dispatched. ----
 */

#define PROBE_FN(n)	SMCCC_ID(SMCCC_OWNER_STANDARD_HYP, 0x100 + (n))

static enum fw_owner probe_owner = FW_ABSENT;	/* the tests choose; absent for the others */

static enum fw_owner probe_route(const struct lkvm_config *c)
{
	(void)c;
	return probe_owner;
}

static unsigned int probe_nr_args(u32 fid)
{
	(void)fid;
	return 0;
}

static unsigned int probe_call(struct kvm_cpu *cpu, struct hc_call *c)
{
	(void)cpu;
	c->res[0] = 0;
	return 1;
}

static const struct fw_decl probe_ranges[] = {
	{ PROBE_FN(0), PROBE_FN(0xf), "unit-test probe", .fn64 = true },
	{ PROBE_FN(0x10), PROBE_FN(0x13), "unit-test probe (legacy IDs)", .deny_if_lkvm = true },
};

static const struct fw_service probe_service = {
	.name = "--probe",
	.ranges = probe_ranges, .nr_ranges = ARRAY_SIZE(probe_ranges),
	.route = probe_route,
	.nr_args = probe_nr_args,
	.call = probe_call,
};
firmware_service(probe_service)

static const char *listing(void)
{
	capture_begin(STDOUT_FILENO);
	firmware__print(&cfg);
	return capture_end(STDOUT_FILENO);
}

START_TEST(new_service_listed)
{
	memset(&cfg, 0, sizeof(cfg));
	probe_owner = FW_LKVM;
	ck_assert_ptr_nonnull(strstr(listing(), "\n0x85000100-0x8500010f  lkvm    unit-test probe\n"
					    "0x85000110-0x85000113  denied  unit-test probe (legacy IDs)\n"));
	ck_assert_ptr_nonnull(strstr(listing(), "\n0xc5000100-0xc500010f  lkvm    unit-test probe\n"));
	/* Whoever answers, the range is listed; the legacy IDs only matter once lkvm answers. */
	probe_owner = FW_KVM;
	ck_assert_ptr_nonnull(strstr(listing(), "\n0x85000100-0x8500010f  kvm     unit-test probe\n"));
	ck_assert_ptr_null(strstr(listing(), "unit-test probe (legacy IDs)"));
	probe_owner = FW_ABSENT;
	ck_assert_ptr_null(strstr(listing(), "unit-test probe"));
}
END_TEST

START_TEST(new_service_kept_from_rules)
{
	memset(&cfg, 0, sizeof(cfg));
	probe_owner = FW_KVM;
	ck_assert_int_eq(add_rule("0xc5000105:ignore"), 0);
	ck_assert_int_eq(firmware__check_rules(&cfg, why, sizeof(why)), -EINVAL);
	ck_assert_str_eq(why, "0xc5000105-0xc5000105 overlaps unit-test probe (0xc5000100-0xc500010f)");
	probe_owner = FW_ABSENT;
	ck_assert_int_eq(firmware__check_rules(&cfg, why, sizeof(why)), 0);
}
END_TEST

START_TEST(new_service_dispatched)
{
	static struct hypercall_table t;

	memset(&cfg, 0, sizeof(cfg));
	probe_owner = FW_LKVM;
	ck_assert_int_eq(hypercall__routes(&t, &cfg, true), 0);
	ck_assert_ptr_eq(hypercall__owner(&t, PROBE_FN(5)), &probe_service);
	ck_assert_ptr_eq(hypercall__owner(&t, PROBE_FN(0xf) | SMCCC_FN64), &probe_service);
	ck_assert_ptr_null(hypercall__owner(&t, PROBE_FN(0x10)));	/* KVM denies it */
	ck_assert_ptr_eq(hypercall__owner(&t, 0x86000083), &lkvm_calls);
	ck_assert_ptr_null(hypercall__owner(&t, 0x84000003));		/* KVM's PSCI */
	cfg.psci = PSCI_USER;
	ck_assert_int_eq(hypercall__routes(&t, &cfg, true), 0);
	ck_assert_ptr_nonnull(hypercall__owner(&t, 0xc4000003));
	ck_assert_ptr_null(hypercall__owner(&t, 0x95c1ba5e));
	/* Without KVM's SMCCC filter: optional services are absent, the others an error. */
	capture_begin(STDERR_FILENO);
	ck_assert_int_eq(hypercall__routes(&t, &cfg, false), -ENODEV);
	ck_assert_str_eq(capture_end(STDERR_FILENO),
			 "lkvm: --psci=user: this host's KVM cannot forward firmware calls to lkvm "
			 "(the SMCCC filter needs Linux 6.4 or later)\n");
	memset(&cfg, 0, sizeof(cfg));
	probe_owner = FW_ABSENT;
	ck_assert_int_eq(hypercall__routes(&t, &cfg, false), 0);
	ck_assert_ptr_null(hypercall__owner(&t, 0x86000083));
}
END_TEST

/* No two services claim one ID, whatever the options: each range has one owner. */
START_TEST(services_disjoint)
{
	static const enum fw_owner owners[] = { FW_KVM, FW_LKVM, FW_DENIED };
	struct fw_range r[FW_MAX_RANGES];
	unsigned int n;

	for (unsigned int i = 0; i < 3 * 2 * 3; i++) {
		memset(&cfg, 0, sizeof(cfg));
		cfg.trng = (enum trng_mode)(i % 3);
		cfg.psci = i / 3 % 2 ? PSCI_USER : PSCI_KERNEL;
		probe_owner = owners[i / 6];
		n = firmware__ranges(&cfg, r, FW_MAX_RANGES);
		ck_assert_uint_le(n, FW_MAX_RANGES - MAX_SMCCC_RULES);
		for (unsigned int j = 0; j < n; j++) {
			ck_assert_uint_le(r[j].first, r[j].last);
			ck_assert_msg(!j || r[j - 1].last < r[j].first, "%s overlaps %s", r[j - 1].what,
				      r[j].what);
		}
	}
	probe_owner = FW_ABSENT;
}
END_TEST

/* ---- lkvm's own calls, on a VM without KVM: 64 KiB of RAM and one vCPU ---- */

#define LKVM_EXIT_FID	0x86000082U
#define LKVM_LOG_FID	0x86000083U
#define LKVM_LOG64_FID	0xC6000083U

static struct kvm call_vm;
static struct kvm_cpu call_cpu = { .kvm = &call_vm, .id = 1 };
static u8 call_ram[64 * 1024];

static void calls_setup(void)
{
	memset(&call_vm, 0, sizeof(call_vm));
	call_vm.ram = call_ram;
	call_vm.ram_size = sizeof(call_ram);
	call_vm.stop_fd = -1;
	log_level = LOG_WARNING;
}

static unsigned int count(const char *text, const char *what)
{
	unsigned int n = 0;

	for (const char *p = text; (p = strstr(p, what)); p += strlen(what))
		n++;
	return n;
}

/* Makes the call; returns x0, or 0xdead if the call did not return. */
static u64 lkvm_call(u32 fid, u64 a1, u64 a2)
{
	struct hc_call c = { .fid = fid, .arg = { 0, a1, a2, 0 }, .res = { 0xdead } };

	return lkvm_calls.call(&call_cpu, &c) ? c.res[0] : 0xdead;
}

static u64 log_text(u32 fid, u64 upper, const char *text)
{
	memcpy(call_ram + 0x100, text, strlen(text));
	return lkvm_call(fid, upper | (LKVM_RAM_BASE + 0x100), upper | strlen(text));
}

/* Only 0-59 stop the VM, and they map outside lkvm's own codes; 124, 130... are refused. */
START_TEST(exit_statuses)
{
	static const u64 good[] = { 0, 1, 42, 59 };
	static const u64 bad[] = { 60, 63, 124, 125, 126, 127, 128, 130, 143, 255, 256, 1ULL << 31 };

	for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
		calls_setup();
		ck_assert_uint_eq(lkvm_call(LKVM_EXIT_FID, good[i], 0), 0xdead);
		ck_assert_int_eq(call_vm.stop_reason, VM_STOP_GUEST_EXIT);
		ck_assert_int_eq(call_vm.guest_status, (int)good[i]);
	}
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		calls_setup();
		ck_assert_uint_eq(lkvm_call(LKVM_EXIT_FID, bad[i], 0), (u64)-2);
		ck_assert_msg(call_vm.stop_reason == VM_RUNNING, "LKVM_EXIT(%llu) stopped the VM",
			      (unsigned long long)bad[i]);
	}
	/* An SMC32 call's status is w1: the upper half of x1 is not part of it. */
	calls_setup();
	ck_assert_uint_eq(lkvm_call(LKVM_EXIT_FID, 0xffffffff00000007ULL, 0), 0xdead);
	ck_assert_int_eq(call_vm.guest_status, 7);
	ck_assert_int_eq(LKVM_EXIT_GUEST(0), 0);
	ck_assert_int_eq(LKVM_EXIT_GUEST(1), 65);
	ck_assert_int_eq(LKVM_EXIT_GUEST(LKVM_EXIT_GUEST_MAX), 123);
	ck_assert_int_lt(LKVM_EXIT_GUEST(LKVM_EXIT_GUEST_MAX), LKVM_EXIT_TIMEOUT);
	ck_assert_int_gt(LKVM_EXIT_GUEST(1), LKVM_EXIT_STOPPED);
}
END_TEST

/* SMC32 LOG reads w1 and w2, whatever the guest left in the upper halves; SMC64 reads all. */
START_TEST(log_smc32_narrows)
{
	calls_setup();
	capture_begin(STDERR_FILENO);
	ck_assert_uint_eq(log_text(LKVM_LOG_FID, 0xdeadbeef00000000ULL, "narrow"), 0);
	ck_assert_uint_ne(log_text(LKVM_LOG64_FID, 0xdeadbeef00000000ULL, "wide"), 0);
	ck_assert_str_eq(capture_end(STDERR_FILENO), "lkvm: guest vCPU 1: narrow\n");
}
END_TEST

/* A flood is cut to the burst, and the next line that gets through says how many were lost. */
START_TEST(log_flood_is_limited)
{
	static char lines[4097];
	struct timespec t0, t1;
	unsigned int sent = 0, shown, dropped = 0;
	double secs;
	const char *out, *p;

	calls_setup();
	for (int i = 0; i < 2048; i++)
		memcpy(lines + 2 * i, "x\n", 2);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	capture_begin(STDERR_FILENO);
	for (int i = 0; i < 5; i++, sent += 2048)
		ck_assert_uint_eq(log_text(LKVM_LOG_FID, 0, lines), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	usleep(100 * 1000);	/* time for a few more tokens */
	ck_assert_uint_eq(log_text(LKVM_LOG_FID, 0, "after"), 0);
	sent++;
	out = capture_end(STDERR_FILENO);
	secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	shown = count(out, "lkvm: guest vCPU 1: ");
	ck_assert_msg(shown >= LKVM_LOG_BURST && shown <= LKVM_LOG_BURST + 2 + LKVM_LOG_RATE * secs,
		      "%u lines in %.2fs", shown, secs);
	p = strstr(out, "lkvm: LKVM_LOG: ");
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(sscanf(p, "lkvm: LKVM_LOG: %u guest lines dropped", &dropped), 1);
	ck_assert_uint_eq(shown + dropped, sent);
	ck_assert_ptr_nonnull(strstr(p, "\nlkvm: guest vCPU 1: after\n"));
}
END_TEST

/* The bucket's arithmetic, on a clock of our own. */
START_TEST(log_limit_math)
{
	const u64 s = 1000000000ULL, line = s / LKVM_LOG_RATE;
	struct log_limit l = { 0 };
	u64 t = 5 * s, dropped = 99;
	unsigned int n = 0;

	while (log_limit__take(&l, t, &dropped))
		n++;
	ck_assert_uint_eq(n, LKVM_LOG_BURST);
	ck_assert_uint_eq(dropped, 0);
	ck_assert(!log_limit__take(&l, t + line / 2, &dropped));
	ck_assert(log_limit__take(&l, t + line, &dropped));
	ck_assert_uint_eq(dropped, 2);
	ck_assert(!log_limit__take(&l, t + line, &dropped));
	/* A second pays back LKVM_LOG_RATE lines; a long silence no more than the burst. */
	for (n = 0; log_limit__take(&l, t + line + s, &dropped); n++)
		;
	ck_assert_uint_eq(n, LKVM_LOG_RATE);
	for (n = 0; log_limit__take(&l, t + 3600 * s, &dropped); n++)
		;
	ck_assert_uint_eq(n, LKVM_LOG_BURST);
}
END_TEST

/* Guest lines are at the warnings' level: --loglevel error hides them. */
START_TEST(log_follows_loglevel)
{
	calls_setup();
	log_level = LOG_ERROR;
	capture_begin(STDERR_FILENO);
	ck_assert_uint_eq(log_text(LKVM_LOG_FID, 0, "hidden"), 0);
	ck_assert_str_eq(capture_end(STDERR_FILENO), "");
	log_level = LOG_WARNING;
}
END_TEST

/* --trng=user: SMC32 calls read w1, as KVM's TRNG does, whatever the upper half of x1 holds. */
START_TEST(trng_smc32_narrows)
{
	static struct hypercall_table t;
	const struct fw_service *trng;
	struct hc_call rnd = { .fid = 0x84000053, .arg = { 0, 0xdeadbeef00000020ULL } };
	struct hc_call features = { .fid = 0x84000051, .arg = { 0, 0xffffffff84000053ULL } };

	calls_setup();
	memset(&cfg, 0, sizeof(cfg));
	cfg.trng = TRNG_USER;
	call_vm.cfg = &cfg;
	ck_assert_int_eq(hypercall__routes(&t, &cfg, true), 0);
	trng = hypercall__owner(&t, rnd.fid);
	ck_assert_ptr_nonnull(trng);
	ck_assert_int_eq(trng->init(&call_vm), 0);
	ck_assert_uint_eq(trng->call(&call_cpu, &rnd), 4);
	ck_assert_uint_eq(rnd.res[0], 0);
	ck_assert_uint_eq(rnd.res[1] | rnd.res[2] | rnd.res[3] >> 32, 0);	/* 32 bits: w3 */
	ck_assert_uint_eq(trng->call(&call_cpu, &features), 1);
	ck_assert_uint_eq(features.res[0], 0);
	trng->exit(&call_vm);
}
END_TEST

Suite *firmware_suite(void)
{
	Suite *s = suite_create("firmware");
	TCase *tc = tcase_create("smccc");

	tcase_add_test(tc, parse_rules);
	tcase_add_test(tc, bad_rules);
	tcase_add_test(tc, overlaps);
	tcase_add_test(tc, sdei_routing);
	tcase_add_test(tc, routing);
	suite_add_tcase(s, tc);
	tc = tcase_create("a new service");
	tcase_add_test(tc, new_service_listed);
	tcase_add_test(tc, new_service_kept_from_rules);
	tcase_add_test(tc, new_service_dispatched);
	tcase_add_test(tc, services_disjoint);
	suite_add_tcase(s, tc);
	tc = tcase_create("lkvm calls");
	tcase_add_test(tc, exit_statuses);
	tcase_add_test(tc, log_smc32_narrows);
	tcase_add_test(tc, log_flood_is_limited);
	tcase_add_test(tc, log_limit_math);
	tcase_add_test(tc, log_follows_loglevel);
	tcase_add_test(tc, trng_smc32_narrows);
	suite_add_tcase(s, tc);
	return s;
}
