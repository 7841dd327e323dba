/*
 * Guest images: the kernel (arm64 Image, gzip'ed Image, or headerless raw binary) and the initrd,
 * and where the arm64 boot protocol puts them and the DTB in guest RAM. Pure functions: no KVM.
 */
#ifndef LKVM_KERNEL_H
#define LKVM_KERNEL_H

#include "lkvm/util.h"

enum kernel_format { KERNEL_IMAGE, KERNEL_RAW };

struct kernel_image {
	enum kernel_format format;
	bool gzipped;			/* the file was gzip'ed; data is decompressed */
	u8 *data;			/* malloc'ed */
	size_t size;
	u64 text_offset;		/* load offset from a 2M-aligned base */
	u64 image_size;			/* memory the kernel needs from its load address (incl. BSS) */
	u64 flags;			/* Image header flags */
};

/*
 * The files -k, -i and --firmware name: opened once, read in for each boot and dropped once
 * copied into guest RAM, so that lkvm does not hold a second copy of them while the guest runs.
 */
struct guest_images {
	bool opened;			/* false: nothing here yet, not even the fds */
	const char *kernel_path, *initrd_path, *firmware_path;
	int kernel_fd, initrd_fd, firmware_fd;	/* -1: not given */
	struct kernel_image kernel;	/* data NULL: --firmware without a kernel */
	u8 *initrd;			/* malloc'ed, or NULL */
	size_t initrd_size;
	u8 *firmware;			/* --firmware: malloc'ed, or NULL */
	size_t firmware_size;
};

struct boot_layout {
	u64 entry;			/* where the boot vCPU starts: the kernel or the firmware */
	u64 kernel_addr;		/* guest-physical load and entry address */
	u64 kernel_end;			/* load address + memory the kernel claims */
	u64 initrd_addr;
	u64 initrd_end;
	u64 fdt_addr;
};

/*
 * Identifies and, for gzip, decompresses a kernel file's contents. max_size bounds the result
 * (the guest's RAM). Takes ownership of buf. On error logs "lkvm: <path>: <why>" and returns < 0.
 */
int kernel__parse(const char *path, u8 *buf, size_t len, u64 max_size, struct kernel_image *out);

/* Opens the files (each path may be NULL). Logs and returns < 0 on error. */
int guest_images__open(struct guest_images *img, const char *kernel_path, const char *initrd_path,
		       const char *firmware_path);
/* Reads and identifies their contents. Logs and returns < 0 on error. */
int guest_images__read(struct guest_images *img, u64 ram_size);
/* Frees what guest_images__read read; the files stay open for the next boot. */
void guest_images__drop(struct guest_images *img);
/* Frees everything and closes the files, if they were opened. */
void guest_images__close(struct guest_images *img);
/* guest_images__open, then guest_images__read. */
int guest_images__load(struct guest_images *img, const char *kernel_path, const char *initrd_path,
		       const char *firmware_path, u64 ram_size);

/*
 * Places kernel, initrd and a DTB of fdt_size bytes in RAM [ram_base, ram_base + ram_size).
 * Logs and returns < 0 if they do not fit or would overlap.
 */
int boot__layout(const struct guest_images *img, u64 ram_base, u64 ram_size, u64 fdt_size,
		 struct boot_layout *out);
/*
 * Places the --firmware image at fw_addr (0: the RAM base) and the DTB after it, as kvmtool
 * does, and makes it the entry point. With a kernel too, l is boot__layout's result and neither
 * may overlap the kernel or initrd. Logs and returns < 0 otherwise.
 */
int boot__firmware_layout(const struct guest_images *img, u64 fw_addr, u64 ram_base, u64 ram_size,
			  u64 fdt_size, struct boot_layout *l);

#endif
