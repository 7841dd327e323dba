/*
 * The host terminal: lkvm's stdin and stdout. Raw mode only when stdin is a terminal, restored on
 * every exit path. Guest console devices receive input through a console_sink.
 */
#ifndef LKVM_TERM_H
#define LKVM_TERM_H

#include <pthread.h>
#include <termios.h>

#include "lkvm/util.h"

struct console_sink {
	/* How many bytes the guest device can take now. */
	size_t (*room)(struct console_sink *sink);
	void (*input)(struct console_sink *sink, const u8 *buf, size_t len);
};

/*
 * Guest output goes through a bounded buffer that a writer thread drains to stdout, so that no
 * device lock is ever held across a write that a stalled reader can block. A device writes with
 * term__write (never blocks) and then, with its own locks released, waits while term__busy.
 */
#define TERM_OUT_SIZE		(64 * 1024)
#define TERM_OUT_SLACK		(8 * 1024)	/* above the high mark: writes between waits */
#define TERM_STALL_NS		(5ULL * 1000000000)

struct term {
	int in_fd, out_fd;
	int log_fd;			/* --console-log, or -1 */
	bool raw;			/* we changed the terminal and must restore it */
	struct termios saved;
	bool in_eof;			/* stdin is closed: stop polling it */
	bool escape;			/* saw Ctrl-A */
	struct console_sink *sink;	/* the active guest console, or NULL */

	/* Output: out_lock guards the rest. */
	pthread_mutex_t out_lock;
	pthread_cond_t out_cond;	/* data queued, room made, writer done */
	u8 *out;			/* TERM_OUT_SIZE bytes, a ring */
	size_t out_head, out_len;
	u64 progress_ns;		/* the reader last took output, or output began to wait */
	u64 stall_ns;			/* no progress this long: the reader is gone, drop output */
	bool stalled;			/* so: output that does not fit is dropped */
	bool gone;			/* stdout failed for good (closed, EPIPE) */
	bool quit, writer_done;
	u64 dropped, dropped_reported;
	pthread_t writer;
	bool writer_started;
};

/*
 * Sets up the console on in_fd and out_fd (lkvm's stdin and stdout; raw mode only if in_fd is a
 * terminal), the log file and the writer. Logs and returns < 0 on error.
 */
int term__init(struct term *t, int in_fd, int out_fd, const char *log_path);
/*
 * Flushes what the reader takes (giving up after stall_ns without progress), stops the writer,
 * restores the terminal and closes the log; safe to call more than once.
 */
void term__restore(struct term *t);
/*
 * Queues guest console output for stdout and writes it to the log. Never blocks: what does not
 * fit is dropped and counted (callers keep below the high mark with term__busy).
 */
void term__write(struct term *t, const u8 *buf, size_t len);
/*
 * Whether the output buffer is above its high mark while the reader still takes output: a
 * device should wait before it writes more. Waits up to wait_ms for room first. Call it with no
 * lock held, and again while it returns true (checking whether the VM stops meanwhile).
 */
bool term__busy(struct term *t, unsigned int wait_ms);
/*
 * Moves pending stdin bytes to the sink. Returns 1 if the user typed the quit sequence
 * (Ctrl-A x), 0 otherwise.
 */
int term__handle_input(struct term *t);
/* Whether the main loop should poll stdin now. */
bool term__wants_input(struct term *t);

#endif
