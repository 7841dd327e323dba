/*
 * vsock: one AF_VSOCK stream connection, for the virtio-vsock tests (tests/system/t-vsock.sh), in
 * the guest and in the test host alike.
 *
 *   vsock listen PORT            accepts one connection, echoes what it reads until the peer
 *                                shuts its side down, then exits 0
 *   vsock connect CID PORT TEXT  connects (retrying for up to 60 s while nobody listens yet),
 *                                sends TEXT, shuts its side down, prints "vsock: reply REPLY"
 *                                and exits 0 if the reply is TEXT, 1 otherwise
 *
 * Errors are one line, "vsock: <what>: <why>", and exit status 2.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>		/* before vm_sockets.h, which needs struct sockaddr */
#include <linux/vm_sockets.h>
#include <unistd.h>

#define TIMEOUT_SECS	60

static int die(const char *what)
{
	fprintf(stderr, "vsock: %s: %s\n", what, strerror(errno));
	exit(2);
}

static unsigned int number(const char *s)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || !*s || *end || v > 0xffffffffUL) {
		fprintf(stderr, "vsock: %s: not a 32-bit number\n", s);
		exit(2);
	}
	return (unsigned int)v;
}

static int do_listen(unsigned int port)
{
	struct sockaddr_vm addr = { .svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_ANY,
				    .svm_port = port };
	char buf[4096];
	ssize_t n;
	int s = socket(AF_VSOCK, SOCK_STREAM, 0), c;

	if (s < 0)
		die("socket");
	if (bind(s, (struct sockaddr *)&addr, sizeof(addr)) || listen(s, 1))
		die("bind/listen");
	printf("vsock: listening on port %u\n", port);
	fflush(stdout);
	c = accept(s, NULL, NULL);
	if (c < 0)
		die("accept");
	while ((n = read(c, buf, sizeof(buf))) > 0) {
		if (write(c, buf, (size_t)n) != n)
			die("write");
	}
	if (n < 0)
		die("read");
	close(c);
	close(s);
	return 0;
}

static int do_connect(unsigned int cid, unsigned int port, const char *text)
{
	struct sockaddr_vm addr = { .svm_family = AF_VSOCK, .svm_cid = cid, .svm_port = port };
	size_t len = strlen(text), got = 0;
	char reply[4096];
	ssize_t n;
	int s = -1;

	/* The peer may not be listening yet (or its VM not yet booted): try again a while. */
	for (int tries = 0; ; tries++) {
		s = socket(AF_VSOCK, SOCK_STREAM, 0);
		if (s < 0)
			die("socket");
		if (!connect(s, (struct sockaddr *)&addr, sizeof(addr)))
			break;
		if (tries >= 10 * TIMEOUT_SECS)
			die("connect");
		close(s);
		usleep(100000);
	}
	if (len >= sizeof(reply) || write(s, text, len) != (ssize_t)len)
		die("write");
	shutdown(s, SHUT_WR);
	while (got < sizeof(reply) - 1 && (n = read(s, reply + got, sizeof(reply) - 1 - got)) > 0)
		got += (size_t)n;
	reply[got] = 0;
	printf("vsock: reply %s\n", reply);
	close(s);
	return strcmp(reply, text) ? 1 : 0;
}

int main(int argc, char **argv)
{
	alarm(2 * TIMEOUT_SECS);	/* a hung peer must not hang the test */
	if (argc == 3 && !strcmp(argv[1], "listen"))
		return do_listen(number(argv[2]));
	if (argc == 5 && !strcmp(argv[1], "connect"))
		return do_connect(number(argv[2]), number(argv[3]), argv[4]);
	fprintf(stderr, "usage: vsock listen PORT | vsock connect CID PORT TEXT\n");
	return 2;
}
