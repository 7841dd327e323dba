/*
 * virtio-rng through the MMIO bus: requests of several sizes and shapes come back full of
 * random bytes, requests with no room come back empty, and a reset or exit stops it cleanly.
 */
#include <string.h>
#include <unistd.h>

#include <linux/virtio_ids.h>
#include <linux/virtio_mmio.h>

#include "lkvm/kvm.h"
#include "lkvm/memory-map.h"
#include "lkvm/virtio-rng.h"
#include "lkvm/virtio.h"
#include "suites.h"
#include "vdriver.h"

#define RAM_SIZE	(1ULL << 20)
#define QSIZE		128
#define BUF		G(0x10000)
#define BUF_MAX		(RAM_SIZE - 0x10000)

static struct {
	struct vdrv v;
} t;

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
	vdrv__setup(&t.v, RAM_SIZE);
	t.v.qsize = QSIZE;
	t.v.cfg.rng = true;
	ck_assert_int_eq(virtio_rng__init(&t.v.kvm), 0);
}

static void teardown(void)
{
	virtio_rng__exit(&t.v.kvm);
	vdrv__teardown(&t.v);
}

START_TEST(identity)
{
	ck_assert_uint_eq(vdrv__rd(&t.v, VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_RNG);
	vdrv__wr(&t.v, VIRTIO_MMIO_QUEUE_SEL, 0);
	ck_assert_uint_eq(vdrv__rd(&t.v, VIRTIO_MMIO_QUEUE_NUM_MAX), VIRTQ_MAX_SIZE);
	vdrv__wr(&t.v, VIRTIO_MMIO_QUEUE_SEL, 1);		/* one queue only */
	ck_assert_uint_eq(vdrv__rd(&t.v, VIRTIO_MMIO_QUEUE_NUM_MAX), 0);
	vdrv__wr(&t.v, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	ck_assert_uint_eq(vdrv__rd(&t.v, VIRTIO_MMIO_DEVICE_FEATURES),
			  (1U << VIRTIO_RING_F_INDIRECT_DESC) | (1U << VIRTIO_RING_F_EVENT_IDX));
}
END_TEST

START_TEST(not_there_without_the_option)
{
	teardown();
	memset(&t, 0, sizeof(t));
	t.v.kvm.cfg = &t.v.cfg;
	ck_assert_int_eq(virtio_rng__init(&t.v.kvm), 0);
	ck_assert_ptr_null(t.v.kvm.virtio_devs);
	ck_assert_ptr_null(t.v.kvm.mmio.regions);
	setup();	/* for teardown */
}
END_TEST

START_TEST(fills_buffers_of_several_sizes)
{
	static const u32 sizes[] = { 1, 7, 64, 4096, 60000 };
	u64 at = BUF;

	vdrv__init_driver(&t.v, 0);
	for (unsigned int i = 0; i < ARRAY_SIZE(sizes); i++) {
		vdrv__desc(&t.v, 0, i, at, sizes[i], VRING_DESC_F_WRITE, 0);
		vdrv__post(&t.v, 0, (u16)i);
		vdrv__wait_used(&t.v, 0, (u16)(i + 1));
		ck_assert_uint_eq(vdrv__used(&t.v, 0)->ring[i].id, i);
		ck_assert_uint_eq(vdrv__used(&t.v, 0)->ring[i].len, sizes[i]);
		at += sizes[i];
	}
	/* Random: nearly every byte of the large ones is nonzero, and they differ. */
	ck_assert_uint_gt(nonzero(vdrv__host(&t.v, BUF + 72), 4096), 4000);
	ck_assert_uint_gt(nonzero(vdrv__host(&t.v, BUF + 72 + 4096), 60000), 59000);
	ck_assert_mem_ne(vdrv__host(&t.v, BUF + 72), vdrv__host(&t.v, BUF + 72 + 4096), 4096);
	/* Nothing written past the last buffer. */
	ck_assert_uint_eq(nonzero(vdrv__host(&t.v, at), 4096), 0);
	ck_assert_uint_eq(vdrv__rd(&t.v, VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_VRING);
}
END_TEST

START_TEST(fills_every_buffer_of_a_chain)
{
	vdrv__init_driver(&t.v, 0);
	/* Two device-writable buffers with a zero-length one between them, after a readable one. */
	vdrv__desc(&t.v, 0, 0, BUF, 16, VRING_DESC_F_NEXT, 1);
	vdrv__desc(&t.v, 0, 1, BUF + 0x100, 32, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 2);
	vdrv__desc(&t.v, 0, 2, BUF + 0x200, 0, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 3);
	vdrv__desc(&t.v, 0, 3, BUF + 0x300, 32, VRING_DESC_F_WRITE, 0);
	vdrv__post(&t.v, 0, 0);
	vdrv__wait_used(&t.v, 0, 1);
	ck_assert_uint_eq(vdrv__used(&t.v, 0)->ring[0].len, 64);
	ck_assert_uint_eq(nonzero(vdrv__host(&t.v, BUF), 16), 0);	/* readable: untouched */
	ck_assert_uint_gt(nonzero(vdrv__host(&t.v, BUF + 0x100), 32), 24);
	ck_assert_uint_gt(nonzero(vdrv__host(&t.v, BUF + 0x300), 32), 24);
}
END_TEST

START_TEST(large_request_gets_part)
{
	vdrv__init_driver(&t.v, 0);
	vdrv__desc(&t.v, 0, 0, BUF, (u32)BUF_MAX, VRING_DESC_F_WRITE, 0);
	vdrv__post(&t.v, 0, 0);
	vdrv__wait_used(&t.v, 0, 1);
	ck_assert_uint_eq(vdrv__used(&t.v, 0)->ring[0].len, 65536);
	ck_assert_uint_eq(nonzero(vdrv__host(&t.v, BUF + 65536), 4096), 0);
}
END_TEST

START_TEST(request_without_room_comes_back_empty)
{
	vdrv__init_driver(&t.v, 0);
	vdrv__desc(&t.v, 0, 0, BUF, 64, 0, 0);				/* device-readable only */
	vdrv__desc(&t.v, 0, 1, BUF + 0x100, 0, VRING_DESC_F_WRITE, 0);	/* no room */
	vdrv__desc(&t.v, 0, 2, BUF + 0x200, 8, VRING_DESC_F_WRITE, 0);
	vdrv__post(&t.v, 0, 0);
	vdrv__post(&t.v, 0, 1);
	vdrv__post(&t.v, 0, 2);
	vdrv__wait_used(&t.v, 0, 3);
	ck_assert_uint_eq(vdrv__used(&t.v, 0)->ring[0].len, 0);
	ck_assert_uint_eq(vdrv__used(&t.v, 0)->ring[1].len, 0);
	ck_assert_uint_eq(vdrv__used(&t.v, 0)->ring[2].len, 8);
	ck_assert_uint_eq(nonzero(vdrv__host(&t.v, BUF), 64), 0);
	ck_assert_uint_eq(vdrv__rd(&t.v, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET, 0);
}
END_TEST

START_TEST(hostile_request_needs_reset)
{
	vdrv__init_driver(&t.v, 0);
	vdrv__desc(&t.v, 0, 0, G(RAM_SIZE - 16), 64, VRING_DESC_F_WRITE, 0);	/* runs past RAM */
	vdrv__run_broken(&t.v, 0, 0);
	ck_assert_uint_eq(vdrv__used(&t.v, 0)->idx, 0);
	/* A reset brings it back. */
	vdrv__init_driver(&t.v, 0);
	vdrv__desc(&t.v, 0, 0, BUF, 16, VRING_DESC_F_WRITE, 0);
	vdrv__post(&t.v, 0, 0);
	vdrv__wait_used(&t.v, 0, 1);
	ck_assert_uint_eq(vdrv__used(&t.v, 0)->ring[0].len, 16);
}
END_TEST

START_TEST(many_requests_on_one_notification)
{
	vdrv__init_driver(&t.v, 0);
	for (u16 i = 0; i < 100; i++) {
		vdrv__desc(&t.v, 0, i, BUF + i * 16u, 16, VRING_DESC_F_WRITE, 0);
		vdrv__offer(&t.v, 0, i);
	}
	vdrv__notify(&t.v, 0);	/* more than the worker serves in one go */
	vdrv__wait_used(&t.v, 0, 100);
	for (unsigned int i = 0; i < 100; i++)
		ck_assert_uint_eq(vdrv__used(&t.v, 0)->ring[i].len, 16);
}
END_TEST

START_TEST(nothing_before_driver_ok)
{
	vdrv__wr(&t.v, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	vdrv__desc(&t.v, 0, 0, BUF, 16, VRING_DESC_F_WRITE, 0);
	vdrv__post(&t.v, 0, 0);
	usleep(50000);
	ck_assert_uint_eq(vdrv__used(&t.v, 0)->idx, 0);
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
