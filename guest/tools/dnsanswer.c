/*
 * dnsanswer: the smallest DNS server the user-network test needs (busybox has none): on
 * 127.0.0.1:53 (UDP) it answers every A query with one record, ADDR, whatever the name, and
 * every other query with no record; it prints each name asked for A ("dnsanswer: NAME"). It runs
 * until killed. A static arm64 Linux program.
 *
 *   dnsanswer ADDR
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* The query's name as dotted text, and where its question ends; 0 if malformed. */
static size_t question(const unsigned char *q, size_t len, char *name, size_t size)
{
	size_t i = 12, n = 0;

	while (i < len && q[i]) {
		size_t l = q[i++];

		if (l > 63 || i + l > len || n + l + 2 > size)
			return 0;
		if (n)
			name[n++] = '.';
		memcpy(name + n, q + i, l);
		n += l;
		i += l;
	}
	name[n] = '\0';
	/* The root label, then QTYPE and QCLASS. */
	return i + 5 <= len ? i + 5 : 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(53) };
	struct in_addr addr;
	int fd;

	if (argc != 2 || !inet_aton(argv[1], &addr)) {
		fprintf(stderr, "usage: dnsanswer ADDR\n");
		return 2;
	}
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		perror("dnsanswer: 127.0.0.1:53");
		return 1;
	}
	printf("dnsanswer: listening\n");
	fflush(stdout);
	for (;;) {
		unsigned char m[512 + 16];
		struct sockaddr_in from;
		socklen_t fl = sizeof(from);
		char name[256];
		ssize_t r = recvfrom(fd, m, 512, 0, (struct sockaddr *)&from, &fl);
		size_t end;
		bool is_a;
		/* The answer: a pointer to the question's name, A, IN, TTL 60, 4 bytes. */
		static const unsigned char rr[] = { 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4 };

		if (r < 12)
			continue;
		end = question(m, (size_t)r, name, sizeof(name));
		if (!end || m[4] || m[5] != 1)
			continue;
		is_a = m[end - 4] == 0 && m[end - 3] == 1;
		m[2] = 0x80 | (m[2] & 0x01);	/* a response; recursion desired as asked */
		m[3] = 0x80;			/* recursion available, no error */
		m[6] = 0;
		m[7] = is_a;			/* answers */
		memset(m + 8, 0, 4);
		if (is_a) {
			printf("dnsanswer: %s\n", name);
			fflush(stdout);
			memcpy(m + end, rr, sizeof(rr));
			memcpy(m + end + sizeof(rr), &addr, 4);
		}
		sendto(fd, m, end + (is_a ? sizeof(rr) + 4 : 0), 0, (struct sockaddr *)&from, fl);
	}
}
