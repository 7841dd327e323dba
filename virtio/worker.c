/* A virtio device's worker thread (include/lkvm/virtio-worker.h). */
#include "lkvm/virtio-worker.h"
#include "lkvm/virtio.h"

#include <errno.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define WORKER_STOP	(1u << 31)

int worker__init(struct worker *w, const char *name,
		 void (*run)(struct worker *w, unsigned int kicks, short revents))
{
	*w = (struct worker){ .run = run, .fd = -1 };
	snprintf(w->name, sizeof(w->name), "%s", name);
	w->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (w->wake_fd < 0) {
		int err = -errno;

		pr_err("%s: eventfd: %s", name, strerror(-err));
		return err;
	}
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->idle, NULL);
	return 0;
}

void worker__destroy(struct worker *w)
{
	worker__stop(w);
	pthread_cond_destroy(&w->idle);
	pthread_mutex_destroy(&w->lock);
	close(w->wake_fd);
}

void worker__kick(struct worker *w, unsigned int kicks)
{
	atomic_fetch_or(&w->kicks, kicks);
	eventfd_write(w->wake_fd, 1);
}

/* Takes the kicks and, if there is work, becomes busy in the same step (worker__wait_idle). */
static bool worker__take(struct worker *w, short revents, unsigned int *kicks)
{
	bool busy;

	pthread_mutex_lock(&w->lock);
	*kicks = atomic_exchange(&w->kicks, 0);
	busy = w->busy = !(*kicks & WORKER_STOP) && (*kicks || revents);
	pthread_mutex_unlock(&w->lock);
	return busy;
}

static void worker__run(struct worker *w, unsigned int kicks, short revents)
{
	w->run(w, kicks, revents);
	pthread_mutex_lock(&w->lock);
	w->busy = false;
	w->runs++;
	pthread_cond_broadcast(&w->idle);
	pthread_mutex_unlock(&w->lock);
}

static void *worker__thread(void *arg)
{
	struct worker *w = arg;
	eventfd_t count;

	for (;;) {
		struct pollfd fds[2] = {
			{ .fd = w->wake_fd, .events = POLLIN },
			{ .fd = w->fd, .events = w->events },	/* ignored while fd < 0 */
		};
		unsigned int kicks;

		if (poll(fds, 2, -1) < 0 && errno != EINTR) {
			pr_err("%s: poll: %s", w->name, strerror(errno));
			break;
		}
		eventfd_read(w->wake_fd, &count);
		if (worker__take(w, fds[1].revents, &kicks)) {
			worker__run(w, kicks, fds[1].revents);
		} else if (kicks & WORKER_STOP) {
			atomic_fetch_or(&w->kicks, kicks & ~WORKER_STOP);	/* for the next start */
			break;
		}
	}
	return NULL;
}

int worker__start(struct worker *w)
{
	int err;

	atomic_fetch_and(&w->kicks, ~WORKER_STOP);
	err = pthread_create(&w->thread, NULL, worker__thread, w);
	if (err) {
		pr_err("%s: cannot start its thread: %s", w->name, strerror(err));
		return -err;
	}
	pthread_setname_np(w->thread, w->name);
	w->started = true;
	return 0;
}

void worker__stop(struct worker *w)
{
	if (!w->started)
		return;
	worker__kick(w, WORKER_STOP);
	pthread_join(w->thread, NULL);
	w->started = false;
}

void worker__wait_idle(struct worker *w)
{
	unsigned long runs;

	pthread_mutex_lock(&w->lock);
	atomic_fetch_and(&w->kicks, WORKER_STOP);
	/* The run in progress, not the ones after it: a busy guest cannot keep a reset waiting. */
	runs = w->runs;
	while (w->busy && w->runs == runs)
		pthread_cond_wait(&w->idle, &w->lock);
	pthread_mutex_unlock(&w->lock);
}
