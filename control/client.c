#include "lkvm/control-client.h"
#include "lkvm/control-json.h"
#include "lkvm/exit-codes.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

const char *ctl_client__show(const char *text, bool lines)
{
	static char shown[CTL_PRINTABLE_SIZE];

	return ctl__printable(text, lines, shown, sizeof(shown));
}

void ctl_cmd__help(const struct ctl_cmd *cmd)
{
	help__print(stdout, cmd->help);
}

/* getopt's table: --name, --help and the command's own options. */
static void ctl_args__options(const struct ctl_cmd *cmd, struct option *opts, size_t max,
			      char *shortopts, size_t len)
{
	size_t n = 0;

	if (!cmd->all_vms)
		opts[n++] = (struct option){ "name", required_argument, NULL, 'n' };
	opts[n++] = (struct option){ "help", no_argument, NULL, 'h' };
	for (const struct option *o = cmd->opts; o && o->name && n + 1 < max; o++)
		opts[n++] = *o;
	opts[n] = (struct option){ 0 };
	snprintf(shortopts, len, ":%sh%s", cmd->all_vms ? "" : "n:", cmd->shortopts ? cmd->shortopts : "");
}

bool ctl_args__parse(int argc, char **argv, const struct ctl_cmd *cmd, void *ctx,
		     struct ctl_args *out, int *code)
{
	struct option opts[8];
	char shortopts[16];
	int c;

	ctl_args__options(cmd, opts, ARRAY_SIZE(opts), shortopts, sizeof(shortopts));
	*out = (struct ctl_args){ 0 };
	*code = 0;
	opterr = 0;
	optind = 1;
	while (!*code && (c = getopt_long(argc, argv, shortopts, opts, NULL)) != -1) {
		if (c == 'n') {
			out->name = optarg;
		} else if (c == 'h') {
			ctl_cmd__help(cmd);
			return false;
		} else if (c == '?' || c == ':' || !cmd->opt) {
			pr_err("%s: %s (see 'lkvm %s --help')", argv[optind - 1],
			       c == ':' ? "needs a value" : "unknown option", cmd->name);
			*code = LKVM_EXIT_USAGE;
		} else {
			*code = cmd->opt(ctx, c, optarg);
		}
	}
	if (*code)
		return false;
	out->argc = argc - optind;
	out->argv = argv + optind;
	if ((unsigned int)out->argc < cmd->min_args || (unsigned int)out->argc > cmd->max_args) {
		pr_err("%s: %s (see 'lkvm %s --help')", argv[0], out->argc < (int)cmd->min_args ?
		       "missing arguments" : "too many arguments", cmd->name);
		*code = LKVM_EXIT_USAGE;
	} else if (!out->name && !cmd->all_vms) {
		pr_err("%s: which VM? give --name NAME (see 'lkvm list')", argv[0]);
		*code = LKVM_EXIT_USAGE;
	}
	return !*code;
}

const struct option ctl_json_opts[] = {
	{ "json", no_argument, NULL, 'j' },
	{ NULL, 0, NULL, 0 },
};

int ctl_json__opt(void *ctx, int c, const char *arg)
{
	(void)c;
	(void)arg;
	*(bool *)ctx = true;
	return 0;
}

/* One request and its OK answer in m; an exit code, after saying what went wrong. */
static int ctl_client__ask(const char *name, u16 type, const char *payload, struct ctl_msg *m)
{
	int fd = ctl__connect(name), err;

	if (fd < 0)
		return LKVM_EXIT_ERROR;
	err = ctl__send(fd, type, payload);
	if (!err)
		err = ctl__recv(fd, m);
	close(fd);
	if (err) {
		pr_err("%s: no answer from the VM: %s", name, strerror(-err));
		return LKVM_EXIT_ERROR;
	}
	if (m->type == CTL_ERROR) {
		pr_err("%s", ctl_client__show(m->payload, false));
		return LKVM_EXIT_ERROR;
	}
	if (m->type != CTL_OK) {
		pr_err("%s: unexpected answer %u", name, m->type);
		return LKVM_EXIT_ERROR;
	}
	return 0;
}

int ctl_client__request(const char *name, u16 type, const char *payload)
{
	static struct ctl_msg m;
	int code = ctl_client__ask(name, type, payload, &m);

	if (!code && m.len)
		printf("%s%s", ctl_client__show(m.payload, true),
		       m.payload[m.len - 1] == '\n' ? "" : "\n");
	return code;
}

int ctl_client__request_json(const char *name, u16 type, const char *payload,
			     int (*render)(struct json_buf *j, const char *text))
{
	static struct ctl_msg m;
	static char out[4 * CTL_MAX_PAYLOAD];
	struct json_buf j;
	int code = ctl_client__ask(name, type, payload, &m);

	if (code)
		return code;
	json__init(&j, out, sizeof(out));
	if (render(&j, m.payload)) {
		pr_err("%s: --json: an answer lkvm cannot read: %s", name,
		       ctl_client__show(m.payload, false));
		return LKVM_EXIT_ERROR;
	}
	printf("%s\n", out);
	return 0;
}
