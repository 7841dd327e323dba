/*
 * The virtio workers (virtio-worker.h) without threads, for the fuzz targets: a kick is only
 * recorded, and fake_worker__run_all() does, on the fuzzer's thread, what each worker thread
 * would do meanwhile. The guest's and the workers' steps then interleave where the input says,
 * and a run that never ends is a finding instead of a hang.
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake-worker.h"
#include "lkvm/virtio-worker.h"
#include "lkvm/virtio.h"

#define MAX_WORKERS	8
#define MAX_RUNS	10000	/* a device that keeps kicking itself more is stuck */

static struct worker *workers[MAX_WORKERS];

int worker__init(struct worker *w, const char *name,
		 void (*run)(struct worker *w, unsigned int kicks, short revents))
{
	unsigned int i = 0;

	*w = (struct worker){ .run = run, .fd = -1 };
	snprintf(w->name, sizeof(w->name), "%s", name);
	while (i < MAX_WORKERS && workers[i])
		i++;
	if (i == MAX_WORKERS)
		abort();
	workers[i] = w;
	return 0;
}

void worker__destroy(struct worker *w)
{
	for (unsigned int i = 0; i < MAX_WORKERS; i++) {
		if (workers[i] == w)
			workers[i] = NULL;
	}
}

void worker__kick(struct worker *w, unsigned int kicks)
{
	atomic_fetch_or(&w->kicks, kicks);
}

int worker__start(struct worker *w)
{
	w->started = true;
	return 0;
}

void worker__stop(struct worker *w)
{
	w->started = false;
}

/* No run is ever in progress while another thread looks: only the kicks are forgotten. */
void worker__wait_idle(struct worker *w)
{
	atomic_store(&w->kicks, 0);
}

/* One run of w if it has kicks or its fd has what it waits for; false if it had nothing. */
static bool fake_worker__run(struct worker *w)
{
	struct pollfd p = { .fd = w->fd, .events = w->events };
	unsigned int kicks;

	if (!w->started || (poll(&p, 1, 0) <= 0 && !atomic_load(&w->kicks)))
		return false;
	kicks = atomic_exchange(&w->kicks, 0);
	if (!kicks && !p.revents)
		return false;
	w->run(w, kicks, p.revents);
	return true;
}

void fake_worker__run_all(void)
{
	for (unsigned int runs = 0;; runs++) {
		bool busy = false;

		if (runs == MAX_RUNS)
			abort();
		for (unsigned int i = 0; i < MAX_WORKERS; i++)
			busy |= workers[i] && fake_worker__run(workers[i]);
		if (!busy)
			return;
	}
}
