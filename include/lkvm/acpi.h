/*
 * ACPI tables for --acpi guests, and the minimal EFI structures through which Linux finds them
 * without UEFI firmware (Documentation/acpi.md). As with the device tree, the builder knows no
 * device: the GIC, the timer, the UART, the PCI bridge and each virtio-mmio slot register an
 * acpi_gen that adds their DSDT objects and their own tables (MADT, GTDT, SPCR, MCFG). No KVM
 * here: unit-testable.
 */
#ifndef LKVM_ACPI_H
#define LKVM_ACPI_H

#include "lkvm/aml.h"
#include "lkvm/util.h"

#define ACPI_OEM_ID		"LKVM  "
#define ACPI_OEM_TABLE_ID	"LKVMVIRT"
#define ACPI_CREATOR_ID		"LKVM"
#define ACPI_MAX_TABLES		16

struct acpi_header {
	char signature[4];
	u32 length;
	u8 revision;
	u8 checksum;
	char oem_id[6];
	char oem_table_id[8];
	u32 oem_revision;
	char creator_id[4];
	u32 creator_revision;
} __attribute__((packed));

/* Generic Address Structure. */
struct acpi_gas {
	u8 space_id;
	u8 bit_width;
	u8 bit_offset;
	u8 access_size;
	u64 address;
} __attribute__((packed));

/* One table as the guest sees it, for --dump-acpi and the tests. */
struct acpi_table_ref {
	char signature[5];
	u64 addr;		/* guest-physical */
	size_t offset;		/* in the firmware region */
	u32 len;
};

struct acpi_tables;

/*
 * What a generator writes to. The MADT is built once every generator ran, from what the GIC
 * and the PMU put here.
 */
struct acpi_ctx {
	struct aml *dsdt;		/* inside Scope(\_SB) */
	struct acpi_tables *tables;
	unsigned int nr_cpus;
	const u64 *mpidrs;
	unsigned int gic_version;	/* 2 or 3 */
	bool its;			/* the GICv3 has an ITS */
	/* Set by the GIC's generator; gicd 0: no GIC registered, no MADT. */
	u64 gicd, gicc_v2, gicr;	/* the distributor, GICv2's CPU interface, GICv3's RDs */
	u64 its_base;
	u32 pmu_intid;			/* the PMU's PPI as a GIC INTID, 0: no PMU */
	const bool *cpu_enabled;	/* from acpi_desc */
};

struct acpi_gen {
	/* Adds DSDT objects and tables; returns < 0 (an errno) on failure. */
	int (*gen)(const struct acpi_gen *self, struct acpi_ctx *ctx);
};

/*
 * Adds a complete table (header from acpi__header); the builder sets its checksum once it is
 * placed. -ENOSPC past ACPI_MAX_TABLES, -ENOMEM.
 */
int acpi__add_table(struct acpi_ctx *ctx, const void *table, size_t len);
/* Fills a table's header: signature, length, revision, lkvm's OEM and creator fields. */
void acpi__header(struct acpi_header *h, const char *sig, u32 len, u8 rev);
/* The byte that makes the len bytes at p sum to 0 mod 256, with *csum (inside p) zeroed first. */
void acpi__checksum(void *p, size_t len, u8 *csum);

/* The tables (hw/acpi/tables.c), each added to ctx. */
int acpi__fadt(struct acpi_ctx *ctx, bool psci_hvc);
void acpi__fadt_set_dsdt(void *fadt, u64 dsdt);
int acpi__sdei(struct acpi_ctx *ctx);
/* A package of one core per vCPU, each with its GICC's processor UID. */
int acpi__pptt(struct acpi_ctx *ctx);
/* GICC per vCPU, GICD, GICR range (v3) or GICC base (v2), ITS; from ctx. */
int acpi__madt(struct acpi_ctx *ctx);
/* Timer PPIs (INTIDs): secure EL1, non-secure EL1, virtual, non-secure EL2. */
int acpi__gtdt(struct acpi_ctx *ctx, const u32 intids[4]);
/* A 16550 at base (byte registers), interrupting on intid. */
int acpi__spcr(struct acpi_ctx *ctx, u64 base, u32 intid);
/* The root complex's nr_ids requester IDs (from 0) map 1:1 to the ITS's device IDs. */
int acpi__iort(struct acpi_ctx *ctx, unsigned int nr_ids);
/* ECAM at base for segment 0, buses 0 to bus_end. */
int acpi__mcfg(struct acpi_ctx *ctx, u64 base, u8 bus_end);

/* The PCI host bridge's DSDT device and its MCFG (hw/acpi/pci.c). */
int acpi__pci_host(struct acpi_ctx *ctx);
/* Device(name) with _HID, _UID, _CCA and a _CRS of one register window and one SPI. */
void acpi__mmio_device(struct aml *a, const char *name, const char *hid, unsigned int uid,
		       u32 base, u32 size, u32 intid);

struct acpi_desc {
	u64 ram_base, ram_size;
	unsigned int nr_cpus;
	const u64 *mpidrs;		/* nr_cpus entries */
	unsigned int gic_version;	/* 2 or 3 */
	bool its;
	bool psci_hvc;			/* the PSCI (and SDEI) conduit: HVC, else SMC */
	bool sdei;			/* an SDEI table: the guest probes SDEI */
	const struct acpi_gen *const *gens;
	unsigned int nr_gens;
	/*
	 * vCPU hot-add (acpi-cpuhp.h): the vCPUs enabled at boot (NULL: all); the others are
	 * online-capable in the MADT. cpu_aml adds _STA and _EJ0 to each processor device (NULL:
	 * _STA is always 0xF).
	 */
	const bool *cpu_enabled;
	void (*cpu_aml)(struct aml *a, unsigned int cpu);
};

/* Where the built structures are, in guest-physical addresses. */
struct acpi_image {
	u64 rsdp;
	u64 efi_systab;
	u64 efi_mmap, efi_mmap_size;
	u32 efi_desc_size, efi_desc_ver;
	u64 reclaim_size;		/* from the region's start: the EfiACPIReclaimMemory part */
	struct acpi_table_ref tables[ACPI_MAX_TABLES + 4];	/* + RSDP, XSDT, FADT, DSDT */
	unsigned int nr_tables;
};

/*
 * Builds every table and the EFI system table and memory map into buf, which the guest sees at
 * gpa, size bytes, inside RAM [ram_base, ram_base + ram_size) and 64K-aligned. Returns 0, or
 * -ENOSPC (too small), -ENOMEM, -EINVAL (a generator's bad AML), or a generator's error.
 */
int acpi__build(const struct acpi_desc *d, u8 *buf, u64 gpa, size_t size, struct acpi_image *out);

/*
 * Writes each table of img (built in region) to DIR/<signature>.dat, DIR made if missing.
 * Logs and returns < 0 on error.
 */
int acpi__dump(const char *dir, const u8 *region, const struct acpi_image *img);

#endif
