#include "lkvm/term.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define TERM_ESCAPE 0x01	/* Ctrl-A, as in QEMU and kvmtool */

#define TERM_WAKE_SIG	SIGUSR2		/* interrupts the writer's write() at teardown */
#define TERM_HIGH	(TERM_OUT_SIZE - TERM_OUT_SLACK)

static void term__wake_handler(int sig)
{
	(void)sig;
}

/* With out_lock held: has the reader taken nothing for stall_ns while output waits? */
static bool term__stalled(struct term *t)
{
	if (!t->stalled && t->out_len && clock__now_ns() - t->progress_ns >= t->stall_ns)
		t->stalled = true;
	return t->stalled;
}

/* Waits on out_cond (a CLOCK_MONOTONIC one) for at most ms milliseconds. */
static void term__wait(struct term *t, unsigned int ms)
{
	u64 at = clock__now_ns() + (u64)ms * 1000000;
	struct timespec ts = { .tv_sec = (time_t)(at / 1000000000),
			       .tv_nsec = (long)(at % 1000000000) };

	pthread_cond_timedwait(&t->out_cond, &t->out_lock, &ts);
}

/* Writes one piece of the ring outside the lock; returns with the lock held again. */
static void term__write_some(struct term *t)
{
	size_t n = t->out_len < TERM_OUT_SIZE - t->out_head ? t->out_len : TERM_OUT_SIZE - t->out_head;
	struct pollfd pfd = { .fd = t->out_fd, .events = POLLOUT };
	bool was_stalled = t->stalled;
	u64 dropped = t->dropped;
	ssize_t w;
	int err;

	pthread_mutex_unlock(&t->out_lock);
	w = write(t->out_fd, t->out + t->out_head, n);
	err = errno;
	if (w < 0 && err == EAGAIN)	/* a non-blocking stdout we inherited */
		poll(&pfd, 1, 100);
	if (w > 0 && was_stalled)
		pr_warn("console: stdout was not read for a while: %" PRIu64 " bytes of guest "
			"output dropped", dropped - t->dropped_reported);
	pthread_mutex_lock(&t->out_lock);
	if (w > 0) {
		t->out_head = (t->out_head + (size_t)w) % TERM_OUT_SIZE;
		t->out_len -= (size_t)w;
		t->progress_ns = clock__now_ns();
		t->stalled = false;
		if (was_stalled)
			t->dropped_reported = dropped;
		pthread_cond_broadcast(&t->out_cond);
	} else if (w < 0 && err != EINTR && err != EAGAIN) {
		t->gone = true;		/* closed, EPIPE...: the guest goes on, its output is lost */
	}
}

/* Drains the ring to stdout until told to quit (then drains what the reader still takes). */
static void *term__writer(void *arg)
{
	struct term *t = arg;
	sigset_t wake;

	sigemptyset(&wake);
	sigaddset(&wake, TERM_WAKE_SIG);
	pthread_sigmask(SIG_UNBLOCK, &wake, NULL);
	pthread_mutex_lock(&t->out_lock);
	for (;;) {
		while (!t->out_len && !t->quit)
			pthread_cond_wait(&t->out_cond, &t->out_lock);
		if (!t->out_len || t->gone || (t->quit && term__stalled(t)))
			break;
		term__write_some(t);
	}
	t->dropped += t->out_len;
	t->out_len = 0;
	t->writer_done = true;
	pthread_cond_broadcast(&t->out_cond);
	pthread_mutex_unlock(&t->out_lock);
	return NULL;
}

static int term__start_writer(struct term *t)
{
	struct sigaction sa = { .sa_handler = term__wake_handler };	/* no SA_RESTART */
	pthread_condattr_t attr;
	int err;

	t->out = malloc(TERM_OUT_SIZE);
	if (!t->out)
		return -ENOMEM;
	pthread_mutex_init(&t->out_lock, NULL);
	/* term__wait's deadlines are on clock__now_ns()'s clock. */
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&t->out_cond, &attr);
	pthread_condattr_destroy(&attr);
	sigemptyset(&sa.sa_mask);
	if (sigaction(TERM_WAKE_SIG, &sa, NULL))
		return -errno;
	err = pthread_create(&t->writer, NULL, term__writer, t);
	t->writer_started = !err;
	return -err;
}

int term__init(struct term *t, int in_fd, int out_fd, const char *log_path)
{
	struct termios raw;
	int err;

	memset(t, 0, sizeof(*t));
	t->in_fd = in_fd;
	t->out_fd = out_fd;
	t->log_fd = -1;
	t->stall_ns = TERM_STALL_NS;
	if (log_path) {
		t->log_fd = file__create(log_path, 0644, O_APPEND);
		if (t->log_fd < 0) {
			pr_err("--console-log %s: %s", log_path, file__create_strerror(t->log_fd));
			return t->log_fd;
		}
	}
	err = term__start_writer(t);
	if (err) {
		pr_err("console: cannot start its output thread: %s", strerror(-err));
		term__restore(t);
		return err;
	}
	if (!isatty(t->in_fd))
		return 0;
	if (tcgetattr(t->in_fd, &t->saved) < 0) {
		err = -errno;
		pr_err("terminal: cannot read its settings: %s", strerror(-err));
		term__restore(t);
		return err;
	}
	raw = t->saved;
	cfmakeraw(&raw);
	/* Keep output post-processing: the guest's "\n" still needs to reach the screen as is. */
	raw.c_oflag = t->saved.c_oflag;
	if (tcsetattr(t->in_fd, TCSANOW, &raw) < 0) {
		err = -errno;
		pr_err("terminal: cannot switch to raw mode: %s", strerror(-err));
		term__restore(t);
		return err;
	}
	t->raw = true;
	return 0;
}

/* Lets the writer drain what the reader takes; a stalled write is interrupted. */
static void term__stop_writer(struct term *t)
{
	u64 lost;

	pthread_mutex_lock(&t->out_lock);
	t->quit = true;
	pthread_cond_broadcast(&t->out_cond);
	while (!t->writer_done) {
		bool stuck = term__stalled(t) || t->gone;

		pthread_mutex_unlock(&t->out_lock);
		if (stuck)
			pthread_kill(t->writer, TERM_WAKE_SIG);
		pthread_mutex_lock(&t->out_lock);
		if (!t->writer_done)
			term__wait(t, stuck ? 50 : 200);
	}
	lost = t->dropped - t->dropped_reported;
	pthread_mutex_unlock(&t->out_lock);
	pthread_join(t->writer, NULL);
	t->writer_started = false;
	if (lost)
		pr_warn("console: %" PRIu64 " bytes of guest output dropped: stdout %s", lost,
			t->gone ? "failed" : "was not read");
}

void term__restore(struct term *t)
{
	if (t->writer_started)
		term__stop_writer(t);
	if (t->out) {
		pthread_cond_destroy(&t->out_cond);
		pthread_mutex_destroy(&t->out_lock);
		free(t->out);
		t->out = NULL;
	}
	if (t->log_fd >= 0)
		close(t->log_fd);
	t->log_fd = -1;
	if (!t->raw)
		return;
	tcsetattr(t->in_fd, TCSANOW, &t->saved);
	t->raw = false;
}

void term__write(struct term *t, const u8 *buf, size_t len)
{
	size_t n, tail, first;

	/* The log has everything, whatever stdout's reader does. */
	if (t->log_fd >= 0)
		write_all(t->log_fd, buf, len);
	pthread_mutex_lock(&t->out_lock);
	if (t->gone || t->writer_done) {
		t->dropped += len;
		pthread_mutex_unlock(&t->out_lock);
		return;
	}
	if (!t->out_len)
		t->progress_ns = clock__now_ns();	/* a stall counts from here */
	n = len < TERM_OUT_SIZE - t->out_len ? len : TERM_OUT_SIZE - t->out_len;
	tail = (t->out_head + t->out_len) % TERM_OUT_SIZE;
	first = n < TERM_OUT_SIZE - tail ? n : TERM_OUT_SIZE - tail;
	memcpy(t->out + tail, buf, first);
	memcpy(t->out, buf + first, n - first);
	t->out_len += n;
	t->dropped += len - n;
	if (n)
		pthread_cond_broadcast(&t->out_cond);
	pthread_mutex_unlock(&t->out_lock);
}

bool term__busy(struct term *t, unsigned int wait_ms)
{
	bool busy;

	pthread_mutex_lock(&t->out_lock);
	busy = t->out_len > TERM_HIGH && !t->gone && !t->writer_done && !term__stalled(t);
	if (busy && wait_ms) {
		term__wait(t, wait_ms);
		busy = t->out_len > TERM_HIGH && !t->gone && !t->writer_done && !term__stalled(t);
	}
	pthread_mutex_unlock(&t->out_lock);
	return busy;
}

bool term__wants_input(struct term *t)
{
	return !t->in_eof && t->sink && t->sink->room(t->sink) > 0;
}

int term__handle_input(struct term *t)
{
	u8 in[256], out[sizeof(in) + 1];	/* + a Ctrl-A held over from the last read */
	size_t room = t->sink ? t->sink->room(t->sink) : 0, n = 0;
	ssize_t len;

	if (!room)
		return 0;
	len = read(t->in_fd, in, room < sizeof(in) ? room : sizeof(in));
	if (len <= 0) {
		if (len == 0 || (errno != EINTR && errno != EAGAIN))
			t->in_eof = true;
		return 0;
	}
	for (ssize_t i = 0; i < len; i++) {
		u8 c = in[i];

		/* Only a terminal user can type the escape: piped input passes through untouched. */
		if (t->raw && t->escape) {
			t->escape = false;
			if (c == 'x' || c == 'X')
				return 1;
			if (c != TERM_ESCAPE)
				out[n++] = TERM_ESCAPE;
		} else if (t->raw && c == TERM_ESCAPE) {
			t->escape = true;
			continue;
		}
		out[n++] = c;
	}
	t->sink->input(t->sink, out, n);
	return 0;
}
