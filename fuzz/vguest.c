/*
 * The hostile virtio guest of the fuzz targets (vguest.h). The input is one header byte, then a
 * script of steps; each step is an opcode byte (low 4 bits: what, high 4 bits: which device, in
 * the order the target lists them) and its operands (bytes past the end read as 0):
 *   0 READ  OFF16 W           a register read of 1 << (W % 4) bytes at OFF16 (see vg__addr)
 *   1 WRITE OFF16 W VALUE...  a register write, of the next 1 to 8 bytes
 *   2 INIT  FEAT32 QSIZE      the driver sets the device up as Linux does: status, the device's
 *                             features & FEAT32 (and VERSION_1), every queue of 1 << (QSIZE % 9)
 *                             entries at its place (VG_RING), DRIVER_OK
 *   3 CHAIN Q N (ADDR16 LEN16 FLAGS)...   a chain of N % 8 + 1 buffers made available on queue
 *                             Q % 3 and notified: ADDR16 * 8 into VG_DATA, FLAGS bit 0
 *                             device-writable, bit 1 at the end of RAM, bit 2 a length over 4G
 *                             less LEN16, bit 3 (of the first) all in an indirect table
 *   4 RAM   OFF24 N BYTES...  the guest writes N % 32 bytes into its RAM at OFF24
 *   5 RUN                     the device workers do what they have to (so do 9 to 15)
 *   6 HOST HOW LEN16 BYTES... net: the backend sends the LEN16 % 2048 bytes that follow (HOW
 *                             bit 0), reads what the device sent, hangs up (HOW bit 1);
 *        HOW PAGES16          balloon: `lkvm balloon` QUERY/INFLATE/DEFLATE (HOW % 3) of
 *                             PAGES16 pages
 *   7 NOTIFY Q                the queue's doorbell alone
 *   8 RESET                   status 0
 * The header byte: bit 0 the disk is read-only, bit 1 the VM has an ITS (MSI-X on PCI); bits
 * 4-7 the queue size of a ready target's set-up (as QSIZE).
 *
 * Checked after each step, for the queues the script set up and left alone (no raw register
 * write to the device, no RAM write over the rings, no ring page ballooned): the device returns
 * only chains the driver made available, each once, with no more bytes written than the chain
 * had room for. Frames
 * the net device sends are whole and carry no offload; `lkvm balloon` answers 0 or -ERANGE. The
 * workers finish (fake-worker.c); AddressSanitizer watches the rest, RAM between guard pages.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/pci_regs.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_net.h>
#define VIRTIO_PCI_NO_LEGACY
#include <linux/virtio_pci.h>

#include "fake-worker.h"
#include "lkvm/kvm.h"
#include "lkvm/memory-map.h"
#include "lkvm/pci.h"
#include "lkvm/virtio-balloon.h"
#include "lkvm/virtio-blk.h"
#include "lkvm/virtio-net.h"
#include "lkvm/virtio-pci.h"
#include "lkvm/virtio-rng.h"
#include "lkvm/virtio.h"
#include "vguest.h"

#define RAM_SIZE	0x100000U
#define PAGE		0x1000U
#define VG_QUEUES	3			/* per device, at most */
/* Device d's queue q: its descriptor table, avail ring and used ring, a page each. */
#define VG_RING(d, q)	(0x1000U + ((d) * VG_QUEUES + (q)) * 0x3000U)
#define VG_RINGS_END	VG_RING(VG_NR_DEVICES, 0)
#define MAX_CHAIN	8
/*
 * The indirect table of device d's queue q's head h: 8 descriptors. Each queue has its own: a
 * chain of another queue may have the same head while this one's is still in flight.
 */
#define VG_INDIRECT(d, q, h)	(VG_RINGS_END + \
				 (((d) * VG_QUEUES + (q)) * VIRTQ_MAX_SIZE + (h)) * \
				 sizeof(struct vring_desc) * MAX_CHAIN)
/* The buffers: ADDR16 * 8 from here reaches a little past the end of RAM. */
#define VG_DATA		VG_INDIRECT(VG_NR_DEVICES, 0, 0)
_Static_assert(VG_DATA < RAM_SIZE && VG_DATA + 0xffffU * 8 >= RAM_SIZE,
	       "the buffers start in RAM and reach its end");
#define DISK_SIZE	0x10000
#define BAR0_REG	PCI_BASE_ADDRESS_0
#define NET_HDR		sizeof(struct virtio_net_hdr_v1)

/* What the harness knows of a queue it set up: which chains are the device's now. */
struct vg_queue {
	bool on, trusted;
	u16 size, avail_idx, used_seen;
	u8 nr_desc[VIRTQ_MAX_SIZE];		/* per head: descriptors in its chain, 0: free */
	u16 desc[VIRTQ_MAX_SIZE][MAX_CHAIN];	/* ... which */
	bool busy[VIRTQ_MAX_SIZE];		/* per descriptor */
	u64 room[VIRTQ_MAX_SIZE];		/* per head: device-writable bytes; ~0: unknown */
};

struct vg_dev {
	enum vguest_device kind;
	unsigned int slot;			/* its MMIO slot or PCI device number */
	struct vg_queue q[VG_QUEUES];
};

static struct {
	const struct vguest_target *t;
	struct kvm kvm;
	struct lkvm_config cfg;
	u8 *ram;
	char disk[64];
	int peer;				/* the net backend's other end */
	struct vg_dev dev[VG_NR_DEVICES];
	unsigned int nr_devs;
} G;

struct reader {
	const u8 *p, *end;
};

static u8 next8(struct reader *r)
{
	return r->p < r->end ? *r->p++ : 0;
}

static u16 next16(struct reader *r)
{
	u16 lo = next8(r);

	return (u16)(lo | next8(r) << 8);
}

static u32 next32(struct reader *r)
{
	u32 lo = next16(r);

	return lo | (u32)next16(r) << 16;
}

/* ---- the bus, as the guest's loads and stores reach it ---- */

static void vg__access(u64 addr, void *data, unsigned int len, bool is_write)
{
	mmio__access(&G.kvm.mmio, addr, data, len, is_write);
}

static u64 vg__rd(u64 addr, unsigned int len)
{
	u8 d[8] = { 0 };

	vg__access(addr, d, len, false);
	return get_le64(d);
}

static void vg__wr(u64 addr, unsigned int len, u64 val)
{
	u8 d[8];

	put_le64(d, val);
	vg__access(addr, d, len, true);
}

static u64 vg__ecam(const struct vg_dev *d)
{
	return LKVM_PCI_CFG_BASE + ((u64)d->slot << 15);
}

/* Where the device's BAR is now: the guest may have moved it. */
static u64 vg__bar(const struct vg_dev *d, unsigned int bar)
{
	return vg__rd(vg__ecam(d) + BAR0_REG + 4 * bar, 4) & ~0xfULL;
}

/*
 * A register address: virtio-mmio's window and the slots after it; on PCI, bits 14-15 pick the
 * region: BAR 0, config space, BAR 1 (MSI-X), or the BAR window around the device.
 */
static u64 vg__addr(const struct vg_dev *d, u16 off)
{
	if (G.t->transport == VIRTIO_TRANSPORT_MMIO)
		return LKVM_VIRTIO_MMIO_BASE + d->slot * LKVM_VIRTIO_MMIO_SIZE + off;
	switch (off >> 14) {
	case 0: return vg__bar(d, 0) + (off & 0x3fff);
	case 1: return vg__ecam(d) + (off & 0xfff);
	case 2: return vg__bar(d, VIRTIO_PCI_MSIX_BAR) + (off & 0xfff);
	default: return LKVM_PCI_MMIO_BASE + d->slot * LKVM_PCI_BAR_SIZE + (off & 0x3fff) * 4;
	}
}

/* ---- the driver's registers, on either transport ---- */

#define COMMON(f)	(VIRTIO_PCI_COMMON_OFF + VIRTIO_PCI_COMMON_##f)

static bool vg__pci(void)
{
	return G.t->transport == VIRTIO_TRANSPORT_PCI;
}

static u32 vg__status(const struct vg_dev *d)
{
	return vg__pci() ? (u32)vg__rd(vg__bar(d, 0) + COMMON(STATUS), 1) :
	       (u32)vg__rd(vg__addr(d, VIRTIO_MMIO_STATUS), 4);
}

static void vg__set_status(const struct vg_dev *d, u32 s)
{
	if (vg__pci())
		vg__wr(vg__bar(d, 0) + COMMON(STATUS), 1, s);
	else
		vg__wr(vg__addr(d, VIRTIO_MMIO_STATUS), 4, s);
}

static u64 vg__features(const struct vg_dev *d)
{
	u64 sel = vg__pci() ? vg__bar(d, 0) + COMMON(DFSELECT) :
			      vg__addr(d, VIRTIO_MMIO_DEVICE_FEATURES_SEL);
	u64 val = vg__pci() ? vg__bar(d, 0) + COMMON(DF) : vg__addr(d, VIRTIO_MMIO_DEVICE_FEATURES);
	u64 hi;

	vg__wr(sel, 4, 1);
	hi = vg__rd(val, 4);
	vg__wr(sel, 4, 0);
	return hi << 32 | vg__rd(val, 4);
}

static void vg__set_features(const struct vg_dev *d, u64 f)
{
	u64 sel = vg__pci() ? vg__bar(d, 0) + COMMON(GFSELECT) :
			      vg__addr(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL);
	u64 val = vg__pci() ? vg__bar(d, 0) + COMMON(GF) : vg__addr(d, VIRTIO_MMIO_DRIVER_FEATURES);

	vg__wr(sel, 4, 1);
	vg__wr(val, 4, f >> 32);
	vg__wr(sel, 4, 0);
	vg__wr(val, 4, (u32)f);
}

/* Sets queue q up at its place; its size, or 0 if the device has no such queue or refused. */
static u16 vg__setup_queue(const struct vg_dev *d, unsigned int q, u16 size)
{
	u64 ring = LKVM_RAM_BASE + VG_RING(d->kind, q);

	memset(G.ram + VG_RING(d->kind, q), 0, 0x3000);
	if (vg__pci()) {
		u64 bar = vg__bar(d, 0);

		vg__wr(bar + COMMON(Q_SELECT), 2, q);
		if (!vg__rd(bar + COMMON(Q_SIZE), 2))
			return 0;
		vg__wr(bar + COMMON(Q_SIZE), 2, size);
		vg__wr(bar + COMMON(Q_DESCLO), 8, ring);
		vg__wr(bar + COMMON(Q_AVAILLO), 4, (u32)(ring + PAGE));
		vg__wr(bar + COMMON(Q_AVAILHI), 4, (ring + PAGE) >> 32);
		vg__wr(bar + COMMON(Q_USEDLO), 8, ring + 2 * PAGE);
		vg__wr(bar + COMMON(Q_ENABLE), 2, 1);
		return vg__rd(bar + COMMON(Q_ENABLE), 2) ? size : 0;
	}
	vg__wr(vg__addr(d, VIRTIO_MMIO_QUEUE_SEL), 4, q);
	if (!vg__rd(vg__addr(d, VIRTIO_MMIO_QUEUE_NUM_MAX), 4))
		return 0;
	vg__wr(vg__addr(d, VIRTIO_MMIO_QUEUE_NUM), 4, size);
	vg__wr(vg__addr(d, VIRTIO_MMIO_QUEUE_DESC_LOW), 4, (u32)ring);
	vg__wr(vg__addr(d, VIRTIO_MMIO_QUEUE_DESC_HIGH), 4, ring >> 32);
	vg__wr(vg__addr(d, VIRTIO_MMIO_QUEUE_AVAIL_LOW), 4, (u32)(ring + PAGE));
	vg__wr(vg__addr(d, VIRTIO_MMIO_QUEUE_AVAIL_HIGH), 4, (ring + PAGE) >> 32);
	vg__wr(vg__addr(d, VIRTIO_MMIO_QUEUE_USED_LOW), 4, (u32)(ring + 2 * PAGE));
	vg__wr(vg__addr(d, VIRTIO_MMIO_QUEUE_USED_HIGH), 4, (ring + 2 * PAGE) >> 32);
	vg__wr(vg__addr(d, VIRTIO_MMIO_QUEUE_READY), 4, 1);
	return vg__rd(vg__addr(d, VIRTIO_MMIO_QUEUE_READY), 4) ? size : 0;
}

static void vg__untrack(struct vg_dev *d)
{
	memset(d->q, 0, sizeof(d->q));
}

/* The guest changed its rings behind the driver's back: no queue's state is known any more. */
static void vg__untrack_rings(void)
{
	for (unsigned int i = 0; i < G.nr_devs; i++)
		vg__untrack(&G.dev[i]);
}

/*
 * The balloon gives inflated pages back with madvise (the targets link with --wrap=madvise):
 * if the guest ballooned a page of its own rings, that page now reads as zeroes, which is the
 * guest's doing, not the device's.
 */
int __real_madvise(void *addr, size_t len, int advice);
int __wrap_madvise(void *addr, size_t len, int advice);
int __wrap_madvise(void *addr, size_t len, int advice)
{
	if ((u8 *)addr < G.ram + VG_DATA && (u8 *)addr + len > G.ram)
		vg__untrack_rings();
	return __real_madvise(addr, len, advice);
}

/* Virtio 1.2 section 3.1.1, as Linux's drivers do it. */
static void vg__init(struct vg_dev *d, struct reader *r)
{
	u64 want = next32(r) | 1ULL << VIRTIO_F_VERSION_1;
	u16 size = (u16)(1U << (next8(r) % 9));

	vg__untrack(d);
	if (vg__pci()) {
		vg__wr(vg__ecam(d) + PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
		if (G.kvm.its)
			vg__wr(vg__bar(d, 0) + COMMON(MSIX), 2, 0);
	}
	vg__set_status(d, 0);
	vg__set_status(d, VIRTIO_CONFIG_S_ACKNOWLEDGE);
	vg__set_status(d, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	vg__set_features(d, vg__features(d) & want);
	vg__set_status(d, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
		       VIRTIO_CONFIG_S_FEATURES_OK);
	if (!(vg__status(d) & VIRTIO_CONFIG_S_FEATURES_OK))
		return;
	for (unsigned int q = 0; q < VG_QUEUES; q++) {
		d->q[q].size = vg__setup_queue(d, q, size);
		d->q[q].on = d->q[q].trusted = d->q[q].size != 0;
	}
	vg__set_status(d, vg__status(d) | VIRTIO_CONFIG_S_DRIVER_OK);
}

static void vg__notify(const struct vg_dev *d, unsigned int q)
{
	if (vg__pci())
		vg__wr(vg__bar(d, 0) + VIRTIO_PCI_NOTIFY_OFF + q * VIRTIO_PCI_NOTIFY_MULT, 2, q);
	else
		vg__wr(vg__addr(d, VIRTIO_MMIO_QUEUE_NOTIFY), 4, q);
}

/* ---- the rings ---- */

static void *vg__host(u64 off)
{
	return G.ram + off;
}

/* n free descriptors of q into slots; false if there are not that many. */
static bool vg__alloc(struct vg_queue *vq, unsigned int n, u16 *slots)
{
	unsigned int got = 0;

	for (unsigned int i = 0; i < vq->size && got < n; i++) {
		if (!vq->busy[i])
			slots[got++] = (u16)i;
	}
	return got == n;
}

/* One buffer as the input describes it; returns its length if device-writable, else 0. */
static u64 vg__buffer(struct reader *r, struct vring_desc *d)
{
	u64 addr = LKVM_RAM_BASE + VG_DATA + (u64)next16(r) * 8;
	u32 len = next16(r);
	u8 how = next8(r);

	if (how & 2)
		addr = LKVM_RAM_BASE + RAM_SIZE - 256 + (addr & 0xff);
	if (how & 4)
		len = ~len;
	*d = (struct vring_desc){ .addr = htole64(addr), .len = htole32(len),
				  .flags = htole16(how & 1 ? VRING_DESC_F_WRITE : 0) };
	return how & 1 ? len : 0;
}

/* Puts n descriptors into table at slots, linked in that order. */
static void vg__link(struct vring_desc *table, const struct vring_desc *d, unsigned int n,
		     const u16 *slots)
{
	for (unsigned int i = 0; i < n; i++) {
		table[slots[i]] = d[i];
		if (i + 1 < n) {
			table[slots[i]].flags |= htole16(VRING_DESC_F_NEXT);
			table[slots[i]].next = htole16(slots[i + 1]);
		}
	}
}

/* A chain made available and notified, as a driver would. */
static void vg__chain(struct vg_dev *d, struct reader *r)
{
	static const u16 in_order[MAX_CHAIN] = { 0, 1, 2, 3, 4, 5, 6, 7 };
	unsigned int qi = next8(r) % VG_QUEUES, n = next8(r) % MAX_CHAIN + 1;
	struct vg_queue *vq = &d->q[qi];
	u8 *ring = vg__host(VG_RING(d->kind, qi));
	struct vring_desc *table = (struct vring_desc *)(void *)ring, descs[MAX_CHAIN];
	struct vring_avail *avail = (struct vring_avail *)(void *)(ring + PAGE);
	bool indirect = r->p + 4 < r->end && (r->p[4] & 8);
	u16 slots[MAX_CHAIN], head;
	u64 room = 0;

	for (unsigned int i = 0; i < n; i++)
		room += vg__buffer(r, &descs[i]);
	if (!vq->on || !vg__alloc(vq, indirect ? 1 : n, slots))
		return;
	head = slots[0];
	if (indirect) {
		u64 at = VG_INDIRECT(d->kind, qi, head);

		vg__link(vg__host(at), descs, n, in_order);
		table[head] = (struct vring_desc){ .addr = htole64(LKVM_RAM_BASE + at),
						   .len = htole32(n * sizeof(*table)),
						   .flags = htole16(VRING_DESC_F_INDIRECT) };
		n = 1;
	} else {
		vg__link(table, descs, n, slots);
	}
	for (unsigned int i = 0; i < n; i++) {
		vq->busy[slots[i]] = true;
		vq->desc[head][i] = slots[i];
	}
	vq->nr_desc[head] = (u8)n;
	vq->room[head] = room;
	avail->ring[vq->avail_idx % vq->size] = htole16(head);
	__atomic_store_n(&avail->idx, htole16(++vq->avail_idx), __ATOMIC_RELEASE);
	vg__notify(d, qi);
}

/* Each used entry the device wrote since the last look names a chain it had, room enough. */
static void vg__check_used(struct vg_dev *d, unsigned int qi)
{
	struct vg_queue *vq = &d->q[qi];
	const struct vring_used *used = vg__host(VG_RING(d->kind, qi) + 2 * PAGE);
	u16 idx = le16toh(__atomic_load_n(&used->idx, __ATOMIC_ACQUIRE));

	for (; vq->used_seen != idx; vq->used_seen++) {
		const struct vring_used_elem *e = &used->ring[vq->used_seen % vq->size];
		u32 id = le32toh(e->id);

		if (id >= vq->size || !vq->nr_desc[id] || le32toh(e->len) > vq->room[id])
			abort();
		for (unsigned int i = 0; i < vq->nr_desc[id]; i++)
			vq->busy[vq->desc[id][i]] = false;
		vq->nr_desc[id] = 0;
	}
}

static void vg__check(void)
{
	for (unsigned int i = 0; i < G.nr_devs; i++) {
		for (unsigned int q = 0; q < VG_QUEUES; q++) {
			if (G.dev[i].q[q].on && G.dev[i].q[q].trusted)
				vg__check_used(&G.dev[i], q);
		}
	}
}

/* ---- the other side of the devices ---- */

/* What the net device sent: whole frames after a header that asks for no offload. */
static void vg__net_sent(void)
{
	static u8 frame[NET_HDR + 65550 + 1];
	ssize_t n;

	while ((n = recv(G.peer, frame, sizeof(frame), MSG_DONTWAIT)) > 0) {
		const struct virtio_net_hdr_v1 *h = (const void *)frame;

		if ((size_t)n < NET_HDR || (size_t)n > NET_HDR + 65550 || h->flags ||
		    h->gso_type != VIRTIO_NET_HDR_GSO_NONE)
			abort();
	}
}

static void vg__host_step(struct vg_dev *d, struct reader *r)
{
	u8 how = next8(r);
	char out[256];
	int err;

	if (d->kind == VG_NET && G.peer >= 0) {
		u8 frame[2048] = { 0 };
		size_t len = next16(r) % sizeof(frame);

		for (size_t i = 0; i < len && r->p < r->end; i++)
			frame[i] = next8(r);
		if (how & 1)
			send(G.peer, frame, len, MSG_DONTWAIT);
		vg__net_sent();
		if (how & 2) {
			close(G.peer);
			G.peer = -1;
		}
	} else if (d->kind == VG_BALLOON) {
		memset(out, 0xff, sizeof(out));
		err = virtio_balloon__set(&G.kvm, (enum balloon_op)(how % 3),
					  (u64)next16(r) * BALLOON_PAGE_SIZE, out, sizeof(out));
		if ((err && err != -ERANGE) || !memchr(out, '\0', sizeof(out)))
			abort();
	}
}

/* ---- the VM ---- */

int net_tap__open(const struct net_spec *spec, char ifname[IFNAMSIZ])
{
	(void)spec;
	(void)ifname;
	abort();	/* the fuzzer's net device has its own backend */
}

int net_user__open(const struct net_spec *spec, struct net_backend **be)
{
	(void)spec;
	(void)be;
	abort();
}

static void vg__once(void)
{
	const char *dir = access("/dev/shm", W_OK) ? "/tmp" : "/dev/shm";
	int fd;

	/* RAM between guard pages: an access past either end faults. */
	G.ram = mmap(NULL, RAM_SIZE + 2 * PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (G.ram == MAP_FAILED || mprotect(G.ram + PAGE, RAM_SIZE, PROT_READ | PROT_WRITE))
		abort();
	G.ram += PAGE;
	snprintf(G.disk, sizeof(G.disk), "%s/lkvm-fuzz-disk-XXXXXX", dir);
	fd = mkstemp(G.disk);
	if (fd < 0)
		abort();
	close(fd);
	log_level = LOG_ERROR;		/* a hostile guest is the point: no warnings */
}

static void vg__add(enum vguest_device kind)
{
	struct net_spec spec = { .mode = NET_TAP, .guest_mac = { 2, 0, 0, 0, 0, 1 } };
	int sv[2], err = 0;

	switch (kind) {
	case VG_RNG:
		G.cfg.rng = true;
		err = virtio_rng__init(&G.kvm);
		break;
	case VG_BLK:
		if (truncate(G.disk, 0) || truncate(G.disk, DISK_SIZE))
			abort();
		G.cfg.disks[0].path = G.disk;
		G.cfg.nr_disks = 1;
		err = virtio_blk__init(&G.kvm);
		break;
	case VG_NET:
		if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK, 0, sv))
			abort();
		G.peer = sv[1];
		err = virtio_net__add(&G.kvm, &spec, sv[0], "fuzz");
		break;
	default:
		G.cfg.balloon = true;
		err = virtio_balloon__init(&G.kvm);
		break;
	}
	if (err)
		abort();
	G.dev[G.nr_devs] = (struct vg_dev){ .kind = kind, .slot = G.nr_devs };
	G.nr_devs++;
}

static void vg__start(u8 header)
{
	memset(&G.kvm, 0, sizeof(G.kvm));
	memset(&G.cfg, 0, sizeof(G.cfg));
	memset(G.ram, 0, RAM_SIZE);
	G.kvm.ram = G.ram;
	G.kvm.ram_size = RAM_SIZE;
	G.kvm.vm_fd = -1;
	G.kvm.stop_fd = -1;
	G.kvm.cfg = &G.cfg;
	G.kvm.its = header & 2;
	G.cfg.virtio_transport = G.t->transport;
	G.cfg.disks[0].readonly = header & 1;
	G.peer = -1;
	G.nr_devs = 0;
	if (G.t->transport == VIRTIO_TRANSPORT_PCI && pci__init(&G.kvm))
		abort();
	for (unsigned int k = 0; k < VG_NR_DEVICES; k++) {
		if (G.t->devices[k])
			vg__add((enum vguest_device)k);
	}
}

static void vg__stop(void)
{
	virtio_balloon__exit(&G.kvm);
	virtio_net__exit(&G.kvm);
	virtio_blk__exit(&G.kvm);
	virtio_rng__exit(&G.kvm);
	if (G.t->transport == VIRTIO_TRANSPORT_PCI)
		pci__exit(&G.kvm);
	if (G.peer >= 0)
		close(G.peer);
}

static void vg__reg(struct vg_dev *d, struct reader *r, bool is_write)
{
	u64 addr = vg__addr(d, next16(r));
	unsigned int len = 1U << (next8(r) % 4);
	u8 data[8] = { 0 };

	if (is_write) {
		for (unsigned int i = 0; i < len; i++)
			data[i] = next8(r);
		vg__untrack(d);	/* it may have moved the rings: the guest's own business */
	}
	vg__access(addr, data, len, is_write);
}

static void vg__ram(struct reader *r)
{
	u32 off = (next16(r) | (u32)next8(r) << 16) % RAM_SIZE;
	unsigned int n = next8(r) % 32;

	if (off < VG_DATA)
		vg__untrack_rings();
	for (unsigned int i = 0; i < n && off + i < RAM_SIZE; i++)
		G.ram[off + i] = next8(r);
}

static void vg__step(struct reader *r)
{
	u8 op = next8(r);
	struct vg_dev *d = &G.dev[(op >> 4) % G.nr_devs];

	switch (op & 0xf) {
	case 0: vg__reg(d, r, false); break;
	case 1: vg__reg(d, r, true); break;
	case 2: vg__init(d, r); break;
	case 3: vg__chain(d, r); break;
	case 4: vg__ram(r); break;
	case 6: vg__host_step(d, r); break;
	case 7: vg__notify(d, next8(r) % VG_QUEUES); break;
	case 8:
		vg__set_status(d, 0);
		vg__untrack(d);
		break;
	default: fake_worker__run_all(); break;
	}
	vg__check();
}

void vguest__run(const struct vguest_target *t, const u8 *data, size_t size)
{
	struct reader r = { data, data + size };
	u8 header;

	if (!G.ram)
		vg__once();
	G.t = t;
	header = next8(&r);
	vg__start(header);
	if (t->ready) {
		const u8 init[] = { 0xff, 0xff, 0xff, 0xff, header >> 4 };

		vg__init(&G.dev[0], &(struct reader){ init, init + sizeof(init) });
	}
	for (unsigned int steps = 0; r.p < r.end && steps < 256; steps++)
		vg__step(&r);
	fake_worker__run_all();
	vg__check();
	vg__stop();
}
