/* lkvm's own calls in the vendor hypervisor range (Documentation/hypercalls.md): for test guests. */
#include "lkvm/lkvm-calls.h"
#include "lkvm/exit-codes.h"
#include "lkvm/kvm-cpu.h"
#include "lkvm/kvm.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

/* Vendor hypervisor function numbers 0x80-0x8f: next to KVM's 0-0x7f, never on them. */
#define LKVM_FN(n)		SMCCC_ID(SMCCC_OWNER_VENDOR_HYP, 0x80 + (n))
#define LKVM_FN64(n)		(LKVM_FN(n) | SMCCC_FN64)
#define LKVM_CALL_UID		0
#define LKVM_CALL_VERSION		1
#define LKVM_CALL_EXIT		2
#define LKVM_CALL_LOG		3
#define LKVM_CALL_COUNT		4
#define LKVM_CALLS_VERSION	0x10000
#define LKVM_LOG_MAX		4096
#define NSEC_PER_SEC		1000000000ULL
#define LOG_LINE_NS		(NSEC_PER_SEC / LKVM_LOG_RATE)

static const u32 lkvm_uid[4] = { 0x6c6b766d, 0x2d766d6d, 0x9e4d2b17, 0x51a8c3f0 };

/*
 * One bucket for the whole process, not per struct kvm: a guest that resets itself does not get
 * a fresh burst. Its lock is held only to decide, never while writing.
 */
static struct log_limit log_limit;
static pthread_mutex_t log_limit_lock = PTHREAD_MUTEX_INITIALIZER;

/* The call's number, or -1: LOG has a 64-bit form too, the others only 32-bit ones. */
static int lkvm_call(u32 fid)
{
	if (fid >= LKVM_FN(0) && fid < LKVM_FN(LKVM_CALL_COUNT))
		return (int)(fid - LKVM_FN(0));
	return fid == LKVM_FN64(LKVM_CALL_LOG) ? LKVM_CALL_LOG : -1;
}

_Static_assert(LKVM_LOG_MAX * 4 + 64 <= LOG_LINE_MAX, "a whole LKVM_LOG line must fit the log");

bool log_limit__take(struct log_limit *l, u64 now_ns, u64 *dropped)
{
	u64 elapsed = now_ns > l->last_ns ? now_ns - l->last_ns : 0;

	l->debt_ns = elapsed >= l->debt_ns ? 0 : l->debt_ns - elapsed;
	if (now_ns > l->last_ns)
		l->last_ns = now_ns;
	if (l->debt_ns + LOG_LINE_NS > LKVM_LOG_BURST * LOG_LINE_NS) {
		l->dropped++;
		return false;
	}
	l->debt_ns += LOG_LINE_NS;
	*dropped = l->dropped;
	l->dropped = 0;
	return true;
}

/* Not in the guest's own words ("guest vCPU N: ..."), so a guest cannot fake or hide it. */
static void lkvm_calls__report_dropped(u64 dropped)
{
	if (dropped)
		pr_trace("LKVM_LOG: %llu guest lines dropped: more than %u at once or %u a second",
			 (unsigned long long)dropped, LKVM_LOG_BURST, LKVM_LOG_RATE);
}

/* One line of the guest's, if the rate limit lets it through. */
static void lkvm_calls__line(unsigned int vcpu, const char *line, u64 now)
{
	u64 dropped = 0;
	bool ok;

	pthread_mutex_lock(&log_limit_lock);
	ok = log_limit__take(&log_limit, now, &dropped);
	pthread_mutex_unlock(&log_limit_lock);
	if (!ok)
		return;
	lkvm_calls__report_dropped(dropped);
	pr_trace("guest vCPU %u: %s", vcpu, line);
}

/* Writes the guest's text, one line per line, printable: the guest cannot forge lkvm's output. */
static void lkvm_calls__print(unsigned int vcpu, const u8 *text, size_t len)
{
	char line[LKVM_LOG_MAX * 4 + 1];
	size_t n = 0;
	u64 now = clock__now_ns();

	for (size_t i = 0; i <= len; i++) {
		if (i == len || text[i] == '\n') {
			line[n] = '\0';
			if (n || i < len)
				lkvm_calls__line(vcpu, line, now);
			n = 0;
		} else if (text[i] >= 0x20 && text[i] < 0x7f && text[i] != '\\') {
			line[n++] = (char)text[i];
		} else {
			n += (size_t)snprintf(line + n, sizeof(line) - n, "\\x%02x", text[i]);
		}
	}
}

static u64 lkvm_calls__log(struct kvm_cpu *cpu, u64 addr, u64 len)
{
	static _Thread_local u8 copy[LKVM_LOG_MAX];
	const u8 *src;

	if (len == 0 || len > LKVM_LOG_MAX)
		return SMCCC_RET_INVALID_PARAMETERS;
	src = kvm__gpa_to_host(cpu->kvm, addr, len);
	if (!src)
		return SMCCC_RET_INVALID_ADDRESS;
	/* Guest lines are warnings' peers: --loglevel error silences them. */
	if (log_level < LOG_WARNING)
		return 0;
	/* Other vCPUs may change the buffer meanwhile: work on one copy of it. */
	memcpy(copy, src, len);
	lkvm_calls__print(cpu->id, copy, len);
	return 0;
}

/* Statuses lkvm can map into its guest window (exit-codes.h); others are refused. */
static unsigned int lkvm_calls__exit(struct kvm_cpu *cpu, struct hc_call *c)
{
	if (c->arg[1] > LKVM_EXIT_GUEST_MAX) {
		c->res[0] = SMCCC_RET_INVALID_PARAMETERS;
		return 1;
	}
	cpu->kvm->guest_status = (int)c->arg[1];
	kvm__request_stop(cpu->kvm, VM_STOP_GUEST_EXIT);
	return 0;
}

static unsigned int lkvm_calls__call(struct kvm_cpu *cpu, struct hc_call *c)
{
	/* SMC32 arguments are 32 bits wide: what the guest left above them means nothing. */
	if (!(c->fid & SMCCC_FN64)) {
		for (unsigned int i = 1; i <= HC_MAX_ARGS; i++)
			c->arg[i] &= 0xffffffffULL;
	}
	switch (lkvm_call(c->fid)) {
	case LKVM_CALL_UID:
		for (int i = 0; i < 4; i++)
			c->res[i] = lkvm_uid[i];
		return 4;
	case LKVM_CALL_VERSION:
		c->res[0] = LKVM_CALLS_VERSION;
		c->res[1] = (1U << LKVM_CALL_COUNT) - 1;
		return 2;
	case LKVM_CALL_EXIT:
		return lkvm_calls__exit(cpu, c);
	case LKVM_CALL_LOG:
		c->res[0] = lkvm_calls__log(cpu, c->arg[1], c->arg[2]);
		return 1;
	default:
		c->res[0] = SMCCC_RET_NOT_SUPPORTED;
		return 1;
	}
}

static unsigned int lkvm_calls__nr_args(u32 fid)
{
	switch (lkvm_call(fid)) {
	case LKVM_CALL_EXIT: return 1;
	case LKVM_CALL_LOG: return 2;
	default: return 0;
	}
}

/* Lines dropped at the end, with no later line to say so before: said when the VM goes. */
static void lkvm_calls__exit_vm(struct kvm *kvm)
{
	u64 dropped;

	(void)kvm;
	pthread_mutex_lock(&log_limit_lock);
	dropped = log_limit.dropped;
	log_limit.dropped = 0;
	pthread_mutex_unlock(&log_limit_lock);
	lkvm_calls__report_dropped(dropped);
}

static const struct fw_decl lkvm_ranges[] = {
	{ LKVM_FN(0), LKVM_FN(0xf), "lkvm calls (UID, VERSION, EXIT, LOG)", .fn64 = true },
};

const struct fw_service lkvm_calls = {
	.name = "lkvm calls",
	.ranges = lkvm_ranges, .nr_ranges = ARRAY_SIZE(lkvm_ranges),
	.owner = FW_LKVM,
	.nr_args = lkvm_calls__nr_args,
	.call = lkvm_calls__call,
	.exit = lkvm_calls__exit_vm,
	.optional = true,
};
firmware_service(lkvm_calls)
