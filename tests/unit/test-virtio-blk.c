/*
 * virtio-blk through the MMIO bus, as a driver sees it: a fake guest RAM, a temporary image,
 * requests good and bad. Requests complete on the device's I/O thread, so each test waits for
 * the used ring (or for NEEDS_RESET) before it looks.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/virtio_blk.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_mmio.h>

#include "lkvm/kvm.h"
#include "lkvm/memory-map.h"
#include "lkvm/virtio-blk.h"
#include "lkvm/virtio.h"
#include "suites.h"
#include "vdriver.h"

#define RAM_SIZE	(1ULL << 20)
#define QSIZE		8
#define HDR		G(0x10000)
#define STATUS		G(0x11000)
#define BUF		G(0x20000)	/* data, up to 64K */
#define IMG_SIZE	(64 * 1024)
#define IMG_SECTORS	(IMG_SIZE / 512)

#define F_NEXT		VRING_DESC_F_NEXT
#define F_WRITE		VRING_DESC_F_WRITE
#define S_NEEDS_RESET	VIRTIO_CONFIG_S_NEEDS_RESET

#define BIT(n)		(1ULL << (n))
#define BLK_FEATURES	(BIT(VIRTIO_BLK_F_SEG_MAX) | BIT(VIRTIO_BLK_F_BLK_SIZE) |	\
			 BIT(VIRTIO_BLK_F_FLUSH))
#define RANGE_FEATURES	(BIT(VIRTIO_BLK_F_DISCARD) | BIT(VIRTIO_BLK_F_WRITE_ZEROES))

/* A field of struct virtio_blk_config, as the driver reads it. */
#define config64(field)	vdrv__cfg_rd(&t.v, offsetof(struct virtio_blk_config, field), 8)
#define config32(field)	vdrv__cfg_rd(&t.v, offsetof(struct virtio_blk_config, field), 4)

static struct {
	struct vdrv v;
	char *path;
} t;

static void header(u32 type, u64 sector)
{
	struct virtio_blk_outhdr h = { .type = type, .sector = sector };

	memcpy(vdrv__host(&t.v, HDR), &h, sizeof(h));
}

/* A request as Linux lays it out: header, data (if len), status byte. Returns the status. */
static u8 request(u32 type, u64 sector, u64 data, u32 len, bool device_writes)
{
	u16 dflags = F_NEXT | (device_writes ? F_WRITE : 0);

	header(type, sector);
	*(u8 *)vdrv__host(&t.v, STATUS) = 0xee;
	vdrv__desc(&t.v, 0, 0, HDR, sizeof(struct virtio_blk_outhdr), F_NEXT, len ? 1 : 2);
	vdrv__desc(&t.v, 0, 1, data, len, dflags, 2);
	vdrv__desc(&t.v, 0, 2, STATUS, 1, F_WRITE, 0);
	vdrv__run(&t.v, 0, 0);
	return *(u8 *)vdrv__host(&t.v, STATUS);
}

static u8 rd_sectors(u64 sector, u64 data, u32 len)
{
	return request(VIRTIO_BLK_T_IN, sector, data, len, true);
}

static u8 wr_sectors(u64 sector, u64 data, u32 len)
{
	return request(VIRTIO_BLK_T_OUT, sector, data, len, false);
}

/* Discard or write zeroes of one range. */
static u8 range_request(u32 type, u64 sector, u32 num, u32 flags)
{
	struct virtio_blk_discard_write_zeroes r = { .sector = sector, .num_sectors = num,
						     .flags = flags };

	memcpy(vdrv__host(&t.v, BUF), &r, sizeof(r));
	return request(type, 0, BUF, sizeof(r), false);
}

static u8 pattern(u64 off)
{
	return (u8)(off * 7 + off / 512 + 3);
}

static void image_read(u64 off, void *buf, size_t len)
{
	int fd = open(t.path, O_RDONLY);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pread(fd, buf, len, (off_t)off), (ssize_t)len);
	close(fd);
}

static bool image_is(u64 off, size_t len, u8 (*expect)(u64))
{
	static u8 buf[IMG_SIZE];

	image_read(off, buf, len);
	for (size_t i = 0; i < len; i++) {
		if (buf[i] != expect(off + i))
			return false;
	}
	return true;
}

static u8 zero(u64 off)
{
	(void)off;
	return 0;
}

/* Makes the image and the device; returns what virtio_blk__init did. */
static int try_setup_disk(u64 size, bool readonly, bool direct)
{
	static u8 img[IMG_SIZE + 4096];

	memset(&t, 0, sizeof(t));
	for (u64 i = 0; i < sizeof(img); i++)
		img[i] = pattern(i);
	ck_assert_uint_le(size, sizeof(img));
	t.path = temp_file(img, size);
	vdrv__setup(&t.v, RAM_SIZE);
	t.v.qsize = QSIZE;
	t.v.wait_ms = 3000;
	t.v.cfg.disks[0] = (struct disk_spec){ .path = t.path, .readonly = readonly,
					       .direct = direct };
	t.v.cfg.nr_disks = 1;
	return virtio_blk__init(&t.v.kvm);
}

static void setup_disk(u64 size, bool readonly, bool direct)
{
	ck_assert_int_eq(try_setup_disk(size, readonly, direct), 0);
}

static void setup(void)
{
	setup_disk(IMG_SIZE, false, false);
}

static void teardown(void)
{
	virtio_blk__exit(&t.v.kvm);
	unlink(t.path);
	free(t.path);
	vdrv__teardown(&t.v);
}

/* --- the device --- */

START_TEST(identity_and_config)
{
	u64 f = vdrv__device_features(&t.v);

	ck_assert_uint_eq(vdrv__rd(&t.v, VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_BLOCK);
	ck_assert_uint_eq(f & BLK_FEATURES, BLK_FEATURES);
	ck_assert_uint_eq(f & BIT(VIRTIO_BLK_F_RO), 0);
	ck_assert_uint_eq(f & BIT(VIRTIO_BLK_F_MQ), 0);
	ck_assert_uint_eq(f & BIT(VIRTIO_F_VERSION_1), BIT(VIRTIO_F_VERSION_1));
	ck_assert_uint_eq(config64(capacity), IMG_SECTORS);
	ck_assert_uint_eq(config32(seg_max), VIRTQ_MAX_SIZE - 2);
	ck_assert_uint_eq(config32(blk_size), 512);
	/* The file system here punches holes (ext4, tmpfs, xfs, btrfs all do). */
	ck_assert_uint_eq(f & RANGE_FEATURES, RANGE_FEATURES);
	ck_assert_uint_ne(config32(max_discard_sectors), 0);
	ck_assert_uint_ne(config32(max_discard_seg), 0);
	ck_assert_uint_ne(config32(max_write_zeroes_seg), 0);
}
END_TEST

START_TEST(read_sectors)
{
	vdrv__init_driver(&t.v, BLK_FEATURES);
	/* Two data buffers, as a scatter list gives them. */
	header(VIRTIO_BLK_T_IN, 3);
	vdrv__desc(&t.v, 0, 0, HDR, 16, F_NEXT, 1);
	vdrv__desc(&t.v, 0, 1, BUF, 512, F_NEXT | F_WRITE, 2);
	vdrv__desc(&t.v, 0, 2, BUF + 0x1000, 1024, F_NEXT | F_WRITE, 3);
	vdrv__desc(&t.v, 0, 3, STATUS, 1, F_WRITE, 0);
	vdrv__run(&t.v, 0, 0);
	ck_assert_uint_eq(*(u8 *)vdrv__host(&t.v, STATUS), VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(vdrv__used(&t.v, 0)->ring[0].len, 512 + 1024 + 1);
	for (unsigned int i = 0; i < 512; i++)
		ck_assert_uint_eq(((u8 *)vdrv__host(&t.v, BUF))[i], pattern(3 * 512 + i));
	for (unsigned int i = 0; i < 1024; i++)
		ck_assert_uint_eq(((u8 *)vdrv__host(&t.v, BUF + 0x1000))[i], pattern(4 * 512 + i));
}
END_TEST

START_TEST(write_sectors)
{
	u8 back[1024];

	vdrv__init_driver(&t.v, BLK_FEATURES);
	memset(vdrv__host(&t.v, BUF), 0x5a, 1024);
	ck_assert_uint_eq(wr_sectors(IMG_SECTORS - 2, BUF, 1024), VIRTIO_BLK_S_OK);
	image_read(IMG_SIZE - 1024, back, sizeof(back));
	for (unsigned int i = 0; i < sizeof(back); i++)
		ck_assert_uint_eq(back[i], 0x5a);
	ck_assert(image_is(0, IMG_SIZE - 1024, pattern));
	/* And it reads back through the device. */
	memset(vdrv__host(&t.v, BUF + 0x1000), 0, 1024);
	ck_assert_uint_eq(rd_sectors(IMG_SECTORS - 2, BUF + 0x1000, 1024), VIRTIO_BLK_S_OK);
	ck_assert_mem_eq(vdrv__host(&t.v, BUF + 0x1000), vdrv__host(&t.v, BUF), 1024);
}
END_TEST

START_TEST(any_layout)
{
	/* The header in two pieces, the status in the data's buffer: the spec allows any split. */
	vdrv__init_driver(&t.v, BLK_FEATURES);
	header(VIRTIO_BLK_T_IN, 1);
	vdrv__desc(&t.v, 0, 0, HDR, 8, F_NEXT, 1);
	vdrv__desc(&t.v, 0, 1, HDR + 8, 8, F_NEXT, 2);
	vdrv__desc(&t.v, 0, 2, BUF, 513, F_WRITE, 0);
	((u8 *)vdrv__host(&t.v, BUF))[512] = 0xee;
	vdrv__run(&t.v, 0, 0);
	ck_assert_uint_eq(((u8 *)vdrv__host(&t.v, BUF))[512], VIRTIO_BLK_S_OK);
	for (unsigned int i = 0; i < 512; i++)
		ck_assert_uint_eq(((u8 *)vdrv__host(&t.v, BUF))[i], pattern(512 + i));
}
END_TEST

START_TEST(writethrough_without_flush)
{
	u8 back[512];

	vdrv__init_driver(&t.v, 0);
	memset(vdrv__host(&t.v, BUF), 0x11, 512);
	ck_assert_uint_eq(wr_sectors(0, BUF, 512), VIRTIO_BLK_S_OK);
	image_read(0, back, sizeof(back));
	ck_assert_uint_eq(back[0], 0x11);
	ck_assert_uint_eq(back[511], 0x11);
}
END_TEST

START_TEST(flush)
{
	vdrv__init_driver(&t.v, BLK_FEATURES);
	ck_assert_uint_eq(request(VIRTIO_BLK_T_FLUSH, 0, 0, 0, false), VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(vdrv__used(&t.v, 0)->ring[0].len, 1);
}
END_TEST

START_TEST(get_id)
{
	const char *name = strrchr(t.path, '/') + 1;
	char id[VIRTIO_BLK_ID_BYTES + 1] = { 0 };

	vdrv__init_driver(&t.v, BLK_FEATURES);
	memset(vdrv__host(&t.v, BUF), 0xff, 64);
	ck_assert_uint_eq(request(VIRTIO_BLK_T_GET_ID, 0, BUF, VIRTIO_BLK_ID_BYTES, true),
			  VIRTIO_BLK_S_OK);
	memcpy(id, vdrv__host(&t.v, BUF), VIRTIO_BLK_ID_BYTES);
	ck_assert_str_eq(id, name);		/* NUL-padded: shorter than 20 */
	ck_assert_uint_eq(((u8 *)vdrv__host(&t.v, BUF))[VIRTIO_BLK_ID_BYTES - 1], 0);
	ck_assert_uint_eq(((u8 *)vdrv__host(&t.v, BUF))[VIRTIO_BLK_ID_BYTES], 0xff);
	/* A smaller buffer gets what fits, and nothing past it. */
	memset(vdrv__host(&t.v, BUF), 0xff, 64);
	ck_assert_uint_eq(request(VIRTIO_BLK_T_GET_ID, 0, BUF, 4, true), VIRTIO_BLK_S_OK);
	ck_assert_mem_eq(vdrv__host(&t.v, BUF), name, 4);
	ck_assert_uint_eq(((u8 *)vdrv__host(&t.v, BUF))[4], 0xff);
}
END_TEST

START_TEST(discard_and_write_zeroes)
{
	vdrv__init_driver(&t.v, BLK_FEATURES | RANGE_FEATURES);
	ck_assert_uint_eq(range_request(VIRTIO_BLK_T_DISCARD, 8, 8, 0), VIRTIO_BLK_S_OK);
	ck_assert(image_is(8 * 512, 8 * 512, zero));
	ck_assert(image_is(0, 8 * 512, pattern));
	ck_assert(image_is(16 * 512, IMG_SIZE - 16 * 512, pattern));

	ck_assert_uint_eq(range_request(VIRTIO_BLK_T_WRITE_ZEROES, 20, 1, 0), VIRTIO_BLK_S_OK);
	ck_assert(image_is(20 * 512, 512, zero));
	ck_assert(image_is(21 * 512, 512, pattern));
	ck_assert_uint_eq(range_request(VIRTIO_BLK_T_WRITE_ZEROES, 30, 2,
					VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP), VIRTIO_BLK_S_OK);
	ck_assert(image_is(30 * 512, 1024, zero));
	ck_assert(image_is(32 * 512, 512, pattern));
	/* The whole disk, to its last sector. */
	ck_assert_uint_eq(range_request(VIRTIO_BLK_T_DISCARD, 0, IMG_SECTORS, 0), VIRTIO_BLK_S_OK);
	ck_assert(image_is(0, IMG_SIZE, zero));
}
END_TEST

START_TEST(discard_several_ranges)
{
	struct virtio_blk_discard_write_zeroes r[2] = {
		{ .sector = 2, .num_sectors = 1 }, { .sector = 10, .num_sectors = 2 },
	};

	vdrv__init_driver(&t.v, BLK_FEATURES | RANGE_FEATURES);
	memcpy(vdrv__host(&t.v, BUF), r, sizeof(r));
	ck_assert_uint_eq(request(VIRTIO_BLK_T_DISCARD, 0, BUF, sizeof(r), false),
			  VIRTIO_BLK_S_OK);
	ck_assert(image_is(2 * 512, 512, zero));
	ck_assert(image_is(3 * 512, 7 * 512, pattern));
	ck_assert(image_is(10 * 512, 1024, zero));
}
END_TEST

START_TEST(bad_ranges_change_nothing)
{
	struct virtio_blk_discard_write_zeroes r[33] = { 0 };

	vdrv__init_driver(&t.v, BLK_FEATURES | RANGE_FEATURES);
	/* Unmap on a discard, unknown flags: unsupported, says the spec. */
	ck_assert_uint_eq(range_request(VIRTIO_BLK_T_DISCARD, 0, 1,
					VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP), VIRTIO_BLK_S_UNSUPP);
	ck_assert_uint_eq(range_request(VIRTIO_BLK_T_WRITE_ZEROES, 0, 1, 2), VIRTIO_BLK_S_UNSUPP);
	/* Off the disk, wrapping around, too long. */
	ck_assert_uint_eq(range_request(VIRTIO_BLK_T_DISCARD, IMG_SECTORS, 1, 0),
			  VIRTIO_BLK_S_IOERR);
	ck_assert_uint_eq(range_request(VIRTIO_BLK_T_DISCARD, ~0ULL, 2, 0), VIRTIO_BLK_S_IOERR);
	ck_assert_uint_eq(range_request(VIRTIO_BLK_T_WRITE_ZEROES, IMG_SECTORS - 1, 2, 0),
			  VIRTIO_BLK_S_IOERR);
	ck_assert_uint_eq(range_request(VIRTIO_BLK_T_DISCARD, 0, 0xffffffff, 0),
			  VIRTIO_BLK_S_IOERR);
	/* No range, a partial one, more than max_discard_seg. */
	ck_assert_uint_eq(request(VIRTIO_BLK_T_DISCARD, 0, 0, 0, false), VIRTIO_BLK_S_IOERR);
	ck_assert_uint_eq(request(VIRTIO_BLK_T_DISCARD, 0, BUF, 8, false), VIRTIO_BLK_S_IOERR);
	for (unsigned int i = 0; i < 33; i++)
		r[i] = (struct virtio_blk_discard_write_zeroes){ .sector = i, .num_sectors = 1 };
	memcpy(vdrv__host(&t.v, BUF), r, sizeof(r));
	ck_assert_uint_eq(request(VIRTIO_BLK_T_DISCARD, 0, BUF, sizeof(r), false),
			  VIRTIO_BLK_S_IOERR);
	/* A good range after a bad one: none is done. */
	r[1].sector = IMG_SECTORS;
	memcpy(vdrv__host(&t.v, BUF), r, 2 * sizeof(r[0]));
	ck_assert_uint_eq(request(VIRTIO_BLK_T_DISCARD, 0, BUF, 2 * sizeof(r[0]), false),
			  VIRTIO_BLK_S_IOERR);
	ck_assert(image_is(0, IMG_SIZE, pattern));
}
END_TEST

START_TEST(ranges_need_their_feature)
{
	vdrv__init_driver(&t.v, BLK_FEATURES);
	ck_assert_uint_eq(range_request(VIRTIO_BLK_T_DISCARD, 0, 1, 0), VIRTIO_BLK_S_UNSUPP);
	ck_assert_uint_eq(range_request(VIRTIO_BLK_T_WRITE_ZEROES, 0, 1, 0), VIRTIO_BLK_S_UNSUPP);
	ck_assert(image_is(0, IMG_SIZE, pattern));
}
END_TEST

/* --- bad requests --- */

START_TEST(out_of_range)
{
	vdrv__init_driver(&t.v, BLK_FEATURES);
	memset(vdrv__host(&t.v, BUF), 0x77, 1024);
	ck_assert_uint_eq(rd_sectors(IMG_SECTORS, BUF, 512), VIRTIO_BLK_S_IOERR);
	ck_assert_uint_eq(rd_sectors(IMG_SECTORS - 1, BUF, 1024), VIRTIO_BLK_S_IOERR);
	ck_assert_uint_eq(wr_sectors(IMG_SECTORS, BUF, 512), VIRTIO_BLK_S_IOERR);
	ck_assert_uint_eq(wr_sectors(IMG_SECTORS + 1000, BUF, 512), VIRTIO_BLK_S_IOERR);
	/* The last sector is still a sector. */
	ck_assert_uint_eq(rd_sectors(IMG_SECTORS - 1, BUF, 512), VIRTIO_BLK_S_OK);
	ck_assert(image_is(0, IMG_SIZE, pattern));
}
END_TEST

START_TEST(sector_overflow)
{
	vdrv__init_driver(&t.v, BLK_FEATURES);
	memset(vdrv__host(&t.v, BUF), 0x77, 1024);
	/* sector * 512 wraps to 0 (or just below): the naive byte check would pass. */
	ck_assert_uint_eq(wr_sectors(1ULL << 55, BUF, 512), VIRTIO_BLK_S_IOERR);
	ck_assert_uint_eq(wr_sectors(~0ULL, BUF, 1024), VIRTIO_BLK_S_IOERR);
	ck_assert_uint_eq(rd_sectors(~0ULL - 1, BUF, 1024), VIRTIO_BLK_S_IOERR);
	ck_assert_uint_eq(wr_sectors((~0ULL >> 9) + 1, BUF, 512), VIRTIO_BLK_S_IOERR);
	ck_assert(image_is(0, IMG_SIZE, pattern));
}
END_TEST

START_TEST(bad_lengths)
{
	vdrv__init_driver(&t.v, BLK_FEATURES);
	memset(vdrv__host(&t.v, BUF), 0x77, 1024);
	ck_assert_uint_eq(rd_sectors(0, BUF, 100), VIRTIO_BLK_S_IOERR);
	ck_assert_uint_eq(rd_sectors(0, BUF, 513), VIRTIO_BLK_S_IOERR);
	ck_assert_uint_eq(wr_sectors(0, BUF, 511), VIRTIO_BLK_S_IOERR);
	ck_assert_uint_eq(wr_sectors(0, BUF, 1023), VIRTIO_BLK_S_IOERR);
	ck_assert(image_is(0, IMG_SIZE, pattern));
	for (unsigned int i = 0; i < 100; i++)		/* nothing read into it */
		ck_assert_uint_eq(((u8 *)vdrv__host(&t.v, BUF))[i], 0x77);
	/* A header too short to hold the type and sector. */
	header(VIRTIO_BLK_T_IN, 0);
	vdrv__desc(&t.v, 0, 0, HDR, 15, F_NEXT, 1);
	vdrv__desc(&t.v, 0, 1, STATUS, 1, F_WRITE, 0);
	vdrv__run(&t.v, 0, 0);
	ck_assert_uint_eq(*(u8 *)vdrv__host(&t.v, STATUS), VIRTIO_BLK_S_IOERR);
	/* Zero-length data is no data. */
	ck_assert_uint_eq(rd_sectors(0, BUF, 0), VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(vdrv__used(&t.v, 0)->ring[(vdrv__used_idx(&t.v, 0) - 1) % QSIZE].len, 1);
}
END_TEST

START_TEST(read_without_room_reads_nothing)
{
	/* A read whose data buffer is device-readable: there is no room, so it reads nothing. */
	vdrv__init_driver(&t.v, BLK_FEATURES);
	memset(vdrv__host(&t.v, BUF), 0x42, 512);
	header(VIRTIO_BLK_T_IN, 0);
	vdrv__desc(&t.v, 0, 0, HDR, 16, F_NEXT, 1);
	vdrv__desc(&t.v, 0, 1, BUF, 512, F_NEXT, 2);	/* device-readable: nothing to read into */
	vdrv__desc(&t.v, 0, 2, STATUS, 1, F_WRITE, 0);
	vdrv__run(&t.v, 0, 0);
	/* A read of nothing. */
	ck_assert_uint_eq(*(u8 *)vdrv__host(&t.v, STATUS), VIRTIO_BLK_S_OK);
	ck_assert(image_is(0, IMG_SIZE, pattern));
}
END_TEST

START_TEST(unknown_types)
{
	static const u32 types[] = { 2, 3, 5, 9, 10, 14, 99, VIRTIO_BLK_T_BARRIER,
				     VIRTIO_BLK_T_OUT | VIRTIO_BLK_T_BARRIER };

	vdrv__init_driver(&t.v, BLK_FEATURES);
	memset(vdrv__host(&t.v, BUF), 0x77, 512);
	for (unsigned int i = 0; i < ARRAY_SIZE(types); i++)
		ck_assert_uint_eq(request(types[i], 0, BUF, 512, false), VIRTIO_BLK_S_UNSUPP);
	ck_assert(image_is(0, IMG_SIZE, pattern));
	ck_assert_uint_eq(vdrv__rd(&t.v, VIRTIO_MMIO_STATUS) & S_NEEDS_RESET, 0);
}
END_TEST

START_TEST(missing_status_byte)
{
	vdrv__init_driver(&t.v, BLK_FEATURES);
	header(VIRTIO_BLK_T_OUT, 0);
	memset(vdrv__host(&t.v, BUF), 0x77, 512);
	vdrv__desc(&t.v, 0, 0, HDR, 16, F_NEXT, 1);
	vdrv__desc(&t.v, 0, 1, BUF, 512, 0, 0);
	vdrv__run_broken(&t.v, 0, 0);
	ck_assert(image_is(0, IMG_SIZE, pattern));
	/* And the device works again after a reset. */
	vdrv__init_driver(&t.v, BLK_FEATURES);
	ck_assert_uint_eq(rd_sectors(0, BUF, 512), VIRTIO_BLK_S_OK);
}
END_TEST

START_TEST(zero_length_chain)
{
	vdrv__init_driver(&t.v, BLK_FEATURES);
	vdrv__desc(&t.v, 0, 0, HDR, 0, F_NEXT, 1);
	vdrv__desc(&t.v, 0, 1, STATUS, 0, F_WRITE, 0);
	vdrv__run_broken(&t.v, 0, 0);
}
END_TEST

START_TEST(status_only_chain)
{
	/* No header at all, but somewhere to say so. */
	vdrv__init_driver(&t.v, BLK_FEATURES);
	vdrv__desc(&t.v, 0, 0, HDR, 0, F_NEXT, 1);
	vdrv__desc(&t.v, 0, 1, STATUS, 1, F_WRITE, 0);
	*(u8 *)vdrv__host(&t.v, STATUS) = 0xee;
	vdrv__run(&t.v, 0, 0);
	ck_assert_uint_eq(*(u8 *)vdrv__host(&t.v, STATUS), VIRTIO_BLK_S_IOERR);
}
END_TEST

START_TEST(reset_then_again)
{
	vdrv__init_driver(&t.v, BLK_FEATURES);
	for (unsigned int i = 0; i < 20; i++)
		ck_assert_uint_eq(rd_sectors(i, BUF, 512), VIRTIO_BLK_S_OK);
	vdrv__wr(&t.v, VIRTIO_MMIO_STATUS, 0);
	ck_assert_uint_eq(vdrv__rd(&t.v, VIRTIO_MMIO_STATUS), 0);
	vdrv__init_driver(&t.v, BLK_FEATURES);
	ck_assert_uint_eq(rd_sectors(5, BUF, 512), VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(((u8 *)vdrv__host(&t.v, BUF))[0], pattern(5 * 512));
}
END_TEST

START_TEST(requests_before_driver_ok_wait_for_it)
{
	/* The driver's setup, short of DRIVER_OK. */
	vdrv__negotiate(&t.v, 0);
	vdrv__setup_queue(&t.v, 0);
	header(VIRTIO_BLK_T_IN, 2);
	vdrv__desc(&t.v, 0, 0, HDR, 16, F_NEXT, 1);
	vdrv__desc(&t.v, 0, 1, BUF, 512, F_NEXT | F_WRITE, 2);
	vdrv__desc(&t.v, 0, 2, STATUS, 1, F_WRITE, 0);
	vdrv__post(&t.v, 0, 0);
	vdrv__msleep(50);
	ck_assert_uint_eq(vdrv__used_idx(&t.v, 0), 0);
	vdrv__driver_ok(&t.v);
	vdrv__wait_used(&t.v, 0, 1);
	ck_assert_uint_eq(*(u8 *)vdrv__host(&t.v, STATUS), VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(((u8 *)vdrv__host(&t.v, BUF))[0], pattern(2 * 512));
}
END_TEST

START_TEST(linux_ring_features)
{
	/* Event index and an indirect table, as Linux negotiates and uses them. */
	u64 itable = G(0x8000);
	struct vring_desc d[3] = {
		{ .addr = HDR, .len = 16, .flags = F_NEXT, .next = 1 },
		{ .addr = BUF, .len = 4096, .flags = F_NEXT | F_WRITE, .next = 2 },
		{ .addr = STATUS, .len = 1, .flags = F_WRITE },
	};

	vdrv__init_driver(&t.v, BLK_FEATURES | BIT(VIRTIO_RING_F_EVENT_IDX) |
			  BIT(VIRTIO_RING_F_INDIRECT_DESC));
	memcpy(vdrv__host(&t.v, itable), d, sizeof(d));
	for (unsigned int i = 0; i < 3 * QSIZE; i++) {
		header(VIRTIO_BLK_T_IN, i);
		*(u8 *)vdrv__host(&t.v, STATUS) = 0xee;
		vdrv__desc(&t.v, 0, 0, itable, sizeof(d), VRING_DESC_F_INDIRECT, 0);
		vdrv__run(&t.v, 0, 0);
		ck_assert_uint_eq(*(u8 *)vdrv__host(&t.v, STATUS), VIRTIO_BLK_S_OK);
		ck_assert_uint_eq(((u8 *)vdrv__host(&t.v, BUF))[4095], pattern(i * 512 + 4095));
	}
}
END_TEST

START_TEST(reset_waits_for_requests_in_flight)
{
	struct vring_avail *a = vdrv__avail(&t.v, 0);
	static u8 snap[QSIZE * 0x2000];
	u16 after;

	/* A queue full of reads, then a reset right away: nothing is touched after it. */
	vdrv__init_driver(&t.v, BLK_FEATURES);
	for (unsigned int i = 0; i < QSIZE; i++) {
		vdrv__desc(&t.v, 0, 3 * i, HDR, 16, F_NEXT, (u16)(3 * i + 1));
		vdrv__desc(&t.v, 0, 3 * i + 1, BUF + i * 0x2000, 0x2000, F_NEXT | F_WRITE,
			   (u16)(3 * i + 2));
		vdrv__desc(&t.v, 0, 3 * i + 2, STATUS + i, 1, F_WRITE, 0);
		a->ring[i] = (u16)(3 * i);
	}
	header(VIRTIO_BLK_T_IN, 0);
	memset(vdrv__host(&t.v, BUF), 0xee, sizeof(snap));
	__atomic_store_n(&a->idx, QSIZE, __ATOMIC_RELEASE);
	vdrv__notify(&t.v, 0);
	vdrv__wr(&t.v, VIRTIO_MMIO_STATUS, 0);
	after = vdrv__used_idx(&t.v, 0);
	memcpy(snap, vdrv__host(&t.v, BUF), sizeof(snap));
	vdrv__msleep(100);
	ck_assert_uint_eq(vdrv__used_idx(&t.v, 0), after);
	ck_assert_mem_eq(vdrv__host(&t.v, BUF), snap, sizeof(snap));
}
END_TEST

/* --- read-only, odd sizes, direct I/O --- */

START_TEST(read_only_refuses_writes)
{
	u64 f;

	teardown();
	setup_disk(IMG_SIZE, true, false);
	f = vdrv__device_features(&t.v);
	ck_assert_uint_ne(f & BIT(VIRTIO_BLK_F_RO), 0);
	ck_assert_uint_eq(f & RANGE_FEATURES, 0);
	vdrv__init_driver(&t.v, BLK_FEATURES | BIT(VIRTIO_BLK_F_RO));
	memset(vdrv__host(&t.v, BUF), 0x77, 1024);
	ck_assert_uint_eq(wr_sectors(0, BUF, 1024), VIRTIO_BLK_S_IOERR);
	ck_assert_uint_eq(range_request(VIRTIO_BLK_T_DISCARD, 0, 1, 0), VIRTIO_BLK_S_UNSUPP);
	ck_assert(image_is(0, IMG_SIZE, pattern));
	ck_assert_uint_eq(rd_sectors(1, BUF, 512), VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(((u8 *)vdrv__host(&t.v, BUF))[0], pattern(512));
	ck_assert_uint_eq(request(VIRTIO_BLK_T_FLUSH, 0, 0, 0, false), VIRTIO_BLK_S_OK);
}
END_TEST

START_TEST(odd_size_tail_not_addressable)
{
	teardown();
	setup_disk(IMG_SIZE + 100, false, false);
	ck_assert_uint_eq(config64(capacity), IMG_SECTORS);
	vdrv__init_driver(&t.v, BLK_FEATURES);
	ck_assert_uint_eq(rd_sectors(IMG_SECTORS, BUF, 512), VIRTIO_BLK_S_IOERR);
	ck_assert_uint_eq(rd_sectors(IMG_SECTORS - 1, BUF, 512), VIRTIO_BLK_S_OK);
}
END_TEST

START_TEST(tiny_image_has_no_sectors)
{
	teardown();
	setup_disk(100, false, false);
	ck_assert_uint_eq(config64(capacity), 0);
	vdrv__init_driver(&t.v, BLK_FEATURES);
	ck_assert_uint_eq(rd_sectors(0, BUF, 512), VIRTIO_BLK_S_IOERR);
}
END_TEST

/* Whether temporary files take O_DIRECT (tmpfs before Linux 6.6 does not). */
static bool tmp_takes_direct(void)
{
	char *path = temp_file("", 0);
	int fd = open(path, O_RDWR | O_DIRECT);

	unlink(path);
	free(path);
	if (fd >= 0)
		close(fd);
	return fd >= 0;
}

static u8 direct_pattern(u64 off)
{
	if (off >= 512 && off < 512 + 1536)
		return (u8)(0x80 + (off - 512) % 61);
	return pattern(off);
}

START_TEST(direct_io_with_unaligned_buffers)
{
	u32 blk_size;
	u8 *b;

	teardown();
	/* Where temporary files cannot take O_DIRECT, saying so is what lkvm must do. */
	if (!tmp_takes_direct()) {
		ck_assert_int_eq(try_setup_disk(IMG_SIZE, false, true), -EINVAL);
		return;
	}
	setup_disk(IMG_SIZE, false, true);
	blk_size = config32(blk_size);
	ck_assert(blk_size >= 512 && !(blk_size & (blk_size - 1)));
	ck_assert_uint_eq(config64(capacity) % (blk_size / 512),
			  0);
	vdrv__init_driver(&t.v, BLK_FEATURES);
	/* An odd address and a 512-byte offset: the bounce buffer, reading part of a block. */
	b = vdrv__host(&t.v, BUF + 1);
	for (unsigned int i = 0; i < 1536; i++)
		b[i] = (u8)(0x80 + i % 61);
	ck_assert_uint_eq(wr_sectors(1, BUF + 1, 1536), VIRTIO_BLK_S_OK);
	ck_assert(image_is(0, IMG_SIZE, direct_pattern));
	memset(vdrv__host(&t.v, BUF + 0x8001), 0, 2048);
	ck_assert_uint_eq(rd_sectors(1, BUF + 0x8001, 1536), VIRTIO_BLK_S_OK);
	ck_assert_mem_eq(vdrv__host(&t.v, BUF + 0x8001), b, 1536);
	/* Aligned buffers go straight through. */
	ck_assert_uint_eq(rd_sectors(0, BUF + 0x4000, 8192), VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(((u8 *)vdrv__host(&t.v, BUF + 0x4000))[512], 0x80);
	ck_assert_uint_eq(((u8 *)vdrv__host(&t.v, BUF + 0x4000))[8191], pattern(8191));
}
END_TEST

/* --- images and devices --- */

START_TEST(locked_image_is_refused)
{
	static struct lkvm_config cfg2;
	static struct kvm k2;

	/* A writer holds it: neither another writer nor a reader gets it. */
	cfg2 = t.v.cfg;
	k2 = (struct kvm){ .cfg = &cfg2, .vm_fd = -1 };
	ck_assert_int_eq(virtio_blk__init(&k2), -EBUSY);
	ck_assert_ptr_null(k2.virtio_devs);
	cfg2.disks[0].readonly = true;
	ck_assert_int_eq(virtio_blk__init(&k2), -EBUSY);
	/* Readers share it. */
	teardown();
	setup_disk(IMG_SIZE, true, false);
	cfg2 = t.v.cfg;
	k2 = (struct kvm){ .cfg = &cfg2, .vm_fd = -1 };
	ck_assert_int_eq(virtio_blk__init(&k2), 0);
	ck_assert_ptr_nonnull(k2.virtio_devs);
	cfg2.disks[0].readonly = false;
	virtio_blk__exit(&k2);
	ck_assert_ptr_null(k2.virtio_devs);
	/* Once the readers are gone, a writer gets it. */
	virtio_blk__exit(&t.v.kvm);
	ck_assert_int_eq(virtio_blk__init(&k2), 0);
	virtio_blk__exit(&k2);
	ck_assert_int_eq(virtio_blk__init(&t.v.kvm), 0);
}
END_TEST

START_TEST(two_disks_and_a_failing_third)
{
	char *other = temp_file("", 0);
	u8 d[4];

	virtio_blk__exit(&t.v.kvm);
	t.v.cfg.disks[1] = (struct disk_spec){ .path = other };
	t.v.cfg.nr_disks = 2;
	ck_assert_int_eq(virtio_blk__init(&t.v.kvm), 0);
	ck_assert(vdrv__access(&t.v, LKVM_VIRTIO_MMIO_SIZE + VIRTIO_MMIO_DEVICE_ID, d, 4, false));
	ck_assert_uint_eq(get_le32(d), VIRTIO_ID_BLOCK);
	virtio_blk__exit(&t.v.kvm);
	ck_assert_ptr_null(t.v.kvm.virtio_devs);
	ck_assert_ptr_null(t.v.kvm.mmio.regions);
	/* The same image twice, then a missing one: nothing is left behind. */
	t.v.cfg.disks[2] = t.v.cfg.disks[0];
	t.v.cfg.nr_disks = 3;
	ck_assert_int_eq(virtio_blk__init(&t.v.kvm), -EBUSY);
	ck_assert_ptr_null(t.v.kvm.virtio_devs);
	t.v.cfg.disks[2].path = "/nonexistent/disk.img";
	ck_assert_int_eq(virtio_blk__init(&t.v.kvm), -ENOENT);
	ck_assert_ptr_null(t.v.kvm.virtio_devs);
	ck_assert_ptr_null(t.v.kvm.mmio.regions);
	t.v.cfg.nr_disks = 1;
	ck_assert_int_eq(virtio_blk__init(&t.v.kvm), 0);
	unlink(other);
	free(other);
}
END_TEST

START_TEST(exit_with_requests_pending)
{
	/* Requests the thread has not got to when the VM stops: exit still returns. */
	vdrv__init_driver(&t.v, BLK_FEATURES);
	for (unsigned int i = 0; i < 20; i++)
		ck_assert_uint_eq(rd_sectors(i, BUF, 512), VIRTIO_BLK_S_OK);
	header(VIRTIO_BLK_T_FLUSH, 0);
	vdrv__desc(&t.v, 0, 0, HDR, 16, F_NEXT, 1);
	vdrv__desc(&t.v, 0, 1, STATUS, 1, F_WRITE, 0);
	for (unsigned int i = 0; i < QSIZE; i++)
		vdrv__offer(&t.v, 0, 0);
	vdrv__notify(&t.v, 0);
	virtio_blk__exit(&t.v.kvm);
	ck_assert_ptr_null(t.v.kvm.virtio_devs);
	ck_assert_int_eq(virtio_blk__init(&t.v.kvm), 0);
}
END_TEST

Suite *virtio_blk_suite(void)
{
	Suite *s = suite_create("virtio-blk");
	TCase *req = tcase_create("requests");
	TCase *bad = tcase_create("bad-requests");
	TCase *img = tcase_create("images");

	tcase_add_checked_fixture(req, setup, teardown);
	tcase_add_test(req, identity_and_config);
	tcase_add_test(req, read_sectors);
	tcase_add_test(req, write_sectors);
	tcase_add_test(req, any_layout);
	tcase_add_test(req, writethrough_without_flush);
	tcase_add_test(req, flush);
	tcase_add_test(req, get_id);
	tcase_add_test(req, discard_and_write_zeroes);
	tcase_add_test(req, discard_several_ranges);
	tcase_add_test(req, bad_ranges_change_nothing);
	tcase_add_test(req, ranges_need_their_feature);
	suite_add_tcase(s, req);

	tcase_add_checked_fixture(bad, setup, teardown);
	tcase_add_test(bad, out_of_range);
	tcase_add_test(bad, sector_overflow);
	tcase_add_test(bad, bad_lengths);
	tcase_add_test(bad, read_without_room_reads_nothing);
	tcase_add_test(bad, unknown_types);
	tcase_add_test(bad, missing_status_byte);
	tcase_add_test(bad, zero_length_chain);
	tcase_add_test(bad, status_only_chain);
	tcase_add_test(bad, reset_then_again);
	tcase_add_test(bad, requests_before_driver_ok_wait_for_it);
	tcase_add_test(bad, linux_ring_features);
	tcase_add_test(bad, reset_waits_for_requests_in_flight);
	suite_add_tcase(s, bad);

	tcase_add_checked_fixture(img, setup, teardown);
	tcase_add_test(img, read_only_refuses_writes);
	tcase_add_test(img, odd_size_tail_not_addressable);
	tcase_add_test(img, tiny_image_has_no_sectors);
	tcase_add_test(img, direct_io_with_unaligned_buffers);
	tcase_add_test(img, locked_image_is_refused);
	tcase_add_test(img, two_disks_and_a_failing_third);
	tcase_add_test(img, exit_with_requests_pending);
	suite_add_tcase(s, img);
	return s;
}
