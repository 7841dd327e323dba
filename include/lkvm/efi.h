/*
 * The minimal EFI structures of an --acpi boot (hw/acpi/efi.c): a system table with no runtime
 * services, whose configuration table points at the RSDP, and the memory map. They sit at the
 * start of the firmware region, before the ACPI tables, in EFI_STUB_SIZE bytes.
 */
#ifndef LKVM_EFI_H
#define LKVM_EFI_H

#include "lkvm/util.h"

struct acpi_image;

#define EFI_STUB_SIZE			0x300
#define EFI_MMAP_MAX			3	/* RAM below the region, the region, RAM above */
#define EFI_MMAP_DESC_VERSION		1
#define EFI_CONVENTIONAL_MEMORY		7
#define EFI_ACPI_RECLAIM_MEMORY		9
#define EFI_MEMORY_WB			0x8ULL
#define EFI_PAGE_SHIFT			12

struct efi_memory_desc {
	u32 type;
	u32 pad;
	u64 phys_addr;
	u64 virt_addr;
	u64 num_pages;
	u64 attribute;
};

struct efi_layout {
	u64 ram_base, ram_size;
	u64 region;		/* the firmware region's guest address: the stub is at its start */
	u64 reclaim_size;	/* the region's EfiACPIReclaimMemory part, 64K-aligned */
	u64 rsdp;
};

/* Writes the stub into buf (EFI_STUB_SIZE bytes) and its addresses into out. */
void efi__build(void *buf, const struct efi_layout *l, struct acpi_image *out);

#endif
