/*
 * Doorbells and interrupts that stay in the kernel, where KVM offers them (KVM_CAP_IOEVENTFD,
 * KVM_CAP_IRQFD, KVM_CAP_IRQFD_RESAMPLE), for any virtio transport.
 *
 * Each VM has one "virtio I/O" thread (kvm->vio) that waits on eventfds with epoll:
 *  - a queue's notify register becomes a KVM ioeventfd: the guest's write is completed by KVM
 *    without an exit, and the I/O thread calls dev->ops->notify(dev, vq) for it;
 *  - a level-triggered SPI becomes a KVM irqfd with a resamplefd: raising it is a write to the
 *    irqfd, and when the guest EOIs it KVM lowers the line and signals the resamplefd, on which
 *    the I/O thread asks the owner whether the line must go up again.
 *
 * Everything here is optional: without the capability, without a VM (kvm->vm_fd < 0, as in unit
 * tests) or when KVM refuses, the functions say so with an error and the transport keeps its
 * MMIO-exit notify path and KVM_IRQ_LINE, which must keep working on their own.
 */
#ifndef LKVM_VIRTIO_IOEVENT_H
#define LKVM_VIRTIO_IOEVENT_H

#include <pthread.h>

#include "lkvm/util.h"

struct kvm;
struct virtq;

/* --- the I/O thread --- */

/*
 * A file descriptor the I/O thread waits on: handle runs on that thread whenever fd is readable
 * (level-triggered: it must read what made fd readable). Embedded in its owner's struct.
 */
struct virtio_io_source {
	int fd;
	void (*handle)(struct virtio_io_source *src);
	/* the I/O thread's own */
	u64 id;
	struct virtio_io_source *next;
};

/*
 * Starts kvm->vio (the VM's init does this when KVM has ioeventfd or irqfd; tests may call it
 * themselves). 0 on success; logs errors. virtio_io__stop stops and frees it (no-op if none).
 */
int virtio_io__start(struct kvm *kvm);
void virtio_io__stop(struct kvm *kvm);

/* Adds src to the I/O thread: -ENODEV if the VM has none. */
int virtio_io__watch(struct kvm *kvm, struct virtio_io_source *src);
/*
 * Removes src. When it returns, src's handler is not running and will not run again (unless
 * called from that handler itself), so its owner may free it.
 */
void virtio_io__unwatch(struct kvm *kvm, struct virtio_io_source *src);

/* --- queue notifications --- */

/*
 * Lets a guest write of len bytes (1, 2, 4 or 8) to the guest-physical addr notify vq through a
 * KVM ioeventfd: with datamatch only a write of the value data, other writes still exit to the
 * transport. The transport calls it when the queue becomes ready and keeps its own handling of
 * the register for every write that still reaches it. Under dev->lock. 0 on success; -EOPNOTSUPP
 * without an I/O thread or KVM_CAP_IOEVENTFD, -EEXIST if vq has one, else KVM's -errno.
 */
int virtio_ioevent__add(struct virtq *vq, u64 addr, unsigned int len, bool datamatch, u64 data);
/*
 * Takes vq's ioeventfd away again (KVM_IOEVENTFD_FLAG_DEASSIGN); a no-op if it has none. For the
 * queue's disable, the device's reset, and teardown. Under dev->lock, never under vq->lock: it
 * waits for a notify in flight on the I/O thread to return.
 */
void virtio_ioevent__del(struct virtq *vq);

/* --- level-triggered interrupts --- */

/*
 * A level-triggered SPI (numbered from 0, as for kvm__irq_line). Through an irqfd with a
 * resamplefd where KVM has them: then resampled runs on the I/O thread each time the guest has
 * EOI'd the interrupt and KVM has lowered the line; the owner calls virtio_irq__set(line, true)
 * from it if its interrupt status is still set. Otherwise KVM_IRQ_LINE.
 */
struct virtio_irq {
	struct kvm *kvm;
	unsigned int spi;
	int fd;				/* the irqfd, or -1: KVM_IRQ_LINE */
	struct virtio_io_source resample;
	void (*resampled)(struct virtio_irq *irq);
	u64 raises, resamples;		/* for --debug */
};

/* Sets irq up; true if it goes through an irqfd. Never fails: KVM_IRQ_LINE is the fallback. */
bool virtio_irq__init(struct virtio_irq *irq, struct kvm *kvm, unsigned int spi,
		      void (*resampled)(struct virtio_irq *irq));
/* Raises or lowers the line. From any thread; the caller serialises it with its status. */
void virtio_irq__set(struct virtio_irq *irq, bool level);
void virtio_irq__exit(struct virtio_irq *irq);

/*
 * A level-triggered interrupt backed by a status word, as virtio-mmio's InterruptStatus and
 * virtio-pci's ISR: the line is up while some status bit is set and the interrupt is not masked
 * (PCI's INTx Disable). After the guest's EOI (irqfd resampling) it goes up again while that
 * still holds: the guest may not have acknowledged everything, or the device raised it again
 * while the guest's handler ran. Callable from any thread, with any vq->lock held.
 */
struct virtio_status_irq {
	struct virtio_irq irq;
	pthread_mutex_t lock;		/* status, masked and the line change together */
	u32 status;
	bool masked;
};

/* Sets it up on spi, status 0, unmasked; name is for the --debug line that says which path. */
void virtio_status_irq__init(struct virtio_status_irq *si, struct kvm *kvm, unsigned int spi,
			     const char *name);
/* Sets bits in the status: the line goes up if it was not. */
void virtio_status_irq__raise(struct virtio_status_irq *si, u32 bits);
/* Clears bits of the status (the guest's acknowledge); returns the status before. */
u32 virtio_status_irq__ack(struct virtio_status_irq *si, u32 bits);
u32 virtio_status_irq__status(struct virtio_status_irq *si);
/* Masks or unmasks the line; the status stays as it is. */
void virtio_status_irq__mask(struct virtio_status_irq *si, bool masked);
/* Lowers the line and takes the irqfd away (the VM is stopped then). */
void virtio_status_irq__exit(struct virtio_status_irq *si);

#endif
