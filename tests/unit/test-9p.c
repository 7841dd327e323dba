/*
 * The 9P2000.L server against a temporary directory: the message parser on truncated, lying and
 * oversized messages, each operation, and attempts to reach files outside the share. Then the
 * virtio-9p device through the MMIO bus: its identity, config space and a request round trip.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/virtio_9p.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_mmio.h>

#include "lkvm/kvm.h"
#include "lkvm/memory-map.h"
#include "lkvm/p9.h"
#include "lkvm/virtio.h"
#include "suites.h"
#include "vdriver.h"

#define ROOT	0		/* the fid attached in setup */

static struct {
	char top[64];			/* the test's directory: share/ and the marker outside it */
	char share[96];
	struct p9_server srv;
	u8 msg[P9_MAX_MSIZE];
	size_t len;
	u8 resp[P9_MAX_MSIZE];
	size_t rlen, rpos;
	u16 tag;
	u32 qid_version;		/* of the last qid rqid read */
} t;

/* --- building requests and reading replies --- */

static void m_put(u64 v, unsigned int bytes)
{
	for (unsigned int i = 0; i < bytes; i++)
		t.msg[t.len++] = (u8)(v >> (8 * i));
}

static void m8(u8 v) { m_put(v, 1); }
static void m16(u16 v) { m_put(v, 2); }
static void m32(u32 v) { m_put(v, 4); }
static void m64(u64 v) { m_put(v, 8); }

static void mstr(const char *s)
{
	m16((u16)strlen(s));
	memcpy(t.msg + t.len, s, strlen(s));
	t.len += strlen(s);
}

static void m_begin(u8 type)
{
	t.len = 0;
	m32(0);
	m8(type);
	m16(++t.tag);
}

static void m_size(void)
{
	u32 len = (u32)t.len;

	memcpy(t.msg, &len, 4);		/* the test hosts are little-endian */
}

static u64 r_get(unsigned int bytes)
{
	u64 v = 0;

	ck_assert_uint_le(t.rpos + bytes, t.rlen);
	for (unsigned int i = 0; i < bytes; i++)
		v |= (u64)t.resp[t.rpos++] << (8 * i);
	return v;
}

static u8 r8(void) { return (u8)r_get(1); }
static u16 r16(void) { return (u16)r_get(2); }
static u32 r32(void) { return (u32)r_get(4); }
static u64 r64(void) { return r_get(8); }

static void rstr(char *buf, size_t size)
{
	u16 len = r16();

	ck_assert_uint_lt(len, size);
	ck_assert_uint_le(t.rpos + len, t.rlen);
	memcpy(buf, t.resp + t.rpos, len);
	buf[len] = '\0';
	t.rpos += len;
}

/* Sends the message as built (size field as set); returns the reply's type, header checked. */
static u8 send_raw(size_t len, size_t cap)
{
	u8 type;

	t.rlen = p9__handle(&t.srv, t.msg, len, t.resp, cap);
	t.rpos = 0;
	if (!t.rlen)
		return 0;
	ck_assert_uint_ge(t.rlen, P9_HDR_SIZE);
	ck_assert_uint_eq(r32(), t.rlen);
	type = r8();
	r16();
	return type;
}

static u8 rpc(void)
{
	m_size();
	return send_raw(t.len, sizeof(t.resp));
}

/* The request fails with errno err. */
static void expect_err(int err)
{
	ck_assert_uint_eq(rpc(), P9_RLERROR);
	ck_assert_int_eq((int)r32(), err);
}

static void expect_ok(u8 rtype)
{
	u8 type = rpc();

	if (type == P9_RLERROR)
		ck_abort_msg("Rlerror %d, expected type %u", (int)r32(), rtype);
	ck_assert_uint_eq(type, rtype);
}

/* Reads a qid: its type; its path into *path, its version into t.qid_version. */
static u8 rqid(u64 *path)
{
	u8 type = r8();

	t.qid_version = r32();
	*path = r64();
	return type;
}

/* --- operations, as the guest's client would send them --- */

/* Twalk fid -> newfid through up to four names (NULL-terminated); returns the Rwalk count. */
static int walk(u32 fid, u32 newfid, const char *n1, const char *n2, const char *n3)
{
	const char *names[] = { n1, n2, n3 };
	u16 nr = 0;
	u8 type;

	while (nr < 3 && names[nr])
		nr++;
	m_begin(P9_TWALK);
	m32(fid);
	m32(newfid);
	m16(nr);
	for (u16 i = 0; i < nr; i++)
		mstr(names[i]);
	type = rpc();
	if (type == P9_RLERROR)
		return -(int)r32();
	ck_assert_uint_eq(type, P9_RWALK);
	return r16();
}

static void lopen(u32 fid, u32 flags)
{
	m_begin(P9_TLOPEN);
	m32(fid);
	m32(flags);
	expect_ok(P9_RLOPEN);
}

static void lcreate(u32 dirfid, const char *name, u32 flags)
{
	m_begin(P9_TLCREATE);
	m32(dirfid);
	mstr(name);
	m32(flags);
	m32(0644);
	m32(0);
	expect_ok(P9_RLCREATE);
}

static void twrite(u32 fid, u64 off, const char *data)
{
	m_begin(P9_TWRITE);
	m32(fid);
	m64(off);
	m32((u32)strlen(data));
	memcpy(t.msg + t.len, data, strlen(data));
	t.len += strlen(data);
	expect_ok(P9_RWRITE);
	ck_assert_uint_eq(r32(), strlen(data));
}

/* Tread into buf (NUL-terminated); returns the count. */
static u32 tread(u32 fid, u64 off, u32 count, char *buf, size_t size)
{
	u32 n;

	m_begin(P9_TREAD);
	m32(fid);
	m64(off);
	m32(count);
	expect_ok(P9_RREAD);
	n = r32();
	ck_assert_uint_eq(t.rlen, P9_IOHDR_SIZE + n);
	if (buf) {
		ck_assert_uint_lt(n, size);
		memcpy(buf, t.resp + t.rpos, n);
		buf[n] = '\0';
	}
	return n;
}

static void clunk(u32 fid)
{
	m_begin(P9_TCLUNK);
	m32(fid);
	expect_ok(P9_RCLUNK);
}

static void getattr(u32 fid, u32 *mode, u64 *size, u64 *nlink)
{
	u64 path;

	m_begin(P9_TGETATTR);
	m32(fid);
	m64(P9_GETATTR_BASIC);
	expect_ok(P9_RGETATTR);
	ck_assert_uint_eq(r64(), P9_GETATTR_BASIC);
	rqid(&path);
	*mode = r32();
	r32();
	r32();
	*nlink = r64();
	r64();
	*size = r64();
	ck_assert_uint_eq(t.rlen, P9_HDR_SIZE + 8 + 13 + 12 + 8 * 15);
}

static void mkdir_at(u32 dirfid, const char *name)
{
	m_begin(P9_TMKDIR);
	m32(dirfid);
	mstr(name);
	m32(0755);
	m32(0);
	expect_ok(P9_RMKDIR);
}

/* Tsetattr of mode, uid and gid only (as valid says). */
static void setattr_ids(u32 fid, u32 valid, u32 mode, u32 uid, u32 gid)
{
	m_begin(P9_TSETATTR);
	m32(fid);
	m32(valid);
	m32(mode);
	m32(uid);
	m32(gid);
	for (int i = 0; i < 5; i++)
		m64(0);
}

static void chmod_fid(u32 fid, u32 mode)
{
	setattr_ids(fid, P9_SETATTR_MODE, mode, 0, 0);
}

/* --- the host side --- */

static char *host_path(const char *rel)
{
	static char bufs[2][256];	/* two: rename(host_path(a), host_path(b)) */
	static unsigned int next;
	char *buf = bufs[next++ % 2];

	snprintf(buf, 256, "%s/%s", t.share, rel);
	return buf;
}

static void host_write(const char *path, const char *data)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, data, strlen(data)), (ssize_t)strlen(data));
	close(fd);
}

static bool host_exists(const char *path)
{
	struct stat st;

	return !lstat(path, &st);
}

/* The permission bits of a file in the share (or, with "../", next to it). */
static mode_t host_mode(const char *rel)
{
	struct stat st;

	ck_assert_int_eq(lstat(host_path(rel), &st), 0);
	return st.st_mode & 07777;
}

static int rm_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return type == FTW_DP ? rmdir(path) : unlink(path);
}

static void setup(void)
{
	char marker[128];

	memset(&t, 0, sizeof(t));
	strcpy(t.top, "/tmp/lkvm-unit-9p-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(t.top));
	snprintf(t.share, sizeof(t.share), "%s/share", t.top);
	ck_assert_int_eq(mkdir(t.share, 0755), 0);
	snprintf(marker, sizeof(marker), "%s/outside", t.top);
	host_write(marker, "host secret\n");
	host_write(host_path("hello"), "hello, world\n");
	ck_assert_int_eq(p9__init(&t.srv, t.share), 0);
	m_begin(P9_TVERSION);
	m32(8192);
	mstr("9P2000.L");
	expect_ok(P9_RVERSION);
	m_begin(P9_TATTACH);
	m32(ROOT);
	m32(P9_NOFID);
	mstr("user");
	mstr("");
	m32(0);
	expect_ok(P9_RATTACH);
}

static void teardown(void)
{
	p9__destroy(&t.srv);
	nftw(t.top, rm_one, 16, FTW_PHYS | FTW_DEPTH);
}

/* --- the parser --- */

START_TEST(version_negotiates_msize)
{
	char version[32];

	m_begin(P9_TVERSION);
	m32(1 << 30);
	mstr("9P2000.L");
	expect_ok(P9_RVERSION);
	ck_assert_uint_eq(r32(), P9_MAX_MSIZE);
	rstr(version, sizeof(version));
	ck_assert_str_eq(version, "9P2000.L");

	m_begin(P9_TVERSION);
	m32(4096);
	mstr("9P2000.u");
	expect_ok(P9_RVERSION);
	ck_assert_uint_eq(r32(), 4096);
	rstr(version, sizeof(version));
	ck_assert_str_eq(version, "unknown");

	m_begin(P9_TVERSION);
	m32(16);
	mstr("9P2000.L");
	expect_err(EINVAL);
	/* A new session: the old fids are gone. */
	ck_assert_int_eq(walk(ROOT, 1, NULL, NULL, NULL), -EBADF);
}
END_TEST

START_TEST(replies_respect_msize)
{
	char big[6000];

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	lcreate(ROOT, "f", 2);			/* the fid is now the open file */
	twrite(ROOT, 0, big);
	twrite(ROOT, sizeof(big) - 1, big);
	ck_assert_uint_eq(tread(ROOT, 0, 100000, NULL, 0), 8192 - P9_IOHDR_SIZE);
	/* A message longer than msize is refused, even if it is all there. */
	m_begin(P9_TWRITE);
	m32(ROOT);
	m64(0);
	m32(8200);
	memset(t.msg + t.len, 'y', 8200);
	t.len += 8200;
	expect_err(EINVAL);
	/* And a small reply buffer bounds the read further. */
	m_begin(P9_TREAD);
	m32(ROOT);
	m64(0);
	m32(1000);
	m_size();
	ck_assert_uint_eq(send_raw(t.len, 100), P9_RREAD);
	ck_assert_uint_eq(t.rlen, 100);
	ck_assert_uint_eq(r32(), 100 - P9_IOHDR_SIZE);
}
END_TEST

START_TEST(short_messages)
{
	for (size_t len = 0; len < P9_HDR_SIZE; len++) {
		memset(t.msg, 0xff, 8);
		ck_assert_uint_eq(send_raw(len, sizeof(t.resp)), P9_RLERROR);
		ck_assert_int_eq((int)r32(), EINVAL);
	}
	/* No room for any reply: nothing written. */
	m_begin(P9_TCLUNK);
	m32(ROOT);
	m_size();
	ck_assert_uint_eq(send_raw(t.len, 10), 0);
	ck_assert_int_eq(walk(ROOT, 1, NULL, NULL, NULL), 0);	/* and not clunked */
}
END_TEST

START_TEST(size_field_lies)
{
	m_begin(P9_TCLUNK);
	m32(ROOT);
	m_size();
	t.msg[0] = 20;				/* more than there is */
	ck_assert_uint_eq(send_raw(t.len, sizeof(t.resp)), P9_RLERROR);
	ck_assert_int_eq((int)r32(), EINVAL);
	t.msg[0] = 5;				/* less than a header */
	ck_assert_uint_eq(send_raw(t.len, sizeof(t.resp)), P9_RLERROR);
	ck_assert_int_eq((int)r32(), EINVAL);
	t.msg[0] = 7;				/* no fid: truncated body */
	ck_assert_uint_eq(send_raw(t.len, sizeof(t.resp)), P9_RLERROR);
	ck_assert_int_eq((int)r32(), EINVAL);
	memset(t.msg, 0xff, 4);
	ck_assert_uint_eq(send_raw(t.len, sizeof(t.resp)), P9_RLERROR);
	ck_assert_int_eq((int)r32(), EINVAL);
	/* The fid survived every one of them. */
	ck_assert_int_eq(walk(ROOT, 1, NULL, NULL, NULL), 0);
}
END_TEST

/* Every prefix of a valid request, with its size field saying so, is malformed and harmless. */
START_TEST(truncated_bodies_do_nothing)
{
	size_t full;

	m_begin(P9_TMKDIR);
	m32(ROOT);
	mstr("newdir");
	m32(0755);
	m32(0);
	full = t.len;
	for (size_t len = P9_HDR_SIZE; len < full; len++) {
		u32 l = (u32)len;

		memcpy(t.msg, &l, 4);
		ck_assert_uint_eq(send_raw(len, sizeof(t.resp)), P9_RLERROR);
		ck_assert_int_eq((int)r32(), EINVAL);
		ck_assert(!host_exists(host_path("newdir")));
	}
	m_size();
	ck_assert_uint_eq(send_raw(full, sizeof(t.resp)), P9_RMKDIR);
	ck_assert(host_exists(host_path("newdir")));
}
END_TEST

START_TEST(strings_past_the_end)
{
	m_begin(P9_TWALK);
	m32(ROOT);
	m32(1);
	m16(1);
	m16(200);				/* a 200-byte name with 5 bytes there */
	memcpy(t.msg + t.len, "hello", 5);
	t.len += 5;
	expect_err(EINVAL);
	ck_assert_int_eq(walk(1, 2, NULL, NULL, NULL), -EBADF);
}
END_TEST

START_TEST(strings_with_nul_or_too_long)
{
	char name[300];

	m_begin(P9_TMKDIR);
	m32(ROOT);
	m16(5);
	memcpy(t.msg + t.len, "ab\0cd", 5);
	t.len += 5;
	m32(0755);
	m32(0);
	expect_err(EINVAL);
	ck_assert(!host_exists(host_path("ab")));

	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	m_begin(P9_TMKDIR);
	m32(ROOT);
	mstr(name);
	m32(0755);
	m32(0);
	expect_err(ENAMETOOLONG);
}
END_TEST

START_TEST(oversized_counts)
{
	/* Twrite claiming more data than the message holds. */
	lcreate(ROOT, "f", 2);
	m_begin(P9_TWRITE);
	m32(ROOT);
	m64(0);
	m32(100);
	memcpy(t.msg + t.len, "abc", 3);
	t.len += 3;
	expect_err(EINVAL);
	ck_assert_uint_eq(tread(ROOT, 0, 0xffffffff, NULL, 0), 0);	/* nothing was written */
	/* Twalk with more than 16 names. */
	m_begin(P9_TWALK);
	m32(ROOT);
	m32(5);
	m16(17);
	for (int i = 0; i < 17; i++)
		mstr("x");
	expect_err(EINVAL);
	/* An offset beyond off_t. */
	m_begin(P9_TREAD);
	m32(ROOT);
	m64(1ULL << 63);
	m32(10);
	expect_err(EINVAL);
}
END_TEST

START_TEST(bad_fids)
{
	u32 mode;
	u64 size, nlink;

	m_begin(P9_TGETATTR);
	m32(77);
	m64(0);
	expect_err(EBADF);
	ck_assert_int_eq(walk(77, 78, NULL, NULL, NULL), -EBADF);
	/* Reuse: attach, or walk to, a fid in use. */
	m_begin(P9_TATTACH);
	m32(ROOT);
	m32(P9_NOFID);
	mstr("u");
	mstr("");
	m32(0);
	expect_err(EEXIST);
	ck_assert_int_eq(walk(ROOT, 1, NULL, NULL, NULL), 0);
	ck_assert_int_eq(walk(ROOT, 1, "hello", NULL, NULL), -EEXIST);
	/* Walking a fid onto itself is allowed. */
	ck_assert_int_eq(walk(1, 1, "hello", NULL, NULL), 1);
	getattr(1, &mode, &size, &nlink);
	ck_assert(S_ISREG(mode));
	ck_assert_uint_eq(size, 13);
	clunk(1);
	m_begin(P9_TCLUNK);
	m32(1);
	expect_err(EBADF);
	/* An open fid cannot be walked onto itself: it keeps naming what it opened. */
	ck_assert_int_eq(walk(ROOT, 1, "hello", NULL, NULL), 1);
	lopen(1, 0);
	ck_assert_int_eq(walk(1, 1, "..", NULL, NULL), -EBUSY);
	ck_assert_int_eq(walk(1, 2, NULL, NULL, NULL), 0);
	clunk(1);
	/* NOFID is never a fid. */
	ck_assert_int_eq(walk(ROOT, P9_NOFID, NULL, NULL, NULL), -EINVAL);
	/* I/O on fids that are not open. */
	m_begin(P9_TREAD);
	m32(ROOT);
	m64(0);
	m32(10);
	expect_err(EBADF);
	m_begin(P9_TREADDIR);
	m32(ROOT);
	m64(0);
	m32(1000);
	expect_err(EBADF);
}
END_TEST

START_TEST(fid_table_is_bounded)
{
	u32 id;

	t.srv.max_fids = 100;
	for (id = 1; id < 100; id++)
		ck_assert_int_eq(walk(ROOT, id, NULL, NULL, NULL), 0);
	ck_assert_int_eq(walk(ROOT, id, NULL, NULL, NULL), -ENFILE);
	clunk(5);
	ck_assert_int_eq(walk(ROOT, id, NULL, NULL, NULL), 0);
}
END_TEST

START_TEST(unknown_types)
{
	m_begin(P9_TAUTH);
	m32(1);
	mstr("u");
	mstr("");
	expect_err(EOPNOTSUPP);
	m_begin(250);
	expect_err(EOPNOTSUPP);
	m_begin(P9_RVERSION);			/* a reply type */
	expect_err(EOPNOTSUPP);
	m_begin(P9_TXATTRWALK);
	m32(ROOT);
	m32(1);
	mstr("user.x");
	expect_err(EOPNOTSUPP);
	m_begin(P9_TFLUSH);
	m16(3);
	expect_ok(P9_RFLUSH);
}
END_TEST

/* --- operations --- */

START_TEST(create_write_read)
{
	char buf[64];
	u32 mode;
	u64 size, nlink;

	ck_assert_int_eq(walk(ROOT, 1, NULL, NULL, NULL), 0);
	lcreate(1, "new", 2);			/* O_RDWR */
	twrite(1, 0, "abcdef");
	twrite(1, 3, "XY");
	ck_assert_uint_eq(tread(1, 0, 100, buf, sizeof(buf)), 6);
	ck_assert_str_eq(buf, "abcXYf");
	ck_assert_uint_eq(tread(1, 4, 1, buf, sizeof(buf)), 1);
	ck_assert_str_eq(buf, "Y");
	ck_assert_uint_eq(tread(1, 100, 10, buf, sizeof(buf)), 0);
	getattr(1, &mode, &size, &nlink);
	ck_assert(S_ISREG(mode));
	ck_assert_uint_eq(mode & 0600, 0600);
	ck_assert_uint_eq(size, 6);
	m_begin(P9_TFSYNC);
	m32(1);
	m32(0);
	expect_ok(P9_RFSYNC);
	clunk(1);

	/* Read it back through a new fid, read-only: writes are refused. */
	ck_assert_int_eq(walk(ROOT, 2, "new", NULL, NULL), 1);
	lopen(2, 0);
	ck_assert_uint_eq(tread(2, 0, 100, buf, sizeof(buf)), 6);
	m_begin(P9_TWRITE);
	m32(2);
	m64(0);
	m32(1);
	m8('z');
	expect_err(EBADF);
	m_begin(P9_TLOPEN);			/* open twice */
	m32(2);
	m32(0);
	expect_err(EBUSY);
	/* Creating what exists, with O_EXCL. */
	ck_assert_int_eq(walk(ROOT, 3, NULL, NULL, NULL), 0);
	m_begin(P9_TLCREATE);
	m32(3);
	mstr("new");
	m32(2 | P9_DOTL_EXCL);
	m32(0644);
	m32(0);
	expect_err(EEXIST);
}
END_TEST

/* The guest applied its umask: lkvm's own (077 here) takes nothing more away. */
START_TEST(create_keeps_the_guests_mode)
{
	mode_t old = umask(077);
	struct stat st;

	ck_assert_int_eq(walk(ROOT, 1, NULL, NULL, NULL), 0);
	m_begin(P9_TLCREATE);
	m32(1);
	mstr("shared");
	m32(1);
	m32(0664);
	m32(0);
	expect_ok(P9_RLCREATE);
	m_begin(P9_TMKDIR);
	m32(ROOT);
	mstr("dir");
	m32(0775);
	m32(0);
	expect_ok(P9_RMKDIR);
	ck_assert_int_eq(stat(host_path("shared"), &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0664);
	ck_assert_int_eq(stat(host_path("dir"), &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0775);
	umask(old);
}
END_TEST

START_TEST(lopen_truncate_and_append)
{
	char buf[64];

	ck_assert_int_eq(walk(ROOT, 1, "hello", NULL, NULL), 1);
	lopen(1, 1 | P9_DOTL_TRUNC);
	twrite(1, 0, "one");
	clunk(1);
	ck_assert_int_eq(walk(ROOT, 1, "hello", NULL, NULL), 1);
	lopen(1, 2 | P9_DOTL_APPEND);
	twrite(1, 0, "two");
	ck_assert_uint_eq(tread(1, 0, 64, buf, sizeof(buf)), 6);
	ck_assert_str_eq(buf, "onetwo");
	m_begin(P9_TLOPEN);			/* NOACCESS */
	m32(ROOT);
	m32(3);
	expect_err(EINVAL);
	m_begin(P9_TLOPEN);			/* a directory for writing */
	m32(ROOT);
	m32(1);
	expect_err(EISDIR);
}
END_TEST

/* Treaddir from offset 0 on, in small steps: every name once. */
static unsigned int list_dir(u32 fid, const char *want, u32 count)
{
	unsigned int found = 0, entries = 0;
	u64 offset = 0;

	for (;;) {
		u32 n;
		size_t end;

		m_begin(P9_TREADDIR);
		m32(fid);
		m64(offset);
		m32(count);
		expect_ok(P9_RREADDIR);
		n = r32();
		if (!n)
			break;
		end = t.rpos + n;
		ck_assert_uint_eq(end, t.rlen);
		while (t.rpos < end) {
			char name[256];
			u64 path;

			rqid(&path);
			offset = r64();
			r8();
			rstr(name, sizeof(name));
			entries++;
			if (!strcmp(name, want))
				found++;
		}
		ck_assert_uint_lt(entries, 1000);
	}
	ck_assert_uint_eq(found, 1);
	return entries;
}

/* The version Linux's caches need (0: never cached), QEMU's: mtime ^ size << 8. */
static u32 host_set(const char *rel, const char *data, time_t mtime)
{
	struct timespec ts[2] = { { .tv_sec = mtime }, { .tv_sec = mtime } };

	host_write(host_path(rel), data);
	ck_assert_int_eq(utimensat(AT_FDCWD, host_path(rel), ts, 0), 0);
	return (u32)(mtime ^ ((time_t)strlen(data) << 8));
}

/* Every qid of a file (walk, getattr, lopen) carries its version, which follows its content. */
START_TEST(qid_versions_follow_content)
{
	u32 v1 = host_set("f", "first", 1700000000), v2, mode;
	u64 size, nlink, path;

	ck_assert_uint_ne(v1, 0);
	m_begin(P9_TWALK);
	m32(ROOT);
	m32(1);
	m16(1);
	mstr("f");
	expect_ok(P9_RWALK);
	ck_assert_uint_eq(r16(), 1);
	rqid(&path);
	ck_assert_uint_eq(t.qid_version, v1);
	getattr(1, &mode, &size, &nlink);
	ck_assert_uint_eq(t.qid_version, v1);
	lopen(1, O_RDONLY);
	rqid(&path);
	ck_assert_uint_eq(t.qid_version, v1);

	v2 = host_set("f", "second version", 1700000000);	/* the same mtime, a new size */
	ck_assert_uint_ne(v2, v1);
	getattr(1, &mode, &size, &nlink);
	ck_assert_uint_eq(t.qid_version, v2);
	host_set("f", "second version", 1700000001);
	getattr(1, &mode, &size, &nlink);
	ck_assert_uint_eq(t.qid_version, v2 ^ 1);
}
END_TEST

START_TEST(mkdir_and_readdir)
{
	char name[16];

	ck_assert_int_eq(walk(ROOT, 1, NULL, NULL, NULL), 0);
	mkdir_at(ROOT, "d");
	ck_assert_int_eq(walk(ROOT, 2, "d", NULL, NULL), 1);
	for (int i = 0; i < 40; i++) {
		snprintf(name, sizeof(name), "file%02d", i);
		ck_assert_int_eq(walk(2, 3, NULL, NULL, NULL), 0);
		lcreate(3, name, 1);
		clunk(3);
	}
	lopen(2, 0);
	/* 40 files, "." and "..": in one go and in steps of about one entry. */
	ck_assert_uint_eq(list_dir(2, "file17", 4000), 42);
	ck_assert_uint_eq(list_dir(2, "file39", 40), 42);
	lopen(1, 0);
	ck_assert_uint_eq(list_dir(1, "d", 4000), 4);		/* ., .., hello, d */
	/* Too small for even one entry: nothing, not an overrun. */
	m_begin(P9_TREADDIR);
	m32(2);
	m64(0);
	m32(10);
	expect_ok(P9_RREADDIR);
	ck_assert_uint_eq(r32(), 0);
	m_begin(P9_TMKDIR);
	m32(ROOT);
	mstr("d");
	m32(0755);
	m32(0);
	expect_err(EEXIST);
}
END_TEST

START_TEST(symlink_and_readlink)
{
	char target[64];
	u64 path;

	m_begin(P9_TSYMLINK);
	m32(ROOT);
	mstr("ln");
	mstr("some/where/../else");
	m32(0);
	expect_ok(P9_RSYMLINK);
	ck_assert_uint_eq(rqid(&path), P9_QTSYMLINK);
	ck_assert_int_eq(walk(ROOT, 1, "ln", NULL, NULL), 1);
	m_begin(P9_TREADLINK);
	m32(1);
	expect_ok(P9_RREADLINK);
	rstr(target, sizeof(target));
	ck_assert_str_eq(target, "some/where/../else");
	ck_assert_int_eq(readlink(host_path("ln"), target, sizeof(target)), 18);
	m_begin(P9_TREADLINK);			/* not a symlink */
	m32(ROOT);
	expect_err(EINVAL);
}
END_TEST

START_TEST(rename_keeps_fids_working)
{
	char buf[32];

	mkdir_at(ROOT, "d");
	ck_assert_int_eq(walk(ROOT, 1, "hello", NULL, NULL), 1);
	ck_assert_int_eq(walk(ROOT, 2, "d", NULL, NULL), 1);
	/* Trenameat hello -> d/moved: fid 1 still opens it. */
	m_begin(P9_TRENAMEAT);
	m32(ROOT);
	mstr("hello");
	m32(2);
	mstr("moved");
	expect_ok(P9_RRENAMEAT);
	ck_assert(!host_exists(host_path("hello")));
	ck_assert(host_exists(host_path("d/moved")));
	ck_assert_int_eq(walk(1, 3, NULL, NULL, NULL), 0);
	lopen(3, 0);
	ck_assert_uint_eq(tread(3, 0, 32, buf, sizeof(buf)), 13);
	/* Trename of the fid itself, back to the root as "back". */
	m_begin(P9_TRENAME);
	m32(1);
	m32(ROOT);
	mstr("back");
	expect_ok(P9_RRENAME);
	ck_assert(host_exists(host_path("back")));
	lopen(1, 0);
	ck_assert_uint_eq(tread(1, 0, 32, buf, sizeof(buf)), 13);
	/* A fid whose name now names another file is stale, not that other file. */
	ck_assert_int_eq(walk(ROOT, 4, "back", NULL, NULL), 1);
	ck_assert_int_eq(rename(host_path("back"), host_path("old")), 0);
	host_write(host_path("back"), "impostor");
	m_begin(P9_TLOPEN);
	m32(4);
	m32(0);
	expect_err(ESTALE);
}
END_TEST

START_TEST(unlink_remove_link)
{
	u32 mode;
	u64 size, nlink;

	mkdir_at(ROOT, "d");
	ck_assert_int_eq(walk(ROOT, 1, "hello", NULL, NULL), 1);
	m_begin(P9_TLINK);
	m32(ROOT);
	m32(1);
	mstr("hardlink");
	expect_ok(P9_RLINK);
	getattr(1, &mode, &size, &nlink);
	ck_assert_uint_eq(nlink, 2);
	m_begin(P9_TUNLINKAT);
	m32(ROOT);
	mstr("hardlink");
	m32(0);
	expect_ok(P9_RUNLINKAT);
	ck_assert(!host_exists(host_path("hardlink")));
	m_begin(P9_TUNLINKAT);			/* a directory without AT_REMOVEDIR */
	m32(ROOT);
	mstr("d");
	m32(0);
	expect_err(EISDIR);
	m_begin(P9_TUNLINKAT);
	m32(ROOT);
	mstr("d");
	m32(P9_AT_REMOVEDIR);
	expect_ok(P9_RUNLINKAT);
	ck_assert(!host_exists(host_path("d")));
	/* Tremove removes and clunks. */
	m_begin(P9_TREMOVE);
	m32(1);
	expect_ok(P9_RREMOVE);
	ck_assert(!host_exists(host_path("hello")));
	ck_assert_int_eq(walk(1, 2, NULL, NULL, NULL), -EBADF);
	/* The root cannot be removed, and its fid goes anyway. */
	ck_assert_int_eq(walk(ROOT, 3, NULL, NULL, NULL), 0);
	m_begin(P9_TREMOVE);
	m32(3);
	expect_err(EBUSY);
	ck_assert(host_exists(t.share));
}
END_TEST

START_TEST(mknod_refuses_devices)
{
	struct stat st;

	m_begin(P9_TMKNOD);
	m32(ROOT);
	mstr("fifo");
	m32(S_IFIFO | 0644);
	m32(0);
	m32(0);
	m32(0);
	expect_ok(P9_RMKNOD);
	ck_assert_int_eq(lstat(host_path("fifo"), &st), 0);
	ck_assert(S_ISFIFO(st.st_mode));
	m_begin(P9_TMKNOD);
	m32(ROOT);
	mstr("null");
	m32(S_IFCHR | 0666);
	m32(1);
	m32(3);
	m32(0);
	expect_err(EPERM);
	m_begin(P9_TMKNOD);
	m32(ROOT);
	mstr("blk");
	m32(S_IFBLK | 0666);
	m32(8);
	m32(0);
	m32(0);
	expect_err(EPERM);
	ck_assert(!host_exists(host_path("null")) && !host_exists(host_path("blk")));
	/* Opening the FIFO would block the server: refused. */
	ck_assert_int_eq(walk(ROOT, 1, "fifo", NULL, NULL), 1);
	m_begin(P9_TLOPEN);
	m32(1);
	m32(0);
	expect_err(EOPNOTSUPP);
}
END_TEST

START_TEST(setattr_mode_size_times)
{
	struct stat st;
	u32 mode;
	u64 size, nlink;

	ck_assert_int_eq(walk(ROOT, 1, "hello", NULL, NULL), 1);
	m_begin(P9_TSETATTR);
	m32(1);
	m32(P9_SETATTR_MODE | P9_SETATTR_SIZE | P9_SETATTR_MTIME | P9_SETATTR_MTIME_SET);
	m32(0600);
	m32(0);
	m32(0);
	m64(5);
	m64(0);
	m64(0);
	m64(1000000);
	m64(0);
	expect_ok(P9_RSETATTR);
	ck_assert_int_eq(stat(host_path("hello"), &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0600);
	ck_assert_int_eq(st.st_size, 5);
	ck_assert_int_eq(st.st_mtime, 1000000);
	getattr(1, &mode, &size, &nlink);
	ck_assert_uint_eq(size, 5);
	/* A directory's mode too. */
	mkdir_at(ROOT, "d");
	ck_assert_int_eq(walk(ROOT, 2, "d", NULL, NULL), 1);
	chmod_fid(2, 0711);
	expect_ok(P9_RSETATTR);
	ck_assert_uint_eq(host_mode("d"), 0711);
}
END_TEST

/* The guest may not make the share world-writable, or give it away; a no-op is fine. */
START_TEST(setattr_keeps_the_roots_mode_and_owner)
{
	struct stat st;

	ck_assert_int_eq(chmod(t.share, 0750), 0);
	ck_assert_int_eq(stat(t.share, &st), 0);
	chmod_fid(ROOT, 0777);
	expect_err(EPERM);
	/* Also through ".." (the root's own), and with the setuid bits that would be stripped. */
	mkdir_at(ROOT, "d");
	ck_assert_int_eq(walk(ROOT, 1, "d", "..", NULL), 2);
	chmod_fid(1, 0777);
	expect_err(EPERM);
	chmod_fid(1, 04750);
	expect_err(EPERM);
	setattr_ids(ROOT, P9_SETATTR_UID, 0, st.st_uid + 1, 0);
	expect_err(EPERM);
	setattr_ids(ROOT, P9_SETATTR_GID, 0, 0, st.st_gid + 1);
	expect_err(EPERM);
	setattr_ids(ROOT, P9_SETATTR_MODE | P9_SETATTR_ATIME | P9_SETATTR_MTIME, 0777, 0, 0);
	expect_err(EPERM);
	ck_assert_uint_eq(host_mode("."), 0750);
	/* What it has already: accepted, as are its times. */
	setattr_ids(ROOT, P9_SETATTR_MODE | P9_SETATTR_UID | P9_SETATTR_GID, 0750, st.st_uid,
		    st.st_gid);
	expect_ok(P9_RSETATTR);
	setattr_ids(1, P9_SETATTR_ATIME | P9_SETATTR_MTIME, 0, 0, 0);
	expect_ok(P9_RSETATTR);
	ck_assert_uint_eq(host_mode("."), 0750);
}
END_TEST

/* Whatever the guest asks for, nothing it creates or chmods is setuid or setgid on the host. */
START_TEST(no_setuid_or_setgid_from_the_guest)
{
	static const char *const names[] = { "file", "dir", "fifo", "node", "g/sub" };
	static const mode_t want[] = { 0755, 01775, 0640, 0755, 0755 };

	ck_assert_int_eq(walk(ROOT, 1, NULL, NULL, NULL), 0);
	m_begin(P9_TLCREATE);
	m32(1);
	mstr("file");
	m32(1);
	m32(06755);
	m32(0);
	expect_ok(P9_RLCREATE);
	m_begin(P9_TMKDIR);
	m32(ROOT);
	mstr("dir");
	m32(07775);
	m32(0);
	expect_ok(P9_RMKDIR);
	m_begin(P9_TMKNOD);
	m32(ROOT);
	mstr("fifo");
	m32(S_IFIFO | 06640);
	m32(0);
	m32(0);
	m32(0);
	expect_ok(P9_RMKNOD);
	m_begin(P9_TMKNOD);
	m32(ROOT);
	mstr("node");
	m32(S_IFREG | 04755);
	m32(0);
	m32(0);
	m32(0);
	expect_ok(P9_RMKNOD);
	/* Nor does a new directory inherit a setgid parent's bit. */
	ck_assert_int_eq(mkdir(host_path("g"), 0755), 0);
	ck_assert_int_eq(chmod(host_path("g"), 02775), 0);
	ck_assert_int_eq(walk(ROOT, 2, "g", NULL, NULL), 1);
	m_begin(P9_TMKDIR);
	m32(2);
	mstr("sub");
	m32(0755);
	m32(0);
	expect_ok(P9_RMKDIR);
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		ck_assert_msg(host_mode(names[i]) == want[i], "%s: mode %o, expected %o", names[i],
			      (unsigned int)host_mode(names[i]), (unsigned int)want[i]);
	/* chmod: the bits are dropped, the rest applies. */
	ck_assert_int_eq(walk(ROOT, 3, "hello", NULL, NULL), 1);
	chmod_fid(3, 06711);
	expect_ok(P9_RSETATTR);
	ck_assert_uint_eq(host_mode("hello"), 0711);
	chmod_fid(2, 03777);
	expect_ok(P9_RSETATTR);
	ck_assert_uint_eq(host_mode("g"), 01777);
}
END_TEST

/*
 * A host's setuid program in the share loses the bit once the guest opens it for writing: the
 * kernel would keep it for lkvm run as root, and the guest could make it run anything.
 */
START_TEST(writing_drops_setuid)
{
	host_write(host_path("suid"), "#!/bin/sh\n");
	host_write(host_path("sgid"), "#!/bin/sh\n");
	host_write(host_path("sgid-noexec"), "lock\n");
	ck_assert_int_eq(chmod(host_path("suid"), 04755), 0);
	ck_assert_int_eq(chmod(host_path("sgid"), 02755), 0);
	ck_assert_int_eq(chmod(host_path("sgid-noexec"), 02644), 0);	/* not a privilege */
	ck_assert_int_eq(walk(ROOT, 1, "suid", NULL, NULL), 1);
	lopen(1, O_RDONLY);
	ck_assert_uint_eq(host_mode("suid"), 04755);		/* reading changes nothing */
	ck_assert_int_eq(walk(ROOT, 2, "suid", NULL, NULL), 1);
	lopen(2, O_WRONLY);
	ck_assert_uint_eq(host_mode("suid"), 0755);
	/* Tlcreate of an existing file, and a truncate through Tsetattr. */
	ck_assert_int_eq(walk(ROOT, 3, NULL, NULL, NULL), 0);
	lcreate(3, "sgid", O_RDWR);
	ck_assert_uint_eq(host_mode("sgid"), 0755);
	ck_assert_int_eq(chmod(host_path("suid"), 04755), 0);
	ck_assert_int_eq(walk(ROOT, 4, "suid", NULL, NULL), 1);
	setattr_ids(4, P9_SETATTR_SIZE, 0, 0, 0);
	expect_ok(P9_RSETATTR);
	ck_assert_uint_eq(host_mode("suid"), 0755);
	ck_assert_int_eq(walk(ROOT, 5, "sgid-noexec", NULL, NULL), 1);
	lopen(5, O_WRONLY);
	ck_assert_uint_eq(host_mode("sgid-noexec"), 02644);
}
END_TEST

START_TEST(statfs_lock_getlock)
{
	char client[16];

	m_begin(P9_TSTATFS);
	m32(ROOT);
	expect_ok(P9_RSTATFS);
	ck_assert_uint_eq(t.rlen, P9_HDR_SIZE + 4 + 4 + 8 * 6 + 4);
	ck_assert_int_eq(walk(ROOT, 1, "hello", NULL, NULL), 1);
	m_begin(P9_TLOCK);			/* not open */
	m32(1);
	m8(P9_LOCK_TYPE_WRLCK);
	m32(0);
	m64(0);
	m64(0);
	m32(42);
	mstr("guest");
	expect_err(EBADF);
	lopen(1, 2);
	m_begin(P9_TLOCK);
	m32(1);
	m8(P9_LOCK_TYPE_WRLCK);
	m32(0);
	m64(0);
	m64(0);
	m32(42);
	mstr("guest");
	expect_ok(P9_RLOCK);
	ck_assert_uint_eq(r8(), P9_LOCK_SUCCESS);
	m_begin(P9_TGETLOCK);
	m32(1);
	m8(P9_LOCK_TYPE_RDLCK);
	m64(10);
	m64(20);
	m32(43);
	mstr("guest");
	expect_ok(P9_RGETLOCK);
	ck_assert_uint_eq(r8(), P9_LOCK_TYPE_UNLCK);
	ck_assert_uint_eq(r64(), 10);
	ck_assert_uint_eq(r64(), 20);
	ck_assert_uint_eq(r32(), 43);
	rstr(client, sizeof(client));
	ck_assert_str_eq(client, "guest");
	m_begin(P9_TLOCK);			/* a lock type that is none */
	m32(1);
	m8(7);
	m32(0);
	m64(0);
	m64(0);
	m32(42);
	mstr("guest");
	expect_err(EINVAL);
}
END_TEST

/* --- escapes --- */

START_TEST(dotdot_at_root_stays)
{
	u64 root_path, path;

	m_begin(P9_TGETATTR);
	m32(ROOT);
	m64(0);
	expect_ok(P9_RGETATTR);
	r64();
	rqid(&root_path);
	ck_assert_int_eq(walk(ROOT, 1, "..", "..", ".."), 3);
	m_begin(P9_TGETATTR);
	m32(1);
	m64(0);
	expect_ok(P9_RGETATTR);
	r64();
	ck_assert_uint_eq(rqid(&path), P9_QTDIR);
	ck_assert_uint_eq(path, root_path);
	ck_assert_int_eq(walk(1, 2, "..", "outside", NULL), 1);	/* no such file */
	ck_assert_int_eq(walk(2, 3, NULL, NULL, NULL), -EBADF);
	/* Up and down again inside the share works. */
	mkdir_at(ROOT, "d");
	ck_assert_int_eq(walk(ROOT, 3, "d", "..", "hello"), 3);
}
END_TEST

START_TEST(names_are_single_components)
{
	static const char *const bad[] = { "", ".", "a/b", "../outside", "/", "/etc", "x/" };

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		ck_assert_int_eq(walk(ROOT, 1, bad[i], NULL, NULL), -EINVAL);
		m_begin(P9_TLCREATE);
		m32(ROOT);
		mstr(bad[i]);
		m32(1);
		m32(0644);
		m32(0);
		expect_err(EINVAL);
		m_begin(P9_TMKDIR);
		m32(ROOT);
		mstr(bad[i]);
		m32(0755);
		m32(0);
		expect_err(EINVAL);
		m_begin(P9_TUNLINKAT);
		m32(ROOT);
		mstr(bad[i]);
		m32(0);
		expect_err(EINVAL);
		m_begin(P9_TSYMLINK);
		m32(ROOT);
		mstr(bad[i]);
		mstr("target");
		m32(0);
		expect_err(EINVAL);
	}
	ck_assert(host_exists(host_path("../outside")));
}
END_TEST

START_TEST(symlinks_are_never_followed)
{
	char buf[64];

	ck_assert_int_eq(symlink("/", host_path("toroot")), 0);
	ck_assert_int_eq(symlink("../..", host_path("up")), 0);
	ck_assert_int_eq(symlink("../outside", host_path("marker")), 0);
	/* Walking through them stops at the symlink. */
	ck_assert_int_eq(walk(ROOT, 1, "toroot", "etc", NULL), 1);
	ck_assert_int_eq(walk(ROOT, 1, "up", "tmp", NULL), 1);
	ck_assert_int_eq(walk(ROOT, 1, "marker", NULL, NULL), 1);
	/* Opening one fails; reading through it is impossible. */
	m_begin(P9_TLOPEN);
	m32(1);
	m32(0);
	expect_err(ELOOP);
	/* Creating a file over a symlink does not create or open its target. */
	ck_assert_int_eq(unlink(host_path("../outside")), 0);
	m_begin(P9_TLCREATE);
	m32(ROOT);
	mstr("marker");
	m32(1);
	m32(0644);
	m32(0);
	expect_err(ELOOP);
	ck_assert(!host_exists(host_path("../outside")));
	/* setattr on a symlink changes the link, not its target. */
	host_write(host_path("../outside"), "host secret\n");
	m_begin(P9_TSETATTR);
	m32(1);
	m32(P9_SETATTR_SIZE);
	m32(0);
	m32(0);
	m32(0);
	m64(0);
	for (int i = 0; i < 4; i++)
		m64(0);
	expect_err(ELOOP);
	ck_assert_int_eq(readlink(host_path("marker"), buf, sizeof(buf)), 10);
	ck_assert_uint_eq(strlen("host secret\n"), 12);
	{
		struct stat st;

		ck_assert_int_eq(stat(host_path("../outside"), &st), 0);
		ck_assert_int_eq(st.st_size, 12);
	}
	/* Hard-linking a symlink links the symlink. */
	m_begin(P9_TLINK);
	m32(ROOT);
	m32(1);
	mstr("marker2");
	expect_ok(P9_RLINK);
	ck_assert_int_eq(readlink(host_path("marker2"), buf, sizeof(buf)), 10);
}
END_TEST

START_TEST(renames_stay_in_the_tree)
{
	m_begin(P9_TRENAMEAT);
	m32(ROOT);
	mstr("hello");
	m32(ROOT);
	mstr("../stolen");
	expect_err(EINVAL);
	m_begin(P9_TRENAMEAT);
	m32(ROOT);
	mstr("../outside");
	m32(ROOT);
	mstr("gotit");
	expect_err(EINVAL);
	ck_assert_int_eq(walk(ROOT, 1, "hello", NULL, NULL), 1);
	m_begin(P9_TRENAME);
	m32(1);
	m32(ROOT);
	mstr("../../stolen");
	expect_err(EINVAL);
	/* The root has no name to rename. */
	ck_assert_int_eq(walk(ROOT, 2, "..", NULL, NULL), 1);
	m_begin(P9_TRENAME);
	m32(2);
	m32(ROOT);
	mstr("x");
	expect_err(EBUSY);
	ck_assert(host_exists(host_path("hello")));
	ck_assert(host_exists(host_path("../outside")));
	ck_assert(!host_exists(host_path("../stolen")));
}
END_TEST

/*
 * A directory walked to, then swapped for a symlink to "/" by the host: a new walk stops at the
 * symlink; the old fid still names the directory it had (moved, but still in the share).
 */
START_TEST(symlink_swapped_in_during_walk)
{
	mkdir_at(ROOT, "d");
	mkdir_at(ROOT, "keep");
	host_write(host_path("d/inner"), "inside");
	ck_assert_int_eq(walk(ROOT, 1, "d", NULL, NULL), 1);
	ck_assert_int_eq(rename(host_path("d"), host_path("keep/d")), 0);
	ck_assert_int_eq(symlink("/", host_path("d")), 0);
	ck_assert_int_eq(walk(ROOT, 2, "d", "etc", NULL), 1);
	ck_assert_int_eq(walk(1, 3, "inner", NULL, NULL), 1);
	ck_assert_int_eq(walk(1, 4, "etc", NULL, NULL), -ENOENT);
	/* Its ".." is now keep, still beneath the root. */
	ck_assert_int_eq(walk(1, 5, "..", "d", "inner"), 3);
}
END_TEST

START_TEST(dotdot_of_a_dir_moved_out)
{
	char out[128];

	mkdir_at(ROOT, "d");
	ck_assert_int_eq(walk(ROOT, 1, "d", NULL, NULL), 1);
	snprintf(out, sizeof(out), "%s/moved-out", t.top);
	ck_assert_int_eq(rename(host_path("d"), out), 0);
	/* ".." would now be the share's parent: refused. */
	ck_assert_int_eq(walk(1, 2, "..", NULL, NULL), -EXDEV);
	ck_assert_int_eq(walk(1, 2, "..", "outside", NULL), -EXDEV);
}
END_TEST

/*
 * chmod acts on the fid's own object. The last resort, without fchmodat2 or /proc, opens it by
 * name: a name that is now a symlink to a file outside (or names another file) is refused.
 */
START_TEST(chmod_never_follows_the_name)
{
	const struct p9_node *n;

	host_write(host_path("victim"), "v");
	host_write(host_path("other"), "o");
	ck_assert_int_eq(walk(ROOT, 1, "victim", NULL, NULL), 1);
	n = &p9fs__fid(&t.srv, 1)->node;
	ck_assert_int_eq(p9fs__chmod_by_open(&t.srv, n, 0640), 0);
	ck_assert_uint_eq(host_mode("victim"), 0640);
	ck_assert_int_eq(rename(host_path("victim"), host_path("moved")), 0);
	ck_assert_int_eq(symlink("../outside", host_path("victim")), 0);
	ck_assert_int_eq(p9fs__chmod_by_open(&t.srv, n, 0600), -ELOOP);
	ck_assert_uint_eq(host_mode("../outside"), 0644);
	ck_assert_int_eq(unlink(host_path("victim")), 0);
	ck_assert_int_eq(link(host_path("other"), host_path("victim")), 0);
	ck_assert_int_eq(p9fs__chmod_by_open(&t.srv, n, 0600), -ESTALE);
	ck_assert_uint_eq(host_mode("other"), 0644);
	/* Tsetattr, by whichever way this kernel has, changes the object the fid holds. */
	chmod_fid(1, 0604);
	expect_ok(P9_RSETATTR);
	ck_assert_uint_eq(host_mode("moved"), 0604);
	ck_assert_uint_eq(host_mode("other"), 0644);
	ck_assert_uint_eq(host_mode("../outside"), 0644);
	/* A symlink's own mode means nothing: EOPNOTSUPP, and its target is left alone. */
	ck_assert_int_eq(walk(ROOT, 2, "victim", NULL, NULL), 1);
	ck_assert_int_eq(unlink(host_path("victim")), 0);
	ck_assert_int_eq(symlink("../outside", host_path("victim")), 0);
	ck_assert_int_eq(walk(ROOT, 3, "victim", NULL, NULL), 1);
	chmod_fid(3, 0600);
	expect_err(EOPNOTSUPP);
	ck_assert_uint_eq(host_mode("../outside"), 0644);
	/* What cannot be opened safely (a FIFO) cannot be chmod'ed that way; a directory can. */
	ck_assert_int_eq(mkfifo(host_path("fifo"), 0644), 0);
	ck_assert_int_eq(walk(ROOT, 4, "fifo", NULL, NULL), 1);
	ck_assert_int_eq(p9fs__chmod_by_open(&t.srv, &p9fs__fid(&t.srv, 4)->node, 0600),
			 -EOPNOTSUPP);
	chmod_fid(4, 0600);				/* but Tsetattr can */
	expect_ok(P9_RSETATTR);
	ck_assert_uint_eq(host_mode("fifo"), 0600);
	ck_assert_int_eq(mkdir(host_path("d"), 0755), 0);
	ck_assert_int_eq(walk(ROOT, 5, "d", NULL, NULL), 1);
	ck_assert_int_eq(p9fs__chmod_by_open(&t.srv, &p9fs__fid(&t.srv, 5)->node, 0700), 0);
	ck_assert_uint_eq(host_mode("d"), 0700);
}
END_TEST

static struct {
	char name[256], decoy[256];
	atomic_bool stop;
} swap;

/* Swaps the fid's file and a symlink to the file outside, back and forth, atomically. */
static void *swapper(void *arg)
{
	(void)arg;
	while (!swap.stop)
		renameat2(AT_FDCWD, swap.name, AT_FDCWD, swap.decoy, RENAME_EXCHANGE);
	return NULL;
}

/*
 * The race the old fallback lost (Linux before 6.6, qemu-user): it checked the name, then chmod'ed
 * it following symlinks, so a symlink swapped in between (by a second, overlapping share, or a
 * host process) chmod'ed the file outside. Thousands of chmods under constant swapping.
 */
START_TEST(chmod_races_a_symlink_swap)
{
	pthread_t th;
	int errors = 0;

	host_write(host_path("victim"), "v");
	ck_assert_int_eq(symlink("../outside", host_path("decoy")), 0);
	ck_assert_int_eq(walk(ROOT, 1, "victim", NULL, NULL), 1);
	snprintf(swap.name, sizeof(swap.name), "%s", host_path("victim"));
	snprintf(swap.decoy, sizeof(swap.decoy), "%s", host_path("decoy"));
	swap.stop = false;
	ck_assert_int_eq(pthread_create(&th, NULL, swapper, NULL), 0);
	for (int i = 0; i < 3000 && host_mode("../outside") == 0644; i++) {
		chmod_fid(1, i & 1 ? 0600 : 0640);
		if (rpc() != P9_RSETATTR)
			errors++;
	}
	swap.stop = true;
	pthread_join(th, NULL);
	ck_assert_uint_eq(host_mode("../outside"), 0644);
	ck_assert_int_eq(errors, 0);
}
END_TEST

/*
 * Tlcreate of a name that exists: only a regular file is opened. A FIFO would block the server
 * (or a device node reach the host's device): refused without opening it, which inotify sees.
 */
START_TEST(lcreate_never_opens_a_fifo)
{
	char buf[4096];
	int in = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	ssize_t len;

	ck_assert_int_ge(in, 0);
	ck_assert_int_eq(mkfifo(host_path("fifo"), 0644), 0);
	ck_assert_int_eq(mkdir(host_path("d"), 0755), 0);
	ck_assert_int_ge(inotify_add_watch(in, t.share, IN_OPEN), 0);
	ck_assert_int_eq(walk(ROOT, 1, NULL, NULL, NULL), 0);
	for (u32 acc = 0; acc < 3; acc++) {
		m_begin(P9_TLCREATE);
		m32(1);
		mstr("fifo");
		m32(acc | P9_DOTL_TRUNC);
		m32(0644);
		m32(0);
		expect_err(EOPNOTSUPP);
	}
	len = read(in, buf, sizeof(buf));
	for (ssize_t pos = 0; pos < len;) {
		const struct inotify_event *e = (const void *)(buf + pos);

		ck_assert_msg(!e->len || strcmp(e->name, "fifo"), "lkvm opened the FIFO");
		pos += (ssize_t)sizeof(*e) + e->len;
	}
	close(in);
	m_begin(P9_TLCREATE);
	m32(1);
	mstr("d");
	m32(0);
	m32(0644);
	m32(0);
	expect_err(EISDIR);
	/* An existing file is opened as it is: its mode stays, O_TRUNC empties it. */
	ck_assert_int_eq(chmod(host_path("hello"), 0600), 0);
	m_begin(P9_TLCREATE);
	m32(1);
	mstr("hello");
	m32(O_RDWR | P9_DOTL_TRUNC);
	m32(0777);
	m32(0);
	expect_ok(P9_RLCREATE);
	ck_assert_uint_eq(host_mode("hello"), 0600);
	ck_assert_uint_eq(tread(1, 0, 100, NULL, 0), 0);
}
END_TEST

/* --- the virtio device --- */

#define RAM_SIZE	(1ULL << 20)
#define REQ		G(0x10000)
#define RESP		G(0x20000)

static struct vdrv dv;

static void dev_setup(void)
{
	setup();
	vdrv__setup(&dv, RAM_SIZE);
	dv.cfg.shares[0] = (struct share_spec){ .path = t.share, .tag = "hostshare" };
	dv.cfg.nr_shares = 1;
	ck_assert_int_eq(virtio_9p__init(&dv.kvm), 0);
}

static void dev_teardown(void)
{
	virtio_9p__exit(&dv.kvm);
	vdrv__teardown(&dv);
	teardown();
}

START_TEST(device_identity_and_tag)
{
	u8 b[16];

	ck_assert_uint_eq(vdrv__rd(&dv, VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_9P);
	vdrv__wr(&dv, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	ck_assert_uint_ne(vdrv__rd(&dv, VIRTIO_MMIO_DEVICE_FEATURES) & (1U << VIRTIO_9P_MOUNT_TAG),
			  0);
	vdrv__wr(&dv, VIRTIO_MMIO_QUEUE_SEL, 1);
	ck_assert_uint_eq(vdrv__rd(&dv, VIRTIO_MMIO_QUEUE_NUM_MAX), 0);	/* one queue */
	for (unsigned int i = 0; i < 11; i++)
		ck_assert(vdrv__access(&dv, VIRTIO_MMIO_CONFIG + i, &b[i], 1, false));
	ck_assert_uint_eq(b[0] | b[1] << 8, 9);
	ck_assert_mem_eq(b + 2, "hostshare", 9);
	memset(b, 0xaa, sizeof(b));
	ck_assert(vdrv__access(&dv, VIRTIO_MMIO_CONFIG + 8, b, 8, false));
	ck_assert_mem_eq(b, "are\0\0\0\0\0", 8);		/* past the tag: zeros */
}
END_TEST

START_TEST(device_serves_requests)
{
	struct vring_used *u;
	u8 *resp = vdrv__host(&dv, RESP);

	vdrv__init_driver(&dv, 1ULL << VIRTIO_9P_MOUNT_TAG);
	/* Tversion split over two descriptors, the reply over two more (as zero-copy does). */
	m_begin(P9_TVERSION);
	t.msg[5] = 0xff;
	t.msg[6] = 0xff;
	m32(65536);
	mstr("9P2000.L");
	m_size();
	memcpy(vdrv__host(&dv, REQ), t.msg, 5);
	memcpy(vdrv__host(&dv, REQ + 0x100), t.msg + 5, t.len - 5);
	vdrv__desc(&dv, 0, 0, REQ, 5, VRING_DESC_F_NEXT, 1);
	vdrv__desc(&dv, 0, 1, REQ + 0x100, (u32)t.len - 5, VRING_DESC_F_NEXT, 2);
	vdrv__desc(&dv, 0, 2, RESP, 9, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 3);
	vdrv__desc(&dv, 0, 3, RESP + 9, 100, VRING_DESC_F_WRITE, 0);
	vdrv__run(&dv, 0, 0);
	u = vdrv__used(&dv, 0);
	ck_assert_uint_eq(u->ring[0].id, 0);
	ck_assert_uint_eq(u->ring[0].len, 21);
	ck_assert_uint_eq(get_le32(resp), 21);
	ck_assert_uint_eq(resp[4], P9_RVERSION);
	ck_assert_uint_eq(get_le32(resp + 7), 65536);
	ck_assert_mem_eq(resp + 13, "9P2000.L", 8);

	/* A request with no room for a reply is used with nothing written. */
	vdrv__desc(&dv, 0, 4, REQ, 5, 0, 0);
	vdrv__run(&dv, 0, 4);
	ck_assert_uint_eq(u->ring[1].id, 4);
	ck_assert_uint_eq(u->ring[1].len, 0);
	/* Garbage gets Rlerror(EINVAL). */
	memset(vdrv__host(&dv, REQ), 0xee, 64);
	vdrv__desc(&dv, 0, 5, REQ, 64, VRING_DESC_F_NEXT, 6);
	vdrv__desc(&dv, 0, 6, RESP, 64, VRING_DESC_F_WRITE, 0);
	vdrv__run(&dv, 0, 5);
	ck_assert_uint_eq(u->ring[2].len, 11);
	ck_assert_uint_eq(resp[4], P9_RLERROR);
	ck_assert_uint_eq(get_le32(resp + 7), EINVAL);
	ck_assert_uint_eq(vdrv__rd(&dv, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET, 0);
}
END_TEST

START_TEST(device_needs_a_directory)
{
	struct kvm kvm = { .vm_fd = -1 };
	struct lkvm_config cfg = { .nr_shares = 1 };

	cfg.shares[0] = (struct share_spec){ .path = "/nonexistent/lkvm", .tag = "x" };
	kvm.cfg = &cfg;
	ck_assert_int_eq(virtio_9p__init(&kvm), -ENOENT);
	ck_assert_ptr_null(kvm.virtio_devs);
}
END_TEST

Suite *p9_suite(void)
{
	Suite *s = suite_create("9p");
	TCase *proto = tcase_create("parser");
	TCase *ops = tcase_create("operations");
	TCase *esc = tcase_create("escapes");
	TCase *dev = tcase_create("virtio-9p");

	tcase_add_checked_fixture(proto, setup, teardown);
	tcase_add_test(proto, version_negotiates_msize);
	tcase_add_test(proto, replies_respect_msize);
	tcase_add_test(proto, short_messages);
	tcase_add_test(proto, size_field_lies);
	tcase_add_test(proto, truncated_bodies_do_nothing);
	tcase_add_test(proto, strings_past_the_end);
	tcase_add_test(proto, strings_with_nul_or_too_long);
	tcase_add_test(proto, oversized_counts);
	tcase_add_test(proto, bad_fids);
	tcase_add_test(proto, fid_table_is_bounded);
	tcase_add_test(proto, unknown_types);
	tcase_set_timeout(proto, 60);
	suite_add_tcase(s, proto);

	tcase_add_checked_fixture(ops, setup, teardown);
	tcase_add_test(ops, create_write_read);
	tcase_add_test(ops, create_keeps_the_guests_mode);
	tcase_add_test(ops, lopen_truncate_and_append);
	tcase_add_test(ops, qid_versions_follow_content);
	tcase_add_test(ops, mkdir_and_readdir);
	tcase_add_test(ops, symlink_and_readlink);
	tcase_add_test(ops, rename_keeps_fids_working);
	tcase_add_test(ops, unlink_remove_link);
	tcase_add_test(ops, mknod_refuses_devices);
	tcase_add_test(ops, setattr_mode_size_times);
	tcase_add_test(ops, setattr_keeps_the_roots_mode_and_owner);
	tcase_add_test(ops, no_setuid_or_setgid_from_the_guest);
	tcase_add_test(ops, writing_drops_setuid);
	tcase_add_test(ops, statfs_lock_getlock);
	suite_add_tcase(s, ops);

	tcase_add_checked_fixture(esc, setup, teardown);
	tcase_add_test(esc, dotdot_at_root_stays);
	tcase_add_test(esc, names_are_single_components);
	tcase_add_test(esc, symlinks_are_never_followed);
	tcase_add_test(esc, renames_stay_in_the_tree);
	tcase_add_test(esc, symlink_swapped_in_during_walk);
	tcase_add_test(esc, dotdot_of_a_dir_moved_out);
	tcase_add_test(esc, chmod_never_follows_the_name);
	tcase_add_test(esc, chmod_races_a_symlink_swap);
	tcase_add_test(esc, lcreate_never_opens_a_fifo);
	tcase_set_timeout(esc, 60);
	suite_add_tcase(s, esc);

	tcase_add_checked_fixture(dev, dev_setup, dev_teardown);
	tcase_add_test(dev, device_identity_and_tag);
	tcase_add_test(dev, device_serves_requests);
	tcase_add_test(dev, device_needs_a_directory);
	suite_add_tcase(s, dev);
	return s;
}
