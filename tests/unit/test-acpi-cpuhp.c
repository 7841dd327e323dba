/*
 * acpi_cpuhp: the ACPI vCPU hot-add registers as the guest's AML uses them, every access a guest
 * could make checked; the DSDT objects; the MADT's online-capable GICCs.
 */
#include <errno.h>
#include <string.h>

#include "lkvm/acpi-cpuhp.h"
#include "lkvm/acpi.h"
#include "lkvm/aml.h"
#include "lkvm/memory-map.h"
#include "suites.h"

#define NR	4

static int irq_level, irq_changes;
static unsigned int ejects[NR];

static void fake_set_irq(struct acpi_cpuhp *hp, int level)
{
	(void)hp;
	irq_level = level;
	irq_changes++;
}

/* As lkvm does once PSCI agreed: the vCPU is unplugged. */
static void fake_eject(struct acpi_cpuhp *hp, unsigned int cpu)
{
	ejects[cpu]++;
	acpi_cpuhp__ejected(hp, cpu);
}

static const struct acpi_cpuhp_ops fake_ops = { .set_irq = fake_set_irq, .eject = fake_eject };
static struct acpi_cpuhp hp;

static void setup(void)
{
	static const bool enabled[NR] = { true, false, true, false };

	irq_level = irq_changes = 0;
	memset(ejects, 0, sizeof(ejects));
	ck_assert_int_eq(acpi_cpuhp__init(&hp, &fake_ops, NR, enabled), 0);
}

static void teardown(void)
{
	acpi_cpuhp__exit(&hp);
}

static u32 rd(u64 off, unsigned int len)
{
	u8 data[8];
	u32 v;

	memset(data, 0xaa, sizeof(data));
	acpi_cpuhp__read(&hp, off, data, len);
	for (unsigned int i = 4; i < len; i++)
		ck_assert_uint_eq(data[i], 0);
	memcpy(&v, data, sizeof(v));
	return len < 4 ? v & ((1U << (8 * len)) - 1) : v;
}

static void wr(u64 off, u32 v, unsigned int len)
{
	u8 data[8] = { 0 };

	memcpy(data, &v, sizeof(v));
	acpi_cpuhp__write(&hp, off, data, len);
}

/* What _STA reads: select, then STS. */
static u32 sts(unsigned int cpu)
{
	wr(CPUHP_REG_SEL, cpu, 4);
	return rd(CPUHP_REG_STS, 4);
}

START_TEST(test_boot_state)
{
	ck_assert_uint_eq(rd(CPUHP_REG_SEL, 4), 0);
	ck_assert_uint_eq(sts(0), CPUHP_STS_ENABLED);
	ck_assert_uint_eq(sts(1), 0);
	ck_assert_uint_eq(sts(2), CPUHP_STS_ENABLED);
	ck_assert_uint_eq(rd(CPUHP_REG_SEL, 4), 2);
	ck_assert_int_eq(irq_changes, 0);
	ck_assert(!acpi_cpuhp__eject_requested(&hp, 2));
}
END_TEST

/* Plug: enabled and insert pending, the SPI up until the guest clears the event. */
START_TEST(test_plug)
{
	ck_assert(acpi_cpuhp__plug(&hp, 1));
	ck_assert_int_eq(irq_level, 1);
	ck_assert_uint_eq(sts(1), CPUHP_STS_ENABLED | CPUHP_STS_INSERT);
	ck_assert(!acpi_cpuhp__plug(&hp, 1));		/* already: nothing more */
	ck_assert(!acpi_cpuhp__plug(&hp, 0));
	ck_assert_int_eq(irq_changes, 1);
	wr(CPUHP_REG_STS, CPUHP_STS_INSERT | CPUHP_STS_ENABLED, 4);	/* ENABLED is not W1C */
	ck_assert_uint_eq(sts(1), CPUHP_STS_ENABLED);
	ck_assert_int_eq(irq_level, 0);
	/* Two vCPUs pending: the SPI stays up until both are taken. */
	ck_assert(acpi_cpuhp__plug(&hp, 3));
	ck_assert(acpi_cpuhp__request_eject(&hp, 2));
	wr(CPUHP_REG_SEL, 3, 4);
	wr(CPUHP_REG_STS, CPUHP_STS_EVENTS, 4);
	ck_assert_int_eq(irq_level, 1);
	ck_assert_uint_eq(sts(2), CPUHP_STS_ENABLED | CPUHP_STS_REMOVE);
	wr(CPUHP_REG_STS, CPUHP_STS_REMOVE, 4);
	ck_assert_int_eq(irq_level, 0);
}
END_TEST

/* Unplug: a request once (no duplicate), which stays until the guest's eject. */
START_TEST(test_eject)
{
	ck_assert(acpi_cpuhp__request_eject(&hp, 2));
	ck_assert(!acpi_cpuhp__request_eject(&hp, 2));
	ck_assert(!acpi_cpuhp__request_eject(&hp, 1));	/* not enabled */
	ck_assert(acpi_cpuhp__eject_requested(&hp, 2));
	ck_assert_int_eq(irq_level, 1);
	ck_assert_uint_eq(sts(2), CPUHP_STS_ENABLED | CPUHP_STS_REMOVE);
	wr(CPUHP_REG_STS, CPUHP_STS_REMOVE, 4);
	ck_assert_int_eq(irq_level, 0);
	ck_assert(acpi_cpuhp__eject_requested(&hp, 2));	/* taken, not completed */
	wr(CPUHP_REG_CMD, CPUHP_CMD_EJECT, 4);
	ck_assert_uint_eq(ejects[2], 1);
	ck_assert_uint_eq(sts(2), 0);
	ck_assert(!acpi_cpuhp__eject_requested(&hp, 2));
	/* Ejecting a vCPU that is not enabled does nothing. */
	wr(CPUHP_REG_CMD, CPUHP_CMD_EJECT, 4);
	wr(CPUHP_REG_SEL, 1, 4);
	wr(CPUHP_REG_CMD, CPUHP_CMD_EJECT, 4);
	ck_assert_uint_eq(ejects[1] + ejects[2], 1);
	/* Plugged again: a request out is dropped, the device check goes out instead. */
	ck_assert(acpi_cpuhp__plug(&hp, 2));
	ck_assert(acpi_cpuhp__request_eject(&hp, 2));
	acpi_cpuhp__ejected(&hp, 2);
	ck_assert_int_eq(irq_level, 0);
	ck_assert(acpi_cpuhp__plug(&hp, 2));
	ck_assert_uint_eq(sts(2), CPUHP_STS_ENABLED | CPUHP_STS_INSERT);
	ck_assert(!acpi_cpuhp__eject_requested(&hp, 2));
}
END_TEST

/* Whatever the guest does: wrong sizes, offsets, selectors and commands change nothing. */
START_TEST(test_bad_accesses)
{
	static const unsigned int lens[] = { 1, 2, 8 };

	acpi_cpuhp__plug(&hp, 1);
	wr(CPUHP_REG_SEL, 1, 4);
	for (unsigned int i = 0; i < ARRAY_SIZE(lens); i++) {
		ck_assert_uint_eq(rd(CPUHP_REG_STS, lens[i]), 0);
		wr(CPUHP_REG_SEL, 3, lens[i]);
		wr(CPUHP_REG_STS, CPUHP_STS_EVENTS, lens[i]);
		wr(CPUHP_REG_CMD, CPUHP_CMD_EJECT, lens[i]);
	}
	for (u64 off = 1; off < LKVM_ACPI_CPUHP_SIZE; off += off < 16 ? 1 : 0x3f1) {
		if (off % 4 == 0 && off < CPUHP_NR_REGS * 4)
			continue;
		ck_assert_uint_eq(rd(off, 4), 0);
		wr(off, CPUHP_CMD_EJECT, 4);
		wr(off, 0xffffffff, 4);
	}
	ck_assert_uint_eq(rd(CPUHP_REG_SEL, 4), 1);
	ck_assert_uint_eq(rd(CPUHP_REG_STS, 4), CPUHP_STS_ENABLED | CPUHP_STS_INSERT);
	ck_assert_uint_eq(rd(CPUHP_REG_CMD, 4), 0);	/* write-only */
	/* Selectors past the last vCPU select none. */
	for (unsigned int i = 0; i < 3; i++) {
		static const u32 sels[] = { NR, 0x80000000U, 0xffffffffU };

		wr(CPUHP_REG_SEL, sels[i], 4);
		ck_assert_uint_eq(rd(CPUHP_REG_SEL, 4), sels[i]);
		ck_assert_uint_eq(rd(CPUHP_REG_STS, 4), 0);
		wr(CPUHP_REG_STS, CPUHP_STS_EVENTS, 4);
		wr(CPUHP_REG_CMD, CPUHP_CMD_EJECT, 4);
	}
	/* Unknown commands. */
	wr(CPUHP_REG_SEL, 1, 4);
	wr(CPUHP_REG_CMD, 0, 4);
	wr(CPUHP_REG_CMD, 2, 4);
	wr(CPUHP_REG_CMD, 0xffffffff, 4);
	ck_assert_uint_eq(sts(1), CPUHP_STS_ENABLED | CPUHP_STS_INSERT);
	for (unsigned int i = 0; i < NR; i++)
		ck_assert_uint_eq(ejects[i], 0);
	ck_assert_int_eq(irq_level, 1);
}
END_TEST

static bool has(const struct aml *a, const void *what, size_t n)
{
	return memmem(a->buf, a->len, what, n) != NULL;
}

/* The processor device's methods, byte for byte: _STA returns CSTA(cpu), _EJ0 calls CEJ0(cpu). */
START_TEST(test_cpu_aml)
{
	static const u8 want[] = {
		0x14, 0x18, '_', 'S', 'T', 'A', 0x00,			/* Method(_STA, 0) */
		0xa4, 0x5c, 0x2f, 0x03, '_', 'S', 'B', '_', 'G', 'E', 'D', '0', 'C', 'S', 'T', 'A',
		0x0a, 0x02,						/* Return(CSTA(2)) */
		0x14, 0x17, '_', 'E', 'J', '0', 0x01,			/* Method(_EJ0, 1) */
		0x5c, 0x2f, 0x03, '_', 'S', 'B', '_', 'G', 'E', 'D', '0', 'C', 'E', 'J', '0',
		0x0a, 0x02,						/* CEJ0(2) */
	};
	struct aml a;

	aml__init(&a);
	acpi_cpuhp__cpu_aml(&a, 2);
	ck_assert_int_eq(aml__finish(&a), 0);
	ck_assert_uint_eq(a.len, sizeof(want));
	ck_assert_mem_eq(a.buf, want, sizeof(want));
	aml__release(&a);
}
END_TEST

/* The GED: its HID, its level-triggered SPI, the registers' region, a Notify per vCPU and kind. */
START_TEST(test_ged_aml)
{
	/* Extended Interrupt: consumer, level, active high, exclusive; INTID 33 */
	static const u8 irq[] = { 0x89, 0x06, 0x00, 0x01, 0x01, 0x21, 0x00, 0x00, 0x00 };
	/* OperationRegion(CPHR, SystemMemory, 0x01010000, 0x0c) */
	static const u8 region[] = { 0x5b, 0x80, 'C', 'P', 'H', 'R', 0x00, 0x0c, 0x00, 0x00, 0x01,
				     0x01, 0x0a, 0x0c };
	/* Notify(\_SB.C003, 3) */
	static const u8 notify3[] = { 0x86, 0x5c, 0x2e, '_', 'S', 'B', '_', 'C', '0', '0', '3',
				      0x0a, 0x03 };
	static const u8 notify4[] = { 'C', '0', '0', '4' };
	struct aml a;

	aml__init(&a);
	acpi_cpuhp__aml(&a, NR, LKVM_ACPI_CPUHP_BASE, 33);
	ck_assert_int_eq(aml__finish(&a), 0);
	ck_assert(has(&a, "ACPI0013", 9));
	ck_assert(has(&a, irq, sizeof(irq)));
	ck_assert(has(&a, region, sizeof(region)));
	ck_assert(has(&a, "_EVT", 4));
	ck_assert(has(&a, notify3, sizeof(notify3)));
	ck_assert(!has(&a, notify4, sizeof(notify4)));
	ck_assert(has(&a, "CPLK", 4));
	aml__release(&a);
}
END_TEST

static int gen_gicd(const struct acpi_gen *self, struct acpi_ctx *ctx)
{
	(void)self;
	ctx->gicd = LKVM_GIC_DIST_BASE;
	ctx->gicr = LKVM_GICV3_REDIST_BASE;
	return 0;
}

/* The MADT: plugged vCPUs Enabled, the others Online Capable; the DSDT's CPUs get _EJ0. */
START_TEST(test_madt_online_capable)
{
	static u8 buf[LKVM_ACPI_SIZE];
	static const u64 mpidrs[NR] = { 0, 1, 2, 3 };
	static const bool enabled[NR] = { true, false, true, false };
	static const struct acpi_gen g = { gen_gicd };
	static const struct acpi_gen *const gens[] = { &g };
	struct acpi_desc d = {
		.ram_base = LKVM_RAM_BASE, .ram_size = 64 << 20, .nr_cpus = NR, .mpidrs = mpidrs,
		.gic_version = 3, .psci_hvc = true, .gens = gens, .nr_gens = 1,
		.cpu_enabled = enabled, .cpu_aml = acpi_cpuhp__cpu_aml,
	};
	u64 gpa = LKVM_RAM_BASE + (32 << 20);
	struct acpi_image img;
	const u8 *madt = NULL, *dsdt = NULL;
	u32 dsdt_len = 0;

	ck_assert_int_eq(acpi__build(&d, buf, gpa, sizeof(buf), &img), 0);
	for (unsigned int i = 0; i < img.nr_tables; i++) {
		if (!strcmp(img.tables[i].signature, "APIC"))
			madt = buf + img.tables[i].offset;
		if (!strcmp(img.tables[i].signature, "DSDT")) {
			dsdt = buf + img.tables[i].offset;
			dsdt_len = img.tables[i].len;
		}
	}
	ck_assert_ptr_nonnull(madt);
	ck_assert_ptr_nonnull(dsdt);
	for (unsigned int i = 0; i < NR; i++) {
		u32 flags;

		memcpy(&flags, madt + 44 + i * 80 + 12, 4);
		ck_assert_uint_eq(flags, enabled[i] ? 1 : 8);
	}
	ck_assert_ptr_nonnull(memmem(dsdt, dsdt_len, "_EJ0", 4));
	ck_assert_ptr_nonnull(memmem(dsdt, dsdt_len, "CSTA", 4));
}
END_TEST

Suite *acpi_cpuhp_suite(void)
{
	Suite *s = suite_create("acpi_cpuhp");
	TCase *tc = tcase_create("registers");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_boot_state);
	tcase_add_test(tc, test_plug);
	tcase_add_test(tc, test_eject);
	tcase_add_test(tc, test_bad_accesses);
	suite_add_tcase(s, tc);
	tc = tcase_create("aml");
	tcase_add_test(tc, test_cpu_aml);
	tcase_add_test(tc, test_ged_aml);
	tcase_add_test(tc, test_madt_online_capable);
	suite_add_tcase(s, tc);
	return s;
}
