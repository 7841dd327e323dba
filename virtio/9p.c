/*
 * virtio-9p (device id 9): each --9p DIR[,TAG] (and -d DIR, tagged "/dev/root") is one device
 * with one request queue, served by a 9P2000.L server (virtio/9p-proto.c) on a worker thread of
 * its own, so that file-system work never runs on a vCPU thread.
 *
 * A request is the chain's device-readable part, copied out of guest memory before it is parsed
 * (the guest may rewrite it); the reply goes to its device-writable part. Linux's zero-copy
 * requests (header and data in separate buffers) are just longer chains.
 */
#include "lkvm/devspec.h"
#include "lkvm/init.h"
#include "lkvm/kvm.h"
#include "lkvm/p9.h"
#include "lkvm/virtio-worker.h"
#include "lkvm/virtio.h"

#include <errno.h>
#include <linux/virtio_9p.h>
#include <linux/virtio_ids.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

struct virtio_9p {
	struct virtio_dev vdev;
	struct virtq vq;
	struct p9_server srv;		/* under vq.lock */
	u8 config[2 + SHARE_TAG_MAX];	/* tag_len (le16), tag: fixed from init on */
	u32 config_size;
	struct worker worker;

	/* The worker's, under vq.lock: a chain is 4K, the buffers msize each. */
	struct virtq_chain chain;
	u8 *req, *resp;
};

static struct virtio_9p *to_9p(struct virtio_dev *vdev)
{
	return container_of(vdev, struct virtio_9p, vdev);
}

static void virtio_9p__config_read(struct virtio_dev *vdev, u32 offset, u8 *data, unsigned int len)
{
	struct virtio_9p *p9 = to_9p(vdev);

	/* The transport checked offset + len against ops->config_size, the largest a tag makes. */
	memset(data, 0, len);
	if (offset < p9->config_size)
		memcpy(data, p9->config + offset,
		       len < p9->config_size - offset ? len : p9->config_size - offset);
}

static void virtio_9p__serve_one(struct worker *w, struct virtq_chain *c)
{
	struct virtio_9p *p9 = container_of(w, struct virtio_9p, worker);
	size_t req_len = virtq_chain__from_guest(c, 0, p9->req, P9_MAX_MSIZE);
	size_t cap = c->in_len < P9_MAX_MSIZE ? c->in_len : P9_MAX_MSIZE;
	size_t len = p9__handle(&p9->srv, p9->req, req_len, p9->resp, cap);

	len = virtq_chain__to_guest(c, 0, p9->resp, len);
	virtq__push(&p9->vq, c->head, (u32)len);
}

static void virtio_9p__notify(struct virtio_dev *vdev, struct virtq *vq)
{
	(void)vq;
	worker__kick(&to_9p(vdev)->worker, WORKER_KICK);
}

/*
 * A new driver starts a new session: the old one's fids go. The worker serves each request under
 * vq.lock, so none is in flight.
 */
static void virtio_9p__reset(struct virtio_dev *vdev)
{
	struct virtio_9p *p9 = to_9p(vdev);

	pthread_mutex_lock(&p9->vq.lock);
	p9__reset(&p9->srv);
	pthread_mutex_unlock(&p9->vq.lock);
}

static const struct virtio_dev_ops virtio_9p_ops = {
	.name = "virtio-9p",
	.device_id = VIRTIO_ID_9P,
	.features = 1ULL << VIRTIO_9P_MOUNT_TAG,
	.config_size = sizeof(struct virtio_9p_config) + SHARE_TAG_MAX,
	.config_read = virtio_9p__config_read,
	.notify = virtio_9p__notify,
	.reset = virtio_9p__reset,
};

/*
 * Every fid holds up to three fds: the soft limit (often 1024) would soon be reached, so it goes
 * up to the hard limit. Each share gets a fid budget that leaves fds for the rest of lkvm.
 */
static unsigned int virtio_9p__fid_budget(unsigned int nr_shares)
{
	struct rlimit rl;
	u64 budget;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return 64;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl))
			getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur == RLIM_INFINITY)
		return P9_MAX_FIDS;
	budget = rl.rlim_cur > 256 ? (rl.rlim_cur - 256) / (3 * nr_shares) : 0;
	return budget < 64 ? 64 : budget > P9_MAX_FIDS ? P9_MAX_FIDS : (unsigned int)budget;
}

/* After worker__init. */
static void virtio_9p__free(struct virtio_9p *p9)
{
	worker__destroy(&p9->worker);
	free(p9->req);
	free(p9->resp);
	free(p9);
}

static int virtio_9p__new(struct kvm *kvm, const struct share_spec *share, unsigned int index,
			  unsigned int max_fids)
{
	size_t tag_len = strlen(share->tag);
	struct virtio_9p *p9;
	char name[32];	/* the thread's name: worker__init keeps 15 characters */
	int err;

	if (!tag_len || tag_len > SHARE_TAG_MAX) {
		pr_err("--9p %s: the tag must have 1 to %d characters", share->path, SHARE_TAG_MAX);
		return -EINVAL;
	}
	p9 = calloc(1, sizeof(*p9));
	if (!p9) {
		pr_err("virtio-9p: out of memory");
		return -ENOMEM;
	}
	snprintf(name, sizeof(name), "lkvm-9p%u", index);
	err = worker__init_queue(&p9->worker, name, &p9->vq, &p9->chain, virtio_9p__serve_one);
	if (err) {
		free(p9);
		return err;
	}
	p9->req = malloc(P9_MAX_MSIZE);
	p9->resp = malloc(P9_MAX_MSIZE);
	if (!p9->req || !p9->resp) {
		virtio_9p__free(p9);
		pr_err("virtio-9p: out of memory");
		return -ENOMEM;
	}
	p9->config[0] = (u8)tag_len;
	p9->config[1] = 0;
	memcpy(p9->config + 2, share->tag, tag_len);
	p9->config_size = (u32)(2 + tag_len);
	err = p9__init(&p9->srv, share->path);
	if (err) {
		pr_err("--9p %s: %s", share->path, strerror(-err));
		virtio_9p__free(p9);
		return err;
	}
	p9->srv.max_fids = max_fids;
	virtio_dev__init(&p9->vdev, kvm, &virtio_9p_ops, &p9->vq, 1);
	err = worker__start(&p9->worker);
	if (!err) {
		err = virtio__attach(kvm, &p9->vdev);
		if (!err)
			return 0;
		worker__stop(&p9->worker);
	}
	virtio_dev__destroy(&p9->vdev);
	p9__destroy(&p9->srv);
	virtio_9p__free(p9);
	return err;
}

int virtio_9p__init(struct kvm *kvm)
{
	unsigned int max_fids;
	int err;

	if (!kvm->cfg->nr_shares)
		return 0;
	max_fids = virtio_9p__fid_budget(kvm->cfg->nr_shares);
	for (unsigned int i = 0; i < kvm->cfg->nr_shares; i++) {
		err = virtio_9p__new(kvm, &kvm->cfg->shares[i], i, max_fids);
		if (err) {
			virtio_9p__exit(kvm);
			return err;
		}
	}
	return 0;
}

void virtio_9p__exit(struct kvm *kvm)
{
	struct virtio_dev *vdev;

	while ((vdev = virtio__find(kvm, &virtio_9p_ops))) {
		struct virtio_9p *p9 = to_9p(vdev);

		/* The worker first: it may still be signalling through the transport. */
		worker__stop(&p9->worker);
		virtio__detach(vdev);
		virtio_dev__destroy(vdev);
		p9__destroy(&p9->srv);
		virtio_9p__free(p9);
	}
}
virtio_dev_init(virtio_9p__init, virtio_9p__exit)
