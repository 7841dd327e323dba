/* The control protocol's framing: garbage, truncation and oversized messages. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lkvm/control-server.h"
#include "lkvm/control.h"
#include "lkvm/kvm.h"
#include "suites.h"

#include <poll.h>
#include <sys/stat.h>
#include <sys/un.h>

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

/* CTL_BALLOON's payload: "", or an action word, one space and a size. */
START_TEST(balloon_payloads)
{
	static const struct { const char *s; enum ctl_balloon_op op; u64 bytes; } good[] = {
		{ "", CTL_BALLOON_QUERY, 0 },
		{ "inflate 64M", CTL_BALLOON_INFLATE, 64ULL << 20 },
		{ "deflate 1G", CTL_BALLOON_DEFLATE, 1ULL << 30 },
		{ "inflate 512", CTL_BALLOON_INFLATE, 512ULL << 20 },	/* no suffix: MiB */
		{ "deflate 4096K", CTL_BALLOON_DEFLATE, 4ULL << 20 },
		{ "inflate 0", CTL_BALLOON_INFLATE, 0 },
		{ "inflate 2GiB", CTL_BALLOON_INFLATE, 2ULL << 30 },
	};
	static const char *const bad[] = {
		"inflate", "inflate ", "deflate", "inflate  64M", " inflate 64M", "inflate 64M ",
		"inflate -1", "inflate 64Q", "inflate 64M 1", "INFLATE 64M", "grow 64M", "64M",
		"inflate\t64M", "inflatex 64M", "query", "deflate M",
	};
	enum ctl_balloon_op op;
	u64 bytes;

	for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
		ck_assert_msg(!ctl__parse_balloon(good[i].s, &op, &bytes), "'%s'", good[i].s);
		ck_assert_uint_eq(op, good[i].op);
		ck_assert_uint_eq(bytes, good[i].bytes);
	}
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		ck_assert_msg(ctl__parse_balloon(bad[i], &op, &bytes) == -EINVAL, "'%s'", bad[i]);
	ck_assert_int_eq(ctl__parse_balloon("deflate 20000000T", &op, &bytes), -ERANGE);
	/* And the request type goes through the framing. */
	ck_assert_int_eq(ctl__parse(buf, (size_t)encode(CTL_BALLOON, "inflate 64M"), &m),
			 CTL_HDR_SIZE + 11);
	ck_assert_uint_eq(m.type, CTL_BALLOON);
}
END_TEST

/* ---- the server in lkvm run, with a VM that has no KVM behind it ---- */

static struct ctl_server srv;
static struct kvm vm;
static struct lkvm_config vm_cfg = { .name = "unit-vm", .nr_cpus = 3 };
static char dir[64];

static void server_setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/lkvm-unit-%d", (int)getpid());
	mkdir(dir, 0700);
	setenv("XDG_RUNTIME_DIR", dir, 1);
	memset(&vm, 0, sizeof(vm));
	vm.cfg = &vm_cfg;
	vm.nr_cpus = 3;
	ck_assert_int_eq(ctl_server__init(&srv, "unit-vm"), 0);
	vm.ctl = &srv;
}

static void server_teardown(void)
{
	ctl_server__exit(&srv);
	snprintf((char *)buf, sizeof(buf), "%s/lkvm", dir);
	rmdir((char *)buf);
	rmdir(dir);
}

/* One round of the main loop's work for the control socket. */
static void serve(void)
{
	struct pollfd fds[2 + CTL_MAX_CLIENTS];
	unsigned int n = ctl_server__pollfds(&srv, fds, 2 + CTL_MAX_CLIENTS);

	ck_assert_int_ge(poll(fds, n, 2000), 1);
	ctl_server__handle(&srv, &vm, fds, n);
}

static int client(void)
{
	int fd = ctl__connect("unit-vm");

	ck_assert_int_ge(fd, 0);
	serve();	/* accept */
	return fd;
}

START_TEST(server_socket_is_private)
{
	struct stat st;

	ck_assert_int_eq(stat(srv.path, &st), 0);
	ck_assert(S_ISSOCK(st.st_mode));
	ck_assert_uint_eq(st.st_mode & 0777, 0600);
	snprintf((char *)buf, sizeof(buf), "%s/lkvm", dir);
	ck_assert_int_eq(stat((char *)buf, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0700);
}
END_TEST

START_TEST(server_info)
{
	int fd = client();
	char want[64];

	ck_assert_int_eq(ctl__send(fd, CTL_INFO, ""), 0);
	serve();
	ck_assert_int_eq(ctl__recv(fd, &m), 0);
	ck_assert_uint_eq(m.type, CTL_OK);
	snprintf(want, sizeof(want), "unit-vm %d 3 3", (int)getpid());
	ck_assert_str_eq(m.payload, want);
	/* Without lkvm's PSCI there are no vCPU states to show, and no hot-add. */
	ck_assert_int_eq(ctl__send(fd, CTL_CPU_LIST, ""), 0);
	serve();
	ck_assert_int_eq(ctl__recv(fd, &m), 0);
	ck_assert_uint_eq(m.type, CTL_ERROR);
	ck_assert_int_eq(ctl__send(fd, CTL_CPU_PLUG, "1"), 0);
	serve();
	ck_assert_int_eq(ctl__recv(fd, &m), 0);
	ck_assert_uint_eq(m.type, CTL_ERROR);
	ck_assert_ptr_nonnull(strstr(m.payload, "--psci=user"));
	close(fd);
}
END_TEST

/* Garbage gets an error and a hang-up; the server goes on serving others. */
START_TEST(server_garbage)
{
	int bad = client(), good;

	ck_assert_int_eq(write(bad, "GET / HTTP/1.0\r\n\r\n", 18), 18);
	serve();
	ck_assert_int_eq(ctl__recv(bad, &m), 0);
	ck_assert_uint_eq(m.type, CTL_ERROR);
	ck_assert_int_eq(ctl__recv(bad, &m), -ECONNRESET);
	close(bad);
	good = client();
	ck_assert_int_eq(ctl__send(good, CTL_INFO, ""), 0);
	serve();
	ck_assert_int_eq(ctl__recv(good, &m), 0);
	ck_assert_uint_eq(m.type, CTL_OK);
	close(good);
}
END_TEST

START_TEST(server_oversized_and_truncated)
{
	int fd = client();
	int n = encode(CTL_INFO, "");

	buf[10] = 0x10;	/* a 1 MiB payload */
	ck_assert_int_eq(write(fd, buf, (size_t)n), n);
	serve();
	ck_assert_int_eq(ctl__recv(fd, &m), 0);
	ck_assert_uint_eq(m.type, CTL_ERROR);
	close(fd);
	/* Half a message, then the client is gone: dropped, nothing else happens. */
	fd = client();
	ck_assert_int_eq(write(fd, buf, 7), 7);
	serve();
	close(fd);
	serve();
	for (unsigned int i = 0; i < CTL_MAX_CLIENTS; i++)
		ck_assert_int_eq(srv.clients[i].fd, -1);
	ck_assert(!kvm__stopping(&vm));
}
END_TEST

/* A VM without --balloon says so; a malformed request says what is wrong first. */
START_TEST(server_balloon)
{
	int fd = client();

	ck_assert_int_eq(ctl__send(fd, CTL_BALLOON, ""), 0);
	serve();
	ck_assert_int_eq(ctl__recv(fd, &m), 0);
	ck_assert_uint_eq(m.type, CTL_ERROR);
	ck_assert_str_eq(m.payload, "balloon: this VM has no balloon (start it with --balloon)");
	ck_assert_int_eq(ctl__send(fd, CTL_BALLOON, "inflate 1M"), 0);
	serve();
	ck_assert_int_eq(ctl__recv(fd, &m), 0);
	ck_assert_uint_eq(m.type, CTL_ERROR);
	ck_assert_ptr_nonnull(strstr(m.payload, "--balloon"));
	ck_assert_int_eq(ctl__send(fd, CTL_BALLOON, "grow 1M"), 0);
	serve();
	ck_assert_int_eq(ctl__recv(fd, &m), 0);
	ck_assert_uint_eq(m.type, CTL_ERROR);
	ck_assert_ptr_nonnull(strstr(m.payload, "'grow 1M'"));
	ck_assert_ptr_nonnull(strstr(m.payload, "inflate SIZE or deflate SIZE"));
	close(fd);
}
END_TEST

START_TEST(server_name_taken)
{
	struct ctl_server other;

	ck_assert_int_eq(ctl_server__init(&other, "unit-vm"), -EEXIST);
}
END_TEST

START_TEST(server_events)
{
	int fd = client();

	ck_assert_int_eq(ctl__send(fd, CTL_EVENTS, ""), 0);
	serve();
	ck_assert_int_eq(ctl__recv(fd, &m), 0);
	ck_assert_uint_eq(m.type, CTL_OK);
	ctl_server__event(&srv, "{\"event\":\"plug\",\"vcpu\":2}");
	serve();
	ck_assert_int_eq(ctl__recv(fd, &m), 0);
	ck_assert_uint_eq(m.type, CTL_EVENT);
	ck_assert_str_eq(m.payload, "{\"event\":\"plug\",\"vcpu\":2}");
	close(fd);
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
	tcase_add_test(tc, balloon_payloads);
	suite_add_tcase(s, tc);
	tc = tcase_create("server");
	tcase_add_checked_fixture(tc, server_setup, server_teardown);
	tcase_add_test(tc, server_socket_is_private);
	tcase_add_test(tc, server_info);
	tcase_add_test(tc, server_garbage);
	tcase_add_test(tc, server_oversized_and_truncated);
	tcase_add_test(tc, server_name_taken);
	tcase_add_test(tc, server_balloon);
	tcase_add_test(tc, server_events);
	suite_add_tcase(s, tc);
	return s;
}
