/* lkvm list: the running VMs, from their control sockets. */
#include "lkvm/builtin.h"
#include "lkvm/control-client.h"
#include "lkvm/control-json.h"
#include "lkvm/exit-codes.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const struct help list_help = {
	.synopsis = "list [--json]",
	.about = "The running VMs of this user, from their control sockets: name, lkvm's PID, "
		 "vCPUs and plugged vCPUs.",
	.items = (const struct help_item[]){
		CTL_HELP_JSON("one JSON array, an object per VM: "
			      "{\"name\":STRING, \"pid\":N, \"cpus\":N, \"plugged\":N}"),
		{ NULL },
	},
};

static const struct ctl_cmd list_cmd = {
	.name = "list",
	.help = &list_help,
	.all_vms = true,
	.opts = ctl_json_opts,
	.shortopts = "j",
	.opt = ctl_json__opt,
};

/* How the VMs are shown: a table, or (--json) an array whose first element is not yet out. */
struct list_out {
	bool json, first;
};

/* Asks the VM behind NAME.sock for its line of the list. */
static void list_vm(const char *name, struct list_out *o)
{
	static struct ctl_msg m;
	char json[512];	/* a name escaped: 6 bytes a character at most */
	struct json_buf j;
	char vm[72];
	unsigned int pid, cpus, plugged;
	/* A stale socket of a VM that died says so on stderr; the list goes on. */
	int fd = ctl__connect(name);

	if (fd < 0)
		return;
	if (ctl__send(fd, CTL_INFO, "") || ctl__recv(fd, &m) || m.type != CTL_OK) {
		close(fd);	/* it died in between: it is no longer running */
		return;
	}
	close(fd);
	json__init(&j, json, sizeof(json));
	if (o->json && !ctl_json__vm(&j, m.payload)) {
		printf("%s%s", o->first ? "" : ",", json);
		o->first = false;
	} else if (!o->json && sscanf(m.payload, "%71s %u %u %u", vm, &pid, &cpus, &plugged) == 4)
		printf("%-24s %8u %5u %8u\n", ctl_client__show(vm, false), pid, cpus, plugged);
}

/* Only our own sockets count: a symlink or anything else in the directory is not a VM. */
static bool is_our_socket(DIR *d, const char *entry)
{
	struct stat st;

	return !fstatat(dirfd(d), entry, &st, AT_SYMLINK_NOFOLLOW) && S_ISSOCK(st.st_mode) &&
	       st.st_uid == geteuid();
}

void cmd_list_help(void)
{
	ctl_cmd__help(&list_cmd);
}

int cmd_list(int argc, char **argv)
{
	char dir[108], name[72];
	struct list_out o = { .first = true };
	struct ctl_args a;
	struct dirent *e;
	DIR *d;
	int fd, code;

	if (!ctl_args__parse(argc, argv, &list_cmd, &o.json, &a, &code))
		return code;
	fd = ctl__socket_dir(dir, sizeof(dir), false);
	if (fd < 0 && fd != -ENOENT)
		return LKVM_EXIT_ERROR;
	if (o.json)
		printf("[");
	else
		printf("%-24s %8s %5s %8s\n", "NAME", "PID", "CPUS", "PLUGGED");
	if (fd < 0) {
		if (o.json)
			printf("]\n");
		return 0;	/* no VM has run yet */
	}
	d = fdopendir(fd);
	if (!d) {
		int err = errno;

		if (o.json)
			printf("]\n");
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
		list_vm(name, &o);
	}
	closedir(d);
	if (o.json)
		printf("]\n");
	return 0;
}
