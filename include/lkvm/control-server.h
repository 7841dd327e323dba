/*
 * The server end of the control socket, in `lkvm run`: it lives as long as lkvm, across guest
 * resets, and runs in the main thread's poll loop as the VM's struct vm_control (kvm.h). Events
 * may be posted from any thread; they are turned into JSON lines in the main thread.
 */
#ifndef LKVM_CONTROL_SERVER_H
#define LKVM_CONTROL_SERVER_H

#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>

#include "lkvm/control.h"
#include "lkvm/events.h"
#include "lkvm/kvm.h"

#define CTL_MAX_CLIENTS	16
#define CTL_EVENT_QUEUE	256
/*
 * A client has this long for each request: when every slot is taken, the one that has kept a
 * slot longest without a whole request (never one following events) makes room for a newcomer,
 * so clients that connect and never speak cannot lock the VM's owner out.
 */
#define CTL_REQUEST_NS	(2 * 1000000000ULL)

struct ctl_server;

struct ctl_client {
	struct ctl_server *server;
	int fd;			/* -1: free slot */
	bool events;		/* subscribed to the event stream */
	u64 since_ns;		/* accepted, or its last request answered (clock__now_ns) */
	size_t len;
	u8 buf[CTL_HDR_SIZE + CTL_MAX_PAYLOAD];
};

struct ctl_server {
	struct vm_control vc;	/* what the VM's main loop and its parts see */
	int listen_fd;
	int event_fd;		/* eventfd: events are queued */
	int log_fd;		/* lkvm run --events-log: every event, a JSON line each; -1: none */
	char path[108];
	struct ctl_client clients[CTL_MAX_CLIENTS];
	/*
	 * Clients following `lkvm events`: without one, posting an event costs one atomic load,
	 * not a lock and an eventfd write on the vCPU's PSCI path. Main thread writes, all read.
	 */
	_Atomic unsigned int listeners;
	pthread_mutex_t lock;	/* guards the event queue */
	struct ctl_event {
		struct vm_event ev;
		u64 dropped;	/* not 0: in place of this many events the queue had no room for */
	} queue[CTL_EVENT_QUEUE];
	unsigned int head, count;
};

/* Creates the socket for the VM called name. Logs and returns < 0 on error. */
int ctl_server__init(struct ctl_server *s, const char *name);
/* Closes every connection and removes the socket. */
void ctl_server__exit(struct ctl_server *s);
/*
 * Records every event from now on in fd (lkvm run --events-log), as lkvm events shows them; the
 * server owns fd from here. Call before the first vCPU runs to have the first event.
 */
void ctl_server__log_events(struct ctl_server *s, int fd);


#endif
