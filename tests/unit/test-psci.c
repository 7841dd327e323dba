/* The PSCI state machine, driven directly with fake platform ops: no KVM, no VM. */
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "lkvm/psci.h"
#include "suites.h"

#define NR_CPUS 4
#define RAM_START 0x80000000ULL
#define RAM_END 0x90000000ULL
#define ENTRY 0x80001000ULL
#define NOT_SUPPORTED ((u64)(s64)PSCI_RET_NOT_SUPPORTED)

struct logged_event {
	enum vm_event_type ev;
	unsigned int cpu, target;
};

struct fake {
	struct psci psci;
	struct psci_cpu_on_verdict policy;	/* what cpu_on_policy answers */
	int events[VM_EV_NR_TYPES];
	struct logged_event log[64];		/* the events in the order they were reported */
	unsigned int nr_log;
	useconds_t slow_grant_us;		/* reporting a grant takes this long */
	int suspends[PSCI_NR_SUSPEND_TYPES];
	int offs, resets;
	u64 now;
};

static struct fake fk;

static struct fake *to_fake(struct psci *p)
{
	return (struct fake *)(void *)((char *)p - offsetof(struct fake, psci));
}

static bool fake_valid_entry(struct psci *p, u64 addr)
{
	(void)p;
	return addr >= RAM_START && addr + 4 <= RAM_END;
}

static struct psci_cpu_on_verdict fake_policy(struct psci *p, unsigned int caller,
					      unsigned int target)
{
	(void)caller;
	(void)target;
	return to_fake(p)->policy;
}

static void fake_suspend(struct psci *p, unsigned int cpu, enum psci_suspend_type t)
{
	(void)cpu;
	to_fake(p)->suspends[t]++;
}

static void fake_off(struct psci *p)
{
	to_fake(p)->offs++;
}

static void fake_reset(struct psci *p)
{
	to_fake(p)->resets++;
}

static u64 fake_now(struct psci *p)
{
	return to_fake(p)->now;
}

static void fake_event(struct psci *p, enum vm_event_type ev, unsigned int cpu,
		       unsigned int target)
{
	struct fake *f = to_fake(p);

	if (ev == VM_EV_CPU_ON_GRANTED && f->slow_grant_us)
		usleep(f->slow_grant_us);
	f->events[ev]++;
	if (f->nr_log < ARRAY_SIZE(f->log))
		f->log[f->nr_log++] = (struct logged_event){ ev, cpu, target };
}

static const struct psci_ops fake_ops = {
	.valid_entry = fake_valid_entry, .cpu_on_policy = fake_policy, .suspend = fake_suspend,
	.system_off = fake_off, .system_reset = fake_reset, .now_ns = fake_now,
	.event = fake_event,
};

/* MPIDRs as KVM assigns them, with bit 31 set (not an affinity bit). */
static const u64 mpidrs[NR_CPUS] = { 0x80000000, 0x80000001, 0x80000002, 0x80000003 };

static void setup(void)
{
	memset(&fk, 0, sizeof(fk));
	fk.policy.ret = PSCI_RET_SUCCESS;
	ck_assert_int_eq(psci__init(&fk.psci, &fake_ops, NR_CPUS, mpidrs, NULL), 0);
}

static void teardown(void)
{
	psci__exit(&fk.psci);
}

/* Makes one call from cpu; returns x0, or 0xdead if the call does not return. */
static u64 call(unsigned int cpu, u32 fid, u64 a1, u64 a2, u64 a3)
{
	struct psci_call c = { .fid = fid, .arg = { 0, a1, a2, a3 } };

	return psci__call(&fk.psci, cpu, &c) == PSCI_RETURN ? c.res[0] : 0xdead;
}

static u64 ret(int code)
{
	return (u64)(s64)code;
}

/* Starts cpu as its own thread would after CPU_ON. */
static void start(unsigned int cpu, u64 *entry, u64 *ctx)
{
	bool reset;
	u64 delay;

	ck_assert(psci__wait_cpu_on(&fk.psci, cpu, &reset, entry, ctx, &delay));
	ck_assert(reset);
	ck_assert_uint_eq(delay, 0);
}

START_TEST(version)
{
	ck_assert_uint_eq(call(0, PSCI_FN(PSCI_NR_VERSION), 0, 0, 0), 0x10001);
}
END_TEST

START_TEST(features_every_id)
{
	static const unsigned int impl32[] = { 0x00, 0x01, 0x02, 0x03, 0x04, 0x06, 0x08, 0x09, 0x0A,
					       0x0D, 0x0E, 0x10, 0x11, 0x12 };
	static const unsigned int impl64[] = { 0x01, 0x03, 0x04, 0x0D, 0x0E, 0x10, 0x11, 0x12 };

	for (unsigned int fn = 0; fn < 0x20; fn++) {
		bool i32 = false, i64 = false;

		for (size_t i = 0; i < ARRAY_SIZE(impl32); i++)
			i32 |= impl32[i] == fn;
		for (size_t i = 0; i < ARRAY_SIZE(impl64); i++)
			i64 |= impl64[i] == fn;
		ck_assert_msg(call(0, PSCI_FN(PSCI_NR_FEATURES), PSCI_FN(fn), 0, 0) ==
			      (i32 ? 0 : NOT_SUPPORTED), "FEATURES(0x%x)", PSCI_FN(fn));
		ck_assert_msg(call(0, PSCI_FN(PSCI_NR_FEATURES), PSCI_FN64(fn), 0, 0) ==
			      (i64 ? 0 : NOT_SUPPORTED), "FEATURES(0x%x)", PSCI_FN64(fn));
	}
	/* Linux needs FEATURES(SMCCC_VERSION) = 0 to move past SMCCC 1.0. */
	ck_assert_uint_eq(call(0, PSCI_FN(PSCI_NR_FEATURES), SMCCC_VERSION, 0, 0), 0);
	ck_assert_uint_eq(call(0, PSCI_FN(PSCI_NR_FEATURES), 0x84000050, 0, 0), NOT_SUPPORTED);
	ck_assert_uint_eq(call(0, PSCI_FN(PSCI_NR_FEATURES), 0x12345678, 0, 0), NOT_SUPPORTED);
}
END_TEST

START_TEST(unimplemented)
{
	static const unsigned int fns[] = { 0x05, 0x07, 0x0B, 0x0C, 0x0F, 0x13, 0x14, 0x15, 0x1F };

	for (size_t i = 0; i < ARRAY_SIZE(fns); i++)
		ck_assert_uint_eq(call(0, PSCI_FN(fns[i]), 0, 0, 0), NOT_SUPPORTED);
	/* A 64-bit ID of a 32-bit-only function is no function. */
	ck_assert_uint_eq(call(0, PSCI_FN64(PSCI_NR_VERSION), 0, 0, 0), NOT_SUPPORTED);
	ck_assert_uint_eq(call(0, PSCI_FN(PSCI_NR_MIGRATE_INFO_TYPE), 0, 0, 0), 2);
}
END_TEST

START_TEST(cpu_on_errors)
{
	u32 on = PSCI_FN64(PSCI_NR_CPU_ON);

	ck_assert_uint_eq(call(0, on, 7, ENTRY, 0), ret(PSCI_RET_INVALID_PARAMS));
	ck_assert_uint_eq(call(0, on, 1ULL << 40 | 1, ENTRY, 0), ret(PSCI_RET_INVALID_PARAMS));
	ck_assert_uint_eq(call(0, on, 1, 0x1000, 0), ret(PSCI_RET_INVALID_ADDRESS));
	ck_assert_uint_eq(call(0, on, 1, RAM_END, 0), ret(PSCI_RET_INVALID_ADDRESS));
	ck_assert_uint_eq(call(0, on, 0, ENTRY, 0), ret(PSCI_RET_ALREADY_ON));
	fk.policy.ret = PSCI_RET_DENIED;
	ck_assert_uint_eq(call(0, on, 1, ENTRY, 0), ret(PSCI_RET_DENIED));
	ck_assert_int_eq(psci__cpu_state(&fk.psci, 1), PSCI_STATE_OFF);
	ck_assert_int_eq(fk.events[VM_EV_CPU_ON_DENIED], 1);
	ck_assert_int_eq(fk.events[VM_EV_CPU_ON_GRANTED], 0);
}
END_TEST

START_TEST(cpu_on_starts_target)
{
	u64 entry, ctx;

	ck_assert_uint_eq(call(0, PSCI_FN64(PSCI_NR_CPU_ON), 2, ENTRY, 0x1234), 0);
	ck_assert_int_eq(psci__cpu_state(&fk.psci, 2), PSCI_STATE_ON_PENDING);
	ck_assert_uint_eq(call(0, PSCI_FN64(PSCI_NR_AFFINITY_INFO), 2, 0, 0), PSCI_AFF_ON_PENDING);
	ck_assert_uint_eq(call(1, PSCI_FN64(PSCI_NR_CPU_ON), 2, ENTRY, 0), ret(PSCI_RET_ALREADY_ON));
	start(2, &entry, &ctx);
	ck_assert_uint_eq(entry, ENTRY);
	ck_assert_uint_eq(ctx, 0x1234);
	ck_assert_uint_eq(call(0, PSCI_FN64(PSCI_NR_AFFINITY_INFO), 2, 0, 0), PSCI_AFF_ON);
	ck_assert_uint_eq(call(0, PSCI_FN64(PSCI_NR_CPU_ON), 2, ENTRY, 0), ret(PSCI_RET_ALREADY_ON));
}
END_TEST

START_TEST(cpu_off_then_affinity_info)
{
	u64 entry, ctx;

	call(0, PSCI_FN64(PSCI_NR_CPU_ON), 1, ENTRY, 0);
	start(1, &entry, &ctx);
	ck_assert_uint_eq(call(1, PSCI_FN(PSCI_NR_CPU_OFF), 0, 0, 0), 0xdead);
	ck_assert_uint_eq(call(0, PSCI_FN64(PSCI_NR_AFFINITY_INFO), 1, 0, 0), PSCI_AFF_OFF);
	ck_assert_uint_eq(call(0, PSCI_FN(PSCI_NR_AFFINITY_INFO), 1, 0, 0), PSCI_AFF_OFF);
	/* And it can be brought back. */
	ck_assert_uint_eq(call(0, PSCI_FN64(PSCI_NR_CPU_ON), 1, ENTRY + 8, 9), 0);
	start(1, &entry, &ctx);
	ck_assert_uint_eq(entry, ENTRY + 8);
	ck_assert_uint_eq(ctx, 9);
	ck_assert_int_eq(fk.offs, 0);
}
END_TEST

START_TEST(last_cpu_off_powers_off)
{
	ck_assert_uint_eq(call(0, PSCI_FN(PSCI_NR_CPU_OFF), 0, 0, 0), 0xdead);
	ck_assert_int_eq(fk.offs, 1);
}
END_TEST

START_TEST(affinity_levels)
{
	u32 ai = PSCI_FN64(PSCI_NR_AFFINITY_INFO);

	ck_assert_uint_eq(call(0, ai, 0, 0, 0), PSCI_AFF_ON);
	ck_assert_uint_eq(call(0, ai, 3, 0, 0), PSCI_AFF_OFF);
	/* Level 1: the cluster of Aff0 0-3 contains vCPU 0, which is on. */
	ck_assert_uint_eq(call(0, ai, 3, 1, 0), PSCI_AFF_ON);
	ck_assert_uint_eq(call(0, ai, 3, 2, 0), PSCI_AFF_ON);
	ck_assert_uint_eq(call(0, ai, 3, 3, 0), PSCI_AFF_ON);
	ck_assert_uint_eq(call(0, ai, 3, 4, 0), ret(PSCI_RET_INVALID_PARAMS));
	ck_assert_uint_eq(call(0, ai, 9, 0, 0), ret(PSCI_RET_INVALID_PARAMS));
	ck_assert_uint_eq(call(0, ai, 0x100, 1, 0), ret(PSCI_RET_INVALID_PARAMS));
	ck_assert_uint_eq(call(0, ai, 1ULL << 63, 0, 0), ret(PSCI_RET_INVALID_PARAMS));
}
END_TEST

START_TEST(node_hw_state)
{
	u32 nhs = PSCI_FN64(PSCI_NR_NODE_HW_STATE);

	ck_assert_uint_eq(call(0, nhs, 0, 0, 0), PSCI_HW_ON);
	ck_assert_uint_eq(call(0, nhs, 1, 0, 0), PSCI_HW_OFF);
	ck_assert_uint_eq(call(0, nhs, 9, 0, 0), ret(PSCI_RET_INVALID_PARAMS));
	ck_assert_uint_eq(call(0, nhs, 0, 1, 0), ret(PSCI_RET_INVALID_PARAMS));
	call(0, PSCI_FN(PSCI_NR_CPU_SUSPEND), 0, 0, 0);
	ck_assert_uint_eq(call(1, nhs, 0, 0, 0), PSCI_HW_STANDBY);
}
END_TEST

START_TEST(cpu_suspend_standby_and_stats)
{
	u32 cs = PSCI_FN(PSCI_NR_CPU_SUSPEND);
	bool reset;
	u64 e, c;

	fk.now = 1000000;
	ck_assert_uint_eq(call(0, cs, 0, 0, 0), 0);
	ck_assert_int_eq(fk.suspends[PSCI_STANDBY], 1);
	ck_assert_int_eq(psci__cpu_state(&fk.psci, 0), PSCI_STATE_SUSPENDED);
	ck_assert_uint_eq(call(1, PSCI_FN64(PSCI_NR_AFFINITY_INFO), 0, 0, 0), PSCI_AFF_ON);
	fk.now += 5000000;
	psci__cpu_woke(&fk.psci, 0, &reset, &e, &c);
	ck_assert(!reset);
	ck_assert_int_eq(psci__cpu_state(&fk.psci, 0), PSCI_STATE_ON);
	ck_assert_uint_eq(call(0, PSCI_FN64(PSCI_NR_STAT_COUNT), 0, 0, 0), 1);
	ck_assert_uint_eq(call(0, PSCI_FN64(PSCI_NR_STAT_RESIDENCY), 0, 0, 0), 5000);
	ck_assert_uint_eq(call(0, PSCI_FN(PSCI_NR_STAT_COUNT), 0, 1 << 16, 0), 0);
	/* Unknown vCPU or invalid power_state: 0. */
	ck_assert_uint_eq(call(0, PSCI_FN(PSCI_NR_STAT_COUNT), 9, 0, 0), 0);
	ck_assert_uint_eq(call(0, PSCI_FN(PSCI_NR_STAT_COUNT), 0, 1U << 30, 0), 0);
}
END_TEST

START_TEST(cpu_suspend_powerdown_resumes_at_entry)
{
	bool reset;
	u64 e, c;

	ck_assert_uint_eq(call(0, PSCI_FN64(PSCI_NR_CPU_SUSPEND), 1 << 16, ENTRY, 77), 0xdead);
	ck_assert_int_eq(fk.suspends[PSCI_POWERDOWN], 1);
	ck_assert_uint_eq(call(1, PSCI_FN64(PSCI_NR_NODE_HW_STATE), 0, 0, 0), PSCI_HW_OFF);
	psci__cpu_woke(&fk.psci, 0, &reset, &e, &c);
	ck_assert(reset);
	ck_assert_uint_eq(e, ENTRY);
	ck_assert_uint_eq(c, 77);
	ck_assert_uint_eq(call(0, PSCI_FN64(PSCI_NR_STAT_COUNT), 0, 1 << 16, 0), 1);
}
END_TEST

START_TEST(cpu_suspend_errors)
{
	u32 cs = PSCI_FN64(PSCI_NR_CPU_SUSPEND);

	ck_assert_uint_eq(call(0, cs, 1U << 30, ENTRY, 0), ret(PSCI_RET_INVALID_PARAMS));
	ck_assert_uint_eq(call(0, cs, 2U << 24, ENTRY, 0), ret(PSCI_RET_INVALID_PARAMS));
	ck_assert_uint_eq(call(0, cs, 1U << 17, ENTRY, 0), ret(PSCI_RET_INVALID_PARAMS));
	ck_assert_uint_eq(call(0, cs, 1U << 16, 0x10, 0), ret(PSCI_RET_INVALID_ADDRESS));
	ck_assert_int_eq(fk.suspends[PSCI_STANDBY] + fk.suspends[PSCI_POWERDOWN], 0);
}
END_TEST

START_TEST(system_suspend)
{
	u32 ss = PSCI_FN64(PSCI_NR_SYSTEM_SUSPEND);
	bool reset;
	u64 e, c;

	call(0, PSCI_FN64(PSCI_NR_CPU_ON), 3, ENTRY, 0);
	/* Refused while another vCPU is on, even one still pending. */
	ck_assert_uint_eq(call(0, ss, ENTRY, 0, 0), ret(PSCI_RET_DENIED));
	start(3, &e, &c);
	ck_assert_uint_eq(call(0, ss, ENTRY, 0, 0), ret(PSCI_RET_DENIED));
	call(3, PSCI_FN(PSCI_NR_CPU_OFF), 0, 0, 0);
	ck_assert_uint_eq(call(0, ss, 0x10, 0, 0), ret(PSCI_RET_INVALID_ADDRESS));
	ck_assert_uint_eq(call(0, ss, ENTRY, 5, 0), 0xdead);
	ck_assert_int_eq(fk.suspends[PSCI_POWERDOWN], 1);
	psci__cpu_woke(&fk.psci, 0, &reset, &e, &c);
	ck_assert(reset);
	ck_assert_uint_eq(e, ENTRY);
	ck_assert_uint_eq(c, 5);
	/* SYSTEM_SUSPEND is not a CPU_SUSPEND state: not in the statistics. */
	ck_assert_uint_eq(call(0, PSCI_FN64(PSCI_NR_STAT_COUNT), 0, 1 << 16, 0), 0);
}
END_TEST

START_TEST(system_off_reset)
{
	ck_assert_uint_eq(call(0, PSCI_FN(PSCI_NR_SYSTEM_OFF), 0, 0, 0), 0xdead);
	ck_assert_int_eq(fk.offs, 1);
	ck_assert_uint_eq(call(0, PSCI_FN(PSCI_NR_SYSTEM_RESET), 0, 0, 0), 0xdead);
	ck_assert_int_eq(fk.resets, 1);
	ck_assert_uint_eq(call(0, PSCI_FN64(PSCI_NR_SYSTEM_RESET2), 1, 0, 0),
			  ret(PSCI_RET_INVALID_PARAMS));
	ck_assert_uint_eq(call(0, PSCI_FN(PSCI_NR_SYSTEM_RESET2), 0x80000000, 0, 0),
			  ret(PSCI_RET_INVALID_PARAMS));
	ck_assert_int_eq(fk.resets, 1);
	ck_assert_uint_eq(call(0, PSCI_FN(PSCI_NR_SYSTEM_RESET2), 0, 0, 0), 0xdead);
	ck_assert_int_eq(fk.resets, 2);
}
END_TEST

/* The event names the vCPU that asked for the reset, not vCPU 0. */
START_TEST(system_reset2_reports_caller)
{
	ck_assert_uint_eq(call(2, PSCI_FN64(PSCI_NR_SYSTEM_RESET2), 0, 0, 0), 0xdead);
	ck_assert_uint_eq(fk.nr_log, 1);
	ck_assert_int_eq(fk.log[0].ev, VM_EV_SYSTEM_RESET);
	ck_assert_uint_eq(fk.log[0].cpu, 2);
}
END_TEST

static void *waiting_target(void *arg)
{
	u64 e, c;

	(void)arg;
	start(1, &e, &c);
	return NULL;
}

/* A target already waiting for CPU_ON starts after the grant is reported, however slow that is. */
START_TEST(events_in_causal_order)
{
	static const enum vm_event_type order[] = { VM_EV_CPU_ON_REQUEST, VM_EV_CPU_ON_GRANTED,
						 VM_EV_CPU_START };
	pthread_t t;

	ck_assert_int_eq(pthread_create(&t, NULL, waiting_target, NULL), 0);
	usleep(100000);		/* the target is in psci__wait_cpu_on */
	fk.slow_grant_us = 200000;
	ck_assert_uint_eq(call(0, PSCI_FN64(PSCI_NR_CPU_ON), 1, ENTRY, 0), 0);
	pthread_join(t, NULL);
	ck_assert_uint_eq(fk.nr_log, ARRAY_SIZE(order));
	for (unsigned int i = 0; i < ARRAY_SIZE(order); i++)
		ck_assert_msg(fk.log[i].ev == order[i], "event %u is %s, expected %s", i,
			      vm_event__name(fk.log[i].ev), vm_event__name(order[i]));
	ck_assert_uint_eq(fk.log[1].target, 1);
}
END_TEST

START_TEST(smc32_narrows_arguments)
{
	u64 e, c;

	/* w1 = 1 once narrowed: the upper half of x1 must not make the MPIDR invalid. */
	ck_assert_uint_eq(call(0, PSCI_FN(PSCI_NR_CPU_ON), 0xffffffff00000001ULL,
			       0xffffffff00000000ULL | ENTRY, 0x1122334455667788ULL), 0);
	start(1, &e, &c);
	ck_assert_uint_eq(e, ENTRY);
	ck_assert_uint_eq(c, 0x55667788);
	/* SMC64 keeps all 64 bits: the same MPIDR is invalid there. */
	ck_assert_uint_eq(call(0, PSCI_FN64(PSCI_NR_CPU_ON), 0xffffffff00000002ULL, ENTRY, 0),
			  ret(PSCI_RET_INVALID_PARAMS));
}
END_TEST

START_TEST(nr_args)
{
	ck_assert_uint_eq(psci__nr_args(PSCI_FN(PSCI_NR_VERSION)), 0);
	ck_assert_uint_eq(psci__nr_args(PSCI_FN64(PSCI_NR_CPU_ON)), 3);
	ck_assert_uint_eq(psci__nr_args(PSCI_FN64(PSCI_NR_AFFINITY_INFO)), 2);
	ck_assert_uint_eq(psci__nr_args(PSCI_FN(PSCI_NR_FEATURES)), 1);
	ck_assert_uint_eq(psci__nr_args(PSCI_FN(PSCI_NR_CPU_OFF)), 0);
}
END_TEST

START_TEST(stop_releases_waiters)
{
	bool reset;
	u64 e, c, d;

	psci__stop(&fk.psci);
	ck_assert(!psci__wait_cpu_on(&fk.psci, 2, &reset, &e, &c, &d));
}
END_TEST

#define RACERS 8
#define ROUNDS 200

static pthread_barrier_t race_barrier;
static u64 race_results[RACERS];

static void *racer(void *arg)
{
	unsigned int i = (unsigned int)(uintptr_t)arg;

	pthread_barrier_wait(&race_barrier);
	race_results[i] = call(i % 3, PSCI_FN64(PSCI_NR_CPU_ON), 3, ENTRY, i);
	return NULL;
}

/* As with KVM: of concurrent CPU_ONs for one target, exactly one succeeds. */
START_TEST(concurrent_cpu_on)
{
	for (int round = 0; round < ROUNDS; round++) {
		pthread_t t[RACERS];
		int success = 0, already_on = 0;
		u64 e, c;

		pthread_barrier_init(&race_barrier, NULL, RACERS);
		for (uintptr_t i = 0; i < RACERS; i++)
			pthread_create(&t[i], NULL, racer, (void *)i);
		for (int i = 0; i < RACERS; i++)
			pthread_join(t[i], NULL);
		pthread_barrier_destroy(&race_barrier);
		for (int i = 0; i < RACERS; i++) {
			success += race_results[i] == 0;
			already_on += race_results[i] == ret(PSCI_RET_ALREADY_ON);
		}
		ck_assert_int_eq(success, 1);
		ck_assert_int_eq(already_on, RACERS - 1);
		start(3, &e, &c);
		call(3, PSCI_FN(PSCI_NR_CPU_OFF), 0, 0, 0);
	}
}
END_TEST

/* Hot-add: an unplugged vCPU is absent, CPU_ON is DENIED until it is plugged again. */
START_TEST(plug_unplug)
{
	u32 on = PSCI_FN64(PSCI_NR_CPU_ON);
	u64 e, c;

	ck_assert_int_eq(psci__set_present(&fk.psci, 2, false), 0);
	ck_assert_int_eq(psci__cpu_state(&fk.psci, 2), PSCI_STATE_ABSENT);
	ck_assert_uint_eq(call(0, on, 2, ENTRY, 0), ret(PSCI_RET_DENIED));
	ck_assert_uint_eq(call(0, PSCI_FN64(PSCI_NR_AFFINITY_INFO), 2, 0, 0), PSCI_AFF_OFF);
	ck_assert_int_eq(psci__set_present(&fk.psci, 2, false), 0);	/* already so */
	ck_assert_int_eq(psci__set_present(&fk.psci, 2, true), 0);
	ck_assert_uint_eq(call(0, on, 2, ENTRY, 0), 0);
	/* Starting or on: the guest must offline it first. */
	ck_assert_int_eq(psci__set_present(&fk.psci, 2, false), -EBUSY);
	start(2, &e, &c);
	ck_assert_int_eq(psci__set_present(&fk.psci, 2, false), -EBUSY);
	ck_assert_int_eq(psci__set_present(&fk.psci, 0, false), -EBUSY);
	call(2, PSCI_FN(PSCI_NR_CPU_OFF), 0, 0, 0);
	ck_assert_int_eq(psci__set_present(&fk.psci, 2, false), 0);
	ck_assert_int_eq(fk.events[VM_EV_UNPLUG], 2);
	ck_assert_int_eq(fk.events[VM_EV_PLUG], 1);
	ck_assert_int_eq(fk.events[VM_EV_CPU_ON_DENIED], 1);
	ck_assert_int_eq(fk.events[VM_EV_CPU_START], 1);
}
END_TEST

/* The policy's delay: the target stays ON_PENDING until its thread has waited it out. */
START_TEST(cpu_on_delay)
{
	bool reset;
	u64 e, c, delay;

	fk.policy.delay_ns = 5000000;
	ck_assert_uint_eq(call(0, PSCI_FN64(PSCI_NR_CPU_ON), 1, ENTRY, 3), 0);
	ck_assert(psci__wait_cpu_on(&fk.psci, 1, &reset, &e, &c, &delay));
	ck_assert(reset);
	ck_assert_uint_eq(delay, 5000000);
	ck_assert_uint_eq(call(0, PSCI_FN64(PSCI_NR_AFFINITY_INFO), 1, 0, 0), PSCI_AFF_ON_PENDING);
	ck_assert_int_eq(fk.events[VM_EV_CPU_START], 0);
	psci__cpu_started(&fk.psci, 1);
	ck_assert_uint_eq(call(0, PSCI_FN64(PSCI_NR_AFFINITY_INFO), 1, 0, 0), PSCI_AFF_ON);
	ck_assert_int_eq(fk.events[VM_EV_CPU_START], 1);
}
END_TEST

START_TEST(names)
{
	ck_assert_str_eq(psci__fn_name(PSCI_FN64(PSCI_NR_CPU_ON)), "CPU_ON");
	ck_assert_str_eq(psci__fn_name(0x12345678), "unknown");
	ck_assert_str_eq(psci__ret_name(PSCI_RET_INVALID_ADDRESS), "INVALID_ADDRESS");
	ck_assert_ptr_null(psci__ret_name(1));
}
END_TEST

Suite *psci_suite(void)
{
	Suite *s = suite_create("psci");
	TCase *tc = tcase_create("psci");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, version);
	tcase_add_test(tc, features_every_id);
	tcase_add_test(tc, unimplemented);
	tcase_add_test(tc, cpu_on_errors);
	tcase_add_test(tc, cpu_on_starts_target);
	tcase_add_test(tc, cpu_off_then_affinity_info);
	tcase_add_test(tc, last_cpu_off_powers_off);
	tcase_add_test(tc, affinity_levels);
	tcase_add_test(tc, node_hw_state);
	tcase_add_test(tc, cpu_suspend_standby_and_stats);
	tcase_add_test(tc, cpu_suspend_powerdown_resumes_at_entry);
	tcase_add_test(tc, cpu_suspend_errors);
	tcase_add_test(tc, system_suspend);
	tcase_add_test(tc, system_off_reset);
	tcase_add_test(tc, system_reset2_reports_caller);
	tcase_add_test(tc, events_in_causal_order);
	tcase_add_test(tc, smc32_narrows_arguments);
	tcase_add_test(tc, nr_args);
	tcase_add_test(tc, stop_releases_waiters);
	tcase_add_test(tc, concurrent_cpu_on);
	tcase_add_test(tc, plug_unplug);
	tcase_add_test(tc, cpu_on_delay);
	tcase_add_test(tc, names);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return s;
}
