/*
 * Self-registration of VM parts, in the manner of kvmtool: a part declares its init and exit
 * functions with one macro in its own file, so there is no central table to edit. Levels run in
 * order at VM creation and in reverse order at teardown; each VM (a restart makes a new one) runs
 * them again.
 */
#ifndef LKVM_INIT_H
#define LKVM_INIT_H

struct kvm;

/* Memory and vCPUs come before every level; the guest image and device tree after them all. */
enum init_level {
	INIT_IRQCHIP,	/* the GIC: needs every vCPU created */
	INIT_DEV,	/* devices and firmware services: need the irqchip */
	INIT_LATE,	/* what needs every device and service, such as the SMCCC filter */
	INIT_NR_LEVELS,
};

struct init_item {
	const char *name;
	int (*init)(struct kvm *kvm);
	void (*exit)(struct kvm *kvm);	/* may be NULL */
	enum init_level level;
	struct init_item *next;
};

void init__register(struct init_item *item);
/*
 * Runs every init in level order; on failure undoes what ran and returns the error, which is
 * always reported (by the init, or here with its name).
 */
int init__run(struct kvm *kvm);
/* Runs the exits of everything init__run set up, in reverse order. */
void init__exit(struct kvm *kvm);

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

#define irqchip_init(fn, exitfn) LKVM_INIT(fn, exitfn, INIT_IRQCHIP)
#define dev_init(fn, exitfn)	 LKVM_INIT(fn, exitfn, INIT_DEV)
#define late_init(fn, exitfn)	 LKVM_INIT(fn, exitfn, INIT_LATE)

#endif
