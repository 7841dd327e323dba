/* The generic part of the guest device tree; the GIC, timer and devices add their own nodes. */
#include "lkvm/fdt.h"

#include <libfdt.h>
#include <stdio.h>

#define TRY(expr)				\
	do {					\
		int err_ = (expr);		\
		if (err_ < 0)			\
			return err_;		\
	} while (0)

static int fdt_property_reg64(void *fdt, u64 addr, u64 size)
{
	fdt64_t reg[2] = { cpu_to_fdt64(addr), cpu_to_fdt64(size) };

	return fdt_property(fdt, "reg", reg, sizeof(reg));
}

static int fdt__memory(void *fdt, const struct fdt_desc *d)
{
	char name[32];

	snprintf(name, sizeof(name), "memory@%llx", (unsigned long long)d->ram_base);
	TRY(fdt_begin_node(fdt, name));
	TRY(fdt_property_string(fdt, "device_type", "memory"));
	TRY(fdt_property_reg64(fdt, d->ram_base, d->ram_size));
	return fdt_end_node(fdt);
}

static int fdt__cpus(void *fdt, const struct fdt_desc *d)
{
	TRY(fdt_begin_node(fdt, "cpus"));
	TRY(fdt_property_cell(fdt, "#address-cells", 2));
	TRY(fdt_property_cell(fdt, "#size-cells", 0));
	for (unsigned int i = 0; i < d->nr_cpus; i++) {
		/* reg is the MPIDR's affinity fields: Aff3 in [39:32], Aff2..0 in [23:0]. */
		u64 aff = d->mpidrs[i] & 0xff00ffffffULL;
		char name[32];

		snprintf(name, sizeof(name), "cpu@%llx", (unsigned long long)aff);
		TRY(fdt_begin_node(fdt, name));
		TRY(fdt_property_string(fdt, "device_type", "cpu"));
		TRY(fdt_property_string(fdt, "compatible", "arm,arm-v8"));
		TRY(fdt_property_string(fdt, "enable-method", "psci"));
		TRY(fdt_property_u64(fdt, "reg", aff));
		TRY(fdt_end_node(fdt));
	}
	return fdt_end_node(fdt);
}

static int fdt__psci(void *fdt, const struct fdt_desc *d)
{
	static const char compat[] = "arm,psci-1.0\0arm,psci-0.2\0arm,psci";

	TRY(fdt_begin_node(fdt, "psci"));
	TRY(fdt_property(fdt, "compatible", compat, sizeof(compat)));
	TRY(fdt_property_string(fdt, "method", d->psci_method));
	return fdt_end_node(fdt);
}

/* Every property is required; the secure boot mode is efi_secureboot_mode_disabled. */
static int fdt__uefi(void *fdt, const struct fdt_uefi *u)
{
	TRY(fdt_property_u64(fdt, "linux,uefi-system-table", u->system_table));
	TRY(fdt_property_u64(fdt, "linux,uefi-mmap-start", u->mmap_start));
	TRY(fdt_property_u32(fdt, "linux,uefi-mmap-size", (u32)u->mmap_size));
	TRY(fdt_property_u32(fdt, "linux,uefi-mmap-desc-size", u->desc_size));
	TRY(fdt_property_u32(fdt, "linux,uefi-mmap-desc-ver", u->desc_ver));
	return fdt_property_u32(fdt, "linux,uefi-secure-boot", 2);
}

/* Linux's SDEI binding: its calls go through the same conduit as PSCI's. */
static int fdt__sdei(void *fdt, const struct fdt_desc *d)
{
	TRY(fdt_begin_node(fdt, "firmware"));
	TRY(fdt_begin_node(fdt, "sdei"));
	TRY(fdt_property_string(fdt, "compatible", "arm,sdei-1.0"));
	TRY(fdt_property_string(fdt, "method", d->psci_method));
	TRY(fdt_end_node(fdt));
	return fdt_end_node(fdt);
}

static int fdt__chosen(void *fdt, const struct fdt_desc *d)
{
	TRY(fdt_begin_node(fdt, "chosen"));
	if (d->bootargs)
		TRY(fdt_property_string(fdt, "bootargs", d->bootargs));
	if (d->stdout_path)
		TRY(fdt_property_string(fdt, "stdout-path", d->stdout_path));
	if (d->initrd_end > d->initrd_start) {
		TRY(fdt_property_u64(fdt, "linux,initrd-start", d->initrd_start));
		TRY(fdt_property_u64(fdt, "linux,initrd-end", d->initrd_end));
	}
	TRY(fdt_property_u64(fdt, "kaslr-seed", d->kaslr_seed));
	if (d->rng_seed_size)
		TRY(fdt_property(fdt, "rng-seed", d->rng_seed, (int)d->rng_seed_size));
	if (d->uefi)
		TRY(fdt__uefi(fdt, d->uefi));
	return fdt_end_node(fdt);
}

/* The stub of an ACPI boot: /chosen only. */
static int fdt__build_stub(const struct fdt_desc *d, void *buf)
{
	TRY(fdt_begin_node(buf, ""));
	TRY(fdt__chosen(buf, d));
	TRY(fdt_end_node(buf));
	TRY(fdt_finish(buf));
	return fdt_pack(buf);
}

int fdt__build(const struct fdt_desc *d, void *buf, size_t size)
{
	struct fdt_ctx ctx = { .fdt = buf, .gic_phandle = FDT_GIC_PHANDLE,
			       .gic_version = d->gic_version, .nr_cpus = d->nr_cpus,
			       .its_phandle = d->its ? FDT_ITS_PHANDLE : 0 };

	TRY(fdt_create(buf, (int)size));
	TRY(fdt_finish_reservemap(buf));
	if (d->uefi)
		return fdt__build_stub(d, buf);
	TRY(fdt_begin_node(buf, ""));
	TRY(fdt_property_string(buf, "compatible", "linux,dummy-virt"));
	TRY(fdt_property_cell(buf, "#address-cells", 2));
	TRY(fdt_property_cell(buf, "#size-cells", 2));
	TRY(fdt_property_cell(buf, "interrupt-parent", FDT_GIC_PHANDLE));
	TRY(fdt__chosen(buf, d));
	TRY(fdt__memory(buf, d));
	TRY(fdt__cpus(buf, d));
	TRY(fdt__psci(buf, d));
	if (d->sdei)
		TRY(fdt__sdei(buf, d));
	for (unsigned int i = 0; i < d->nr_gens; i++)
		TRY(d->gens[i]->gen(d->gens[i], &ctx));
	TRY(fdt_end_node(buf));
	TRY(fdt_finish(buf));
	return fdt_pack(buf);
}
