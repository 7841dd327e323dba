/* lkvm events --name NAME: the VM's power events, one JSON object per line, as they happen. */
#include "lkvm/builtin.h"
#include "lkvm/control-client.h"
#include "lkvm/exit-codes.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static const struct ctl_cmd events_cmd = {
	.name = "events",
	.usage = "events --name NAME: print the VM's power events, one JSON object per line, until "
		 "it stops or you interrupt (exit 0)",
};

static volatile sig_atomic_t events_stop;

static void events_signal(int sig)
{
	(void)sig;
	events_stop = 1;
}

void cmd_events_help(void)
{
	ctl_cmd__help(&events_cmd);
}

int cmd_events(int argc, char **argv)
{
	static struct ctl_msg m;
	struct sigaction sa = { .sa_handler = events_signal };
	struct timeval none = { 0 };
	struct ctl_args a;
	int fd, err, code;

	if (!ctl_args__parse(argc, argv, &events_cmd, NULL, &a, &code))
		return code;
	fd = ctl__connect(a.name);
	if (fd < 0)
		return LKVM_EXIT_ERROR;
	err = ctl__send(fd, CTL_EVENTS, "");
	if (!err)
		err = ctl__recv(fd, &m);
	if (err || m.type != CTL_OK) {
		pr_err("%s: %s", a.name, err ? strerror(-err) : ctl_client__show(m.payload, false));
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
			printf("%s\n", ctl_client__show(m.payload, false));
			fflush(stdout);
		}
	}
	close(fd);
	return 0;
}
