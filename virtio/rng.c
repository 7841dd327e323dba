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
#include "lkvm/virtio-worker.h"
#include "lkvm/virtio.h"

#include <errno.h>
#include <linux/virtio_ids.h>
#include <stdlib.h>
#include <string.h>

/*
 * The most one chain gets: the spec lets the device fill less than the whole buffer, and a
 * guest's gigabyte buffer must not keep the worker (and a reset that waits for it) busy.
 */
#define RNG_CHAIN_MAX	SZ_64K

struct virtio_rng {
	struct virtio_dev vdev;
	struct virtq vq;
	struct worker worker;
	_Atomic unsigned int warned;	/* a getrandom failure or a bad chain is reported once */
	struct virtq_chain chain;	/* the worker's, under vq.lock */
};

static struct virtio_rng *to_rng(struct virtio_dev *vdev)
{
	return container_of(vdev, struct virtio_rng, vdev);
}

/* Fills the chain's device-writable part, up to RNG_CHAIN_MAX; returns the bytes written. */
static u32 rng__fill(struct virtio_rng *rng, const struct virtq_chain *c)
{
	size_t room = RNG_CHAIN_MAX, done = 0;

	if (!c->nr_in)
		pr_warn_once(&rng->warned, "virtio-rng: request without a device-writable buffer: "
			     "returned empty");
	for (unsigned int i = c->nr_out; i < c->nr_out + c->nr_in && room; i++) {
		size_t len = c->iov[i].iov_len < room ? c->iov[i].iov_len : room;
		int err = random__fill(c->iov[i].iov_base, len);

		/* The buffers filled before the error count; this one does not. */
		if (err) {
			pr_warn_once(&rng->warned, "virtio-rng: getrandom: %s", strerror(-err));
			break;
		}
		done += len;
		room -= len;
	}
	return (u32)done;
}

static void rng__handle(struct worker *w, struct virtq_chain *c)
{
	struct virtio_rng *rng = container_of(w, struct virtio_rng, worker);

	virtq__push(&rng->vq, c->head, rng__fill(rng, c));
}

/* On the vCPU thread: only wakes the worker. */
static void rng__notify(struct virtio_dev *vdev, struct virtq *vq)
{
	(void)vq;
	worker__kick(&to_rng(vdev)->worker, WORKER_KICK);
}

/*
 * No reset op: the worker keeps no state of its own between requests, and serves each under the
 * queue's lock, which the core's reset of the queue takes too.
 */
static const struct virtio_dev_ops rng_ops = {
	.name = "virtio-rng",
	.device_id = VIRTIO_ID_RNG,
	.features = 0,
	.config_size = 0,	/* no config field is defined for this device */
	.notify = rng__notify,
};

/* Stops the worker first: it may still be signalling through the transport. */
static void rng__free(struct virtio_rng *rng)
{
	worker__destroy(&rng->worker);
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
	err = worker__init_queue(&rng->worker, "lkvm-rng", &rng->vq, &rng->chain, rng__handle);
	if (err) {
		free(rng);
		return err;
	}
	virtio_dev__init(&rng->vdev, kvm, &rng_ops, &rng->vq, 1);
	err = worker__start(&rng->worker);
	if (!err)
		err = virtio__attach(kvm, &rng->vdev);
	if (err)
		rng__free(rng);
	return err;
}

void virtio_rng__exit(struct kvm *kvm)
{
	struct virtio_dev *vdev = virtio__find(kvm, &rng_ops);

	if (!vdev)
		return;
	worker__stop(&to_rng(vdev)->worker);	/* it signals through the transport */
	virtio__detach(vdev);
	rng__free(to_rng(vdev));
}
virtio_dev_init(virtio_rng__init, virtio_rng__exit)
