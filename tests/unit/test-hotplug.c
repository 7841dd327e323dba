/* --plugged-cpus parsing, the vCPU plan, and hot-add's control side against guest PSCI calls. */
#include <check.h>
#include <errno.h>
#include <stdatomic.h>
#include <time.h>

#include "lkvm/acpi-cpuhp.h"
#include "lkvm/hotplug.h"
#include "lkvm/kvm.h"
#include "lkvm/psci.h"
#include "suites.h"

static bool plugged[16];
static unsigned int count;
static const char *why;

static int parse(const char *s, unsigned int nr)
{
	why = NULL;
	return cpu_plan__parse_list(s, nr, plugged, &count, &why);
}

START_TEST(lists_and_ranges)
{
	ck_assert_int_eq(parse("0,3,5-7", 8), 0);
	ck_assert_uint_eq(count, 5);
	ck_assert(plugged[0] && !plugged[1] && !plugged[2] && plugged[3] && !plugged[4]);
	ck_assert(plugged[5] && plugged[6] && plugged[7]);
	ck_assert_int_eq(parse("0", 1), 0);
	ck_assert_uint_eq(count, 1);
	/* Repeats count once. */
	ck_assert_int_eq(parse("0,0-2,1", 4), 0);
	ck_assert_uint_eq(count, 3);
}
END_TEST

START_TEST(bad_lists)
{
	static const char *const bad[] = { "", ",", "0,", "a", "0;1", "-1", "0,-", "0-", "3-1",
					   "0, 1", "0,8", "0-8", "99999999999999999999" };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(parse(bad[i], 8) == -EINVAL, "'%s' accepted", bad[i]);
		ck_assert_ptr_nonnull(why);
	}
	/* The boot vCPU must be plugged. */
	ck_assert_int_eq(parse("1,2", 4), -EINVAL);
	ck_assert_ptr_nonnull(why);
}
END_TEST

START_TEST(plan_init)
{
	struct cpu_plan p;
	const bool some[4] = { true, false, true, false };

	ck_assert_int_eq(cpu_plan__init(&p, 4, NULL), 0);
	for (int i = 0; i < 4; i++) {
		ck_assert(p.plugged[i]);
		ck_assert_uint_eq(p.delay_ms[i], 0);
	}
	cpu_plan__exit(&p);
	ck_assert_int_eq(cpu_plan__init(&p, 4, some), 0);
	ck_assert(p.plugged[0] && !p.plugged[1] && p.plugged[2] && !p.plugged[3]);
	cpu_plan__exit(&p);
}
END_TEST

/* A VM as far as hotplug.c sees one: 2 vCPUs, lkvm's PSCI and the plan. */
static struct kvm vm;
static struct cpu_plan stress_plan;
static struct psci stress_psci;
static atomic_bool stress_stop;

static bool any_entry(struct psci *p, u64 addr)
{
	(void)p;
	(void)addr;
	return true;
}

/* As lkvm's own policy: the start delay comes from the plan. */
static struct psci_cpu_on_verdict plan_policy(struct psci *p, unsigned int caller,
					      unsigned int target)
{
	(void)p;
	(void)caller;
	return (struct psci_cpu_on_verdict){ .delay_ns = cpu_plan__start_delay_ns(&stress_plan,
										 target) };
}

static void no_suspend(struct psci *p, unsigned int cpu, enum psci_suspend_type t)
{
	(void)p;
	(void)cpu;
	(void)t;
}

static void no_op(struct psci *p)
{
	(void)p;
}

static u64 zero_ns(struct psci *p)
{
	(void)p;
	return 0;
}

static const struct psci_ops stress_ops = {
	.valid_entry = any_entry, .cpu_on_policy = plan_policy, .suspend = no_suspend,
	.system_off = no_op, .system_reset = no_op, .now_ns = zero_ns,
};

static enum psci_outcome psci_call(unsigned int cpu, u32 fid, u64 a1)
{
	struct psci_call c = { .fid = fid, .arg = { 0, a1, 0x80001000, 0 } };

	return psci__call(&stress_psci, cpu, &c);
}

/* vCPU 0 of the guest: CPU_ON of vCPU 1, again and again. */
static void *guest_cpu0(void *arg)
{
	(void)arg;
	while (!atomic_load(&stress_stop))
		psci_call(0, PSCI_FN64(PSCI_NR_CPU_ON), 1);
	return NULL;
}

/* vCPU 1: starts when turned on, then CPU_OFF at once. */
static void *guest_cpu1(void *arg)
{
	bool reset;
	u64 e, c, d;

	(void)arg;
	while (psci__wait_cpu_on(&stress_psci, 1, &reset, &e, &c, &d))
		psci_call(1, PSCI_FN(PSCI_NR_CPU_OFF), 0);
	return NULL;
}

/* A user's script: lkvm cpu list, plug, unplug and delay, in a loop. */
static void *control(void *arg)
{
	char buf[4096], err[128];
	unsigned long *rounds = arg;

	for (; !atomic_load(&stress_stop); ++*rounds) {
		hotplug__list(&vm, buf, sizeof(buf));
		hotplug__set_plugged(&vm, 1, *rounds & 1, err, sizeof(err));
		hotplug__set_delay(&vm, 1, 0, err, sizeof(err));
	}
	return NULL;
}

/*
 * CPU_ON's policy reads the plan while the control side lists and plugs under the plan's lock:
 * with the two locks taken in opposite orders this deadlocked within a few thousand rounds
 * (the test then dies of its timeout).
 */
START_TEST(cpu_on_against_control)
{
	static const u64 mpidrs[2] = { 0x80000000, 0x80000001 };
	struct timespec run = { .tv_sec = 2 };
	unsigned long rounds = 0;
	pthread_t t0, t1, tc;

	ck_assert_int_eq(cpu_plan__init(&stress_plan, 2, NULL), 0);
	ck_assert_int_eq(psci__init(&stress_psci, &stress_ops, 2, mpidrs, NULL), 0);
	vm.nr_cpus = 2;
	vm.psci = &stress_psci;
	vm.plan = &stress_plan;
	atomic_store(&stress_stop, false);
	pthread_create(&t1, NULL, guest_cpu1, NULL);
	pthread_create(&t0, NULL, guest_cpu0, NULL);
	pthread_create(&tc, NULL, control, &rounds);
	nanosleep(&run, NULL);
	atomic_store(&stress_stop, true);
	pthread_join(t0, NULL);
	pthread_join(tc, NULL);
	psci__stop(&stress_psci);
	pthread_join(t1, NULL);
	ck_assert_uint_gt(rounds, 100);
	psci__exit(&stress_psci);
	cpu_plan__exit(&stress_plan);
}
END_TEST

static void acpi_irq(struct acpi_cpuhp *hp, int level)
{
	(void)hp;
	(void)level;
}

static void acpi_eject(struct acpi_cpuhp *hp, unsigned int cpu)
{
	(void)hp;
	hotplug__acpi_eject(&vm, cpu);
}

/* The guest's AML: _STA of vCPU 1, take its events, and eject it whenever it is enabled. */
static void *guest_aml(void *arg)
{
	static const u8 one[4] = { 1 }, events[4] = { CPUHP_STS_EVENTS };
	u8 sts[4];

	while (!atomic_load(&stress_stop)) {
		acpi_cpuhp__write(arg, CPUHP_REG_SEL, one, 4);
		acpi_cpuhp__read(arg, CPUHP_REG_STS, sts, 4);
		acpi_cpuhp__write(arg, CPUHP_REG_STS, events, 4);
		if (sts[0] & CPUHP_STS_ENABLED)
			acpi_cpuhp__write(arg, CPUHP_REG_CMD, one, 4);
	}
	return NULL;
}

/*
 * The same under --acpi, with the guest's _STA, event and _EJ0 accesses too: the eject takes
 * the plan's lock from the MMIO path, the control side the device's under the plan's. At the
 * end lkvm's three views of vCPU 1 agree: the plan, PSCI and the device's enabled bit.
 */
START_TEST(acpi_against_control)
{
	static const u64 mpidrs[2] = { 0x80000000, 0x80000001 };
	static const struct acpi_cpuhp_ops ops = { .set_irq = acpi_irq, .eject = acpi_eject };
	static const bool enabled[2] = { true, true };
	struct timespec run = { .tv_sec = 2 };
	unsigned long rounds = 0;
	struct acpi_cpuhp hp;
	pthread_t t0, t1, tc, ta;
	u8 sel[4] = { 1 }, sts[4];

	ck_assert_int_eq(cpu_plan__init(&stress_plan, 2, NULL), 0);
	ck_assert_int_eq(psci__init(&stress_psci, &stress_ops, 2, mpidrs, NULL), 0);
	ck_assert_int_eq(acpi_cpuhp__init(&hp, &ops, 2, enabled), 0);
	vm.nr_cpus = 2;
	vm.psci = &stress_psci;
	vm.plan = &stress_plan;
	vm.cpuhp = &hp;
	atomic_store(&stress_stop, false);
	pthread_create(&t1, NULL, guest_cpu1, NULL);
	pthread_create(&t0, NULL, guest_cpu0, NULL);
	pthread_create(&ta, NULL, guest_aml, &hp);
	pthread_create(&tc, NULL, control, &rounds);
	nanosleep(&run, NULL);
	atomic_store(&stress_stop, true);
	pthread_join(t0, NULL);
	pthread_join(tc, NULL);
	pthread_join(ta, NULL);
	psci__stop(&stress_psci);
	pthread_join(t1, NULL);
	ck_assert_uint_gt(rounds, 100);
	acpi_cpuhp__write(&hp, CPUHP_REG_SEL, sel, 4);
	acpi_cpuhp__read(&hp, CPUHP_REG_STS, sts, 4);
	ck_assert_int_eq(stress_plan.plugged[1], (sts[0] & CPUHP_STS_ENABLED) != 0);
	ck_assert_int_eq(stress_plan.plugged[1], psci__cpu_state(&stress_psci, 1) != PSCI_STATE_ABSENT);
	vm.cpuhp = NULL;
	acpi_cpuhp__exit(&hp);
	psci__exit(&stress_psci);
	cpu_plan__exit(&stress_plan);
}
END_TEST

Suite *hotplug_suite(void)
{
	Suite *s = suite_create("hotplug");
	TCase *tc = tcase_create("plan");

	tcase_add_test(tc, lists_and_ranges);
	tcase_add_test(tc, bad_lists);
	tcase_add_test(tc, plan_init);
	suite_add_tcase(s, tc);
	tc = tcase_create("stress");
	tcase_add_test(tc, cpu_on_against_control);
	tcase_add_test(tc, acpi_against_control);
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);
	return s;
}
