/*
 * The static ACPI tables, in the revisions Linux 6.12 and Debian 12's iasl both know: FADT 6.3
 * (hardware-reduced, PSCI boot flags), MADT revision 5 (ACPI 6.3: GICC 80 bytes, with the
 * online-capable flag), GTDT revision 2, SPCR revision 2, MCFG, and an SDEI table.
 */
#include "lkvm/acpi.h"
#include "lkvm/memory-map.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* --- FADT --- */

#define ACPI_FADT_HW_REDUCED		(1U << 20)
#define ACPI_FADT_PSCI_COMPLIANT	(1U << 0)
#define ACPI_FADT_PSCI_USE_HVC		(1U << 1)

struct acpi_fadt {
	struct acpi_header h;
	u32 facs, dsdt;
	u8 reserved0, preferred_pm_profile;
	u16 sci_int;
	u32 smi_cmd;
	u8 acpi_enable, acpi_disable, s4bios_req, pstate_cnt;
	u32 pm_blocks[8];
	u8 pm_lens[6], gpe1_base, cst_cnt;
	u16 p_lvl2_lat, p_lvl3_lat, flush_size, flush_stride;
	u8 duty_offset, duty_width, day_alrm, mon_alrm, century;
	u16 iapc_boot_arch;
	u8 reserved1;
	u32 flags;
	struct acpi_gas reset_reg;
	u8 reset_value;
	u16 arm_boot_arch;
	u8 minor_version;
	u64 x_facs, x_dsdt;
	struct acpi_gas x_pm_blocks[8];
	struct acpi_gas sleep_control, sleep_status;
	u64 hypervisor_id;
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_fadt) == 276, "FADT 6.3 layout");

int acpi__fadt(struct acpi_ctx *ctx, bool psci_hvc)
{
	struct acpi_fadt f = {
		.flags = ACPI_FADT_HW_REDUCED,
		.arm_boot_arch = ACPI_FADT_PSCI_COMPLIANT | (psci_hvc ? ACPI_FADT_PSCI_USE_HVC : 0),
		.minor_version = 3,
	};

	acpi__header(&f.h, "FACP", sizeof(f), 6);
	memcpy(&f.hypervisor_id, "LKVM\0\0\0\0", 8);
	return acpi__add_table(ctx, &f, sizeof(f));
}

void acpi__fadt_set_dsdt(void *fadt, u64 dsdt)
{
	struct acpi_fadt *f = fadt;

	f->x_dsdt = dsdt;
}

/* --- SDEI: only a header; Linux takes the conduit from the FADT's PSCI_USE_HVC --- */

int acpi__sdei(struct acpi_ctx *ctx)
{
	struct acpi_header h;

	acpi__header(&h, "SDEI", sizeof(h), 1);
	return acpi__add_table(ctx, &h, sizeof(h));
}

/* --- PPTT: one package of single-threaded cores, one per vCPU --- */

#define ACPI_PPTT_PROCESSOR		0
#define ACPI_PPTT_PHYSICAL_PACKAGE	(1U << 0)
#define ACPI_PPTT_ID_VALID		(1U << 1)
#define ACPI_PPTT_LEAF			(1U << 3)

struct acpi_pptt_processor {
	u8 type, length;
	u16 reserved;
	u32 flags, parent, acpi_processor_id, nr_private_resources;
} __attribute__((packed));

/*
 * Linux takes its CPU topology from it; without one it also warns that it cannot tell the
 * cache hierarchy (Linux before 6.12.1xx, Debian's 6.12.100 among them), though CLIDR_EL1
 * says all it needs.
 */
int acpi__pptt(struct acpi_ctx *ctx)
{
	size_t len = sizeof(struct acpi_header) +
		     (ctx->nr_cpus + 1) * sizeof(struct acpi_pptt_processor);
	struct acpi_pptt_processor *p;
	u8 *t = calloc(1, len);
	int err;

	if (!t)
		return -ENOMEM;
	p = (struct acpi_pptt_processor *)(t + sizeof(struct acpi_header));
	p[0] = (struct acpi_pptt_processor){ .type = ACPI_PPTT_PROCESSOR, .length = sizeof(*p),
					     .flags = ACPI_PPTT_PHYSICAL_PACKAGE };
	for (unsigned int i = 0; i < ctx->nr_cpus; i++) {
		p[i + 1] = (struct acpi_pptt_processor){
			.type = ACPI_PPTT_PROCESSOR, .length = sizeof(*p),
			.flags = ACPI_PPTT_ID_VALID | ACPI_PPTT_LEAF,
			.parent = sizeof(struct acpi_header), .acpi_processor_id = i,
		};
	}
	acpi__header((struct acpi_header *)t, "PPTT", (u32)len, 2);
	err = acpi__add_table(ctx, t, len);
	free(t);
	return err;
}

/* --- MADT --- */

#define ACPI_MADT_GICC		0x0b
#define ACPI_MADT_GICD		0x0c
#define ACPI_MADT_GICR		0x0e
#define ACPI_MADT_ITS		0x0f
#define ACPI_MADT_ENABLED	(1U << 0)
#define ACPI_MADT_ONLINE_CAPABLE (1U << 3)

struct acpi_madt_gicc {
	u8 type, length;
	u16 reserved;
	u32 cpu_interface_number, uid, flags, parking_version, performance_interrupt;
	u64 parked_address, base_address, gicv_base_address, gich_base_address;
	u32 vgic_interrupt;
	u64 gicr_base_address, arm_mpidr;
	u8 efficiency_class, reserved2;
	u16 spe_interrupt;
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_madt_gicc) == 80, "MADT GICC (ACPI 6.3) layout");

struct acpi_madt_gicd {
	u8 type, length;
	u16 reserved;
	u32 gic_id;
	u64 base_address;
	u32 global_irq_base;
	u8 version, reserved2[3];
} __attribute__((packed));

struct acpi_madt_gicr {
	u8 type, length;
	u16 reserved;
	u64 base_address;
	u32 length_bytes;
} __attribute__((packed));

struct acpi_madt_its {
	u8 type, length;
	u16 reserved;
	u32 its_id;
	u64 base_address;
	u32 reserved2;
} __attribute__((packed));

struct acpi_madt {
	struct acpi_header h;
	u32 local_apic_address, flags;
} __attribute__((packed));

int acpi__madt(struct acpi_ctx *ctx)
{
	size_t len = sizeof(struct acpi_madt) + ctx->nr_cpus * sizeof(struct acpi_madt_gicc) +
		     sizeof(struct acpi_madt_gicd) + sizeof(struct acpi_madt_gicr) +
		     sizeof(struct acpi_madt_its);
	u8 *t = calloc(1, len), *p;
	struct acpi_madt_gicd *d;
	int err;

	if (!t)
		return -ENOMEM;
	p = t + sizeof(struct acpi_madt);
	for (unsigned int i = 0; i < ctx->nr_cpus; i++, p += sizeof(struct acpi_madt_gicc)) {
		struct acpi_madt_gicc c = {
			.type = ACPI_MADT_GICC, .length = sizeof(c),
			.cpu_interface_number = i, .uid = i,
			/* Not enabled yet: online capable, for hot-add (cpu-hotplug.rst). */
			.flags = !ctx->cpu_enabled || ctx->cpu_enabled[i] ? ACPI_MADT_ENABLED :
				 ACPI_MADT_ONLINE_CAPABLE,
			.performance_interrupt = ctx->pmu_intid,
			.base_address = ctx->gic_version == 2 ? ctx->gicc_v2 : 0,
			.arm_mpidr = ctx->mpidrs[i] & 0xff00ffffffULL,
		};

		memcpy(p, &c, sizeof(c));
	}
	d = (struct acpi_madt_gicd *)p;
	*d = (struct acpi_madt_gicd){ .type = ACPI_MADT_GICD, .length = sizeof(*d),
				      .base_address = ctx->gicd, .version = (u8)ctx->gic_version };
	p += sizeof(*d);
	if (ctx->gic_version == 3) {
		/* One range for every redistributor: "always-on", as vCPU hot-add requires. */
		struct acpi_madt_gicr r = { .type = ACPI_MADT_GICR, .length = sizeof(r),
					    .base_address = ctx->gicr,
					    .length_bytes = (u32)(ctx->nr_cpus * LKVM_GICV3_REDIST_SIZE) };

		memcpy(p, &r, sizeof(r));
		p += sizeof(r);
	}
	if (ctx->its && ctx->its_base) {
		struct acpi_madt_its s = { .type = ACPI_MADT_ITS, .length = sizeof(s),
					   .base_address = ctx->its_base };

		memcpy(p, &s, sizeof(s));
		p += sizeof(s);
	}
	len = (size_t)(p - t);
	acpi__header((struct acpi_header *)t, "APIC", (u32)len, 5);
	err = acpi__add_table(ctx, t, len);
	free(t);
	return err;
}

/* --- GTDT --- */

#define ACPI_GTDT_ACTIVE_LOW	(1U << 1)
#define ACPI_GTDT_ALWAYS_ON	(1U << 2)

struct acpi_gtdt {
	struct acpi_header h;
	u64 counter_block;
	u32 reserved;
	struct { u32 gsiv, flags; } timers[4];	/* secure EL1, non-secure EL1, virtual, EL2 */
	u64 counter_read_block;
	u32 platform_timer_count, platform_timer_offset;
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_gtdt) == 96, "GTDT revision 2 layout");

int acpi__gtdt(struct acpi_ctx *ctx, const u32 intids[4])
{
	struct acpi_gtdt g = { .counter_block = ~0ULL, .counter_read_block = ~0ULL };

	acpi__header(&g.h, "GTDT", sizeof(g), 2);
	for (int i = 0; i < 4; i++) {
		/* Level-triggered, active low, as the device tree's timer node says. */
		g.timers[i].gsiv = intids[i];
		g.timers[i].flags = ACPI_GTDT_ACTIVE_LOW | ACPI_GTDT_ALWAYS_ON;
	}
	return acpi__add_table(ctx, &g, sizeof(g));
}

/* --- SPCR --- */

#define ACPI_SPCR_16550		0x00
#define ACPI_SPCR_IRQ_GIC	0x08
#define ACPI_SPCR_BAUD_115200	7
#define ACPI_GAS_MEMORY		0
#define ACPI_GAS_ACCESS_BYTE	1

struct acpi_spcr {
	struct acpi_header h;
	u8 interface_type, reserved[3];
	struct acpi_gas serial_port;
	u8 interrupt_type, pc_interrupt;
	u32 interrupt;
	u8 baud_rate, parity, stop_bits, flow_control, terminal_type, language;
	u16 pci_device_id, pci_vendor_id;
	u8 pci_bus, pci_device, pci_function;
	u32 pci_flags;
	u8 pci_segment;
	u32 reserved2;
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_spcr) == 80, "SPCR revision 2 layout");

int acpi__spcr(struct acpi_ctx *ctx, u64 base, u32 intid)
{
	struct acpi_spcr s = {
		.interface_type = ACPI_SPCR_16550,
		.serial_port = { .space_id = ACPI_GAS_MEMORY, .bit_width = 8,
				 .access_size = ACPI_GAS_ACCESS_BYTE, .address = base },
		.interrupt_type = ACPI_SPCR_IRQ_GIC, .interrupt = intid,
		.baud_rate = ACPI_SPCR_BAUD_115200, .stop_bits = 1,
		.pci_device_id = 0xffff, .pci_vendor_id = 0xffff,	/* not a PCI device */
	};

	acpi__header(&s.h, "SPCR", sizeof(s), 2);
	return acpi__add_table(ctx, &s, sizeof(s));
}

/* --- IORT (revision 0, which Debian 12's iasl reads): PCI requester IDs to the ITS --- */

#define ACPI_IORT_ITS_GROUP	0
#define ACPI_IORT_ROOT_COMPLEX	2
#define ACPI_IORT_COHERENT	1	/* cache coherency: fully coherent */
#define ACPI_IORT_MF_COHERENCY	1	/* memory flags: coherent path to memory */

struct acpi_iort_node {
	u8 type;
	u16 length;
	u8 revision;
	u32 reserved, mapping_count, mapping_offset;
} __attribute__((packed));

struct acpi_iort {
	struct acpi_header h;
	u32 node_count, node_offset, reserved;
	struct {
		struct acpi_iort_node n;
		u32 its_count, its_id;
	} __attribute__((packed)) its;
	struct {
		struct acpi_iort_node n;
		u32 cache_coherency;
		u8 hints;
		u16 reserved;
		u8 memory_flags;
		u32 ats_attribute, pci_segment;
		u8 memory_address_limit, reserved2[3];
		struct { u32 input_base, id_count, output_base, output_reference, flags; } map;
	} __attribute__((packed)) rc;
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_iort) == 128, "IORT layout");

int acpi__iort(struct acpi_ctx *ctx, unsigned int nr_ids)
{
	struct acpi_iort t = {
		.node_count = 2, .node_offset = offsetof(struct acpi_iort, its),
		.its = { .n = { .type = ACPI_IORT_ITS_GROUP, .length = sizeof(t.its) },
			 .its_count = 1, .its_id = 0 },	/* the MADT ITS's translation ID */
		.rc = { .n = { .type = ACPI_IORT_ROOT_COMPLEX, .length = sizeof(t.rc),
			       .mapping_count = 1,
			       .mapping_offset = offsetof(__typeof__(t.rc), map) },
			.cache_coherency = ACPI_IORT_COHERENT,
			.memory_flags = ACPI_IORT_MF_COHERENCY,
			/* DeviceID = requester ID, as the device tree's msi-map says. */
			.map = { .id_count = nr_ids - 1,
				 .output_reference = offsetof(struct acpi_iort, its) } },
	};

	acpi__header(&t.h, "IORT", sizeof(t), 0);
	return acpi__add_table(ctx, &t, sizeof(t));
}

/* --- MCFG --- */

struct acpi_mcfg {
	struct acpi_header h;
	u64 reserved;
	u64 base;
	u16 segment;
	u8 bus_start, bus_end;
	u32 reserved2;
} __attribute__((packed));

int acpi__mcfg(struct acpi_ctx *ctx, u64 base, u8 bus_end)
{
	struct acpi_mcfg m = { .base = base, .bus_end = bus_end };

	acpi__header(&m.h, "MCFG", sizeof(m), 1);
	return acpi__add_table(ctx, &m, sizeof(m));
}
