/* ACPI vCPU hot-add: the registers' model, its DSDT objects, and the device on lkvm's MMIO bus. */
#include "lkvm/acpi-cpuhp.h"
#include "lkvm/acpi.h"
#include "lkvm/hotplug.h"
#include "lkvm/init.h"
#include "lkvm/kvm.h"
#include "lkvm/memory-map.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int acpi_cpuhp__init(struct acpi_cpuhp *hp, const struct acpi_cpuhp_ops *ops, unsigned int nr_cpus,
		     const bool *enabled)
{
	*hp = (struct acpi_cpuhp){ .ops = ops, .nr_cpus = nr_cpus };
	hp->sts = calloc(nr_cpus, sizeof(*hp->sts));
	hp->eject_requested = calloc(nr_cpus, sizeof(*hp->eject_requested));
	if (!hp->sts || !hp->eject_requested) {
		free(hp->sts);
		free(hp->eject_requested);
		return -ENOMEM;
	}
	for (unsigned int i = 0; i < nr_cpus; i++)
		hp->sts[i] = enabled[i] ? CPUHP_STS_ENABLED : 0;
	pthread_mutex_init(&hp->lock, NULL);
	return 0;
}

void acpi_cpuhp__exit(struct acpi_cpuhp *hp)
{
	pthread_mutex_destroy(&hp->lock);
	free(hp->sts);
	free(hp->eject_requested);
	hp->sts = NULL;
	hp->eject_requested = NULL;
}

/* The SPI is high while any vCPU has a notification the guest has not taken. Under the lock. */
static void acpi_cpuhp__update_irq(struct acpi_cpuhp *hp)
{
	int level = 0;

	for (unsigned int i = 0; i < hp->nr_cpus && !level; i++)
		level = (hp->sts[i] & CPUHP_STS_EVENTS) != 0;
	if (level != hp->level) {
		hp->level = level;
		hp->ops->set_irq(hp, level);
	}
}

bool acpi_cpuhp__plug(struct acpi_cpuhp *hp, unsigned int cpu)
{
	bool done = false;

	pthread_mutex_lock(&hp->lock);
	if (!(hp->sts[cpu] & CPUHP_STS_ENABLED)) {
		hp->sts[cpu] = CPUHP_STS_ENABLED | CPUHP_STS_INSERT;
		hp->eject_requested[cpu] = false;
		acpi_cpuhp__update_irq(hp);
		done = true;
	}
	pthread_mutex_unlock(&hp->lock);
	return done;
}

bool acpi_cpuhp__request_eject(struct acpi_cpuhp *hp, unsigned int cpu)
{
	bool done = false;

	pthread_mutex_lock(&hp->lock);
	if ((hp->sts[cpu] & CPUHP_STS_ENABLED) && !hp->eject_requested[cpu]) {
		/* A device check the guest has not taken yet is moot now. */
		hp->sts[cpu] = CPUHP_STS_ENABLED | CPUHP_STS_REMOVE;
		hp->eject_requested[cpu] = true;
		acpi_cpuhp__update_irq(hp);
		done = true;
	}
	pthread_mutex_unlock(&hp->lock);
	return done;
}

void acpi_cpuhp__ejected(struct acpi_cpuhp *hp, unsigned int cpu)
{
	pthread_mutex_lock(&hp->lock);
	hp->sts[cpu] = 0;
	hp->eject_requested[cpu] = false;
	acpi_cpuhp__update_irq(hp);
	pthread_mutex_unlock(&hp->lock);
}

bool acpi_cpuhp__eject_requested(struct acpi_cpuhp *hp, unsigned int cpu)
{
	bool r;

	pthread_mutex_lock(&hp->lock);
	r = hp->eject_requested[cpu];
	pthread_mutex_unlock(&hp->lock);
	return r;
}

/* Which register a guest access is for, or -1: only whole, aligned 32-bit registers. */
static int acpi_cpuhp__reg(u64 off, unsigned int len)
{
	if (len != 4 || off % 4 || off >= CPUHP_NR_REGS * 4)
		return -1;
	return (int)off;
}

void acpi_cpuhp__read(struct acpi_cpuhp *hp, u64 off, u8 *data, unsigned int len)
{
	int reg = acpi_cpuhp__reg(off, len);
	u32 v = 0;

	pthread_mutex_lock(&hp->lock);
	if (reg == CPUHP_REG_SEL)
		v = hp->sel;
	else if (reg == CPUHP_REG_STS && hp->sel < hp->nr_cpus)
		v = hp->sts[hp->sel];
	pthread_mutex_unlock(&hp->lock);
	memset(data, 0, len);
	if (reg >= 0)
		memcpy(data, &v, sizeof(v));	/* arm64 and the guest are little-endian */
}

void acpi_cpuhp__write(struct acpi_cpuhp *hp, u64 off, const u8 *data, unsigned int len)
{
	int reg = acpi_cpuhp__reg(off, len);
	unsigned int eject = hp->nr_cpus;	/* none */
	u32 v;

	if (reg < 0)
		return;
	memcpy(&v, data, sizeof(v));
	pthread_mutex_lock(&hp->lock);
	if (reg == CPUHP_REG_SEL) {
		hp->sel = v;
	} else if (hp->sel < hp->nr_cpus) {
		if (reg == CPUHP_REG_STS) {
			hp->sts[hp->sel] &= (u8)~(v & CPUHP_STS_EVENTS);
			acpi_cpuhp__update_irq(hp);
		} else if (reg == CPUHP_REG_CMD && v == CPUHP_CMD_EJECT &&
			   (hp->sts[hp->sel] & CPUHP_STS_ENABLED)) {
			eject = hp->sel;
		}
	}
	pthread_mutex_unlock(&hp->lock);
	/* Outside the lock: the eject takes the plan's and PSCI's, which come before ours. */
	if (eject < hp->nr_cpus)
		hp->ops->eject(hp, eject);
}

/* --- AML --- */

#define CPUHP_GED		"\\_SB.GED0"

/* Acquire(CPLK, 0xFFFF); CSEL = Arg0 */
static void acpi_cpuhp__select_arg0(struct aml *a)
{
	aml__acquire(a, "CPLK", 0xffff);
	aml__op(a, AML_STORE);
	aml__arg(a, 0);
	aml__name_path(a, "CSEL");
}

/* If (And(Local0, bit)) { Notify(cpu's device, value) } */
static void acpi_cpuhp__notify_if(struct aml *a, const char *dev, u8 bit, u8 value)
{
	aml__if_begin(a);
	aml__op(a, AML_AND);
	aml__local(a, 0);
	aml__integer(a, bit);
	aml__byte(a, 0);	/* no target */
	aml__op(a, AML_NOTIFY);
	aml__name_path(a, dev);
	aml__integer(a, value);
	aml__end(a);
}

/*
 * _EVT, the GED's interrupt handler: for each vCPU, take its pending notifications (CEVT reads
 * and clears them) and Notify its processor device. Unrolled: Notify needs each device's name.
 */
static void acpi_cpuhp__evt(struct aml *a, unsigned int nr_cpus)
{
	aml__method_begin(a, "_EVT", 1, true);
	for (unsigned int i = 0; i < nr_cpus; i++) {
		char dev[16];

		snprintf(dev, sizeof(dev), "\\_SB.C%03X", i & 0xfff);	/* build.c's names */
		aml__op(a, AML_STORE);
		aml__name_path(a, "CEVT");
		aml__integer(a, i);
		aml__local(a, 0);
		acpi_cpuhp__notify_if(a, dev, CPUHP_STS_INSERT, ACPI_NOTIFY_DEVICE_CHECK);
		acpi_cpuhp__notify_if(a, dev, CPUHP_STS_REMOVE, ACPI_NOTIFY_EJECT_REQUEST);
	}
	aml__end(a);
}

static void acpi_cpuhp__methods(struct aml *a)
{
	/* CSTA(cpu): _STA, present always (Linux requires it), enabled when plugged. */
	aml__method_begin(a, "CSTA", 1, true);
	acpi_cpuhp__select_arg0(a);
	aml__op(a, AML_STORE);
	aml__name_path(a, "CSTS");
	aml__local(a, 0);
	aml__release_mutex(a, "CPLK");
	aml__if_begin(a);
	aml__op(a, AML_AND);
	aml__local(a, 0);
	aml__integer(a, CPUHP_STS_ENABLED);
	aml__byte(a, 0);
	aml__op(a, AML_RETURN);
	aml__integer(a, 0xf);
	aml__end(a);
	aml__op(a, AML_RETURN);
	aml__integer(a, 0xd);
	aml__end(a);

	/* CEJ0(cpu): the eject command. */
	aml__method_begin(a, "CEJ0", 1, true);
	acpi_cpuhp__select_arg0(a);
	aml__op(a, AML_STORE);
	aml__integer(a, CPUHP_CMD_EJECT);
	aml__name_path(a, "CCMD");
	aml__release_mutex(a, "CPLK");
	aml__end(a);

	/* CEVT(cpu): Local0 = CSTS & events; CSTS = Local0 (write 1 to clear); Return(Local0) */
	aml__method_begin(a, "CEVT", 1, true);
	acpi_cpuhp__select_arg0(a);
	aml__op(a, AML_AND);
	aml__name_path(a, "CSTS");
	aml__integer(a, CPUHP_STS_EVENTS);
	aml__local(a, 0);
	aml__op(a, AML_STORE);
	aml__local(a, 0);
	aml__name_path(a, "CSTS");
	aml__release_mutex(a, "CPLK");
	aml__op(a, AML_RETURN);
	aml__local(a, 0);
	aml__end(a);
}

void acpi_cpuhp__aml(struct aml *a, unsigned int nr_cpus, u64 base, u32 intid)
{
	aml__device_begin(a, "GED0");
	aml__name_string(a, "_HID", "ACPI0013");
	aml__name_integer(a, "_UID", 0);
	aml__name(a, "_CRS");
	aml__rt_begin(a);
	aml__rt_interrupt(a, AML_IRQ_CONSUMER, intid);	/* level, active high */
	aml__rt_end(a);
	aml__opregion(a, "CPHR", AML_REGION_SYSTEM_MEMORY, base, CPUHP_NR_REGS * 4);
	/* NoLock: a hardware-reduced platform has no global lock; CPLK serialises the selector. */
	aml__field_begin(a, "CPHR", AML_FIELD_DWORD_ACC);
	aml__field_unit(a, "CSEL", 32);
	aml__field_unit(a, "CSTS", 32);
	aml__field_unit(a, "CCMD", 32);
	aml__end(a);
	aml__mutex(a, "CPLK", 0);
	acpi_cpuhp__methods(a);
	acpi_cpuhp__evt(a, nr_cpus);
	aml__end(a);
}

void acpi_cpuhp__cpu_aml(struct aml *a, unsigned int cpu)
{
	aml__method_begin(a, "_STA", 0, false);
	aml__op(a, AML_RETURN);
	aml__name_path(a, CPUHP_GED ".CSTA");
	aml__integer(a, cpu);
	aml__end(a);
	aml__method_begin(a, "_EJ0", 1, false);
	aml__name_path(a, CPUHP_GED ".CEJ0");
	aml__integer(a, cpu);
	aml__end(a);
}

/* --- The device --- */

struct cpuhp_dev {
	struct acpi_cpuhp hp;
	struct mmio_region mmio;
	struct acpi_gen acpi;
	struct kvm *kvm;
};

static void cpuhp__set_irq(struct acpi_cpuhp *hp, int level)
{
	struct cpuhp_dev *dev = container_of(hp, struct cpuhp_dev, hp);

	kvm__irq_line(dev->kvm, LKVM_ACPI_GED_SPI, level);
}

static void cpuhp__eject(struct acpi_cpuhp *hp, unsigned int cpu)
{
	struct cpuhp_dev *dev = container_of(hp, struct cpuhp_dev, hp);

	hotplug__acpi_eject(dev->kvm, cpu);
}

static const struct acpi_cpuhp_ops cpuhp_ops = {
	.set_irq = cpuhp__set_irq,
	.eject = cpuhp__eject,
};

static void cpuhp__mmio_read(struct mmio_region *r, u64 off, u8 *data, unsigned int len)
{
	acpi_cpuhp__read(&container_of(r, struct cpuhp_dev, mmio)->hp, off, data, len);
}

static void cpuhp__mmio_write(struct mmio_region *r, u64 off, const u8 *data, unsigned int len)
{
	acpi_cpuhp__write(&container_of(r, struct cpuhp_dev, mmio)->hp, off, data, len);
}

static const struct mmio_ops cpuhp_mmio_ops = {
	.read = cpuhp__mmio_read,
	.write = cpuhp__mmio_write,
};

static int cpuhp__acpi(const struct acpi_gen *self, struct acpi_ctx *ctx)
{
	(void)self;
	acpi_cpuhp__aml(ctx->dsdt, ctx->nr_cpus, LKVM_ACPI_CPUHP_BASE, 32 + LKVM_ACPI_GED_SPI);
	return 0;
}

static void cpuhp__exit(struct kvm *kvm)
{
	struct cpuhp_dev *dev = kvm->cpuhp ? container_of(kvm->cpuhp, struct cpuhp_dev, hp) : NULL;

	if (!dev)
		return;
	mmio__unregister(&kvm->mmio, &dev->mmio);
	acpi_cpuhp__exit(&dev->hp);
	free(dev);
	kvm->cpuhp = NULL;
}

/* Under --acpi with lkvm's PSCI (the plan): every boot starts from the plan's plugged vCPUs. */
static int cpuhp__init(struct kvm *kvm)
{
	struct cpuhp_dev *dev;
	int err;

	if (!kvm->cfg->acpi || !kvm->plan)
		return 0;
	dev = calloc(1, sizeof(*dev));
	if (!dev) {
		pr_err("ACPI CPU hot-add: out of memory");
		return -ENOMEM;
	}
	dev->kvm = kvm;
	dev->mmio = (struct mmio_region){ .base = LKVM_ACPI_CPUHP_BASE,
					  .size = LKVM_ACPI_CPUHP_SIZE, .ops = &cpuhp_mmio_ops };
	dev->acpi.gen = cpuhp__acpi;
	pthread_mutex_lock(&kvm->plan->lock);
	err = acpi_cpuhp__init(&dev->hp, &cpuhp_ops, kvm->nr_cpus, kvm->plan->plugged);
	pthread_mutex_unlock(&kvm->plan->lock);
	if (err) {
		free(dev);
		pr_err("ACPI CPU hot-add: out of memory");
		return err;
	}
	kvm->cpuhp = &dev->hp;
	err = mmio__register(&kvm->mmio, &dev->mmio);
	if (!err)
		err = kvm__add_acpi_gen(kvm, &dev->acpi);
	if (err) {
		pr_err("ACPI CPU hot-add: cannot register: %s", strerror(-err));
		cpuhp__exit(kvm);
	}
	return err;
}

dev_init(cpuhp__init, cpuhp__exit)
