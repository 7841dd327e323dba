/*
 * Queue doorbells through KVM ioeventfds: KVM completes the guest's write to a queue's notify
 * register without an exit and signals an eventfd, on which the VM's I/O thread runs the device's
 * notify.
 */
#include "lkvm/virtio-ioevent.h"
#include "lkvm/io-thread.h"
#include "lkvm/kvm.h"
#include "lkvm/virtio.h"

#include <errno.h>
#include <inttypes.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

struct virtio_ioevent {
	struct io_source src;
	struct virtq *vq;
	struct kvm_ioeventfd kick;	/* as assigned: deassigning wants the same */
	bool kernel;			/* src.fd is the device's (kick_fd): not watched, not ours */
	u64 kicks;			/* the guest's writes KVM counted: for --debug */
};

/* The eventfd counts the guest's writes; one notify drains the queue for all of them. */
static void virtio_ioevent__handle(struct io_source *src)
{
	struct virtio_ioevent *ev = container_of(src, struct virtio_ioevent, src);
	struct virtio_dev *dev = ev->vq->dev;
	u64 count;

	if (read(src->fd, &count, sizeof(count)) != sizeof(count))
		return;
	ev->kicks += count;
	if (dev->ops->notify)
		dev->ops->notify(dev, ev->vq);
}

static int virtio_ioevent__kvm(struct kvm *kvm, struct kvm_ioeventfd *kick)
{
	return ioctl(kvm->vm_fd, KVM_IOEVENTFD, kick) ? -errno : 0;
}

int virtio_ioevent__add(struct virtq *vq, u64 addr, unsigned int len, bool datamatch, u64 data)
{
	struct virtio_dev *dev = vq->dev;
	struct kvm *kvm = dev->kvm;
	struct virtio_ioevent *ev;
	int err;

	if (vq->ioevent)
		return -EEXIST;
	if (!io_thread__has_ioeventfd(kvm))
		return -EOPNOTSUPP;
	if (len != 1 && len != 2 && len != 4 && len != 8)
		return -EINVAL;
	ev = calloc(1, sizeof(*ev));
	if (!ev)
		return -ENOMEM;
	ev->vq = vq;
	ev->src.handle = virtio_ioevent__handle;
	ev->src.fd = dev->ops->kick_fd ? dev->ops->kick_fd(dev, vq) : -1;
	ev->kernel = ev->src.fd >= 0;
	if (!ev->kernel)
		ev->src.fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ev->kick = (struct kvm_ioeventfd){
		.datamatch = datamatch ? data : 0, .addr = addr, .len = len, .fd = ev->src.fd,
		.flags = datamatch ? KVM_IOEVENTFD_FLAG_DATAMATCH : 0,
	};
	err = ev->src.fd < 0 ? -errno : ev->kernel ? 0 : io_thread__watch(kvm, &ev->src);
	if (!err) {
		err = virtio_ioevent__kvm(kvm, &ev->kick);
		if (err && !ev->kernel)
			io_thread__unwatch(kvm, &ev->src);
	}
	if (err) {
		pr_debug("%s: queue %u: notifications through MMIO exits: ioeventfd: %s",
			 dev->ops->name, vq->index, strerror(-err));
		if (ev->src.fd >= 0 && !ev->kernel)
			close(ev->src.fd);
		free(ev);
		return err;
	}
	vq->ioevent = ev;
	pr_debug("%s: queue %u: notifications through ioeventfd%s", dev->ops->name, vq->index,
		 ev->kernel ? ", to the kernel" : "");
	return 0;
}

void virtio_ioevent__del(struct virtq *vq)
{
	struct virtio_ioevent *ev = vq->ioevent;
	struct kvm *kvm = vq->dev->kvm;
	int err;

	if (!ev)
		return;
	ev->kick.flags |= KVM_IOEVENTFD_FLAG_DEASSIGN;
	err = virtio_ioevent__kvm(kvm, &ev->kick);
	if (err)
		pr_warn("%s: queue %u: cannot remove its ioeventfd: %s", vq->dev->ops->name,
			vq->index, strerror(-err));
	if (ev->kernel) {
		free(ev);
		vq->ioevent = NULL;
		return;
	}
	io_thread__unwatch(kvm, &ev->src);
	pr_debug("%s: queue %u: %" PRIu64 " notifications came through its ioeventfd",
		 vq->dev->ops->name, vq->index, ev->kicks);
	close(ev->src.fd);
	free(ev);
	vq->ioevent = NULL;
}
