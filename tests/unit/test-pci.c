/*
 * The PCI host bridge and virtio-pci: a driver's view through the MMIO bus, with virtio-console
 * on slot 0. Config space through ECAM (header, capabilities, BAR sizing and relocation, memory
 * decoding), the virtio structures in BAR 0 (features, queues, notifications, ISR, device config,
 * the PCI config access capability), the device tree node, and hostile accesses of every kind.
 */
#include <errno.h>
#include <fcntl.h>
#include <libfdt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/pci_regs.h>
#include <linux/virtio_ids.h>
#define VIRTIO_PCI_NO_LEGACY
#include <linux/virtio_pci.h>

#include "lkvm/kvm.h"
#include "lkvm/memory-map.h"
#include "lkvm/pci.h"
#include "lkvm/term.h"
#include "lkvm/virtio-console.h"
#include "lkvm/io-thread.h"
#include "lkvm/virtio-pci.h"
#include "lkvm/virtio.h"
#include "suites.h"
#include "vdriver.h"

#define RAM_SIZE	(1ULL << 20)
#define BUF		G(0x20000)
#define RXQ		0
#define TXQ		1
#define BAR		(LKVM_PCI_MMIO_BASE + 0x100000)	/* where the tests put BAR 0 */
#define COMMON(f)	(VIRTIO_PCI_COMMON_OFF + VIRTIO_PCI_COMMON_##f)
#define NOTIFY(q)	(VIRTIO_PCI_NOTIFY_OFF + (q) * VIRTIO_PCI_NOTIFY_MULT)
#define ALL_ONES	0xffffffffU

#define S_ACK		VIRTIO_CONFIG_S_ACKNOWLEDGE
#define S_DRIVER	VIRTIO_CONFIG_S_DRIVER
#define S_FEATURES_OK	VIRTIO_CONFIG_S_FEATURES_OK
#define S_DRIVER_OK	VIRTIO_CONFIG_S_DRIVER_OK
#define S_NEEDS_RESET	VIRTIO_CONFIG_S_NEEDS_RESET

static struct {
	struct vdrv v;			/* the fake VM and the rings; its MMIO helpers are virtio-mmio's */
	struct term term;
	int out[2];
} t;

static bool bus(u64 addr, u8 *data, unsigned int len, bool is_write)
{
	return mmio__access(&t.v.kvm.mmio, addr, data, len, is_write);
}

static u64 rd_at(u64 addr, unsigned int len)
{
	u8 d[8];

	memset(d, 0x5a, sizeof(d));
	ck_assert(bus(addr, d, len, false));
	return len == 8 ? get_le64(d) : get_le32(d) & (u32)((1ULL << (8 * len)) - 1);
}

static void wr_at(u64 addr, unsigned int len, u64 val)
{
	u8 d[8];

	for (unsigned int i = 0; i < 8; i++)
		d[i] = (u8)(val >> (8 * i));
	ck_assert(bus(addr, d, len, true));
}

static u64 ecam(unsigned int slot, unsigned int fn, u32 reg)
{
	return LKVM_PCI_CFG_BASE + ((u64)slot << 15) + ((u64)fn << 12) + reg;
}

static u32 cfg_rd(u32 reg, unsigned int len)
{
	return (u32)rd_at(ecam(0, 0, reg), len);
}

static void cfg_wr(u32 reg, unsigned int len, u32 val)
{
	wr_at(ecam(0, 0, reg), len, val);
}

static u64 bar_rd(u64 off, unsigned int len)
{
	return rd_at(BAR + off, len);
}

static void bar_wr(u64 off, unsigned int len, u64 val)
{
	wr_at(BAR + off, len, val);
}

/* What firmware or Linux does first: put BAR 0 somewhere, turn on memory decoding. */
static void enable_bar(void)
{
	cfg_wr(PCI_BASE_ADDRESS_0, 4, (u32)BAR);
	cfg_wr(PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
}

static u32 status(void)
{
	return (u32)bar_rd(COMMON(STATUS), 1);
}

static void set_status(u32 s)
{
	bar_wr(COMMON(STATUS), 1, s);
}

static void setup_queue(unsigned int q)
{
	bar_wr(COMMON(Q_SELECT), 2, q);
	ck_assert_uint_eq(bar_rd(COMMON(Q_ENABLE), 2), 0);
	ck_assert_uint_eq(bar_rd(COMMON(Q_SIZE), 2), VIRTQ_MAX_SIZE);
	ck_assert_uint_eq(bar_rd(COMMON(Q_NOFF), 2), q);
	bar_wr(COMMON(Q_SIZE), 2, t.v.qsize);
	/* As Linux writes them: two 32-bit halves, low first. */
	bar_wr(COMMON(Q_DESCLO), 4, (u32)VDRV_DESC(q));
	bar_wr(COMMON(Q_DESCHI), 4, VDRV_DESC(q) >> 32);
	bar_wr(COMMON(Q_AVAILLO), 4, (u32)VDRV_AVAIL(q));
	bar_wr(COMMON(Q_AVAILHI), 4, 0);
	bar_wr(COMMON(Q_USEDLO), 8, VDRV_USED(q));		/* or all 64 bits at once */
	bar_wr(COMMON(Q_ENABLE), 2, 1);
	ck_assert_uint_eq(bar_rd(COMMON(Q_ENABLE), 2), 1);
}

static void negotiate(void)
{
	set_status(0);
	set_status(S_ACK);
	set_status(S_ACK | S_DRIVER);
	bar_wr(COMMON(GFSELECT), 4, 1);
	bar_wr(COMMON(GF), 4, 1);			/* VIRTIO_F_VERSION_1 */
	bar_wr(COMMON(GFSELECT), 4, 0);
	bar_wr(COMMON(GF), 4, 1U << VIRTIO_RING_F_EVENT_IDX);
	set_status(S_ACK | S_DRIVER | S_FEATURES_OK);
	ck_assert_uint_eq(status(), S_ACK | S_DRIVER | S_FEATURES_OK);
}

/* What Linux's virtio_pci does (virtio 1.2 section 3.1.1). */
static void driver_init(void)
{
	enable_bar();
	negotiate();
	setup_queue(RXQ);
	setup_queue(TXQ);
	set_status(S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
}

/* Forgets what the terminal got so far. */
static void drain(void)
{
	char buf[256];

	while (read(t.out[0], buf, sizeof(buf)) > 0)
		;
}

/* One transmit of "x" through the queue, checked at the terminal. */
static void transmit_one(void)
{
	char out[4];

	drain();
	memcpy(vdrv__host(&t.v, BUF), "x", 1);
	vdrv__desc(&t.v, TXQ, 0, BUF, 1, 0, 0);
	vdrv__offer(&t.v, TXQ, 0);
	bar_wr(NOTIFY(TXQ), 2, TXQ);
	ck_assert_int_eq(read_wait(t.out[0], out, 1), 1);
}

static void setup_with(enum virtio_transport_type transport, bool its)
{
	memset(&t, 0, sizeof(t));
	vdrv__setup(&t.v, RAM_SIZE);	/* interrupts go nowhere: ISR and Status tell */
	t.v.kvm.its = its;
	t.v.cfg.console = CONSOLE_VIRTIO;
	t.v.cfg.virtio_transport = transport;
	ck_assert_int_eq(pipe2(t.out, O_NONBLOCK), 0);
	ck_assert_int_eq(term__init(&t.term, -1, t.out[1], NULL), 0);
	t.v.kvm.term = &t.term;
	ck_assert_int_eq(pci__init(&t.v.kvm), 0);
	ck_assert_int_eq(virtio_console__init(&t.v.kvm), 0);
}

static void setup(void)
{
	setup_with(VIRTIO_TRANSPORT_PCI, false);
}

static void teardown(void)
{
	virtio_console__exit(&t.v.kvm);
	pci__exit(&t.v.kvm);
	ck_assert_ptr_null(t.v.kvm.mmio.regions);
	term__restore(&t.term);
	close(t.out[0]);
	close(t.out[1]);
	vdrv__teardown(&t.v);
}

/* --- config space --- */

START_TEST(identity)
{
	ck_assert_uint_eq(cfg_rd(PCI_VENDOR_ID, 2), VIRTIO_PCI_VENDOR_ID);
	ck_assert_uint_eq(cfg_rd(PCI_DEVICE_ID, 2), 0x1040 + VIRTIO_ID_CONSOLE);
	ck_assert_uint_eq(cfg_rd(PCI_VENDOR_ID, 4), 0x10431af4);
	ck_assert_uint_eq(cfg_rd(PCI_REVISION_ID, 1), 1);
	ck_assert_uint_eq(cfg_rd(PCI_CLASS_PROG, 1), 0);
	ck_assert_uint_eq(cfg_rd(PCI_CLASS_DEVICE, 2), 0x0780);
	ck_assert_uint_eq(cfg_rd(PCI_HEADER_TYPE, 1), PCI_HEADER_TYPE_NORMAL);
	ck_assert_uint_eq(cfg_rd(PCI_SUBSYSTEM_VENDOR_ID, 2), VIRTIO_PCI_VENDOR_ID);
	ck_assert_uint_ge(cfg_rd(PCI_SUBSYSTEM_ID, 2), 0x40);
	ck_assert_uint_eq(cfg_rd(PCI_STATUS, 2), PCI_STATUS_CAP_LIST);
	ck_assert_uint_eq(cfg_rd(PCI_CAPABILITY_LIST, 1), 0x40);
	ck_assert_uint_eq(cfg_rd(PCI_INTERRUPT_PIN, 1), 1);
	ck_assert_uint_eq(cfg_rd(PCI_COMMAND, 2), 0);		/* nothing decodes at reset */
	/* Firmware's placement, before the guest moves it: the device's slot of the window. */
	ck_assert_uint_eq(cfg_rd(PCI_BASE_ADDRESS_0, 4), LKVM_PCI_MMIO_BASE);
	for (u32 reg = PCI_BASE_ADDRESS_1; reg <= PCI_BASE_ADDRESS_5; reg += 4)
		ck_assert_uint_eq(cfg_rd(reg, 4), 0);
	ck_assert_uint_eq(cfg_rd(PCI_ROM_ADDRESS, 4), 0);
}
END_TEST

START_TEST(absent_functions_read_all_ones)
{
	ck_assert_uint_eq(rd_at(ecam(1, 0, 0), 4), ALL_ONES);
	ck_assert_uint_eq(rd_at(ecam(31, 0, PCI_COMMAND), 2), 0xffff);
	ck_assert_uint_eq(rd_at(ecam(0, 1, 0), 4), ALL_ONES);	/* single function */
	ck_assert_uint_eq(rd_at(ecam(0, 7, 0xffc), 4), ALL_ONES);
	wr_at(ecam(1, 0, PCI_COMMAND), 2, PCI_COMMAND_MEMORY);
	wr_at(ecam(0, 1, PCI_COMMAND), 2, PCI_COMMAND_MEMORY);
	ck_assert_uint_eq(rd_at(ecam(1, 0, PCI_COMMAND), 2), 0xffff);
	ck_assert_uint_eq(cfg_rd(PCI_COMMAND, 2), 0);
	/* The last byte of the ECAM window, and just past it. */
	ck_assert_uint_eq(rd_at(LKVM_PCI_CFG_BASE + LKVM_PCI_CFG_SIZE - 1, 1), 0xff);
	ck_assert(!bus(LKVM_PCI_CFG_BASE + LKVM_PCI_CFG_SIZE, (u8[4]){ 0 }, 4, false));
	ck_assert(!bus(LKVM_PCI_CFG_BASE + LKVM_PCI_CFG_SIZE - 2, (u8[4]){ 0 }, 4, false));
}
END_TEST

/* Every width at every offset of the function's 4K: aligned reads agree with the dwords. */
START_TEST(every_width_at_every_offset)
{
	u8 space[SZ_4K];

	for (u32 reg = 0; reg < SZ_4K; reg += 4) {
		u32 v = cfg_rd(reg, 4);

		memcpy(space + reg, &v, 4);
		if (reg >= PCI_CFG_SIZE)
			ck_assert_uint_eq(v, 0);	/* no extended config space */
	}
	for (u32 reg = 0; reg < SZ_4K; reg++) {
		for (unsigned int len = 1; len <= 8; len *= 2) {
			u64 v = rd_at(ecam(0, 0, reg), len), want = 0;

			if (len == 8 || reg % len) {
				ck_assert_uint_eq(v, len == 8 ? ~0ULL : (1ULL << (8 * len)) - 1);
				continue;
			}
			for (unsigned int i = 0; i < len; i++)
				want |= (u64)space[reg + i] << (8 * i);
			ck_assert_uint_eq(v, want);
		}
	}
}
END_TEST

START_TEST(malformed_writes_are_dropped)
{
	wr_at(ecam(0, 0, PCI_COMMAND + 1), 2, 0xffff);		/* unaligned */
	wr_at(ecam(0, 0, PCI_COMMAND), 8, ~0ULL);		/* too wide */
	wr_at(ecam(0, 0, PCI_BASE_ADDRESS_0 + 2), 4, ALL_ONES);
	ck_assert_uint_eq(cfg_rd(PCI_COMMAND, 2), 0);
	ck_assert_uint_eq(cfg_rd(PCI_BASE_ADDRESS_0, 4), LKVM_PCI_MMIO_BASE);
	/* Read-only fields stay as they are. */
	cfg_wr(PCI_VENDOR_ID, 4, 0);
	cfg_wr(PCI_CLASS_REVISION, 4, 0);
	cfg_wr(PCI_HEADER_TYPE, 1, 0x80);
	cfg_wr(PCI_CAPABILITY_LIST, 1, 0x80);
	cfg_wr(PCI_INTERRUPT_PIN, 1, 4);
	cfg_wr(PCI_STATUS, 2, 0xffff);
	cfg_wr(0x100, 4, ALL_ONES);
	cfg_wr(0xffc, 4, ALL_ONES);
	ck_assert_uint_eq(cfg_rd(PCI_VENDOR_ID, 4), 0x10431af4);
	ck_assert_uint_eq(cfg_rd(PCI_CLASS_REVISION, 4), 0x07800001);
	ck_assert_uint_eq(cfg_rd(PCI_HEADER_TYPE, 1), 0);
	ck_assert_uint_eq(cfg_rd(PCI_CAPABILITY_LIST, 1), 0x40);
	ck_assert_uint_eq(cfg_rd(PCI_INTERRUPT_PIN, 1), 1);
	ck_assert_uint_eq(cfg_rd(PCI_STATUS, 2), PCI_STATUS_CAP_LIST);
	ck_assert_uint_eq(cfg_rd(0x100, 4), 0);
	/* The few writable fields keep what they can hold. */
	cfg_wr(PCI_COMMAND, 2, 0xffff);
	ck_assert_uint_eq(cfg_rd(PCI_COMMAND, 2),
			  PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | PCI_COMMAND_PARITY |
			  PCI_COMMAND_SERR | PCI_COMMAND_INTX_DISABLE);
	cfg_wr(PCI_CACHE_LINE_SIZE, 1, 16);
	cfg_wr(PCI_INTERRUPT_LINE, 1, 0x33);
	ck_assert_uint_eq(cfg_rd(PCI_CACHE_LINE_SIZE, 1), 16);
	ck_assert_uint_eq(cfg_rd(PCI_INTERRUPT_LINE, 1), 0x33);
}
END_TEST

START_TEST(bar_sizing)
{
	cfg_wr(PCI_BASE_ADDRESS_0, 4, ALL_ONES);
	ck_assert_uint_eq(cfg_rd(PCI_BASE_ADDRESS_0, 4), ~(VIRTIO_PCI_BAR_SIZE - 1) & ALL_ONES);
	for (u32 reg = PCI_BASE_ADDRESS_1; reg <= PCI_BASE_ADDRESS_5; reg += 4) {
		cfg_wr(reg, 4, ALL_ONES);
		ck_assert_uint_eq(cfg_rd(reg, 4), 0);		/* not implemented */
	}
	cfg_wr(PCI_ROM_ADDRESS, 4, ALL_ONES);
	ck_assert_uint_eq(cfg_rd(PCI_ROM_ADDRESS, 4), 0);
	/* Junk: the address bits stay, the ones below the size and the type bits read as zero. */
	cfg_wr(PCI_BASE_ADDRESS_0, 4, 0x2345678f);
	ck_assert_uint_eq(cfg_rd(PCI_BASE_ADDRESS_0, 4), 0x23454000);
	/* A byte at a time works too. */
	cfg_wr(PCI_BASE_ADDRESS_0 + 3, 1, 0x21);
	cfg_wr(PCI_BASE_ADDRESS_0 + 1, 1, 0xff);
	ck_assert_uint_eq(cfg_rd(PCI_BASE_ADDRESS_0, 4), 0x2145c000);
	cfg_wr(PCI_BASE_ADDRESS_0 + 2, 2, 0);
	ck_assert_uint_eq(cfg_rd(PCI_BASE_ADDRESS_0, 4), 0x0000c000);
}
END_TEST

START_TEST(memory_decoding_gates_the_bar)
{
	cfg_wr(PCI_BASE_ADDRESS_0, 4, (u32)BAR);
	/* Off: nothing answers there, and writes go nowhere. */
	ck_assert_uint_eq(bar_rd(COMMON(NUMQ), 2), 0xffff);
	bar_wr(COMMON(STATUS), 1, S_ACK);
	cfg_wr(PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	ck_assert_uint_eq(bar_rd(COMMON(NUMQ), 2), 2);
	ck_assert_uint_eq(status(), 0);
	set_status(S_ACK);
	ck_assert_uint_eq(status(), S_ACK);
	cfg_wr(PCI_COMMAND, 2, PCI_COMMAND_MASTER);
	ck_assert_uint_eq(bar_rd(COMMON(STATUS), 1), 0xff);
	bar_wr(COMMON(STATUS), 1, 0);
	cfg_wr(PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	ck_assert_uint_eq(status(), S_ACK);
}
END_TEST

START_TEST(bar_follows_the_guest)
{
	u64 moved = LKVM_PCI_MMIO_BASE + LKVM_PCI_MMIO_SIZE - VIRTIO_PCI_BAR_SIZE;

	enable_bar();
	ck_assert_uint_eq(bar_rd(COMMON(NUMQ), 2), 2);
	/* An access running off the end of the BAR is nobody's. */
	ck_assert_uint_eq(bar_rd(VIRTIO_PCI_BAR_SIZE - 4, 8), ~0ULL);
	/* Linux turns decoding off while it moves a BAR. */
	cfg_wr(PCI_COMMAND, 2, 0);
	cfg_wr(PCI_BASE_ADDRESS_0, 4, (u32)moved);
	cfg_wr(PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	ck_assert_uint_eq(rd_at(moved + COMMON(NUMQ), 2), 2);
	ck_assert_uint_eq(rd_at(moved + VIRTIO_PCI_BAR_SIZE - 1, 1), 0);
	ck_assert_uint_eq(bar_rd(COMMON(NUMQ), 2), 0xffff);	/* not at the old place */
	/* Outside the window the bus does not see it: no crash, nothing decodes. */
	cfg_wr(PCI_BASE_ADDRESS_0, 4, 0x1000);
	ck_assert_uint_eq(rd_at(LKVM_PCI_MMIO_BASE, 4), ALL_ONES);
	ck_assert_uint_eq(rd_at(moved, 4), ALL_ONES);
}
END_TEST

START_TEST(capabilities_chain)
{
	static const u8 want_types[] = {
		VIRTIO_PCI_CAP_COMMON_CFG, VIRTIO_PCI_CAP_NOTIFY_CFG, VIRTIO_PCI_CAP_ISR_CFG,
		VIRTIO_PCI_CAP_DEVICE_CFG, VIRTIO_PCI_CAP_PCI_CFG,
	};
	static const u32 want_off[] = {
		VIRTIO_PCI_COMMON_OFF, VIRTIO_PCI_NOTIFY_OFF, VIRTIO_PCI_ISR_OFF,
		VIRTIO_PCI_DEVICE_OFF, 0,
	};
	static const u32 want_len[] = { 0x40, 2 * VIRTIO_PCI_NOTIFY_MULT, 1, 12, 0 };
	unsigned int n = 0;
	u32 pos = cfg_rd(PCI_CAPABILITY_LIST, 1);

	for (; pos; pos = cfg_rd(pos + PCI_CAP_LIST_NEXT, 1), n++) {
		ck_assert_uint_lt(n, ARRAY_SIZE(want_types));
		ck_assert_uint_ge(pos, 0x40);
		ck_assert_uint_le(pos + cfg_rd(pos + 2, 1), 0x100);
		ck_assert_uint_eq(pos % 4, 0);
		ck_assert_uint_eq(cfg_rd(pos, 1), PCI_CAP_ID_VNDR);
		ck_assert_uint_eq(cfg_rd(pos + 3, 1), want_types[n]);
		ck_assert_uint_eq(cfg_rd(pos + 4, 1), 0);		/* BAR 0 */
		ck_assert_uint_eq(cfg_rd(pos + 8, 4), want_off[n]);
		ck_assert_uint_eq(cfg_rd(pos + 12, 4), want_len[n]);
		if (want_types[n] == VIRTIO_PCI_CAP_NOTIFY_CFG) {
			ck_assert_uint_eq(cfg_rd(pos + 2, 1), 20);
			ck_assert_uint_eq(cfg_rd(pos + 16, 4), VIRTIO_PCI_NOTIFY_MULT);
		}
	}
	ck_assert_uint_eq(n, ARRAY_SIZE(want_types));
}
END_TEST

START_TEST(capabilities_are_read_only)
{
	u32 before[48], pci_cfg = 0x84;

	for (u32 i = 0; i < 48; i++)
		before[i] = cfg_rd(0x40 + 4 * i, 4);
	ck_assert_uint_eq(cfg_rd(pci_cfg + 3, 1), VIRTIO_PCI_CAP_PCI_CFG);
	for (u32 reg = 0x40; reg < pci_cfg; reg++)
		cfg_wr(reg, 1, 0xa5);
	for (u32 reg = pci_cfg + 20; reg < 0x100; reg += 4)
		cfg_wr(reg, 4, ALL_ONES);
	cfg_wr(pci_cfg, 4, ALL_ONES);				/* vndr, next, len, type */
	for (u32 i = 0; i < 48; i++)
		ck_assert_uint_eq(cfg_rd(0x40 + 4 * i, 4), before[i]);
}
END_TEST

START_TEST(device_tree_node)
{
	static u8 buf[4096];
	const fdt32_t *p;
	int node, len;

	ck_assert_uint_eq(t.v.kvm.nr_fdt_gens, 1);
	vdrv__fdt(&t.v.kvm, buf, sizeof(buf));

	node = fdt_path_offset(buf, "/pcie@10000000");
	ck_assert_int_ge(node, 0);
	ck_assert_str_eq(fdt_getprop(buf, node, "compatible", NULL), "pci-host-ecam-generic");
	ck_assert_str_eq(fdt_getprop(buf, node, "device_type", NULL), "pci");
	p = fdt_getprop(buf, node, "#address-cells", NULL);
	ck_assert_uint_eq(fdt32_ld(p), 3);
	p = fdt_getprop(buf, node, "#size-cells", NULL);
	ck_assert_uint_eq(fdt32_ld(p), 2);
	p = fdt_getprop(buf, node, "#interrupt-cells", NULL);
	ck_assert_uint_eq(fdt32_ld(p), 1);
	p = fdt_getprop(buf, node, "reg", &len);
	ck_assert_int_eq(len, 16);
	ck_assert_uint_eq(fdt32_ld(&p[1]), LKVM_PCI_CFG_BASE);
	ck_assert_uint_eq(fdt32_ld(&p[3]), LKVM_PCI_CFG_SIZE);
	p = fdt_getprop(buf, node, "bus-range", &len);
	ck_assert_int_eq(len, 8);
	ck_assert_uint_eq(fdt32_ld(&p[0]) | fdt32_ld(&p[1]), 0);
	p = fdt_getprop(buf, node, "ranges", &len);
	ck_assert_int_eq(len, 28);
	ck_assert_uint_eq(fdt32_ld(&p[0]), 0x02000000);
	ck_assert_uint_eq(fdt32_ld(&p[2]), LKVM_PCI_MMIO_BASE);
	ck_assert_uint_eq(fdt32_ld(&p[4]), LKVM_PCI_MMIO_BASE);
	ck_assert_uint_eq(fdt32_ld(&p[6]), LKVM_PCI_MMIO_SIZE);
	p = fdt_getprop(buf, node, "interrupt-map-mask", &len);
	ck_assert_int_eq(len, 16);
	ck_assert_uint_eq(fdt32_ld(&p[0]), 0xf800);
	ck_assert_uint_eq(fdt32_ld(&p[3]), 7);
	p = fdt_getprop(buf, node, "interrupt-map", &len);
	ck_assert_int_eq(len, 10 * 4);				/* one device */
	ck_assert_uint_eq(fdt32_ld(&p[0]), 0);			/* slot 0 */
	ck_assert_uint_eq(fdt32_ld(&p[3]), 1);			/* INTA */
	ck_assert_uint_eq(fdt32_ld(&p[4]), FDT_GIC_PHANDLE);
	ck_assert_uint_eq(fdt32_ld(&p[7]), FDT_IRQ_TYPE_SPI);
	ck_assert_uint_eq(fdt32_ld(&p[8]), LKVM_PCI_SPI_BASE);
	ck_assert_uint_eq(fdt32_ld(&p[9]), FDT_IRQ_LEVEL_HIGH);
	ck_assert_ptr_nonnull(fdt_getprop(buf, node, "dma-coherent", &len));
	ck_assert_int_eq(len, 0);
}
END_TEST

static const struct virtio_dev_ops rng_ops = { .name = "virtio-fake-rng", .device_id = VIRTIO_ID_RNG };

START_TEST(next_device_gets_the_next_slot)
{
	static struct virtio_dev other;
	static struct virtq vq;
	u32 pos = 0x40;

	virtio_dev__init(&other, &t.v.kvm, &rng_ops, &vq, 1);
	ck_assert_int_eq(virtio__attach(&t.v.kvm, &other), 0);
	ck_assert_uint_eq(rd_at(ecam(1, 0, PCI_DEVICE_ID), 2), 0x1040 + VIRTIO_ID_RNG);
	ck_assert_uint_eq(rd_at(ecam(1, 0, PCI_CLASS_DEVICE), 2), 0xff00);
	ck_assert_uint_eq(rd_at(ecam(1, 0, PCI_BASE_ADDRESS_0), 4),
			  LKVM_PCI_MMIO_BASE + LKVM_PCI_BAR_SIZE);
	/* No device config space: no DEVICE_CFG capability. */
	for (; pos; pos = (u32)rd_at(ecam(1, 0, pos + 1), 1))
		ck_assert_uint_ne(rd_at(ecam(1, 0, pos + 3), 1), VIRTIO_PCI_CAP_DEVICE_CFG);
	/* Its own BAR, its own registers. */
	wr_at(ecam(1, 0, PCI_COMMAND), 2, PCI_COMMAND_MEMORY);
	ck_assert_uint_eq(rd_at(LKVM_PCI_MMIO_BASE + LKVM_PCI_BAR_SIZE + COMMON(NUMQ), 2), 1);
	virtio__detach(&other);
	ck_assert_ptr_null(other.transport);
	ck_assert_uint_eq(rd_at(ecam(1, 0, 0), 4), ALL_ONES);
	ck_assert_uint_eq(rd_at(LKVM_PCI_MMIO_BASE + LKVM_PCI_BAR_SIZE, 4), ALL_ONES);
	ck_assert_uint_eq(cfg_rd(PCI_DEVICE_ID, 2), 0x1043);
	virtio_dev__destroy(&other);
}
END_TEST

START_TEST(bus_is_full_at_32)
{
	static struct virtio_dev devs[LKVM_PCI_MAX_DEVS];
	static struct virtq vqs[LKVM_PCI_MAX_DEVS];

	for (unsigned int i = 1; i < LKVM_PCI_MAX_DEVS; i++) {
		virtio_dev__init(&devs[i], &t.v.kvm, &rng_ops, &vqs[i], 1);
		ck_assert_int_eq(virtio__attach(&t.v.kvm, &devs[i]), 0);
	}
	ck_assert_uint_eq(rd_at(ecam(31, 0, PCI_DEVICE_ID), 2), 0x1044);
	virtio_dev__init(&devs[0], &t.v.kvm, &rng_ops, &vqs[0], 1);
	ck_assert_int_eq(virtio__attach(&t.v.kvm, &devs[0]), -ENOSPC);
	ck_assert_ptr_null(devs[0].transport);
	for (unsigned int i = 0; i < LKVM_PCI_MAX_DEVS; i++) {
		if (i)
			virtio__detach(&devs[i]);
		virtio_dev__destroy(&devs[i]);
	}
}
END_TEST

START_TEST(no_bus_with_virtio_mmio)
{
	teardown();
	setup_with(VIRTIO_TRANSPORT_MMIO, false);
	ck_assert(!bus(LKVM_PCI_CFG_BASE, (u8[4]){ 0 }, 4, false));
	ck_assert(!bus(LKVM_PCI_MMIO_BASE, (u8[4]){ 0 }, 4, false));
	ck_assert_uint_eq(rd_at(LKVM_VIRTIO_MMIO_BASE, 4), 0x74726976);	/* virtio-mmio instead */
	ck_assert_uint_eq(t.v.kvm.nr_fdt_gens, 1);
}
END_TEST

/* --- virtio-pci --- */

START_TEST(device_features)
{
	enable_bar();
	bar_wr(COMMON(DFSELECT), 4, 0);
	ck_assert_uint_eq(bar_rd(COMMON(DF), 4),
			  (1U << VIRTIO_RING_F_INDIRECT_DESC) | (1U << VIRTIO_RING_F_EVENT_IDX));
	bar_wr(COMMON(DFSELECT), 4, 1);
	ck_assert_uint_eq(bar_rd(COMMON(DFSELECT), 4), 1);
	ck_assert_uint_eq(bar_rd(COMMON(DF), 4), 1);		/* VERSION_1 */
	bar_wr(COMMON(DFSELECT), 4, 0xffffffff);
	ck_assert_uint_eq(bar_rd(COMMON(DF), 4), 0);
	ck_assert_uint_eq(bar_rd(COMMON(NUMQ), 2), 2);
	ck_assert_uint_eq(bar_rd(COMMON(MSIX), 2), VIRTIO_MSI_NO_VECTOR);
	ck_assert_uint_eq(bar_rd(COMMON(CFGGENERATION), 1), 0);
	ck_assert_uint_eq(bar_rd(COMMON(Q_NDATA), 2), 0);
	ck_assert_uint_eq(bar_rd(COMMON(Q_RESET), 2), 0);
}
END_TEST

START_TEST(feature_negotiation)
{
	enable_bar();
	/* A legacy driver (no VERSION_1) does not get FEATURES_OK. */
	set_status(S_ACK | S_DRIVER);
	bar_wr(COMMON(GFSELECT), 4, 0);
	bar_wr(COMMON(GF), 4, 1U << VIRTIO_RING_F_EVENT_IDX);
	set_status(S_ACK | S_DRIVER | S_FEATURES_OK);
	ck_assert_uint_eq(status(), S_ACK | S_DRIVER);
	/* Nor does one that wants more than there is. */
	bar_wr(COMMON(GFSELECT), 4, 1);
	bar_wr(COMMON(GF), 4, 3);
	set_status(S_ACK | S_DRIVER | S_FEATURES_OK);
	ck_assert_uint_eq(status(), S_ACK | S_DRIVER);
	bar_wr(COMMON(GFSELECT), 4, 2);			/* no such word: ignored */
	bar_wr(COMMON(GF), 4, ALL_ONES);
	ck_assert_uint_eq(bar_rd(COMMON(GF), 4), 0);
	negotiate();
	bar_wr(COMMON(GFSELECT), 4, 0);
	ck_assert_uint_eq(bar_rd(COMMON(GF), 4), 1U << VIRTIO_RING_F_EVENT_IDX);
	/* Fixed once accepted. */
	bar_wr(COMMON(GF), 4, 0);
	ck_assert_uint_eq(bar_rd(COMMON(GF), 4), 1U << VIRTIO_RING_F_EVENT_IDX);
	ck_assert_uint_eq(status() & S_FEATURES_OK, S_FEATURES_OK);
}
END_TEST

START_TEST(common_config_wrong_widths)
{
	enable_bar();
	/* Narrower, wider and misaligned accesses read zero and change nothing. */
	ck_assert_uint_eq(bar_rd(COMMON(NUMQ), 1), 0);
	ck_assert_uint_eq(bar_rd(COMMON(NUMQ), 4), 0);
	ck_assert_uint_eq(bar_rd(COMMON(DF) + 1, 2), 0);
	ck_assert_uint_eq(bar_rd(COMMON(DFSELECT), 8), 0);
	ck_assert_uint_eq(bar_rd(COMMON(STATUS), 2), 0);
	bar_wr(COMMON(STATUS), 2, S_ACK);
	bar_wr(COMMON(STATUS), 4, S_ACK);
	bar_wr(COMMON(STATUS) - 1, 2, S_ACK << 8);
	ck_assert_uint_eq(status(), 0);
	bar_wr(COMMON(Q_SELECT), 1, 1);
	bar_wr(COMMON(Q_SELECT), 4, 1);
	ck_assert_uint_eq(bar_rd(COMMON(Q_SELECT), 2), 0);
	bar_wr(COMMON(Q_DESCLO) + 2, 4, ALL_ONES);
	bar_wr(COMMON(Q_DESCLO), 2, 0xffff);
	bar_wr(COMMON(Q_DESCHI), 8, ~0ULL);
	ck_assert_uint_eq(bar_rd(COMMON(Q_DESCLO), 8), 0);
	/* The 64-bit fields by halves and whole. */
	bar_wr(COMMON(Q_DESCHI), 4, 0x12345678);
	bar_wr(COMMON(Q_DESCLO), 4, 0x9abcdef0);
	ck_assert_uint_eq(bar_rd(COMMON(Q_DESCLO), 8), 0x123456789abcdef0ULL);
	ck_assert_uint_eq(bar_rd(COMMON(Q_DESCHI), 4), 0x12345678);
	bar_wr(COMMON(Q_USEDLO), 8, 0x1122334455667788ULL);
	ck_assert_uint_eq(bar_rd(COMMON(Q_USEDLO), 4), 0x55667788);
	/* Read-only fields. */
	bar_wr(COMMON(NUMQ), 2, 7);
	bar_wr(COMMON(DF), 4, 0);
	bar_wr(COMMON(Q_NOFF), 2, 9);
	bar_wr(COMMON(CFGGENERATION), 1, 9);
	bar_wr(COMMON(MSIX), 2, 0);
	bar_wr(COMMON(Q_MSIX), 2, 0);
	ck_assert_uint_eq(bar_rd(COMMON(NUMQ), 2), 2);
	ck_assert_uint_eq(bar_rd(COMMON(DF), 4), 0x30000000);
	ck_assert_uint_eq(bar_rd(COMMON(Q_NOFF), 2), 0);
	ck_assert_uint_eq(bar_rd(COMMON(CFGGENERATION), 1), 0);
	ck_assert_uint_eq(bar_rd(COMMON(MSIX), 2), VIRTIO_MSI_NO_VECTOR);
	ck_assert_uint_eq(bar_rd(COMMON(Q_MSIX), 2), VIRTIO_MSI_NO_VECTOR);
	/* Past the structure, in the rest of its 4K and in the gaps of the BAR. */
	ck_assert_uint_eq(bar_rd(0x40, 4), 0);
	ck_assert_uint_eq(bar_rd(0xff8, 8), 0);
	ck_assert_uint_eq(bar_rd(0xffc, 8), 0);		/* straddles two structures */
	bar_wr(0x40, 8, ~0ULL);
	ck_assert_uint_eq(bar_rd(VIRTIO_PCI_ISR_OFF + 1, 1), 0);
	ck_assert_uint_eq(bar_rd(NOTIFY(0), 2), 0);
}
END_TEST

START_TEST(queue_select_out_of_range)
{
	enable_bar();
	negotiate();
	for (u32 q = 2; q; q = q < 0x8000 ? q * 2 : 0) {
		bar_wr(COMMON(Q_SELECT), 2, q == 0x8000 ? 0xffff : q);
		ck_assert_uint_eq(bar_rd(COMMON(Q_SIZE), 2), 0);	/* no such queue */
		bar_wr(COMMON(Q_SIZE), 2, t.v.qsize);
		bar_wr(COMMON(Q_DESCLO), 8, VDRV_DESC(0));
		bar_wr(COMMON(Q_ENABLE), 2, 1);
		ck_assert_uint_eq(bar_rd(COMMON(Q_SIZE), 2), 0);
		ck_assert_uint_eq(bar_rd(COMMON(Q_ENABLE), 2), 0);
		ck_assert_uint_eq(bar_rd(COMMON(Q_DESCLO), 8), 0);
		ck_assert_uint_eq(bar_rd(COMMON(Q_NOFF), 2), 0);
	}
	ck_assert_uint_eq(status() & S_NEEDS_RESET, 0);
	/* The real queues were not touched. */
	bar_wr(COMMON(Q_SELECT), 2, 0);
	ck_assert_uint_eq(bar_rd(COMMON(Q_SIZE), 2), VIRTQ_MAX_SIZE);
	ck_assert_uint_eq(bar_rd(COMMON(Q_DESCLO), 8), 0);
}
END_TEST

START_TEST(queue_size_not_a_power_of_2)
{
	static const u32 bad[] = { 0, 3, 100, VIRTQ_MAX_SIZE * 2, 0xffff };

	for (unsigned int i = 0; i < ARRAY_SIZE(bad); i++) {
		enable_bar();
		negotiate();
		bar_wr(COMMON(Q_SELECT), 2, RXQ);
		bar_wr(COMMON(Q_SIZE), 2, bad[i]);
		bar_wr(COMMON(Q_DESCLO), 8, VDRV_DESC(0));
		bar_wr(COMMON(Q_AVAILLO), 8, VDRV_AVAIL(0));
		bar_wr(COMMON(Q_USEDLO), 8, VDRV_USED(0));
		bar_wr(COMMON(Q_ENABLE), 2, 1);
		ck_assert_uint_eq(bar_rd(COMMON(Q_ENABLE), 2), 0);
		ck_assert_uint_ne(status() & S_NEEDS_RESET, 0);
	}
}
END_TEST

START_TEST(rings_outside_ram_need_reset)
{
	enable_bar();
	negotiate();
	bar_wr(COMMON(Q_SELECT), 2, TXQ);
	bar_wr(COMMON(Q_SIZE), 2, t.v.qsize);
	bar_wr(COMMON(Q_DESCLO), 8, G(RAM_SIZE - 64));		/* 128 bytes needed */
	bar_wr(COMMON(Q_AVAILLO), 8, VDRV_AVAIL(0));
	bar_wr(COMMON(Q_USEDLO), 8, BAR);			/* the BAR itself */
	bar_wr(COMMON(Q_ENABLE), 2, 1);
	ck_assert_uint_eq(bar_rd(COMMON(Q_ENABLE), 2), 0);
	ck_assert_uint_ne(status() & S_NEEDS_RESET, 0);
}
END_TEST

START_TEST(queue_setup_fixed_while_enabled)
{
	driver_init();
	bar_wr(COMMON(Q_SELECT), 2, TXQ);
	bar_wr(COMMON(Q_SIZE), 2, 2);
	bar_wr(COMMON(Q_DESCLO), 8, 0);
	bar_wr(COMMON(Q_ENABLE), 2, 0);				/* not the driver's to write */
	ck_assert_uint_eq(bar_rd(COMMON(Q_SIZE), 2), t.v.qsize);
	ck_assert_uint_eq(bar_rd(COMMON(Q_DESCLO), 8), VDRV_DESC(TXQ));
	ck_assert_uint_eq(bar_rd(COMMON(Q_ENABLE), 2), 1);
	transmit_one();
	ck_assert_uint_eq(vdrv__used(&t.v, TXQ)->idx, 1);
}
END_TEST

START_TEST(notify_and_isr_read_to_clear)
{
	char out[32] = { 0 };

	driver_init();
	ck_assert_uint_eq(bar_rd(VIRTIO_PCI_ISR_OFF, 1), 0);
	memcpy(vdrv__host(&t.v, BUF), "hello", 5);
	vdrv__desc(&t.v, TXQ, 0, BUF, 5, 0, 0);
	vdrv__offer(&t.v, TXQ, 0);
	bar_wr(NOTIFY(TXQ), 2, TXQ);
	ck_assert_int_eq(read_wait(t.out[0], out, 5), 5);
	ck_assert_str_eq(out, "hello");
	ck_assert_uint_eq(vdrv__used(&t.v, TXQ)->idx, 1);
	/* The INTx is pending in Status until the driver reads the ISR, which clears it. */
	ck_assert_uint_ne(cfg_rd(PCI_STATUS, 2) & PCI_STATUS_INTERRUPT, 0);
	ck_assert_uint_eq(bar_rd(VIRTIO_PCI_ISR_OFF, 2), 0);	/* not a byte read: no effect */
	ck_assert_uint_eq(bar_rd(VIRTIO_PCI_ISR_OFF, 1), 1);
	ck_assert_uint_eq(bar_rd(VIRTIO_PCI_ISR_OFF, 1), 0);
	ck_assert_uint_eq(cfg_rd(PCI_STATUS, 2) & PCI_STATUS_INTERRUPT, 0);
	bar_wr(VIRTIO_PCI_ISR_OFF, 1, 0xff);			/* read-only */
	ck_assert_uint_eq(bar_rd(VIRTIO_PCI_ISR_OFF, 1), 0);
	/* A 32-bit doorbell write works too. */
	vdrv__desc(&t.v, TXQ, 1, BUF, 2, 0, 0);
	vdrv__offer(&t.v, TXQ, 1);
	bar_wr(NOTIFY(TXQ), 4, TXQ);
	ck_assert_int_eq(read_wait(t.out[0], out, 2), 2);
}
END_TEST

START_TEST(intx_disable_keeps_the_status)
{
	driver_init();
	cfg_wr(PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_INTX_DISABLE);
	transmit_one();
	ck_assert_uint_ne(cfg_rd(PCI_STATUS, 2) & PCI_STATUS_INTERRUPT, 0);
	cfg_wr(PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	ck_assert_uint_eq(bar_rd(VIRTIO_PCI_ISR_OFF, 1), 1);
	ck_assert_uint_eq(cfg_rd(PCI_STATUS, 2) & PCI_STATUS_INTERRUPT, 0);
}
END_TEST

START_TEST(notify_of_bad_queues)
{
	driver_init();
	memcpy(vdrv__host(&t.v, BUF), "x", 1);
	vdrv__desc(&t.v, TXQ, 0, BUF, 1, 0, 0);
	vdrv__offer(&t.v, TXQ, 0);
	bar_wr(NOTIFY(2), 2, 2);				/* no such queue */
	bar_wr(NOTIFY(1000), 2, 1000);				/* within the region still */
	bar_wr(NOTIFY(TXQ) + 1, 2, TXQ);			/* misaligned */
	bar_wr(NOTIFY(TXQ), 1, TXQ);				/* too narrow */
	bar_wr(NOTIFY(TXQ), 8, TXQ);				/* too wide */
	bar_wr(NOTIFY(0xfff / 4), 4, ALL_ONES);
	ck_assert_uint_eq(vdrv__used(&t.v, TXQ)->idx, 0);
	ck_assert_uint_eq(status() & S_NEEDS_RESET, 0);
	/* What the driver writes into a doorbell does not matter: the address tells the queue. */
	bar_wr(NOTIFY(TXQ), 2, 0xffff);
	ck_assert_uint_eq(vdrv__used(&t.v, TXQ)->idx, 1);
}
END_TEST

START_TEST(device_config_space)
{
	enable_bar();
	ck_assert_uint_eq(bar_rd(VIRTIO_PCI_DEVICE_OFF, 8), 0);
	ck_assert_uint_eq(bar_rd(VIRTIO_PCI_DEVICE_OFF + 11, 1), 0);
	/* Beyond its 12 bytes: zeros, and no call into the device. */
	ck_assert_uint_eq(bar_rd(VIRTIO_PCI_DEVICE_OFF + 10, 4), 0);
	ck_assert_uint_eq(bar_rd(VIRTIO_PCI_DEVICE_OFF + 12, 1), 0);
	ck_assert_uint_eq(bar_rd(VIRTIO_PCI_DEVICE_OFF + 0xff8, 8), 0);
	bar_wr(VIRTIO_PCI_DEVICE_OFF, 4, ALL_ONES);		/* no config_write: ignored */
	bar_wr(VIRTIO_PCI_DEVICE_OFF + 0x800, 8, ~0ULL);
	ck_assert_uint_eq(bar_rd(VIRTIO_PCI_DEVICE_OFF, 4), 0);
}
END_TEST

START_TEST(failure_raises_a_config_interrupt)
{
	driver_init();
	vdrv__desc(&t.v, TXQ, 0, 0x1000, 16, 0, 0);				/* not RAM */
	vdrv__offer(&t.v, TXQ, 0);
	bar_wr(NOTIFY(TXQ), 2, TXQ);
	ck_assert_uint_ne(status() & S_NEEDS_RESET, 0);
	ck_assert_uint_eq(bar_rd(VIRTIO_PCI_ISR_OFF, 1), VIRTIO_PCI_ISR_CONFIG);
	ck_assert_uint_eq(vdrv__used(&t.v, TXQ)->idx, 0);
}
END_TEST

START_TEST(config_change_interrupts)
{
	struct virtio_dev *vdev = t.v.kvm.virtio_devs;

	ck_assert_ptr_nonnull(vdev);
	enable_bar();
	virtio_dev__config_changed(vdev);		/* before DRIVER_OK: no interrupt */
	ck_assert_uint_eq(bar_rd(COMMON(CFGGENERATION), 1), 1);
	ck_assert_uint_eq(bar_rd(VIRTIO_PCI_ISR_OFF, 1), 0);
	driver_init();
	virtio_dev__config_changed(vdev);
	ck_assert_uint_eq(bar_rd(COMMON(CFGGENERATION), 1), 2);
	ck_assert_uint_ne(cfg_rd(PCI_STATUS, 2) & PCI_STATUS_INTERRUPT, 0);
	ck_assert_uint_eq(bar_rd(VIRTIO_PCI_ISR_OFF, 1), VIRTIO_PCI_ISR_CONFIG);
	ck_assert_uint_eq(cfg_rd(PCI_STATUS, 2) & PCI_STATUS_INTERRUPT, 0);
}
END_TEST

START_TEST(reset_clears_everything)
{
	driver_init();
	memcpy(vdrv__host(&t.v, BUF), "x", 1);
	vdrv__desc(&t.v, TXQ, 0, BUF, 1, 0, 0);
	vdrv__offer(&t.v, TXQ, 0);
	bar_wr(NOTIFY(TXQ), 2, TXQ);
	bar_wr(COMMON(DFSELECT), 4, 1);
	bar_wr(COMMON(Q_SELECT), 2, TXQ);
	set_status(0);
	ck_assert_uint_eq(status(), 0);
	ck_assert_uint_eq(cfg_rd(PCI_STATUS, 2) & PCI_STATUS_INTERRUPT, 0);
	ck_assert_uint_eq(bar_rd(VIRTIO_PCI_ISR_OFF, 1), 0);
	ck_assert_uint_eq(bar_rd(COMMON(DFSELECT), 4), 0);
	ck_assert_uint_eq(bar_rd(COMMON(Q_SELECT), 2), 0);
	ck_assert_uint_eq(bar_rd(COMMON(Q_ENABLE), 2), 0);
	ck_assert_uint_eq(bar_rd(COMMON(Q_SIZE), 2), VIRTQ_MAX_SIZE);
	bar_wr(COMMON(Q_SELECT), 2, TXQ);
	ck_assert_uint_eq(bar_rd(COMMON(Q_ENABLE), 2), 0);
	ck_assert_uint_eq(bar_rd(COMMON(Q_DESCLO), 8), 0);
	/* And it comes up again the same way. */
	memset(vdrv__host(&t.v, VDRV_DESC(0)), 0, 0x8000);
	t.v.avail_idx[0] = t.v.avail_idx[1] = 0;
	driver_init();
	transmit_one();
	ck_assert_uint_eq(vdrv__used(&t.v, TXQ)->idx, 1);
}
END_TEST

/* Sets up the PCI config access capability (at 0x84 for the console) for one BAR access. */
static void pci_cfg(u8 bar, u32 off, u32 len)
{
	cfg_wr(0x84 + VIRTIO_PCI_CAP_BAR, 1, bar);
	cfg_wr(0x84 + VIRTIO_PCI_CAP_OFFSET, 4, off);
	cfg_wr(0x84 + VIRTIO_PCI_CAP_LENGTH, 4, len);
}

START_TEST(pci_config_access_capability)
{
	/* Works without memory decoding: it is the way around the BAR. */
	ck_assert_uint_eq(cfg_rd(0x84 + 3, 1), VIRTIO_PCI_CAP_PCI_CFG);
	pci_cfg(0, COMMON(NUMQ), 2);
	ck_assert_uint_eq(cfg_rd(0x84 + 16, 4), 2);
	ck_assert_uint_eq(cfg_rd(0x84 + VIRTIO_PCI_CAP_OFFSET, 4), COMMON(NUMQ));
	pci_cfg(0, COMMON(STATUS), 1);
	cfg_wr(0x84 + 16, 1, S_ACK);
	pci_cfg(0, COMMON(DF), 4);
	ck_assert_uint_eq(cfg_rd(0x84 + 16, 4),
			  (1U << VIRTIO_RING_F_INDIRECT_DESC) | (1U << VIRTIO_RING_F_EVENT_IDX));
	enable_bar();
	ck_assert_uint_eq(status(), S_ACK);
	/* Bad BAR, length, alignment or offset: nothing happens; the data stays. */
	cfg_wr(0x84 + 16, 4, 0);
	pci_cfg(1, COMMON(STATUS), 1);
	cfg_wr(0x84 + 16, 1, 0);
	pci_cfg(0, COMMON(STATUS), 3);
	cfg_wr(0x84 + 16, 4, 0);
	pci_cfg(0, COMMON(STATUS) + 1, 2);
	cfg_wr(0x84 + 16, 2, 0);
	pci_cfg(0, COMMON(DFSELECT), 8);
	cfg_wr(0x84 + 16, 4, 1);
	pci_cfg(0, VIRTIO_PCI_BAR_SIZE, 1);
	cfg_wr(0x84 + 16, 1, 0);
	pci_cfg(0, ALL_ONES & ~3U, 4);
	cfg_wr(0x84 + 16, 4, 0);
	ck_assert_uint_eq(cfg_rd(0x84 + 16, 4), 0);
	ck_assert_uint_eq(status(), S_ACK);
	ck_assert_uint_eq(bar_rd(COMMON(DFSELECT), 4), 0);
	/* The ISR through it is read-to-clear too. */
	set_status(0);
	driver_init();
	transmit_one();
	pci_cfg(0, VIRTIO_PCI_ISR_OFF, 1);
	ck_assert_uint_eq(cfg_rd(0x84 + 16, 1), 1);
	ck_assert_uint_eq(cfg_rd(0x84 + 16, 1), 0);
	/* A notify through it. */
	vdrv__desc(&t.v, TXQ, 1, BUF, 1, 0, 0);
	vdrv__offer(&t.v, TXQ, 1);
	pci_cfg(0, NOTIFY(TXQ), 2);
	cfg_wr(0x84 + 16, 2, TXQ);
	ck_assert_uint_eq(vdrv__used(&t.v, TXQ)->idx, 2);
}
END_TEST

/* A guest writing junk everywhere, at every width: lkvm survives and the device still works. */
START_TEST(junk_everywhere)
{
	u64 seed = 0x9e3779b97f4a7c15ULL;

	for (unsigned int i = 0; i < 20000; i++) {
		unsigned int len = 1U << (seed % 4);
		u32 reg = (u32)(seed >> 8) % 0x1000;
		u64 off = (seed >> 24) % VIRTIO_PCI_BAR_SIZE;

		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		/* Not BAR 0 itself nor Command: the junk is to reach the device. */
		if (reg >= PCI_CFG_HEADER_SIZE)
			wr_at(ecam(0, 0, reg), len, seed);
		else
			(void)rd_at(ecam(0, 0, reg), len);
		enable_bar();
		if (i % 2)
			wr_at(BAR + off, len, seed >> 3);
		else
			(void)rd_at(BAR + off, len);
	}
	memset(vdrv__host(&t.v, VDRV_DESC(0)), 0, 0x8000);
	t.v.avail_idx[0] = t.v.avail_idx[1] = 0;
	ck_assert_uint_eq(cfg_rd(PCI_VENDOR_ID, 4), 0x10431af4);
	driver_init();
	transmit_one();
	ck_assert_uint_eq(vdrv__used(&t.v, TXQ)->idx, 1);
}
END_TEST

/* --- doorbells: where the transport wants each queue's ioeventfd (KVM or not) --- */

#define WINDOW_END	(LKVM_PCI_MMIO_BASE + LKVM_PCI_MMIO_SIZE)
#define LAST_BAR	(WINDOW_END - VIRTIO_PCI_BAR_SIZE)	/* the last place wholly inside */

/*
 * Where queue q's doorbell is (0: nowhere), from the transport's debug log, which the doorbell
 * tests capture: its last "queue Q: doorbell at ADDR" or "queue Q: no doorbell" line.
 */
static u64 doorbell(unsigned int q)
{
	const char *log = capture_peek(), *p;
	char at[40], none[40];
	u64 addr = 0;

	snprintf(at, sizeof(at), "queue %u: doorbell at 0x", q);
	snprintf(none, sizeof(none), "queue %u: no doorbell", q);
	for (p = log; (p = strstr(p, "queue ")); p++) {
		if (!strncmp(p, at, strlen(at)))
			addr = strtoull(p + strlen(at), NULL, 16);
		else if (!strncmp(p, none, strlen(none)))
			addr = 0;
	}
	return addr;
}

/* The doorbell and MSI-X tests read the debug log (of the transport, of the bus). */
static void debug_log_begin(void)
{
	log_level = LOG_DEBUG;
	capture_begin(STDERR_FILENO);
}

static void doorbell_setup(void)
{
	setup();
	debug_log_begin();
}

static void debug_log_teardown(void)
{
	capture_end(STDERR_FILENO);
	log_level = LOG_WARNING;
	teardown();
}

static void expect_doorbells(u64 bar)
{
	ck_assert_uint_eq(doorbell(RXQ), bar ? bar + NOTIFY(RXQ) : 0);
	ck_assert_uint_eq(doorbell(TXQ), bar ? bar + NOTIFY(TXQ) : 0);
}

/* One transmit of "y" through a doorbell at bar: the MMIO-exit path, as without KVM. */
static void transmit_at(u64 bar)
{
	struct vring_used *u = vdrv__used(&t.v, TXQ);
	u16 before = u->idx;
	char out[4];

	drain();
	memcpy(vdrv__host(&t.v, BUF), "y", 1);
	vdrv__desc(&t.v, TXQ, 0, BUF, 1, 0, 0);
	vdrv__offer(&t.v, TXQ, 0);
	wr_at(bar + NOTIFY(TXQ), 2, TXQ);
	ck_assert_uint_eq(u->idx, (u16)(before + 1));
	ck_assert_int_eq(read_wait(t.out[0], out, 1), 1);
}

START_TEST(doorbells_follow_the_queues)
{
	enable_bar();
	negotiate();
	expect_doorbells(0);
	setup_queue(RXQ);
	ck_assert_uint_eq(doorbell(RXQ), BAR + NOTIFY(RXQ));
	ck_assert_uint_eq(doorbell(TXQ), 0);			/* not enabled yet */
	setup_queue(TXQ);
	expect_doorbells(BAR);
	ck_assert_uint_eq(doorbell(2), 0);			/* no such queue */
	bar_wr(COMMON(Q_SELECT), 2, TXQ);
	bar_wr(COMMON(Q_ENABLE), 2, 0);				/* ignored: stays */
	expect_doorbells(BAR);
	set_status(0);						/* reset: all gone */
	expect_doorbells(0);
	/* A queue that fails its checks gets none. */
	negotiate();
	bar_wr(COMMON(Q_SELECT), 2, TXQ);
	bar_wr(COMMON(Q_SIZE), 2, 3);
	bar_wr(COMMON(Q_ENABLE), 2, 1);
	ck_assert_uint_eq(doorbell(TXQ), 0);
}
END_TEST

START_TEST(doorbells_follow_the_bar)
{
	driver_init();
	expect_doorbells(BAR);
	transmit_at(BAR);
	/* Linux turns decoding off while it moves a BAR: no doorbell meanwhile. */
	cfg_wr(PCI_COMMAND, 2, PCI_COMMAND_MASTER);
	expect_doorbells(0);
	cfg_wr(PCI_BASE_ADDRESS_0, 4, (u32)LAST_BAR);
	expect_doorbells(0);
	cfg_wr(PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	expect_doorbells(LAST_BAR);
	transmit_at(LAST_BAR);
	/* Moved with decoding on: at once. */
	cfg_wr(PCI_BASE_ADDRESS_0, 4, (u32)BAR);
	expect_doorbells(BAR);
	/* Sizing with decoding on (all ones: outside the window), then back. */
	cfg_wr(PCI_BASE_ADDRESS_0, 4, ALL_ONES);
	expect_doorbells(0);
	cfg_wr(PCI_BASE_ADDRESS_0, 4, (u32)BAR);
	expect_doorbells(BAR);
	/* A byte at a time: each step where the BAR is then. */
	cfg_wr(PCI_BASE_ADDRESS_0 + 2, 1, (u8)(LAST_BAR >> 16));
	expect_doorbells((BAR & 0xff00ffffULL) | (LAST_BAR & 0x00ff0000ULL));
	cfg_wr(PCI_BASE_ADDRESS_0 + 3, 1, (u8)(LAST_BAR >> 24));
	cfg_wr(PCI_BASE_ADDRESS_0 + 1, 1, (u8)(LAST_BAR >> 8));
	expect_doorbells(LAST_BAR);
	transmit_at(LAST_BAR);
	/* Below the window, and just past its end: nowhere (KVM must not see them there). */
	cfg_wr(PCI_BASE_ADDRESS_0, 4, 0x1000);
	expect_doorbells(0);
	cfg_wr(PCI_BASE_ADDRESS_0, 4, (u32)WINDOW_END);
	expect_doorbells(0);
	cfg_wr(PCI_BASE_ADDRESS_0, 4, (u32)BAR);
	/* Command writes that leave memory decoding on change nothing. */
	cfg_wr(PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_INTX_DISABLE);
	cfg_wr(PCI_COMMAND + 1, 1, 0);
	cfg_wr(PCI_STATUS, 2, 0xffff);
	expect_doorbells(BAR);
	transmit_at(BAR);
	ck_assert_uint_eq(rd_at(LAST_BAR + COMMON(NUMQ), 2), 0xffff);	/* not at the old place */
}
END_TEST

/* Writes BAR 0 through the PCI config access capability: what works with decoding off. */
static void win_wr(u32 off, unsigned int len, u32 val)
{
	pci_cfg(0, off, len);
	cfg_wr(0x84 + 16, len, val);
}

static void win_setup_queue(unsigned int q)
{
	win_wr(COMMON(Q_SELECT), 2, q);
	win_wr(COMMON(Q_SIZE), 2, t.v.qsize);
	win_wr(COMMON(Q_DESCLO), 4, (u32)VDRV_DESC(q));
	win_wr(COMMON(Q_AVAILLO), 4, (u32)VDRV_AVAIL(q));
	win_wr(COMMON(Q_USEDLO), 4, (u32)VDRV_USED(q));
	win_wr(COMMON(Q_ENABLE), 2, 1);
}

START_TEST(doorbells_wait_for_decoding)
{
	cfg_wr(PCI_BASE_ADDRESS_0, 4, (u32)BAR);
	win_setup_queue(TXQ);
	ck_assert(atomic_load(&t.v.kvm.virtio_devs->vqs[TXQ].ready));
	ck_assert_uint_eq(doorbell(TXQ), 0);			/* enabled, but not decoding */
	cfg_wr(PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	ck_assert_uint_eq(doorbell(TXQ), BAR + NOTIFY(TXQ));
	ck_assert_uint_eq(doorbell(RXQ), 0);
	cfg_wr(PCI_COMMAND, 2, 0);
	win_wr(COMMON(STATUS), 1, 0);				/* reset with decoding off */
	cfg_wr(PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	expect_doorbells(0);
}
END_TEST

/*
 * Random Command, BAR 0, reset and queue setup writes: after each, the doorbells are exactly
 * where the rule says (queue enabled, memory decoding on, BAR 0 wholly in the window).
 */
START_TEST(doorbells_under_junk)
{
	static const u32 bars[] = { (u32)BAR, (u32)LAST_BAR, ALL_ONES, 0x1000, (u32)WINDOW_END };
	struct virtio_dev *vdev = t.v.kvm.virtio_devs;
	u64 seed = 0x2545f4914f6cdd1dULL;

	for (unsigned int i = 0; i < 3000; i++) {
		u32 r = (u32)(seed >> 33);
		u32 cmd, bar;
		u64 base;

		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		switch (r % 6) {
		case 0:
			cfg_wr(PCI_COMMAND, 2, r >> 8);
			break;
		case 1:
			cfg_wr(PCI_BASE_ADDRESS_0, 4, bars[(r >> 8) % ARRAY_SIZE(bars)]);
			break;
		case 2:
			cfg_wr(PCI_BASE_ADDRESS_0 + (r >> 8) % 4, 1, r >> 16);
			break;
		case 3:
			win_wr(COMMON(STATUS), 1, 0);
			break;
		default:
			win_setup_queue((r >> 8) % 3);
			break;
		}
		cmd = cfg_rd(PCI_COMMAND, 2);
		bar = cfg_rd(PCI_BASE_ADDRESS_0, 4);
		base = (cmd & PCI_COMMAND_MEMORY) && bar >= LKVM_PCI_MMIO_BASE &&
		       bar <= LAST_BAR ? bar : 0;
		for (unsigned int q = 0; q < 2; q++)
			ck_assert_uint_eq(doorbell(q), base && atomic_load(&vdev->vqs[q].ready) ?
					  base + NOTIFY(q) : 0);
	}
}
END_TEST

/* With the I/O thread but no KVM, add fails: the doorbell is where it was meant, via MMIO exits. */
START_TEST(doorbells_without_kvm_exit)
{
	ck_assert_int_eq(io_thread__start(&t.v.kvm), 0);
	driver_init();
	ck_assert_ptr_null(t.v.kvm.virtio_devs->vqs[TXQ].ioevent);
	expect_doorbells(BAR);
	transmit_at(BAR);
	cfg_wr(PCI_BASE_ADDRESS_0, 4, (u32)LAST_BAR);
	transmit_at(LAST_BAR);
	virtio_console__exit(&t.v.kvm);
	io_thread__stop(&t.v.kvm);
	ck_assert_int_eq(virtio_console__init(&t.v.kvm), 0);	/* for teardown */
}
END_TEST

/* The ISR is INTx's status: bits add up, Status shows them, one read takes them all. */
START_TEST(isr_bits_add_up)
{
	driver_init();
	transmit_one();
	virtio_dev__config_changed(t.v.kvm.virtio_devs);
	ck_assert_uint_ne(cfg_rd(PCI_STATUS, 2) & PCI_STATUS_INTERRUPT, 0);
	cfg_wr(PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_INTX_DISABLE);
	ck_assert_uint_ne(cfg_rd(PCI_STATUS, 2) & PCI_STATUS_INTERRUPT, 0);
	ck_assert_uint_eq(bar_rd(VIRTIO_PCI_ISR_OFF, 1), VIRTIO_PCI_ISR_CONFIG | 1);
	ck_assert_uint_eq(cfg_rd(PCI_STATUS, 2) & PCI_STATUS_INTERRUPT, 0);
	ck_assert_uint_eq(bar_rd(VIRTIO_PCI_ISR_OFF, 1), 0);
}
END_TEST

START_TEST(exit_detaches)
{
	virtio_console__exit(&t.v.kvm);
	ck_assert_uint_eq(cfg_rd(PCI_VENDOR_ID, 4), ALL_ONES);
	ck_assert_uint_eq(rd_at(LKVM_PCI_MMIO_BASE, 4), ALL_ONES);
	ck_assert_int_eq(virtio_console__init(&t.v.kvm), 0);	/* for teardown */
	ck_assert_uint_eq(cfg_rd(PCI_VENDOR_ID, 4), 0x10431af4);
}
END_TEST


/* --- MSI-X, with a GICv3 ITS --- */

#define BAR1		(BAR + 0x10000)		/* where the tests put BAR 1: table and PBA */
#define NR_VECTORS	3			/* virtio-console: 2 queues, and config changes */
#define ENTRY(v, w)	((v) * PCI_MSIX_ENTRY_SIZE + (w))
#define ITS_DOORBELL	(LKVM_GICV3_ITS_BASE + 0x10040)	/* GITS_TRANSLATER */

/* The ITS tests read what was sent from the bus's debug log, at the device's exit. */
static void msix_setup(void)
{
	setup_with(VIRTIO_TRANSPORT_PCI, true);
	debug_log_begin();
}

/* Where the MSI-X capability is (0: none), walking the chain. */
static u32 msix_cap(void)
{
	for (u32 pos = cfg_rd(PCI_CAPABILITY_LIST, 1), n = 0; pos && n < 48;
	     pos = cfg_rd(pos + PCI_CAP_LIST_NEXT, 1), n++) {
		if (cfg_rd(pos, 1) == PCI_CAP_ID_MSIX)
			return pos;
	}
	return 0;
}

static void msix_control(u16 flags)
{
	cfg_wr(msix_cap() + PCI_MSIX_FLAGS, 2, flags);
}

/* What Linux does: BAR 1 placed, MSI-X enabled with the function masked, entries, unmasked. */
static void msix_driver_init(void)
{
	cfg_wr(PCI_BASE_ADDRESS_1, 4, (u32)BAR1);
	driver_init();
	msix_control(PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
	for (unsigned int v = 0; v < NR_VECTORS; v++) {
		wr_at(BAR1 + ENTRY(v, PCI_MSIX_ENTRY_LOWER_ADDR), 4, (u32)ITS_DOORBELL);
		wr_at(BAR1 + ENTRY(v, PCI_MSIX_ENTRY_UPPER_ADDR), 4, 0);
		wr_at(BAR1 + ENTRY(v, PCI_MSIX_ENTRY_DATA), 4, v);
		wr_at(BAR1 + ENTRY(v, PCI_MSIX_ENTRY_VECTOR_CTRL), 4, 0);
	}
	bar_wr(COMMON(MSIX), 2, 0);
	bar_wr(COMMON(Q_SELECT), 2, RXQ);
	bar_wr(COMMON(Q_MSIX), 2, 1);
	bar_wr(COMMON(Q_SELECT), 2, TXQ);
	bar_wr(COMMON(Q_MSIX), 2, 2);
	msix_control(PCI_MSIX_FLAGS_ENABLE);
}

/* One transmit, with the driver asking for an interrupt for it (EVENT_IDX's used_event). */
static void transmit_wanted(void)
{
	struct vring_avail *a = vdrv__host(&t.v, VDRV_AVAIL(TXQ));

	a->ring[t.v.qsize] = vdrv__used(&t.v, TXQ)->idx;	/* used_event */
	transmit_one();
}

static u64 pba(void)
{
	return rd_at(BAR1 + PCI_MSIX_PBA_OFF, 8);
}

/*
 * How many MSIs each vector sent, from the debug lines the device's exit writes; a new device
 * takes its place for teardown. The last thing a test does.
 */
static void sent_at_exit(unsigned long *sent)
{
	const char *log;

	virtio_console__exit(&t.v.kvm);
	log = capture_peek();
	for (unsigned int v = 0; v < NR_VECTORS; v++) {
		char want[64];
		const char *p;

		snprintf(want, sizeof(want), "virtio-console: MSI-X vector %u: ", v);
		p = strstr(log, want);
		sent[v] = p ? strtoul(p + strlen(want), NULL, 10) : 0;
	}
	ck_assert_int_eq(virtio_console__init(&t.v.kvm), 0);
}

START_TEST(msix_capability)
{
	u32 cap = msix_cap();

	ck_assert_uint_ne(cap, 0);
	ck_assert_uint_eq(cfg_rd(cap + PCI_CAP_LIST_NEXT, 1), 0);		/* the last */
	ck_assert_uint_eq(cfg_rd(cap + PCI_MSIX_FLAGS, 2), NR_VECTORS - 1);	/* disabled */
	ck_assert_uint_eq(cfg_rd(cap + PCI_MSIX_TABLE, 4), 1);		/* BAR 1, offset 0 */
	ck_assert_uint_eq(cfg_rd(cap + PCI_MSIX_PBA, 4), PCI_MSIX_PBA_OFF | 1);
	/* BAR 1 is 4K; only enable and function mask are writable. */
	cfg_wr(PCI_BASE_ADDRESS_1, 4, ALL_ONES);
	ck_assert_uint_eq(cfg_rd(PCI_BASE_ADDRESS_1, 4), 0xfffff000);
	cfg_wr(cap, 4, ALL_ONES);
	ck_assert_uint_eq(cfg_rd(cap, 4), PCI_CAP_ID_MSIX | (u32)((NR_VECTORS - 1) |
			  PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL) << 16);
	cfg_wr(cap + 3, 1, 0);					/* the byte with both */
	ck_assert_uint_eq(cfg_rd(cap + PCI_MSIX_FLAGS, 2), NR_VECTORS - 1);
	cfg_wr(cap + PCI_MSIX_TABLE, 4, ALL_ONES);
	cfg_wr(cap + PCI_MSIX_PBA, 4, 0);
	ck_assert_uint_eq(cfg_rd(cap + PCI_MSIX_TABLE, 4), 1);
	ck_assert_uint_eq(cfg_rd(cap + PCI_MSIX_PBA, 4), PCI_MSIX_PBA_OFF | 1);
}
END_TEST

/* Every vector starts masked, its entry zero; the virtio vectors NO_VECTOR. */
START_TEST(msix_reset_state)
{
	cfg_wr(PCI_BASE_ADDRESS_1, 4, (u32)BAR1);
	enable_bar();
	for (unsigned int v = 0; v < NR_VECTORS; v++) {
		ck_assert_uint_eq(rd_at(BAR1 + ENTRY(v, 0), 8), 0);
		ck_assert_uint_eq(rd_at(BAR1 + ENTRY(v, PCI_MSIX_ENTRY_DATA), 4), 0);
		ck_assert_uint_eq(rd_at(BAR1 + ENTRY(v, PCI_MSIX_ENTRY_VECTOR_CTRL), 4), 1);
	}
	ck_assert_uint_eq(pba(), 0);
	ck_assert_uint_eq(bar_rd(COMMON(MSIX), 2), VIRTIO_MSI_NO_VECTOR);
	bar_wr(COMMON(Q_SELECT), 2, TXQ);
	ck_assert_uint_eq(bar_rd(COMMON(Q_MSIX), 2), VIRTIO_MSI_NO_VECTOR);
}
END_TEST

/* A vector beyond the table reads back NO_VECTOR (4.1.5.1.2), as does any after a reset. */
START_TEST(msix_vector_numbers)
{
	static const u32 bad[] = { NR_VECTORS, 0x7fff, 0xfffe, VIRTIO_MSI_NO_VECTOR };

	enable_bar();
	for (unsigned int i = 0; i < ARRAY_SIZE(bad); i++) {
		bar_wr(COMMON(MSIX), 2, 1);
		bar_wr(COMMON(MSIX), 2, bad[i]);
		ck_assert_uint_eq(bar_rd(COMMON(MSIX), 2), VIRTIO_MSI_NO_VECTOR);
		bar_wr(COMMON(Q_SELECT), 2, RXQ);
		bar_wr(COMMON(Q_MSIX), 2, 2);
		ck_assert_uint_eq(bar_rd(COMMON(Q_MSIX), 2), 2);
		bar_wr(COMMON(Q_MSIX), 2, bad[i]);
		ck_assert_uint_eq(bar_rd(COMMON(Q_MSIX), 2), VIRTIO_MSI_NO_VECTOR);
	}
	bar_wr(COMMON(Q_SELECT), 2, 7);				/* no such queue */
	bar_wr(COMMON(Q_MSIX), 2, 0);
	ck_assert_uint_eq(bar_rd(COMMON(Q_MSIX), 2), VIRTIO_MSI_NO_VECTOR);
	bar_wr(COMMON(MSIX), 4, 0);				/* the wrong width */
	ck_assert_uint_eq(bar_rd(COMMON(MSIX), 2), VIRTIO_MSI_NO_VECTOR);
	bar_wr(COMMON(MSIX), 2, 0);
	bar_wr(COMMON(Q_SELECT), 2, TXQ);
	bar_wr(COMMON(Q_MSIX), 2, 1);
	set_status(0);
	ck_assert_uint_eq(bar_rd(COMMON(MSIX), 2), VIRTIO_MSI_NO_VECTOR);
	ck_assert_uint_eq(bar_rd(COMMON(Q_MSIX), 2), VIRTIO_MSI_NO_VECTOR);
}
END_TEST

/* With MSI-X enabled a used buffer is an MSI on the queue's vector, and no ISR bit or INTx. */
START_TEST(msix_sends_the_queue_vector)
{
	unsigned long sent[NR_VECTORS];

	msix_driver_init();
	for (int i = 0; i < 5; i++)
		transmit_wanted();
	ck_assert_uint_eq(pba(), 0);
	ck_assert_uint_eq(bar_rd(VIRTIO_PCI_ISR_OFF, 1), 0);
	ck_assert_uint_eq(cfg_rd(PCI_STATUS, 2) & PCI_STATUS_INTERRUPT, 0);
	sent_at_exit(sent);
	ck_assert_uint_eq(sent[2], 5);
	ck_assert_uint_eq(sent[1], 0);
	ck_assert_uint_eq(sent[0], 0);
}
END_TEST

/* A config change goes to msix_config's vector, and sets the ISR's config bit (4.1.4.5.1). */
START_TEST(msix_config_vector)
{
	unsigned long sent[NR_VECTORS];

	msix_driver_init();
	virtio_dev__config_changed(t.v.kvm.virtio_devs);
	virtio_dev__config_changed(t.v.kvm.virtio_devs);
	ck_assert_uint_eq(bar_rd(VIRTIO_PCI_ISR_OFF, 1), VIRTIO_PCI_ISR_CONFIG);
	bar_wr(COMMON(MSIX), 2, VIRTIO_MSI_NO_VECTOR);		/* unmapped: nothing */
	virtio_dev__config_changed(t.v.kvm.virtio_devs);
	ck_assert_uint_eq(pba(), 0);
	sent_at_exit(sent);
	ck_assert_uint_eq(sent[0], 2);
	ck_assert_uint_eq(sent[1] + sent[2], 0);
}
END_TEST

/* A masked vector (or a masked function) keeps its MSI pending in the PBA until unmasked. */
START_TEST(msix_masking_and_the_pba)
{
	unsigned long sent[NR_VECTORS];

	msix_driver_init();
	wr_at(BAR1 + ENTRY(2, PCI_MSIX_ENTRY_VECTOR_CTRL), 4, 1);
	transmit_wanted();
	transmit_wanted();
	ck_assert_uint_eq(pba(), 1U << 2);			/* one pending, however many */
	ck_assert_uint_eq(rd_at(BAR1 + PCI_MSIX_PBA_OFF, 4), 1U << 2);
	wr_at(BAR1 + PCI_MSIX_PBA_OFF, 8, 0);			/* read-only */
	ck_assert_uint_eq(pba(), 1U << 2);
	wr_at(BAR1 + ENTRY(2, PCI_MSIX_ENTRY_VECTOR_CTRL), 4, 0);	/* sent now */
	ck_assert_uint_eq(pba(), 0);
	/* The function mask: the same, for all vectors. */
	msix_control(PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
	transmit_wanted();
	ck_assert_uint_eq(pba(), 1U << 2);
	msix_control(PCI_MSIX_FLAGS_ENABLE);			/* sent now */
	ck_assert_uint_eq(pba(), 0);
	transmit_wanted();					/* and straight away */
	ck_assert_uint_eq(pba(), 0);
	ck_assert_uint_eq(bar_rd(VIRTIO_PCI_ISR_OFF, 1), 0);
	sent_at_exit(sent);
	ck_assert_uint_eq(sent[2], 3);
}
END_TEST

/* NO_VECTOR: no interrupt at all; MSI-X disabled: INTx and the ISR, as without it. */
START_TEST(msix_no_vector_and_disabled)
{
	unsigned long sent[NR_VECTORS];

	msix_driver_init();
	bar_wr(COMMON(Q_SELECT), 2, TXQ);
	bar_wr(COMMON(Q_MSIX), 2, VIRTIO_MSI_NO_VECTOR);
	transmit_wanted();
	ck_assert_uint_eq(pba(), 0);
	ck_assert_uint_eq(bar_rd(VIRTIO_PCI_ISR_OFF, 1), 0);
	msix_control(0);
	transmit_wanted();
	ck_assert_uint_eq(pba(), 0);
	ck_assert_uint_eq(bar_rd(VIRTIO_PCI_ISR_OFF, 1), 1);
	sent_at_exit(sent);
	ck_assert_uint_eq(sent[0] + sent[1] + sent[2], 0);
}
END_TEST

/* Table and PBA take aligned 4 and 8 bytes only; past the table, nothing. */
START_TEST(msix_table_junk)
{
	u64 entry0;

	msix_driver_init();
	entry0 = rd_at(BAR1, 8);
	ck_assert_uint_eq(entry0, ITS_DOORBELL);
	wr_at(BAR1, 1, 0xff);
	wr_at(BAR1 + 2, 2, 0xffff);
	wr_at(BAR1 + 2, 4, ALL_ONES);				/* misaligned */
	wr_at(BAR1 + 4, 8, ~0ULL);				/* misaligned 8 */
	ck_assert_uint_eq(rd_at(BAR1, 8), entry0);
	ck_assert_uint_eq(rd_at(BAR1, 1), 0);
	ck_assert_uint_eq(rd_at(BAR1 + 4, 8), 0);
	/* Vector Control's reserved bits read 0; 8 bytes write data and control together. */
	wr_at(BAR1 + ENTRY(0, PCI_MSIX_ENTRY_DATA), 8, 0xfffffffe00000007ULL);
	ck_assert_uint_eq(rd_at(BAR1 + ENTRY(0, PCI_MSIX_ENTRY_DATA), 8), 7);
	/* Past the last entry and around the PBA: reads 0, writes go nowhere. */
	wr_at(BAR1 + ENTRY(NR_VECTORS, 0), 8, ~0ULL);
	ck_assert_uint_eq(rd_at(BAR1 + ENTRY(NR_VECTORS, 0), 8), 0);
	ck_assert_uint_eq(rd_at(BAR1 + PCI_MSIX_PBA_OFF + 8, 8), 0);
	ck_assert_uint_eq(rd_at(BAR1 + PCI_MSIX_BAR_SIZE - 8, 8), 0);
	for (unsigned int i = 0; i < 20000; i++) {
		u64 off = (u64)rand() % PCI_MSIX_BAR_SIZE;
		unsigned int len = 1U << (rand() % 4);

		if (off + len > PCI_MSIX_BAR_SIZE)
			continue;
		if (rand() % 2)
			wr_at(BAR1 + off, len, ((u64)rand() << 32) | (u64)rand());
		else
			rd_at(BAR1 + off, len);
		if (i % 1000 == 0) {
			msix_control((u16)rand());
			transmit_wanted();
		}
	}
	msix_control(PCI_MSIX_FLAGS_ENABLE);
	for (unsigned int v = 0; v < NR_VECTORS; v++)
		wr_at(BAR1 + ENTRY(v, PCI_MSIX_ENTRY_VECTOR_CTRL), 4, 0);
	ck_assert_uint_eq(pba(), 0);
	transmit_wanted();
	ck_assert_uint_eq(pba(), 0);
}
END_TEST

/* Without an ITS there is no MSI-X: no capability, no BAR 1, vectors stay NO_VECTOR. */
START_TEST(no_msix_without_its)
{
	ck_assert_uint_eq(msix_cap(), 0);
	cfg_wr(PCI_BASE_ADDRESS_1, 4, ALL_ONES);
	ck_assert_uint_eq(cfg_rd(PCI_BASE_ADDRESS_1, 4), 0);
	enable_bar();
	bar_wr(COMMON(MSIX), 2, 0);
	ck_assert_uint_eq(bar_rd(COMMON(MSIX), 2), VIRTIO_MSI_NO_VECTOR);
	bar_wr(COMMON(Q_SELECT), 2, TXQ);
	bar_wr(COMMON(Q_MSIX), 2, 0);
	ck_assert_uint_eq(bar_rd(COMMON(Q_MSIX), 2), VIRTIO_MSI_NO_VECTOR);
}
END_TEST

/* With an ITS the bridge's node sends MSIs there, the requester ID as the DeviceID. */
START_TEST(device_tree_msi_map)
{
	static u8 buf[4096];
	const fdt32_t *p;
	int node, len;

	vdrv__fdt(&t.v.kvm, buf, sizeof(buf));
	node = fdt_path_offset(buf, "/pcie@10000000");
	ck_assert_int_ge(node, 0);
	ck_assert_ptr_null(fdt_getprop(buf, node, "msi-parent", NULL));
	p = fdt_getprop(buf, node, "msi-map", &len);
	ck_assert_int_eq(len, 16);
	ck_assert_uint_eq(fdt32_ld(&p[0]), 0);
	ck_assert_uint_eq(fdt32_ld(&p[1]), FDT_ITS_PHANDLE);
	ck_assert_uint_eq(fdt32_ld(&p[2]), 0);
	ck_assert_uint_eq(fdt32_ld(&p[3]), 0x100);
	/* INTx stays in the map: a driver may not enable MSI-X. */
	ck_assert_ptr_nonnull(fdt_getprop(buf, node, "interrupt-map", NULL));
}
END_TEST

Suite *pci_suite(void)
{
	Suite *s = suite_create("pci");
	TCase *bus_tc = tcase_create("bus");
	TCase *vp = tcase_create("virtio-pci");
	TCase *bells = tcase_create("doorbells");
	TCase *msix = tcase_create("msix");

	tcase_add_checked_fixture(bus_tc, setup, teardown);
	tcase_add_test(bus_tc, identity);
	tcase_add_test(bus_tc, absent_functions_read_all_ones);
	tcase_add_test(bus_tc, every_width_at_every_offset);
	tcase_add_test(bus_tc, malformed_writes_are_dropped);
	tcase_add_test(bus_tc, bar_sizing);
	tcase_add_test(bus_tc, memory_decoding_gates_the_bar);
	tcase_add_test(bus_tc, bar_follows_the_guest);
	tcase_add_test(bus_tc, capabilities_chain);
	tcase_add_test(bus_tc, capabilities_are_read_only);
	tcase_add_test(bus_tc, device_tree_node);
	tcase_add_test(bus_tc, next_device_gets_the_next_slot);
	tcase_add_test(bus_tc, bus_is_full_at_32);
	tcase_add_test(bus_tc, no_bus_with_virtio_mmio);
	tcase_add_test(bus_tc, no_msix_without_its);
	suite_add_tcase(s, bus_tc);

	tcase_add_checked_fixture(vp, setup, teardown);
	tcase_add_test(vp, device_features);
	tcase_add_test(vp, feature_negotiation);
	tcase_add_test(vp, common_config_wrong_widths);
	tcase_add_test(vp, queue_select_out_of_range);
	tcase_add_test(vp, queue_size_not_a_power_of_2);
	tcase_add_test(vp, rings_outside_ram_need_reset);
	tcase_add_test(vp, queue_setup_fixed_while_enabled);
	tcase_add_test(vp, notify_and_isr_read_to_clear);
	tcase_add_test(vp, intx_disable_keeps_the_status);
	tcase_add_test(vp, notify_of_bad_queues);
	tcase_add_test(vp, device_config_space);
	tcase_add_test(vp, failure_raises_a_config_interrupt);
	tcase_add_test(vp, config_change_interrupts);
	tcase_add_test(vp, reset_clears_everything);
	tcase_add_test(vp, pci_config_access_capability);
	tcase_add_test(vp, junk_everywhere);
	tcase_add_test(vp, exit_detaches);
	tcase_add_test(vp, isr_bits_add_up);
	suite_add_tcase(s, vp);

	tcase_add_checked_fixture(bells, doorbell_setup, debug_log_teardown);
	tcase_add_test(bells, doorbells_follow_the_queues);
	tcase_add_test(bells, doorbells_follow_the_bar);
	tcase_add_test(bells, doorbells_wait_for_decoding);
	tcase_add_test(bells, doorbells_under_junk);
	tcase_add_test(bells, doorbells_without_kvm_exit);
	suite_add_tcase(s, bells);

	tcase_add_checked_fixture(msix, msix_setup, debug_log_teardown);
	tcase_add_test(msix, msix_capability);
	tcase_add_test(msix, msix_reset_state);
	tcase_add_test(msix, msix_vector_numbers);
	tcase_add_test(msix, msix_sends_the_queue_vector);
	tcase_add_test(msix, msix_config_vector);
	tcase_add_test(msix, msix_masking_and_the_pba);
	tcase_add_test(msix, msix_no_vector_and_disabled);
	tcase_add_test(msix, msix_table_junk);
	tcase_add_test(msix, device_tree_msi_map);
	suite_add_tcase(s, msix);
	return s;
}
