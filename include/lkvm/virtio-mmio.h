/*
 * The virtio-mmio transport, version 2 (virtio 1.2 section 4.2.2). Device n gets the register
 * window LKVM_VIRTIO_MMIO_BASE + n * LKVM_VIRTIO_MMIO_SIZE and SPI LKVM_VIRTIO_SPI_BASE + n, in
 * the order devices register, and its own device tree node.
 */
#ifndef LKVM_VIRTIO_MMIO_H
#define LKVM_VIRTIO_MMIO_H

#include "lkvm/virtio.h"

struct kvm;

/* Puts an initialised device on the next free slot (virtio__attach's mmio case). Logs errors. */
int virtio_mmio__init(struct kvm *kvm, struct virtio_dev *vdev);

#endif
