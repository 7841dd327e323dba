/*
 * Self-registration of VM parts, in the manner of kvmtool: a part declares its init and exit
 * functions with one macro in its own file, so there is no central table to edit. Levels run in
 * order at VM creation and in reverse order at teardown; each VM (a restart makes a new one) runs
 * them again.
 */
#ifndef LKVM_INIT_H
#define LKVM_INIT_H

struct kvm;

/*
 * kvmtool's levels, those lkvm uses (it needs no core or late). kvm__create makes the VM, its RAM
 * and every vCPU before the first level, and loads the guest and builds the device tree after the
 * last. Within a level, parts run in link order (which decides, say, which slot each virtio
 * device gets), but none may need another part of its own level.
 */
enum init_level {
	/*
	 * What devices build on: the GIC (it needs every vCPU), the VM's I/O thread (io-thread.h),
	 * the PCI bus. Need only the VM.
	 */
	INIT_BASE,
	/* Devices that are not virtio devices (the UART, the timer's node): need base. */
	INIT_DEV,
	/* virtio devices: need base, where their transport's bus and the I/O thread are. */
	INIT_VIRTIO_DEV,
	/*
	 * Firmware calls (hypercall.c): the services that answer this VM's calls (PSCI, TRNG, lkvm's
	 * calls, --smccc rules, firmware.h), then KVM's SMCCC filter. Need only the VM; no device
	 * needs them.
	 */
	INIT_FIRMWARE,
	INIT_NR_LEVELS,
};

struct init_item {
	const char *name;
	int (*init)(struct kvm *kvm);
	void (*exit)(struct kvm *kvm);	/* may be NULL */
	enum init_level level;
	struct init_item *next;
};

/* What init__run set up in one VM, for init__exit: each VM has its own. */
struct init_done {
	const struct init_item *items[32];
	unsigned int nr;
};

void init__register(struct init_item *item);
/*
 * Runs every init in level order, recording in done (empty before) each that succeeded; on
 * failure undoes what ran and returns the error, which is always reported (by the init, or here
 * with its name).
 */
int init__run(struct kvm *kvm, struct init_done *done);
/* Runs the exits of everything init__run recorded in done, in reverse order; empties it. */
void init__exit(struct kvm *kvm, struct init_done *done);

/*
 * Constructors are a GCC/Clang extension; they are the reason a part needs no line anywhere else.
 */
#define LKVM_INIT(fn, exitfn, lvl)						\
	static struct init_item init_item_##fn = {				\
		.name = #fn, .init = fn, .exit = exitfn, .level = lvl,		\
	};									\
	__attribute__((constructor)) static void init_register_##fn(void)	\
	{									\
		init__register(&init_item_##fn);				\
	}

#define base_init(fn, exitfn)		LKVM_INIT(fn, exitfn, INIT_BASE)
#define dev_init(fn, exitfn)		LKVM_INIT(fn, exitfn, INIT_DEV)
#define virtio_dev_init(fn, exitfn)	LKVM_INIT(fn, exitfn, INIT_VIRTIO_DEV)
#define firmware_init(fn, exitfn)	LKVM_INIT(fn, exitfn, INIT_FIRMWARE)

#endif
