/*
 * The vCPU plan of `lkvm run --max-cpus`: which vCPUs are plugged and how long CPU_ON of each
 * waits before it starts. It outlives a guest reset (the next boot starts from it); PSCI's own
 * per-vCPU state is the truth while the VM runs. Plug and unplug change both under the plan's
 * lock, which comes before PSCI's (psci.h): PSCI never calls into the plan with its lock held.
 * Under --acpi the ACPI hot-add device's lock comes after both (acpi-cpuhp.h).
 */
#ifndef LKVM_HOTPLUG_H
#define LKVM_HOTPLUG_H

#include <pthread.h>

#include "lkvm/util.h"

struct kvm;

struct cpu_plan {
	unsigned int nr_cpus;		/* every vCPU that exists: --max-cpus */
	bool *plugged;
	u32 *delay_ms;
	pthread_mutex_t lock;
};

/* nr_cpus vCPUs, the ones listed in plugged[] plugged (NULL: all). 0 or -ENOMEM. */
int cpu_plan__init(struct cpu_plan *p, unsigned int nr_cpus, const bool *plugged);
void cpu_plan__exit(struct cpu_plan *p);
/*
 * Parses --plugged-cpus "0,3,5-7" for nr_cpus vCPUs into plugged[] and the count. vCPU 0 must be
 * in it: it boots the guest. Returns 0, or -EINVAL with why set to a message.
 */
int cpu_plan__parse_list(const char *s, unsigned int nr_cpus, bool *plugged, unsigned int *count,
			 const char **why);

/* CPU_ON policy's input: how long a granted CPU_ON of cpu waits before the vCPU starts. */
u64 cpu_plan__start_delay_ns(struct cpu_plan *p, unsigned int cpu);

/* The running VM's side, for the control socket: plug or unplug vCPU id; set its delay. */
int hotplug__set_plugged(struct kvm *kvm, unsigned int id, bool plugged, char *err, size_t len);
int hotplug__set_delay(struct kvm *kvm, unsigned int id, u32 ms, char *err, size_t len);
/*
 * The ACPI guest ejected vCPU id (its _EJ0, acpi-cpuhp.h): unplug it. From a vCPU thread that
 * holds no lock. Under --acpi, hotplug__set_plugged(false) only asks the guest to eject.
 */
void hotplug__acpi_eject(struct kvm *kvm, unsigned int id);
/* Writes `lkvm cpu list`'s table into buf. */
void hotplug__list(struct kvm *kvm, char *buf, size_t len);

#endif
