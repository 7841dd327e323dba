/* The SDEI state machine, driven directly with fake platform ops: no KVM, no VM. */
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "lkvm/sdei.h"
#include "suites.h"

#define NR_CPUS 4
#define RAM_START 0x80000000ULL
#define RAM_END 0x90000000ULL
#define ENTRY 0x80001000ULL
#define ENTRY2 0x80002000ULL
#define RESUME 0x80003000ULL
#define NOT_SUPPORTED ((u64)(s64)SDEI_NOT_SUPPORTED)
#define INVALID ((u64)(s64)SDEI_INVALID_PARAMETERS)
#define DENIED ((u64)(s64)SDEI_DENIED)
#define PENDING ((u64)(s64)SDEI_PENDING)
#define OUT_OF_RESOURCE ((u64)(s64)SDEI_OUT_OF_RESOURCE)
#define NOCALL 0xdeadULL	/* the call did not return (COMPLETE resumed) */

struct logged_event {
	enum vm_event_type ev;
	unsigned int cpu;
	u32 event;
	u64 duration;
};

struct fake {
	struct sdei sdei;
	atomic_int kicks[NR_CPUS];
	int events[VM_EV_NR_TYPES];		/* under the SDEI lock */
	struct logged_event log[64];
	unsigned int nr_log;
	/* For the concurrency test: dispatches and completes per event index and PE. */
	long dispatched[5][NR_CPUS], completed[5][NR_CPUS];
	_Atomic u64 now;
	bool threaded;		/* several threads: the lock may be anyone's */
};

static struct fake fk;

static struct fake *to_fake(struct sdei *s)
{
	return (struct fake *)(void *)((char *)s - offsetof(struct fake, sdei));
}

/* Only event() runs under the SDEI lock: the others must find it free. */
static void assert_locked(struct sdei *s, bool locked)
{
	int r, want = locked ? EBUSY : 0;

	if (to_fake(s)->threaded)
		return;
	r = pthread_mutex_trylock(&s->lock);
	if (!r)
		pthread_mutex_unlock(&s->lock);
	ck_assert_int_eq(r, want);
}

static bool fake_valid_entry(struct sdei *s, u64 addr)
{
	assert_locked(s, false);
	return addr >= RAM_START && addr + 4 <= RAM_END;
}

static void fake_kick(struct sdei *s, unsigned int cpu)
{
	assert_locked(s, false);
	atomic_fetch_add(&to_fake(s)->kicks[cpu], 1);
}

static u64 fake_now(struct sdei *s)
{
	assert_locked(s, false);
	return atomic_load(&to_fake(s)->now);
}

static int event_slot(u32 num)
{
	unsigned int n;
	const struct sdei_event_desc *t = sdei__events(&n);

	for (unsigned int i = 0; i < n; i++) {
		if (t[i].num == num)
			return (int)i;
	}
	return -1;
}

static void fake_event(struct sdei *s, enum vm_event_type ev, unsigned int cpu, u32 event,
		       u64 duration)
{
	struct fake *f = to_fake(s);
	int slot = event_slot(event);

	assert_locked(s, true);
	f->events[ev]++;
	if (f->nr_log < ARRAY_SIZE(f->log))
		f->log[f->nr_log++] = (struct logged_event){ ev, cpu, event, duration };
	if (ev == VM_EV_SDEI_DISPATCH)
		f->dispatched[slot][cpu]++;
	else
		f->completed[slot][cpu]++;
}

static const struct sdei_ops fake_ops = {
	.valid_entry = fake_valid_entry, .kick = fake_kick, .now_ns = fake_now,
	.event = fake_event,
};

/* MPIDRs as KVM assigns them, with bit 31 set in MPIDR_EL1 but not in the affinity. */
static const u64 mpidrs[NR_CPUS] = { 0x80000000, 0x80000001, 0x80000002, 0x80000003 };
#define AFF(cpu) ((u64)(cpu))

static struct sdei *S = &fk.sdei;

static void setup(void)
{
	memset(&fk, 0, sizeof(fk));
	ck_assert_int_eq(sdei__init(S, &fake_ops, NR_CPUS, mpidrs, NULL), 0);
}

static void teardown(void)
{
	sdei__exit(S);
}

static u64 call5(unsigned int cpu, unsigned int fn, u64 a1, u64 a2, u64 a3, u64 a4, u64 a5)
{
	struct sdei_call c = { .fid = SDEI_FN(fn), .arg = { 0, a1, a2, a3, a4, a5 } };

	return sdei__call(S, cpu, &c) == SDEI_RETURN ? c.res[0] : NOCALL;
}

static u64 call(unsigned int cpu, unsigned int fn, u64 a1, u64 a2)
{
	return call5(cpu, fn, a1, a2, 0, 0, 0);
}

static u64 reg(unsigned int cpu, u32 ev, u64 flags, u64 aff)
{
	return call5(cpu, SDEI_NR_EVENT_REGISTER, ev, ENTRY, 0x1000 + ev, flags, aff);
}

/* Registers and enables ev on cpu (RM_ANY for a shared one). */
static void reg_enable(unsigned int cpu, u32 ev)
{
	ck_assert_uint_eq(reg(cpu, ev, SDEI_RM_ANY, 0), 0);
	ck_assert_uint_eq(call(cpu, SDEI_NR_EVENT_ENABLE, ev, 0), 0);
}

static u64 status(unsigned int cpu, u32 ev)
{
	return call(cpu, SDEI_NR_EVENT_STATUS, ev, 0);
}

/* A recognisable interrupted context. */
static struct sdei_context ctx_of(u64 seed)
{
	struct sdei_context c;

	for (int i = 0; i < SDEI_SAVED_REGS; i++)
		c.x[i] = seed * 100 + (u64)i;
	c.pc = RAM_START + (seed << 8);
	c.pstate = 0x3c5 + (seed << 28);
	return c;
}

/* Dispatches on cpu; returns the event or -1. */
static long dispatch(unsigned int cpu, u64 seed)
{
	struct sdei_context c = ctx_of(seed);
	struct sdei_dispatch d;

	if (!sdei__dispatch(S, cpu, &c, &d))
		return -1;
	ck_assert_uint_eq(d.entry, ENTRY);
	ck_assert_uint_eq(d.ep_arg, 0x1000 + d.event);
	ck_assert(d.critical == sdei__event(d.event)->critical);
	return d.event;
}

/* COMPLETE on cpu: checks that it restores the context of the dispatch with this seed. */
static void complete(unsigned int cpu, u64 seed)
{
	struct sdei_call c = { .fid = SDEI_FN(SDEI_NR_EVENT_COMPLETE) };
	struct sdei_context want = ctx_of(seed);

	ck_assert_int_eq(sdei__call(S, cpu, &c), SDEI_RESUME);
	ck_assert(!c.resume_at);
	ck_assert(!memcmp(&c.ctx, &want, sizeof(want)));
}

static bool work(unsigned int cpu)
{
	return sdei__may_dispatch(S, cpu);
}

static void unmask(unsigned int cpu)
{
	ck_assert_uint_eq(call(cpu, SDEI_NR_PE_UNMASK, 0, 0), 0);
}

static void cpu_on(unsigned int cpu)
{
	sdei__cpu_power(S, cpu, SDEI_PE_ON);
}

START_TEST(version_and_reserved)
{
	ck_assert_uint_eq(call(0, SDEI_NR_VERSION, 0, 0), 0x0001000100000000ULL);
	for (unsigned int fn = 0x13; fn <= 0x1f; fn++)
		ck_assert_uint_eq(call(0, fn, 0, 0), NOT_SUPPORTED);
	for (u32 fid = 0xC4000000; fid < 0xC4000020; fid++) {
		struct sdei_call c = { .fid = fid };

		sdei__call(S, 0, &c);
		ck_assert_uint_eq(c.res[0], NOT_SUPPORTED);
	}
	{
		/* SDEI has no SMC32 form. */
		struct sdei_call c = { .fid = 0x84000020 };

		sdei__call(S, 0, &c);
		ck_assert_uint_eq(c.res[0], NOT_SUPPORTED);
	}
}
END_TEST

START_TEST(events_and_names)
{
	unsigned int n;
	const struct sdei_event_desc *t = sdei__events(&n);

	ck_assert_uint_eq(n, 5);
	ck_assert_uint_eq(t[0].num, 0);
	ck_assert(t[0].signalable && !t[0].shared && !t[0].critical);
	ck_assert(!sdei__event(1000)->shared && sdei__event(1000)->critical);
	ck_assert(!sdei__event(1001)->shared && !sdei__event(1001)->critical);
	ck_assert(sdei__event(2000)->shared && !sdei__event(2000)->critical);
	ck_assert(sdei__event(2001)->shared && sdei__event(2001)->critical);
	for (unsigned int i = 1; i < n; i++)
		ck_assert(!t[i].signalable && t[i].num > t[i - 1].num);
	ck_assert_ptr_null(sdei__event(1));
	ck_assert_uint_eq(sdei__event_by_name("sw-signal")->num, 0);
	ck_assert_uint_eq(sdei__event_by_name("nmi")->num, 1000);
	ck_assert_uint_eq(sdei__event_by_name("cpu-notify")->num, 1001);
	ck_assert_uint_eq(sdei__event_by_name("notify")->num, 2000);
	ck_assert_uint_eq(sdei__event_by_name("alert")->num, 2001);
	ck_assert_uint_eq(sdei__event_by_name("2001")->num, 2001);
	ck_assert_uint_eq(sdei__event_by_name("0")->num, 0);
	ck_assert_ptr_null(sdei__event_by_name("7"));
	ck_assert_ptr_null(sdei__event_by_name(""));
	ck_assert_ptr_null(sdei__event_by_name("-1"));
	ck_assert_ptr_null(sdei__event_by_name("1000x"));
	ck_assert_ptr_null(sdei__event_by_name("4294968296"));	/* 2^32 + 1000 */
	ck_assert_ptr_null(sdei__event_by_name("NMI"));
	ck_assert_str_eq(sdei__fn_name(SDEI_FN(SDEI_NR_EVENT_COMPLETE_AND_RESUME)),
			 "SDEI_EVENT_COMPLETE_AND_RESUME");
	ck_assert_str_eq(sdei__fn_name(SDEI_FN(SDEI_NR_SHARED_RESET)), "SDEI_SHARED_RESET");
	ck_assert_str_eq(sdei__fn_name(SDEI_FN(0x13)), "unknown");
	ck_assert_str_eq(sdei__ret_name(SDEI_PENDING), "PENDING");
	ck_assert_str_eq(sdei__ret_name(SDEI_OUT_OF_RESOURCE), "OUT_OF_RESOURCE");
	ck_assert_ptr_null(sdei__ret_name(-4));
	ck_assert_ptr_null(sdei__ret_name(1));
}
END_TEST

START_TEST(nr_args)
{
	static const unsigned int want[] = { 0, 5, 1, 1, 1, 1, 1, 1, 1, 2, 3, 0, 0, 1, 1, 2, 1, 0, 0 };

	for (unsigned int fn = 0; fn < ARRAY_SIZE(want); fn++)
		ck_assert_uint_eq(sdei__nr_args(SDEI_FN(fn)), want[fn]);
	ck_assert_uint_eq(sdei__nr_args(SDEI_FN(0x13)), 0);
}
END_TEST

START_TEST(init_limits)
{
	struct sdei s;

	ck_assert_int_eq(sdei__init(&s, &fake_ops, 0, mpidrs, NULL), -EINVAL);
	ck_assert_int_eq(sdei__init(&s, &fake_ops, SDEI_MAX_CPUS + 1, mpidrs, NULL), -EINVAL);
}
END_TEST

START_TEST(register_errors)
{
	ck_assert_uint_eq(reg(0, 1, 0, 0), INVALID);			/* no such event */
	ck_assert_uint_eq(call5(0, SDEI_NR_EVENT_REGISTER, 1ULL << 32, ENTRY, 0, 0, 0), INVALID);
	ck_assert_uint_eq(call5(0, SDEI_NR_EVENT_REGISTER, 0, 0x1000, 0, 0, 0), INVALID);
	ck_assert_uint_eq(call5(0, SDEI_NR_EVENT_REGISTER, 0, RAM_END - 2, 0, 0, 0), INVALID);
	/* Reserved flag bits, relative mode: refused for every event. */
	ck_assert_uint_eq(reg(0, 0, 2, 0), INVALID);
	ck_assert_uint_eq(reg(0, 2000, 4, 0), INVALID);
	/* RM_PE: the affinity must be a PE that is on. */
	ck_assert_uint_eq(reg(0, 2000, SDEI_RM_PE, AFF(7)), INVALID);
	ck_assert_uint_eq(reg(0, 2000, SDEI_RM_PE, AFF(1)), INVALID);		/* off */
	ck_assert_uint_eq(reg(0, 2000, SDEI_RM_PE, 0x80000000), INVALID);	/* not affinity */
	ck_assert_uint_eq(status(0, 2000), 0);
	/* Private events ignore the routing. */
	ck_assert_uint_eq(reg(0, 1000, SDEI_RM_PE, AFF(7)), 0);
	ck_assert_uint_eq(reg(0, 1000, 0, 0), DENIED);
	ck_assert_uint_eq(reg(0, 2000, SDEI_RM_PE, AFF(0)), 0);
	ck_assert_uint_eq(reg(1, 2000, 0, 0), DENIED);		/* shared: one registration */
	ck_assert_uint_eq(reg(1, 1000, 0, 0), 0);		/* private: one per PE */
	ck_assert_uint_eq(status(0, 1000), SDEI_STATUS_REGISTERED);
	ck_assert_uint_eq(status(2, 1000), 0);
}
END_TEST

START_TEST(enable_disable_unregister)
{
	ck_assert_uint_eq(call(0, SDEI_NR_EVENT_ENABLE, 5, 0), INVALID);
	ck_assert_uint_eq(call(0, SDEI_NR_EVENT_DISABLE, 5, 0), INVALID);
	ck_assert_uint_eq(call(0, SDEI_NR_EVENT_UNREGISTER, 5, 0), INVALID);
	ck_assert_uint_eq(call(0, SDEI_NR_EVENT_STATUS, 5, 0), INVALID);
	ck_assert_uint_eq(call(0, SDEI_NR_EVENT_ENABLE, 0, 0), DENIED);
	ck_assert_uint_eq(call(0, SDEI_NR_EVENT_DISABLE, 0, 0), DENIED);
	ck_assert_uint_eq(call(0, SDEI_NR_EVENT_UNREGISTER, 0, 0), DENIED);
	ck_assert_uint_eq(reg(0, 0, 0, 0), 0);
	ck_assert_uint_eq(call(0, SDEI_NR_EVENT_DISABLE, 0, 0), 0);	/* already so */
	ck_assert_uint_eq(call(0, SDEI_NR_EVENT_ENABLE, 0, 0), 0);
	ck_assert_uint_eq(call(0, SDEI_NR_EVENT_ENABLE, 0, 0), 0);
	ck_assert_uint_eq(status(0, 0), SDEI_STATUS_REGISTERED | SDEI_STATUS_ENABLED);
	ck_assert_uint_eq(status(1, 0), 0);				/* private */
	ck_assert_uint_eq(call(1, SDEI_NR_EVENT_ENABLE, 0, 0), DENIED);
	ck_assert_uint_eq(call(0, SDEI_NR_EVENT_DISABLE, 0, 0), 0);
	ck_assert_uint_eq(status(0, 0), SDEI_STATUS_REGISTERED);
	ck_assert_uint_eq(call(0, SDEI_NR_EVENT_UNREGISTER, 0, 0), 0);
	ck_assert_uint_eq(status(0, 0), 0);
	ck_assert_uint_eq(call(0, SDEI_NR_EVENT_UNREGISTER, 0, 0), DENIED);
	/* Shared: any PE acts on the one instance. */
	reg_enable(1, 2000);
	ck_assert_uint_eq(status(3, 2000), SDEI_STATUS_REGISTERED | SDEI_STATUS_ENABLED);
	ck_assert_uint_eq(call(2, SDEI_NR_EVENT_UNREGISTER, 2000, 0), 0);
	ck_assert_uint_eq(status(1, 2000), 0);
}
END_TEST

START_TEST(get_info)
{
	u32 gi = SDEI_NR_EVENT_GET_INFO;

	ck_assert_uint_eq(call(0, gi, 3, SDEI_INFO_TYPE), INVALID);
	ck_assert_uint_eq(call(0, gi, 0, 5), INVALID);
	ck_assert_uint_eq(call(0, gi, 0, 1ULL << 32), INVALID);
	ck_assert_uint_eq(call(0, gi, 0, SDEI_INFO_TYPE), 0);
	ck_assert_uint_eq(call(0, gi, 2000, SDEI_INFO_TYPE), 1);
	ck_assert_uint_eq(call(0, gi, 0, SDEI_INFO_SIGNALED), 1);
	ck_assert_uint_eq(call(0, gi, 1000, SDEI_INFO_SIGNALED), 0);
	ck_assert_uint_eq(call(0, gi, 1000, SDEI_INFO_PRIORITY), 1);
	ck_assert_uint_eq(call(0, gi, 1001, SDEI_INFO_PRIORITY), 0);
	ck_assert_uint_eq(call(0, gi, 2001, SDEI_INFO_PRIORITY), 1);
	/* Routing: shared events only, once registered; the affinity with RM_PE only. */
	ck_assert_uint_eq(call(0, gi, 0, SDEI_INFO_ROUTING_MODE), INVALID);
	ck_assert_uint_eq(call(0, gi, 1000, SDEI_INFO_ROUTING_AFF), INVALID);
	ck_assert_uint_eq(call(0, gi, 2000, SDEI_INFO_ROUTING_MODE), DENIED);
	ck_assert_uint_eq(call(0, gi, 2000, SDEI_INFO_ROUTING_AFF), DENIED);
	ck_assert_uint_eq(reg(0, 2000, SDEI_RM_ANY, 0), 0);
	ck_assert_uint_eq(call(0, gi, 2000, SDEI_INFO_ROUTING_MODE), SDEI_RM_ANY);
	ck_assert_uint_eq(call(0, gi, 2000, SDEI_INFO_ROUTING_AFF), INVALID);
	cpu_on(2);
	ck_assert_uint_eq(reg(0, 2001, SDEI_RM_PE, AFF(2)), 0);
	ck_assert_uint_eq(call(1, gi, 2001, SDEI_INFO_ROUTING_MODE), SDEI_RM_PE);
	ck_assert_uint_eq(call(1, gi, 2001, SDEI_INFO_ROUTING_AFF), AFF(2));
}
END_TEST

START_TEST(routing_set)
{
	u32 rs = SDEI_NR_EVENT_ROUTING_SET;
	struct sdei_event_state st;

	cpu_on(1);
	ck_assert_uint_eq(call5(0, rs, 5, 0, 0, 0, 0), INVALID);
	ck_assert_uint_eq(call5(0, rs, 1000, 0, 0, 0, 0), INVALID);		/* private */
	ck_assert_uint_eq(call5(0, rs, 2000, SDEI_RM_ANY, 0, 0, 0), DENIED);	/* unregistered */
	ck_assert_uint_eq(reg(0, 2000, SDEI_RM_ANY, 0), 0);
	ck_assert_uint_eq(call5(0, rs, 2000, 2, 0, 0, 0), INVALID);
	ck_assert_uint_eq(call5(0, rs, 2000, SDEI_RM_PE, AFF(2), 0, 0), INVALID);	/* off */
	ck_assert_uint_eq(call5(0, rs, 2000, SDEI_RM_PE, AFF(9), 0, 0), INVALID);
	ck_assert_uint_eq(call5(0, rs, 2000, SDEI_RM_PE, AFF(1), 0, 0), 0);
	ck_assert(sdei__event_state(S, 2000, 0, &st));
	ck_assert_uint_eq(st.route_mode, SDEI_RM_PE);
	ck_assert_uint_eq(st.route_affinity, AFF(1));
	ck_assert_uint_eq(call5(0, rs, 2000, SDEI_RM_ANY, 0x1234, 0, 0), 0);
	ck_assert(sdei__event_state(S, 2000, 0, &st));
	ck_assert_uint_eq(st.route_mode, SDEI_RM_ANY);
	ck_assert_uint_eq(st.route_affinity, 0);
	/* Enabled, or running: DENIED. */
	ck_assert_uint_eq(call(0, SDEI_NR_EVENT_ENABLE, 2000, 0), 0);
	ck_assert_uint_eq(call5(0, rs, 2000, SDEI_RM_ANY, 0, 0, 0), DENIED);
	unmask(0);
	ck_assert_int_eq(sdei__signal(S, 2000, -1), 0);
	ck_assert_int_eq(dispatch(0, 1), 2000);
	ck_assert_uint_eq(call(0, SDEI_NR_EVENT_DISABLE, 2000, 0), 0);
	ck_assert_uint_eq(call5(0, rs, 2000, SDEI_RM_ANY, 0, 0, 0), DENIED);
	complete(0, 1);
	ck_assert_uint_eq(call5(0, rs, 2000, SDEI_RM_PE, AFF(0), 0, 0), 0);
}
END_TEST

START_TEST(mask_unmask)
{
	reg_enable(0, 0);
	ck_assert(sdei__cpu_masked(S, 0));
	/* PE_MASK: 0 if masked already, 1 if it masked the PE. */
	ck_assert_uint_eq(call(0, SDEI_NR_PE_MASK, 0, 0), 0);
	ck_assert_uint_eq(call(0, SDEI_NR_EVENT_SIGNAL, 0, AFF(0)), 0);
	ck_assert(!work(0));
	ck_assert_int_eq(dispatch(0, 1), -1);		/* masked: stays pending */
	unmask(0);
	ck_assert(!sdei__cpu_masked(S, 0));
	ck_assert(work(0));				/* its own call: no kick */
	ck_assert_int_eq(fk.kicks[0], 0);
	ck_assert_uint_eq(call(0, SDEI_NR_PE_MASK, 0, 0), 1);
	ck_assert_uint_eq(call(0, SDEI_NR_PE_MASK, 0, 0), 0);
	ck_assert_int_eq(dispatch(0, 1), -1);
	ck_assert(!work(0));
	unmask(0);
	unmask(0);
	ck_assert_int_eq(dispatch(0, 2), 0);
	/* Masking inside a handler does not end it. */
	ck_assert_uint_eq(call(0, SDEI_NR_PE_MASK, 0, 0), 1);
	ck_assert_uint_eq(status(0, 0), SDEI_STATUS_REGISTERED | SDEI_STATUS_ENABLED |
			  SDEI_STATUS_RUNNING);
	complete(0, 2);
}
END_TEST

START_TEST(dispatch_context_complete)
{
	struct sdei_event_state st;

	reg_enable(0, 0);
	unmask(0);
	ck_assert_uint_eq(call(0, SDEI_NR_EVENT_CONTEXT, 0, 0), DENIED);
	ck_assert_uint_eq(call(0, SDEI_NR_EVENT_COMPLETE, 0, 0), DENIED);
	ck_assert_uint_eq(call(0, SDEI_NR_EVENT_COMPLETE_AND_RESUME, RESUME, 0), DENIED);
	ck_assert_int_eq(dispatch(0, 1), -1);		/* nothing pending */
	ck_assert_uint_eq(call(0, SDEI_NR_EVENT_SIGNAL, 0, AFF(0)), 0);
	ck_assert(sdei__event_state(S, 0, 0, &st));
	ck_assert(st.pending && !st.running);
	atomic_store(&fk.now, 1000);
	ck_assert_int_eq(dispatch(0, 7), 0);
	ck_assert(!work(0));
	ck_assert(sdei__event_state(S, 0, 0, &st));
	ck_assert(!st.pending && st.running);
	ck_assert_uint_eq(st.entry, ENTRY);
	ck_assert_uint_eq(status(0, 0), 7);
	for (unsigned int n = 0; n < SDEI_SAVED_REGS; n++)
		ck_assert_uint_eq(call(0, SDEI_NR_EVENT_CONTEXT, n, 0), 700 + n);
	ck_assert_uint_eq(call(0, SDEI_NR_EVENT_CONTEXT, 18, 0), INVALID);
	ck_assert_uint_eq(call(1, SDEI_NR_EVENT_CONTEXT, 0, 0), DENIED);	/* another PE */
	ck_assert_uint_eq(call(1, SDEI_NR_EVENT_COMPLETE, 0, 0), DENIED);
	/* Signalled again while running: pending, delivered after COMPLETE. */
	ck_assert_uint_eq(call(0, SDEI_NR_EVENT_SIGNAL, 0, AFF(0)), 0);
	ck_assert_int_eq(dispatch(0, 8), -1);
	atomic_store(&fk.now, 1500);
	complete(0, 7);
	ck_assert(work(0));
	ck_assert_int_eq(fk.events[VM_EV_SDEI_DISPATCH], 1);
	ck_assert_int_eq(fk.events[VM_EV_SDEI_COMPLETE], 1);
	ck_assert_int_eq(fk.log[1].ev, VM_EV_SDEI_COMPLETE);
	ck_assert_uint_eq(fk.log[1].duration, 500);
	ck_assert_uint_eq(fk.log[1].event, 0);
	ck_assert_uint_eq(status(0, 0), 3);
	ck_assert_int_eq(dispatch(0, 9), 0);
	complete(0, 9);
	ck_assert_int_eq(dispatch(0, 9), -1);
	ck_assert(!work(0));
}
END_TEST

START_TEST(complete_and_resume)
{
	struct sdei_context want = ctx_of(3);
	struct sdei_call c = { .fid = SDEI_FN(SDEI_NR_EVENT_COMPLETE_AND_RESUME),
			       .arg = { 0, 0x1000 } };

	reg_enable(0, 1001);
	unmask(0);
	ck_assert_int_eq(sdei__signal(S, 1001, 0), 0);
	ck_assert_int_eq(dispatch(0, 3), 1001);
	/* An address outside guest RAM: DENIED, the handler goes on. */
	ck_assert_int_eq(sdei__call(S, 0, &c), SDEI_RETURN);
	ck_assert_uint_eq(c.res[0], DENIED);
	ck_assert_uint_eq(status(0, 1001), 7);
	c.arg[1] = RESUME;
	ck_assert_int_eq(sdei__call(S, 0, &c), SDEI_RESUME);
	ck_assert(c.resume_at);
	ck_assert_uint_eq(c.resume_addr, RESUME);
	ck_assert(!memcmp(&c.ctx, &want, sizeof(want)));
	ck_assert_uint_eq(status(0, 1001), 3);
	ck_assert_int_eq(fk.events[VM_EV_SDEI_COMPLETE], 1);
}
END_TEST

START_TEST(unregister_while_running)
{
	struct sdei_event_state st;

	reg_enable(0, 1000);
	unmask(0);
	ck_assert_int_eq(sdei__signal(S, 1000, 0), 0);
	ck_assert_int_eq(dispatch(0, 1), 1000);
	ck_assert_int_eq(sdei__signal(S, 1000, 0), 0);	/* pending again */
	ck_assert_uint_eq(call(0, SDEI_NR_EVENT_UNREGISTER, 1000, 0), PENDING);
	ck_assert_uint_eq(status(0, 1000), SDEI_STATUS_RUNNING);
	ck_assert(sdei__event_state(S, 1000, 0, &st));
	ck_assert(st.unregister_pending && !st.registered && !st.pending);
	ck_assert_uint_eq(call(0, SDEI_NR_EVENT_UNREGISTER, 1000, 0), PENDING);
	ck_assert_uint_eq(reg(0, 1000, 0, 0), DENIED);
	ck_assert_uint_eq(call(0, SDEI_NR_EVENT_ENABLE, 1000, 0), DENIED);
	ck_assert_uint_eq(call(0, SDEI_NR_EVENT_DISABLE, 1000, 0), DENIED);
	ck_assert_int_eq(sdei__signal(S, 1000, 0), -ENOENT);
	/* EVENT_CONTEXT still works inside the handler. */
	ck_assert_uint_eq(call(0, SDEI_NR_EVENT_CONTEXT, 2, 0), 102);
	complete(0, 1);
	ck_assert_uint_eq(status(0, 1000), 0);
	ck_assert(sdei__event_state(S, 1000, 0, &st));
	ck_assert(!st.unregister_pending && !st.running);
	ck_assert_int_eq(dispatch(0, 2), -1);
	ck_assert_uint_eq(reg(0, 1000, 0, 0), 0);
}
END_TEST

/* A critical event preempts a normal handler; nothing preempts a critical one. */
START_TEST(critical_preempts_normal)
{
	reg_enable(0, 0);
	reg_enable(0, 1000);
	reg_enable(0, 1001);
	reg_enable(0, 2001);
	unmask(0);
	ck_assert_uint_eq(call(0, SDEI_NR_EVENT_SIGNAL, 0, AFF(0)), 0);
	ck_assert_int_eq(dispatch(0, 1), 0);
	ck_assert_int_eq(sdei__signal(S, 1001, 0), 0);
	ck_assert_int_eq(dispatch(0, 2), -1);			/* normal waits */
	ck_assert_int_eq(sdei__signal(S, 1000, 0), 0);
	ck_assert(work(0));
	ck_assert_int_eq(dispatch(0, 3), 1000);			/* critical preempts */
	ck_assert_uint_eq(call(0, SDEI_NR_EVENT_CONTEXT, 0, 0), 300);	/* innermost */
	ck_assert_int_eq(sdei__signal(S, 2001, -1), 0);
	ck_assert_int_eq(dispatch(0, 4), -1);			/* critical over critical: no */
	complete(0, 3);
	ck_assert_uint_eq(call(0, SDEI_NR_EVENT_CONTEXT, 0, 0), 100);
	ck_assert_int_eq(dispatch(0, 5), 2001);			/* still above the normal one */
	complete(0, 5);
	ck_assert_int_eq(dispatch(0, 6), -1);
	complete(0, 1);
	ck_assert_int_eq(dispatch(0, 7), 1001);
	complete(0, 7);
	ck_assert_int_eq(dispatch(0, 8), -1);
	ck_assert_int_eq(fk.events[VM_EV_SDEI_DISPATCH], 4);
	ck_assert_int_eq(fk.events[VM_EV_SDEI_COMPLETE], 4);
}
END_TEST

/* With several pending, the critical one goes first, then by number. */
START_TEST(dispatch_order)
{
	reg_enable(0, 0);
	reg_enable(0, 1000);
	reg_enable(0, 1001);
	reg_enable(0, 2000);
	unmask(0);
	ck_assert_int_eq(sdei__signal(S, 2000, -1), 0);
	ck_assert_int_eq(sdei__signal(S, 1001, 0), 0);
	ck_assert_uint_eq(call(0, SDEI_NR_EVENT_SIGNAL, 0, AFF(0)), 0);
	ck_assert_int_eq(sdei__signal(S, 1000, 0), 0);
	ck_assert_int_eq(dispatch(0, 1), 1000);
	complete(0, 1);
	ck_assert_int_eq(dispatch(0, 2), 0);
	complete(0, 2);
	ck_assert_int_eq(dispatch(0, 3), 1001);
	complete(0, 3);
	ck_assert_int_eq(dispatch(0, 4), 2000);
	complete(0, 4);
}
END_TEST

START_TEST(pending_while_disabled)
{
	ck_assert_uint_eq(reg(0, 0, 0, 0), 0);
	unmask(0);
	ck_assert_uint_eq(call(0, SDEI_NR_EVENT_SIGNAL, 0, AFF(0)), 0);
	ck_assert_int_eq(dispatch(0, 1), -1);
	ck_assert_uint_eq(call(0, SDEI_NR_EVENT_ENABLE, 0, 0), 0);
	ck_assert(work(0));
	ck_assert_int_eq(dispatch(0, 1), 0);
	complete(0, 1);
	/* UNREGISTER drops a pending signal. */
	ck_assert_uint_eq(call(0, SDEI_NR_EVENT_DISABLE, 0, 0), 0);
	ck_assert_uint_eq(call(0, SDEI_NR_EVENT_SIGNAL, 0, AFF(0)), 0);
	ck_assert_uint_eq(call(0, SDEI_NR_EVENT_UNREGISTER, 0, 0), 0);
	reg_enable(0, 0);
	ck_assert_int_eq(dispatch(0, 2), -1);
}
END_TEST

START_TEST(event_signal)
{
	u32 sig = SDEI_NR_EVENT_SIGNAL;

	cpu_on(1);
	ck_assert_uint_eq(call(0, sig, 1000, AFF(1)), INVALID);	/* event 0 only */
	ck_assert_uint_eq(call(0, sig, 2000, AFF(1)), INVALID);
	ck_assert_uint_eq(call(0, sig, 0, AFF(9)), INVALID);
	ck_assert_uint_eq(call(0, sig, 0, 0x80000001), INVALID);
	/* Not registered there, or an off PE: dropped. */
	ck_assert_uint_eq(call(0, sig, 0, AFF(1)), 0);
	ck_assert_uint_eq(call(0, sig, 0, AFF(2)), 0);
	reg_enable(1, 0);
	unmask(1);
	ck_assert_int_eq(dispatch(1, 1), -1);
	ck_assert_int_eq(fk.kicks[1], 0);
	/* To another PE: its flag and a kick. */
	ck_assert(!work(1));
	ck_assert_uint_eq(call(0, sig, 0, AFF(1)), 0);
	ck_assert(work(1));
	ck_assert_int_eq(fk.kicks[1], 1);
	/* Again before it dispatched: its flag is set, no second kick. */
	ck_assert_uint_eq(call(2, sig, 0, AFF(1)), 0);
	ck_assert_int_eq(fk.kicks[1], 1);
	ck_assert_int_eq(dispatch(1, 1), 0);
	ck_assert(!work(1));
	complete(1, 1);
	ck_assert_int_eq(dispatch(1, 1), -1);	/* the two signals coalesced */
	/* To itself: its own flag, no kick. */
	ck_assert_uint_eq(call(1, sig, 0, AFF(1)), 0);
	ck_assert(work(1));
	ck_assert_int_eq(fk.kicks[1], 1);
	ck_assert_int_eq(dispatch(1, 2), 0);
	complete(1, 2);
	/* To an absent PE: INVALID_PARAMETERS. */
	sdei__cpu_power(S, 3, SDEI_PE_ABSENT);
	ck_assert_uint_eq(call(0, sig, 0, AFF(3)), INVALID);
	for (int i = 0; i < NR_CPUS; i++)
		ck_assert_int_eq(fk.kicks[i], i == 1);
}
END_TEST

START_TEST(host_signal_errors)
{
	cpu_on(1);
	ck_assert_int_eq(sdei__signal(S, 5, 0), -EINVAL);
	ck_assert_int_eq(sdei__signal(S, 1000, NR_CPUS), -EINVAL);
	ck_assert_int_eq(sdei__signal(S, 1000, -1), -EINVAL);	/* private: which PE? */
	ck_assert_int_eq(sdei__signal(S, 1000, 2), -ENODEV);	/* off */
	ck_assert_int_eq(sdei__signal(S, 1000, 1), -ENOENT);
	ck_assert_int_eq(sdei__signal(S, 2000, -1), -ENOENT);
	ck_assert_int_eq(sdei__signal(S, 2000, 1), -ENOENT);
	ck_assert_uint_eq(reg(0, 2000, SDEI_RM_PE, AFF(1)), 0);
	ck_assert_int_eq(sdei__signal(S, 2000, 1), -EINVAL);	/* routed already */
	ck_assert_int_eq(sdei__signal(S, 2000, -1), 0);
	ck_assert_uint_eq(reg(0, 2001, SDEI_RM_ANY, 0), 0);
	ck_assert_int_eq(sdei__signal(S, 2001, 3), -ENODEV);
	sdei__cpu_power(S, 3, SDEI_PE_ABSENT);
	ck_assert_int_eq(sdei__signal(S, 2001, 3), -ENODEV);
	ck_assert_int_eq(sdei__signal(S, 1000, 3), -ENODEV);
	/* The RM_PE target goes off: the routing stays, the host's signals are refused. */
	sdei__cpu_power(S, 1, SDEI_PE_OFF);
	ck_assert_int_eq(sdei__signal(S, 2000, -1), -ENODEV);
	reg_enable(0, 1000);
	ck_assert_int_eq(sdei__signal(S, 1000, 0), 0);
	ck_assert_int_eq(fk.kicks[0], 0);	/* masked: nothing deliverable, no kick */
}
END_TEST

/* RM_ANY goes to one PE that can take it, or waits for one. */
START_TEST(routing_rm_any)
{
	struct sdei_event_state st;
	int kicked = -1, total = 0;

	for (unsigned int i = 1; i < NR_CPUS; i++)
		cpu_on(i);
	reg_enable(0, 2000);
	ck_assert_int_eq(sdei__signal(S, 2000, -1), 0);
	for (unsigned int i = 0; i < NR_CPUS; i++)
		ck_assert(!work(i));		/* every PE masked */
	unmask(2);				/* its own call: it takes it */
	ck_assert(work(2));
	ck_assert_int_eq(fk.kicks[2], 0);
	unmask(1);
	unmask(3);
	ck_assert(!work(1) && !work(3));
	/* PE 2 masks again before dispatching: the event goes to another PE, kicked. */
	ck_assert_uint_eq(call(2, SDEI_NR_PE_MASK, 0, 0), 1);
	for (unsigned int i = 0; i < NR_CPUS; i++) {
		total += fk.kicks[i];
		if (fk.kicks[i])
			kicked = (int)i;
	}
	ck_assert_int_eq(total, 1);
	ck_assert(kicked == 1 || kicked == 3);
	ck_assert(work((unsigned int)kicked));
	ck_assert_int_eq(dispatch(2, 1), -1);
	ck_assert(!work(2));
	/* Whoever comes first takes it; it runs on exactly one PE. */
	ck_assert_int_eq(dispatch(3, 1), 2000);
	ck_assert(sdei__event_state(S, 2000, 0, &st));
	ck_assert(st.running && st.running_cpu == 3);
	ck_assert_int_eq(sdei__signal(S, 2000, -1), 0);
	ck_assert_int_eq(dispatch(1, 2), -1);		/* running on PE 3 */
	complete(3, 1);
	ck_assert(sdei__event_state(S, 2000, 0, &st));
	ck_assert(!st.running && st.running_cpu == -1 && st.pending && !st.pending_cpu_valid);
	ck_assert_int_eq(dispatch(1, 2), 2000);
	complete(1, 2);
	/* The host chooses PE 1: it waits for PE 1 even though PE 3 could take it. */
	ck_assert_uint_eq(call(1, SDEI_NR_PE_MASK, 0, 0), 1);
	ck_assert_int_eq(sdei__signal(S, 2000, 1), 0);
	ck_assert(sdei__event_state(S, 2000, 0, &st));
	ck_assert(st.pending_cpu_valid && st.pending_cpu == 1);
	ck_assert_int_eq(dispatch(3, 3), -1);
	unmask(1);
	ck_assert_int_eq(dispatch(1, 3), 2000);
	complete(1, 3);
	/* The chosen PE goes off: any PE may take it. */
	ck_assert_uint_eq(call(1, SDEI_NR_PE_MASK, 0, 0), 1);
	ck_assert_int_eq(sdei__signal(S, 2000, 1), 0);
	sdei__cpu_power(S, 1, SDEI_PE_OFF);
	ck_assert(work(3));
	ck_assert_int_eq(dispatch(3, 4), 2000);
	complete(3, 4);
}
END_TEST

/* An RM_ANY event offered to a PE that then enters another handler goes to another PE. */
START_TEST(rm_any_reoffered_after_dispatch)
{
	cpu_on(1);
	cpu_on(2);
	unmask(1);
	unmask(2);
	reg_enable(1, 1001);
	reg_enable(0, 2000);
	ck_assert_int_eq(sdei__signal(S, 1001, 1), 0);
	ck_assert_int_eq(sdei__signal(S, 2000, -1), 0);
	ck_assert(work(1) && !work(2));			/* offered where a dispatch is coming */
	ck_assert_int_eq(fk.kicks[1], 1);
	ck_assert_int_eq(fk.kicks[2], 0);
	ck_assert_int_eq(dispatch(1, 1), 1001);		/* PE 1 is busy now */
	ck_assert(work(2));
	ck_assert_int_eq(fk.kicks[2], 1);
	ck_assert_int_eq(dispatch(2, 2), 2000);
	complete(2, 2);
	complete(1, 1);
	ck_assert_int_eq(dispatch(1, 3), -1);
}
END_TEST

START_TEST(routing_rm_pe)
{
	cpu_on(1);
	cpu_on(2);
	unmask(0);
	unmask(1);
	unmask(2);
	ck_assert_uint_eq(reg(0, 2001, SDEI_RM_PE, AFF(2)), 0);
	ck_assert_uint_eq(call(0, SDEI_NR_EVENT_ENABLE, 2001, 0), 0);
	ck_assert_int_eq(sdei__signal(S, 2001, -1), 0);
	ck_assert(work(2) && !work(0) && !work(1));
	ck_assert_int_eq(fk.kicks[2], 1);
	ck_assert_int_eq(dispatch(0, 1), -1);
	ck_assert_int_eq(dispatch(1, 1), -1);
	ck_assert_int_eq(dispatch(2, 1), 2001);
	complete(2, 1);
	/* Re-routed (disabled first): now PE 1's. */
	ck_assert_uint_eq(call(0, SDEI_NR_EVENT_DISABLE, 2001, 0), 0);
	ck_assert_int_eq(sdei__signal(S, 2001, -1), 0);
	ck_assert_uint_eq(call5(0, SDEI_NR_EVENT_ROUTING_SET, 2001, SDEI_RM_PE, AFF(1), 0, 0), 0);
	ck_assert_uint_eq(call(0, SDEI_NR_EVENT_ENABLE, 2001, 0), 0);
	ck_assert(work(1));
	ck_assert_int_eq(dispatch(2, 2), -1);
	ck_assert_int_eq(dispatch(1, 2), 2001);
	complete(1, 2);
}
END_TEST

/* CPU_OFF while handlers run: they end (with COMPLETE events), private state goes. */
START_TEST(cpu_off_while_running)
{
	struct sdei_event_state st;

	cpu_on(1);
	reg_enable(1, 0);
	reg_enable(1, 1000);
	reg_enable(1, 1001);
	ck_assert_uint_eq(reg(0, 2000, SDEI_RM_PE, AFF(1)), 0);
	ck_assert_uint_eq(call(0, SDEI_NR_EVENT_ENABLE, 2000, 0), 0);
	unmask(1);
	ck_assert_int_eq(sdei__signal(S, 2000, -1), 0);
	ck_assert_int_eq(dispatch(1, 1), 2000);
	ck_assert_uint_eq(call(0, SDEI_NR_EVENT_UNREGISTER, 2000, 0), PENDING);
	ck_assert_int_eq(sdei__signal(S, 1000, 1), 0);
	ck_assert_int_eq(dispatch(1, 2), 1000);
	ck_assert_int_eq(sdei__signal(S, 1001, 1), 0);		/* pending private */
	atomic_store(&fk.now, 50);
	sdei__cpu_power(S, 1, SDEI_PE_OFF);
	ck_assert_int_eq(fk.events[VM_EV_SDEI_COMPLETE], 2);
	ck_assert_uint_eq(fk.log[2].event, 1000);		/* innermost first */
	ck_assert_uint_eq(fk.log[3].event, 2000);
	ck_assert_uint_eq(fk.log[3].duration, 50);
	ck_assert(sdei__cpu_masked(S, 1));
	ck_assert(sdei__event_state(S, 2000, 0, &st));
	ck_assert(!st.running && !st.registered && !st.unregister_pending && st.running_cpu == -1);
	ck_assert(st.route_mode == SDEI_RM_ANY && !st.route_affinity);	/* routing gone too */
	for (u32 ev = 0; ev < 1002; ev = ev ? ev + 1 : 1000) {
		ck_assert(sdei__event_state(S, ev, 1, &st));
		ck_assert(!st.registered && !st.running && !st.pending);
	}
	ck_assert_uint_eq(call(1, SDEI_NR_EVENT_COMPLETE, 0, 0), DENIED);
	/* On again: masked, nothing registered, nothing running. */
	cpu_on(1);
	ck_assert(sdei__cpu_masked(S, 1));
	ck_assert_uint_eq(status(1, 1001), 0);
	unmask(1);
	ck_assert_int_eq(dispatch(1, 3), -1);
}
END_TEST

START_TEST(cpu_absent_present)
{
	bool present[NR_CPUS] = { true, true, false, true };
	struct sdei s;

	ck_assert_int_eq(sdei__init(&s, &fake_ops, NR_CPUS, mpidrs, present), 0);
	sdei__exit(&s);
	sdei__cpu_power(S, 2, SDEI_PE_ABSENT);
	ck_assert_uint_eq(reg(0, 2000, SDEI_RM_PE, AFF(2)), INVALID);
	ck_assert_uint_eq(call(0, SDEI_NR_EVENT_SIGNAL, 0, AFF(2)), INVALID);
	sdei__cpu_power(S, 2, SDEI_PE_PRESENT);
	ck_assert_uint_eq(call(0, SDEI_NR_EVENT_SIGNAL, 0, AFF(2)), 0);	/* off: dropped */
	ck_assert_uint_eq(reg(0, 2000, SDEI_RM_PE, AFF(2)), INVALID);		/* off */
	sdei__cpu_power(S, 2, SDEI_PE_ON);
	ck_assert_uint_eq(reg(0, 2000, SDEI_RM_PE, AFF(2)), 0);
	/* PRESENT on a PE that is on changes nothing. */
	sdei__cpu_power(S, 2, SDEI_PE_PRESENT);
	ck_assert_int_eq(sdei__signal(S, 2000, -1), 0);
	sdei__cpu_power(S, 2, SDEI_PE_ABSENT);
	sdei__reset(S);
	/* Absent PEs stay absent across a reset. */
	ck_assert_uint_eq(call(0, SDEI_NR_EVENT_SIGNAL, 0, AFF(2)), INVALID);
	ck_assert_uint_eq(call(0, SDEI_NR_EVENT_SIGNAL, 0, AFF(1)), 0);
}
END_TEST

START_TEST(system_reset)
{
	cpu_on(1);
	reg_enable(0, 0);
	reg_enable(1, 1000);
	reg_enable(0, 2000);
	unmask(0);
	unmask(1);
	ck_assert_int_eq(sdei__signal(S, 1000, 1), 0);
	ck_assert_int_eq(dispatch(1, 1), 1000);
	ck_assert_uint_eq(call(0, SDEI_NR_EVENT_SIGNAL, 0, AFF(0)), 0);
	sdei__reset(S);
	for (unsigned int i = 0; i < NR_CPUS; i++) {
		ck_assert(sdei__cpu_masked(S, i));
		ck_assert(!work(i));
	}
	ck_assert_uint_eq(status(0, 0), 0);
	ck_assert_uint_eq(status(1, 1000), 0);
	ck_assert_uint_eq(status(0, 2000), 0);
	ck_assert_uint_eq(call(1, SDEI_NR_EVENT_CONTEXT, 0, 0), DENIED);
	ck_assert_int_eq(sdei__signal(S, 1000, 1), -ENODEV);		/* off after reset */
	ck_assert_int_eq(fk.events[VM_EV_SDEI_COMPLETE], 0);
	reg_enable(0, 0);
	unmask(0);
	ck_assert_int_eq(dispatch(0, 1), -1);		/* the pending signal went too */
}
END_TEST

START_TEST(private_shared_reset)
{
	cpu_on(1);
	reg_enable(0, 0);
	reg_enable(0, 1001);
	reg_enable(1, 1000);
	reg_enable(0, 2000);
	ck_assert_uint_eq(reg(0, 2001, 0, 0), 0);
	unmask(0);
	ck_assert_int_eq(sdei__signal(S, 1001, 0), 0);
	ck_assert_int_eq(dispatch(0, 1), 1001);
	/* PRIVATE_RESET: the caller's private events only; a running one is left pending. */
	ck_assert_uint_eq(call(0, SDEI_NR_PRIVATE_RESET, 0, 0), DENIED);
	ck_assert_uint_eq(status(0, 0), 0);
	ck_assert_uint_eq(status(0, 1001), SDEI_STATUS_RUNNING);
	ck_assert_uint_eq(status(1, 1000), 3);
	ck_assert_uint_eq(status(0, 2000), 3);
	complete(0, 1);
	ck_assert_uint_eq(status(0, 1001), 0);
	ck_assert_uint_eq(call(0, SDEI_NR_PRIVATE_RESET, 0, 0), 0);
	ck_assert_uint_eq(call(1, SDEI_NR_PRIVATE_RESET, 0, 0), 0);
	ck_assert_uint_eq(status(1, 1000), 0);
	/* SHARED_RESET: every shared event, whoever calls; routing back to RM_ANY. */
	ck_assert_int_eq(sdei__signal(S, 2000, 0), 0);
	ck_assert_int_eq(dispatch(0, 2), 2000);
	ck_assert_uint_eq(call(1, SDEI_NR_SHARED_RESET, 0, 0), DENIED);
	ck_assert_uint_eq(status(0, 2000), SDEI_STATUS_RUNNING);
	ck_assert_uint_eq(status(0, 2001), 0);
	complete(0, 2);
	ck_assert_uint_eq(call(1, SDEI_NR_SHARED_RESET, 0, 0), 0);
	ck_assert_uint_eq(status(0, 2000), 0);
	ck_assert_uint_eq(call(0, SDEI_NR_EVENT_GET_INFO, 2000, SDEI_INFO_ROUTING_MODE), DENIED);
}
END_TEST

START_TEST(bind_release_features)
{
	u32 bind = SDEI_NR_INTERRUPT_BIND, rel = SDEI_NR_INTERRUPT_RELEASE;

	ck_assert_uint_eq(call(0, SDEI_NR_FEATURES, 0, 0), 0);	/* no bind slots */
	ck_assert_uint_eq(call(0, SDEI_NR_FEATURES, 1, 0), 0);	/* no relative mode */
	ck_assert_uint_eq(call(0, SDEI_NR_FEATURES, 2, 0), INVALID);
	ck_assert_uint_eq(call(0, SDEI_NR_FEATURES, 1ULL << 32, 0), INVALID);
	ck_assert_uint_eq(call(0, bind, 0, 0), INVALID);	/* SGIs */
	ck_assert_uint_eq(call(0, bind, 15, 0), INVALID);
	ck_assert_uint_eq(call(0, bind, 16, 0), OUT_OF_RESOURCE);
	ck_assert_uint_eq(call(0, bind, 33, 0), OUT_OF_RESOURCE);
	ck_assert_uint_eq(call(0, bind, 1019, 0), OUT_OF_RESOURCE);
	ck_assert_uint_eq(call(0, bind, 1020, 0), INVALID);
	ck_assert_uint_eq(call(0, bind, 8192, 0), INVALID);
	ck_assert_uint_eq(call(0, bind, 1ULL << 32 | 33, 0), INVALID);
	/* No event is a bound one. */
	for (u32 ev = 0; ev < 2002; ev = ev < 1000 ? 1000 : ev == 1001 ? 2000 : ev + 1)
		ck_assert_uint_eq(call(0, rel, ev, 0), INVALID);
	ck_assert_uint_eq(call(0, rel, 7, 0), INVALID);
}
END_TEST

START_TEST(snapshot_unknown)
{
	struct sdei_event_state st;

	ck_assert(!sdei__event_state(S, 3, 0, &st));
	ck_assert(!sdei__event_state(S, 0, NR_CPUS, &st));
}
END_TEST

/*
 * Concurrency: each vCPU thread registers, enables and unmasks, then loops: dispatches and
 * completes what it is given, and signals event 0 to its neighbour, waiting for that delivery
 * before the next. The host thread signals the NMI to each PE and the shared events in turn,
 * each time waiting until it was delivered. Every delivery is counted exactly once.
 */
#define ROUNDS 150
#define HOST_ROUNDS 150

static pthread_barrier_t registered;		/* every vCPU registered; the host too */
static atomic_int finished;			/* threads done signalling */
static atomic_long delivered[5][NR_CPUS];	/* by the vCPU threads, at dispatch */

static void vcpu_serve(unsigned int cpu, u64 *seed)
{
	struct sdei_context c;
	struct sdei_dispatch d;
	u64 stack[2];
	int depth = 0;

	while (sdei__may_dispatch(S, cpu) || depth) {
		c = ctx_of(++*seed);
		if (sdei__may_dispatch(S, cpu) && sdei__dispatch(S, cpu, &c, &d)) {
			ck_assert_int_lt(depth, 2);
			stack[depth++] = *seed;
			atomic_fetch_add(&delivered[event_slot(d.event)][cpu], 1);
			continue;
		}
		if (depth)
			complete(cpu, stack[--depth]);
	}
}

static void *vcpu_thread(void *arg)
{
	unsigned int cpu = (unsigned int)(uintptr_t)arg, next = (cpu + 1) % NR_CPUS;
	u64 seed = (u64)cpu << 32;

	reg_enable(cpu, 0);
	reg_enable(cpu, 1000);
	unmask(cpu);
	pthread_barrier_wait(&registered);
	for (int r = 0; r < ROUNDS; r++) {
		long before = atomic_load(&delivered[0][next]);

		ck_assert_uint_eq(call(cpu, SDEI_NR_EVENT_SIGNAL, 0, AFF(next)), 0);
		ck_assert_uint_eq(status(cpu, 1000) & 3, 3);
		while (atomic_load(&delivered[0][next]) == before) {
			vcpu_serve(cpu, &seed);
			sched_yield();	/* the target's thread needs the CPU */
		}
	}
	/* Others may still signal this PE and wait for it. */
	atomic_fetch_add(&finished, 1);
	while (atomic_load(&finished) < NR_CPUS + 1) {
		vcpu_serve(cpu, &seed);
		sched_yield();
	}
	vcpu_serve(cpu, &seed);
	return NULL;
}

static void *host_thread(void *arg)
{
	static const u32 evs[] = { 1000, 2000, 2001 };

	(void)arg;
	pthread_barrier_wait(&registered);
	for (int r = 0; r < HOST_ROUNDS; r++) {
		u32 ev = evs[r % 3];
		int cpu = ev == 1000 ? r % NR_CPUS : -1, slot = event_slot(ev);
		long before = 0;
		struct sdei_event_state st;

		for (unsigned int i = 0; i < NR_CPUS; i++)
			before += atomic_load(&delivered[slot][i]);
		ck_assert_int_eq(sdei__signal(S, ev, cpu), 0);
		for (;;) {
			long now = 0;

			for (unsigned int i = 0; i < NR_CPUS; i++)
				now += atomic_load(&delivered[slot][i]);
			if (now > before)
				break;
			/* A running shared event runs on one PE, named. */
			ck_assert(sdei__event_state(S, ev, cpu < 0 ? 0 : (unsigned int)cpu, &st));
			if (cpu < 0)
				ck_assert(st.running == (st.running_cpu >= 0 && st.running_cpu < NR_CPUS));
			sched_yield();
		}
	}
	atomic_fetch_add(&finished, 1);
	return NULL;
}

START_TEST(concurrent_vcpus)
{
	pthread_t v[NR_CPUS], h;
	long sum_d = 0, sum_c = 0;

	for (unsigned int i = 1; i < NR_CPUS; i++)
		cpu_on(i);
	fk.threaded = true;
	atomic_store(&finished, 0);
	memset(delivered, 0, sizeof(delivered));
	pthread_barrier_init(&registered, NULL, NR_CPUS + 1);
	/* The shared events, registered before the vCPUs start. */
	reg_enable(0, 2000);
	reg_enable(0, 2001);
	for (uintptr_t i = 0; i < NR_CPUS; i++)
		pthread_create(&v[i], NULL, vcpu_thread, (void *)i);
	pthread_create(&h, NULL, host_thread, NULL);
	pthread_join(h, NULL);
	for (int i = 0; i < NR_CPUS; i++)
		pthread_join(v[i], NULL);
	pthread_barrier_destroy(&registered);
	/* Exactly as many deliveries as signals that waited for one, and each completed. */
	for (unsigned int i = 0; i < NR_CPUS; i++) {
		sum_d += atomic_load(&delivered[0][i]);
		ck_assert_int_eq(atomic_load(&delivered[0][i]), ROUNDS);
		ck_assert(!work(i));
		ck_assert_uint_eq(call(i, SDEI_NR_EVENT_COMPLETE, 0, 0), DENIED);
	}
	ck_assert_int_eq(atomic_load(&delivered[1][0]) + atomic_load(&delivered[1][1]) +
			 atomic_load(&delivered[1][2]) + atomic_load(&delivered[1][3]),
			 HOST_ROUNDS / 3);
	for (unsigned int e = 1; e < 5; e++) {
		for (unsigned int i = 0; i < NR_CPUS; i++)
			sum_d += atomic_load(&delivered[e][i]);
	}
	ck_assert_int_eq(sum_d, NR_CPUS * ROUNDS + HOST_ROUNDS);
	for (unsigned int e = 0; e < 5; e++) {
		for (unsigned int i = 0; i < NR_CPUS; i++) {
			ck_assert_int_eq(fk.dispatched[e][i], atomic_load(&delivered[e][i]));
			sum_c += fk.completed[e][i];
		}
	}
	ck_assert_int_eq(sum_c, sum_d);
}
END_TEST

Suite *sdei_suite(void)
{
	Suite *s = suite_create("sdei");
	TCase *tc = tcase_create("sdei");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, version_and_reserved);
	tcase_add_test(tc, events_and_names);
	tcase_add_test(tc, nr_args);
	tcase_add_test(tc, init_limits);
	tcase_add_test(tc, register_errors);
	tcase_add_test(tc, enable_disable_unregister);
	tcase_add_test(tc, get_info);
	tcase_add_test(tc, routing_set);
	tcase_add_test(tc, mask_unmask);
	tcase_add_test(tc, dispatch_context_complete);
	tcase_add_test(tc, complete_and_resume);
	tcase_add_test(tc, unregister_while_running);
	tcase_add_test(tc, critical_preempts_normal);
	tcase_add_test(tc, dispatch_order);
	tcase_add_test(tc, pending_while_disabled);
	tcase_add_test(tc, event_signal);
	tcase_add_test(tc, host_signal_errors);
	tcase_add_test(tc, routing_rm_any);
	tcase_add_test(tc, rm_any_reoffered_after_dispatch);
	tcase_add_test(tc, routing_rm_pe);
	tcase_add_test(tc, cpu_off_while_running);
	tcase_add_test(tc, cpu_absent_present);
	tcase_add_test(tc, system_reset);
	tcase_add_test(tc, private_shared_reset);
	tcase_add_test(tc, bind_release_features);
	tcase_add_test(tc, snapshot_unknown);
	tcase_add_test(tc, concurrent_vcpus);
	tcase_set_timeout(tc, 120);
	suite_add_tcase(s, tc);
	return s;
}
