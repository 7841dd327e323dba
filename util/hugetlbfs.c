/* --hugetlbfs DIR: guest RAM backed by huge pages from a hugetlbfs mount, as kvmtool does. */
#include "lkvm/hugetlbfs.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

/*
 * An unnamed file in DIR: O_TMPFILE never appears in the directory, so another user of a shared
 * mount can neither see nor replace it; it is freed with the mapping.
 */
static int hugetlbfs__file(const char *dir, u64 size, u64 *page)
{
	struct statfs fs;
	char a[32], b[32];
	int fd;

	if (statfs(dir, &fs) < 0) {
		int err = -errno;

		pr_err("--hugetlbfs %s: %s", dir, strerror(-err));
		return err;
	}
	if (fs.f_type != HUGETLBFS_MAGIC) {
		pr_err("--hugetlbfs %s: not a hugetlbfs mount", dir);
		return -EINVAL;
	}
	*page = (u64)fs.f_bsize;
	if (size % *page) {
		pr_err("--hugetlbfs %s: -m %s is not a multiple of its page size (%s)", dir,
		       size_str(size, a, sizeof(a)), size_str(*page, b, sizeof(b)));
		return -EINVAL;
	}
	fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0 || ftruncate(fd, (off_t)size) < 0) {
		int err = -errno;

		pr_err("--hugetlbfs %s: cannot make a %s file: %s", dir, size_str(size, a, sizeof(a)),
		       strerror(-err));
		if (fd >= 0)
			close(fd);
		return err;
	}
	return fd;
}

void *hugetlbfs__map(const char *dir, u64 size)
{
	u64 page = 0;
	int fd = hugetlbfs__file(dir, size, &page);
	void *map;
	char a[32], b[32];

	if (fd < 0)
		return NULL;
	/*
	 * A shared mapping reserves its huge pages now: a pool that is too small is an error here,
	 * not a SIGBUS when the guest first touches its RAM.
	 */
	map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (map == MAP_FAILED) {
		pr_err("--hugetlbfs %s: cannot reserve %s in %s pages (see HugePages_Free in "
		       "/proc/meminfo): %s", dir, size_str(size, a, sizeof(a)),
		       size_str(page, b, sizeof(b)), strerror(errno));
		return NULL;
	}
	return map;
}
