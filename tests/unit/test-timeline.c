/* lkvm timeline: the event log's parser, the per-vCPU state machine and the SVG it draws. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lkvm/timeline.h"
#include "suites.h"

/* A DT hot-add session as `lkvm events` prints it, with an SDEI delivery, a suspend and lines
 * a newer lkvm might write. */
static const char session[] =
	"{\"time\":13.910173,\"event\":\"cpu_on_request\",\"vcpu\":0,\"target\":2}\n"
	"{\"time\":13.910466,\"event\":\"cpu_on_denied\",\"vcpu\":0,\"target\":2}\n"
	"\n"
	"{\"time\":16.894531,\"event\":\"plug\",\"vcpu\":2}\n"
	"{\"time\":16.894600,\"event\":\"acpi_notify\",\"vcpu\":2,\"kind\":\"device_check\"}\n"
	"{\"time\":17.056541,\"event\":\"cpu_on_granted\",\"vcpu\":0,\"target\":2}\n"
	"{\"time\":17.058163,\"event\":\"cpu_start\",\"vcpu\":2}\n"
	"{\"time\":19.5,\"event\":\"sdei_dispatch\",\"vcpu\":2,\"sdei_event\":1000}\n"
	"{\"time\":19.6,\"event\":\"sdei_complete\",\"vcpu\":2,\"sdei_event\":1000,\"duration_ns\":250000}\n"
	"{\"time\":20,\"event\":\"suspend\",\"vcpu\":0}\n"
	"{\"time\":21.0,\"event\":\"resume\",\"vcpu\":0}\n"
	"{\"time\":22.0,\"event\":\"events_dropped\",\"count\":3}\n"
	"{ \"time\" : 22.5 , \"event\" : \"cpu_teleport\", \"vcpu\": 7, \"new\": true, \"n\": null }\n"
	"{\"time\":23.246919,\"event\":\"cpu_off\",\"vcpu\":2}\n"
	"{\"time\":26.158562,\"event\":\"unplug\",\"vcpu\":2}\n"
	"{\"time\":26.257624,\"event\":\"system_off\",\"vcpu\":0}\n"
	"{\"time\":27.0,\"event\":\"plug\",\"vcpu\":3}\n";

static struct timeline *tl;

static void setup(void)
{
	tl = calloc(1, sizeof(*tl));
	ck_assert_ptr_nonnull(tl);
}

static void teardown(void)
{
	timeline__free(tl);
	free(tl);
}

static void read_session(void)
{
	FILE *in = fmemopen((void *)session, sizeof(session) - 1, "r");

	ck_assert_ptr_nonnull(in);
	ck_assert_int_eq(timeline__read(tl, in, "session"), 0);
	fclose(in);
}

/* The SVG as a malloc'ed string. */
static char *svg(void)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);

	ck_assert_ptr_nonnull(out);
	ck_assert_int_eq(timeline__write_svg(tl, out), 0);
	fclose(out);
	return buf;
}

static unsigned int count(const char *hay, const char *needle)
{
	unsigned int n = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

/* The part of the SVG that draws one vCPU's row. */
static char *row(const char *doc, unsigned int cpu)
{
	char id[32];
	const char *start, *end;

	snprintf(id, sizeof(id), "id=\"vcpu%u\"", cpu);
	start = strstr(doc, id);
	ck_assert_ptr_nonnull(start);
	end = strstr(start, "\n</g>\n");
	ck_assert_ptr_nonnull(end);
	return strndup(start, (size_t)(end - start));
}

/* A line that must be taken. */
static void add(const char *line)
{
	const char *why = "";

	ck_assert_msg(!timeline__add_line(tl, line, &why), "%s: %s", line, why);
}

START_TEST(parses_fields_and_times)
{
	add("{\"time\":5.000250,\"event\":\"plug\",\"vcpu\":1}");
	add("{\"time\":5.5,\"event\":\"unplug\",\"vcpu\":1}");
	ck_assert_uint_eq(tl->t0_us, 5000250);
	ck_assert_uint_eq(tl->end_us, 499750);
	ck_assert_uint_eq(tl->nr_cpus, 2);
	ck_assert_uint_eq(tl->cpus[1].nr_marks, 2);
	ck_assert_uint_eq(tl->cpus[1].marks[1].t_us, 499750);
	ck_assert_int_eq(tl->cpus[1].marks[1].kind, TL_UNPLUG);
}
END_TEST

START_TEST(replays_states_per_vcpu)
{
	static const enum tl_state cpu2[] = { TL_OFF, TL_PENDING, TL_ON, TL_OFF, TL_ABSENT };
	const struct tl_cpu *c = &tl->cpus[2];

	read_session();
	/* Three rows: the unknown event's vCPU 7 and the plug after system_off do not count. */
	ck_assert_uint_eq(tl->nr_cpus, 3);
	ck_assert_uint_eq(tl->end_us, 26257624 - 13910173);
	ck_assert_int_eq(tl->cpus[0].first, TL_ON);
	ck_assert_uint_eq(tl->cpus[0].nr_changes, 2);
	ck_assert_int_eq(tl->cpus[0].changes[0].state, TL_SUSPENDED);
	ck_assert_uint_eq(tl->cpus[0].changes[0].t_us, 20000000 - 13910173);
	ck_assert_int_eq(tl->cpus[1].first, TL_UNKNOWN);
	/* vCPU 2's first change, the plug, says it was absent before. */
	ck_assert_int_eq(c->first, TL_ABSENT);
	ck_assert_uint_eq(c->nr_changes, ARRAY_SIZE(cpu2));
	for (size_t i = 0; i < ARRAY_SIZE(cpu2); i++)
		ck_assert_msg(c->changes[i].state == cpu2[i], "change %zu: %s", i,
			      timeline__state_name(c->changes[i].state));
	ck_assert_uint_eq(c->nr_marks, 6);
	ck_assert_int_eq(c->marks[0].kind, TL_DENIED);
	ck_assert_str_eq(c->marks[0].title, "CPU_ON denied (asked by vCPU 0)");
	ck_assert_int_eq(c->marks[2].kind, TL_ACPI);
	ck_assert_str_eq(c->marks[2].title, "ACPI device_check");
	ck_assert_str_eq(c->marks[4].title, "SDEI event 1000 handled in 250 us");
}
END_TEST

START_TEST(svg_draws_rows_spans_and_marks)
{
	/* How many times each row draws a state or mark. */
	static const struct { unsigned int cpu; const char *what; unsigned int n; } want[] = {
		{ 0, "class=\"state on\"", 2 }, { 0, "class=\"state suspended\"", 1 },
		{ 0, "class=\"mark", 0 }, { 1, "class=\"state unknown\"", 1 },
		{ 2, "class=\"state absent\"", 2 }, { 2, "class=\"state off\"", 2 },
		{ 2, "class=\"state on-pending\"", 1 }, { 2, "class=\"state on\"", 1 },
		{ 2, "<g class=\"mark denied\"><title>vCPU 2: CPU_ON denied", 1 },
		{ 2, "<g class=\"mark plug\"><title>vCPU 2: plug at 2.984358 s", 1 },
		{ 2, "<g class=\"mark unplug\">", 1 }, { 2, "<g class=\"mark acpi\">", 1 },
		{ 2, "<g class=\"mark sdei\">", 2 },
		/* The first span starts at the plot's left edge. */
		{ 2, "class=\"state absent\" x=\"70.00\"", 1 },
	};
	char *doc;

	read_session();
	doc = svg();
	ck_assert_msg(!strncmp(doc, "<?xml", 5) && strstr(doc, "</svg>\n"), "not an SVG");
	ck_assert_uint_eq(count(doc, "<g class=\"vcpu\""), 3);
	for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
		char *r = row(doc, want[i].cpu);

		ck_assert_msg(count(r, want[i].what) == want[i].n, "vCPU %u: %u of %s, not %u",
			      want[i].cpu, count(r, want[i].what), want[i].what, want[i].n);
		free(r);
	}
	/* 12.3 s: ticks every 2 s from 0, none past the end. */
	ck_assert_ptr_nonnull(strstr(doc, "<text x=\"70.00\" y=\"174\" text-anchor=\"middle\">0 s"));
	ck_assert_ptr_nonnull(strstr(doc, "text-anchor=\"middle\">12 s</text>"));
	ck_assert_ptr_null(strstr(doc, ">14 s</text>"));
	free(doc);
}
END_TEST

START_TEST(svg_ticks_follow_the_span)
{
	char *doc;

	add("{\"time\":1.0,\"event\":\"cpu_off\",\"vcpu\":0}");
	add("{\"time\":1.045,\"event\":\"cpu_start\",\"vcpu\":0}");
	doc = svg();
	/* 45 ms: ticks every 5 ms, labelled to the millisecond. */
	ck_assert_ptr_nonnull(strstr(doc, ">0.005 s</text>"));
	ck_assert_ptr_nonnull(strstr(doc, ">0.045 s</text>"));
	ck_assert_uint_eq(count(doc, "class=\"tick\""), 10);
	free(doc);
}
END_TEST

START_TEST(svg_escapes_the_log_text)
{
	char *doc;

	add("{\"time\":1,\"event\":\"acpi_notify\",\"vcpu\":0,\"kind\":\"<b>&\"}");
	doc = svg();
	ck_assert_ptr_nonnull(strstr(doc, "ACPI &#60;b&#62;&#38; at"));
	ck_assert_ptr_null(strstr(doc, "<b>"));
	free(doc);
}
END_TEST

START_TEST(clock_steps_back_do_not_go_back)
{
	add("{\"time\":10,\"event\":\"cpu_off\",\"vcpu\":0}");
	add("{\"time\":12,\"event\":\"cpu_start\",\"vcpu\":0}");
	add("{\"time\":9,\"event\":\"cpu_off\",\"vcpu\":0}");
	ck_assert_uint_eq(tl->cpus[0].changes[2].t_us, 2000000);
	ck_assert_uint_eq(tl->end_us, 2000000);
}
END_TEST

START_TEST(reset_starts_over_from_vcpu_0)
{
	add("{\"time\":1,\"event\":\"cpu_start\",\"vcpu\":1}");
	add("{\"time\":1,\"event\":\"suspend\",\"vcpu\":0}");
	add("{\"time\":1,\"event\":\"unplug\",\"vcpu\":2}");
	add("{\"time\":2,\"event\":\"system_reset\",\"vcpu\":1}");
	ck_assert_int_eq(tl->cpus[0].state, TL_ON);
	ck_assert_int_eq(tl->cpus[1].state, TL_OFF);
	ck_assert_int_eq(tl->cpus[2].state, TL_ABSENT);
	ck_assert_uint_eq(tl->cpus[1].changes[1].t_us, 1000000);
}
END_TEST

START_TEST(malformed_lines_are_errors)
{
	static const char *const bad[] = {
		"", "plug", "[1]", "{", "{\"time\":1,\"event\":\"plug\",\"vcpu\":1",
		"{\"time\":1,\"event\":\"plug\",\"vcpu\":1} x", "{\"event\":\"plug\",\"vcpu\":1}",
		"{\"time\":1,\"vcpu\":1}", "{\"time\":1,\"event\":\"plug\"}",
		"{\"time\":1,\"event\":\"cpu_on_granted\",\"vcpu\":0}",
		"{\"time\":1,\"event\":\"plug\",\"vcpu\":512}",
		"{\"time\":1,\"event\":\"plug\",\"vcpu\":4294967296}",
		"{\"time\":1,\"event\":\"plug\",\"vcpu\":-1}", "{\"time\":1.,\"event\":\"plug\",\"vcpu\":1}",
		"{\"time\":\"1\",\"event\":\"plug\",\"vcpu\":1}", "{\"time\":1,\"event\":2,\"vcpu\":1}",
		"{\"time\":1,\"event\":\"pl\\\"ug\",\"vcpu\":1}", "{\"time\":1,\"event\":\"plug\",\"vcpu\":[1]}",
		"{\"time\":1 \"event\":\"plug\",\"vcpu\":1}", "{time:1,\"event\":\"plug\",\"vcpu\":1}",
		"{\"time\":99999999999999999999,\"event\":\"plug\",\"vcpu\":1}",
	};

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		const char *why = NULL;

		ck_assert_msg(timeline__add_line(tl, bad[i], &why) == -EINVAL, "accepted: %s", bad[i]);
		ck_assert_msg(why && *why, "no reason for: %s", bad[i]);
	}
	ck_assert_uint_eq(tl->nr_cpus, 0);
}
END_TEST

START_TEST(read_names_the_bad_line)
{
	static const char log[] = "{\"time\":1,\"event\":\"plug\",\"vcpu\":1}\n\n{\"time\":2,\"event\"}\n"
				  "{\"time\":3,\"event\":\"unplug\",\"vcpu\":1}\n";
	FILE *in = fmemopen((void *)log, sizeof(log) - 1, "r");
	const char *err;

	capture_begin(2);
	ck_assert_int_eq(timeline__read(tl, in, "ev.jsonl"), -EINVAL);
	err = capture_end(2);
	fclose(in);
	ck_assert_str_eq(err, "lkvm: ev.jsonl:3: expected \"key\":\n");
	/* Nothing after the bad line is taken. */
	ck_assert_uint_eq(tl->cpus[1].nr_marks, 1);
}
END_TEST

START_TEST(long_lines_are_errors)
{
	char *log = malloc(TL_LINE_MAX + 64);
	FILE *in;
	const char *err;

	ck_assert_ptr_nonnull(log);
	memset(log, ' ', TL_LINE_MAX + 63);
	memcpy(log, "{\"time\":1,\"event\":\"plug\",\"vcpu\":1", 33);
	memcpy(log + TL_LINE_MAX + 61, "}\n", 2);
	in = fmemopen(log, TL_LINE_MAX + 63, "r");
	capture_begin(2);
	ck_assert_int_eq(timeline__read(tl, in, "big"), -EINVAL);
	err = capture_end(2);
	fclose(in);
	free(log);
	ck_assert_str_eq(err, "lkvm: big:1: line too long\n");
}
END_TEST

Suite *timeline_suite(void)
{
	Suite *s = suite_create("timeline");
	TCase *tc = tcase_create("timeline");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, parses_fields_and_times);
	tcase_add_test(tc, replays_states_per_vcpu);
	tcase_add_test(tc, svg_draws_rows_spans_and_marks);
	tcase_add_test(tc, svg_ticks_follow_the_span);
	tcase_add_test(tc, svg_escapes_the_log_text);
	tcase_add_test(tc, clock_steps_back_do_not_go_back);
	tcase_add_test(tc, reset_starts_over_from_vcpu_0);
	tcase_add_test(tc, malformed_lines_are_errors);
	tcase_add_test(tc, read_names_the_bad_line);
	tcase_add_test(tc, long_lines_are_errors);
	suite_add_tcase(s, tc);
	return s;
}
