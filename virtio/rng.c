/*
 * virtio-rng (device id 4), with --rng: one request queue whose device-writable buffers come back
 * filled from the host's getrandom(2), hwrng "virtio_rng.0" in a Linux guest.
 *
 * A worker thread fills them, not the vCPU that notifies: getrandom blocks until the host's
 * entropy pool is initialised, which on a freshly booted host can take a while.
 */
#include "lkvm/init.h"
#include "lkvm/kvm.h"
#include "lkvm/virtio-rng.h"
#include "lkvm/virtio.h"

#include <errno.h>
#include <linux/virtio_ids.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <unistd.h>

/*
 * The most one chain gets: the spec lets the device fill less than the whole buffer, and a
 * guest's gigabyte buffer must not keep the worker (and a reset that waits for it) busy.
 */
#define RNG_CHAIN_MAX	SZ_64K
#define RNG_BATCH	64

/* What the worker is asked to do, in rng->pending. */
#define RNG_KICK	1u	/* the driver added buffers */
#define RNG_STOP	2u

struct virtio_rng {
	struct virtio_dev vdev;
	struct virtq vq;
	int wake_fd;			/* eventfd: pending has news */
	_Atomic unsigned int pending;
	pthread_t worker;
	_Atomic bool warned;		/* a getrandom failure or a bad chain is reported once */
	struct virtq_chain chain;	/* the worker's, under vq.lock */
};

static struct virtio_rng *to_rng(struct virtio_dev *vdev)
{
	return container_of(vdev, struct virtio_rng, vdev);
}

static void rng__warn_once(struct virtio_rng *rng, const char *what, int err)
{
	if (!atomic_exchange(&rng->warned, true))
		pr_warn("virtio-rng: %s%s%s", what, err ? ": " : "", err ? strerror(err) : "");
}

/* getrandom(2) until buf is full, through signals and short reads; less only on a real error. */
static size_t rng__getrandom(struct virtio_rng *rng, u8 *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = getrandom(buf + done, len - done, 0);

		if (n > 0) {
			done += (size_t)n;
		} else if (n < 0 && errno == EINTR) {
			continue;
		} else {
			rng__warn_once(rng, "getrandom", n < 0 ? errno : EIO);
			break;
		}
	}
	return done;
}

/* Fills the chain's device-writable part, up to RNG_CHAIN_MAX; returns the bytes written. */
static u32 rng__fill(struct virtio_rng *rng, const struct virtq_chain *c)
{
	size_t room = RNG_CHAIN_MAX, done = 0;

	if (!c->nr_in)
		rng__warn_once(rng, "request without a device-writable buffer: returned empty", 0);
	for (unsigned int i = c->nr_out; i < c->nr_out + c->nr_in && room; i++) {
		size_t len = c->iov[i].iov_len < room ? c->iov[i].iov_len : room;
		size_t got = rng__getrandom(rng, c->iov[i].iov_base, len);

		done += got;
		room -= got;
		if (got < len)
			break;
	}
	return (u32)done;
}

static void rng__wake(struct virtio_rng *rng, unsigned int what)
{
	atomic_fetch_or(&rng->pending, what);
	eventfd_write(rng->wake_fd, 1);
}

/*
 * The driver's requests, RNG_BATCH at most before the worker looks for a stop again, each under
 * the queue's lock only while it is served: a guest that keeps adding requests cannot hold off
 * a reset.
 */
static void rng__serve(struct virtio_rng *rng)
{
	struct virtq *vq = &rng->vq;

	for (unsigned int n = 0; n < RNG_BATCH; n++) {
		bool got;

		pthread_mutex_lock(&vq->lock);
		got = virtq__pop(vq, &rng->chain) > 0;
		if (got) {
			virtq__push(vq, rng->chain.head, rng__fill(rng, &rng->chain));
			virtq__signal(vq);	/* each one when it is done: the driver waits */
		}
		pthread_mutex_unlock(&vq->lock);
		if (!got)
			return;
	}
	rng__wake(rng, RNG_KICK);
}

static void *rng__worker(void *arg)
{
	struct virtio_rng *rng = arg;
	struct pollfd pfd = { .fd = rng->wake_fd, .events = POLLIN };
	eventfd_t count;

	for (;;) {
		unsigned int todo;

		if (poll(&pfd, 1, -1) < 0 && errno != EINTR) {
			pr_err("virtio-rng: poll: %s", strerror(errno));
			break;
		}
		eventfd_read(rng->wake_fd, &count);
		todo = atomic_exchange(&rng->pending, 0);
		if (todo & RNG_STOP)
			break;
		if (todo & RNG_KICK)
			rng__serve(rng);
	}
	return NULL;
}

/* On the vCPU thread: only wakes the worker. */
static void rng__notify(struct virtio_dev *vdev, struct virtq *vq)
{
	(void)vq;
	rng__wake(to_rng(vdev), RNG_KICK);
}

/* No config space: no field is defined for this device. */
static void rng__config_read(struct virtio_dev *vdev, u32 offset, u8 *data, unsigned int len)
{
	(void)vdev;
	(void)offset;
	memset(data, 0, len);
}

/*
 * No reset op: the worker keeps no state of its own between requests, and serves each under the
 * queue's lock, which the core's reset of the queue takes too.
 */
static const struct virtio_dev_ops rng_ops = {
	.name = "virtio-rng",
	.device_id = VIRTIO_ID_RNG,
	.features = 0,
	.config_size = 0,
	.config_read = rng__config_read,
	.notify = rng__notify,
};

static void rng__stop(struct virtio_rng *rng)
{
	rng__wake(rng, RNG_STOP);
	pthread_join(rng->worker, NULL);
}

/* After rng__stop. */
static void rng__free(struct virtio_rng *rng)
{
	close(rng->wake_fd);
	virtio_dev__destroy(&rng->vdev);
	free(rng);
}

int virtio_rng__init(struct kvm *kvm)
{
	struct virtio_rng *rng;
	int err;

	if (!kvm->cfg->rng)
		return 0;
	rng = calloc(1, sizeof(*rng));
	if (!rng) {
		pr_err("virtio-rng: out of memory");
		return -ENOMEM;
	}
	virtio_dev__init(&rng->vdev, kvm, &rng_ops, &rng->vq, 1);
	rng->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (rng->wake_fd < 0) {
		err = -errno;
		pr_err("virtio-rng: eventfd: %s", strerror(errno));
		goto out_free;
	}
	err = -pthread_create(&rng->worker, NULL, rng__worker, rng);
	if (err) {
		pr_err("virtio-rng: cannot start its thread: %s", strerror(-err));
		close(rng->wake_fd);
		goto out_free;
	}
	err = virtio__attach(kvm, &rng->vdev);
	if (err) {
		rng__stop(rng);
		rng__free(rng);
	}
	return err;

out_free:
	virtio_dev__destroy(&rng->vdev);
	free(rng);
	return err;
}

void virtio_rng__exit(struct kvm *kvm)
{
	struct virtio_dev *vdev = virtio__find(kvm, &rng_ops);

	if (!vdev)
		return;
	rng__stop(to_rng(vdev));	/* it signals through the transport */
	virtio__detach(vdev);
	rng__free(to_rng(vdev));
}
dev_init(virtio_rng__init, virtio_rng__exit)
