/*
 * virtio-vsock (device id 19), with --vsock CID: AF_VSOCK between the guest and the host, served
 * by the host kernel's vhost-vsock (/dev/vhost-vsock). Registers itself.
 */
#ifndef LKVM_VIRTIO_VSOCK_H
#define LKVM_VIRTIO_VSOCK_H

#include "lkvm/util.h"

struct kvm;

/* The CIDs a guest may have: 0-2 are the hypervisor's, the host's and reserved; -1 is "any". */
#define VSOCK_CID_MIN	3ULL
#define VSOCK_CID_MAX	0xfffffffeULL

/* --vsock's value: 0, or -EINVAL with *why set. Decimal or 0x hex. */
int virtio_vsock__parse_cid(const char *val, u64 *cid, const char **why);

/* Adds the device if the configuration asks for it (a CID); 0 and nothing done otherwise. */
int virtio_vsock__init(struct kvm *kvm);
void virtio_vsock__exit(struct kvm *kvm);

#endif
