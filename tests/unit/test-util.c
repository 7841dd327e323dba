/*
 * util: the parsers behind -m/-c/--loglevel, size messages, file loading, logging, little-endian
 * fields and random bytes.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lkvm/util.h"
#include "suites.h"

START_TEST(parse_size_without_suffix_is_mib)
{
	u64 v = 0;

	/* kvmtool compatibility: "-m 512" means 512 MiB, not 512 bytes. */
	ck_assert_int_eq(parse_size("512", &v), 0);
	ck_assert_uint_eq(v, 512ULL << 20);
}
END_TEST

START_TEST(parse_size_suffixes)
{
	static const struct { const char *s; u64 v; } ok[] = {
		{ "16B", 16 }, { "1024K", 1ULL << 20 }, { "1024k", 1ULL << 20 },
		{ "4M", 4ULL << 20 }, { "2G", 2ULL << 30 }, { "2g", 2ULL << 30 },
		{ "1T", 1ULL << 40 }, { "1KiB", 1024 }, { "1KB", 1024 },
		{ "2MiB", 2ULL << 20 }, { "3GB", 3ULL << 30 },
	};

	for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
		u64 v = 0;

		ck_assert_msg(parse_size(ok[i].s, &v) == 0, "\"%s\" rejected", ok[i].s);
		ck_assert_msg(v == ok[i].v, "\"%s\" -> %llu", ok[i].s, (unsigned long long)v);
	}
}
END_TEST

START_TEST(parse_size_rejects_garbage_and_negatives)
{
	static const char *const bad[] = {
		"", "-1", "-1G", "+1", " 1", "\t-1B", "\n1", "abc", "G", "12X", "1.5G", "1 G",
		"1Bi", "1BB", "1KiBB", "1GiG", "512i", "512iB", "0x10",
	};

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		u64 v = 0xdead;

		ck_assert_msg(parse_size(bad[i], &v) < 0, "\"%s\" accepted as %llu", bad[i],
			      (unsigned long long)v);
		/* A failed parse must not clobber the caller's default. */
		ck_assert_uint_eq(v, 0xdead);
	}
}
END_TEST

START_TEST(parse_size_overflow)
{
	u64 v = 0;

	/* The largest count of GiB that fits in 64 bits, and one more. */
	ck_assert_int_eq(parse_size("17179869183G", &v), 0);
	ck_assert_uint_eq(v, 17179869183ULL << 30);
	ck_assert_int_lt(parse_size("17179869184G", &v), 0);
	ck_assert_int_lt(parse_size("16777216T", &v), 0);
	/* Beyond what strtoull itself can represent. */
	ck_assert_int_lt(parse_size("18446744073709551616B", &v), 0);
	ck_assert_int_lt(parse_size("99999999999999999999999", &v), 0);
}
END_TEST

START_TEST(parse_uint_range_and_syntax)
{
	unsigned int v = 0;

	ck_assert_int_eq(parse_uint("4", 1, 8, &v), 0);
	ck_assert_uint_eq(v, 4);
	ck_assert_int_eq(parse_uint("1", 1, 8, &v), 0);
	ck_assert_uint_eq(v, 1);
	ck_assert_int_eq(parse_uint("8", 1, 8, &v), 0);
	ck_assert_uint_eq(v, 8);
	ck_assert_int_eq(parse_uint("4294967295", 0, UINT_MAX, &v), 0);
	ck_assert_uint_eq(v, UINT_MAX);

	v = 77;
	ck_assert_int_eq(parse_uint("0", 1, 8, &v), -ERANGE);
	ck_assert_int_eq(parse_uint("9", 1, 8, &v), -ERANGE);
	ck_assert_int_lt(parse_uint("4294967296", 0, UINT_MAX, &v), 0);
	ck_assert_int_lt(parse_uint("", 0, 8, &v), 0);
	ck_assert_int_lt(parse_uint("-1", 0, 8, &v), 0);
	ck_assert_int_lt(parse_uint("+1", 0, 8, &v), 0);
	ck_assert_int_lt(parse_uint(" 1", 0, 8, &v), 0);
	ck_assert_int_lt(parse_uint("1x", 0, 8, &v), 0);
	ck_assert_int_lt(parse_uint("1 ", 0, 8, &v), 0);
	ck_assert_uint_eq(v, 77);
}
END_TEST

START_TEST(parse_u64_decimal_and_hex)
{
	u64 v = 0;

	ck_assert_int_eq(parse_u64("4660", &v), 0);
	ck_assert_uint_eq(v, 4660);
	ck_assert_int_eq(parse_u64("0x1234", &v), 0);
	ck_assert_uint_eq(v, 0x1234);
	ck_assert_int_eq(parse_u64("0XfFfFfFfFfFfFfFfF", &v), 0);
	ck_assert_uint_eq(v, UINT64_MAX);
	/* A leading zero is decimal, not octal. */
	ck_assert_int_eq(parse_u64("010", &v), 0);
	ck_assert_uint_eq(v, 10);

	v = 77;
	ck_assert_int_eq(parse_u64("18446744073709551616", &v), -ERANGE);
	ck_assert_int_eq(parse_u64("0x10000000000000000", &v), -ERANGE);
	ck_assert_int_eq(parse_u64("", &v), -EINVAL);
	ck_assert_int_eq(parse_u64("0x", &v), -EINVAL);
	ck_assert_int_eq(parse_u64("-1", &v), -EINVAL);
	ck_assert_int_eq(parse_u64("+1", &v), -EINVAL);
	ck_assert_int_eq(parse_u64(" 1", &v), -EINVAL);
	ck_assert_int_eq(parse_u64("12g", &v), -EINVAL);
	ck_assert_int_eq(parse_u64("0x1g", &v), -EINVAL);
	ck_assert_uint_eq(v, 77);
}
END_TEST

START_TEST(parse_cpu_list_sets_and_ranges)
{
	bool set[8];
	unsigned int n;
	static const char *const bad[] = { "", ",", "0,", "a", "0;1", "-1", "0,-", "0-", "3-1",
					   "0, 1" };

	ck_assert_int_eq(parse_cpu_list("1,3-5,4", 8, set, &n), 0);
	ck_assert_uint_eq(n, 4);
	ck_assert(!set[0] && set[1] && !set[2] && set[3] && set[4] && set[5] && !set[6] && !set[7]);
	ck_assert_int_eq(parse_cpu_list("7", 8, set, &n), 0);
	ck_assert(set[7] && !set[1]);
	ck_assert_int_eq(parse_cpu_list("8", 8, set, &n), -ERANGE);
	ck_assert_int_eq(parse_cpu_list("0-8", 8, set, &n), -ERANGE);
	ck_assert_int_eq(parse_cpu_list("99999999999999999999", 8, set, &n), -ERANGE);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		ck_assert_msg(parse_cpu_list(bad[i], 8, set, &n) == -EINVAL, "'%s' accepted", bad[i]);
}
END_TEST

START_TEST(size_str_formats)
{
	char buf[32];

	ck_assert_str_eq(size_str(512ULL << 20, buf, sizeof(buf)), "512M");
	ck_assert_str_eq(size_str(2ULL << 30, buf, sizeof(buf)), "2G");
	ck_assert_str_eq(size_str(1ULL << 40, buf, sizeof(buf)), "1T");
	ck_assert_str_eq(size_str(1536ULL << 10, buf, sizeof(buf)), "1536K");
	ck_assert_str_eq(size_str(1536, buf, sizeof(buf)), "1536 bytes");
	ck_assert_str_eq(size_str(0, buf, sizeof(buf)), "0 bytes");
	/* It returns the caller's buffer, so it can be used inline in a printf. */
	ck_assert_ptr_eq(size_str(1, buf, sizeof(buf)), buf);
}
END_TEST

START_TEST(read_file_reads_whole_file)
{
	u8 data[10000];
	char *path;
	u8 *buf = NULL;
	size_t len = 0;

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (u8)(i * 7);
	path = temp_file(data, sizeof(data));
	/* A file exactly at the limit is allowed. */
	ck_assert_int_eq(read_file(path, sizeof(data), &buf, &len), 0);
	ck_assert_uint_eq(len, sizeof(data));
	ck_assert_mem_eq(buf, data, sizeof(data));
	free(buf);
	unlink(path);
	free(path);
}
END_TEST

START_TEST(read_file_empty)
{
	char *path = temp_file("", 0);
	u8 *buf = NULL;
	size_t len = 1;

	ck_assert_int_eq(read_file(path, 100, &buf, &len), 0);
	ck_assert_uint_eq(len, 0);
	ck_assert_ptr_nonnull(buf);
	free(buf);
	unlink(path);
	free(path);
}
END_TEST

START_TEST(read_file_errors)
{
	char *path = temp_file("0123456789", 10);
	u8 *buf = NULL;
	size_t len = 0;

	/* One byte over the limit: -EFBIG, so callers can say "larger than guest RAM". */
	ck_assert_int_eq(read_file(path, 9, &buf, &len), -EFBIG);
	ck_assert_ptr_null(buf);
	unlink(path);
	ck_assert_int_eq(read_file(path, 100, &buf, &len), -ENOENT);
	ck_assert_int_eq(read_file("/tmp", 100, &buf, &len), -EINVAL);
	ck_assert_ptr_null(buf);
	free(path);
}
END_TEST

/* --loglevel's names, in the order of the levels. */
START_TEST(log_level_names_by_level)
{
	ck_assert_str_eq(log_level_names[LOG_ERROR], "error");
	ck_assert_str_eq(log_level_names[LOG_WARNING], "warning");
	ck_assert_str_eq(log_level_names[LOG_INFO], "info");
	ck_assert_str_eq(log_level_names[LOG_DEBUG], "debug");
}
END_TEST

/* A whole LKVM_LOG buffer, escaped, is one line on stderr: not cut short. */
/* A caller may log and then return -errno: logging, even when it fails, keeps errno. */
START_TEST(logging_keeps_errno)
{
	int saved = dup(STDERR_FILENO);

	close(STDERR_FILENO);		/* the write fails: EBADF */
	errno = EACCES;
	pr_err("%s: cannot open: %s", "file", strerror(errno));
	ck_assert_int_eq(errno, EACCES);
	errno = ENOSPC;
	pr_warn("%d", 1);
	ck_assert_int_eq(errno, ENOSPC);
	dup2(saved, STDERR_FILENO);
	close(saved);
}
END_TEST

START_TEST(long_log_line_is_whole)
{
	static char msg[LOG_LINE_MAX], got[LOG_LINE_MAX + 64];
	size_t n = 0;
	ssize_t r;
	int p[2];

	memset(msg, 'x', LOG_LINE_MAX - 1);
	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_eq(dup2(p[1], STDERR_FILENO), STDERR_FILENO);
	close(p[1]);
	pr_trace("%s", msg);
	close(STDERR_FILENO);
	while ((r = read(p[0], got + n, sizeof(got) - n)) > 0)
		n += (size_t)r;
	ck_assert_uint_eq(n, strlen("lkvm: ") + LOG_LINE_MAX - 1 + 1);
	ck_assert(!memcmp(got, "lkvm: xxx", 9));
	ck_assert_int_eq(got[n - 1], '\n');
	ck_assert_int_eq(got[n - 2], 'x');
}
END_TEST

/* The first n calls say yes, then never again: the count stays at n, so it cannot wrap round. */
START_TEST(log_first_n_then_never)
{
	_Atomic unsigned int count = 0;

	for (unsigned int i = 0; i < 8; i++)
		ck_assert(log__first(&count, 8));
	for (unsigned int i = 0; i < 100000; i++)
		ck_assert(!log__first(&count, 8));
	ck_assert_uint_eq(count, 8);
	ck_assert(log__first(&(_Atomic unsigned int){ 0 }, 1));
	ck_assert(!log__first(&(_Atomic unsigned int){ UINT_MAX }, 8));
}
END_TEST

static _Atomic unsigned int shared_count, shared_yes;

static void *log_first_racer(void *arg)
{
	(void)arg;
	for (unsigned int i = 0; i < 20000; i++) {
		if (log__first(&shared_count, 100))
			shared_yes++;
	}
	return NULL;
}

/* Threads racing on one counter: exactly n of all their calls say yes. */
START_TEST(log_first_is_thread_safe)
{
	pthread_t th[4];

	for (unsigned int i = 0; i < ARRAY_SIZE(th); i++)
		pthread_create(&th[i], NULL, log_first_racer, NULL);
	for (unsigned int i = 0; i < ARRAY_SIZE(th); i++)
		pthread_join(th[i], NULL);
	ck_assert_uint_eq(shared_yes, 100);
	ck_assert_uint_eq(shared_count, 100);
}
END_TEST

START_TEST(pr_warn_once_prints_once)
{
	_Atomic unsigned int a = 0, b = 0;

	capture_begin(STDERR_FILENO);
	for (int i = 0; i < 3; i++)
		pr_warn_once(&a, "a %d", i);
	pr_warn_once(&b, "b");
	ck_assert_str_eq(capture_end(STDERR_FILENO), "lkvm: warning: a 0\nlkvm: warning: b\n");
}
END_TEST

/* Little-endian at any alignment; put_le writes len bytes and not one more. */
START_TEST(little_endian_fields)
{
	u8 buf[16];

	memset(buf, 0xee, sizeof(buf));
	put_le16(buf + 1, 0x1234);
	put_le32(buf + 3, 0x89abcdef);
	put_le64(buf + 7, 0x0102030405060708ULL);
	ck_assert_mem_eq(buf, "\xee\x34\x12\xef\xcd\xab\x89\x08\x07\x06\x05\x04\x03\x02\x01\xee",
			 16);
	ck_assert_uint_eq(get_le16(buf + 1), 0x1234);
	ck_assert_uint_eq(get_le32(buf + 3), 0x89abcdef);
	ck_assert_uint_eq(get_le64(buf + 7), 0x0102030405060708ULL);
	ck_assert_uint_eq(get_le(buf + 1, 3), 0xef1234);
	ck_assert_uint_eq(get_le(buf, 1), 0xee);
	put_le(buf, 0xaabbccdd, 3);
	ck_assert_mem_eq(buf, "\xdd\xcc\xbb\xef", 4);
	put_le(buf + 8, ~0ULL, 8);
	ck_assert_uint_eq(get_le(buf + 8, 8), ~0ULL);
}
END_TEST

static bool all_zero(const u8 *p, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (p[i])
			return false;
	}
	return true;
}

/*
 * random__fill fills all of a buffer, also one larger than one getrandom call gives (32 MiB),
 * and says -errno, not a short count, when it cannot.
 */
START_TEST(random_fill)
{
	size_t big = 40 << 20;
	u8 *buf = calloc(1, big), other[64] = { 0 };

	ck_assert_ptr_nonnull(buf);
	ck_assert_int_eq(random__fill(buf, 0), 0);
	ck_assert_int_eq(random__fill(buf, 64), 0);
	ck_assert_int_eq(random__fill(other, 64), 0);
	ck_assert(memcmp(buf, other, 64));
	ck_assert_int_eq(random__fill(buf, big), 0);
	ck_assert(!all_zero(buf + big - 64, 64));
	ck_assert_int_eq(random__fill((void *)8, 64), -EFAULT);
	free(buf);
}
END_TEST

/*
 * file__create: a new file gets the mode, an existing one is emptied and keeps its own; a
 * symlink, a FIFO (without blocking), a directory and another user's file are refused, and what
 * they point at or hold is left alone.
 */
START_TEST(file_create_refuses_what_is_not_a_file)
{
	char *path = temp_file("old contents", 12), link[64], fifo[64], dir[64];
	struct stat st;
	int fd;

	ck_assert_int_eq(chmod(path, 0640), 0);
	fd = file__create(path, 0600, O_APPEND);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fstat(fd, &st), 0);
	ck_assert_int_eq(st.st_size, 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0640);
	ck_assert_int_eq(fcntl(fd, F_GETFL) & (O_NONBLOCK | O_APPEND), O_APPEND);
	ck_assert_int_eq(write(fd, "new", 3), 3);
	close(fd);
	snprintf(link, sizeof(link), "%s.link", path);
	snprintf(fifo, sizeof(fifo), "%s.fifo", path);
	snprintf(dir, sizeof(dir), "%s.dir", path);
	ck_assert_int_eq(symlink(path, link), 0);
	ck_assert_int_eq(mkfifo(fifo, 0600), 0);
	ck_assert_int_eq(mkdir(dir, 0700), 0);
	ck_assert_int_eq(file__create(link, 0600, 0), -ELOOP);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_size, 3);		/* the link's target is untouched */
	ck_assert_int_eq(file__create(fifo, 0600, 0), -EINVAL);
	ck_assert_int_lt(file__create(dir, 0600, 0), 0);
	/* Another user's file (planted in /tmp, say) is refused, and left as it is. Only root can
	 * give a file away; the suite runs as root in make check. */
	if (!geteuid()) {
		ck_assert_int_eq(chown(path, 4242, (gid_t)-1), 0);
		ck_assert_int_eq(file__create(path, 0600, 0), -EPERM);
		ck_assert_int_eq(stat(path, &st), 0);
		ck_assert_int_eq(st.st_size, 3);
	}
	ck_assert_str_eq(file__create_strerror(-EPERM), "owned by another user: refused");
	ck_assert_str_eq(file__create_strerror(-ELOOP), "a symbolic link: refused");
	ck_assert_str_eq(file__create_strerror(-EINVAL), "not a regular file: refused");
	unlink(link);
	unlink(fifo);
	rmdir(dir);
	unlink(path);
	snprintf(link, sizeof(link), "%s.new", path);
	fd = file__create(link, 0600, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fstat(fd, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0600 & ~(unsigned int)umask(022));
	close(fd);
	unlink(link);
	free(path);
}
END_TEST

Suite *util_suite(void)
{
	Suite *s = suite_create("util");
	TCase *tc = tcase_create("util");

	tcase_add_test(tc, parse_size_without_suffix_is_mib);
	tcase_add_test(tc, parse_size_suffixes);
	tcase_add_test(tc, parse_size_rejects_garbage_and_negatives);
	tcase_add_test(tc, parse_size_overflow);
	tcase_add_test(tc, parse_uint_range_and_syntax);
	tcase_add_test(tc, parse_u64_decimal_and_hex);
	tcase_add_test(tc, parse_cpu_list_sets_and_ranges);
	tcase_add_test(tc, size_str_formats);
	tcase_add_test(tc, read_file_reads_whole_file);
	tcase_add_test(tc, read_file_empty);
	tcase_add_test(tc, read_file_errors);
	tcase_add_test(tc, log_level_names_by_level);
	tcase_add_test(tc, logging_keeps_errno);
	tcase_add_test(tc, long_log_line_is_whole);
	tcase_add_test(tc, log_first_n_then_never);
	tcase_add_test(tc, log_first_is_thread_safe);
	tcase_add_test(tc, pr_warn_once_prints_once);
	tcase_add_test(tc, little_endian_fields);
	tcase_add_test(tc, random_fill);
	tcase_add_test(tc, file_create_refuses_what_is_not_a_file);
	suite_add_tcase(s, tc);
	return s;
}
