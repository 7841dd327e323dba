/* virtio-console: hvc0 on the host terminal, with --console virtio. Registers itself. */
#ifndef LKVM_VIRTIO_CONSOLE_H
#define LKVM_VIRTIO_CONSOLE_H

struct kvm;

/* Adds the device if the configuration asks for it; 0 and nothing done otherwise. */
int virtio_console__init(struct kvm *kvm);
void virtio_console__exit(struct kvm *kvm);

#endif
