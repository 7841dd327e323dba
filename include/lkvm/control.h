/*
 * lkvm's control protocol: how `lkvm list|cpu|stop|pause|resume|events|balloon|sdei|nmi` talk to a
 * running VM over its UNIX socket. Every message is a 12-byte little-endian header and a payload:
 *
 *   u8  magic[4]   "LKVM"
 *   u16 version    CTL_VERSION
 *   u16 type       enum ctl_type
 *   u32 len        payload bytes, at most CTL_MAX_PAYLOAD
 *   u8  payload[len]   UTF-8 text, no NUL
 *
 * A client sends one request and reads one response (OK or ERROR, whose payload is the text to
 * show, or the error's "<what>: <why>"). After an OK to CTL_EVENTS the server goes on sending
 * CTL_EVENT messages, one JSON object each, until the client hangs up. Anything malformed ends
 * the connection after an ERROR; it never affects the VM.
 */
#ifndef LKVM_CONTROL_H
#define LKVM_CONTROL_H

#include "lkvm/events.h"
#include "lkvm/util.h"
#include "lkvm/virtio-balloon.h"

#define CTL_MAGIC		"LKVM"
#define CTL_VERSION		1
#define CTL_HDR_SIZE		12
#define CTL_MAX_PAYLOAD		4096

enum ctl_type {
	/* requests */
	CTL_INFO = 1,		/* -> "NAME PID NR_CPUS NR_PLUGGED" */
	CTL_CPU_LIST = 2,	/* -> a table, one line per vCPU */
	CTL_CPU_PLUG = 3,	/* "ID" */
	CTL_CPU_UNPLUG = 4,	/* "ID" */
	CTL_STOP = 5,
	CTL_PAUSE = 6,
	CTL_RESUME = 7,
	CTL_EVENTS = 8,		/* -> OK, then CTL_EVENT messages */
	CTL_CPU_DELAY = 9,	/* "ID MS": CPU_ON of vCPU ID starts it MS milliseconds later */
	CTL_BALLOON = 10,	/* "", "inflate SIZE" or "deflate SIZE" -> the target and actual */
	CTL_SDEI_LIST = 11,	/* -> each vCPU's mask, each event's state (--sdei) */
	CTL_SDEI_SIGNAL = 12,	/* "EVENT CPU": EVENT a name or number, CPU a vCPU or "-" */
	CTL_NR_REQUESTS,
	/* responses */
	CTL_OK = 0x100,
	CTL_ERROR = 0x101,
	CTL_EVENT = 0x102,
};

struct ctl_msg {
	u16 type;
	u32 len;
	char payload[CTL_MAX_PAYLOAD + 1];	/* NUL-terminated copy */
};

/*
 * Parses one message from the start of buf. Returns the bytes it used (> 0), 0 if buf holds only
 * part of a message so far, or a negative errno for a malformed one (-EPROTO: bad magic or
 * version; -EMSGSIZE: payload too long; -EINVAL: unknown type or a NUL in the payload).
 */
int ctl__parse(const u8 *buf, size_t len, struct ctl_msg *out);
/* Writes a message into buf (room for CTL_HDR_SIZE + len). Returns its size, or -EMSGSIZE. */
int ctl__encode(u8 *buf, size_t size, u16 type, const char *payload, size_t len);

/*
 * Parses a CTL_BALLOON payload: "" (the sizes only) or "inflate SIZE" / "deflate SIZE", one space
 * between, SIZE as parse_size takes it (no suffix: MiB). 0, or -EINVAL / -ERANGE.
 */
int ctl__parse_balloon(const char *payload, enum balloon_op *op, u64 *bytes);

/*
 * An event as `lkvm events` prints it, one JSON object: {"time":SECONDS.MICROS,"event":NAME,
 * "vcpu":N} plus "target":N where the event has one, and for SDEI's "sdei_event":N (the event's
 * number) and, on completion, "duration_ns":N (how long its handler ran). And the line that says count events were
 * lost: {"time":...,"event":"events_dropped","count":N}.
 */
#define CTL_EVENT_JSON_MAX	160
void ctl__event_json(const struct vm_event *ev, char *buf, size_t len);
void ctl__dropped_json(u64 count, char *buf, size_t len);

/* Sends/receives one whole message on a blocking socket. 0, or a negative errno. */
int ctl__send(int fd, u16 type, const char *payload);
int ctl__recv(int fd, struct ctl_msg *msg);

/*
 * The directory of the VMs' sockets: $XDG_RUNTIME_DIR/lkvm, else $HOME/.lkvm, else /run/lkvm for
 * root and /run/user/UID/lkvm for other users (never /tmp). It must be a directory, not a
 * symlink, owned by the user and closed to group and others (0700), in a parent that only the
 * user or root can change (or a sticky one); lkvm makes it, mode 0700, when create is set, but
 * never changes one that is wrong. Returns an open fd of it, or a negative errno after logging
 * why (-ENOENT unlogged when create is not set: no VM has run yet).
 */
int ctl__socket_dir(char *buf, size_t size, bool create);
/* The VM's socket, DIR/NAME.sock, after checking DIR as above. 0, or < 0 logged as above. */
int ctl__socket_path(const char *name, char *buf, size_t size, bool create);
/*
 * Connects to the VM called name, and only if its server runs as this user; logs
 * "lkvm: <name>: no such VM" etc. Returns an fd or < 0.
 */
int ctl__connect(const char *name);

/*
 * What a server says, made safe for a terminal: control characters and bytes >= 0x7f as \xNN
 * (newlines kept if lines is set), so no reply can move the cursor or forge a line of lkvm's.
 * out needs 4 * strlen(text) + 1 bytes; returns out.
 */
#define CTL_PRINTABLE_SIZE	(4 * CTL_MAX_PAYLOAD + 1)
char *ctl__printable(const char *text, bool lines, char *out, size_t size);

#endif
