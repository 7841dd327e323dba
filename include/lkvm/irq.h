/*
 * Level-triggered SPIs (numbered from 0, as for kvm__irq_line), kept in the kernel where KVM offers
 * it (KVM_CAP_IRQFD, KVM_CAP_IRQFD_RESAMPLE, and the VM's I/O thread, io-thread.h): raising the
 * line is a write to an irqfd, and when the guest EOIs it KVM lowers the line and signals the
 * resamplefd, on which the I/O thread asks the owner whether the line must go up again.
 *
 * MSIs (a PCI device's MSI-X vectors through the GICv3 ITS) are lines too: raising one is a write
 * to an irqfd whose GSI KVM routes as that MSI (KVM_SET_GSI_ROUTING, KVM_IRQ_ROUTING_MSI with the
 * DeviceID, struct irq_routing), so a device raises either kind the same way. Without irqfd or
 * routing the MSI goes through KVM_SIGNAL_MSI.
 *
 * Everything here is optional: without the capability, without a VM (kvm->vm_fd < 0, as in unit
 * tests) or when KVM refuses, the line goes through KVM_IRQ_LINE, which works on its own.
 */
#ifndef LKVM_IRQ_H
#define LKVM_IRQ_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "lkvm/io-thread.h"
#include "lkvm/util.h"

struct kvm;

/*
 * One line: through an irqfd with a resamplefd where KVM has them; then resampled runs on the I/O
 * thread each time the guest has EOI'd the interrupt and KVM has lowered the line, and the owner
 * calls irq_line__set(line, true) from it if its interrupt is still pending. Else KVM_IRQ_LINE.
 */
struct irq_routing;

/* An MSI: what the device writes (data) where (address), and who it is (the ITS's DeviceID). */
struct irq_msi {
	u64 addr;
	u32 data;
	u32 devid;
};

struct irq_line {
	struct kvm *kvm;
	unsigned int spi;
	int fd;				/* the irqfd, or -1: KVM_IRQ_LINE (KVM_SIGNAL_MSI) */
	struct io_source resample;
	void (*resampled)(struct irq_line *line);
	u64 raises, resamples;		/* for --debug */
	/* An MSI line: its GSI in routing, whose route KVM has for msg (routed), or NULL. */
	struct irq_routing *routing;
	unsigned int gsi;
	struct irq_msi msg;
	bool routed;
};

/* Sets line up; true if it goes through an irqfd. Never fails: KVM_IRQ_LINE is the fallback. */
bool irq_line__init(struct irq_line *line, struct kvm *kvm, unsigned int spi,
		    void (*resampled)(struct irq_line *line));
/* Raises or lowers the line. From any thread; the caller serialises it with its own state. */
void irq_line__set(struct irq_line *line, bool level);
void irq_line__exit(struct irq_line *line);

/*
 * A VM's GSI routing table, which KVM takes whole (KVM_SET_GSI_ROUTING): the SPIs routed to
 * themselves, as KVM's default, then one MSI route per MSI line. Usable where KVM has
 * KVM_CAP_IRQ_ROUTING and irqfds; its owner (the PCI bus) lives longer than its lines.
 */
struct irq_routing {
	struct kvm *kvm;
	pthread_mutex_t lock;		/* the table; KVM's copy changes under it */
	struct kvm_irq_routing *table;	/* NULL: no routing, MSIs through KVM_SIGNAL_MSI */
	unsigned int nr_msis;
	_Atomic unsigned int warned;	/* a route KVM refused */
};

void irq_routing__init(struct irq_routing *r, struct kvm *kvm);
void irq_routing__exit(struct irq_routing *r);

/*
 * An MSI line with a GSI of its own in r: false (KVM_SIGNAL_MSI) without routing or irqfd.
 * irq_line__set_msi gives it the message it sends; before that, raising it sends nothing.
 * irq_line__set(line, true) sends the message, each time (MSIs are edges); false does nothing.
 */
bool irq_line__init_msi(struct irq_line *line, struct kvm *kvm, struct irq_routing *r);
/* Where the line's MSI goes: KVM's route follows, if it differs. Serialised by the owner. */
void irq_line__set_msi(struct irq_line *line, const struct irq_msi *msg);

/*
 * A line backed by a status word, as virtio-mmio's InterruptStatus and a PCI device's interrupt
 * status (virtio-pci's ISR): up while some status bit is set and the interrupt is not masked
 * (PCI's INTx Disable). After the guest's EOI (irqfd resampling) it goes up again while that
 * still holds: the guest may not have acknowledged everything, or the device raised it again
 * while the guest's handler ran. Callable from any thread, under any lock of its owner's.
 */
struct status_irq {
	struct irq_line line;
	pthread_mutex_t lock;		/* status, masked and the line change together */
	u32 status;
	bool masked;
};

/* Sets it up on spi, status 0, unmasked; name is for the --debug line that says which path. */
void status_irq__init(struct status_irq *si, struct kvm *kvm, unsigned int spi, const char *name);
/* Sets bits in the status: the line goes up if it was not. */
void status_irq__raise(struct status_irq *si, u32 bits);
/* Clears bits of the status (the guest's acknowledge); returns the status before. */
u32 status_irq__ack(struct status_irq *si, u32 bits);
u32 status_irq__status(struct status_irq *si);
/* Masks or unmasks the line; the status stays as it is. */
void status_irq__mask(struct status_irq *si, bool masked);
/* Lowers the line and takes the irqfd away (the VM is stopped then). */
void status_irq__exit(struct status_irq *si);

#endif
