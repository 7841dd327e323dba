/*
 * --dump-acpi DIR: each table as DIR/<signature>.dat (lower case, as acpixtract names them), for
 * iasl -d. DIR is made if missing; neither it nor a file in it is followed if it is a symbolic
 * link, and both must be the user's own: lkvm never writes through a path someone else controls.
 */
#include "lkvm/acpi.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* fd is a file of type `type`, ours. */
static int acpi__check_owned(int fd, mode_t type, const char *what)
{
	struct stat st;

	if (fstat(fd, &st))
		return -errno;
	if ((st.st_mode & S_IFMT) != type || st.st_uid != geteuid()) {
		pr_err("--dump-acpi %s: not a %s of yours", what,
		       type == S_IFDIR ? "directory" : "regular file");
		return -EPERM;
	}
	return 0;
}

static int acpi__dump_table(int dfd, const char *dir, const u8 *data,
			    const struct acpi_table_ref *r)
{
	char name[16];
	size_t i;
	int fd, err;

	for (i = 0; i < 4; i++)
		name[i] = (char)tolower((unsigned char)r->signature[i]);
	memcpy(name + i, ".dat", sizeof(".dat"));
	fd = openat(dfd, name, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0) {
		err = -errno;
		pr_err("--dump-acpi %s/%s: %s", dir, name, strerror(-err));
		return err;
	}
	err = acpi__check_owned(fd, S_IFREG, name);
	/* An existing file keeps its mode through O_CREAT: set it, and drop its old contents. */
	if (!err && (fchmod(fd, 0644) || ftruncate(fd, 0)))
		err = -errno;
	if (!err)
		err = write_all(fd, data + r->offset, r->len);
	if (close(fd) && !err)
		err = -errno;
	if (err && err != -EPERM)
		pr_err("--dump-acpi %s/%s: %s", dir, name, strerror(-err));
	return err;
}

int acpi__dump(const char *dir, const u8 *region, const struct acpi_image *img)
{
	int dfd, err = 0;

	if (mkdir(dir, 0755) && errno != EEXIST) {
		err = -errno;
		pr_err("--dump-acpi %s: cannot make it: %s", dir, strerror(-err));
		return err;
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0) {
		err = -errno;
		pr_err("--dump-acpi %s: %s", dir, err == -ELOOP || err == -ENOTDIR ?
		       "not a directory (a symbolic link?)" : strerror(-err));
		return err;
	}
	err = acpi__check_owned(dfd, S_IFDIR, dir);
	for (unsigned int i = 0; i < img->nr_tables && !err; i++)
		err = acpi__dump_table(dfd, dir, region, &img->tables[i]);
	close(dfd);
	return err;
}
