/* lkvm's commands: each is one builtin-*.c file and one line in main.c's table. */
#ifndef LKVM_BUILTIN_H
#define LKVM_BUILTIN_H

int cmd_run(int argc, char **argv);
void cmd_run_help(void);

#endif
