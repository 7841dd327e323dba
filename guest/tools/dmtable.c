/*
 * dmtable: the least of dmsetup, for the failing-disk test (tests/system/t-blk.sh blk-eio) in the
 * test host, whose busybox has no dmsetup.
 *
 *   dmtable create NAME TARGET...   creates device-mapper device NAME with one table line per
 *                                   TARGET ("START LENGTH TYPE [PARAMS]", in 512-byte sectors),
 *                                   activates it and prints its block device's name (dm-N)
 *   dmtable remove NAME             removes it
 *
 * Errors are one line, "dmtable: <what>: <why>", and exit status 2.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/dm-ioctl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define MAX_TARGETS	8
#define BUF_SIZE	16384

static union {
	struct dm_ioctl io;
	char bytes[BUF_SIZE];
} buf;

static void die(const char *what, const char *why)
{
	fprintf(stderr, "dmtable: %s: %s\n", what, why);
	exit(2);
}

/* A fresh request for NAME: the header alone, the data (if any) right after it. */
static void request(const char *name)
{
	memset(&buf, 0, sizeof(buf));
	buf.io.version[0] = DM_VERSION_MAJOR;
	buf.io.data_size = sizeof(buf);
	buf.io.data_start = sizeof(buf.io);
	if (strlen(name) >= sizeof(buf.io.name))
		die(name, "name too long");
	strcpy(buf.io.name, name);
}

static void dm(int fd, unsigned long cmd, const char *what)
{
	if (ioctl(fd, cmd, &buf))
		die(what, strerror(errno));
}

/* "START LENGTH TYPE [PARAMS]" at OFF in buf; returns where the next target goes. */
static size_t add_target(size_t off, const char *line)
{
	struct dm_target_spec *t = (struct dm_target_spec *)(buf.bytes + off);
	unsigned long long start, len;
	char type[sizeof(t->target_type)];
	int params = 0;
	size_t plen;

	if (off + sizeof(*t) >= sizeof(buf) ||
	    sscanf(line, "%llu %llu %15s %n", &start, &len, type, &params) != 3 || !params)
		die(line, "not START LENGTH TYPE [PARAMS]");
	plen = strlen(line + params) + 1;
	if (off + sizeof(*t) + plen > sizeof(buf))
		die(line, "too long");
	t->sector_start = start;
	t->length = len;
	strcpy(t->target_type, type);
	memcpy(t + 1, line + params, plen);
	t->next = (sizeof(*t) + plen + 7) & ~(size_t)7;
	return off + t->next;
}

static void create(int fd, const char *name, int n, char **targets)
{
	size_t off = sizeof(buf.io);
	unsigned int minor;

	if (n < 1 || n > MAX_TARGETS)
		die(name, "want 1 to 8 targets");
	request(name);
	dm(fd, DM_DEV_CREATE, "create");
	minor = minor(buf.io.dev);
	request(name);
	for (int i = 0; i < n; i++)
		off = add_target(off, targets[i]);
	buf.io.target_count = n;
	dm(fd, DM_TABLE_LOAD, "load the table");
	request(name);		/* no DM_SUSPEND_FLAG: resume, which makes the table live */
	dm(fd, DM_DEV_SUSPEND, "activate");
	printf("dm-%u\n", minor);
}

int main(int argc, char **argv)
{
	int fd;

	if (argc < 3 || (strcmp(argv[1], "create") && strcmp(argv[1], "remove")))
		die("usage", "dmtable create NAME TARGET... | dmtable remove NAME");
	fd = open("/dev/mapper/control", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		die("/dev/mapper/control", strerror(errno));
	if (!strcmp(argv[1], "create")) {
		create(fd, argv[2], argc - 3, argv + 3);
	} else {
		request(argv[2]);
		dm(fd, DM_DEV_REMOVE, "remove");
	}
	return 0;
}
