/*
 * virtio-rng through the MMIO bus: requests of several sizes and shapes come back full of
 * random bytes, requests with no room come back empty, and a reset or exit stops it cleanly.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <linux/virtio_ids.h>
#include <linux/virtio_mmio.h>

#include "lkvm/kvm.h"
#include "lkvm/memory-map.h"
#include "lkvm/virtio-rng.h"
#include "lkvm/virtio.h"
#include "suites.h"

#define RAM_SIZE	(1ULL << 20)
#define QSIZE		128
#define BASE		LKVM_VIRTIO_MMIO_BASE
#define G(off)		(LKVM_RAM_BASE + (off))
#define RING		G(0x1000)	/* desc; avail +0x1000; used +0x2000 */
#define BUF		G(0x10000)
#define BUF_MAX		(RAM_SIZE - 0x10000)

#define S_DRIVER_ALL	(VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | \
			 VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK)

static struct {
	struct kvm kvm;
	struct lkvm_config cfg;
	u16 avail_idx;
} t;

static void *host(u64 gpa)
{
	return t.kvm.ram + (gpa - LKVM_RAM_BASE);
}

static u32 rd(u64 off)
{
	u8 d[4];

	ck_assert(mmio__access(&t.kvm.mmio, BASE + off, d, 4, false));
	return get_le32(d);
}

static void wr(u64 off, u32 val)
{
	u8 d[4] = { (u8)val, (u8)(val >> 8), (u8)(val >> 16), (u8)(val >> 24) };

	ck_assert(mmio__access(&t.kvm.mmio, BASE + off, d, 4, true));
}

static void driver_init(void)
{
	wr(VIRTIO_MMIO_STATUS, 0);
	wr(VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(VIRTIO_MMIO_DRIVER_FEATURES, 1);		/* VIRTIO_F_VERSION_1 */
	wr(VIRTIO_MMIO_STATUS, S_DRIVER_ALL & ~VIRTIO_CONFIG_S_DRIVER_OK);
	wr(VIRTIO_MMIO_QUEUE_SEL, 0);
	wr(VIRTIO_MMIO_QUEUE_NUM, QSIZE);
	wr(VIRTIO_MMIO_QUEUE_DESC_LOW, (u32)RING);
	wr(VIRTIO_MMIO_QUEUE_DESC_HIGH, (u32)(RING >> 32));
	wr(VIRTIO_MMIO_QUEUE_AVAIL_LOW, (u32)(RING + 0x1000));
	wr(VIRTIO_MMIO_QUEUE_AVAIL_HIGH, (u32)((RING + 0x1000) >> 32));
	wr(VIRTIO_MMIO_QUEUE_USED_LOW, (u32)(RING + 0x2000));
	wr(VIRTIO_MMIO_QUEUE_USED_HIGH, (u32)((RING + 0x2000) >> 32));
	wr(VIRTIO_MMIO_QUEUE_READY, 1);
	wr(VIRTIO_MMIO_STATUS, S_DRIVER_ALL);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_STATUS), S_DRIVER_ALL);
}

static void desc(unsigned int i, u64 addr, u32 len, u16 flags, u16 next)
{
	struct vring_desc d = { .addr = addr, .len = len, .flags = flags, .next = next };

	memcpy((u8 *)host(RING) + i * sizeof(d), &d, sizeof(d));
}

static struct vring_used *used(void)
{
	return host(RING + 0x2000);
}

/* Makes a chain available, without a notification. */
static void offer(u16 head)
{
	struct vring_avail *avail = host(RING + 0x1000);

	avail->ring[t.avail_idx % QSIZE] = head;
	__atomic_store_n(&avail->idx, ++t.avail_idx, __ATOMIC_RELEASE);
}

static void post(u16 head)
{
	offer(head);
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
}

/* The worker answers asynchronously: waits (up to 5 s) until used->idx reaches idx. */
static void wait_used(u16 idx)
{
	struct timespec pause = { .tv_nsec = 1000000 };

	for (int i = 0; i < 5000; i++) {
		if (__atomic_load_n(&used()->idx, __ATOMIC_ACQUIRE) == idx)
			return;
		nanosleep(&pause, NULL);
	}
	ck_abort_msg("used->idx is %u, expected %u", used()->idx, idx);
}

static unsigned int nonzero(const u8 *p, size_t len)
{
	unsigned int n = 0;

	for (size_t i = 0; i < len; i++)
		n += p[i] != 0;
	return n;
}

static void setup(void)
{
	memset(&t, 0, sizeof(t));
	t.kvm.ram = aligned_alloc(SZ_4K, RAM_SIZE);
	ck_assert_ptr_nonnull(t.kvm.ram);
	memset(t.kvm.ram, 0, RAM_SIZE);
	t.kvm.ram_size = RAM_SIZE;
	t.kvm.vm_fd = -1;		/* interrupts go nowhere: InterruptStatus tells */
	t.cfg.rng = true;
	t.kvm.cfg = &t.cfg;
	log_level = LOG_ERROR;
	ck_assert_int_eq(virtio_rng__init(&t.kvm), 0);
}

static void teardown(void)
{
	virtio_rng__exit(&t.kvm);
	free(t.kvm.ram);
	log_level = LOG_WARNING;
}

START_TEST(identity)
{
	ck_assert_uint_eq(rd(VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_RNG);
	wr(VIRTIO_MMIO_QUEUE_SEL, 0);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_QUEUE_NUM_MAX), VIRTQ_MAX_SIZE);
	wr(VIRTIO_MMIO_QUEUE_SEL, 1);		/* one queue only */
	ck_assert_uint_eq(rd(VIRTIO_MMIO_QUEUE_NUM_MAX), 0);
	wr(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_DEVICE_FEATURES),
			  (1U << VIRTIO_RING_F_INDIRECT_DESC) | (1U << VIRTIO_RING_F_EVENT_IDX));
}
END_TEST

START_TEST(not_there_without_the_option)
{
	teardown();
	memset(&t, 0, sizeof(t));
	t.kvm.cfg = &t.cfg;
	ck_assert_int_eq(virtio_rng__init(&t.kvm), 0);
	ck_assert_ptr_null(t.kvm.virtio_devs);
	ck_assert_ptr_null(t.kvm.mmio.regions);
	setup();	/* for teardown */
}
END_TEST

START_TEST(fills_buffers_of_several_sizes)
{
	static const u32 sizes[] = { 1, 7, 64, 4096, 60000 };
	u64 at = BUF;

	driver_init();
	for (unsigned int i = 0; i < ARRAY_SIZE(sizes); i++) {
		desc(i, at, sizes[i], VRING_DESC_F_WRITE, 0);
		post((u16)i);
		wait_used((u16)(i + 1));
		ck_assert_uint_eq(used()->ring[i].id, i);
		ck_assert_uint_eq(used()->ring[i].len, sizes[i]);
		at += sizes[i];
	}
	/* Random: nearly every byte of the large ones is nonzero, and they differ. */
	ck_assert_uint_gt(nonzero(host(BUF + 72), 4096), 4000);
	ck_assert_uint_gt(nonzero(host(BUF + 72 + 4096), 60000), 59000);
	ck_assert_mem_ne(host(BUF + 72), host(BUF + 72 + 4096), 4096);
	/* Nothing written past the last buffer. */
	ck_assert_uint_eq(nonzero(host(at), 4096), 0);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_VRING);
}
END_TEST

START_TEST(fills_every_buffer_of_a_chain)
{
	driver_init();
	/* Two device-writable buffers with a zero-length one between them, after a readable one. */
	desc(0, BUF, 16, VRING_DESC_F_NEXT, 1);
	desc(1, BUF + 0x100, 32, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 2);
	desc(2, BUF + 0x200, 0, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 3);
	desc(3, BUF + 0x300, 32, VRING_DESC_F_WRITE, 0);
	post(0);
	wait_used(1);
	ck_assert_uint_eq(used()->ring[0].len, 64);
	ck_assert_uint_eq(nonzero(host(BUF), 16), 0);		/* the readable one is untouched */
	ck_assert_uint_gt(nonzero(host(BUF + 0x100), 32), 24);
	ck_assert_uint_gt(nonzero(host(BUF + 0x300), 32), 24);
}
END_TEST

START_TEST(large_request_gets_part)
{
	driver_init();
	desc(0, BUF, (u32)BUF_MAX, VRING_DESC_F_WRITE, 0);
	post(0);
	wait_used(1);
	ck_assert_uint_eq(used()->ring[0].len, 65536);
	ck_assert_uint_eq(nonzero(host(BUF + 65536), 4096), 0);
}
END_TEST

START_TEST(request_without_room_comes_back_empty)
{
	driver_init();
	desc(0, BUF, 64, 0, 0);					/* device-readable only */
	desc(1, BUF + 0x100, 0, VRING_DESC_F_WRITE, 0);		/* no room */
	desc(2, BUF + 0x200, 8, VRING_DESC_F_WRITE, 0);
	post(0);
	post(1);
	post(2);
	wait_used(3);
	ck_assert_uint_eq(used()->ring[0].len, 0);
	ck_assert_uint_eq(used()->ring[1].len, 0);
	ck_assert_uint_eq(used()->ring[2].len, 8);
	ck_assert_uint_eq(nonzero(host(BUF), 64), 0);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET, 0);
}
END_TEST

START_TEST(hostile_request_needs_reset)
{
	driver_init();
	desc(0, G(RAM_SIZE - 16), 64, VRING_DESC_F_WRITE, 0);	/* runs past RAM */
	post(0);
	for (int i = 0; i < 5000 && !(rd(VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET); i++)
		usleep(1000);
	ck_assert_uint_ne(rd(VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET, 0);
	ck_assert_uint_eq(used()->idx, 0);
	/* A reset brings it back. */
	memset(host(RING), 0, 0x3000);
	t.avail_idx = 0;
	driver_init();
	desc(0, BUF, 16, VRING_DESC_F_WRITE, 0);
	post(0);
	wait_used(1);
	ck_assert_uint_eq(used()->ring[0].len, 16);
}
END_TEST

START_TEST(many_requests_on_one_notification)
{
	driver_init();
	for (u16 i = 0; i < 100; i++) {
		desc(i, BUF + i * 16u, 16, VRING_DESC_F_WRITE, 0);
		offer(i);
	}
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);	/* more than the worker serves in one go */
	wait_used(100);
	for (unsigned int i = 0; i < 100; i++)
		ck_assert_uint_eq(used()->ring[i].len, 16);
}
END_TEST

START_TEST(nothing_before_driver_ok)
{
	wr(VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	desc(0, BUF, 16, VRING_DESC_F_WRITE, 0);
	post(0);
	usleep(50000);
	ck_assert_uint_eq(used()->idx, 0);
}
END_TEST

Suite *virtio_rng_suite(void)
{
	Suite *s = suite_create("virtio-rng");
	TCase *tc = tcase_create("rng");

	tcase_set_timeout(tc, 30);	/* the worker answers asynchronously */
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, identity);
	tcase_add_test(tc, not_there_without_the_option);
	tcase_add_test(tc, fills_buffers_of_several_sizes);
	tcase_add_test(tc, fills_every_buffer_of_a_chain);
	tcase_add_test(tc, large_request_gets_part);
	tcase_add_test(tc, request_without_room_comes_back_empty);
	tcase_add_test(tc, hostile_request_needs_reset);
	tcase_add_test(tc, many_requests_on_one_notification);
	tcase_add_test(tc, nothing_before_driver_ok);
	suite_add_tcase(s, tc);
	return s;
}
