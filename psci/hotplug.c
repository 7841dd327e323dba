/* vCPU hot-add: the plan of plugged vCPUs and start delays, and its control-socket operations. */
#include "lkvm/hotplug.h"
#include "lkvm/acpi-cpuhp.h"
#include "lkvm/kvm-cpu.h"
#include "lkvm/kvm.h"
#include "lkvm/memory-map.h"
#include "lkvm/psci.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cpu_plan__init(struct cpu_plan *p, unsigned int nr_cpus, const bool *plugged)
{
	p->nr_cpus = nr_cpus;
	p->plugged = calloc(nr_cpus, sizeof(*p->plugged));
	p->delay_ms = calloc(nr_cpus, sizeof(*p->delay_ms));
	if (!p->plugged || !p->delay_ms) {
		cpu_plan__exit(p);
		return -ENOMEM;
	}
	for (unsigned int i = 0; i < nr_cpus; i++)
		p->plugged[i] = plugged ? plugged[i] : true;
	pthread_mutex_init(&p->lock, NULL);
	return 0;
}

void cpu_plan__exit(struct cpu_plan *p)
{
	if (p->plugged && p->delay_ms)
		pthread_mutex_destroy(&p->lock);
	free(p->plugged);
	free(p->delay_ms);
	p->plugged = NULL;
	p->delay_ms = NULL;
}

int cpu_plan__parse_list(const char *s, unsigned int nr_cpus, bool *plugged, unsigned int *count,
			 const char **why)
{
	int err = parse_cpu_list(s, nr_cpus, plugged, count);

	if (err) {
		*why = err == -EINVAL ? "expected vCPU numbers or ranges, as in 0,3,5-7" :
		       "a vCPU number beyond --max-cpus (they count from 0)";
		return -EINVAL;
	}
	if (!plugged[0]) {
		*why = "vCPU 0 boots the guest and must be plugged";
		return -EINVAL;
	}
	return 0;
}

static int hotplug__check(struct kvm *kvm, unsigned int id, char *err, size_t len)
{
	if (!kvm->psci || !kvm->plan) {
		snprintf(err, len, "vCPU %u: hot-add needs lkvm run --psci=user", id);
		return -EINVAL;
	}
	if (id >= kvm->nr_cpus) {
		snprintf(err, len, "vCPU %u: no such vCPU (this VM has %u: 0-%u)", id, kvm->nr_cpus,
			 kvm->nr_cpus - 1);
		return -ENOENT;
	}
	return 0;
}

static void hotplug__notify(struct kvm *kvm, unsigned int id, u32 value)
{
	struct vm_event ev = { .type = VM_EV_ACPI_NOTIFY, .vcpu = id, .acpi_notify = value };

	kvm__post_vm_event(kvm, &ev);
}

/*
 * ACPI plug: PSCI lets the vCPU start, then its _STA reads enabled and the GED tells the guest
 * (a device check), which registers the CPU. Plugging a plugged vCPU does nothing.
 */
static int hotplug__acpi_plug(struct kvm *kvm, unsigned int id)
{
	int ret = 0;

	/* Under --acpi the plan and the device's enabled bit change together, under this lock. */
	pthread_mutex_lock(&kvm->plan->lock);
	if (!kvm->plan->plugged[id])
		ret = psci__set_present(kvm->psci, id, true);
	if (!ret && !kvm->plan->plugged[id]) {
		kvm->plan->plugged[id] = true;
		hotplug__notify(kvm, id, ACPI_NOTIFY_DEVICE_CHECK);
		acpi_cpuhp__plug(kvm->cpuhp, id);
	}
	pthread_mutex_unlock(&kvm->plan->lock);
	return ret;
}

/*
 * ACPI unplug: a request (eject request) that the guest completes by offlining the CPU and
 * calling _EJ0 (hotplug__acpi_eject). An unplugged vCPU, or one already asked for, is left as is.
 */
static int hotplug__acpi_unplug(struct kvm *kvm, unsigned int id, char *err, size_t len)
{
	if (id == 0) {
		snprintf(err, len, "vCPU 0: it boots the guest and cannot be unplugged");
		return -EINVAL;
	}
	pthread_mutex_lock(&kvm->plan->lock);
	if (psci__cpu_state(kvm->psci, id) != PSCI_STATE_ABSENT &&
	    !acpi_cpuhp__eject_requested(kvm->cpuhp, id)) {
		hotplug__notify(kvm, id, ACPI_NOTIFY_EJECT_REQUEST);
		acpi_cpuhp__request_eject(kvm->cpuhp, id);
	}
	pthread_mutex_unlock(&kvm->plan->lock);
	return 0;
}

/* A guest can call _EJ0 as often as it likes: each complaint is logged once. */
static _Atomic unsigned int eject_boot_warnings, eject_busy_warnings;

void hotplug__acpi_eject(struct kvm *kvm, unsigned int id)
{
	int ret;

	kvm__post_event(kvm, VM_EV_ACPI_EJECT, id, id);
	if (id == 0) {
		pr_warn_once(&eject_boot_warnings, "ACPI: the guest ejected vCPU 0, which boots it: "
			     "ignored");
		return;
	}
	pthread_mutex_lock(&kvm->plan->lock);
	ret = psci__set_present(kvm->psci, id, false);
	if (!ret) {
		kvm->plan->plugged[id] = false;
		acpi_cpuhp__ejected(kvm->cpuhp, id);
	}
	pthread_mutex_unlock(&kvm->plan->lock);
	/* The guest sees _STA still enabled and says "Eject incomplete"; the request stays. */
	if (ret)
		pr_warn_once(&eject_busy_warnings, "ACPI: the guest ejected vCPU %u while it is %s: "
			     "it stays plugged", id, psci__state_name(psci__cpu_state(kvm->psci, id)));
}

int hotplug__set_plugged(struct kvm *kvm, unsigned int id, bool plugged, char *err, size_t len)
{
	int ret = hotplug__check(kvm, id, err, len);

	if (ret)
		return ret;
	if (kvm->cpuhp)
		return plugged ? hotplug__acpi_plug(kvm, id) : hotplug__acpi_unplug(kvm, id, err, len);
	/* The plan follows PSCI under the plan's lock, so a reset never sees one without the other. */
	pthread_mutex_lock(&kvm->plan->lock);
	ret = psci__set_present(kvm->psci, id, plugged);
	if (!ret)
		kvm->plan->plugged[id] = plugged;
	pthread_mutex_unlock(&kvm->plan->lock);
	if (ret == -EBUSY)
		snprintf(err, len, "vCPU %u: cannot unplug it while it is %s: offline it in the guest "
			 "first (echo 0 > /sys/devices/system/cpu/cpu%u/online)", id,
			 psci__state_name(psci__cpu_state(kvm->psci, id)), id);
	return ret;
}

int hotplug__set_delay(struct kvm *kvm, unsigned int id, u32 ms, char *err, size_t len)
{
	int ret = hotplug__check(kvm, id, err, len);

	if (ret)
		return ret;
	pthread_mutex_lock(&kvm->plan->lock);
	kvm->plan->delay_ms[id] = ms;
	pthread_mutex_unlock(&kvm->plan->lock);
	return 0;
}

u64 cpu_plan__start_delay_ns(struct cpu_plan *p, unsigned int cpu)
{
	u64 ms;

	pthread_mutex_lock(&p->lock);
	ms = p->delay_ms[cpu];
	pthread_mutex_unlock(&p->lock);
	return ms * 1000000ULL;
}

/*
 * The delays are copied first: a CPU_ON's policy never waits for the table's formatting. The
 * eject marks are read without the plan's lock: the device's own lock comes after PSCI's.
 */
void hotplug__list(struct kvm *kvm, char *buf, size_t len)
{
	size_t n = (size_t)snprintf(buf, len, "%-4s %-12s %-11s %9s %12s %9s %12s %8s\n", "ID", "MPIDR",
				    "STATE", "STANDBYS", "STANDBY_US", "POWERDNS", "POWERDN_US",
				    "DELAY_MS");
	u32 delay_ms[LKVM_MAX_CPUS];

	pthread_mutex_lock(&kvm->plan->lock);
	memcpy(delay_ms, kvm->plan->delay_ms, kvm->nr_cpus * sizeof(*delay_ms));
	pthread_mutex_unlock(&kvm->plan->lock);
	for (unsigned int i = 0; i < kvm->nr_cpus && n < len; i++) {
		struct psci_cpu_info c;
		char state[32];

		psci__cpu_info(kvm->psci, i, &c);
		/* An ACPI eject request the guest has not completed: "on,eject". */
		snprintf(state, sizeof(state), "%s%s", psci__state_name(c.state),
			 kvm->cpuhp && acpi_cpuhp__eject_requested(kvm->cpuhp, i) ? ",eject" : "");
		n += (size_t)snprintf(buf + n, len - n,
				      "%-4u 0x%010" PRIx64 " %-11s %9" PRIu64 " %12" PRIu64 " %9" PRIu64
				      " %12" PRIu64 " %8u\n", i, c.mpidr, state,
				      c.count[PSCI_STANDBY], c.residency_ns[PSCI_STANDBY] / 1000,
				      c.count[PSCI_POWERDOWN], c.residency_ns[PSCI_POWERDOWN] / 1000,
				      delay_ms[i]);
	}
}
