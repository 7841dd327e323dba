/*
 * The in-kernel vGIC (v3, or v2 when asked or when v3 is missing), with a GICv3 ITS for
 * --irqchip gicv3-its, and their device tree node. The ITS translates the MSIs of PCI devices
 * (hw/pci.c: MSI-X, DeviceID = the requester ID) into LPIs; KVM needs no host ITS for it.
 */
#include "lkvm/init.h"
#include "lkvm/kvm.h"
#include "lkvm/memory-map.h"

#include <errno.h>
#include <linux/kvm.h>
#include <libfdt.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define GIC_NR_IRQS	(32 + LKVM_NR_SPIS)	/* 32 private, then the memory map's SPIs */
#define GICV2_MAX_CPUS	8

static int gic__attr(int fd, u32 group, u64 attr, const void *val)
{
	struct kvm_device_attr a = { .group = group, .attr = attr, .addr = (u64)(uintptr_t)val };

	return ioctl(fd, KVM_SET_DEVICE_ATTR, &a) ? -errno : 0;
}

static int gic__create_device(struct kvm *kvm, enum gic_version v, bool test)
{
	struct kvm_create_device cd = {
		.type = v == GIC_V3 ? KVM_DEV_TYPE_ARM_VGIC_V3 : KVM_DEV_TYPE_ARM_VGIC_V2,
		.flags = test ? KVM_CREATE_DEVICE_TEST : 0,
	};

	if (ioctl(kvm->vm_fd, KVM_CREATE_DEVICE, &cd))
		return -errno;
	return test ? 0 : (int)cd.fd;
}

/* Whether KVM can create an ITS (KVM_CREATE_DEVICE_TEST): no VM state is touched. */
static bool gic__its_possible(struct kvm *kvm)
{
	struct kvm_create_device cd = {
		.type = KVM_DEV_TYPE_ARM_VGIC_ITS, .flags = KVM_CREATE_DEVICE_TEST,
	};

	return !ioctl(kvm->vm_fd, KVM_CREATE_DEVICE, &cd);
}

static int gic__choose(struct kvm *kvm)
{
	switch (kvm->cfg->irqchip) {
	case IRQCHIP_GICV3_ITS:
		kvm->its = true;
		/* fall through */
	case IRQCHIP_GICV3:
		kvm->gic = GIC_V3;
		break;
	case IRQCHIP_GICV2:
		kvm->gic = GIC_V2;
		break;
	case IRQCHIP_AUTO:
		kvm->gic = gic__create_device(kvm, GIC_V3, true) ? GIC_V2 : GIC_V3;
		break;
	}
	if (gic__create_device(kvm, kvm->gic, true)) {
		pr_err("--irqchip %s: this host's KVM cannot emulate a GICv%d%s",
		       kvm->its ? "gicv3-its" : kvm->gic == GIC_V3 ? "gicv3" : "gicv2", kvm->gic,
		       kvm->gic == GIC_V2 ? " (its GIC has no GICv2 compatibility): use gicv3" : "");
		return -ENODEV;
	}
	if (kvm->its && !gic__its_possible(kvm)) {
		pr_err("--irqchip gicv3-its: this host's KVM cannot emulate a GICv3 ITS: use gicv3");
		return -ENODEV;
	}
	if (kvm->gic == GIC_V2 && kvm->nr_cpus > GICV2_MAX_CPUS) {
		pr_err("--irqchip gicv2: a GICv2 supports at most %d vCPUs, -c asks for %u",
		       GICV2_MAX_CPUS, kvm->nr_cpus);
		return -EINVAL;
	}
	return 0;
}

/*
 * The ITS, a child of the GIC node (Linux's arm,gic-v3 binding): an MSI controller whose
 * #msi-cells (1) is the DeviceID, which the PCI bridge's msi-map gives as the requester ID.
 */
static int gic__fdt_its(void *fdt, const struct fdt_ctx *ctx)
{
	fdt64_t reg[2] = { cpu_to_fdt64(LKVM_GICV3_ITS_BASE), cpu_to_fdt64(LKVM_GICV3_ITS_SIZE) };
	char name[32];
	int err;

	snprintf(name, sizeof(name), "msi-controller@%llx", (unsigned long long)LKVM_GICV3_ITS_BASE);
	if ((err = fdt_begin_node(fdt, name)) ||
	    (err = fdt_property_string(fdt, "compatible", "arm,gic-v3-its")) ||
	    (err = fdt_property(fdt, "msi-controller", NULL, 0)) ||
	    (err = fdt_property_cell(fdt, "#msi-cells", 1)) ||
	    (err = fdt_property(fdt, "reg", reg, sizeof(reg))) ||
	    (err = fdt_property_cell(fdt, "phandle", ctx->its_phandle)))
		return err;
	return fdt_end_node(fdt);
}

static int gic__fdt(const struct fdt_node_gen *self, const struct fdt_ctx *ctx)
{
	static const char v3[] = "arm,gic-v3";
	static const char v2[] = "arm,cortex-a15-gic\0arm,gic-400";
	fdt64_t reg[4] = { cpu_to_fdt64(LKVM_GIC_DIST_BASE), cpu_to_fdt64(LKVM_GIC_DIST_SIZE) };
	void *fdt = ctx->fdt;
	int err;

	(void)self;
	if (ctx->gic_version == 3) {
		reg[2] = cpu_to_fdt64(LKVM_GICV3_REDIST_BASE);
		reg[3] = cpu_to_fdt64(ctx->nr_cpus * LKVM_GICV3_REDIST_SIZE);
	} else {
		reg[2] = cpu_to_fdt64(LKVM_GICV2_CPU_BASE);
		reg[3] = cpu_to_fdt64(LKVM_GICV2_CPU_SIZE);
	}
	if ((err = fdt_begin_node(fdt, "intc@8000000")) ||
	    (err = ctx->gic_version == 3 ? fdt_property(fdt, "compatible", v3, sizeof(v3))
					 : fdt_property(fdt, "compatible", v2, sizeof(v2))) ||
	    (err = fdt_property_cell(fdt, "#interrupt-cells", 3)) ||
	    /* Interrupt maps (PCI) give the parent unit address in two cells. */
	    (err = fdt_property_cell(fdt, "#address-cells", 2)) ||
	    (err = fdt_property_cell(fdt, "#size-cells", 2)) ||
	    (err = fdt_property(fdt, "interrupt-controller", NULL, 0)) ||
	    (err = fdt_property(fdt, "reg", reg, sizeof(reg))) ||
	    (err = fdt_property_cell(fdt, "phandle", ctx->gic_phandle)))
		return err;
	/* The ITS's reg is in the GIC's parent's address space: an empty ranges maps it 1:1. */
	if (ctx->its_phandle && ((err = fdt_property(fdt, "ranges", NULL, 0)) ||
				 (err = gic__fdt_its(fdt, ctx))))
		return err;
	return fdt_end_node(fdt);
}

static const struct fdt_node_gen gic_fdt = { .gen = gic__fdt };

/* The builder makes the MADT from these, with a GICC per vCPU. */
static int gic__acpi(const struct acpi_gen *self, struct acpi_ctx *ctx)
{
	(void)self;
	ctx->gicd = LKVM_GIC_DIST_BASE;
	ctx->gicc_v2 = LKVM_GICV2_CPU_BASE;
	ctx->gicr = LKVM_GICV3_REDIST_BASE;
	ctx->its_base = LKVM_GICV3_ITS_BASE;
	return 0;
}

static const struct acpi_gen gic_acpi = { .gen = gic__acpi };

static void gic__exit(struct kvm *kvm)
{
	if (kvm->gic_fd >= 0)
		close(kvm->gic_fd);
	kvm->gic_fd = -1;
}

/*
 * The ITS, after the distributor and redistributors are placed and before the GIC's own
 * CTRL_INIT, as kvmtool does. Its fd is not kept: the device lives as long as the VM.
 */
static int gic__create_its(struct kvm *kvm)
{
	struct kvm_create_device cd = { .type = KVM_DEV_TYPE_ARM_VGIC_ITS };
	u64 base = LKVM_GICV3_ITS_BASE;
	int err;

	if (ioctl(kvm->vm_fd, KVM_CREATE_DEVICE, &cd)) {
		err = -errno;
		pr_err("GICv3 ITS: cannot create: %s", strerror(-err));
		return err;
	}
	err = gic__attr((int)cd.fd, KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_ITS_ADDR_TYPE, &base);
	if (!err)
		err = gic__attr((int)cd.fd, KVM_DEV_ARM_VGIC_GRP_CTRL, KVM_DEV_ARM_VGIC_CTRL_INIT,
				NULL);
	if (err)
		pr_err("GICv3 ITS: cannot set up: %s", strerror(-err));
	close((int)cd.fd);
	return err;
}

static int gic__init(struct kvm *kvm)
{
	u64 dist = LKVM_GIC_DIST_BASE, cpu = LKVM_GICV2_CPU_BASE, redist = LKVM_GICV3_REDIST_BASE;
	u32 nr_irqs = GIC_NR_IRQS;
	int fd, err;

	err = gic__choose(kvm);
	if (err)
		return err;
	fd = gic__create_device(kvm, kvm->gic, false);
	if (fd < 0) {
		pr_err("GICv%d: cannot create: %s", kvm->gic, strerror(-fd));
		return fd;
	}
	kvm->gic_fd = fd;
	if (kvm->gic == GIC_V3) {
		err = gic__attr(fd, KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_V3_ADDR_TYPE_DIST, &dist);
		if (!err)
			err = gic__attr(fd, KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_V3_ADDR_TYPE_REDIST,
					&redist);
		if (!err && kvm->its && (err = gic__create_its(kvm))) {
			gic__exit(kvm);
			return err;
		}
	} else {
		err = gic__attr(fd, KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_V2_ADDR_TYPE_DIST, &dist);
		if (!err)
			err = gic__attr(fd, KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_V2_ADDR_TYPE_CPU, &cpu);
	}
	if (!err)
		err = gic__attr(fd, KVM_DEV_ARM_VGIC_GRP_NR_IRQS, 0, &nr_irqs);
	/* Initialise only now that every vCPU exists: KVM sizes the redistributors from them. */
	if (!err)
		err = gic__attr(fd, KVM_DEV_ARM_VGIC_GRP_CTRL, KVM_DEV_ARM_VGIC_CTRL_INIT, NULL);
	if (!err)
		err = kvm__add_fdt_gen(kvm, &gic_fdt);
	if (!err)
		err = kvm__add_acpi_gen(kvm, &gic_acpi);
	if (err) {
		pr_err("GICv%d: cannot set up: %s", kvm->gic, strerror(-err));
		gic__exit(kvm);
	}
	return err;
}
base_init(gic__init, gic__exit)
