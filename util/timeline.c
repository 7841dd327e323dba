/*
 * lkvm timeline's reader: each line of `lkvm events` (flat JSON objects of strings and numbers,
 * as control/proto.c writes them) replayed into per-vCPU state changes and marks. Events it does
 * not know are skipped, so that a newer lkvm's logs still render.
 */
#include "lkvm/timeline.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define TL_MAX(a, b) ((a) > (b) ? (a) : (b))

struct tl_line {
	char event[64], kind[64];
	u64 time_us, duration_ns;
	unsigned int vcpu, target, sdei_event;
	bool has_time, has_vcpu, has_target;
};

const char *timeline__state_name(enum tl_state s)
{
	static const char *const names[TL_NR_STATES] = {
		"unknown", "absent", "off", "on-pending", "on", "suspended",
	};

	return (unsigned int)s < TL_NR_STATES ? names[s] : "?";
}

static const char *skip_ws(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
		p++;
	return p;
}

/* A string without escapes (lkvm writes none), copied into buf; NULL if malformed. */
static const char *parse_string(const char *p, char *buf, size_t len)
{
	size_t n = 0;

	if (*p++ != '"')
		return NULL;
	for (; *p != '"'; p++) {
		if (!*p || *p == '\\' || (unsigned char)*p < 0x20 || n + 1 >= len)
			return NULL;
		buf[n++] = *p;
	}
	buf[n] = '\0';
	return p + 1;
}

/* An unsigned number: its whole part, and its fraction in millionths (further digits dropped). */
static const char *parse_number(const char *p, u64 *whole, u64 *frac_us)
{
	u64 v = 0, f = 0, scale = 100000;

	if (*p < '0' || *p > '9')
		return NULL;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (v > (UINT64_MAX - 9) / 10)
			return NULL;
		v = v * 10 + (u64)(*p - '0');
	}
	if (*p == '.') {
		if (p[1] < '0' || p[1] > '9')
			return NULL;
		for (p++; *p >= '0' && *p <= '9'; p++, scale /= 10)
			f += (u64)(*p - '0') * scale;
	}
	*whole = v;
	*frac_us = f;
	return p;
}

static int tl_line__set(struct tl_line *l, const char *key, const char *str, u64 num, u64 frac,
			const char **why)
{
	bool is_num = !str;

	if (!strcmp(key, "time")) {
		if (!is_num || num > UINT64_MAX / 1000000 - 1)
			return *why = "\"time\" is not a time in seconds", -EINVAL;
		l->time_us = num * 1000000 + frac;
		l->has_time = true;
		return 0;
	}
	if (!strcmp(key, "event") || !strcmp(key, "kind")) {
		if (is_num)
			return *why = "\"event\" and \"kind\" are strings", -EINVAL;
		snprintf(!strcmp(key, "event") ? l->event : l->kind, sizeof(l->event), "%s", str);
		return 0;
	}
	if (!is_num)
		return 0;
	if (!strcmp(key, "duration_ns"))
		l->duration_ns = num;
	else if (num > UINT32_MAX || frac)
		return strcmp(key, "vcpu") && strcmp(key, "target") && strcmp(key, "sdei_event") ? 0 :
		       (*why = "a vCPU or event number out of range", -EINVAL);
	else if (!strcmp(key, "vcpu"))
		l->vcpu = (unsigned int)num, l->has_vcpu = true;
	else if (!strcmp(key, "target"))
		l->target = (unsigned int)num, l->has_target = true;
	else if (!strcmp(key, "sdei_event"))
		l->sdei_event = (unsigned int)num;
	return 0;
}

/* One flat object: keys to strings, numbers, true, false or null. */
static int tl_line__parse(struct tl_line *l, const char *p, const char **why)
{
	char key[64], str[64];
	u64 num, frac;
	int err;

	*why = "not a JSON object";
	p = skip_ws(p);
	if (*p++ != '{')
		return -EINVAL;
	for (p = skip_ws(p); *p != '}';) {
		p = parse_string(p, key, sizeof(key));
		if (!p || *(p = skip_ws(p)) != ':')
			return *why = "expected \"key\":", -EINVAL;
		p = skip_ws(p + 1);
		if (*p == '"') {
			p = parse_string(p, str, sizeof(str));
			err = p ? tl_line__set(l, key, str, 0, 0, why) : (*why = "bad string", -EINVAL);
		} else if (!strncmp(p, "true", 4) || !strncmp(p, "null", 4) || !strncmp(p, "false", 5)) {
			p += *p == 'f' ? 5 : 4;
			err = 0;
		} else {
			p = parse_number(p, &num, &frac);
			err = p ? tl_line__set(l, key, NULL, num, frac, why) :
				  (*why = "bad value (a string or an unsigned number)", -EINVAL);
		}
		if (err)
			return err;
		p = skip_ws(p);
		if (*p == ',')
			p = skip_ws(p + 1);
		else if (*p != '}')
			return *why = "expected ',' or '}'", -EINVAL;
	}
	if (*skip_ws(p + 1))
		return *why = "text after the object", -EINVAL;
	if (!l->has_time || !l->event[0])
		return *why = "no \"time\" or \"event\"", -EINVAL;
	return 0;
}

static int tl__push(void **arr, size_t *nr, size_t size, const void *item)
{
	void *n = realloc(*arr, (*nr + 1) * size);

	if (!n)
		return -ENOMEM;
	memcpy((char *)n + *nr * size, item, size);
	*arr = n;
	(*nr)++;
	return 0;
}

/* vcpu goes from `from` (its state before its first change, when unknown) to `to`. */
static int tl__change(struct timeline *tl, unsigned int vcpu, u64 t, enum tl_state from,
		      enum tl_state to)
{
	struct tl_cpu *c = &tl->cpus[vcpu];
	struct tl_change ch = { t, to };

	if (c->state == TL_UNKNOWN && !c->nr_changes)
		c->first = c->state = from;
	if (c->state == to)
		return 0;
	c->state = to;
	return tl__push((void **)&c->changes, &c->nr_changes, sizeof(ch), &ch);
}

static int tl__mark(struct timeline *tl, unsigned int vcpu, u64 t, enum tl_mark_kind kind,
		    const char *title)
{
	struct tl_mark m = { .t_us = t, .kind = kind };

	snprintf(m.title, sizeof(m.title), "%s", title);
	return tl__push((void **)&tl->cpus[vcpu].marks, &tl->cpus[vcpu].nr_marks, sizeof(m), &m);
}

/* The event's effect: states it changes (and what it says the state was), marks it leaves. */
static int tl__apply(struct timeline *tl, const struct tl_line *l, u64 t)
{
	const char *e = l->event;
	unsigned int v = l->vcpu, tg = l->target;
	char title[96];

	if (!strcmp(e, "cpu_on_request"))
		return tl__change(tl, v, t, TL_ON, TL_ON);
	if (!strcmp(e, "cpu_on_granted"))
		return tl__change(tl, v, t, TL_ON, TL_ON) ? -ENOMEM :
		       tl__change(tl, tg, t, TL_OFF, TL_PENDING);
	if (!strcmp(e, "cpu_on_denied")) {
		snprintf(title, sizeof(title), "CPU_ON denied (asked by vCPU %u)", v);
		return tl__change(tl, v, t, TL_ON, TL_ON) ? -ENOMEM :
		       tl__mark(tl, tg, t, TL_DENIED, title);
	}
	if (!strcmp(e, "cpu_start"))
		return tl__change(tl, v, t, TL_PENDING, TL_ON);
	if (!strcmp(e, "cpu_off"))
		return tl__change(tl, v, t, TL_ON, TL_OFF);
	if (!strcmp(e, "suspend"))
		return tl__change(tl, v, t, TL_ON, TL_SUSPENDED);
	if (!strcmp(e, "resume"))
		return tl__change(tl, v, t, TL_SUSPENDED, TL_ON);
	if (!strcmp(e, "plug"))
		return tl__change(tl, v, t, TL_ABSENT, TL_OFF) ? -ENOMEM :
		       tl__mark(tl, v, t, TL_PLUG, "plug");
	if (!strcmp(e, "unplug"))
		return tl__change(tl, v, t, TL_OFF, TL_ABSENT) ? -ENOMEM :
		       tl__mark(tl, v, t, TL_UNPLUG, "unplug");
	if (!strcmp(e, "acpi_notify") || !strcmp(e, "acpi_eject")) {
		snprintf(title, sizeof(title), "ACPI %s", e[5] == 'e' ? "_EJ0 (eject)" : l->kind);
		return tl__mark(tl, v, t, TL_ACPI, title);
	}
	if (!strcmp(e, "sdei_dispatch") || !strcmp(e, "sdei_complete")) {
		if (e[5] == 'd')
			snprintf(title, sizeof(title), "SDEI event %u dispatched", l->sdei_event);
		else
			snprintf(title, sizeof(title), "SDEI event %u handled in %" PRIu64 " us",
				 l->sdei_event, l->duration_ns / 1000);
		return tl__mark(tl, v, t, TL_SDEI, title);
	}
	return 0;
}

/* A reset powers every vCPU off but vCPU 0, which boots the guest again; plugs stay. */
static int tl__reset(struct timeline *tl, u64 t)
{
	for (unsigned int i = 0; i < tl->nr_cpus; i++) {
		enum tl_state st = tl->cpus[i].state;
		enum tl_state to = !i ? TL_ON : st == TL_ABSENT || st == TL_UNKNOWN ? st : TL_OFF;

		if (tl__change(tl, i, t, st, to))
			return -ENOMEM;
	}
	return 0;
}

static bool tl__known(const char *e)
{
	static const char *const per_cpu[] = {
		"cpu_on_request", "cpu_on_granted", "cpu_on_denied", "cpu_start", "cpu_off",
		"suspend", "resume", "plug", "unplug", "acpi_notify", "acpi_eject",
		"sdei_dispatch", "sdei_complete",
	};

	for (size_t i = 0; i < ARRAY_SIZE(per_cpu); i++) {
		if (!strcmp(e, per_cpu[i]))
			return true;
	}
	return false;
}

/* An event of one vCPU (and of its CPU_ON's target). */
static int tl__add_event(struct timeline *tl, const struct tl_line *l, u64 t, const char **why)
{
	bool target = !strncmp(l->event, "cpu_on_", 7);

	if (!l->has_vcpu || (target && !l->has_target))
		return *why = target ? "no \"vcpu\" or \"target\"" : "no \"vcpu\"", -EINVAL;
	if (l->vcpu >= TL_MAX_CPUS || (target && l->target >= TL_MAX_CPUS))
		return *why = "vCPU number out of range", -EINVAL;
	tl->nr_cpus = TL_MAX(tl->nr_cpus, TL_MAX(l->vcpu, target ? l->target : 0) + 1);
	return tl__apply(tl, l, t);
}

int timeline__add_line(struct timeline *tl, const char *line, const char **why)
{
	struct tl_line l = { 0 };
	u64 t;
	int err = tl_line__parse(&l, line, why);

	if (err)
		return err;
	if (tl->ended)
		return 0;
	if (!tl->started)
		tl->t0_us = l.time_us, tl->started = true;
	/* The clock is CLOCK_REALTIME: never let a step back draw time backwards. */
	t = l.time_us > tl->t0_us ? l.time_us - tl->t0_us : 0;
	if (t < tl->end_us)
		t = tl->end_us;
	tl->end_us = t;
	if (!strcmp(l.event, "system_off"))
		tl->ended = true;
	if (!strcmp(l.event, "system_reset"))
		err = tl__reset(tl, t);
	else if (tl__known(l.event))
		err = tl__add_event(tl, &l, t, why);
	if (err == -ENOMEM)
		*why = "out of memory";
	return err;
}

int timeline__read(struct timeline *tl, FILE *in, const char *name)
{
	char *line = NULL;
	const char *why;
	size_t cap = 0, nr = 0;
	ssize_t len;
	int err = 0;

	while (!err && (len = getline(&line, &cap, in)) >= 0) {
		nr++;
		why = "line too long";
		if (!*skip_ws(line))
			continue;
		err = len > TL_LINE_MAX ? -EINVAL : timeline__add_line(tl, line, &why);
		if (err)
			pr_err("%s:%zu: %s", name, nr, why);
	}
	if (!err && ferror(in)) {
		err = -EIO;
		pr_err("%s: %s", name, strerror(EIO));
	}
	free(line);
	return err;
}

void timeline__free(struct timeline *tl)
{
	for (unsigned int i = 0; i < TL_MAX_CPUS; i++) {
		free(tl->cpus[i].changes);
		free(tl->cpus[i].marks);
	}
}
