/*
 * iobench: the I/O measurements of `make bench`, run the same way in the test host (on its own
 * block device) and in a Linux guest (on the virtio disk or 9p file that device backs), so the
 * two can be compared. A static arm64 Linux program; it prints one line per measurement:
 *
 *   iobench seqread FILE MIB          "seqread MIB_PER_S"   1M reads
 *   iobench seqwrite FILE MIB         "seqwrite MIB_PER_S"  1M writes, then fdatasync
 *   iobench cachedread FILE MIB       "cachedread MIB_PER_S" 1M reads through the page cache
 *   iobench randread FILE COUNT       "randread IOPS"       4K reads at random 4K offsets
 *
 * Block devices and regular files are opened with O_DIRECT where the file system allows it, so
 * neither side measures its page cache; but for cachedread, which measures the first read of a
 * file through it (read-ahead: what 9p with cache=loose does, where O_DIRECT makes page-sized
 * requests).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define BIG	(1 << 20)
#define SMALL	4096

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int die_errno(const char *what, const char *path)
{
	fprintf(stderr, "iobench: %s %s: %s\n", what, path, strerror(errno));
	return 1;
}

static int open_direct(const char *path, int flags)
{
	int fd = open(path, flags | O_DIRECT, 0644);

	/* tmpfs refuses O_DIRECT: its reads do not go through a page cache of ours anyway. */
	return fd >= 0 || errno != EINVAL ? fd : open(path, flags, 0644);
}

static uint64_t file_size(int fd)
{
	struct stat st;
	uint64_t size = 0;

	if (fstat(fd, &st))
		return 0;
	if (S_ISBLK(st.st_mode))
		return ioctl(fd, BLKGETSIZE64, &size) ? 0 : size;
	return (uint64_t)st.st_size;
}

static int seq(const char *name, const char *path, long mib)
{
	int write_ = !strcmp(name, "seqwrite"), flags = write_ ? O_WRONLY | O_CREAT : O_RDONLY;
	int fd = strcmp(name, "cachedread") ? open_direct(path, flags) : open(path, flags);
	void *buf;
	double t;

	if (fd < 0)
		return die_errno("open", path);
	if (posix_memalign(&buf, SMALL, BIG))
		return 1;
	memset(buf, 0x5a, BIG);
	t = now_s();
	for (long i = 0; i < mib; i++) {
		ssize_t n = write_ ? pwrite(fd, buf, BIG, (off_t)i * BIG) : pread(fd, buf, BIG, (off_t)i * BIG);

		if (n != BIG)
			return die_errno(write_ ? "write" : "read (file too small?)", path);
	}
	if (write_ && fdatasync(fd))
		return die_errno("fdatasync", path);
	t = now_s() - t;
	printf("%s %.1f\n", name, (double)mib / t);
	close(fd);
	free(buf);
	return 0;
}

static int randread(const char *path, long count)
{
	int fd = open_direct(path, O_RDONLY);
	uint64_t blocks, x = 0x9e3779b97f4a7c15ULL;
	void *buf;
	double t;

	if (fd < 0)
		return die_errno("open", path);
	blocks = file_size(fd) / SMALL;
	if (!blocks || posix_memalign(&buf, SMALL, SMALL)) {
		fprintf(stderr, "iobench: %s: empty\n", path);
		return 1;
	}
	t = now_s();
	for (long i = 0; i < count; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;	/* xorshift: the same offsets every run */
		if (pread(fd, buf, SMALL, (off_t)(x % blocks) * SMALL) != SMALL)
			return die_errno("read", path);
	}
	t = now_s() - t;
	printf("randread %.0f\n", (double)count / t);
	close(fd);
	free(buf);
	return 0;
}

int main(int argc, char **argv)
{
	long n = argc == 4 ? strtol(argv[3], NULL, 0) : 0;

	if (n <= 0) {
		fprintf(stderr, "usage: iobench seqread|seqwrite|cachedread|randread FILE N\n");
		return 2;
	}
	if (!strcmp(argv[1], "seqread") || !strcmp(argv[1], "seqwrite") ||
	    !strcmp(argv[1], "cachedread"))
		return seq(argv[1], argv[2], n);
	if (!strcmp(argv[1], "randread"))
		return randread(argv[2], n);
	fprintf(stderr, "iobench: %s: unknown measurement\n", argv[1]);
	return 2;
}
