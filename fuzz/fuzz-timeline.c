/*
 * libFuzzer target for `lkvm timeline` (util/timeline.c, util/timeline-svg.c): a log is a user's
 * file, from any lkvm version or none. Each input is a log of lines, read as the command reads
 * it, then drawn to SVG. Besides the sanitizers, it checks what the drawing relies on: no row
 * beyond TL_MAX_CPUS, each vCPU's changes in time order and within the log's end, marks within
 * the end too, and the SVG closed.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lkvm/timeline.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const struct timeline *tl)
{
	if (tl->nr_cpus > TL_MAX_CPUS)
		abort();
	for (unsigned int c = 0; c < tl->nr_cpus; c++) {
		const struct tl_cpu *cpu = &tl->cpus[c];

		for (size_t i = 0; i < cpu->nr_changes; i++)
			if (cpu->changes[i].state >= TL_NR_STATES ||
			    (i && cpu->changes[i].t_us < cpu->changes[i - 1].t_us) ||
			    cpu->changes[i].t_us > tl->end_us)
				abort();
		for (size_t i = 0; i < cpu->nr_marks; i++)
			if (cpu->marks[i].kind >= TL_NR_MARKS || cpu->marks[i].t_us > tl->end_us)
				abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct timeline tl;	/* 512 rows: too big for the stack */
	char *svg = NULL;
	size_t svg_len = 0;
	FILE *in = fmemopen((void *)data, size, "r"), *out;

	if (!size || !in) {
		if (in)
			fclose(in);
		return 0;
	}
	memset(&tl, 0, sizeof(tl));
	if (!timeline__read(&tl, in, "fuzz")) {
		check(&tl);
		out = open_memstream(&svg, &svg_len);
		if (!out || timeline__write_svg(&tl, out))
			abort();
		fclose(out);
		if (svg_len < 6 || memcmp(svg + svg_len - 7, "</svg>\n", 7))
			abort();
		free(svg);
	}
	timeline__free(&tl);
	fclose(in);
	return 0;
}
