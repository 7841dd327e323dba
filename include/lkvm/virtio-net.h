/*
 * virtio-net, with -n mode=tap[,tapif=NAME][,guest_mac=MAC] or
 * -n mode=user[,guest_ip=IP][,host_ip=IP][,guest_mac=MAC]. Registers itself.
 *
 * The device (virtio/net.c) moves frames between the guest's queues and one fd, its backend's
 * end, that carries one frame per read and write, each after a 12-byte struct virtio_net_hdr_v1.
 * A backend is what is behind that fd: a tap with IFF_VNET_HDR (virtio/net-tap.c), or a
 * SOCK_SEQPACKET socket pair whose other end is libslirp's thread (virtio/net-user.c), or, in the
 * unit tests, whatever the test puts there.
 */
#ifndef LKVM_VIRTIO_NET_H
#define LKVM_VIRTIO_NET_H

#include "lkvm/config.h"

#include <net/if.h>

struct kvm;

/* What a backend with more than an fd needs at the end. */
struct net_backend {
	/* Stops and frees the backend; called once the device has closed its end of the fd. */
	void (*close)(struct net_backend *be);
};

/* Adds a device for every -n mode=tap and mode=user; 0 and nothing done without one. */
int virtio_net__init(struct kvm *kvm);
/* Removes every virtio-net device, closing their backends. */
void virtio_net__exit(struct kvm *kvm);

/*
 * Adds one device on an open backend fd (see above). The device owns fd from here on, even on
 * failure; name is for messages. The MAC is spec->guest_mac.
 */
int virtio_net__add(struct kvm *kvm, const struct net_spec *spec, int fd, const char *name);

/* -n mode=tap: opens the tap spec names (or a new "tap%d"); its fd, and its name in ifname. */
int net_tap__open(const struct net_spec *spec, char ifname[IFNAMSIZ]);
/*
 * -n mode=user: starts a user-mode network (libslirp, on a thread of its own) for spec; returns
 * the device's end of it, and in *be what stops it. Needs no privilege.
 */
int net_user__open(const struct net_spec *spec, struct net_backend **be);

#endif
