/*
 * lkvm timeline's drawing: one row per vCPU, a rectangle per span of one power state, a mark
 * per denied CPU_ON, plug, unplug, ACPI notification and SDEI delivery, a legend and a time
 * axis. Every shape has a <title>, which browsers show as its tooltip.
 */
#include "lkvm/timeline.h"

#include <errno.h>
#include <string.h>

#define SVG_W		1000
#define SVG_LEFT	70	/* the row labels */
#define SVG_RIGHT	20
#define SVG_TOP		56	/* the title and the legend */
#define SVG_ROW		24
#define SVG_GAP		8
#define PLOT_W		(SVG_W - SVG_LEFT - SVG_RIGHT)

static const char *const state_fill[TL_NR_STATES] = {
	"#ffffff", "#eeeeee", "#9e9e9e", "#ffb300", "#43a047", "#42a5f5",
};

static const char *const mark_name[TL_NR_MARKS] = {
	"denied", "plug", "unplug", "acpi", "sdei",
};

/* Where in its row a mark sits: a plug and its ACPI notification come at the same moment. */
static const double mark_dy[TL_NR_MARKS] = { SVG_ROW / 2.0, 6, 6, SVG_ROW - 6, SVG_ROW / 2.0 };

static const char *const mark_label[TL_NR_MARKS] = {
	"CPU_ON denied", "plug", "unplug", "ACPI notify/eject", "SDEI",
};

struct svg {
	FILE *out;
	u64 end_us;		/* the right edge: at least 1 us, so that scaling divides */
};

static double svg__x(const struct svg *s, u64 t)
{
	return SVG_LEFT + (double)t * PLOT_W / (double)s->end_us;
}

static double row_y(unsigned int row)
{
	return SVG_TOP + row * (SVG_ROW + SVG_GAP);
}

/* A mark's shape centred on (x, y); titled by the caller. */
static void svg__shape(FILE *out, enum tl_mark_kind k, double x, double y)
{
	switch (k) {
	case TL_DENIED:
		fprintf(out, "<path d=\"M%.1f %.1fl10 10m0 -10l-10 10\" stroke=\"#c62828\" "
			"stroke-width=\"3\"/>", x - 5, y - 5);
		break;
	case TL_PLUG:
		fprintf(out, "<path d=\"M%.1f %.1fl6 -10l6 10z\" fill=\"#6a1b9a\" stroke=\"#fff\"/>",
			x - 6, y + 5);
		break;
	case TL_UNPLUG:
		fprintf(out, "<path d=\"M%.1f %.1fl6 10l6 -10z\" fill=\"#212121\" stroke=\"#fff\"/>",
			x - 6, y - 5);
		break;
	case TL_ACPI:
		fprintf(out, "<path d=\"M%.1f %.1fl6 -6l6 6l-6 6z\" fill=\"#0d47a1\" "
			"stroke=\"#fff\"/>", x - 6, y);
		break;
	default:
		fprintf(out, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"5\" fill=\"#e65100\" "
			"stroke=\"#fff\"/>", x, y);
	}
}

/* Each entry as wide as its label, about 7 pixels a letter. */
static void svg__legend(FILE *out)
{
	double x = SVG_LEFT;

	fprintf(out, "<g class=\"legend\">\n");
	for (int st = TL_UNKNOWN; st < TL_NR_STATES; st++) {
		fprintf(out, "<rect x=\"%.0f\" y=\"28\" width=\"14\" height=\"14\" fill=\"%s\" "
			"stroke=\"#757575\"/><text x=\"%.0f\" y=\"40\">%s</text>\n",
			x, state_fill[st], x + 18, timeline__state_name(st));
		x += 32 + 7 * strlen(timeline__state_name(st));
	}
	for (int k = 0; k < TL_NR_MARKS; k++) {
		svg__shape(out, k, x + 7, 35);
		fprintf(out, "<text x=\"%.0f\" y=\"40\">%s</text>\n", x + 16, mark_label[k]);
		x += 30 + 7 * strlen(mark_label[k]);
	}
	fprintf(out, "</g>\n");
}

static void svg__span(const struct svg *s, unsigned int cpu, enum tl_state st, u64 t0, u64 t1)
{
	if (t1 <= t0)
		return;
	fprintf(s->out, "<rect class=\"state %s\" x=\"%.2f\" y=\"%.0f\" width=\"%.2f\" "
		"height=\"%d\" fill=\"%s\"><title>vCPU %u %s, %.3f s to %.3f s</title></rect>\n",
		timeline__state_name(st), svg__x(s, t0), row_y(cpu), svg__x(s, t1) - svg__x(s, t0),
		SVG_ROW, state_fill[st], cpu, timeline__state_name(st), t0 / 1e6, t1 / 1e6);
}

/* Text from the log (an ACPI notification's kind) may hold anything: escape it. */
static void svg__text(FILE *out, const char *t)
{
	for (; *t; t++) {
		if (*t == '<' || *t == '>' || *t == '&' || *t == '"')
			fprintf(out, "&#%d;", *t);
		else
			fputc(*t, out);
	}
}

static void svg__row(const struct svg *s, const struct tl_cpu *c, unsigned int cpu)
{
	enum tl_state st = c->first;
	u64 from = 0;

	fprintf(s->out, "<g class=\"vcpu\" id=\"vcpu%u\">\n<text x=\"%d\" y=\"%.0f\" "
		"text-anchor=\"end\">vCPU %u</text>\n", cpu, SVG_LEFT - 8, row_y(cpu) + 16, cpu);
	for (size_t i = 0; i < c->nr_changes; i++) {
		svg__span(s, cpu, st, from, c->changes[i].t_us);
		st = c->changes[i].state;
		from = c->changes[i].t_us;
	}
	svg__span(s, cpu, st, from, s->end_us);
	fprintf(s->out, "<rect class=\"row\" x=\"%d\" y=\"%.0f\" width=\"%d\" height=\"%d\" "
		"fill=\"none\" stroke=\"#bdbdbd\"/>\n", SVG_LEFT, row_y(cpu), PLOT_W, SVG_ROW);
	for (size_t i = 0; i < c->nr_marks; i++) {
		const struct tl_mark *m = &c->marks[i];

		fprintf(s->out, "<g class=\"mark %s\"><title>vCPU %u: ", mark_name[m->kind], cpu);
		svg__text(s->out, m->title);
		fprintf(s->out, " at %.6f s</title>", m->t_us / 1e6);
		svg__shape(s->out, m->kind, svg__x(s, m->t_us), row_y(cpu) + mark_dy[m->kind]);
		fprintf(s->out, "</g>\n");
	}
	fprintf(s->out, "</g>\n");
}

/* Ticks 1, 2 or 5 times a power of ten apart, at most 10 of them, labelled to their precision. */
static void svg__axis(const struct svg *s, double y)
{
	u64 step = 1, tens = 0;
	int decimals = 6;

	while (s->end_us / step > 10) {
		u64 next = step * (tens % 3 == 1 ? 5 : 2) / (tens % 3 == 1 ? 2 : 1);

		step = next;
		tens++;
	}
	for (u64 p = step; p % 10 == 0 && decimals > 0; p /= 10)
		decimals--;
	fprintf(s->out, "<g class=\"axis\">\n<line x1=\"%d\" y1=\"%.0f\" x2=\"%d\" y2=\"%.0f\" "
		"stroke=\"#424242\"/>\n", SVG_LEFT, y, SVG_LEFT + PLOT_W, y);
	for (u64 t = 0; t <= s->end_us; t += step)
		fprintf(s->out, "<line class=\"tick\" x1=\"%.2f\" y1=\"%.0f\" x2=\"%.2f\" "
			"y2=\"%.0f\" stroke=\"#424242\"/><text x=\"%.2f\" y=\"%.0f\" "
			"text-anchor=\"middle\">%.*f s</text>\n", svg__x(s, t), y, svg__x(s, t), y + 5,
			svg__x(s, t), y + 18, decimals, t / 1e6);
	fprintf(s->out, "</g>\n");
}

int timeline__write_svg(const struct timeline *tl, FILE *out)
{
	struct svg s = { .out = out, .end_us = tl->end_us ? tl->end_us : 1 };
	double axis = row_y(tl->nr_cpus) + 4;

	fprintf(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/"
		"2000/svg\" width=\"%d\" height=\"%.0f\" viewBox=\"0 0 %d %.0f\" "
		"font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%%\" height=\"100%%\" "
		"fill=\"#ffffff\"/>\n<text x=\"%d\" y=\"16\" font-size=\"14\">lkvm timeline: %u vCPUs, "
		"%.3f s</text>\n", SVG_W, axis + 30, SVG_W, axis + 30, SVG_LEFT, tl->nr_cpus,
		tl->end_us / 1e6);
	svg__legend(out);
	for (unsigned int i = 0; i < tl->nr_cpus; i++)
		svg__row(&s, &tl->cpus[i], i);
	svg__axis(&s, axis);
	fprintf(out, "</svg>\n");
	return ferror(out) ? -EIO : 0;
}
