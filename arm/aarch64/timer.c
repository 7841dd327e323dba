/* The architected timer: in the kernel, so only its device tree node is ours. */
#include "lkvm/init.h"
#include "lkvm/kvm.h"

#include <libfdt.h>

/* PPIs (numbered from 16) of the secure, non-secure, virtual and hypervisor timers. */
static const u32 timer_ppis[] = { 13, 14, 11, 10 };

static int timer__fdt(const struct fdt_node_gen *self, const struct fdt_ctx *ctx)
{
	static const char compat[] = "arm,armv8-timer";
	fdt32_t irqs[ARRAY_SIZE(timer_ppis) * 3];
	u32 flags = FDT_IRQ_LEVEL_LOW;
	int err;

	(void)self;
	/* GICv2 PPI specifiers carry a mask of the CPUs the interrupt goes to. */
	if (ctx->gic_version == 2)
		flags |= ((1U << ctx->nr_cpus) - 1) << 8;
	for (size_t i = 0; i < ARRAY_SIZE(timer_ppis); i++) {
		irqs[i * 3] = cpu_to_fdt32(FDT_IRQ_TYPE_PPI);
		irqs[i * 3 + 1] = cpu_to_fdt32(timer_ppis[i]);
		irqs[i * 3 + 2] = cpu_to_fdt32(flags);
	}
	if ((err = fdt_begin_node(ctx->fdt, "timer")) ||
	    (err = fdt_property(ctx->fdt, "compatible", compat, sizeof(compat))) ||
	    (err = fdt_property(ctx->fdt, "interrupts", irqs, sizeof(irqs))) ||
	    (err = fdt_property(ctx->fdt, "always-on", NULL, 0)))
		return err;
	return fdt_end_node(ctx->fdt);
}

static const struct fdt_node_gen timer_fdt = { .gen = timer__fdt };

static int timer__acpi(const struct acpi_gen *self, struct acpi_ctx *ctx)
{
	u32 intids[ARRAY_SIZE(timer_ppis)];

	(void)self;
	for (size_t i = 0; i < ARRAY_SIZE(timer_ppis); i++)
		intids[i] = 16 + timer_ppis[i];
	return acpi__gtdt(ctx, intids);
}

static const struct acpi_gen timer_acpi = { .gen = timer__acpi };

static int timer__init(struct kvm *kvm)
{
	int err = kvm__add_fdt_gen(kvm, &timer_fdt);

	return err ? err : kvm__add_acpi_gen(kvm, &timer_acpi);
}
dev_init(timer__init, NULL)
