/* The KVM backend of lkvm's PSCI (--psci=user): PSCI calls arrive here through the hypercall
 * dispatcher, and the PSCI ops act on this VM's vCPUs. */
#include "lkvm/hotplug.h"
#include "lkvm/hypercall.h"
#include "lkvm/kvm-cpu.h"
#include "lkvm/kvm.h"
#include "lkvm/psci.h"
#include "lkvm/sdei-kvm.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>

struct psci_kvm {
	struct psci psci;
	struct kvm *kvm;
	_Atomic unsigned int conduit_warnings;
};

static struct kvm *psci_kvm(struct psci *psci)
{
	return container_of(psci, struct psci_kvm, psci)->kvm;
}

static bool psci_kvm__valid_entry(struct psci *psci, u64 addr)
{
	return kvm__gpa_to_host(psci_kvm(psci), addr, 4) != NULL;
}

/* lkvm's CPU_ON policy: start the target after the delay `lkvm cpu delay` set for it. */
static struct psci_cpu_on_verdict psci_kvm__cpu_on_policy(struct psci *psci, unsigned int caller,
							  unsigned int target)
{
	struct cpu_plan *plan = psci_kvm(psci)->plan;
	struct psci_cpu_on_verdict v = { .ret = PSCI_RET_SUCCESS };

	(void)caller;
	if (plan)
		v.delay_ns = cpu_plan__start_delay_ns(plan, target);
	return v;
}

static int psci_kvm__set_mp_state(struct kvm_cpu *cpu, u32 state)
{
	struct kvm_mp_state mp = { .mp_state = state };

	return ioctl(cpu->fd, KVM_SET_MP_STATE, &mp) ? -errno : 0;
}

/* Called on the suspending vCPU's own thread: KVM then waits for a wake event in KVM_RUN. */
static void psci_kvm__suspend(struct psci *psci, unsigned int cpu, enum psci_suspend_type type)
{
	struct kvm *kvm = psci_kvm(psci);
	int err = psci_kvm__set_mp_state(kvm->cpus[cpu], KVM_MP_STATE_SUSPENDED);

	(void)type;
	if (err) {
		pr_err("vCPU %u: cannot suspend: %s", cpu, strerror(-err));
		kvm__request_stop(kvm, VM_STOP_ERROR);
	}
}

static void psci_kvm__system_off(struct psci *psci)
{
	kvm__request_stop(psci_kvm(psci), VM_STOP_POWEROFF);
}

static void psci_kvm__system_reset(struct psci *psci)
{
	kvm__request_stop(psci_kvm(psci), VM_STOP_RESET);
}

static u64 psci_kvm__now_ns(struct psci *psci)
{
	(void)psci;
	return clock__now_ns();
}

/* Under PSCI's lock: SDEI (whose lock comes after PSCI's) sees the transitions in order. */
static void psci_kvm__event(struct psci *psci, enum vm_event_type ev, unsigned int cpu,
			    unsigned int target)
{
	sdei_kvm__psci_event(psci_kvm(psci), ev, target);
	kvm__post_event(psci_kvm(psci), ev, cpu, target);
}

static const struct psci_ops psci_kvm_ops = {
	.valid_entry = psci_kvm__valid_entry,
	.cpu_on_policy = psci_kvm__cpu_on_policy,
	.suspend = psci_kvm__suspend,
	.system_off = psci_kvm__system_off,
	.system_reset = psci_kvm__system_reset,
	.now_ns = psci_kvm__now_ns,
	.event = psci_kvm__event,
};

static void psci_kvm__trace(struct kvm_cpu *cpu, const struct psci_call *pc, unsigned int nr_args,
			    enum psci_outcome out, u64 start_ns)
{
	char args[80] = "", ret[48];
	const char *err = psci__ret_name((s64)pc->res[0]);

	for (unsigned int i = 1; i <= nr_args; i++)
		snprintf(args + strlen(args), sizeof(args) - strlen(args), "%s0x%" PRIx64,
			 i > 1 ? ", " : "", pc->arg[i]);
	if (out == PSCI_NO_RETURN)
		snprintf(ret, sizeof(ret), "does not return");
	else if ((s64)pc->res[0] < 0 && err)
		snprintf(ret, sizeof(ret), "%s", err);
	else
		snprintf(ret, sizeof(ret), "0x%" PRIx64, pc->res[0]);
	pr_trace("psci: vCPU %u %s%s(%s) = %s [%.1f us]", cpu->id, psci__fn_name(pc->fid),
		pc->fid & SMCCC_FN64 ? "64" : "", args, ret,
		(double)(clock__now_ns() - start_ns) / 1000.0);
}

/* Resets a vCPU to enter the guest at entry with x0 = context_id, as PSCI specifies. */
static int psci_kvm__reset_cpu(struct kvm_cpu *cpu, u64 entry, u64 context_id)
{
	int err = kvm_cpu__enter_at(cpu, entry, context_id);

	if (err)
		pr_err("vCPU %u: cannot reset it for PSCI: %s", cpu->id, strerror(-err));
	return err;
}

static unsigned int psci_kvm__call(struct kvm_cpu *cpu, struct hc_call *call)
{
	struct kvm *kvm = cpu->kvm;
	struct psci_kvm *pk = container_of(kvm->psci, struct psci_kvm, psci);
	struct psci_call pc = { .fid = call->fid };
	bool trace = kvm->cfg->debug_psci;
	u64 start = trace ? clock__now_ns() : 0;
	enum psci_outcome out;

	if (call->smc != (kvm->cfg->psci_conduit == CONDUIT_SMC)) {
		if (log__first(&pk->conduit_warnings, 8))
			pr_warn("vCPU %u: PSCI call 0x%08x through %s, but the conduit is %s: "
				"NOT_SUPPORTED", cpu->id, call->fid, call->smc ? "SMC" : "HVC",
				call->smc ? "HVC" : "SMC");
		call->res[0] = SMCCC_RET_NOT_SUPPORTED;
		return 1;
	}
	memcpy(pc.arg, call->arg, sizeof(pc.arg));
	out = psci__call(kvm->psci, cpu->id, &pc);
	if (trace)
		psci_kvm__trace(cpu, &pc, psci__nr_args(pc.fid), out, start);
	if (out == PSCI_NO_RETURN) {
		/* CPU_OFF parks the vCPU before it runs again; a powerdown suspend waits in KVM. */
		cpu->power_check = true;
		return 0;
	}
	call->res[0] = pc.res[0];
	return 1;
}

/* Sleeps a CPU_ON policy's delay; false if the VM stopped meanwhile. */
static bool psci_kvm__delay(struct kvm *kvm, u64 ns)
{
	while (ns && !kvm__stopping(kvm)) {
		u64 step = ns < 10000000 ? ns : 10000000;
		struct timespec ts = { .tv_nsec = (long)step };

		nanosleep(&ts, NULL);
		ns -= step;
	}
	return !kvm__stopping(kvm);
}

/* Before each KVM_RUN: waits while the vCPU is off, resets it if CPU_ON asks. False: stop. */
static bool psci_kvm__before_run(struct kvm_cpu *cpu)
{
	struct psci *psci = cpu->kvm->psci;
	bool reset;
	u64 entry, ctx, delay;

	/* A vCPU that will wait for CPU_ON resets now, off the CPU_ON's critical path. */
	if (psci__cpu_state(psci, cpu->id) == PSCI_STATE_OFF && kvm_cpu__reset(cpu))
		pr_warn("vCPU %u: cannot reset it while it is off; CPU_ON will try again", cpu->id);
	if (!psci__wait_cpu_on(psci, cpu->id, &reset, &entry, &ctx, &delay))
		return false;
	if (delay) {
		if (!psci_kvm__delay(cpu->kvm, delay))
			return false;
		psci__cpu_started(psci, cpu->id);
	}
	if (reset && psci_kvm__reset_cpu(cpu, entry, ctx))
		return false;
	cpu->is_reset = false;	/* it runs now */
	return true;
}

static int psci_kvm__wakeup(struct kvm_cpu *cpu)
{
	bool reset;
	u64 entry, ctx;
	int err = psci_kvm__set_mp_state(cpu, KVM_MP_STATE_RUNNABLE);

	if (err) {
		pr_err("vCPU %u: cannot wake it: %s", cpu->id, strerror(-err));
		return err;
	}
	psci__cpu_woke(cpu->kvm->psci, cpu->id, &reset, &entry, &ctx);
	return reset ? psci_kvm__reset_cpu(cpu, entry, ctx) : 0;
}

static void psci_kvm__stop(struct kvm *kvm)
{
	psci__stop(kvm->psci);
}

static const struct vcpu_power_ops psci_kvm_power = {
	.before_run = psci_kvm__before_run,
	.wakeup = psci_kvm__wakeup,
	.stop = psci_kvm__stop,
};

static int psci_kvm__init(struct kvm *kvm)
{
	struct psci_kvm *pk;
	u64 *mpidrs;
	int err = -ENOMEM;

	pk = calloc(1, sizeof(*pk));
	mpidrs = kvm_cpu__mpidrs(kvm);
	if (pk && mpidrs) {
		pk->kvm = kvm;
		/* Unplugged vCPUs are absent: CPU_ON answers DENIED until `lkvm cpu plug`. */
		err = psci__init(&pk->psci, &psci_kvm_ops, kvm->nr_cpus, mpidrs,
				 kvm->plan ? kvm->plan->plugged : NULL);
	}
	free(mpidrs);
	if (err) {
		pr_err("--psci=user: out of memory");
		free(pk);
		return err;
	}
	kvm->psci = &pk->psci;
	kvm->power = &psci_kvm_power;
	return 0;
}

static void psci_kvm__exit(struct kvm *kvm)
{
	psci__exit(kvm->psci);
	free(container_of(kvm->psci, struct psci_kvm, psci));
	kvm->psci = NULL;
	kvm->power = NULL;
}

static enum fw_owner psci_kvm__route(const struct lkvm_config *cfg)
{
	return cfg->psci == PSCI_USER ? FW_LKVM : FW_KVM;
}

static const struct fw_decl psci_ranges[] = {
	{ PSCI_FN(0), PSCI_FN(PSCI_FN_RANGE - 1), "PSCI", .fn64 = true },
	/* KVM would answer the legacy IDs with its own PSCI: lkvm's denies them. */
	{ PSCI_0_1_FN_BASE, PSCI_0_1_FN_BASE + PSCI_0_1_FN_COUNT - 1, "PSCI 0.1 (legacy IDs)",
	  .deny_if_lkvm = true },
};

/* Set up only with --psci=user: its route is the only one that has lkvm answer. */
static const struct fw_service psci_service = {
	.name = "--psci=user",
	.ranges = psci_ranges, .nr_ranges = ARRAY_SIZE(psci_ranges),
	.route = psci_kvm__route,
	.nr_args = psci__nr_args,
	.call = psci_kvm__call,
	.init = psci_kvm__init, .exit = psci_kvm__exit,
};
firmware_service(psci_service)
