/*
 * virtio 1.x: the device core that every transport and device shares, and the split virtqueue.
 *
 * Everything in the rings comes from the guest and is untrusted: a malformed ring puts the device
 * in NEEDS_RESET (logged once) instead of crashing lkvm or touching host memory outside guest RAM.
 *
 * Locking: dev->lock serialises the transport's registers (status, features, queue setup);
 * vq->lock serialises one queue's data path (pop, push, signal). Take dev->lock before vq->lock,
 * never the other way: a device's data path never takes dev->lock.
 */
#ifndef LKVM_VIRTIO_H
#define LKVM_VIRTIO_H

#include <pthread.h>
#include <stdatomic.h>
#include <sys/uio.h>

#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>

#include "lkvm/util.h"

struct kvm;
struct virtio_dev;
struct virtio_transport;
struct virtio_ioevent;

/* Every queue offers this size (QueueNumMax); it also bounds a descriptor chain. */
#define VIRTQ_MAX_SIZE 256

/* What the core offers on top of a device's own features. */
#define VIRTIO_CORE_FEATURES						\
	((1ULL << VIRTIO_F_VERSION_1) | (1ULL << VIRTIO_RING_F_INDIRECT_DESC) |	\
	 (1ULL << VIRTIO_RING_F_EVENT_IDX))

struct virtq {
	struct virtio_dev *dev;
	unsigned int index;
	pthread_mutex_t lock;		/* the data path: pop, push, signal */

	/* What the driver sets up through the transport (under dev->lock) before QueueReady. */
	u32 num;			/* QueueNum as written: checked at QueueReady */
	u64 desc_gpa, avail_gpa, used_gpa;

	/* From virtq__enable on: host views of the rings, checked to lie in guest RAM. */
	_Atomic bool ready;
	bool broken;			/* malformed: the device needs a reset */
	bool event_idx, indirect;	/* negotiated ring features */
	u16 size;			/* a power of 2: free-running u16 indices wrap cleanly */
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	u16 last_avail_idx;		/* next avail entry to take */
	u16 used_idx;			/* next used entry to fill: our copy of used->idx */
	u16 signalled_used;		/* used_idx when the guest was last interrupted */

	/* The transport's KVM ioeventfd for this queue's doorbell, or NULL (virtio-ioevent.h). */
	struct virtio_ioevent *ioevent;
};

/*
 * One descriptor chain as host buffers: iov[0, nr_out) is device-readable (the driver's request),
 * then iov[nr_out, nr_out + nr_in) device-writable (room for the reply). Zero-length descriptors
 * are left out, so a chain may have no buffer at all. The buffers are guest RAM the guest may
 * rewrite at any time: copy a request header before checking it.
 */
struct virtq_chain {
	u16 head;			/* what virtq__push wants back */
	unsigned int nr_out, nr_in;
	size_t out_len, in_len;		/* bytes in each part */
	struct iovec iov[VIRTQ_MAX_SIZE];
};

struct virtio_dev_ops {
	const char *name;		/* for messages: "virtio-console" */
	u32 device_id;			/* VIRTIO_ID_* */
	u64 features;			/* the device's own (dev->device_features starts as
					 * this); the core adds VIRTIO_CORE_FEATURES */
	u32 config_size;
	/*
	 * len (1, 2, 4 or 8) bytes of device config space at offset; the transport has checked
	 * them to lie within config_size. Called under dev->lock. config_write may be NULL.
	 */
	void (*config_read)(struct virtio_dev *dev, u32 offset, u8 *data, unsigned int len);
	void (*config_write)(struct virtio_dev *dev, u32 offset, const u8 *data, unsigned int len);
	/*
	 * The driver has buffers for vq. Called on a vCPU thread or, for a doorbell that goes through
	 * an ioeventfd, on the VM's I/O thread (io-thread.h); with or without dev->lock: it may do
	 * the work there or hand it to a thread of its own. May be NULL.
	 */
	void (*notify)(struct virtio_dev *dev, struct virtq *vq);
	/*
	 * Device reset, under dev->lock, before the core resets the queues (which it does under
	 * each vq->lock): no queue work may still be in flight when it returns. May be NULL.
	 */
	void (*reset)(struct virtio_dev *dev);
	/*
	 * Queue vq stopped (QueueReady 0, or a device reset after reset above), under dev->lock and
	 * vq->lock: its chains are the driver's again, to reuse in new rings of another size. The
	 * device lets go of whatever it still holds of them, undone. May be NULL.
	 */
	void (*queue_stop)(struct virtio_dev *dev, struct virtq *vq);
	/*
	 * The driver set DRIVER_OK, under dev->lock, before the core notifies each ready queue: a
	 * device that hands its queues to the kernel (vhost) starts it here. May be NULL.
	 */
	void (*driver_ok)(struct virtio_dev *dev);
	/*
	 * For a queue the kernel serves (vhost): the eventfd its doorbell's KVM ioeventfd signals
	 * instead of an I/O thread notify (virtio-ioevent.h); lkvm does not watch it. -1 for a
	 * queue lkvm serves. Under dev->lock. May be NULL: lkvm serves every queue.
	 */
	int (*kick_fd)(struct virtio_dev *dev, struct virtq *vq);
};

/*
 * How a transport interrupts the guest: callable from any thread, with any vq->lock held. And how
 * it lets go of a device (the VM is stopped then).
 */
struct virtio_transport_ops {
	void (*signal_vq)(struct virtio_transport *t, struct virtq *vq);
	void (*signal_config)(struct virtio_transport *t);
	void (*detach)(struct virtio_transport *t);
	/*
	 * For a device whose queues the kernel serves (vhost): an eventfd that raises vq's
	 * interrupt inside KVM (an irqfd), for the kernel to signal, or -1 if there is none. Only
	 * for a message interrupt (MSI-X): a level-triggered line the kernel raised while the guest
	 * handles it is lowered at the guest's EOI, and that interrupt is lost; the device then
	 * calls signal_vq itself. Under dev->lock. May be NULL: never an irqfd.
	 */
	int (*vq_irqfd)(struct virtio_transport *t, struct virtq *vq);
};

struct virtio_transport {
	const struct virtio_transport_ops *ops;
};

struct virtio_dev {
	const struct virtio_dev_ops *ops;
	struct virtio_transport *transport;
	struct kvm *kvm;
	struct virtq *vqs;
	unsigned int nr_vqs;
	pthread_mutex_t lock;		/* the transport's registers */
	_Atomic u32 status;		/* VIRTIO_CONFIG_S_*; NEEDS_RESET is set from data paths */
	u64 device_features;		/* offered: ops->features, or what the device set before
					 * attaching, when instances differ (a read-only disk) */
	u64 driver_features;		/* as the driver writes them */
	u64 features;			/* accepted at FEATURES_OK */
	_Atomic u32 config_generation;
	_Atomic unsigned int warned;	/* a misbehaving driver is reported once */
	struct virtio_dev *next;	/* the VM's attached devices */
};

/* --- attaching devices to the guest --- */

/*
 * Puts an initialised device on the transport --virtio-transport chose, with its own device tree
 * node and interrupt. Logs errors.
 */
int virtio__attach(struct kvm *kvm, struct virtio_dev *vdev);
/* Takes the device off its transport again; the device itself stays the caller's. */
void virtio__detach(struct virtio_dev *vdev);
/* The first attached device with these ops, or NULL: how a device's exit finds its instances. */
struct virtio_dev *virtio__find(struct kvm *kvm, const struct virtio_dev_ops *ops);

/* --- device core --- */

/* vqs: nr_vqs queues the device owns (embedded in its own struct, typically). */
void virtio_dev__init(struct virtio_dev *dev, struct kvm *kvm, const struct virtio_dev_ops *ops,
		      struct virtq *vqs, unsigned int nr_vqs);
void virtio_dev__destroy(struct virtio_dev *dev);
/* All features offered to the driver. */
u64 virtio_dev__host_features(const struct virtio_dev *dev);
/* The driver wrote the status register (0 resets). Under dev->lock. */
void virtio_dev__set_status(struct virtio_dev *dev, u32 status);

/*
 * What both transports keep for the driver: the feature-select windows (32 bits of the 64 at a
 * time) and the selected queue. Under dev->lock; back to 0 on a device reset.
 */
struct virtio_select {
	u32 dev_features, drv_features, queue;
};
/* The device's features, the 32 bits sel->dev_features selects (0 beyond the 64). */
u32 virtio_select__device_features(const struct virtio_select *sel, const struct virtio_dev *dev);
u32 virtio_select__driver_features(const struct virtio_select *sel, const struct virtio_dev *dev);
/* The driver writes its features' selected half; ignored once FEATURES_OK is set. */
void virtio_select__set_driver_features(const struct virtio_select *sel, struct virtio_dev *dev,
					u32 val);
/* The selected queue, or NULL if there is none of that number. */
struct virtq *virtio_select__vq(const struct virtio_select *sel, struct virtio_dev *dev);
/*
 * The driver wrote the status register: the device takes it, and a 0 (a reset) also resets the
 * windows. Returns true for a reset, after which the transport clears its interrupt status.
 */
bool virtio_select__write_status(struct virtio_select *sel, struct virtio_dev *dev, u32 val);
/* Back to the state after power-on. Under dev->lock. */
void virtio_dev__reset(struct virtio_dev *dev);
/* The driver broke the rules: NEEDS_RESET, a config interrupt, one log line per device. */
void virtio_dev__fail(struct virtio_dev *dev, const char *fmt, ...) PRINTF_FMT(2, 3);
/* The device changed its config space: new generation, config interrupt. */
void virtio_dev__config_changed(struct virtio_dev *dev);

static inline bool virtio_dev__has_feature(const struct virtio_dev *dev, unsigned int bit)
{
	return dev->features & (1ULL << bit);
}

/* --- split virtqueue --- */

/* QueueReady 1: validates what the driver set up and starts the queue. Under dev->lock. */
int virtq__enable(struct virtq *vq);
/*
 * QueueReady 0 or device reset: stops the queue, forgets its setup, and has the device drop what
 * it held of it (ops->queue_stop). Under dev->lock.
 */
void virtq__disable(struct virtq *vq);

/*
 * The functions below want vq->lock held. virtq__pop takes the next available chain: returns 1
 * with *c filled in, 0 if there is none (or the queue is not running), or -EIO if the queue is
 * broken. After it returns 0 the driver is asked to notify for the next buffer, so a device that
 * drains a queue on notification misses nothing.
 */
int virtq__pop(struct virtq *vq, struct virtq_chain *c);
/* As virtq__pop, but leaves the chain available: what will the next one hold? */
int virtq__peek(struct virtq *vq, struct virtq_chain *c);
/* Returns a chain to the driver with len bytes written into its device-writable part. */
void virtq__push(struct virtq *vq, u16 head, u32 len);
/*
 * Returns n chains (id: head, len: bytes written) under one used-index update, so that the driver
 * never sees some of them without the others: a packet spread over several buffers.
 */
void virtq__push_n(struct virtq *vq, const struct vring_used_elem *elems, unsigned int n);
/* Whether the guest wants an interrupt for what was pushed since the last one. */
bool virtq__should_signal(struct virtq *vq);
/* Interrupts the guest if it wants to hear about what was pushed. */
void virtq__signal(struct virtq *vq);

/* Copies into the chain's device-writable part from offset on; returns how many bytes fit. */
size_t virtq_chain__to_guest(const struct virtq_chain *c, size_t offset, const void *buf,
			     size_t len);
/* Copies from the chain's device-readable part from offset on; returns how many bytes there were. */
size_t virtq_chain__from_guest(const struct virtq_chain *c, size_t offset, void *buf, size_t len);

#endif
