/*
 * libFuzzer target: the split virtqueue (virtio/virtqueue.c) against a guest that controls all of
 * its RAM. The input is the queue setup, a script of device and driver actions, and the RAM
 * image (ring indices, descriptors with their addresses, lengths, flags and next fields, indirect
 * tables). Besides AddressSanitizer's and UBSan's checks, every chain the walker returns must
 * lie in guest RAM, add up, fit its iovec array, and draining a queue must end.
 *
 * Input layout (little-endian; what is missing reads as zero):
 *   [0]      queue size: 1 << (v % 9) if v < 0xf0, else the raw u16 at [0..1] (mostly invalid)
 *   [1]      bit 0: VIRTIO_RING_F_EVENT_IDX, bit 1: VIRTIO_RING_F_INDIRECT_DESC,
 *            bit 2: leave DRIVER_OK clear
 *   [2..7]   descriptor table, avail ring, used ring: u16 offsets into RAM (any alignment)
 *   [8]      n: how many script bytes follow the header (at most 64)
 *   [9..15]  reserved
 *   [16..]   n script bytes (see fuzz__step), then the RAM image
 */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lkvm/kvm.h"
#include "lkvm/memory-map.h"
#include "lkvm/virtio.h"

#define RAM_SIZE	0x10000U
#define HEADER		16
#define MAX_SCRIPT	64

int LLVMFuzzerTestOneInput(const u8 *data, size_t size);

static struct {
	struct kvm kvm;
	struct virtio_dev dev;
	struct virtq vq;
	struct virtio_transport transport;
	struct virtq_chain chain;
	u8 copy[RAM_SIZE];		/* what the device copies to and from chains */
	u16 inflight[VIRTQ_MAX_SIZE];	/* heads popped and not yet pushed */
	unsigned int nr_inflight;
	u64 features;
	u32 status;
	u8 setup[8];
} f;

static void fuzz__signal_vq(struct virtio_transport *t, struct virtq *vq)
{
	(void)t;
	(void)vq;
}

static void fuzz__signal_config(struct virtio_transport *t)
{
	(void)t;
}

static const struct virtio_transport_ops fuzz_transport_ops = {
	.signal_vq = fuzz__signal_vq,
	.signal_config = fuzz__signal_config,
};

static const struct virtio_dev_ops fuzz_dev_ops = { .name = "virtio-fuzz", .device_id = 42 };

static u16 le16_at(const u8 *p)
{
	return (u16)(p[0] | p[1] << 8);
}

/* The walker's promises about a chain it returned: abort (a finding) if one is broken. */
static void fuzz__check_chain(const struct virtq_chain *c)
{
	const u8 *ram = f.kvm.ram;
	size_t out = 0, in = 0;

	if (c->nr_out + c->nr_in > VIRTQ_MAX_SIZE)
		abort();
	for (unsigned int i = 0; i < c->nr_out + c->nr_in; i++) {
		const u8 *b = c->iov[i].iov_base;
		size_t len = c->iov[i].iov_len;

		if (!len || b < ram || b > ram + RAM_SIZE || len > (size_t)(ram + RAM_SIZE - b))
			abort();
		if (i < c->nr_out)
			out += len;
		else
			in += len;
	}
	if (out != c->out_len || in != c->in_len)
		abort();
}

/* What a device does with a chain: reads its request, writes a reply into it. */
static void fuzz__use_chain(const struct virtq_chain *c, u8 how)
{
	size_t offset = (size_t)(how & 3) * 13, len = sizeof(f.copy) >> (how >> 2), want;

	fuzz__check_chain(c);
	want = c->out_len > offset ? c->out_len - offset : 0;
	if (want > len)
		want = len;
	if (virtq_chain__from_guest(c, offset, f.copy, len) != want)
		abort();
	want = c->in_len > offset ? c->in_len - offset : 0;
	if (want > len)
		want = len;
	memset(f.copy, how, len);
	if (virtq_chain__to_guest(c, offset, f.copy, len) != want)
		abort();
}

/* The driver's setup, again after each reset. */
static void fuzz__start(void)
{
	const u64 base = LKVM_RAM_BASE;
	struct virtq *vq = &f.vq;

	f.dev.features = f.features;
	atomic_store(&f.dev.status, f.status);
	vq->num = f.setup[0] < 0xf0 ? 1U << (f.setup[0] % 9) : le16_at(f.setup);
	vq->desc_gpa = base + le16_at(f.setup + 2);
	vq->avail_gpa = base + le16_at(f.setup + 4);
	vq->used_gpa = base + le16_at(f.setup + 6);
	virtq__enable(vq);
	f.nr_inflight = 0;
}

static void fuzz__pop(u8 how)
{
	int ret = virtq__pop(&f.vq, &f.chain);

	if (ret == 1) {
		fuzz__use_chain(&f.chain, how);
		if (f.nr_inflight < VIRTQ_MAX_SIZE)
			f.inflight[f.nr_inflight++] = f.chain.head;
	} else if (ret != 0 && ret != -EIO) {
		abort();
	}
}

/* Each pop takes an entry the driver made available: a queue drains in at most size pops. */
static void fuzz__drain(u8 how)
{
	unsigned int n = 0;

	while (virtq__pop(&f.vq, &f.chain) == 1) {
		fuzz__use_chain(&f.chain, how);
		virtq__push(&f.vq, f.chain.head, (u32)f.chain.in_len);
		if (++n > VIRTQ_MAX_SIZE)
			abort();
	}
	virtq__signal(&f.vq);
}

/* The guest's side: more avail entries, interrupt suppression, its used_event. */
static void fuzz__guest(u8 how)
{
	struct virtq *vq = &f.vq;

	if (!atomic_load(&vq->ready))
		return;
	if (how & 1) {
		vq->avail->idx = htole16((u16)(le16toh(vq->avail->idx) + (how >> 1)));
	} else {
		vq->avail->flags ^= htole16(VRING_AVAIL_F_NO_INTERRUPT);
		vq->avail->ring[vq->size] = htole16((u16)(vq->used_idx + (how >> 1)));
	}
}

/* One script byte: the low 3 bits say what, the rest how. */
static void fuzz__step(u8 op)
{
	u8 how = op >> 3;
	int ret;

	switch (op & 7) {
	case 0:
		fuzz__pop(how);
		break;
	case 1:
		if (f.nr_inflight) {
			virtq__push(&f.vq, f.inflight[0], (u32)how * 100);
			memmove(f.inflight, f.inflight + 1, --f.nr_inflight * sizeof(f.inflight[0]));
		}
		break;
	case 2:
		ret = virtq__peek(&f.vq, &f.chain);
		if (ret == 1)
			fuzz__check_chain(&f.chain);
		break;
	case 3:
		virtq__signal(&f.vq);
		break;
	case 4:
		fuzz__guest(how);
		break;
	case 5:
		virtio_dev__reset(&f.dev);
		fuzz__start();
		break;
	case 6:
		if (atomic_load(&f.vq.ready) && f.chain.nr_out + f.chain.nr_in)
			virtq__push(&f.vq, (u16)(how * 9), 0);	/* a device bug: a head it never had */
		break;
	default:
		fuzz__drain(how);
		break;
	}
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	u8 header[HEADER] = { 0 };
	size_t nscript, ram_len;

	if (!f.kvm.ram) {
		f.kvm.ram = malloc(RAM_SIZE);	/* exactly RAM_SIZE: ASan sees past its end */
		if (!f.kvm.ram)
			abort();
		f.kvm.ram_size = RAM_SIZE;
		log_level = LOG_ERROR;		/* hostile rings are the point: no warnings */
	}
	memcpy(header, data, size < HEADER ? size : HEADER);
	data += size < HEADER ? size : HEADER;
	size -= size < HEADER ? size : HEADER;
	nscript = header[8] % (MAX_SCRIPT + 1);
	if (nscript > size)
		nscript = size;
	ram_len = size - nscript < RAM_SIZE ? size - nscript : RAM_SIZE;
	memset(f.kvm.ram, 0, RAM_SIZE);
	memcpy(f.kvm.ram, data + nscript, ram_len);

	virtio_dev__init(&f.dev, &f.kvm, &fuzz_dev_ops, &f.vq, 1);
	f.transport.ops = &fuzz_transport_ops;
	f.dev.transport = &f.transport;
	f.features = 1ULL << VIRTIO_F_VERSION_1;
	if (header[1] & 1)
		f.features |= 1ULL << VIRTIO_RING_F_EVENT_IDX;
	if (header[1] & 2)
		f.features |= 1ULL << VIRTIO_RING_F_INDIRECT_DESC;
	f.status = VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK;
	if (!(header[1] & 4))
		f.status |= VIRTIO_CONFIG_S_DRIVER_OK;
	memcpy(f.setup, header, sizeof(f.setup));
	memset(&f.chain, 0, sizeof(f.chain));
	fuzz__start();
	for (size_t i = 0; i < nscript; i++)
		fuzz__step(data[i]);
	fuzz__drain(0);
	virtio_dev__destroy(&f.dev);
	return 0;
}
