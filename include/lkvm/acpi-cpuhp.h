/*
 * ACPI vCPU hot-add (--acpi with --psci=user): the registers through which the guest's AML reads
 * which vCPUs are enabled and which have a pending notification, and ejects a vCPU; and the DSDT
 * objects that use them: a Generic Event Device (ACPI0013) whose level-triggered SPI lkvm raises
 * while a notification is pending, and each processor device's _STA and _EJ0
 * (Documentation/hotplug.md). In the manner of QEMU's ACPI CPU hotplug interface, smaller.
 *
 * Registers (32-bit accesses at 4-byte aligned offsets only; anything else reads 0 and is ignored):
 *   0x0 SEL  read/write  the selected vCPU (a value >= the vCPU count selects none)
 *   0x4 STS  read        the selected vCPU: bit 0 enabled, 1 insert pending, 2 removal pending
 *           write        write 1 to clear bits 1 and 2 (the guest took the notification)
 *   0x8 CMD  write       1: eject the selected vCPU (its _EJ0)
 *
 * Lock order: the hot-add plan's lock, then PSCI's, then this device's; under its own lock the
 * device only raises or lowers its SPI. The guest's eject leaves the device's lock before it
 * calls ops->eject, which takes the plan's.
 */
#ifndef LKVM_ACPI_CPUHP_H
#define LKVM_ACPI_CPUHP_H

#include <pthread.h>

#include "lkvm/util.h"

struct aml;

#define CPUHP_REG_SEL		0x0
#define CPUHP_REG_STS		0x4
#define CPUHP_REG_CMD		0x8
#define CPUHP_NR_REGS		3

#define CPUHP_STS_ENABLED	0x1
#define CPUHP_STS_INSERT	0x2	/* Notify(cpu, 1) pending: device check */
#define CPUHP_STS_REMOVE	0x4	/* Notify(cpu, 3) pending: eject request */
#define CPUHP_STS_EVENTS	(CPUHP_STS_INSERT | CPUHP_STS_REMOVE)
#define CPUHP_CMD_EJECT		1

/* ACPI Notify values. */
#define ACPI_NOTIFY_DEVICE_CHECK	1
#define ACPI_NOTIFY_EJECT_REQUEST	3

struct acpi_cpuhp;

struct acpi_cpuhp_ops {
	/* The SPI's new level; called under the device's lock, on every change. */
	void (*set_irq)(struct acpi_cpuhp *hp, int level);
	/* The guest ejects vCPU cpu (its _EJ0): called without the device's lock. */
	void (*eject)(struct acpi_cpuhp *hp, unsigned int cpu);
};

struct acpi_cpuhp {
	const struct acpi_cpuhp_ops *ops;
	pthread_mutex_t lock;		/* guards everything below */
	unsigned int nr_cpus;
	u32 sel;
	u8 *sts;			/* CPUHP_STS_* per vCPU */
	bool *eject_requested;		/* asked for, not yet done: `lkvm cpu list` shows it */
	int level;
};

/* nr_cpus vCPUs, enabled[] the plugged ones. 0 or -ENOMEM. */
int acpi_cpuhp__init(struct acpi_cpuhp *hp, const struct acpi_cpuhp_ops *ops, unsigned int nr_cpus,
		     const bool *enabled);
void acpi_cpuhp__exit(struct acpi_cpuhp *hp);

/* lkvm's side, with the plan's lock held. */
/* vCPU cpu is plugged: enabled, insert pending. False if it already was enabled (nothing done). */
bool acpi_cpuhp__plug(struct acpi_cpuhp *hp, unsigned int cpu);
/* Asks the guest to eject vCPU cpu. False if it is not enabled or the request is already out. */
bool acpi_cpuhp__request_eject(struct acpi_cpuhp *hp, unsigned int cpu);
/* The guest ejected vCPU cpu and lkvm unplugged it: not enabled, nothing pending. */
void acpi_cpuhp__ejected(struct acpi_cpuhp *hp, unsigned int cpu);
bool acpi_cpuhp__eject_requested(struct acpi_cpuhp *hp, unsigned int cpu);

/* The guest's accesses, off from the registers' base. */
void acpi_cpuhp__read(struct acpi_cpuhp *hp, u64 off, u8 *data, unsigned int len);
void acpi_cpuhp__write(struct acpi_cpuhp *hp, u64 off, const u8 *data, unsigned int len);

/* The DSDT objects, inside \_SB: the GED with the registers at base, interrupting on intid. */
void acpi_cpuhp__aml(struct aml *a, unsigned int nr_cpus, u64 base, u32 intid);
/* Inside vCPU cpu's processor device: _STA and _EJ0 through the registers. */
void acpi_cpuhp__cpu_aml(struct aml *a, unsigned int cpu);

#endif
