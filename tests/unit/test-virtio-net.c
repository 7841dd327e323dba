/*
 * virtio-net through the MMIO bus, on a SOCK_SEQPACKET socket pair standing in for the tap (one
 * message per frame, as a tap reads and writes them): frames the guest sends reach the other
 * end with their header, frames from there land in the guest's receive buffers, merged over as
 * many as they need, and malformed requests are dropped or put the device in NEEDS_RESET.
 */
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <linux/virtio_ids.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_net.h>

#include "lkvm/kvm.h"
#include "lkvm/memory-map.h"
#include "lkvm/virtio-net.h"
#include "lkvm/virtio.h"
#include "suites.h"
#include "vdriver.h"

#define RAM_SIZE	(1ULL << 20)
#define QSIZE		8
#define RXBUF		G(0x10000)
#define TXBUF		G(0x40000)
#define RXQ		0
#define TXQ		1
#define HDR		12
#define F_WRITE		VRING_DESC_F_WRITE
#define F_NEXT		VRING_DESC_F_NEXT
#define S_NEEDS_RESET	VIRTIO_CONFIG_S_NEEDS_RESET

static const u8 mac[6] = { 0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0x01 };

static struct {
	struct vdrv v;			/* qsize: QSIZE unless a test says */
	int dev_fd;			/* the device's end of the "tap" */
	int peer;			/* the far end */
	u8 frame[70000];
} t;

/* Linux's order (spec 3.1.1), taking the device's features but mergeable buffers if !mrg. */
static void driver_init_with(bool mrg)
{
	u64 features = (u32)vdrv__device_features(&t.v);

	if (!mrg)
		features &= ~(1ULL << VIRTIO_NET_F_MRG_RXBUF);
	vdrv__init_driver(&t.v, features);
}

static void driver_init(void)
{
	driver_init_with(true);
}

/* The next message at the far end, within ms; its length, or -1 if none came. */
static ssize_t peer_recv(void *buf, size_t len, int ms)
{
	struct pollfd pfd = { .fd = t.peer, .events = POLLIN };

	if (poll(&pfd, 1, ms) != 1)
		return -1;
	return recv(t.peer, buf, len, MSG_DONTWAIT);
}

/* Sends a frame of len bytes (after a zero header) from the far end; byte i is seed + i. */
static void peer_send(size_t len, u8 seed)
{
	static u8 msg[HDR + 70000];

	memset(msg, 0, HDR);
	for (size_t i = 0; i < len; i++)
		msg[HDR + i] = (u8)(seed + i);
	ck_assert_int_eq(send(t.peer, msg, HDR + len, 0), (ssize_t)(HDR + len));
}

static void fill_pattern(u8 *p, size_t len, u8 seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (u8)(seed + i);
}

static bool has_pattern(const u8 *p, size_t len, u8 seed)
{
	for (size_t i = 0; i < len; i++) {
		if (p[i] != (u8)(seed + i))
			return false;
	}
	return true;
}

static u16 num_buffers(u64 gpa)
{
	const struct virtio_net_hdr_v1 *h = vdrv__host(&t.v, gpa);

	return h->num_buffers;
}

static void setup(void)
{
	struct net_spec spec = { .mode = NET_TAP };
	int sv[2];

	memset(&t, 0, sizeof(t));
	vdrv__setup(&t.v, RAM_SIZE);
	t.v.qsize = QSIZE;
	t.v.nr_queues = 2;
	signal(SIGPIPE, SIG_IGN);	/* as lkvm run does: a closed peer is EPIPE */
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	t.dev_fd = sv[0];
	t.peer = sv[1];
	memcpy(spec.guest_mac, mac, sizeof(mac));
	ck_assert_int_eq(virtio_net__add(&t.v.kvm, &spec, sv[0], "test0"), 0);
}

static void teardown(void)
{
	virtio_net__exit(&t.v.kvm);
	if (t.peer >= 0)
		close(t.peer);
	vdrv__teardown(&t.v);
}

/* --- the device --- */

START_TEST(identity)
{
	u8 d[8];

	ck_assert_uint_eq(vdrv__rd(&t.v, VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_NET);
	vdrv__wr(&t.v, VIRTIO_MMIO_QUEUE_SEL, 2);	/* rx and tx, no control queue */
	ck_assert_uint_eq(vdrv__rd(&t.v, VIRTIO_MMIO_QUEUE_NUM_MAX), 0);
	vdrv__wr(&t.v, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	ck_assert_uint_eq(vdrv__rd(&t.v, VIRTIO_MMIO_DEVICE_FEATURES),
			  (1U << VIRTIO_NET_F_MAC) | (1U << VIRTIO_NET_F_STATUS) |
			  (1U << VIRTIO_NET_F_MRG_RXBUF) | (1U << VIRTIO_RING_F_INDIRECT_DESC) |
			  (1U << VIRTIO_RING_F_EVENT_IDX));
	for (unsigned int i = 0; i < 6; i++) {
		ck_assert(vdrv__access(&t.v, VIRTIO_MMIO_CONFIG + i, d, 1, false));
		ck_assert_uint_eq(d[0], mac[i]);
	}
	ck_assert(vdrv__access(&t.v, VIRTIO_MMIO_CONFIG + 6, d, 2, false));
	ck_assert_uint_eq(d[0] | d[1] << 8, VIRTIO_NET_S_LINK_UP);
	ck_assert(vdrv__access(&t.v, VIRTIO_MMIO_CONFIG, d, 8, false));
	ck_assert_mem_eq(d, mac, 6);
	memset(d, 0xaa, sizeof(d));			/* past the 8 bytes of config */
	ck_assert(vdrv__access(&t.v, VIRTIO_MMIO_CONFIG + 8, d, 2, false));
	ck_assert_uint_eq(d[0] | d[1], 0);
}
END_TEST

START_TEST(no_device_without_the_option)
{
	struct kvm kvm = { .cfg = &t.v.cfg };

	ck_assert_int_eq(virtio_net__init(&kvm), 0);
	ck_assert_ptr_null(kvm.virtio_devs);
	virtio_net__exit(&kvm);
}
END_TEST

/* --- transmit --- */

START_TEST(tx_reaches_the_backend)
{
	u8 got[2048];

	driver_init();
	/* A header split over two buffers, and a frame over two more. */
	memset(vdrv__host(&t.v, TXBUF), 0, HDR);
	fill_pattern(vdrv__host(&t.v, TXBUF + 0x100), 100, 1);
	fill_pattern(vdrv__host(&t.v, TXBUF + 0x200), 900, 101);
	vdrv__desc(&t.v, TXQ, 0, TXBUF, 5, F_NEXT, 1);
	vdrv__desc(&t.v, TXQ, 1, TXBUF + 5, 7, F_NEXT, 2);
	vdrv__desc(&t.v, TXQ, 2, TXBUF + 0x100, 100, F_NEXT, 3);
	vdrv__desc(&t.v, TXQ, 3, TXBUF + 0x200, 900, 0, 0);
	vdrv__post(&t.v, TXQ, 0);
	ck_assert_int_eq(peer_recv(got, sizeof(got), 5000), HDR + 1000);
	ck_assert_uint_eq(got[0] | got[1] | got[10] | got[11], 0);
	ck_assert(has_pattern(got + HDR, 1000, 1));
	vdrv__wait_used(&t.v, TXQ, 1);
	ck_assert_uint_eq(vdrv__used(&t.v, TXQ)->ring[0].id, 0);
	ck_assert_uint_eq(vdrv__used(&t.v, TXQ)->ring[0].len, 0);
	ck_assert_uint_eq(vdrv__rd(&t.v, VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_VRING);
}
END_TEST

/* Sends a chain of one buffer of len bytes (header included) with flags, from TXBUF. */
static void tx_one(unsigned int i, u32 len, u16 flags)
{
	vdrv__desc(&t.v, TXQ, i, TXBUF, len, flags, 0);
	vdrv__post(&t.v, TXQ, (u16)i);
}

START_TEST(tx_malformed_is_dropped)
{
	struct virtio_net_hdr_v1 csum = { .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM };
	u8 got[128];

	driver_init();
	memset(vdrv__host(&t.v, TXBUF), 0, 0x20000);
	tx_one(0, HDR - 1, 0);				/* shorter than the header */
	tx_one(1, HDR + 65551, 0);			/* too big */
	tx_one(2, HDR + 60, F_WRITE);			/* device-writable */
	vdrv__wait_used(&t.v, TXQ, 3);
	/* An offload that was not offered. */
	memcpy(vdrv__host(&t.v, TXBUF + 0x10000), &csum, HDR);
	vdrv__desc(&t.v, TXQ, 3, TXBUF + 0x10000, HDR + 60, 0, 0);
	vdrv__post(&t.v, TXQ, 3);
	vdrv__wait_used(&t.v, TXQ, 4);
	ck_assert_int_eq(peer_recv(got, sizeof(got), 100), -1);
	for (unsigned int i = 0; i < 4; i++)
		ck_assert_uint_eq(vdrv__used(&t.v, TXQ)->ring[i].len, 0);
	/* Not a broken ring: the next frame goes. */
	tx_one(4, HDR + 60, 0);
	ck_assert_int_eq(peer_recv(got, sizeof(got), 5000), HDR + 60);
	ck_assert_uint_eq(vdrv__rd(&t.v, VIRTIO_MMIO_STATUS) & S_NEEDS_RESET, 0);
}
END_TEST

START_TEST(tx_largest_frame_goes)
{
	driver_init();
	memset(vdrv__host(&t.v, TXBUF), 0, HDR);
	fill_pattern(vdrv__host(&t.v, TXBUF + HDR), 65550, 7);
	tx_one(0, HDR + 65550, 0);
	ck_assert_int_eq(peer_recv(t.frame, sizeof(t.frame), 5000), HDR + 65550);
	ck_assert(has_pattern(t.frame + HDR, 65550, 7));
}
END_TEST

START_TEST(tx_waits_for_room_in_the_backend)
{
	int sndbuf = 4096, seen = 0;
	bool blocked = false;
	u16 posted = 0;

	driver_init();
	/* A small send buffer on the device's end: a few frames fill it. */
	ck_assert_int_eq(setsockopt(t.dev_fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf)), 0);
	for (unsigned int i = 0; i < QSIZE; i++) {
		memset(vdrv__host(&t.v, TXBUF + i * 0x1000), 0, HDR);
		*(u8 *)vdrv__host(&t.v, TXBUF + i * 0x1000 + HDR) = (u8)i;
	}
	/* Far more frames than the socket takes: the worker stops, and goes on when it drains. */
	while (posted < 64) {
		u8 got[2048];
		ssize_t n;

		if ((u16)(posted - vdrv__used_idx(&t.v, TXQ)) < QSIZE) {
			unsigned int slot = posted % QSIZE;

			vdrv__desc(&t.v, TXQ, slot, TXBUF + slot * 0x1000, HDR + 1000, 0, 0);
			vdrv__post(&t.v, TXQ, (u16)slot);
			posted++;
			continue;
		}
		if (!blocked) {
			/* Once the ring stays full, the worker waits for the socket (no drops). */
			u16 before = vdrv__used_idx(&t.v, TXQ);

			vdrv__msleep(200);
			blocked = vdrv__used_idx(&t.v, TXQ) == before;
			if (!blocked)
				continue;
		}
		n = peer_recv(got, sizeof(got), 5000);
		ck_assert_int_eq(n, HDR + 1000);
		ck_assert_uint_eq(got[HDR], seen % QSIZE);	/* in order, none lost */
		seen++;
	}
	ck_assert(blocked);
	while (seen < 64) {
		u8 got[2048];

		ck_assert_int_eq(peer_recv(got, sizeof(got), 5000), HDR + 1000);
		ck_assert_uint_eq(got[HDR], seen % QSIZE);
		seen++;
	}
	vdrv__wait_used(&t.v, TXQ, 64);
}
END_TEST

START_TEST(tx_many_frames_on_one_notification)
{
	u8 got[128];

	t.v.qsize = 128;
	driver_init();
	memset(vdrv__host(&t.v, TXBUF), 0, HDR + 60);
	for (u16 i = 0; i < 100; i++) {
		vdrv__desc(&t.v, TXQ, i, TXBUF, HDR + 60, 0, 0);
		vdrv__offer(&t.v, TXQ, i);
	}
	vdrv__notify(&t.v, TXQ);	/* more than the worker sends in one go */
	for (unsigned int i = 0; i < 100; i++)
		ck_assert_int_eq(peer_recv(got, sizeof(got), 5000), HDR + 60);
	vdrv__wait_used(&t.v, TXQ, 100);
}
END_TEST

/* --- receive --- */

START_TEST(rx_fills_a_buffer)
{
	driver_init();
	memset(vdrv__host(&t.v, RXBUF), 0xee, 0x1000);
	vdrv__desc(&t.v, RXQ, 0, RXBUF, 2048, F_WRITE, 0);
	vdrv__post(&t.v, RXQ, 0);
	peer_send(100, 3);
	vdrv__wait_used(&t.v, RXQ, 1);
	ck_assert_uint_eq(vdrv__used(&t.v, RXQ)->ring[0].id, 0);
	ck_assert_uint_eq(vdrv__used(&t.v, RXQ)->ring[0].len, HDR + 100);
	ck_assert_uint_eq(num_buffers(RXBUF), 1);
	ck_assert_uint_eq(*(u8 *)vdrv__host(&t.v, RXBUF), 0);	/* flags */
	ck_assert(has_pattern(vdrv__host(&t.v, RXBUF + HDR), 100, 3));
	ck_assert_uint_eq(*(u8 *)vdrv__host(&t.v, RXBUF + HDR + 100), 0xee);
	ck_assert_uint_eq(vdrv__rd(&t.v, VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_VRING);
}
END_TEST

START_TEST(rx_merges_buffers)
{
	driver_init();
	for (unsigned int i = 0; i < QSIZE; i++) {
		vdrv__desc(&t.v, RXQ, i, RXBUF + i * 0x1000, 256, F_WRITE, 0);
		vdrv__post(&t.v, RXQ, (u16)i);
	}
	peer_send(1000, 9);		/* 244 + 256 + 256 + 244 */
	vdrv__wait_used(&t.v, RXQ, 4);
	ck_assert_uint_eq(num_buffers(RXBUF), 4);
	ck_assert_uint_eq(vdrv__used(&t.v, RXQ)->ring[0].len, 256);
	ck_assert_uint_eq(vdrv__used(&t.v, RXQ)->ring[1].len, 256);
	ck_assert_uint_eq(vdrv__used(&t.v, RXQ)->ring[2].len, 256);
	ck_assert_uint_eq(vdrv__used(&t.v, RXQ)->ring[3].len, 244);
	ck_assert(has_pattern(vdrv__host(&t.v, RXBUF + HDR), 244, 9));
	ck_assert(has_pattern(vdrv__host(&t.v, RXBUF + 0x1000), 256, (u8)(9 + 244)));
	ck_assert(has_pattern(vdrv__host(&t.v, RXBUF + 0x2000), 256, (u8)(9 + 500)));
	ck_assert(has_pattern(vdrv__host(&t.v, RXBUF + 0x3000), 244, (u8)(9 + 756)));
	/* The next frame starts in the next buffer. */
	peer_send(50, 1);
	vdrv__wait_used(&t.v, RXQ, 5);
	ck_assert_uint_eq(vdrv__used(&t.v, RXQ)->ring[4].id, 4);
	ck_assert_uint_eq(num_buffers(RXBUF + 0x4000), 1);
	ck_assert(has_pattern(vdrv__host(&t.v, RXBUF + 0x4000 + HDR), 50, 1));
}
END_TEST

START_TEST(rx_frame_waits_for_more_buffers)
{
	driver_init();
	vdrv__desc(&t.v, RXQ, 0, RXBUF, 512, F_WRITE, 0);
	vdrv__post(&t.v, RXQ, 0);
	peer_send(1500, 5);
	vdrv__msleep(100);
	ck_assert_uint_eq(vdrv__used_idx(&t.v, RXQ), 0);	/* not a part of it */
	vdrv__desc(&t.v, RXQ, 1, RXBUF + 0x1000, 512, F_WRITE, 0);
	vdrv__post(&t.v, RXQ, 1);
	vdrv__msleep(100);
	ck_assert_uint_eq(vdrv__used_idx(&t.v, RXQ), 0);
	vdrv__desc(&t.v, RXQ, 2, RXBUF + 0x2000, 1024, F_WRITE, 0);
	vdrv__post(&t.v, RXQ, 2);
	vdrv__wait_used(&t.v, RXQ, 3);
	ck_assert_uint_eq(num_buffers(RXBUF), 3);
	ck_assert_uint_eq(vdrv__used(&t.v, RXQ)->ring[2].len, 1500 - 500 - 512);
	ck_assert(has_pattern(vdrv__host(&t.v, RXBUF + 0x2000), 488, (u8)(5 + 1012)));
}
END_TEST

START_TEST(rx_waits_for_buffers_without_spinning)
{
	struct timespec a, b;
	long cpu_ms;

	driver_init();
	for (u8 i = 0; i < 3; i++)
		peer_send(60, (u8)(i * 16));
	/* No buffer: the frames wait in the backend, and the worker sleeps. */
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &a);
	vdrv__msleep(300);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &b);
	cpu_ms = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
	ck_assert_int_lt(cpu_ms, 100);
	ck_assert_uint_eq(vdrv__used_idx(&t.v, RXQ), 0);
	/* Each buffer the guest gives takes the next frame; none was dropped. */
	for (u16 i = 0; i < 3; i++) {
		vdrv__desc(&t.v, RXQ, i, RXBUF + i * 0x1000, 2048, F_WRITE, 0);
		vdrv__post(&t.v, RXQ, i);
		vdrv__wait_used(&t.v, RXQ, (u16)(i + 1));
		ck_assert(has_pattern(vdrv__host(&t.v, RXBUF + i * 0x1000 + HDR), 60,
				      (u8)(i * 16)));
	}
}
END_TEST

START_TEST(rx_without_mergeable_buffers)
{
	driver_init_with(false);
	vdrv__desc(&t.v, RXQ, 0, RXBUF, HDR + 100, F_WRITE, 0);
	vdrv__post(&t.v, RXQ, 0);
	peer_send(200, 1);		/* does not fit: dropped, the buffer stays */
	peer_send(100, 2);
	vdrv__wait_used(&t.v, RXQ, 1);
	ck_assert_uint_eq(vdrv__used(&t.v, RXQ)->ring[0].len, HDR + 100);
	ck_assert_uint_eq(num_buffers(RXBUF), 1);
	ck_assert(has_pattern(vdrv__host(&t.v, RXBUF + HDR), 100, 2));
}
END_TEST

START_TEST(rx_bad_frames_from_the_backend_are_dropped)
{
	struct virtio_net_hdr_v1 gso = { .gso_type = VIRTIO_NET_HDR_GSO_TCPV4 };
	static u8 msg[HDR + 65551];

	driver_init();
	vdrv__desc(&t.v, RXQ, 0, RXBUF, 2048, F_WRITE, 0);
	vdrv__post(&t.v, RXQ, 0);
	ck_assert_int_eq(send(t.peer, msg, HDR + 65551, 0), HDR + 65551);	/* too big */
	ck_assert_int_eq(send(t.peer, msg, HDR + 4, 0), HDR + 4);		/* too short */
	memcpy(msg, &gso, HDR);
	ck_assert_int_eq(send(t.peer, msg, HDR + 100, 0), HDR + 100);		/* offload */
	peer_send(64, 4);
	vdrv__wait_used(&t.v, RXQ, 1);
	ck_assert_uint_eq(vdrv__used(&t.v, RXQ)->ring[0].len, HDR + 64);
	ck_assert(has_pattern(vdrv__host(&t.v, RXBUF + HDR), 64, 4));
}
END_TEST

START_TEST(rx_largest_frame_is_delivered)
{
	driver_init();
	vdrv__desc(&t.v, RXQ, 0, RXBUF, HDR + 65550, F_WRITE, 0);
	vdrv__post(&t.v, RXQ, 0);
	peer_send(65550, 11);
	vdrv__wait_used(&t.v, RXQ, 1);
	ck_assert_uint_eq(vdrv__used(&t.v, RXQ)->ring[0].len, HDR + 65550);
	ck_assert(has_pattern(vdrv__host(&t.v, RXBUF + HDR), 65550, 11));
}
END_TEST

START_TEST(rx_buffer_smaller_than_the_header_needs_reset)
{
	driver_init();
	vdrv__desc(&t.v, RXQ, 0, RXBUF, HDR - 1, F_WRITE, 0);
	vdrv__post(&t.v, RXQ, 0);
	peer_send(60, 0);
	vdrv__wait_needs_reset(&t.v);
	ck_assert_uint_eq(vdrv__used_idx(&t.v, RXQ), 0);
	/* The worker raises the config interrupt just after it sets the status bit. */
	for (int i = 0; i < 5000 && !vdrv__rd(&t.v, VIRTIO_MMIO_INTERRUPT_STATUS); i++)
		vdrv__msleep(1);
	ck_assert_uint_eq(vdrv__rd(&t.v, VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_CONFIG);
}
END_TEST

START_TEST(rx_chain_without_writable_space_needs_reset)
{
	driver_init();
	vdrv__desc(&t.v, RXQ, 0, RXBUF, 2048, 0, 0);		/* device-readable */
	vdrv__post(&t.v, RXQ, 0);
	peer_send(60, 0);
	vdrv__wait_needs_reset(&t.v);
	ck_assert_uint_eq(vdrv__used_idx(&t.v, RXQ), 0);
	ck_assert_uint_eq(*(u8 *)vdrv__host(&t.v, RXBUF + HDR), 0);
}
END_TEST

START_TEST(rx_hostile_buffer_needs_reset)
{
	driver_init();
	vdrv__desc(&t.v, RXQ, 0, G(RAM_SIZE - 16), 2048, F_WRITE, 0);	/* runs past RAM */
	vdrv__post(&t.v, RXQ, 0);
	peer_send(60, 0);
	vdrv__wait_needs_reset(&t.v);
	ck_assert_uint_eq(vdrv__used_idx(&t.v, RXQ), 0);
}
END_TEST

/* --- reset and teardown --- */

START_TEST(reset_and_again)
{
	u8 got[256];

	driver_init();
	vdrv__desc(&t.v, RXQ, 0, RXBUF, 512, F_WRITE, 0);
	vdrv__post(&t.v, RXQ, 0);
	peer_send(1000, 1);		/* half delivered when the driver resets */
	vdrv__msleep(100);
	ck_assert_uint_eq(vdrv__used_idx(&t.v, RXQ), 0);
	driver_init();
	ck_assert_uint_eq(vdrv__rd(&t.v, VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	vdrv__desc(&t.v, RXQ, 0, RXBUF + 0x1000, 2048, F_WRITE, 0);
	vdrv__post(&t.v, RXQ, 0);
	peer_send(70, 2);
	vdrv__wait_used(&t.v, RXQ, 1);
	ck_assert_uint_eq(vdrv__used(&t.v, RXQ)->ring[0].len, HDR + 70);
	ck_assert(has_pattern(vdrv__host(&t.v, RXBUF + 0x1000 + HDR), 70, 2));
	memset(vdrv__host(&t.v, TXBUF), 0, HDR + 60);
	tx_one(0, HDR + 60, 0);
	ck_assert_int_eq(peer_recv(got, sizeof(got), 5000), HDR + 60);
}
END_TEST

/*
 * QueueReady 0 takes the receive queue away without a reset: a frame half delivered into its
 * buffers goes with it, and the queue set up again (smaller: 200 buffers were more than the new
 * ring has) gets the next frame whole, from its first buffer on.
 */
START_TEST(rx_queue_stop_drops_a_half_delivered_frame)
{
	t.v.qsize = 256;
	driver_init();
	for (u16 i = 0; i < 200; i++) {
		vdrv__desc(&t.v, RXQ, i, RXBUF + i * 16u, 16, F_WRITE, 0);
		vdrv__offer(&t.v, RXQ, i);
	}
	vdrv__notify(&t.v, RXQ);
	peer_send(60000, 1);		/* 200 buffers take 3188 bytes of it */
	vdrv__wait_taken(&t.v, RXQ);
	ck_assert_uint_eq(vdrv__used_idx(&t.v, RXQ), 0);
	vdrv__stop_queue(&t.v, RXQ);
	t.v.qsize = QSIZE;
	vdrv__setup_queue(&t.v, RXQ);
	for (u16 i = 0; i < QSIZE; i++) {
		vdrv__desc(&t.v, RXQ, i, RXBUF + 0x10000 + i * 0x1000u, 2048, F_WRITE, 0);
		vdrv__offer(&t.v, RXQ, i);
	}
	vdrv__notify(&t.v, RXQ);
	peer_send(100, 7);
	vdrv__wait_used(&t.v, RXQ, 1);
	ck_assert_uint_eq(vdrv__used(&t.v, RXQ)->ring[0].id, 0);
	ck_assert_uint_eq(vdrv__used(&t.v, RXQ)->ring[0].len, HDR + 100);
	ck_assert_uint_eq(num_buffers(RXBUF + 0x10000), 1);
	ck_assert(has_pattern(vdrv__host(&t.v, RXBUF + 0x10000 + HDR), 100, 7));
	ck_assert_uint_eq(vdrv__rd(&t.v, VIRTIO_MMIO_STATUS), VDRV_S_ALL);
}
END_TEST

/*
 * QueueReady 0 on the transmit queue while the backend is full: the frame held for it was the old
 * ring's, its head must not come back in the new one.
 */
START_TEST(tx_queue_stop_forgets_a_held_frame)
{
	int sndbuf = 4096;
	u8 got[2048];
	u16 posted = 0, used = (u16)-1;

	driver_init();
	ck_assert_int_eq(setsockopt(t.dev_fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf)), 0);
	memset(vdrv__host(&t.v, TXBUF), 0, HDR + 1000);
	for (unsigned int i = 0; i < QSIZE; i++)
		vdrv__desc(&t.v, TXQ, i, TXBUF, HDR + 1000, 0, 0);
	/* Frames until the backend is full and the ring stays full: the worker holds one. */
	while (used != vdrv__used_idx(&t.v, TXQ)) {
		used = vdrv__used_idx(&t.v, TXQ);
		while ((u16)(posted - vdrv__used_idx(&t.v, TXQ)) < QSIZE) {
			vdrv__post(&t.v, TXQ, (u16)(posted % QSIZE));
			posted++;
		}
		vdrv__msleep(200);
	}
	vdrv__stop_queue(&t.v, TXQ);
	vdrv__setup_queue(&t.v, TXQ);
	while (peer_recv(got, sizeof(got), 200) > 0)
		;
	memset(vdrv__host(&t.v, TXBUF + 0x10000), 0, HDR);
	fill_pattern(vdrv__host(&t.v, TXBUF + 0x10000 + HDR), 60, 0xab);
	vdrv__desc(&t.v, TXQ, 3, TXBUF + 0x10000, HDR + 60, 0, 0);
	vdrv__post(&t.v, TXQ, 3);
	ck_assert_int_eq(peer_recv(got, sizeof(got), 5000), HDR + 60);
	ck_assert(has_pattern(got + HDR, 60, 0xab));
	vdrv__wait_used(&t.v, TXQ, 1);
	ck_assert_uint_eq(vdrv__used(&t.v, TXQ)->ring[0].id, 3);
	vdrv__msleep(100);
	ck_assert_uint_eq(vdrv__used_idx(&t.v, TXQ), 1);
	ck_assert_int_eq(peer_recv(got, sizeof(got), 100), -1);
}
END_TEST

START_TEST(backend_hangup_drops_frames)
{
	struct timespec a, b;
	long cpu_ms;

	driver_init();
	close(t.peer);
	t.peer = -1;
	memset(vdrv__host(&t.v, TXBUF), 0, HDR + 60);
	tx_one(0, HDR + 60, 0);
	tx_one(1, HDR + 60, 0);
	vdrv__wait_used(&t.v, TXQ, 2);		/* the guest gets its buffers back */
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &a);
	vdrv__msleep(200);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &b);
	cpu_ms = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
	ck_assert_int_lt(cpu_ms, 100);
	ck_assert_uint_eq(vdrv__rd(&t.v, VIRTIO_MMIO_STATUS) & S_NEEDS_RESET, 0);
}
END_TEST

START_TEST(exit_with_frames_in_flight)
{
	driver_init();
	vdrv__desc(&t.v, RXQ, 0, RXBUF, 256, F_WRITE, 0);
	vdrv__post(&t.v, RXQ, 0);
	peer_send(1000, 0);
	peer_send(1000, 0);
	vdrv__msleep(50);
	virtio_net__exit(&t.v.kvm);
	ck_assert_ptr_null(t.v.kvm.virtio_devs);
	ck_assert_ptr_null(t.v.kvm.mmio.regions);
}
END_TEST

/* --- the user-mode backend (-n mode=user): libslirp behind the device's fd --- */

#define GUEST_IP	0xc0a8210fu	/* kvmtool's defaults */
#define HOST_IP		0xc0a82101u

static const u8 gmac[6] = { 0x02, 0x15, 0x15, 0x15, 0x15, 0x00 };
/* libslirp's gateway: 52:55 and its IPv4 address. */
static const u8 slirp_mac[6] = { 0x52, 0x55, 0xc0, 0xa8, 0x21, 0x01 };

static void put16(u8 *p, unsigned int v)
{
	p[0] = (u8)(v >> 8);
	p[1] = (u8)v;
}

static void put32(u8 *p, u32 v)
{
	put16(p, v >> 16);
	put16(p + 2, v & 0xffff);
}

static u32 get32(const u8 *p)
{
	return (u32)p[0] << 24 | (u32)p[1] << 16 | (u32)p[2] << 8 | p[3];
}

/* Sends one frame (after a zeroed header) into the backend, as the device would. */
static void user_send(int fd, const u8 *frame, size_t len)
{
	static u8 msg[HDR + 2048];

	ck_assert_uint_le(len, sizeof(msg) - HDR);
	memset(msg, 0, HDR);
	memcpy(msg + HDR, frame, len);
	ck_assert_int_eq(send(fd, msg, HDR + len, 0), (ssize_t)(HDR + len));
}

/* The next frame from the backend whose EtherType is type, its length; 0 if none in 10 s. */
static size_t user_recv(int fd, unsigned int type, u8 *frame, size_t size)
{
	static u8 msg[HDR + 65550];
	time_t end = time(NULL) + 10;

	while (time(NULL) < end) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t r;

		if (poll(&p, 1, 1000) != 1)
			continue;
		r = recv(fd, msg, sizeof(msg), 0);
		ck_assert_int_ge(r, HDR + 14);
		/* The header says nothing: no offload. */
		for (int i = 0; i < HDR; i++)
			ck_assert_uint_eq(msg[i], 0);
		if (((unsigned int)msg[HDR + 12] << 8 | msg[HDR + 13]) != type)
			continue;
		ck_assert_uint_le((size_t)r - HDR, size);
		memcpy(frame, msg + HDR, (size_t)r - HDR);
		return (size_t)r - HDR;
	}
	return 0;
}

static size_t arp_request(u8 *f, u32 target)
{
	memset(f, 0xff, 6);
	memcpy(f + 6, gmac, 6);
	put16(f + 12, 0x0806);
	put16(f + 14, 1);		/* Ethernet */
	put16(f + 16, 0x0800);		/* IPv4 */
	f[18] = 6;
	f[19] = 4;
	put16(f + 20, 1);		/* request */
	memcpy(f + 22, gmac, 6);
	put32(f + 28, GUEST_IP);
	memset(f + 32, 0, 6);
	put32(f + 38, target);
	return 42;
}

/* A DHCPDISCOVER from gmac, as a client with no address sends it. */
static size_t dhcp_discover(u8 *f)
{
	u8 *ip = f + 14, *udp = ip + 20, *b = udp + 8;
	size_t blen = 240 + 4, len;
	u32 sum = 0;

	memset(f, 0, 14 + 20 + 8 + blen);
	memset(f, 0xff, 6);
	memcpy(f + 6, gmac, 6);
	put16(f + 12, 0x0800);
	b[0] = 1;			/* BOOTREQUEST */
	b[1] = 1;
	b[2] = 6;
	put32(b + 4, 0x1234abcd);	/* xid */
	memcpy(b + 28, gmac, 6);
	put32(b + 236, 0x63825363);	/* magic cookie */
	b[240] = 53;			/* DHCP message type: DISCOVER */
	b[241] = 1;
	b[242] = 1;
	b[243] = 255;
	put16(udp, 68);
	put16(udp + 2, 67);
	put16(udp + 4, 8 + blen);	/* checksum 0: none */
	len = 20 + 8 + blen;
	ip[0] = 0x45;
	put16(ip + 2, len);
	ip[8] = 64;
	ip[9] = 17;
	put32(ip + 16, 0xffffffff);
	for (int i = 0; i < 20; i += 2)
		sum += (u32)ip[i] << 8 | ip[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	put16(ip + 10, ~sum & 0xffff);
	return 14 + len;
}

/* A DHCP option's value in the reply at b (the BOOTP message), or NULL. */
static const u8 *dhcp_option(const u8 *b, size_t len, u8 code)
{
	for (size_t i = 240; i + 1 < len && b[i] != 255;) {
		if (b[i] == 0) {
			i++;
			continue;
		}
		if (b[i] == code && i + 2 + b[i + 1] <= len)
			return b + i + 2;
		i += 2 + b[i + 1];
	}
	return NULL;
}

static struct {
	struct net_backend *be;
	int fd;
} u;

static void user_setup(void)
{
	struct net_spec spec = { .mode = NET_USER, .guest_ip = GUEST_IP, .host_ip = HOST_IP };

	signal(SIGPIPE, SIG_IGN);
	memcpy(spec.guest_mac, gmac, sizeof(gmac));
	u.be = NULL;
	u.fd = net_user__open(&spec, &u.be);
	ck_assert_int_ge(u.fd, 0);
	ck_assert_ptr_nonnull(u.be);
}

static void user_teardown(void)
{
	if (u.fd >= 0)
		close(u.fd);
	u.be->close(u.be);	/* stops and joins the thread: a hang here fails on the timeout */
}

/* libslirp answers ARP for its gateway, host_ip, with its MAC. */
START_TEST(user_answers_arp)
{
	u8 f[2048];

	user_send(u.fd, f, arp_request(f, HOST_IP));
	ck_assert_uint_ge(user_recv(u.fd, 0x0806, f, sizeof(f)), 42);
	ck_assert_mem_eq(f, gmac, 6);
	ck_assert_uint_eq((unsigned int)f[20] << 8 | f[21], 2);	/* reply */
	ck_assert_mem_eq(f + 22, slirp_mac, 6);
	ck_assert_uint_eq(get32(f + 28), HOST_IP);
}
END_TEST

/*
 * The guest's frames are the guest's: a message shorter than header and Ethernet header, and
 * one longer than the largest frame, are dropped unread by libslirp, and the network goes on.
 */
START_TEST(user_drops_bad_lengths)
{
	static u8 big[HDR + 65551];
	u8 f[2048];

	ck_assert_int_eq(send(u.fd, big, HDR + 13, 0), HDR + 13);
	ck_assert_int_eq(send(u.fd, big, 3, 0), 3);
	ck_assert_int_eq(send(u.fd, big, sizeof(big), 0), (ssize_t)sizeof(big));
	user_send(u.fd, f, arp_request(f, HOST_IP));
	ck_assert_uint_ge(user_recv(u.fd, 0x0806, f, sizeof(f)), 42);
	ck_assert_mem_eq(f + 22, slirp_mac, 6);
}
END_TEST

/*
 * DHCP offers guest_ip, with host_ip as the router and the DNS address next to it (host_ip + 1:
 * any port of host_ip is the host's own).
 */
START_TEST(user_dhcp_offers_the_guest_ip)
{
	u8 f[2048];
	const u8 *b, *o;
	size_t len;

	user_send(u.fd, f, dhcp_discover(f));
	len = user_recv(u.fd, 0x0800, f, sizeof(f));
	ck_assert_uint_ge(len, 14 + 20 + 8 + 240);
	ck_assert_uint_eq(f[14 + 9], 17);			/* UDP */
	ck_assert_uint_eq((unsigned int)f[14 + 20 + 2] << 8 | f[14 + 20 + 3], 68);
	b = f + 14 + 20 + 8;
	len -= 14 + 20 + 8;
	ck_assert_uint_eq(b[0], 2);				/* BOOTREPLY */
	ck_assert_uint_eq(get32(b + 4), 0x1234abcd);
	ck_assert_uint_eq(get32(b + 16), GUEST_IP);		/* yiaddr */
	o = dhcp_option(b, len, 53);
	ck_assert_ptr_nonnull(o);
	ck_assert_uint_eq(o[0], 2);				/* OFFER */
	o = dhcp_option(b, len, 1);
	ck_assert_ptr_nonnull(o);
	ck_assert_uint_eq(get32(o), 0xffffff00);		/* netmask */
	o = dhcp_option(b, len, 3);
	ck_assert_ptr_nonnull(o);
	ck_assert_uint_eq(get32(o), HOST_IP);			/* router */
	o = dhcp_option(b, len, 6);
	ck_assert_ptr_nonnull(o);
	ck_assert_uint_eq(get32(o), HOST_IP + 1);		/* DNS */
}
END_TEST

/* The device closing its end first (virtio_net__exit's order) leaves a clean stop. */
START_TEST(user_stops_after_the_device_left)
{
	u8 f[2048];

	user_send(u.fd, f, arp_request(f, HOST_IP));
	close(u.fd);
	u.fd = -1;
	vdrv__msleep(100);
}
END_TEST

Suite *virtio_net_suite(void)
{
	Suite *s = suite_create("virtio-net");
	TCase *dev = tcase_create("device");
	TCase *tx = tcase_create("transmit");
	TCase *rx = tcase_create("receive");
	TCase *user = tcase_create("user");

	/* The worker answers asynchronously: room for the waits of a busy machine. */
	tcase_set_timeout(dev, 30);
	tcase_set_timeout(tx, 30);
	tcase_set_timeout(rx, 30);
	tcase_set_timeout(user, 60);
	tcase_add_checked_fixture(dev, setup, teardown);
	tcase_add_test(dev, identity);
	tcase_add_test(dev, no_device_without_the_option);
	tcase_add_test(dev, reset_and_again);
	tcase_add_test(dev, rx_queue_stop_drops_a_half_delivered_frame);
	tcase_add_test(dev, tx_queue_stop_forgets_a_held_frame);
	tcase_add_test(dev, backend_hangup_drops_frames);
	tcase_add_test(dev, exit_with_frames_in_flight);
	suite_add_tcase(s, dev);

	tcase_add_checked_fixture(tx, setup, teardown);
	tcase_add_test(tx, tx_reaches_the_backend);
	tcase_add_test(tx, tx_malformed_is_dropped);
	tcase_add_test(tx, tx_largest_frame_goes);
	tcase_add_test(tx, tx_waits_for_room_in_the_backend);
	tcase_add_test(tx, tx_many_frames_on_one_notification);
	suite_add_tcase(s, tx);

	tcase_add_checked_fixture(rx, setup, teardown);
	tcase_add_test(rx, rx_fills_a_buffer);
	tcase_add_test(rx, rx_merges_buffers);
	tcase_add_test(rx, rx_frame_waits_for_more_buffers);
	tcase_add_test(rx, rx_waits_for_buffers_without_spinning);
	tcase_add_test(rx, rx_without_mergeable_buffers);
	tcase_add_test(rx, rx_bad_frames_from_the_backend_are_dropped);
	tcase_add_test(rx, rx_largest_frame_is_delivered);
	tcase_add_test(rx, rx_buffer_smaller_than_the_header_needs_reset);
	tcase_add_test(rx, rx_chain_without_writable_space_needs_reset);
	tcase_add_test(rx, rx_hostile_buffer_needs_reset);
	suite_add_tcase(s, rx);
	tcase_add_checked_fixture(user, user_setup, user_teardown);
	tcase_add_test(user, user_answers_arp);
	tcase_add_test(user, user_drops_bad_lengths);
	tcase_add_test(user, user_dhcp_offers_the_guest_ip);
	tcase_add_test(user, user_stops_after_the_device_left);
	suite_add_tcase(s, user);
	return s;
}
