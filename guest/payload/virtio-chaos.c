/*
 * virtio-chaos: a hostile virtio driver. It finds every virtio device, on virtio-mmio (the
 * /virtio_mmio@* nodes) or virtio-pci (the ECAM bridge: it assigns BAR 0 itself, as Linux
 * does), and for n=SECONDS (default 5) does random things to each in turn: random features,
 * queue sizes and ring addresses (unaligned, outside RAM, straddling its end), random
 * descriptors (addresses, lengths, flags, loops, indirect tables), random avail and used
 * indices, notification storms, queue disable and device reset with requests in flight, queue
 * size changes under a live queue, random status and config-space writes. After each round
 * every device is reset and must work again: a blk write then read returns the data, rng
 * returns bytes, 9p answers Tversion and Tattach (and is asked to write outside the share
 * through its symlinks and ".."), console, net and balloon complete a request, and no device
 * asks for another reset (DEVICE_NEEDS_RESET). "virtio-chaos: ready" and "virtio-chaos: done"
 * (all devices reset) are each followed by a second's pause, for the host to measure lkvm.
 * Prints one check per device, then powers off.
 *
 * Memory: the payload's code, data and stacks lie below RAM + 16M. The rings are at RAM + 16M
 * (128K per device), each device's buffers at RAM + 20M (64K per device): every in-RAM
 * address the chaos gives a device is in its own part of these, so whatever a device writes
 * misses the payload. The MMU is off; the emulated host's KVM keeps guest and host coherent.
 */
#include "lib.h"

const char payload_name[] = "virtio-chaos";

#define MAX_DEVS	32
#define MAX_QS		8
#define GOOD_QSIZE	64
#define RINGS_OFF	(16UL << 20)
#define RINGS_PER_DEV	(128UL << 10)
#define RING_SIZE	(16UL << 10)
#define BUFS_OFF	(20UL << 20)
#define BUF_SIZE	(64UL << 10)

/* status */
#define S_ACK		1
#define S_DRIVER	2
#define S_DRIVER_OK	4
#define S_FEATURES_OK	8
#define S_NEEDS_RESET	64

/* descriptor flags */
#define D_NEXT		1
#define D_WRITE		2
#define D_INDIRECT	4

enum { ID_NET = 1, ID_BLK = 2, ID_CONSOLE = 3, ID_RNG = 4, ID_BALLOON = 5, ID_9P = 9,
       ID_VSOCK = 19 };

struct vq { u64 desc, avail, used; u16 num, avail_idx, used_idx; };

struct vdev {
	bool pci;
	u64 base;		/* mmio registers, or the common config in BAR 0 */
	u64 cfg, notify, isr;	/* virtio-pci only: device config, doorbells, ISR */
	u32 notify_mult, id;
	unsigned int nq, fails, checks;
	struct vq q[MAX_QS];
};

static struct vdev devs[MAX_DEVS];
static unsigned int ndevs;
static u64 rng_state = 0x9e3779b97f4a7c15UL;

static u64 rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1DUL;
}
static u32 rnd_n(u32 n) { return (u32)(rnd() % n); }

/* Guest memory the device shares: plain accesses, ordered around the doorbells by dsb. */
static inline void put16(u64 a, u16 v) { *(volatile u16 *)a = v; }
static inline u16 get16(u64 a) { return *(volatile u16 *)a; }
static inline void put32(u64 a, u32 v) { *(volatile u32 *)a = v; }
static inline u32 get32(u64 a) { return *(volatile u32 *)a; }
static inline void put64(u64 a, u64 v) { *(volatile u64 *)a = v; }

/* Little-endian at any alignment (the MMU is off: no unaligned accesses). */
static void put_le32(u64 a, u32 v)
{
	for (unsigned int i = 0; i < 4; i++)
		mmio_write8(a + i, (u8)(v >> (8 * i)));
}

static void zero(u64 a, u64 len)
{
	for (u64 i = 0; i < len; i += 8)
		put64(a + i, 0);
}

/* ---- the two transports' registers ---- */
#define M_DEV_FEAT 0x10
#define M_DEV_FEAT_SEL 0x14
#define M_DRV_FEAT 0x20
#define M_DRV_FEAT_SEL 0x24
#define M_Q_SEL 0x30
#define M_Q_NUM_MAX 0x34
#define M_Q_NUM 0x38
#define M_Q_READY 0x44
#define M_Q_NOTIFY 0x50
#define M_INT_ACK 0x64
#define M_STATUS 0x70
#define M_Q_DESC 0x80
#define M_Q_AVAIL 0x90
#define M_Q_USED 0xa0
#define M_CONFIG 0x100

#define P_DEV_FEAT_SEL 0x00
#define P_DEV_FEAT 0x04
#define P_DRV_FEAT_SEL 0x08
#define P_DRV_FEAT 0x0c
#define P_NUM_QUEUES 0x12
#define P_STATUS 0x14
#define P_Q_SEL 0x16
#define P_Q_SIZE 0x18
#define P_Q_ENABLE 0x1c
#define P_Q_DESC 0x20
#define P_Q_AVAIL 0x28
#define P_Q_USED 0x30
#define P_COMMON_LEN 0x38

static u8 get_status(struct vdev *d)
{
	return d->pci ? mmio_read8(d->base + P_STATUS) : (u8)mmio_read32(d->base + M_STATUS);
}
static void set_status(struct vdev *d, u8 s)
{
	if (d->pci)
		mmio_write8(d->base + P_STATUS, s);
	else
		mmio_write32(d->base + M_STATUS, s);
}
static u32 dev_features(struct vdev *d, u32 sel)
{
	mmio_write32(d->base + (d->pci ? P_DEV_FEAT_SEL : M_DEV_FEAT_SEL), sel);
	return mmio_read32(d->base + (d->pci ? P_DEV_FEAT : M_DEV_FEAT));
}
static void drv_features(struct vdev *d, u32 sel, u32 v)
{
	mmio_write32(d->base + (d->pci ? P_DRV_FEAT_SEL : M_DRV_FEAT_SEL), sel);
	mmio_write32(d->base + (d->pci ? P_DRV_FEAT : M_DRV_FEAT), v);
}
static void q_select(struct vdev *d, u32 q)
{
	if (d->pci)
		mmio_write16(d->base + P_Q_SEL, (u16)q);
	else
		mmio_write32(d->base + M_Q_SEL, q);
}
static void q_size(struct vdev *d, u32 n)
{
	if (d->pci)
		mmio_write16(d->base + P_Q_SIZE, (u16)n);
	else
		mmio_write32(d->base + M_Q_NUM, n);
}
static void q_ready(struct vdev *d, u32 on)
{
	if (d->pci)
		mmio_write16(d->base + P_Q_ENABLE, (u16)on);
	else
		mmio_write32(d->base + M_Q_READY, on);
}
static void q_addr(struct vdev *d, unsigned int which, u64 a)
{
	static const u32 m[] = { M_Q_DESC, M_Q_AVAIL, M_Q_USED }, p[] = { P_Q_DESC, P_Q_AVAIL,
									     P_Q_USED };
	u64 r = d->base + (d->pci ? p[which] : m[which]);

	mmio_write32(r, (u32)a);
	mmio_write32(r + 4, (u32)(a >> 32));
}
static void notify(struct vdev *d, u32 q)
{
	dsb();
	if (d->pci)
		mmio_write16(d->notify + (u64)(q % 0x400) * d->notify_mult, (u16)q);
	else
		mmio_write32(d->base + M_Q_NOTIFY, q);
}
static u64 cfg_addr(struct vdev *d, u32 off)
{
	return d->pci ? d->cfg + off % 0x1000 : d->base + M_CONFIG + off % 0x100;
}

/* ---- where things are ---- */
static u64 ring_base(struct vdev *d, unsigned int q)
{
	return boot.ram_base + RINGS_OFF + (u64)(d - devs) * RINGS_PER_DEV + q * RING_SIZE;
}
static u64 buf_base(struct vdev *d)
{
	return boot.ram_base + BUFS_OFF + (u64)(d - devs) * BUF_SIZE;
}

/* An address for a descriptor or a ring: mostly this device's own memory, often not RAM. */
static u64 chaos_addr(struct vdev *d)
{
	u64 end = boot.ram_base + boot.ram_size;

	switch (rnd_n(12)) {
	case 0: return 0;
	case 1: return 0x0D000000;			/* virtio-mmio registers */
	case 2: return end - 8;				/* straddles the end of RAM */
	case 3: return end;
	case 4: return boot.ram_base - 16;
	case 5: return ~0UL - rnd_n(4096);
	case 6: return rnd();
	case 7: return ring_base(d, rnd_n(MAX_QS)) + rnd_n(RING_SIZE);
	default: return buf_base(d) + rnd_n(BUF_SIZE);
	}
}
static u32 chaos_len(void)
{
	static const u32 lens[] = { 0, 1, 7, 16, 512, 4096, 0x7fffffff, 0xffffffff, 0x10000 };

	return rnd_n(4) ? rnd_n(600) : lens[rnd_n(ARRAY_SIZE(lens))];
}

/* ---- a well-behaved driver ---- */
static bool setup(struct vdev *d)
{
	set_status(d, 0);
	for (int i = 0; i < 1000 && get_status(d); i++)
		delay_us(100);
	set_status(d, S_ACK | S_DRIVER);
	for (u32 sel = 0; sel < 2; sel++)
		drv_features(d, sel, dev_features(d, sel));
	set_status(d, S_ACK | S_DRIVER | S_FEATURES_OK);
	if (!(get_status(d) & S_FEATURES_OK))
		return false;
	for (unsigned int q = 0; q < d->nq; q++) {
		struct vq *v = &d->q[q];

		v->desc = ring_base(d, q);
		v->avail = v->desc + 4096;
		v->used = v->desc + 8192;
		v->num = GOOD_QSIZE;
		v->avail_idx = v->used_idx = 0;
		zero(v->desc, RING_SIZE);
		q_select(d, q);
		q_size(d, GOOD_QSIZE);
		q_addr(d, 0, v->desc);
		q_addr(d, 1, v->avail);
		q_addr(d, 2, v->used);
		q_ready(d, 1);
	}
	set_status(d, S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
	return !(get_status(d) & S_NEEDS_RESET);
}

static void put_desc(struct vq *v, unsigned int i, u64 addr, u32 len, u16 flags, u16 next)
{
	u64 p = v->desc + (u64)i * 16;

	put64(p, addr);
	put32(p + 8, len);
	put16(p + 12, flags);
	put16(p + 14, next);
}

static void post(struct vdev *d, unsigned int q, u16 head)
{
	struct vq *v = &d->q[q];

	put16(v->avail + 4 + 2 * (u64)(v->avail_idx % v->num), head);
	dsb();
	put16(v->avail + 2, ++v->avail_idx);
	notify(d, q);
}

/*
 * A chain of n buffers (the first `out` device-readable) from descriptor 0; waits up to 500 ms
 * for its completion. Returns the used length, or -1.
 */
static s64 request(struct vdev *d, unsigned int q, const u64 *addr, const u32 *len, unsigned int n,
		   unsigned int out)
{
	struct vq *v = &d->q[q];
	u64 t;

	for (unsigned int i = 0; i < n; i++)
		put_desc(v, i, addr[i], len[i], (u16)((i + 1 < n ? D_NEXT : 0) | (i >= out ? D_WRITE : 0)),
			 (u16)(i + 1));
	post(d, q, 0);
	t = now() + ms_to_ticks(500);
	while (get16(v->used + 2) == v->used_idx)
		if (now() > t)
			return -1;
	dsb();
	t = get32(v->used + 4 + 8 * (u64)(v->used_idx % v->num) + 4);
	v->used_idx++;
	return (s64)t;
}

/* ---- after the chaos: each device does its job ---- */
static bool health_blk(struct vdev *d)
{
	u64 b = buf_base(d), data = b + 512, st = b + 1024;
	u64 a[3] = { b, data, st };
	u32 l[3] = { 16, 512, 1 };
	u32 tag = (u32)rnd();

	put32(b, 1);		/* VIRTIO_BLK_T_OUT, sector 1 */
	put32(b + 4, 0);
	put64(b + 8, 1);
	for (u64 i = 0; i < 512; i += 4)
		put32(data + i, tag ^ (u32)i);
	put64(st, 0xff);
	if (request(d, 0, a, l, 3, 2) < 0 || (get32(st) & 0xff) != 0)
		return false;
	put32(b, 0);		/* VIRTIO_BLK_T_IN */
	zero(data, 512);
	put64(st, 0xff);
	if (request(d, 0, a, l, 3, 1) < 0 || (get32(st) & 0xff) != 0)
		return false;
	for (u64 i = 0; i < 512; i += 4)
		if (get32(data + i) != (tag ^ (u32)i))
			return false;
	return true;
}

/* 9P messages, built at the device's buffers; p9_send returns the reply's type, or 0. */
static u64 p9_at;
static void p9_u8(u8 v) { mmio_write8(p9_at++, v); }
static void p9_u16(u16 v) { p9_u8((u8)v); p9_u8((u8)(v >> 8)); }
static void p9_u32(u32 v) { put_le32(p9_at, v); p9_at += 4; }
static void p9_u64(u64 v) { p9_u32((u32)v); p9_u32((u32)(v >> 32)); }
static void p9_str(const char *s)
{
	p9_u16((u16)strlen(s));
	while (*s)
		p9_u8((u8)*s++);
}
static void p9_begin(struct vdev *d, u8 type)
{
	p9_at = buf_base(d);
	p9_u32(0);
	p9_u8(type);
	p9_u16(1);
}
static u8 p9_send(struct vdev *d)
{
	u64 b = buf_base(d), r = b + 4096;
	u64 a[2] = { b, r };
	u32 l[2] = { (u32)(p9_at - b), 4096 };

	put_le32(b, l[0]);
	zero(r, 64);
	return request(d, 0, a, l, 2, 1) >= 7 ? mmio_read8(r + 4) : 0;
}

/*
 * Tversion and Tattach must work; then tries to get out of the share through its symlinks and
 * "..": open for writing with O_TRUNC, create over a symlink, write. The host checks that its
 * files outside the share are untouched. The fids stay open: the reset must drop them.
 */
static bool health_9p(struct vdev *d)
{
	static const char *const escapes[][2] = { { "out-link", NULL }, { "..", "outside" },
						  { "root-link", "tmp" } };
	const u32 rdwr_trunc = 2 | 01000, creat = 0100;
	u32 fid = 2;

	p9_begin(d, 100);		/* Tversion */
	p9_u32(8192);
	p9_str("9P2000.L");
	if (p9_send(d) != 101)
		return false;
	p9_begin(d, 104);		/* Tattach fid 1 */
	p9_u32(1);
	p9_u32(~0U);
	p9_str("");
	p9_str("");
	p9_u32(0);
	if (p9_send(d) != 105)
		return false;
	for (unsigned int i = 0; i < ARRAY_SIZE(escapes); i++, fid++) {
		p9_begin(d, 110);	/* Twalk 1 -> fid */
		p9_u32(1);
		p9_u32(fid);
		p9_u16(escapes[i][1] ? 2 : 1);
		p9_str(escapes[i][0]);
		if (escapes[i][1])
			p9_str(escapes[i][1]);
		p9_send(d);
		p9_begin(d, 12);	/* Tlopen */
		p9_u32(fid);
		p9_u32(rdwr_trunc);
		p9_send(d);
		p9_begin(d, 118);	/* Twrite */
		p9_u32(fid);
		p9_u64(0);
		p9_u32(6);
		p9_str("pwned");
		p9_send(d);
	}
	p9_begin(d, 110);		/* Twalk 1 -> fid, no names: the root again */
	p9_u32(1);
	p9_u32(fid);
	p9_u16(0);
	p9_send(d);
	p9_begin(d, 14);		/* Tlcreate over the symlink */
	p9_u32(fid);
	p9_str("out-link");
	p9_u32(rdwr_trunc | creat);
	p9_u32(0644);
	p9_u32(0);
	p9_send(d);
	return true;
}

static bool health(struct vdev *d)
{
	u64 b = buf_base(d);
	u64 a[2] = { b, b + 4096 };
	u32 l[2] = { 64, 64 };

	zero(b, 8192);
	if (!setup(d))
		return false;
	switch (d->id) {
	case ID_BLK: return health_blk(d);
	case ID_9P: return health_9p(d);
	case ID_RNG: return request(d, 0, a + 1, l, 1, 0) > 0;
	case ID_CONSOLE: put32(b, 0x0a0a0a0a); return request(d, 1, a, l, 1, 1) >= 0;
	case ID_NET: l[0] = 12 + 60; return request(d, 1, a, l, 1, 1) >= 0;
	case ID_BALLOON: put32(b, (u32)((b + 8192) >> 12)); l[0] = 4;
		return request(d, 0, a, l, 1, 1) >= 0;
	default: return true;	/* vsock: the host kernel's; setting it up is the check */
	}
}

/* ---- the chaos ---- */
/* Only rings in this device's memory are written: its rings' addresses may be anything. */
static bool ring_ok(struct vdev *d, u64 a, u64 len)
{
	u64 lo = ring_base(d, 0), hi = lo + RINGS_PER_DEV;

	return a % 16 == 0 && a >= lo && a < hi && len <= hi - a;	/* chaos_addr may be ~0 */
}

/* One setup in four is wild throughout; the others reach DRIVER_OK with working queues. */
static void chaos_setup(struct vdev *d)
{
	bool wild = rnd_n(4) == 0;

	set_status(d, wild && rnd_n(2) ? (u8)rnd() : 0);
	set_status(d, S_ACK | S_DRIVER);
	for (u32 sel = 0; sel < 4; sel++)
		drv_features(d, sel, wild && rnd_n(2) ? (u32)rnd() : dev_features(d, sel));
	set_status(d, wild && rnd_n(2) ? (u8)rnd() : S_ACK | S_DRIVER | S_FEATURES_OK);
	for (unsigned int q = 0; q < d->nq + wild; q++) {
		struct vq *v = &d->q[q % MAX_QS];
		static const u16 sizes[] = { 0, 1, 3, 255, 256, 257, 1024, 0xffff };

		v->num = wild && rnd_n(2) ? sizes[rnd_n(ARRAY_SIZE(sizes))] : GOOD_QSIZE;
		v->desc = wild && rnd_n(2) ? chaos_addr(d) : ring_base(d, q % MAX_QS);
		v->avail = wild && rnd_n(2) ? chaos_addr(d) : ring_base(d, q % MAX_QS) + 4096;
		v->used = wild && rnd_n(2) ? chaos_addr(d) : ring_base(d, q % MAX_QS) + 8192;
		v->avail_idx = v->used_idx = 0;
		if (ring_ok(d, v->desc, RING_SIZE))
			zero(v->desc, RING_SIZE);
		q_select(d, wild && rnd_n(4) == 0 ? (u32)rnd() : q);
		q_size(d, v->num);
		q_addr(d, 0, v->desc);
		q_addr(d, 1, v->avail);
		q_addr(d, 2, v->used);
		q_ready(d, wild && rnd_n(4) == 0 ? (u32)rnd() : 1);
	}
	set_status(d, S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
}

/* Random descriptors, loops and indirect tables included, then a random head. */
static void chaos_chain(struct vdev *d, unsigned int q)
{
	struct vq *v = &d->q[q];
	u32 num = v->num && v->num <= 256 ? v->num : GOOD_QSIZE;
	unsigned int n = 1 + rnd_n(8);

	if (!ring_ok(d, v->desc, 16UL * num) || !ring_ok(d, v->avail, 6 + 2UL * num))
		return;
	for (unsigned int i = 0; i < n; i++) {
		u16 flags = (u16)(rnd_n(4) ? (i + 1 < n ? D_NEXT : 0) | (rnd_n(2) ? D_WRITE : 0) :
					     rnd());
		u64 addr = chaos_addr(d);
		u32 len = chaos_len();

		if (flags & D_INDIRECT && rnd_n(2)) {
			/* an indirect table in the buffers, itself random */
			addr = buf_base(d) + 16 * rnd_n(BUF_SIZE / 64);
			len = 16 * (1 + rnd_n(8));
			for (u32 j = 0; j < len; j += 16) {
				put64(addr + j, chaos_addr(d));
				put32(addr + j + 8, chaos_len());
				put32(addr + j + 12, (u32)rnd());
			}
		}
		put_desc(v, (i + rnd_n(3)) % num, addr, len, flags,
			 (u16)(rnd_n(4) ? i + 1 : rnd_n(num + 2)));
	}
	if (v->avail_idx == 0 || rnd_n(4))
		put16(v->avail + 4 + 2 * (u64)(v->avail_idx % num), (u16)(rnd_n(8) ? 0 : rnd()));
	put16(v->avail + 2, rnd_n(8) ? ++v->avail_idx : (v->avail_idx = (u16)rnd()));
	notify(d, q);
}

/* A well-formed request with chaotic contents: gets past the ring into the device's code. */
static void chaos_request(struct vdev *d, unsigned int q)
{
	struct vq *v = &d->q[q];
	u64 b = buf_base(d) + 16 * rnd_n(BUF_SIZE / 64);
	static const u32 blk_types[] = { 0, 1, 4, 8, 11, 13, 0x12345 };

	if (!ring_ok(d, v->desc, 16UL * 3) || v->num == 0 || v->num > 256 ||
	    !ring_ok(d, v->avail, 6 + 2UL * v->num))
		return;
	switch (d->id) {
	case ID_BLK:
		put32(b, blk_types[rnd_n(ARRAY_SIZE(blk_types))]);
		put64(b + 8, rnd_n(2) ? rnd_n(64) : rnd());
		break;
	case ID_9P:
		put32(b, rnd_n(2) ? 32 : (u32)rnd());
		mmio_write8(b + 4, (u8)(100 + rnd_n(30)));
		put_le32(b + 7, rnd_n(4));
		break;
	case ID_BALLOON:
		put32(b, rnd_n(2) ? (u32)((buf_base(d) + rnd_n(BUF_SIZE)) >> 12) : (u32)rnd() |
		      0x80000000U);	/* its own buffers, or not RAM */
		break;
	default:
		put64(b, rnd());
	}
	put_desc(v, 0, b, 16 + rnd_n(16), D_NEXT, 1);
	put_desc(v, 1, b + 32, chaos_len() % 8192, (u16)(D_NEXT | (rnd_n(2) ? D_WRITE : 0)), 2);
	put_desc(v, 2, b + 8192, 1 + rnd_n(64), D_WRITE, 0);
	post(d, q, 0);
}

static void chaos_step(struct vdev *d)
{
	unsigned int q = rnd_n(d->nq), i;
	struct vq *v = &d->q[q];

	switch (rnd_n(14)) {
	case 0: case 1: case 2:
		chaos_chain(d, q);
		break;
	case 3: case 4:
		chaos_request(d, q);
		break;
	case 5:		/* random avail and used indices */
		if (ring_ok(d, v->avail, 4) && ring_ok(d, v->used, 4)) {
			put16(v->avail + 2, (u16)rnd());
			put16(v->used + 2, (u16)rnd());
			notify(d, q);
		}
		break;
	case 6:		/* a notification storm, to queues that exist and ones that do not */
		for (i = 0; i < 200; i++)
			notify(d, rnd_n(8) ? rnd_n(d->nq) : (u32)rnd());
		break;
	case 7:		/* queue disable with requests in flight, then maybe enabled again */
		chaos_request(d, q);
		q_select(d, q);
		q_ready(d, 0);
		if (rnd_n(2))
			q_ready(d, 1);
		break;
	case 8:		/* device reset with requests in flight */
		chaos_request(d, q);
		chaos_chain(d, q);
		if (rnd_n(2))
			delay_us(rnd_n(300));
		set_status(d, 0);
		if (rnd_n(2))
			chaos_setup(d);
		break;
	case 9:		/* queue size change under a live queue */
		q_select(d, q);
		q_size(d, rnd_n(2) ? 1U << rnd_n(10) : (u32)rnd());
		break;
	case 10:	/* config space */
		i = rnd_n(4) ? rnd_n(64) : (u32)rnd();
		if (rnd_n(2))
			mmio_write8(cfg_addr(d, i), (u8)rnd());
		else
			(void)mmio_read8(cfg_addr(d, i));
		break;
	case 11:
		set_status(d, (u8)rnd());
		break;
	case 12:	/* features while running, interrupt acknowledges */
		drv_features(d, rnd_n(3), (u32)rnd());
		if (d->pci)
			(void)mmio_read8(d->isr);
		else
			mmio_write32(d->base + M_INT_ACK, (u32)rnd());
		break;
	default:	/* random 32-bit writes to the transport's own registers */
		i = d->pci ? rnd_n(P_COMMON_LEN / 4) * 4 : rnd_n(0x100 / 4) * 4;
		if (i != (d->pci ? P_STATUS & ~3U : M_STATUS))
			mmio_write32(d->base + i, (u32)rnd());
		break;
	}
}

/* ---- finding the devices ---- */
static unsigned int count_queues(struct vdev *d)
{
	unsigned int n = 0;

	if (d->pci)
		n = mmio_read16(d->base + P_NUM_QUEUES);
	else
		while (n < MAX_QS && (q_select(d, n), mmio_read32(d->base + M_Q_NUM_MAX)))
			n++;
	return n < MAX_QS ? n : MAX_QS;
}

static void add_dev(struct vdev *d)
{
	d->nq = count_queues(d);
	if (!d->nq) {
		print("virtio-chaos: device %u has no queues\n", d->id);
		return;
	}
	print("virtio-chaos: device %u (%s at 0x%lx) with %u queues\n", d->id,
	      d->pci ? "pci" : "mmio", d->base, d->nq);
	ndevs++;
}

static void find_mmio(void)
{
	for (unsigned int i = 0; i < boot.nr_virtio_mmio && ndevs < MAX_DEVS; i++) {
		struct vdev *d = &devs[ndevs];

		if (mmio_read32(boot.virtio_mmio[i]) != 0x74726976)
			continue;
		d->base = boot.virtio_mmio[i];
		d->id = mmio_read32(d->base + 8);
		if (d->id)
			add_dev(d);
	}
}

/* BAR 0 at the next free place in the window, memory decoding on; the capabilities say where. */
static void find_pci(void)
{
	u64 next = boot.pci_mmio;

	for (u32 slot = 0; slot < 32 && ndevs < MAX_DEVS && boot.pci_ecam; slot++) {
		u64 cs = boot.pci_ecam + ((u64)slot << 15), bar = 0;
		struct vdev *d = &devs[ndevs];
		u32 size;

		if ((mmio_read32(cs) & 0xffff) != 0x1af4)
			continue;
		mmio_write32(cs + 0x10, 0xffffffff);
		size = ~(mmio_read32(cs + 0x10) & ~0xfU) + 1;
		if (!size || size & (size - 1))
			continue;
		next = (next + size - 1) & ~((u64)size - 1);
		mmio_write32(cs + 0x10, (u32)next);
		bar = next;
		next += size;
		mmio_write16(cs + 4, 2);	/* Command: memory space */
		for (u32 cap = mmio_read8(cs + 0x34); cap; cap = mmio_read8(cs + cap + 1)) {
			u64 at = bar + mmio_read32(cs + cap + 8);

			if (mmio_read8(cs + cap) != 9)	/* vendor-specific: virtio's */
				continue;
			switch (mmio_read8(cs + cap + 3)) {
			case 1: d->base = at; break;
			case 2: d->notify = at; d->notify_mult = mmio_read32(cs + cap + 16); break;
			case 3: d->isr = at; break;
			case 4: d->cfg = at; break;
			}
		}
		d->pci = true;
		d->id = (mmio_read32(cs) >> 16) - 0x1040;
		if (d->base && d->notify)
			add_dev(d);
	}
}

void payload_main(void)
{
	u64 seconds = par.n ? par.n : 5, deadline, rounds = 0;

	rng_state ^= now();
	find_mmio();
	find_pci();
	check(ndevs > 0, ndevs, 1, "virtio devices found");
	/* Every page the chaos may touch is touched now, before the host measures lkvm. */
	zero(boot.ram_base + RINGS_OFF, ndevs * RINGS_PER_DEV);
	zero(boot.ram_base + BUFS_OFF, ndevs * BUF_SIZE);
	print("virtio-chaos: ready\n");
	delay_us(1000000);
	deadline = now() + seconds * timer_freq();
	while (now() < deadline || rounds < 2) {
		for (unsigned int i = 0; i < ndevs; i++) {
			zero(buf_base(&devs[i]), BUF_SIZE);
			chaos_setup(&devs[i]);
			for (unsigned int s = 0; s < 100; s++)
				chaos_step(&devs[i]);
		}
		for (unsigned int i = 0; i < ndevs; i++) {
			struct vdev *d = &devs[i];

			d->checks++;
			if (!health(d) && d->fails++ == 0)
				print("virtio-chaos: device %u (%s) failed after round %lu\n", d->id,
				      d->pci ? "pci" : "mmio", rounds);
			set_status(d, 0);
		}
		rounds++;
	}
	/* Every device is reset: the host measures lkvm again. */
	print("\nvirtio-chaos: done, %lu rounds\n", rounds);	/* after virtio-console's noise */
	delay_us(1000000);
	for (unsigned int i = 0; i < ndevs; i++)
		check(devs[i].fails == 0, devs[i].fails, 0, "device %u (%s): works after %u rounds",
		      devs[i].id, devs[i].pci ? "pci" : "mmio", devs[i].checks);
}

void secondary_main(u64 ctx, u64 t_entry, unsigned int cpu)
{
	(void)ctx, (void)t_entry, (void)cpu;
	cpu_off();
}
