/*
 * virtio-balloon (device id 5), with --balloon: `lkvm balloon` sets how much of its RAM the guest
 * should give back; the pages the guest puts in the balloon are released to the host. Registers
 * itself.
 */
#ifndef LKVM_VIRTIO_BALLOON_H
#define LKVM_VIRTIO_BALLOON_H

#include <stddef.h>

struct kvm;

/* The balloon's unit, whatever the guest's or the host's page size. */
#define BALLOON_PAGE_SIZE	4096ULL
/* RAM an inflate leaves the guest at least: more is clamped away. */
#define BALLOON_MIN_GUEST_RAM	(16ULL << 20)

/* Adds the device if the configuration asks for it; 0 and nothing done otherwise. */
int virtio_balloon__init(struct kvm *kvm);
void virtio_balloon__exit(struct kvm *kvm);

/*
 * Runs one CTL_BALLOON request (its payload, see control.h) on kvm's balloon: out gets the reply
 * (the target and actual sizes, and what was clamped) or the error. 0 or a negative errno:
 * -ENODEV without --balloon, -EINVAL for a malformed request, -ERANGE for a target beyond RAM.
 */
int virtio_balloon__request(struct kvm *kvm, const char *args, char *out, size_t len);

#endif
