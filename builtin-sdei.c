/*
 * lkvm sdei list|signal --name NAME [EVENT] [--cpu N], and lkvm nmi --name NAME [--cpu N]: a
 * running VM's SDEI events (lkvm run --sdei; Documentation/sdei.md).
 */
#include "lkvm/builtin.h"
#include "lkvm/control-client.h"
#include "lkvm/control-json.h"
#include "lkvm/exit-codes.h"

#include <stdio.h>
#include <string.h>

/* --cpu N, as given: the server checks it against the VM's vCPUs. */
struct sdei_target {
	const char *cpu;	/* NULL: the default (vCPU 0, or a shared event's routing) */
	bool json;	/* sdei list --json */
};

static int sdei_opt(void *ctx, int c, const char *arg)
{
	struct sdei_target *t = ctx;

	if (c == 'j')
		return ctl_json__opt(&t->json, c, arg);
	if (!*arg || strlen(arg) > 5 || strspn(arg, "0123456789") != strlen(arg)) {
		pr_err("--cpu %s: not a vCPU number", arg);
		return LKVM_EXIT_USAGE;
	}
	t->cpu = arg;
	return 0;
}

static const struct option sdei_opts[] = {
	{ "cpu", required_argument, NULL, 'c' },
	{ "json", no_argument, NULL, 'j' },
	{ NULL, 0, NULL, 0 },
};

/* lkvm nmi: --cpu only. */
static const struct option nmi_opts[] = {
	{ "cpu", required_argument, NULL, 'c' },
	{ NULL, 0, NULL, 0 },
};

static const struct ctl_cmd sdei_cmd = {
	.name = "sdei",
	.help = &(const struct help){
		.synopsis = "sdei list|signal --name NAME [EVENT] [--cpu N] [--json]",
		.about = "List a running VM's SDEI events, or signal one.",
		.items = (const struct help_item[]){
			{ "list", "each vCPU's power state and SDEI mask, each event's state" },
			{ "signal EVENT", "make EVENT (a name or number, see list) pending: a "
					  "private event on vCPU N (default 0), a shared one as the "
					  "guest routed it, or on vCPU N if it routed it to any" },
			CTL_HELP_NAME,
			{ "-c, --cpu N", "with signal: the vCPU" },
			CTL_HELP_JSON("with list: one JSON object, two lists: {\"vcpus\":[{\"vcpu\":N, "
				      "\"state\":S, \"masked\":B}], \"events\":[{\"event\":N, \"name\":S, "
				      "\"shared\":B, \"critical\":B, \"registrations\":[{\"vcpu\":N "
				      "(private only), \"enabled\":B, \"running\":B, \"pending\":B, "
				      "\"unregister_pending\":B, \"entry\":N, \"arg\":N, shared only: "
				      "\"route\":\"any\"|\"pe\", \"route_affinity\":N (pe), "
				      "\"running_on\":N (while it runs)}]}]}"),
			{ NULL },
		},
		.notes = "The VM needs lkvm run --psci=user --sdei. Exit 0, 1 if the VM refuses (the "
			 "event is not registered, the vCPU is off...), 2 for a bad command line.",
	},
	.opts = sdei_opts,
	.shortopts = "c:j",
	.opt = sdei_opt,
};

static const struct ctl_cmd nmi_cmd = {
	.name = "nmi",
	.help = &(const struct help){
		.synopsis = "nmi --name NAME [--cpu N]",
		.about = "Signal SDEI event 1000 \"nmi\" (private, critical) on vCPU N (default 0), "
			 "which the guest must have registered; the short form of lkvm sdei signal "
			 "--name NAME nmi --cpu N.",
		.items = (const struct help_item[]){
			CTL_HELP_NAME,
			{ "-c, --cpu N", "the vCPU" },
			{ NULL },
		},
	},
	.opts = nmi_opts,
	.shortopts = "c:",
	.opt = sdei_opt,
};

static int sdei_signal(const char *name, const char *event, const struct sdei_target *t)
{
	char payload[64];

	if (strlen(event) > 31 || strchr(event, ' ')) {
		pr_err("sdei signal %s: not an event name or number (see 'lkvm sdei list')", event);
		return LKVM_EXIT_USAGE;
	}
	snprintf(payload, sizeof(payload), "%s %s", event, t->cpu ? t->cpu : "-");
	return ctl_client__request(name, CTL_SDEI_SIGNAL, payload);
}

void cmd_sdei_help(void)
{
	ctl_cmd__help(&sdei_cmd);
}

int cmd_sdei(int argc, char **argv)
{
	struct sdei_target t = { 0 };
	struct ctl_cmd cmd = sdei_cmd;
	struct ctl_args a;
	bool list;
	int code;

	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		cmd_sdei_help();
		return argc < 2 ? LKVM_EXIT_USAGE : 0;
	}
	list = !strcmp(argv[1], "list");
	if (!list && strcmp(argv[1], "signal")) {
		pr_err("sdei %s: no such command (see 'lkvm sdei --help')", argv[1]);
		return LKVM_EXIT_USAGE;
	}
	cmd.min_args = cmd.max_args = list ? 0 : 1;
	if (!ctl_args__parse(argc - 1, argv + 1, &cmd, &t, &a, &code))
		return code;
	if (list && t.cpu) {
		pr_err("sdei list: --cpu: list shows every vCPU (see 'lkvm sdei --help')");
		return LKVM_EXIT_USAGE;
	}
	if (!list && t.json) {
		pr_err("sdei signal: --json: only for sdei list (see 'lkvm sdei --help')");
		return LKVM_EXIT_USAGE;
	}
	if (t.json)
		return ctl_client__request_json(a.name, CTL_SDEI_LIST, "", ctl_json__sdei);
	return list ? ctl_client__request(a.name, CTL_SDEI_LIST, "") :
	       sdei_signal(a.name, a.argv[0], &t);
}

void cmd_nmi_help(void)
{
	ctl_cmd__help(&nmi_cmd);
}

int cmd_nmi(int argc, char **argv)
{
	struct sdei_target t = { 0 };
	struct ctl_args a;
	int code;

	if (!ctl_args__parse(argc, argv, &nmi_cmd, &t, &a, &code))
		return code;
	/* vCPU 0 by default, as for a private event without --cpu. */
	return sdei_signal(a.name, "nmi", &t);
}
