/*
 * The file-system side of the 9P server (include/lkvm/p9.h): fids, and operations that only ever
 * use fds and single names beneath the share's root fd.
 *
 * Why this cannot escape the share: a guest name is one component (p9fs__name_ok), looked up
 * from the fd of a directory already beneath the root with O_NOFOLLOW and, where the kernel has
 * it, openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS); nothing is followed, so symlinks the guest
 * (or the host) puts in the share resolve only in the guest. ".." is the one name that moves
 * up: at the root it stays there, elsewhere the result is checked to still lie beneath the root.
 */
#include "lkvm/p9.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#if defined(__has_include)
#if __has_include(<linux/openat2.h>)
#include <linux/openat2.h>
#define P9_HAVE_OPEN_HOW
#endif
#endif

#ifndef P9_HAVE_OPEN_HOW
struct open_how {
	u64 flags;
	u64 mode;
	u64 resolve;
};
#endif
#ifndef RESOLVE_NO_MAGICLINKS
#define RESOLVE_NO_MAGICLINKS	0x02
#endif
#ifndef RESOLVE_BENEATH
#define RESOLVE_BENEATH		0x08
#endif
/* The same number on every architecture (the generic table); older headers lack the names. */
#ifndef SYS_openat2
#define SYS_openat2		437
#endif
#ifndef SYS_fchmodat2
#define SYS_fchmodat2		452
#endif

/* How deep ".." checks look for the root before giving up. */
#define P9_MAX_DEPTH		4096

/* --- lookups --- */

bool p9fs__name_ok(const char *name)
{
	return *name && strcmp(name, ".") && strcmp(name, "..") && !strchr(name, '/');
}

/*
 * openat of one name beneath dir_fd, never following a symlink in it. Without openat2 (older
 * kernels, qemu-user) plain openat with O_NOFOLLOW is as safe for a single component.
 */
static int p9fs__openat(struct p9_server *s, int dir_fd, const char *name, int flags, mode_t mode)
{
	struct open_how how = {
		.flags = (u64)(flags | O_NOFOLLOW | O_CLOEXEC),
		.mode = (flags & O_CREAT) ? mode : 0,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
	};
	int fd;

	if (!p9fs__name_ok(name))
		return -EINVAL;
	if (!s->no_openat2) {
		fd = (int)syscall(SYS_openat2, dir_fd, name, &how, sizeof(how));
		if (fd >= 0)
			return fd;
		if (errno != ENOSYS)
			return -errno;
		s->no_openat2 = true;
	}
	fd = openat(dir_fd, name, (int)how.flags, (mode_t)how.mode);
	return fd < 0 ? -errno : fd;
}

static int p9fs__fstat(int fd, struct stat *st)
{
	return fstatat(fd, "", st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) ? -errno : 0;
}

static bool same_file(const struct stat *st, dev_t dev, ino_t ino)
{
	return st->st_dev == dev && st->st_ino == ino;
}

/*
 * The permission bits the guest may give what it creates or chmods: never setuid or setgid, or a
 * guest could plant a setuid-root program on the host when lkvm runs as root. The sticky bit is
 * harmless.
 */
static mode_t guest_mode(u32 mode)
{
	return (mode_t)(mode & (S_ISVTX | 0777));
}

/*
 * QEMU's: a file's version changes with its mtime or size. Linux caches (cache=loose, mmap,
 * fscache) only files whose version is not 0, and drops what it cached when it changes.
 */
static u32 qid_version(const struct stat *st)
{
	return (u32)((u64)st->st_mtime ^ ((u64)st->st_size << 8));
}

void p9fs__qid(const struct stat *st, struct p9_qid *qid)
{
	qid->type = S_ISDIR(st->st_mode) ? P9_QTDIR : S_ISLNK(st->st_mode) ? P9_QTSYMLINK :
		    P9_QTFILE;
	qid->version = qid_version(st);
	qid->path = (u64)st->st_ino;
}

void p9fs__node_qid(const struct p9_node *n, struct p9_qid *qid)
{
	struct stat st = { .st_mode = n->mode, .st_ino = n->ino };

	p9fs__qid(&st, qid);
	qid->version = n->version;
}

/* --- nodes --- */

static void node_init(struct p9_node *n)
{
	*n = (struct p9_node){ .fd = -1, .dir_fd = -1 };
}

void p9fs__node_release(struct p9_node *n)
{
	if (n->fd >= 0)
		close(n->fd);
	if (n->dir_fd >= 0)
		close(n->dir_fd);
	free(n->name);
	node_init(n);
}

static int node_set(struct p9_node *n, int fd)
{
	struct stat st;
	int err = p9fs__fstat(fd, &st);

	if (err) {
		close(fd);
		return err;
	}
	n->fd = fd;
	n->dev = st.st_dev;
	n->ino = st.st_ino;
	n->mode = st.st_mode;
	n->version = qid_version(&st);
	return 0;
}

int p9fs__node_root(struct p9_server *s, struct p9_node *n)
{
	int fd = fcntl(s->root_fd, F_DUPFD_CLOEXEC, 0);

	node_init(n);
	return fd < 0 ? -errno : node_set(n, fd);
}

int p9fs__node_clone(const struct p9_node *from, struct p9_node *to)
{
	node_init(to);
	*to = *from;
	to->fd = to->dir_fd = -1;
	to->name = NULL;
	to->fd = fcntl(from->fd, F_DUPFD_CLOEXEC, 0);
	if (to->fd < 0)
		goto fail;
	if (from->dir_fd >= 0) {
		to->dir_fd = fcntl(from->dir_fd, F_DUPFD_CLOEXEC, 0);
		to->name = strdup(from->name);
		if (to->dir_fd < 0 || !to->name)
			goto fail;
	}
	return 0;
fail:
	p9fs__node_release(to);
	return -ENFILE;
}

static bool is_root(const struct p9_server *s, dev_t dev, ino_t ino)
{
	return dev == s->root_dev && ino == s->root_ino;
}

/*
 * Whether directory fd still lies beneath the root: its ".." chain reaches the root before "/".
 * Only ".." needs this; a directory moved out of the share by the host fails here.
 */
static int p9fs__beneath(struct p9_server *s, int fd)
{
	struct stat st, up;
	int cur = fcntl(fd, F_DUPFD_CLOEXEC, 0), err = -EXDEV;

	if (cur < 0)
		return -errno;
	for (unsigned int depth = 0; depth < P9_MAX_DEPTH; depth++) {
		int next;

		if ((err = p9fs__fstat(cur, &st)))
			break;
		if (is_root(s, st.st_dev, st.st_ino)) {
			err = 0;
			break;
		}
		next = openat(cur, "..", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (next < 0 || p9fs__fstat(next, &up) || same_file(&up, st.st_dev, st.st_ino)) {
			err = -EXDEV;	/* at "/": not beneath the share */
			if (next >= 0)
				close(next);
			break;
		}
		close(cur);
		cur = next;
		err = -EXDEV;
	}
	close(cur);
	return err;
}

static int node_walk_up(struct p9_server *s, struct p9_node *n)
{
	int fd, err;

	if (is_root(s, n->dev, n->ino))
		return 0;			/* ".." of the root is the root */
	fd = openat(n->fd, "..", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	err = p9fs__beneath(s, fd);
	if (err) {
		close(fd);
		return err;
	}
	p9fs__node_release(n);
	return node_set(n, fd);
}

int p9fs__node_walk(struct p9_server *s, struct p9_node *n, const char *name)
{
	struct p9_node next;
	char *copy;
	int fd, err;

	if (!strcmp(name, ".."))
		return S_ISDIR(n->mode) ? node_walk_up(s, n) : -ENOTDIR;
	if (!p9fs__name_ok(name))
		return -EINVAL;
	if (!S_ISDIR(n->mode))
		return -ENOTDIR;
	fd = p9fs__openat(s, n->fd, name, O_PATH, 0);
	if (fd < 0)
		return fd;
	copy = strdup(name);
	if (!copy) {
		close(fd);
		return -ENOMEM;
	}
	node_init(&next);
	if ((err = node_set(&next, fd))) {
		free(copy);
		return err;
	}
	/* The parent is n's object: n's own fd moves over, its parent goes. */
	next.dir_fd = n->fd;
	next.pdev = n->dev;
	next.pino = n->ino;
	next.name = copy;
	n->fd = -1;
	p9fs__node_release(n);
	*n = next;
	return 0;
}

/* --- fids --- */

static unsigned int fid_bucket(u32 id)
{
	return (id * 2654435761U) >> 24;	/* 256 buckets */
}

struct p9_fid *p9fs__fid(struct p9_server *s, u32 id)
{
	for (struct p9_fid *f = s->fids[fid_bucket(id)]; f; f = f->next) {
		if (f->id == id)
			return f;
	}
	return NULL;
}

int p9fs__fid_add(struct p9_server *s, u32 id, struct p9_node *node, struct p9_fid **out)
{
	unsigned int b = fid_bucket(id);
	struct p9_fid *f;

	if (id == P9_NOFID)
		return -EINVAL;
	if (p9fs__fid(s, id))
		return -EEXIST;
	if (s->nr_fids >= s->max_fids)
		return -ENFILE;
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->id = id;
	f->node = *node;
	node_init(node);
	f->open_fd = -1;
	f->next = s->fids[b];
	s->fids[b] = f;
	s->nr_fids++;
	if (out)
		*out = f;
	return 0;
}

void p9fs__fid_clunk(struct p9_server *s, struct p9_fid *fid)
{
	for (struct p9_fid **p = &s->fids[fid_bucket(fid->id)]; *p; p = &(*p)->next) {
		if (*p == fid) {
			*p = fid->next;
			break;
		}
	}
	p9fs__node_release(&fid->node);
	if (fid->open_fd >= 0)
		close(fid->open_fd);
	free(fid);
	s->nr_fids--;
}

void p9fs__clunk_all(struct p9_server *s)
{
	for (unsigned int b = 0; b < P9_FID_BUCKETS; b++) {
		while (s->fids[b])
			p9fs__fid_clunk(s, s->fids[b]);
	}
}

/* --- opening --- */

static int dotl_to_open_flags(u32 f)
{
	static const int acc[] = { O_RDONLY, O_WRONLY, O_RDWR };
	int flags;

	if ((f & P9_DOTL_ACCMODE) == P9_DOTL_NOACCESS)
		return -EINVAL;
	flags = acc[f & P9_DOTL_ACCMODE];
	if (f & P9_DOTL_TRUNC)
		flags |= O_TRUNC;
	if (f & P9_DOTL_APPEND)
		flags |= O_APPEND;
	if (f & P9_DOTL_DSYNC)
		flags |= O_DSYNC;
	if (f & P9_DOTL_SYNC)
		flags |= O_SYNC;
	if (f & P9_DOTL_EXCL)
		flags |= O_EXCL;
	return flags;
}

/* Drops O_NONBLOCK again: it was only there so that a FIFO swapped in cannot hang the server. */
static int checked_open(int fd, const struct p9_node *n, int flags)
{
	struct stat st;

	if (fstat(fd, &st) || (n && !same_file(&st, n->dev, n->ino))) {
		close(fd);
		return -ESTALE;
	}
	if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
		close(fd);
		return -EOPNOTSUPP;
	}
	if (fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) && !S_ISDIR(st.st_mode)) {
		close(fd);
		return -EIO;
	}
	return fd;
}

/*
 * A file the guest may change loses its setuid and setgid bits, as the kernel does on a write by
 * anyone without CAP_FSETID: lkvm run as root has it, and the guest must not rewrite a host's
 * setuid program. Best effort: where fchmod is refused, lkvm has no CAP_FSETID and the kernel
 * drops the bits itself at the first write.
 */
static void drop_suid(int fd)
{
	struct stat st;

	if (!fstat(fd, &st) && S_ISREG(st.st_mode) && ((st.st_mode & S_ISUID) ||
	    (st.st_mode & (S_ISGID | S_IXGRP)) == (S_ISGID | S_IXGRP)))
		(void)fchmod(fd, st.st_mode & 07777 & ~(mode_t)(S_ISUID | S_ISGID));
}

/*
 * A real fd for a node: directories through their own fd ("." is no magic link), files through
 * their parent and name. Only regular files and directories: opening a device or a FIFO would
 * reach the host's device or block the server.
 */
static int node_reopen(struct p9_server *s, const struct p9_node *n, int flags)
{
	int fd, trunc = flags & O_TRUNC;

	flags &= ~(O_CREAT | O_EXCL | O_TRUNC);
	if (S_ISDIR(n->mode)) {
		if ((flags & O_ACCMODE) != O_RDONLY || trunc)
			return -EISDIR;
		fd = openat(n->fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		return fd < 0 ? -errno : checked_open(fd, n, O_RDONLY);
	}
	if (S_ISLNK(n->mode))
		return -ELOOP;
	if (!S_ISREG(n->mode))
		return -EOPNOTSUPP;
	if (n->dir_fd < 0)
		return -ESTALE;
	fd = p9fs__openat(s, n->dir_fd, n->name, flags | O_NONBLOCK, 0);
	if (fd < 0)
		return fd;
	fd = checked_open(fd, n, flags);
	if (fd >= 0 && ((flags & O_ACCMODE) != O_RDONLY || trunc))
		drop_suid(fd);
	/* Truncated only now, once it is known to be the fid's own file. */
	if (fd >= 0 && trunc && ftruncate(fd, 0)) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

int p9fs__lopen(struct p9_server *s, struct p9_fid *fid, u32 flags)
{
	int oflags = dotl_to_open_flags(flags), fd;

	if (oflags < 0)
		return oflags;
	if (fid->open_fd >= 0)
		return -EBUSY;
	fd = node_reopen(s, &fid->node, oflags);
	if (fd < 0)
		return fd;
	fid->open_fd = fd;
	fid->open_acc = oflags & O_ACCMODE;
	return 0;
}

/*
 * Tlcreate's file: a new one, created with O_EXCL so that the creating open never opens anything
 * that exists; or, unless the guest asked for O_EXCL, the existing one, looked up without
 * following a symlink and opened only if it is a regular file (as Tlopen would): a FIFO or a
 * device node in the share is never opened.
 */
static int create_or_open(struct p9_server *s, const struct p9_node *dir, const char *name,
			  int oflags, mode_t mode)
{
	struct p9_node old;
	int fd = p9fs__openat(s, dir->fd, name, (oflags & ~O_TRUNC) | O_CREAT | O_EXCL, mode), err;

	if (fd >= 0) {
		/* The guest applied its umask already; lkvm's must not take more bits away. */
		(void)fchmod(fd, mode);
		return fd;
	}
	if (fd != -EEXIST || (oflags & O_EXCL))
		return fd;
	fd = p9fs__openat(s, dir->fd, name, O_PATH, 0);
	if (fd < 0)
		return fd;
	node_init(&old);
	if ((err = node_set(&old, fd)))
		return err;
	/* dir's fd and the name, borrowed: old's own fd is all there is to release. */
	old.dir_fd = dir->fd;
	old.name = (char *)name;
	fd = S_ISDIR(old.mode) ? -EISDIR : node_reopen(s, &old, oflags);
	close(old.fd);
	return fd;
}

int p9fs__lcreate(struct p9_server *s, struct p9_fid *fid, const char *name, u32 flags,
		  u32 mode, struct p9_qid *qid)
{
	int oflags = dotl_to_open_flags(flags), fd, dup_fd, err;
	struct p9_node *n = &fid->node;
	struct stat st;
	char *copy;

	if (oflags < 0)
		return oflags;
	if (!p9fs__name_ok(name))
		return -EINVAL;
	if (!S_ISDIR(n->mode))
		return -ENOTDIR;
	if (fid->open_fd >= 0)
		return -EBUSY;
	fd = create_or_open(s, n, name, oflags, guest_mode(mode));
	if (fd < 0)
		return fd;
	if (fstat(fd, &st)) {
		err = -errno;
		close(fd);
		return err;
	}
	dup_fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	copy = strdup(name);
	if (dup_fd < 0 || !copy) {
		err = dup_fd < 0 ? -errno : -ENOMEM;
		if (dup_fd >= 0)
			close(dup_fd);
		free(copy);
		close(fd);
		return err;
	}
	/* The fid now names the new file; the directory becomes its parent. */
	if (n->dir_fd >= 0)
		close(n->dir_fd);
	free(n->name);
	n->dir_fd = n->fd;
	n->pdev = n->dev;
	n->pino = n->ino;
	n->name = copy;
	n->fd = dup_fd;
	n->dev = st.st_dev;
	n->ino = st.st_ino;
	n->mode = st.st_mode;
	n->version = qid_version(&st);
	fid->open_fd = fd;
	fid->open_acc = oflags & O_ACCMODE;
	p9fs__qid(&st, qid);
	return 0;
}

/* --- attributes --- */

int p9fs__getattr(struct p9_fid *fid, struct stat *st)
{
	return p9fs__fstat(fid->node.fd, st);
}

int p9fs__chmod_by_open(struct p9_server *s, const struct p9_node *n, mode_t mode)
{
	int fd = node_reopen(s, n, O_RDONLY), err;

	if (fd < 0)
		return fd;
	err = fchmod(fd, mode) ? -errno : 0;
	close(fd);
	return err;
}

/*
 * chmod of the object the fid holds, never of whatever its name leads to now. A symlink's own
 * mode means nothing on Linux (and glibc's lchmod says EOPNOTSUPP): so does lkvm. Else
 * fchmodat2(AT_EMPTY_PATH) on the node's O_PATH fd (Linux 6.6); before it (and under qemu-user),
 * chmod through /proc's link to that same fd, which is the object itself whatever the host did
 * to its name; without /proc, p9fs__chmod_by_open.
 */
static int node_chmod(struct p9_server *s, const struct p9_node *n, mode_t mode)
{
	char proc[32];

	if (S_ISLNK(n->mode))
		return -EOPNOTSUPP;
	if (!s->no_fchmodat2) {
		if (!syscall(SYS_fchmodat2, n->fd, "", mode, AT_EMPTY_PATH))
			return 0;
		if (errno != ENOSYS)
			return -errno;
		s->no_fchmodat2 = true;
	}
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", n->fd);
	if (!chmod(proc, mode))
		return 0;
	if (errno != ENOENT)
		return -errno;
	return p9fs__chmod_by_open(s, n, mode);		/* no /proc */
}

static int node_truncate(struct p9_server *s, struct p9_fid *fid, u64 size)
{
	int fd, err;

	if (size > INT64_MAX)
		return -EINVAL;
	if (fid->open_fd >= 0 && fid->open_acc != O_RDONLY)
		return ftruncate(fid->open_fd, (off_t)size) ? -errno : 0;
	fd = node_reopen(s, &fid->node, O_WRONLY);
	if (fd < 0)
		return fd;
	err = ftruncate(fd, (off_t)size) ? -errno : 0;
	close(fd);
	return err;
}

static struct timespec set_time(u32 valid, u32 given, u32 set, u64 sec, u64 nsec)
{
	if (!(valid & given))
		return (struct timespec){ .tv_nsec = UTIME_OMIT };
	if (!(valid & set))
		return (struct timespec){ .tv_nsec = UTIME_NOW };
	return (struct timespec){ .tv_sec = (time_t)sec, .tv_nsec = (long)(nsec % 1000000000) };
}

/*
 * The share's root keeps the mode and owner the host gave it: a guest must not make the share
 * world-writable, or hand it to another user. A request that changes nothing (rsync's, cp -a's)
 * succeeds.
 */
static int root_unchanged(const struct p9_node *n, const struct p9_setattr *a)
{
	struct stat st;
	int err = p9fs__fstat(n->fd, &st);

	if (err)
		return err;
	if (((a->valid & P9_SETATTR_MODE) && (st.st_mode & 07777) != (a->mode & 07777)) ||
	    ((a->valid & P9_SETATTR_UID) && st.st_uid != a->uid) ||
	    ((a->valid & P9_SETATTR_GID) && st.st_gid != a->gid))
		return -EPERM;
	return 0;
}

int p9fs__setattr(struct p9_server *s, struct p9_fid *fid, const struct p9_setattr *a)
{
	const struct p9_node *n = &fid->node;
	u32 valid = a->valid;
	int err;

	if (is_root(s, n->dev, n->ino) && (valid & (P9_SETATTR_MODE | P9_SETATTR_UID |
						    P9_SETATTR_GID))) {
		if ((err = root_unchanged(n, a)))
			return err;
		valid &= ~(u32)(P9_SETATTR_MODE | P9_SETATTR_UID | P9_SETATTR_GID);
	}
	if ((valid & P9_SETATTR_MODE) && (err = node_chmod(s, n, guest_mode(a->mode))))
		return err;
	/* Linux clears a file's setuid bit (and setgid with group execute) on chown, for root too. */
	if (valid & (P9_SETATTR_UID | P9_SETATTR_GID)) {
		uid_t uid = (valid & P9_SETATTR_UID) ? a->uid : (uid_t)-1;
		gid_t gid = (valid & P9_SETATTR_GID) ? a->gid : (gid_t)-1;

		if (fchownat(n->fd, "", uid, gid, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW))
			return -errno;
	}
	if ((a->valid & P9_SETATTR_SIZE) && (err = node_truncate(s, fid, a->size)))
		return err;
	if (a->valid & (P9_SETATTR_ATIME | P9_SETATTR_MTIME)) {
		struct timespec ts[2] = {
			set_time(a->valid, P9_SETATTR_ATIME, P9_SETATTR_ATIME_SET, a->atime_sec,
				 a->atime_nsec),
			set_time(a->valid, P9_SETATTR_MTIME, P9_SETATTR_MTIME_SET, a->mtime_sec,
				 a->mtime_nsec),
		};

		if (utimensat(n->fd, "", ts, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW))
			return -errno;
	}
	return 0;
}

/* --- directories --- */

struct linux_dirent64 {
	u64 d_ino;
	s64 d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

static u8 dtype_qid(unsigned char t)
{
	return t == DT_DIR ? P9_QTDIR : t == DT_LNK ? P9_QTSYMLINK : P9_QTFILE;
}

/* One entry: qid[13] offset[8] type[1] name[s]; false if it does not fit. */
static bool pack_dirent(u8 *buf, u32 count, u32 *len, const struct linux_dirent64 *d)
{
	size_t nlen = strnlen(d->d_name, d->d_reclen);
	u8 *p = buf + *len;

	if (nlen > 0xffff || 24 + nlen > count - *len)
		return false;
	p[0] = dtype_qid(d->d_type);
	put_le32(p + 1, 0);
	put_le64(p + 5, d->d_ino);
	put_le64(p + 13, (u64)d->d_off);
	p[21] = d->d_type;
	put_le16(p + 22, (u16)nlen);
	memcpy(p + 24, d->d_name, nlen);
	*len += (u32)(24 + nlen);
	return true;
}

int p9fs__readdir(struct p9_server *s, struct p9_fid *fid, u64 offset, u8 *buf, u32 count,
		  u32 *len)
{
	/* At least a page, so that getdents has room for one entry even when count has not. */
	size_t want = count < 4096 ? 4096 : count < P9_MAX_MSIZE ? count : P9_MAX_MSIZE;
	long n;

	*len = 0;
	if (fid->open_fd < 0 || !S_ISDIR(fid->node.mode))
		return -EBADF;
	if (offset > INT64_MAX)
		return -EINVAL;
	if (lseek(fid->open_fd, (off_t)offset, SEEK_SET) < 0)
		return -errno;
	/* What does not fit comes with the next Treaddir, from the last packed entry's offset. */
	n = syscall(SYS_getdents64, fid->open_fd, s->scratch, want);
	if (n < 0)
		return -errno;
	for (long pos = 0; pos < n;) {
		const struct linux_dirent64 *d = (const void *)(s->scratch + pos);

		if (d->d_reclen < sizeof(*d) || d->d_reclen > n - pos)
			return -EIO;
		if (!pack_dirent(buf, count, len, d))
			break;
		pos += d->d_reclen;
	}
	return 0;
}

/* --- creating, linking, renaming, removing --- */

static int entry_qid(int dir_fd, const char *name, struct p9_qid *qid)
{
	struct stat st;

	if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW))
		return -errno;
	p9fs__qid(&st, qid);
	return 0;
}

static int dir_ok(const struct p9_fid *dir, const char *name)
{
	if (!p9fs__name_ok(name))
		return -EINVAL;
	return S_ISDIR(dir->node.mode) ? 0 : -ENOTDIR;
}

int p9fs__mkdir(struct p9_fid *dir, const char *name, u32 mode, struct p9_qid *qid)
{
	int err = dir_ok(dir, name), fd;

	if (err)
		return err;
	if (mkdirat(dir->node.fd, name, guest_mode(mode)))
		return -errno;
	/*
	 * As for files: the mode the guest asked for, without lkvm's umask, and without a setgid bit
	 * inherited from the parent either (best effort).
	 */
	fd = openat(dir->node.fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd >= 0) {
		(void)fchmod(fd, guest_mode(mode));
		close(fd);
	}
	return entry_qid(dir->node.fd, name, qid);
}

int p9fs__symlink(struct p9_fid *dir, const char *name, const char *target, struct p9_qid *qid)
{
	int err = dir_ok(dir, name);

	if (err)
		return err;
	if (!*target)
		return -ENOENT;
	if (symlinkat(target, dir->node.fd, name))
		return -errno;
	return entry_qid(dir->node.fd, name, qid);
}

/* FIFOs, sockets and empty files; device nodes would hand the guest the host's devices. */
int p9fs__mknod(struct p9_fid *dir, const char *name, u32 mode, struct p9_qid *qid)
{
	int err = dir_ok(dir, name);

	if (err)
		return err;
	switch (mode & S_IFMT) {
	case S_IFIFO:
	case S_IFSOCK:
	case S_IFREG:
		break;
	case S_IFCHR:
	case S_IFBLK:
		return -EPERM;
	default:
		return -EINVAL;
	}
	if (mknodat(dir->node.fd, name, (mode & S_IFMT) | guest_mode(mode), 0))
		return -errno;
	return entry_qid(dir->node.fd, name, qid);
}

int p9fs__readlink(struct p9_fid *fid, char *buf, size_t size)
{
	ssize_t n;

	if (!S_ISLNK(fid->node.mode))
		return -EINVAL;
	n = readlinkat(fid->node.fd, "", buf, size - 1);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return 0;
}

/* Whether the node's parent and name still name it: what remove and link rely on. */
static int node_named(const struct p9_node *n)
{
	struct stat st;

	if (n->dir_fd < 0)
		return -EBUSY;		/* the root, or a directory reached through ".." */
	if (fstatat(n->dir_fd, n->name, &st, AT_SYMLINK_NOFOLLOW))
		return -errno;
	return same_file(&st, n->dev, n->ino) ? 0 : -ESTALE;
}

int p9fs__link(struct p9_fid *dir, struct p9_fid *fid, const char *name)
{
	const struct p9_node *n = &fid->node;
	int err = dir_ok(dir, name);

	if (err || (err = node_named(n)))
		return err;
	if (S_ISDIR(n->mode))
		return -EPERM;
	/* linkat with flags 0 links the name itself, never a symlink's target. */
	return linkat(n->dir_fd, n->name, dir->node.fd, name, 0) ? -errno : 0;
}

/* After a rename, fids that named oldname in olddir name newname in newdir (as QEMU does). */
static void fix_renamed(struct p9_server *s, const struct p9_node *olddir, const char *oldname,
			const struct p9_node *newdir, const char *newname)
{
	for (unsigned int b = 0; b < P9_FID_BUCKETS; b++) {
		for (struct p9_fid *f = s->fids[b]; f; f = f->next) {
			struct p9_node *n = &f->node;
			char *copy;
			int fd;

			if (n->dir_fd < 0 || n->pdev != olddir->dev || n->pino != olddir->ino ||
			    strcmp(n->name, oldname))
				continue;
			fd = fcntl(newdir->fd, F_DUPFD_CLOEXEC, 0);
			copy = strdup(newname);
			if (fd < 0 || !copy) {
				if (fd >= 0)
					close(fd);
				free(copy);
				continue;	/* it goes stale: reopening it fails cleanly */
			}
			close(n->dir_fd);
			free(n->name);
			n->dir_fd = fd;
			n->name = copy;
			n->pdev = newdir->dev;
			n->pino = newdir->ino;
		}
	}
}

int p9fs__renameat(struct p9_server *s, struct p9_fid *olddir, const char *oldname,
		   struct p9_fid *newdir, const char *newname)
{
	struct p9_node from, to;
	int err;

	if ((err = dir_ok(olddir, oldname)) || (err = dir_ok(newdir, newname)))
		return err;
	if (renameat(olddir->node.fd, oldname, newdir->node.fd, newname))
		return -errno;
	/* Copies: fixing the fids may change olddir's and newdir's own nodes. */
	from = olddir->node;
	to = newdir->node;
	fix_renamed(s, &from, oldname, &to, newname);
	return 0;
}

int p9fs__rename(struct p9_server *s, struct p9_fid *fid, struct p9_fid *newdir,
		 const char *newname)
{
	struct p9_node *n = &fid->node, from, to;
	char oldname[256];
	int err = dir_ok(newdir, newname);

	if (err || (err = node_named(n)))
		return err;
	if (strlen(n->name) >= sizeof(oldname))
		return -ENAMETOOLONG;
	strcpy(oldname, n->name);
	if (renameat(n->dir_fd, oldname, newdir->node.fd, newname))
		return -errno;
	from = (struct p9_node){ .fd = n->dir_fd, .dev = n->pdev, .ino = n->pino };
	to = newdir->node;
	fix_renamed(s, &from, oldname, &to, newname);
	return 0;
}

int p9fs__unlinkat(struct p9_fid *dir, const char *name, u32 flags)
{
	int err = dir_ok(dir, name);

	if (err)
		return err;
	if (flags & ~P9_AT_REMOVEDIR)
		return -EINVAL;
	return unlinkat(dir->node.fd, name, (flags & P9_AT_REMOVEDIR) ? AT_REMOVEDIR : 0) ?
	       -errno : 0;
}

int p9fs__remove(struct p9_fid *fid)
{
	const struct p9_node *n = &fid->node;
	int err = node_named(n);

	if (err)
		return err;
	return unlinkat(n->dir_fd, n->name, S_ISDIR(n->mode) ? AT_REMOVEDIR : 0) ? -errno : 0;
}
