/* Identifies, decompresses and places the guest kernel and initrd (arm64 boot protocol). */
#include "lkvm/kernel.h"
#include "lkvm/memory-map.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

/* arm64 Image header (Documentation/arch/arm64/booting.rst). */
#define IMAGE_HDR_SIZE		64
#define IMAGE_TEXT_OFFSET	8
#define IMAGE_IMAGE_SIZE	16
#define IMAGE_FLAGS		24
#define IMAGE_MAGIC_OFFSET	56
#define IMAGE_MAGIC		0x644d5241	/* "ARM\x64" */
#define IMAGE_FLAG_BE		(1ULL << 0)
#define IMAGE_OLD_TEXT_OFFSET	0x80000ULL	/* image_size == 0: pre-3.17 kernel */

static bool has_prefix(const u8 *buf, size_t len, const char *magic, size_t mlen)
{
	return len >= mlen && !memcmp(buf, magic, mlen);
}

/* Files we can name, so a wrong -k gets a useful message instead of a guest that never starts. */
static const char *foreign_format(const u8 *buf, size_t len)
{
	if (has_prefix(buf, len, "\x7f" "ELF", 4))
		return "an ELF file (vmlinux?): give the arm64 Image (arch/arm64/boot/Image) instead";
	if (has_prefix(buf, len, "070701", 6) || has_prefix(buf, len, "070702", 6))
		return "a cpio archive (an initramfs? use -i)";
	if (has_prefix(buf, len, "\xd0\x0d\xfe\xed", 4))
		return "a device tree blob, not a kernel";
	if (has_prefix(buf, len, "\x27\x05\x19\x56", 4))
		return "a U-Boot uImage: give the Image inside it";
	if (has_prefix(buf, len, "MZ", 2))
		return "a PE file without the arm64 Image header";
	if (len >= 4) {
		bool text = true;

		for (size_t i = 0; i < 4 && text; i++)
			text = (buf[i] >= 0x20 && buf[i] < 0x7f) || buf[i] == '\n' || buf[i] == '\t';
		if (text)
			return "a text file, not a kernel image";
	}
	return NULL;
}

/* Decompresses a gzip stream fully; max bounds the result. Takes ownership of *buf. */
static int gunzip(const char *path, u8 **buf, size_t *len, u64 max)
{
	z_stream zs;
	size_t cap = *len * 4 > max ? (size_t)max : *len * 4 + 4096;
	u8 *out = malloc(cap);
	int ret;

	memset(&zs, 0, sizeof(zs));
	if (!out || inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) {
		free(out);
		pr_err("%s: cannot decompress: out of memory", path);
		return -ENOMEM;
	}
	zs.next_in = *buf;
	zs.avail_in = (uInt)*len;
	do {
		if (zs.total_out == cap) {
			u8 *bigger;

			if (cap >= max) {
				ret = -EFBIG;
				goto fail_big;
			}
			cap = cap * 2 > max ? (size_t)max : cap * 2;
			bigger = realloc(out, cap);
			if (!bigger) {
				ret = -ENOMEM;
				pr_err("%s: cannot decompress: out of memory", path);
				goto fail;
			}
			out = bigger;
		}
		zs.next_out = out + zs.total_out;
		zs.avail_out = (uInt)(cap - zs.total_out);
		ret = inflate(&zs, Z_NO_FLUSH);
	} while (ret == Z_OK);

	if (ret != Z_STREAM_END) {
		if (ret == Z_BUF_ERROR)
			pr_err("%s: truncated gzip data (the file ends mid-stream)", path);
		else
			pr_err("%s: corrupt gzip data: %s", path, zs.msg ? zs.msg : "inflate failed");
		ret = -EINVAL;
		goto fail;
	}
	inflateEnd(&zs);
	free(*buf);
	*buf = out;
	*len = zs.total_out;
	return 0;

fail_big:
	pr_err("%s: decompressed kernel is larger than guest RAM", path);
fail:
	inflateEnd(&zs);
	free(out);
	return ret;
}

int kernel__parse(const char *path, u8 *buf, size_t len, u64 max_size, struct kernel_image *k)
{
	const char *foreign;
	int err;

	memset(k, 0, sizeof(*k));
	if (len == 0) {
		free(buf);
		pr_err("%s: empty file, not a kernel image", path);
		return -EINVAL;
	}
	if (has_prefix(buf, len, "\x1f\x8b", 2)) {
		err = gunzip(path, &buf, &len, max_size);
		if (err) {
			free(buf);
			return err;
		}
		k->gzipped = true;
	}
	k->data = buf;
	k->size = len;

	if (len >= IMAGE_HDR_SIZE && get_le32(buf + IMAGE_MAGIC_OFFSET) == IMAGE_MAGIC) {
		k->format = KERNEL_IMAGE;
		k->text_offset = get_le64(buf + IMAGE_TEXT_OFFSET);
		k->image_size = get_le64(buf + IMAGE_IMAGE_SIZE);
		k->flags = get_le64(buf + IMAGE_FLAGS);
		if (k->image_size == 0)
			k->text_offset = IMAGE_OLD_TEXT_OFFSET;
		if (k->flags & IMAGE_FLAG_BE) {
			pr_err("%s: big-endian kernels are not supported", path);
			goto invalid;
		}
		if (k->image_size && k->image_size < len) {
			pr_err("%s: corrupt Image header: image_size 0x%" PRIx64
			       " is smaller than the file", path, k->image_size);
			goto invalid;
		}
		if (k->text_offset >= SZ_2M || !IS_ALIGNED(k->text_offset, SZ_4K)) {
			pr_err("%s: corrupt Image header: text_offset 0x%" PRIx64, path, k->text_offset);
			goto invalid;
		}
		if (!k->image_size)
			k->image_size = len;
		return 0;
	}

	foreign = foreign_format(buf, len);
	if (foreign) {
		pr_err("%s: %s%s", path, k->gzipped ? "gzip of " : "", foreign);
		goto invalid;
	}
	if (k->gzipped) {
		pr_err("%s: gzip data that is not an arm64 Image", path);
		goto invalid;
	}
	k->format = KERNEL_RAW;
	k->text_offset = LKVM_RAW_OFFSET;
	k->image_size = len;
	return 0;

invalid:
	free(k->data);
	k->data = NULL;
	return -EINVAL;
}

static int guest_images__read_kernel(struct guest_images *img, u64 ram_size)
{
	const char *path = img->kernel_path;
	char sz[32];
	u8 *buf;
	size_t len;
	int err = read_fd(img->kernel_fd, path, ram_size, &buf, &len);

	if (err == -EFBIG)
		pr_err("%s: kernel is larger than guest RAM (%s)", path,
		       size_str(ram_size, sz, sizeof(sz)));
	if (err)
		return err;
	return kernel__parse(path, buf, len, ram_size, &img->kernel);
}

/* An initrd or a firmware image: any bytes that fit in RAM. */
static int guest_images__read_blob(const char *what, const char *path, int fd, u64 ram_size,
				   u8 **buf, size_t *len)
{
	char sz[32];
	int err = read_fd(fd, path, ram_size, buf, len);

	if (err == -EFBIG)
		pr_err("%s: %s is larger than guest RAM (%s)", path, what,
		       size_str(ram_size, sz, sizeof(sz)));
	return err;
}

/* Opens path (if any) into *fd, else -1; logs "what path: why" on failure. */
static int guest_images__open_one(const char *what, const char *path, int *fd)
{
	int err;

	*fd = -1;
	if (!path)
		return 0;
	*fd = open(path, O_RDONLY | O_CLOEXEC);
	if (*fd >= 0)
		return 0;
	err = -errno;
	pr_err("%s%s: %s", what, path, strerror(-err));
	return err;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

int guest_images__open(struct guest_images *img, const char *kernel_path, const char *initrd_path,
		       const char *firmware_path)
{
	int err;

	*img = (struct guest_images){ .kernel_path = kernel_path, .initrd_path = initrd_path,
				      .firmware_path = firmware_path, .kernel_fd = -1,
				      .initrd_fd = -1, .firmware_fd = -1 };
	/* kvmtool's words for the kernel: the kvm-unit-tests runner looks for them. */
	err = guest_images__open_one("Fatal: Unable to open kernel ", kernel_path, &img->kernel_fd);
	if (!err)
		err = guest_images__open_one("", initrd_path, &img->initrd_fd);
	if (!err)
		err = guest_images__open_one("", firmware_path, &img->firmware_fd);
	img->opened = true;
	if (err)
		guest_images__close(img);
	return err;
}

int guest_images__read(struct guest_images *img, u64 ram_size)
{
	int err = 0;

	if (img->kernel_fd >= 0)
		err = guest_images__read_kernel(img, ram_size);
	if (!err && img->initrd_fd >= 0)
		err = guest_images__read_blob("initrd", img->initrd_path, img->initrd_fd, ram_size,
					      &img->initrd, &img->initrd_size);
	if (!err && img->firmware_fd >= 0)
		err = guest_images__read_blob("firmware", img->firmware_path, img->firmware_fd,
					      ram_size, &img->firmware, &img->firmware_size);
	if (err)
		guest_images__drop(img);
	return err;
}

int guest_images__load(struct guest_images *img, const char *kernel_path, const char *initrd_path,
		       const char *firmware_path, u64 ram_size)
{
	int err = guest_images__open(img, kernel_path, initrd_path, firmware_path);

	if (!err)
		err = guest_images__read(img, ram_size);
	if (err)
		guest_images__close(img);
	return err;
}

void guest_images__drop(struct guest_images *img)
{
	free(img->kernel.data);
	free(img->initrd);
	free(img->firmware);
	img->kernel = (struct kernel_image){ 0 };
	img->initrd = img->firmware = NULL;
	img->initrd_size = img->firmware_size = 0;
}

void guest_images__close(struct guest_images *img)
{
	if (!img->opened)
		return;
	img->opened = false;
	guest_images__drop(img);
	close_fd(&img->kernel_fd);
	close_fd(&img->initrd_fd);
	close_fd(&img->firmware_fd);
}

int boot__layout(const struct guest_images *img, u64 ram_base, u64 ram_size, u64 fdt_size,
		 struct boot_layout *l)
{
	const struct kernel_image *k = &img->kernel;
	u64 ram_end = ram_base + ram_size;
	char a[32], b[32];

	/* Kernel as low as possible: the 2M-aligned RAM base plus text_offset. */
	l->kernel_addr = ALIGN_UP(ram_base, SZ_2M) + k->text_offset;
	l->entry = l->kernel_addr;
	l->kernel_end = l->kernel_addr + k->image_size;
	/* DTB: 8-byte aligned and inside one 2M block, at the top of RAM, away from the kernel. */
	l->fdt_addr = ALIGN_DOWN(ram_end - fdt_size, SZ_2M);
	if (fdt_size > LKVM_FDT_MAX_SIZE || l->fdt_addr < ram_base ||
	    l->kernel_end > l->fdt_addr || l->kernel_end < l->kernel_addr) {
		pr_err("-m %s: too small for the kernel, which needs %s from its load address",
		       size_str(ram_size, a, sizeof(a)),
		       size_str(ALIGN_UP(l->kernel_end - ram_base + LKVM_FDT_MAX_SIZE, SZ_1M),
				b, sizeof(b)));
		return -E2BIG;
	}
	l->initrd_addr = l->initrd_end = 0;
	if (!img->initrd)
		return 0;
	/* Initrd: page aligned, just below the DTB, so the kernel's BSS and heap stay free. */
	if (img->initrd_size > l->fdt_addr - ALIGN_UP(l->kernel_end, SZ_4K)) {
		pr_err("initrd too large for RAM: %s initrd, %s kernel and the DTB do not fit in -m %s",
		       size_str(ALIGN_UP(img->initrd_size, SZ_1M), a, sizeof(a)),
		       size_str(ALIGN_UP(k->image_size, SZ_1M), b, sizeof(b)),
		       size_str(ram_size, (char[32]){0}, 32));
		return -E2BIG;
	}
	l->initrd_addr = ALIGN_DOWN(l->fdt_addr - img->initrd_size, SZ_4K);
	l->initrd_end = l->initrd_addr + img->initrd_size;
	return 0;
}

static bool overlaps(u64 a, u64 a_end, u64 b, u64 b_end)
{
	return a < b_end && b < a_end;
}

int boot__firmware_layout(const struct guest_images *img, u64 fw_addr, u64 ram_base, u64 ram_size,
			  u64 fdt_size, struct boot_layout *l)
{
	u64 ram_end = ram_base + ram_size, addr = fw_addr ? fw_addr : ram_base, fdt;

	if (addr < ram_base || addr >= ram_end || !IS_ALIGNED(addr, 4)) {
		pr_err("--firmware-address 0x%" PRIx64 ": not a 4-byte aligned address in RAM "
		       "(0x%" PRIx64 "-0x%" PRIx64 ")", addr, ram_base, ram_end - 1);
		return -EINVAL;
	}
	/* The DTB follows the firmware, in a 2M block of its own, as kvmtool puts it. */
	fdt = ALIGN_UP(addr + img->firmware_size, SZ_2M);
	if (img->firmware_size > ram_end - addr || fdt_size > LKVM_FDT_MAX_SIZE ||
	    fdt > ram_end || fdt_size > ram_end - fdt) {
		pr_err("--firmware: a %zu-byte image at 0x%" PRIx64 " leaves no room for the DTB "
		       "after it in RAM (up to 0x%" PRIx64 ")", img->firmware_size, addr, ram_end - 1);
		return -E2BIG;
	}
	if (img->kernel.data && (overlaps(addr, fdt + fdt_size, l->kernel_addr, l->kernel_end) ||
				 overlaps(addr, fdt + fdt_size, l->initrd_addr, l->initrd_end))) {
		pr_err("--firmware at 0x%" PRIx64 ": it or the DTB after it would overlap the "
		       "kernel or the initrd", addr);
		return -EINVAL;
	}
	l->entry = addr;
	l->fdt_addr = fdt;
	return 0;
}
