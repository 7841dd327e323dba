/*
 * A generic ECAM PCI host bridge (pci-host-ecam-generic) with one bus, bus 0, of --virtio-transport
 * pci. Device n (n < LKVM_PCI_MAX_DEVS, function 0 only) gets INTA on SPI LKVM_PCI_SPI_BASE + n
 * and up to PCI_NR_BARS 32-bit memory BARs, which the guest may move anywhere in the window
 * [LKVM_PCI_MMIO_BASE, + LKVM_PCI_MMIO_SIZE): the bus decodes them where the guest put them, while
 * the device's Command register enables memory space (pci__bar_base). Before the guest moves
 * them, a device's BARs sit at LKVM_PCI_MMIO_BASE + n * LKVM_PCI_BAR_SIZE, one after the other.
 *
 * The bus implements the type 0 header (0x00-0x3f); a device implements its capabilities
 * (0x40-0xff) and what its BARs hold. Config accesses are serialised by the bus lock, as config
 * transactions are on a real bus; BAR accesses are not, so a device locks its own state.
 */
#ifndef LKVM_PCI_H
#define LKVM_PCI_H

#include <pthread.h>

#include "lkvm/util.h"
#include "lkvm/irq.h"
#include "lkvm/memory-map.h"

struct kvm;
struct pci_bus;
struct pci_dev;

#define PCI_NR_BARS		6
#define PCI_CFG_HEADER_SIZE	0x40	/* the bus's part of config space; capabilities follow */
#define PCI_CFG_SIZE		0x100	/* conventional PCI: 0x100-0xfff read as zero */

/* Class codes (base class << 8 | subclass) for the devices lkvm has. */
#define PCI_CLASS_CODE_STORAGE_SCSI	0x0100
#define PCI_CLASS_CODE_STORAGE_OTHER	0x0180
#define PCI_CLASS_CODE_ETHERNET		0x0200
#define PCI_CLASS_CODE_COMM_OTHER	0x0780
#define PCI_CLASS_CODE_OTHER		0xff00

/*
 * MSI-X (PCI 3.0 section 6.8.2), for a VM with a GICv3 ITS (pci__msix_capable): the bus implements
 * the capability (12 bytes where the device's chain points), and the table (16 bytes per vector,
 * at 0) and the PBA (at PCI_MSIX_PBA_OFF) in a BAR of PCI_MSIX_BAR_SIZE that only they use. Each
 * vector is an MSI line (irq.h) with the device's requester ID as DeviceID, routed through an
 * irqfd while the vector can deliver (MSI-X enabled, neither function nor vector masked); a
 * vector raised while it cannot sets its PBA bit, and goes once it can. Table and PBA take
 * aligned 4- and 8-byte accesses only, as the spec requires; others read 0 and are dropped.
 */
#define PCI_MSIX_CAP_SIZE	12
#define PCI_MSIX_BAR_SIZE	0x1000
#define PCI_MSIX_PBA_OFF	0x800
_Static_assert(LKVM_PCI_MSIX_MAX * 16 <= PCI_MSIX_PBA_OFF && LKVM_PCI_MSIX_MAX <= 64,
	       "the MSI-X table or PBA does not fit");

struct pci_msix_entry {
	u32 addr_lo, addr_hi, data, ctrl;
};

struct pci_msix {
	/* What the device fills in before pci__register; nr 0: no MSI-X. */
	unsigned int nr;		/* vectors, 1 to LKVM_PCI_MSIX_MAX */
	u8 cap;				/* the capability's offset in config space */
	u8 next;			/* the capability after it, or 0 */
	unsigned int bar;		/* the BAR of PCI_MSIX_BAR_SIZE holding table and PBA */

	/* The bus's, under lock (innermost, as INTx's). */
	pthread_mutex_t lock;
	u16 control;			/* PCI_MSIX_FLAGS_ENABLE, PCI_MSIX_FLAGS_MASKALL */
	u64 pba;
	struct pci_msix_entry table[LKVM_PCI_MSIX_MAX];
	struct irq_line lines[LKVM_PCI_MSIX_MAX];
};

struct pci_dev_ops {
	/*
	 * Config space at offset (PCI_CFG_HEADER_SIZE <= offset < PCI_CFG_SIZE): len is 1, 2 or 4
	 * and the access is naturally aligned. Called under the bus lock. cfg_write may be NULL.
	 */
	void (*cfg_read)(struct pci_dev *pdev, u32 offset, u8 *data, unsigned int len);
	void (*cfg_write)(struct pci_dev *pdev, u32 offset, const u8 *data, unsigned int len);
	/*
	 * len (1, 2, 4 or 8) bytes at offset within BAR bar, wholly inside it. Called on a vCPU
	 * thread without the bus lock, and also from cfg_read/cfg_write if the device routes them
	 * there.
	 */
	void (*bar_read)(struct pci_dev *pdev, unsigned int bar, u64 offset, u8 *data,
			 unsigned int len);
	void (*bar_write)(struct pci_dev *pdev, unsigned int bar, u64 offset, const u8 *data,
			  unsigned int len);
	/*
	 * The guest wrote a BAR or the Command register: where the BARs decode (pci__bar_base) may
	 * have changed, for a device that tells KVM about addresses in them. Called under the bus
	 * lock, after the write. May be NULL.
	 */
	void (*decoding_changed)(struct pci_dev *pdev);
};

struct pci_dev {
	/* What the device fills in before pci__register. */
	const struct pci_dev_ops *ops;
	const char *name;		/* for messages */
	u16 vendor_id, device_id;
	u16 subsys_vendor_id, subsys_id;
	u8 revision;
	u16 class_code;			/* base class << 8 | subclass; programming interface 0 */
	u8 cap_ptr;			/* offset of the first capability, 0: none */
	u32 bar_size[PCI_NR_BARS];	/* a power of 2 from 16 on, 0: no BAR */

	/* What the bus assigns. */
	struct pci_bus *bus;
	unsigned int slot;		/* device number on bus 0 */
	unsigned int spi;		/* its INTA */

	/* What the guest programs, under the bus lock. */
	u16 command;
	u32 bar_addr[PCI_NR_BARS];
	u8 cache_line_size, irq_line;

	/* INTx: up while the device's interrupt status is not 0, unless Command's INTx Disable. */
	struct status_irq intx;
	struct pci_msix msix;
};

/*
 * The host bridge: created by an init at the base level when --virtio-transport is pci (so it
 * is there before any device and outlives them all), else absent.
 */
int pci__init(struct kvm *kvm);
void pci__exit(struct kvm *kvm);

/*
 * Puts a device on the first free slot of the VM's bus: -ENODEV if there is no bus, -ENOSPC when
 * full, -EINVAL if its BARs do not fit LKVM_PCI_BAR_SIZE. Logs errors.
 */
int pci__register(struct kvm *kvm, struct pci_dev *pdev);
/* Takes it off the bus again (the VM is stopped then). */
void pci__unregister(struct pci_dev *pdev);
/*
 * INTx, through an irqfd where KVM offers one (irq.h): pci__irq_raise sets bits of the device's
 * interrupt status (its own meaning: virtio-pci's ISR), pci__irq_ack clears them and returns the
 * status before. The line is up while the status is not 0 and INTx is not disabled;
 * Status's Interrupt Status bit shows the status either way. Callable from any thread.
 */
void pci__irq_raise(struct pci_dev *pdev, u32 bits);
u32 pci__irq_ack(struct pci_dev *pdev, u32 bits);
/* Whether this VM's PCI devices can have MSI-X: a bus, and a GIC with an ITS. */
bool pci__msix_capable(struct kvm *kvm);
/*
 * MSI-X vector `vector` of the device: sent, or left pending in the PBA while it is masked;
 * nothing if it is not one of the device's (virtio's NO_VECTOR). False if MSI-X is not enabled:
 * then the device interrupts through INTx (pci__irq_raise), as the spec has it; INTx stays low
 * while MSI-X is enabled. Callable from any thread.
 */
bool pci__msix_raise(struct pci_dev *pdev, unsigned int vector);

/*
 * Where BAR bar decodes now: its address, or 0 if it does not (no such BAR, memory decoding off,
 * or not wholly inside the window). Under the bus lock (as in decoding_changed).
 */
u64 pci__bar_base(const struct pci_dev *pdev, unsigned int bar);

#endif
