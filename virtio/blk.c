/*
 * virtio-blk (device id 2): one device per -d FILE[,ro][,direct], on a raw image file or block
 * device, with one request queue served by an I/O thread of its own.
 *
 * What the guest was told is written is in the host's page cache (with direct, on the device)
 * and so survives lkvm being killed; what it was told is flushed is on stable storage. The image
 * is locked (flock) for as long as the VM runs, so that two VMs never write one disk.
 */
#include "lkvm/init.h"
#include "lkvm/kvm.h"
#include "lkvm/virtio-blk.h"
#include "lkvm/virtio-worker.h"
#include "lkvm/virtio.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/fs.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_ids.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#define SECTOR_SHIFT		9
#define SECTOR_SIZE		(1U << SECTOR_SHIFT)
#define BLK_HDR_SIZE		sizeof(struct virtio_blk_outhdr)
/* A chain holds the header and the status byte besides the data. */
#define BLK_SEG_MAX		(VIRTQ_MAX_SIZE - 2)
/* Per discard or write-zeroes range (2G), and ranges per request. */
#define BLK_MAX_RANGE_SECTORS	(1U << 22)
#define BLK_MAX_RANGES		32
/* O_DIRECT transfers the guest's buffers cannot take go through this much at a time. */
#define BLK_BOUNCE_SIZE		(256U * 1024)
#define BLK_MAX_ALIGN		(64U * 1024)

struct blk_image {
	int fd;
	const char *path;
	bool readonly, direct;
	bool can_punch;			/* fallocate(PUNCH_HOLE) works: discard, write zeroes */
	u32 align;			/* what O_DIRECT wants of offsets, lengths, buffers; else 512 */
	u64 capacity;			/* in 512-byte sectors; in bytes a multiple of align */
	dev_t st_dev;			/* which file: for telling a disk given twice */
	ino_t st_ino;
	char serial[VIRTIO_BLK_ID_BYTES];
};

struct virtio_blk {
	struct virtio_dev vdev;
	struct virtq vq;
	struct blk_image img;
	struct virtio_blk_config config;	/* little-endian, as the guest reads it */
	struct worker worker;		/* the disk's I/O thread */

	/* The I/O thread's, under vq.lock; not on its stack (4K each). */
	struct virtq_chain chain;
	struct iovec data[VIRTQ_MAX_SIZE];
	u8 *bounce;			/* BLK_BOUNCE_SIZE, aligned: direct only */
	_Atomic unsigned int io_warned;
};

static struct virtio_blk *to_blk(struct virtio_dev *vdev)
{
	return container_of(vdev, struct virtio_blk, vdev);
}

/* --- host I/O --- */

/* A whole transfer of n iovecs (which it consumes) at off; a short one is an error. */
static int blk__rw_iov(int fd, bool write, struct iovec *iov, unsigned int n, u64 off)
{
	while (n) {
		ssize_t r = write ? pwritev(fd, iov, (int)n, (off_t)off) :
				    preadv(fd, iov, (int)n, (off_t)off);
		size_t done;

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (!r)
			return -EIO;	/* the image shrank under us */
		off += (u64)r;
		for (done = (size_t)r; n && done >= iov->iov_len; iov++, n--)
			done -= iov->iov_len;
		if (n) {
			iov->iov_base = (u8 *)iov->iov_base + done;
			iov->iov_len -= done;
		}
	}
	return 0;
}

static int blk__rw(int fd, bool write, void *buf, size_t len, u64 off)
{
	struct iovec iov = { .iov_base = buf, .iov_len = len };

	return blk__rw_iov(fd, write, &iov, len ? 1 : 0, off);
}

/* --- the image --- */

static int blk__size(const struct blk_image *img, const struct stat *st, u64 *bytes)
{
	if (!S_ISBLK(st->st_mode)) {
		*bytes = (u64)st->st_size;
		return 0;
	}
	if (ioctl(img->fd, BLKGETSIZE64, bytes)) {
		pr_err("%s: cannot get the size of the block device: %s", img->path, strerror(errno));
		return -errno;
	}
	return 0;
}

/* What O_DIRECT needs: the device's sector size, else what the file system says, else 4K. */
static u32 blk__dio_align(const struct blk_image *img, const struct stat *st)
{
	struct statx sx;
	int ssz;

	if (S_ISBLK(st->st_mode) && !ioctl(img->fd, BLKSSZGET, &ssz) && ssz > 0)
		return (u32)ssz > SECTOR_SIZE ? (u32)ssz : SECTOR_SIZE;
	if (!statx(img->fd, "", AT_EMPTY_PATH, STATX_DIOALIGN, &sx) &&
	    (sx.stx_mask & STATX_DIOALIGN) && sx.stx_dio_offset_align) {
		u32 a = sx.stx_dio_offset_align > sx.stx_dio_mem_align ? sx.stx_dio_offset_align :
			sx.stx_dio_mem_align;

		return a > SECTOR_SIZE ? a : SECTOR_SIZE;
	}
	return 4096;
}

/*
 * Discard is punching a hole; whether the file system can is probed past the end of the file,
 * where it changes nothing. Block devices refuse that range, so they get no discard.
 */
static bool blk__probe_punch(const struct blk_image *img, const struct stat *st)
{
	if (img->readonly || !S_ISREG(st->st_mode))
		return false;
	return !fallocate(img->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			  (off_t)ALIGN_UP((u64)st->st_size, SECTOR_SIZE), SECTOR_SIZE);
}

/* The file's name as the guest's serial (/sys/block/vdX/serial), printable and at most 20 bytes. */
static void blk__serial(struct blk_image *img, unsigned int index)
{
	const char *slash = strrchr(img->path, '/'), *name = slash ? slash + 1 : img->path;
	size_t n = strnlen(name, sizeof(img->serial));

	for (size_t i = 0; i < n; i++)
		img->serial[i] = name[i] > ' ' && name[i] < 0x7f ? name[i] : '_';
	if (!n)
		snprintf(img->serial, sizeof(img->serial), "lkvm%u", index);
}

static int blk__open_fd(struct blk_image *img, const struct disk_spec *d)
{
	int flags = (d->readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC | (d->direct ? O_DIRECT : 0);

	img->fd = open(d->path, flags);
	if (img->fd >= 0)
		return 0;
	if (d->direct && errno == EINVAL)
		pr_err("%s: the file system does not support direct I/O (,direct)", d->path);
	else if (!d->readonly && (errno == EACCES || errno == EROFS || errno == EPERM))
		pr_err("%s: cannot open for writing: %s (,ro makes a read-only disk)", d->path,
		       strerror(errno));
	else
		pr_err("%s: cannot open: %s", d->path, strerror(errno));
	return -errno;
}

/* Another lkvm's disk is locked; so is one given twice here, which the message tells apart. */
static int blk__lock(const struct blk_image *img, const struct lkvm_config *cfg, unsigned int index)
{
	struct stat st;

	if (!flock(img->fd, (img->readonly ? LOCK_SH : LOCK_EX) | LOCK_NB))
		return 0;
	if (errno != EWOULDBLOCK) {
		pr_err("%s: cannot lock: %s", img->path, strerror(errno));
		return -errno;
	}
	for (unsigned int i = 0; i < index; i++) {
		if (!stat(cfg->disks[i].path, &st) && st.st_dev == img->st_dev &&
		    st.st_ino == img->st_ino) {
			pr_err("%s: given twice (-d)", img->path);
			return -EBUSY;
		}
	}
	pr_err("%s: in use by another process (locked)", img->path);
	return -EBUSY;
}

static int blk__open(struct blk_image *img, const struct lkvm_config *cfg, unsigned int index)
{
	const struct disk_spec *d = &cfg->disks[index];
	u64 bytes = 0, usable;
	struct stat st;
	int err;

	*img = (struct blk_image){ .path = d->path, .readonly = d->readonly, .direct = d->direct,
				   .align = SECTOR_SIZE };
	err = blk__open_fd(img, d);
	if (err)
		return err;
	if (fstat(img->fd, &st)) {
		err = -errno;
		pr_err("%s: %s", img->path, strerror(errno));
		goto fail;
	}
	img->st_dev = st.st_dev;
	img->st_ino = st.st_ino;
	err = blk__lock(img, cfg, index);
	if (!err)
		err = blk__size(img, &st, &bytes);
	if (err)
		goto fail;
	if (img->direct)
		img->align = blk__dio_align(img, &st);
	if (img->align > BLK_MAX_ALIGN || (img->align & (img->align - 1))) {
		pr_err("%s: direct I/O wants %u-byte alignment, more than lkvm handles (drop ,direct)",
		       img->path, img->align);
		err = -EINVAL;
		goto fail;
	}
	usable = ALIGN_DOWN(bytes, img->align);
	if (usable != bytes)
		pr_warn("%s: the last %" PRIu64 " bytes are not addressable: the size is not a "
			"multiple of %u", img->path, bytes - usable, img->align);
	img->capacity = usable >> SECTOR_SHIFT;
	img->can_punch = blk__probe_punch(img, &st);
	blk__serial(img, index);
	return 0;
fail:
	close(img->fd);
	img->fd = -1;
	return err;
}

/* --- requests --- */

/* The first host I/O error of a disk is logged; the guest hears of each one. */
static u8 blk__io_error(struct virtio_blk *blk, const char *what, u64 sector, int err)
{
	pr_warn_once(&blk->io_warned, "virtio-blk: %s: %s at sector %" PRIu64 ": %s", blk->img.path,
		     what, sector, strerror(-err));
	return VIRTIO_BLK_S_IOERR;
}

/* With VIRTIO_BLK_F_FLUSH not negotiated, the driver takes every write as stable. */
static int blk__writethrough(struct virtio_blk *blk)
{
	if (virtio_dev__has_feature(&blk->vdev, VIRTIO_BLK_F_FLUSH) || !fdatasync(blk->img.fd))
		return 0;
	return -errno;
}

/*
 * The data of a read or write as iovecs into blk->data: the device-readable part after the
 * header, or the device-writable part before the status byte. Returns its length.
 */
static size_t blk__data_iov(struct virtio_blk *blk, const struct virtq_chain *c, bool write,
			    unsigned int *nr)
{
	const struct iovec *src = write ? c->iov : c->iov + c->nr_out;
	unsigned int n = write ? c->nr_out : c->nr_in, k = 0;
	size_t skip = write ? BLK_HDR_SIZE : 0;
	size_t len = write ? c->out_len - BLK_HDR_SIZE : c->in_len - 1, left = len;

	for (unsigned int i = 0; i < n && left; i++) {
		u8 *base = src[i].iov_base;
		size_t l = src[i].iov_len;

		if (skip >= l) {
			skip -= l;
			continue;
		}
		base += skip;
		l -= skip;
		skip = 0;
		if (l > left)
			l = left;
		blk->data[k++] = (struct iovec){ .iov_base = base, .iov_len = l };
		left -= l;
	}
	*nr = k;
	return len;
}

/* Whether O_DIRECT takes the transfer as it is: offset, length and every buffer aligned. */
static bool blk__direct_ok(const struct blk_image *img, const struct iovec *iov, unsigned int n,
			   u64 off, size_t len)
{
	if (!IS_ALIGNED(off | len, img->align))
		return false;
	for (unsigned int i = 0; i < n; i++) {
		if (!IS_ALIGNED((uintptr_t)iov[i].iov_base | iov[i].iov_len, img->align))
			return false;
	}
	return true;
}

/*
 * An O_DIRECT transfer through the aligned bounce buffer, BLK_BOUNCE_SIZE at a time. Writing
 * part of a block reads it first (only this thread writes the image, so that is safe); the
 * capacity is a multiple of the alignment, so no block lies past the end.
 */
static int blk__bounce(struct virtio_blk *blk, const struct virtq_chain *c, bool write, u64 off,
		       size_t len)
{
	const u32 a = blk->img.align;
	const int fd = blk->img.fd;
	size_t done = 0;
	int err = 0;

	while (!err && done < len) {
		u64 pos = off + done, start = ALIGN_DOWN(pos, a);
		size_t n = len - done, room = (size_t)(start + BLK_BOUNCE_SIZE - pos);
		u64 end;
		u8 *at;

		if (n > room)
			n = room;
		end = ALIGN_UP(pos + n, a);
		at = blk->bounce + (pos - start);
		if (!write || start != pos || end != pos + n)
			err = blk__rw(fd, false, blk->bounce, (size_t)(end - start), start);
		if (err)
			break;
		if (write) {
			virtq_chain__from_guest(c, BLK_HDR_SIZE + done, at, n);
			err = blk__rw(fd, true, blk->bounce, (size_t)(end - start), start);
		} else {
			virtq_chain__to_guest(c, done, at, n);
		}
		done += n;
	}
	return err;
}

/* VIRTIO_BLK_T_IN and _OUT: straight between the image and the guest's buffers. */
static u8 blk__transfer(struct virtio_blk *blk, const struct virtq_chain *c, bool write,
			u64 sector)
{
	const struct blk_image *img = &blk->img;
	unsigned int n;
	size_t len = blk__data_iov(blk, c, write, &n);
	u64 off;
	int err;

	/* The spec's answer to a write on a read-only disk, and to requests off the disk. */
	if (write && img->readonly)
		return VIRTIO_BLK_S_IOERR;
	if (len % SECTOR_SIZE || sector > img->capacity ||
	    (len >> SECTOR_SHIFT) > img->capacity - sector)
		return VIRTIO_BLK_S_IOERR;
	off = sector << SECTOR_SHIFT;
	if (img->direct && !blk__direct_ok(img, blk->data, n, off, len))
		err = blk__bounce(blk, c, write, off, len);
	else
		err = blk__rw_iov(img->fd, write, blk->data, n, off);
	if (!err && write && len)
		err = blk__writethrough(blk);
	return err ? blk__io_error(blk, write ? "write" : "read", sector, err) : VIRTIO_BLK_S_OK;
}

/* Reported complete only once the data is on stable storage. */
static u8 blk__flush(struct virtio_blk *blk)
{
	return fdatasync(blk->img.fd) ? blk__io_error(blk, "flush", 0, -errno) : VIRTIO_BLK_S_OK;
}

/* 20 bytes, NUL-padded when shorter; a smaller buffer gets what fits. */
static u8 blk__get_id(struct virtio_blk *blk, const struct virtq_chain *c)
{
	size_t room = c->in_len - 1;

	virtq_chain__to_guest(c, 0, blk->img.serial,
			      room < sizeof(blk->img.serial) ? room : sizeof(blk->img.serial));
	return VIRTIO_BLK_S_OK;
}

/* A range reads as zeroes afterwards either way; keep_allocated avoids a hole where it can. */
static int blk__punch(const struct blk_image *img, bool keep_allocated, u64 sector, u32 num)
{
	off_t off = (off_t)(sector << SECTOR_SHIFT), len = (off_t)num << SECTOR_SHIFT;

	if (!num)
		return 0;
	if (keep_allocated) {
		if (!fallocate(img->fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, off, len))
			return 0;
		if (errno != EOPNOTSUPP)
			return -errno;
	}
	return fallocate(img->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off, len) ? -errno : 0;
}

/* VIRTIO_BLK_T_DISCARD and _WRITE_ZEROES: every range is checked before any is done. */
static u8 blk__ranges(struct virtio_blk *blk, const struct virtq_chain *c, bool zeroes)
{
	struct virtio_blk_discard_write_zeroes r[BLK_MAX_RANGES];
	const struct blk_image *img = &blk->img;
	size_t len = c->out_len - BLK_HDR_SIZE;
	size_t n = len / sizeof(r[0]);
	u32 allowed = zeroes ? VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP : 0;
	int err = 0;

	if (!virtio_dev__has_feature(&blk->vdev, zeroes ? VIRTIO_BLK_F_WRITE_ZEROES :
				     VIRTIO_BLK_F_DISCARD))
		return VIRTIO_BLK_S_UNSUPP;
	if (img->readonly || !n || len % sizeof(r[0]) || n > BLK_MAX_RANGES)
		return VIRTIO_BLK_S_IOERR;
	virtq_chain__from_guest(c, BLK_HDR_SIZE, r, len);
	for (size_t i = 0; i < n; i++) {
		u64 sector = le64toh(r[i].sector);
		u32 num = le32toh(r[i].num_sectors);

		/* Unmap on a discard, or flags the spec does not know: the spec says UNSUPP. */
		if (le32toh(r[i].flags) & ~allowed)
			return VIRTIO_BLK_S_UNSUPP;
		if (num > BLK_MAX_RANGE_SECTORS || sector > img->capacity ||
		    num > img->capacity - sector)
			return VIRTIO_BLK_S_IOERR;
	}
	for (size_t i = 0; i < n && !err; i++) {
		bool unmap = le32toh(r[i].flags) & VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP;

		err = blk__punch(img, zeroes && !unmap, le64toh(r[i].sector),
				 le32toh(r[i].num_sectors));
		if (err)
			return blk__io_error(blk, zeroes ? "write zeroes" : "discard",
					     le64toh(r[i].sector), err);
	}
	err = blk__writethrough(blk);
	return err ? blk__io_error(blk, "flush", 0, err) : VIRTIO_BLK_S_OK;
}

static u8 blk__request(struct virtio_blk *blk, const struct virtq_chain *c, u32 type, u64 sector)
{
	switch (type) {
	case VIRTIO_BLK_T_IN:		return blk__transfer(blk, c, false, sector);
	case VIRTIO_BLK_T_OUT:		return blk__transfer(blk, c, true, sector);
	case VIRTIO_BLK_T_FLUSH:	return blk__flush(blk);
	case VIRTIO_BLK_T_GET_ID:	return blk__get_id(blk, c);
	case VIRTIO_BLK_T_DISCARD:	return blk__ranges(blk, c, false);
	case VIRTIO_BLK_T_WRITE_ZEROES:	return blk__ranges(blk, c, true);
	default:			return VIRTIO_BLK_S_UNSUPP;
	}
}

/*
 * One chain: the header is copied out before it is looked at; the status goes into the last
 * byte of the last device-writable buffer. A chain without one cannot be answered at all.
 */
static void blk__handle(struct worker *w, struct virtq_chain *c)
{
	struct virtio_blk *blk = container_of(w, struct virtio_blk, worker);
	struct virtio_blk_outhdr hdr;
	const struct iovec *last;
	u8 status = VIRTIO_BLK_S_IOERR;

	if (!c->nr_in) {
		virtio_dev__fail(&blk->vdev, "request %u: no device-writable byte for its status",
				 c->head);
		return;
	}
	last = &c->iov[c->nr_out + c->nr_in - 1];
	if (c->out_len >= sizeof(hdr)) {
		virtq_chain__from_guest(c, 0, &hdr, sizeof(hdr));
		status = blk__request(blk, c, le32toh(hdr.type), le64toh(hdr.sector));
	}
	((u8 *)last->iov_base)[last->iov_len - 1] = status;
	/* As QEMU: the whole device-writable part counts as written. */
	virtq__push(&blk->vq, c->head, c->in_len > UINT32_MAX ? UINT32_MAX : (u32)c->in_len);
}

/* --- the I/O thread --- */

/* On a vCPU thread: the I/O thread does the work. */
static void blk__notify(struct virtio_dev *vdev, struct virtq *vq)
{
	(void)vq;	/* the only one */
	worker__kick(&to_blk(vdev)->worker, WORKER_KICK);
}

/*
 * Device reset: whatever the thread is doing finishes first, and a notification it has not taken
 * is forgotten. Work it starts later, on a notification racing with the reset, takes vq->lock for
 * each request, as the core's queue reset after this does: once that is done, it finds the queue
 * stopped.
 */
static void blk__reset(struct virtio_dev *vdev)
{
	worker__wait_idle(&to_blk(vdev)->worker);
}

static void blk__config_read(struct virtio_dev *vdev, u32 offset, u8 *data, unsigned int len)
{
	memcpy(data, (const u8 *)&to_blk(vdev)->config + offset, len);
}

static const struct virtio_dev_ops blk_ops = {
	.name = "virtio-blk",
	.device_id = VIRTIO_ID_BLOCK,
	/* What every disk has; read-only and discard depend on the disk (blk__features). */
	.features = (1ULL << VIRTIO_BLK_F_SEG_MAX) | (1ULL << VIRTIO_BLK_F_BLK_SIZE) |
		    (1ULL << VIRTIO_BLK_F_FLUSH),
	.config_size = sizeof(struct virtio_blk_config),
	.config_read = blk__config_read,
	.notify = blk__notify,
	.reset = blk__reset,
};

/* --- devices --- */

static u64 blk__features(const struct blk_image *img)
{
	u64 f = blk_ops.features;

	if (img->readonly)
		f |= 1ULL << VIRTIO_BLK_F_RO;
	if (img->can_punch)
		f |= (1ULL << VIRTIO_BLK_F_DISCARD) | (1ULL << VIRTIO_BLK_F_WRITE_ZEROES);
	return f;
}

static void blk__config_init(struct virtio_blk *blk)
{
	struct virtio_blk_config *c = &blk->config;
	const struct blk_image *img = &blk->img;

	c->capacity = htole64(img->capacity);
	c->seg_max = htole32(BLK_SEG_MAX);
	c->blk_size = htole32(img->align);
	if (!img->can_punch)
		return;
	c->max_discard_sectors = htole32(BLK_MAX_RANGE_SECTORS);
	c->max_discard_seg = htole32(BLK_MAX_RANGES);
	c->discard_sector_alignment = htole32(img->align >> SECTOR_SHIFT);
	c->max_write_zeroes_sectors = htole32(BLK_MAX_RANGE_SECTORS);
	c->max_write_zeroes_seg = htole32(BLK_MAX_RANGES);
	c->write_zeroes_may_unmap = 1;
}

/* What blk__add set up, after the image is open; not attached (any more). */
static void blk__free(struct virtio_blk *blk)
{
	worker__destroy(&blk->worker);
	virtio_dev__destroy(&blk->vdev);
	close(blk->img.fd);	/* and with it the lock */
	free(blk->bounce);
	free(blk);
}

static int blk__start(struct virtio_blk *blk)
{
	if (blk->img.direct) {
		blk->bounce = aligned_alloc(blk->img.align > SZ_4K ? blk->img.align : SZ_4K,
					    BLK_BOUNCE_SIZE);
		if (!blk->bounce) {
			pr_err("virtio-blk: out of memory");
			return -ENOMEM;
		}
	}
	return worker__start(&blk->worker);
}

static int blk__add(struct kvm *kvm, unsigned int index)
{
	struct virtio_blk *blk = calloc(1, sizeof(*blk));
	char name[32];	/* the thread's name: worker__init keeps 15 characters */
	int err;

	if (!blk) {
		pr_err("virtio-blk: out of memory");
		return -ENOMEM;
	}
	err = blk__open(&blk->img, kvm->cfg, index);
	if (err) {
		free(blk);
		return err;
	}
	snprintf(name, sizeof(name), "lkvm-blk%u", index);
	err = worker__init_queue(&blk->worker, name, &blk->vq, &blk->chain, blk__handle);
	if (err) {
		close(blk->img.fd);
		free(blk);
		return err;
	}
	virtio_dev__init(&blk->vdev, kvm, &blk_ops, &blk->vq, 1);
	blk->vdev.device_features = blk__features(&blk->img);
	blk__config_init(blk);
	err = blk__start(blk);
	if (!err)
		err = virtio__attach(kvm, &blk->vdev);
	if (err)
		blk__free(blk);
	return err;
}

int virtio_blk__init(struct kvm *kvm)
{
	for (unsigned int i = 0; i < kvm->cfg->nr_disks; i++) {
		int err = blk__add(kvm, i);

		if (err) {
			virtio_blk__exit(kvm);
			return err;
		}
	}
	return 0;
}

void virtio_blk__exit(struct kvm *kvm)
{
	struct virtio_dev *vdev;

	while ((vdev = virtio__find(kvm, &blk_ops))) {
		struct virtio_blk *blk = to_blk(vdev);

		/* The thread may still signal the guest through the transport: it goes first. */
		worker__stop(&blk->worker);
		virtio__detach(vdev);
		blk__free(blk);
	}
}
virtio_dev_init(virtio_blk__init, virtio_blk__exit)
