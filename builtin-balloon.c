/* lkvm balloon --name NAME [inflate|deflate SIZE]: a running VM's virtio-balloon. */
#include "lkvm/builtin.h"
#include "lkvm/control-client.h"
#include "lkvm/control-json.h"
#include "lkvm/exit-codes.h"

#include <stdio.h>
#include <string.h>

/* The action as a word pair ("inflate 64M") or as kvmtool's --inflate 64M; one at most. */
struct balloon_action {
	const char *action, *size;
	bool json;
};

static int balloon_set(struct balloon_action *b, const char *action, const char *size)
{
	if (b->action) {
		pr_err("balloon: one of inflate or deflate at a time (see 'lkvm balloon --help')");
		return LKVM_EXIT_USAGE;
	}
	b->action = action;
	b->size = size;
	return 0;
}

static int balloon_opt(void *ctx, int c, const char *arg)
{
	if (c == 'j')
		return ctl_json__opt(&((struct balloon_action *)ctx)->json, c, arg);
	return balloon_set(ctx, c == 'i' ? "inflate" : "deflate", arg);
}

static const struct option balloon_opts[] = {
	{ "inflate", required_argument, NULL, 'i' },
	{ "deflate", required_argument, NULL, 'd' },
	{ "json", no_argument, NULL, 'j' },
	{ NULL, 0, NULL, 0 },
};

static const struct ctl_cmd balloon_cmd = {
	.name = "balloon",
	.help = &(const struct help){
		.synopsis = "balloon --name NAME [inflate|deflate SIZE | --json]",
		.about = "Show a running VM's balloon, or move its target.",
		.items = (const struct help_item[]){
			{ "(no action)", "the balloon's target and actual size" },
			{ "inflate SIZE", "take SIZE more of its RAM from the guest (64M, 1G; no "
					  "suffix: MiB)" },
			{ "deflate SIZE", "give SIZE of it back" },
			{ "-i, --inflate SIZE", "the same as inflate SIZE, as kvmtool spells it" },
			{ "-d, --deflate SIZE", "the same as deflate SIZE, as kvmtool spells it" },
			CTL_HELP_NAME,
			CTL_HELP_JSON("(no action) one JSON object: {\"target_pages\":N, "
				      "\"target_bytes\":N, \"actual_pages\":N, \"actual_bytes\":N, "
				      "\"page_size\":4096, \"ram_bytes\":N} and once the guest sent "
				      "statistics \"stats_age_s\":N, \"stats\":{NAME:N} (free, total, "
				      "available, caches in bytes; the others counts)"),
			{ NULL },
		},
		.notes = "The VM needs lkvm run --balloon. The guest keeps at least 16M.",
	},
	.max_args = 2,
	.opts = balloon_opts,
	.shortopts = "i:d:j",
	.opt = balloon_opt,
};

void cmd_balloon_help(void)
{
	ctl_cmd__help(&balloon_cmd);
}

int cmd_balloon(int argc, char **argv)
{
	struct balloon_action b = { 0 };
	struct ctl_args a;
	char payload[64];
	u64 bytes;
	int code;

	if (!ctl_args__parse(argc, argv, &balloon_cmd, &b, &a, &code))
		return code;
	if (a.argc) {
		if (a.argc != 2 || (strcmp(a.argv[0], "inflate") && strcmp(a.argv[0], "deflate"))) {
			pr_err("balloon %s: expected inflate SIZE or deflate SIZE (see --help)",
			       a.argv[0]);
			return LKVM_EXIT_USAGE;
		}
		if ((code = balloon_set(&b, a.argv[0], a.argv[1])))
			return code;
	}
	if (b.action && (strlen(b.size) > 32 || parse_size(b.size, &bytes))) {
		pr_err("balloon %s %s: not a size (as 64M, 1G; no suffix: MiB)", b.action, b.size);
		return LKVM_EXIT_USAGE;
	}
	if (b.json && b.action) {
		pr_err("balloon %s: --json: only without an action (see 'lkvm balloon --help')",
		       b.action);
		return LKVM_EXIT_USAGE;
	}
	if (b.json)
		return ctl_client__request_json(a.name, CTL_BALLOON, "", ctl_json__balloon);
	snprintf(payload, sizeof(payload), "%s%s%s", b.action ? b.action : "", b.action ? " " : "",
		 b.action ? b.size : "");
	return ctl_client__request(a.name, CTL_BALLOON, payload);
}
