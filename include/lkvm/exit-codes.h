/* lkvm's exit codes; Documentation/exit-codes.md is the user's copy of this table. */
#ifndef LKVM_EXIT_CODES_H
#define LKVM_EXIT_CODES_H

#define LKVM_EXIT_POWEROFF	0	/* the guest powered off */
#define LKVM_EXIT_ERROR		1	/* lkvm failed: bad input, missing host support, run-time error */
#define LKVM_EXIT_USAGE		2	/* bad command line */
#define LKVM_EXIT_RESET		3	/* the guest reset itself and --on-reset=exit was given */
#define LKVM_EXIT_CRASH		4	/* the guest reported a crash (KVM_SYSTEM_EVENT_CRASH) */
#define LKVM_EXIT_STOPPED	5	/* stopped by `lkvm stop` */
#define LKVM_EXIT_TIMEOUT	124	/* --timeout ran out, as with timeout(1) */
#define LKVM_EXIT_SIGNAL	128	/* + signal number: stopped by SIGINT, SIGTERM or SIGHUP */

/*
 * A guest's LKVM_EXIT(status): 0 is 0 (a guest can power off for that anyway), 1-59 are 65-123,
 * a window none of lkvm's own codes is in, so no guest can pass for a timeout or a signal.
 */
#define LKVM_EXIT_GUEST_BASE	64
#define LKVM_EXIT_GUEST_MAX	59
#define LKVM_EXIT_GUEST(status)	((status) ? LKVM_EXIT_GUEST_BASE + (status) : 0)

#endif
