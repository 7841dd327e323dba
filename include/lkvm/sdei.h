/*
 * lkvm's SDEI 1.1 (Arm DEN0054, Software Delegated Exception Interface), built like psci.h: a
 * state machine that knows nothing of KVM and acts on vCPUs ("PEs") through a small ops table.
 * The KVM backend (sdei/sdei-kvm.c) implements the ops and does what needs the vCPU's registers
 * (saving the interrupted context, entering the handler, resuming); unit tests use fakes.
 *
 * Threading: every vCPU thread calls sdei__call() and sdei__dispatch() for itself, concurrently;
 * the control socket's thread calls sdei__signal() and the snapshots; PSCI's transitions arrive
 * through sdei__cpu_power() and sdei__reset(). One mutex guards the state.
 * Lock order: PSCI's lock, then SDEI's lock, then whatever ops->event takes (the control socket's
 * event queue). SDEI never calls into PSCI, and calls no op but event() under its lock.
 *
 * The backend's duty: after every sdei__call() (and so after COMPLETE's resume), after a kick,
 * and before entering the guest, a vCPU thread checks sdei__may_dispatch() and, if set, reads
 * its context and calls sdei__dispatch(). A call of the PE's own that can make an event
 * deliverable there (PE_UNMASK, ENABLE, COMPLETE, EVENT_SIGNAL to itself, ROUTING_SET) sets its
 * own flag and kicks nobody; any other thread's change kicks the PE whose flag it set.
 *
 * The model's choices, where the specification leaves one (sdei/sdei.c says why):
 * - Signals coalesce: an event signalled again while pending is delivered once.
 * - EVENT_SIGNAL to a present PE where event 0 is not registered: dropped, SUCCESS (TF-A).
 *   To an absent PE or an unknown MPIDR: INVALID_PARAMETERS.
 * - RM_PE (REGISTER, ROUTING_SET) must name a PE that is on: an off or absent one is
 *   INVALID_PARAMETERS. Private events ignore the routing (but not reserved flag bits).
 * - A pending event stays pending while disabled, masked or running; UNREGISTER drops it.
 * - A PE going off or absent (and one coming on): its handlers end, each with a
 *   VM_EV_SDEI_COMPLETE event carrying its duration; shared events it ran stop running (a
 *   pending unregister applies); its private events return to unregistered (Linux registers
 *   them again when the CPU comes online, TF-A resets them at CPU_ON); it is masked.
 *   A shared RM_PE event routed to it keeps its routing: the host's signals get -ENODEV.
 * - PRIVATE_RESET/SHARED_RESET unregister every event of their kind; a running one becomes
 *   unregister-pending and the answer is DENIED (TF-A).
 * - No interrupt can be bound (KVM's GIC is in the kernel): FEATURES(0) = 0 slots, BIND of a
 *   PPI/SPI is OUT_OF_RESOURCE, RELEASE is INVALID_PARAMETERS; relative mode is not offered
 *   (FEATURES(1) = 0, REGISTER with flag bit 1 is INVALID_PARAMETERS).
 * - PE_MASK answers 1 if it masked the PE, 0 if it was masked already (TF-A); PE_UNMASK 0.
 * - COMPLETE's status is ignored; COMPLETE_AND_RESUME to an address outside guest RAM is
 *   DENIED (TF-A) and the handler goes on.
 * - An RM_ANY event the host signals to a chosen cpu waits for that PE (while it is masked or
 *   busy) unless the PE goes off; signalled with cpu < 0 it goes to one PE that can take it
 *   now, or to the first that can later.
 */
#ifndef LKVM_SDEI_H
#define LKVM_SDEI_H

#include <pthread.h>
#include <stdatomic.h>

#include "lkvm/events.h"
#include "lkvm/smccc.h"
#include "lkvm/util.h"

/* Function IDs: SMC64 only, Standard Secure Service owner, numbers 0x20-0x3F (0x33-0x3F reserved). */
#define SDEI_FN_FIRST		0xC4000020U
#define SDEI_FN_LAST		0xC400003FU
#define SDEI_FN(n)		(SDEI_FN_FIRST + (n))

enum sdei_fn {
	SDEI_NR_VERSION = 0x00,
	SDEI_NR_EVENT_REGISTER = 0x01,
	SDEI_NR_EVENT_ENABLE = 0x02,
	SDEI_NR_EVENT_DISABLE = 0x03,
	SDEI_NR_EVENT_CONTEXT = 0x04,
	SDEI_NR_EVENT_COMPLETE = 0x05,
	SDEI_NR_EVENT_COMPLETE_AND_RESUME = 0x06,
	SDEI_NR_EVENT_UNREGISTER = 0x07,
	SDEI_NR_EVENT_STATUS = 0x08,
	SDEI_NR_EVENT_GET_INFO = 0x09,
	SDEI_NR_EVENT_ROUTING_SET = 0x0A,
	SDEI_NR_PE_MASK = 0x0B,
	SDEI_NR_PE_UNMASK = 0x0C,
	SDEI_NR_INTERRUPT_BIND = 0x0D,
	SDEI_NR_INTERRUPT_RELEASE = 0x0E,
	SDEI_NR_EVENT_SIGNAL = 0x0F,
	SDEI_NR_FEATURES = 0x10,
	SDEI_NR_PRIVATE_RESET = 0x11,
	SDEI_NR_SHARED_RESET = 0x12,
};

/* Return codes */
#define SDEI_SUCCESS			0
#define SDEI_NOT_SUPPORTED		(-1)
#define SDEI_INVALID_PARAMETERS		(-2)
#define SDEI_DENIED			(-3)
#define SDEI_PENDING			(-5)
#define SDEI_OUT_OF_RESOURCE		(-10)

/* SDEI_VERSION: 1.1, vendor 0 */
#define SDEI_VERSION_1_1		((1ULL << 48) | (1ULL << 32))

/* EVENT_REGISTER flags, EVENT_ROUTING_SET modes */
#define SDEI_RM_ANY			0
#define SDEI_RM_PE			1

/* EVENT_STATUS bits */
#define SDEI_STATUS_REGISTERED		(1U << 0)
#define SDEI_STATUS_ENABLED		(1U << 1)
#define SDEI_STATUS_RUNNING		(1U << 2)

/* EVENT_GET_INFO info numbers */
enum sdei_info { SDEI_INFO_TYPE, SDEI_INFO_SIGNALED, SDEI_INFO_PRIORITY, SDEI_INFO_ROUTING_MODE,
		 SDEI_INFO_ROUTING_AFF };

/* EVENT_COMPLETE status */
#define SDEI_EV_HANDLED			0
#define SDEI_EV_FAILED			1

/*
 * lkvm's events (Documentation/hypercalls.md). Event 0 is the specification's; the others are
 * lkvm's platform events, signalled by the host (`lkvm sdei signal`, `lkvm nmi`).
 */
#define SDEI_EVENT_SIGNAL		0	/* private, normal; EVENT_SIGNAL */
#define SDEI_EVENT_NMI			1000	/* private, critical: `lkvm nmi` */
#define SDEI_EVENT_CPU_NOTIFY		1001	/* private, normal */
#define SDEI_EVENT_NOTIFY		2000	/* shared, normal */
#define SDEI_EVENT_ALERT		2001	/* shared, critical */

struct sdei_event_desc {
	u32 num;
	const char *name;	/* for `lkvm sdei signal NAME` and the listings */
	bool shared;
	bool critical;
	bool signalable;	/* by the guest's EVENT_SIGNAL: event 0 only */
};

/* The table above, in number order. */
const struct sdei_event_desc *sdei__events(unsigned int *count);
/* An event by number, or by name or decimal number (for the command line); NULL if unknown. */
const struct sdei_event_desc *sdei__event(u32 num);
const struct sdei_event_desc *sdei__event_by_name(const char *name);

/* The registers an event's dispatch saves, and COMPLETE restores: x0-x17, PC and PSTATE. */
#define SDEI_SAVED_REGS			18
struct sdei_context {
	u64 x[SDEI_SAVED_REGS];
	u64 pc;
	u64 pstate;
};

/* What the vCPU's thread must do to enter a handler: x0 = event, x1 = ep_arg, x2/x3 = PC/PSTATE. */
struct sdei_dispatch {
	u32 event;
	u64 entry;
	u64 ep_arg;
	bool critical;
};

/* PSTATE for a handler and for COMPLETE_AND_RESUME: EL1h with D, A, I and F set. */
#define SDEI_HANDLER_PSTATE		0x3c5ULL

/* sdei__init refuses more PEs (lkvm's LKVM_MAX_CPUS). */
#define SDEI_MAX_CPUS			512

struct sdei;

/* What the platform does for the state machine. Only event() is called with the lock held. */
struct sdei_ops {
	/*
	 * Whether addr may be an entry point or resume address: a virtual address of the guest's
	 * EL1 (a Linux guest's are kernel addresses), which need not be a guest-physical one.
	 */
	bool (*valid_entry)(struct sdei *sdei, u64 addr);
	/*
	 * An event became deliverable on cpu, which is not the caller (or the caller is the host):
	 * make its thread call sdei__dispatch() soon, whatever it is doing (running, in WFI,
	 * suspended). Called without the lock.
	 */
	void (*kick)(struct sdei *sdei, unsigned int cpu);
	/* A monotonic clock in nanoseconds: handler durations. */
	u64 (*now_ns)(struct sdei *sdei);
	/*
	 * An event was dispatched to cpu (VM_EV_SDEI_DISPATCH) or completed there
	 * (VM_EV_SDEI_COMPLETE, with the handler's duration); may be NULL. Called with the lock
	 * held, in the order things happened: must not block nor call into SDEI or PSCI.
	 */
	void (*event)(struct sdei *sdei, enum vm_event_type ev, unsigned int cpu, u32 event,
		      u64 duration_ns);
};

/* PSCI's view of a PE, as the KVM backend reports it. */
enum sdei_pe_power {
	SDEI_PE_ON,		/* started by boot or CPU_ON: masked, as the specification says */
	SDEI_PE_OFF,		/* CPU_OFF: its running handlers end, its private events are dropped */
	SDEI_PE_ABSENT,		/* unplugged: as off, and PE-routed events cannot target it */
	SDEI_PE_PRESENT,	/* plugged again: off */
};

/* One event's state, on one PE for a private event, for `lkvm sdei list`. */
struct sdei_event_state {
	bool registered, enabled, running, pending;
	bool unregister_pending;
	u64 entry, ep_arg;
	unsigned int route_mode;	/* shared events: SDEI_RM_ANY or SDEI_RM_PE */
	u64 route_affinity;		/* with SDEI_RM_PE: the target's MPIDR */
	int running_cpu;		/* shared events: the PE running it, or -1 */
	bool pending_cpu_valid;		/* shared events: pending for a chosen PE */
	int pending_cpu;		/* ... that one, else -1 */
};

struct sdei_pe;		/* sdei.c's own */
struct sdei_shared;	/* sdei.c's own */

struct sdei {
	const struct sdei_ops *ops;
	pthread_mutex_t lock;	/* guards pes and shared */
	unsigned int nr_cpus;
	struct sdei_pe *pes;
	struct sdei_shared *shared;
	/* Per PE, readable without the lock: an event may be deliverable there now. */
	_Atomic bool *work;
};

/* A call's registers: x0 (function ID) and x1..x5 in (EVENT_REGISTER takes five), x0 out. */
#define SDEI_MAX_ARGS			5
struct sdei_call {
	u32 fid;
	u64 arg[SDEI_MAX_ARGS + 1];	/* arg[n] = xn; arg[0] unused */
	u64 res[4];			/* res[0] = x0 */
	/* With SDEI_RESUME: the context to restore, and for COMPLETE_AND_RESUME where to go. */
	struct sdei_context ctx;
	bool resume_at;			/* COMPLETE_AND_RESUME: PC = resume_addr, ELR/SPSR set */
	u64 resume_addr;
};

enum sdei_outcome {
	SDEI_RETURN,	/* write res[0] back */
	SDEI_RESUME,	/* COMPLETE(_AND_RESUME): load call->ctx (see resume_at), nothing else */
};

/*
 * cpu 0 starts on, the others off, or absent where present[] says so (NULL: all present).
 * Every PE starts masked. Returns 0, -EINVAL (no PE, or more than SDEI_MAX_CPUS) or -ENOMEM.
 */
int sdei__init(struct sdei *sdei, const struct sdei_ops *ops, unsigned int nr_cpus,
	       const u64 *mpidrs, const bool *present);
void sdei__exit(struct sdei *sdei);

/* How many argument registers (x1..xN) the function needs: read only those. */
unsigned int sdei__nr_args(u32 fid);
/* Handles one call from vCPU cpu. */
enum sdei_outcome sdei__call(struct sdei *sdei, unsigned int cpu, struct sdei_call *call);

/* Lock-free hint for cpu's thread: whether to read its context and try sdei__dispatch(). */
static inline bool sdei__may_dispatch(struct sdei *sdei, unsigned int cpu)
{
	return atomic_load_explicit(&sdei->work[cpu], memory_order_acquire);
}
/*
 * On cpu's own thread, with its interrupted context: if an event is deliverable there now
 * (registered, enabled, pending, PE on and unmasked, and above what it runs), marks it running,
 * saves ctx for EVENT_CONTEXT and COMPLETE, fills *out and returns true.
 */
bool sdei__dispatch(struct sdei *sdei, unsigned int cpu, const struct sdei_context *ctx,
		    struct sdei_dispatch *out);

/*
 * The host signals an event: a private one on cpu, a shared one as routed (cpu < 0) or, for
 * RM_ANY, to cpu. 0, or -EINVAL (unknown event or vCPU, or a cpu for a PE-routed shared event),
 * -ENOENT (not registered there), -ENODEV (the vCPU is off or absent).
 */
int sdei__signal(struct sdei *sdei, u32 event, int cpu);
/* PSCI moved cpu to another power state. */
void sdei__cpu_power(struct sdei *sdei, unsigned int cpu, enum sdei_pe_power power);
/* SYSTEM_RESET(2): every event unregistered, every PE masked, cpu 0 on and the others off. */
void sdei__reset(struct sdei *sdei);

/* Snapshots for `lkvm sdei list`: cpu is ignored for shared events. false: unknown event. */
bool sdei__event_state(struct sdei *sdei, u32 event, unsigned int cpu,
		       struct sdei_event_state *out);
bool sdei__cpu_masked(struct sdei *sdei, unsigned int cpu);

const char *sdei__fn_name(u32 fid);
const char *sdei__ret_name(s64 ret);

#endif
