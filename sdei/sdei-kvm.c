/*
 * The KVM backend of lkvm's SDEI (--sdei): SDEI calls arrive through the hypercall dispatcher;
 * events are entered on the target vCPU's own thread, before its next KVM_RUN, by rewriting its
 * registers (Documentation/sdei.md). Other vCPUs never stop for it.
 */
#include "lkvm/hotplug.h"
#include "lkvm/hypercall.h"
#include "lkvm/kvm-cpu.h"
#include "lkvm/kvm.h"
#include "lkvm/psci.h"
#include "lkvm/sdei-kvm.h"
#include "lkvm/sdei.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CORE_REG(x)	(KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM_CORE | \
			 (offsetof(struct kvm_regs, x) / sizeof(u32)))
#define REG_X(n)	(CORE_REG(regs.regs[0]) + 2 * (n))	/* 64-bit registers: 2 u32 slots */
#define REG_PC		CORE_REG(regs.pc)
#define REG_PSTATE	CORE_REG(regs.pstate)
#define REG_ELR_EL1	CORE_REG(elr_el1)
#define REG_SPSR_EL1	CORE_REG(spsr[KVM_SPSR_EL1])

struct sdei_kvm {
	struct sdei sdei;
	struct kvm *kvm;
	_Atomic unsigned int conduit_warnings;
};

static struct kvm *sdei_kvm(struct sdei *sdei)
{
	return container_of(sdei, struct sdei_kvm, sdei)->kvm;
}

/*
 * An entry point or resume address is a virtual address of the guest's EL1 (Linux registers
 * __sdei_asm_handler, or its KPTI trampoline alias, and resumes at VBAR_EL1 + 0x280/0x480), not
 * a guest-physical one: lkvm cannot check it without walking the guest's page tables. It only
 * ever writes it to the vCPU's PC, so a bad one faults in the guest, never in lkvm. It must be
 * an instruction's address, though.
 */
static bool sdei_kvm__valid_entry(struct sdei *sdei, u64 addr)
{
	(void)sdei;
	return !(addr & 3);
}

/* The run loop looks at sdei__may_dispatch() before every KVM_RUN: getting it there is all. */
static void sdei_kvm__kick(struct sdei *sdei, unsigned int cpu)
{
	kvm_cpu__kick(sdei_kvm(sdei)->cpus[cpu]);
}

static u64 sdei_kvm__now_ns(struct sdei *sdei)
{
	(void)sdei;
	return clock__now_ns();
}

static void sdei_kvm__event(struct sdei *sdei, enum vm_event_type type, unsigned int cpu,
			    u32 event, u64 duration_ns)
{
	struct vm_event ev = { .type = type, .vcpu = cpu, .target = cpu, .sdei_event = event,
			       .duration_ns = duration_ns };

	kvm__post_vm_event(sdei_kvm(sdei), &ev);
}

static const struct sdei_ops sdei_kvm_ops = {
	.valid_entry = sdei_kvm__valid_entry,
	.kick = sdei_kvm__kick,
	.now_ns = sdei_kvm__now_ns,
	.event = sdei_kvm__event,
};

/* The context an event interrupts, and COMPLETE restores: x0-x17, PC and PSTATE. */
static int sdei_kvm__get_ctx(struct kvm_cpu *cpu, struct sdei_context *c)
{
	int err = 0;

	for (unsigned int i = 0; i < SDEI_SAVED_REGS && !err; i++)
		err = kvm_cpu__get_reg(cpu, REG_X(i), &c->x[i]);
	if (!err)
		err = kvm_cpu__get_reg(cpu, REG_PC, &c->pc);
	if (!err)
		err = kvm_cpu__get_reg(cpu, REG_PSTATE, &c->pstate);
	return err;
}

static int sdei_kvm__set_regs(struct kvm_cpu *cpu, const u64 *x, unsigned int n, u64 pc,
			      u64 pstate)
{
	int err = 0;

	for (unsigned int i = 0; i < n && !err; i++)
		err = kvm_cpu__set_reg(cpu, REG_X(i), x[i]);
	if (!err)
		err = kvm_cpu__set_reg(cpu, REG_PC, pc);
	if (!err)
		err = kvm_cpu__set_reg(cpu, REG_PSTATE, pstate);
	return err;
}

/*
 * COMPLETE: back to the interrupted context. COMPLETE_AND_RESUME: the same registers, but at
 * the resume address as if an IRQ had been taken there (ELR_EL1/SPSR_EL1 = the interrupted
 * PC/PSTATE, PSTATE as on exception entry), which is where Linux's do_sdei_event points it.
 */
static int sdei_kvm__resume(struct kvm_cpu *cpu, const struct sdei_call *sc)
{
	const struct sdei_context *c = &sc->ctx;
	int err;

	if (!sc->resume_at)
		return sdei_kvm__set_regs(cpu, c->x, SDEI_SAVED_REGS, c->pc, c->pstate);
	err = kvm_cpu__set_reg(cpu, REG_ELR_EL1, c->pc);
	if (!err)
		err = kvm_cpu__set_reg(cpu, REG_SPSR_EL1, c->pstate);
	return err ? err : sdei_kvm__set_regs(cpu, c->x, SDEI_SAVED_REGS, sc->resume_addr,
					      SDEI_HANDLER_PSTATE);
}

static void sdei_kvm__trace(struct kvm_cpu *cpu, const struct sdei_call *sc, enum sdei_outcome out)
{
	const char *err = sdei__ret_name((s64)sc->res[0]);
	char args[112] = "";

	for (unsigned int i = 1; i <= sdei__nr_args(sc->fid) && i <= SDEI_MAX_ARGS; i++)
		snprintf(args + strlen(args), sizeof(args) - strlen(args), "%s0x%" PRIx64,
			 i > 1 ? ", " : "", sc->arg[i]);
	if (out == SDEI_RESUME)
		pr_trace("sdei: vCPU %u %s(%s): resumes at 0x%" PRIx64, cpu->id,
			 sdei__fn_name(sc->fid), args, sc->resume_at ? sc->resume_addr : sc->ctx.pc);
	else
		pr_trace("sdei: vCPU %u %s(%s) = %s%s0x%" PRIx64, cpu->id, sdei__fn_name(sc->fid),
			 args, (s64)sc->res[0] < 0 && err ? err : "", (s64)sc->res[0] < 0 && err ?
			 " " : "", sc->res[0]);
}

static unsigned int sdei_kvm__call(struct kvm_cpu *cpu, struct hc_call *call)
{
	struct kvm *kvm = cpu->kvm;
	struct sdei_kvm *sk = container_of(kvm->sdei, struct sdei_kvm, sdei);
	struct sdei_call sc = { .fid = call->fid };
	enum sdei_outcome out;
	int err;

	/* SDEI goes through PSCI's conduit, which the device tree advertises for both. */
	if (call->smc != (kvm->cfg->psci_conduit == CONDUIT_SMC)) {
		if (log__first(&sk->conduit_warnings, 8))
			pr_warn("vCPU %u: SDEI call 0x%08x through %s, but the conduit is %s: "
				"NOT_SUPPORTED", cpu->id, call->fid, call->smc ? "SMC" : "HVC",
				call->smc ? "HVC" : "SMC");
		call->res[0] = (u64)(s64)SDEI_NOT_SUPPORTED;
		return 1;
	}
	memcpy(sc.arg, call->arg, sizeof(sc.arg));
	out = sdei__call(kvm->sdei, cpu->id, &sc);
	if (kvm->cfg->debug_firmware)
		sdei_kvm__trace(cpu, &sc, out);
	if (out == SDEI_RETURN) {
		call->res[0] = sc.res[0];
		return 1;
	}
	/* The call's own result registers are not written: the context is whole again. */
	err = sdei_kvm__resume(cpu, &sc);
	if (err) {
		pr_err("vCPU %u: cannot resume from an SDEI handler: %s", cpu->id, strerror(-err));
		kvm__request_stop(kvm, VM_STOP_ERROR);
	}
	return 0;
}

/*
 * A pending event wakes a vCPU that PSCI suspended, as an interrupt would (Documentation/
 * sdei.md): a standby CPU_SUSPEND returns SUCCESS, a powerdown one resumes at its entry point;
 * then the event is entered there.
 */
static bool sdei_kvm__wake(struct kvm_cpu *cpu)
{
	struct kvm *kvm = cpu->kvm;

	if (psci__cpu_state(kvm->psci, cpu->id) != PSCI_STATE_SUSPENDED)
		return true;
	return kvm->power->wakeup(cpu) == 0;
}

bool sdei_kvm__before_run(struct kvm_cpu *cpu)
{
	struct sdei_context ctx;
	struct sdei_dispatch d;
	int err;

	if (!sdei_kvm__wake(cpu))
		return false;
	err = sdei_kvm__get_ctx(cpu, &ctx);
	if (err) {
		pr_err("vCPU %u: cannot read its registers for an SDEI event: %s", cpu->id,
		       strerror(-err));
		return false;
	}
	if (!sdei__dispatch(cpu->kvm->sdei, cpu->id, &ctx, &d))
		return true;
	err = sdei_kvm__set_regs(cpu, (const u64[]){ d.event, d.ep_arg, ctx.pc, ctx.pstate }, 4,
				 d.entry, SDEI_HANDLER_PSTATE);
	if (err)
		pr_err("vCPU %u: cannot enter the handler of SDEI event %u: %s", cpu->id, d.event,
		       strerror(-err));
	return !err;
}

void sdei_kvm__psci_event(struct kvm *kvm, enum vm_event_type ev, unsigned int cpu)
{
	if (!kvm->sdei)
		return;
	switch (ev) {
	case VM_EV_CPU_START: sdei__cpu_power(kvm->sdei, cpu, SDEI_PE_ON); break;
	case VM_EV_CPU_OFF: sdei__cpu_power(kvm->sdei, cpu, SDEI_PE_OFF); break;
	case VM_EV_PLUG: sdei__cpu_power(kvm->sdei, cpu, SDEI_PE_PRESENT); break;
	case VM_EV_UNPLUG: sdei__cpu_power(kvm->sdei, cpu, SDEI_PE_ABSENT); break;
	case VM_EV_SYSTEM_RESET: sdei__reset(kvm->sdei); break;
	default: break;
	}
}

/* "registered enabled running pending", or "unregistered". */
static void sdei_kvm__state_words(const struct sdei_event_state *s, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s%s%s", s->registered ? "registered" : "unregistered",
		 s->enabled ? " enabled" : "", s->running ? " running" : "",
		 s->pending ? " pending" : "", s->unregister_pending ? " unregister-pending" : "");
}

static size_t sdei_kvm__list_event(struct kvm *kvm, const struct sdei_event_desc *e, char *buf,
				   size_t len)
{
	struct sdei_event_state s;
	char words[80];
	size_t n = (size_t)snprintf(buf, len, "event %u %s: %s %s\n", e->num, e->name,
				    e->shared ? "shared" : "private", e->critical ? "critical" : "normal");

	for (unsigned int i = 0; i < (e->shared ? 1 : kvm->nr_cpus) && n < len; i++) {
		if (!sdei__event_state(kvm->sdei, e->num, i, &s) || !s.registered)
			continue;
		sdei_kvm__state_words(&s, words, sizeof(words));
		if (!e->shared) {
			n += (size_t)snprintf(buf + n, len - n, "  vcpu %u: %s entry=0x%" PRIx64
					      " arg=0x%" PRIx64 "\n", i, words, s.entry, s.ep_arg);
			continue;
		}
		n += (size_t)snprintf(buf + n, len - n, "  %s entry=0x%" PRIx64 " arg=0x%" PRIx64, words,
				      s.entry, s.ep_arg);
		if (n < len && s.route_mode == SDEI_RM_PE)
			n += (size_t)snprintf(buf + n, len - n, " route=pe:0x%" PRIx64, s.route_affinity);
		else if (n < len)
			n += (size_t)snprintf(buf + n, len - n, " route=any");
		if (n < len && s.running_cpu >= 0)
			n += (size_t)snprintf(buf + n, len - n, " running-on=%d", s.running_cpu);
		if (n < len)
			n += (size_t)snprintf(buf + n, len - n, "\n");
	}
	return n;
}

void sdei_kvm__list(struct kvm *kvm, char *buf, size_t len)
{
	const struct sdei_event_desc *ev;
	unsigned int count;
	size_t n = 0;

	*buf = '\0';
	for (unsigned int i = 0; i < kvm->nr_cpus && n < len; i++)
		n += (size_t)snprintf(buf + n, len - n, "vcpu %u: %s, %s\n", i,
				      psci__state_name(psci__cpu_state(kvm->psci, i)),
				      sdei__cpu_masked(kvm->sdei, i) ? "masked" : "unmasked");
	ev = sdei__events(&count);
	for (unsigned int i = 0; i < count && n < len; i++)
		n += sdei_kvm__list_event(kvm, &ev[i], buf + n, len - n);
}

int sdei_kvm__signal(struct kvm *kvm, const char *payload, char *err, size_t len)
{
	const struct sdei_event_desc *e;
	char name[32];
	const char *sp = strchr(payload, ' ');
	unsigned int cpu = 0;
	int ret, target;

	if (!sp || (size_t)(sp - payload) >= sizeof(name) ||
	    (strcmp(sp + 1, "-") && parse_uint(sp + 1, 0, 65535, &cpu))) {
		snprintf(err, len, "sdei signal: bad arguments '%.64s'", payload);
		return -EINVAL;
	}
	memcpy(name, payload, (size_t)(sp - payload));
	name[sp - payload] = '\0';
	e = sdei__event_by_name(name);
	if (!e) {
		snprintf(err, len, "sdei signal %s: no such event (lkvm sdei list shows them)", name);
		return -ENOENT;
	}
	if (cpu >= kvm->nr_cpus) {
		snprintf(err, len, "sdei signal %s: vCPU %u: no such vCPU (this VM has %u: 0-%u)",
			 e->name, cpu, kvm->nr_cpus, kvm->nr_cpus - 1);
		return -ENOENT;
	}
	/* No vCPU given: a private event goes to vCPU 0, a shared one as the guest routed it. */
	target = strcmp(sp + 1, "-") ? (int)cpu : e->shared ? -1 : 0;
	ret = sdei__signal(kvm->sdei, e->num, target);
	if (ret == -ENOENT && !e->shared)
		snprintf(err, len, "sdei signal %s: event %u is not registered on vCPU %d by the guest",
			 e->name, e->num, target);
	else if (ret == -ENOENT)
		snprintf(err, len, "sdei signal %s: event %u is not registered by the guest", e->name,
			 e->num);
	else if (ret == -ENODEV && target < 0)
		snprintf(err, len, "sdei signal %s: the guest routed it to a vCPU that is off or "
			 "absent: it takes no events", e->name);
	else if (ret == -ENODEV)
		snprintf(err, len, "sdei signal %s: vCPU %d is %s: it takes no events", e->name,
			 target, psci__state_name(psci__cpu_state(kvm->psci, (unsigned int)target)));
	else if (ret == -EINVAL)
		snprintf(err, len, "sdei signal %s: the guest routed it to one vCPU: signal it "
			 "without --cpu", e->name);
	else if (ret)
		snprintf(err, len, "sdei signal %s: %s", e->name, strerror(-ret));
	return ret;
}

static int sdei_kvm__init(struct kvm *kvm)
{
	struct sdei_kvm *sk = calloc(1, sizeof(*sk));
	u64 *mpidrs = kvm_cpu__mpidrs(kvm);
	int err = -ENOMEM;

	if (sk && mpidrs) {
		sk->kvm = kvm;
		/* The same vCPUs present as for PSCI: unplugged ones are absent. */
		err = sdei__init(&sk->sdei, &sdei_kvm_ops, kvm->nr_cpus, mpidrs,
				 kvm->plan ? kvm->plan->plugged : NULL);
	}
	free(mpidrs);
	if (err) {
		pr_err("--sdei: cannot set up SDEI: %s", strerror(-err));
		free(sk);
		return err;
	}
	kvm->sdei = &sk->sdei;
	return 0;
}

static void sdei_kvm__exit(struct kvm *kvm)
{
	sdei__exit(kvm->sdei);
	free(container_of(kvm->sdei, struct sdei_kvm, sdei));
	kvm->sdei = NULL;
}

/* Only with lkvm's PSCI, which parse_args makes sure of: SDEI follows its power states. */
static enum fw_owner sdei_kvm__route(const struct lkvm_config *cfg)
{
	return cfg->sdei && cfg->psci == PSCI_USER ? FW_LKVM : FW_KVM;
}

/* SMC64 only: SDEI has no SMC32 calls, so KVM goes on answering 0x84000020-3F (unknown). */
static const struct fw_decl sdei_ranges[] = {
	{ SDEI_FN_FIRST, SDEI_FN_LAST, "SDEI", .fn64 = false },
};

static const struct fw_service sdei_service = {
	.name = "--sdei",
	.ranges = sdei_ranges, .nr_ranges = ARRAY_SIZE(sdei_ranges),
	.route = sdei_kvm__route,
	.nr_args = sdei__nr_args,
	.call = sdei_kvm__call,
	.init = sdei_kvm__init, .exit = sdei_kvm__exit,
};
firmware_service(sdei_service)
