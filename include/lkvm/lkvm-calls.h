/*
 * lkvm's own vendor calls for test guests (Documentation/hypercalls.md): the service, and the rate
 * limit of LKVM_LOG, here so that the unit tests reach them without KVM.
 */
#ifndef LKVM_LKVM_CALLS_H
#define LKVM_LKVM_CALLS_H

#include "lkvm/hypercall.h"

/* LKVM_LOG writes at most LOG_BURST lines at once, then LOG_RATE a second, per VM. */
#define LKVM_LOG_BURST		200
#define LKVM_LOG_RATE		50

/*
 * A token bucket counted in time: each line costs 1/LKVM_LOG_RATE s, time pays it back, and the
 * debt may not pass LKVM_LOG_BURST lines' worth. All zero: a full bucket.
 */
struct log_limit {
	u64 last_ns;		/* the latest time seen */
	u64 debt_ns;		/* lines written and not yet paid back by time */
	u64 dropped;		/* lines dropped since the last one written */
};

/*
 * May a line be written at now_ns (CLOCK_MONOTONIC)? If so, *dropped is how many were dropped
 * before it (and the count starts again); if not, it is counted as dropped.
 */
bool log_limit__take(struct log_limit *l, u64 now_ns, u64 *dropped);

extern const struct fw_service lkvm_calls;

#endif
