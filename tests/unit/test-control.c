/* The control protocol's framing: garbage, truncation and oversized messages. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lkvm/control.h"
#include "suites.h"

static struct ctl_msg m;
static u8 buf[CTL_HDR_SIZE + CTL_MAX_PAYLOAD + 64];

static int encode(u16 type, const char *payload)
{
	return ctl__encode(buf, sizeof(buf), type, payload, strlen(payload));
}

START_TEST(round_trip)
{
	int n = encode(CTL_CPU_PLUG, "2");

	ck_assert_int_eq(n, CTL_HDR_SIZE + 1);
	ck_assert_int_eq(ctl__parse(buf, (size_t)n, &m), n);
	ck_assert_uint_eq(m.type, CTL_CPU_PLUG);
	ck_assert_str_eq(m.payload, "2");
	ck_assert_int_eq(ctl__parse(buf, (size_t)encode(CTL_OK, ""), &m), CTL_HDR_SIZE);
	ck_assert_str_eq(m.payload, "");
}
END_TEST

/* Every prefix of a good message asks for more; none is taken for a message. */
START_TEST(partial)
{
	int n = encode(CTL_CPU_DELAY, "3 250");

	for (int len = 0; len < n; len++)
		ck_assert_msg(ctl__parse(buf, (size_t)len, &m) == 0, "prefix of %d bytes", len);
}
END_TEST

START_TEST(two_back_to_back)
{
	int a = encode(CTL_STOP, ""), b;

	b = ctl__encode(buf + a, sizeof(buf) - (size_t)a, CTL_CPU_UNPLUG, "1", 1);
	ck_assert_int_eq(ctl__parse(buf, (size_t)(a + b), &m), a);
	ck_assert_uint_eq(m.type, CTL_STOP);
	ck_assert_int_eq(ctl__parse(buf + a, (size_t)b, &m), b);
	ck_assert_str_eq(m.payload, "1");
}
END_TEST

START_TEST(malformed)
{
	int n = encode(CTL_INFO, "x");

	/* Garbage is refused at its first byte, without waiting for a whole header. */
	ck_assert_int_eq(ctl__parse((const u8 *)"GET / HTTP/1.0\r\n", 16, &m), -EPROTO);
	ck_assert_int_eq(ctl__parse((const u8 *)"X", 1, &m), -EPROTO);
	buf[4] = 2;	/* version */
	ck_assert_int_eq(ctl__parse(buf, (size_t)n, &m), -EPROTO);
	encode(CTL_INFO, "x");
	buf[6] = 0x77;	/* type */
	ck_assert_int_eq(ctl__parse(buf, (size_t)n, &m), -EINVAL);
	encode(CTL_INFO, "x");
	buf[CTL_HDR_SIZE] = '\0';	/* a NUL in the payload */
	ck_assert_int_eq(ctl__parse(buf, (size_t)n, &m), -EINVAL);
	/* An oversized length is refused before its bytes arrive. */
	encode(CTL_INFO, "");
	buf[8] = 0x01;
	buf[9] = 0x10;	/* 4097 */
	ck_assert_int_eq(ctl__parse(buf, CTL_HDR_SIZE, &m), -EMSGSIZE);
	buf[11] = 0xff;
	ck_assert_int_eq(ctl__parse(buf, CTL_HDR_SIZE, &m), -EMSGSIZE);
}
END_TEST

START_TEST(encode_too_long)
{
	static char big[CTL_MAX_PAYLOAD + 2];

	memset(big, 'a', sizeof(big) - 1);
	ck_assert_int_eq(ctl__encode(buf, sizeof(buf), CTL_OK, big, CTL_MAX_PAYLOAD + 1), -EMSGSIZE);
	ck_assert_int_eq(ctl__encode(buf, CTL_HDR_SIZE, CTL_OK, big, 1), -EMSGSIZE);
	ck_assert_int_eq(ctl__encode(buf, sizeof(buf), CTL_OK, big, CTL_MAX_PAYLOAD),
			 CTL_HDR_SIZE + CTL_MAX_PAYLOAD);
}
END_TEST

START_TEST(socket_paths)
{
	char path[108], longname[120];

	setenv("XDG_RUNTIME_DIR", "/run/user/1000", 1);
	ck_assert_int_eq(ctl__socket_path("vm1", path, sizeof(path), false), 0);
	ck_assert_str_eq(path, "/run/user/1000/lkvm/vm1.sock");
	setenv("XDG_RUNTIME_DIR", "", 1);
	setenv("HOME", "/home/u", 1);
	ck_assert_int_eq(ctl__socket_path("vm1", path, sizeof(path), false), 0);
	ck_assert_str_eq(path, "/home/u/.lkvm/vm1.sock");
	unsetenv("XDG_RUNTIME_DIR");
	ck_assert_int_eq(ctl__socket_path("vm1", path, sizeof(path), false), 0);
	ck_assert_str_eq(path, "/home/u/.lkvm/vm1.sock");
	memset(longname, 'n', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	ck_assert_int_eq(ctl__socket_path(longname, path, sizeof(path), false), -ENAMETOOLONG);
}
END_TEST

START_TEST(send_recv)
{
	int sv[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	ck_assert_int_eq(ctl__send(sv[0], CTL_EVENT, "{\"event\":\"plug\"}"), 0);
	ck_assert_int_eq(ctl__recv(sv[1], &m), 0);
	ck_assert_uint_eq(m.type, CTL_EVENT);
	ck_assert_str_eq(m.payload, "{\"event\":\"plug\"}");
	/* A peer that hangs up mid-message: an error, not a hang. */
	ck_assert_int_eq(write(sv[0], buf, (size_t)encode(CTL_OK, "abc") - 1), CTL_HDR_SIZE + 2);
	close(sv[0]);
	ck_assert_int_eq(ctl__recv(sv[1], &m), -ECONNRESET);
	close(sv[1]);
}
END_TEST

Suite *control_suite(void)
{
	Suite *s = suite_create("control");
	TCase *tc = tcase_create("protocol");

	tcase_add_test(tc, round_trip);
	tcase_add_test(tc, partial);
	tcase_add_test(tc, two_back_to_back);
	tcase_add_test(tc, malformed);
	tcase_add_test(tc, encode_too_long);
	tcase_add_test(tc, socket_paths);
	tcase_add_test(tc, send_recv);
	suite_add_tcase(s, tc);
	return s;
}
