/*
 * --pmu: KVM's PMUv3 for every vCPU, as kvmtool sets it up. The vCPUs asked for it at creation
 * (kvm-cpu.c); here each gets its overflow interrupt and is initialised, which KVM allows only
 * once the GIC is (so at the dev level, after base), and the guest gets the PMU's node.
 */
#include "lkvm/init.h"
#include "lkvm/kvm-cpu.h"
#include "lkvm/kvm.h"

#include <errno.h>
#include <libfdt.h>
#include <string.h>
#include <sys/ioctl.h>

/* kvmtool's overflow interrupt: PPI 7, GIC INTID 23. */
#define PMU_PPI		7
#define PMU_INTID	(16 + PMU_PPI)

static int pmu__attr(struct kvm_cpu *cpu, u64 attr, const void *val)
{
	struct kvm_device_attr a = {
		.group = KVM_ARM_VCPU_PMU_V3_CTRL, .attr = attr, .addr = (u64)(uintptr_t)val,
	};

	return ioctl(cpu->fd, KVM_SET_DEVICE_ATTR, &a) ? -errno : 0;
}

static int pmu__fdt(const struct fdt_node_gen *self, const struct fdt_ctx *ctx)
{
	static const char compat[] = "arm,armv8-pmuv3";
	u32 flags = FDT_IRQ_LEVEL_HIGH;
	fdt32_t irq[3];
	int err;

	(void)self;
	/* GICv2 PPI specifiers carry a mask of the CPUs the interrupt goes to. */
	if (ctx->gic_version == 2)
		flags |= ((1U << ctx->nr_cpus) - 1) << 8;
	irq[0] = cpu_to_fdt32(FDT_IRQ_TYPE_PPI);
	irq[1] = cpu_to_fdt32(PMU_PPI);
	irq[2] = cpu_to_fdt32(flags);
	if ((err = fdt_begin_node(ctx->fdt, "pmu")) ||
	    (err = fdt_property(ctx->fdt, "compatible", compat, sizeof(compat))) ||
	    (err = fdt_property(ctx->fdt, "interrupts", irq, sizeof(irq))))
		return err;
	return fdt_end_node(ctx->fdt);
}

static const struct fdt_node_gen pmu_fdt = { .gen = pmu__fdt };

/* Under ACPI the overflow interrupt is each MADT GICC's performance interrupt. */
static int pmu__acpi(const struct acpi_gen *self, struct acpi_ctx *ctx)
{
	(void)self;
	ctx->pmu_intid = PMU_INTID;
	return 0;
}

static const struct acpi_gen pmu_acpi = { .gen = pmu__acpi };

static int pmu__init(struct kvm *kvm)
{
	int intid = PMU_INTID, err = 0;

	if (!kvm->cfg->pmu)
		return 0;
	for (unsigned int i = 0; i < kvm->nr_cpus && !err; i++) {
		err = pmu__attr(kvm->cpus[i], KVM_ARM_VCPU_PMU_V3_IRQ, &intid);
		if (!err)
			err = pmu__attr(kvm->cpus[i], KVM_ARM_VCPU_PMU_V3_INIT, NULL);
		if (err)
			pr_err("--pmu: vCPU %u: KVM cannot set its PMU up: %s", i, strerror(-err));
	}
	if (!err && ((err = kvm__add_fdt_gen(kvm, &pmu_fdt)) ||
		     (err = kvm__add_acpi_gen(kvm, &pmu_acpi))))
		pr_err("--pmu: no room for the PMU's device tree node or ACPI entry");
	return err;
}
dev_init(pmu__init, NULL)
