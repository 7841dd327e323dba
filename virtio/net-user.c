/*
 * virtio-net's user-mode backend, -n mode=user: a NAT'ed network with DHCP and DNS, as kvmtool's
 * user network, that needs no tap and no privilege. The TCP/IP stack is libslirp's (QEMU's): it
 * answers ARP, DHCP and ICMP echo for its addresses and carries the guest's TCP and UDP over
 * ordinary sockets of lkvm, so the guest reaches what lkvm can reach, and host_ip is the host
 * itself (its loopback).
 *
 * The device and libslirp meet at a SOCK_SEQPACKET socket pair, one frame a message after the
 * 12-byte virtio_net_hdr_v1, as on a tap: the device's worker has one end and knows no more of
 * this backend. The other end is this backend's thread, which alone calls libslirp: it polls
 * libslirp's sockets, the pair and a stop eventfd, and runs libslirp's timers. Nothing is shared
 * with the device but the socket pair, so there is no lock and no lock order here; the thread is
 * stopped and joined before libslirp is cleaned up and the pair closed (net_user__close, after
 * the device let go of its end). A guest reboot builds a new VM, with a new network.
 *
 * Frames from the guest are the guest's to choose: each one's length is checked before libslirp
 * sees it. Frames from libslirp that the device's end has no room for are dropped, as on a busy
 * wire: TCP sends them again.
 */
#include "lkvm/util.h"
#include "lkvm/virtio-net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <glib.h>
#include <libslirp.h>
#include <linux/if_ether.h>
#include <linux/virtio_net.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define USER_HDR_LEN	sizeof(struct virtio_net_hdr_v1)
/* The device's largest frame after the header (virtio/net.c's NET_FRAME_MAX). */
#define USER_FRAME_MAX	65550
/* Frames from the guest the thread hands libslirp before it looks at libslirp's sockets again. */
#define USER_RX_BATCH	64
/* Room in each direction of the pair: a burst of full-size TCP segments. */
#define USER_SOCKBUF	(1 << 20)

enum { WARN_GUEST, WARN_FRAME, WARN_DROP, NR_USER_WARNINGS };

/* One of libslirp's timers: it fires at expire (ms on CLOCK_MONOTONIC), or never if armed is 0. */
struct user_timer {
	struct user_timer *next;
	SlirpTimerId id;
	void *cb_opaque;
	bool armed;
	int64_t expire;
};

struct net_user {
	struct net_backend be;
	Slirp *slirp;
	int fd;				/* libslirp's end of the pair */
	int stop_fd;			/* eventfd: the thread returns */
	pthread_t thread;
	bool started;
	struct user_timer *timers;
	struct pollfd *pfds;		/* this round's: stop_fd, fd, then libslirp's */
	unsigned int nr_pfds, max_pfds;
	bool fd_gone;			/* the device closed its end */
	_Atomic unsigned int warned[NR_USER_WARNINGS];
	u8 buf[USER_HDR_LEN + USER_FRAME_MAX + 1];	/* one more: a longer frame is noticed */
};

static int64_t user__now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* --- libslirp's callbacks, on the thread (or in slirp_new/slirp_cleanup, before and after it) --- */

/* A frame for the guest: after a zeroed header (no offload) into the pair, or dropped. */
static ssize_t user__send_packet(const void *buf, size_t len, void *opaque)
{
	struct net_user *u = opaque;
	struct virtio_net_hdr_v1 hdr = { 0 };
	struct iovec iov[2] = { { &hdr, USER_HDR_LEN }, { (void *)buf, len } };
	struct msghdr msg = { .msg_iov = iov, .msg_iovlen = 2 };

	if (len < ETH_HLEN || len > USER_FRAME_MAX) {
		pr_warn_once(&u->warned[WARN_FRAME], "virtio-net: user: libslirp sent a %zu-byte "
			     "frame: dropped", len);
		return (ssize_t)len;
	}
	if (u->fd_gone)
		return (ssize_t)len;
	if (sendmsg(u->fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL) < 0 && errno != EINTR) {
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			u->fd_gone = true;	/* EPIPE: the device is going */
		else
			pr_warn_once(&u->warned[WARN_DROP], "virtio-net: user: the guest takes "
				     "frames slower than they come: dropping some");
	}
	/* Dropped or not, it is sent: libslirp logs a shorter count as an error. */
	return (ssize_t)len;
}

static void user__guest_error(const char *msg, void *opaque)
{
	struct net_user *u = opaque;

	pr_warn_once(&u->warned[WARN_GUEST], "virtio-net: user: the guest's frames: %s", msg);
}

static int64_t user__clock_get_ns(void *opaque)
{
	(void)opaque;
	return user__now_ns();
}

static void *user__timer_new_opaque(SlirpTimerId id, void *cb_opaque, void *opaque)
{
	struct net_user *u = opaque;
	struct user_timer *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;	/* libslirp's RA timer, IPv6 only, which is off */
	t->id = id;
	t->cb_opaque = cb_opaque;
	t->next = u->timers;
	u->timers = t;
	return t;
}

static void user__timer_free(void *timer, void *opaque)
{
	struct net_user *u = opaque;

	for (struct user_timer **p = &u->timers; *p; p = &(*p)->next) {
		if (*p == timer) {
			*p = ((struct user_timer *)timer)->next;
			free(timer);
			return;
		}
	}
}

static void user__timer_mod(void *timer, int64_t expire_ms, void *opaque)
{
	struct user_timer *t = timer;

	(void)opaque;
	t->armed = true;
	t->expire = expire_ms;
}

/* libslirp's sockets are polled every round anyway: nothing to keep. */
static void user__register_poll_fd(int fd, void *opaque)
{
	(void)fd;
	(void)opaque;
}

/* Called on the thread itself, which polls libslirp's sockets again right after. */
static void user__notify(void *opaque)
{
	(void)opaque;
}

static const SlirpCb user_callbacks = {
	.send_packet = user__send_packet,
	.guest_error = user__guest_error,
	.clock_get_ns = user__clock_get_ns,
	.timer_free = user__timer_free,
	.timer_mod = user__timer_mod,
	.register_poll_fd = user__register_poll_fd,
	.unregister_poll_fd = user__register_poll_fd,
	.notify = user__notify,
	.timer_new_opaque = user__timer_new_opaque,
};

/* --- polling --- */

static int user__add_pfd(struct net_user *u, int fd, short events)
{
	if (u->nr_pfds == u->max_pfds) {
		unsigned int max = u->max_pfds ? u->max_pfds * 2 : 32;
		struct pollfd *p = realloc(u->pfds, max * sizeof(*p));

		if (!p)
			return -1;	/* this socket waits for the next round */
		u->pfds = p;
		u->max_pfds = max;
	}
	u->pfds[u->nr_pfds] = (struct pollfd){ .fd = fd, .events = events };
	return (int)u->nr_pfds++;
}

static int user__add_poll(int fd, int events, void *opaque)
{
	short ev = (short)(((events & SLIRP_POLL_IN) ? POLLIN : 0) |
			   ((events & SLIRP_POLL_OUT) ? POLLOUT : 0) |
			   ((events & SLIRP_POLL_PRI) ? POLLPRI : 0));

	return user__add_pfd(opaque, fd, ev);
}

static int user__get_revents(int idx, void *opaque)
{
	struct net_user *u = opaque;
	short r;

	if (idx < 0 || (unsigned int)idx >= u->nr_pfds)
		return 0;
	r = u->pfds[idx].revents;
	return ((r & POLLIN) ? SLIRP_POLL_IN : 0) | ((r & POLLOUT) ? SLIRP_POLL_OUT : 0) |
	       ((r & POLLPRI) ? SLIRP_POLL_PRI : 0) | ((r & POLLERR) ? SLIRP_POLL_ERR : 0) |
	       ((r & POLLHUP) ? SLIRP_POLL_HUP : 0);
}

/* Milliseconds until the first armed timer, at most limit. */
static uint32_t user__timeout(struct net_user *u, uint32_t limit)
{
	int64_t now = user__now_ns() / 1000000;

	for (struct user_timer *t = u->timers; t; t = t->next) {
		if (t->armed)
			limit = t->expire <= now ? 0 :
				(uint32_t)(t->expire - now < limit ? t->expire - now : limit);
	}
	return limit;
}

/* Runs the timers that are due; one at a time, as a callback may change the list. */
static void user__run_timers(struct net_user *u)
{
	bool fired;

	do {
		int64_t now = user__now_ns() / 1000000;

		fired = false;
		for (struct user_timer *t = u->timers; t; t = t->next) {
			if (t->armed && t->expire <= now) {
				t->armed = false;
				slirp_handle_timer(u->slirp, t->id, t->cb_opaque);
				fired = true;
				break;
			}
		}
	} while (fired);
}

/* Hands the guest's frames waiting in the pair to libslirp, USER_RX_BATCH at most. */
static void user__from_guest(struct net_user *u)
{
	for (unsigned int n = 0; n < USER_RX_BATCH && !u->fd_gone; n++) {
		ssize_t r = recv(u->fd, u->buf, sizeof(u->buf), MSG_DONTWAIT);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (r <= 0) {
			u->fd_gone = true;	/* the device closed its end */
			return;
		}
		/* The device checks what the guest sends; this end checks again what it gets. */
		if ((size_t)r < USER_HDR_LEN + ETH_HLEN || (size_t)r > USER_HDR_LEN + USER_FRAME_MAX)
			continue;
		slirp_input(u->slirp, u->buf + USER_HDR_LEN, (int)((size_t)r - USER_HDR_LEN));
	}
}

static void *user__thread(void *arg)
{
	struct net_user *u = arg;

	for (;;) {
		uint32_t timeout = UINT32_MAX;
		int r;

		u->nr_pfds = 0;
		user__add_pfd(u, u->stop_fd, POLLIN);
		user__add_pfd(u, u->fd_gone ? -1 : u->fd, POLLIN);
		slirp_pollfds_fill(u->slirp, &timeout, user__add_poll, u);
		timeout = user__timeout(u, timeout);
		r = poll(u->pfds, u->nr_pfds, timeout > INT32_MAX ? -1 : (int)timeout);
		if (r < 0 && errno != EINTR) {
			pr_err("virtio-net: user: poll: %s: the network is down for the guest",
			       strerror(errno));
			break;
		}
		if (r > 0 && u->pfds[0].revents)
			break;
		slirp_pollfds_poll(u->slirp, r < 0, user__get_revents, u);
		if (r > 0 && u->pfds[1].revents)
			user__from_guest(u);
		user__run_timers(u);
	}
	return NULL;
}

/* --- set-up and teardown --- */

/* glib's messages from libslirp (its warnings, and its debug ones with --debug) in lkvm's form. */
static void user__glib_log(const gchar *domain, GLogLevelFlags level, const gchar *msg,
			   gpointer data)
{
	(void)data;
	if (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING))
		pr_warn("virtio-net: user: %s: %s", domain ? domain : "glib", msg);
	else
		pr_debug("virtio-net: user: %s: %s", domain ? domain : "glib", msg);
}

static void user__free(struct net_user *u)
{
	if (u->started) {
		u64 one = 1;

		if (write(u->stop_fd, &one, sizeof(one)) != sizeof(one))
			pr_err("virtio-net: user: cannot stop the network's thread: %s",
			       strerror(errno));
		pthread_join(u->thread, NULL);
	}
	if (u->slirp)
		slirp_cleanup(u->slirp);	/* frees its timers through timer_free */
	while (u->timers)
		user__timer_free(u->timers, u);
	if (u->fd >= 0)
		close(u->fd);
	if (u->stop_fd >= 0)
		close(u->stop_fd);
	free(u->pfds);
	free(u);
}

static void net_user__close(struct net_backend *be)
{
	user__free(container_of(be, struct net_user, be));
}

static struct in_addr user__addr(u32 host_order)
{
	return (struct in_addr){ .s_addr = htonl(host_order) };
}

/*
 * libslirp's DNS address: any connection to it goes to the host's resolver, so it cannot be
 * host_ip (whose other ports are the host's). The first free address after host_ip in its /24.
 */
static u32 user__dns_ip(const struct net_spec *spec)
{
	u32 net = spec->host_ip & 0xffffff00;

	for (u32 i = 1; i < 256; i++) {
		u32 a = net | ((spec->host_ip + i) & 0xff);

		if ((a & 0xff) && (a & 0xff) != 0xff && a != spec->host_ip && a != spec->guest_ip)
			return a;
	}
	return spec->host_ip;	/* never: devspec keeps a /24 with room */
}

int net_user__open(const struct net_spec *spec, struct net_backend **be)
{
	SlirpConfig cfg = {
		.version = 4,
		.in_enabled = true,
		.vnetwork = user__addr(spec->host_ip & 0xffffff00),
		.vnetmask = user__addr(0xffffff00),
		.vhost = user__addr(spec->host_ip),
		.vdhcp_start = user__addr(spec->guest_ip),
		.vnameserver = user__addr(user__dns_ip(spec)),
	};
	struct net_user *u = calloc(1, sizeof(*u));
	int sv[2], size = USER_SOCKBUF, err;
	const char *step;

	if (!u) {
		pr_err("-n mode=user: out of memory");
		return -ENOMEM;
	}
	u->fd = u->stop_fd = -1;
	u->be.close = net_user__close;
	/* Room for the thread's own two, which it polls whatever memory says later. */
	step = "out of memory";
	u->max_pfds = 32;
	u->pfds = calloc(u->max_pfds, sizeof(*u->pfds));
	if (!u->pfds) {
		errno = ENOMEM;
		goto fail_errno;
	}
	step = "cannot create a socket pair";
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv))
		goto fail_errno;
	u->fd = sv[1];
	/* Best effort: the kernel caps them at net.core.wmem_max and rmem_max. */
	for (int i = 0; i < 2; i++) {
		setsockopt(sv[i], SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
		setsockopt(sv[i], SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	}
	step = "cannot create an eventfd";
	u->stop_fd = eventfd(0, EFD_CLOEXEC);
	if (u->stop_fd < 0)
		goto fail_errno;
	g_log_set_handler("Slirp", G_LOG_LEVEL_MASK | G_LOG_FLAG_FATAL | G_LOG_FLAG_RECURSION,
			  user__glib_log, NULL);
	u->slirp = slirp_new(&cfg, &user_callbacks, u);
	if (!u->slirp) {
		pr_err("-n mode=user: libslirp refused the network");
		err = -EINVAL;
		goto fail;
	}
	err = pthread_create(&u->thread, NULL, user__thread, u);
	if (err) {
		pr_err("-n mode=user: cannot start the network's thread: %s", strerror(err));
		err = -err;
		goto fail;
	}
	pthread_setname_np(u->thread, "lkvm-slirp");
	u->started = true;
	*be = &u->be;
	return sv[0];

fail_errno:
	err = -errno;
	pr_err("-n mode=user: %s: %s", step, strerror(errno));
fail:
	if (u->fd >= 0)
		close(sv[0]);
	user__free(u);
	return err;
}
