/* virtio-rng: random bytes from the host's getrandom(), with --rng. Registers itself. */
#ifndef LKVM_VIRTIO_RNG_H
#define LKVM_VIRTIO_RNG_H

struct kvm;

/* Adds the device if the configuration asks for it; 0 and nothing done otherwise. */
int virtio_rng__init(struct kvm *kvm);
void virtio_rng__exit(struct kvm *kvm);

#endif
