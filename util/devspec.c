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

static int net(struct lkvm_config *cfg, char *arg, const char **why)
{
	/* kvmtool's default guest MAC, with the device's index in the last byte. */
	struct net_spec n = { .mode = NET_TAP, .owned = arg,
			      .guest_mac = { 0x02, 0x15, 0x15, 0x15, 0x15, (u8)cfg->nr_nets } };
	bool mode_given = false;
	char *rest = arg, *f;

	while ((f = next_field(&rest))) {
		char *val = strchr(f, '=');

		if (!val)
			return *why = "expected KEY=VALUE fields: mode, tapif, guest_mac", -1;
		*val++ = '\0';
		if (!strcmp(f, "mode") && (!strcmp(val, "tap") || !strcmp(val, "none"))) {
			n.mode = !strcmp(val, "tap") ? NET_TAP : NET_NONE;
			mode_given = true;
		} else if (!strcmp(f, "mode")) {
			return *why = "mode must be tap or none", -1;
		} else if (!strcmp(f, "tapif")) {
			if (!*val || strlen(val) > NET_IFNAME_MAX || strchr(val, '/'))
				return *why = "tapif must be an interface name of 1 to 15 characters", -1;
			n.tapif = val;
		} else if (!strcmp(f, "guest_mac")) {
			if (parse_mac(val, n.guest_mac) || (n.guest_mac[0] & 1))
				return *why = "guest_mac must be a unicast MAC such as 02:15:15:15:15:15", -1;
		} else {
			return *why = "unknown field (expected mode, tapif or guest_mac)", -1;
		}
	}
	if (!mode_given)
		return *why = "mode= is required: mode=tap or mode=none", -1;
	if (n.mode == NET_NONE)
		return *why = NULL, -1;	/* kvmtool's way to say "no network": nothing to keep */
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
