/* PSCI 1.1 (Arm DEN0022): one short handler per function behind one dispatch switch. */
#include "lkvm/psci.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct psci_cpu {
	u64 mpidr;
	enum psci_cpu_state state;
	enum psci_suspend_type suspend_type;
	u64 entry, context_id;		/* where to start or resume: CPU_ON, powerdown suspend */
	u64 start_delay_ns;		/* from the CPU_ON policy */
	bool reset_pending;		/* the vCPU must reset to entry/context_id before it runs */
	pthread_cond_t wake;		/* signalled on CPU_ON and on stop */
	u64 suspend_since;
	bool stat_suspend;		/* the suspend counts in the statistics */
	u64 residency_ns[PSCI_NR_SUSPEND_TYPES];
	u64 count[PSCI_NR_SUSPEND_TYPES];
};

static bool is_smc64(u32 fid)
{
	return fid & SMCCC_FN64;
}

/* Functions with an SMC64 form (DEN0022 table 5). */
static bool has_smc64(unsigned int fn)
{
	switch (fn) {
	case PSCI_NR_CPU_SUSPEND: case PSCI_NR_CPU_ON: case PSCI_NR_AFFINITY_INFO: case PSCI_NR_MIGRATE:
	case PSCI_NR_MIGRATE_INFO_UP_CPU: case PSCI_NR_CPU_DEFAULT_SUSPEND: case PSCI_NR_NODE_HW_STATE:
	case PSCI_NR_SYSTEM_SUSPEND: case PSCI_NR_STAT_RESIDENCY: case PSCI_NR_STAT_COUNT:
	case PSCI_NR_SYSTEM_RESET2: case PSCI_NR_MEM_PROTECT_CHECK_RANGE: case PSCI_NR_SYSTEM_OFF2:
		return true;
	default:
		return false;
	}
}

/* The function number, or -1 if fid is no PSCI function ID at all. */
static int psci_fn(u32 fid)
{
	unsigned int fn = fid & SMCCC_FN_MASK;

	if ((fid & ~SMCCC_FN_MASK) != (PSCI_FN_BASE & ~SMCCC_FN_MASK) &&
	    (fid & ~SMCCC_FN_MASK) != (PSCI_FN64_BASE & ~SMCCC_FN_MASK))
		return -1;
	if (fn >= PSCI_FN_RANGE || (is_smc64(fid) && !has_smc64(fn)))
		return -1;
	return (int)fn;
}

/* What lkvm implements; PSCI_NR_FEATURES reports exactly this. */
static bool implemented(int fn)
{
	switch (fn) {
	case PSCI_NR_VERSION: case PSCI_NR_CPU_SUSPEND: case PSCI_NR_CPU_OFF: case PSCI_NR_CPU_ON:
	case PSCI_NR_AFFINITY_INFO: case PSCI_NR_MIGRATE_INFO_TYPE: case PSCI_NR_SYSTEM_OFF:
	case PSCI_NR_SYSTEM_RESET: case PSCI_NR_FEATURES: case PSCI_NR_NODE_HW_STATE:
	case PSCI_NR_SYSTEM_SUSPEND: case PSCI_NR_STAT_RESIDENCY: case PSCI_NR_STAT_COUNT:
	case PSCI_NR_SYSTEM_RESET2:
		return true;
	default:
		return false;
	}
}

unsigned int psci__nr_args(u32 fid)
{
	switch (psci_fn(fid)) {
	case PSCI_NR_CPU_SUSPEND: case PSCI_NR_CPU_ON:
		return 3;
	case PSCI_NR_AFFINITY_INFO: case PSCI_NR_NODE_HW_STATE: case PSCI_NR_SYSTEM_SUSPEND:
	case PSCI_NR_STAT_RESIDENCY: case PSCI_NR_STAT_COUNT: case PSCI_NR_SYSTEM_RESET2:
		return 2;
	case PSCI_NR_FEATURES:
		return 1;
	default:
		return 0;
	}
}

int psci__init(struct psci *psci, const struct psci_ops *ops, unsigned int nr_cpus,
	       const u64 *mpidrs, const bool *present)
{
	memset(psci, 0, sizeof(*psci));
	psci->cpus = calloc(nr_cpus, sizeof(*psci->cpus));
	if (!psci->cpus)
		return -ENOMEM;
	psci->ops = ops;
	psci->nr_cpus = nr_cpus;
	pthread_mutex_init(&psci->lock, NULL);
	for (unsigned int i = 0; i < nr_cpus; i++) {
		psci->cpus[i].mpidr = mpidrs[i] & MPIDR_HWID_MASK;
		psci->cpus[i].state = !i ? PSCI_STATE_ON : !present || present[i] ? PSCI_STATE_OFF :
				      PSCI_STATE_ABSENT;
		pthread_cond_init(&psci->cpus[i].wake, NULL);
	}
	return 0;
}

void psci__exit(struct psci *psci)
{
	for (unsigned int i = 0; i < psci->nr_cpus; i++)
		pthread_cond_destroy(&psci->cpus[i].wake);
	pthread_mutex_destroy(&psci->lock);
	free(psci->cpus);
	psci->cpus = NULL;
}

/* The vCPU with this MPIDR, or -1. */
static int psci__find(struct psci *psci, u64 mpidr)
{
	if (mpidr & ~MPIDR_HWID_MASK)
		return -1;
	for (unsigned int i = 0; i < psci->nr_cpus; i++) {
		if (psci->cpus[i].mpidr == mpidr)
			return (int)i;
	}
	return -1;
}

/* Affinity fields at and above level (0 = Aff0 ... 3 = Aff3), as a mask of the MPIDR. */
static u64 aff_mask(unsigned int level)
{
	static const u64 masks[] = { 0xff00ffffffULL, 0xff00ffff00ULL, 0xff00ff0000ULL,
				     0xff00000000ULL };
	return masks[level];
}

/* With the lock held: events then appear in the order the transitions happened. */
static void psci__event(struct psci *psci, enum vm_event_type ev, unsigned int cpu,
			unsigned int target)
{
	if (psci->ops->event)
		psci->ops->event(psci, ev, cpu, target);
}

static void psci__event_locked(struct psci *psci, enum vm_event_type ev, unsigned int cpu)
{
	pthread_mutex_lock(&psci->lock);
	psci__event(psci, ev, cpu, cpu);
	pthread_mutex_unlock(&psci->lock);
}

static u64 psci__version(void)
{
	return PSCI_VERSION_1_1;
}

static u64 psci__features(u32 fid)
{
	int fn = psci_fn(fid);

	if (fid == SMCCC_VERSION)
		return PSCI_RET_SUCCESS;
	if (fn < 0 || !implemented(fn))
		return SMCCC_RET(PSCI_RET_NOT_SUPPORTED);
	/* CPU_SUSPEND: original power_state format, platform-coordinated mode only. */
	return PSCI_RET_SUCCESS;
}

/* With the lock held: CPU_ON's answer for a target in state s. */
static int cpu_on_ret(enum psci_cpu_state s)
{
	if (s == PSCI_STATE_ABSENT)
		return PSCI_RET_DENIED;	/* not plugged: how a guest sees a CPU it may not use yet */
	/* ON_PENDING too: KVM answers ALREADY_ON there, and Linux expects that. */
	return s == PSCI_STATE_OFF ? PSCI_RET_SUCCESS : PSCI_RET_ALREADY_ON;
}

/*
 * The policy runs without the lock, so that it may take its own locks (the hot-add plan's);
 * its verdict holds only if the target is still off when the lock is taken again.
 */
static u64 psci__cpu_on(struct psci *psci, unsigned int caller, u64 mpidr, u64 entry, u64 ctx)
{
	int target = psci__find(psci, mpidr);
	struct psci_cpu_on_verdict v;
	struct psci_cpu *t;
	int ret;

	if (target < 0)
		return SMCCC_RET(PSCI_RET_INVALID_PARAMS);
	if (!psci->ops->valid_entry(psci, entry))
		return SMCCC_RET(PSCI_RET_INVALID_ADDRESS);
	t = &psci->cpus[target];
	pthread_mutex_lock(&psci->lock);
	psci__event(psci, VM_EV_CPU_ON_REQUEST, caller, (unsigned int)target);
	ret = cpu_on_ret(t->state);
	pthread_mutex_unlock(&psci->lock);
	v = (struct psci_cpu_on_verdict){ .ret = ret };
	if (ret == PSCI_RET_SUCCESS)
		v = psci->ops->cpu_on_policy(psci, caller, (unsigned int)target);
	pthread_mutex_lock(&psci->lock);
	ret = cpu_on_ret(t->state);
	if (ret == PSCI_RET_SUCCESS)
		ret = v.ret;
	if (ret == PSCI_RET_SUCCESS || ret == PSCI_RET_DENIED)
		psci__event(psci, ret ? VM_EV_CPU_ON_DENIED : VM_EV_CPU_ON_GRANTED, caller,
			    (unsigned int)target);
	/* The target is woken only now: its start cannot come before the grant. */
	if (ret == PSCI_RET_SUCCESS) {
		t->state = PSCI_STATE_ON_PENDING;
		t->entry = entry;
		t->context_id = ctx;
		t->start_delay_ns = v.delay_ns;
		t->reset_pending = true;
	}
	pthread_mutex_unlock(&psci->lock);
	/*
	 * Signalled after the unlock, so that the target does not wake only to wait for the lock:
	 * it reads its state under the lock before waiting, so it cannot miss this.
	 */
	if (ret == PSCI_RET_SUCCESS)
		pthread_cond_signal(&t->wake);
	return SMCCC_RET(ret);
}

static enum psci_outcome psci__cpu_off(struct psci *psci, unsigned int cpu)
{
	bool all_off = true;

	pthread_mutex_lock(&psci->lock);
	psci->cpus[cpu].state = PSCI_STATE_OFF;
	for (unsigned int i = 0; i < psci->nr_cpus; i++)
		all_off &= psci->cpus[i].state == PSCI_STATE_OFF || psci->cpus[i].state == PSCI_STATE_ABSENT;
	psci__event(psci, VM_EV_CPU_OFF, cpu, cpu);
	/* Nothing could ever turn a vCPU on again: rather than idle forever, power off. */
	if (all_off)
		psci__event(psci, VM_EV_SYSTEM_OFF, cpu, cpu);
	pthread_mutex_unlock(&psci->lock);
	if (all_off)
		psci->ops->system_off(psci);
	return PSCI_NO_RETURN;
}

static int aff_state(enum psci_cpu_state s)
{
	switch (s) {
	case PSCI_STATE_ON: case PSCI_STATE_SUSPENDED: return PSCI_AFF_ON;
	case PSCI_STATE_ON_PENDING: return PSCI_AFF_ON_PENDING;
	default: return PSCI_AFF_OFF;
	}
}

/* ON if any vCPU of the affinity instance is on, else ON_PENDING if one is, else OFF. */
static u64 psci__affinity_info(struct psci *psci, u64 mpidr, u64 level)
{
	int best = PSCI_AFF_OFF;
	bool found = false;

	if (level > 3 || (mpidr & ~MPIDR_HWID_MASK))
		return SMCCC_RET(PSCI_RET_INVALID_PARAMS);
	pthread_mutex_lock(&psci->lock);
	for (unsigned int i = 0; i < psci->nr_cpus; i++) {
		int s;

		if ((psci->cpus[i].mpidr & aff_mask((unsigned int)level)) !=
		    (mpidr & aff_mask((unsigned int)level)))
			continue;
		found = true;
		s = aff_state(psci->cpus[i].state);
		if (s == PSCI_AFF_ON || (s == PSCI_AFF_ON_PENDING && best == PSCI_AFF_OFF))
			best = s;
	}
	pthread_mutex_unlock(&psci->lock);
	return found ? (u64)best : SMCCC_RET(PSCI_RET_INVALID_PARAMS);
}

static u64 psci__node_hw_state(struct psci *psci, u64 mpidr, u64 level)
{
	int target = psci__find(psci, mpidr);
	u64 ret;

	/* Only the core level is a node lkvm models. */
	if (target < 0 || level != 0)
		return SMCCC_RET(PSCI_RET_INVALID_PARAMS);
	pthread_mutex_lock(&psci->lock);
	switch (psci->cpus[target].state) {
	case PSCI_STATE_ON:
		ret = PSCI_HW_ON;
		break;
	case PSCI_STATE_SUSPENDED:
		ret = psci->cpus[target].suspend_type == PSCI_STANDBY ? PSCI_HW_STANDBY : PSCI_HW_OFF;
		break;
	default:
		ret = PSCI_HW_OFF;
		break;
	}
	pthread_mutex_unlock(&psci->lock);
	return ret;
}

/* Original power_state format: [15:0] StateID, [16] powerdown, [25:24] level 0 or 1. */
static int parse_power_state(u64 ps, enum psci_suspend_type *type)
{
	if ((ps & ~(u64)PSCI_PS_VALID_MASK) || (ps >> PSCI_PS_LEVEL_SHIFT) > 1)
		return PSCI_RET_INVALID_PARAMS;
	*type = ps & PSCI_PS_TYPE_POWERDOWN ? PSCI_POWERDOWN : PSCI_STANDBY;
	return 0;
}

/* stat: count it for PSCI_STAT_* (CPU_SUSPEND's states; SYSTEM_SUSPEND is another state). */
static void psci__enter_suspend(struct psci *psci, unsigned int cpu, enum psci_suspend_type type,
				u64 entry, u64 ctx, bool stat)
{
	struct psci_cpu *c = &psci->cpus[cpu];

	pthread_mutex_lock(&psci->lock);
	c->state = PSCI_STATE_SUSPENDED;
	c->suspend_type = type;
	c->entry = entry;
	c->context_id = ctx;
	c->suspend_since = psci->ops->now_ns(psci);
	c->stat_suspend = stat;
	if (stat)
		c->count[type]++;
	psci__event(psci, stat ? VM_EV_SUSPEND : VM_EV_SYSTEM_SUSPEND, cpu, cpu);
	pthread_mutex_unlock(&psci->lock);
	psci->ops->suspend(psci, cpu, type);
}

static enum psci_outcome psci__cpu_suspend(struct psci *psci, unsigned int cpu,
					   struct psci_call *call)
{
	enum psci_suspend_type type;
	int err = parse_power_state(call->arg[1], &type);

	if (!err && type == PSCI_POWERDOWN && !psci->ops->valid_entry(psci, call->arg[2]))
		err = PSCI_RET_INVALID_ADDRESS;
	call->res[0] = SMCCC_RET(err);
	if (err)
		return PSCI_RETURN;
	psci__enter_suspend(psci, cpu, type, call->arg[2], call->arg[3], true);
	/* Standby returns SUCCESS when woken; powerdown resumes at the entry point instead. */
	return type == PSCI_STANDBY ? PSCI_RETURN : PSCI_NO_RETURN;
}

static enum psci_outcome psci__system_suspend(struct psci *psci, unsigned int cpu,
					      struct psci_call *call)
{
	bool alone = true;

	if (!psci->ops->valid_entry(psci, call->arg[1])) {
		call->res[0] = SMCCC_RET(PSCI_RET_INVALID_ADDRESS);
		return PSCI_RETURN;
	}
	pthread_mutex_lock(&psci->lock);
	for (unsigned int i = 0; i < psci->nr_cpus; i++) {
		if (i != cpu && psci->cpus[i].state != PSCI_STATE_OFF &&
		    psci->cpus[i].state != PSCI_STATE_ABSENT)
			alone = false;
	}
	pthread_mutex_unlock(&psci->lock);
	if (!alone) {
		call->res[0] = SMCCC_RET(PSCI_RET_DENIED);
		return PSCI_RETURN;
	}
	psci__enter_suspend(psci, cpu, PSCI_POWERDOWN, call->arg[1], call->arg[2], false);
	return PSCI_NO_RETURN;
}

/* PSCI_STAT_*: for an unknown vCPU or a state lkvm does not enter, the answer is 0. */
static u64 psci__stat(struct psci *psci, u64 mpidr, u64 ps, bool residency)
{
	int target = psci__find(psci, mpidr);
	enum psci_suspend_type type;
	u64 v;

	if (target < 0 || parse_power_state(ps, &type))
		return 0;
	pthread_mutex_lock(&psci->lock);
	v = residency ? psci->cpus[target].residency_ns[type] / 1000 : psci->cpus[target].count[type];
	pthread_mutex_unlock(&psci->lock);
	return v;
}

static enum psci_outcome psci__system_reset2(struct psci *psci, unsigned int cpu,
					     struct psci_call *call)
{
	/* Type 0 is the architectural warm reset; lkvm defines no other, nor any vendor type. */
	if (call->arg[1] != 0) {
		call->res[0] = SMCCC_RET(PSCI_RET_INVALID_PARAMS);
		return PSCI_RETURN;
	}
	psci__event_locked(psci, VM_EV_SYSTEM_RESET, cpu);
	psci->ops->system_reset(psci);
	return PSCI_NO_RETURN;
}

static void narrow_args(struct psci_call *call)
{
	if (is_smc64(call->fid))
		return;
	for (int i = 1; i < 4; i++)
		call->arg[i] &= 0xffffffffULL;
}

enum psci_outcome psci__call(struct psci *psci, unsigned int cpu, struct psci_call *call)
{
	u64 *res = &call->res[0];

	narrow_args(call);
	*res = SMCCC_RET(PSCI_RET_NOT_SUPPORTED);
	switch (psci_fn(call->fid)) {
	case PSCI_NR_VERSION:
		*res = psci__version();
		break;
	case PSCI_NR_CPU_SUSPEND:
		return psci__cpu_suspend(psci, cpu, call);
	case PSCI_NR_CPU_OFF:
		return psci__cpu_off(psci, cpu);
	case PSCI_NR_CPU_ON:
		*res = psci__cpu_on(psci, cpu, call->arg[1], call->arg[2], call->arg[3]);
		break;
	case PSCI_NR_AFFINITY_INFO:
		*res = psci__affinity_info(psci, call->arg[1], call->arg[2]);
		break;
	case PSCI_NR_MIGRATE_INFO_TYPE:
		*res = 2;	/* no Trusted OS that needs migration */
		break;
	case PSCI_NR_SYSTEM_OFF:
		psci__event_locked(psci, VM_EV_SYSTEM_OFF, cpu);
		psci->ops->system_off(psci);
		return PSCI_NO_RETURN;
	case PSCI_NR_SYSTEM_RESET:
		psci__event_locked(psci, VM_EV_SYSTEM_RESET, cpu);
		psci->ops->system_reset(psci);
		return PSCI_NO_RETURN;
	case PSCI_NR_FEATURES:
		*res = psci__features((u32)call->arg[1]);
		break;
	case PSCI_NR_NODE_HW_STATE:
		*res = psci__node_hw_state(psci, call->arg[1], call->arg[2]);
		break;
	case PSCI_NR_SYSTEM_SUSPEND:
		return psci__system_suspend(psci, cpu, call);
	case PSCI_NR_STAT_RESIDENCY:
	case PSCI_NR_STAT_COUNT:
		*res = psci__stat(psci, call->arg[1], call->arg[2],
				  psci_fn(call->fid) == PSCI_NR_STAT_RESIDENCY);
		break;
	case PSCI_NR_SYSTEM_RESET2:
		return psci__system_reset2(psci, cpu, call);
	default:
		break;
	}
	return PSCI_RETURN;
}

/* With the lock held: take a pending start or resume, if any. */
static void take_reset(struct psci_cpu *c, bool *reset, u64 *entry, u64 *ctx)
{
	*reset = c->reset_pending;
	c->reset_pending = false;
	*entry = c->entry;
	*ctx = c->context_id;
}

bool psci__wait_cpu_on(struct psci *psci, unsigned int cpu, bool *reset, u64 *entry, u64 *ctx,
		       u64 *delay_ns)
{
	struct psci_cpu *c = &psci->cpus[cpu];
	bool run;

	pthread_mutex_lock(&psci->lock);
	while (!psci->stopping && (c->state == PSCI_STATE_OFF || c->state == PSCI_STATE_ABSENT))
		pthread_cond_wait(&c->wake, &psci->lock);
	run = !psci->stopping;
	/* ON_PENDING lasts until the vCPU runs: AFFINITY_INFO tells a starting vCPU apart. */
	*delay_ns = c->start_delay_ns;
	c->start_delay_ns = 0;
	take_reset(c, reset, entry, ctx);
	if (run && c->state == PSCI_STATE_ON_PENDING && !*delay_ns) {
		c->state = PSCI_STATE_ON;
		psci__event(psci, VM_EV_CPU_START, cpu, cpu);
	}
	pthread_mutex_unlock(&psci->lock);
	return run;
}

void psci__cpu_started(struct psci *psci, unsigned int cpu)
{
	pthread_mutex_lock(&psci->lock);
	if (psci->cpus[cpu].state == PSCI_STATE_ON_PENDING)
		psci->cpus[cpu].state = PSCI_STATE_ON;
	psci__event(psci, VM_EV_CPU_START, cpu, cpu);
	pthread_mutex_unlock(&psci->lock);
}

void psci__cpu_woke(struct psci *psci, unsigned int cpu, bool *reset, u64 *entry, u64 *ctx)
{
	struct psci_cpu *c = &psci->cpus[cpu];

	pthread_mutex_lock(&psci->lock);
	*reset = false;
	if (c->state == PSCI_STATE_SUSPENDED) {
		if (c->stat_suspend)
			c->residency_ns[c->suspend_type] += psci->ops->now_ns(psci) - c->suspend_since;
		c->state = PSCI_STATE_ON;
		c->reset_pending = c->suspend_type == PSCI_POWERDOWN;
		take_reset(c, reset, entry, ctx);
		psci__event(psci, VM_EV_RESUME, cpu, cpu);
	}
	pthread_mutex_unlock(&psci->lock);
}

void psci__stop(struct psci *psci)
{
	pthread_mutex_lock(&psci->lock);
	psci->stopping = true;
	for (unsigned int i = 0; i < psci->nr_cpus; i++)
		pthread_cond_broadcast(&psci->cpus[i].wake);
	pthread_mutex_unlock(&psci->lock);
}

enum psci_cpu_state psci__cpu_state(struct psci *psci, unsigned int cpu)
{
	enum psci_cpu_state s;

	pthread_mutex_lock(&psci->lock);
	s = psci->cpus[cpu].state;
	pthread_mutex_unlock(&psci->lock);
	return s;
}

void psci__cpu_info(struct psci *psci, unsigned int cpu, struct psci_cpu_info *out)
{
	const struct psci_cpu *c = &psci->cpus[cpu];

	pthread_mutex_lock(&psci->lock);
	*out = (struct psci_cpu_info){ .mpidr = c->mpidr, .state = c->state };
	memcpy(out->residency_ns, c->residency_ns, sizeof(out->residency_ns));
	memcpy(out->count, c->count, sizeof(out->count));
	pthread_mutex_unlock(&psci->lock);
}

int psci__set_present(struct psci *psci, unsigned int cpu, bool present)
{
	struct psci_cpu *c = &psci->cpus[cpu];
	enum psci_cpu_state from = present ? PSCI_STATE_ABSENT : PSCI_STATE_OFF;
	enum psci_cpu_state to = present ? PSCI_STATE_OFF : PSCI_STATE_ABSENT;
	int err = 0;

	pthread_mutex_lock(&psci->lock);
	if (c->state == from) {
		c->state = to;
		psci__event(psci, present ? VM_EV_PLUG : VM_EV_UNPLUG, cpu, cpu);
	} else if (c->state != to) {
		err = -EBUSY;
	}
	pthread_mutex_unlock(&psci->lock);
	return err;
}

const char *psci__state_name(enum psci_cpu_state s)
{
	static const char *const names[] = { "absent", "off", "on-pending", "on", "suspended" };

	return (unsigned int)s < ARRAY_SIZE(names) ? names[s] : "?";
}

const char *psci__fn_name(u32 fid)
{
	static const char *const names[PSCI_FN_RANGE] = {
		"PSCI_VERSION", "CPU_SUSPEND", "CPU_OFF", "CPU_ON", "AFFINITY_INFO", "MIGRATE",
		"MIGRATE_INFO_TYPE", "MIGRATE_INFO_UP_CPU", "SYSTEM_OFF", "SYSTEM_RESET",
		"PSCI_FEATURES", "CPU_FREEZE", "CPU_DEFAULT_SUSPEND", "NODE_HW_STATE",
		"SYSTEM_SUSPEND", "PSCI_SET_SUSPEND_MODE", "PSCI_STAT_RESIDENCY", "PSCI_STAT_COUNT",
		"SYSTEM_RESET2", "MEM_PROTECT", "MEM_PROTECT_CHECK_RANGE", "SYSTEM_OFF2",
	};
	int fn = psci_fn(fid);

	return fn >= 0 && names[fn] ? names[fn] : "unknown";
}

const char *psci__ret_name(s64 ret)
{
	static const char *const names[] = {
		"SUCCESS", "NOT_SUPPORTED", "INVALID_PARAMETERS", "DENIED", "ALREADY_ON",
		"ON_PENDING", "INTERNAL_FAILURE", "NOT_PRESENT", "DISABLED", "INVALID_ADDRESS",
	};

	return ret <= 0 && ret > -(s64)ARRAY_SIZE(names) ? names[-ret] : NULL;
}
