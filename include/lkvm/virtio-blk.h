/* virtio-blk: one disk per -d FILE[,ro][,direct], on a raw image. Registers itself. */
#ifndef LKVM_VIRTIO_BLK_H
#define LKVM_VIRTIO_BLK_H

struct kvm;

/* Adds a device for each configured disk; on failure none is left. Logs errors. */
int virtio_blk__init(struct kvm *kvm);
/* Stops and removes every disk device: waits for its I/O thread. */
void virtio_blk__exit(struct kvm *kvm);

#endif
