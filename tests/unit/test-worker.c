/*
 * The device worker thread (virtio/worker.c) on its own, with a run of the test's: kicks that
 * coalesce, a stop or a reset while a long request runs, a run that never runs out of work, and
 * the device's own fd. The devices' tests cover it serving real queues.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "lkvm/virtio-worker.h"
#include "suites.h"

#define MAX_RUNS 64

static struct probe {
	struct worker w;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool hold;			/* run waits until this is false */
	bool in_run, self_kick;
	unsigned int runs;		/* runs that started */
	unsigned int kicks[MAX_RUNS];
	short revents[MAX_RUNS];
} p;

static void probe__run(struct worker *w, unsigned int kicks, short revents)
{
	char c;

	pthread_mutex_lock(&p.lock);
	if (p.runs < MAX_RUNS) {
		p.kicks[p.runs] = kicks;
		p.revents[p.runs] = revents;
	}
	p.runs++;
	p.in_run = true;
	pthread_cond_broadcast(&p.cond);
	while (p.hold)
		pthread_cond_wait(&p.cond, &p.lock);
	p.in_run = false;
	pthread_mutex_unlock(&p.lock);
	if (revents & POLLIN)
		ck_assert_int_eq(read(w->fd, &c, 1), 1);
	if (p.self_kick)
		worker__kick(w, 1);	/* as a guest that keeps its queue full makes a device do */
}

static void setup(void)
{
	memset(&p, 0, sizeof(p));
	pthread_mutex_init(&p.lock, NULL);
	pthread_cond_init(&p.cond, NULL);
	ck_assert_int_eq(worker__init(&p.w, "lkvm-test", probe__run), 0);
	ck_assert_int_eq(worker__start(&p.w), 0);
}

static void teardown(void)
{
	worker__destroy(&p.w);
	pthread_cond_destroy(&p.cond);
	pthread_mutex_destroy(&p.lock);
}

static void hold(bool on)
{
	pthread_mutex_lock(&p.lock);
	p.hold = on;
	pthread_cond_broadcast(&p.cond);
	pthread_mutex_unlock(&p.lock);
}

/* Waits (5 s at most) until n runs have started. */
static void wait_runs(unsigned int n)
{
	for (int i = 0; i < 5000; i++) {
		pthread_mutex_lock(&p.lock);
		if (p.runs >= n) {
			pthread_mutex_unlock(&p.lock);
			return;
		}
		pthread_mutex_unlock(&p.lock);
		usleep(1000);
	}
	ck_abort_msg("run %u did not start", n);
}

static unsigned int runs(void)
{
	unsigned int n;

	pthread_mutex_lock(&p.lock);
	n = p.runs;
	pthread_mutex_unlock(&p.lock);
	return n;
}

/* Kicks made while the worker is busy come in one run, with all their bits. */
START_TEST(kicks_coalesce)
{
	hold(true);
	worker__kick(&p.w, 1);
	wait_runs(1);
	for (int i = 0; i < 10; i++)
		worker__kick(&p.w, 1);
	worker__kick(&p.w, 2);
	worker__kick(&p.w, 4);
	hold(false);
	wait_runs(2);
	usleep(100000);
	ck_assert_uint_eq(runs(), 2);
	ck_assert_uint_eq(p.kicks[0], 1);
	ck_assert_uint_eq(p.kicks[1], 7);
}
END_TEST

/*
 * Calls fn on a thread of its own while a long run (kicked with 1) is in progress and another
 * kick (2) waits: fn does not return before the run has.
 */
static void call_during_a_long_run(void *(*fn)(void *))
{
	pthread_t th;
	bool in_run;

	hold(true);
	worker__kick(&p.w, 1);
	wait_runs(1);
	worker__kick(&p.w, 2);
	pthread_create(&th, NULL, fn, NULL);
	usleep(100000);
	ck_assert(pthread_tryjoin_np(th, NULL) == EBUSY);	/* still waiting for the run */
	hold(false);
	pthread_join(th, NULL);
	pthread_mutex_lock(&p.lock);
	in_run = p.in_run;
	pthread_mutex_unlock(&p.lock);
	ck_assert(!in_run);
}

static void *stopper(void *arg)
{
	(void)arg;
	worker__stop(&p.w);
	return NULL;
}

/*
 * A stop while a long request is served waits for it, and no run starts after it; a kick made
 * while the worker is stopped is served once it starts again, with the one that was waiting.
 */
START_TEST(stop_waits_for_a_long_request)
{
	call_during_a_long_run(stopper);
	worker__kick(&p.w, 4);
	usleep(100000);
	ck_assert_uint_eq(runs(), 1);
	ck_assert_int_eq(worker__start(&p.w), 0);
	wait_runs(2);
	ck_assert_uint_eq(p.kicks[1], 2 | 4);
}
END_TEST

/* A run that always finds more work (and kicks itself for it) does not keep a stop waiting. */
START_TEST(stop_with_endless_work)
{
	p.self_kick = true;
	worker__kick(&p.w, 1);
	wait_runs(10);
	worker__stop(&p.w);
	ck_assert(!p.w.started);
}
END_TEST

static void *idler(void *arg)
{
	(void)arg;
	worker__wait_idle(&p.w);
	return NULL;
}

/*
 * For a device reset: worker__wait_idle returns once the run in progress has, and the kick that
 * was waiting for the next run is forgotten.
 */
START_TEST(wait_idle_waits_for_the_run_in_progress)
{
	call_during_a_long_run(idler);
	usleep(100000);
	ck_assert_uint_eq(runs(), 1);
	/* Idle returns at once, and kicks after it are served. */
	worker__wait_idle(&p.w);
	worker__kick(&p.w, 8);
	wait_runs(2);
	ck_assert_uint_eq(p.kicks[1], 8);
}
END_TEST

/* Nor does endless work keep a reset waiting: it waits for one run, not for the queue to empty. */
START_TEST(wait_idle_with_endless_work)
{
	p.self_kick = true;
	worker__kick(&p.w, 1);
	wait_runs(10);
	worker__wait_idle(&p.w);
	worker__wait_idle(&p.w);
}
END_TEST

/* The device's own fd wakes the worker too, with what poll said of it and no kick. */
START_TEST(device_fd_wakes_the_worker)
{
	int fds[2];

	ck_assert_int_eq(pipe2(fds, O_CLOEXEC), 0);
	worker__stop(&p.w);
	p.w.fd = fds[0];
	p.w.events = POLLIN;
	ck_assert_int_eq(worker__start(&p.w), 0);
	ck_assert_int_eq(write(fds[1], "x", 1), 1);
	wait_runs(1);
	ck_assert_uint_eq(p.kicks[0], 0);
	ck_assert(p.revents[0] & POLLIN);
	worker__kick(&p.w, 1);
	wait_runs(2);
	ck_assert_uint_eq(p.kicks[1], 1);
	ck_assert(!(p.revents[1] & POLLIN));
	worker__stop(&p.w);
	close(fds[0]);
	close(fds[1]);
}
END_TEST

Suite *worker_suite(void)
{
	Suite *s = suite_create("worker");
	TCase *tc = tcase_create("worker");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, kicks_coalesce);
	tcase_add_test(tc, stop_waits_for_a_long_request);
	tcase_add_test(tc, stop_with_endless_work);
	tcase_add_test(tc, wait_idle_waits_for_the_run_in_progress);
	tcase_add_test(tc, wait_idle_with_endless_work);
	tcase_add_test(tc, device_fd_wakes_the_worker);
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);
	return s;
}
