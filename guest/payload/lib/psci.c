/* PSCI and SDEI calls through the advertised (or the other) conduit, and checks of results. */
#include "lib.h"

u64 psci_via(bool other, u32 fid, u64 a1, u64 a2, u64 a3)
{
	return par.smc != other ? smc_call(fid, a1, a2, a3, NULL) : hvc_call(fid, a1, a2, a3, NULL);
}

u64 psci(u32 fid, u64 a1, u64 a2, u64 a3)
{
	return psci_via(false, fid, a1, a2, a3);
}

u64 sdei_via(bool other, u32 fid, u64 a1, u64 a2, u64 a3, u64 a4, u64 a5)
{
	register u64 x0 __asm__("x0") = fid, x1 __asm__("x1") = a1, x2 __asm__("x2") = a2;
	register u64 x3 __asm__("x3") = a3, x4 __asm__("x4") = a4, x5 __asm__("x5") = a5;

	if (par.smc != other)
		__asm__ volatile("smc #0" : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3), "+r"(x4), "+r"(x5)
				 :: "x6", "x7", "x8", "x9", "x10", "x11", "x12", "x13", "x14", "x15",
				 "x16", "x17", "memory");
	else
		__asm__ volatile("hvc #0" : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3), "+r"(x4), "+r"(x5)
				 :: "x6", "x7", "x8", "x9", "x10", "x11", "x12", "x13", "x14", "x15",
				 "x16", "x17", "memory");
	return x0;
}

u64 sdei(u32 n, u64 a1, u64 a2, u64 a3, u64 a4, u64 a5)
{
	return sdei_via(false, SDEI_FN(n), a1, a2, a3, a4, a5);
}

bool ret_is(u32 fid, u64 got, s64 want)
{
	if (fid & FN64_BIT)
		return got == (u64)want;
	if (par.user)
		return got == (u64)(u32)want;
	return (u32)got == (u32)want;
}

static const char *const fn_names[] = {
	"PSCI_VERSION", "CPU_SUSPEND", "CPU_OFF", "CPU_ON", "AFFINITY_INFO", "MIGRATE",
	"MIGRATE_INFO_TYPE", "MIGRATE_INFO_UP_CPU", "SYSTEM_OFF", "SYSTEM_RESET", "PSCI_FEATURES",
	"CPU_FREEZE", "CPU_DEFAULT_SUSPEND", "NODE_HW_STATE", "SYSTEM_SUSPEND",
	"PSCI_SET_SUSPEND_MODE", "PSCI_STAT_RESIDENCY", "PSCI_STAT_COUNT", "SYSTEM_RESET2",
	"MEM_PROTECT", "MEM_PROTECT_CHECK_RANGE", "SYSTEM_OFF2",
};
/* Argument registers each function reads (for naming a call). */
static const u8 fn_args[] = { 0, 3, 0, 3, 2, 1, 0, 0, 0, 0, 1, 0, 2, 2, 2, 1, 2, 2, 2, 2, 2, 2 };

const char *fn_name(u32 fid)
{
	u32 n = fid & 0xffff;

	if (fid == SMCCC_VERSION)
		return "SMCCC_VERSION";
	if ((fid & ~(FN64_BIT | 0xffffU)) == 0x84000000U && n < ARRAY_SIZE(fn_names))
		return fn_names[n];
	return "fn";
}

const char *ret_name(s64 ret)
{
	static const char *const names[] = {
		"SUCCESS", "NOT_SUPPORTED", "INVALID_PARAMETERS", "DENIED", "ALREADY_ON",
		"ON_PENDING", "INTERNAL_FAILURE", "NOT_PRESENT", "DISABLED", "INVALID_ADDRESS",
	};

	return ret <= 0 && ret > -(s64)ARRAY_SIZE(names) ? names[-ret] : NULL;
}

/* How to show an expected result: a return code, or a state for the functions that answer one. */
static void print_want(u32 fid, s64 want, u64 shown)
{
	static const char *const aff[] = { "ON", "OFF", "ON_PENDING" };
	static const char *const hw[] = { "ON", "OFF", "STANDBY" };
	u32 n = fid & 0xffff;
	bool psci_fn = (fid & ~(FN64_BIT | 0xffffU)) == 0x84000000U;

	if (psci_fn && n == AFFINITY_INFO && want >= 0 && want < 3)
		print(" = %s", aff[want]);
	else if (psci_fn && n == NODE_HW_STATE && want >= 0 && want < 3)
		print(" = %s", hw[want]);
	else if (ret_name(want))
		print(" = %s", ret_name(want));
	else
		print(" = 0x%lx", shown);
}

u64 expect_via(bool other, u32 fid, u64 a1, u64 a2, u64 a3, s64 want, const char *why)
{
	u64 got = psci_via(other, fid, a1, a2, a3), a[3] = { a1, a2, a3 };
	bool ok = ret_is(fid, got, want);
	u32 n = fid & 0xffff;
	unsigned int nargs = (fid & ~(FN64_BIT | 0xffffU)) == 0x84000000U && n < sizeof(fn_args) ?
			     fn_args[n] : 0;
	u64 shown = fid & FN64_BIT ? (u64)want : (u64)(u32)want;

	n_pass += ok;
	n_fail += !ok;
	print("%sok %u - ", ok ? "" : "not ", n_pass + n_fail);
	if (streq(fn_name(fid), "fn"))
		print("fn 0x%x(", fid);
	else
		print("%s%s(", fn_name(fid), fid & FN64_BIT && fid != SMCCC_VERSION ? "64" : "");
	for (unsigned int i = 0; i < nargs; i++)
		print("%s0x%lx", i ? ", " : "", a[i]);
	print(")%s", other ? " via the other conduit" : "");
	print_want(fid, want, shown);
	if (why)
		print(": %s", why);
	if (!ok)
		print(": got 0x%lx, want 0x%lx", got, shown);
	print("\n");
	return got;
}

u64 expect(u32 fid, u64 a1, u64 a2, u64 a3, s64 want, const char *why)
{
	return expect_via(false, fid, a1, a2, a3, want, why);
}

void cpu_off(void)
{
	psci(PSCI_FN(CPU_OFF), 0, 0, 0);
	halt();
}
