/*
 * vcpu-test: what the vCPU features of `lkvm run` give a guest (Documentation/vcpu-features.md).
 * Parameters in bootargs, one test=NAME each:
 *   pmu          --pmu: the ID registers show PMUv3 and the cycle counter counts
 *   no-pmu       no --pmu: the ID registers show no PMU
 *   sve [n=BITS] SVE is there; RDVL with the longest length ZCR_EL1 allows is at most BITS
 *                (--sve-max-vl), and BITS exactly when given; prints "sve-vl: BITS"
 *   no-sve       --disable-sve: the ID registers show no SVE
 *   no-mte       the ID registers show no MTE (the emulated host has none to give)
 *   pvtime n=BASE  PV_TIME_FEATURES says PV_TIME_ST is there, and PV_TIME_ST gives each of the
 *                two vCPUs its 64-byte structure at BASE + 64 * index, revision 0
 *   no-pvtime    --no-pvtime: both PV_TIME calls answer NOT_SUPPORTED
 */
#include "lib.h"

const char payload_name[] = "vcpu-test";

#define PV_TIME_FEATURES	0xC5000020U
#define PV_TIME_ST		0xC5000021U
#define PVTIME_STRUCT_SIZE	64

/* ID register fields: [shift + 3 : shift] */
static unsigned int id_field(u64 reg, unsigned int shift)
{
	return (unsigned int)(reg >> shift) & 0xf;
}

#define ID_AA64PFR0_SVE(r)	id_field(r, 32)
#define ID_AA64PFR1_MTE(r)	id_field(r, 8)
#define ID_AA64DFR0_PMUVER(r)	id_field(r, 8)
#define PMUVER_IMPDEF		0xf

static void test_pmu(bool want)
{
	unsigned int ver = ID_AA64DFR0_PMUVER(read_sysreg(id_aa64dfr0_el1));
	u64 c0, c1;

	if (!want) {
		check(ver == 0, ver, 0, "no PMU: ID_AA64DFR0_EL1.PMUVer");
		return;
	}
	if (!check(ver != 0 && ver != PMUVER_IMPDEF, ver, 1, "ID_AA64DFR0_EL1.PMUVer: PMUv3"))
		return;
	/* PMCR_EL0.E and C (reset the cycle counter), then PMCNTENSET_EL0.C: count cycles. */
	write_sysreg(pmcr_el0, read_sysreg(pmcr_el0) | 1 | 4);
	write_sysreg(pmcntenset_el0, 1UL << 31);
	isb();
	c0 = read_sysreg(pmccntr_el0);
	delay_us(2000);
	isb();
	c1 = read_sysreg(pmccntr_el0);
	print("pmu: PMCCNTR_EL0 0x%lx then 0x%lx\n", c0, c1);
	check(c1 > c0, c1, c0 + 1, "PMCCNTR_EL0 advances while enabled");
}

/* RDVL x0, #1: the vector length in bytes (an encoding: the compiler is not given SVE). */
static u64 rdvl(void)
{
	register u64 x0 __asm__("x0");

	__asm__ volatile(".inst 0x04bf5020" : "=r"(x0));
	return x0;
}

static void test_sve(bool want, u64 max_bits)
{
	unsigned int sve = ID_AA64PFR0_SVE(read_sysreg(id_aa64pfr0_el1));
	u64 bits;

	if (!want) {
		check(sve == 0, sve, 0, "no SVE: ID_AA64PFR0_EL1.SVE");
		return;
	}
	if (!check(sve != 0, sve, 1, "ID_AA64PFR0_EL1.SVE"))
		return;
	/* CPACR_EL1.ZEN and FPEN: no traps at EL1; ZCR_EL1.LEN all ones: the longest allowed. */
	write_sysreg(cpacr_el1, read_sysreg(cpacr_el1) | 3UL << 16 | 3UL << 20);
	isb();
	write_sysreg(s3_0_c1_c2_0, 0x1ffUL);
	isb();
	bits = rdvl() * 8;
	print("sve-vl: %lu\n", bits);
	check(bits >= 128 && !(bits & (bits - 1)), bits, 128, "RDVL: a power of 2, at least 128 bits");
	if (max_bits)
		check(bits == max_bits, bits, max_bits, "RDVL: the longest length is --sve-max-vl");
}

static void test_mte(void)
{
	unsigned int mte = ID_AA64PFR1_MTE(read_sysreg(id_aa64pfr1_el1));

	check(mte == 0, mte, 0, "no MTE: ID_AA64PFR1_EL1.MTE");
}

static volatile u64 st_cpu1;	/* written by vCPU 1: its PV_TIME_ST result */
static volatile bool cpu1_done;

void secondary_main(u64 ctx, u64 t_entry, unsigned int cpu)
{
	u64 r[4];

	(void)ctx, (void)t_entry, (void)cpu;
	hvc_call(PV_TIME_ST, 0, 0, 0, r);
	st_cpu1 = r[0];
	dsb();
	cpu1_done = true;
	dsb();
	cpu_off();
}

/* The structure's header: revision 0, attributes 0 (DEN0057 3.2). */
static void check_struct(u64 ipa, unsigned int cpu)
{
	check(mmio_read32(ipa) == 0, mmio_read32(ipa), 0, "vCPU %u: stolen time revision", cpu);
	check(mmio_read32(ipa + 4) == 0, mmio_read32(ipa + 4), 0, "vCPU %u: attributes", cpu);
}

static void test_pvtime(bool want, u64 base)
{
	u64 r[4], deadline;
	s64 none = NOT_SUPPORTED;

	hvc_call(PV_TIME_FEATURES, PV_TIME_ST, 0, 0, r);
	check(r[0] == (want ? 0 : (u64)none), r[0], want ? 0 : (u64)none,
	      "PV_TIME_FEATURES(PV_TIME_ST)");
	hvc_call(PV_TIME_ST, 0, 0, 0, r);
	print("pvtime-st: 0x%lx\n", r[0]);
	if (!want) {
		check(r[0] == (u64)none, r[0], (u64)none, "PV_TIME_ST: NOT_SUPPORTED");
		return;
	}
	if (check(r[0] == base, r[0], base, "vCPU 0: PV_TIME_ST"))
		check_struct(r[0], 0);
	if (psci(PSCI_FN64(CPU_ON), cpu_mpidr(1), (u64)cpu_entry, 0) != SUCCESS) {
		check(false, 1, 0, "CPU_ON of vCPU 1");
		return;
	}
	deadline = now() + ms_to_ticks(5000);
	while (!cpu1_done && now() < deadline)
		cpu_relax();
	if (check(cpu1_done && st_cpu1 == base + PVTIME_STRUCT_SIZE, st_cpu1,
		  base + PVTIME_STRUCT_SIZE, "vCPU 1: PV_TIME_ST"))
		check_struct(st_cpu1, 1);
}

void payload_main(void)
{
	if (streq(par.test, "pmu") || streq(par.test, "no-pmu"))
		test_pmu(streq(par.test, "pmu"));
	else if (streq(par.test, "sve") || streq(par.test, "no-sve"))
		test_sve(streq(par.test, "sve"), par.n);
	else if (streq(par.test, "no-mte"))
		test_mte();
	else if (streq(par.test, "pvtime") || streq(par.test, "no-pvtime"))
		test_pvtime(streq(par.test, "pvtime"), par.n);
	else
		check(false, 0, 0, "unknown test=%s", par.test);
	finish();
}
