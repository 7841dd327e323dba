/*
 * A 9P2000.L file server for one shared host directory, independent of virtio: messages in and
 * out are plain buffers, so it can be unit-tested and fuzzed without a guest.
 *
 * Every path the guest names is resolved beneath the share: names are single components, each
 * looked up with openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS) and O_NOFOLLOW from the fd of
 * its parent, and every operation works on fds (the *at() calls), never on host path strings.
 * The server never follows a symlink; the guest's kernel does that itself, in its own namespace.
 *
 * 9p-proto.c decodes and encodes messages and dispatches them; 9p-fs.c holds the fids and does
 * the file-system work. Not thread-safe: one thread serves a p9_server.
 */
#ifndef LKVM_P9_H
#define LKVM_P9_H

#include <sys/stat.h>
#include <sys/types.h>

#include "lkvm/util.h"

/* The largest msize we agree to: also the size of our request and reply buffers. */
#define P9_MAX_MSIZE	(512 * 1024)
#define P9_MIN_MSIZE	256
#define P9_HDR_SIZE	7		/* size[4] type[1] tag[2] */
#define P9_IOHDR_SIZE	11		/* Rread/Rreaddir: header and count[4] */
#define P9_MAX_WALK	16		/* names in one Twalk */
#define P9_MAX_FIDS	16384
#define P9_FID_BUCKETS	256
#define P9_NOTAG	0xffff
#define P9_NOFID	0xffffffffU
#define P9_VERSION	"9P2000.L"

/* Message types (9P2000.L and the 9P2000 core it keeps). */
enum p9_type {
	P9_TLERROR = 6, P9_RLERROR,
	P9_TSTATFS = 8, P9_RSTATFS,
	P9_TLOPEN = 12, P9_RLOPEN,
	P9_TLCREATE = 14, P9_RLCREATE,
	P9_TSYMLINK = 16, P9_RSYMLINK,
	P9_TMKNOD = 18, P9_RMKNOD,
	P9_TRENAME = 20, P9_RRENAME,
	P9_TREADLINK = 22, P9_RREADLINK,
	P9_TGETATTR = 24, P9_RGETATTR,
	P9_TSETATTR = 26, P9_RSETATTR,
	P9_TXATTRWALK = 30, P9_RXATTRWALK,
	P9_TXATTRCREATE = 32, P9_RXATTRCREATE,
	P9_TREADDIR = 40, P9_RREADDIR,
	P9_TFSYNC = 50, P9_RFSYNC,
	P9_TLOCK = 52, P9_RLOCK,
	P9_TGETLOCK = 54, P9_RGETLOCK,
	P9_TLINK = 70, P9_RLINK,
	P9_TMKDIR = 72, P9_RMKDIR,
	P9_TRENAMEAT = 74, P9_RRENAMEAT,
	P9_TUNLINKAT = 76, P9_RUNLINKAT,
	P9_TVERSION = 100, P9_RVERSION,
	P9_TAUTH = 102, P9_RAUTH,
	P9_TATTACH = 104, P9_RATTACH,
	P9_TFLUSH = 108, P9_RFLUSH,
	P9_TWALK = 110, P9_RWALK,
	P9_TREAD = 116, P9_RREAD,
	P9_TWRITE = 118, P9_RWRITE,
	P9_TCLUNK = 120, P9_RCLUNK,
	P9_TREMOVE = 122, P9_RREMOVE,
};

#define P9_QTDIR	0x80
#define P9_QTSYMLINK	0x02
#define P9_QTFILE	0x00

/* Open flags on the wire (Linux's generic values; arm64 differs in a few, so they are mapped). */
#define P9_DOTL_ACCMODE		03
#define P9_DOTL_NOACCESS	03
#define P9_DOTL_CREATE		0100
#define P9_DOTL_EXCL		0200
#define P9_DOTL_TRUNC		01000
#define P9_DOTL_APPEND		02000
#define P9_DOTL_NONBLOCK	04000
#define P9_DOTL_DSYNC		010000
#define P9_DOTL_DIRECTORY	0200000
#define P9_DOTL_SYNC		04000000

#define P9_AT_REMOVEDIR		0x200

/* Tsetattr valid bits. */
#define P9_SETATTR_MODE		0x001
#define P9_SETATTR_UID		0x002
#define P9_SETATTR_GID		0x004
#define P9_SETATTR_SIZE		0x008
#define P9_SETATTR_ATIME	0x010
#define P9_SETATTR_MTIME	0x020
#define P9_SETATTR_CTIME	0x040
#define P9_SETATTR_ATIME_SET	0x080
#define P9_SETATTR_MTIME_SET	0x100

#define P9_GETATTR_BASIC	0x7ffULL

/* Tlock types and Rlock status. */
#define P9_LOCK_TYPE_RDLCK	0
#define P9_LOCK_TYPE_WRLCK	1
#define P9_LOCK_TYPE_UNLCK	2
#define P9_LOCK_SUCCESS		0

struct p9_qid {
	u8 type;
	u32 version;
	u64 path;
};

/*
 * What a fid names: an O_PATH fd of the object and, unless it is the root or came from "..",
 * an O_PATH fd of its parent with its name there, to reopen it (O_PATH fds of files cannot be
 * reopened without /proc's magic links) and to rename or remove it.
 */
struct p9_node {
	int fd;
	int dir_fd;			/* -1: none */
	char *name;			/* NULL with dir_fd -1 */
	dev_t dev, pdev;		/* the object's and its parent's identity */
	ino_t ino, pino;
	mode_t mode;			/* the object's type and mode when it was looked up */
	u32 version;			/* and its qid version then */
};

struct p9_fid {
	u32 id;
	struct p9_node node;
	int open_fd;			/* -1 until Tlopen or Tlcreate */
	int open_acc;			/* O_RDONLY, O_WRONLY or O_RDWR */
	struct p9_fid *next;		/* its hash bucket */
};

struct p9_server {
	int root_fd;			/* O_PATH of the share, held open */
	dev_t root_dev;
	ino_t root_ino;
	u32 msize;			/* negotiated by Tversion; P9_MAX_MSIZE until then */
	bool no_openat2;		/* the kernel (or qemu-user) has no openat2 */
	bool no_fchmodat2;
	struct p9_fid *fids[P9_FID_BUCKETS];
	unsigned int nr_fids, max_fids;	/* max_fids: P9_MAX_FIDS */
	u8 *scratch;			/* P9_MAX_MSIZE: getdents buffer */
};

struct kvm;

/* virtio-9p (virtio/9p.c): one device per --9p or -d DIR share. Registers itself. */
int virtio_9p__init(struct kvm *kvm);
void virtio_9p__exit(struct kvm *kvm);

/* Opens the share root; returns 0 or a negative errno (not logged). */
int p9__init(struct p9_server *s, const char *root);
void p9__destroy(struct p9_server *s);
/* Forgets every fid and the negotiated msize, as after a device reset. */
void p9__reset(struct p9_server *s);

/*
 * Serves one request of req_len bytes: writes the reply (at most resp_cap bytes, and at most
 * msize) to resp and returns its length. Malformed requests get Rlerror(EINVAL), failures
 * Rlerror(errno). Returns 0 only when resp_cap cannot hold even an Rlerror.
 */
size_t p9__handle(struct p9_server *s, const u8 *req, size_t req_len, u8 *resp, size_t resp_cap);

/* --- the file-system side (9p-fs.c), for 9p-proto.c; all return 0 or a negative errno --- */

struct p9_fid *p9fs__fid(struct p9_server *s, u32 id);
/* A new fid id (-EEXIST if it is in use, -ENFILE if the table is full) that takes node. */
int p9fs__fid_add(struct p9_server *s, u32 id, struct p9_node *node, struct p9_fid **out);
void p9fs__fid_clunk(struct p9_server *s, struct p9_fid *fid);
void p9fs__clunk_all(struct p9_server *s);

void p9fs__node_release(struct p9_node *n);
int p9fs__node_root(struct p9_server *s, struct p9_node *n);
int p9fs__node_clone(const struct p9_node *from, struct p9_node *to);
/* Replaces *n by what name (a single component, or "..") in it names. */
int p9fs__node_walk(struct p9_server *s, struct p9_node *n, const char *name);
void p9fs__qid(const struct stat *st, struct p9_qid *qid);
void p9fs__node_qid(const struct p9_node *n, struct p9_qid *qid);
/* A name the guest may create or look up: one component, not "", "." or "..". */
bool p9fs__name_ok(const char *name);

int p9fs__lopen(struct p9_server *s, struct p9_fid *fid, u32 flags);
int p9fs__lcreate(struct p9_server *s, struct p9_fid *fid, const char *name, u32 flags,
		  u32 mode, struct p9_qid *qid);
int p9fs__getattr(struct p9_fid *fid, struct stat *st);
struct p9_setattr {
	u32 valid, mode, uid, gid;
	u64 size, atime_sec, atime_nsec, mtime_sec, mtime_nsec;
};
int p9fs__setattr(struct p9_server *s, struct p9_fid *fid, const struct p9_setattr *a);
/*
 * Tsetattr's chmod where there is neither fchmodat2 nor /proc: a real fd of the node's own object
 * (a directory's ".", a regular file by name with O_NOFOLLOW, checked to be the same file), then
 * fchmod. Anything else fails; never a symlink's target. Declared here for its tests.
 */
int p9fs__chmod_by_open(struct p9_server *s, const struct p9_node *n, mode_t mode);
/* Packs entries from offset on into buf (9P format); *len gets the bytes used. */
int p9fs__readdir(struct p9_server *s, struct p9_fid *fid, u64 offset, u8 *buf, u32 count,
		  u32 *len);
int p9fs__mkdir(struct p9_fid *dir, const char *name, u32 mode, struct p9_qid *qid);
int p9fs__symlink(struct p9_fid *dir, const char *name, const char *target, struct p9_qid *qid);
int p9fs__mknod(struct p9_fid *dir, const char *name, u32 mode, struct p9_qid *qid);
int p9fs__readlink(struct p9_fid *fid, char *buf, size_t size);
int p9fs__link(struct p9_fid *dir, struct p9_fid *fid, const char *name);
int p9fs__renameat(struct p9_server *s, struct p9_fid *olddir, const char *oldname,
		   struct p9_fid *newdir, const char *newname);
int p9fs__rename(struct p9_server *s, struct p9_fid *fid, struct p9_fid *newdir,
		 const char *newname);
int p9fs__unlinkat(struct p9_fid *dir, const char *name, u32 flags);
int p9fs__remove(struct p9_fid *fid);

#endif
