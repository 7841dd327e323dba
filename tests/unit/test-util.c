/* util: the parsers behind -m/-c/--loglevel, size messages and file loading. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

START_TEST(log_level_parse)
{
	enum log_level l = LOG_INFO;

	ck_assert_int_eq(log_level__parse("error", &l), 0);
	ck_assert_int_eq(l, LOG_ERROR);
	ck_assert_int_eq(log_level__parse("warning", &l), 0);
	ck_assert_int_eq(l, LOG_WARNING);
	ck_assert_int_eq(log_level__parse("info", &l), 0);
	ck_assert_int_eq(l, LOG_INFO);
	ck_assert_int_eq(log_level__parse("debug", &l), 0);
	ck_assert_int_eq(l, LOG_DEBUG);
	ck_assert_int_eq(log_level__parse("verbose", &l), -EINVAL);
	ck_assert_int_eq(log_level__parse("", &l), -EINVAL);
	ck_assert_int_eq(log_level__parse("debugx", &l), -EINVAL);
	ck_assert_int_eq(l, LOG_DEBUG);
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

Suite *util_suite(void)
{
	Suite *s = suite_create("util");
	TCase *tc = tcase_create("util");

	tcase_add_test(tc, parse_size_without_suffix_is_mib);
	tcase_add_test(tc, parse_size_suffixes);
	tcase_add_test(tc, parse_size_rejects_garbage_and_negatives);
	tcase_add_test(tc, parse_size_overflow);
	tcase_add_test(tc, parse_uint_range_and_syntax);
	tcase_add_test(tc, size_str_formats);
	tcase_add_test(tc, read_file_reads_whole_file);
	tcase_add_test(tc, read_file_empty);
	tcase_add_test(tc, read_file_errors);
	tcase_add_test(tc, log_level_parse);
	tcase_add_test(tc, logging_keeps_errno);
	tcase_add_test(tc, long_log_line_is_whole);
	suite_add_tcase(s, tc);
	return s;
}
