/*
 * What happens to a running VM that others may follow (`lkvm events`): typed events, posted by
 * the part where they happen (PSCI, hot-add) and formatted by whoever consumes them (the control
 * socket turns them into JSON lines). No producer formats or knows its consumers.
 */
#ifndef LKVM_EVENTS_H
#define LKVM_EVENTS_H

#include "lkvm/util.h"

enum vm_event_type {
	VM_EV_CPU_ON_REQUEST,		/* vcpu asked to start target */
	VM_EV_CPU_ON_GRANTED,
	VM_EV_CPU_ON_DENIED,		/* unplugged, or the policy said no */
	VM_EV_CPU_START,		/* vcpu runs its first instruction next */
	VM_EV_CPU_OFF,
	VM_EV_SUSPEND,
	VM_EV_RESUME,
	VM_EV_PLUG,
	VM_EV_UNPLUG,
	VM_EV_SYSTEM_OFF,
	VM_EV_SYSTEM_RESET,
	VM_EV_SYSTEM_SUSPEND,
	VM_EV_SDEI_DISPATCH,		/* vcpu entered the handler of sdei_event */
	VM_EV_SDEI_COMPLETE,		/* ... and completed it after duration_ns */
	VM_EV_ACPI_NOTIFY,		/* lkvm notified vcpu's processor device: acpi_notify */
	VM_EV_ACPI_EJECT,		/* the guest ejected vcpu (its _EJ0) */
	VM_EV_NR_TYPES,
};

struct vm_event {
	enum vm_event_type type;
	unsigned int vcpu;
	unsigned int target;		/* the other vCPU, where there is one (CPU_ON) */
	u64 time_ns;			/* CLOCK_REALTIME */
	u32 sdei_event;			/* VM_EV_SDEI_*: the event number */
	u64 duration_ns;		/* VM_EV_SDEI_COMPLETE: how long the handler ran */
	u32 acpi_notify;		/* VM_EV_ACPI_NOTIFY: 1 device check, 3 eject request */
};

/* The event's name in `lkvm events`: "cpu_on_request"... */
const char *vm_event__name(enum vm_event_type type);
/* VM_EV_ACPI_NOTIFY's kind: "device_check", "eject_request", or "?". */
const char *vm_event__notify_name(u32 value);
/* Whether the event concerns a second vCPU, its target. */
bool vm_event__has_target(enum vm_event_type type);

#endif
