/*
 * libFuzzer target for the 9P2000.L server (include/lkvm/p9.h): the input is a stream of
 * messages, each framed by its own size field, served in order by a fresh server on a fresh
 * temporary directory (one file, one directory, one symlink out of it). Fid 0 is attached to the
 * root first, so that short inputs reach the file-system operations.
 *
 * Build (x86_64 or arm64):
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -std=c11 -D_GNU_SOURCE -Iinclude \
 *	fuzz/fuzz-9p.c virtio/9p-proto.c virtio/9p-fs.c -o build/fuzz-9p
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lkvm/p9.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int unprotect(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)ftw;
	if (type == FTW_D || type == FTW_DNR)
		chmod(path, 0700);
	(void)st;
	return 0;
}

static int removal(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (type == FTW_DP || type == FTW_D)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

/* FTW_PHYS: symlinks the fuzzer made are removed, never followed. */
static void remove_tree(const char *dir)
{
	nftw(dir, unprotect, 16, FTW_PHYS);
	nftw(dir, removal, 16, FTW_PHYS | FTW_DEPTH);
}

static void make_tree(const char *dir)
{
	char path[4096];
	int fd;

	snprintf(path, sizeof(path), "%s/file", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd >= 0) {
		if (write(fd, "hello, 9p\n", 10) != 10)
			abort();
		close(fd);
	}
	snprintf(path, sizeof(path), "%s/dir", dir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/dir/up", dir);
	if (symlink("../..", path))
		abort();
}

static void attach_root(struct p9_server *s, u8 *resp)
{
	static const u8 tattach[] = {
		23, 0, 0, 0, P9_TATTACH, 1, 0,		/* size, type, tag */
		0, 0, 0, 0,				/* fid 0 */
		0xff, 0xff, 0xff, 0xff,			/* afid NOFID */
		1, 0, 'u',				/* uname */
		0, 0,					/* aname */
		0, 0, 0, 0,				/* n_uname */
	};

	p9__handle(s, tattach, sizeof(tattach), resp, P9_MAX_MSIZE);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char base[] = "/tmp/lkvm-fuzz-9p-XXXXXX";
	static u8 *resp;
	static bool ready;
	struct p9_server s;
	char dir[64];

	if (!ready) {
		if (!mkdtemp(base))
			abort();
		resp = malloc(P9_MAX_MSIZE);
		if (!resp)
			abort();
		ready = true;
	}
	snprintf(dir, sizeof(dir), "%s/share", base);
	remove_tree(dir);
	if (mkdir(dir, 0755))
		abort();
	make_tree(dir);
	if (p9__init(&s, dir))
		abort();
	attach_root(&s, resp);
	while (size >= 4) {
		u32 len = (u32)data[0] | (u32)data[1] << 8 | (u32)data[2] << 16 | (u32)data[3] << 24;
		size_t n = len < size ? len : size;
		u8 *msg;

		if (n < 4)
			n = 4;
		/* An exact copy, so that reading past the message is caught by the sanitizer. */
		msg = malloc(n);
		if (!msg)
			abort();
		memcpy(msg, data, n);
		/* Small reply buffers too: the low byte of the tag picks one now and then. */
		p9__handle(&s, msg, n, resp, n > 6 && (msg[5] & 0x0f) == 0 ? msg[5] : P9_MAX_MSIZE);
		free(msg);
		data += n;
		size -= n;
	}
	p9__destroy(&s);
	return 0;
}
