/* acpi: the tables and EFI structures of an --acpi guest, read back field by field. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "lkvm/acpi.h"
#include "lkvm/efi.h"
#include "lkvm/memory-map.h"
#include "suites.h"

#define RAM_SIZE	0x10000000ULL
#define REGION		(LKVM_RAM_BASE + RAM_SIZE - LKVM_FDT_MAX_SIZE + LKVM_ACPI_FDT_SIZE)

static const u64 test_mpidrs[] = { 0x80000000, 0x80000001, 0x80000002, 0x81000103 };
static u8 region[LKVM_ACPI_SIZE];

/*
 * Generators as the devices register them (their own files need a VM). The GIC's addresses are
 * the test's own: the MADT must take them from what the generator said.
 */
#define T_GICD		0x11110000ULL
#define T_GICC		0x22220000ULL
#define T_GICR		0x33330000ULL
#define T_ITS		0x44440000ULL

static int gen_gic(const struct acpi_gen *self, struct acpi_ctx *ctx)
{
	(void)self;
	ctx->gicd = T_GICD;
	ctx->gicc_v2 = T_GICC;
	ctx->gicr = T_GICR;
	ctx->its_base = T_ITS;
	return 0;
}

static int gen_timer(const struct acpi_gen *self, struct acpi_ctx *ctx)
{
	static const u32 intids[4] = { 29, 30, 27, 26 };

	(void)self;
	return acpi__gtdt(ctx, intids);
}

static int gen_uart(const struct acpi_gen *self, struct acpi_ctx *ctx)
{
	(void)self;
	acpi__mmio_device(ctx->dsdt, "COM0", "PNP0501", 0, LKVM_UART_BASE, LKVM_UART_SIZE, 32);
	return acpi__spcr(ctx, LKVM_UART_BASE, 32);
}

static int gen_virtio(const struct acpi_gen *self, struct acpi_ctx *ctx)
{
	(void)self;
	acpi__mmio_device(ctx->dsdt, "VR00", "LNRO0005", 0, LKVM_VIRTIO_MMIO_BASE,
			  LKVM_VIRTIO_MMIO_SIZE, 32 + LKVM_VIRTIO_SPI_BASE);
	return 0;
}

static int gen_pci(const struct acpi_gen *self, struct acpi_ctx *ctx)
{
	(void)self;
	return acpi__pci_host(ctx);
}

static int gen_pmu(const struct acpi_gen *self, struct acpi_ctx *ctx)
{
	(void)self;
	ctx->pmu_intid = 23;
	return 0;
}

static int gen_fails(const struct acpi_gen *self, struct acpi_ctx *ctx)
{
	(void)self;
	(void)ctx;
	return -EIO;
}

static int gen_bad_aml(const struct acpi_gen *self, struct acpi_ctx *ctx)
{
	(void)self;
	aml__device_begin(ctx->dsdt, "bad name");
	aml__end(ctx->dsdt);
	return 0;
}

static const struct acpi_gen g_gic = { gen_gic }, g_timer = { gen_timer }, g_uart = { gen_uart },
			      g_virtio = { gen_virtio }, g_pci = { gen_pci }, g_pmu = { gen_pmu },
			      g_fails = { gen_fails }, g_bad_aml = { gen_bad_aml };
static const struct acpi_gen *const gens_mmio[] = { &g_gic, &g_timer, &g_uart, &g_virtio };
static const struct acpi_gen *const gens_pci[] = { &g_gic, &g_timer, &g_uart, &g_pci, &g_pmu };

static struct acpi_desc desc(const struct acpi_gen *const *gens, unsigned int nr)
{
	return (struct acpi_desc){
		.ram_base = LKVM_RAM_BASE, .ram_size = RAM_SIZE,
		.nr_cpus = ARRAY_SIZE(test_mpidrs), .mpidrs = test_mpidrs,
		.gic_version = 3, .psci_hvc = true, .gens = gens, .nr_gens = nr,
	};
}

static u8 sum(const void *p, size_t len)
{
	u8 s = 0;

	for (size_t i = 0; i < len; i++)
		s = (u8)(s + ((const u8 *)p)[i]);
	return s;
}

static void *at(u64 gpa)
{
	ck_assert(gpa >= REGION && gpa < REGION + sizeof(region));
	return region + (gpa - REGION);
}

static u64 get64(const void *p)
{
	u64 v;

	memcpy(&v, p, 8);
	return v;
}

static u32 get32(const void *p)
{
	u32 v;

	memcpy(&v, p, 4);
	return v;
}

static const struct acpi_table_ref *find(const struct acpi_image *img, const char *sig)
{
	for (unsigned int i = 0; i < img->nr_tables; i++) {
		if (!strcmp(img->tables[i].signature, sig))
			return &img->tables[i];
	}
	return NULL;
}

static void build(const struct acpi_desc *d, struct acpi_image *img)
{
	memset(region, 0xee, sizeof(region));
	ck_assert_int_eq(acpi__build(d, region, REGION, sizeof(region), img), 0);
}

/* Every table: its length, checksum, and lkvm's OEM fields; the XSDT lists all but itself. */
START_TEST(test_checksums_and_xsdt)
{
	struct acpi_desc d = desc(gens_pci, ARRAY_SIZE(gens_pci));
	static const char *const sigs[] = { "RSDP", "XSDT", "DSDT", "FACP", "GTDT", "SPCR", "MCFG",
					    "APIC", "PPTT" };
	struct acpi_image img;
	const struct acpi_table_ref *x;
	const u8 *xsdt;

	build(&d, &img);
	ck_assert_uint_eq(img.nr_tables, ARRAY_SIZE(sigs));
	for (size_t i = 0; i < ARRAY_SIZE(sigs); i++) {
		const struct acpi_table_ref *r = find(&img, sigs[i]);
		const u8 *t;

		ck_assert_msg(r, "no %s", sigs[i]);
		ck_assert_uint_eq(r->addr % 8, 0);
		t = at(r->addr);
		ck_assert_ptr_eq(t, region + r->offset);
		if (i == 0)
			continue;
		ck_assert_mem_eq(t, sigs[i], 4);
		ck_assert_uint_eq(get32(t + 4), r->len);
		ck_assert_uint_eq(sum(t, r->len), 0);
		ck_assert_mem_eq(t + 10, "LKVM  LKVMVIRT", 14);
		ck_assert_mem_eq(t + 28, "LKVM", 4);
	}
	x = find(&img, "XSDT");
	xsdt = at(x->addr);
	ck_assert_uint_eq(x->len, 36 + 8 * (ARRAY_SIZE(sigs) - 3));	/* no RSDP, XSDT, DSDT */
	ck_assert_uint_eq(get64(xsdt + 36), find(&img, "FACP")->addr);	/* the FADT first */
	for (unsigned int i = 0; i < (x->len - 36) / 8; i++) {
		const char *sig = at(get64(xsdt + 36 + 8 * i));

		ck_assert(strncmp(sig, "DSDT", 4) && strncmp(sig, "XSDT", 4));
	}
	/* What lies after the tables, up to the 64K boundary, stays untouched. */
	ck_assert_uint_eq(img.reclaim_size % SZ_64K, 0);
	ck_assert_uint_eq(region[img.reclaim_size], 0xee);
}
END_TEST

START_TEST(test_rsdp)
{
	struct acpi_desc d = desc(gens_mmio, ARRAY_SIZE(gens_mmio));
	struct acpi_image img;
	const u8 *r;

	build(&d, &img);
	r = at(img.rsdp);
	ck_assert_mem_eq(r, "RSD PTR ", 8);
	ck_assert_uint_eq(sum(r, 20), 0);
	ck_assert_uint_eq(sum(r, 36), 0);
	ck_assert_mem_eq(r + 9, "LKVM  ", 6);
	ck_assert_uint_eq(r[15], 2);			/* revision: ACPI 2.0+, with an XSDT */
	ck_assert_uint_eq(get32(r + 16), 0);		/* no RSDT */
	ck_assert_uint_eq(get32(r + 20), 36);
	ck_assert_uint_eq(get64(r + 24), find(&img, "XSDT")->addr);
}
END_TEST

static void check_fadt(bool hvc, u16 want_boot_arch)
{
	struct acpi_desc d = desc(gens_mmio, ARRAY_SIZE(gens_mmio));
	struct acpi_image img;
	const u8 *f;

	d.psci_hvc = hvc;
	build(&d, &img);
	f = at(find(&img, "FACP")->addr);
	ck_assert_uint_eq(get32(f + 4), 276);
	ck_assert_uint_eq(f[8], 6);					/* FADT 6.3 */
	ck_assert_uint_eq(f[131], 3);					/* minor version */
	ck_assert_uint_eq(get32(f + 112), 1U << 20);			/* HW_REDUCED_ACPI */
	ck_assert_uint_eq(f[129] | f[130] << 8, want_boot_arch);
	ck_assert_uint_eq(get32(f + 40), 0);				/* no 32-bit DSDT */
	ck_assert_uint_eq(get64(f + 140), find(&img, "DSDT")->addr);	/* X_DSDT */
	ck_assert_uint_eq(get64(f + 132), 0);				/* no FACS */
}

START_TEST(test_fadt)
{
	check_fadt(true, 3);	/* PSCI_COMPLIANT | PSCI_USE_HVC */
	check_fadt(false, 1);	/* PSCI_COMPLIANT: SMC */
}
END_TEST

/* The MADT's subtables, in order: GICCs, GICD, GICR (v3), ITS (with one). */
static void check_madt(unsigned int gic, bool its, bool pmu)
{
	static const struct acpi_gen *const v3_pmu[] = { &g_gic, &g_pmu };
	static const struct acpi_gen *const v3[] = { &g_gic };
	struct acpi_desc d = desc(pmu ? v3_pmu : v3, pmu ? 2 : 1);
	const struct acpi_table_ref *r;
	struct acpi_image img;
	const u8 *m, *p;

	d.gic_version = gic;
	d.its = its;
	build(&d, &img);
	r = find(&img, "APIC");
	ck_assert_ptr_nonnull(r);
	m = at(r->addr);
	ck_assert_uint_eq(m[8], 5);			/* ACPI 6.3: GICC is 80 bytes */
	ck_assert_uint_eq(r->len, 44 + 4 * 80 + 24 + (gic == 3 ? 16 : 0) + (its ? 20 : 0));
	p = m + 44;
	for (unsigned int i = 0; i < 4; i++, p += 80) {
		ck_assert_uint_eq(p[0], 0x0b);
		ck_assert_uint_eq(p[1], 80);
		ck_assert_uint_eq(get32(p + 4), i);			/* CPU interface number */
		ck_assert_uint_eq(get32(p + 8), i);			/* UID = _UID of C00i */
		ck_assert_uint_eq(get32(p + 12), 1);			/* enabled */
		ck_assert_uint_eq(get32(p + 20), pmu ? 23 : 0);		/* PMU overflow */
		ck_assert_uint_eq(get64(p + 32), gic == 2 ? T_GICC : 0);
		ck_assert_uint_eq(get64(p + 60), 0);			/* GICR from the GICR entry */
		ck_assert_uint_eq(get64(p + 68), test_mpidrs[i] & 0xff00ffffffULL);
	}
	ck_assert_uint_eq(p[0], 0x0c);
	ck_assert_uint_eq(p[1], 24);
	ck_assert_uint_eq(get64(p + 8), T_GICD);
	ck_assert_uint_eq(p[20], gic);
	p += 24;
	if (gic == 3) {
		ck_assert_uint_eq(p[0], 0x0e);
		ck_assert_uint_eq(get64(p + 4), T_GICR);
		ck_assert_uint_eq(get32(p + 12), 4 * LKVM_GICV3_REDIST_SIZE);
		p += 16;
	}
	if (its) {
		ck_assert_uint_eq(p[0], 0x0f);
		ck_assert_uint_eq(p[1], 20);
		ck_assert_uint_eq(get64(p + 8), T_ITS);
	}
}

START_TEST(test_madt)
{
	check_madt(3, false, false);
	check_madt(3, true, true);
	check_madt(2, false, false);
}
END_TEST

START_TEST(test_gtdt_spcr_mcfg)
{
	struct acpi_desc d = desc(gens_pci, ARRAY_SIZE(gens_pci));
	static const u32 gsivs[4] = { 29, 30, 27, 26 };
	const struct acpi_table_ref *r;
	struct acpi_image img;
	const u8 *t;

	build(&d, &img);
	r = find(&img, "GTDT");
	t = at(r->addr);
	ck_assert_uint_eq(r->len, 96);
	ck_assert_uint_eq(t[8], 2);
	ck_assert_uint_eq(get64(t + 36), ~0ULL);		/* no CntControlBase */
	for (int i = 0; i < 4; i++) {
		ck_assert_uint_eq(get32(t + 48 + 8 * i), gsivs[i]);
		ck_assert_uint_eq(get32(t + 52 + 8 * i), 6);	/* active low, always on */
	}
	ck_assert_uint_eq(get64(t + 80), ~0ULL);		/* no CntReadBase */
	ck_assert_uint_eq(get32(t + 88), 0);			/* no platform timers */

	r = find(&img, "SPCR");
	t = at(r->addr);
	ck_assert_uint_eq(r->len, 80);
	ck_assert_uint_eq(t[8], 2);
	ck_assert_uint_eq(t[36], 0);				/* 16550 */
	ck_assert_uint_eq(t[40], 0);				/* system memory */
	ck_assert_uint_eq(t[41], 8);				/* bit width */
	ck_assert_uint_eq(t[43], 1);				/* byte access */
	ck_assert_uint_eq(get64(t + 44), LKVM_UART_BASE);
	ck_assert_uint_eq(t[52], 8);				/* GIC interrupt */
	ck_assert_uint_eq(get32(t + 54), 32 + LKVM_UART_SPI);
	ck_assert_uint_eq(t[58], 7);				/* 115200 */
	ck_assert_uint_eq(t[64] | t[65] << 8, 0xffff);		/* not PCI */

	r = find(&img, "MCFG");
	t = at(r->addr);
	ck_assert_uint_eq(r->len, 60);
	ck_assert_uint_eq(get64(t + 44), LKVM_PCI_CFG_BASE);
	ck_assert_uint_eq(t[52] | t[53] << 8, 0);		/* segment */
	ck_assert_uint_eq(t[54], 0);
	ck_assert_uint_eq(t[55], 0);				/* bus 0 only: 1M of ECAM */
}
END_TEST

static bool has(const u8 *p, size_t len, const void *what, size_t n)
{
	return memmem(p, len, what, n) != NULL;
}

START_TEST(test_dsdt)
{
	struct acpi_desc d = desc(gens_pci, ARRAY_SIZE(gens_pci));
	static const u8 pnp0a08[] = { 0x0c, 0x41, 0xd0, 0x0a, 0x08 };
	static const u8 ecam[] = { 0x86, 0x09, 0x00, 0x01, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00,
				   0x10, 0x00 };
	/* _PRT's last entry: device 31, INTA, no source, GSI 32 + 48 + 31 */
	static const u8 prt31[] = { 0x12, 0x0b, 0x04, 0x0c, 0xff, 0xff, 0x1f, 0x00, 0x00, 0x00,
				    0x0a, 32 + LKVM_PCI_SPI_BASE + 31 };
	const struct acpi_table_ref *r;
	struct acpi_image img;
	const u8 *t;

	build(&d, &img);
	r = find(&img, "DSDT");
	t = at(r->addr);
	ck_assert_uint_eq(t[8], 2);
	ck_assert(has(t, r->len, "_SB_", 4));
	ck_assert(has(t, r->len, "C000", 4));
	ck_assert(has(t, r->len, "C003", 4));
	ck_assert(!has(t, r->len, "C004", 4));
	ck_assert(has(t, r->len, "ACPI0007", 9));
	ck_assert(has(t, r->len, "PNP0501", 8));
	ck_assert(has(t, r->len, pnp0a08, sizeof(pnp0a08)));
	ck_assert(has(t, r->len, ecam, sizeof(ecam)));
	ck_assert(has(t, r->len, prt31, sizeof(prt31)));

	d = desc(gens_mmio, ARRAY_SIZE(gens_mmio));
	build(&d, &img);
	r = find(&img, "DSDT");
	t = at(r->addr);
	ck_assert(has(t, r->len, "VR00", 4));
	ck_assert(has(t, r->len, "LNRO0005", 9));
	ck_assert(!has(t, r->len, "PCI0", 4));
	ck_assert_ptr_null(find(&img, "MCFG"));
}
END_TEST

/* A package node, then a leaf per vCPU with its processor UID, under the package. */
START_TEST(test_pptt)
{
	struct acpi_desc d = desc(gens_mmio, ARRAY_SIZE(gens_mmio));
	const struct acpi_table_ref *r;
	struct acpi_image img;
	const u8 *t, *p;

	build(&d, &img);
	r = find(&img, "PPTT");
	t = at(r->addr);
	ck_assert_uint_eq(t[8], 2);
	ck_assert_uint_eq(r->len, 36 + 5 * 20);
	ck_assert_uint_eq(t[36], 0);
	ck_assert_uint_eq(t[37], 20);
	ck_assert_uint_eq(get32(t + 40), 1);		/* physical package */
	ck_assert_uint_eq(get32(t + 44), 0);		/* no parent */
	for (unsigned int i = 0; i < 4; i++) {
		p = t + 56 + 20 * i;
		ck_assert_uint_eq(p[0], 0);
		ck_assert_uint_eq(p[1], 20);
		ck_assert_uint_eq(get32(p + 4), 0xa);	/* ID valid, leaf */
		ck_assert_uint_eq(get32(p + 8), 36);	/* the package */
		ck_assert_uint_eq(get32(p + 12), i);
		ck_assert_uint_eq(get32(p + 16), 0);
	}
}
END_TEST

/* With an ITS and a PCI bus: bus 0's requester IDs map 1:1 to the ITS's device IDs. */
START_TEST(test_iort)
{
	struct acpi_desc d = desc(gens_pci, ARRAY_SIZE(gens_pci));
	const struct acpi_table_ref *r;
	struct acpi_image img;
	const u8 *t;

	build(&d, &img);
	ck_assert_ptr_null(find(&img, "IORT"));
	d.its = true;
	build(&d, &img);
	r = find(&img, "IORT");
	ck_assert_ptr_nonnull(r);
	t = at(r->addr);
	ck_assert_uint_eq(r->len, 128);
	ck_assert_uint_eq(t[8], 0);
	ck_assert_uint_eq(get32(t + 36), 2);		/* nodes */
	ck_assert_uint_eq(get32(t + 40), 48);
	ck_assert_uint_eq(t[48], 0);			/* ITS group */
	ck_assert_uint_eq(t[49] | t[50] << 8, 24);
	ck_assert_uint_eq(get32(t + 64), 1);		/* one ITS, */
	ck_assert_uint_eq(get32(t + 68), 0);		/* the MADT's ITS 0 */
	ck_assert_uint_eq(t[72], 2);			/* root complex */
	ck_assert_uint_eq(t[73] | t[74] << 8, 56);
	ck_assert_uint_eq(get32(t + 80), 1);		/* one mapping, */
	ck_assert_uint_eq(get32(t + 84), 36);		/* at +36 */
	ck_assert_uint_eq(get32(t + 88), 1);		/* coherent */
	ck_assert_uint_eq(get32(t + 100), 0);		/* segment 0 */
	ck_assert_uint_eq(get32(t + 108), 0);		/* input base */
	ck_assert_uint_eq(get32(t + 112), 255);		/* 256 IDs */
	ck_assert_uint_eq(get32(t + 116), 0);		/* output base */
	ck_assert_uint_eq(get32(t + 120), 48);		/* to the ITS group */
	/* No PCI bus, no IORT. */
	d = desc(gens_mmio, ARRAY_SIZE(gens_mmio));
	d.its = true;
	build(&d, &img);
	ck_assert_ptr_null(find(&img, "IORT"));
}
END_TEST

START_TEST(test_sdei)
{
	struct acpi_desc d = desc(gens_mmio, ARRAY_SIZE(gens_mmio));
	const struct acpi_table_ref *r;
	struct acpi_image img;

	build(&d, &img);
	ck_assert_ptr_null(find(&img, "SDEI"));
	d.sdei = true;
	build(&d, &img);
	r = find(&img, "SDEI");
	ck_assert_ptr_nonnull(r);
	ck_assert_uint_eq(r->len, 36);
	ck_assert_uint_eq(((const u8 *)at(r->addr))[8], 1);
}
END_TEST

/* The EFI system table, its configuration table and the memory map Linux takes RAM from. */
START_TEST(test_efi)
{
	static const u8 acpi20[16] = { 0x71, 0xe8, 0x68, 0x88, 0xf1, 0xe4, 0xd3, 0x11,
				       0xbc, 0x22, 0x00, 0x80, 0xc7, 0x3c, 0x88, 0x81 };
	static const u8 rtprop[16] = { 0x8a, 0x91, 0x66, 0xeb, 0xef, 0x7e, 0x2a, 0x40,
				       0x84, 0x2e, 0x93, 0x1d, 0x21, 0xc3, 0x8a, 0xe9 };
	struct acpi_desc d = desc(gens_mmio, ARRAY_SIZE(gens_mmio));
	const struct efi_memory_desc *md;
	struct acpi_image img;
	u8 st[120];
	const u8 *cfg;
	u32 crc;
	u64 next;

	build(&d, &img);
	ck_assert_uint_eq(img.efi_systab, REGION);
	memcpy(st, at(img.efi_systab), sizeof(st));
	ck_assert_uint_eq(get64(st), 0x5453595320494249ULL);	/* "IBI SYST" */
	ck_assert_uint_eq(get32(st + 12), 120);
	crc = get32(st + 16);
	memset(st + 16, 0, 4);
	ck_assert_uint_eq(crc, (u32)crc32(0, st, sizeof(st)));
	ck_assert_mem_eq(at(get64(st + 24)), "l\0k\0v\0m\0\0\0", 10);	/* fw_vendor, UCS-2 */
	ck_assert_uint_eq(get64(st + 88), 0);				/* no runtime services */
	ck_assert_uint_eq(get64(st + 96), 0);				/* no boot services */
	ck_assert_uint_eq(get64(st + 104), 3);
	cfg = at(get64(st + 112));
	ck_assert_mem_eq(cfg, acpi20, 16);
	ck_assert_uint_eq(get64(cfg + 16), img.rsdp);
	ck_assert_mem_eq(cfg + 24, rtprop, 16);
	ck_assert_uint_eq(get32((const u8 *)at(get64(cfg + 40)) + 4), 0);	/* none supported */
	ck_assert_uint_eq(get64((const u8 *)at(get64(cfg + 64)) + 8), 0);	/* empty memreserve */

	/* RAM below the region, the region's used part, RAM above: all of RAM, nothing else. */
	ck_assert_uint_eq(img.efi_desc_size, 40);
	ck_assert_uint_eq(img.efi_desc_ver, 1);
	ck_assert_uint_eq(img.efi_mmap_size, 3 * 40);
	md = at(img.efi_mmap);
	next = LKVM_RAM_BASE;
	for (int i = 0; i < 3; i++) {
		ck_assert_uint_eq(md[i].type, i == 1 ? EFI_ACPI_RECLAIM_MEMORY :
						       EFI_CONVENTIONAL_MEMORY);
		ck_assert_uint_eq(md[i].phys_addr, next);
		ck_assert_uint_eq(md[i].attribute, EFI_MEMORY_WB);
		ck_assert_uint_eq(md[i].phys_addr % SZ_64K, 0);
		next += md[i].num_pages << EFI_PAGE_SHIFT;
	}
	ck_assert_uint_eq(md[1].phys_addr, REGION);
	ck_assert_uint_eq(md[1].num_pages << EFI_PAGE_SHIFT, img.reclaim_size);
	ck_assert_uint_eq(next, LKVM_RAM_BASE + RAM_SIZE);
}
END_TEST

START_TEST(test_errors)
{
	static const struct acpi_gen *const fails[] = { &g_gic, &g_fails };
	static const struct acpi_gen *const bad[] = { &g_bad_aml };
	struct acpi_desc d = desc(gens_mmio, ARRAY_SIZE(gens_mmio));
	struct acpi_image img;
	u64 many[LKVM_MAX_CPUS] = { 0 };

	ck_assert_int_eq(acpi__build(&d, region, REGION + 0x1000, sizeof(region), &img), -EINVAL);
	ck_assert_int_eq(acpi__build(&d, region, REGION, 1024, &img), -ENOSPC);
	d = desc(fails, ARRAY_SIZE(fails));
	ck_assert_int_eq(acpi__build(&d, region, REGION, sizeof(region), &img), -EIO);
	d = desc(bad, ARRAY_SIZE(bad));
	ck_assert_int_eq(acpi__build(&d, region, REGION, sizeof(region), &img), -EINVAL);
	/* The most vCPUs lkvm has fit the region. */
	for (unsigned int i = 0; i < LKVM_MAX_CPUS; i++)
		many[i] = i;
	d = desc(gens_pci, ARRAY_SIZE(gens_pci));
	d.nr_cpus = LKVM_MAX_CPUS;
	d.mpidrs = many;
	build(&d, &img);
	ck_assert(has(at(find(&img, "DSDT")->addr), find(&img, "DSDT")->len, "C1FF", 4));
}
END_TEST

/* --dump-acpi: one file per table, 0644, in a directory made if missing; no symlinks followed. */
START_TEST(test_dump)
{
	struct acpi_desc d = desc(gens_pci, ARRAY_SIZE(gens_pci));
	char dir[] = "/tmp/lkvm-acpi-XXXXXX", path[128], link[160];
	struct acpi_image img;
	struct stat st;
	u8 buf[4096];
	int fd;

	build(&d, &img);
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/out", dir);
	ck_assert_int_eq(acpi__dump(path, region, &img), 0);
	for (unsigned int i = 0; i < img.nr_tables; i++) {
		const struct acpi_table_ref *r = &img.tables[i];
		char f[160];
		ssize_t n;

		snprintf(f, sizeof(f), "%s/%c%c%c%c.dat", path, r->signature[0] | 0x20,
			 r->signature[1] | 0x20, r->signature[2] | 0x20, r->signature[3] | 0x20);
		ck_assert_int_eq(stat(f, &st), 0);
		ck_assert_uint_eq(st.st_mode & 07777, 0644);
		fd = open(f, O_RDONLY);
		n = read(fd, buf, sizeof(buf));
		close(fd);
		ck_assert_int_eq(n, r->len);
		ck_assert_mem_eq(buf, region + r->offset, r->len);
	}
	/* An existing file: rewritten whole, its mode set. */
	snprintf(link, sizeof(link), "%s/dsdt.dat", path);
	ck_assert_int_eq(chmod(link, 0600), 0);
	fd = open(link, O_WRONLY | O_APPEND);
	ck_assert_int_eq(write(fd, "junk", 4), 4);
	close(fd);
	ck_assert_int_eq(acpi__dump(path, region, &img), 0);
	ck_assert_int_eq(stat(link, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0644);
	ck_assert_uint_eq(st.st_size, find(&img, "DSDT")->len);
	/* A symlinked table file, and a symlinked directory, are refused. */
	ck_assert_int_eq(unlink(link), 0);
	ck_assert_int_eq(symlink("/tmp/lkvm-acpi-elsewhere", link), 0);
	capture_begin(2);
	ck_assert_int_lt(acpi__dump(path, region, &img), 0);
	ck_assert_ptr_nonnull(strstr(capture_end(2), "dsdt.dat"));
	ck_assert_int_eq(access("/tmp/lkvm-acpi-elsewhere", F_OK), -1);
	snprintf(link, sizeof(link), "%s/link", dir);
	ck_assert_int_eq(symlink(path, link), 0);
	capture_begin(2);
	ck_assert_int_lt(acpi__dump(link, region, &img), 0);
	ck_assert_ptr_nonnull(strstr(capture_end(2), "not a directory"));
	snprintf(path, sizeof(path), "rm -rf %s", dir);
	ck_assert_int_eq(system(path), 0);
}
END_TEST

Suite *acpi_suite(void)
{
	Suite *s = suite_create("acpi");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_checksums_and_xsdt);
	tcase_add_test(tc, test_rsdp);
	tcase_add_test(tc, test_fadt);
	tcase_add_test(tc, test_madt);
	tcase_add_test(tc, test_gtdt_spcr_mcfg);
	tcase_add_test(tc, test_dsdt);
	tcase_add_test(tc, test_pptt);
	tcase_add_test(tc, test_iort);
	tcase_add_test(tc, test_sdei);
	tcase_add_test(tc, test_efi);
	tcase_add_test(tc, test_errors);
	tcase_add_test(tc, test_dump);
	suite_add_tcase(s, tc);
	return s;
}
