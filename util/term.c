#include "lkvm/term.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#define TERM_ESCAPE 0x01	/* Ctrl-A, as in QEMU and kvmtool */

int term__init(struct term *t, const char *log_path)
{
	struct termios raw;

	t->in_fd = STDIN_FILENO;
	t->out_fd = STDOUT_FILENO;
	t->log_fd = -1;
	t->raw = false;
	t->in_eof = false;
	t->escape = false;
	t->sink = NULL;
	if (log_path) {
		t->log_fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_APPEND, 0644);
		if (t->log_fd < 0) {
			pr_err("--console-log %s: %s", log_path, strerror(errno));
			return -errno;
		}
	}
	if (!isatty(t->in_fd))
		return 0;
	if (tcgetattr(t->in_fd, &t->saved) < 0) {
		pr_err("terminal: cannot read its settings: %s", strerror(errno));
		term__restore(t);
		return -errno;
	}
	raw = t->saved;
	cfmakeraw(&raw);
	/* Keep output post-processing: the guest's "\n" still needs to reach the screen as is. */
	raw.c_oflag = t->saved.c_oflag;
	if (tcsetattr(t->in_fd, TCSANOW, &raw) < 0) {
		pr_err("terminal: cannot switch to raw mode: %s", strerror(errno));
		term__restore(t);
		return -errno;
	}
	t->raw = true;
	return 0;
}

void term__restore(struct term *t)
{
	if (t->log_fd >= 0)
		close(t->log_fd);
	t->log_fd = -1;
	if (!t->raw)
		return;
	tcsetattr(t->in_fd, TCSANOW, &t->saved);
	t->raw = false;
}

void term__write(struct term *t, const u8 *buf, size_t len)
{
	/* A closed stdout must not stop the guest: its output is then dropped. */
	write_all(t->out_fd, buf, len);
	if (t->log_fd >= 0)
		write_all(t->log_fd, buf, len);
}

bool term__wants_input(struct term *t)
{
	return !t->in_eof && t->sink && t->sink->room(t->sink) > 0;
}

int term__handle_input(struct term *t)
{
	u8 in[256], out[sizeof(in) + 1];	/* + a Ctrl-A held over from the last read */
	size_t room = t->sink ? t->sink->room(t->sink) : 0, n = 0;
	ssize_t len;

	if (!room)
		return 0;
	len = read(t->in_fd, in, room < sizeof(in) ? room : sizeof(in));
	if (len <= 0) {
		if (len == 0 || (errno != EINTR && errno != EAGAIN))
			t->in_eof = true;
		return 0;
	}
	for (ssize_t i = 0; i < len; i++) {
		u8 c = in[i];

		/* Only a terminal user can type the escape: piped input passes through untouched. */
		if (t->raw && t->escape) {
			t->escape = false;
			if (c == 'x' || c == 'X')
				return 1;
			if (c != TERM_ESCAPE)
				out[n++] = TERM_ESCAPE;
		} else if (t->raw && c == TERM_ESCAPE) {
			t->escape = true;
			continue;
		}
		out[n++] = c;
	}
	t->sink->input(t->sink, out, n);
	return 0;
}
