/*
 * virtio-balloon through the MMIO bus, as a driver sees it: config space in every width, the
 * inflate and deflate queues with good and hostile PFN buffers, and `lkvm balloon`'s target
 * arithmetic (virtio_balloon__set).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <linux/virtio_balloon.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_mmio.h>

#include "lkvm/control.h"
#include "lkvm/kvm.h"
#include "lkvm/memory-map.h"
#include "lkvm/virtio-balloon.h"
#include "lkvm/virtio.h"
#include "suites.h"
#include "vdriver.h"

#define RAM_SIZE	(64ULL << 20)
#define BUF		G(0x20000)			/* PFN buffers */
#define DATA		G(0x100000)			/* pages to balloon: from 1M on */
#define DATA_PFN	((u32)(DATA >> 12))
#define INFQ		0
#define DEFQ		1
#define STATQ		2

static struct {
	struct vdrv v;
	char out[512];
} t;

static void driver_init_with(bool stats)
{
	t.v.nr_queues = stats ? 3 : 2;
	vdrv__init_driver(&t.v, stats ? 1ULL << VIRTIO_BALLOON_F_STATS_VQ : 0);
}

static void driver_init(void)
{
	driver_init_with(false);
}

/* Posts the chain at head and notifies; checks that the device gave it back. */
static void post(unsigned int q, u16 head)
{
	vdrv__run(&t.v, q, head);
	ck_assert_uint_eq(vdrv__used(&t.v, q)->ring[(u16)(vdrv__used_idx(&t.v, q) - 1) %
						       t.v.qsize].len, 0);
	ck_assert_uint_eq(vdrv__rd(&t.v, VIRTIO_MMIO_STATUS), VDRV_S_ALL);	/* not broken */
}

/* Writes PFNs as the guest does (little-endian u32s) at gpa; returns their bytes. */
static u32 pfns_at(u64 gpa, const u32 *pfns, unsigned int n)
{
	u8 *p = vdrv__host(&t.v, gpa);

	for (unsigned int i = 0; i < n; i++)
		for (unsigned int b = 0; b < 4; b++)
			p[4 * i + b] = (u8)(pfns[i] >> (8 * b));
	return 4 * n;
}

/* One buffer of PFNs on queue q. */
static void send_pfns(unsigned int q, const u32 *pfns, unsigned int n)
{
	vdrv__desc(&t.v, q, 0, BUF, pfns_at(BUF, pfns, n), 0, 0);
	post(q, 0);
}

static void fill(u32 pfn, u8 v)
{
	memset(vdrv__host(&t.v, (u64)pfn << 12), v, 4096);
}

/* Whether this page reads all v. */
static bool page_is(u32 pfn, u8 v)
{
	const u8 *p = vdrv__host(&t.v, (u64)pfn << 12);

	for (unsigned int i = 0; i < 4096; i++)
		if (p[i] != v)
			return false;
	return true;
}

/*
 * Whether madvise(MADV_DONTNEED) empties private anonymous memory here: it does on Linux, but
 * qemu-user may take it as a mere hint. Where it does not, "released" cannot be seen.
 */
static bool dontneed_works(void)
{
	u8 *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	bool works;

	ck_assert(p != MAP_FAILED);
	p[0] = 1;
	works = !madvise(p, 4096, MADV_DONTNEED) && p[0] == 0;
	munmap(p, 4096);
	return works;
}

static void setup_ram(u64 ram_size, bool balloon)
{
	memset(&t, 0, sizeof(t));
	vdrv__setup(&t.v, ram_size);
	t.v.wait_ms = 0;		/* the device answers during the notification */
	t.v.cfg.balloon = balloon;
	t.v.cfg.ram_size = ram_size;
	ck_assert_int_eq(virtio_balloon__init(&t.v.kvm), 0);
}

static void setup(void)
{
	setup_ram(RAM_SIZE, true);
}

static void teardown(void)
{
	virtio_balloon__exit(&t.v.kvm);
	vdrv__teardown(&t.v);
}

/* What `lkvm balloon` sends, as the control server hands it over. */
static int request(const char *args)
{
	enum balloon_op op;
	u64 bytes;
	int err = ctl__parse_balloon(args, &op, &bytes);

	return err ? err : virtio_balloon__set(&t.v.kvm, op, bytes, t.out, sizeof(t.out));
}

static void expect_out(const char *needle)
{
	ck_assert_msg(strstr(t.out, needle), "'%s' not in '%s'", needle, t.out);
}

/* --- the device --- */

START_TEST(identity)
{
	ck_assert_uint_eq(vdrv__rd(&t.v, VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_BALLOON);
	vdrv__wr(&t.v, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	/* Stats, and no DEFLATE_ON_OOM: the guest's MemTotal must shrink. */
	ck_assert_uint_eq(vdrv__rd(&t.v, VIRTIO_MMIO_DEVICE_FEATURES) & 0xffffff,
			  1U << VIRTIO_BALLOON_F_STATS_VQ);
	vdrv__wr(&t.v, VIRTIO_MMIO_QUEUE_SEL, 2);
	ck_assert_uint_eq(vdrv__rd(&t.v, VIRTIO_MMIO_QUEUE_NUM_MAX), VIRTQ_MAX_SIZE);
	vdrv__wr(&t.v, VIRTIO_MMIO_QUEUE_SEL, 3);		/* inflate, deflate, stats */
	ck_assert_uint_eq(vdrv__rd(&t.v, VIRTIO_MMIO_QUEUE_NUM_MAX), 0);
}
END_TEST

START_TEST(absent_without_the_option)
{
	u8 d[4];

	teardown();
	setup_ram(RAM_SIZE, false);
	ck_assert(!vdrv__access(&t.v, 0, d, 4, false));
	ck_assert_int_eq(request(""), -ENODEV);
	ck_assert_str_eq(t.out, "balloon: this VM has no balloon (start it with --balloon)");
	ck_assert_int_eq(request("inflate 1M"), -ENODEV);
}
END_TEST

START_TEST(config_reads_every_width)
{
	ck_assert_int_eq(request("inflate 8M"), 0);	/* num_pages 2048 = 0x800 */
	vdrv__cfg_wr(&t.v, 4, 4, 0x04030201);			/* actual */
	ck_assert_uint_eq(vdrv__cfg_rd(&t.v, 0, 4), 0x800);
	ck_assert_uint_eq(vdrv__cfg_rd(&t.v, 4, 4), 0x04030201);
	ck_assert_uint_eq(vdrv__cfg_rd(&t.v, 0, 8), 0x0403020100000800ULL);
	ck_assert_uint_eq(vdrv__cfg_rd(&t.v, 0, 2), 0x800);
	ck_assert_uint_eq(vdrv__cfg_rd(&t.v, 1, 1), 0x08);
	ck_assert_uint_eq(vdrv__cfg_rd(&t.v, 6, 2), 0x0403);
	ck_assert_uint_eq(vdrv__cfg_rd(&t.v, 7, 1), 0x04);
	ck_assert_uint_eq(vdrv__cfg_rd(&t.v, 2, 4), 0x02010000);	/* across both fields */
	/* Beyond the 8 bytes: nothing there, whatever the width. */
	ck_assert_uint_eq(vdrv__cfg_rd(&t.v, 8, 4), 0);
	ck_assert_uint_eq(vdrv__cfg_rd(&t.v, 4, 8), 0);
	ck_assert_uint_eq(vdrv__cfg_rd(&t.v, 0xff, 1), 0);
}
END_TEST

START_TEST(config_writes_only_actual)
{
	ck_assert_int_eq(request("inflate 4M"), 0);	/* 1024 */
	vdrv__cfg_wr(&t.v, 4, 1, 0x11);
	ck_assert_uint_eq(vdrv__cfg_rd(&t.v, 4, 4), 0x11);
	vdrv__cfg_wr(&t.v, 5, 1, 0x22);
	vdrv__cfg_wr(&t.v, 6, 2, 0x4433);
	ck_assert_uint_eq(vdrv__cfg_rd(&t.v, 4, 4), 0x44332211);
	vdrv__cfg_wr(&t.v, 4, 2, 0xbbaa);
	ck_assert_uint_eq(vdrv__cfg_rd(&t.v, 4, 4), 0x4433bbaa);
	/* num_pages is lkvm's: writes that touch it change nothing, not even actual. */
	vdrv__cfg_wr(&t.v, 0, 4, 0xdead);
	vdrv__cfg_wr(&t.v, 0, 1, 0xff);
	vdrv__cfg_wr(&t.v, 3, 2, 0xffff);
	vdrv__cfg_wr(&t.v, 0, 8, 0xffffffffffffffffULL);
	vdrv__cfg_wr(&t.v, 6, 4, 0xffffffff);			/* past the end */
	vdrv__cfg_wr(&t.v, 8, 4, 0xffffffff);
	ck_assert_uint_eq(vdrv__cfg_rd(&t.v, 0, 4), 1024);
	ck_assert_uint_eq(vdrv__cfg_rd(&t.v, 4, 4), 0x4433bbaa);
	ck_assert_int_eq(request(""), 0);
	expect_out("(1144241066 pages)");	/* 0x4433bbaa as actual, as the guest claims */
}
END_TEST

START_TEST(target_change_interrupts)
{
	u32 gen;

	driver_init();
	gen = vdrv__rd(&t.v, VIRTIO_MMIO_CONFIG_GENERATION);
	ck_assert_uint_eq(vdrv__rd(&t.v, VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	ck_assert_int_eq(request("inflate 1M"), 0);
	ck_assert_uint_eq(vdrv__rd(&t.v, VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_CONFIG);
	ck_assert_uint_ne(vdrv__rd(&t.v, VIRTIO_MMIO_CONFIG_GENERATION), gen);
	vdrv__wr(&t.v, VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_MMIO_INT_CONFIG);
	/* A query, or a change that changes nothing, does not disturb the guest. */
	gen = vdrv__rd(&t.v, VIRTIO_MMIO_CONFIG_GENERATION);
	ck_assert_int_eq(request(""), 0);
	ck_assert_int_eq(request("inflate 0"), 0);
	ck_assert_uint_eq(vdrv__rd(&t.v, VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	ck_assert_uint_eq(vdrv__rd(&t.v, VIRTIO_MMIO_CONFIG_GENERATION), gen);
}
END_TEST

START_TEST(inflate_releases_pages)
{
	u32 pfns[] = { DATA_PFN, DATA_PFN + 1, DATA_PFN + 3 };
	bool released = dontneed_works();

	driver_init();
	for (u32 p = DATA_PFN; p < DATA_PFN + 4; p++)
		fill(p, 0x5a);
	send_pfns(INFQ, pfns, 3);
	ck_assert_uint_eq(vdrv__rd(&t.v, VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_VRING);
	ck_assert(page_is(DATA_PFN + 2, 0x5a));		/* not in the balloon: untouched */
	if (released) {
		ck_assert(page_is(DATA_PFN, 0));
		ck_assert(page_is(DATA_PFN + 1, 0));
		ck_assert(page_is(DATA_PFN + 3, 0));
	}
	/* The guest may touch a ballooned page (it should not): it is RAM, only empty. */
	fill(DATA_PFN, 0x77);
	ck_assert(page_is(DATA_PFN, 0x77));
}
END_TEST

/* The guest's PFN buffer sits anywhere and may be split anywhere, even inside a PFN. */
START_TEST(inflate_misaligned_buffers)
{
	u32 pfns[] = { DATA_PFN + 5, DATA_PFN + 6, DATA_PFN + 7 };
	bool released = dontneed_works();

	driver_init();
	for (u32 p = DATA_PFN + 5; p < DATA_PFN + 8; p++)
		fill(p, 0x33);
	pfns_at(BUF + 3, pfns, 3);
	/* PFN 1 and a byte of PFN 2, nothing, the rest of PFN 2, PFN 3. */
	vdrv__desc(&t.v, INFQ, 0, BUF + 3, 5, VRING_DESC_F_NEXT, 1);
	vdrv__desc(&t.v, INFQ, 1, BUF + 8, 0, VRING_DESC_F_NEXT, 2);
	vdrv__desc(&t.v, INFQ, 2, BUF + 8, 3, VRING_DESC_F_NEXT, 3);
	vdrv__desc(&t.v, INFQ, 3, BUF + 11, 4, 0, 0);
	post(INFQ, 0);
	if (released)
		for (u32 p = DATA_PFN + 5; p < DATA_PFN + 8; p++)
			ck_assert(page_is(p, 0));
}
END_TEST

START_TEST(inflate_skips_pfns_outside_ram)
{
	u32 pfns[] = {
		0,					/* far below RAM */
		(u32)(LKVM_RAM_BASE >> 12) - 1,		/* the page just below */
		(u32)((LKVM_RAM_BASE + RAM_SIZE) >> 12),	/* the page just past the end */
		0xffffffff,
		(u32)(LKVM_VIRTIO_MMIO_BASE >> 12),	/* the device itself */
		DATA_PFN + 9,				/* and one good one among them */
	};
	bool released = dontneed_works();

	driver_init();
	fill(DATA_PFN + 9, 0x44);
	fill((u32)((LKVM_RAM_BASE + RAM_SIZE) >> 12) - 1, 0x44);	/* the last page */
	send_pfns(INFQ, pfns, ARRAY_SIZE(pfns));
	ck_assert(!released || page_is(DATA_PFN + 9, 0));
	ck_assert(page_is((u32)((LKVM_RAM_BASE + RAM_SIZE) >> 12) - 1, 0x44));
	/* The last page of RAM is RAM. */
	pfns[0] = (u32)((LKVM_RAM_BASE + RAM_SIZE) >> 12) - 1;
	send_pfns(INFQ, pfns, 1);
	ck_assert(!released || page_is(pfns[0], 0));
}
END_TEST

/* 10 bytes are two PFNs and half of one: the two count, the rest is ignored, nothing breaks. */
START_TEST(inflate_odd_lengths)
{
	u32 pfns[] = { DATA_PFN + 12, DATA_PFN + 13, DATA_PFN + 14 };
	bool released = dontneed_works();

	driver_init();
	for (u32 p = DATA_PFN + 12; p < DATA_PFN + 15; p++)
		fill(p, 0x66);
	pfns_at(BUF, pfns, 3);
	vdrv__desc(&t.v, INFQ, 0, BUF, 10, 0, 0);
	post(INFQ, 0);
	ck_assert(!released || page_is(DATA_PFN + 12, 0));
	ck_assert(!released || page_is(DATA_PFN + 13, 0));
	ck_assert(page_is(DATA_PFN + 14, 0x66));
	for (u32 len = 1; len < 4; len++) {		/* less than one PFN */
		vdrv__desc(&t.v, INFQ, 0, BUF + 8, len, 0, 0);
		post(INFQ, 0);
		ck_assert(page_is(DATA_PFN + 14, 0x66));
	}
	vdrv__desc(&t.v, INFQ, 0, BUF, 0, 0, 0);			/* nothing at all */
	post(INFQ, 0);
	/* Device-writable buffers are no PFNs: ignored, though the chain comes back. */
	vdrv__desc(&t.v, INFQ, 0, BUF + 8, 4, VRING_DESC_F_WRITE, 0);
	post(INFQ, 0);
	ck_assert(page_is(DATA_PFN + 14, 0x66));
	ck_assert_uint_eq(*(u32 *)vdrv__host(&t.v, BUF + 8), DATA_PFN + 14);
}
END_TEST

/* Deflated pages are the guest's again: inflating one later releases it again. */
START_TEST(deflate_then_inflate_again)
{
	u32 pfn = DATA_PFN + 20, bad = 0x10;
	bool released = dontneed_works();

	driver_init();
	send_pfns(INFQ, &pfn, 1);
	send_pfns(DEFQ, &pfn, 1);
	send_pfns(DEFQ, &pfn, 1);			/* twice: no harm */
	send_pfns(DEFQ, &bad, 1);			/* outside RAM: skipped */
	pfn = DATA_PFN + 21;
	send_pfns(DEFQ, &pfn, 1);			/* never inflated */
	pfn = DATA_PFN + 20;
	fill(pfn, 0x99);
	ck_assert(page_is(pfn, 0x99));
	send_pfns(INFQ, &pfn, 1);
	ck_assert(!released || page_is(pfn, 0));
	/* Inflated twice without a deflate: the second is a no-op, the page stays the guest's. */
	fill(pfn, 0x98);
	send_pfns(INFQ, &pfn, 1);
	ck_assert(page_is(pfn, 0x98));
}
END_TEST

/* After a reset nothing is in the balloon: an inflate releases a page again. The target stays. */
START_TEST(reset_empties_the_balloon)
{
	u32 pfn = DATA_PFN + 30;
	bool released = dontneed_works();

	driver_init();
	ck_assert_int_eq(request("inflate 2M"), 0);
	vdrv__cfg_wr(&t.v, 4, 4, 512);
	send_pfns(INFQ, &pfn, 1);
	fill(pfn, 0x12);
	driver_init();					/* resets, new rings */
	ck_assert_uint_eq(vdrv__cfg_rd(&t.v, 4, 4), 0);
	ck_assert_uint_eq(vdrv__cfg_rd(&t.v, 0, 4), 512);
	send_pfns(INFQ, &pfn, 1);
	ck_assert(!released || page_is(pfn, 0));
}
END_TEST

/* --- the statistics queue --- */

/* Writes n (tag, value) entries at gpa as the guest does: packed le16 + le64. */
static u32 stats_at(u64 gpa, const u16 *tags, const u64 *vals, unsigned int n)
{
	u8 *p = vdrv__host(&t.v, gpa);

	for (unsigned int i = 0; i < n; i++, p += 10) {
		p[0] = (u8)tags[i];
		p[1] = (u8)(tags[i] >> 8);
		for (unsigned int b = 0; b < 8; b++)
			p[2 + b] = (u8)(vals[i] >> (8 * b));
	}
	return 10 * n;
}

START_TEST(stats_kept_until_asked)
{
	static const u16 tags[] = { VIRTIO_BALLOON_S_MEMFREE, VIRTIO_BALLOON_S_MEMTOT,
				    VIRTIO_BALLOON_S_MINFLT, 99, 0xffff };
	static const u64 vals[] = { 100ULL << 20, 200ULL << 20, 7, 1, 2 };

	driver_init_with(true);
	ck_assert_int_eq(request(""), 0);
	ck_assert_ptr_null(strchr(t.out, '\n'));	/* nothing from the guest yet */
	vdrv__desc(&t.v, STATQ, 0, BUF, stats_at(BUF, tags, vals, 5), 0, 0);
	vdrv__post(&t.v, STATQ, 0);
	ck_assert_uint_eq(vdrv__used(&t.v, STATQ)->idx, 0);	/* kept */
	ck_assert_uint_eq(vdrv__rd(&t.v, VIRTIO_MMIO_STATUS), VDRV_S_ALL);
	ck_assert_int_eq(request(""), 0);
	expect_out("RAM 64M\nguest stats (0s old): minor-faults 7 free 102400K total 204800K");
	ck_assert_ptr_null(strstr(t.out, "swap"));	/* not sent, not shown */
	/* Given back: the guest refreshes them. */
	ck_assert_uint_eq(vdrv__used(&t.v, STATQ)->idx, 1);
	ck_assert_uint_eq(vdrv__used(&t.v, STATQ)->ring[0].id, 0);
	ck_assert_uint_eq(vdrv__rd(&t.v, VIRTIO_MMIO_INTERRUPT_STATUS) & VIRTIO_MMIO_INT_VRING,
			  VIRTIO_MMIO_INT_VRING);
	/* Not held any more: the next request shows the same, gives nothing back. */
	ck_assert_int_eq(request("inflate 1M"), 0);
	expect_out("free 102400K");
	ck_assert_uint_eq(vdrv__used(&t.v, STATQ)->idx, 1);
}
END_TEST

START_TEST(stats_hostile_buffers)
{
	static u16 tags[40];
	static u64 vals[40];

	driver_init_with(true);
	/* A buffer and a half entry: the whole one counts. */
	tags[0] = VIRTIO_BALLOON_S_CACHES;
	vals[0] = 8192;
	vdrv__desc(&t.v, STATQ, 0, BUF, stats_at(BUF, tags, vals, 2) - 5, 0, 0);
	vdrv__post(&t.v, STATQ, 0);
	/* Another one meanwhile: the first comes back at once. Split in the middle of an entry. */
	tags[1] = VIRTIO_BALLOON_S_SWAP_IN;
	vals[1] = 3;
	stats_at(BUF + 0x100, tags + 1, vals + 1, 1);
	vdrv__desc(&t.v, STATQ, 1, BUF + 0x100, 3, VRING_DESC_F_NEXT, 2);
	vdrv__desc(&t.v, STATQ, 2, BUF + 0x103, 7, VRING_DESC_F_NEXT, 3);
	vdrv__desc(&t.v, STATQ, 3, BUF + 0x200, 16, VRING_DESC_F_WRITE, 0);	/* ignored */
	vdrv__post(&t.v, STATQ, 1);
	ck_assert_uint_eq(vdrv__used(&t.v, STATQ)->idx, 1);
	ck_assert_uint_eq(vdrv__used(&t.v, STATQ)->ring[0].id, 0);
	ck_assert_int_eq(request(""), 0);
	expect_out("swap-in 3 caches 8K");
	ck_assert_uint_eq(vdrv__used(&t.v, STATQ)->ring[1].id, 1);
	/* 40 entries: more than lkvm reads; the last ones are ignored. */
	for (unsigned int i = 0; i < 40; i++) {
		tags[i] = i < 32 ? VIRTIO_BALLOON_S_MAJFLT : VIRTIO_BALLOON_S_MINFLT;
		vals[i] = i;
	}
	vdrv__desc(&t.v, STATQ, 0, BUF, stats_at(BUF, tags, vals, 40), 0, 0);
	vdrv__post(&t.v, STATQ, 0);
	ck_assert_int_eq(request(""), 0);
	expect_out("major-faults 31 ");
	ck_assert_ptr_null(strstr(t.out, "minor-faults"));
	/* Nothing at all. */
	vdrv__desc(&t.v, STATQ, 0, BUF, 0, 0, 0);
	vdrv__post(&t.v, STATQ, 0);
	ck_assert_int_eq(request(""), 0);
	ck_assert_uint_eq(vdrv__used(&t.v, STATQ)->idx, 4);
	ck_assert_uint_eq(vdrv__rd(&t.v, VIRTIO_MMIO_STATUS), VDRV_S_ALL);
}
END_TEST

/* A reset takes the ring away: the buffer lkvm held must not go into the new one. */
START_TEST(stats_buffer_forgotten_at_reset)
{
	static const u16 tag = VIRTIO_BALLOON_S_MEMFREE;
	static const u64 val = 4096;

	driver_init_with(true);
	vdrv__desc(&t.v, STATQ, 0, BUF, stats_at(BUF, &tag, &val, 1), 0, 0);
	vdrv__post(&t.v, STATQ, 0);
	driver_init_with(true);
	ck_assert_int_eq(request(""), 0);
	expect_out("free 4K");				/* the last statistics stay */
	ck_assert_uint_eq(vdrv__used(&t.v, STATQ)->idx, 0);
}
END_TEST

/* QueueReady 0 takes the ring away too, without a reset: the held buffer goes with it. */
START_TEST(stats_buffer_forgotten_when_the_queue_stops)
{
	static const u16 tag = VIRTIO_BALLOON_S_MEMFREE;
	static const u64 val = 4096;

	driver_init_with(true);
	vdrv__desc(&t.v, STATQ, 0, BUF, stats_at(BUF, &tag, &val, 1), 0, 0);
	vdrv__post(&t.v, STATQ, 0);
	vdrv__stop_queue(&t.v, STATQ);
	vdrv__setup_queue(&t.v, STATQ);
	ck_assert_int_eq(request(""), 0);
	expect_out("free 4K");
	ck_assert_uint_eq(vdrv__used(&t.v, STATQ)->idx, 0);
	/* The new ring's buffer is held and given back as before. */
	vdrv__desc(&t.v, STATQ, 1, BUF, stats_at(BUF, &tag, &val, 1), 0, 0);
	vdrv__post(&t.v, STATQ, 1);
	ck_assert_int_eq(request(""), 0);
	ck_assert_uint_eq(vdrv__used(&t.v, STATQ)->idx, 1);
	ck_assert_uint_eq(vdrv__used(&t.v, STATQ)->ring[0].id, 1);
}
END_TEST

/* --- lkvm balloon's arithmetic: 64M of RAM, of which the guest keeps at least 16M --- */

START_TEST(target_inflate_deflate)
{
	ck_assert_int_eq(request(""), 0);
	ck_assert_str_eq(t.out, "target 0 (0 pages), actual 0 (0 pages), RAM 64M");
	ck_assert_int_eq(request("inflate 8M"), 0);
	ck_assert_str_eq(t.out, "target 8M (2048 pages), actual 0 (0 pages), RAM 64M");
	ck_assert_int_eq(request("inflate 16"), 0);	/* no suffix: MiB */
	expect_out("target 24M (6144 pages)");
	ck_assert_int_eq(request("deflate 4096K"), 0);
	expect_out("target 20M (5120 pages)");
	ck_assert_int_eq(request("inflate 1K"), 0);	/* rounded up to a page */
	expect_out("(5121 pages)");
	ck_assert_int_eq(request("deflate 4097B"), 0);	/* two pages */
	expect_out("(5119 pages)");
	ck_assert_int_eq(request("deflate 1G"), 0);	/* more than there is: to 0 */
	ck_assert_str_eq(t.out, "balloon: target clamped to 0: it was 20476K\n"
			 "target 0 (0 pages), actual 0 (0 pages), RAM 64M");
	ck_assert_uint_eq(vdrv__cfg_rd(&t.v, 0, 4), 0);
	ck_assert_int_eq(request("inflate 1GiB"), -ERANGE);
	ck_assert_int_eq(request(""), 0);
	expect_out("target 0 ");
}
END_TEST

START_TEST(target_clamped_to_leave_16m)
{
	ck_assert_int_eq(request("inflate 40M"), 0);
	ck_assert_int_eq(request("inflate 10M"), 0);	/* 50M > 48M */
	ck_assert_str_eq(t.out, "balloon: target clamped to 48M: the guest keeps at least 16M\n"
			 "target 48M (12288 pages), actual 0 (0 pages), RAM 64M");
	ck_assert_uint_eq(vdrv__cfg_rd(&t.v, 0, 4), 12288);
	ck_assert_int_eq(request("inflate 16M"), 0);	/* exactly RAM: still clamped */
	expect_out("clamped to 48M");
	/* Beyond RAM: refused, the target stays. */
	ck_assert_int_eq(request("inflate 17M"), -ERANGE);
	ck_assert_str_eq(t.out, "balloon: inflate 17M: the target would be beyond the guest's 64M "
			 "of RAM (it is 48M)");
	ck_assert_int_eq(request("inflate 18446744073709551615B"), -ERANGE);
	ck_assert_uint_eq(vdrv__cfg_rd(&t.v, 0, 4), 12288);
}
END_TEST

START_TEST(target_with_no_ram_to_spare)
{
	teardown();
	setup_ram(16ULL << 20, true);
	ck_assert_int_eq(request("inflate 1M"), 0);
	expect_out("clamped to 0");
	expect_out("target 0 ");
	ck_assert_int_eq(request("inflate 17M"), -ERANGE);
}
END_TEST

Suite *virtio_balloon_suite(void)
{
	Suite *s = suite_create("virtio-balloon");
	TCase *dev = tcase_create("device");
	TCase *target = tcase_create("target");

	tcase_add_checked_fixture(dev, setup, teardown);
	tcase_add_test(dev, identity);
	tcase_add_test(dev, absent_without_the_option);
	tcase_add_test(dev, config_reads_every_width);
	tcase_add_test(dev, config_writes_only_actual);
	tcase_add_test(dev, target_change_interrupts);
	tcase_add_test(dev, inflate_releases_pages);
	tcase_add_test(dev, inflate_misaligned_buffers);
	tcase_add_test(dev, inflate_skips_pfns_outside_ram);
	tcase_add_test(dev, inflate_odd_lengths);
	tcase_add_test(dev, deflate_then_inflate_again);
	tcase_add_test(dev, reset_empties_the_balloon);
	tcase_add_test(dev, stats_kept_until_asked);
	tcase_add_test(dev, stats_hostile_buffers);
	tcase_add_test(dev, stats_buffer_forgotten_at_reset);
	tcase_add_test(dev, stats_buffer_forgotten_when_the_queue_stops);
	suite_add_tcase(s, dev);

	tcase_add_checked_fixture(target, setup, teardown);
	tcase_add_test(target, target_inflate_deflate);
	tcase_add_test(target, target_clamped_to_leave_16m);
	tcase_add_test(target, target_with_no_ram_to_spare);
	suite_add_tcase(s, target);
	return s;
}
