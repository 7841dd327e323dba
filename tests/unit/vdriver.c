/* The fake guest driver of the virtio device tests: see vdriver.h. */
#include <libfdt.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include <linux/virtio_mmio.h>

#include "lkvm/fdt.h"
#include "suites.h"
#include "vdriver.h"

void vdrv__setup(struct vdrv *v, u64 ram_size)
{
	memset(v, 0, sizeof(*v));
	v->kvm.ram = mmap(NULL, ram_size, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	ck_assert(v->kvm.ram != MAP_FAILED);
	v->kvm.ram_size = ram_size;
	v->kvm.vm_fd = -1;
	v->kvm.cfg = &v->cfg;
	v->base = LKVM_VIRTIO_MMIO_BASE;
	v->qsize = 8;
	v->nr_queues = 1;
	v->wait_ms = 5000;
	log_level = LOG_ERROR;
}

void vdrv__teardown(struct vdrv *v)
{
	munmap(v->kvm.ram, v->kvm.ram_size);
	v->kvm.ram = NULL;
	log_level = LOG_WARNING;
}

void *vdrv__host(struct vdrv *v, u64 gpa)
{
	/* A test's own slip must not scribble over the host's memory. */
	ck_assert(gpa >= LKVM_RAM_BASE && gpa - LKVM_RAM_BASE < v->kvm.ram_size);
	return v->kvm.ram + (gpa - LKVM_RAM_BASE);
}

void vdrv__msleep(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

bool vdrv__access(struct vdrv *v, u64 off, void *data, unsigned int len, bool is_write)
{
	return mmio__access(&v->kvm.mmio, v->base + off, data, len, is_write);
}

u32 vdrv__rd(struct vdrv *v, u64 off)
{
	u8 d[4];

	ck_assert(vdrv__access(v, off, d, 4, false));
	return get_le32(d);
}

void vdrv__wr(struct vdrv *v, u64 off, u32 val)
{
	u8 d[4] = { (u8)val, (u8)(val >> 8), (u8)(val >> 16), (u8)(val >> 24) };

	ck_assert(vdrv__access(v, off, d, 4, true));
}

void vdrv__wr64(struct vdrv *v, u64 lo_off, u64 val)
{
	vdrv__wr(v, lo_off, (u32)val);
	vdrv__wr(v, lo_off + 4, (u32)(val >> 32));
}

u64 vdrv__device_features(struct vdrv *v)
{
	u64 hi;

	vdrv__wr(v, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	hi = vdrv__rd(v, VIRTIO_MMIO_DEVICE_FEATURES);
	vdrv__wr(v, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	return hi << 32 | vdrv__rd(v, VIRTIO_MMIO_DEVICE_FEATURES);
}

u64 vdrv__cfg_rd(struct vdrv *v, u32 off, unsigned int len)
{
	u8 d[8] = { 0 };
	u64 val = 0;

	ck_assert_uint_le(len, sizeof(d));
	ck_assert(vdrv__access(v, VIRTIO_MMIO_CONFIG + off, d, len, false));
	for (unsigned int i = len; i--;)
		val = val << 8 | d[i];
	return val;
}

void vdrv__cfg_wr(struct vdrv *v, u32 off, unsigned int len, u64 val)
{
	u8 d[8];

	ck_assert_uint_le(len, sizeof(d));
	for (unsigned int i = 0; i < len; i++)
		d[i] = (u8)(val >> (8 * i));
	ck_assert(vdrv__access(v, VIRTIO_MMIO_CONFIG + off, d, len, true));
}

void vdrv__negotiate(struct vdrv *v, u64 features)
{
	u64 want = features | 1ULL << VIRTIO_F_VERSION_1;

	vdrv__wr(v, VIRTIO_MMIO_STATUS, 0);
	vdrv__wr(v, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE);
	vdrv__wr(v, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	vdrv__wr(v, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	vdrv__wr(v, VIRTIO_MMIO_DRIVER_FEATURES, (u32)(want >> 32));
	vdrv__wr(v, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	vdrv__wr(v, VIRTIO_MMIO_DRIVER_FEATURES, (u32)want);
	vdrv__wr(v, VIRTIO_MMIO_STATUS, VDRV_S_FEATURES);
	ck_assert_uint_eq(vdrv__rd(v, VIRTIO_MMIO_STATUS), VDRV_S_FEATURES);
}

void vdrv__setup_queue(struct vdrv *v, unsigned int q)
{
	ck_assert_uint_lt(q, VDRV_MAX_QUEUES);
	memset(vdrv__host(v, VDRV_DESC(q)), 0, VDRV_RING_BYTES);
	v->avail_idx[q] = 0;
	vdrv__wr(v, VIRTIO_MMIO_QUEUE_SEL, q);
	ck_assert_uint_eq(vdrv__rd(v, VIRTIO_MMIO_QUEUE_READY), 0);
	ck_assert_uint_eq(vdrv__rd(v, VIRTIO_MMIO_QUEUE_NUM_MAX), VIRTQ_MAX_SIZE);
	vdrv__wr(v, VIRTIO_MMIO_QUEUE_NUM, v->qsize);
	vdrv__wr64(v, VIRTIO_MMIO_QUEUE_DESC_LOW, VDRV_DESC(q));
	vdrv__wr64(v, VIRTIO_MMIO_QUEUE_AVAIL_LOW, VDRV_AVAIL(q));
	vdrv__wr64(v, VIRTIO_MMIO_QUEUE_USED_LOW, VDRV_USED(q));
	vdrv__wr(v, VIRTIO_MMIO_QUEUE_READY, 1);
	ck_assert_uint_eq(vdrv__rd(v, VIRTIO_MMIO_QUEUE_READY), 1);
}

void vdrv__stop_queue(struct vdrv *v, unsigned int q)
{
	vdrv__wr(v, VIRTIO_MMIO_QUEUE_SEL, q);
	vdrv__wr(v, VIRTIO_MMIO_QUEUE_READY, 0);
	ck_assert_uint_eq(vdrv__rd(v, VIRTIO_MMIO_QUEUE_READY), 0);
}

void vdrv__driver_ok(struct vdrv *v)
{
	vdrv__wr(v, VIRTIO_MMIO_STATUS, VDRV_S_ALL);
	ck_assert_uint_eq(vdrv__rd(v, VIRTIO_MMIO_STATUS), VDRV_S_ALL);
}

void vdrv__init_driver(struct vdrv *v, u64 features)
{
	vdrv__negotiate(v, features);
	for (unsigned int q = 0; q < v->nr_queues; q++)
		vdrv__setup_queue(v, q);
	vdrv__driver_ok(v);
}

void vdrv__tdesc(struct vdrv *v, u64 table_gpa, unsigned int i, u64 addr, u32 len, u16 flags,
		 u16 next)
{
	struct vring_desc d = { .addr = addr, .len = len, .flags = flags, .next = next };

	memcpy((u8 *)vdrv__host(v, table_gpa) + i * sizeof(d), &d, sizeof(d));
}

void vdrv__desc(struct vdrv *v, unsigned int q, unsigned int i, u64 addr, u32 len, u16 flags,
		u16 next)
{
	vdrv__tdesc(v, VDRV_DESC(q), i, addr, len, flags, next);
}

struct vring_avail *vdrv__avail(struct vdrv *v, unsigned int q)
{
	return vdrv__host(v, VDRV_AVAIL(q));
}

struct vring_used *vdrv__used(struct vdrv *v, unsigned int q)
{
	return vdrv__host(v, VDRV_USED(q));
}

u16 vdrv__used_idx(struct vdrv *v, unsigned int q)
{
	return __atomic_load_n(&vdrv__used(v, q)->idx, __ATOMIC_ACQUIRE);
}

u16 vdrv__avail_event(struct vdrv *v, unsigned int q)
{
	return __atomic_load_n((u16 *)(void *)&vdrv__used(v, q)->ring[v->qsize], __ATOMIC_ACQUIRE);
}

void vdrv__offer(struct vdrv *v, unsigned int q, u16 head)
{
	struct vring_avail *avail = vdrv__avail(v, q);

	avail->ring[v->avail_idx[q] % v->qsize] = head;
	__atomic_store_n(&avail->idx, ++v->avail_idx[q], __ATOMIC_RELEASE);
}

void vdrv__notify(struct vdrv *v, unsigned int q)
{
	vdrv__wr(v, VIRTIO_MMIO_QUEUE_NOTIFY, q);
}

void vdrv__post(struct vdrv *v, unsigned int q, u16 head)
{
	vdrv__offer(v, q, head);
	vdrv__notify(v, q);
}

void vdrv__wait_used(struct vdrv *v, unsigned int q, u16 idx)
{
	for (unsigned int i = 0; i < v->wait_ms && vdrv__used_idx(v, q) != idx; i++)
		vdrv__msleep(1);
	ck_assert_msg(vdrv__used_idx(v, q) == idx, "used->idx of queue %u is %u, expected %u", q,
		      vdrv__used_idx(v, q), idx);
}

void vdrv__wait_taken(struct vdrv *v, unsigned int q)
{
	for (unsigned int i = 0; i < v->wait_ms && vdrv__avail_event(v, q) != v->avail_idx[q]; i++)
		vdrv__msleep(1);
	ck_assert_msg(vdrv__avail_event(v, q) == v->avail_idx[q], "the device took %u chains of "
		      "queue %u, not all %u", vdrv__avail_event(v, q), q, v->avail_idx[q]);
}

static bool needs_reset(struct vdrv *v)
{
	return vdrv__rd(v, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET;
}

void vdrv__wait_needs_reset(struct vdrv *v)
{
	for (unsigned int i = 0; i < v->wait_ms && !needs_reset(v); i++)
		vdrv__msleep(1);
	ck_assert(needs_reset(v));
}

void vdrv__run(struct vdrv *v, unsigned int q, u16 head)
{
	u16 want = (u16)(vdrv__used_idx(v, q) + 1);

	vdrv__post(v, q, head);
	vdrv__wait_used(v, q, want);
	ck_assert_uint_eq(vdrv__used(v, q)->ring[(u16)(want - 1) % v->qsize].id, head);
}

void vdrv__run_broken(struct vdrv *v, unsigned int q, u16 head)
{
	u16 before = vdrv__used_idx(v, q);

	vdrv__post(v, q, head);
	vdrv__wait_needs_reset(v);
	ck_assert_uint_eq(vdrv__used_idx(v, q), before);
}

void vdrv__fdt(struct kvm *kvm, void *buf, int size)
{
	struct fdt_ctx ctx = { .fdt = buf, .gic_phandle = FDT_GIC_PHANDLE, .gic_version = 3,
			       .its_phandle = kvm->its ? FDT_ITS_PHANDLE : 0 };

	ck_assert_int_eq(fdt_create(buf, size), 0);
	ck_assert_int_eq(fdt_finish_reservemap(buf), 0);
	ck_assert_int_eq(fdt_begin_node(buf, ""), 0);
	for (unsigned int i = 0; i < kvm->nr_fdt_gens; i++)
		ck_assert_int_eq(kvm->fdt_gens[i]->gen(kvm->fdt_gens[i], &ctx), 0);
	ck_assert_int_eq(fdt_end_node(buf), 0);
	ck_assert_int_eq(fdt_finish(buf), 0);
}
