/* lkvm stop|pause|resume --name NAME: the whole VM. */
#include "lkvm/builtin.h"
#include "lkvm/control-client.h"

static int vm_command(int argc, char **argv, const struct ctl_cmd *cmd, u16 type)
{
	struct ctl_args a;
	int code;

	if (!ctl_args__parse(argc, argv, cmd, NULL, &a, &code))
		return code;
	return ctl_client__request(a.name, type, "");
}

static const struct help_item vm_items[] = { CTL_HELP_NAME, { NULL } };
static const struct help stop_help = {
	.synopsis = "stop --name NAME",
	.about = "Stop the VM: lkvm powers it off and exits 5.",
	.items = vm_items,
};
static const struct help pause_help = {
	.synopsis = "pause --name NAME",
	.about = "Stop every vCPU of the VM until lkvm resume; its devices and lkvm stay up.",
	.items = vm_items,
};
static const struct help resume_help = {
	.synopsis = "resume --name NAME",
	.about = "Let a paused VM run again.",
	.items = vm_items,
};
static const struct ctl_cmd stop_cmd = { .name = "stop", .help = &stop_help };
static const struct ctl_cmd pause_cmd = { .name = "pause", .help = &pause_help };
static const struct ctl_cmd resume_cmd = { .name = "resume", .help = &resume_help };

int cmd_stop(int argc, char **argv)
{
	return vm_command(argc, argv, &stop_cmd, CTL_STOP);
}

void cmd_stop_help(void)
{
	ctl_cmd__help(&stop_cmd);
}

int cmd_pause(int argc, char **argv)
{
	return vm_command(argc, argv, &pause_cmd, CTL_PAUSE);
}

void cmd_pause_help(void)
{
	ctl_cmd__help(&pause_cmd);
}

int cmd_resume(int argc, char **argv)
{
	return vm_command(argc, argv, &resume_cmd, CTL_RESUME);
}

void cmd_resume_help(void)
{
	ctl_cmd__help(&resume_cmd);
}
