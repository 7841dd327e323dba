/*
 * The commands that control a running VM through its socket: list, cpu, stop, pause, resume,
 * events, balloon.
 */
#include "lkvm/builtin.h"
#include "lkvm/control.h"
#include "lkvm/exit-codes.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

static char shown[CTL_PRINTABLE_SIZE];

/* A server's text for the terminal: see ctl__printable. */
static const char *show(const char *text, bool lines)
{
	return ctl__printable(text, lines, shown, sizeof(shown));
}

/* One request, one response: prints an OK's text, or the error, and returns the exit code. */
static int ctl_request(const char *name, u16 type, const char *payload, bool quiet)
{
	static struct ctl_msg m;
	int fd = ctl__connect(name), err;

	if (fd < 0)
		return LKVM_EXIT_ERROR;
	err = ctl__send(fd, type, payload);
	if (!err)
		err = ctl__recv(fd, &m);
	close(fd);
	if (err) {
		pr_err("%s: no answer from the VM: %s", name, strerror(-err));
		return LKVM_EXIT_ERROR;
	}
	if (m.type == CTL_ERROR) {
		pr_err("%s", show(m.payload, false));
		return LKVM_EXIT_ERROR;
	}
	if (m.type != CTL_OK) {
		pr_err("%s: unexpected answer %u", name, m.type);
		return LKVM_EXIT_ERROR;
	}
	if (!quiet && m.len)
		printf("%s%s", show(m.payload, true), m.payload[m.len - 1] == '\n' ? "" : "\n");
	return 0;
}

/* Parses "[--name NAME] ARGS": returns the index of the first argument, or -exit code. */
static int ctl_args(int argc, char **argv, const char **name, const char *usage)
{
	static const struct option opts[] = {
		{ "name", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	*name = NULL;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":n:h", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			*name = optarg;
			break;
		case 'h':
			printf(" usage: lkvm %s\n", usage);
			return -1000;
		default:
			pr_err("%s: %s (see --help)", argv[optind - 1],
			       c == ':' ? "needs a value" : "unknown option");
			return -LKVM_EXIT_USAGE;
		}
	}
	if (!*name) {
		pr_err("%s: which VM? give --name NAME (see 'lkvm list')", argv[0]);
		return -LKVM_EXIT_USAGE;
	}
	return optind;
}

static bool is_number(const char *s)
{
	if (!*s || strlen(s) > 7)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
	}
	return true;
}

#define CTL_ARGS(usage, nargs)						\
	const char *name;						\
	int i = ctl_args(argc, argv, &name, usage);			\
	if (i == -1000)							\
		return 0;						\
	if (i < 0)							\
		return -i;						\
	if (argc - i != (nargs)) {					\
		pr_err("%s: expected %d argument(s) (see --help)", argv[0], nargs); \
		return LKVM_EXIT_USAGE;					\
	}

static int vm_command(int argc, char **argv, u16 type, const char *usage)
{
	CTL_ARGS(usage, 0)
	return ctl_request(name, type, "", false);
}

int cmd_stop(int argc, char **argv)
{
	return vm_command(argc, argv, CTL_STOP, "stop --name NAME: stop the VM (it exits 5)");
}

int cmd_pause(int argc, char **argv)
{
	return vm_command(argc, argv, CTL_PAUSE, "pause --name NAME: stop every vCPU until resume");
}

int cmd_resume(int argc, char **argv)
{
	return vm_command(argc, argv, CTL_RESUME, "resume --name NAME: let a paused VM run again");
}

static const char cpu_usage[] =
	"cpu list|plug|unplug|delay --name NAME [ID [MS]]\n"
	"   list           each vCPU's MPIDR, PSCI state and statistics\n"
	"   plug ID        allow the guest's CPU_ON of vCPU ID\n"
	"   unplug ID      forbid it (refused while the vCPU is on: offline it in the guest first)\n"
	"   delay ID MS    CPU_ON of vCPU ID starts it MS milliseconds later (0: at once)";

struct cpu_sub {
	const char *name;
	u16 type;
	int nargs;	/* numbers after the options */
};

/* argv[0] is the subcommand: "plug --name NAME 2". */
static int cpu_sub(int argc, char **argv, const struct cpu_sub *sub)
{
	char payload[32];
	CTL_ARGS(cpu_usage, sub->nargs)

	for (int a = i; a < argc; a++) {
		if (!is_number(argv[a])) {
			pr_err("%s: not a vCPU number or milliseconds (see --help)", argv[a]);
			return LKVM_EXIT_USAGE;
		}
	}
	snprintf(payload, sizeof(payload), "%s%s%s", sub->nargs ? argv[i] : "",
		 sub->nargs > 1 ? " " : "", sub->nargs > 1 ? argv[i + 1] : "");
	return ctl_request(name, sub->type, payload, false);
}

int cmd_cpu(int argc, char **argv)
{
	static const struct cpu_sub subs[] = {
		{ "list", CTL_CPU_LIST, 0 }, { "plug", CTL_CPU_PLUG, 1 },
		{ "unplug", CTL_CPU_UNPLUG, 1 }, { "delay", CTL_CPU_DELAY, 2 },
	};

	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		printf(" usage: lkvm %s\n", cpu_usage);
		return argc < 2 ? LKVM_EXIT_USAGE : 0;
	}
	for (size_t s = 0; s < ARRAY_SIZE(subs); s++) {
		if (!strcmp(argv[1], subs[s].name))
			return cpu_sub(argc - 1, argv + 1, &subs[s]);
	}
	pr_err("cpu %s: no such command (see 'lkvm cpu --help')", argv[1]);
	return LKVM_EXIT_USAGE;
}

static volatile sig_atomic_t events_stop;

static void events_signal(int sig)
{
	(void)sig;
	events_stop = 1;
}

int cmd_events(int argc, char **argv)
{
	static struct ctl_msg m;
	struct sigaction sa = { .sa_handler = events_signal };
	struct timeval none = { 0 };
	int fd, err;
	CTL_ARGS("events --name NAME: print the VM's power events, one JSON object per line, until "
		 "it stops or you interrupt (exit 0)", 0)

	fd = ctl__connect(name);
	if (fd < 0)
		return LKVM_EXIT_ERROR;
	err = ctl__send(fd, CTL_EVENTS, "");
	if (!err)
		err = ctl__recv(fd, &m);
	if (err || m.type != CTL_OK) {
		pr_err("%s: %s", name, err ? strerror(-err) : show(m.payload, false));
		close(fd);
		return LKVM_EXIT_ERROR;
	}
	/* Events come when they happen: wait for them without a timeout, until interrupted. */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &none, sizeof(none));
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	while (!events_stop && !ctl__recv(fd, &m)) {
		if (m.type == CTL_EVENT) {
			printf("%s\n", show(m.payload, false));
			fflush(stdout);
		}
	}
	close(fd);
	return 0;
}

/* Asks the VM behind NAME.sock for its line of the list. */
static void list_vm(const char *name)
{
	static struct ctl_msg m;
	char vm[72];
	unsigned int pid, cpus, plugged;
	/* A stale socket of a VM that died says so on stderr; the list goes on. */
	int fd = ctl__connect(name);

	if (fd < 0)
		return;
	if (!ctl__send(fd, CTL_INFO, "") && !ctl__recv(fd, &m) && m.type == CTL_OK &&
	    sscanf(m.payload, "%71s %u %u %u", vm, &pid, &cpus, &plugged) == 4)
		printf("%-24s %8u %5u %8u\n", show(vm, false), pid, cpus, plugged);
	close(fd);
}

/* Only our own sockets count: a symlink or anything else in the directory is not a VM. */
static bool is_our_socket(DIR *d, const char *entry)
{
	struct stat st;

	return !fstatat(dirfd(d), entry, &st, AT_SYMLINK_NOFOLLOW) && S_ISSOCK(st.st_mode) &&
	       st.st_uid == geteuid();
}

int cmd_list(int argc, char **argv)
{
	char dir[108], name[72];
	struct dirent *e;
	DIR *d;
	int fd;

	if (argc > 1) {
		if (strcmp(argv[1], "--help") && strcmp(argv[1], "-h")) {
			pr_err("%s: unexpected argument (usage: lkvm list)", argv[1]);
			return LKVM_EXIT_USAGE;
		}
		printf(" usage: lkvm list: the running VMs, from their control sockets\n");
		return 0;
	}
	fd = ctl__socket_dir(dir, sizeof(dir), false);
	if (fd < 0 && fd != -ENOENT)
		return LKVM_EXIT_ERROR;
	printf("%-24s %8s %5s %8s\n", "NAME", "PID", "CPUS", "PLUGGED");
	if (fd < 0)
		return 0;	/* no VM has run yet */
	d = fdopendir(fd);
	if (!d) {
		int err = errno;

		pr_err("%s: cannot read it: %s", dir, strerror(err));
		close(fd);
		return LKVM_EXIT_ERROR;
	}
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name);

		if (len < 6 || len - 5 >= sizeof(name) || strcmp(e->d_name + len - 5, ".sock") ||
		    !is_our_socket(d, e->d_name))
			continue;
		snprintf(name, sizeof(name), "%.*s", (int)(len - 5), e->d_name);
		list_vm(name);
	}
	closedir(d);
	return 0;
}

static const char balloon_usage[] =
	"balloon --name NAME [inflate|deflate SIZE]\n"
	"   (no action)      the balloon's target and actual size\n"
	"   inflate SIZE     take SIZE more of its RAM from the guest (64M, 1G; no suffix: MiB)\n"
	"   deflate SIZE     give SIZE of it back\n"
	"   -i, --inflate SIZE / -d, --deflate SIZE   the same, as kvmtool spells them\n"
	" The VM needs lkvm run --balloon. The guest keeps at least 16M.";

void cmd_balloon_help(void)
{
	printf(" usage: lkvm %s\n", balloon_usage);
}

/* The action as a word pair ("inflate 64M") or as kvmtool's --inflate 64M; one at most. */
static int balloon_action(const char **action, const char **size, const char *word,
			  const char *arg)
{
	if (*action) {
		pr_err("balloon: one of inflate or deflate at a time (see --help)");
		return LKVM_EXIT_USAGE;
	}
	*action = word;
	*size = arg;
	return 0;
}

int cmd_balloon(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "name", required_argument, NULL, 'n' },
		{ "inflate", required_argument, NULL, 'i' },
		{ "deflate", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *name = NULL, *action = NULL, *size = NULL;
	char payload[64];
	u64 bytes;
	int c, err = 0;

	opterr = 0;
	optind = 1;
	while (!err && (c = getopt_long(argc, argv, ":n:i:d:h", opts, NULL)) != -1) {
		if (c == 'n') {
			name = optarg;
		} else if (c == 'i' || c == 'd') {
			err = balloon_action(&action, &size, c == 'i' ? "inflate" : "deflate", optarg);
		} else if (c == 'h') {
			cmd_balloon_help();
			return 0;
		} else {
			pr_err("%s: %s (see --help)", argv[optind - 1],
			       c == ':' ? "needs a value" : "unknown option");
			return LKVM_EXIT_USAGE;
		}
	}
	if (err)
		return err;
	if (optind < argc) {
		if (argc - optind != 2 || (strcmp(argv[optind], "inflate") &&
					   strcmp(argv[optind], "deflate"))) {
			pr_err("balloon %s: expected inflate SIZE or deflate SIZE (see --help)",
			       argv[optind]);
			return LKVM_EXIT_USAGE;
		}
		if ((err = balloon_action(&action, &size, argv[optind], argv[optind + 1])))
			return err;
	}
	if (!name) {
		pr_err("balloon: which VM? give --name NAME (see 'lkvm list')");
		return LKVM_EXIT_USAGE;
	}
	if (action && (strlen(size) > 32 || parse_size(size, &bytes))) {
		pr_err("balloon %s %s: not a size (as 64M, 1G; no suffix: MiB)", action, size);
		return LKVM_EXIT_USAGE;
	}
	snprintf(payload, sizeof(payload), "%s%s%s", action ? action : "", action ? " " : "",
		 action ? size : "");
	return ctl_request(name, CTL_BALLOON, payload, false);
}
