/*
 * ctlflood: hostile clients of lkvm's control socket (tests/system/t-storm.sh).
 *   ctlflood SOCKET silent N SECS   opens N connections that never speak, holds them SECS
 *   ctlflood SOCKET info N          N connections one after another, each an INFO request;
 *                                   prints "ctlflood: ok=A error=B hangup=C"
 * The protocol is include/lkvm/control.h's: a 12-byte header ("LKVM", version 1, type, length).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define HDR	12

static int dial(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* One INFO round trip: 0 OK, 1 an ERROR reply, 2 a hang-up or a broken reply. */
static int info(const char *path)
{
	static const unsigned char req[HDR] = { 'L', 'K', 'V', 'M', 1, 0, 1, 0, 0, 0, 0, 0 };
	unsigned char rep[HDR + 4096];
	size_t got = 0;
	int fd = dial(path), ret = 2;

	if (fd < 0)
		return 2;
	if (write(fd, req, sizeof(req)) == (ssize_t)sizeof(req)) {
		ssize_t n;

		while (got < HDR && (n = read(fd, rep + got, sizeof(rep) - got)) > 0)
			got += (size_t)n;
		if (got >= HDR && !memcmp(rep, "LKVM", 4))
			ret = rep[6] == 0x00 && rep[7] == 0x01 ? 0 : 1;
	}
	close(fd);
	return ret;
}

int main(int argc, char **argv)
{
	int n = argc > 3 ? atoi(argv[3]) : 0;

	if (argc == 5 && !strcmp(argv[2], "silent")) {
		int opened = 0;

		for (int i = 0; i < n; i++)
			opened += dial(argv[1]) >= 0;	/* kept open until exit */
		printf("ctlflood: silent=%d\n", opened);
		fflush(stdout);
		sleep((unsigned int)atoi(argv[4]));
		return 0;
	}
	if (argc == 4 && !strcmp(argv[2], "info")) {
		int count[3] = { 0 };

		for (int i = 0; i < n; i++)
			count[info(argv[1])]++;
		printf("ctlflood: ok=%d error=%d hangup=%d\n", count[0], count[1], count[2]);
		return 0;
	}
	fprintf(stderr, "usage: ctlflood SOCKET silent N SECS | ctlflood SOCKET info N\n");
	return 2;
}
