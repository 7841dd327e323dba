/*
 * The thread that serves a virtio device's queues off the vCPUs: one per virtio-blk, -9p, -net
 * and -rng device.
 *
 * A vCPU (or the VM's I/O thread) only kicks it: worker__kick ORs the device's kick bits into one
 * word and writes an eventfd. The worker wakes, takes all the bits at once, so that kicks made
 * while it was busy coalesce into one run, and calls the device's run with them. It also waits on
 * one fd of the device's own (net's tap), for the poll events the device asks for.
 *
 * run does a bounded amount of work, WORKER_BATCH requests, and kicks the worker again for the
 * rest: a stop, or a reset that waits for the worker, never waits behind a guest that keeps its
 * queue full. A device with one plain request queue (blk, 9p, rng) gives only the handling of one
 * request (worker__init_queue); net has a run of its own.
 *
 * Locking: w->lock guards only the worker's busy state. It is innermost: a device reset takes it
 * under dev->lock (worker__wait_idle), the worker on its own, and neither takes another lock while
 * holding it; run is called without it and takes the vq->locks it needs.
 */
#ifndef LKVM_VIRTIO_WORKER_H
#define LKVM_VIRTIO_WORKER_H

#include <pthread.h>

#include "lkvm/util.h"

struct virtq;
struct virtq_chain;

/* Requests, or frames one way, one run serves before it lets a stop in. */
#define WORKER_BATCH	64
/* The kick of a worker__init_queue worker: the queue has requests. */
#define WORKER_KICK	1u

struct worker {
	/*
	 * The device's work, on the worker's thread: kicks are the bits kicked since the last run
	 * (none, if only fd woke it), revents what poll said of fd. Never called with neither.
	 */
	void (*run)(struct worker *w, unsigned int kicks, short revents);
	/*
	 * The device's own fd to wait on (-1, the default: none) and for what. Set while the worker
	 * is stopped; while it runs, only run changes them.
	 */
	int fd;
	short events;

	/* With worker__init_queue: the queue that run serves, where chains go, what handles one. */
	struct virtq *vq;
	struct virtq_chain *chain;
	void (*handle)(struct worker *w, struct virtq_chain *c);

	/* The worker's own. */
	char name[16];			/* the thread's, and for messages */
	int wake_fd;			/* eventfd: kicks has news */
	_Atomic unsigned int kicks;
	pthread_t thread;
	bool started;
	pthread_mutex_t lock;		/* busy, runs */
	pthread_cond_t idle;
	bool busy;			/* in run */
	unsigned long runs;		/* runs that have returned */
};

/* Sets w up, not started: name (at most 15 characters) names its thread. 0 or -errno, logged. */
int worker__init(struct worker *w, const char *name,
		 void (*run)(struct worker *w, unsigned int kicks, short revents));
/*
 * The same for a device with one plain request queue, kicked with WORKER_KICK: each run pops vq's
 * chains into c and hands each to handle, which pushes it. Each is handled under vq->lock, and
 * only it, so that a queue reset waits for the request in hand and no more; the guest is
 * signalled after each.
 */
int worker__init_queue(struct worker *w, const char *name, struct virtq *vq,
		       struct virtq_chain *c, void (*handle)(struct worker *w, struct virtq_chain *c));
/* Stops the worker if it runs and frees what worker__init set up. */
void worker__destroy(struct worker *w);

/* Starts the thread (again, after worker__stop). 0 or -errno, logged. */
int worker__start(struct worker *w);
/*
 * Lets the run in progress return, then ends the thread: kicks not taken yet stay for the next
 * worker__start. A no-op if it is not running.
 */
void worker__stop(struct worker *w);

/* Asks for a run with these bits (any but the top one, which is the worker's). Any thread. */
void worker__kick(struct worker *w, unsigned int kicks);
/*
 * For a device reset: forgets the kicks the worker has not taken yet (they were for the queues
 * being reset) and waits until the run in progress, if any, has returned. A run that starts
 * later was kicked later.
 */
void worker__wait_idle(struct worker *w);

#endif
