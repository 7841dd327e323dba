/*
 * The largest configuration `lkvm run` accepts: as many disks, shares and network devices as the
 * option parsers take, with --rng, --balloon and --console virtio. One more of any kind is refused
 * by the parser; all of them attach, over either transport, each with its own register window or
 * PCI slot, interrupt and device tree node. (A real VM adds the GIC's, the timer's and the UART's
 * device tree nodes first: stand-ins here.)
 */
#include <fcntl.h>
#include <libfdt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/virtio_ids.h>
#include <linux/virtio_mmio.h>

#include "lkvm/devspec.h"
#include "lkvm/kvm.h"
#include "lkvm/memory-map.h"
#include "lkvm/p9.h"
#include "lkvm/pci.h"
#include "lkvm/term.h"
#include "lkvm/virtio-balloon.h"
#include "lkvm/virtio-blk.h"
#include "lkvm/virtio-console.h"
#include "lkvm/virtio-net.h"
#include "lkvm/virtio-rng.h"
#include "lkvm/virtio.h"
#include "suites.h"
#include "vdriver.h"

#define RAM_SIZE	(32ULL << 20)
#define NR_PLATFORM	3		/* the GIC, the timer, the UART */
/*
 * All of MAX_VIRTIO_DEVS but virtio-vsock, which needs the host's /dev/vhost-vsock: the system
 * test (tests/system/t-limits.sh) boots the largest configuration with it.
 */
#define NR_ATTACHED	(MAX_VIRTIO_DEVS - 1)

static struct {
	struct vdrv v;
	struct term term;
	char dir[32];			/* the disks and shared directories */
	int peers[MAX_NETS];		/* the far ends of the network devices' sockets */
	struct fdt_node_gen platform[NR_PLATFORM];
	u8 fdt[1 << 16];
} t;

static int no_node(const struct fdt_node_gen *self, const struct fdt_ctx *ctx)
{
	(void)self;
	(void)ctx;
	return 0;
}

/* What the options take, then one more of each kind: refused, with the limit in the message. */
static void parse_largest(void)
{
	struct lkvm_config *cfg = &t.v.cfg;
	const char *why = NULL;
	char path[64];
	int fd;

	for (unsigned int i = 0; i <= MAX_DISKS; i++) {
		snprintf(path, sizeof(path), "%s/disk%u", t.dir, i);
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
		ck_assert_int_ge(fd, 0);
		ck_assert_int_eq(ftruncate(fd, 1 << 20), 0);
		close(fd);
		ck_assert_int_eq(devspec__disk_or_dir(cfg, path, &why) == 0, i < MAX_DISKS);
	}
	ck_assert_str_eq(why, "too many disks (at most 8)");
	for (unsigned int i = 0; i <= MAX_SHARES; i++) {
		snprintf(path, sizeof(path), "%s/share%u", t.dir, i);
		ck_assert_int_eq(mkdir(path, 0700), 0);
		ck_assert_int_eq(devspec__share(cfg, path, &why) == 0, i < MAX_SHARES);
	}
	ck_assert_str_eq(why, "too many shared directories (at most 8)");
	for (unsigned int i = 0; i <= MAX_NETS; i++)
		ck_assert_int_eq(devspec__net(cfg, "mode=tap", &why) == 0, i < MAX_NETS);
	ck_assert_str_eq(why, "too many network devices (at most 4)");
	cfg->rng = cfg->balloon = true;
	cfg->console = CONSOLE_VIRTIO;
}

static void setup(void)
{
	memset(&t, 0, sizeof(t));
	vdrv__setup(&t.v, RAM_SIZE);
	strcpy(t.dir, "/tmp/lkvm-limits-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(t.dir));
	t.term.in_fd = -1;
	t.term.out_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	t.v.kvm.term = &t.term;
	for (unsigned int i = 0; i < MAX_NETS; i++)
		t.peers[i] = -1;
	parse_largest();
}

/* Each device as `lkvm run` adds it, but the network devices on sockets instead of taps. */
static void attach_all(void)
{
	struct kvm *kvm = &t.v.kvm;

	for (unsigned int i = 0; i < NR_PLATFORM; i++) {
		t.platform[i].gen = no_node;
		ck_assert_int_eq(kvm__add_fdt_gen(kvm, &t.platform[i]), 0);
	}
	if (t.v.cfg.virtio_transport == VIRTIO_TRANSPORT_PCI)
		ck_assert_int_eq(pci__init(kvm), 0);
	ck_assert_int_eq(virtio_blk__init(kvm), 0);
	ck_assert_int_eq(virtio_9p__init(kvm), 0);
	for (unsigned int i = 0; i < MAX_NETS; i++) {
		int sv[2];

		ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
		t.peers[i] = sv[1];
		ck_assert_int_eq(virtio_net__add(kvm, &t.v.cfg.nets[i], sv[0], "test"), 0);
	}
	ck_assert_int_eq(virtio_rng__init(kvm), 0);
	ck_assert_int_eq(virtio_balloon__init(kvm), 0);
	ck_assert_int_eq(virtio_console__init(kvm), 0);
}

static void teardown(void)
{
	struct kvm *kvm = &t.v.kvm;
	char path[64];

	virtio_console__exit(kvm);
	virtio_balloon__exit(kvm);
	virtio_rng__exit(kvm);
	virtio_net__exit(kvm);
	virtio_9p__exit(kvm);
	virtio_blk__exit(kvm);
	pci__exit(kvm);
	for (unsigned int i = 0; i < MAX_NETS; i++) {
		if (t.peers[i] >= 0)
			close(t.peers[i]);
	}
	for (unsigned int i = 0; i <= MAX_DISKS; i++) {
		snprintf(path, sizeof(path), "%s/disk%u", t.dir, i);
		unlink(path);
	}
	for (unsigned int i = 0; i <= MAX_SHARES; i++) {
		snprintf(path, sizeof(path), "%s/share%u", t.dir, i);
		rmdir(path);
	}
	rmdir(t.dir);
	devspec__free(&t.v.cfg);
	close(t.term.out_fd);
	vdrv__teardown(&t.v);
}

/* Runs every generator into t.fdt, under one root node. */
static void build_fdt(void)
{
	vdrv__fdt(&t.v.kvm, t.fdt, sizeof(t.fdt));
}

static unsigned int nr_virtio_devs(void)
{
	unsigned int n = 0;

	for (struct virtio_dev *d = t.v.kvm.virtio_devs; d; d = d->next)
		n++;
	return n;
}

/* How many devices of each VIRTIO_ID_* the largest configuration has. */
static unsigned int expected(u32 id)
{
	switch (id) {
	case VIRTIO_ID_NET:	return MAX_NETS;
	case VIRTIO_ID_BLOCK:	return MAX_DISKS;
	case VIRTIO_ID_9P:	return MAX_SHARES;
	case VIRTIO_ID_CONSOLE:
	case VIRTIO_ID_RNG:
	case VIRTIO_ID_BALLOON:	return 1;
	default:		return 0;
	}
}

START_TEST(largest_over_mmio)
{
	unsigned int count[VIRTIO_ID_9P + 1] = { 0 }, nodes = 0;
	u32 spis_seen[LKVM_VIRTIO_MMIO_MAX] = { 0 };

	attach_all();
	ck_assert_uint_eq(nr_virtio_devs(), NR_ATTACHED);
	ck_assert_uint_eq(t.v.kvm.nr_fdt_gens, NR_PLATFORM + NR_ATTACHED);
	/* Each answers in its own window, the next one is empty. */
	for (unsigned int n = 0; n < NR_ATTACHED; n++) {
		u32 id;

		t.v.base = LKVM_VIRTIO_MMIO_BASE + n * LKVM_VIRTIO_MMIO_SIZE;
		ck_assert_uint_eq(vdrv__rd(&t.v, VIRTIO_MMIO_MAGIC_VALUE), 0x74726976);
		id = vdrv__rd(&t.v, VIRTIO_MMIO_DEVICE_ID);
		ck_assert_uint_lt(id, ARRAY_SIZE(count));
		count[id]++;
	}
	t.v.base = LKVM_VIRTIO_MMIO_BASE + NR_ATTACHED * LKVM_VIRTIO_MMIO_SIZE;
	ck_assert(!vdrv__access(&t.v, VIRTIO_MMIO_MAGIC_VALUE, &(u32){ 0 }, 4, false));
	for (u32 id = 0; id < ARRAY_SIZE(count); id++)
		ck_assert_msg(count[id] == expected(id), "%u devices of id %u", count[id], id);
	/* A device tree node each, with an SPI of its own. */
	build_fdt();
	for (int node = fdt_node_offset_by_compatible(t.fdt, -1, "virtio,mmio"); node >= 0;
	     node = fdt_node_offset_by_compatible(t.fdt, node, "virtio,mmio")) {
		const fdt32_t *irq = fdt_getprop(t.fdt, node, "interrupts", NULL);
		u32 spi = fdt32_ld(&irq[1]);

		ck_assert_uint_ge(spi, LKVM_VIRTIO_SPI_BASE);
		ck_assert_uint_lt(spi, LKVM_VIRTIO_SPI_BASE + LKVM_VIRTIO_MMIO_MAX);
		ck_assert_uint_eq(spis_seen[spi - LKVM_VIRTIO_SPI_BASE]++, 0);
		nodes++;
	}
	ck_assert_uint_eq(nodes, NR_ATTACHED);
}
END_TEST

static u32 ecam_rd32(unsigned int slot, u32 reg)
{
	u8 d[4];

	ck_assert(mmio__access(&t.v.kvm.mmio, LKVM_PCI_CFG_BASE + ((u64)slot << 15) + reg, d, 4,
			       false));
	return get_le32(d);
}

START_TEST(largest_over_pci)
{
	unsigned int count[VIRTIO_ID_9P + 1] = { 0 };
	int len;

	t.v.cfg.virtio_transport = VIRTIO_TRANSPORT_PCI;
	attach_all();
	ck_assert_uint_eq(nr_virtio_devs(), NR_ATTACHED);
	ck_assert_uint_eq(t.v.kvm.nr_fdt_gens, NR_PLATFORM + 1);
	/* Vendor 0x1af4, device 0x1040 + the virtio ID: one per slot, the next slot empty. */
	for (unsigned int slot = 0; slot < NR_ATTACHED; slot++) {
		u32 ids = ecam_rd32(slot, 0);

		ck_assert_uint_eq(ids & 0xffff, 0x1af4);
		ck_assert_uint_ge(ids >> 16, 0x1040);
		ck_assert_uint_lt((ids >> 16) - 0x1040, ARRAY_SIZE(count));
		count[(ids >> 16) - 0x1040]++;
	}
	ck_assert_uint_eq(ecam_rd32(NR_ATTACHED, 0), 0xffffffff);
	for (u32 id = 0; id < ARRAY_SIZE(count); id++)
		ck_assert_msg(count[id] == expected(id), "%u devices of id %u", count[id], id);
	/* The bridge maps each one's INTA to an SPI: 10 cells per device. */
	build_fdt();
	ck_assert_ptr_nonnull(fdt_getprop(t.fdt, fdt_path_offset(t.fdt, "/pcie@10000000"),
					  "interrupt-map", &len));
	ck_assert_int_eq(len, NR_ATTACHED * 10 * 4);
}
END_TEST

Suite *limits_suite(void)
{
	Suite *s = suite_create("limits");
	TCase *tc = tcase_create("largest configuration");

	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, largest_over_mmio);
	tcase_add_test(tc, largest_over_pci);
	suite_add_tcase(s, tc);
	return s;
}
