/*
 * The virtio-mmio transport, version 2 (virtio 1.2 section 4.2.2). Device n gets the register
 * window LKVM_VIRTIO_MMIO_BASE + n * LKVM_VIRTIO_MMIO_SIZE and SPI LKVM_VIRTIO_SPI_BASE + n, in
 * the order devices register, and its own device tree node.
 */
#ifndef LKVM_VIRTIO_MMIO_H
#define LKVM_VIRTIO_MMIO_H

#include "lkvm/virtio.h"

struct kvm;

/* Puts an initialised device on the next free slot. Logs errors. */
int virtio_mmio__init(struct kvm *kvm, struct virtio_dev *vdev);
/* Frees what virtio_mmio__init made; the device itself stays the caller's. */
void virtio_mmio__exit(struct virtio_dev *vdev);
/* The device with these ops on this VM's bus, or NULL: lets a device's exit find its instance. */
struct virtio_dev *virtio_mmio__find(struct kvm *kvm, const struct virtio_dev_ops *ops);

#endif
