/*
 * libFuzzer target for the kernel loader (arm/aarch64/kernel.c): the file -k names, as lkvm
 * identifies it (arm64 Image header, gzip'ed Image, raw binary, foreign formats refused) and
 * then places it, an initrd and the DTB in guest RAM. The first 8 input bytes choose the RAM
 * size, base and initrd size; the rest is the kernel file. Besides the sanitizers it checks what
 * the boot relies on: whatever the loader accepts lies inside RAM, aligned, without overlaps.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lkvm/kernel.h"
#include "lkvm/memory-map.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MAX_RAM	(256ULL << 20)

static void check_layout(const struct guest_images *img, u64 base, u64 ram, u64 fdt_size,
			 const struct boot_layout *l)
{
	u64 end = base + ram;

	if (l->kernel_addr < base || l->kernel_end > end || l->kernel_end < l->kernel_addr ||
	    l->kernel_end - l->kernel_addr < img->kernel.size || (l->kernel_addr & (SZ_4K - 1)))
		abort();
	if (l->fdt_addr < l->kernel_end || l->fdt_addr + fdt_size > end || (l->fdt_addr & 7))
		abort();
	if (img->initrd && (l->initrd_addr < l->kernel_end || l->initrd_end > l->fdt_addr ||
			    l->initrd_end - l->initrd_addr != img->initrd_size ||
			    (l->initrd_addr & (SZ_4K - 1))))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct guest_images img = { .kernel_fd = -1, .initrd_fd = -1, .firmware_fd = -1 };
	struct boot_layout l;
	u64 ram, base, fdt_size;
	u8 *buf;

	if (size < 8)
		return 0;
	/* RAM: 1 MiB steps up to 256 MiB, at a base that is 2M-aligned or not; DTB up to its max. */
	ram = ((u64)data[0] + 1) << 20;
	base = LKVM_RAM_BASE + ((u64)(data[1] & 3) << 20);
	fdt_size = ((u64)data[2] << 12) % (LKVM_FDT_MAX_SIZE + SZ_4K);
	img.initrd_size = ((size_t)data[3] << 16 | (size_t)data[4] << 8 | data[5]) << 4;
	data += 8;
	size -= 8;
	buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	if (kernel__parse("fuzz", buf, size, FUZZ_MAX_RAM, &img.kernel))
		return 0;
	if (img.kernel.size > FUZZ_MAX_RAM)
		abort();
	if (img.initrd_size)
		img.initrd = (u8 *)&img;	/* only its size is read */
	if (!boot__layout(&img, base, ram, fdt_size, &l))
		check_layout(&img, base, ram, fdt_size, &l);
	free(img.kernel.data);
	return 0;
}
