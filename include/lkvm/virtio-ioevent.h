/*
 * Queue doorbells that stay in the kernel where KVM offers it (KVM_CAP_IOEVENTFD), for any
 * virtio transport: a queue's notify register becomes a KVM ioeventfd, the guest's write is
 * completed by KVM without an exit, and the VM's I/O thread (io-thread.h) calls
 * dev->ops->notify(dev, vq) for it. The transport's interrupt goes through irq.h.
 *
 * For a queue the kernel serves (vhost), the device's kick_fd (virtio.h) is the eventfd: KVM
 * signals it for the kernel, and the I/O thread does not watch it.
 *
 * Optional: without the capability, without an I/O thread or when KVM refuses, add says so with
 * an error and the transport keeps its MMIO-exit notify path, which must keep working on its own.
 */
#ifndef LKVM_VIRTIO_IOEVENT_H
#define LKVM_VIRTIO_IOEVENT_H

#include "lkvm/util.h"

struct virtq;

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

#endif
