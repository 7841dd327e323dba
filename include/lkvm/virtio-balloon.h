/*
 * virtio-balloon (device id 5), with --balloon: `lkvm balloon` sets how much of its RAM the guest
 * should give back; the pages the guest puts in the balloon are released to the host. Registers
 * itself.
 */
#ifndef LKVM_VIRTIO_BALLOON_H
#define LKVM_VIRTIO_BALLOON_H

#include <stddef.h>

#include "lkvm/util.h"

struct kvm;

/* The balloon's unit, whatever the guest's or the host's page size. */
#define BALLOON_PAGE_SIZE	4096ULL
/* RAM an inflate leaves the guest at least: more is clamped away. */
#define BALLOON_MIN_GUEST_RAM	(16ULL << 20)

/* Adds the device if the configuration asks for it; 0 and nothing done otherwise. */
int virtio_balloon__init(struct kvm *kvm);
void virtio_balloon__exit(struct kvm *kvm);

/* What `lkvm balloon` asks for: the sizes only, or a new target. */
enum balloon_op { BALLOON_QUERY, BALLOON_INFLATE, BALLOON_DEFLATE };

/*
 * Moves kvm's balloon target by bytes (or only reports, for BALLOON_QUERY): out gets the reply
 * (the target and actual sizes, and what was clamped) or the error. 0 or a negative errno:
 * -ENODEV without --balloon, -ERANGE for a target beyond RAM.
 */
int virtio_balloon__set(struct kvm *kvm, enum balloon_op op, u64 bytes, char *out, size_t len);

#endif
