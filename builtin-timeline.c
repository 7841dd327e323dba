/* lkvm timeline EVENTS.jsonl [-o FILE.svg]: draw what `lkvm events` recorded, one row per vCPU. */
#include "lkvm/builtin.h"
#include "lkvm/exit-codes.h"
#include "lkvm/help.h"
#include "lkvm/timeline.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const struct help timeline_help = {
	.synopsis = "timeline [<options>] EVENTS.jsonl",
	.about = "Draw a power event log as an SVG timeline: a row per vCPU, coloured by power "
		 "state, with marks for hot-add, ACPI and SDEI events. EVENTS.jsonl is what lkvm "
		 "events printed, or lkvm run --events-log wrote (-: stdin).",
	.items = (const struct help_item[]){
		{ "-o, --output FILE", "SVG to write (default, or -: stdout); not a symlink or "
				       "another user's file" },
		{ "-c, --cpus N", "draw at least N vCPU rows (default: the vCPUs in the log)" },
		{ NULL },
	},
	.notes = "A malformed line is an error (exit 1); events it does not know are skipped.",
};

void cmd_timeline_help(void)
{
	help__print(stdout, &timeline_help);
}

/* The SVG's file: created, or an existing regular file emptied; never through a symlink. */
static FILE *timeline__open_out(const char *path)
{
	FILE *f;
	int fd;

	if (!path || !strcmp(path, "-"))
		return stdout;
	fd = file__create(path, 0644, 0);
	if (fd < 0) {
		pr_err("%s: %s", path, file__create_strerror(fd));
		return NULL;
	}
	f = fdopen(fd, "w");
	if (!f) {
		pr_err("%s: %s", path, strerror(errno));
		close(fd);
	}
	return f;
}

static int timeline__render(const char *in_path, const char *out_path, unsigned int cpus)
{
	bool std_in = !strcmp(in_path, "-");
	FILE *in = std_in ? stdin : fopen(in_path, "re"), *out;
	struct timeline *tl = calloc(1, sizeof(*tl));
	int err = -ENOMEM;

	if (!in || !tl) {
		pr_err("%s: %s", in_path, strerror(in ? ENOMEM : errno));
		goto out;
	}
	err = timeline__read(tl, in, in_path);
	if (err)
		goto out;
	if (tl->nr_cpus < cpus)
		tl->nr_cpus = cpus;
	out = timeline__open_out(out_path);
	err = out ? timeline__write_svg(tl, out) : -EIO;
	if (out && out != stdout && fclose(out) && !err)
		err = -errno;
	else if (out == stdout && fflush(out) && !err)
		err = -errno;
	if (out && err)
		pr_err("%s: %s", out_path ? out_path : "stdout", strerror(-err));
out:
	if (in && !std_in)
		fclose(in);
	if (tl)
		timeline__free(tl);
	free(tl);
	return err ? LKVM_EXIT_ERROR : 0;
}

int cmd_timeline(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "cpus", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *out = NULL;
	unsigned int cpus = 0;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, ":o:c:h", opts, NULL)) != -1) {
		if (c == 'h') {
			cmd_timeline_help();
			return 0;
		} else if (c == 'o') {
			out = optarg;
		} else if (c == 'c' && parse_uint(optarg, 1, TL_MAX_CPUS, &cpus)) {
			pr_err("--cpus %s: not 1 to %d vCPUs (see 'lkvm timeline --help')", optarg,
			       TL_MAX_CPUS);
			return LKVM_EXIT_USAGE;
		} else if (c != 'c') {
			pr_err("%s: %s (see 'lkvm timeline --help')", argv[optind - 1],
			       c == ':' ? "needs a value" : "unknown option");
			return LKVM_EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		pr_err("timeline: one EVENTS.jsonl file, or - (see 'lkvm timeline --help')");
		return LKVM_EXIT_USAGE;
	}
	return timeline__render(argv[optind], out, cpus);
}
