/*
 * virtio-console (device id 3) with a single port, hvc0 in a Linux guest: the transmit queue goes
 * to the host terminal, the host terminal's input fills the receive queue. Present only with
 * --console virtio; the UART stays as ttyS0 either way.
 */
#include "lkvm/init.h"
#include "lkvm/kvm.h"
#include "lkvm/term.h"
#include "lkvm/virtio-console.h"
#include "lkvm/virtio.h"

#include <errno.h>
#include <linux/virtio_console.h>
#include <linux/virtio_ids.h>
#include <stdlib.h>
#include <string.h>

enum { CONSOLE_RXQ, CONSOLE_TXQ, CONSOLE_NR_QUEUES };

struct virtio_console {
	struct virtio_dev vdev;
	struct virtq vqs[CONSOLE_NR_QUEUES];
	struct console_sink sink;
	/* 4K each, so not on a thread's stack; each under its queue's lock. */
	struct virtq_chain rx_chain, tx_chain;
};

static struct virtio_console *to_console(struct virtio_dev *vdev)
{
	return container_of(vdev, struct virtio_console, vdev);
}

/* No feature is offered, so no config field is valid: they read as zero. */
static void console__config_read(struct virtio_dev *vdev, u32 offset, u8 *data,
				 unsigned int len)
{
	(void)vdev;
	(void)offset;
	memset(data, 0, len);
}

/* Writes a buffer in pieces the terminal has room for, while its reader keeps up. */
static void console__write(struct kvm *kvm, const u8 *buf, size_t len)
{
	while (len) {
		size_t n = len < TERM_OUT_SLACK ? len : TERM_OUT_SLACK;

		while (term__busy(kvm->term, 100) && !kvm__stopping(kvm))
			;
		term__write(kvm->term, buf, n);
		buf += n;
		len -= n;
	}
}

/*
 * The guest's output: every device-readable buffer, in order, to the terminal. The queue's lock
 * may be held while the terminal's reader is slow: no lock the main loop takes.
 */
static void console__transmit(struct virtio_dev *vdev, struct virtq *vq)
{
	struct virtq_chain *c = &to_console(vdev)->tx_chain;

	pthread_mutex_lock(&vq->lock);
	while (virtq__pop(vq, c) > 0) {
		for (unsigned int i = 0; i < c->nr_out; i++)
			console__write(vdev->kvm, c->iov[i].iov_base, c->iov[i].iov_len);
		virtq__push(vq, c->head, 0);
	}
	virtq__signal(vq);
	pthread_mutex_unlock(&vq->lock);
}

/* Receive buffers need no notification: the terminal asks room() when it has input. */
static void console__notify(struct virtio_dev *vdev, struct virtq *vq)
{
	if (vq->index == CONSOLE_TXQ)
		console__transmit(vdev, vq);
}

static const struct virtio_dev_ops console_ops = {
	.name = "virtio-console",
	.device_id = VIRTIO_ID_CONSOLE,
	.features = 0,			/* one port, no size, no emergency write */
	.config_size = sizeof(struct virtio_console_config),
	.config_read = console__config_read,
	.notify = console__notify,
};

/*
 * What the next receive buffer holds: honest, since input() fills at least that much. A buffer
 * with no room at all would stall the input for good: it goes back to the guest empty.
 */
static size_t console__room(struct console_sink *sink)
{
	struct virtio_console *con = container_of(sink, struct virtio_console, sink);
	struct virtq *vq = &con->vqs[CONSOLE_RXQ];
	struct virtq_chain *c = &con->rx_chain;
	size_t room = 0;

	pthread_mutex_lock(&vq->lock);
	while (virtq__peek(vq, c) > 0) {
		room = c->in_len;
		if (room || virtq__pop(vq, c) <= 0)
			break;
		virtq__push(vq, c->head, 0);
	}
	virtq__signal(vq);
	pthread_mutex_unlock(&vq->lock);
	return room;
}

static void console__input(struct console_sink *sink, const u8 *buf, size_t len)
{
	struct virtio_console *con = container_of(sink, struct virtio_console, sink);
	struct virtq *vq = &con->vqs[CONSOLE_RXQ];
	struct virtq_chain *c = &con->rx_chain;

	pthread_mutex_lock(&vq->lock);
	/* Each pop takes a chain off the ring, so this ends even on zero-length buffers. */
	while (len && virtq__pop(vq, c) > 0) {
		size_t n = virtq_chain__to_guest(c, 0, buf, len);

		virtq__push(vq, c->head, (u32)n);
		buf += n;
		len -= n;
	}
	virtq__signal(vq);
	pthread_mutex_unlock(&vq->lock);
	if (len)
		pr_debug("virtio-console: guest has no receive buffer: %zu bytes dropped", len);
}

int virtio_console__init(struct kvm *kvm)
{
	struct virtio_console *con;
	int err;

	if (kvm->cfg->console != CONSOLE_VIRTIO)
		return 0;
	con = calloc(1, sizeof(*con));
	if (!con) {
		pr_err("virtio-console: out of memory");
		return -ENOMEM;
	}
	virtio_dev__init(&con->vdev, kvm, &console_ops, con->vqs, CONSOLE_NR_QUEUES);
	con->sink = (struct console_sink){ .room = console__room, .input = console__input };
	err = virtio__attach(kvm, &con->vdev);
	if (err) {
		virtio_dev__destroy(&con->vdev);
		free(con);
		return err;
	}
	kvm->term->sink = &con->sink;
	return 0;
}

void virtio_console__exit(struct kvm *kvm)
{
	struct virtio_dev *vdev = virtio__find(kvm, &console_ops);
	struct virtio_console *con;

	if (!vdev)
		return;
	con = to_console(vdev);
	if (kvm->term->sink == &con->sink)
		kvm->term->sink = NULL;
	virtio__detach(vdev);
	virtio_dev__destroy(vdev);
	free(con);
}
virtio_dev_init(virtio_console__init, virtio_console__exit)
