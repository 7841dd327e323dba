/*
 * libFuzzer target for the control protocol (control/proto.c), both ends: the byte stream a
 * client sends, fed to the server's parser in the chunks recv() might return and buffered as
 * ctl_server__read does, each request's balloon payload parsed, and every payload made
 * printable as the client shows a reply. The first input byte sets the chunk size.
 * It checks that a parser never claims more than it was given, that what it accepts
 * re-encodes to the same bytes, and that printable text is printable and within its buffer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lkvm/control.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct ctl_msg msg;
static u8 buf[CTL_HDR_SIZE + CTL_MAX_PAYLOAD];
static char shown[CTL_PRINTABLE_SIZE];

static void check_printable(const char *text, bool lines)
{
	size_t n;

	ctl__printable(text, lines, shown, sizeof(shown));
	n = strlen(shown);
	if (n >= sizeof(shown))
		abort();
	for (size_t i = 0; i < n; i++) {
		u8 c = (u8)shown[i];

		if ((c < 0x20 && !(lines && c == '\n')) || c >= 0x7f)
			abort();
	}
}

/* One parsed message: what the server and the client do with it. */
static void check_message(const u8 *raw, int used)
{
	u8 again[CTL_HDR_SIZE + CTL_MAX_PAYLOAD];
	enum balloon_op op;
	u64 bytes;

	if (msg.len > CTL_MAX_PAYLOAD || msg.payload[msg.len] || strlen(msg.payload) != msg.len)
		abort();
	if (ctl__encode(again, sizeof(again), msg.type, msg.payload, msg.len) != used ||
	    memcmp(again, raw, (size_t)used))
		abort();
	if (!ctl__parse_balloon(msg.payload, &op, &bytes) &&
	    (op == BALLOON_QUERY) != (msg.len == 0))
		abort();
	check_printable(msg.payload, false);
	check_printable(msg.payload, true);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t chunk, len = 0;

	if (!size)
		return 0;
	chunk = (size_t)data[0] % 64 + 1;
	data++;
	size--;
	while (size) {
		size_t n = size < chunk ? size : chunk;
		int used;

		if (n > sizeof(buf) - len)
			n = sizeof(buf) - len;
		memcpy(buf + len, data, n);
		len += n;
		data += n;
		size -= n;
		while ((used = ctl__parse(buf, len, &msg)) > 0) {
			if ((size_t)used > len)
				abort();
			check_message(buf, used);
			memmove(buf, buf + used, len - (size_t)used);
			len -= (size_t)used;
		}
		/* A malformed message ends the connection; the largest message fits the buffer. */
		if (used < 0)
			break;
		if (len == sizeof(buf))
			abort();
	}
	return 0;
}
