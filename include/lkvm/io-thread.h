/*
 * The VM's I/O thread (kvm->io_thread): one thread that waits with epoll on the eventfds KVM
 * signals instead of exiting to userspace (ioeventfds, irqfd resamplefds), and runs their owners'
 * handlers off the vCPU threads. It runs only where KVM can take work off the vCPUs
 * (KVM_CAP_IOEVENTFD or KVM_CAP_IRQFD); everything that uses it has a path without it.
 */
#ifndef LKVM_IO_THREAD_H
#define LKVM_IO_THREAD_H

#include <stdbool.h>

#include "lkvm/util.h"

struct kvm;

/*
 * A file descriptor the I/O thread waits on: handle runs on that thread whenever fd is readable
 * (level-triggered: it must read what made fd readable). Embedded in its owner's struct.
 */
struct io_source {
	int fd;
	void (*handle)(struct io_source *src);
	/* the I/O thread's own */
	u64 id;
	struct io_source *next;
};

/*
 * Starts kvm->io_thread (the VM's init does this when KVM has ioeventfd or irqfd; tests may call
 * it themselves). 0 on success; logs errors. io_thread__stop stops and frees it (no-op if none).
 */
int io_thread__start(struct kvm *kvm);
void io_thread__stop(struct kvm *kvm);

/* Adds src to the I/O thread: -ENODEV if the VM has none. */
int io_thread__watch(struct kvm *kvm, struct io_source *src);
/*
 * Removes src. When it returns, src's handler is not running and will not run again (unless
 * called from that handler itself), so its owner may free it.
 */
void io_thread__unwatch(struct kvm *kvm, struct io_source *src);

/*
 * Whether the VM has an I/O thread and KVM offers ioeventfds (KVM_CAP_IOEVENTFD), or irqfds with
 * resampling (KVM_CAP_IRQFD and KVM_CAP_IRQFD_RESAMPLE), for it to wait on.
 */
bool io_thread__has_ioeventfd(struct kvm *kvm);
bool io_thread__has_irqfd(struct kvm *kvm);

#endif
