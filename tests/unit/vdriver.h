/*
 * A fake guest driver for the unit tests of virtio devices: a fake VM (struct kvm with a guest
 * RAM and an MMIO bus, no KVM), a virtio-mmio driver that sets the device up as Linux does, and
 * the driver's side of the split rings. One struct vdrv per test holds it all. The fake VM and
 * the rings do not depend on the transport: test-pci.c drives them through virtio-pci.
 *
 * Ring layout in guest RAM: queue q has its descriptor table at VDRV_DESC(q), its avail ring
 * at VDRV_AVAIL(q) and its used ring at VDRV_USED(q), one page each, from G(0x1000) on, 0x4000
 * apart; room for queues of up to VIRTQ_MAX_SIZE entries. From G(0x10000) on, RAM is clear of
 * the rings of all VDRV_MAX_QUEUES queues: the tests' buffers go there (or anywhere else that
 * no queue in use has its rings).
 *
 * Every helper that touches the device, but vdrv__access, checks (ck_assert) that the bus took
 * the access: a test fails where the device is not there.
 */
#ifndef LKVM_TESTS_UNIT_VDRIVER_H
#define LKVM_TESTS_UNIT_VDRIVER_H

#include <stdbool.h>

#include "lkvm/kvm.h"
#include "lkvm/memory-map.h"
#include "lkvm/virtio.h"

#define VDRV_MAX_QUEUES		4
#define G(off)			(LKVM_RAM_BASE + (off))	/* a guest address in RAM */
#define VDRV_DESC(q)		G(0x1000 + (q) * 0x4000)
#define VDRV_AVAIL(q)		(VDRV_DESC(q) + 0x1000)
#define VDRV_USED(q)		(VDRV_DESC(q) + 0x2000)
#define VDRV_RING_BYTES		0x3000			/* of one queue, from VDRV_DESC */

#define VDRV_S_FEATURES		(VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |	\
				 VIRTIO_CONFIG_S_FEATURES_OK)
#define VDRV_S_ALL		(VDRV_S_FEATURES | VIRTIO_CONFIG_S_DRIVER_OK)

struct vdrv {
	struct kvm kvm;			/* the fake VM; kvm.cfg points at cfg */
	struct lkvm_config cfg;		/* what the device's init reads: fill before it */
	u64 base;			/* the device's MMIO window (the first slot) */
	unsigned int qsize;		/* the driver's queue size (8) */
	unsigned int nr_queues;		/* the queues vdrv__init_driver sets up (1) */
	unsigned int wait_ms;		/* how long the waits wait (5000); 0: not at all */
	u16 avail_idx[VDRV_MAX_QUEUES];	/* the driver's avail index of each queue */
};

/* --- the fake VM --- */

/*
 * Zeroes v and gives it ram_size bytes of zeroed, page-aligned guest RAM (anonymous memory, so
 * that madvise works on it), no KVM (vm_fd -1: interrupts only show in InterruptStatus) and the
 * defaults above. Sets log_level to LOG_ERROR: bad requests are the point, not noise.
 */
void vdrv__setup(struct vdrv *v, u64 ram_size);
/* Frees the RAM; log_level back to LOG_WARNING. The device's exit is the test's. */
void vdrv__teardown(struct vdrv *v);
/* The host address of guest RAM address gpa (checked to be in RAM). */
void *vdrv__host(struct vdrv *v, u64 gpa);
void vdrv__msleep(long ms);

/* --- the virtio-mmio registers, offsets from v->base --- */

/* One access of len bytes at off; what the bus said (false: nothing there). */
bool vdrv__access(struct vdrv *v, u64 off, void *data, unsigned int len, bool is_write);
u32 vdrv__rd(struct vdrv *v, u64 off);
void vdrv__wr(struct vdrv *v, u64 off, u32 val);
/* A 64-bit value into the register pair at lo_off (LOW) and lo_off + 4 (HIGH). */
void vdrv__wr64(struct vdrv *v, u64 lo_off, u64 val);
/* All 64 device feature bits. */
u64 vdrv__device_features(struct vdrv *v);
/* A config-space access of len (1 to 8) bytes at off, little-endian. */
u64 vdrv__cfg_rd(struct vdrv *v, u32 off, unsigned int len);
void vdrv__cfg_wr(struct vdrv *v, u32 off, unsigned int len, u64 val);

/* --- driver initialisation, in the order of the spec (3.1.1) --- */

/*
 * Resets the device, sets ACKNOWLEDGE and DRIVER, writes features | VIRTIO_F_VERSION_1 as the
 * driver features and sets FEATURES_OK; checks the device kept it.
 */
void vdrv__negotiate(struct vdrv *v, u64 features);
/*
 * Sets queue q up with v->qsize entries at its place in the layout, its rings zeroed and its
 * avail index 0 (a new driver, new rings); checks it was not ready before and is after.
 */
void vdrv__setup_queue(struct vdrv *v, unsigned int q);
/*
 * QueueReady 0 on queue q, as Linux's virtio-mmio does when it deletes a queue, without a device
 * reset; checks that it reads back 0. vdrv__setup_queue starts it again, with new rings.
 */
void vdrv__stop_queue(struct vdrv *v, unsigned int q);
/* Sets DRIVER_OK; checks the device took it. */
void vdrv__driver_ok(struct vdrv *v);
/* All three: what a driver does to bring the device up, with queues 0 .. v->nr_queues - 1. */
void vdrv__init_driver(struct vdrv *v, u64 features);

/* --- the rings --- */

/* Writes descriptor i of the table at table_gpa (a queue's, or an indirect one). */
void vdrv__tdesc(struct vdrv *v, u64 table_gpa, unsigned int i, u64 addr, u32 len, u16 flags,
		 u16 next);
/* Writes descriptor i of queue q. */
void vdrv__desc(struct vdrv *v, unsigned int q, unsigned int i, u64 addr, u32 len, u16 flags,
		u16 next);
struct vring_avail *vdrv__avail(struct vdrv *v, unsigned int q);
struct vring_used *vdrv__used(struct vdrv *v, unsigned int q);
/* The used index of queue q, as the driver reads it (acquire: the device may be a thread). */
u16 vdrv__used_idx(struct vdrv *v, unsigned int q);
/* The avail_event field of queue q (VIRTIO_RING_F_EVENT_IDX): the device's last avail index. */
u16 vdrv__avail_event(struct vdrv *v, unsigned int q);
/* Makes the chain at head available on queue q, without a notification. */
void vdrv__offer(struct vdrv *v, unsigned int q, u16 head);
void vdrv__notify(struct vdrv *v, unsigned int q);
/* vdrv__offer, then vdrv__notify. */
void vdrv__post(struct vdrv *v, unsigned int q, u16 head);

/* --- waiting for the device (it may answer on its own thread) --- */

/* Waits up to v->wait_ms until the used index of q is idx; checks it got there. */
void vdrv__wait_used(struct vdrv *v, unsigned int q, u16 idx);
/* Waits up to v->wait_ms until the device has taken every chain offered on q (EVENT_IDX). */
void vdrv__wait_taken(struct vdrv *v, unsigned int q);
/* Waits up to v->wait_ms until the device sets NEEDS_RESET; checks it did. */
void vdrv__wait_needs_reset(struct vdrv *v);
/* Posts head on q and waits until the device used it; checks the entry is head's. */
void vdrv__run(struct vdrv *v, unsigned int q, u16 head);
/* Posts head on q, a chain the device cannot serve: waits for NEEDS_RESET, checks none used. */
void vdrv__run_broken(struct vdrv *v, unsigned int q, u16 head);
/* Builds into buf a DTB of the fake VM's device-tree generators, under one root node. */
void vdrv__fdt(struct kvm *kvm, void *buf, int size);

#endif
