/*
 * The client side of the control socket, shared by the commands that talk to a running VM
 * (builtin-list.c, builtin-cpu.c, builtin-vm.c, builtin-events.c, builtin-balloon.c).
 */
#ifndef LKVM_CONTROL_CLIENT_H
#define LKVM_CONTROL_CLIENT_H

#include <getopt.h>

#include "lkvm/control.h"
#include "lkvm/help.h"

/* What a control command accepts besides --name and --help. */
struct ctl_cmd {
	const char *name;		/* the command, for "see 'lkvm NAME --help'" */
	const struct help *help;	/* --help (lkvm/help.h) */
	bool all_vms;			/* about every VM (lkvm list): no --name */
	unsigned int min_args, max_args;	/* positional arguments */
	const struct option *opts;	/* more long options (their short forms in shortopts), or NULL */
	const char *shortopts;		/* "i:d:" for them, or "" */
	/* Takes one of those options; returns 0, or an exit code after logging why. */
	int (*opt)(void *ctx, int c, const char *arg);
};

/* A parsed command line: the VM's name and the positional arguments. */
struct ctl_args {
	const char *name;
	int argc;
	char **argv;
};

/*
 * Parses "COMMAND [--name NAME] [OPTIONS] ARGS" (argv[0] is the command's name). Returns true if
 * the command goes on; otherwise *code is its exit code: 0 after --help, 2 after an error.
 */
bool ctl_args__parse(int argc, char **argv, const struct ctl_cmd *cmd, void *ctx,
		     struct ctl_args *out, int *code);
void ctl_cmd__help(const struct ctl_cmd *cmd);
/* The --help item every command about one VM has. */
#define CTL_HELP_NAME	{ "--name NAME", "the VM: the name lkvm run --name gave it (lkvm list shows them)" }
#define CTL_HELP_JSON(what)	{ "--json", what }

/* One request, one answer: prints an OK's text, or the error; returns the exit code. */
int ctl_client__request(const char *name, u16 type, const char *payload);
/*
 * The same with --json: the OK's text rendered by render (control-json.h) and printed as one
 * line; text it does not recognize is an error (exit 1), never half a document.
 */
/* --json (-j) alone, for a command whose ctx is a bool: ctl_json__opt sets it. */
extern const struct option ctl_json_opts[];
int ctl_json__opt(void *ctx, int c, const char *arg);
struct json_buf;
int ctl_client__request_json(const char *name, u16 type, const char *payload,
			     int (*render)(struct json_buf *j, const char *text));
/* A server's text made safe for the terminal (ctl__printable), in a static buffer. */
const char *ctl_client__show(const char *text, bool lines);

#endif
