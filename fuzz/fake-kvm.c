/*
 * What the fuzz targets need of kvm.c, without a VM. Guest RAM is kvm->ram, kvm->ram_size bytes
 * at LKVM_RAM_BASE, checked by lkvm's own kvm__gpa_to_host (inline in kvm.h); the fuzzers' RAM is
 * one allocation of that size, so AddressSanitizer sees any access past it.
 */
#include "lkvm/kvm.h"

int kvm__irq_line(struct kvm *kvm, unsigned int spi, int level)
{
	(void)kvm;
	(void)spi;
	(void)level;
	return 0;
}

/* The device tree and ACPI are not fuzzed here: their generators are dropped. */
int kvm__add_fdt_gen(struct kvm *kvm, const struct fdt_node_gen *gen)
{
	(void)kvm;
	(void)gen;
	return 0;
}

int kvm__add_acpi_gen(struct kvm *kvm, const struct acpi_gen *gen)
{
	(void)kvm;
	(void)gen;
	return 0;
}
