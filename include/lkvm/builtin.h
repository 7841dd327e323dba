/*
 * lkvm's commands: one builtin-*.c file per command family (run, list, cpu, vm for
 * stop/pause/resume, events, timeline, balloon, sdei for sdei and nmi), each command one line in main.c's table.
 */
#ifndef LKVM_BUILTIN_H
#define LKVM_BUILTIN_H

int cmd_run(int argc, char **argv);
void cmd_run_help(void);
int cmd_list(int argc, char **argv);
void cmd_list_help(void);
int cmd_cpu(int argc, char **argv);
void cmd_cpu_help(void);
int cmd_stop(int argc, char **argv);
void cmd_stop_help(void);
int cmd_pause(int argc, char **argv);
void cmd_pause_help(void);
int cmd_resume(int argc, char **argv);
void cmd_resume_help(void);
int cmd_events(int argc, char **argv);
void cmd_events_help(void);
int cmd_timeline(int argc, char **argv);
void cmd_timeline_help(void);
int cmd_balloon(int argc, char **argv);
void cmd_balloon_help(void);
int cmd_sdei(int argc, char **argv);
void cmd_sdei_help(void);
int cmd_nmi(int argc, char **argv);
void cmd_nmi_help(void);

#endif
