/* lkvm cpu list|plug|unplug|delay --name NAME [ID [MS]]: a running VM's vCPUs. */
#include "lkvm/builtin.h"
#include "lkvm/control-client.h"
#include "lkvm/control-json.h"
#include "lkvm/exit-codes.h"

#include <stdio.h>
#include <string.h>

static const struct ctl_cmd cpu_cmd = {
	.name = "cpu",
	.help = &(const struct help){
		.synopsis = "cpu list|plug|unplug|delay --name NAME [ID [MS]] [--json]",
		.about = "List a running VM's vCPUs, or change which of them the guest may turn on "
			 "(vCPU hot-add: lkvm run --max-cpus, with --psci=user).",
		.items = (const struct help_item[]){
			{ "list", "each vCPU's MPIDR, PSCI state (\",eject\": an ACPI eject request "
				  "is pending) and statistics" },
			{ "plug ID", "allow the guest's CPU_ON of vCPU ID (--acpi: and notify the "
				     "guest)" },
			{ "unplug ID", "forbid it (refused while the vCPU is on: offline it in the "
				       "guest first; --acpi: ask the guest to eject it, which it does "
				       "when it can)" },
			{ "delay ID MS", "CPU_ON of vCPU ID starts it MS milliseconds later (0: at "
					 "once)" },
			CTL_HELP_NAME,
			CTL_HELP_JSON("with list: one JSON array, an object per vCPU: {\"id\":N, "
				      "\"mpidr\":N, \"state\":STRING, \"eject\":BOOL, \"standbys\":N, "
				      "\"standby_us\":N, \"powerdowns\":N, \"powerdown_us\":N, "
				      "\"delay_ms\":N}"),
			{ NULL },
		},
	},
	.opts = ctl_json_opts,
	.shortopts = "j",
	.opt = ctl_json__opt,
};

struct cpu_sub {
	const char *name;
	u16 type;
	unsigned int nargs;	/* numbers after the options */
};

static const struct cpu_sub subs[] = {
	{ "list", CTL_CPU_LIST, 0 }, { "plug", CTL_CPU_PLUG, 1 },
	{ "unplug", CTL_CPU_UNPLUG, 1 }, { "delay", CTL_CPU_DELAY, 2 },
};

static bool is_number(const char *s)
{
	return *s && strlen(s) <= 7 && strspn(s, "0123456789") == strlen(s);
}

/* argv[0] is the subcommand: "plug --name NAME 2". */
static int cpu_sub(int argc, char **argv, const struct cpu_sub *sub)
{
	struct ctl_cmd cmd = cpu_cmd;
	struct ctl_args a;
	char payload[32];
	bool json = false;
	int code;

	cmd.min_args = cmd.max_args = sub->nargs;
	if (!ctl_args__parse(argc, argv, &cmd, &json, &a, &code))
		return code;
	if (json && sub->type != CTL_CPU_LIST) {
		pr_err("cpu %s: --json: only for cpu list (see 'lkvm cpu --help')", sub->name);
		return LKVM_EXIT_USAGE;
	}
	if (json)
		return ctl_client__request_json(a.name, CTL_CPU_LIST, "", ctl_json__cpus);
	for (int i = 0; i < a.argc; i++) {
		if (!is_number(a.argv[i])) {
			pr_err("%s: not a vCPU number or milliseconds (see 'lkvm cpu --help')",
			       a.argv[i]);
			return LKVM_EXIT_USAGE;
		}
	}
	snprintf(payload, sizeof(payload), "%s%s%s", a.argc ? a.argv[0] : "", a.argc > 1 ? " " : "",
		 a.argc > 1 ? a.argv[1] : "");
	return ctl_client__request(a.name, sub->type, payload);
}

void cmd_cpu_help(void)
{
	ctl_cmd__help(&cpu_cmd);
}

int cmd_cpu(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		cmd_cpu_help();
		return argc < 2 ? LKVM_EXIT_USAGE : 0;
	}
	for (size_t s = 0; s < ARRAY_SIZE(subs); s++) {
		if (!strcmp(argv[1], subs[s].name))
			return cpu_sub(argc - 1, argv + 1, &subs[s]);
	}
	pr_err("cpu %s: no such command (see 'lkvm cpu --help')", argv[1]);
	return LKVM_EXIT_USAGE;
}
