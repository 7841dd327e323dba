/*
 * virtqueue: split rings built in a fake guest RAM, good ones and hostile ones. A hostile ring
 * must put the device in NEEDS_RESET, never yield a buffer outside guest RAM, never hang.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lkvm/kvm.h"
#include "lkvm/memory-map.h"
#include "lkvm/virtio.h"
#include "suites.h"
#include "vdriver.h"

#define RAM_SIZE	(1ULL << 20)
#define QSIZE		8
#define DESC		VDRV_DESC(0)
#define AVAIL		VDRV_AVAIL(0)
#define USED		VDRV_USED(0)
#define ITABLE		G(0x4000)	/* an indirect table */
#define BUF		G(0x10000)	/* data buffers from here */

#define F_NEXT		VRING_DESC_F_NEXT
#define F_WRITE		VRING_DESC_F_WRITE
#define F_INDIRECT	VRING_DESC_F_INDIRECT
#define ALL_FEATURES	VIRTIO_CORE_FEATURES
#define NO_RING_FEATURES (1ULL << VIRTIO_F_VERSION_1)

static struct {
	struct vdrv v;			/* RAM and the driver's side of the ring */
	struct virtio_dev dev;
	struct virtq vq;
	struct virtio_transport transport;
	int vq_signals, config_signals;
} f;

static void count_vq_signal(struct virtio_transport *t, struct virtq *vq)
{
	(void)t;
	(void)vq;
	f.vq_signals++;
}

static void count_config_signal(struct virtio_transport *t)
{
	(void)t;
	f.config_signals++;
}

static const struct virtio_transport_ops test_transport_ops = {
	.signal_vq = count_vq_signal,
	.signal_config = count_config_signal,
};

static const struct virtio_dev_ops test_dev_ops = {
	.name = "virtio-test",
	.device_id = 42,
};

static void start_queue(u64 features)
{
	f.dev.driver_features = features;
	virtio_dev__set_status(&f.dev, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
			       VIRTIO_CONFIG_S_FEATURES_OK);
	f.vq.num = QSIZE;
	f.vq.desc_gpa = DESC;
	f.vq.avail_gpa = AVAIL;
	f.vq.used_gpa = USED;
	ck_assert_int_eq(virtq__enable(&f.vq), 0);
	virtio_dev__set_status(&f.dev, atomic_load(&f.dev.status) | VIRTIO_CONFIG_S_DRIVER_OK);
}

static void setup_features(u64 features)
{
	memset(&f, 0, sizeof(f));
	/* It quiets the log: hostile rings are expected here, their reports would be noise. */
	vdrv__setup(&f.v, RAM_SIZE);
	f.v.qsize = QSIZE;
	f.transport.ops = &test_transport_ops;
	virtio_dev__init(&f.dev, &f.v.kvm, &test_dev_ops, &f.vq, 1);
	f.dev.transport = &f.transport;
	start_queue(features);
}

static void setup(void)
{
	setup_features(ALL_FEATURES);
}

static void teardown(void)
{
	virtio_dev__destroy(&f.dev);
	vdrv__teardown(&f.v);
}

static int pop(struct virtq_chain *c)
{
	return virtq__pop(&f.vq, c);
}

static bool needs_reset(void)
{
	return atomic_load(&f.dev.status) & VIRTIO_CONFIG_S_NEEDS_RESET;
}

/* The ring is malformed: no chain, the device needs a reset, the driver heard of it once. */
static void assert_broken(void)
{
	static struct virtq_chain c;

	ck_assert_int_eq(pop(&c), -EIO);
	ck_assert(needs_reset());
	ck_assert_int_eq(f.config_signals, 1);
	ck_assert_int_eq(pop(&c), -EIO);	/* and it stays so */
	ck_assert_int_eq(f.config_signals, 1);
}

/* Every buffer of the chain lies in guest RAM. */
static void assert_in_ram(const struct virtq_chain *c)
{
	for (unsigned int i = 0; i < c->nr_out + c->nr_in; i++) {
		const u8 *p = c->iov[i].iov_base;

		ck_assert(p >= f.v.kvm.ram);
		ck_assert(c->iov[i].iov_len <= RAM_SIZE);
		ck_assert(p + c->iov[i].iov_len <= f.v.kvm.ram + RAM_SIZE);
	}
}

/* --- good rings --- */

START_TEST(empty_ring_has_nothing)
{
	static struct virtq_chain c;

	ck_assert_int_eq(pop(&c), 0);
	ck_assert(!needs_reset());
}
END_TEST

START_TEST(chain_splits_readable_and_writable)
{
	static struct virtq_chain c;

	vdrv__desc(&f.v, 0, 0, BUF, 16, F_NEXT, 3);
	vdrv__desc(&f.v, 0, 3, BUF + 0x100, 8, F_NEXT, 5);
	vdrv__desc(&f.v, 0, 5, BUF + 0x200, 32, F_WRITE, 0);
	vdrv__offer(&f.v, 0, 0);
	ck_assert_int_eq(pop(&c), 1);
	ck_assert_uint_eq(c.head, 0);
	ck_assert_uint_eq(c.nr_out, 2);
	ck_assert_uint_eq(c.nr_in, 1);
	ck_assert_uint_eq(c.out_len, 24);
	ck_assert_uint_eq(c.in_len, 32);
	ck_assert_ptr_eq(c.iov[0].iov_base, vdrv__host(&f.v, BUF));
	ck_assert_ptr_eq(c.iov[1].iov_base, vdrv__host(&f.v, BUF + 0x100));
	ck_assert_ptr_eq(c.iov[2].iov_base, vdrv__host(&f.v, BUF + 0x200));
	ck_assert_uint_eq(c.iov[2].iov_len, 32);
	ck_assert_int_eq(pop(&c), 0);

	virtq__push(&f.vq, c.head, 7);
	ck_assert_uint_eq(vdrv__used(&f.v, 0)->idx, 1);
	ck_assert_uint_eq(vdrv__used(&f.v, 0)->ring[0].id, 0);
	ck_assert_uint_eq(vdrv__used(&f.v, 0)->ring[0].len, 7);
}
END_TEST

START_TEST(peek_leaves_the_chain)
{
	static struct virtq_chain c;

	vdrv__desc(&f.v, 0, 2, BUF, 64, F_WRITE, 0);
	vdrv__offer(&f.v, 0, 2);
	ck_assert_int_eq(virtq__peek(&f.vq, &c), 1);
	ck_assert_uint_eq(c.in_len, 64);
	ck_assert_int_eq(virtq__peek(&f.vq, &c), 1);
	ck_assert_int_eq(pop(&c), 1);
	ck_assert_uint_eq(c.head, 2);
	ck_assert_int_eq(virtq__peek(&f.vq, &c), 0);
}
END_TEST

START_TEST(zero_length_descriptors_are_skipped)
{
	static struct virtq_chain c;

	/* Nothing to read or write, so even a wild address is harmless. */
	vdrv__desc(&f.v, 0, 0, 0xdeadbeef00000000ULL, 0, F_NEXT, 1);
	vdrv__desc(&f.v, 0, 1, BUF, 0, F_WRITE, 0);
	vdrv__offer(&f.v, 0, 0);
	ck_assert_int_eq(pop(&c), 1);
	ck_assert_uint_eq(c.nr_out + c.nr_in, 0);
	ck_assert_uint_eq(c.out_len + c.in_len, 0);
	virtq__push(&f.vq, c.head, 0);
	ck_assert_uint_eq(vdrv__used(&f.v, 0)->idx, 1);
	ck_assert(!needs_reset());
}
END_TEST

START_TEST(buffer_at_the_end_of_ram)
{
	static struct virtq_chain c;

	vdrv__desc(&f.v, 0, 0, G(RAM_SIZE - 16), 16, 0, 0);
	vdrv__offer(&f.v, 0, 0);
	ck_assert_int_eq(pop(&c), 1);
	ck_assert_ptr_eq(c.iov[0].iov_base, f.v.kvm.ram + RAM_SIZE - 16);
}
END_TEST

START_TEST(indices_wrap_around_65536)
{
	static struct virtq_chain c;

	/* A long-running guest: the free-running indices wrap, the ring slots keep turning. */
	f.v.avail_idx[0] = f.vq.last_avail_idx = f.vq.used_idx = f.vq.signalled_used = 65533;
	vdrv__avail(&f.v, 0)->idx = vdrv__used(&f.v, 0)->idx = 65533;
	for (unsigned int i = 0; i < 6; i++) {
		vdrv__desc(&f.v, 0, i, BUF + i * 0x100, 4, 0, 0);
		vdrv__offer(&f.v, 0, (u16)i);
	}
	for (unsigned int i = 0; i < 6; i++) {
		ck_assert_int_eq(pop(&c), 1);
		ck_assert_uint_eq(c.head, i);
		virtq__push(&f.vq, c.head, i);
	}
	ck_assert_int_eq(pop(&c), 0);
	ck_assert_uint_eq(vdrv__used(&f.v, 0)->idx, 3);
	ck_assert_uint_eq(vdrv__used(&f.v, 0)->ring[(65533 + 5) % QSIZE].id, 5);
	ck_assert(!needs_reset());
}
END_TEST

START_TEST(push_n_returns_chains_together)
{
	struct vring_used_elem e[QSIZE + 1];
	static struct virtq_chain c;

	f.v.avail_idx[0] = f.vq.last_avail_idx = f.vq.used_idx = f.vq.signalled_used = 65534;
	vdrv__avail(&f.v, 0)->idx = vdrv__used(&f.v, 0)->idx = 65534;
	for (unsigned int i = 0; i < 3; i++) {
		vdrv__desc(&f.v, 0, i, BUF + i * 0x100, 4, F_WRITE, 0);
		vdrv__offer(&f.v, 0, (u16)i);
		ck_assert_int_eq(pop(&c), 1);
		e[i] = (struct vring_used_elem){ .id = c.head, .len = 10 + i };
	}
	virtq__push_n(&f.vq, e, 3);
	ck_assert_uint_eq(vdrv__used(&f.v, 0)->idx, 1);		/* 65534 + 3, wrapped */
	for (unsigned int i = 0; i < 3; i++) {
		ck_assert_uint_eq(vdrv__used(&f.v, 0)->ring[(65534 + i) % QSIZE].id, i);
		ck_assert_uint_eq(vdrv__used(&f.v, 0)->ring[(65534 + i) % QSIZE].len, 10 + i);
	}
	ck_assert(virtq__should_signal(&f.vq));
	virtq__push_n(&f.vq, e, QSIZE + 1);		/* more than the ring holds: ignored */
	ck_assert_uint_eq(vdrv__used(&f.v, 0)->idx, 1);
	ck_assert(!needs_reset());
}
END_TEST

START_TEST(avail_index_a_whole_ring_ahead)
{
	static struct virtq_chain c;

	for (unsigned int i = 0; i < QSIZE; i++) {
		vdrv__desc(&f.v, 0, i, BUF, 4, 0, 0);
		vdrv__offer(&f.v, 0, (u16)i);
	}
	for (unsigned int i = 0; i < QSIZE; i++)
		ck_assert_int_eq(pop(&c), 1);
	ck_assert_int_eq(pop(&c), 0);
}
END_TEST

START_TEST(chain_as_long_as_the_queue)
{
	static struct virtq_chain c;

	for (unsigned int i = 0; i < QSIZE; i++)
		vdrv__desc(&f.v, 0, i, BUF + i, 1, i + 1 < QSIZE ? F_NEXT : 0, (u16)(i + 1));
	vdrv__offer(&f.v, 0, 0);
	ck_assert_int_eq(pop(&c), 1);
	ck_assert_uint_eq(c.nr_out, QSIZE);
}
END_TEST

START_TEST(chain_copies)
{
	static struct virtq_chain c;
	u8 out[8] = { 0 };

	memcpy(vdrv__host(&f.v, BUF), "abc", 3);
	memcpy(vdrv__host(&f.v, BUF + 0x100), "defg", 4);
	vdrv__desc(&f.v, 0, 0, BUF, 3, F_NEXT, 1);
	vdrv__desc(&f.v, 0, 1, BUF + 0x100, 4, F_NEXT, 2);
	vdrv__desc(&f.v, 0, 2, BUF + 0x200, 2, F_WRITE | F_NEXT, 3);
	vdrv__desc(&f.v, 0, 3, BUF + 0x300, 5, F_WRITE, 0);
	vdrv__offer(&f.v, 0, 0);
	ck_assert_int_eq(pop(&c), 1);
	ck_assert_uint_eq(virtq_chain__from_guest(&c, 2, out, sizeof(out)), 5);
	ck_assert_mem_eq(out, "cdefg", 5);
	ck_assert_uint_eq(virtq_chain__to_guest(&c, 1, "123456789", 9), 6);
	ck_assert_mem_eq(vdrv__host(&f.v, BUF + 0x200), "\0" "1", 2);
	ck_assert_mem_eq(vdrv__host(&f.v, BUF + 0x300), "23456", 5);
	ck_assert_uint_eq(virtq_chain__to_guest(&c, 7, "x", 1), 0);
}
END_TEST

/* --- hostile rings --- */

START_TEST(buffer_outside_ram)
{
	static const struct { u64 addr; u32 len; } bad[] = {
		{ LKVM_RAM_BASE - 16, 16 },			/* below RAM */
		{ LKVM_RAM_BASE - 8, 16 },			/* straddles its start */
		{ G(RAM_SIZE), 1 },				/* just past its end */
		{ G(RAM_SIZE - 8), 16 },			/* straddles its end */
		{ 0, 0x1000 },					/* MMIO space */
		{ 0xfffffffffffff000ULL, 0x2000 },		/* addr + len wraps to 0x1000 */
		{ G(0x1000) | (1ULL << 63), 0x10 },		/* high bit set */
		{ G(0x100), 0xffffffff },			/* longer than RAM */
	};

	vdrv__desc(&f.v, 0, 0, bad[_i].addr, bad[_i].len, _i % 2 ? F_WRITE : 0, 0);
	vdrv__offer(&f.v, 0, 0);
	assert_broken();
}
END_TEST

START_TEST(bad_buffer_later_in_the_chain)
{
	vdrv__desc(&f.v, 0, 0, BUF, 16, F_NEXT, 1);
	vdrv__desc(&f.v, 0, 1, 0xffffffffffffffffULL, 2, F_WRITE, 0);
	vdrv__offer(&f.v, 0, 0);
	assert_broken();
}
END_TEST

START_TEST(descriptor_loop)
{
	vdrv__desc(&f.v, 0, 0, BUF, 4, F_NEXT, 1);
	vdrv__desc(&f.v, 0, 1, BUF, 4, F_NEXT, 2);
	vdrv__desc(&f.v, 0, 2, BUF, 4, F_NEXT, 0);
	vdrv__offer(&f.v, 0, 0);
	assert_broken();
}
END_TEST

START_TEST(descriptor_points_to_itself)
{
	vdrv__desc(&f.v, 0, 3, BUF, 4, F_NEXT | F_WRITE, 3);
	vdrv__offer(&f.v, 0, 3);
	assert_broken();
}
END_TEST

START_TEST(zero_length_loop)
{
	/* Nothing is mapped, yet the walk must still end. */
	vdrv__desc(&f.v, 0, 0, 0, 0, F_NEXT, 1);
	vdrv__desc(&f.v, 0, 1, 0, 0, F_NEXT, 0);
	vdrv__offer(&f.v, 0, 0);
	assert_broken();
}
END_TEST

START_TEST(head_index_out_of_range)
{
	vdrv__offer(&f.v, 0, QSIZE);
	assert_broken();
}
END_TEST

START_TEST(huge_head_index)
{
	vdrv__offer(&f.v, 0, 0xffff);
	assert_broken();
}
END_TEST

START_TEST(next_index_out_of_range)
{
	vdrv__desc(&f.v, 0, 0, BUF, 4, F_NEXT, QSIZE);
	vdrv__offer(&f.v, 0, 0);
	assert_broken();
}
END_TEST

START_TEST(avail_index_jumps_past_the_ring)
{
	vdrv__desc(&f.v, 0, 0, BUF, 4, 0, 0);
	for (unsigned int i = 0; i < QSIZE; i++)
		vdrv__avail(&f.v, 0)->ring[i] = 0;
	vdrv__avail(&f.v, 0)->idx = QSIZE + 1;
	assert_broken();
}
END_TEST

START_TEST(avail_index_goes_backwards)
{
	static struct virtq_chain c;

	vdrv__desc(&f.v, 0, 0, BUF, 4, 0, 0);
	vdrv__offer(&f.v, 0, 0);
	ck_assert_int_eq(pop(&c), 1);
	vdrv__avail(&f.v, 0)->idx = 0;		/* 0xffff entries ahead, as far as we can tell */
	assert_broken();
}
END_TEST

START_TEST(readable_after_writable)
{
	vdrv__desc(&f.v, 0, 0, BUF, 4, F_WRITE | F_NEXT, 1);
	vdrv__desc(&f.v, 0, 1, BUF + 4, 4, 0, 0);
	vdrv__offer(&f.v, 0, 0);
	assert_broken();
}
END_TEST

/*
 * A reply written over the avail ring would make chains available by itself, and the device
 * would never run dry: a device-writable buffer must not touch it (used_event included).
 */
START_TEST(writable_buffer_over_the_avail_ring)
{
	static const struct { u64 addr; u32 len; } bad[] = {
		{ AVAIL, 4 },				/* flags and idx */
		{ AVAIL - 4, 8 },			/* from below into flags */
		{ AVAIL + 20, 2 },			/* used_event, its last 2 bytes */
	};

	vdrv__desc(&f.v, 0, 0, BUF, 16, F_NEXT, 1);
	vdrv__desc(&f.v, 0, 1, bad[_i].addr, bad[_i].len, F_WRITE, 0);
	vdrv__offer(&f.v, 0, 0);
	assert_broken();
}
END_TEST

/* The device only reads what it takes from a readable buffer; next to the ring is fine. */
START_TEST(buffers_beside_the_avail_ring)
{
	static struct virtq_chain c;

	vdrv__desc(&f.v, 0, 0, AVAIL, 22, F_NEXT, 1);
	vdrv__desc(&f.v, 0, 1, AVAIL + 22, 8, F_WRITE | F_NEXT, 2);
	vdrv__desc(&f.v, 0, 2, AVAIL - 8, 8, F_WRITE, 0);
	vdrv__offer(&f.v, 0, 0);
	ck_assert_int_eq(pop(&c), 1);
	ck_assert_uint_eq(c.nr_out, 1);
	ck_assert_uint_eq(c.nr_in, 2);
	ck_assert(!needs_reset());
}
END_TEST

START_TEST(broken_queue_is_reported_once_until_reset)
{
	static struct virtq_chain c;

	vdrv__offer(&f.v, 0, QSIZE + 1);
	assert_broken();
	virtq__push(&f.vq, 0, 0);	/* ignored: the queue is stopped */
	ck_assert_uint_eq(vdrv__used(&f.v, 0)->idx, 0);

	virtio_dev__set_status(&f.dev, 0);
	ck_assert_uint_eq(atomic_load(&f.dev.status), 0);
	ck_assert(!atomic_load(&f.vq.ready));
	f.v.avail_idx[0] = 0;
	memset(vdrv__host(&f.v, AVAIL), 0, 0x100);
	start_queue(ALL_FEATURES);
	vdrv__desc(&f.v, 0, 0, BUF, 4, 0, 0);
	vdrv__offer(&f.v, 0, 0);
	ck_assert_int_eq(pop(&c), 1);
	ck_assert(!needs_reset());
}
END_TEST

/* --- indirect descriptors --- */

START_TEST(indirect_table)
{
	static struct virtq_chain c;

	vdrv__tdesc(&f.v, ITABLE, 0, BUF, 10, F_NEXT, 2);
	vdrv__tdesc(&f.v, ITABLE, 2, BUF + 0x100, 20, F_WRITE | F_NEXT, 1);
	vdrv__tdesc(&f.v, ITABLE, 1, BUF + 0x200, 30, F_WRITE, 0);
	vdrv__desc(&f.v, 0, 4, ITABLE, 3 * 16, F_INDIRECT, 0);
	vdrv__offer(&f.v, 0, 4);
	ck_assert_int_eq(pop(&c), 1);
	ck_assert_uint_eq(c.head, 4);
	ck_assert_uint_eq(c.nr_out, 1);
	ck_assert_uint_eq(c.nr_in, 2);
	ck_assert_uint_eq(c.in_len, 50);
	ck_assert_ptr_eq(c.iov[2].iov_base, vdrv__host(&f.v, BUF + 0x200));
}
END_TEST

START_TEST(direct_then_indirect)
{
	static struct virtq_chain c;

	/* Allowed by the spec: plain descriptors, the last one pointing at a table. */
	vdrv__desc(&f.v, 0, 0, BUF, 16, F_NEXT, 1);
	vdrv__desc(&f.v, 0, 1, ITABLE, 16, F_INDIRECT, 0);
	vdrv__tdesc(&f.v, ITABLE, 0, BUF + 0x100, 8, F_WRITE, 0);
	vdrv__offer(&f.v, 0, 0);
	ck_assert_int_eq(pop(&c), 1);
	ck_assert_uint_eq(c.nr_out, 1);
	ck_assert_uint_eq(c.nr_in, 1);
}
END_TEST

START_TEST(unaligned_indirect_table)
{
	static struct virtq_chain c;

	vdrv__tdesc(&f.v, ITABLE + 4, 0, BUF, 8, F_NEXT, 1);
	vdrv__tdesc(&f.v, ITABLE + 4, 1, BUF + 8, 8, F_WRITE, 0);
	vdrv__desc(&f.v, 0, 0, ITABLE + 4, 32, F_INDIRECT, 0);
	vdrv__offer(&f.v, 0, 0);
	ck_assert_int_eq(pop(&c), 1);
	ck_assert_uint_eq(c.nr_out + c.nr_in, 2);
}
END_TEST

START_TEST(indirect_table_as_large_as_the_queue)
{
	static struct virtq_chain c;

	for (unsigned int i = 0; i < QSIZE; i++)
		vdrv__tdesc(&f.v, ITABLE, i, BUF + i, 1, i + 1 < QSIZE ? F_NEXT : 0, (u16)(i + 1));
	vdrv__desc(&f.v, 0, 0, ITABLE, QSIZE * 16, F_INDIRECT, 0);
	vdrv__offer(&f.v, 0, 0);
	ck_assert_int_eq(pop(&c), 1);
	ck_assert_uint_eq(c.nr_out, QSIZE);
}
END_TEST

START_TEST(indirect_without_the_feature)
{
	teardown();
	setup_features(NO_RING_FEATURES);
	vdrv__tdesc(&f.v, ITABLE, 0, BUF, 8, 0, 0);
	vdrv__desc(&f.v, 0, 0, ITABLE, 16, F_INDIRECT, 0);
	vdrv__offer(&f.v, 0, 0);
	assert_broken();
}
END_TEST

START_TEST(indirect_table_outside_ram)
{
	vdrv__desc(&f.v, 0, 0, G(RAM_SIZE - 16), 32, F_INDIRECT, 0);
	vdrv__offer(&f.v, 0, 0);
	assert_broken();
}
END_TEST

START_TEST(indirect_table_wraps)
{
	vdrv__desc(&f.v, 0, 0, 0xfffffffffffffff0ULL, 32, F_INDIRECT, 0);
	vdrv__offer(&f.v, 0, 0);
	assert_broken();
}
END_TEST

START_TEST(indirect_table_bad_length)
{
	static const u32 lens[] = { 0, 8, 17, 16 * QSIZE + 16, 0xfffffff0 };

	vdrv__tdesc(&f.v, ITABLE, 0, BUF, 8, 0, 0);
	vdrv__desc(&f.v, 0, 0, ITABLE, lens[_i], F_INDIRECT, 0);
	vdrv__offer(&f.v, 0, 0);
	assert_broken();
}
END_TEST

START_TEST(nested_indirect)
{
	vdrv__tdesc(&f.v, ITABLE, 0, ITABLE + 0x100, 16, F_INDIRECT, 0);
	vdrv__tdesc(&f.v, ITABLE + 0x100, 0, BUF, 8, 0, 0);
	vdrv__desc(&f.v, 0, 0, ITABLE, 16, F_INDIRECT, 0);
	vdrv__offer(&f.v, 0, 0);
	assert_broken();
}
END_TEST

START_TEST(indirect_and_next)
{
	vdrv__tdesc(&f.v, ITABLE, 0, BUF, 8, 0, 0);
	vdrv__desc(&f.v, 0, 0, ITABLE, 16, F_INDIRECT | F_NEXT, 1);
	vdrv__desc(&f.v, 0, 1, BUF, 8, 0, 0);
	vdrv__offer(&f.v, 0, 0);
	assert_broken();
}
END_TEST

START_TEST(indirect_loop)
{
	vdrv__tdesc(&f.v, ITABLE, 0, BUF, 8, F_NEXT, 1);
	vdrv__tdesc(&f.v, ITABLE, 1, BUF, 8, F_NEXT, 0);
	vdrv__desc(&f.v, 0, 0, ITABLE, 32, F_INDIRECT, 0);
	vdrv__offer(&f.v, 0, 0);
	assert_broken();
}
END_TEST

START_TEST(indirect_next_past_its_table)
{
	/* Index 2 exists in the queue's table, not in this 2-entry one. */
	vdrv__tdesc(&f.v, ITABLE, 0, BUF, 8, F_NEXT, 2);
	vdrv__tdesc(&f.v, ITABLE, 2, BUF, 8, 0, 0);
	vdrv__desc(&f.v, 0, 0, ITABLE, 32, F_INDIRECT, 0);
	vdrv__offer(&f.v, 0, 0);
	assert_broken();
}
END_TEST

START_TEST(direct_plus_indirect_longer_than_the_queue)
{
	for (unsigned int i = 0; i < QSIZE; i++)
		vdrv__tdesc(&f.v, ITABLE, i, BUF + i, 1, i + 1 < QSIZE ? F_NEXT : 0, (u16)(i + 1));
	vdrv__desc(&f.v, 0, 0, BUF, 4, F_NEXT, 1);
	vdrv__desc(&f.v, 0, 1, ITABLE, QSIZE * 16, F_INDIRECT, 0);
	vdrv__offer(&f.v, 0, 0);
	assert_broken();
}
END_TEST

START_TEST(indirect_readable_after_writable)
{
	vdrv__tdesc(&f.v, ITABLE, 0, BUF, 8, F_WRITE | F_NEXT, 1);
	vdrv__tdesc(&f.v, ITABLE, 1, BUF, 8, 0, 0);
	vdrv__desc(&f.v, 0, 0, ITABLE, 32, F_INDIRECT, 0);
	vdrv__offer(&f.v, 0, 0);
	assert_broken();
}
END_TEST

/* --- queue setup --- */

static void enable_fails(void)
{
	ck_assert_int_eq(virtq__enable(&f.vq), -EIO);
	ck_assert(!atomic_load(&f.vq.ready));
	ck_assert(needs_reset());
}

START_TEST(queue_setup_checks)
{
	static const struct { u32 num; u64 desc, avail, used; } bad[] = {
		{ 0, DESC, AVAIL, USED },
		{ 6, DESC, AVAIL, USED },			/* not a power of 2 */
		{ 512, DESC, AVAIL, USED },			/* more than QueueNumMax */
		{ 0x10008, DESC, AVAIL, USED },			/* truncated, would be 8 */
		{ 8, DESC + 8, AVAIL, USED },			/* misaligned */
		{ 8, DESC, AVAIL + 1, USED },
		{ 8, DESC, AVAIL, USED + 2 },
		{ 8, G(RAM_SIZE - 64), AVAIL, USED },		/* 128 bytes: past the end */
		{ 8, DESC, G(RAM_SIZE - 20), USED },		/* 22 bytes with used_event */
		{ 8, DESC, AVAIL, G(RAM_SIZE - 68) },		/* 70 bytes with avail_event */
		{ 8, 0, AVAIL, USED },
		{ 8, DESC, AVAIL, 0xfffffffffffffff0ULL },
		{ 8, DESC, AVAIL, AVAIL },			/* used ring on the avail ring */
		{ 8, DESC, AVAIL, AVAIL + 20 },			/* on its used_event */
		{ 8, DESC, AVAIL, AVAIL - 68 },			/* avail_event on its flags */
	};

	virtq__disable(&f.vq);
	f.vq.num = bad[_i].num;
	f.vq.desc_gpa = bad[_i].desc;
	f.vq.avail_gpa = bad[_i].avail;
	f.vq.used_gpa = bad[_i].used;
	enable_fails();
	ck_assert_int_eq(f.config_signals, 1);
}
END_TEST

START_TEST(rings_at_the_end_of_ram)
{
	virtq__disable(&f.vq);
	f.vq.num = QSIZE;
	f.vq.desc_gpa = G(RAM_SIZE - 128);
	f.vq.avail_gpa = G(RAM_SIZE - 22);
	f.vq.used_gpa = G(RAM_SIZE - 200);
	ck_assert_int_eq(virtq__enable(&f.vq), 0);
	ck_assert(!needs_reset());
}
END_TEST

START_TEST(nothing_before_driver_ok)
{
	static struct virtq_chain c;

	virtio_dev__set_status(&f.dev, 0);
	f.dev.driver_features = ALL_FEATURES;
	virtio_dev__set_status(&f.dev, VIRTIO_CONFIG_S_FEATURES_OK);
	f.vq.num = QSIZE;
	f.vq.desc_gpa = DESC;
	f.vq.avail_gpa = AVAIL;
	f.vq.used_gpa = USED;
	ck_assert_int_eq(virtq__enable(&f.vq), 0);
	vdrv__desc(&f.v, 0, 0, BUF, 4, 0, 0);
	vdrv__offer(&f.v, 0, 0);
	ck_assert_int_eq(pop(&c), 0);
	virtio_dev__set_status(&f.dev, VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK);
	ck_assert_int_eq(pop(&c), 1);
}
END_TEST

START_TEST(feature_negotiation)
{
	virtio_dev__set_status(&f.dev, 0);
	/* Legacy drivers (no VERSION_1) and features we never offered are refused. */
	f.dev.driver_features = 1ULL << VIRTIO_RING_F_EVENT_IDX;
	virtio_dev__set_status(&f.dev, VIRTIO_CONFIG_S_FEATURES_OK);
	ck_assert_uint_eq(atomic_load(&f.dev.status) & VIRTIO_CONFIG_S_FEATURES_OK, 0);
	virtio_dev__set_status(&f.dev, 0);
	f.dev.driver_features = (1ULL << VIRTIO_F_VERSION_1) | (1ULL << 40);
	virtio_dev__set_status(&f.dev, VIRTIO_CONFIG_S_FEATURES_OK);
	ck_assert_uint_eq(atomic_load(&f.dev.status) & VIRTIO_CONFIG_S_FEATURES_OK, 0);
	virtio_dev__set_status(&f.dev, 0);
	f.dev.driver_features = 1ULL << VIRTIO_F_VERSION_1;
	virtio_dev__set_status(&f.dev, VIRTIO_CONFIG_S_FEATURES_OK);
	ck_assert_uint_ne(atomic_load(&f.dev.status) & VIRTIO_CONFIG_S_FEATURES_OK, 0);
	ck_assert_uint_eq(f.dev.features, 1ULL << VIRTIO_F_VERSION_1);
}
END_TEST

START_TEST(driver_cannot_clear_needs_reset)
{
	vdrv__offer(&f.v, 0, QSIZE);
	assert_broken();
	virtio_dev__set_status(&f.dev, VIRTIO_CONFIG_S_DRIVER_OK | VIRTIO_CONFIG_S_FEATURES_OK);
	ck_assert(needs_reset());
}
END_TEST

/* --- notification suppression --- */

static void push_one(void)
{
	static struct virtq_chain c;

	vdrv__desc(&f.v, 0, 0, BUF, 4, F_WRITE, 0);
	vdrv__offer(&f.v, 0, 0);
	ck_assert_int_eq(pop(&c), 1);
	virtq__push(&f.vq, c.head, 4);
}

static __virtio16 *used_event(void)
{
	return &vdrv__avail(&f.v, 0)->ring[QSIZE];
}

static __virtio16 *avail_event(void)
{
	return (__virtio16 *)(void *)&vdrv__used(&f.v, 0)->ring[QSIZE];
}

START_TEST(event_idx_signals)
{
	ck_assert(!virtq__should_signal(&f.vq));	/* nothing pushed yet */
	push_one();					/* used 0 -> 1 crosses used_event 0 */
	ck_assert(virtq__should_signal(&f.vq));
	push_one();					/* 1 -> 2: the driver asked for 0 only */
	ck_assert(!virtq__should_signal(&f.vq));
	*used_event() = 2;
	push_one();					/* 2 -> 3 crosses 2 */
	push_one();
	ck_assert(virtq__should_signal(&f.vq));
	*used_event() = 10;
	push_one();
	ck_assert(!virtq__should_signal(&f.vq));
	virtq__signal(&f.vq);
	ck_assert_int_eq(f.vq_signals, 0);
	*used_event() = 5;
	push_one();
	virtq__signal(&f.vq);
	ck_assert_int_eq(f.vq_signals, 1);
}
END_TEST

START_TEST(event_idx_rearms_on_empty)
{
	static struct virtq_chain c;

	vdrv__desc(&f.v, 0, 0, BUF, 4, 0, 0);
	vdrv__offer(&f.v, 0, 0);
	vdrv__offer(&f.v, 0, 0);
	ck_assert_int_eq(pop(&c), 1);
	ck_assert_int_eq(pop(&c), 1);
	ck_assert_uint_eq(*avail_event(), 0);		/* busy: the driver need not notify */
	ck_assert_int_eq(pop(&c), 0);
	ck_assert_uint_eq(*avail_event(), 2);		/* idle: notify for the next one */
}
END_TEST

START_TEST(no_interrupt_flag_without_event_idx)
{
	teardown();
	setup_features(NO_RING_FEATURES);
	push_one();
	ck_assert(virtq__should_signal(&f.vq));
	ck_assert(!virtq__should_signal(&f.vq));	/* nothing new */
	vdrv__avail(&f.v, 0)->flags = VRING_AVAIL_F_NO_INTERRUPT;
	push_one();
	ck_assert(!virtq__should_signal(&f.vq));
	ck_assert_uint_eq(*avail_event(), 0);		/* not ours to write */
}
END_TEST

/* --- random garbage --- */

static u64 rng_state = 0x9e3779b97f4a7c15ULL;

static u64 rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* Mostly plausible values, so that the walk gets somewhere before it finds the flaw. */
static u64 rnd_addr(void)
{
	switch (rnd() % 4) {
	case 0:  return rnd();
	case 1:  return G(rnd() % RAM_SIZE);
	default: return G(RAM_SIZE - rnd() % 64);
	}
}

static void random_table(u64 table, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		u16 flags = (u16)(rnd() & (F_NEXT | F_WRITE | (rnd() % 8 ? 0 : F_INDIRECT)));
		u32 len = rnd() % 3 ? (u32)(rnd() % 256) : (u32)rnd();

		if (flags & F_INDIRECT)
			vdrv__tdesc(&f.v, table, i, ITABLE + rnd() % 2 * 8, (u32)(rnd() % 12) * 16,
				    flags, (u16)(rnd() % (n + 2)));
		else
			vdrv__tdesc(&f.v, table, i, rnd_addr(), len, flags, (u16)(rnd() % (n + 2)));
	}
}

START_TEST(random_rings)
{
	static struct virtq_chain c;

	for (int round = 0; round < 3000; round++) {
		int ret;

		random_table(DESC, QSIZE);
		random_table(ITABLE, 12);
		vdrv__avail(&f.v, 0)->ring[f.v.avail_idx[0] % QSIZE] = (u16)(rnd() % (QSIZE + 2));
		f.v.avail_idx[0] = (u16)(f.v.avail_idx[0] + (rnd() % 16 ? 1 : rnd() % 20));
		vdrv__avail(&f.v, 0)->idx = f.v.avail_idx[0];
		ret = pop(&c);
		ck_assert_int_ge(ret, -EIO);
		ck_assert_int_le(ret, 1);
		if (ret == 1) {
			assert_in_ram(&c);
			ck_assert_uint_le(c.nr_out + c.nr_in, QSIZE);
			virtq__push(&f.vq, c.head, 0);
		}
		if (ret < 0) {
			/* As a driver would: reset, then start again from clean rings. */
			ck_assert(needs_reset());
			virtio_dev__set_status(&f.dev, 0);
			memset(vdrv__host(&f.v, AVAIL), 0, USED + 0x1000 - AVAIL);
			f.v.avail_idx[0] = 0;
			start_queue(ALL_FEATURES);
		}
	}
}
END_TEST

Suite *virtqueue_suite(void)
{
	Suite *s = suite_create("virtqueue");
	TCase *good = tcase_create("good rings");
	TCase *bad = tcase_create("hostile rings");
	TCase *ind = tcase_create("indirect");
	TCase *setup_tc = tcase_create("setup");
	TCase *event = tcase_create("notifications");

	tcase_add_checked_fixture(good, setup, teardown);
	tcase_add_test(good, empty_ring_has_nothing);
	tcase_add_test(good, chain_splits_readable_and_writable);
	tcase_add_test(good, peek_leaves_the_chain);
	tcase_add_test(good, zero_length_descriptors_are_skipped);
	tcase_add_test(good, buffer_at_the_end_of_ram);
	tcase_add_test(good, indices_wrap_around_65536);
	tcase_add_test(good, push_n_returns_chains_together);
	tcase_add_test(good, avail_index_a_whole_ring_ahead);
	tcase_add_test(good, chain_as_long_as_the_queue);
	tcase_add_test(good, chain_copies);
	suite_add_tcase(s, good);

	tcase_add_checked_fixture(bad, setup, teardown);
	tcase_add_loop_test(bad, buffer_outside_ram, 0, 8);
	tcase_add_test(bad, bad_buffer_later_in_the_chain);
	tcase_add_test(bad, descriptor_loop);
	tcase_add_test(bad, descriptor_points_to_itself);
	tcase_add_test(bad, zero_length_loop);
	tcase_add_test(bad, head_index_out_of_range);
	tcase_add_test(bad, huge_head_index);
	tcase_add_test(bad, next_index_out_of_range);
	tcase_add_test(bad, avail_index_jumps_past_the_ring);
	tcase_add_test(bad, avail_index_goes_backwards);
	tcase_add_test(bad, readable_after_writable);
	tcase_add_loop_test(bad, writable_buffer_over_the_avail_ring, 0, 3);
	tcase_add_test(bad, buffers_beside_the_avail_ring);
	tcase_add_test(bad, broken_queue_is_reported_once_until_reset);
	tcase_add_test(bad, random_rings);
	suite_add_tcase(s, bad);

	tcase_add_checked_fixture(ind, setup, teardown);
	tcase_add_test(ind, indirect_table);
	tcase_add_test(ind, direct_then_indirect);
	tcase_add_test(ind, unaligned_indirect_table);
	tcase_add_test(ind, indirect_table_as_large_as_the_queue);
	tcase_add_test(ind, indirect_without_the_feature);
	tcase_add_test(ind, indirect_table_outside_ram);
	tcase_add_test(ind, indirect_table_wraps);
	tcase_add_loop_test(ind, indirect_table_bad_length, 0, 5);
	tcase_add_test(ind, nested_indirect);
	tcase_add_test(ind, indirect_and_next);
	tcase_add_test(ind, indirect_loop);
	tcase_add_test(ind, indirect_next_past_its_table);
	tcase_add_test(ind, direct_plus_indirect_longer_than_the_queue);
	tcase_add_test(ind, indirect_readable_after_writable);
	suite_add_tcase(s, ind);

	tcase_add_checked_fixture(setup_tc, setup, teardown);
	tcase_add_loop_test(setup_tc, queue_setup_checks, 0, 15);
	tcase_add_test(setup_tc, rings_at_the_end_of_ram);
	tcase_add_test(setup_tc, nothing_before_driver_ok);
	tcase_add_test(setup_tc, feature_negotiation);
	tcase_add_test(setup_tc, driver_cannot_clear_needs_reset);
	suite_add_tcase(s, setup_tc);

	tcase_add_checked_fixture(event, setup, teardown);
	tcase_add_test(event, event_idx_signals);
	tcase_add_test(event, event_idx_rearms_on_empty);
	tcase_add_test(event, no_interrupt_flag_without_event_idx);
	suite_add_tcase(s, event);
	return s;
}
