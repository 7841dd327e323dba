/* lkvm's commands: each is one builtin-*.c file and one line in main.c's table. */
#ifndef LKVM_BUILTIN_H
#define LKVM_BUILTIN_H

int cmd_run(int argc, char **argv);
void cmd_run_help(void);
int cmd_list(int argc, char **argv);
int cmd_cpu(int argc, char **argv);
int cmd_stop(int argc, char **argv);
int cmd_pause(int argc, char **argv);
int cmd_resume(int argc, char **argv);
int cmd_events(int argc, char **argv);
int cmd_balloon(int argc, char **argv);
void cmd_balloon_help(void);

#endif
