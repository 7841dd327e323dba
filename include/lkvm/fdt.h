/*
 * Builds the guest's device tree with libfdt from a machine description. Devices add their own
 * nodes through fdt_node_gen hooks, so the builder knows no device. No KVM here: unit-testable.
 */
#ifndef LKVM_FDT_H
#define LKVM_FDT_H

#include "lkvm/util.h"

struct fdt_node_gen;

struct fdt_ctx {
	void *fdt;
	u32 gic_phandle;
	unsigned int gic_version;	/* 2 or 3 */
	unsigned int nr_cpus;
	u32 its_phandle;		/* the GICv3 ITS's, or 0: no ITS */
};

struct fdt_node_gen {
	/* Adds nodes under the root; returns a libfdt error (< 0) on failure. */
	int (*gen)(const struct fdt_node_gen *self, const struct fdt_ctx *ctx);
};

/*
 * --acpi: what the EFI stub would put in /chosen (drivers/firmware/efi/fdtparams.c). With it the
 * tree is a stub with /chosen alone, from which Linux picks ACPI (arch/arm64/kernel/acpi.c).
 */
struct fdt_uefi {
	u64 system_table;
	u64 mmap_start, mmap_size;
	u32 desc_size, desc_ver;
};

struct fdt_desc {
	u64 ram_base, ram_size;
	unsigned int nr_cpus;
	const u64 *mpidrs;		/* nr_cpus entries */
	unsigned int gic_version;	/* 2 or 3 */
	bool its;			/* the GIC has an ITS */
	const char *psci_method;	/* "hvc" or "smc" */
	bool sdei;			/* /firmware/sdei, through PSCI's conduit (--sdei) */
	const char *bootargs;		/* may be NULL */
	const char *stdout_path;	/* may be NULL */
	u64 initrd_start, initrd_end;	/* end == start: no initrd */
	u64 kaslr_seed;
	const u8 *rng_seed;
	size_t rng_seed_size;
	const struct fdt_uefi *uefi;	/* non-NULL: a stub tree for an ACPI boot */
	const struct fdt_node_gen *const *gens;	/* the GIC, timer and devices */
	unsigned int nr_gens;
};

#define FDT_GIC_PHANDLE		1
#define FDT_ITS_PHANDLE		2
/* GIC interrupt specifier values. */
#define FDT_IRQ_TYPE_SPI	0
#define FDT_IRQ_TYPE_PPI	1
#define FDT_IRQ_EDGE_RISING	1
#define FDT_IRQ_LEVEL_HIGH	4
#define FDT_IRQ_LEVEL_LOW	8

/* Builds into buf (size bytes). Returns 0, or a libfdt error code (< 0). */
int fdt__build(const struct fdt_desc *desc, void *buf, size_t size);

#endif
