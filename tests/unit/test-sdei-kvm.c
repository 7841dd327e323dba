/* The KVM backend's control side: `lkvm sdei list`'s format and `lkvm sdei signal`'s errors. */
#include <check.h>
#include <errno.h>
#include <string.h>

#include "lkvm/control.h"
#include "lkvm/control-json.h"
#include "lkvm/kvm.h"
#include "lkvm/psci.h"
#include "lkvm/sdei-kvm.h"
#include "lkvm/sdei.h"
#include "suites.h"

/* A VM as far as the listing and the host signal see one: 3 vCPUs, PSCI and SDEI, no KVM. */
static struct kvm vm;
static struct psci psci;
static struct sdei sdei;
static const u64 mpidrs[3] = { 0x80000000, 0x80000001, 0x80000002 };
static const bool present[3] = { true, true, false };
static char buf[CTL_MAX_PAYLOAD];

static bool psci_entry(struct psci *p, u64 addr)
{
	(void)p;
	return addr != 0;
}

static u64 psci_ns(struct psci *p)
{
	(void)p;
	return 0;
}

static bool sdei_entry(struct sdei *s, u64 addr)
{
	(void)s;
	return addr != 0;
}

static void no_kick(struct sdei *s, unsigned int cpu)
{
	(void)s;
	(void)cpu;
}

static u64 sdei_ns(struct sdei *s)
{
	(void)s;
	return 0;
}

static const struct psci_ops psci_ops = { .valid_entry = psci_entry, .now_ns = psci_ns };
static const struct sdei_ops sdei_ops = {
	.valid_entry = sdei_entry, .kick = no_kick, .now_ns = sdei_ns,
};

static void setup(void)
{
	ck_assert_int_eq(psci__init(&psci, &psci_ops, 3, mpidrs, present), 0);
	ck_assert_int_eq(sdei__init(&sdei, &sdei_ops, 3, mpidrs, present), 0);
	vm = (struct kvm){ .nr_cpus = 3, .psci = &psci, .sdei = &sdei };
}

static void teardown(void)
{
	sdei__exit(&sdei);
	psci__exit(&psci);
}

static u64 call(unsigned int cpu, u32 nr, u64 a1, u64 a2, u64 a3, u64 a4, u64 a5)
{
	struct sdei_call c = { .fid = SDEI_FN(nr), .arg = { 0, a1, a2, a3, a4, a5 } };

	ck_assert_int_eq(sdei__call(&sdei, cpu, &c), SDEI_RETURN);
	return c.res[0];
}

static void expect_line(const char *line)
{
	ck_assert_msg(strstr(buf, line) != NULL, "no '%s' in:\n%s", line, buf);
}

START_TEST(list_format)
{
	ck_assert_uint_eq(call(0, SDEI_NR_EVENT_REGISTER, SDEI_EVENT_NMI, 0x80001000, 0x42, 0, 0), 0);
	ck_assert_uint_eq(call(0, SDEI_NR_EVENT_ENABLE, SDEI_EVENT_NMI, 0, 0, 0, 0), 0);
	ck_assert_uint_eq(call(0, SDEI_NR_EVENT_REGISTER, SDEI_EVENT_NOTIFY, 0x80002000, 7,
			       SDEI_RM_PE, 0), 0);
	ck_assert_uint_eq(call(0, SDEI_NR_PE_UNMASK, 0, 0, 0, 0, 0), 0);
	ck_assert_int_eq(sdei__signal(&sdei, SDEI_EVENT_NOTIFY, -1), 0);
	sdei_kvm__list(&vm, buf, sizeof(buf));
	expect_line("vcpu 0: on, unmasked\nvcpu 1: off, masked\nvcpu 2: absent, masked\n");
	expect_line("event 0 sw-signal: private normal\nevent 1000 nmi: private critical\n"
		    "  vcpu 0: registered enabled entry=0x80001000 arg=0x42\n");
	expect_line("event 2000 notify: shared normal\n"
		    "  registered pending entry=0x80002000 arg=0x7 route=pe:0x0\n");
	expect_line("event 2001 alert: shared critical\n");
}
END_TEST

/* lkvm sdei list --json reads this very listing back: every field, every kind of line. */
START_TEST(list_as_json)
{
	static char json[2 * CTL_MAX_PAYLOAD];
	struct json_buf j;

	ck_assert_uint_eq(call(0, SDEI_NR_EVENT_REGISTER, SDEI_EVENT_NMI, 0x80001000, 0x42, 0, 0), 0);
	ck_assert_uint_eq(call(0, SDEI_NR_EVENT_ENABLE, SDEI_EVENT_NMI, 0, 0, 0, 0), 0);
	ck_assert_uint_eq(call(0, SDEI_NR_EVENT_REGISTER, SDEI_EVENT_NOTIFY, 0x80002000, 7, 0, 0), 0);
	sdei_kvm__list(&vm, buf, sizeof(buf));
	json__init(&j, json, sizeof(json));
	ck_assert_int_eq(ctl_json__sdei(&j, buf), 0);
	ck_assert_msg(strstr(json, "{\"vcpus\":[{\"vcpu\":0,\"state\":\"on\",\"masked\":") == json,
		      "%s", json);
	ck_assert_msg(strstr(json, "{\"vcpu\":2,\"state\":\"absent\",\"masked\":true}],"
			      "\"events\":[{\"event\":0,"
			      "\"name\":\"sw-signal\",\"shared\":false,\"critical\":false,\"registrations\":[]},"),
		      "%s", json);
	ck_assert_msg(strstr(json, "{\"event\":1000,\"name\":\"nmi\",\"shared\":false,\"critical\":true,"
			      "\"registrations\":[{\"vcpu\":0,\"enabled\":true,\"running\":false,"
			      "\"pending\":false,\"unregister_pending\":false,\"entry\":2147487744,"
			      "\"arg\":66}]}"), "%s", json);
	ck_assert_msg(strstr(json, "\"entry\":2147491840,\"arg\":7,\"route\":\"any\"}]}"), "%s",
		      json);
	ck_assert_msg(!strcmp(json + strlen(json) - 4, "]}]}"), "%s", json);
	/* Text it does not know is refused, not half read. */
	json__init(&j, json, sizeof(json));
	ck_assert_int_eq(ctl_json__sdei(&j, "vcpu 0: on, masked\nsomething else\n"), -EINVAL);
}
END_TEST

/* The listing never overflows the control socket's payload, however small the room. */
START_TEST(list_truncates)
{
	char small[40];

	memset(small, 'x', sizeof(small));
	sdei_kvm__list(&vm, small, 20);
	ck_assert_uint_eq(strlen(small), 19);
	ck_assert_int_eq(small[20], 'x');
}
END_TEST

static int host_signal(const char *payload)
{
	*buf = '\0';
	return sdei_kvm__signal(&vm, payload, buf, sizeof(buf));
}

START_TEST(signal_errors)
{
	ck_assert_uint_eq(call(0, SDEI_NR_EVENT_REGISTER, SDEI_EVENT_NMI, 0x80001000, 0, 0, 0), 0);
	ck_assert_int_eq(host_signal("nmi -"), 0);
	ck_assert_int_eq(host_signal("1000 0"), 0);
	ck_assert_int_eq(host_signal("bogus 0"), -ENOENT);
	expect_line("sdei signal bogus: no such event");
	ck_assert_int_eq(host_signal("nmi 3"), -ENOENT);
	expect_line("vCPU 3: no such vCPU (this VM has 3: 0-2)");
	ck_assert_int_eq(host_signal("nmi 1"), -ENODEV);
	expect_line("vCPU 1 is off: it takes no events");
	ck_assert_int_eq(host_signal("nmi 2"), -ENODEV);
	expect_line("vCPU 2 is absent");
	ck_assert_int_eq(host_signal("cpu-notify -"), -ENOENT);
	expect_line("event 1001 is not registered on vCPU 0 by the guest");
	ck_assert_int_eq(host_signal("notify -"), -ENOENT);
	expect_line("event 2000 is not registered by the guest");
	ck_assert_uint_eq(call(0, SDEI_NR_EVENT_REGISTER, SDEI_EVENT_NOTIFY, 0x80002000, 0,
			       SDEI_RM_PE, 0), 0);
	ck_assert_int_eq(host_signal("notify 0"), -EINVAL);
	expect_line("routed it to one vCPU");
	ck_assert_int_eq(host_signal("notify -"), 0);
	/* Routed to vCPU 1, which went off since: the host gave no vCPU number to name. */
	sdei__cpu_power(&sdei, 1, SDEI_PE_ON);
	ck_assert_uint_eq(call(0, SDEI_NR_EVENT_REGISTER, SDEI_EVENT_ALERT, 0x80002000, 0,
			       SDEI_RM_PE, 1), 0);
	sdei__cpu_power(&sdei, 1, SDEI_PE_OFF);
	ck_assert_int_eq(host_signal("alert -"), -ENODEV);
	expect_line("sdei signal alert: the guest routed it to a vCPU that is off or absent");
	/* Malformed payloads: a client of our own never sends them, anyone else may. */
	ck_assert_int_eq(host_signal("nmi"), -EINVAL);
	ck_assert_int_eq(host_signal("nmi x"), -EINVAL);
	ck_assert_int_eq(host_signal("nmi 99999999"), -EINVAL);
	ck_assert_int_eq(host_signal("a-very-long-event-name-beyond-32-chars 0"), -EINVAL);
	expect_line("bad arguments");
}
END_TEST

Suite *sdei_kvm_suite(void)
{
	Suite *s = suite_create("sdei-kvm");
	TCase *tc = tcase_create("control");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, list_format);
	tcase_add_test(tc, list_truncates);
	tcase_add_test(tc, list_as_json);
	tcase_add_test(tc, signal_errors);
	suite_add_tcase(s, tc);
	return s;
}
