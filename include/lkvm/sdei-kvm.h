/*
 * The KVM backend of lkvm's SDEI (--sdei, sdei/sdei-kvm.c): what the vCPU run loop, lkvm's PSCI
 * and the control socket call. The state machine itself is sdei.h's.
 */
#ifndef LKVM_SDEI_KVM_H
#define LKVM_SDEI_KVM_H

#include <stddef.h>

#include "lkvm/events.h"

struct kvm;
struct kvm_cpu;

/*
 * On the vCPU's own thread before KVM_RUN, when sdei__may_dispatch() says an event may be
 * deliverable: wakes the vCPU if PSCI suspended it, then enters the event's handler. Returns
 * false if the vCPU cannot go on (the VM must stop).
 */
bool sdei_kvm__before_run(struct kvm_cpu *cpu);
/*
 * A PSCI transition of cpu (CPU_START, CPU_OFF, PLUG, UNPLUG, SYSTEM_RESET), from PSCI's event op
 * under PSCI's lock (which comes before SDEI's). Other events are ignored.
 */
void sdei_kvm__psci_event(struct kvm *kvm, enum vm_event_type ev, unsigned int cpu);

/* `lkvm sdei list`: each vCPU's power state and mask, then each event's state, into buf. */
void sdei_kvm__list(struct kvm *kvm, char *buf, size_t len);
/*
 * `lkvm sdei signal`: payload "EVENT CPU", EVENT a name or number, CPU a vCPU number or "-" (a
 * private event: vCPU 0; a shared one: as routed). 0, or < 0 with the reason in err.
 */
int sdei_kvm__signal(struct kvm *kvm, const char *payload, char *err, size_t len);

#endif
