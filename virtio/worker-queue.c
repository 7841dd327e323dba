/*
 * The queue worker of include/lkvm/virtio-worker.h: one virtqueue's chains, each handled under
 * the queue's lock. Apart from worker.c's thread, so that the fuzz targets run this very loop on
 * their threadless workers (fuzz/fake-worker.c).
 */
#include "lkvm/virtio-worker.h"
#include "lkvm/virtio.h"

#include <pthread.h>

/* The run of a worker__init_queue worker. */
static void worker__serve(struct worker *w, unsigned int kicks, short revents)
{
	struct virtq *vq = w->vq;

	(void)kicks;	/* WORKER_KICK */
	(void)revents;	/* no fd */
	for (unsigned int n = 0; n < WORKER_BATCH; n++) {
		bool got;

		pthread_mutex_lock(&vq->lock);
		got = virtq__pop(vq, w->chain) > 0;
		if (got) {
			w->handle(w, w->chain);
			virtq__signal(vq);	/* each one when it is done: the driver may wait */
		}
		pthread_mutex_unlock(&vq->lock);
		if (!got)
			return;
	}
	worker__kick(w, WORKER_KICK);
}

int worker__init_queue(struct worker *w, const char *name, struct virtq *vq,
		       struct virtq_chain *c, void (*handle)(struct worker *w, struct virtq_chain *c))
{
	int err = worker__init(w, name, worker__serve);

	w->vq = vq;
	w->chain = c;
	w->handle = handle;
	return err;
}
