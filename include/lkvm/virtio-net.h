/* virtio-net on a tap device, with -n mode=tap[,tapif=NAME][,guest_mac=MAC]. Registers itself. */
#ifndef LKVM_VIRTIO_NET_H
#define LKVM_VIRTIO_NET_H

#include "lkvm/config.h"

struct kvm;

/* Adds a device on a new tap for every -n mode=tap; 0 and nothing done without one. */
int virtio_net__init(struct kvm *kvm);
/* Removes every virtio-net device, closing their backends. */
void virtio_net__exit(struct kvm *kvm);

/*
 * Adds one device on an open backend fd that carries one frame per read and write, each after
 * a 12-byte struct virtio_net_hdr_v1: a tap with IFF_VNET_HDR (what virtio_net__init opens), or
 * a SOCK_SEQPACKET socket (the unit tests). The device owns fd from here on, even on failure; name
 * is for messages. The MAC is spec->guest_mac.
 */
int virtio_net__add(struct kvm *kvm, const struct net_spec *spec, int fd, const char *name);

#endif
