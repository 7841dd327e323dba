/*
 * What the fuzz targets need of kvm.c, without a VM: guest RAM is kvm->ram, kvm->ram_size bytes
 * at LKVM_RAM_BASE, checked exactly as kvm.c checks it (the fuzzers' RAM is one allocation of that
 * size, so AddressSanitizer sees any access past it).
 */
#include "lkvm/kvm.h"
#include "lkvm/memory-map.h"

void *kvm__gpa_to_host(struct kvm *kvm, u64 gpa, u64 len)
{
	if (gpa < LKVM_RAM_BASE || gpa - LKVM_RAM_BASE > kvm->ram_size ||
	    len > kvm->ram_size - (gpa - LKVM_RAM_BASE))
		return NULL;
	return kvm->ram + (gpa - LKVM_RAM_BASE);
}

int kvm__irq_line(struct kvm *kvm, unsigned int spi, int level)
{
	(void)kvm;
	(void)spi;
	(void)level;
	return 0;
}
