/* --plugged-cpus parsing and the vCPU plan. */
#include <check.h>
#include <errno.h>

#include "lkvm/hotplug.h"
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

Suite *hotplug_suite(void)
{
	Suite *s = suite_create("hotplug");
	TCase *tc = tcase_create("plan");

	tcase_add_test(tc, lists_and_ranges);
	tcase_add_test(tc, bad_lists);
	tcase_add_test(tc, plan_init);
	suite_add_tcase(s, tc);
	return s;
}
