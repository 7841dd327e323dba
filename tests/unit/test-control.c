/* The control protocol's framing: garbage, truncation and oversized messages. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lkvm/builtin.h"
#include "lkvm/control-json.h"
#include "lkvm/control-server.h"
#include "lkvm/control.h"
#include "lkvm/kvm.h"
#include "suites.h"

#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

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

/* Where the directory is, by the environment; never /tmp. */
START_TEST(socket_dir_choice)
{
	char base[] = "/tmp/lkvm-unit-dir-XXXXXX", want[128], path[108];
	int fd;

	ck_assert_ptr_nonnull(mkdtemp(base));
	setenv("XDG_RUNTIME_DIR", base, 1);
	ck_assert_int_eq(ctl__socket_path("vm1", path, sizeof(path), true), 0);
	snprintf(want, sizeof(want), "%s/lkvm/vm1.sock", base);
	ck_assert_str_eq(path, want);
	setenv("XDG_RUNTIME_DIR", "", 1);
	setenv("HOME", base, 1);
	ck_assert_int_eq(ctl__socket_path("vm1", path, sizeof(path), true), 0);
	snprintf(want, sizeof(want), "%s/.lkvm/vm1.sock", base);
	ck_assert_str_eq(path, want);
	/* A root service has neither variable: /run/lkvm, root's own; others' /run/user/UID. */
	unsetenv("XDG_RUNTIME_DIR");
	unsetenv("HOME");
	fd = ctl__socket_dir(path, sizeof(path), false);
	if (geteuid())
		snprintf(want, sizeof(want), "/run/user/%u/lkvm", (unsigned int)geteuid());
	else
		snprintf(want, sizeof(want), "/run/lkvm");
	ck_assert_str_eq(path, want);
	if (fd >= 0)
		close(fd);
	snprintf(want, sizeof(want), "%s/lkvm", base);
	rmdir(want);
	snprintf(want, sizeof(want), "%s/.lkvm", base);
	rmdir(want);
	rmdir(base);
}
END_TEST

START_TEST(socket_path_names)
{
	char base[] = "/tmp/lkvm-unit-dir-XXXXXX", path[108], longname[120];

	memset(longname, 'n', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	setenv("XDG_RUNTIME_DIR", "/nonexistent-lkvm-unit", 1);
	capture_begin(STDERR_FILENO);
	ck_assert_int_eq(ctl__socket_path("../vm1", path, sizeof(path), false), -EINVAL);
	ck_assert_int_eq(ctl__socket_path("", path, sizeof(path), false), -EINVAL);
	ck_assert_int_eq(ctl__socket_path("vm1", path, sizeof(path), false), -ENOENT);
	ck_assert_ptr_nonnull(mkdtemp(base));
	setenv("XDG_RUNTIME_DIR", base, 1);
	ck_assert_int_eq(ctl__socket_path(longname, path, sizeof(path), true), -ENAMETOOLONG);
	ck_assert_ptr_nonnull(strstr(capture_end(STDERR_FILENO), "../vm1: not a VM name"));
	snprintf(path, sizeof(path), "%s/lkvm", base);
	rmdir(path);
	rmdir(base);
}
END_TEST

/* Control characters and bytes >= 0x7f come out as \xNN; newlines only where lines are kept. */
START_TEST(printable)
{
	char out[CTL_PRINTABLE_SIZE];

	ck_assert_str_eq(ctl__printable("vm1 42 {\"a\":1}", false, out, sizeof(out)),
			 "vm1 42 {\"a\":1}");
	ck_assert_str_eq(ctl__printable("a\x1b[2Jb\r\n\x7f\x9b\xff", false, out, sizeof(out)),
			 "a\\x1b[2Jb\\x0d\\x0a\\x7f\\x9b\\xff");
	ck_assert_str_eq(ctl__printable("line 1\nline\t2\n", true, out, sizeof(out)),
			 "line 1\nline\\x092\n");
	ck_assert_str_eq(ctl__printable("\x01\x01", false, out, 6), "\\x01");
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
	static const struct { const char *s; enum balloon_op op; u64 bytes; } good[] = {
		{ "", BALLOON_QUERY, 0 },
		{ "inflate 64M", BALLOON_INFLATE, 64ULL << 20 },
		{ "deflate 1G", BALLOON_DEFLATE, 1ULL << 30 },
		{ "inflate 512", BALLOON_INFLATE, 512ULL << 20 },	/* no suffix: MiB */
		{ "deflate 4096K", BALLOON_DEFLATE, 4ULL << 20 },
		{ "inflate 0", BALLOON_INFLATE, 0 },
		{ "inflate 2GiB", BALLOON_INFLATE, 2ULL << 30 },
	};
	static const char *const bad[] = {
		"inflate", "inflate ", "deflate", "inflate  64M", " inflate 64M", "inflate 64M ",
		"inflate -1", "inflate 64Q", "inflate 64M 1", "INFLATE 64M", "grow 64M", "64M",
		"inflate\t64M", "inflatex 64M", "query", "deflate M", "inflate +1M", "inflate 0x10",
		"inflate 1M extra", "status",
	};
	enum balloon_op op;
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
	vm.ctl = &srv.vc;
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
	unsigned int n = srv.vc.pollfds(&srv.vc, fds, 2 + CTL_MAX_CLIENTS);

	ck_assert_int_ge(poll(fds, n, 2000), 1);
	srv.vc.handle(&srv.vc, &vm, fds, n);
}

/* An event line: {"time":SECONDS.MICROS, then the rest as given. */
static void expect_event(const char *json, const char *rest)
{
	const char *p = json + strlen("{\"time\":");

	ck_assert_msg(!strncmp(json, "{\"time\":", strlen("{\"time\":")), "%s", json);
	p += strspn(p, "0123456789");
	ck_assert_msg(*p == '.' && strspn(p + 1, "0123456789") == 6 && p[7] == ',', "%s", json);
	ck_assert_str_eq(p + 8, rest);
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

/*
 * Clients that connect and never speak: once every slot is taken a newcomer is turned away, but
 * after CTL_REQUEST_NS the longest silent one makes room for it.
 */
START_TEST(server_silent_clients)
{
	int silent[CTL_MAX_CLIENTS], late, fd;
	struct timespec wait = { .tv_sec = CTL_REQUEST_NS / 1000000000ULL, .tv_nsec = 200000000 };

	for (unsigned int i = 0; i < CTL_MAX_CLIENTS; i++)
		silent[i] = client();
	late = client();
	ck_assert_int_eq(ctl__recv(late, &m), -ECONNRESET);	/* no room: hung up */
	close(late);
	nanosleep(&wait, NULL);
	fd = client();
	ck_assert_int_eq(ctl__recv(silent[0], &m), 0);
	ck_assert_uint_eq(m.type, CTL_ERROR);
	ck_assert_ptr_nonnull(strstr(m.payload, "no request within"));
	ck_assert_int_eq(ctl__send(fd, CTL_INFO, ""), 0);
	serve();
	ck_assert_int_eq(ctl__recv(fd, &m), 0);
	ck_assert_uint_eq(m.type, CTL_OK);
	close(fd);
	for (unsigned int i = 0; i < CTL_MAX_CLIENTS; i++)
		close(silent[i]);
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
	kvm__post_event(&vm, VM_EV_PLUG, 2, 2);
	kvm__post_event(&vm, VM_EV_CPU_ON_GRANTED, 0, 2);
	serve();
	ck_assert_int_eq(ctl__recv(fd, &m), 0);
	ck_assert_uint_eq(m.type, CTL_EVENT);
	expect_event(m.payload, "\"event\":\"plug\",\"vcpu\":2}");
	ck_assert_int_eq(ctl__recv(fd, &m), 0);
	expect_event(m.payload, "\"event\":\"cpu_on_granted\",\"vcpu\":0,\"target\":2}");
	/* ACPI hot-add's: a notification's kind, the guest's eject. */
	kvm__post_vm_event(&vm, &(struct vm_event){ .type = VM_EV_ACPI_NOTIFY, .vcpu = 2, .acpi_notify = 1 });
	kvm__post_vm_event(&vm, &(struct vm_event){ .type = VM_EV_ACPI_NOTIFY, .vcpu = 3, .acpi_notify = 3 });
	kvm__post_vm_event(&vm, &(struct vm_event){ .type = VM_EV_ACPI_NOTIFY, .vcpu = 3, .acpi_notify = 7 });
	kvm__post_event(&vm, VM_EV_ACPI_EJECT, 3, 3);
	serve();
	ck_assert_int_eq(ctl__recv(fd, &m), 0);
	expect_event(m.payload, "\"event\":\"acpi_notify\",\"vcpu\":2,\"kind\":\"device_check\"}");
	ck_assert_int_eq(ctl__recv(fd, &m), 0);
	expect_event(m.payload, "\"event\":\"acpi_notify\",\"vcpu\":3,\"kind\":\"eject_request\"}");
	ck_assert_int_eq(ctl__recv(fd, &m), 0);
	expect_event(m.payload, "\"event\":\"acpi_notify\",\"vcpu\":3,\"kind\":\"?\"}");
	ck_assert_int_eq(ctl__recv(fd, &m), 0);
	expect_event(m.payload, "\"event\":\"acpi_eject\",\"vcpu\":3}");
	close(fd);
}
END_TEST

/* SDEI's events carry the event's number, and its completion the handler's duration. */
START_TEST(sdei_event_json)
{
	struct vm_event ev = { .type = VM_EV_SDEI_DISPATCH, .vcpu = 1, .target = 1,
			       .time_ns = 1500000000ULL, .sdei_event = 1000, .duration_ns = 7 };
	char json[CTL_EVENT_JSON_MAX];

	ctl__event_json(&ev, json, sizeof(json));
	ck_assert_str_eq(json, "{\"time\":1.500000,\"event\":\"sdei_dispatch\",\"vcpu\":1,"
			 "\"sdei_event\":1000}");
	ev.type = VM_EV_SDEI_COMPLETE;
	ev.vcpu = 511;
	ev.duration_ns = UINT64_MAX;
	ctl__event_json(&ev, json, sizeof(json));
	ck_assert_str_eq(json, "{\"time\":1.500000,\"event\":\"sdei_complete\",\"vcpu\":511,"
			 "\"sdei_event\":1000,\"duration_ns\":18446744073709551615}");
}
END_TEST

/* A VM without --sdei answers the SDEI requests with an error that says what is missing. */
START_TEST(server_sdei_absent)
{
	int fd = client();

	ck_assert_int_eq(ctl__send(fd, CTL_SDEI_LIST, ""), 0);
	serve();
	ck_assert_int_eq(ctl__recv(fd, &m), 0);
	ck_assert_uint_eq(m.type, CTL_ERROR);
	ck_assert_ptr_nonnull(strstr(m.payload, "--sdei"));
	ck_assert_int_eq(ctl__send(fd, CTL_SDEI_SIGNAL, "nmi 0"), 0);
	serve();
	ck_assert_int_eq(ctl__recv(fd, &m), 0);
	ck_assert_uint_eq(m.type, CTL_ERROR);
	close(fd);
}
END_TEST

/* Events are live: one that nobody follows is not queued, nor the main thread woken for it. */
START_TEST(server_events_need_a_listener)
{
	int fd = client();

	kvm__post_event(&vm, VM_EV_PLUG, 1, 1);
	ck_assert_uint_eq(srv.count, 0);
	ck_assert_int_eq(ctl__send(fd, CTL_EVENTS, ""), 0);
	serve();
	ck_assert_int_eq(ctl__recv(fd, &m), 0);
	kvm__post_event(&vm, VM_EV_PLUG, 2, 2);
	ck_assert_uint_eq(srv.count, 1);
	serve();
	ck_assert_int_eq(ctl__recv(fd, &m), 0);
	expect_event(m.payload, "\"event\":\"plug\",\"vcpu\":2}");
	/* The listener hangs up: nothing is queued again. */
	close(fd);
	serve();
	kvm__post_event(&vm, VM_EV_PLUG, 3, 3);
	ck_assert_uint_eq(srv.count, 0);
}
END_TEST

/* lkvm run --events-log: every event, from the first, with no client following; whole lines. */
START_TEST(server_events_log)
{
	char path[128], text[512];
	int fd, n;

	snprintf(path, sizeof(path), "%s/events.log", dir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ge(fd, 0);
	ctl_server__log_events(&srv, dup(fd));
	kvm__post_event(&vm, VM_EV_CPU_START, 0, 0);
	kvm__post_event(&vm, VM_EV_CPU_ON_GRANTED, 0, 2);
	ck_assert_uint_eq(srv.count, 2);
	serve();
	n = (int)pread(fd, text, sizeof(text) - 1, 0);
	ck_assert_int_gt(n, 0);
	text[n] = '\0';
	ck_assert_msg(text[n - 1] == '\n' && strchr(text, '\n') != text + n - 1, "%s", text);
	*strchr(text, '\n') = '\0';
	expect_event(text, "\"event\":\"cpu_start\",\"vcpu\":0}");
	text[n - 1] = '\0';
	expect_event(text + strlen(text) + 1, "\"event\":\"cpu_on_granted\",\"vcpu\":0,\"target\":2}");
	close(fd);
	unlink(path);
}
END_TEST

static char jout[4096];
static struct json_buf jb;

static struct json_buf *jreset(void)
{
	json__init(&jb, jout, sizeof(jout));
	return &jb;
}

/* Quotes, backslashes and control characters escaped; the rest as it is. */
START_TEST(json_strings)
{
	json__string(jreset(), "a\"b\\c\n\x01\x7f\xc3\xa9");
	ck_assert_int_eq(jb.err, 0);
	ck_assert_str_eq(jout, "\"a\\\"b\\\\c\\u000a\\u0001\\u007f\xc3\xa9\"");
	/* What does not fit is an error, not half a document. */
	json__init(&jb, jout, 4);
	json__string(&jb, "abcdef");
	ck_assert_int_eq(jb.err, -ENOSPC);
}
END_TEST

START_TEST(json_vm)
{
	ck_assert_int_eq(ctl_json__vm(jreset(), "demo 123 4 2"), 0);
	ck_assert_str_eq(jout, "{\"name\":\"demo\",\"pid\":123,\"cpus\":4,\"plugged\":2}");
	ck_assert_int_eq(ctl_json__vm(jreset(), "demo 123 4"), -EINVAL);
	ck_assert_int_eq(ctl_json__vm(jreset(), "demo 123 4 2 junk"), -EINVAL);
}
END_TEST

/* The table as hotplug__list writes it. */
START_TEST(json_cpus)
{
	static const char table[] =
		"ID   MPIDR        STATE        STANDBYS   STANDBY_US  POWERDNS   POWERDN_US DELAY_MS\n"
		"0    0x0000000000 on                  3           12         0            0        0\n"
		"1    0x0000000001 on,eject            0            0         1         4000       25\n"
		"2    0x0000000002 off                 0            0         0            0        0\n";

	ck_assert_int_eq(ctl_json__cpus(jreset(), table), 0);
	ck_assert_str_eq(jout, "[{\"id\":0,\"mpidr\":0,\"state\":\"on\",\"eject\":false,\"standbys\":3,"
			 "\"standby_us\":12,\"powerdowns\":0,\"powerdown_us\":0,\"delay_ms\":0},"
			 "{\"id\":1,\"mpidr\":1,\"state\":\"on\",\"eject\":true,\"standbys\":0,"
			 "\"standby_us\":0,\"powerdowns\":1,\"powerdown_us\":4000,\"delay_ms\":25},"
			 "{\"id\":2,\"mpidr\":2,\"state\":\"off\",\"eject\":false,\"standbys\":0,"
			 "\"standby_us\":0,\"powerdowns\":0,\"powerdown_us\":0,\"delay_ms\":0}]");
	ck_assert_int_eq(ctl_json__cpus(jreset(), "ID MPIDR\n"), 0);
	ck_assert_str_eq(jout, "[]");
	ck_assert_int_eq(ctl_json__cpus(jreset(), "ID MPIDR\n0 0x0 on 1 2 3\n"), -EINVAL);
	ck_assert_int_eq(ctl_json__cpus(jreset(), "ID MPIDR\n0 0x0 on,x 0 0 0 0 0\n"), -EINVAL);
	ck_assert_int_eq(ctl_json__cpus(jreset(), "vCPU states are lkvm's only"), -EINVAL);
}
END_TEST

/* The balloon's answer as virtio_balloon__set writes it, with and without the guest's stats. */
START_TEST(json_balloon)
{
	ck_assert_int_eq(ctl_json__balloon(jreset(), "target 0 (0 pages), actual 0 (0 pages), "
					   "RAM 256M"), 0);
	ck_assert_str_eq(jout, "{\"target_pages\":0,\"target_bytes\":0,\"actual_pages\":0,"
			 "\"actual_bytes\":0,\"page_size\":4096,\"ram_bytes\":268435456}");
	ck_assert_int_eq(ctl_json__balloon(jreset(), "target 64M (16384 pages), actual 32M (8192 "
					   "pages), RAM 1G\nguest stats (3s old): swap-in 5 "
					   "free 1024K available 2048K"), 0);
	ck_assert_str_eq(jout, "{\"target_pages\":16384,\"target_bytes\":67108864,"
			 "\"actual_pages\":8192,\"actual_bytes\":33554432,\"page_size\":4096,"
			 "\"ram_bytes\":1073741824,\"stats_age_s\":3,\"stats\":{\"swap-in\":5,"
			 "\"free\":1048576,\"available\":2097152}}");
	ck_assert_int_eq(ctl_json__balloon(jreset(), "balloon: target clamped to 0: it was 0\n"
					   "target 0 (0 pages), actual 0 (0 pages), RAM 1G"), -EINVAL);
	ck_assert_int_eq(ctl_json__balloon(jreset(), "target 0 (0 pages), actual 0 (0 pages), "
					   "RAM 1G\nguest stats (3s old): free"), -EINVAL);
}
END_TEST

/* A main thread far behind: what the queue cannot hold is counted, where it was lost. */
START_TEST(server_events_dropped)
{
	int fd = client();
	unsigned int got = 0;

	ck_assert_int_eq(ctl__send(fd, CTL_EVENTS, ""), 0);
	serve();
	ck_assert_int_eq(ctl__recv(fd, &m), 0);
	for (unsigned int i = 0; i < CTL_EVENT_QUEUE + 99; i++)
		kvm__post_event(&vm, VM_EV_CPU_OFF, 1, 1);
	kvm__post_event(&vm, VM_EV_SYSTEM_OFF, 0, 0);
	serve();
	while (!ctl__recv(fd, &m) && !strstr(m.payload, "events_dropped"))
		got++;
	ck_assert_uint_eq(got, CTL_EVENT_QUEUE - 1);
	ck_assert_ptr_nonnull(strstr(m.payload, "\"count\":101}"));
	close(fd);
}
END_TEST

/* ---- the socket directory and the clients, against hostile neighbours and servers ---- */

static char base[64], sockdir[80];

static void dir_setup(void)
{
	snprintf(base, sizeof(base), "/tmp/lkvm-unit-d%d", (int)getpid());
	ck_assert_int_eq(mkdir(base, 0700), 0);
	snprintf(sockdir, sizeof(sockdir), "%s/lkvm", base);
	setenv("XDG_RUNTIME_DIR", base, 1);
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void dir_teardown(void)
{
	nftw(base, remove_one, 8, FTW_DEPTH | FTW_PHYS);
}

static bool is_root(void)
{
	if (geteuid())
		fprintf(stderr, "control: not root: the checks with other users' files are skipped\n");
	return !geteuid();
}

/*
 * A server that is not lkvm: listens on NAME.sock in the socket directory as uid (listen() fixes
 * the credentials its clients see) and answers each of n requests with type and text, and
 * CTL_EVENTS with text as an event after that. Returns its pid.
 */
static pid_t fake_server(const char *name, uid_t uid, u16 type, const char *text, int n)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), ready[2];
	char byte;
	pid_t pid;

	mkdir(sockdir, 0700);
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s/%s.sock", sockdir, name);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	ck_assert_int_eq(pipe(ready), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (!pid) {
		static struct ctl_msg req;

		close(ready[0]);
		if ((uid != geteuid() && seteuid(uid)) || listen(fd, 8))
			_exit(1);
		close(ready[1]);
		for (int i = 0; i < n; i++) {
			int c = accept(fd, NULL, NULL);

			if (c < 0)
				_exit(1);
			if (!ctl__recv(c, &req) && !ctl__send(c, type, text) && req.type == CTL_EVENTS)
				ctl__send(c, CTL_EVENT, text);
			close(c);
		}
		_exit(0);
	}
	close(ready[1]);
	ck_assert_int_eq(read(ready[0], &byte, 1), 0);	/* listening */
	close(ready[0]);
	close(fd);
	return pid;
}

static void reap(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

/* Someone else's directory is refused, named, and left as it was. */
START_TEST(dir_of_another_user)
{
	struct stat st;
	const char *err;

	if (!is_root())
		return;
	ck_assert_int_eq(mkdir(sockdir, 0700), 0);
	ck_assert_int_eq(chown(sockdir, 1234, 1234), 0);
	capture_begin(STDERR_FILENO);
	ck_assert_int_eq(ctl_server__init(&srv, "vm"), -EPERM);
	err = capture_end(STDERR_FILENO);
	ck_assert_ptr_nonnull(strstr(err, "owned by uid 1234, not by you"));
	ck_assert_ptr_eq(strchr(err, '\n'), err + strlen(err) - 1);	/* one line */
	ck_assert_int_eq(stat(sockdir, &st), 0);
	ck_assert_uint_eq(st.st_uid, 1234);
	ck_assert_uint_eq(st.st_mode & 07777, 0700);
	snprintf((char *)buf, sizeof(buf), "%s/vm.sock", sockdir);
	ck_assert_int_eq(access((char *)buf, F_OK), -1);
}
END_TEST

/* Ours but open to others: refused with what to do; lkvm does not chmod it. */
START_TEST(dir_open_to_others)
{
	static char *list_argv[] = { "list", NULL };
	static const mode_t modes[] = { 0755, 0770, 0701, 0711 };
	struct stat st;

	ck_assert_int_eq(mkdir(sockdir, 0700), 0);
	for (size_t i = 0; i < ARRAY_SIZE(modes); i++) {
		ck_assert_int_eq(chmod(sockdir, modes[i]), 0);
		capture_begin(STDERR_FILENO);
		ck_assert_int_eq(ctl_server__init(&srv, "vm"), -EPERM);
		ck_assert_ptr_nonnull(strstr(capture_end(STDERR_FILENO), "chmod 700"));
		ck_assert_int_eq(stat(sockdir, &st), 0);
		ck_assert_uint_eq(st.st_mode & 07777, modes[i]);
	}
	/* The clients refuse it too, rather than believe what is in it. */
	capture_begin(STDERR_FILENO);
	ck_assert_int_eq(cmd_list(1, list_argv), 1);
	ck_assert_ptr_nonnull(strstr(capture_end(STDERR_FILENO), "chmod 700"));
	capture_begin(STDERR_FILENO);
	ck_assert_int_lt(ctl__connect("vm"), 0);
	capture_end(STDERR_FILENO);
}
END_TEST

/* A symlink where the directory goes is not followed, even to a good directory of ours. */
START_TEST(dir_is_a_symlink)
{
	char real[96];

	snprintf(real, sizeof(real), "%s/elsewhere", base);
	ck_assert_int_eq(mkdir(real, 0700), 0);
	ck_assert_int_eq(symlink("elsewhere", sockdir), 0);
	capture_begin(STDERR_FILENO);
	ck_assert_int_lt(ctl_server__init(&srv, "vm"), 0);
	ck_assert_ptr_nonnull(strstr(capture_end(STDERR_FILENO), "symbolic link"));
	ck_assert_int_eq(rmdir(real), 0);	/* still empty */
}
END_TEST

/* In a parent others may write to, they could swap the directory: refused, unless sticky. */
START_TEST(dir_parent_writable)
{
	ck_assert_int_eq(chmod(base, 0777), 0);
	capture_begin(STDERR_FILENO);
	ck_assert_int_eq(ctl_server__init(&srv, "vm"), -EPERM);
	ck_assert_ptr_nonnull(strstr(capture_end(STDERR_FILENO), "others could replace"));
	ck_assert_int_eq(access(sockdir, F_OK), -1);
	ck_assert_int_eq(chmod(base, 01777), 0);
	ck_assert_int_eq(ctl_server__init(&srv, "vm"), 0);
	ctl_server__exit(&srv);
}
END_TEST

/* Whatever the umask, the directory is 0700 and the socket 0600 from the moment it exists. */
START_TEST(dir_and_socket_private_under_umask_0)
{
	struct stat st;

	umask(0);
	ck_assert_int_eq(ctl_server__init(&srv, "vm"), 0);
	ck_assert_int_eq(stat(sockdir, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0700);
	ck_assert_int_eq(lstat(srv.path, &st), 0);
	ck_assert(S_ISSOCK(st.st_mode));
	ck_assert_uint_eq(st.st_mode & 07777, 0600);
	ctl_server__exit(&srv);
}
END_TEST

/* A socket served by another user is not believed, whatever it says. */
START_TEST(client_refuses_other_users_server)
{
	pid_t pid;

	if (!is_root())
		return;
	pid = fake_server("other", 1234, CTL_OK, "other 1 1 1", 1);
	capture_begin(STDERR_FILENO);
	ck_assert_int_eq(ctl__connect("other"), -EPERM);
	ck_assert_ptr_nonnull(strstr(capture_end(STDERR_FILENO), "served by uid 1234"));
	reap(pid);
}
END_TEST

/* What a server sends reaches the terminal escaped: no cursor moves, no forged lines. */
START_TEST(client_escapes_replies)
{
	static char *cpu_argv[] = { "cpu", "list", "--name", "ok", NULL };
	static char *stop_argv[] = { "stop", "--name", "err", NULL };
	static char *events_argv[] = { "events", "--name", "ev", NULL };
	pid_t ok = fake_server("ok", geteuid(), CTL_OK, "ok\x1b]0;title\x07\nnext\r", 1);
	pid_t err = fake_server("err", geteuid(), CTL_ERROR, "bad\nlkvm: forged\x1b[2K", 1);
	pid_t ev = fake_server("ev", geteuid(), CTL_OK, "{\"e\":\"\x1b[31m\x85\"}", 1);

	capture_begin(STDOUT_FILENO);
	ck_assert_int_eq(cmd_cpu(4, cpu_argv), 0);
	ck_assert_str_eq(capture_end(STDOUT_FILENO), "ok\\x1b]0;title\\x07\nnext\\x0d\n");
	capture_begin(STDERR_FILENO);
	ck_assert_int_eq(cmd_stop(3, stop_argv), 1);
	ck_assert_str_eq(capture_end(STDERR_FILENO), "lkvm: bad\\x0alkvm: forged\\x1b[2K\n");
	capture_begin(STDOUT_FILENO);
	ck_assert_int_eq(cmd_events(3, events_argv), 0);
	ck_assert_str_eq(capture_end(STDOUT_FILENO), "{\"e\":\"\\x1b[31m\\x85\"}\n");
	reap(ok);
	reap(err);
	reap(ev);
}
END_TEST

/* lkvm list shows only our own sockets, once each, and escapes what they say. */
START_TEST(list_only_our_sockets)
{
	static char *list_argv[] = { "list", NULL };
	pid_t a = fake_server("a", geteuid(), CTL_OK, "evil\x1b[2J 42 2 1", 2), other = -1;
	char path[128], want[128];
	int fd;
	const char *out;

	snprintf(path, sizeof(path), "%s/b.sock", sockdir);
	ck_assert_int_eq(symlink("a.sock", path), 0);
	snprintf(path, sizeof(path), "%s/c.sock", sockdir);
	fd = open(path, O_CREAT | O_WRONLY, 0600);
	ck_assert_int_ge(fd, 0);
	close(fd);
	if (!geteuid()) {
		other = fake_server("d", 1234, CTL_OK, "intruder 1 1 1", 1);
		snprintf(path, sizeof(path), "%s/d.sock", sockdir);
		ck_assert_int_eq(chown(path, 1234, 1234), 0);
	}
	capture_begin(STDOUT_FILENO);
	ck_assert_int_eq(cmd_list(1, list_argv), 0);
	out = capture_end(STDOUT_FILENO);
	snprintf(want, sizeof(want), "%-24s %8u %5u %8u\n", "evil\\x1b[2J", 42, 2, 1);
	ck_assert_msg(!strcmp(strchr(out, '\n') + 1, want), "%s", out);
	reap(a);
	if (other > 0)
		reap(other);
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
	tcase_add_test(tc, socket_dir_choice);
	tcase_add_test(tc, socket_path_names);
	tcase_add_test(tc, printable);
	tcase_add_test(tc, send_recv);
	tcase_add_test(tc, balloon_payloads);
	tcase_add_test(tc, sdei_event_json);
	suite_add_tcase(s, tc);
	tc = tcase_create("server");
	tcase_add_checked_fixture(tc, server_setup, server_teardown);
	tcase_add_test(tc, server_socket_is_private);
	tcase_add_test(tc, server_info);
	tcase_add_test(tc, server_garbage);
	tcase_add_test(tc, server_oversized_and_truncated);
	tcase_add_test(tc, server_name_taken);
	tcase_add_test(tc, server_silent_clients);
	tcase_add_test(tc, server_balloon);
	tcase_add_test(tc, server_events);
	tcase_add_test(tc, server_sdei_absent);
	tcase_add_test(tc, server_events_dropped);
	tcase_add_test(tc, server_events_need_a_listener);
	tcase_add_test(tc, server_events_log);
	suite_add_tcase(s, tc);
	tc = tcase_create("json");
	tcase_add_test(tc, json_strings);
	tcase_add_test(tc, json_vm);
	tcase_add_test(tc, json_cpus);
	tcase_add_test(tc, json_balloon);
	suite_add_tcase(s, tc);
	tc = tcase_create("directory");
	tcase_add_checked_fixture(tc, dir_setup, dir_teardown);
	tcase_add_test(tc, dir_of_another_user);
	tcase_add_test(tc, dir_open_to_others);
	tcase_add_test(tc, dir_is_a_symlink);
	tcase_add_test(tc, dir_parent_writable);
	tcase_add_test(tc, dir_and_socket_private_under_umask_0);
	tcase_add_test(tc, client_refuses_other_users_server);
	tcase_add_test(tc, client_escapes_replies);
	tcase_add_test(tc, list_only_our_sockets);
	suite_add_tcase(s, tc);
	return s;
}
