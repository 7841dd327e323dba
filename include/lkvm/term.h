/*
 * The host terminal: lkvm's stdin and stdout. Raw mode only when stdin is a terminal, restored on
 * every exit path. Guest console devices receive input through a console_sink.
 */
#ifndef LKVM_TERM_H
#define LKVM_TERM_H

#include <termios.h>

#include "lkvm/util.h"

struct console_sink {
	/* How many bytes the guest device can take now. */
	size_t (*room)(struct console_sink *sink);
	void (*input)(struct console_sink *sink, const u8 *buf, size_t len);
};

struct term {
	int in_fd, out_fd;
	int log_fd;			/* --console-log, or -1 */
	bool raw;			/* we changed the terminal and must restore it */
	struct termios saved;
	bool in_eof;			/* stdin is closed: stop polling it */
	bool escape;			/* saw Ctrl-A */
	struct console_sink *sink;	/* the active guest console, or NULL */
};

/* Sets up stdin/stdout (raw mode only if stdin is a terminal) and the log file, if any. */
int term__init(struct term *t, const char *log_path);
/* Restores the terminal and closes the log; safe to call more than once. */
void term__restore(struct term *t);
/* Writes guest console output to stdout, and to the log. */
void term__write(struct term *t, const u8 *buf, size_t len);
/*
 * Moves pending stdin bytes to the sink. Returns 1 if the user typed the quit sequence
 * (Ctrl-A x), 0 otherwise.
 */
int term__handle_input(struct term *t);
/* Whether the main loop should poll stdin now. */
bool term__wants_input(struct term *t);

#endif
