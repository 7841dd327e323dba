/* DSDT objects that several devices share the shape of. */
#include "lkvm/acpi.h"

/*
 * A device with one register window and one level-triggered, active-high SPI (what lkvm's
 * devices raise). _CCA: DMA is cache-coherent, as the device tree's dma-coherent says; arm64
 * Linux takes a device without _CCA as unable to do DMA.
 */
void acpi__mmio_device(struct aml *a, const char *name, const char *hid, unsigned int uid,
		       u32 base, u32 size, u32 intid)
{
	aml__device_begin(a, name);
	aml__name_string(a, "_HID", hid);
	aml__name_integer(a, "_UID", uid);
	aml__name_integer(a, "_CCA", 1);
	aml__name(a, "_CRS");
	aml__rt_begin(a);
	aml__rt_memory32_fixed(a, true, base, size);
	aml__rt_interrupt(a, AML_IRQ_CONSUMER, intid);
	aml__rt_end(a);
	aml__end(a);
}
