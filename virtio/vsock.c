/*
 * virtio-vsock (device id 19), with --vsock CID, as kvmtool's: the host kernel's vhost-vsock
 * serves the two data queues (0: rx, 1: tx) straight from guest RAM, lkvm only sets it up.
 *
 * - At VM set-up: /dev/vhost-vsock, its owner (this process), its features, guest RAM as one
 *   memory region, and the guest's CID (which another VM may hold: EADDRINUSE).
 * - At DRIVER_OK: the negotiated features, each data queue's size, base and rings, its kick
 *   eventfd (the doorbell's KVM ioeventfd signals it: the guest's write never leaves the kernel)
 *   and its call eventfd, then VHOST_VSOCK_SET_RUNNING. The call eventfd is the queue's MSI-X
 *   irqfd where it has one (vhost interrupts the guest inside KVM), else lkvm's own, on the I/O
 *   thread, which raises the queue's interrupt through the transport: a level-triggered line
 *   must stay up until the driver acknowledges it, and an irqfd vhost signals while the guest
 *   handles the line would be lowered at its EOI and the interrupt lost.
 * - At device reset, a data queue's QueueReady 0 and teardown (a guest reboot makes a new VM,
 *   and with it a new vhost-vsock, after this one is closed): SET_RUNNING 0.
 *
 * The event queue (2) stays in lkvm. Its only event, TRANSPORT_RESET, is for a VM that was
 * migrated, which lkvm does not do, so the guest's buffers there stay with the device.
 */
#include "lkvm/virtio-vsock.h"
#include "lkvm/init.h"
#include "lkvm/io-thread.h"
#include "lkvm/kvm.h"
#include "lkvm/virtio.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/vhost.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_vsock.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define VSOCK_VQ_EVENT	2
#define VSOCK_NR_VQS	3	/* rx, tx (vhost's), event (lkvm's) */
#define VHOST_VSOCK_DEV	"/dev/vhost-vsock"

/* vhost's interrupt for a data queue, where the transport has no irqfd for it. */
struct vsock_call {
	struct io_source src;		/* an eventfd vhost signals */
	struct virtq *vq;
};

struct virtio_vsock {
	struct virtio_dev vdev;
	struct virtq vqs[VSOCK_NR_VQS];
	int vhost_fd;
	int kick_fds[VSOCK_VQ_EVENT];	/* one eventfd per data queue, for its doorbell */
	struct vsock_call calls[VSOCK_VQ_EVENT];
	u64 cid;
	bool running;			/* under vdev.lock: vhost serves the data queues */
};

static struct virtio_vsock *to_vsock(struct virtio_dev *vdev)
{
	return container_of(vdev, struct virtio_vsock, vdev);
}

int virtio_vsock__parse_cid(const char *val, u64 *cid, const char **why)
{
	if (parse_u64(val, cid)) {
		*why = "not a CID (decimal, or hex with 0x)";
		return -EINVAL;
	}
	if (*cid < VSOCK_CID_MIN || *cid > VSOCK_CID_MAX) {
		*why = "the guest's CID must be 3 to 4294967294 (0-2 and -1 are reserved)";
		return -EINVAL;
	}
	return 0;
}

static int vhost__ioctl(struct virtio_vsock *vs, unsigned long req, const void *arg)
{
	return ioctl(vs->vhost_fd, req, arg) ? -errno : 0;
}

/* --- vhost at DRIVER_OK, reset and teardown --- */

/* Under vdev.lock. vhost waits for the data queues' work in hand; it touches them no more. */
static void vsock__stop(struct virtio_vsock *vs)
{
	int off = 0, err;

	if (!vs->running)
		return;
	err = vhost__ioctl(vs, VHOST_VSOCK_SET_RUNNING, &off);
	if (err)
		pr_warn("virtio-vsock: vhost-vsock does not stop: %s", strerror(-err));
	vs->running = false;
}

/* One data queue to vhost: its ring, where the guest left it (a fresh queue: 0), and its fds. */
static int vsock__start_vq(struct virtio_vsock *vs, struct virtq *vq, const char **what)
{
	struct virtio_transport *t = vs->vdev.transport;
	struct vhost_vring_state num = { .index = vq->index, .num = vq->size };
	struct vhost_vring_state base = { .index = vq->index, .num = 0 };
	struct vhost_vring_addr addr = {
		.index = vq->index,
		.desc_user_addr = (u64)(uintptr_t)vq->desc,
		.avail_user_addr = (u64)(uintptr_t)vq->avail,
		.used_user_addr = (u64)(uintptr_t)vq->used,
	};
	struct vhost_vring_file kick = { .index = vq->index, .fd = vs->kick_fds[vq->index] };
	struct vhost_vring_file call = {
		.index = vq->index, .fd = t->ops->vq_irqfd ? t->ops->vq_irqfd(t, vq) : -1,
	};
	int err;

	if (!atomic_load(&vq->ready)) {
		*what = vq->index ? "tx queue not ready at DRIVER_OK" : "rx queue not ready at DRIVER_OK";
		return -EINVAL;
	}
	if (call.fd < 0)
		call.fd = vs->calls[vq->index].src.fd;
	*what = "VHOST_SET_VRING_*";
	if ((err = vhost__ioctl(vs, VHOST_SET_VRING_NUM, &num)) ||
	    (err = vhost__ioctl(vs, VHOST_SET_VRING_BASE, &base)) ||
	    (err = vhost__ioctl(vs, VHOST_SET_VRING_ADDR, &addr)) ||
	    (err = vhost__ioctl(vs, VHOST_SET_VRING_KICK, &kick)))
		return err;
	return vhost__ioctl(vs, VHOST_SET_VRING_CALL, &call);
}

static int vsock__start(struct virtio_vsock *vs, const char **what)
{
	u64 features = vs->vdev.features;
	int on = 1, err;

	/* Before the rings: their size depends on EVENT_IDX. */
	*what = "VHOST_SET_FEATURES";
	err = vhost__ioctl(vs, VHOST_SET_FEATURES, &features);
	for (unsigned int i = 0; !err && i < VSOCK_VQ_EVENT; i++)
		err = vsock__start_vq(vs, &vs->vqs[i], what);
	if (err)
		return err;
	*what = "VHOST_VSOCK_SET_RUNNING";
	err = vhost__ioctl(vs, VHOST_VSOCK_SET_RUNNING, &on);
	vs->running = !err;
	return err;
}

static void vsock__driver_ok(struct virtio_dev *vdev)
{
	struct virtio_vsock *vs = to_vsock(vdev);
	const char *what;
	int err = vsock__start(vs, &what);

	if (err)
		virtio_dev__fail(vdev, "vhost-vsock: %s: %s", what, strerror(-err));
	else
		pr_debug("virtio-vsock: vhost-vsock runs CID %" PRIu64, vs->cid);
}

static void vsock__reset(struct virtio_dev *vdev)
{
	vsock__stop(to_vsock(vdev));
}

/* A data queue stopped under vhost: vhost lets go of both, until the driver resets the device. */
static void vsock__queue_stop(struct virtio_dev *vdev, struct virtq *vq)
{
	if (vq->index != VSOCK_VQ_EVENT)
		vsock__stop(to_vsock(vdev));
}

/* vhost used buffers on a queue without an irqfd: the transport interrupts the guest. */
static void vsock__call(struct io_source *src)
{
	struct vsock_call *c = container_of(src, struct vsock_call, src);
	struct virtio_transport *t = c->vq->dev->transport;
	u64 count;

	if (read(src->fd, &count, sizeof(count)) == sizeof(count))
		t->ops->signal_vq(t, c->vq);
}

static int vsock__kick_fd(struct virtio_dev *vdev, struct virtq *vq)
{
	return vq->index == VSOCK_VQ_EVENT ? -1 : to_vsock(vdev)->kick_fds[vq->index];
}

/*
 * A doorbell that exits to lkvm (no ioeventfd for it) goes on to vhost; nothing is done for the
 * event queue (see the top).
 */
static void vsock__notify(struct virtio_dev *vdev, struct virtq *vq)
{
	u64 one = 1;

	if (vq->index != VSOCK_VQ_EVENT)
		write_all(to_vsock(vdev)->kick_fds[vq->index], &one, sizeof(one));
}

/* struct virtio_vsock_config: the guest's CID, a little-endian u64. */
static void vsock__config_read(struct virtio_dev *vdev, u32 offset, u8 *data, unsigned int len)
{
	u64 cid = htole64(to_vsock(vdev)->cid);

	memcpy(data, (u8 *)&cid + offset, len);
}

static const struct virtio_dev_ops vsock_ops = {
	.name = "virtio-vsock",
	.device_id = VIRTIO_ID_VSOCK,
	.features = 1ULL << VIRTIO_VSOCK_F_SEQPACKET,	/* if vhost-vsock has it */
	.config_size = sizeof(struct virtio_vsock_config),
	.config_read = vsock__config_read,
	.notify = vsock__notify,
	.reset = vsock__reset,
	.queue_stop = vsock__queue_stop,
	.driver_ok = vsock__driver_ok,
	.kick_fd = vsock__kick_fd,
};

/* --- set-up --- */

/* Before the transport goes: a call handler uses it. */
static void vsock__unwatch_calls(struct virtio_vsock *vs)
{
	for (unsigned int i = 0; i < VSOCK_VQ_EVENT; i++) {
		if (vs->calls[i].vq)
			io_thread__unwatch(vs->vdev.kvm, &vs->calls[i].src);
		vs->calls[i].vq = NULL;
	}
}

static void vsock__free(struct virtio_vsock *vs)
{
	vsock__unwatch_calls(vs);
	for (unsigned int i = 0; i < VSOCK_VQ_EVENT; i++) {
		if (vs->calls[i].src.fd >= 0)
			close(vs->calls[i].src.fd);
		if (vs->kick_fds[i] >= 0)
			close(vs->kick_fds[i]);
	}
	if (vs->vhost_fd >= 0)
		close(vs->vhost_fd);
	virtio_dev__destroy(&vs->vdev);
	free(vs);
}

/* vhost-vsock for this VM: returns 0, or -errno with *why set (errno's text, or more). */
static int vsock__open_vhost(struct virtio_vsock *vs, struct kvm *kvm, u64 *features,
			     const char **why)
{
	struct {
		struct vhost_memory mem;
		struct vhost_memory_region region;
	} table = {
		.mem.nregions = 1,
		.region = {
			.guest_phys_addr = LKVM_RAM_BASE, .memory_size = kvm->ram_size,
			.userspace_addr = (u64)(uintptr_t)kvm->ram,
		},
	};
	int err;

	*why = NULL;
	vs->vhost_fd = open(VHOST_VSOCK_DEV, O_RDWR | O_CLOEXEC);
	if (vs->vhost_fd < 0) {
		err = -errno;
		if (err == -ENOENT)
			*why = VHOST_VSOCK_DEV ": not there (the host needs vhost_vsock: modprobe "
			       "vhost_vsock)";
		return err;
	}
	if ((err = vhost__ioctl(vs, VHOST_SET_OWNER, NULL)) ||
	    (err = vhost__ioctl(vs, VHOST_GET_FEATURES, features)) ||
	    (err = vhost__ioctl(vs, VHOST_SET_MEM_TABLE, &table)))
		return err;
	if ((VIRTIO_CORE_FEATURES & ~*features)) {
		*why = "vhost-vsock lacks VERSION_1, INDIRECT_DESC or EVENT_IDX";
		return -EOPNOTSUPP;
	}
	err = vhost__ioctl(vs, VHOST_VSOCK_SET_GUEST_CID, &vs->cid);
	if (err == -EADDRINUSE)
		*why = "CID in use: another VM on this host has it";
	return err;
}

/* Data queue i's doorbell eventfd, and its call eventfd on the I/O thread. */
static int vsock__open_queue_fds(struct virtio_vsock *vs, unsigned int i)
{
	struct vsock_call *c = &vs->calls[i];
	int err;

	vs->kick_fds[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	c->src.fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vs->kick_fds[i] < 0 || c->src.fd < 0)
		return -errno;
	c->src.handle = vsock__call;
	err = io_thread__watch(vs->vdev.kvm, &c->src);
	if (!err)
		c->vq = &vs->vqs[i];	/* watched: vsock__free unwatches it */
	return err;
}

int virtio_vsock__init(struct kvm *kvm)
{
	struct virtio_vsock *vs;
	const char *why = NULL;
	u64 cid = kvm->cfg->vsock_cid, features = 0;
	int err;

	if (!cid)
		return 0;
	/* Without ioeventfd and irqfd, KVM gives lkvm no I/O thread to wait on vhost's calls. */
	if (!kvm->io_thread) {
		pr_err("--vsock %" PRIu64 ": needs lkvm's I/O thread, which passes vhost-vsock's "
		       "interrupts on (KVM has neither ioeventfd nor irqfd)", cid);
		return -EOPNOTSUPP;
	}
	vs = calloc(1, sizeof(*vs));
	if (!vs) {
		pr_err("--vsock %" PRIu64 ": out of memory", cid);
		return -ENOMEM;
	}
	virtio_dev__init(&vs->vdev, kvm, &vsock_ops, vs->vqs, VSOCK_NR_VQS);
	vs->cid = cid;
	for (unsigned int i = 0; i < VSOCK_VQ_EVENT; i++)
		vs->kick_fds[i] = vs->calls[i].src.fd = -1;
	err = vsock__open_vhost(vs, kvm, &features, &why);
	for (unsigned int i = 0; !err && i < VSOCK_VQ_EVENT; i++)
		err = vsock__open_queue_fds(vs, i);
	if (err) {
		pr_err("--vsock %" PRIu64 ": %s", cid, why ? why : strerror(-err));
		vsock__free(vs);
		return err;
	}
	vs->vdev.device_features &= features;
	err = virtio__attach(kvm, &vs->vdev);
	if (err)
		vsock__free(vs);
	return err;
}

void virtio_vsock__exit(struct kvm *kvm)
{
	struct virtio_dev *vdev = virtio__find(kvm, &vsock_ops);

	if (!vdev)
		return;
	pthread_mutex_lock(&vdev->lock);
	vsock__stop(to_vsock(vdev));
	pthread_mutex_unlock(&vdev->lock);
	vsock__unwatch_calls(to_vsock(vdev));
	virtio__detach(vdev);
	vsock__free(to_vsock(vdev));
}
virtio_dev_init(virtio_vsock__init, virtio_vsock__exit)
