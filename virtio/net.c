/*
 * virtio-net (device id 1): eth0 in a Linux guest, on a backend (include/lkvm/virtio-net.h): a
 * tap device with -n mode=tap (virtio/net-tap.c), libslirp's user-mode network with -n mode=user
 * (virtio/net-user.c).
 *
 * One receive and one transmit queue and no offloads: frames go whole and fully checksummed, each
 * after the 12-byte virtio_net_hdr_v1 that the backend's fd speaks too. Receive buffers are
 * mergeable (VIRTIO_NET_F_MRG_RXBUF): a frame takes as many as it needs.
 *
 * A worker thread per device moves frames both ways, off the vCPUs, which only wake it. It reads
 * the backend only while the guest has receive buffers: when they run out it keeps the frame it
 * has and waits for the driver's next notification on the receive queue.
 */
#include "lkvm/init.h"
#include "lkvm/kvm.h"
#include "lkvm/virtio-net.h"
#include "lkvm/virtio-worker.h"
#include "lkvm/virtio.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_ether.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_net.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { NET_RXQ, NET_TXQ, NET_NR_QUEUES };

#define NET_HDR_LEN	sizeof(struct virtio_net_hdr_v1)
/* The largest frame after the header: the spec's 65562-byte receive buffer (5.1.6.3.1) less it. */
#define NET_FRAME_MAX	65550
/* mac and status; the other fields exist only with features we do not offer. */
#define NET_CONFIG_SIZE	offsetof(struct virtio_net_config, max_virtqueue_pairs)

/* The worker's kicks. It moves WORKER_BATCH frames one way, then the other: neither starves. */
#define NET_KICK_RX	1u	/* the driver added receive buffers */
#define NET_KICK_TX	2u	/* the driver has frames to send */

/* Each kind of misbehaviour is reported once per device. */
enum net_warning {
	WARN_TX_SHORT,
	WARN_TX_BIG,
	WARN_TX_WRITABLE,
	WARN_TX_OFFLOAD,
	WARN_RX_BIG,
	WARN_RX_OFFLOAD,
	WARN_RX_TRUNCATED,
	WARN_BACKEND,
	NET_NR_WARNINGS
};

struct virtio_net {
	struct virtio_dev vdev;
	struct virtq vqs[NET_NR_QUEUES];
	u8 mac[ETH_ALEN];
	char ifname[IFNAMSIZ];		/* for messages */
	int fd;				/* the backend's end: a tap, or a socket */
	struct net_backend *be;		/* what else the backend has, or NULL */
	_Atomic unsigned int warned[NET_NR_WARNINGS];
	struct worker worker;		/* waits on fd too */

	/* The worker's alone. */
	bool backend_gone;
	bool rx_on;			/* the guest has receive buffers: read the backend */
	bool tx_blocked;		/* the backend had no room: wait for POLLOUT */
	/*
	 * A frame from the guest on its way to the backend, under the transmit queue's lock; and one
	 * from the backend on its way into receive buffers, under that queue's lock. Both go when
	 * their queue stops (net__queue_stop).
	 */
	bool tx_held;			/* tx_chain waits for room in the backend */
	struct virtq_chain tx_chain;
	struct virtio_net_hdr_v1 tx_hdr;
	struct iovec tx_iov[VIRTQ_MAX_SIZE + 1];
	struct virtq_chain rx_first;	/* the received frame's first buffer: its header comes last */
	struct virtq_chain rx_chain;	/* the others */
	struct vring_used_elem rx_used[VIRTQ_MAX_SIZE];
	unsigned int rx_nr;		/* buffers it has filled */
	size_t rx_len, rx_done;		/* bytes in rx_buf (0: none), and those in the guest */
	u8 rx_buf[NET_HDR_LEN + NET_FRAME_MAX + 1];	/* one more: a longer frame is noticed */
};

static struct virtio_net *to_net(struct virtio_dev *vdev)
{
	return container_of(vdev, struct virtio_net, vdev);
}

/* POLLERR, POLLHUP, EOF or a read error: a deleted tap, or a closed socket. */
static void net__backend_gone(struct virtio_net *net, const char *why)
{
	net->backend_gone = true;
	pr_warn_once(&net->warned[WARN_BACKEND], "virtio-net: %s: %s: the network is down for the "
		     "guest", net->ifname, why);
}

/* --- transmit --- */

/*
 * Checks a transmit chain and builds tx_iov for it: our copy of the guest's header (checked
 * there, as the guest may rewrite its own), then the frame after it. Returns the iovec count, or
 * 0 if the frame is to be dropped.
 */
static unsigned int net__tx_prepare(struct virtio_net *net, const struct virtq_chain *c)
{
	size_t skip = NET_HDR_LEN;
	unsigned int n = 1;

	if (c->nr_in) {
		pr_warn_once(&net->warned[WARN_TX_WRITABLE], "virtio-net: %s: transmit request with "
			     "a device-writable buffer: dropped", net->ifname);
		return 0;
	}
	if (c->out_len < NET_HDR_LEN) {
		pr_warn_once(&net->warned[WARN_TX_SHORT], "virtio-net: %s: transmit request of %zu "
			     "bytes, shorter than the %zu-byte header: dropped", net->ifname,
			     c->out_len, NET_HDR_LEN);
		return 0;
	}
	if (c->out_len - NET_HDR_LEN > NET_FRAME_MAX) {
		pr_warn_once(&net->warned[WARN_TX_BIG], "virtio-net: %s: transmit frame of %zu bytes, "
			     "more than %u: dropped", net->ifname, c->out_len - NET_HDR_LEN,
			     NET_FRAME_MAX);
		return 0;
	}
	virtq_chain__from_guest(c, 0, &net->tx_hdr, NET_HDR_LEN);
	/* No checksum or segmentation offload was offered: the frame must be complete. */
	if (net->tx_hdr.flags || net->tx_hdr.gso_type != VIRTIO_NET_HDR_GSO_NONE) {
		pr_warn_once(&net->warned[WARN_TX_OFFLOAD], "virtio-net: %s: transmit header asks for "
			     "an offload that was not negotiated (flags 0x%x, gso_type 0x%x): dropped",
			     net->ifname, net->tx_hdr.flags, net->tx_hdr.gso_type);
		return 0;
	}
	net->tx_iov[0] = (struct iovec){ .iov_base = &net->tx_hdr, .iov_len = NET_HDR_LEN };
	for (unsigned int i = 0; i < c->nr_out; i++) {
		if (skip >= c->iov[i].iov_len) {
			skip -= c->iov[i].iov_len;
			continue;
		}
		net->tx_iov[n++] = (struct iovec){ .iov_base = (u8 *)c->iov[i].iov_base + skip,
						   .iov_len = c->iov[i].iov_len - skip };
		skip = 0;
	}
	return n;
}

/* Sends one chain's frame; false if the backend has no room for it now (POLLOUT will tell). */
static bool net__tx_one(struct virtio_net *net, const struct virtq_chain *c)
{
	unsigned int n = net->backend_gone ? 0 : net__tx_prepare(net, c);
	ssize_t r;

	if (!n)
		return true;
	do {
		r = writev(net->fd, net->tx_iov, (int)n);
	} while (r < 0 && errno == EINTR);
	if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return false;
	/* A tap that is down says EIO: the frame is lost, as on a cable with no one at the end. */
	if (r < 0)
		pr_debug("virtio-net: %s: frame not sent: %s", net->ifname, strerror(errno));
	return true;
}

/*
 * Sends the frames the guest has queued, WORKER_BATCH at most (the worker comes back for more);
 * true if the backend is full and holds one back.
 */
static bool net__tx(struct virtio_net *net)
{
	struct virtq *vq = &net->vqs[NET_TXQ];
	bool blocked = false;

	pthread_mutex_lock(&vq->lock);
	for (unsigned int n = 0;; n++) {
		if (n == WORKER_BATCH) {
			worker__kick(&net->worker, NET_KICK_TX);
			break;
		}
		if (!net->tx_held && virtq__pop(vq, &net->tx_chain) <= 0)
			break;
		net->tx_held = !net__tx_one(net, &net->tx_chain);
		if (net->tx_held) {
			blocked = true;
			break;
		}
		virtq__push(vq, net->tx_chain.head, 0);
	}
	virtq__signal(vq);
	pthread_mutex_unlock(&vq->lock);
	return blocked;
}

/* --- receive --- */

static void net__rx_forget(struct virtio_net *net)
{
	net->rx_len = net->rx_done = 0;
	net->rx_nr = 0;
}

/* Checks what the backend gave; false if it is no frame for the guest. */
static bool net__rx_valid(struct virtio_net *net, size_t len)
{
	const struct virtio_net_hdr_v1 *hdr = (const void *)net->rx_buf;

	if (len < NET_HDR_LEN + ETH_HLEN) {
		pr_debug("virtio-net: %s: %zu-byte frame from the backend: dropped", net->ifname, len);
		return false;
	}
	if (len > NET_HDR_LEN + NET_FRAME_MAX) {
		pr_warn_once(&net->warned[WARN_RX_BIG], "virtio-net: %s: frame of more than %u bytes "
			     "from the backend: dropped", net->ifname, NET_FRAME_MAX);
		return false;
	}
	/* The tap has no offloads (TUNSETOFFLOAD 0), so this is not from a tap set up by us. */
	if (hdr->gso_type != VIRTIO_NET_HDR_GSO_NONE) {
		pr_warn_once(&net->warned[WARN_RX_OFFLOAD], "virtio-net: %s: segmentation offload "
			     "frame from the backend (gso_type 0x%x): dropped", net->ifname,
			     hdr->gso_type);
		return false;
	}
	return true;
}

/* Reads the next frame into rx_buf; false if there is none (or no backend any more). */
static bool net__rx_read(struct virtio_net *net)
{
	while (!net->backend_gone) {
		ssize_t r = read(net->fd, net->rx_buf, sizeof(net->rx_buf));

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return false;
		if (r <= 0) {
			net__backend_gone(net, r ? strerror(errno) : "end of file");
			return false;
		}
		if (net__rx_valid(net, (size_t)r)) {
			net->rx_len = (size_t)r;
			return true;
		}
	}
	return false;
}

/*
 * Hands the complete frame over: its header (flags cleared: no checksum offload was offered, so
 * the frame is checksummed and the guest checks it) goes last into the first buffer, and all its
 * buffers are returned under one used-index update.
 */
static void net__rx_complete(struct virtio_net *net, struct virtq *vq)
{
	struct virtio_net_hdr_v1 hdr = { .num_buffers = htole16((u16)net->rx_nr) };

	virtq_chain__to_guest(&net->rx_first, 0, &hdr, NET_HDR_LEN);
	virtq__push_n(vq, net->rx_used, net->rx_nr);
	virtq__signal(vq);
	net__rx_forget(net);
}

/* Copies the rest of the frame into chain c, the frame's next buffer. */
static void net__rx_fill(struct virtio_net *net, const struct virtq_chain *c)
{
	size_t at = net->rx_nr ? 0 : NET_HDR_LEN;	/* the first buffer's header comes last */
	size_t done = net->rx_nr ? net->rx_done : NET_HDR_LEN;
	size_t n = virtq_chain__to_guest(c, at, net->rx_buf + done, net->rx_len - done);

	net->rx_used[net->rx_nr++] = (struct vring_used_elem){ .id = c->head, .len = (u32)(at + n) };
	net->rx_done = done + n;
}

/*
 * Puts the frame in rx_buf into the guest's buffers, as many as it takes; false if they run out
 * first (the frame waits for more). Without mergeable buffers one must hold it all: a frame that
 * does not fit the next one is dropped, the buffer stays for the next frame.
 */
static bool net__rx_deliver(struct virtio_net *net, struct virtq *vq)
{
	bool mrg = virtio_dev__has_feature(&net->vdev, VIRTIO_NET_F_MRG_RXBUF);

	while (net->rx_done < net->rx_len) {
		struct virtq_chain *c = net->rx_nr ? &net->rx_chain : &net->rx_first;
		int r = mrg ? 1 : virtq__peek(vq, c);

		if (r > 0 && !mrg && c->in_len < net->rx_len) {
			pr_debug("virtio-net: %s: %zu-byte frame does not fit a %zu-byte receive "
				 "buffer: dropped", net->ifname, net->rx_len, c->in_len);
			net__rx_forget(net);
			return true;
		}
		if (r > 0)
			r = virtq__pop(vq, c);
		if (r < 0)
			net__rx_forget(net);	/* the queue is broken: the device needs a reset */
		if (r <= 0)
			return false;
		/* Each buffer must hold a header (spec 5.1.6.3.1), the first one needs it. */
		if (c->in_len < NET_HDR_LEN) {
			net__rx_forget(net);
			virtio_dev__fail(&net->vdev, "receive buffer of %zu bytes, smaller than the "
					 "%zu-byte header", c->in_len, NET_HDR_LEN);
			return false;
		}
		net__rx_fill(net, c);
		if (!mrg)
			break;	/* it fit when we looked: the guest changed it since, its loss */
		/* A frame never has more buffers than the ring, nor than rx_used holds. */
		if (net->rx_done < net->rx_len &&
		    (net->rx_nr >= vq->size || net->rx_nr >= ARRAY_SIZE(net->rx_used))) {
			pr_warn_once(&net->warned[WARN_RX_TRUNCATED], "virtio-net: %s: %zu-byte frame "
				     "does not fit %u receive buffers: truncated", net->ifname,
				     net->rx_len - NET_HDR_LEN, vq->size);
			break;
		}
	}
	net__rx_complete(net, vq);
	return true;
}

/*
 * Moves frames from the backend to the guest, WORKER_BATCH at most (poll says if there are more);
 * false once the guest's buffers run out.
 */
static bool net__rx(struct virtio_net *net)
{
	struct virtq *vq = &net->vqs[NET_RXQ];

	for (unsigned int n = 0; n < WORKER_BATCH; n++) {
		bool have, delivered = false;

		pthread_mutex_lock(&vq->lock);
		have = net->rx_len || net__rx_read(net);
		if (have)
			delivered = net__rx_deliver(net, vq);
		pthread_mutex_unlock(&vq->lock);
		if (!have)
			return true;	/* the backend has no more */
		if (!delivered)
			return false;
	}
	return true;
}

/* --- the worker --- */

/* The backend's events the worker waits for, besides kicks: errors and hangups always. */
static void net__wait_for(struct virtio_net *net)
{
	net->worker.fd = net->backend_gone ? -1 : net->fd;
	net->worker.events = (short)((net->rx_on ? POLLIN : 0) | (net->tx_blocked ? POLLOUT : 0));
}

/* What the driver asked for and what the backend has room or frames for; then what to wait for. */
static void net__run(struct worker *w, unsigned int kicks, short ev)
{
	struct virtio_net *net = container_of(w, struct virtio_net, worker);

	if (ev & (POLLERR | POLLHUP | POLLNVAL))
		net__backend_gone(net, "the backend hung up");
	if ((kicks & NET_KICK_TX) || (ev & POLLOUT) || net->backend_gone)
		net->tx_blocked = net__tx(net);
	if (kicks & NET_KICK_RX)
		net->rx_on = true;
	if (net->rx_on && ((kicks & NET_KICK_RX) || (ev & POLLIN)))
		net->rx_on = net__rx(net);
	net__wait_for(net);
}

/* --- device ops --- */

/* On a vCPU thread: only wakes the worker. */
static void net__notify(struct virtio_dev *vdev, struct virtq *vq)
{
	worker__kick(&to_net(vdev)->worker, vq->index == NET_RXQ ? NET_KICK_RX : NET_KICK_TX);
}

static void net__config_read(struct virtio_dev *vdev, u32 offset, u8 *data, unsigned int len)
{
	struct virtio_net *net = to_net(vdev);
	u8 cfg[NET_CONFIG_SIZE];

	memcpy(cfg, net->mac, ETH_ALEN);
	cfg[ETH_ALEN] = VIRTIO_NET_S_LINK_UP;	/* little-endian u16 */
	cfg[ETH_ALEN + 1] = 0;
	memcpy(data, cfg + offset, len);
}

/*
 * The worker goes, and with it what it was doing with the old rings; a new one waits for kicks.
 * The frames it held go when the core stops the queues (net__queue_stop).
 */
static void net__reset(struct virtio_dev *vdev)
{
	struct virtio_net *net = to_net(vdev);

	worker__stop(&net->worker);
	net->rx_on = net->tx_blocked = false;
	net__wait_for(net);
	worker__start(&net->worker);
}

/*
 * The queue's chains are the driver's again: a frame half delivered into receive buffers is
 * dropped (the ring that comes next may be smaller than the buffers it took), and a frame held
 * for the backend is not sent, its head not pushed into a ring that never had it.
 */
static void net__queue_stop(struct virtio_dev *vdev, struct virtq *vq)
{
	struct virtio_net *net = to_net(vdev);

	if (vq->index == NET_RXQ)
		net__rx_forget(net);
	else
		net->tx_held = false;
}

static const struct virtio_dev_ops net_ops = {
	.name = "virtio-net",
	.device_id = VIRTIO_ID_NET,
	.features = (1ULL << VIRTIO_NET_F_MAC) | (1ULL << VIRTIO_NET_F_STATUS) |
		    (1ULL << VIRTIO_NET_F_MRG_RXBUF),
	.config_size = NET_CONFIG_SIZE,
	.config_read = net__config_read,
	.notify = net__notify,
	.reset = net__reset,
	.queue_stop = net__queue_stop,
};

/* --- devices --- */

/* After worker__init. */
static void net__free(struct virtio_net *net)
{
	worker__destroy(&net->worker);
	close(net->fd);
	if (net->be)
		net->be->close(net->be);
	virtio_dev__destroy(&net->vdev);
	free(net);
}

/* Adds a device on fd, which it owns from here on, as it owns be (NULL: nothing more). */
static int net__add(struct kvm *kvm, const struct net_spec *spec, int fd, const char *name,
		    struct net_backend *be)
{
	struct virtio_net *net = calloc(1, sizeof(*net));
	char tname[32];	/* the thread's name: worker__init keeps 15 characters */
	int err;

	if (!net || fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0) {
		err = net ? -errno : -ENOMEM;
		pr_err("virtio-net: %s: %s", name, strerror(-err));
		free(net);
		close(fd);
		if (be)
			be->close(be);
		return err;
	}
	virtio_dev__init(&net->vdev, kvm, &net_ops, net->vqs, NET_NR_QUEUES);
	memcpy(net->mac, spec->guest_mac, ETH_ALEN);
	snprintf(net->ifname, sizeof(net->ifname), "%s", name);
	net->fd = fd;
	net->be = be;
	snprintf(tname, sizeof(tname), "lkvm-%s", name);
	err = worker__init(&net->worker, tname, net__run);
	if (err) {
		close(fd);
		if (be)
			be->close(be);
		virtio_dev__destroy(&net->vdev);
		free(net);
		return err;
	}
	net__wait_for(net);
	err = worker__start(&net->worker);
	if (!err)
		err = virtio__attach(kvm, &net->vdev);
	if (err)
		net__free(net);
	return err;
}

int virtio_net__add(struct kvm *kvm, const struct net_spec *spec, int fd, const char *name)
{
	return net__add(kvm, spec, fd, name, NULL);
}

/* Opens spec's backend and adds its device, the index-th; logs where it is. */
static int net__add_spec(struct kvm *kvm, const struct net_spec *spec, unsigned int index)
{
	struct net_backend *be = NULL;
	char name[IFNAMSIZ], where[64];
	const u8 *m = spec->guest_mac;
	int fd, err;

	if (spec->mode == NET_TAP) {
		fd = net_tap__open(spec, name);
		snprintf(where, sizeof(where), "tap device %s", name);
	} else {
		fd = net_user__open(spec, &be);
		snprintf(name, sizeof(name), "user");
		snprintf(where, sizeof(where), "the user network, guest %u.%u.%u.%u, host %u.%u.%u.%u",
			 spec->guest_ip >> 24, (spec->guest_ip >> 16) & 0xff,
			 (spec->guest_ip >> 8) & 0xff, spec->guest_ip & 0xff, spec->host_ip >> 24,
			 (spec->host_ip >> 16) & 0xff, (spec->host_ip >> 8) & 0xff,
			 spec->host_ip & 0xff);
	}
	if (fd < 0)
		return fd;
	err = net__add(kvm, spec, fd, name, be);
	if (err)
		return err;
	pr_info("virtio-net: eth%u is on %s, guest MAC %02x:%02x:%02x:%02x:%02x:%02x", index, where,
		m[0], m[1], m[2], m[3], m[4], m[5]);
	return 0;
}

int virtio_net__init(struct kvm *kvm)
{
	for (unsigned int i = 0; i < kvm->cfg->nr_nets; i++) {
		int err = kvm->cfg->nets[i].mode == NET_NONE ? 0 :
			  net__add_spec(kvm, &kvm->cfg->nets[i], i);

		if (err) {
			virtio_net__exit(kvm);	/* the devices before this one */
			return err;
		}
	}
	return 0;
}

void virtio_net__exit(struct kvm *kvm)
{
	struct virtio_dev *vdev;

	while ((vdev = virtio__find(kvm, &net_ops))) {
		worker__stop(&to_net(vdev)->worker);	/* it signals through the transport */
		virtio__detach(vdev);
		net__free(to_net(vdev));
	}
}
virtio_dev_init(virtio_net__init, virtio_net__exit)
