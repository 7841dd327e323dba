/* One virtual machine: its KVM handles, memory, vCPUs and devices. */
#ifndef LKVM_KVM_H
#define LKVM_KVM_H

#include <pthread.h>
#include <stdatomic.h>

#include "lkvm/acpi.h"
#include "lkvm/config.h"
#include "lkvm/events.h"
#include "lkvm/fdt.h"
#include "lkvm/hypercall.h"
#include "lkvm/init.h"
#include "lkvm/kernel.h"
#include "lkvm/memory-map.h"
#include "lkvm/mmio.h"
#include "lkvm/util.h"

struct kvm_cpu;
struct term;
struct serial_dev;
struct psci;
struct sdei;
struct cpu_plan;
struct acpi_cpuhp;
struct pollfd;
struct vm_event;
struct trng;
struct virtio_dev;
struct io_thread;

/*
 * What the main loop serves besides the VM: the control socket (control/server.c). It lives
 * as long as lkvm, across guest resets.
 */
#define VM_CONTROL_MAX_FDS	24
struct vm_control {
	/* Fills at most max pollfds for the main loop's poll; returns how many. */
	unsigned int (*pollfds)(struct vm_control *c, struct pollfd *fds, unsigned int max);
	/* Handles what poll found on them, for the running VM. */
	void (*handle)(struct vm_control *c, struct kvm *kvm, const struct pollfd *fds,
		       unsigned int n);
	/* An event happened (any thread, maybe under a lock): queue it, never block. */
	void (*event)(struct vm_control *c, const struct vm_event *ev);
};

/*
 * lkvm's own vCPU power management (--psci=user), as the vCPU threads and the run loop call it:
 * registered by psci/psci-kvm.c, NULL when KVM runs PSCI.
 */
struct vcpu_power_ops {
	/* Before the vCPU enters the guest after power_check was set: false if it must exit. */
	bool (*before_run)(struct kvm_cpu *cpu);
	/* KVM_SYSTEM_EVENT_WAKEUP: the suspended vCPU woke. 0, or < 0 if the VM must stop. */
	int (*wakeup)(struct kvm_cpu *cpu);
	/* The VM stops: wake every vCPU thread that waits to be turned on. */
	void (*stop)(struct kvm *kvm);
};

/* Why a VM stopped; the first reason posted wins. */
enum vm_stop {
	VM_RUNNING,
	VM_STOP_POWEROFF,
	VM_STOP_RESET,
	VM_STOP_CRASH,
	VM_STOP_SIGNAL,
	VM_STOP_USER,		/* lkvm stop */
	VM_STOP_GUEST_EXIT,	/* the guest's LKVM_EXIT call: guest_status */
	VM_STOP_TIMEOUT,	/* --timeout */
	VM_STOP_ERROR,
};

enum gic_version { GIC_V2 = 2, GIC_V3 = 3 };

/* Device tree node generators: the GIC, the timer, the UART, the PCI bridge, each mmio slot. */
#define KVM_MAX_FDT_GENS	(4 + LKVM_VIRTIO_MMIO_MAX)

struct kvm {
	const struct lkvm_config *cfg;
	struct guest_images *images;	/* kernel/initrd/firmware, read in and copied per boot */
	struct term *term;

	int sys_fd;			/* /dev/kvm */
	int vm_fd;
	int stop_fd;			/* eventfd: a vCPU posted a stop reason */
	size_t run_size;		/* mmap size of struct kvm_run */

	u8 *ram;			/* host mapping of guest RAM */
	u64 ram_size;
	u64 ram_map_size;		/* what was mmap'ed: RAM plus alignment slack */
	u8 *ram_map;

	unsigned int nr_cpus;
	struct kvm_cpu **cpus;

	enum gic_version gic;
	int gic_fd;
	bool its;			/* the GICv3 has an ITS (--irqchip gicv3-its): PCI MSI-X */

	struct mmio_bus mmio;
	struct serial_dev *serial;
	struct virtio_dev *virtio_devs;	/* attached virtio devices, newest first */
	struct io_thread *io_thread;	/* the VM's I/O thread (io-thread.h), or NULL */
	struct hypercall_table hypercalls;
	struct psci *psci;		/* lkvm's PSCI (--psci=user), else NULL */
	const struct vcpu_power_ops *power;	/* lkvm's PSCI, or NULL */
	struct cpu_plan *plan;		/* plugged vCPUs and start delays (--psci=user), else NULL */
	struct acpi_cpuhp *cpuhp;	/* ACPI vCPU hot-add (--acpi with a plan), else NULL */
	struct sdei *sdei;		/* lkvm's SDEI (--sdei), else NULL */
	struct vm_control *ctl;		/* the control socket, or NULL */
	struct trng *trng;		/* --trng=user's state, else NULL */
	int guest_status;		/* LKVM_EXIT's status */
	u64 deadline_ns;		/* --timeout, on CLOCK_MONOTONIC; 0: none */

	/* `lkvm pause`: vCPU threads wait outside KVM_RUN while paused is set. */
	pthread_mutex_t pause_lock;
	pthread_cond_t pause_cond;
	bool paused;
	const struct fdt_node_gen *fdt_gens[KVM_MAX_FDT_GENS];	/* device tree nodes */
	unsigned int nr_fdt_gens;
	const struct acpi_gen *acpi_gens[KVM_MAX_FDT_GENS];	/* --acpi: DSDT objects, tables */
	unsigned int nr_acpi_gens;

	u64 kaslr_seed;
	u8 rng_seed[64];

	_Atomic int stop_reason;	/* enum vm_stop */
	int stop_signal;

	struct init_done init;		/* the parts set up (init.h) */
};

/* What outlives one VM: a guest reset makes a new struct kvm from the same context. */
struct vm_context {
	const struct lkvm_config *cfg;
	struct guest_images *images;	/* not opened until the first boot */
	struct term *term;
	struct cpu_plan *plan;		/* NULL unless --psci=user */
	struct vm_control *ctl;		/* NULL if there is no control socket */
	u64 deadline_ns;		/* --timeout, on CLOCK_MONOTONIC; 0: none */
};

/*
 * Builds a VM from the context: RAM, vCPUs, every registered part (init.h) in level order, the
 * guest images (ctx->images, opened the first time) and the device tree. Ready to run; logs
 * and returns an error otherwise.
 */
int kvm__create(struct kvm *kvm, const struct vm_context *ctx);
void kvm__destroy(struct kvm *kvm);

/* Runs the VM until something stops it (sig_fd: a signalfd for SIGINT/SIGTERM/SIGHUP); returns why. */
enum vm_stop kvm__run(struct kvm *kvm, int sig_fd);

/* Posts an event (vm_event: time is set here) to the control socket, if any. Any thread. */
void kvm__post_event(struct kvm *kvm, enum vm_event_type type, unsigned int vcpu,
		     unsigned int target);
/* The same with the event's other fields (SDEI's event number, duration) filled in. */
void kvm__post_vm_event(struct kvm *kvm, struct vm_event *ev);

/* Posts a stop reason (the first one wins) and wakes the main loop. Safe from any thread. */
void kvm__request_stop(struct kvm *kvm, enum vm_stop why);

/*
 * Guest-physical to host pointer, or NULL unless [gpa, gpa+len) is entirely in RAM. Inline, so
 * that the fuzz targets (which have no kvm.c) check this very code.
 */
static inline void *kvm__gpa_to_host(struct kvm *kvm, u64 gpa, u64 len)
{
	u64 off = gpa - LKVM_RAM_BASE;

	if (gpa < LKVM_RAM_BASE || off > kvm->ram_size || len > kvm->ram_size - off)
		return NULL;
	return kvm->ram + off;
}

static inline bool kvm__stopping(struct kvm *kvm)
{
	return atomic_load(&kvm->stop_reason) != VM_RUNNING;
}

/* Adds a device tree node generator; -ENOSPC when full. */
int kvm__add_fdt_gen(struct kvm *kvm, const struct fdt_node_gen *gen);

/* Adds an ACPI generator (used under --acpi); -ENOSPC when full. */
int kvm__add_acpi_gen(struct kvm *kvm, const struct acpi_gen *gen);

/* Pauses or resumes every vCPU; returns once all paused vCPUs are out of the guest. */
void kvm__pause(struct kvm *kvm, bool pause);
/* For vCPU threads: waits while the VM is paused. */
void kvm__wait_unpaused(struct kvm *kvm);

/*
 * Asserts or deasserts a level-triggered SPI (numbered from 0). If KVM refuses, it logs and
 * stops the VM (VM_STOP_ERROR); without a VM (vm_fd < 0) it does nothing.
 */
int kvm__irq_line(struct kvm *kvm, unsigned int spi, int level);

#endif
