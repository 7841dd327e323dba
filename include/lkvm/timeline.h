/*
 * `lkvm timeline`: the JSON lines `lkvm events` prints, replayed per vCPU into power-state spans
 * and marks, and drawn as SVG. No KVM here: a log from any machine renders anywhere.
 */
#ifndef LKVM_TIMELINE_H
#define LKVM_TIMELINE_H

#include "lkvm/util.h"

#include <stdio.h>

#define TL_MAX_CPUS	512	/* KVM's limit on arm64 */
#define TL_LINE_MAX	4096	/* an event is one short flat object */

enum tl_state { TL_UNKNOWN, TL_ABSENT, TL_OFF, TL_PENDING, TL_ON, TL_SUSPENDED, TL_NR_STATES };
enum tl_mark_kind { TL_DENIED, TL_PLUG, TL_UNPLUG, TL_ACPI, TL_SDEI, TL_NR_MARKS };

struct tl_change {
	u64 t_us;			/* since the log's first event */
	enum tl_state state;
};

struct tl_mark {
	u64 t_us;
	enum tl_mark_kind kind;
	char title[96];
};

struct tl_cpu {
	enum tl_state first;		/* before its first change: inferred from that change */
	enum tl_state state;
	struct tl_change *changes;
	size_t nr_changes;
	struct tl_mark *marks;
	size_t nr_marks;
};

struct timeline {
	struct tl_cpu cpus[TL_MAX_CPUS];
	unsigned int nr_cpus;		/* rows: the highest vCPU seen + 1, or more if asked */
	bool started, ended;
	u64 t0_us, end_us;		/* t0 absolute; end since t0 */
};

const char *timeline__state_name(enum tl_state s);
/* One line of the log: 0, or -EINVAL with *why saying what is wrong; unknown events count as 0. */
int timeline__add_line(struct timeline *tl, const char *line, const char **why);
/* A whole log; errors as `lkvm: NAME:LINE: why`. 0 or a negative errno. */
int timeline__read(struct timeline *tl, FILE *in, const char *name);
int timeline__write_svg(const struct timeline *tl, FILE *out);
void timeline__free(struct timeline *tl);

#endif
