/* lkvm events --name NAME: the VM's power events, one JSON object per line, as they happen. */
#include "lkvm/builtin.h"
#include "lkvm/control-client.h"
#include "lkvm/exit-codes.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* --wait and --timeout SECONDS. */
struct events_wait {
	bool wait;
	unsigned int timeout_s;	/* 0: none */
};

static int events_opt(void *ctx, int c, const char *arg)
{
	struct events_wait *w = ctx;

	if (c == 'w') {
		w->wait = true;
		return 0;
	}
	if (parse_uint(arg, 1, 86400, &w->timeout_s)) {
		pr_err("--timeout %s: need a number of seconds, 1 to 86400", arg);
		return LKVM_EXIT_USAGE;
	}
	return 0;
}

static const struct option events_opts[] = {
	{ "wait", no_argument, NULL, 'w' },
	{ "timeout", required_argument, NULL, 't' },
	{ NULL, 0, NULL, 0 },
};

static const struct ctl_cmd events_cmd = {
	.name = "events",
	.help = &(const struct help){
		.synopsis = "events --name NAME [--wait [--timeout SECONDS]]",
		.about = "Print the VM's power events, one JSON object per line, until it stops or "
			 "you interrupt (exit 0).",
		.items = (const struct help_item[]){
			CTL_HELP_NAME,
			{ "-w, --wait", "a VM that is not up yet: wait for its socket, then follow "
					"it; events from the moment it is followed (lkvm run "
					"--events-log FILE has every one)" },
			{ "--timeout SECONDS", "with --wait: give up after SECONDS (1-86400), "
					       "exit 1" },
			{ NULL },
		},
	},
	.opts = events_opts,
	.shortopts = "wt:",
	.opt = events_opt,
};

static volatile sig_atomic_t events_stop;

static void events_signal(int sig)
{
	(void)sig;
	events_stop = 1;
}

void cmd_events_help(void)
{
	ctl_cmd__help(&events_cmd);
}

/* Whether the VM's socket takes connections; false while it is not there or not listening yet. */
static bool events_vm_up(const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool up;

	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
	up = fd >= 0 && !connect(fd, (struct sockaddr *)&addr, sizeof(addr));
	if (fd >= 0)
		close(fd);
	return up;
}

/*
 * Waits for NAME's socket to listen: woken by inotify when something appears in the socket
 * directory, and at most every 100 ms (the directory may not exist yet, and the socket is bound
 * a moment before it listens). 0, -ETIMEDOUT, -EINTR, or another error, logged.
 */
static int events_wait_vm(const char *name, unsigned int timeout_s)
{
	char path[108], dir[108];
	u64 deadline = timeout_s ? clock__now_ns() + timeout_s * 1000000000ULL : 0;
	int in = inotify_init1(IN_NONBLOCK | IN_CLOEXEC), dfd, err = 0;
	unsigned int backoff_ms = 2;
	char buf[sizeof(struct inotify_event) + NAME_MAX + 1];
	struct pollfd p = { .fd = in, .events = POLLIN };

	while (!events_stop) {
		if ((err = ctl__socket_path(name, path, sizeof(path), false)) && err != -ENOENT)
			break;
		if (!err && events_vm_up(path))
			break;
		/* Watch the directory once it is there: the wake-up is the socket's creation. */
		dfd = in >= 0 ? ctl__socket_dir(dir, sizeof(dir), false) : -1;
		if (dfd >= 0) {
			inotify_add_watch(in, dir, IN_CREATE | IN_MOVED_TO | IN_ONLYDIR);
			close(dfd);
		}
		if (deadline && clock__now_ns() >= deadline) {
			err = -ETIMEDOUT;
			break;
		}
		backoff_ms = backoff_ms * 2 > 100 ? 100 : backoff_ms * 2;
		if (poll(&p, in >= 0, (int)backoff_ms) > 0) {
			while (read(in, buf, sizeof(buf)) > 0)
				;
			backoff_ms = 2;	/* it may be ours, not listening yet: look again soon */
		}
		err = 0;
	}
	if (in >= 0)
		close(in);
	if (events_stop)
		return -EINTR;
	if (err == -ETIMEDOUT)
		pr_err("%s: no such VM after %u s of --wait", name, timeout_s);
	return err;
}

int cmd_events(int argc, char **argv)
{
	static struct ctl_msg m;
	struct sigaction sa = { .sa_handler = events_signal };
	struct timeval none = { 0 };
	struct events_wait w = { 0 };
	struct ctl_args a;
	int fd, err, code;

	if (!ctl_args__parse(argc, argv, &events_cmd, &w, &a, &code))
		return code;
	if (w.timeout_s && !w.wait) {
		pr_err("--timeout: only with --wait (see 'lkvm events --help')");
		return LKVM_EXIT_USAGE;
	}
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (w.wait && (err = events_wait_vm(a.name, w.timeout_s)))
		return err == -EINTR ? 0 : LKVM_EXIT_ERROR;
	fd = ctl__connect(a.name);
	if (fd < 0)
		return LKVM_EXIT_ERROR;
	err = ctl__send(fd, CTL_EVENTS, "");
	if (!err)
		err = ctl__recv(fd, &m);
	if (err || m.type != CTL_OK) {
		pr_err("%s: %s", a.name, err ? strerror(-err) : ctl_client__show(m.payload, false));
		close(fd);
		return LKVM_EXIT_ERROR;
	}
	/* Events come when they happen: wait for them without a timeout, until interrupted. */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &none, sizeof(none));
	while (!events_stop && !ctl__recv(fd, &m)) {
		if (m.type == CTL_EVENT) {
			printf("%s\n", ctl_client__show(m.payload, false));
			fflush(stdout);
		}
	}
	close(fd);
	return 0;
}
