/*
 * 9P2000.L messages (include/lkvm/p9.h): decoding with every length checked against the
 * message, encoding bounded by the reply buffer and msize, and the dispatcher. A handler reads
 * all of its request before it does anything, so a malformed message has no effect but its
 * Rlerror(EINVAL).
 */
#include "lkvm/p9.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

/* The longest strings we take: names, symlink targets, the rest (unames, anames, lock ids). */
#define P9_NAME_MAX	255
#define P9_PATH_MAX	4095
#define P9_STR_MAX	4095

/* The request being read: a bounded cursor. err is the first error (EINVAL, ENAMETOOLONG). */
struct p9_in {
	const u8 *p;
	size_t len, pos;
	int err;
};

/* The reply being written; full once something did not fit. */
struct p9_out {
	u8 *p;
	size_t cap, pos;
	bool full;
};

/* --- decoding --- */

static const u8 *take(struct p9_in *in, size_t n)
{
	const u8 *p;

	if (in->err || n > in->len - in->pos) {
		if (!in->err)
			in->err = EINVAL;
		return NULL;
	}
	p = in->p + in->pos;
	in->pos += n;
	return p;
}

static u64 get_n(struct p9_in *in, unsigned int bytes)
{
	const u8 *p = take(in, bytes);

	return p ? get_le(p, bytes) : 0;
}

static u8 get8(struct p9_in *in) { return (u8)get_n(in, 1); }
static u16 get16(struct p9_in *in) { return (u16)get_n(in, 2); }
static u32 get32(struct p9_in *in) { return (u32)get_n(in, 4); }
static u64 get64(struct p9_in *in) { return get_n(in, 8); }

/* A string (len[2] then bytes) into buf[max + 1], NUL-terminated; embedded NULs are malformed. */
static void get_str(struct p9_in *in, char *buf, size_t max)
{
	u16 len = get16(in);
	const u8 *p = take(in, len);

	buf[0] = '\0';
	if (!p)
		return;
	if (memchr(p, '\0', len)) {
		in->err = EINVAL;
		return;
	}
	if (len > max) {
		in->err = ENAMETOOLONG;
		return;
	}
	memcpy(buf, p, len);
	buf[len] = '\0';
}

/* --- encoding --- */

static u8 *room(struct p9_out *out, size_t n)
{
	u8 *p;

	if (out->full || n > out->cap - out->pos) {
		out->full = true;
		return NULL;
	}
	p = out->p + out->pos;
	out->pos += n;
	return p;
}

static void put_n(struct p9_out *out, u64 v, unsigned int bytes)
{
	u8 *p = room(out, bytes);

	if (p)
		put_le(p, v, bytes);
}

static void put8(struct p9_out *out, u8 v) { put_n(out, v, 1); }
static void put16(struct p9_out *out, u16 v) { put_n(out, v, 2); }
static void put32(struct p9_out *out, u32 v) { put_n(out, v, 4); }
static void put64(struct p9_out *out, u64 v) { put_n(out, v, 8); }

static void put_str(struct p9_out *out, const char *s)
{
	size_t len = strlen(s);
	u8 *p;

	if (len > 0xffff) {
		out->full = true;
		return;
	}
	put16(out, (u16)len);
	p = room(out, len);
	if (p)
		memcpy(p, s, len);
}

static void put_qid(struct p9_out *out, const struct p9_qid *q)
{
	put8(out, q->type);
	put32(out, q->version);
	put64(out, q->path);
}

/* --- fids --- */

/* The request's parse error first (its fields are then unusable), else fid id or EBADF. */
static int fid_get(struct p9_server *s, const struct p9_in *in, u32 id, struct p9_fid **fid)
{
	if (in->err)
		return -in->err;
	*fid = p9fs__fid(s, id);
	return *fid ? 0 : -EBADF;
}

/* --- handlers: each reads its whole request, then acts; 0 or a negative errno --- */

static int p9_version(struct p9_server *s, struct p9_in *in, struct p9_out *out)
{
	char version[P9_STR_MAX + 1];
	u32 msize = get32(in);

	get_str(in, version, P9_STR_MAX);
	if (in->err)
		return -in->err;
	if (msize < P9_MIN_MSIZE)
		return -EINVAL;
	/* A new session: every fid of the old one goes. */
	p9fs__clunk_all(s);
	s->msize = msize < P9_MAX_MSIZE ? msize : P9_MAX_MSIZE;
	put32(out, s->msize);
	put_str(out, strcmp(version, P9_VERSION) ? "unknown" : P9_VERSION);
	return 0;
}

static int p9_attach(struct p9_server *s, struct p9_in *in, struct p9_out *out)
{
	char uname[P9_STR_MAX + 1], aname[P9_STR_MAX + 1];
	u32 id = get32(in), afid = get32(in);
	struct p9_node root;
	struct p9_fid *fid;
	struct p9_qid qid;
	int err;

	get_str(in, uname, P9_STR_MAX);
	get_str(in, aname, P9_STR_MAX);
	get32(in);				/* n_uname: we serve as the invoking user */
	if (in->err)
		return -in->err;
	if (afid != P9_NOFID)
		return -EOPNOTSUPP;		/* no authentication */
	if ((err = p9fs__node_root(s, &root)))
		return err;
	if ((err = p9fs__fid_add(s, id, &root, &fid))) {
		p9fs__node_release(&root);
		return err;
	}
	p9fs__node_qid(&fid->node, &qid);
	put_qid(out, &qid);
	return 0;
}

static int p9_walk(struct p9_server *s, struct p9_in *in, struct p9_out *out)
{
	static const char dotdot[] = "..";
	char names[P9_MAX_WALK][P9_NAME_MAX + 1];
	u32 id = get32(in), newid = get32(in);
	struct p9_qid qids[P9_MAX_WALK];
	u16 nwname = get16(in), i;
	struct p9_fid *fid, *newfid;
	struct p9_node node;
	int err;

	if (nwname > P9_MAX_WALK)
		return -EINVAL;
	for (i = 0; i < nwname; i++)
		get_str(in, names[i], P9_NAME_MAX);
	if (in->err)
		return -in->err;
	for (i = 0; i < nwname; i++) {
		if (strcmp(names[i], dotdot) && !p9fs__name_ok(names[i]))
			return -EINVAL;
	}
	if ((err = fid_get(s, in, id, &fid)))
		return err;
	newfid = p9fs__fid(s, newid);
	if (newfid && newfid != fid)
		return -EEXIST;
	/* An open fid keeps naming what it opened. */
	if (newfid && nwname && fid->open_fd >= 0)
		return -EBUSY;
	if ((err = p9fs__node_clone(&fid->node, &node)))
		return err;
	for (i = 0; i < nwname; i++) {
		if ((err = p9fs__node_walk(s, &node, names[i])))
			break;
		p9fs__node_qid(&node, &qids[i]);
	}
	/* A walk that fails after its first step tells how far it got, and changes no fid. */
	if (err && !i) {
		p9fs__node_release(&node);
		return err;
	}
	if (!err) {
		if (newfid) {
			p9fs__node_release(&newfid->node);
			newfid->node = node;
		} else if ((err = p9fs__fid_add(s, newid, &node, NULL))) {
			p9fs__node_release(&node);
			return err;
		}
	} else {
		p9fs__node_release(&node);
	}
	put16(out, i);
	for (u16 j = 0; j < i; j++)
		put_qid(out, &qids[j]);
	return 0;
}

static int p9_lopen(struct p9_server *s, struct p9_in *in, struct p9_out *out)
{
	u32 id = get32(in), flags = get32(in);
	struct p9_fid *fid;
	struct p9_qid qid;
	int err;

	if ((err = fid_get(s, in, id, &fid)) || (err = p9fs__lopen(s, fid, flags)))
		return err;
	p9fs__node_qid(&fid->node, &qid);
	put_qid(out, &qid);
	put32(out, 0);				/* iounit: msize decides */
	return 0;
}

static int p9_lcreate(struct p9_server *s, struct p9_in *in, struct p9_out *out)
{
	char name[P9_NAME_MAX + 1];
	u32 id = get32(in), flags, mode;
	struct p9_fid *fid;
	struct p9_qid qid;
	int err;

	get_str(in, name, P9_NAME_MAX);
	flags = get32(in);
	mode = get32(in);
	get32(in);				/* gid: files belong to the invoking user */
	if ((err = fid_get(s, in, id, &fid)) ||
	    (err = p9fs__lcreate(s, fid, name, flags, mode, &qid)))
		return err;
	put_qid(out, &qid);
	put32(out, 0);
	return 0;
}

/* What a read-like reply may carry: count, msize and the reply buffer all bound it. */
static u32 io_count(const struct p9_server *s, const struct p9_out *out, u32 count)
{
	size_t max = (s->msize < out->cap ? s->msize : out->cap);

	max = max > P9_IOHDR_SIZE ? max - P9_IOHDR_SIZE : 0;
	return count < max ? count : (u32)max;
}

static int p9_read(struct p9_server *s, struct p9_in *in, struct p9_out *out)
{
	u32 id = get32(in), count;
	u64 offset = get64(in);
	struct p9_fid *fid;
	ssize_t n;
	u8 *data;
	int err;

	count = get32(in);
	if ((err = fid_get(s, in, id, &fid)))
		return err;
	if (fid->open_fd < 0 || fid->open_acc == O_WRONLY)
		return -EBADF;
	if (offset > INT64_MAX)
		return -EINVAL;
	count = io_count(s, out, count);
	data = out->p + out->pos + 4;		/* io_count left room for count[4] */
	n = pread(fid->open_fd, data, count, (off_t)offset);
	if (n < 0)
		return -errno;
	put32(out, (u32)n);
	room(out, (size_t)n);
	return 0;
}

static int p9_write(struct p9_server *s, struct p9_in *in, struct p9_out *out)
{
	u32 id = get32(in), count;
	u64 offset = get64(in);
	const u8 *data;
	struct p9_fid *fid;
	ssize_t n;
	int err;

	count = get32(in);
	data = take(in, count);
	if ((err = fid_get(s, in, id, &fid)))
		return err;
	if (fid->open_fd < 0 || fid->open_acc == O_RDONLY)
		return -EBADF;
	if (offset > INT64_MAX)
		return -EINVAL;
	n = pwrite(fid->open_fd, data, count, (off_t)offset);
	if (n < 0)
		return -errno;
	put32(out, (u32)n);
	return 0;
}

static int p9_clunk(struct p9_server *s, struct p9_in *in, struct p9_out *out)
{
	u32 id = get32(in);
	struct p9_fid *fid;
	int err;

	(void)out;
	if ((err = fid_get(s, in, id, &fid)))
		return err;
	p9fs__fid_clunk(s, fid);
	return 0;
}

static int p9_remove(struct p9_server *s, struct p9_in *in, struct p9_out *out)
{
	u32 id = get32(in);
	struct p9_fid *fid;
	int err;

	(void)out;
	if ((err = fid_get(s, in, id, &fid)))
		return err;
	/* The fid goes whether or not the file could be removed. */
	err = p9fs__remove(fid);
	p9fs__fid_clunk(s, fid);
	return err;
}

static void put_time(struct p9_out *out, const struct timespec *ts)
{
	put64(out, (u64)ts->tv_sec);
	put64(out, (u64)ts->tv_nsec);
}

static int p9_getattr(struct p9_server *s, struct p9_in *in, struct p9_out *out)
{
	u32 id = get32(in);
	struct p9_fid *fid;
	struct p9_qid qid;
	struct stat st;
	int err;

	get64(in);				/* request_mask: we always give the basic set */
	if ((err = fid_get(s, in, id, &fid)) || (err = p9fs__getattr(fid, &st)))
		return err;
	p9fs__qid(&st, &qid);
	put64(out, P9_GETATTR_BASIC);
	put_qid(out, &qid);
	put32(out, st.st_mode);
	put32(out, st.st_uid);
	put32(out, st.st_gid);
	put64(out, st.st_nlink);
	put64(out, st.st_rdev);
	put64(out, (u64)st.st_size);
	put64(out, (u64)st.st_blksize);
	put64(out, (u64)st.st_blocks);
	put_time(out, &st.st_atim);
	put_time(out, &st.st_mtim);
	put_time(out, &st.st_ctim);
	put64(out, 0);				/* btime, gen, data_version: not given */
	put64(out, 0);
	put64(out, 0);
	put64(out, 0);
	return 0;
}

static int p9_setattr(struct p9_server *s, struct p9_in *in, struct p9_out *out)
{
	u32 id = get32(in);
	struct p9_setattr a;
	struct p9_fid *fid;
	int err;

	(void)out;
	a.valid = get32(in);
	a.mode = get32(in);
	a.uid = get32(in);
	a.gid = get32(in);
	a.size = get64(in);
	a.atime_sec = get64(in);
	a.atime_nsec = get64(in);
	a.mtime_sec = get64(in);
	a.mtime_nsec = get64(in);
	if ((err = fid_get(s, in, id, &fid)))
		return err;
	return p9fs__setattr(s, fid, &a);
}

static int p9_readdir(struct p9_server *s, struct p9_in *in, struct p9_out *out)
{
	u32 id = get32(in), count, len;
	u64 offset = get64(in);
	struct p9_fid *fid;
	int err;

	count = get32(in);
	if ((err = fid_get(s, in, id, &fid)))
		return err;
	count = io_count(s, out, count);
	err = p9fs__readdir(s, fid, offset, out->p + out->pos + 4, count, &len);
	if (err)
		return err;
	put32(out, len);
	room(out, len);
	return 0;
}

static int p9_fsync(struct p9_server *s, struct p9_in *in, struct p9_out *out)
{
	u32 id = get32(in), datasync = get32(in);
	struct p9_fid *fid;
	int err;

	(void)out;
	if ((err = fid_get(s, in, id, &fid)))
		return err;
	if (fid->open_fd < 0)
		return -EBADF;
	return (datasync ? fdatasync(fid->open_fd) : fsync(fid->open_fd)) ? -errno : 0;
}

static int p9_statfs(struct p9_server *s, struct p9_in *in, struct p9_out *out)
{
	u32 id = get32(in);
	struct p9_fid *fid;
	struct statfs st;
	u64 fsid;
	int err;

	if ((err = fid_get(s, in, id, &fid)))
		return err;
	if (fstatfs(fid->node.fd, &st))
		return -errno;
	memcpy(&fsid, &st.f_fsid, sizeof(fsid));
	put32(out, (u32)st.f_type);
	put32(out, (u32)st.f_bsize);
	put64(out, st.f_blocks);
	put64(out, st.f_bfree);
	put64(out, st.f_bavail);
	put64(out, st.f_files);
	put64(out, st.f_ffree);
	put64(out, fsid);
	put32(out, (u32)st.f_namelen);
	return 0;
}

static int p9_mkdir(struct p9_server *s, struct p9_in *in, struct p9_out *out)
{
	char name[P9_NAME_MAX + 1];
	u32 id = get32(in), mode;
	struct p9_fid *dir;
	struct p9_qid qid;
	int err;

	get_str(in, name, P9_NAME_MAX);
	mode = get32(in);
	get32(in);				/* gid */
	if ((err = fid_get(s, in, id, &dir)) || (err = p9fs__mkdir(dir, name, mode, &qid)))
		return err;
	put_qid(out, &qid);
	return 0;
}

static int p9_symlink(struct p9_server *s, struct p9_in *in, struct p9_out *out)
{
	char name[P9_NAME_MAX + 1], target[P9_PATH_MAX + 1];
	u32 id = get32(in);
	struct p9_fid *dir;
	struct p9_qid qid;
	int err;

	get_str(in, name, P9_NAME_MAX);
	get_str(in, target, P9_PATH_MAX);
	get32(in);				/* gid */
	if ((err = fid_get(s, in, id, &dir)) || (err = p9fs__symlink(dir, name, target, &qid)))
		return err;
	put_qid(out, &qid);
	return 0;
}

static int p9_mknod(struct p9_server *s, struct p9_in *in, struct p9_out *out)
{
	char name[P9_NAME_MAX + 1];
	u32 id = get32(in), mode;
	struct p9_fid *dir;
	struct p9_qid qid;
	int err;

	get_str(in, name, P9_NAME_MAX);
	mode = get32(in);
	get32(in);				/* major, minor: no device nodes */
	get32(in);
	get32(in);				/* gid */
	if ((err = fid_get(s, in, id, &dir)) || (err = p9fs__mknod(dir, name, mode, &qid)))
		return err;
	put_qid(out, &qid);
	return 0;
}

static int p9_readlink(struct p9_server *s, struct p9_in *in, struct p9_out *out)
{
	char target[P9_PATH_MAX + 1];
	u32 id = get32(in);
	struct p9_fid *fid;
	int err;

	if ((err = fid_get(s, in, id, &fid)) || (err = p9fs__readlink(fid, target, sizeof(target))))
		return err;
	put_str(out, target);
	return 0;
}

static int p9_rename(struct p9_server *s, struct p9_in *in, struct p9_out *out)
{
	char name[P9_NAME_MAX + 1];
	u32 id = get32(in), dirid = get32(in);
	struct p9_fid *fid, *dir;
	int err;

	(void)out;
	get_str(in, name, P9_NAME_MAX);
	if ((err = fid_get(s, in, id, &fid)) || (err = fid_get(s, in, dirid, &dir)))
		return err;
	return p9fs__rename(s, fid, dir, name);
}

static int p9_renameat(struct p9_server *s, struct p9_in *in, struct p9_out *out)
{
	char oldname[P9_NAME_MAX + 1], newname[P9_NAME_MAX + 1];
	u32 oldid = get32(in), newid;
	struct p9_fid *olddir, *newdir;
	int err;

	(void)out;
	get_str(in, oldname, P9_NAME_MAX);
	newid = get32(in);
	get_str(in, newname, P9_NAME_MAX);
	if ((err = fid_get(s, in, oldid, &olddir)) || (err = fid_get(s, in, newid, &newdir)))
		return err;
	return p9fs__renameat(s, olddir, oldname, newdir, newname);
}

static int p9_unlinkat(struct p9_server *s, struct p9_in *in, struct p9_out *out)
{
	char name[P9_NAME_MAX + 1];
	u32 id = get32(in), flags;
	struct p9_fid *dir;
	int err;

	(void)out;
	get_str(in, name, P9_NAME_MAX);
	flags = get32(in);
	if ((err = fid_get(s, in, id, &dir)))
		return err;
	return p9fs__unlinkat(dir, name, flags);
}

static int p9_link(struct p9_server *s, struct p9_in *in, struct p9_out *out)
{
	char name[P9_NAME_MAX + 1];
	u32 dirid = get32(in), id = get32(in);
	struct p9_fid *dir, *fid;
	int err;

	(void)out;
	get_str(in, name, P9_NAME_MAX);
	if ((err = fid_get(s, in, dirid, &dir)) || (err = fid_get(s, in, id, &fid)))
		return err;
	return p9fs__link(dir, fid, name);
}

static int p9_xattrwalk(struct p9_server *s, struct p9_in *in, struct p9_out *out)
{
	char name[P9_STR_MAX + 1];
	u32 id = get32(in);
	struct p9_fid *fid;
	int err;

	(void)out;
	get32(in);				/* newfid */
	get_str(in, name, P9_STR_MAX);
	if ((err = fid_get(s, in, id, &fid)))
		return err;
	return -EOPNOTSUPP;			/* no extended attributes */
}

static int p9_flush(struct p9_server *s, struct p9_in *in, struct p9_out *out)
{
	(void)s;
	(void)out;
	get16(in);				/* oldtag: requests are answered in order */
	return in->err ? -in->err : 0;
}

/*
 * Locks are the guest kernel's business: the server is one process, so host POSIX locks would
 * never conflict among guest processes anyway. Every lock is granted; none is reported held.
 */
static int p9_lock(struct p9_server *s, struct p9_in *in, struct p9_out *out)
{
	char client[P9_STR_MAX + 1];
	u32 id = get32(in);
	u8 type = get8(in);
	struct p9_fid *fid;
	int err;

	get32(in);				/* flags */
	get64(in);				/* start */
	get64(in);				/* length */
	get32(in);				/* proc_id */
	get_str(in, client, P9_STR_MAX);
	if (in->err)
		return -in->err;
	if (type > P9_LOCK_TYPE_UNLCK)
		return -EINVAL;
	if ((err = fid_get(s, in, id, &fid)))
		return err;
	if (fid->open_fd < 0)
		return -EBADF;
	put8(out, P9_LOCK_SUCCESS);
	return 0;
}

static int p9_getlock(struct p9_server *s, struct p9_in *in, struct p9_out *out)
{
	char client[P9_STR_MAX + 1];
	u32 id = get32(in), proc_id;
	u8 type = get8(in);
	u64 start = get64(in), length = get64(in);
	struct p9_fid *fid;
	int err;

	proc_id = get32(in);
	get_str(in, client, P9_STR_MAX);
	if (in->err)
		return -in->err;
	if (type > P9_LOCK_TYPE_UNLCK)
		return -EINVAL;
	if ((err = fid_get(s, in, id, &fid)))
		return err;
	if (fid->open_fd < 0)
		return -EBADF;
	put8(out, P9_LOCK_TYPE_UNLCK);		/* nothing would stop that lock */
	put64(out, start);
	put64(out, length);
	put32(out, proc_id);
	put_str(out, client);
	return 0;
}

/* --- dispatch --- */

typedef int p9_handler(struct p9_server *s, struct p9_in *in, struct p9_out *out);

static p9_handler *p9_handler_for(u8 type)
{
	switch (type) {
	case P9_TVERSION:	return p9_version;
	case P9_TATTACH:	return p9_attach;
	case P9_TWALK:		return p9_walk;
	case P9_TLOPEN:		return p9_lopen;
	case P9_TLCREATE:	return p9_lcreate;
	case P9_TREAD:		return p9_read;
	case P9_TWRITE:		return p9_write;
	case P9_TCLUNK:		return p9_clunk;
	case P9_TREMOVE:	return p9_remove;
	case P9_TGETATTR:	return p9_getattr;
	case P9_TSETATTR:	return p9_setattr;
	case P9_TREADDIR:	return p9_readdir;
	case P9_TFSYNC:		return p9_fsync;
	case P9_TSTATFS:	return p9_statfs;
	case P9_TMKDIR:		return p9_mkdir;
	case P9_TSYMLINK:	return p9_symlink;
	case P9_TMKNOD:		return p9_mknod;
	case P9_TREADLINK:	return p9_readlink;
	case P9_TRENAME:	return p9_rename;
	case P9_TRENAMEAT:	return p9_renameat;
	case P9_TUNLINKAT:	return p9_unlinkat;
	case P9_TLINK:		return p9_link;
	case P9_TXATTRWALK:	return p9_xattrwalk;
	case P9_TFLUSH:		return p9_flush;
	case P9_TLOCK:		return p9_lock;
	case P9_TGETLOCK:	return p9_getlock;
	default:		return NULL;
	}
}

static void put_header(u8 *p, u32 size, u8 type, u16 tag)
{
	struct p9_out hdr = { .p = p, .cap = P9_HDR_SIZE };

	put32(&hdr, size);
	put8(&hdr, type);
	put16(&hdr, tag);
}

static size_t p9_error(u8 *resp, size_t cap, u16 tag, int err)
{
	struct p9_out out = { .p = resp, .cap = cap, .pos = P9_HDR_SIZE };

	if (cap < P9_HDR_SIZE + 4)
		return 0;
	put32(&out, (u32)err);
	put_header(resp, (u32)out.pos, P9_RLERROR, tag);
	return out.pos;
}

size_t p9__handle(struct p9_server *s, const u8 *req, size_t req_len, u8 *resp, size_t resp_cap)
{
	struct p9_in in = { .p = req, .len = req_len };
	size_t cap = resp_cap < s->msize ? resp_cap : s->msize;
	struct p9_out out = { .p = resp, .cap = cap, .pos = P9_HDR_SIZE };
	u32 size = get32(&in);
	u8 type = get8(&in);
	u16 tag = get16(&in);
	p9_handler *handler;
	int err;

	if (in.err)
		return p9_error(resp, cap, P9_NOTAG, EINVAL);
	/* The size field must not claim more than there is, nor more than msize. */
	if (size < P9_HDR_SIZE || size > req_len || size > s->msize)
		return p9_error(resp, cap, tag, EINVAL);
	in.len = size;
	if (cap < P9_HDR_SIZE + 4)
		return 0;
	handler = p9_handler_for(type);
	err = handler ? handler(s, &in, &out) : -EOPNOTSUPP;
	if (!err && out.full)
		err = -ENOBUFS;
	if (err)
		return p9_error(resp, cap, tag, -err);
	put_header(resp, (u32)out.pos, (u8)(type + 1), tag);
	return out.pos;
}

/* --- the server --- */

int p9__init(struct p9_server *s, const char *root)
{
	struct stat st;

	memset(s, 0, sizeof(*s));
	s->msize = P9_MAX_MSIZE;
	s->max_fids = P9_MAX_FIDS;
	s->root_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (s->root_fd < 0)
		return -errno;
	if (fstat(s->root_fd, &st)) {
		int err = -errno;

		close(s->root_fd);
		return err;
	}
	s->root_dev = st.st_dev;
	s->root_ino = st.st_ino;
	s->scratch = malloc(P9_MAX_MSIZE);
	if (!s->scratch) {
		close(s->root_fd);
		return -ENOMEM;
	}
	return 0;
}

void p9__reset(struct p9_server *s)
{
	p9fs__clunk_all(s);
	s->msize = P9_MAX_MSIZE;
}

void p9__destroy(struct p9_server *s)
{
	p9fs__clunk_all(s);
	close(s->root_fd);
	free(s->scratch);
	s->root_fd = -1;
	s->scratch = NULL;
}
