/*
 * Parsing of the device options (include/lkvm/devspec.h). Each parser cuts up its own copy of the
 * option; a spec's first string (path, or the net spec's owned copy) is that copy's start.
 */
#include "lkvm/devspec.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The limits in the messages: config.h's, whatever they become. */
#define STR(x)	#x
#define XSTR(x)	STR(x)

/* Splits "a,b,c" in place: returns the next field and moves *s past it, or NULL at the end. */
static char *next_field(char **s)
{
	char *f = *s;

	if (!f)
		return NULL;
	*s = strchr(f, ',');
	if (*s)
		*(*s)++ = '\0';
	return f;
}

/* How far up within() looks for the other directory before giving up. */
#define MAX_DEPTH	4096

/* Whether directory dir is the one top is, or lies beneath it: its ".." chain reaches top. */
static bool within(const char *dir, const struct stat *top)
{
	int fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	bool found = false;
	struct stat st, up;

	for (unsigned int depth = 0; fd >= 0 && depth < MAX_DEPTH; depth++) {
		int next;

		if (fstat(fd, &st))
			break;
		if (st.st_dev == top->st_dev && st.st_ino == top->st_ino) {
			found = true;
			break;
		}
		next = openat(fd, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
		close(fd);
		fd = next;
		if (fd >= 0 && (fstat(fd, &up) || (up.st_dev == st.st_dev && up.st_ino == st.st_ino)))
			break;			/* "/" */
	}
	if (fd >= 0)
		close(fd);
	return found;
}

/*
 * Shares must not overlap (the same directory twice, or one inside another): each share's
 * guarantees (its root's mode and owner stay the host's, one server per file) would not hold
 * for the part two shares have in common.
 */
static bool overlaps(const struct lkvm_config *cfg, const char *path, const struct stat *st)
{
	for (unsigned int i = 0; i < cfg->nr_shares; i++) {
		struct stat other;

		if (!stat(cfg->shares[i].path, &other) &&
		    (within(path, &other) || within(cfg->shares[i].path, st)))
			return true;
	}
	return false;
}

static int add_share(struct lkvm_config *cfg, const char *path, const char *tag, const char **why)
{
	struct stat st;

	if (stat(path, &st) || !S_ISDIR(st.st_mode))
		return *why = "not a directory", -1;
	if (!*tag || strlen(tag) > SHARE_TAG_MAX)
		return *why = "the tag must have 1 to 64 characters", -1;
	for (unsigned int i = 0; i < cfg->nr_shares; i++) {
		if (!strcmp(cfg->shares[i].tag, tag))
			return *why = "another share has this tag", -1;
	}
	if (overlaps(cfg, path, &st))
		return *why = "overlaps another share (the same directory, or one inside the other)", -1;
	if (cfg->nr_shares == MAX_SHARES)
		return *why = "too many shared directories (at most " XSTR(MAX_SHARES) ")", -1;
	cfg->shares[cfg->nr_shares++] = (struct share_spec){ .path = path, .tag = tag };
	return 0;
}

static int disk_or_dir(struct lkvm_config *cfg, char *arg, const char **why)
{
	struct disk_spec d = { 0 };
	char *rest = arg, *f;
	struct stat st;

	d.path = next_field(&rest);
	if (!*d.path)
		return *why = "no file given", -1;
	if (stat(d.path, &st))
		return *why = "no such file or directory", -1;
	if (S_ISDIR(st.st_mode)) {
		if (rest)
			return *why = "a directory takes no options (use --9p DIR,TAG for a tag)", -1;
		return add_share(cfg, d.path, SHARE_ROOT_TAG, why);
	}
	while ((f = next_field(&rest))) {
		if (!strcmp(f, "ro"))
			d.readonly = true;
		else if (!strcmp(f, "direct"))
			d.direct = true;
		else
			return *why = "unknown disk option (expected ro or direct)", -1;
	}
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
		return *why = "not a regular file, block device or directory", -1;
	if (cfg->nr_disks == MAX_DISKS)
		return *why = "too many disks (at most " XSTR(MAX_DISKS) ")", -1;
	cfg->disks[cfg->nr_disks++] = d;
	return 0;
}

static int share(struct lkvm_config *cfg, char *arg, const char **why)
{
	char *rest = arg, *path = next_field(&rest), *tag = next_field(&rest), *slash;

	if (rest)
		return *why = "expected DIR[,TAG]", -1;
	if (!tag) {
		/* The last non-empty component; "/" itself is tagged "root". */
		while (strlen(path) > 1 && path[strlen(path) - 1] == '/')
			path[strlen(path) - 1] = '\0';
		slash = strrchr(path, '/');
		tag = slash && slash[1] ? slash + 1 : slash ? "root" : path;
	}
	return add_share(cfg, path, tag, why);
}

static int parse_mac(const char *s, u8 mac[6])
{
	unsigned int b[6];
	char end;

	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5],
		   &end) != 6 || strlen(s) != 17)
		return -1;
	for (int i = 0; i < 6; i++)
		mac[i] = (u8)b[i];
	return 0;
}

/* A dotted IPv4 address, as kvmtool's guest_ip and host_ip take, in host byte order. */
static int parse_ipv4(const char *s, u32 *ip)
{
	unsigned int b[4];
	char end;

	if (sscanf(s, "%3u.%3u.%3u.%3u%c", &b[0], &b[1], &b[2], &b[3], &end) != 4 ||
	    b[0] > 255 || b[1] > 255 || b[2] > 255 || b[3] > 255 || strspn(s, "0123456789.") != strlen(s))
		return -1;
	*ip = b[0] << 24 | b[1] << 16 | b[2] << 8 | b[3];
	return 0;
}

/* mode=user's addresses: kvmtool's /24, with room for libslirp's DNS address besides the two. */
static const char *check_user_ips(const struct net_spec *n)
{
	u32 gh = n->guest_ip & 0xff, hh = n->host_ip & 0xff;

	if ((n->guest_ip ^ n->host_ip) & 0xffffff00)
		return "guest_ip and host_ip must be in one /24 network (netmask 255.255.255.0)";
	if (!gh || gh == 255 || !hh || hh == 255)
		return "guest_ip and host_ip cannot be the network's .0 or .255 address";
	if (gh == hh)
		return "guest_ip and host_ip must differ";
	return NULL;
}

static int net(struct lkvm_config *cfg, char *arg, const char **why)
{
	/*
	 * kvmtool's defaults: the guest MAC with the device's index in the last byte, and the user
	 * network's addresses (DEFAULT_GUEST_ADDR, DEFAULT_HOST_ADDR).
	 */
	struct net_spec n = { .mode = NET_TAP, .owned = arg,
			      .guest_mac = { 0x02, 0x15, 0x15, 0x15, 0x15, (u8)cfg->nr_nets },
			      .guest_ip = NET_USER_GUEST_IP, .host_ip = NET_USER_HOST_IP };
	bool mode_given = false, ip_given = false;
	char *rest = arg, *f;

	while ((f = next_field(&rest))) {
		char *val = strchr(f, '=');

		if (!val)
			return *why = "expected KEY=VALUE fields: mode, tapif, guest_ip, host_ip, "
				      "guest_mac", -1;
		*val++ = '\0';
		if (!strcmp(f, "mode")) {
			if (!strcmp(val, "tap"))
				n.mode = NET_TAP;
			else if (!strcmp(val, "user"))
				n.mode = NET_USER;
			else if (!strcmp(val, "none"))
				n.mode = NET_NONE;
			else
				return *why = "mode must be tap, user or none", -1;
			mode_given = true;
		} else if (!strcmp(f, "tapif")) {
			if (!*val || strlen(val) > NET_IFNAME_MAX || strchr(val, '/'))
				return *why = "tapif must be an interface name of 1 to 15 characters", -1;
			n.tapif = val;
		} else if (!strcmp(f, "guest_mac")) {
			if (parse_mac(val, n.guest_mac) || (n.guest_mac[0] & 1))
				return *why = "guest_mac must be a unicast MAC such as 02:15:15:15:15:15", -1;
		} else if (!strcmp(f, "guest_ip") || !strcmp(f, "host_ip")) {
			if (parse_ipv4(val, f[0] == 'g' ? &n.guest_ip : &n.host_ip))
				return *why = "guest_ip and host_ip must be IPv4 addresses such as "
					      "192.168.33.15", -1;
			ip_given = true;
		} else {
			return *why = "unknown field (expected mode, tapif, guest_ip, host_ip or "
				      "guest_mac)", -1;
		}
	}
	if (!mode_given)
		return *why = "mode= is required: mode=tap, mode=user or mode=none", -1;
	if (n.mode == NET_NONE)
		return *why = NULL, -1;	/* kvmtool's way to say "no network": nothing to keep */
	if (n.mode == NET_TAP && ip_given)
		return *why = "guest_ip and host_ip are for mode=user (lkvm does not set a tap up)", -1;
	if (n.mode == NET_USER && n.tapif)
		return *why = "tapif is for mode=tap", -1;
	if (n.mode == NET_USER && (*why = check_user_ips(&n)))
		return -1;
	for (unsigned int i = 0; n.mode == NET_USER && i < cfg->nr_nets; i++) {
		if (cfg->nets[i].mode == NET_USER)
			return *why = "only one mode=user network device (as kvmtool)", -1;
	}
	if (cfg->nr_nets == MAX_NETS)
		return *why = "too many network devices (at most " XSTR(MAX_NETS) ")", -1;
	cfg->nets[cfg->nr_nets++] = n;
	return 0;
}

/* Runs parse on a copy of val, which the new spec keeps; the copy goes if nothing kept it. */
static int with_copy(struct lkvm_config *cfg, const char *val, const char **why,
		     int (*parse)(struct lkvm_config *cfg, char *arg, const char **why))
{
	char *copy = strdup(val);
	int err;

	if (!copy)
		return *why = "out of memory", -1;
	*why = NULL;
	err = parse(cfg, copy, why);
	if (err)
		free(copy);
	return *why ? err : 0;
}

int devspec__disk_or_dir(struct lkvm_config *cfg, const char *val, const char **why)
{
	return with_copy(cfg, val, why, disk_or_dir);
}

int devspec__share(struct lkvm_config *cfg, const char *val, const char **why)
{
	return with_copy(cfg, val, why, share);
}

int devspec__net(struct lkvm_config *cfg, const char *val, const char **why)
{
	return with_copy(cfg, val, why, net);
}

void devspec__free(struct lkvm_config *cfg)
{
	for (unsigned int i = 0; i < cfg->nr_disks; i++)
		free((char *)cfg->disks[i].path);
	for (unsigned int i = 0; i < cfg->nr_shares; i++)
		free((char *)cfg->shares[i].path);
	for (unsigned int i = 0; i < cfg->nr_nets; i++)
		free(cfg->nets[i].owned);
	cfg->nr_disks = cfg->nr_shares = cfg->nr_nets = 0;
}
