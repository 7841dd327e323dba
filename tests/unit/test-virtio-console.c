/*
 * virtio-mmio and virtio-console: a driver's view through the MMIO bus (registers, feature
 * negotiation, queues, interrupts, reset) and the console's two directions.
 */
#include <fcntl.h>
#include <libfdt.h>
#include <string.h>
#include <unistd.h>

#include <linux/virtio_ids.h>
#include <linux/virtio_mmio.h>

#include "lkvm/kvm.h"
#include "lkvm/memory-map.h"
#include "lkvm/term.h"
#include "lkvm/virtio-console.h"
#include "lkvm/virtio-mmio.h"
#include "lkvm/virtio.h"
#include "suites.h"
#include "vdriver.h"

#define RAM_SIZE	(1ULL << 20)
#define BUF		G(0x20000)
#define RXQ		0
#define TXQ		1
#define FEATURES	(1ULL << VIRTIO_RING_F_EVENT_IDX)

#define S_ACK		VIRTIO_CONFIG_S_ACKNOWLEDGE
#define S_DRIVER	VIRTIO_CONFIG_S_DRIVER
#define S_FEATURES_OK	VIRTIO_CONFIG_S_FEATURES_OK
#define S_NEEDS_RESET	VIRTIO_CONFIG_S_NEEDS_RESET

static struct {
	struct vdrv v;
	struct term term;
	int out[2];			/* the terminal's stdout */
} t;

static void setup_with(enum console_type console)
{
	memset(&t, 0, sizeof(t));
	vdrv__setup(&t.v, RAM_SIZE);
	t.v.nr_queues = 2;
	t.v.cfg.console = console;
	ck_assert_int_eq(pipe2(t.out, O_NONBLOCK), 0);
	ck_assert_int_eq(term__init(&t.term, -1, t.out[1], NULL), 0);
	t.v.kvm.term = &t.term;
	ck_assert_int_eq(virtio_console__init(&t.v.kvm), 0);
}

static void setup(void)
{
	setup_with(CONSOLE_VIRTIO);
}

static void teardown(void)
{
	virtio_console__exit(&t.v.kvm);
	term__restore(&t.term);
	close(t.out[0]);
	close(t.out[1]);
	vdrv__teardown(&t.v);
}

/* --- transport --- */

START_TEST(identity)
{
	ck_assert_uint_eq(vdrv__rd(&t.v, VIRTIO_MMIO_MAGIC_VALUE), 0x74726976);
	ck_assert_uint_eq(vdrv__rd(&t.v, VIRTIO_MMIO_VERSION), 2);
	ck_assert_uint_eq(vdrv__rd(&t.v, VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_CONSOLE);
	ck_assert_uint_eq(vdrv__rd(&t.v, VIRTIO_MMIO_VENDOR_ID), 0x4d564b4c);
	ck_assert_uint_eq(vdrv__rd(&t.v, VIRTIO_MMIO_STATUS), 0);
	ck_assert_uint_eq(vdrv__rd(&t.v, VIRTIO_MMIO_SHM_LEN_LOW), 0xffffffff);
	vdrv__wr(&t.v, VIRTIO_MMIO_QUEUE_SEL, 2);		/* the console has two queues */
	ck_assert_uint_eq(vdrv__rd(&t.v, VIRTIO_MMIO_QUEUE_NUM_MAX), 0);
	ck_assert_uint_eq(vdrv__rd(&t.v, VIRTIO_MMIO_QUEUE_READY), 0);
}
END_TEST

START_TEST(wrong_widths_are_ignored)
{
	u8 d[8];

	for (unsigned int len = 1; len <= 8; len *= 2) {
		memset(d, 0xaa, sizeof(d));
		ck_assert(vdrv__access(&t.v, VIRTIO_MMIO_MAGIC_VALUE, d, len, false));
		if (len != 4)
			ck_assert_uint_eq(d[0] | d[len - 1], 0);
	}
	memset(d, 0xaa, sizeof(d));
	/* Unaligned. */
	ck_assert(vdrv__access(&t.v, VIRTIO_MMIO_MAGIC_VALUE + 2, d, 4, false));
	ck_assert_uint_eq(get_le32(d), 0);

	d[0] = S_ACK;
	ck_assert(vdrv__access(&t.v, VIRTIO_MMIO_STATUS, d, 1, true));
	ck_assert(vdrv__access(&t.v, VIRTIO_MMIO_STATUS + 1, d, 4, true));
	ck_assert(vdrv__access(&t.v, VIRTIO_MMIO_STATUS, d, 8, true));
	ck_assert_uint_eq(vdrv__rd(&t.v, VIRTIO_MMIO_STATUS), 0);
}
END_TEST

START_TEST(device_features)
{
	vdrv__wr(&t.v, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	ck_assert_uint_eq(vdrv__rd(&t.v, VIRTIO_MMIO_DEVICE_FEATURES),
			  (1U << VIRTIO_RING_F_INDIRECT_DESC) | (1U << VIRTIO_RING_F_EVENT_IDX));
	vdrv__wr(&t.v, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	ck_assert_uint_eq(vdrv__rd(&t.v, VIRTIO_MMIO_DEVICE_FEATURES), 1);	/* VERSION_1 */
	vdrv__wr(&t.v, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 2);
	ck_assert_uint_eq(vdrv__rd(&t.v, VIRTIO_MMIO_DEVICE_FEATURES), 0);
}
END_TEST

START_TEST(legacy_driver_is_refused)
{
	vdrv__wr(&t.v, VIRTIO_MMIO_STATUS, S_ACK | S_DRIVER);
	vdrv__wr(&t.v, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	vdrv__wr(&t.v, VIRTIO_MMIO_DRIVER_FEATURES, 1U << VIRTIO_RING_F_EVENT_IDX);
	vdrv__wr(&t.v, VIRTIO_MMIO_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK);
	ck_assert_uint_eq(vdrv__rd(&t.v, VIRTIO_MMIO_STATUS), S_ACK | S_DRIVER);
}
END_TEST

START_TEST(features_fixed_after_features_ok)
{
	vdrv__init_driver(&t.v, FEATURES);
	vdrv__wr(&t.v, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	vdrv__wr(&t.v, VIRTIO_MMIO_DRIVER_FEATURES, 0);
	ck_assert_uint_eq(vdrv__rd(&t.v, VIRTIO_MMIO_STATUS) & S_FEATURES_OK, S_FEATURES_OK);
}
END_TEST

START_TEST(queue_setup_fixed_while_ready)
{
	vdrv__init_driver(&t.v, FEATURES);
	vdrv__wr(&t.v, VIRTIO_MMIO_QUEUE_SEL, TXQ);
	vdrv__wr(&t.v, VIRTIO_MMIO_QUEUE_NUM, 2);
	vdrv__wr(&t.v, VIRTIO_MMIO_QUEUE_DESC_LOW, 0);
	/* Still working with the rings it was given. */
	memcpy(vdrv__host(&t.v, BUF), "ok", 2);
	vdrv__desc(&t.v, TXQ, 7, BUF, 2, 0, 0);
	vdrv__post(&t.v, TXQ, 7);
	ck_assert_uint_eq(vdrv__used(&t.v, TXQ)->idx, 1);
	ck_assert_uint_eq(vdrv__used(&t.v, TXQ)->ring[0].id, 7);
}
END_TEST

START_TEST(queue_ready_zero_stops_the_queue)
{
	vdrv__init_driver(&t.v, FEATURES);
	vdrv__wr(&t.v, VIRTIO_MMIO_QUEUE_SEL, TXQ);
	vdrv__wr(&t.v, VIRTIO_MMIO_QUEUE_READY, 0);
	ck_assert_uint_eq(vdrv__rd(&t.v, VIRTIO_MMIO_QUEUE_READY), 0);
	vdrv__desc(&t.v, TXQ, 0, BUF, 2, 0, 0);
	vdrv__post(&t.v, TXQ, 0);
	ck_assert_uint_eq(vdrv__used(&t.v, TXQ)->idx, 0);
}
END_TEST

START_TEST(bad_queue_setup_needs_reset)
{
	vdrv__negotiate(&t.v, 0);
	vdrv__wr(&t.v, VIRTIO_MMIO_QUEUE_SEL, RXQ);
	vdrv__wr(&t.v, VIRTIO_MMIO_QUEUE_NUM, 8);
	vdrv__wr64(&t.v, VIRTIO_MMIO_QUEUE_DESC_LOW, G(RAM_SIZE - 64));	/* 128 bytes needed */
	vdrv__wr64(&t.v, VIRTIO_MMIO_QUEUE_AVAIL_LOW, VDRV_AVAIL(0));
	vdrv__wr64(&t.v, VIRTIO_MMIO_QUEUE_USED_LOW, VDRV_USED(0));
	vdrv__wr(&t.v, VIRTIO_MMIO_QUEUE_READY, 1);
	ck_assert_uint_eq(vdrv__rd(&t.v, VIRTIO_MMIO_QUEUE_READY), 0);
	ck_assert_uint_ne(vdrv__rd(&t.v, VIRTIO_MMIO_STATUS) & S_NEEDS_RESET, 0);
}
END_TEST

START_TEST(notify_of_missing_queue)
{
	vdrv__init_driver(&t.v, FEATURES);
	vdrv__wr(&t.v, VIRTIO_MMIO_QUEUE_NOTIFY, 2);
	vdrv__wr(&t.v, VIRTIO_MMIO_QUEUE_NOTIFY, 0xffffffff);
	ck_assert_uint_eq(vdrv__rd(&t.v, VIRTIO_MMIO_STATUS) & S_NEEDS_RESET, 0);
}
END_TEST

START_TEST(reset_clears_everything)
{
	vdrv__init_driver(&t.v, FEATURES);
	memcpy(vdrv__host(&t.v, BUF), "x", 1);
	vdrv__desc(&t.v, TXQ, 0, BUF, 1, 0, 0);
	vdrv__post(&t.v, TXQ, 0);
	ck_assert_uint_ne(vdrv__rd(&t.v, VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	vdrv__wr(&t.v, VIRTIO_MMIO_STATUS, 0);
	ck_assert_uint_eq(vdrv__rd(&t.v, VIRTIO_MMIO_STATUS), 0);
	ck_assert_uint_eq(vdrv__rd(&t.v, VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	vdrv__wr(&t.v, VIRTIO_MMIO_QUEUE_SEL, RXQ);
	ck_assert_uint_eq(vdrv__rd(&t.v, VIRTIO_MMIO_QUEUE_READY), 0);
	vdrv__wr(&t.v, VIRTIO_MMIO_QUEUE_SEL, TXQ);
	ck_assert_uint_eq(vdrv__rd(&t.v, VIRTIO_MMIO_QUEUE_READY), 0);
	/* And the device comes up again the same way. */
	vdrv__init_driver(&t.v, FEATURES);
	vdrv__desc(&t.v, TXQ, 0, BUF, 1, 0, 0);
	vdrv__post(&t.v, TXQ, 0);
	ck_assert_uint_eq(vdrv__used(&t.v, TXQ)->idx, 1);
}
END_TEST

START_TEST(config_space)
{
	u8 d[8];

	memset(d, 0xaa, sizeof(d));
	ck_assert(vdrv__access(&t.v, VIRTIO_MMIO_CONFIG, d, 8, false));
	ck_assert_uint_eq(get_le64(d), 0);
	memset(d, 0xaa, sizeof(d));
	ck_assert(vdrv__access(&t.v, VIRTIO_MMIO_CONFIG + 11, d, 1, false));
	ck_assert_uint_eq(d[0], 0);
	memset(d, 0xaa, sizeof(d));
	/* Past its 12 bytes. */
	ck_assert(vdrv__access(&t.v, VIRTIO_MMIO_CONFIG + 10, d, 4, false));
	ck_assert_uint_eq(get_le32(d), 0);
	ck_assert(vdrv__access(&t.v, 0x1fc, d, 4, false));
	ck_assert(vdrv__access(&t.v, VIRTIO_MMIO_CONFIG, d, 4, true));		/* read-only */
	ck_assert_uint_eq(vdrv__rd(&t.v, VIRTIO_MMIO_CONFIG_GENERATION), 0);
}
END_TEST

START_TEST(device_tree_node)
{
	static u8 buf[4096];
	const fdt32_t *irq;
	const fdt64_t *reg;
	int node, len;

	ck_assert_uint_eq(t.v.kvm.nr_fdt_gens, 1);
	vdrv__fdt(&t.v.kvm, buf, sizeof(buf));

	node = fdt_path_offset(buf, "/virtio_mmio@d000000");
	ck_assert_int_ge(node, 0);
	ck_assert_str_eq(fdt_getprop(buf, node, "compatible", NULL), "virtio,mmio");
	reg = fdt_getprop(buf, node, "reg", &len);
	ck_assert_int_eq(len, 16);
	ck_assert_uint_eq(fdt64_ld(&reg[0]), LKVM_VIRTIO_MMIO_BASE);
	ck_assert_uint_eq(fdt64_ld(&reg[1]), LKVM_VIRTIO_MMIO_SIZE);
	irq = fdt_getprop(buf, node, "interrupts", &len);
	ck_assert_int_eq(len, 12);
	ck_assert_uint_eq(fdt32_ld(&irq[0]), FDT_IRQ_TYPE_SPI);
	ck_assert_uint_eq(fdt32_ld(&irq[1]), LKVM_VIRTIO_SPI_BASE);
	ck_assert_uint_eq(fdt32_ld(&irq[2]), FDT_IRQ_LEVEL_HIGH);
	ck_assert_ptr_nonnull(fdt_getprop(buf, node, "dma-coherent", &len));
	ck_assert_int_eq(len, 0);
}
END_TEST

static const struct virtio_dev_ops other_ops = { .name = "virtio-other", .device_id = 4 };

START_TEST(next_device_gets_the_next_slot)
{
	static struct virtio_dev other;
	static struct virtq vq;
	u8 d[4];

	virtio_dev__init(&other, &t.v.kvm, &other_ops, &vq, 1);
	ck_assert_int_eq(virtio__attach(&t.v.kvm, &other), 0);
	ck_assert(vdrv__access(&t.v, LKVM_VIRTIO_MMIO_SIZE + VIRTIO_MMIO_DEVICE_ID, d, 4, false));
	ck_assert_uint_eq(get_le32(d), 4);
	ck_assert_ptr_eq(virtio__find(&t.v.kvm, &other_ops), &other);
	virtio__detach(&other);
	ck_assert_ptr_null(virtio__find(&t.v.kvm, &other_ops));
	ck_assert_ptr_null(other.transport);
	ck_assert(!vdrv__access(&t.v, LKVM_VIRTIO_MMIO_SIZE, d, 4, false));
	ck_assert_uint_eq(vdrv__rd(&t.v, VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_CONSOLE);
	virtio_dev__destroy(&other);
}
END_TEST

/* --- console --- */

START_TEST(not_there_with_the_serial_console)
{
	teardown();
	setup_with(CONSOLE_SERIAL);
	ck_assert_ptr_null(t.v.kvm.mmio.regions);
	ck_assert_uint_eq(t.v.kvm.nr_fdt_gens, 0);
	ck_assert_ptr_null(t.term.sink);
}
END_TEST

START_TEST(transmit_reaches_the_terminal)
{
	char out[32] = { 0 };

	vdrv__init_driver(&t.v, FEATURES);
	memcpy(vdrv__host(&t.v, BUF), "hello, ", 7);
	memcpy(vdrv__host(&t.v, BUF + 0x100), "world", 5);
	vdrv__desc(&t.v, TXQ, 0, BUF, 7, VRING_DESC_F_NEXT, 1);
	vdrv__desc(&t.v, TXQ, 1, BUF + 0x100, 5, 0, 0);
	vdrv__desc(&t.v, TXQ, 2, BUF + 0x200, 1, 0, 0);
	memcpy(vdrv__host(&t.v, BUF + 0x200), "!", 1);
	vdrv__offer(&t.v, TXQ, 0);
	vdrv__post(&t.v, TXQ, 2);
	ck_assert_int_eq(read_wait(t.out[0], out, 13), 13);
	ck_assert_str_eq(out, "hello, world!");
	ck_assert_uint_eq(vdrv__used(&t.v, TXQ)->idx, 2);
	ck_assert_uint_eq(vdrv__used(&t.v, TXQ)->ring[1].id, 2);
	ck_assert_uint_eq(vdrv__used(&t.v, TXQ)->ring[1].len, 0);
	ck_assert_uint_eq(vdrv__rd(&t.v, VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_VRING);
	vdrv__wr(&t.v, VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_MMIO_INT_VRING);
	ck_assert_uint_eq(vdrv__rd(&t.v, VIRTIO_MMIO_INTERRUPT_STATUS), 0);
}
END_TEST

START_TEST(output_posted_before_driver_ok_is_sent)
{
	char out[8] = { 0 };

	vdrv__negotiate(&t.v, 0);
	vdrv__setup_queue(&t.v, RXQ);
	vdrv__setup_queue(&t.v, TXQ);
	memcpy(vdrv__host(&t.v, BUF), "early", 5);
	vdrv__desc(&t.v, TXQ, 0, BUF, 5, 0, 0);
	vdrv__post(&t.v, TXQ, 0);
	ck_assert_uint_eq(t.term.out_len, 0);			/* not before DRIVER_OK */
	ck_assert_int_eq(read(t.out[0], out, sizeof(out)), -1);
	vdrv__driver_ok(&t.v);
	ck_assert_int_eq(read_wait(t.out[0], out, 5), 5);
}
END_TEST

START_TEST(receive_fills_posted_buffers)
{
	struct console_sink *sink;

	vdrv__init_driver(&t.v, FEATURES);
	sink = t.term.sink;
	ck_assert_ptr_nonnull(sink);
	ck_assert_uint_eq(sink->room(sink), 0);
	vdrv__desc(&t.v, RXQ, 0, BUF, 4, VRING_DESC_F_WRITE, 0);
	vdrv__desc(&t.v, RXQ, 1, BUF + 0x100, 4, VRING_DESC_F_WRITE, 0);
	vdrv__offer(&t.v, RXQ, 0);
	vdrv__offer(&t.v, RXQ, 1);
	ck_assert_uint_eq(sink->room(sink), 4);		/* the next buffer, no more */
	sink->input(sink, (const u8 *)"abcdef", 6);
	ck_assert_mem_eq(vdrv__host(&t.v, BUF), "abcd", 4);
	ck_assert_mem_eq(vdrv__host(&t.v, BUF + 0x100), "ef", 2);
	ck_assert_uint_eq(vdrv__used(&t.v, RXQ)->idx, 2);
	ck_assert_uint_eq(vdrv__used(&t.v, RXQ)->ring[0].len, 4);
	ck_assert_uint_eq(vdrv__used(&t.v, RXQ)->ring[1].len, 2);
	ck_assert_uint_eq(sink->room(sink), 0);
	ck_assert_uint_eq(vdrv__rd(&t.v, VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_VRING);
}
END_TEST

START_TEST(receive_returns_useless_buffers)
{
	struct console_sink *sink;

	vdrv__init_driver(&t.v, FEATURES);
	sink = t.term.sink;
	vdrv__desc(&t.v, RXQ, 0, BUF, 0, VRING_DESC_F_WRITE, 0);	/* no room at all */
	vdrv__desc(&t.v, RXQ, 1, BUF + 0x100, 16, 0, 0);		/* device-readable only */
	vdrv__desc(&t.v, RXQ, 2, BUF + 0x200, 16, VRING_DESC_F_WRITE, 0);
	vdrv__offer(&t.v, RXQ, 0);
	vdrv__offer(&t.v, RXQ, 1);
	vdrv__offer(&t.v, RXQ, 2);
	ck_assert_uint_eq(sink->room(sink), 16);
	ck_assert_uint_eq(vdrv__used(&t.v, RXQ)->idx, 2);
	ck_assert_uint_eq(vdrv__used(&t.v, RXQ)->ring[1].len, 0);
}
END_TEST

START_TEST(receive_before_driver_ok_has_no_room)
{
	struct console_sink *sink = t.term.sink;

	vdrv__desc(&t.v, RXQ, 0, BUF, 4, VRING_DESC_F_WRITE, 0);
	vdrv__offer(&t.v, RXQ, 0);
	ck_assert_uint_eq(sink->room(sink), 0);
	sink->input(sink, (const u8 *)"lost", 4);	/* harmless */
	ck_assert_uint_eq(vdrv__used(&t.v, RXQ)->idx, 0);
}
END_TEST

START_TEST(hostile_transmit_needs_reset)
{
	vdrv__init_driver(&t.v, FEATURES);
	vdrv__desc(&t.v, TXQ, 0, 0x1000, 16, 0, 0);		/* not RAM: the UART's page */
	vdrv__post(&t.v, TXQ, 0);
	ck_assert_uint_ne(vdrv__rd(&t.v, VIRTIO_MMIO_STATUS) & S_NEEDS_RESET, 0);
	ck_assert_uint_eq(vdrv__rd(&t.v, VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_CONFIG);
	ck_assert_uint_eq(vdrv__used(&t.v, TXQ)->idx, 0);
	/* The whole device stops, the receive queue too. */
	vdrv__desc(&t.v, RXQ, 0, BUF, 4, VRING_DESC_F_WRITE, 0);
	vdrv__offer(&t.v, RXQ, 0);
	ck_assert_uint_eq(t.term.sink->room(t.term.sink), 0);
}
END_TEST

START_TEST(exit_detaches)
{
	u8 d[4];

	ck_assert_ptr_nonnull(t.term.sink);
	virtio_console__exit(&t.v.kvm);
	ck_assert_ptr_null(t.term.sink);
	ck_assert(!vdrv__access(&t.v, 0, d, 4, false));
	ck_assert_int_eq(virtio_console__init(&t.v.kvm), 0);	/* for teardown */
}
END_TEST

Suite *virtio_console_suite(void)
{
	Suite *s = suite_create("virtio-console");
	TCase *mmio = tcase_create("virtio-mmio");
	TCase *con = tcase_create("console");

	tcase_add_checked_fixture(mmio, setup, teardown);
	tcase_add_test(mmio, identity);
	tcase_add_test(mmio, wrong_widths_are_ignored);
	tcase_add_test(mmio, device_features);
	tcase_add_test(mmio, legacy_driver_is_refused);
	tcase_add_test(mmio, features_fixed_after_features_ok);
	tcase_add_test(mmio, queue_setup_fixed_while_ready);
	tcase_add_test(mmio, queue_ready_zero_stops_the_queue);
	tcase_add_test(mmio, bad_queue_setup_needs_reset);
	tcase_add_test(mmio, notify_of_missing_queue);
	tcase_add_test(mmio, reset_clears_everything);
	tcase_add_test(mmio, config_space);
	tcase_add_test(mmio, device_tree_node);
	tcase_add_test(mmio, next_device_gets_the_next_slot);
	suite_add_tcase(s, mmio);

	tcase_add_checked_fixture(con, setup, teardown);
	tcase_add_test(con, not_there_with_the_serial_console);
	tcase_add_test(con, transmit_reaches_the_terminal);
	tcase_add_test(con, output_posted_before_driver_ok_is_sent);
	tcase_add_test(con, receive_fills_posted_buffers);
	tcase_add_test(con, receive_returns_useless_buffers);
	tcase_add_test(con, receive_before_driver_ok_has_no_room);
	tcase_add_test(con, hostile_transmit_needs_reset);
	tcase_add_test(con, exit_detaches);
	suite_add_tcase(s, con);
	return s;
}
