/* What `lkvm run` was asked for, after option parsing. Read-only once the VM starts. */
#ifndef LKVM_CONFIG_H
#define LKVM_CONFIG_H

#include "lkvm/memory-map.h"
#include "lkvm/util.h"

#include <sched.h>

enum console_type { CONSOLE_SERIAL, CONSOLE_VIRTIO };
enum irqchip_type { IRQCHIP_AUTO, IRQCHIP_GICV3, IRQCHIP_GICV2, IRQCHIP_GICV3_ITS };
enum reset_action { RESET_RESTART, RESET_EXIT };
enum psci_mode { PSCI_KERNEL, PSCI_USER };
enum psci_conduit { CONDUIT_HVC, CONDUIT_SMC };
enum trng_mode { TRNG_KERNEL, TRNG_USER, TRNG_OFF };
enum smccc_action { SMCCC_IGNORE, SMCCC_DENY, SMCCC_UNSUPPORTED };
enum virtio_transport_type { VIRTIO_TRANSPORT_MMIO, VIRTIO_TRANSPORT_PCI };
enum net_mode { NET_NONE, NET_TAP, NET_USER };

/* One --smccc FID[-FID]:ACTION. */
struct smccc_rule {
	u32 first, last;
	enum smccc_action action;
};

#define MAX_SMCCC_RULES 16
#define MAX_DISKS	8
#define MAX_SHARES	8
#define MAX_NETS	4
/*
 * The most virtio devices the options ask for: the above, --rng, --balloon, --console virtio and
 * --vsock.
 * Each takes a virtio-mmio slot or a PCI device number, and an SPI either way: any command line
 * the parsers accept fits either transport, so no limit is first met while the VM is built.
 */
#define MAX_VIRTIO_DEVS	(MAX_DISKS + MAX_SHARES + MAX_NETS + 4)
_Static_assert(MAX_VIRTIO_DEVS <= LKVM_VIRTIO_MMIO_MAX, "more virtio devices than mmio slots");
_Static_assert(MAX_VIRTIO_DEVS <= LKVM_PCI_MAX_DEVS, "more virtio devices than PCI slots");

/* -d FILE[,ro][,direct]: a virtio-blk disk. */
struct disk_spec {
	const char *path;
	bool readonly;
	bool direct;		/* O_DIRECT: bypass the host page cache */
};

/* --9p DIR[,TAG], or -d DIR (tag "/dev/root"): a virtio-9p share. */
struct share_spec {
	const char *path;
	const char *tag;
};

#define SHARE_ROOT_TAG	"/dev/root"

/*
 * -n mode=tap[,tapif=NAME][,guest_mac=MAC], -n mode=user[,guest_ip=IP][,host_ip=IP][,guest_mac=MAC]
 * or -n mode=none.
 */
struct net_spec {
	enum net_mode mode;
	const char *tapif;	/* NULL: the kernel picks a name */
	u8 guest_mac[6];
	u32 guest_ip, host_ip;	/* mode=user: IPv4 addresses, host byte order, in one /24 */
	char *owned;		/* the option's copy that tapif points into */
};

struct lkvm_config {
	const char *kernel_path;
	const char *initrd_path;
	const char *params;
	const char *name;
	const char *dump_dtb;
	bool acpi;			/* --acpi: ACPI tables and an EFI stub, not a device tree */
	const char *dump_acpi;		/* --dump-acpi DIR */
	unsigned int nr_cpus;		/* vCPUs that exist: --max-cpus, else -c */
	bool *plugged;			/* which start plugged (--max-cpus), or NULL: all */
	u64 ram_size;
	enum console_type console;
	enum irqchip_type irqchip;
	enum reset_action on_reset;
	enum psci_mode psci;
	enum psci_conduit psci_conduit;
	bool debug_psci;
	bool sdei;		/* --sdei: lkvm's SDEI 1.1 (needs --psci=user) */
	bool debug_firmware;
	bool nodefaults;
	enum trng_mode trng;
	bool trng_seeded;
	u8 trng_seed[32];
	size_t trng_seed_len;
	struct smccc_rule smccc[MAX_SMCCC_RULES];
	unsigned int nr_smccc;
	unsigned int timeout;		/* seconds; 0: none */
	const char *console_log;
	const char *events_log;	/* lkvm run --events-log FILE */
	enum virtio_transport_type virtio_transport;
	struct disk_spec disks[MAX_DISKS];
	unsigned int nr_disks;
	struct share_spec shares[MAX_SHARES];
	unsigned int nr_shares;
	struct net_spec nets[MAX_NETS];
	unsigned int nr_nets;
	bool rng;		/* --rng: virtio-rng */
	bool balloon;		/* --balloon: virtio-balloon */
	const char *hugetlbfs;	/* --hugetlbfs DIR: RAM from there, or NULL */
	bool kaslr_seed_given;
	u64 kaslr_seed;		/* --kaslr-seed; else a random one per boot */
	bool pin_vcpus;
	cpu_set_t vcpu_affinity;	/* --vcpu-affinity: where vCPU threads may run */
	const char *firmware_path;	/* --firmware: entered instead of the kernel */
	u64 firmware_addr;	/* --firmware-address, or 0: the start of RAM */
	/* vCPU features, kvmtool's (Documentation/vcpu-features.md) */
	bool pmu;		/* --pmu: PMUv3 */
	bool disable_sve;	/* --disable-sve; else SVE whenever KVM has it */
	unsigned int sve_max_vq;	/* --sve-max-vl, in 128-bit quadwords; 0: KVM's maximum */
	bool disable_mte;	/* --disable-mte; else MTE whenever KVM has it */
	bool no_pvtime;		/* --no-pvtime; else stolen time whenever KVM has it */
	bool nested;		/* --nested: vCPUs start at EL2 */
	bool aarch32;		/* --aarch32: a 32-bit EL1 guest */
	bool no_dhcp;		/* --no-dhcp: no ip=dhcp for a 9p root on the user network */
	u64 vsock_cid;		/* --vsock: the guest's CID for virtio-vsock; 0: none */
};

#endif
