/* The control protocol's framing (include/lkvm/control.h), shared by server and clients. */
#include "lkvm/control.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static bool valid_type(u16 t)
{
	return (t >= CTL_INFO && t < CTL_NR_REQUESTS) || t == CTL_OK || t == CTL_ERROR ||
	       t == CTL_EVENT;
}

int ctl__parse(const u8 *buf, size_t len, struct ctl_msg *out)
{
	u32 plen;

	/* Judge what has arrived as soon as it can be judged: garbage never waits for more. */
	if (memcmp(buf, CTL_MAGIC, len < 4 ? len : 4))
		return -EPROTO;
	if (len < CTL_HDR_SIZE)
		return 0;
	if (get_le16(buf + 4) != CTL_VERSION)
		return -EPROTO;
	plen = get_le32(buf + 8);
	if (plen > CTL_MAX_PAYLOAD)
		return -EMSGSIZE;
	if (!valid_type(get_le16(buf + 6)))
		return -EINVAL;
	if (len < CTL_HDR_SIZE + plen)
		return 0;
	if (memchr(buf + CTL_HDR_SIZE, '\0', plen))
		return -EINVAL;
	out->type = get_le16(buf + 6);
	out->len = plen;
	memcpy(out->payload, buf + CTL_HDR_SIZE, plen);
	out->payload[plen] = '\0';
	return (int)(CTL_HDR_SIZE + plen);
}

void ctl__event_json(const struct vm_event *ev, char *buf, size_t len)
{
	int n = snprintf(buf, len, "{\"time\":%" PRIu64 ".%06" PRIu64 ",\"event\":\"%s\",\"vcpu\":%u",
			 ev->time_ns / 1000000000, ev->time_ns % 1000000000 / 1000,
			 vm_event__name(ev->type), ev->vcpu);

	if (n > 0 && (size_t)n < len && vm_event__has_target(ev->type))
		n += snprintf(buf + n, len - (size_t)n, ",\"target\":%u", ev->target);
	if (n > 0 && (size_t)n < len && (ev->type == VM_EV_SDEI_DISPATCH ||
					 ev->type == VM_EV_SDEI_COMPLETE))
		n += snprintf(buf + n, len - (size_t)n, ",\"sdei_event\":%u", ev->sdei_event);
	if (n > 0 && (size_t)n < len && ev->type == VM_EV_SDEI_COMPLETE)
		n += snprintf(buf + n, len - (size_t)n, ",\"duration_ns\":%" PRIu64, ev->duration_ns);
	if (n > 0 && (size_t)n < len && ev->type == VM_EV_ACPI_NOTIFY)
		n += snprintf(buf + n, len - (size_t)n, ",\"kind\":\"%s\"",
			      vm_event__notify_name(ev->acpi_notify));
	if (n > 0 && (size_t)n < len)
		snprintf(buf + n, len - (size_t)n, "}");
}

void ctl__dropped_json(u64 count, char *buf, size_t len)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	snprintf(buf, len, "{\"time\":%lld.%06ld,\"event\":\"events_dropped\",\"count\":%" PRIu64 "}",
		 (long long)ts.tv_sec, ts.tv_nsec / 1000, count);
}

int ctl__parse_balloon(const char *payload, enum balloon_op *op, u64 *bytes)
{
	static const struct { const char *word; enum balloon_op op; } ops[] = {
		{ "inflate ", BALLOON_INFLATE }, { "deflate ", BALLOON_DEFLATE },
	};

	*bytes = 0;
	if (!*payload) {
		*op = BALLOON_QUERY;
		return 0;
	}
	for (size_t i = 0; i < ARRAY_SIZE(ops); i++) {
		size_t n = strlen(ops[i].word);

		if (!strncmp(payload, ops[i].word, n)) {
			*op = ops[i].op;
			return parse_size(payload + n, bytes);
		}
	}
	return -EINVAL;
}

int ctl__encode(u8 *buf, size_t size, u16 type, const char *payload, size_t len)
{
	if (len > CTL_MAX_PAYLOAD || size < CTL_HDR_SIZE + len)
		return -EMSGSIZE;
	memcpy(buf, CTL_MAGIC, 4);
	put_le16(buf + 4, CTL_VERSION);
	put_le16(buf + 6, type);
	put_le32(buf + 8, (u32)len);
	memcpy(buf + CTL_HDR_SIZE, payload, len);
	return (int)(CTL_HDR_SIZE + len);
}

int ctl__send(int fd, u16 type, const char *payload)
{
	u8 buf[CTL_HDR_SIZE + CTL_MAX_PAYLOAD];
	int n = ctl__encode(buf, sizeof(buf), type, payload, strlen(payload));
	const u8 *p = buf;

	while (n > 0) {
		ssize_t w = send(fd, p, (size_t)n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w ? -errno : -EPIPE;
		p += w;
		n -= (int)w;
	}
	return n;
}

int ctl__recv(int fd, struct ctl_msg *msg)
{
	u8 buf[CTL_HDR_SIZE + CTL_MAX_PAYLOAD];
	size_t len = 0;

	for (;;) {
		int used = ctl__parse(buf, len, msg);
		ssize_t r;

		if (used)
			return used < 0 ? used : 0;
		/* Read no further than this message: the next one stays in the socket. */
		r = recv(fd, buf + len, len < CTL_HDR_SIZE ? CTL_HDR_SIZE - len :
			 CTL_HDR_SIZE + get_le32(buf + 8) - len, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r ? -errno : -ECONNRESET;
		len += (size_t)r;
	}
}

/*
 * Where the sockets live: $XDG_RUNTIME_DIR/lkvm, else $HOME/.lkvm, else (services started
 * without either) /run/lkvm for root and /run/user/UID/lkvm for other users. Never /tmp: anyone
 * could have made the directory there first. *leaf is set to the last component.
 */
static int ctl__dir_name(char *buf, size_t size, size_t *leaf)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR"), *home = getenv("HOME");
	int n;

	if (xdg && *xdg)
		n = snprintf(buf, size, "%s/lkvm", xdg);
	else if (home && *home)
		n = snprintf(buf, size, "%s/.lkvm", home);
	else if (!geteuid())
		n = snprintf(buf, size, "/run/lkvm");
	else
		n = snprintf(buf, size, "/run/user/%u/lkvm", (unsigned int)geteuid());
	if (n < 0 || (size_t)n >= size)
		return -ENAMETOOLONG;
	*leaf = (size_t)(strrchr(buf, '/') - buf) + 1;
	return 0;
}

/*
 * The parent may be a symlink ($HOME often is), but only we or root may rename what is in it:
 * it is ours or root's, and closed to others' writes or sticky (as /tmp is).
 */
static int ctl__check_parent(const char *dir, int len, int fd)
{
	struct stat st;

	if (fstat(fd, &st)) {
		int err = -errno;

		pr_err("%.*s: %s", len, dir, strerror(-err));
		return err;
	}
	if ((st.st_uid != geteuid() && st.st_uid) || ((st.st_mode & 022) && !(st.st_mode & S_ISVTX))) {
		pr_err("%.*s: others could replace what is in it (owner uid %u, mode 0%o): set "
		       "XDG_RUNTIME_DIR to a directory of yours for lkvm's control sockets", len, dir,
		       (unsigned int)st.st_uid, (unsigned int)(st.st_mode & 07777));
		return -EPERM;
	}
	return 0;
}

/* The directory itself: a real directory, ours, closed to everyone else. Never fixed for them. */
static int ctl__check_dir(const char *dir, int fd)
{
	struct stat st;
	uid_t uid = geteuid();

	if (fstat(fd, &st)) {
		int err = -errno;

		pr_err("%s: %s", dir, strerror(-err));
		return err;
	}
	if (st.st_uid != uid) {
		pr_err("%s: owned by uid %u, not by you (uid %u): remove it, or set XDG_RUNTIME_DIR "
		       "to a directory of yours", dir, (unsigned int)st.st_uid, (unsigned int)uid);
		return -EPERM;
	}
	if (st.st_mode & 077) {
		pr_err("%s: mode 0%o lets others in: make it 0700 (chmod 700 %s)", dir,
		       (unsigned int)(st.st_mode & 07777), dir);
		return -EPERM;
	}
	return 0;
}

/* Opens dir's last component, at dir + leaf, in its checked parent; made first if create. */
static int ctl__open_leaf(const char *dir, size_t leaf, bool create, int pfd)
{
	int fd, err = ctl__check_parent(dir, (int)leaf - 1, pfd);

	if (err)
		return err;
	if (create && mkdirat(pfd, dir + leaf, 0700) && errno != EEXIST) {
		err = -errno;
		pr_err("%s: cannot make it: %s", dir, strerror(-err));
		return err;
	}
	fd = openat(pfd, dir + leaf, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	err = fd < 0 ? -errno : 0;
	if (err == -ELOOP || err == -ENOTDIR)
		pr_err("%s: not a directory (a symbolic link?): remove it, and lkvm makes its own", dir);
	else if (err && (create || err != -ENOENT))
		pr_err("%s: cannot open it: %s", dir, strerror(-err));
	return err ? err : fd;
}

/* Opens the directory without following a symlink at its end; -ENOENT unlogged if !create. */
static int ctl__open_dir(char *dir, size_t leaf, bool create)
{
	int pfd, fd;

	dir[leaf - 1] = '\0';
	pfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	dir[leaf - 1] = '/';
	if (pfd < 0) {
		int err = -errno;

		if (create || err != -ENOENT)
			pr_err("%.*s: cannot keep control sockets there: %s", (int)leaf - 1, dir,
			       strerror(-err));
		return err;
	}
	fd = ctl__open_leaf(dir, leaf, create, pfd);
	close(pfd);
	return fd;
}

int ctl__socket_dir(char *buf, size_t size, bool create)
{
	size_t leaf;
	int fd, err = ctl__dir_name(buf, size, &leaf);

	if (err) {
		pr_err("control socket directory: its path is too long");
		return err;
	}
	fd = ctl__open_dir(buf, leaf, create);
	if (fd < 0)
		return fd;
	err = ctl__check_dir(buf, fd);
	if (err) {
		close(fd);
		return err;
	}
	return fd;
}

int ctl__socket_path(const char *name, char *buf, size_t size, bool create)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int n, fd;

	/* A name is one path component: a client's --name ../x must not leave the directory. */
	if (!*name || strchr(name, '/')) {
		pr_err("%s: not a VM name (letters, digits, '.', '_', '-')", name);
		return -EINVAL;
	}
	fd = ctl__socket_dir(dir, sizeof(dir), create);
	if (fd < 0)
		return fd;
	close(fd);
	n = snprintf(buf, size, "%s/%s.sock", dir, name);
	if (n < 0 || (size_t)n >= size || (size_t)n >= sizeof(dir)) {
		pr_err("%s: no room for its control socket path in %s", name, dir);
		return -ENAMETOOLONG;
	}
	return 0;
}

/* Only a server of our own user may answer: anyone else's replies are not to be believed. */
static int ctl__check_peer(int fd, const char *name, const char *path)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	int err = getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) ? -errno : 0;

	if (err) {
		pr_err("%s: cannot tell who serves %s: %s", name, path, strerror(-err));
		return err;
	}
	if (cred.uid != geteuid()) {
		pr_err("%s: %s is served by uid %u, not by you (uid %u): not trusted", name, path,
		       (unsigned int)cred.uid, (unsigned int)geteuid());
		return -EPERM;
	}
	return 0;
}

int ctl__connect(const char *name)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = 10 };
	int fd, err = ctl__socket_path(name, addr.sun_path, sizeof(addr.sun_path), false);

	if (err == -ENOENT)
		pr_err("%s: no such VM (no control socket directory yet)", name);
	if (err)
		return err;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		err = -errno;
		pr_err("%s: cannot make a socket: %s", name, strerror(-err));
		return err;
	}
	/* A VM that stops answering must not hang its client. */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	err = connect(fd, (struct sockaddr *)&addr, sizeof(addr)) ? -errno : 0;
	if (err == -ENOENT)
		pr_err("%s: no such VM (no socket at %s)", name, addr.sun_path);
	else if (err == -ECONNREFUSED)
		pr_err("%s: not running (stale socket %s)", name, addr.sun_path);
	else if (err)
		pr_err("%s: cannot connect to %s: %s", name, addr.sun_path, strerror(-err));
	else
		err = ctl__check_peer(fd, name, addr.sun_path);
	if (err) {
		close(fd);
		return err;
	}
	return fd;
}

char *ctl__printable(const char *text, bool lines, char *out, size_t size)
{
	size_t n = 0;

	for (const u8 *p = (const u8 *)text; *p && n + 5 <= size; p++) {
		if ((*p >= 0x20 && *p < 0x7f) || (lines && *p == '\n'))
			out[n++] = (char)*p;
		else
			n += (size_t)snprintf(out + n, size - n, "\\x%02x", *p);
	}
	if (size)
		out[n < size ? n : size - 1] = '\0';
	return out;
}
