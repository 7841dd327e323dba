/*
 * The virtio device core (status, features, reset) and the split virtqueue (virtio 1.2 section
 * 2.7), for every device and transport.
 *
 * The guest writes the rings while we read them, and a hostile guest writes whatever it likes:
 * every index, address and length is checked before use, each descriptor is copied once and
 * only the copy is used, and anything malformed stops the queue and puts the device in
 * NEEDS_RESET. The rings' indices are read with acquire and published with release semantics,
 * as the driver's barriers expect.
 */
#include "lkvm/virtio.h"
#include "lkvm/kvm.h"

#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define DESC_SIZE sizeof(struct vring_desc)

/* --- device core --- */

void virtio_dev__init(struct virtio_dev *dev, struct kvm *kvm, const struct virtio_dev_ops *ops,
		      struct virtq *vqs, unsigned int nr_vqs)
{
	memset(dev, 0, sizeof(*dev));
	dev->ops = ops;
	dev->kvm = kvm;
	dev->vqs = vqs;
	dev->nr_vqs = nr_vqs;
	dev->device_features = ops->features;
	pthread_mutex_init(&dev->lock, NULL);
	for (unsigned int i = 0; i < nr_vqs; i++) {
		memset(&vqs[i], 0, sizeof(vqs[i]));
		vqs[i].dev = dev;
		vqs[i].index = i;
		vqs[i].num = VIRTQ_MAX_SIZE;
		pthread_mutex_init(&vqs[i].lock, NULL);
	}
}

void virtio_dev__destroy(struct virtio_dev *dev)
{
	for (unsigned int i = 0; i < dev->nr_vqs; i++)
		pthread_mutex_destroy(&dev->vqs[i].lock);
	pthread_mutex_destroy(&dev->lock);
}

u64 virtio_dev__host_features(const struct virtio_dev *dev)
{
	return dev->device_features | VIRTIO_CORE_FEATURES;
}

void virtio_dev__fail(struct virtio_dev *dev, const char *fmt, ...)
{
	u32 old = atomic_fetch_or(&dev->status, VIRTIO_CONFIG_S_NEEDS_RESET);
	char why[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	pr_warn_once(&dev->warned, "%s: %s: device needs reset", dev->ops->name, why);
	/* The spec wants a config interrupt for NEEDS_RESET, once the driver is listening. */
	if (!(old & VIRTIO_CONFIG_S_NEEDS_RESET) && (old & VIRTIO_CONFIG_S_DRIVER_OK))
		dev->transport->ops->signal_config(dev->transport);
}

void virtio_dev__config_changed(struct virtio_dev *dev)
{
	atomic_fetch_add(&dev->config_generation, 1);
	if (atomic_load(&dev->status) & VIRTIO_CONFIG_S_DRIVER_OK)
		dev->transport->ops->signal_config(dev->transport);
}

void virtio_dev__reset(struct virtio_dev *dev)
{
	if (dev->ops->reset)
		dev->ops->reset(dev);
	for (unsigned int i = 0; i < dev->nr_vqs; i++)
		virtq__disable(&dev->vqs[i]);
	dev->driver_features = 0;
	dev->features = 0;
	atomic_store(&dev->status, 0);
}

static bool virtio_dev__accept_features(struct virtio_dev *dev)
{
	u64 extra = dev->driver_features & ~virtio_dev__host_features(dev);

	if (extra) {
		pr_warn_once(&dev->warned, "%s: driver wants features 0x%" PRIx64 " the device does "
			     "not offer", dev->ops->name, extra);
		return false;
	}
	if (!(dev->driver_features & (1ULL << VIRTIO_F_VERSION_1))) {
		pr_warn_once(&dev->warned, "%s: driver refused VIRTIO_F_VERSION_1: legacy drivers are "
			     "not supported", dev->ops->name);
		return false;
	}
	dev->features = dev->driver_features;
	return true;
}

/* Buffers the driver made available before DRIVER_OK were not looked at: look now. */
static void virtio_dev__kick_all(struct virtio_dev *dev)
{
	for (unsigned int i = 0; i < dev->nr_vqs && dev->ops->notify; i++) {
		if (atomic_load(&dev->vqs[i].ready))
			dev->ops->notify(dev, &dev->vqs[i]);
	}
}

u32 virtio_select__device_features(const struct virtio_select *sel, const struct virtio_dev *dev)
{
	u64 features = virtio_dev__host_features(dev);

	return sel->dev_features < 2 ? (u32)(features >> (32 * sel->dev_features)) : 0;
}

u32 virtio_select__driver_features(const struct virtio_select *sel, const struct virtio_dev *dev)
{
	return sel->drv_features < 2 ? (u32)(dev->driver_features >> (32 * sel->drv_features)) : 0;
}

void virtio_select__set_driver_features(const struct virtio_select *sel, struct virtio_dev *dev,
					u32 val)
{
	unsigned int shift = 32 * sel->drv_features;

	/* Once accepted, the features are fixed until reset. */
	if (sel->drv_features >= 2 || (atomic_load(&dev->status) & VIRTIO_CONFIG_S_FEATURES_OK))
		return;
	dev->driver_features = (dev->driver_features & ~(0xffffffffULL << shift)) | (u64)val << shift;
}

struct virtq *virtio_select__vq(const struct virtio_select *sel, struct virtio_dev *dev)
{
	return sel->queue < dev->nr_vqs ? &dev->vqs[sel->queue] : NULL;
}

bool virtio_select__write_status(struct virtio_select *sel, struct virtio_dev *dev, u32 val)
{
	virtio_dev__set_status(dev, val);
	if (val)
		return false;
	*sel = (struct virtio_select){ 0 };
	return true;
}

void virtio_dev__set_status(struct virtio_dev *dev, u32 val)
{
	u32 old = atomic_load(&dev->status), new;

	if (!val) {
		virtio_dev__reset(dev);
		return;
	}
	/* Refusing the features is done by not taking FEATURES_OK, which the driver reads back. */
	if ((val & VIRTIO_CONFIG_S_FEATURES_OK) && !(old & VIRTIO_CONFIG_S_FEATURES_OK) &&
	    !virtio_dev__accept_features(dev))
		val &= ~VIRTIO_CONFIG_S_FEATURES_OK;
	/* NEEDS_RESET is the device's bit, and a data path may set it at any time: keep it. */
	do {
		new = (val & ~VIRTIO_CONFIG_S_NEEDS_RESET) | (old & VIRTIO_CONFIG_S_NEEDS_RESET);
	} while (!atomic_compare_exchange_weak(&dev->status, &old, new));
	if ((new & VIRTIO_CONFIG_S_DRIVER_OK) && !(old & VIRTIO_CONFIG_S_DRIVER_OK)) {
		if (dev->ops->driver_ok)
			dev->ops->driver_ok(dev);
		virtio_dev__kick_all(dev);
	}
}

/* --- guest-shared ring fields: little-endian, written concurrently by the driver --- */

static u16 ring_load16(const __virtio16 *p, int order)
{
	return le16toh(__atomic_load_n(p, order));
}

static void ring_store16(__virtio16 *p, u16 val, int order)
{
	__atomic_store_n(p, htole16(val), order);
}

/* The used_event field sits after the avail ring, avail_event after the used ring. */
static __virtio16 *virtq__used_event(struct virtq *vq)
{
	return &vq->avail->ring[vq->size];
}

static __virtio16 *virtq__avail_event(struct virtq *vq)
{
	return (__virtio16 *)(void *)&vq->used->ring[vq->size];
}

/* Acquire: the ring entries and descriptors it covers are read after it. */
static u16 virtq__avail_idx(struct virtq *vq)
{
	return ring_load16(&vq->avail->idx, __ATOMIC_ACQUIRE);
}

static void virtq__read_desc(const u8 *table, unsigned int idx, struct vring_desc *d)
{
	/* memcpy: an indirect table need not be aligned. */
	memcpy(d, table + (size_t)idx * DESC_SIZE, sizeof(*d));
	/* From here on only the copy counts: the compiler may not read the guest's table again. */
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	d->addr = le64toh(d->addr);
	d->len = le32toh(d->len);
	d->flags = le16toh(d->flags);
	d->next = le16toh(d->next);
}

/* --- queue setup --- */

static int virtq__fail(struct virtq *vq, const char *fmt, ...) PRINTF_FMT(2, 3);
static int virtq__fail(struct virtq *vq, const char *fmt, ...)
{
	char why[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	vq->broken = true;
	virtio_dev__fail(vq->dev, "queue %u: %s", vq->index, why);
	return -EIO;
}

/* Whether [a, a + alen) and [b, b + blen) share a byte; both are in guest RAM, so no wrap. */
static bool ranges_overlap(u64 a, u64 alen, u64 b, u64 blen)
{
	return a < b + blen && b < a + alen;
}

static void *virtq__map(struct virtq *vq, const char *what, u64 gpa, u64 len, u64 align)
{
	void *p;

	/* Alignment matters to us too: the indices are read with atomic instructions. */
	if (!IS_ALIGNED(gpa, align)) {
		virtq__fail(vq, "%s at 0x%" PRIx64 ": not %" PRIu64 "-byte aligned", what, gpa, align);
		return NULL;
	}
	p = kvm__gpa_to_host(vq->dev->kvm, gpa, len);
	if (!p)
		virtq__fail(vq, "%s at 0x%" PRIx64 " (%" PRIu64 " bytes): not in guest RAM", what,
			    gpa, len);
	return p;
}

static int virtq__setup(struct virtq *vq)
{
	u64 n = vq->num;
	void *desc, *avail, *used;

	if (!n || n > VIRTQ_MAX_SIZE || (n & (n - 1)))
		return virtq__fail(vq, "size %" PRIu64 ": not a power of 2 from 1 to %u", n,
				   VIRTQ_MAX_SIZE);
	/* The event fields after each ring are part of the rings' size (spec 2.7). */
	desc = virtq__map(vq, "descriptor table", vq->desc_gpa, n * DESC_SIZE, 16);
	avail = desc ? virtq__map(vq, "avail ring", vq->avail_gpa, 6 + 2 * n, 2) : NULL;
	used = avail ? virtq__map(vq, "used ring", vq->used_gpa, 6 + 8 * n, 4) : NULL;
	if (!used)
		return -EIO;
	/* Else our own used-ring writes would make chains available, and a queue never drain. */
	if (ranges_overlap(vq->used_gpa, 6 + 8 * n, vq->avail_gpa, 6 + 2 * n))
		return virtq__fail(vq, "used ring at 0x%" PRIx64 " overlaps the avail ring at 0x%"
				   PRIx64, vq->used_gpa, vq->avail_gpa);
	vq->desc = desc;
	vq->avail = avail;
	vq->used = used;
	vq->size = (u16)n;
	vq->event_idx = virtio_dev__has_feature(vq->dev, VIRTIO_RING_F_EVENT_IDX);
	vq->indirect = virtio_dev__has_feature(vq->dev, VIRTIO_RING_F_INDIRECT_DESC);
	vq->last_avail_idx = vq->used_idx = vq->signalled_used = 0;
	atomic_store_explicit(&vq->ready, true, memory_order_release);
	return 0;
}

int virtq__enable(struct virtq *vq)
{
	int err = 0;

	pthread_mutex_lock(&vq->lock);
	if (!atomic_load(&vq->ready))
		err = virtq__setup(vq);
	pthread_mutex_unlock(&vq->lock);
	return err;
}

void virtq__disable(struct virtq *vq)
{
	pthread_mutex_lock(&vq->lock);
	atomic_store(&vq->ready, false);
	vq->broken = vq->event_idx = vq->indirect = false;
	vq->num = VIRTQ_MAX_SIZE;
	vq->desc_gpa = vq->avail_gpa = vq->used_gpa = 0;
	vq->size = 0;
	vq->desc = NULL;
	vq->avail = NULL;
	vq->used = NULL;
	vq->last_avail_idx = vq->used_idx = vq->signalled_used = 0;
	if (vq->dev->ops->queue_stop)
		vq->dev->ops->queue_stop(vq->dev, vq);
	pthread_mutex_unlock(&vq->lock);
}

/* --- taking chains --- */

static int virtq__add_buf(struct virtq *vq, struct virtq_chain *c, const struct vring_desc *d,
			  unsigned int idx)
{
	void *host;

	if (!d->len)
		return 0;	/* nothing to read or write, wherever it points */
	host = kvm__gpa_to_host(vq->dev->kvm, d->addr, d->len);
	if (!host)
		return virtq__fail(vq, "descriptor %u: buffer 0x%" PRIx64 "+0x%x not in guest RAM",
				   idx, (u64)d->addr, d->len);
	if (d->flags & VRING_DESC_F_WRITE) {
		/* Replies written there would make chains available: a queue that never drains. */
		if (ranges_overlap(d->addr, d->len, vq->avail_gpa, 6 + 2 * (u64)vq->size))
			return virtq__fail(vq, "descriptor %u: device-writable buffer 0x%" PRIx64
					   "+0x%x overlaps the avail ring", idx, (u64)d->addr, d->len);
		c->in_len += d->len;
		c->nr_in++;
	} else if (c->nr_in) {
		return virtq__fail(vq, "descriptor %u: device-readable after device-writable", idx);
	} else {
		c->out_len += d->len;
		c->nr_out++;
	}
	c->iov[c->nr_out + c->nr_in - 1] = (struct iovec){ .iov_base = host, .iov_len = d->len };
	return 0;
}

/* Switches the walk to the table an indirect descriptor points at. */
static int virtq__indirect(struct virtq *vq, const struct vring_desc *d, unsigned int idx,
			   bool nested, const u8 **table, unsigned int *size)
{
	if (!vq->indirect)
		return virtq__fail(vq, "descriptor %u: indirect, but VIRTIO_RING_F_INDIRECT_DESC "
				   "was not negotiated", idx);
	if (nested)
		return virtq__fail(vq, "descriptor %u: indirect within an indirect table", idx);
	if (d->flags & VRING_DESC_F_NEXT)
		return virtq__fail(vq, "descriptor %u: both indirect and chained", idx);
	if (!d->len || d->len % DESC_SIZE || d->len / DESC_SIZE > vq->size)
		return virtq__fail(vq, "descriptor %u: indirect table of %u bytes: not 1 to %u "
				   "descriptors", idx, d->len, vq->size);
	*table = kvm__gpa_to_host(vq->dev->kvm, d->addr, d->len);
	if (!*table)
		return virtq__fail(vq, "descriptor %u: indirect table 0x%" PRIx64 "+0x%x not in "
				   "guest RAM", idx, (u64)d->addr, d->len);
	*size = d->len / DESC_SIZE;
	return 0;
}

/*
 * Follows the chain from head. A chain visits no more descriptors than its table has (more means
 * a loop), and holds no more buffers than the queue size, which the iovec array is sized for.
 */
static int virtq__walk(struct virtq *vq, u16 head, struct virtq_chain *c)
{
	const u8 *table = (const u8 *)vq->desc;
	unsigned int size = vq->size, idx = head, visited = 0, bufs = 0;
	bool nested = false;
	struct vring_desc d;
	int err;

	c->head = head;
	c->nr_out = c->nr_in = 0;
	c->out_len = c->in_len = 0;
	for (;;) {
		if (idx >= size)
			return virtq__fail(vq, "descriptor index %u: past the %s of %u entries", idx,
					   nested ? "indirect table" : "queue", size);
		if (++visited > size)
			return virtq__fail(vq, "chain from head %u: loops or is longer than its "
					   "table of %u entries", head, size);
		virtq__read_desc(table, idx, &d);
		if (d.flags & VRING_DESC_F_INDIRECT) {
			err = virtq__indirect(vq, &d, idx, nested, &table, &size);
			if (err)
				return err;
			nested = true;
			idx = 0;
			visited = 0;
			continue;
		}
		if (++bufs > vq->size)
			return virtq__fail(vq, "chain from head %u: longer than the queue size %u",
					   head, vq->size);
		err = virtq__add_buf(vq, c, &d, idx);
		if (err)
			return err;
		if (!(d.flags & VRING_DESC_F_NEXT))
			return 0;
		idx = d.next;
	}
}

/*
 * Asks the driver to notify when it adds the next chain, then looks again: it may have added one
 * before it could see the request (the driver's side of this is a full barrier too).
 */
static bool virtq__rearm(struct virtq *vq, u16 *avail_idx)
{
	if (!vq->event_idx)
		return false;	/* without event index the driver always notifies */
	ring_store16(virtq__avail_event(vq), vq->last_avail_idx, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	*avail_idx = virtq__avail_idx(vq);
	return *avail_idx != vq->last_avail_idx;
}

static int virtq__next(struct virtq *vq, struct virtq_chain *c, bool take)
{
	u32 status = atomic_load(&vq->dev->status);
	u16 avail_idx, pending, head;
	int err;

	if (vq->broken || (status & VIRTIO_CONFIG_S_NEEDS_RESET))
		return -EIO;
	/* The spec forbids using buffers before DRIVER_OK: set_status kicks the queues then. */
	if (!atomic_load_explicit(&vq->ready, memory_order_acquire) ||
	    !(status & VIRTIO_CONFIG_S_DRIVER_OK))
		return 0;
	avail_idx = virtq__avail_idx(vq);
	if (avail_idx == vq->last_avail_idx && !(take && virtq__rearm(vq, &avail_idx)))
		return 0;
	pending = (u16)(avail_idx - vq->last_avail_idx);
	if (pending > vq->size)
		return virtq__fail(vq, "avail index %u: %u entries past the last one taken (%u), more "
				   "than the queue size %u", avail_idx, pending, vq->last_avail_idx,
				   vq->size);
	head = ring_load16(&vq->avail->ring[vq->last_avail_idx & (vq->size - 1)],
			   __ATOMIC_RELAXED);
	err = virtq__walk(vq, head, c);
	if (err)
		return err;
	if (take)
		vq->last_avail_idx++;
	return 1;
}

int virtq__pop(struct virtq *vq, struct virtq_chain *c)
{
	return virtq__next(vq, c, true);
}

int virtq__peek(struct virtq *vq, struct virtq_chain *c)
{
	return virtq__next(vq, c, false);
}

/* --- giving chains back --- */

void virtq__push(struct virtq *vq, u16 head, u32 len)
{
	struct vring_used_elem *e;

	/* A completion that outlived a reset must not write into the new rings. */
	if (!atomic_load(&vq->ready) || vq->broken)
		return;
	e = &vq->used->ring[vq->used_idx & (vq->size - 1)];
	__atomic_store_n(&e->id, htole32((u32)head), __ATOMIC_RELAXED);
	__atomic_store_n(&e->len, htole32(len), __ATOMIC_RELAXED);
	vq->used_idx++;
	/* Release: the element is visible before the index that hands it over. */
	ring_store16(&vq->used->idx, vq->used_idx, __ATOMIC_RELEASE);
}

void virtq__push_n(struct virtq *vq, const struct vring_used_elem *elems, unsigned int n)
{
	if (!atomic_load(&vq->ready) || vq->broken || n > vq->size)
		return;
	for (unsigned int i = 0; i < n; i++) {
		struct vring_used_elem *e = &vq->used->ring[(u16)(vq->used_idx + i) & (vq->size - 1)];

		__atomic_store_n(&e->id, htole32(elems[i].id), __ATOMIC_RELAXED);
		__atomic_store_n(&e->len, htole32(elems[i].len), __ATOMIC_RELAXED);
	}
	vq->used_idx += (u16)n;
	/* One release for them all: the driver sees every element or none. */
	ring_store16(&vq->used->idx, vq->used_idx, __ATOMIC_RELEASE);
}

bool virtq__should_signal(struct virtq *vq)
{
	u16 old = vq->signalled_used, new = vq->used_idx;

	if (!atomic_load(&vq->ready) || vq->broken || old == new)
		return false;
	vq->signalled_used = new;
	/* Our used->idx store must be visible before we read what the driver asked for. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (vq->event_idx)
		return vring_need_event(ring_load16(virtq__used_event(vq), __ATOMIC_RELAXED), new,
					old);
	return !(ring_load16(&vq->avail->flags, __ATOMIC_RELAXED) & VRING_AVAIL_F_NO_INTERRUPT);
}

void virtq__signal(struct virtq *vq)
{
	struct virtio_transport *t = vq->dev->transport;

	if (virtq__should_signal(vq))
		t->ops->signal_vq(t, vq);
}

/* --- copying to and from chains --- */

/* Skips offset bytes of iov: returns the iovec index there, and the offset within it. */
static unsigned int iov__seek(const struct iovec *iov, unsigned int n, size_t *offset)
{
	unsigned int i = 0;

	for (; i < n && *offset >= iov[i].iov_len; i++)
		*offset -= iov[i].iov_len;
	return i;
}

size_t virtq_chain__to_guest(const struct virtq_chain *c, size_t offset, const void *buf,
			     size_t len)
{
	const struct iovec *iov = c->iov + c->nr_out;
	size_t done = 0;

	for (unsigned int i = iov__seek(iov, c->nr_in, &offset); i < c->nr_in && done < len; i++) {
		size_t chunk = iov[i].iov_len - offset;

		if (chunk > len - done)
			chunk = len - done;
		memcpy((u8 *)iov[i].iov_base + offset, (const u8 *)buf + done, chunk);
		done += chunk;
		offset = 0;
	}
	return done;
}

size_t virtq_chain__from_guest(const struct virtq_chain *c, size_t offset, void *buf, size_t len)
{
	size_t done = 0;

	for (unsigned int i = iov__seek(c->iov, c->nr_out, &offset); i < c->nr_out && done < len;
	     i++) {
		size_t chunk = c->iov[i].iov_len - offset;

		if (chunk > len - done)
			chunk = len - done;
		memcpy((u8 *)buf + done, (const u8 *)c->iov[i].iov_base + offset, chunk);
		done += chunk;
		offset = 0;
	}
	return done;
}
