/*
 * The guest physical memory map. Every address lkvm gives a guest comes from here.
 *
 *   0x0000_0000 +---------------------------+
 *               | unmapped (faults to lkvm) |
 *   0x0100_0000 +---------------------------+ LKVM_UART_BASE
 *               | 16550 UART (4K)           |
 *   0x0100_1000 +---------------------------+
 *               | unmapped                  |
 *   0x0101_0000 +---------------------------+ LKVM_ACPI_CPUHP_BASE
 *               | ACPI vCPU hot-add         |
 *               | registers (4K), --acpi    |
 *               | with --psci=user only     |
 *   0x0101_1000 +---------------------------+
 *               | unmapped                  |
 *   0x0200_0000 +---------------------------+ LKVM_PVTIME_BASE
 *               | stolen time (64K): 64     |
 *               | bytes per vCPU, in a KVM  |
 *               | memory slot of its own    |
 *   0x0201_0000 +---------------------------+
 *               | unmapped                  |
 *   0x0800_0000 +---------------------------+ LKVM_GIC_DIST_BASE
 *               | GIC distributor (64K)     |
 *   0x0801_0000 +---------------------------+ LKVM_GICV2_CPU_BASE
 *               | GICv2 CPU interface (8K)  |
 *   0x0802_0000 +---------------------------+ LKVM_GICV3_REDIST_BASE
 *               | GICv3 redistributors,     |
 *               | 128K per vCPU, room for   |
 *               | LKVM_MAX_CPUS             |
 *   0x0C02_0000 +---------------------------+ LKVM_GICV3_REDIST_END = LKVM_GICV3_ITS_BASE
 *               | GICv3 ITS (128K: control  |
 *               | and translation frames),  |
 *               | --irqchip gicv3-its only  |
 *   0x0C04_0000 +---------------------------+
 *               | unmapped                  |
 *   0x0D00_0000 +---------------------------+ LKVM_VIRTIO_MMIO_BASE
 *               | virtio-mmio devices,      |
 *               | 0x200 each, at most 32    |
 *   0x0D00_4000 +---------------------------+
 *               | unmapped                  |
 *   0x1000_0000 +---------------------------+ LKVM_PCI_CFG_BASE
 *               | PCI ECAM config space,    |
 *               | bus 0 only (1M)           |
 *   0x1010_0000 +---------------------------+
 *               | unmapped                  |
 *   0x2000_0000 +---------------------------+ LKVM_PCI_MMIO_BASE
 *               | PCI memory BARs, 32-bit   |
 *               | (512M), LKVM_PCI_BAR_SIZE |
 *               | per device slot           |
 *   0x4000_0000 +---------------------------+
 *               | unmapped                  |
 *   0x8000_0000 +---------------------------+ LKVM_RAM_BASE
 *               | RAM (-m)                  |
 *               |   kernel at +text_offset  |
 *               |   (raw binary: +0x80000,  |
 *               |   --aarch32: +0x8000)     |
 *               |   ...                     |
 *               |   initrd                  |
 *               |   DTB (last 2M of RAM)    |
 *               +---------------------------+ LKVM_RAM_BASE + ram size
 *
 * With --acpi, the DTB's 2M block (2M-aligned, at the top of RAM) holds instead:
 *
 *   block + 0x0     +-----------------------+
 *                   | stub DTB: /chosen     |
 *                   | only (64K at most)    |
 *   block + 0x10000 +-----------------------+ LKVM_ACPI_FDT_SIZE: the firmware region
 *                   | EFI system table, its |
 *                   | configuration table,  |
 *                   | the EFI memory map    |
 *                   +-----------------------+ + EFI_STUB_SIZE (efi.h)
 *                   | RSDP, XSDT, FADT,     |
 *                   | DSDT, MADT, GTDT...   |
 *                   +-----------------------+ rounded up to 64K: EfiACPIReclaimMemory;
 *                   | free RAM              |   the rest of RAM EfiConventionalMemory
 *   block + 2M      +-----------------------+
 */
#ifndef LKVM_MEMORY_MAP_H
#define LKVM_MEMORY_MAP_H

#define LKVM_MAX_CPUS		512

#define LKVM_UART_BASE		0x01000000ULL
#define LKVM_UART_SIZE		0x1000ULL

/* ACPI vCPU hot-add's registers (acpi-cpuhp.h), and the SPI of its Generic Event Device. */
#define LKVM_ACPI_CPUHP_BASE	0x01010000ULL
#define LKVM_ACPI_CPUHP_SIZE	0x1000ULL

/*
 * Stolen time (PV_TIME, --no-pvtime turns it off): guest memory of its own, a KVM memory slot
 * after RAM's, where KVM keeps each vCPU's 64-byte structure.
 */
#define LKVM_PVTIME_BASE	0x02000000ULL
#define LKVM_PVTIME_SIZE	0x10000ULL	/* 64K: whole pages whatever the host's page size */
#define LKVM_PVTIME_STRUCT_SIZE	64ULL
#define LKVM_PVTIME_SLOT	1
_Static_assert(LKVM_MAX_CPUS * LKVM_PVTIME_STRUCT_SIZE <= LKVM_PVTIME_SIZE, "pvtime too small");

#define LKVM_GIC_DIST_BASE	0x08000000ULL
#define LKVM_GIC_DIST_SIZE	0x10000ULL
#define LKVM_GICV2_CPU_BASE	(LKVM_GIC_DIST_BASE + LKVM_GIC_DIST_SIZE)
#define LKVM_GICV2_CPU_SIZE	0x2000ULL
#define LKVM_GICV3_REDIST_BASE	(LKVM_GICV2_CPU_BASE + 0x10000ULL)
#define LKVM_GICV3_REDIST_SIZE	0x20000ULL	/* per vCPU: RD and SGI frames */
#define LKVM_GICV3_REDIST_END	(LKVM_GICV3_REDIST_BASE + LKVM_MAX_CPUS * LKVM_GICV3_REDIST_SIZE)
/* The ITS: its 64K control frame, then the 64K frame with GITS_TRANSLATER, the MSI doorbell. */
#define LKVM_GICV3_ITS_BASE	LKVM_GICV3_REDIST_END
#define LKVM_GICV3_ITS_SIZE	0x20000ULL

#define LKVM_VIRTIO_MMIO_BASE	0x0D000000ULL
#define LKVM_VIRTIO_MMIO_SIZE	0x200ULL
#define LKVM_VIRTIO_MMIO_MAX	32
_Static_assert(LKVM_GICV3_ITS_BASE + LKVM_GICV3_ITS_SIZE <= LKVM_VIRTIO_MMIO_BASE, "ITS overlaps");

/* The generic ECAM host bridge (pci-host-ecam-generic) of --virtio-transport pci. */
#define LKVM_PCI_CFG_BASE	0x10000000ULL
#define LKVM_PCI_CFG_SIZE	0x100000ULL	/* ECAM: 4K per function, 256 on bus 0 */
#define LKVM_PCI_MMIO_BASE	0x20000000ULL
#define LKVM_PCI_MMIO_SIZE	0x20000000ULL
#define LKVM_PCI_BAR_SIZE	0x10000ULL	/* each device's slot in the BAR window */
#define LKVM_PCI_MAX_DEVS	32		/* one per device number on bus 0 */

#define LKVM_RAM_BASE		0x80000000ULL
#define LKVM_RAM_MIN		(16ULL << 20)

/* Where a headerless raw binary goes and is entered, as in kvmtool; a 32-bit kernel too. */
#define LKVM_RAW_OFFSET		0x80000ULL
#define LKVM_AARCH32_OFFSET	0x8000ULL
/* The arm64 boot protocol bounds the DTB at 2M; it sits at the top of RAM. */
#define LKVM_FDT_MAX_SIZE	0x200000ULL

/*
 * --acpi: the stub DTB's room at the start of the 2M block, then the firmware region (ACPI tables
 * and the EFI stub), 64K-aligned so that each EFI memory map entry is whole 64K guest pages.
 */
#define LKVM_ACPI_FDT_SIZE	0x10000ULL
#define LKVM_ACPI_SIZE		(LKVM_FDT_MAX_SIZE - LKVM_ACPI_FDT_SIZE)

/* Interrupt numbers (SPIs are numbered from 0 here, GIC INTID = 32 + n). */
#define LKVM_NR_SPIS		96	/* what the GIC is given: every SPI below is one of them */
#define LKVM_UART_SPI		0
#define LKVM_ACPI_GED_SPI	1
#define LKVM_VIRTIO_SPI_BASE	16	/* virtio-mmio device n uses SPI 16 + n */
#define LKVM_PCI_SPI_BASE	(LKVM_VIRTIO_SPI_BASE + LKVM_VIRTIO_MMIO_MAX)	/* PCI device n: INTA */
_Static_assert(LKVM_PCI_SPI_BASE + LKVM_PCI_MAX_DEVS <= LKVM_NR_SPIS, "more SPIs than the GIC has");

/*
 * KVM GSIs (irqfd and routing numbers): 0 to LKVM_NR_SPIS - 1 are the SPIs, then each PCI
 * device's MSI-X vectors (--irqchip gicv3-its), LKVM_PCI_MSIX_MAX at most per device. KVM takes
 * at most 4096 routes (KVM_MAX_IRQ_ROUTES on arm64).
 */
#define LKVM_MSI_GSI_BASE	LKVM_NR_SPIS
#define LKVM_PCI_MSIX_MAX	64
_Static_assert(LKVM_MSI_GSI_BASE + LKVM_PCI_MAX_DEVS * LKVM_PCI_MSIX_MAX <= 4096, "too many GSIs");

#endif
