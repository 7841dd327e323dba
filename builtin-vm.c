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

static const struct ctl_cmd stop_cmd = {
	.name = "stop",
	.usage = "stop --name NAME: stop the VM (it exits 5)",
};
static const struct ctl_cmd pause_cmd = {
	.name = "pause",
	.usage = "pause --name NAME: stop every vCPU until lkvm resume",
};
static const struct ctl_cmd resume_cmd = {
	.name = "resume",
	.usage = "resume --name NAME: let a paused VM run again",
};

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
