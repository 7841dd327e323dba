/*
 * The virtio I/O thread: queue notifications through KVM ioeventfds and level-triggered
 * interrupts through KVM irqfds with resampling, so that neither costs the vCPU an exit to
 * userspace and device work runs off the vCPU threads.
 *
 * Sources are looked up by an id that is never reused: an event epoll returned just before its
 * source was removed finds nothing, and unwatch waits for a handler that is already running.
 */
#include "lkvm/virtio-ioevent.h"
#include "lkvm/init.h"
#include "lkvm/kvm.h"
#include "lkvm/virtio.h"

#include <errno.h>
#include <inttypes.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define QUIT_ID	0	/* the quit eventfd's; sources' ids start at 1 */

struct virtio_io {
	int epfd, quit_fd;
	pthread_t thread;
	bool has_ioeventfd, has_irqfd;
	pthread_mutex_t lock;		/* sources, next_id, busy */
	pthread_cond_t idle;		/* busy went back to NULL */
	struct virtio_io_source *sources;
	struct virtio_io_source *busy;	/* whose handler runs now */
	u64 next_id;
};

struct virtio_ioevent {
	struct virtio_io_source src;
	struct virtq *vq;
	struct kvm_ioeventfd kick;	/* as assigned: deassigning wants the same */
	u64 kicks;			/* the guest's writes KVM counted: for --debug */
};

/* --- the thread --- */

static struct virtio_io_source *virtio_io__find(struct virtio_io *io, u64 id)
{
	struct virtio_io_source *s = io->sources;

	while (s && s->id != id)
		s = s->next;
	return s;
}

static void virtio_io__dispatch(struct virtio_io *io, u64 id)
{
	struct virtio_io_source *src;

	pthread_mutex_lock(&io->lock);
	src = io->busy = virtio_io__find(io, id);
	pthread_mutex_unlock(&io->lock);
	if (src)
		src->handle(src);
	pthread_mutex_lock(&io->lock);
	io->busy = NULL;
	pthread_cond_broadcast(&io->idle);
	pthread_mutex_unlock(&io->lock);
}

/* One event per wait: what a handler removes cannot be in a batch still to be handled. */
static void *virtio_io__thread(void *arg)
{
	struct virtio_io *io = arg;
	struct epoll_event ev;

	for (;;) {
		int n = epoll_wait(io->epfd, &ev, 1, -1);

		if (n < 0 && errno != EINTR) {
			pr_err("virtio I/O thread: epoll_wait: %s", strerror(errno));
			break;
		}
		if (n <= 0)
			continue;
		if (ev.data.u64 == QUIT_ID)
			break;
		virtio_io__dispatch(io, ev.data.u64);
	}
	return NULL;
}

static bool virtio_io__has_cap(struct kvm *kvm, long cap)
{
	return kvm->vm_fd >= 0 && ioctl(kvm->vm_fd, KVM_CHECK_EXTENSION, cap) > 0;
}

static void virtio_io__free(struct virtio_io *io)
{
	if (io->quit_fd >= 0)
		close(io->quit_fd);
	if (io->epfd >= 0)
		close(io->epfd);
	pthread_cond_destroy(&io->idle);
	pthread_mutex_destroy(&io->lock);
	free(io);
}

/* Signals are for the main loop (signalfd) and the vCPUs' kicks: the I/O thread takes none. */
static int virtio_io__spawn(struct virtio_io *io)
{
	sigset_t all, old;
	int err;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	err = -pthread_create(&io->thread, NULL, virtio_io__thread, io);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return err;
}

int virtio_io__start(struct kvm *kvm)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = QUIT_ID };
	struct virtio_io *io = calloc(1, sizeof(*io));
	int err;

	if (!io) {
		pr_err("virtio I/O thread: out of memory");
		return -ENOMEM;
	}
	pthread_mutex_init(&io->lock, NULL);
	pthread_cond_init(&io->idle, NULL);
	io->next_id = QUIT_ID + 1;
	io->has_ioeventfd = virtio_io__has_cap(kvm, KVM_CAP_IOEVENTFD);
	io->has_irqfd = virtio_io__has_cap(kvm, KVM_CAP_IRQFD) &&
			virtio_io__has_cap(kvm, KVM_CAP_IRQFD_RESAMPLE);
	io->epfd = epoll_create1(EPOLL_CLOEXEC);
	io->quit_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (io->epfd < 0 || io->quit_fd < 0 || epoll_ctl(io->epfd, EPOLL_CTL_ADD, io->quit_fd, &ev)) {
		err = -errno;
		pr_err("virtio I/O thread: cannot set up epoll: %s", strerror(errno));
		virtio_io__free(io);
		return err;
	}
	err = virtio_io__spawn(io);
	if (err) {
		pr_err("virtio I/O thread: cannot start it: %s", strerror(-err));
		virtio_io__free(io);
		return err;
	}
	kvm->vio = io;
	return 0;
}

void virtio_io__stop(struct kvm *kvm)
{
	struct virtio_io *io = kvm->vio;
	u64 one = 1;

	if (!io)
		return;
	write_all(io->quit_fd, &one, sizeof(one));
	pthread_join(io->thread, NULL);
	if (io->sources)
		pr_warn("virtio I/O thread: stopped with sources still watched");
	virtio_io__free(io);
	kvm->vio = NULL;
}

int virtio_io__watch(struct kvm *kvm, struct virtio_io_source *src)
{
	struct virtio_io *io = kvm->vio;
	struct epoll_event ev = { .events = EPOLLIN };
	int err = 0;

	if (!io)
		return -ENODEV;
	pthread_mutex_lock(&io->lock);
	src->id = ev.data.u64 = io->next_id++;
	if (epoll_ctl(io->epfd, EPOLL_CTL_ADD, src->fd, &ev)) {
		err = -errno;
	} else {
		src->next = io->sources;
		io->sources = src;
	}
	pthread_mutex_unlock(&io->lock);
	return err;
}

void virtio_io__unwatch(struct kvm *kvm, struct virtio_io_source *src)
{
	struct virtio_io *io = kvm->vio;
	struct virtio_io_source **p;

	if (!io)
		return;
	pthread_mutex_lock(&io->lock);
	for (p = &io->sources; *p && *p != src; p = &(*p)->next)
		;
	if (*p) {
		*p = src->next;
		epoll_ctl(io->epfd, EPOLL_CTL_DEL, src->fd, NULL);
	}
	/* A handler that removes its own source would wait for itself. */
	while (io->busy == src && !pthread_equal(pthread_self(), io->thread))
		pthread_cond_wait(&io->idle, &io->lock);
	pthread_mutex_unlock(&io->lock);
}

/* Only where KVM can take work off the vCPUs: elsewhere nothing would use the thread. */
static int virtio_io__init(struct kvm *kvm)
{
	if (!virtio_io__has_cap(kvm, KVM_CAP_IOEVENTFD) && !virtio_io__has_cap(kvm, KVM_CAP_IRQFD))
		return 0;
	return virtio_io__start(kvm);
}

/* --- queue notifications --- */

/* The eventfd counts the guest's writes; one notify drains the queue for all of them. */
static void virtio_ioevent__handle(struct virtio_io_source *src)
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
	if (!kvm->vio || !kvm->vio->has_ioeventfd)
		return -EOPNOTSUPP;
	if (len != 1 && len != 2 && len != 4 && len != 8)
		return -EINVAL;
	ev = calloc(1, sizeof(*ev));
	if (!ev)
		return -ENOMEM;
	ev->vq = vq;
	ev->src.handle = virtio_ioevent__handle;
	ev->src.fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ev->kick = (struct kvm_ioeventfd){
		.datamatch = datamatch ? data : 0, .addr = addr, .len = len, .fd = ev->src.fd,
		.flags = datamatch ? KVM_IOEVENTFD_FLAG_DATAMATCH : 0,
	};
	err = ev->src.fd < 0 ? -errno : virtio_io__watch(kvm, &ev->src);
	if (!err) {
		err = virtio_ioevent__kvm(kvm, &ev->kick);
		if (err)
			virtio_io__unwatch(kvm, &ev->src);
	}
	if (err) {
		pr_debug("%s: queue %u: notifications through MMIO exits: ioeventfd: %s",
			 dev->ops->name, vq->index, strerror(-err));
		if (ev->src.fd >= 0)
			close(ev->src.fd);
		free(ev);
		return err;
	}
	vq->ioevent = ev;
	pr_debug("%s: queue %u: notifications through ioeventfd", dev->ops->name, vq->index);
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
	virtio_io__unwatch(kvm, &ev->src);
	pr_debug("%s: queue %u: %" PRIu64 " notifications came through its ioeventfd",
		 vq->dev->ops->name, vq->index, ev->kicks);
	close(ev->src.fd);
	free(ev);
	vq->ioevent = NULL;
}

/* --- level-triggered interrupts --- */

static void virtio_irq__handle_resample(struct virtio_io_source *src)
{
	struct virtio_irq *irq = container_of(src, struct virtio_irq, resample);
	u64 count;

	if (read(src->fd, &count, sizeof(count)) != sizeof(count))
		return;
	irq->resamples += count;
	irq->resampled(irq);
}

static int virtio_irq__kvm(struct virtio_irq *irq, u32 flags)
{
	/* An SPI's irqfd GSI is its number from 0: arm64's default routing adds the 32 (vgic). */
	struct kvm_irqfd req = {
		.fd = (u32)irq->fd, .gsi = irq->spi, .flags = flags,
		.resamplefd = (u32)irq->resample.fd,
	};

	return ioctl(irq->kvm->vm_fd, KVM_IRQFD, &req) ? -errno : 0;
}

static void virtio_irq__close(struct virtio_irq *irq)
{
	if (irq->fd >= 0)
		close(irq->fd);
	if (irq->resample.fd >= 0)
		close(irq->resample.fd);
	irq->fd = irq->resample.fd = -1;
}

bool virtio_irq__init(struct virtio_irq *irq, struct kvm *kvm, unsigned int spi,
		      void (*resampled)(struct virtio_irq *irq))
{
	int err;

	*irq = (struct virtio_irq){
		.kvm = kvm, .spi = spi, .fd = -1, .resampled = resampled,
		.resample = { .fd = -1, .handle = virtio_irq__handle_resample },
	};
	if (!kvm->vio || !kvm->vio->has_irqfd)
		return false;
	irq->fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	irq->resample.fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (irq->fd < 0 || irq->resample.fd < 0 || virtio_io__watch(kvm, &irq->resample)) {
		virtio_irq__close(irq);
		return false;
	}
	err = virtio_irq__kvm(irq, KVM_IRQFD_FLAG_RESAMPLE);
	if (err) {
		pr_debug("SPI %u: interrupts through KVM_IRQ_LINE: irqfd: %s", spi, strerror(-err));
		virtio_io__unwatch(kvm, &irq->resample);
		virtio_irq__close(irq);
		return false;
	}
	return true;
}

/*
 * Lowering goes through KVM_IRQ_LINE either way: the vgic keeps one level per SPI whoever drives
 * it, and an irqfd can only raise. The resampler lowers the line at EOI on its own too.
 */
void virtio_irq__set(struct virtio_irq *irq, bool level)
{
	u64 one = 1;

	if (level && irq->fd >= 0) {
		write_all(irq->fd, &one, sizeof(one));
		irq->raises++;
	} else {
		kvm__irq_line(irq->kvm, irq->spi, level);
	}
}

void virtio_irq__exit(struct virtio_irq *irq)
{
	int err;

	if (irq->fd < 0)
		return;
	err = virtio_irq__kvm(irq, KVM_IRQFD_FLAG_DEASSIGN);

	if (err)
		pr_warn("SPI %u: cannot remove its irqfd: %s", irq->spi, strerror(-err));
	virtio_io__unwatch(irq->kvm, &irq->resample);
	pr_debug("SPI %u: raised %" PRIu64 " times through its irqfd, resampled %" PRIu64 " times",
		 irq->spi, irq->raises, irq->resamples);
	virtio_irq__close(irq);
}

/* --- status-backed level interrupts --- */

/* Under si->lock. */
static bool virtio_status_irq__level(const struct virtio_status_irq *si)
{
	return si->status && !si->masked;
}

/* Under si->lock: was is the level before the change. */
static void virtio_status_irq__drive(struct virtio_status_irq *si, bool was)
{
	bool level = virtio_status_irq__level(si);

	if (level != was)
		virtio_irq__set(&si->irq, level);
}

/* KVM lowered the line at the guest's EOI: up again if it still should be. */
static void virtio_status_irq__resampled(struct virtio_irq *irq)
{
	struct virtio_status_irq *si = container_of(irq, struct virtio_status_irq, irq);

	pthread_mutex_lock(&si->lock);
	if (virtio_status_irq__level(si))
		virtio_irq__set(&si->irq, true);
	pthread_mutex_unlock(&si->lock);
}

void virtio_status_irq__init(struct virtio_status_irq *si, struct kvm *kvm, unsigned int spi,
			     const char *name)
{
	si->status = 0;
	si->masked = false;
	pthread_mutex_init(&si->lock, NULL);
	if (virtio_irq__init(&si->irq, kvm, spi, virtio_status_irq__resampled))
		pr_debug("%s: interrupts through irqfd", name);
}

void virtio_status_irq__raise(struct virtio_status_irq *si, u32 bits)
{
	bool was;

	pthread_mutex_lock(&si->lock);
	was = virtio_status_irq__level(si);
	si->status |= bits;
	virtio_status_irq__drive(si, was);
	pthread_mutex_unlock(&si->lock);
}

u32 virtio_status_irq__ack(struct virtio_status_irq *si, u32 bits)
{
	u32 before;
	bool was;

	pthread_mutex_lock(&si->lock);
	was = virtio_status_irq__level(si);
	before = si->status;
	si->status &= ~bits;
	virtio_status_irq__drive(si, was);
	pthread_mutex_unlock(&si->lock);
	return before;
}

u32 virtio_status_irq__status(struct virtio_status_irq *si)
{
	u32 status;

	pthread_mutex_lock(&si->lock);
	status = si->status;
	pthread_mutex_unlock(&si->lock);
	return status;
}

void virtio_status_irq__mask(struct virtio_status_irq *si, bool masked)
{
	bool was;

	pthread_mutex_lock(&si->lock);
	was = virtio_status_irq__level(si);
	si->masked = masked;
	virtio_status_irq__drive(si, was);
	pthread_mutex_unlock(&si->lock);
}

/* Not under si->lock: virtio_irq__exit waits for a resample handler, which takes it. */
void virtio_status_irq__exit(struct virtio_status_irq *si)
{
	virtio_irq__exit(&si->irq);
	if (virtio_status_irq__level(si))
		virtio_irq__set(&si->irq, false);
	pthread_mutex_destroy(&si->lock);
}

/* Before the devices, which use it from their init on; its exit runs after theirs. */
irqchip_init(virtio_io__init, virtio_io__stop)
