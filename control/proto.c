/* The control protocol's framing (include/lkvm/control.h), shared by server and clients. */
#include "lkvm/control.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static u16 get_le16(const u8 *p)
{
	return (u16)(p[0] | p[1] << 8);
}

static void put_le16(u8 *p, u16 v)
{
	p[0] = (u8)v;
	p[1] = (u8)(v >> 8);
}

static void put_le32(u8 *p, u32 v)
{
	put_le16(p, (u16)v);
	put_le16(p + 2, (u16)(v >> 16));
}

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

int ctl__parse_balloon(const char *payload, enum ctl_balloon_op *op, u64 *bytes)
{
	static const struct { const char *word; enum ctl_balloon_op op; } ops[] = {
		{ "inflate ", CTL_BALLOON_INFLATE }, { "deflate ", CTL_BALLOON_DEFLATE },
	};

	*bytes = 0;
	if (!*payload) {
		*op = CTL_BALLOON_QUERY;
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

int ctl__socket_dir(char *buf, size_t size, bool create)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR"), *home = getenv("HOME");
	int n;

	if (xdg && *xdg)
		n = snprintf(buf, size, "%s/lkvm", xdg);
	else
		n = snprintf(buf, size, "%s/.lkvm", home && *home ? home : "/tmp");
	if (n < 0 || (size_t)n >= size)
		return -ENAMETOOLONG;
	if (create && mkdir(buf, 0700) && errno != EEXIST)
		return -errno;
	return 0;
}

int ctl__socket_path(const char *name, char *buf, size_t size, bool create)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int n, err = ctl__socket_dir(dir, sizeof(dir), create);

	if (err)
		return err;
	n = snprintf(buf, size, "%s/%s.sock", dir, name);
	if (n < 0 || (size_t)n >= size || (size_t)n >= sizeof(dir))
		return -ENAMETOOLONG;
	return 0;
}

int ctl__connect(const char *name)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = 10 };
	int fd, err = ctl__socket_path(name, addr.sun_path, sizeof(addr.sun_path), false);

	if (err) {
		pr_err("%s: no room for its control socket path: %s", name, strerror(-err));
		return err;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* A VM that stops answering must not hang its client. */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr))) {
		err = -errno;
		if (err == -ENOENT)
			pr_err("%s: no such VM (no socket at %s)", name, addr.sun_path);
		else if (err == -ECONNREFUSED)
			pr_err("%s: not running (stale socket %s)", name, addr.sun_path);
		else
			pr_err("%s: cannot connect to %s: %s", name, addr.sun_path, strerror(-err));
		close(fd);
		return err;
	}
	return fd;
}
