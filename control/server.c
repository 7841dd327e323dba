#include "lkvm/control-server.h"
#include "lkvm/hotplug.h"
#include "lkvm/kvm.h"
#include "lkvm/sdei-kvm.h"
#include "lkvm/virtio-balloon.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/* Is somebody listening on path? Then a VM of that name runs. */
static bool ctl_server__in_use(const struct sockaddr_un *addr)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool used;

	if (fd < 0)
		return false;
	used = !connect(fd, (const struct sockaddr *)addr, sizeof(*addr));
	close(fd);
	return used;
}

static void ctl_server__drop(struct ctl_client *c)
{
	if (c->events)
		atomic_fetch_sub(&c->server->listeners, 1);
	close(c->fd);
	c->fd = -1;
	c->len = 0;
	c->events = false;
}

void ctl_server__exit(struct ctl_server *s)
{
	bool created = s->listen_fd >= 0 && s->event_fd >= 0;

	for (unsigned int i = 0; i < CTL_MAX_CLIENTS; i++) {
		if (s->clients[i].fd >= 0)
			ctl_server__drop(&s->clients[i]);
	}
	if (s->listen_fd >= 0) {
		close(s->listen_fd);
		unlink(s->path);
	}
	if (s->event_fd >= 0)
		close(s->event_fd);
	if (s->log_fd >= 0)
		close(s->log_fd);
	if (created)
		pthread_mutex_destroy(&s->lock);
	s->listen_fd = s->event_fd = s->log_fd = -1;
}

void ctl_server__log_events(struct ctl_server *s, int fd)
{
	s->log_fd = fd;
	/* The log follows the events as a client would: they are kept from now on. */
	atomic_fetch_add(&s->listeners, 1);
}

static struct ctl_server *to_server(struct vm_control *vc)
{
	return container_of(vc, struct ctl_server, vc);
}

/* Never blocks: a vCPU may post under PSCI's lock. */
static void ctl_server__event(struct vm_control *vc, const struct vm_event *ev)
{
	struct ctl_server *s = to_server(vc);
	u64 one = 1;

	struct ctl_event *last;

	/* Events are live: one that nobody follows yet is not kept. */
	if (!atomic_load_explicit(&s->listeners, memory_order_relaxed))
		return;
	pthread_mutex_lock(&s->lock);
	last = &s->queue[(s->head + s->count + CTL_EVENT_QUEUE - 1) % CTL_EVENT_QUEUE];
	/* The main thread is far behind: the last slot counts what is lost, in its place. */
	if (s->count && last->dropped)
		last->dropped++;
	else if (s->count == CTL_EVENT_QUEUE - 1)
		s->queue[(s->head + s->count++) % CTL_EVENT_QUEUE] = (struct ctl_event){ .dropped = 1 };
	else
		s->queue[(s->head + s->count++) % CTL_EVENT_QUEUE] = (struct ctl_event){ .ev = *ev };
	pthread_mutex_unlock(&s->lock);
	write_all(s->event_fd, &one, sizeof(one));
}

static unsigned int ctl_server__pollfds(struct vm_control *vc, struct pollfd *fds,
					unsigned int max)
{
	struct ctl_server *s = to_server(vc);
	unsigned int n = 0;

	if (max < 2 + CTL_MAX_CLIENTS)
		return 0;
	fds[n++] = (struct pollfd){ .fd = s->listen_fd, .events = POLLIN };
	fds[n++] = (struct pollfd){ .fd = s->event_fd, .events = POLLIN };
	for (unsigned int i = 0; i < CTL_MAX_CLIENTS; i++)
		fds[n++] = (struct pollfd){ .fd = s->clients[i].fd, .events = POLLIN };
	return n;
}

/* Only the user who runs the VM may control it (the directory is 0700 too). */
static bool ctl_server__peer_ok(int fd)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	return !getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) && cred.uid == geteuid();
}

static void ctl_server__reply(struct ctl_client *c, u16 type, const char *text);

/* A free slot, or the one of the client that is longest overdue with its request; else NULL. */
static struct ctl_client *ctl_server__slot(struct ctl_server *s, u64 now)
{
	struct ctl_client *late = NULL;

	for (unsigned int i = 0; i < CTL_MAX_CLIENTS; i++) {
		struct ctl_client *c = &s->clients[i];

		if (c->fd < 0)
			return c;
		if (!c->events && now - c->since_ns > CTL_REQUEST_NS &&
		    (!late || c->since_ns < late->since_ns))
			late = c;
	}
	if (late) {
		ctl_server__reply(late, CTL_ERROR, "control: no request within 2 s, closing");
		if (late->fd >= 0)
			ctl_server__drop(late);
	}
	return late;
}

static void ctl_server__accept(struct ctl_server *s)
{
	int fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	struct ctl_client *c;
	u64 now = clock__now_ns();

	if (fd < 0)
		return;
	if (!ctl_server__peer_ok(fd)) {
		close(fd);
		return;
	}
	c = ctl_server__slot(s, now);
	if (!c) {
		close(fd);	/* too many at once: the client sees a hang-up and may retry */
		return;
	}
	c->fd = fd;
	c->since_ns = now;
}

/* Sends without blocking the VM's main loop: a client that does not read is dropped. */
static void ctl_server__reply(struct ctl_client *c, u16 type, const char *text)
{
	u8 buf[CTL_HDR_SIZE + CTL_MAX_PAYLOAD];
	int n = ctl__encode(buf, sizeof(buf), type, text, strnlen(text, CTL_MAX_PAYLOAD));

	if (n < 0 || send(c->fd, buf, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT) != n)
		ctl_server__drop(c);
}

static int parse_id(const char *s, unsigned int *id, unsigned int *ms)
{
	char *end;
	unsigned long v;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	v = strtoul(s, &end, 10);
	if (v > 65535)
		return -EINVAL;
	*id = (unsigned int)v;
	if (!ms)
		return *end ? -EINVAL : 0;
	if (*end != ' ' || end[1] < '0' || end[1] > '9')
		return -EINVAL;
	v = strtoul(end + 1, &end, 10);
	if (*end || v > 3600000)
		return -EINVAL;
	*ms = (unsigned int)v;
	return 0;
}

static int ctl_server__balloon(struct kvm *kvm, const char *payload, char *out, size_t len)
{
	enum balloon_op op;
	u64 bytes;
	int err = ctl__parse_balloon(payload, &op, &bytes);

	if (err) {
		snprintf(out, len, "balloon: '%.64s': %s", payload, err == -ERANGE ? "size too large" :
			 "expected inflate SIZE or deflate SIZE (as 64M, 1G; no suffix: MiB)");
		return err;
	}
	return virtio_balloon__set(kvm, op, bytes, out, len);
}

/* Runs one request; fills out (the OK text or the error) and returns 0 or < 0. */
static int ctl_server__request(struct kvm *kvm, struct ctl_client *c, const struct ctl_msg *m,
			       char *out, size_t len)
{
	unsigned int id, ms, plugged = 0;

	*out = '\0';
	switch (m->type) {
	case CTL_INFO:
		for (unsigned int i = 0; kvm->plan && i < kvm->nr_cpus; i++)
			plugged += kvm->plan->plugged[i];
		snprintf(out, len, "%s %d %u %u", kvm->cfg->name, (int)getpid(), kvm->nr_cpus,
			 kvm->plan ? plugged : kvm->nr_cpus);
		return 0;
	case CTL_CPU_LIST:
		if (!kvm->psci) {
			snprintf(out, len, "vCPU states are lkvm's only with lkvm run --psci=user");
			return -EINVAL;
		}
		hotplug__list(kvm, out, len);
		return 0;
	case CTL_CPU_PLUG:
	case CTL_CPU_UNPLUG:
		if (parse_id(m->payload, &id, NULL))
			break;
		return hotplug__set_plugged(kvm, id, m->type == CTL_CPU_PLUG, out, len);
	case CTL_CPU_DELAY:
		if (parse_id(m->payload, &id, &ms))
			break;
		return hotplug__set_delay(kvm, id, ms, out, len);
	case CTL_STOP:
		kvm__request_stop(kvm, VM_STOP_USER);
		return 0;
	case CTL_PAUSE:
	case CTL_RESUME:
		kvm__pause(kvm, m->type == CTL_PAUSE);
		return 0;
	case CTL_EVENTS:
		if (!c->events)
			atomic_fetch_add(&c->server->listeners, 1);
		c->events = true;
		return 0;
	case CTL_BALLOON:
		return ctl_server__balloon(kvm, m->payload, out, len);
	case CTL_SDEI_LIST:
	case CTL_SDEI_SIGNAL:
		if (!kvm->sdei) {
			snprintf(out, len, "sdei: this VM has no SDEI: lkvm run --psci=user --sdei");
			return -EINVAL;
		}
		if (m->type == CTL_SDEI_LIST) {
			sdei_kvm__list(kvm, out, len);
			return 0;
		}
		return sdei_kvm__signal(kvm, m->payload, out, len);
	}
	snprintf(out, len, "request %u: bad arguments '%.64s'", m->type, m->payload);
	return -EINVAL;
}

static void ctl_server__read(struct ctl_client *c, struct kvm *kvm)
{
	static struct ctl_msg m;	/* main thread only; too big for the stack of a loop */
	char out[CTL_MAX_PAYLOAD];
	ssize_t n = recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len, MSG_DONTWAIT);
	int used;

	if (n <= 0) {
		if (n == 0 || (errno != EAGAIN && errno != EINTR))
			ctl_server__drop(c);
		return;
	}
	c->len += (size_t)n;
	while (c->fd >= 0 && (used = ctl__parse(c->buf, c->len, &m)) != 0) {
		if (used < 0 || m.type >= CTL_NR_REQUESTS) {
			ctl_server__reply(c, CTL_ERROR, used == -EPROTO ?
					  "control: protocol version or magic mismatch" :
					  "control: malformed request");
			ctl_server__drop(c);
			return;
		}
		memmove(c->buf, c->buf + used, c->len - (size_t)used);
		c->len -= (size_t)used;
		ctl_server__reply(c, ctl_server__request(kvm, c, &m, out, sizeof(out)) ? CTL_ERROR : CTL_OK,
				  out);
		c->since_ns = clock__now_ns();
	}
}

static void ctl_server__send_event(struct ctl_server *s, const char *json)
{
	for (unsigned int i = 0; i < CTL_MAX_CLIENTS; i++) {
		if (s->clients[i].fd >= 0 && s->clients[i].events)
			ctl_server__reply(&s->clients[i], CTL_EVENT, json);
	}
}

/* One write per line, unbuffered: a reader of the file never sees half an event. */
static void ctl_server__log(struct ctl_server *s, const char *json)
{
	char line[CTL_EVENT_JSON_MAX + 1];
	int n = snprintf(line, sizeof(line), "%s\n", json), err;

	if (s->log_fd < 0 || n <= 0 || (size_t)n >= sizeof(line))
		return;
	err = write_all(s->log_fd, line, (size_t)n);
	if (err) {
		pr_err("--events-log: cannot write: %s; no more events are logged", strerror(-err));
		close(s->log_fd);
		s->log_fd = -1;
	}
}

static void ctl_server__flush_events(struct ctl_server *s)
{
	char json[CTL_EVENT_JSON_MAX];
	u64 v;

	if (read(s->event_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		return;
	for (;;) {
		struct ctl_event e;

		pthread_mutex_lock(&s->lock);
		if (!s->count) {
			pthread_mutex_unlock(&s->lock);
			return;
		}
		e = s->queue[s->head];
		s->head = (s->head + 1) % CTL_EVENT_QUEUE;
		s->count--;
		pthread_mutex_unlock(&s->lock);
		if (e.dropped)
			ctl__dropped_json(e.dropped, json, sizeof(json));
		else
			ctl__event_json(&e.ev, json, sizeof(json));
		ctl_server__send_event(s, json);
		ctl_server__log(s, json);
	}
}

static void ctl_server__handle(struct vm_control *vc, struct kvm *kvm, const struct pollfd *fds,
			       unsigned int n)
{
	struct ctl_server *s = to_server(vc);

	if (n < 2)
		return;
	if (fds[1].revents & POLLIN)
		ctl_server__flush_events(s);
	for (unsigned int i = 0; i + 2 < n && i < CTL_MAX_CLIENTS; i++) {
		if (s->clients[i].fd >= 0 && (fds[i + 2].revents & (POLLIN | POLLHUP | POLLERR)))
			ctl_server__read(&s->clients[i], kvm);
	}
	if (fds[0].revents & POLLIN)
		ctl_server__accept(s);
}

int ctl_server__init(struct ctl_server *s, const char *name)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int err = ctl__socket_path(name, s->path, sizeof(s->path), true);

	_Static_assert(2 + CTL_MAX_CLIENTS <= VM_CONTROL_MAX_FDS, "the main loop polls them all");
	s->vc = (struct vm_control){ .pollfds = ctl_server__pollfds, .handle = ctl_server__handle,
				     .event = ctl_server__event };
	memset(s->clients, 0, sizeof(s->clients));
	for (unsigned int i = 0; i < CTL_MAX_CLIENTS; i++) {
		s->clients[i].fd = -1;
		s->clients[i].server = s;
	}
	s->listeners = 0;
	s->head = s->count = 0;
	s->listen_fd = s->event_fd = s->log_fd = -1;
	if (err)
		return err;
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", s->path);
	if (ctl_server__in_use(&addr)) {
		pr_err("--name %s: a VM of that name is running already (%s)", name, s->path);
		return -EEXIST;
	}
	unlink(s->path);	/* a stale socket of a VM that died */
	s->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	s->event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	/* bind takes the socket's mode from its inode: 0600 from the start, never a chmod by path. */
	if (s->listen_fd < 0 || s->event_fd < 0 || fchmod(s->listen_fd, 0600) ||
	    bind(s->listen_fd, (struct sockaddr *)&addr, sizeof(addr)) || listen(s->listen_fd, 8)) {
		err = -errno;
		pr_err("%s: cannot create the control socket: %s", s->path, strerror(-err));
		ctl_server__exit(s);
		return err;
	}
	pthread_mutex_init(&s->lock, NULL);
	return 0;
}
