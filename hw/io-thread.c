/*
 * The VM's I/O thread: it runs the handlers of the eventfds KVM signals (queue doorbells through
 * ioeventfds, irqfd resamplefds), so that neither costs a vCPU an exit to userspace and device
 * work runs off the vCPU threads.
 *
 * Sources are looked up by an id that is never reused: an event epoll returned just before its
 * source was removed finds nothing, and unwatch waits for a handler that is already running.
 */
#include "lkvm/io-thread.h"
#include "lkvm/init.h"
#include "lkvm/kvm.h"

#include <errno.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define QUIT_ID	0	/* the quit eventfd's; sources' ids start at 1 */

struct io_thread {
	int epfd, quit_fd;
	pthread_t thread;
	bool running;			/* started by the first source: a VM with none needs no thread */
	bool has_ioeventfd, has_irqfd;
	pthread_mutex_t lock;		/* sources, next_id, busy, running */
	pthread_cond_t idle;		/* busy went back to NULL */
	struct io_source *sources;
	struct io_source *busy;		/* whose handler runs now */
	u64 next_id;
};

static struct io_source *io_thread__find(struct io_thread *io, u64 id)
{
	struct io_source *s = io->sources;

	while (s && s->id != id)
		s = s->next;
	return s;
}

static void io_thread__dispatch(struct io_thread *io, u64 id)
{
	struct io_source *src;

	pthread_mutex_lock(&io->lock);
	src = io->busy = io_thread__find(io, id);
	pthread_mutex_unlock(&io->lock);
	if (src)
		src->handle(src);
	pthread_mutex_lock(&io->lock);
	io->busy = NULL;
	pthread_cond_broadcast(&io->idle);
	pthread_mutex_unlock(&io->lock);
}

/* One event per wait: what a handler removes cannot be in a batch still to be handled. */
static void *io_thread__run(void *arg)
{
	struct io_thread *io = arg;
	struct epoll_event ev;

	for (;;) {
		int n = epoll_wait(io->epfd, &ev, 1, -1);

		if (n < 0 && errno != EINTR) {
			pr_err("I/O thread: epoll_wait: %s", strerror(errno));
			break;
		}
		if (n <= 0)
			continue;
		if (ev.data.u64 == QUIT_ID)
			break;
		io_thread__dispatch(io, ev.data.u64);
	}
	return NULL;
}

static bool io_thread__has_cap(struct kvm *kvm, long cap)
{
	return kvm->vm_fd >= 0 && ioctl(kvm->vm_fd, KVM_CHECK_EXTENSION, cap) > 0;
}

static void io_thread__free(struct io_thread *io)
{
	if (io->quit_fd >= 0)
		close(io->quit_fd);
	if (io->epfd >= 0)
		close(io->epfd);
	pthread_cond_destroy(&io->idle);
	pthread_mutex_destroy(&io->lock);
	free(io);
}

/* Signals are for the main loop (signalfd) and the vCPUs' kicks: the I/O thread takes none. */
static int io_thread__spawn(struct io_thread *io)
{
	sigset_t all, old;
	int err;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	err = -pthread_create(&io->thread, NULL, io_thread__run, io);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return err;
}

int io_thread__start(struct kvm *kvm)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = QUIT_ID };
	struct io_thread *io = calloc(1, sizeof(*io));
	int err;

	if (!io) {
		pr_err("I/O thread: out of memory");
		return -ENOMEM;
	}
	pthread_mutex_init(&io->lock, NULL);
	pthread_cond_init(&io->idle, NULL);
	io->next_id = QUIT_ID + 1;
	io->has_ioeventfd = io_thread__has_cap(kvm, KVM_CAP_IOEVENTFD);
	io->has_irqfd = io_thread__has_cap(kvm, KVM_CAP_IRQFD) &&
			io_thread__has_cap(kvm, KVM_CAP_IRQFD_RESAMPLE);
	io->epfd = epoll_create1(EPOLL_CLOEXEC);
	io->quit_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (io->epfd < 0 || io->quit_fd < 0 || epoll_ctl(io->epfd, EPOLL_CTL_ADD, io->quit_fd, &ev)) {
		err = -errno;
		pr_err("I/O thread: cannot set up epoll: %s", strerror(errno));
		io_thread__free(io);
		return err;
	}
	kvm->io_thread = io;
	return 0;
}

void io_thread__stop(struct kvm *kvm)
{
	struct io_thread *io = kvm->io_thread;
	u64 one = 1;

	if (!io)
		return;
	/* The devices have stopped watching: nothing can start the thread now. */
	if (io->running) {
		write_all(io->quit_fd, &one, sizeof(one));
		pthread_join(io->thread, NULL);
	}
	if (io->sources)
		pr_warn("I/O thread: stopped with sources still watched");
	io_thread__free(io);
	kvm->io_thread = NULL;
}

int io_thread__watch(struct kvm *kvm, struct io_source *src)
{
	struct io_thread *io = kvm->io_thread;
	struct epoll_event ev = { .events = EPOLLIN };
	int err;

	if (!io)
		return -ENODEV;
	pthread_mutex_lock(&io->lock);
	err = io->running ? 0 : io_thread__spawn(io);
	if (err)
		pr_err("I/O thread: cannot start it: %s", strerror(-err));
	io->running |= !err;
	src->id = ev.data.u64 = io->next_id++;
	if (!err && epoll_ctl(io->epfd, EPOLL_CTL_ADD, src->fd, &ev))
		err = -errno;
	if (!err) {
		src->next = io->sources;
		io->sources = src;
	}
	pthread_mutex_unlock(&io->lock);
	return err;
}

void io_thread__unwatch(struct kvm *kvm, struct io_source *src)
{
	struct io_thread *io = kvm->io_thread;
	struct io_source **p;

	if (!io)
		return;
	pthread_mutex_lock(&io->lock);
	for (p = &io->sources; *p && *p != src; p = &(*p)->next)
		;
	if (*p) {
		*p = src->next;
		epoll_ctl(io->epfd, EPOLL_CTL_DEL, src->fd, NULL);
	}
	/* A handler that removes its own source would wait for itself. */
	while (io->busy == src && !pthread_equal(pthread_self(), io->thread))
		pthread_cond_wait(&io->idle, &io->lock);
	pthread_mutex_unlock(&io->lock);
}

bool io_thread__has_ioeventfd(struct kvm *kvm)
{
	return kvm->io_thread && kvm->io_thread->has_ioeventfd;
}

bool io_thread__has_irqfd(struct kvm *kvm)
{
	return kvm->io_thread && kvm->io_thread->has_irqfd;
}

/* Only where KVM can take work off the vCPUs: elsewhere nothing would use the thread. */
static int io_thread__init(struct kvm *kvm)
{
	if (!io_thread__has_cap(kvm, KVM_CAP_IOEVENTFD) && !io_thread__has_cap(kvm, KVM_CAP_IRQFD))
		return 0;
	return io_thread__start(kvm);
}

/* Before the devices, which use it from their init on; its exit runs after theirs. */
base_init(io_thread__init, io_thread__stop)
