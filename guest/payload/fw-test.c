/*
 * fw-test: checks lkvm's firmware services other than PSCI, called directly through HVC.
 * Parameters in bootargs: test=all|trng|vendor (checks, then SYSTEM_OFF), test=trng-off (every
 * TRNG call NOT_SUPPORTED, for --trng=off), test=exit n=STATUS (LKVM_EXIT; test=exit-hi puts
 * garbage in the upper half of x1), test=log-flood n=COUNT (COUNT LKVM_LOG calls at once, then
 * one more line later), test=smccc (prints what a few SiP and OEM calls answer, for --smccc),
 * test=spin (never stops, for --timeout).
 */
#include "lib.h"

const char payload_name[] = "fw-test";

#define TRNG_VERSION	0x84000050U
#define TRNG_FEATURES	0x84000051U
#define TRNG_GET_UUID	0x84000052U
#define TRNG_RND32	0x84000053U
#define TRNG_RND64	0xC4000053U

#define LKVM_UID	0x86000080U
#define LKVM_VERSION	0x86000081U
#define LKVM_EXIT	0x86000082U
#define LKVM_LOG	0x86000083U
#define LKVM_LOG64	0xC6000083U
#define LKVM_UNUSED	0x8600008FU

#define LOG_MAX		4096
#define EXIT_MAX	59		/* the highest status LKVM_EXIT takes */
#define HI_GARBAGE	0xdead5a5a00000000UL	/* for the upper halves of SMC32 arguments */

struct res {
	u64 r[4];
};

static struct res call(u32 fid, u64 a1, u64 a2, u64 a3)
{
	struct res out;

	hvc_call(fid, a1, a2, a3, out.r);
	return out;
}

/* One check per result register. */
static void expect4(const char *what, struct res got, u64 w0, u64 w1, u64 w2, u64 w3)
{
	u64 want[4] = { w0, w1, w2, w3 };

	for (int i = 0; i < 4; i++)
		check(got.r[i] == want[i], got.r[i], want[i], "%s: x%d", what, i);
}

static u64 mask(unsigned int bits)
{
	return bits >= 64 ? ~0UL : (1UL << bits) - 1;
}

/* An error leaves x1..x3 zeroed (DEN0098 2.4). */
static void trng_bad_n(u32 fid, u64 n)
{
	struct res r = call(fid, n, 0, 0);
	u64 err = fid == TRNG_RND64 ? (u64)INVALID_PARAMETERS : (u32)INVALID_PARAMETERS;

	print("  N = %lu:\n", n);
	expect4(fid == TRNG_RND64 ? "TRNG_RND64 bad N" : "TRNG_RND32 bad N", r, err, 0, 0, 0);
}

/*
 * RND32/RND64 of N bits, in words of w bits: the low word in x3, then x2, then x1; bits above N
 * (and, for RND32, above 32 in each register) are zero.
 */
static void trng_rnd(u32 fid, unsigned int n, unsigned int w)
{
	struct res r = call(fid, n, 0, 0);
	const char *name = fid == TRNG_RND64 ? "TRNG_RND64" : "TRNG_RND32";

	check(r.r[0] == 0, r.r[0], 0, "%s(%u): x0", name, n);
	for (int i = 1; i < 4; i++) {
		unsigned int lo = (unsigned int)(3 - i) * w;
		u64 lim = mask(n <= lo ? 0 : n - lo < w ? n - lo : w);

		check(!(r.r[i] & ~lim), r.r[i], r.r[i] & lim, "%s(%u): x%d within N bits", name, n, i);
	}
}

static void test_trng(void)
{
	static const u32 fids[] = { TRNG_VERSION, TRNG_FEATURES, TRNG_GET_UUID, TRNG_RND32,
				    TRNG_RND64 };
	struct res a, b;

	expect4("TRNG_VERSION", call(TRNG_VERSION, 0, 0, 0), 0x10000, 0, 0, 0);
	for (unsigned int i = 0; i < ARRAY_SIZE(fids); i++) {
		u64 got = call(TRNG_FEATURES, fids[i], 0, 0).r[0];

		check(got == 0, got, 0, "TRNG_FEATURES(0x%x)", fids[i]);
	}
	a.r[0] = call(TRNG_FEATURES, 0x84000054U, 0, 0).r[0];
	check(a.r[0] == (u32)NOT_SUPPORTED, a.r[0], (u32)NOT_SUPPORTED, "TRNG_FEATURES(0x84000054)");
	a.r[0] = call(0x8400005FU, 0, 0, 0).r[0];
	check(a.r[0] == (u32)NOT_SUPPORTED, a.r[0], (u32)NOT_SUPPORTED, "unassigned TRNG 0x8400005f");
	expect4("TRNG_GET_UUID (lkvm's)", call(TRNG_GET_UUID, 0, 0, 0), 0x6c6b766d, 0x74726e67,
		0xa31c5e3b, 0x1d2f0a47);

	trng_bad_n(TRNG_RND32, 0);
	trng_bad_n(TRNG_RND32, 97);
	trng_bad_n(TRNG_RND64, 0);
	trng_bad_n(TRNG_RND64, 193);
	trng_bad_n(TRNG_RND64, 1UL << 32);	/* N is 32 bits wide: the high half must not wrap */
	trng_rnd(TRNG_RND32, 1, 32);
	trng_rnd(TRNG_RND32, 32, 32);
	trng_rnd(TRNG_RND32, 33, 32);
	trng_rnd(TRNG_RND32, 96, 32);
	trng_rnd(TRNG_RND64, 1, 64);
	trng_rnd(TRNG_RND64, 64, 64);
	trng_rnd(TRNG_RND64, 100, 64);
	trng_rnd(TRNG_RND64, 192, 64);

	a = call(TRNG_RND64, 192, 0, 0);
	b = call(TRNG_RND64, 192, 0, 0);
	check(a.r[1] != b.r[1] || a.r[2] != b.r[2] || a.r[3] != b.r[3], a.r[3], ~b.r[3],
	      "two TRNG_RND64(192) differ");
	check(a.r[1] | a.r[2] | a.r[3], 0, 1, "TRNG_RND64(192) is not all zero");
	/* For the seeded-determinism test: the first 192 bits after the checks above. */
	print("trng-sample: %lx %lx %lx\n", a.r[1], a.r[2], a.r[3]);
}

static void test_trng_off(void)
{
	static const u32 fids[] = { TRNG_VERSION, TRNG_FEATURES, TRNG_GET_UUID, TRNG_RND32,
				    TRNG_RND64 };

	/* KVM answers these (the filter denies them): SMC32 results only in w0, as KVM does. */
	for (unsigned int i = 0; i < ARRAY_SIZE(fids); i++) {
		u64 got = call(fids[i], 64, 0, 0).r[0];
		bool ok = fids[i] & FN64_BIT ? got == (u64)NOT_SUPPORTED :
			  (u32)got == (u32)NOT_SUPPORTED;

		check(ok, got, (u64)NOT_SUPPORTED, "--trng=off: 0x%x", fids[i]);
	}
}

static char log_buf[LOG_MAX + 16];

static void expect_log(u32 fid, u64 addr, u64 len, s64 want, const char *what)
{
	u64 got = call(fid, addr, len, 0).r[0];
	u64 w = fid & FN64_BIT ? (u64)want : (u32)want;

	check(got == w, got, w, "LKVM_LOG %s", what);
}

/* LKVM_EXIT of a status lkvm refuses returns, and the VM goes on. */
static void exit_refused(u64 status)
{
	u64 got = call(LKVM_EXIT, status, 0, 0).r[0];

	check(got == (u32)INVALID_PARAMETERS, got, (u32)INVALID_PARAMETERS,
	      "LKVM_EXIT(%lu) returns INVALID_PARAMETERS", status);
}

static void test_vendor(void)
{
	static const char msg[] = "fw-test says hello\tthrough LKVM_LOG";
	static const char msg32[] = "SMC32 LOG reads w1 and w2";
	u64 ram_end = boot.ram_base + boot.ram_size;
	struct res r;

	expect4("LKVM_UID", call(LKVM_UID, 0, 0, 0), 0x6c6b766d, 0x2d766d6d, 0x9e4d2b17,
		0x51a8c3f0);
	r = call(LKVM_VERSION, 0, 0, 0);
	check(r.r[0] == 0x10000, r.r[0], 0x10000, "LKVM_VERSION: x0");
	check((r.r[1] & 0xf) == 0xf, r.r[1], r.r[1] | 0xf, "LKVM_VERSION: x1 lists calls 128-131");
	r.r[0] = call(LKVM_UNUSED, 0, 0, 0).r[0];
	check(r.r[0] == (u32)NOT_SUPPORTED, r.r[0], (u32)NOT_SUPPORTED, "unassigned lkvm call");

	memcpy(log_buf, msg, sizeof(msg) - 1);
	expect_log(LKVM_LOG, (u64)log_buf, sizeof(msg) - 1, SUCCESS, "a message");
	expect_log(LKVM_LOG64, (u64)log_buf, sizeof(msg) - 1, SUCCESS, "(SMC64) a message");
	memcpy(log_buf, msg32, sizeof(msg32) - 1);
	expect_log(LKVM_LOG, HI_GARBAGE | (u64)log_buf, HI_GARBAGE | (sizeof(msg32) - 1), SUCCESS,
		   "(SMC32) garbage in the upper halves of x1 and x2");
	memset(log_buf, 'x', LOG_MAX);
	expect_log(LKVM_LOG, (u64)log_buf, LOG_MAX, SUCCESS, "of 4096 bytes");
	expect_log(LKVM_LOG, (u64)log_buf, LOG_MAX + 1, INVALID_PARAMETERS, "of 4097 bytes");
	expect_log(LKVM_LOG, (u64)log_buf, 0, INVALID_PARAMETERS, "of 0 bytes");
	expect_log(LKVM_LOG, 0x1000, 16, INVALID_ADDRESS, "below RAM");
	expect_log(LKVM_LOG, ram_end - 8, 16, INVALID_ADDRESS, "across the end of RAM");
	expect_log(LKVM_LOG, ram_end, 1, INVALID_ADDRESS, "just past RAM");
	expect_log(LKVM_LOG64, ~0UL - 4, 16, INVALID_ADDRESS, "(SMC64) wrapping around");
	/* lkvm's own codes are not the guest's to give: 124 (timeout), 128 + N (signals)... */
	exit_refused(EXIT_MAX + 1);
	exit_refused(124);
	exit_refused(130);
	exit_refused(143);
	exit_refused(256);
}

static void test_exit(bool hi)
{
	u64 got = call(LKVM_EXIT, (hi ? HI_GARBAGE : 0) | par.n, 0, 0).r[0];

	/* 0-59 end the run there and then: returning at all is a failure for them. */
	check(par.n > EXIT_MAX && got == (u32)INVALID_PARAMETERS, got, (u32)INVALID_PARAMETERS,
	      "LKVM_EXIT(%lu) returned", par.n);
}

/* Many lines at once: all accepted, most dropped by lkvm's rate limit, then one more later. */
static void test_log_flood(void)
{
	static const char line[] = "flood", last[] = "flood over";
	u64 failed = 0;

	memcpy(log_buf, line, sizeof(line) - 1);
	for (u64 i = 0; i < par.n; i++)
		failed += call(LKVM_LOG, (u64)log_buf, sizeof(line) - 1, 0).r[0] != SUCCESS;
	check(!failed, failed, 0, "LKVM_LOG x %lu: every call succeeds", par.n);
	delay_us(500 * 1000);	/* lkvm's bucket fills up again meanwhile */
	memcpy(log_buf, last, sizeof(last) - 1);
	expect_log(LKVM_LOG, (u64)log_buf, sizeof(last) - 1, SUCCESS, "after the flood");
}

static void test_smccc(void)
{
	static const u32 fids[] = { 0x82000001U, 0x82000002U, 0x820000ffU, 0x83000010U };

	for (unsigned int i = 0; i < ARRAY_SIZE(fids); i++)
		print("smccc 0x%x = %ld\n", fids[i], (s64)(s32)call(fids[i], 1, 2, 3).r[0]);
}

void payload_main(void)
{
	if (streq(par.test, "exit") || streq(par.test, "exit-hi")) {
		test_exit(streq(par.test, "exit-hi"));
		return;
	}
	if (streq(par.test, "log-flood"))
		test_log_flood();
	if (streq(par.test, "spin")) {
		print("fw-test: spinning\n");
		for (;;)
			cpu_relax();
	}
	if (streq(par.test, "smccc"))
		test_smccc();
	if (streq(par.test, "trng-off"))
		test_trng_off();
	if (streq(par.test, "all") || streq(par.test, "trng"))
		test_trng();
	if (streq(par.test, "all") || streq(par.test, "vendor"))
		test_vendor();
}

void secondary_main(u64 ctx, u64 t_entry, unsigned int cpu)
{
	(void)ctx;
	(void)t_entry;
	(void)cpu;
	cpu_off();
}
