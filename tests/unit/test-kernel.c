/* kernel: recognising what -k points at, and where kernel, initrd and DTB go in guest RAM. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "lkvm/kernel.h"
#include "lkvm/memory-map.h"
#include "suites.h"

#define HDR_SIZE 64
#define RAM_BASE LKVM_RAM_BASE

/* A synthetic arm64 Image: 64-byte header (booting.rst) followed by payload bytes. */
static u8 *make_image(u64 text_offset, u64 image_size, u64 flags, size_t payload, size_t *len)
{
	u8 *buf = malloc(HDR_SIZE + payload);

	ck_assert_ptr_nonnull(buf);
	memset(buf, 0, HDR_SIZE);
	buf[0] = 'M';			/* EFI stub kernels start with "MZ" */
	buf[1] = 'Z';
	put_le64(buf + 8, text_offset);
	put_le64(buf + 16, image_size);
	put_le64(buf + 24, flags);
	memcpy(buf + 56, "ARM\x64", 4);
	for (size_t i = 0; i < payload; i++)
		buf[HDR_SIZE + i] = (u8)(i % 251);
	*len = HDR_SIZE + payload;
	return buf;
}

/* gzip-compresses buf (as gzip(1) does: gzip wrapper, not zlib) into a malloc'ed buffer. */
static u8 *gzip(const u8 *buf, size_t len, size_t *out_len)
{
	z_stream zs;
	size_t cap = compressBound(len) + 64;
	u8 *out = malloc(cap);

	memset(&zs, 0, sizeof(zs));
	ck_assert_ptr_nonnull(out);
	ck_assert_int_eq(deflateInit2(&zs, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY),
			 Z_OK);
	zs.next_in = (u8 *)buf;
	zs.avail_in = (uInt)len;
	zs.next_out = out;
	zs.avail_out = (uInt)cap;
	ck_assert_int_eq(deflate(&zs, Z_FINISH), Z_STREAM_END);
	*out_len = zs.total_out;
	deflateEnd(&zs);
	return out;
}

static u8 *dup_mem(const void *p, size_t len)
{
	u8 *b = malloc(len ? len : 1);

	ck_assert_ptr_nonnull(b);
	memcpy(b, p, len);
	return b;
}

START_TEST(image_header_is_parsed)
{
	size_t len;
	u8 *buf = make_image(0, 0x1400000, 0xa, 4096, &len);
	u8 *copy = dup_mem(buf, len);
	struct kernel_image k;

	ck_assert_int_eq(kernel__parse("Image", buf, len, 1ULL << 30, &k), 0);
	ck_assert_int_eq(k.format, KERNEL_IMAGE);
	ck_assert(!k.gzipped);
	ck_assert_uint_eq(k.size, len);
	ck_assert_mem_eq(k.data, copy, len);
	ck_assert_uint_eq(k.text_offset, 0);
	/* image_size includes the BSS: the layout must reserve it, not just the file size. */
	ck_assert_uint_eq(k.image_size, 0x1400000);
	ck_assert_uint_eq(k.flags, 0xa);
	free(k.data);
	free(copy);
}
END_TEST

START_TEST(image_text_offset_limits)
{
	size_t len;
	struct kernel_image k;
	u8 *buf;

	/* The largest valid text_offset: 4K aligned, below 2M. */
	buf = make_image(0x1ff000, 0x100000, 0, 128, &len);
	ck_assert_int_eq(kernel__parse("Image", buf, len, 1ULL << 30, &k), 0);
	ck_assert_uint_eq(k.text_offset, 0x1ff000);
	free(k.data);
}
END_TEST

START_TEST(image_pre_3_17_header)
{
	size_t len;
	u8 *buf = make_image(0x1234, 0, 0, 1000, &len);
	struct kernel_image k;

	/* image_size 0 means an old kernel: text_offset is 0x80000 whatever the header says. */
	ck_assert_int_eq(kernel__parse("Image", buf, len, 1ULL << 30, &k), 0);
	ck_assert_int_eq(k.format, KERNEL_IMAGE);
	ck_assert_uint_eq(k.text_offset, 0x80000);
	ck_assert_uint_eq(k.image_size, len);
	free(k.data);
}
END_TEST

START_TEST(image_rejects_bad_headers)
{
	static const struct { u64 text_offset, image_size, flags; const char *why; } bad[] = {
		{ 0, 0x100000, 1, "big-endian flag" },
		{ 0, 100, 0, "image_size smaller than the file" },
		{ 0x1001, 0x100000, 0, "text_offset not 4K aligned" },
		{ 0x200000, 0x100000, 0, "text_offset >= 2M" },
		{ 1ULL << 63, 0x100000, 0, "huge text_offset" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		size_t len;
		u8 *buf = make_image(bad[i].text_offset, bad[i].image_size, bad[i].flags, 1000, &len);
		struct kernel_image k;

		ck_assert_msg(kernel__parse("Image", buf, len, 1ULL << 30, &k) == -EINVAL,
			      "%s accepted", bad[i].why);
		ck_assert_ptr_null(k.data);
	}
}
END_TEST

START_TEST(gzip_image_is_decompressed)
{
	size_t len, zlen;
	u8 *img = make_image(0, 0x400000, 0xa, 300000, &len);
	u8 *z = gzip(img, len, &zlen);
	struct kernel_image k;

	ck_assert_uint_lt(zlen, len);
	ck_assert_int_eq(kernel__parse("Image.gz", z, zlen, 1ULL << 30, &k), 0);
	ck_assert_int_eq(k.format, KERNEL_IMAGE);
	ck_assert(k.gzipped);
	ck_assert_uint_eq(k.size, len);
	ck_assert_mem_eq(k.data, img, len);
	ck_assert_uint_eq(k.image_size, 0x400000);
	ck_assert_uint_eq(k.flags, 0xa);
	free(k.data);
	free(img);
}
END_TEST

START_TEST(gzip_bounded_by_max_size)
{
	/* Very compressible (zeros): the decompressor must grow its buffer up to the bound. */
	size_t len = 2 << 20, zlen;
	u8 *img = calloc(1, len);
	u8 *z;
	struct kernel_image k;

	ck_assert_ptr_nonnull(img);
	memcpy(img + 56, "ARM\x64", 4);
	z = gzip(img, len, &zlen);

	/* Exactly as large as guest RAM: fits. */
	ck_assert_int_eq(kernel__parse("Image.gz", dup_mem(z, zlen), zlen, len, &k), 0);
	ck_assert_uint_eq(k.size, len);
	ck_assert_mem_eq(k.data, img, len);
	free(k.data);
	/* One byte more than guest RAM: a gzip bomb must not be inflated without bound. */
	ck_assert_int_eq(kernel__parse("Image.gz", z, zlen, len - 1, &k), -EFBIG);
	ck_assert_ptr_null(k.data);
	free(img);
}
END_TEST

START_TEST(gzip_truncated_or_corrupt)
{
	size_t len, zlen;
	u8 *img = make_image(0, 0x400000, 0, 100000, &len);
	u8 *z = gzip(img, len, &zlen);
	struct kernel_image k;
	u8 *bad;

	/* Cut mid-stream, as by an interrupted download. */
	ck_assert_int_eq(kernel__parse("a", dup_mem(z, zlen / 2), zlen / 2, 1ULL << 30, &k), -EINVAL);
	ck_assert_ptr_null(k.data);
	/* Deflate data complete but the CRC/length trailer missing. */
	ck_assert_int_eq(kernel__parse("b", dup_mem(z, zlen - 4), zlen - 4, 1ULL << 30, &k), -EINVAL);
	/* A flipped bit in the CRC: the data is not what was compressed. */
	bad = dup_mem(z, zlen);
	bad[zlen - 8] ^= 1;
	ck_assert_int_eq(kernel__parse("c", bad, zlen, 1ULL << 30, &k), -EINVAL);
	/* Only the gzip magic. */
	ck_assert_int_eq(kernel__parse("d", dup_mem("\x1f\x8b", 2), 2, 1ULL << 30, &k), -EINVAL);
	free(z);
	free(img);
}
END_TEST

START_TEST(gzip_of_non_image_rejected)
{
	u8 raw[4096];
	static const char text[] = "this is not a kernel\n";
	size_t zlen;
	u8 *z;
	struct kernel_image k;

	/* A gzip'ed raw binary cannot be told from any other gzip'ed data: refuse it. */
	for (size_t i = 0; i < sizeof(raw); i++)
		raw[i] = (u8)(i * 13 + 1);
	raw[0] = 0;
	/* gzip() sets zlen: call it before passing zlen (argument order is unspecified). kernel__parse
	 * takes the buffer. */
	z = gzip(raw, sizeof(raw), &zlen);
	ck_assert_int_eq(kernel__parse("raw.gz", z, zlen, 1ULL << 30, &k), -EINVAL);
	ck_assert_ptr_null(k.data);
	z = gzip((const u8 *)text, sizeof(text) - 1, &zlen);
	ck_assert_int_eq(kernel__parse("txt.gz", z, zlen, 1ULL << 30, &k), -EINVAL);
}
END_TEST

START_TEST(raw_binary_accepted)
{
	/* Headerless code (e.g. a bare-metal test): the first bytes are instructions. */
	static const u8 code[] = { 0x00, 0x00, 0xa0, 0xd2, 0x1f, 0x20, 0x03, 0xd5, 0xff, 0xff };
	struct kernel_image k;

	ck_assert_int_eq(kernel__parse("raw", dup_mem(code, sizeof(code)), sizeof(code),
				       1ULL << 30, &k), 0);
	ck_assert_int_eq(k.format, KERNEL_RAW);
	ck_assert(!k.gzipped);
	ck_assert_uint_eq(k.text_offset, 0x80000);
	ck_assert_uint_eq(k.image_size, sizeof(code));
	ck_assert_uint_eq(k.size, sizeof(code));
	ck_assert_mem_eq(k.data, code, sizeof(code));
	free(k.data);
}
END_TEST

START_TEST(foreign_files_rejected)
{
	/* Common wrong -k arguments; each must be refused rather than booted as raw code. */
	static const struct { const char *data; size_t len; const char *what; } bad[] = {
		{ "\x7f" "ELF\x02\x01\x01\0\0\0\0\0\0\0\0\0", 16, "ELF vmlinux" },
		{ "070701000000010000", 18, "newc cpio" },
		{ "070702000000010000", 18, "crc cpio" },
		{ "\xd0\x0d\xfe\xed\0\0\x10\0", 8, "DTB" },
		{ "\x27\x05\x19\x56\0\0\0\0", 8, "uImage" },
		{ "console=ttyS0\n", 14, "text file" },
		{ "#!/bin/sh\necho hi\n", 18, "script" },
	};
	struct kernel_image k;

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		ck_assert_msg(kernel__parse("f", dup_mem(bad[i].data, bad[i].len), bad[i].len,
					    1ULL << 30, &k) == -EINVAL, "%s accepted", bad[i].what);
		ck_assert_ptr_null(k.data);
	}
}
END_TEST

START_TEST(pe_without_arm64_magic_rejected)
{
	size_t len;
	u8 *buf = make_image(0, 0x100000, 0, 1000, &len);
	struct kernel_image k;

	/* An x86 or arm32 EFI binary: "MZ" but no "ARM\x64" magic. */
	memset(buf + 56, 0, 4);
	ck_assert_int_eq(kernel__parse("bzImage", buf, len, 1ULL << 30, &k), -EINVAL);
	ck_assert_ptr_null(k.data);
}
END_TEST

START_TEST(empty_file_rejected)
{
	struct kernel_image k;

	ck_assert_int_eq(kernel__parse("empty", malloc(1), 0, 1ULL << 30, &k), -EINVAL);
	ck_assert_ptr_null(k.data);
}
END_TEST

START_TEST(guest_images_load_files)
{
	size_t len;
	u8 *img = make_image(0, 0x100000, 0, 5000, &len);
	static u8 initrd[8000];
	char *kpath = temp_file(img, len), *ipath;
	struct guest_images gi;

	memset(initrd, 0x5a, sizeof(initrd));
	ipath = temp_file(initrd, sizeof(initrd));
	ck_assert_int_eq(guest_images__load(&gi, kpath, ipath, NULL, 64 << 20), 0);
	ck_assert_int_eq(gi.kernel.format, KERNEL_IMAGE);
	ck_assert_uint_eq(gi.kernel.size, len);
	ck_assert_mem_eq(gi.kernel.data, img, len);
	ck_assert_uint_eq(gi.initrd_size, sizeof(initrd));
	ck_assert_mem_eq(gi.initrd, initrd, sizeof(initrd));
	guest_images__close(&gi);
	ck_assert_ptr_null(gi.kernel.data);
	ck_assert_ptr_null(gi.initrd);

	/* No -i: no initrd. */
	ck_assert_int_eq(guest_images__load(&gi, kpath, NULL, NULL, 64 << 20), 0);
	ck_assert_ptr_null(gi.initrd);
	ck_assert_uint_eq(gi.initrd_size, 0);
	guest_images__close(&gi);

	/* Files larger than guest RAM are refused before being read in. */
	ck_assert_int_eq(guest_images__load(&gi, kpath, NULL, NULL, len - 1), -EFBIG);
	ck_assert_int_eq(guest_images__load(&gi, kpath, ipath, NULL, len), -EFBIG);
	ck_assert_ptr_null(gi.kernel.data);

	/* A missing initrd fails the load and leaves nothing allocated. */
	unlink(ipath);
	ck_assert_int_eq(guest_images__load(&gi, kpath, ipath, NULL, 64 << 20), -ENOENT);
	ck_assert_ptr_null(gi.kernel.data);
	ck_assert_ptr_null(gi.initrd);
	unlink(kpath);
	ck_assert_int_eq(guest_images__load(&gi, kpath, NULL, NULL, 64 << 20), -ENOENT);
	free(kpath);
	free(ipath);
	free(img);
}
END_TEST

START_TEST(guest_images_read_again_after_drop)
{
	size_t len;
	u8 *img = make_image(0, 0x100000, 0, 5000, &len);
	char *kpath = temp_file(img, len);
	struct guest_images gi;

	ck_assert_int_eq(guest_images__open(&gi, kpath, NULL, NULL), 0);
	ck_assert_int_eq(guest_images__read(&gi, 64 << 20), 0);
	ck_assert_mem_eq(gi.kernel.data, img, len);
	/* Copied into guest RAM: the copy goes, the file stays open for a reboot... */
	guest_images__drop(&gi);
	ck_assert_ptr_null(gi.kernel.data);
	/* ...which reads the same file, even once its name is gone. */
	unlink(kpath);
	ck_assert_int_eq(guest_images__read(&gi, 64 << 20), 0);
	ck_assert_uint_eq(gi.kernel.size, len);
	ck_assert_mem_eq(gi.kernel.data, img, len);
	guest_images__close(&gi);
	ck_assert(!gi.opened);
	ck_assert_int_eq(gi.kernel_fd, -1);
	free(kpath);
	free(img);
}
END_TEST

static struct guest_images images(u64 text_offset, u64 image_size, size_t initrd_size)
{
	static u8 dummy;
	struct guest_images gi = { 0 };

	gi.kernel.format = KERNEL_IMAGE;
	gi.kernel.text_offset = text_offset;
	gi.kernel.image_size = image_size;
	if (initrd_size) {
		gi.initrd = &dummy;	/* boot__layout only looks at the size */
		gi.initrd_size = initrd_size;
	}
	return gi;
}

START_TEST(layout_basic)
{
	struct guest_images gi = images(0, 20 << 20, (5 << 20) + 123);
	struct boot_layout l;
	u64 ram_end = RAM_BASE + (256 << 20);

	ck_assert_int_eq(boot__layout(&gi, RAM_BASE, 256 << 20, 0x10000, &l), 0);
	ck_assert_uint_eq(l.kernel_addr, RAM_BASE);
	ck_assert_uint_eq(l.kernel_end, RAM_BASE + (20 << 20));
	ck_assert_uint_eq(l.fdt_addr, ram_end - SZ_2M);
	ck_assert_uint_eq(l.initrd_end - l.initrd_addr, (5 << 20) + 123);
	ck_assert(IS_ALIGNED(l.initrd_addr, SZ_4K));
	ck_assert_uint_le(l.initrd_end, l.fdt_addr);
	/* Just below the DTB: less than a page of gap. */
	ck_assert_uint_gt(l.initrd_end + SZ_4K, l.fdt_addr);
}
END_TEST

START_TEST(layout_raw_and_old_kernels_at_0x80000)
{
	struct guest_images gi = images(0x80000, 4096, 0);
	struct boot_layout l;

	ck_assert_int_eq(boot__layout(&gi, RAM_BASE, 64 << 20, 4096, &l), 0);
	ck_assert_uint_eq(l.kernel_addr, RAM_BASE + 0x80000);
	ck_assert_uint_eq(l.initrd_addr, 0);
	ck_assert_uint_eq(l.initrd_end, 0);
}
END_TEST

/* The invariants the guest kernel relies on, for any successful layout. */
static void check_layout(const struct guest_images *gi, u64 base, u64 size, u64 fdt_size,
			 const struct boot_layout *l)
{
	u64 end = base + size;

	ck_assert_uint_eq(l->kernel_addr, ALIGN_UP(base, SZ_2M) + gi->kernel.text_offset);
	ck_assert_uint_eq(l->kernel_end, l->kernel_addr + gi->kernel.image_size);
	ck_assert_uint_ge(l->kernel_addr, base);
	/*
	 * DTB: 8-byte aligned, inside RAM, not crossing a 2M boundary, and at the top: no higher
	 * 2M block could hold it (so the last 2M when RAM ends on a 2M boundary).
	 */
	ck_assert(IS_ALIGNED(l->fdt_addr, 8));
	ck_assert_uint_le(l->fdt_addr + fdt_size, end);
	ck_assert_uint_gt(ALIGN_DOWN(l->fdt_addr, SZ_2M) + SZ_2M + fdt_size, end);
	if (IS_ALIGNED(end, SZ_2M))
		ck_assert_uint_eq(l->fdt_addr, end - SZ_2M);
	ck_assert_uint_eq(l->fdt_addr / SZ_2M, (l->fdt_addr + fdt_size - 1) / SZ_2M);
	ck_assert_uint_le(l->kernel_end, l->fdt_addr);
	if (gi->initrd) {
		ck_assert(IS_ALIGNED(l->initrd_addr, SZ_4K));
		ck_assert_uint_eq(l->initrd_end - l->initrd_addr, gi->initrd_size);
		ck_assert_uint_ge(l->initrd_addr, l->kernel_end);
		ck_assert_uint_le(l->initrd_end, l->fdt_addr);
	}
}

START_TEST(layout_no_overlaps_for_many_sizes)
{
	static const u64 bases[] = { RAM_BASE, RAM_BASE + SZ_1M };
	static const u64 rams[] = { 16 << 20, 17 << 20, 64 << 20, 1ULL << 30, 3ULL << 30 };
	static const u64 kernels[] = { 4096, (8 << 20) + 3 };
	static const u64 offsets[] = { 0, 0x80000 };
	static const size_t initrds[] = { 0, 1, 4095, 4096, (1 << 20) + 1 };
	static const u64 fdts[] = { 64, 0x10000, SZ_2M };
	unsigned int ok = 0;

	for (size_t b = 0; b < ARRAY_SIZE(bases); b++)
	for (size_t r = 0; r < ARRAY_SIZE(rams); r++)
	for (size_t k = 0; k < ARRAY_SIZE(kernels); k++)
	for (size_t o = 0; o < ARRAY_SIZE(offsets); o++)
	for (size_t i = 0; i < ARRAY_SIZE(initrds); i++)
	for (size_t f = 0; f < ARRAY_SIZE(fdts); f++) {
		struct guest_images gi = images(offsets[o], kernels[k], initrds[i]);
		struct boot_layout l;

		if (boot__layout(&gi, bases[b], rams[r], fdts[f], &l) == 0) {
			check_layout(&gi, bases[b], rams[r], fdts[f], &l);
			ok++;
		}
	}
	/* Nearly all of these fit; make sure the invariants were actually exercised. */
	ck_assert_uint_gt(ok, 300);
}
END_TEST

START_TEST(layout_kernel_too_large)
{
	struct guest_images gi = images(0, 31 << 20, 0);
	struct boot_layout l;

	ck_assert_int_eq(boot__layout(&gi, RAM_BASE, 32 << 20, 4096, &l), -E2BIG);
	/* Kernel ending exactly where the DTB's 2M block starts: fits; one byte more does not. */
	gi.kernel.image_size = (32 << 20) - SZ_2M;
	ck_assert_int_eq(boot__layout(&gi, RAM_BASE, 32 << 20, 4096, &l), 0);
	ck_assert_uint_eq(l.kernel_end, l.fdt_addr);
	gi.kernel.image_size++;
	ck_assert_int_eq(boot__layout(&gi, RAM_BASE, 32 << 20, 4096, &l), -E2BIG);
	/* A corrupt header's huge image_size must not wrap around and look small. */
	gi.kernel.image_size = UINT64_MAX - 0xfff;
	ck_assert_int_eq(boot__layout(&gi, RAM_BASE, 32 << 20, 4096, &l), -E2BIG);
	/* RAM smaller than the DTB block alone. */
	gi.kernel.image_size = 4096;
	ck_assert_int_eq(boot__layout(&gi, RAM_BASE, SZ_1M, 4096, &l), -E2BIG);
	/* A DTB over the 2M the boot protocol allows. */
	ck_assert_int_eq(boot__layout(&gi, RAM_BASE, 64 << 20, SZ_2M + 1, &l), -E2BIG);
}
END_TEST

START_TEST(layout_initrd_too_large)
{
	struct guest_images gi = images(0, (10 << 20) + 100, 60 << 20);
	struct boot_layout l;
	u64 room;

	ck_assert_int_eq(boot__layout(&gi, RAM_BASE, 64 << 20, 4096, &l), -E2BIG);
	/* The largest initrd that fits between the kernel (page aligned) and the DTB. */
	room = (RAM_BASE + (64 << 20) - SZ_2M) - ALIGN_UP(RAM_BASE + (10 << 20) + 100, SZ_4K);
	gi.initrd_size = room;
	ck_assert_int_eq(boot__layout(&gi, RAM_BASE, 64 << 20, 4096, &l), 0);
	check_layout(&gi, RAM_BASE, 64 << 20, 4096, &l);
	gi.initrd_size = room + 1;
	ck_assert_int_eq(boot__layout(&gi, RAM_BASE, 64 << 20, 4096, &l), -E2BIG);
}
END_TEST

static struct guest_images firmware(size_t size)
{
	static u8 dummy;

	return (struct guest_images){ .firmware = &dummy, .firmware_size = size };
}

START_TEST(firmware_layout_alone)
{
	struct guest_images gi = firmware(20000);
	struct boot_layout l = { 0 };

	/* Default: the start of RAM, the DTB in the next 2M block. */
	ck_assert_int_eq(boot__firmware_layout(&gi, 0, RAM_BASE, 64 << 20, 4096, &l), 0);
	ck_assert_uint_eq(l.entry, RAM_BASE);
	ck_assert_uint_eq(l.fdt_addr, RAM_BASE + SZ_2M);
	ck_assert_int_eq(boot__firmware_layout(&gi, RAM_BASE + 0x1004, RAM_BASE, 64 << 20, 4096, &l), 0);
	ck_assert_uint_eq(l.entry, RAM_BASE + 0x1004);
	ck_assert_uint_eq(l.fdt_addr, RAM_BASE + SZ_2M);
	/* Exactly 2M: the DTB right after it. */
	gi = firmware(SZ_2M);
	ck_assert_int_eq(boot__firmware_layout(&gi, 0, RAM_BASE, 64 << 20, 4096, &l), 0);
	ck_assert_uint_eq(l.fdt_addr, RAM_BASE + SZ_2M);
}
END_TEST

START_TEST(firmware_layout_bad_addresses)
{
	struct guest_images gi = firmware(20000);
	u64 ram = 64 << 20, end = RAM_BASE + ram;
	struct boot_layout l = { .entry = 1, .fdt_addr = 2 };

	ck_assert_int_eq(boot__firmware_layout(&gi, 0x10, RAM_BASE, ram, 4096, &l), -EINVAL);
	ck_assert_int_eq(boot__firmware_layout(&gi, RAM_BASE + 2, RAM_BASE, ram, 4096, &l), -EINVAL);
	ck_assert_int_eq(boot__firmware_layout(&gi, end, RAM_BASE, ram, 4096, &l), -EINVAL);
	ck_assert_int_eq(boot__firmware_layout(&gi, UINT64_MAX - 3, RAM_BASE, ram, 4096, &l), -EINVAL);
	/* In the last 2M block: no room for the DTB after it. */
	ck_assert_int_eq(boot__firmware_layout(&gi, end - SZ_2M, RAM_BASE, ram, 4096, &l), -E2BIG);
	ck_assert_int_eq(boot__firmware_layout(&gi, end - 4, RAM_BASE, ram, 4096, &l), -E2BIG);
	gi = firmware(ram);
	ck_assert_int_eq(boot__firmware_layout(&gi, 0, RAM_BASE, ram, 4096, &l), -E2BIG);
	gi = firmware(SIZE_MAX);
	ck_assert_int_eq(boot__firmware_layout(&gi, 0, RAM_BASE, ram, 4096, &l), -E2BIG);
	ck_assert_uint_eq(l.entry, 1);
	ck_assert_uint_eq(l.fdt_addr, 2);
}
END_TEST

START_TEST(firmware_layout_with_a_kernel)
{
	struct guest_images gi = images(0, 20 << 20, 3 << 20);
	struct boot_layout l;
	u64 ram = 256 << 20;

	gi.kernel.data = gi.initrd;	/* only its presence counts */
	gi.firmware = gi.initrd;
	gi.firmware_size = 4096;
	ck_assert_int_eq(boot__layout(&gi, RAM_BASE, ram, 4096, &l), 0);
	/* Over the kernel, or (the firmware below the initrd) its DTB over the initrd: refused. */
	ck_assert_int_eq(boot__firmware_layout(&gi, 0, RAM_BASE, ram, 4096, &l), -EINVAL);
	ck_assert_uint_eq(l.initrd_addr, RAM_BASE + ram - (5 << 20));
	ck_assert_int_eq(boot__firmware_layout(&gi, l.initrd_addr - SZ_1M, RAM_BASE, ram, 4096, &l),
			 -EINVAL);
	/* Between them: the kernel stays, the firmware is the entry. */
	ck_assert_int_eq(boot__firmware_layout(&gi, RAM_BASE + (64 << 20), RAM_BASE, ram, 4096, &l), 0);
	ck_assert_uint_eq(l.entry, RAM_BASE + (64 << 20));
	ck_assert_uint_eq(l.fdt_addr, RAM_BASE + (66 << 20));
	ck_assert_uint_eq(l.kernel_addr, RAM_BASE);
}
END_TEST

Suite *kernel_suite(void)
{
	Suite *s = suite_create("kernel");
	TCase *parse = tcase_create("parse");
	TCase *layout = tcase_create("layout");

	tcase_add_test(parse, image_header_is_parsed);
	tcase_add_test(parse, image_text_offset_limits);
	tcase_add_test(parse, image_pre_3_17_header);
	tcase_add_test(parse, image_rejects_bad_headers);
	tcase_add_test(parse, gzip_image_is_decompressed);
	tcase_add_test(parse, gzip_bounded_by_max_size);
	tcase_add_test(parse, gzip_truncated_or_corrupt);
	tcase_add_test(parse, gzip_of_non_image_rejected);
	tcase_add_test(parse, raw_binary_accepted);
	tcase_add_test(parse, foreign_files_rejected);
	tcase_add_test(parse, pe_without_arm64_magic_rejected);
	tcase_add_test(parse, empty_file_rejected);
	tcase_add_test(parse, guest_images_load_files);
	/* Decompressing megabytes under qemu-user can be slow. */
	tcase_set_timeout(parse, 60);
	tcase_add_test(layout, layout_basic);
	tcase_add_test(layout, layout_raw_and_old_kernels_at_0x80000);
	tcase_add_test(layout, layout_no_overlaps_for_many_sizes);
	tcase_add_test(layout, layout_kernel_too_large);
	tcase_add_test(layout, layout_initrd_too_large);
	tcase_add_test(layout, firmware_layout_alone);
	tcase_add_test(layout, guest_images_read_again_after_drop);
	tcase_add_test(layout, firmware_layout_bad_addresses);
	tcase_add_test(layout, firmware_layout_with_a_kernel);
	suite_add_tcase(s, parse);
	suite_add_tcase(s, layout);
	return s;
}
