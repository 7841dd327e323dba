/* lkvm's entry point: finds the command and runs it. */
#include "lkvm/builtin.h"
#include "lkvm/exit-codes.h"
#include "lkvm/help.h"
#include "lkvm/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#ifndef LKVM_VERSION
#define LKVM_VERSION "unknown"
#endif

static int cmd_help(int argc, char **argv);
static int cmd_version(int argc, char **argv);

static const struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	void (*help)(void);
	const char *summary;
} commands[] = {
	{ "run", cmd_run, cmd_run_help, "Start the virtual machine" },
	{ "list", cmd_list, cmd_list_help, "List the running VMs" },
	{ "cpu", cmd_cpu, cmd_cpu_help, "List, plug, unplug or delay a running VM's vCPUs" },
	{ "stop", cmd_stop, cmd_stop_help, "Stop a running VM" },
	{ "pause", cmd_pause, cmd_pause_help, "Pause a running VM" },
	{ "resume", cmd_resume, cmd_resume_help, "Resume a paused VM" },
	{ "events", cmd_events, cmd_events_help, "Stream a running VM's power events as JSON lines" },
	{ "timeline", cmd_timeline, cmd_timeline_help, "Draw a power event log as an SVG timeline" },
	{ "balloon", cmd_balloon, cmd_balloon_help, "Inflate or deflate a running VM's balloon" },
	{ "sdei", cmd_sdei, cmd_sdei_help, "List or signal a running VM's SDEI events" },
	{ "nmi", cmd_nmi, cmd_nmi_help, "Send a running VM's vCPU the NMI request (SDEI event 1000)" },
	{ "help", cmd_help, NULL, "Display help information about lkvm" },
	{ "version", cmd_version, NULL, "Print the version of lkvm" },
};

static void usage(void)
{
	help__usage(stdout, "[--version] [--help] <command> [<args>]",
		    "The most commonly used lkvm commands are:");
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		help__item(stdout, commands[i].name, commands[i].summary);
	help__para(stdout, "See 'lkvm help <command>' for more information on a specific command.");
}

static const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++) {
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	}
	return NULL;
}

static int cmd_help(int argc, char **argv)
{
	const struct command *c;

	if (argc < 2) {
		usage();
		return 0;
	}
	c = find_command(argv[1]);
	if (!c) {
		pr_err("help %s: no such command (see 'lkvm help')", argv[1]);
		return LKVM_EXIT_USAGE;
	}
	if (c->help)
		c->help();
	else
		printf(" usage: lkvm %s\n\n %s\n", c->name, c->summary);
	return 0;
}

static int cmd_version(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	printf("lkvm version %s\n", LKVM_VERSION);
	return 0;
}

/*
 * Started with stdin, stdout or stderr closed, lkvm's first open() would take its number, and the
 * console would write the guest's output into a disk image or /dev/kvm: /dev/null takes it.
 */
static void std_fds(void)
{
	for (int fd = 0; fd <= 2; fd++) {
		int n;

		if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
			continue;
		n = open("/dev/null", fd ? O_WRONLY : O_RDONLY);
		if (n >= 0 && n != fd) {
			dup2(n, fd);
			close(n);
		}
	}
}

int main(int argc, char **argv)
{
	const struct command *c;

	std_fds();

	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage();
		return argc < 2 ? LKVM_EXIT_USAGE : 0;
	}
	if (!strcmp(argv[1], "--version"))
		return cmd_version(argc - 1, argv + 1);
	c = find_command(argv[1]);
	if (!c) {
		pr_err("%s: no such command (see 'lkvm help')", argv[1]);
		return LKVM_EXIT_USAGE;
	}
	return c->fn(argc - 1, argv + 1);
}
