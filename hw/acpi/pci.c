/*
 * The PCI host bridge of --virtio-transport pci under ACPI: PCI0 (PNP0A08, ECAM through the
 * MCFG), its bus and memory windows, and the routing of each device number's INTA to its SPI,
 * the same as the device tree's interrupt-map.
 */
#include "lkvm/acpi.h"
#include "lkvm/memory-map.h"

#define PCI_PIN_INTA	0

static void acpi__pci_prt(struct aml *a)
{
	aml__name(a, "_PRT");
	aml__package_begin(a, LKVM_PCI_MAX_DEVS);
	for (unsigned int slot = 0; slot < LKVM_PCI_MAX_DEVS; slot++) {
		/* Address (device number, any function), pin, no link device: a GSI. */
		aml__package_begin(a, 4);
		aml__integer(a, (u64)slot << 16 | 0xffff);
		aml__integer(a, PCI_PIN_INTA);
		aml__integer(a, 0);
		aml__integer(a, 32 + LKVM_PCI_SPI_BASE + slot);
		aml__end(a);
	}
	aml__end(a);
}

int acpi__pci_host(struct acpi_ctx *ctx)
{
	struct aml *a = ctx->dsdt;
	int err;

	aml__device_begin(a, "PCI0");
	aml__name(a, "_HID");
	aml__eisaid(a, "PNP0A08");
	aml__name(a, "_CID");
	aml__eisaid(a, "PNP0A03");
	aml__name_integer(a, "_SEG", 0);
	aml__name_integer(a, "_BBN", 0);
	aml__name_integer(a, "_UID", 0);
	aml__name_integer(a, "_CCA", 1);
	aml__name(a, "_CRS");
	aml__rt_begin(a);
	aml__rt_word_bus_number(a, 0, 0);
	aml__rt_dword_memory(a, true, false, (u32)LKVM_PCI_MMIO_BASE,
			     (u32)(LKVM_PCI_MMIO_BASE + LKVM_PCI_MMIO_SIZE - 1));
	aml__rt_end(a);
	acpi__pci_prt(a);
	/* The ECAM window, claimed in the namespace as Linux expects (else a "Firmware Bug"). */
	aml__device_begin(a, "RES0");
	aml__name(a, "_HID");
	aml__eisaid(a, "PNP0C02");
	aml__name(a, "_CRS");
	aml__rt_begin(a);
	aml__rt_memory32_fixed(a, true, (u32)LKVM_PCI_CFG_BASE, (u32)LKVM_PCI_CFG_SIZE);
	aml__rt_end(a);
	aml__end(a);
	aml__end(a);
	err = acpi__mcfg(ctx, LKVM_PCI_CFG_BASE, (u8)(LKVM_PCI_CFG_SIZE / SZ_1M - 1));
	/* With an ITS, MSI-X: bus 0's 256 requester IDs are its device IDs. */
	return err || !ctx->its ? err : acpi__iort(ctx, 256);
}
