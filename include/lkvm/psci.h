/*
 * lkvm's PSCI 1.1 implementation, in the manner of Trusted Firmware-A's PSCI library: a generic
 * state machine that knows nothing of KVM and acts on vCPUs through a small ops table. The KVM
 * backend (psci/psci-kvm.c) implements the ops; unit tests use fakes.
 *
 * Threading: every vCPU thread calls psci__call() for its own calls, concurrently. A powered-off
 * vCPU's thread waits in psci__wait_cpu_on() until another vCPU's CPU_ON starts it.
 * Lock order: the hot-add plan's lock (hotplug.h), then PSCI's lock, then whatever ops->event
 * takes (the control socket's event queue). PSCI never calls an op but event() under its lock.
 */
#ifndef LKVM_PSCI_H
#define LKVM_PSCI_H

#include <linux/psci.h>
#include <pthread.h>

#include "lkvm/events.h"
#include "lkvm/smccc.h"
#include "lkvm/util.h"

#define PSCI_FN_BASE		SMCCC_ID(SMCCC_OWNER_STANDARD, 0)
#define PSCI_FN64_BASE		(PSCI_FN_BASE | SMCCC_FN64)
#define PSCI_FN_RANGE		0x20		/* function numbers 0x00-0x1F belong to PSCI */
#define PSCI_FN(n)		(PSCI_FN_BASE + (n))
#define PSCI_FN64(n)		(PSCI_FN64_BASE + (n))

enum psci_fn {
	PSCI_NR_VERSION = 0x00,
	PSCI_NR_CPU_SUSPEND = 0x01,
	PSCI_NR_CPU_OFF = 0x02,
	PSCI_NR_CPU_ON = 0x03,
	PSCI_NR_AFFINITY_INFO = 0x04,
	PSCI_NR_MIGRATE = 0x05,
	PSCI_NR_MIGRATE_INFO_TYPE = 0x06,
	PSCI_NR_MIGRATE_INFO_UP_CPU = 0x07,
	PSCI_NR_SYSTEM_OFF = 0x08,
	PSCI_NR_SYSTEM_RESET = 0x09,
	PSCI_NR_FEATURES = 0x0A,
	PSCI_NR_CPU_FREEZE = 0x0B,
	PSCI_NR_CPU_DEFAULT_SUSPEND = 0x0C,
	PSCI_NR_NODE_HW_STATE = 0x0D,
	PSCI_NR_SYSTEM_SUSPEND = 0x0E,
	PSCI_NR_SET_SUSPEND_MODE = 0x0F,
	PSCI_NR_STAT_RESIDENCY = 0x10,
	PSCI_NR_STAT_COUNT = 0x11,
	PSCI_NR_SYSTEM_RESET2 = 0x12,
	PSCI_NR_MEM_PROTECT = 0x13,
	PSCI_NR_MEM_PROTECT_CHECK_RANGE = 0x14,
	PSCI_NR_SYSTEM_OFF2 = 0x15,
};

/* Legacy PSCI 0.1 function IDs as KVM numbers them: lkvm denies them. */
#define PSCI_0_1_FN_BASE	0x95c1ba5eU
#define PSCI_0_1_FN_COUNT	4

/* Return codes: PSCI_RET_* from <linux/psci.h>. */

#define PSCI_VERSION_1_1	0x10001

/* AFFINITY_INFO results */
#define PSCI_AFF_ON		0
#define PSCI_AFF_OFF		1
#define PSCI_AFF_ON_PENDING	2
/* NODE_HW_STATE results */
#define PSCI_HW_ON		0
#define PSCI_HW_OFF		1
#define PSCI_HW_STANDBY		2

/* power_state, original format */
#define PSCI_PS_TYPE_POWERDOWN	(1U << 16)
#define PSCI_PS_LEVEL_SHIFT	24
#define PSCI_PS_VALID_MASK	0x0301ffffU

#define MPIDR_HWID_MASK		0xff00ffffffULL

enum psci_cpu_state {
	PSCI_STATE_ABSENT,	/* not plugged: CPU_ON is DENIED */
	PSCI_STATE_OFF,
	PSCI_STATE_ON_PENDING,	/* CPU_ON granted, the vCPU has not started yet */
	PSCI_STATE_ON,
	PSCI_STATE_SUSPENDED,
};

enum psci_suspend_type { PSCI_STANDBY, PSCI_POWERDOWN, PSCI_NR_SUSPEND_TYPES };

struct psci;

/* What the CPU_ON policy decides for a plugged, powered-off target. */
struct psci_cpu_on_verdict {
	int ret;		/* PSCI_RET_SUCCESS, or PSCI_RET_DENIED */
	u64 delay_ns;		/* with SUCCESS: the target starts this much later */
};

/*
 * What the platform (lkvm's KVM backend, or a unit test) does for the state machine. Only
 * event() is called with the PSCI lock held; every other op without it.
 */
struct psci_ops {
	/* Whether [addr, addr+4) is in guest RAM: a valid entry point. */
	bool (*valid_entry)(struct psci *psci, u64 addr);
	/*
	 * CPU_ON policy for a plugged, powered-off target: the hot-add experiments' hook. It may
	 * take its own locks; its verdict applies only if the target is still off afterwards.
	 */
	struct psci_cpu_on_verdict (*cpu_on_policy)(struct psci *psci, unsigned int caller,
						    unsigned int target);
	/* The caller enters a suspend state: wait for a wake event in the guest's own time. */
	void (*suspend)(struct psci *psci, unsigned int cpu, enum psci_suspend_type type);
	/* SYSTEM_OFF, SYSTEM_RESET(2): stop the VM; the caller must not run again. */
	void (*system_off)(struct psci *psci);
	void (*system_reset)(struct psci *psci);
	/* A monotonic clock in nanoseconds, for the statistics. */
	u64 (*now_ns)(struct psci *psci);
	/*
	 * A power event happened; may be NULL. Called with the PSCI lock held, so that events
	 * come in the order of the transitions (a grant before the target's start): it must not
	 * block, nor call into PSCI, nor take a lock that is held around a PSCI call.
	 */
	void (*event)(struct psci *psci, enum vm_event_type ev, unsigned int cpu, unsigned int target);
};

/* A vCPU's PSCI state and statistics, as psci__cpu_info copies them. */
struct psci_cpu_info {
	u64 mpidr;
	enum psci_cpu_state state;
	u64 residency_ns[PSCI_NR_SUSPEND_TYPES];
	u64 count[PSCI_NR_SUSPEND_TYPES];
};

struct psci_cpu;	/* psci.c's own */

struct psci {
	const struct psci_ops *ops;
	pthread_mutex_t lock;		/* guards every psci_cpu */
	bool stopping;
	unsigned int nr_cpus;
	struct psci_cpu *cpus;
};

/* A call's registers: x0 (function ID) and x1..x3 in, x0..x3 out. */
struct psci_call {
	u32 fid;
	u64 arg[4];	/* arg[1..3] = x1..x3; arg[0] unused */
	u64 res[4];	/* res[0] = x0 */
};

/* psci__call result: write back res[0], or the call does not return to the caller. */
enum psci_outcome { PSCI_RETURN, PSCI_NO_RETURN };

/*
 * cpu 0 starts ON, the others OFF, or ABSENT where present[] says so (NULL: all present).
 * Returns 0 or -ENOMEM.
 */
int psci__init(struct psci *psci, const struct psci_ops *ops, unsigned int nr_cpus,
	       const u64 *mpidrs, const bool *present);
void psci__exit(struct psci *psci);

/* How many argument registers (x1..xN) the function needs: read only those. */
unsigned int psci__nr_args(u32 fid);
/* Handles one call from vCPU cpu. Arguments of SMC32 calls are narrowed to 32 bits here. */
enum psci_outcome psci__call(struct psci *psci, unsigned int cpu, struct psci_call *call);

/*
 * For a vCPU thread before it enters the guest: returns true at once if the vCPU may run.
 * If it is off, waits for CPU_ON (or psci__stop(): then returns false). *reset is set when the
 * vCPU must first reset itself to *entry with x0 = *context_id.
 */
bool psci__wait_cpu_on(struct psci *psci, unsigned int cpu, bool *reset, u64 *entry,
		       u64 *context_id, u64 *delay_ns);
/* After a delayed start (*delay_ns from psci__wait_cpu_on): the vCPU runs now. */
void psci__cpu_started(struct psci *psci, unsigned int cpu);
/* The vCPU woke from a suspend: back to ON. *reset as above (powerdown states). */
void psci__cpu_woke(struct psci *psci, unsigned int cpu, bool *reset, u64 *entry, u64 *context_id);
/* Wakes every waiting vCPU thread so that they can exit. */
void psci__stop(struct psci *psci);

enum psci_cpu_state psci__cpu_state(struct psci *psci, unsigned int cpu);
/* Copies a vCPU's state and statistics, consistently. */
void psci__cpu_info(struct psci *psci, unsigned int cpu, struct psci_cpu_info *out);
/*
 * Plugs (ABSENT -> OFF) or unplugs (OFF -> ABSENT) a vCPU. 0 if done or already so; -EBUSY if it
 * is on, starting or suspended (the guest must offline it first).
 */
int psci__set_present(struct psci *psci, unsigned int cpu, bool present);
const char *psci__state_name(enum psci_cpu_state s);

const char *psci__fn_name(u32 fid);
const char *psci__ret_name(s64 ret);

#endif
