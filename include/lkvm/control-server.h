/*
 * The server end of the control socket, in `lkvm run`: it lives as long as lkvm, across guest
 * resets, and runs in the main thread's poll loop. Power events may be posted from any thread.
 */
#ifndef LKVM_CONTROL_SERVER_H
#define LKVM_CONTROL_SERVER_H

#include <poll.h>
#include <pthread.h>

#include "lkvm/control.h"

struct kvm;

#define CTL_MAX_CLIENTS	16
#define CTL_EVENT_QUEUE	256

struct ctl_client {
	int fd;			/* -1: free slot */
	bool events;		/* subscribed to the event stream */
	size_t len;
	u8 buf[CTL_HDR_SIZE + CTL_MAX_PAYLOAD];
};

struct ctl_server {
	int listen_fd;
	int event_fd;		/* eventfd: events are queued */
	char path[108];
	struct ctl_client clients[CTL_MAX_CLIENTS];
	pthread_mutex_t lock;	/* guards the event queue */
	char *queue[CTL_EVENT_QUEUE];
	unsigned int head, count;
	unsigned int dropped;
};

/* Creates the socket for the VM called name. Logs and returns < 0 on error. */
int ctl_server__init(struct ctl_server *s, const char *name);
/* Closes every connection and removes the socket. */
void ctl_server__exit(struct ctl_server *s);

/* Fills pollfds for the main loop; returns how many. */
unsigned int ctl_server__pollfds(struct ctl_server *s, struct pollfd *fds, unsigned int max);
/* Handles what poll found on those fds, for the running VM kvm. */
void ctl_server__handle(struct ctl_server *s, struct kvm *kvm, const struct pollfd *fds,
			unsigned int n);
/* Queues one JSON event line for `lkvm events` subscribers. Any thread. */
void ctl_server__event(struct ctl_server *s, const char *json);

#endif
