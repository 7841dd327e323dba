/*
 * SDEI 1.1 (Arm DEN0054): one short handler per function behind one dispatch switch, as in
 * psci/psci.c. Where the specification leaves a choice, Trusted Firmware-A's dispatcher and
 * Linux's client (drivers/firmware/arm_sdei.c) decided it; each such choice says so below.
 *
 * The model:
 * - An event instance (struct sdei_ev) is one PE's copy of a private event, or the one copy of
 *   a shared event: registered, enabled, running, unregister-pending (running but no longer
 *   registered: UNREGISTER of a running handler), pending (signalled, not yet dispatched).
 * - A PE: power (on, off, absent), masked, and a stack of at most two running handlers, a
 *   normal one and a critical one above it, each with the context its dispatch saved.
 * - An event is deliverable on a PE when it is registered, enabled, pending and not running,
 *   targets the PE (private: its own; shared RM_PE: the routed PE; shared RM_ANY: any PE, or
 *   the PE the host chose), the PE is on and unmasked, and the PE runs nothing (normal) or only
 *   a normal handler (critical).
 * - Signals coalesce: signalling an event that is already pending leaves it pending once.
 * - work[cpu] is set whenever an event may have become deliverable on cpu; cpu's thread is
 *   kicked when another thread set it. sdei__dispatch() leaves it exactly "something more is
 *   deliverable here".
 */
#include "lkvm/sdei.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* Aff3..Aff0 of an MPIDR: the affinity arguments of REGISTER, ROUTING_SET and EVENT_SIGNAL. */
#define SDEI_MPIDR_MASK		0xff00ffffffULL
/* EVENT_REGISTER flags: bit 0 the routing mode, bit 1 relative mode (1.1, not offered). */
#define SDEI_REGF_RM_PE		(1ULL << 0)
/* SDEI_FEATURES numbers */
#define SDEI_FEATURE_BIND_SLOTS		0
#define SDEI_FEATURE_RELATIVE_MODE	1
/* INTERRUPT_BIND: only PPIs and SPIs can be bound, anywhere. */
#define SDEI_INTID_FIRST_PPI	16
#define SDEI_INTID_LAST_SPI	1019

static const struct sdei_event_desc events[] = {
	{ SDEI_EVENT_SIGNAL, "sw-signal", false, false, true },
	{ SDEI_EVENT_NMI, "nmi", false, true, false },
	{ SDEI_EVENT_CPU_NOTIFY, "cpu-notify", false, false, false },
	{ SDEI_EVENT_NOTIFY, "notify", true, false, false },
	{ SDEI_EVENT_ALERT, "alert", true, true, false },
};
#define NR_EVENTS	ARRAY_SIZE(events)

enum sdei_power { POWER_ON, POWER_OFF, POWER_ABSENT };

struct sdei_ev {
	bool registered, enabled, running, pending, unregister_pending;
	u64 entry, ep_arg;
};

/* A running handler: what its dispatch saved. */
struct sdei_frame {
	unsigned int idx;	/* into events[] */
	struct sdei_context ctx;
	u64 since;
};

struct sdei_pe {
	u64 mpidr;
	enum sdei_power power;
	bool masked;
	struct sdei_ev priv[NR_EVENTS];	/* private events only */
	struct sdei_frame stack[2];
	unsigned int depth;
};

struct sdei_shared {
	struct sdei_ev ev;
	unsigned int route_mode;
	u64 route_affinity;
	int route_cpu;		/* RM_PE: the target's index */
	int running_cpu;	/* -1: not running */
	int pending_cpu;	/* RM_ANY: the PE the host chose, or -1 for any */
};

/* The PEs to kick once the lock is dropped. */
#define KICK_BITS	(sizeof(unsigned long) * CHAR_BIT)
struct kick_set {
	unsigned long bits[(SDEI_MAX_CPUS + KICK_BITS - 1) / KICK_BITS];
};

#define NO_CALLER	(-1)	/* the host: every PE whose work flag it sets is kicked */

const struct sdei_event_desc *sdei__events(unsigned int *count)
{
	*count = NR_EVENTS;
	return events;
}

static int event_index(u64 num)
{
	for (unsigned int i = 0; i < NR_EVENTS; i++) {
		if (events[i].num == num)
			return (int)i;
	}
	return -1;
}

const struct sdei_event_desc *sdei__event(u32 num)
{
	int i = event_index(num);

	return i < 0 ? NULL : &events[i];
}

const struct sdei_event_desc *sdei__event_by_name(const char *name)
{
	char *end;
	unsigned long long n;

	for (unsigned int i = 0; i < NR_EVENTS; i++) {
		if (!strcmp(events[i].name, name))
			return &events[i];
	}
	if (*name < '0' || *name > '9')
		return NULL;
	errno = 0;
	n = strtoull(name, &end, 10);
	if (errno || *end || n > UINT32_MAX)
		return NULL;
	return sdei__event((u32)n);
}

int sdei__init(struct sdei *sdei, const struct sdei_ops *ops, unsigned int nr_cpus,
	       const u64 *mpidrs, const bool *present)
{
	memset(sdei, 0, sizeof(*sdei));
	if (!nr_cpus || nr_cpus > SDEI_MAX_CPUS)
		return -EINVAL;
	sdei->pes = calloc(nr_cpus, sizeof(*sdei->pes));
	sdei->shared = calloc(NR_EVENTS, sizeof(*sdei->shared));
	sdei->work = calloc(nr_cpus, sizeof(*sdei->work));
	if (!sdei->pes || !sdei->shared || !sdei->work) {
		sdei__exit(sdei);
		return -ENOMEM;
	}
	sdei->ops = ops;
	sdei->nr_cpus = nr_cpus;
	pthread_mutex_init(&sdei->lock, NULL);
	for (unsigned int i = 0; i < nr_cpus; i++) {
		sdei->pes[i].mpidr = mpidrs[i] & SDEI_MPIDR_MASK;
		sdei->pes[i].power = !present || present[i] ? POWER_OFF : POWER_ABSENT;
	}
	sdei__reset(sdei);
	return 0;
}

void sdei__exit(struct sdei *sdei)
{
	if (sdei->ops)
		pthread_mutex_destroy(&sdei->lock);
	free(sdei->pes);
	free(sdei->shared);
	free((void *)sdei->work);
	sdei->pes = NULL;
	sdei->shared = NULL;
	sdei->work = NULL;
}

/* The PE with this affinity, or -1. */
static int sdei__find(struct sdei *sdei, u64 mpidr)
{
	if (mpidr & ~SDEI_MPIDR_MASK)
		return -1;
	for (unsigned int i = 0; i < sdei->nr_cpus; i++) {
		if (sdei->pes[i].mpidr == mpidr)
			return (int)i;
	}
	return -1;
}

/* The instance of event idx that cpu sees. */
static struct sdei_ev *ev_of(struct sdei *sdei, unsigned int idx, unsigned int cpu)
{
	return events[idx].shared ? &sdei->shared[idx].ev : &sdei->pes[cpu].priv[idx];
}

static void sdei__post(struct sdei *sdei, enum vm_event_type type, unsigned int cpu,
			unsigned int idx, u64 duration)
{
	if (sdei->ops->event)
		sdei->ops->event(sdei, type, cpu, events[idx].num, duration);
}

/* Whether cpu could enter a handler of event idx's priority now. */
static bool pe_can_take(const struct sdei_pe *pe, unsigned int idx)
{
	if (pe->power != POWER_ON || pe->masked)
		return false;
	if (!pe->depth)
		return true;
	return pe->depth == 1 && events[idx].critical && !events[pe->stack[0].idx].critical;
}

static bool ev_ready(const struct sdei_ev *ev)
{
	return ev->registered && ev->enabled && ev->pending && !ev->running;
}

/*
 * Whether event idx is deliverable on cpu. any_pe: whether an RM_ANY event pending for any PE
 * counts (dispatch takes it wherever it can; the work flags name one PE for it).
 */
static bool deliverable(struct sdei *sdei, unsigned int idx, unsigned int cpu, bool any_pe)
{
	const struct sdei_shared *sh = &sdei->shared[idx];

	if (!ev_ready(ev_of(sdei, idx, cpu)) || !pe_can_take(&sdei->pes[cpu], idx))
		return false;
	if (!events[idx].shared)
		return true;
	if (sh->route_mode == SDEI_RM_PE)
		return sh->route_cpu == (int)cpu;
	return sh->pending_cpu < 0 ? any_pe : sh->pending_cpu == (int)cpu;
}

/* The event to dispatch on cpu: critical first, then by number; -1 if none. */
static int best_event(struct sdei *sdei, unsigned int cpu)
{
	int best = -1;

	for (unsigned int i = 0; i < NR_EVENTS; i++) {
		if (!deliverable(sdei, i, cpu, true))
			continue;
		if (best < 0 || (events[i].critical && !events[best].critical))
			best = (int)i;
	}
	return best;
}

/*
 * RM_ANY, pending for any PE: the PE to offer it to, or -1. One that will dispatch anyway (its
 * flag is set) first, so that one event is offered to one PE; then the caller (no kick).
 */
static int any_pe_target(struct sdei *sdei, unsigned int idx, int caller)
{
	for (unsigned int i = 0; i < sdei->nr_cpus; i++) {
		if (atomic_load_explicit(&sdei->work[i], memory_order_relaxed) &&
		    deliverable(sdei, idx, i, true))
			return (int)i;
	}
	if (caller >= 0 && deliverable(sdei, idx, (unsigned int)caller, true))
		return caller;
	for (unsigned int i = 0; i < sdei->nr_cpus; i++) {
		if (deliverable(sdei, idx, i, true))
			return (int)i;
	}
	return -1;
}

static void set_work(struct sdei *sdei, unsigned int cpu, int caller, struct kick_set *kicks)
{
	if (atomic_load_explicit(&sdei->work[cpu], memory_order_relaxed))
		return;
	atomic_store_explicit(&sdei->work[cpu], true, memory_order_release);
	if ((int)cpu != caller)
		kicks->bits[cpu / KICK_BITS] |= 1UL << (cpu % KICK_BITS);
}

/*
 * With the lock held, after a change: flags every PE where an event may now be deliverable.
 * A PE whose flag was already set needs no kick: its thread has one coming or is the caller,
 * and dispatches before it clears the flag. An RM_ANY event goes to one PE only.
 */
static void sdei__update_work(struct sdei *sdei, int caller, struct kick_set *kicks)
{
	for (unsigned int idx = 0; idx < NR_EVENTS; idx++) {
		const struct sdei_shared *sh = &sdei->shared[idx];

		if (events[idx].shared && sh->route_mode == SDEI_RM_ANY && sh->pending_cpu < 0) {
			int t = any_pe_target(sdei, idx, caller);

			if (t >= 0)
				set_work(sdei, (unsigned int)t, caller, kicks);
			continue;
		}
		for (unsigned int cpu = 0; cpu < sdei->nr_cpus; cpu++) {
			if (deliverable(sdei, idx, cpu, false))
				set_work(sdei, cpu, caller, kicks);
		}
	}
}

/* Unlocks, then kicks: kick() may take the backend's locks. */
static void sdei__unlock_and_kick(struct sdei *sdei, const struct kick_set *kicks)
{
	pthread_mutex_unlock(&sdei->lock);
	for (unsigned int cpu = 0; cpu < sdei->nr_cpus; cpu++) {
		if (kicks->bits[cpu / KICK_BITS] & (1UL << (cpu % KICK_BITS)))
			sdei->ops->kick(sdei, cpu);
	}
}

/* Back to unregistered. */
static void ev_clear(struct sdei_ev *ev)
{
	*ev = (struct sdei_ev){ 0 };
}

static void shared_clear(struct sdei_shared *sh)
{
	*sh = (struct sdei_shared){ .route_cpu = -1, .running_cpu = -1, .pending_cpu = -1 };
}

/* With the lock held: event idx, as cpu sees it, is unregistered now (its routing too). */
static void unregister_now(struct sdei *sdei, unsigned int idx, unsigned int cpu)
{
	if (events[idx].shared)
		shared_clear(&sdei->shared[idx]);
	else
		ev_clear(&sdei->pes[cpu].priv[idx]);
}

/*
 * The handler on top of cpu's stack ends at time now: running off, a pending unregister
 * applied. (The clock is read before the lock is taken: no op but event() runs under it.)
 */
static void pop_frame(struct sdei *sdei, unsigned int cpu, u64 now, struct sdei_frame *out)
{
	struct sdei_pe *pe = &sdei->pes[cpu];
	struct sdei_frame *f = &pe->stack[--pe->depth];
	struct sdei_ev *ev = ev_of(sdei, f->idx, cpu);

	ev->running = false;
	if (events[f->idx].shared)
		sdei->shared[f->idx].running_cpu = -1;
	if (ev->unregister_pending)
		unregister_now(sdei, f->idx, cpu);
	sdei__post(sdei, VM_EV_SDEI_COMPLETE, cpu, f->idx, now > f->since ? now - f->since : 0);
	if (out)
		*out = *f;
}

/*
 * With the lock held: cpu goes off, absent or (again) on. Its handlers end, with a COMPLETE
 * event each so that `lkvm events` pairs every dispatch; its private events return to the
 * unregistered state (as TF-A does when a PE comes on, and Linux registers them again when a CPU
 * comes online); it is masked; a shared event the host chose it for may go to any PE.
 */
static void pe_reset(struct sdei *sdei, unsigned int cpu, u64 now)
{
	struct sdei_pe *pe = &sdei->pes[cpu];

	while (pe->depth)
		pop_frame(sdei, cpu, now, NULL);
	for (unsigned int i = 0; i < NR_EVENTS; i++)
		ev_clear(&pe->priv[i]);
	pe->masked = true;
	for (unsigned int i = 0; i < NR_EVENTS; i++) {
		if (sdei->shared[i].pending_cpu == (int)cpu)
			sdei->shared[i].pending_cpu = -1;
	}
}

/* The event number in x1, or -1: event numbers are 32-bit values. */
static int arg_event(u64 arg)
{
	return arg > UINT32_MAX ? -1 : event_index(arg);
}

/* RM_PE's affinity must name a PE that is on now (TF-A checks only that it exists). */
static int route_target(struct sdei *sdei, u64 affinity)
{
	int cpu = sdei__find(sdei, affinity);

	return cpu >= 0 && sdei->pes[cpu].power == POWER_ON ? cpu : -1;
}

/* Routing flags: bit 0 only (relative mode, bit 1, is not offered: FEATURES(1) says 0). */
static bool valid_route(struct sdei *sdei, u64 flags, u64 affinity, int *cpu)
{
	*cpu = -1;
	if (flags & ~SDEI_REGF_RM_PE)
		return false;
	if (flags == SDEI_RM_PE)
		*cpu = route_target(sdei, affinity);
	return flags == SDEI_RM_ANY || *cpu >= 0;
}

/* With the lock held: a shared event's routing, checked by valid_route(). */
static void set_route(struct sdei_shared *sh, u64 flags, u64 affinity, int target)
{
	sh->route_mode = (unsigned int)flags;
	sh->route_affinity = flags == SDEI_RM_PE ? affinity : 0;
	sh->route_cpu = target;
	sh->pending_cpu = -1;
}

/*
 * EVENT_REGISTER(event, entry, ep_arg, flags, affinity). For a private event the routing is
 * ignored (the specification's rule), but reserved flag bits are still refused.
 */
static s64 sdei__register(struct sdei *sdei, unsigned int cpu, const u64 *arg)
{
	int idx = arg_event(arg[1]), target;
	struct sdei_ev *ev;
	s64 ret = SDEI_SUCCESS;

	if (idx < 0 || !sdei->ops->valid_entry(sdei, arg[2]))
		return SDEI_INVALID_PARAMETERS;
	pthread_mutex_lock(&sdei->lock);
	if (!valid_route(sdei, arg[4], arg[5], &target) &&
	    (events[idx].shared || (arg[4] & ~SDEI_REGF_RM_PE))) {
		ret = SDEI_INVALID_PARAMETERS;
		goto out;
	}
	ev = ev_of(sdei, (unsigned int)idx, cpu);
	/* Registered, or still running after an UNREGISTER. */
	if (ev->registered || ev->running) {
		ret = SDEI_DENIED;
		goto out;
	}
	ev->registered = true;
	ev->entry = arg[2];
	ev->ep_arg = arg[3];
	if (events[idx].shared)
		set_route(&sdei->shared[idx], arg[4], arg[5], target);
out:
	pthread_mutex_unlock(&sdei->lock);
	return ret;
}

/* ENABLE, DISABLE: DENIED unless registered (an unregister-pending event is not). */
static s64 sdei__enable(struct sdei *sdei, unsigned int cpu, u64 num, bool enable)
{
	int idx = arg_event(num);
	struct kick_set kicks = { 0 };
	struct sdei_ev *ev;
	s64 ret = SDEI_DENIED;

	if (idx < 0)
		return SDEI_INVALID_PARAMETERS;
	pthread_mutex_lock(&sdei->lock);
	ev = ev_of(sdei, (unsigned int)idx, cpu);
	if (ev->registered) {
		ev->enabled = enable;
		ret = SDEI_SUCCESS;
		sdei__update_work(sdei, (int)cpu, &kicks);
	}
	sdei__unlock_and_kick(sdei, &kicks);
	return ret;
}

/* With the lock held: UNREGISTER's transition and answer (TF-A's). */
static s64 unregister_locked(struct sdei *sdei, unsigned int idx, unsigned int cpu)
{
	struct sdei_ev *ev = ev_of(sdei, idx, cpu);

	if (!ev->registered)
		return ev->running ? SDEI_PENDING : SDEI_DENIED;
	if (!ev->running) {
		unregister_now(sdei, idx, cpu);
		return SDEI_SUCCESS;
	}
	/* Takes effect at COMPLETE; no more dispatches meanwhile. */
	ev->registered = ev->enabled = ev->pending = false;
	ev->unregister_pending = true;
	return SDEI_PENDING;
}

static s64 sdei__unregister(struct sdei *sdei, unsigned int cpu, u64 num)
{
	int idx = arg_event(num);
	s64 ret;

	if (idx < 0)
		return SDEI_INVALID_PARAMETERS;
	pthread_mutex_lock(&sdei->lock);
	ret = unregister_locked(sdei, (unsigned int)idx, cpu);
	pthread_mutex_unlock(&sdei->lock);
	return ret;
}

static s64 sdei__status(struct sdei *sdei, unsigned int cpu, u64 num)
{
	int idx = arg_event(num);
	const struct sdei_ev *ev;
	s64 ret;

	if (idx < 0)
		return SDEI_INVALID_PARAMETERS;
	pthread_mutex_lock(&sdei->lock);
	ev = ev_of(sdei, (unsigned int)idx, cpu);
	ret = (ev->registered ? SDEI_STATUS_REGISTERED : 0) | (ev->enabled ? SDEI_STATUS_ENABLED : 0) |
	      (ev->running ? SDEI_STATUS_RUNNING : 0);
	pthread_mutex_unlock(&sdei->lock);
	return ret;
}

/*
 * GET_INFO(event, info). SIGNALED answers whether EVENT_SIGNAL can signal the event (Linux's
 * SDEI_EVENT_INFO_EV_SIGNALED). The routing of a private event: INVALID_PARAMETERS; of an
 * unregistered shared one: DENIED; the affinity of an RM_ANY event: INVALID_PARAMETERS (TF-A).
 */
static s64 sdei__get_info(struct sdei *sdei, u64 num, u64 info)
{
	int idx = arg_event(num);
	const struct sdei_shared *sh;
	s64 ret;

	if (idx < 0)
		return SDEI_INVALID_PARAMETERS;
	switch (info) {
	case SDEI_INFO_TYPE:
		return events[idx].shared;
	case SDEI_INFO_SIGNALED:
		return events[idx].signalable;
	case SDEI_INFO_PRIORITY:
		return events[idx].critical;
	case SDEI_INFO_ROUTING_MODE:
	case SDEI_INFO_ROUTING_AFF:
		if (!events[idx].shared)
			return SDEI_INVALID_PARAMETERS;
		break;
	default:
		return SDEI_INVALID_PARAMETERS;
	}
	sh = &sdei->shared[idx];
	pthread_mutex_lock(&sdei->lock);
	if (!sh->ev.registered)
		ret = SDEI_DENIED;
	else if (info == SDEI_INFO_ROUTING_MODE)
		ret = sh->route_mode;
	else
		ret = sh->route_mode == SDEI_RM_PE ? (s64)sh->route_affinity : SDEI_INVALID_PARAMETERS;
	pthread_mutex_unlock(&sdei->lock);
	return ret;
}

/* ROUTING_SET(event, flags, affinity): shared events, registered, disabled and not running. */
static s64 sdei__routing_set(struct sdei *sdei, unsigned int cpu, const u64 *arg)
{
	int idx = arg_event(arg[1]), target;
	struct kick_set kicks = { 0 };
	struct sdei_shared *sh;
	s64 ret = SDEI_SUCCESS;

	if (idx < 0 || !events[idx].shared)
		return SDEI_INVALID_PARAMETERS;
	sh = &sdei->shared[idx];
	pthread_mutex_lock(&sdei->lock);
	if (!valid_route(sdei, arg[2], arg[3], &target)) {
		ret = SDEI_INVALID_PARAMETERS;
	} else if (!sh->ev.registered || sh->ev.enabled || sh->ev.running) {
		ret = SDEI_DENIED;
	} else {
		set_route(sh, arg[2], arg[3], target);
		sdei__update_work(sdei, (int)cpu, &kicks);
	}
	sdei__unlock_and_kick(sdei, &kicks);
	return ret;
}

/* PE_MASK: 1 if the PE was unmasked and is now masked, 0 if it was masked already (TF-A). */
static s64 sdei__pe_mask(struct sdei *sdei, unsigned int cpu, bool mask)
{
	struct kick_set kicks = { 0 };
	s64 ret;

	pthread_mutex_lock(&sdei->lock);
	ret = mask && !sdei->pes[cpu].masked;
	sdei->pes[cpu].masked = mask;
	/* Masking may hand an RM_ANY event pending for any PE over to another one. */
	sdei__update_work(sdei, (int)cpu, &kicks);
	sdei__unlock_and_kick(sdei, &kicks);
	return ret;
}

static s64 sdei__context(struct sdei *sdei, unsigned int cpu, u64 n)
{
	const struct sdei_pe *pe = &sdei->pes[cpu];
	s64 ret;

	if (n >= SDEI_SAVED_REGS)
		return SDEI_INVALID_PARAMETERS;
	pthread_mutex_lock(&sdei->lock);
	ret = pe->depth ? (s64)pe->stack[pe->depth - 1].ctx.x[n] : SDEI_DENIED;
	pthread_mutex_unlock(&sdei->lock);
	return ret;
}

/*
 * COMPLETE(status), COMPLETE_AND_RESUME(addr): the innermost handler ends. The status (handled
 * or failed) only matters for bound interrupts, which lkvm has none of: it is ignored. A resume
 * address outside guest RAM is DENIED, as TF-A answers.
 */
static enum sdei_outcome sdei__complete(struct sdei *sdei, unsigned int cpu,
					struct sdei_call *call, bool resume)
{
	struct kick_set kicks = { 0 };
	struct sdei_frame f;
	u64 now;

	call->res[0] = SMCCC_RET(SDEI_DENIED);
	if (resume && !sdei->ops->valid_entry(sdei, call->arg[1]))
		return SDEI_RETURN;
	now = sdei->ops->now_ns(sdei);
	pthread_mutex_lock(&sdei->lock);
	if (!sdei->pes[cpu].depth) {
		pthread_mutex_unlock(&sdei->lock);
		return SDEI_RETURN;
	}
	pop_frame(sdei, cpu, now, &f);
	sdei__update_work(sdei, (int)cpu, &kicks);
	sdei__unlock_and_kick(sdei, &kicks);
	call->res[0] = SDEI_SUCCESS;
	call->ctx = f.ctx;
	call->resume_at = resume;
	call->resume_addr = resume ? call->arg[1] : 0;
	return SDEI_RESUME;
}

/*
 * EVENT_SIGNAL(event, target): event 0 only, to a present PE. If event 0 is not registered
 * there (an off PE has nothing registered), the signal is dropped and the call succeeds, as
 * TF-A's SGI would be. Registered, it pends until enabled, unmasked and not running.
 */
static s64 sdei__event_signal(struct sdei *sdei, unsigned int cpu, u64 num, u64 mpidr)
{
	int target = sdei__find(sdei, mpidr);
	struct kick_set kicks = { 0 };
	struct sdei_ev *ev;
	s64 ret = SDEI_SUCCESS;

	if (num != SDEI_EVENT_SIGNAL || target < 0)
		return SDEI_INVALID_PARAMETERS;
	pthread_mutex_lock(&sdei->lock);
	ev = &sdei->pes[target].priv[event_index(SDEI_EVENT_SIGNAL)];
	if (sdei->pes[target].power == POWER_ABSENT) {
		ret = SDEI_INVALID_PARAMETERS;
	} else if (ev->registered) {
		ev->pending = true;
		sdei__update_work(sdei, (int)cpu, &kicks);
	}
	sdei__unlock_and_kick(sdei, &kicks);
	return ret;
}

/*
 * PRIVATE_RESET and SHARED_RESET unregister every event of their kind (the caller's private
 * ones; the shared ones). A running one becomes unregister-pending, and the answer is then
 * DENIED, as TF-A does; the others are unregistered all the same.
 */
static s64 sdei__reset_events(struct sdei *sdei, unsigned int cpu, bool shared)
{
	s64 ret = SDEI_SUCCESS;

	pthread_mutex_lock(&sdei->lock);
	for (unsigned int i = 0; i < NR_EVENTS; i++) {
		if (events[i].shared == shared && unregister_locked(sdei, i, cpu) == SDEI_PENDING)
			ret = SDEI_DENIED;
	}
	pthread_mutex_unlock(&sdei->lock);
	return ret;
}

/*
 * INTERRUPT_BIND: with KVM's in-kernel GIC lkvm never sees a guest interrupt, so it has no
 * slot to bind one to (SDEI_FEATURES(BIND_SLOTS) says 0): a PPI or SPI gets OUT_OF_RESOURCE,
 * anything else (SGIs, special and out-of-range IDs) INVALID_PARAMETERS.
 */
static s64 sdei__interrupt_bind(u64 intid)
{
	return intid >= SDEI_INTID_FIRST_PPI && intid <= SDEI_INTID_LAST_SPI ?
	       SDEI_OUT_OF_RESOURCE : SDEI_INVALID_PARAMETERS;
}

/* BIND_SLOTS: 0 private, 0 shared. RELATIVE_MODE: not supported (0). */
static s64 sdei__features(u64 feature)
{
	return feature == SDEI_FEATURE_BIND_SLOTS || feature == SDEI_FEATURE_RELATIVE_MODE ?
	       0 : SDEI_INVALID_PARAMETERS;
}

/* The function number, or -1 if fid is not an SDEI 1.1 function. */
static int sdei_fn(u32 fid)
{
	if (fid < SDEI_FN_FIRST || fid > SDEI_FN(SDEI_NR_SHARED_RESET))
		return -1;
	return (int)(fid - SDEI_FN_FIRST);
}

unsigned int sdei__nr_args(u32 fid)
{
	switch (sdei_fn(fid)) {
	case SDEI_NR_EVENT_REGISTER:
		return 5;
	case SDEI_NR_EVENT_ROUTING_SET:
		return 3;
	case SDEI_NR_EVENT_GET_INFO: case SDEI_NR_EVENT_SIGNAL:
		return 2;
	case SDEI_NR_EVENT_ENABLE: case SDEI_NR_EVENT_DISABLE: case SDEI_NR_EVENT_CONTEXT:
	case SDEI_NR_EVENT_COMPLETE: case SDEI_NR_EVENT_COMPLETE_AND_RESUME:
	case SDEI_NR_EVENT_UNREGISTER: case SDEI_NR_EVENT_STATUS: case SDEI_NR_INTERRUPT_BIND:
	case SDEI_NR_INTERRUPT_RELEASE: case SDEI_NR_FEATURES:
		return 1;
	default:
		return 0;
	}
}

/* The calls that cannot make an event deliverable anywhere. */
static s64 sdei__call_simple(struct sdei *sdei, unsigned int cpu, int fn, const u64 *arg)
{
	switch (fn) {
	case SDEI_NR_VERSION:
		return (s64)SDEI_VERSION_1_1;
	case SDEI_NR_EVENT_REGISTER:
		return sdei__register(sdei, cpu, arg);
	case SDEI_NR_EVENT_CONTEXT:
		return sdei__context(sdei, cpu, arg[1]);
	case SDEI_NR_EVENT_UNREGISTER:
		return sdei__unregister(sdei, cpu, arg[1]);
	case SDEI_NR_EVENT_STATUS:
		return sdei__status(sdei, cpu, arg[1]);
	case SDEI_NR_EVENT_GET_INFO:
		return sdei__get_info(sdei, arg[1], arg[2]);
	case SDEI_NR_INTERRUPT_BIND:
		return sdei__interrupt_bind(arg[1]);
	case SDEI_NR_INTERRUPT_RELEASE:
		/* Releases a bound event; lkvm's events are all the platform's: none is bound. */
		return SDEI_INVALID_PARAMETERS;
	case SDEI_NR_FEATURES:
		return sdei__features(arg[1]);
	case SDEI_NR_PRIVATE_RESET:
	case SDEI_NR_SHARED_RESET:
		return sdei__reset_events(sdei, cpu, fn == SDEI_NR_SHARED_RESET);
	default:
		return SDEI_NOT_SUPPORTED;
	}
}

enum sdei_outcome sdei__call(struct sdei *sdei, unsigned int cpu, struct sdei_call *call)
{
	int fn = sdei_fn(call->fid);
	const u64 *arg = call->arg;
	s64 ret;

	call->resume_at = false;
	switch (fn) {
	case SDEI_NR_EVENT_COMPLETE:
	case SDEI_NR_EVENT_COMPLETE_AND_RESUME:
		return sdei__complete(sdei, cpu, call, fn == SDEI_NR_EVENT_COMPLETE_AND_RESUME);
	case SDEI_NR_EVENT_ENABLE:
	case SDEI_NR_EVENT_DISABLE:
		ret = sdei__enable(sdei, cpu, arg[1], fn == SDEI_NR_EVENT_ENABLE);
		break;
	case SDEI_NR_EVENT_ROUTING_SET:
		ret = sdei__routing_set(sdei, cpu, arg);
		break;
	case SDEI_NR_PE_MASK:
	case SDEI_NR_PE_UNMASK:
		ret = sdei__pe_mask(sdei, cpu, fn == SDEI_NR_PE_MASK);
		break;
	case SDEI_NR_EVENT_SIGNAL:
		ret = sdei__event_signal(sdei, cpu, arg[1], arg[2]);
		break;
	default:
		ret = sdei__call_simple(sdei, cpu, fn, arg);
		break;
	}
	call->res[0] = SMCCC_RET(ret);
	return SDEI_RETURN;
}

bool sdei__dispatch(struct sdei *sdei, unsigned int cpu, const struct sdei_context *ctx,
		    struct sdei_dispatch *out)
{
	struct sdei_pe *pe = &sdei->pes[cpu];
	u64 now = sdei->ops->now_ns(sdei);
	struct kick_set kicks = { 0 };
	struct sdei_frame *f;
	struct sdei_ev *ev;
	int idx;

	pthread_mutex_lock(&sdei->lock);
	idx = best_event(sdei, cpu);
	if (idx >= 0) {
		ev = ev_of(sdei, (unsigned int)idx, cpu);
		ev->pending = false;
		ev->running = true;
		if (events[idx].shared) {
			sdei->shared[idx].running_cpu = (int)cpu;
			sdei->shared[idx].pending_cpu = -1;
		}
		f = &pe->stack[pe->depth++];
		*f = (struct sdei_frame){ .idx = (unsigned int)idx, .ctx = *ctx, .since = now };
		*out = (struct sdei_dispatch){ .event = events[idx].num, .entry = ev->entry,
					       .ep_arg = ev->ep_arg, .critical = events[idx].critical };
		sdei__post(sdei, VM_EV_SDEI_DISPATCH, cpu, (unsigned int)idx, 0);
	}
	/* Exact for this PE: whether another event is deliverable here now. */
	atomic_store_explicit(&sdei->work[cpu], best_event(sdei, cpu) >= 0, memory_order_release);
	/* An RM_ANY event offered to this PE, which now runs a handler, goes to another one. */
	sdei__update_work(sdei, (int)cpu, &kicks);
	sdei__unlock_and_kick(sdei, &kicks);
	return idx >= 0;
}

/* With the lock held: the host's signal, checked as sdei.h says. */
static int signal_locked(struct sdei *sdei, unsigned int idx, int cpu)
{
	struct sdei_shared *sh = &sdei->shared[idx];

	if (!events[idx].shared) {
		if (cpu < 0)
			return -EINVAL;
		if (sdei->pes[cpu].power != POWER_ON)
			return -ENODEV;
		if (!sdei->pes[cpu].priv[idx].registered)
			return -ENOENT;
		sdei->pes[cpu].priv[idx].pending = true;
		return 0;
	}
	if (!sh->ev.registered)
		return -ENOENT;
	if (sh->route_mode == SDEI_RM_PE && cpu >= 0)
		return -EINVAL;
	if (sh->route_mode == SDEI_RM_PE)
		cpu = sh->route_cpu;
	if (cpu >= 0 && sdei->pes[cpu].power != POWER_ON)
		return -ENODEV;
	if (sh->route_mode == SDEI_RM_ANY && !sh->ev.pending)
		sh->pending_cpu = cpu;
	sh->ev.pending = true;
	return 0;
}

int sdei__signal(struct sdei *sdei, u32 event, int cpu)
{
	int idx = event_index(event);
	struct kick_set kicks = { 0 };
	int err;

	if (idx < 0 || cpu >= (int)sdei->nr_cpus)
		return -EINVAL;
	pthread_mutex_lock(&sdei->lock);
	err = signal_locked(sdei, (unsigned int)idx, cpu < 0 ? -1 : cpu);
	if (!err)
		sdei__update_work(sdei, NO_CALLER, &kicks);
	sdei__unlock_and_kick(sdei, &kicks);
	return err;
}

void sdei__cpu_power(struct sdei *sdei, unsigned int cpu, enum sdei_pe_power power)
{
	struct sdei_pe *pe = &sdei->pes[cpu];
	u64 now = sdei->ops->now_ns(sdei);
	struct kick_set kicks = { 0 };

	pthread_mutex_lock(&sdei->lock);
	switch (power) {
	case SDEI_PE_ON:
	case SDEI_PE_OFF:
	case SDEI_PE_ABSENT:
		pe_reset(sdei, cpu, now);
		pe->power = power == SDEI_PE_ON ? POWER_ON : power == SDEI_PE_OFF ? POWER_OFF :
			    POWER_ABSENT;
		break;
	case SDEI_PE_PRESENT:
		if (pe->power == POWER_ABSENT)
			pe->power = POWER_OFF;
		break;
	}
	/* Shared events this PE ran or was chosen for may now go elsewhere. */
	sdei__update_work(sdei, NO_CALLER, &kicks);
	sdei__unlock_and_kick(sdei, &kicks);
}

void sdei__reset(struct sdei *sdei)
{
	pthread_mutex_lock(&sdei->lock);
	for (unsigned int i = 0; i < NR_EVENTS; i++)
		shared_clear(&sdei->shared[i]);
	for (unsigned int i = 0; i < sdei->nr_cpus; i++) {
		struct sdei_pe *pe = &sdei->pes[i];

		/* The VM restarts: handlers vanish without COMPLETE events. */
		pe->depth = 0;
		pe_reset(sdei, i, 0);
		/* As PSCI: cpu 0 runs whatever present[] said. */
		if (!i)
			pe->power = POWER_ON;
		else if (pe->power != POWER_ABSENT)
			pe->power = POWER_OFF;
		atomic_store_explicit(&sdei->work[i], false, memory_order_release);
	}
	pthread_mutex_unlock(&sdei->lock);
}

bool sdei__event_state(struct sdei *sdei, u32 event, unsigned int cpu,
		       struct sdei_event_state *out)
{
	int idx = event_index(event);
	const struct sdei_shared *sh;
	const struct sdei_ev *ev;

	if (idx < 0 || cpu >= sdei->nr_cpus)
		return false;
	sh = &sdei->shared[idx];
	pthread_mutex_lock(&sdei->lock);
	ev = ev_of(sdei, (unsigned int)idx, cpu);
	*out = (struct sdei_event_state){
		.registered = ev->registered, .enabled = ev->enabled, .running = ev->running,
		.pending = ev->pending, .unregister_pending = ev->unregister_pending,
		.entry = ev->entry, .ep_arg = ev->ep_arg, .running_cpu = -1, .pending_cpu = -1,
	};
	if (events[idx].shared) {
		out->route_mode = sh->route_mode;
		out->route_affinity = sh->route_affinity;
		out->running_cpu = sh->running_cpu;
		out->pending_cpu_valid = ev->pending && sh->route_mode == SDEI_RM_ANY &&
					 sh->pending_cpu >= 0;
		out->pending_cpu = out->pending_cpu_valid ? sh->pending_cpu : -1;
	}
	pthread_mutex_unlock(&sdei->lock);
	return true;
}

bool sdei__cpu_masked(struct sdei *sdei, unsigned int cpu)
{
	bool masked;

	pthread_mutex_lock(&sdei->lock);
	masked = sdei->pes[cpu].masked;
	pthread_mutex_unlock(&sdei->lock);
	return masked;
}

const char *sdei__fn_name(u32 fid)
{
	static const char *const names[] = {
		"SDEI_VERSION", "SDEI_EVENT_REGISTER", "SDEI_EVENT_ENABLE", "SDEI_EVENT_DISABLE",
		"SDEI_EVENT_CONTEXT", "SDEI_EVENT_COMPLETE", "SDEI_EVENT_COMPLETE_AND_RESUME",
		"SDEI_EVENT_UNREGISTER", "SDEI_EVENT_STATUS", "SDEI_EVENT_GET_INFO",
		"SDEI_EVENT_ROUTING_SET", "SDEI_PE_MASK", "SDEI_PE_UNMASK", "SDEI_INTERRUPT_BIND",
		"SDEI_INTERRUPT_RELEASE", "SDEI_EVENT_SIGNAL", "SDEI_FEATURES", "SDEI_PRIVATE_RESET",
		"SDEI_SHARED_RESET",
	};
	int fn = sdei_fn(fid);

	return fn >= 0 ? names[fn] : "unknown";
}

const char *sdei__ret_name(s64 ret)
{
	switch (ret) {
	case SDEI_SUCCESS: return "SUCCESS";
	case SDEI_NOT_SUPPORTED: return "NOT_SUPPORTED";
	case SDEI_INVALID_PARAMETERS: return "INVALID_PARAMETERS";
	case SDEI_DENIED: return "DENIED";
	case SDEI_PENDING: return "PENDING";
	case SDEI_OUT_OF_RESOURCE: return "OUT_OF_RESOURCE";
	default: return NULL;
	}
}
