/*
 * The virtio-mmio transport, version 2 only (virtio 1.2 section 4.2.2): the register window, the
 * level-triggered interrupt, and the device tree node of one virtio device.
 *
 * Registers are 32 bits wide; other widths and unaligned offsets read as zero and are ignored
 * on write. Device config space (from 0x100) takes any width.
 *
 * Where KVM offers them, a ready queue's QueueNotify writes go through an ioeventfd (KVM matches
 * the queue index; virtio-ioevent.h) and the interrupt through an irqfd (a status_irq, as PCI's
 * INTx; irq.h). The MMIO-exit path below still handles every write that reaches it.
 */
#include "lkvm/virtio-mmio.h"
#include "lkvm/irq.h"
#include "lkvm/virtio-ioevent.h"
#include "lkvm/kvm.h"
#include "lkvm/memory-map.h"

#include <endian.h>
#include <errno.h>
#include <libfdt.h>
#include <linux/virtio_mmio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VIRTIO_MMIO_MAGIC	0x74726976	/* "virt" */
#define VIRTIO_MMIO_MODERN	2
#define VIRTIO_MMIO_VENDOR	0x4d564b4c	/* "LKVM", kvmtool's */
#define VIRTIO_MMIO_CONFIG_MAX	(LKVM_VIRTIO_MMIO_SIZE - VIRTIO_MMIO_CONFIG)

struct virtio_mmio {
	struct virtio_transport transport;
	struct virtio_dev *vdev;
	struct kvm *kvm;
	struct mmio_region mmio;
	struct fdt_node_gen fdt;
	struct acpi_gen acpi;
	unsigned int spi;
	struct virtio_select sel;	/* under vdev->lock */
	struct status_irq irq;	/* InterruptStatus */
};

/* --- interrupt: one line for all queues, up while InterruptStatus is not 0 --- */

static void virtio_mmio__signal_vq(struct virtio_transport *t, struct virtq *vq)
{
	(void)vq;	/* one interrupt line: the driver looks at every queue */
	status_irq__raise(&container_of(t, struct virtio_mmio, transport)->irq,
			  VIRTIO_MMIO_INT_VRING);
}

static void virtio_mmio__signal_config(struct virtio_transport *t)
{
	status_irq__raise(&container_of(t, struct virtio_mmio, transport)->irq,
			  VIRTIO_MMIO_INT_CONFIG);
}

static void virtio_mmio__detach(struct virtio_transport *t);

static const struct virtio_transport_ops virtio_mmio_transport_ops = {
	.signal_vq = virtio_mmio__signal_vq,
	.signal_config = virtio_mmio__signal_config,
	.detach = virtio_mmio__detach,
};

/* --- registers --- */

static u32 virtio_mmio__reg_read(struct virtio_mmio *vm, u64 off)
{
	struct virtio_dev *vdev = vm->vdev;
	struct virtq *vq = virtio_select__vq(&vm->sel, vm->vdev);

	switch (off) {
	case VIRTIO_MMIO_MAGIC_VALUE:		return VIRTIO_MMIO_MAGIC;
	case VIRTIO_MMIO_VERSION:		return VIRTIO_MMIO_MODERN;
	case VIRTIO_MMIO_DEVICE_ID:		return vdev->ops->device_id;
	case VIRTIO_MMIO_VENDOR_ID:		return VIRTIO_MMIO_VENDOR;
	case VIRTIO_MMIO_DEVICE_FEATURES:	return virtio_select__device_features(&vm->sel, vdev);
	case VIRTIO_MMIO_QUEUE_NUM_MAX:		return vq ? VIRTQ_MAX_SIZE : 0;
	case VIRTIO_MMIO_QUEUE_READY:		return vq && atomic_load(&vq->ready);
	case VIRTIO_MMIO_INTERRUPT_STATUS:	return status_irq__status(&vm->irq);
	case VIRTIO_MMIO_STATUS:		return atomic_load(&vdev->status);
	case VIRTIO_MMIO_CONFIG_GENERATION:	return atomic_load(&vdev->config_generation);
	/* No shared memory regions: their length and base read as all ones. */
	case VIRTIO_MMIO_SHM_LEN_LOW:
	case VIRTIO_MMIO_SHM_LEN_HIGH:
	case VIRTIO_MMIO_SHM_BASE_LOW:
	case VIRTIO_MMIO_SHM_BASE_HIGH:		return 0xffffffff;
	default:				return 0;
	}
}

static void set_lo32(u64 *v, u32 lo)
{
	*v = (*v & ~0xffffffffULL) | lo;
}

static void set_hi32(u64 *v, u32 hi)
{
	*v = (*v & 0xffffffffULL) | (u64)hi << 32;
}

/* A ready queue's doorbell: KVM signals an eventfd for a write of the queue's index. */
static void virtio_mmio__queue_ready(struct virtio_mmio *vm, struct virtq *vq, bool ready)
{
	if (!ready) {
		virtio_ioevent__del(vq);
		virtq__disable(vq);
	} else if (!virtq__enable(vq) && !vq->ioevent) {
		/* Without it, QueueNotify exits to virtio_mmio__notify as before. */
		virtio_ioevent__add(vq, vm->mmio.base + VIRTIO_MMIO_QUEUE_NOTIFY, 4, true, vq->index);
	}
}

static void virtio_mmio__del_ioevents(struct virtio_mmio *vm)
{
	for (unsigned int i = 0; i < vm->vdev->nr_vqs; i++)
		virtio_ioevent__del(&vm->vdev->vqs[i]);
}

/* Queue setup registers: the driver may change them only while the queue is not ready. */
static void virtio_mmio__queue_write(struct virtio_mmio *vm, u64 off, u32 val)
{
	struct virtq *vq = virtio_select__vq(&vm->sel, vm->vdev);

	if (!vq)
		return;
	if (off == VIRTIO_MMIO_QUEUE_READY) {
		virtio_mmio__queue_ready(vm, vq, val);
		return;
	}
	if (atomic_load(&vq->ready))
		return;
	switch (off) {
	case VIRTIO_MMIO_QUEUE_NUM:		vq->num = val; break;
	case VIRTIO_MMIO_QUEUE_DESC_LOW:	set_lo32(&vq->desc_gpa, val); break;
	case VIRTIO_MMIO_QUEUE_DESC_HIGH:	set_hi32(&vq->desc_gpa, val); break;
	case VIRTIO_MMIO_QUEUE_AVAIL_LOW:	set_lo32(&vq->avail_gpa, val); break;
	case VIRTIO_MMIO_QUEUE_AVAIL_HIGH:	set_hi32(&vq->avail_gpa, val); break;
	case VIRTIO_MMIO_QUEUE_USED_LOW:	set_lo32(&vq->used_gpa, val); break;
	case VIRTIO_MMIO_QUEUE_USED_HIGH:	set_hi32(&vq->used_gpa, val); break;
	}
}

static void virtio_mmio__status(struct virtio_mmio *vm, u32 val)
{
	/* Doorbells first: once the device is reset, no notify runs on the I/O thread any more. */
	if (!val)
		virtio_mmio__del_ioevents(vm);
	if (virtio_select__write_status(&vm->sel, vm->vdev, val))
		status_irq__ack(&vm->irq, ~0U);
}

static void virtio_mmio__reg_write(struct virtio_mmio *vm, u64 off, u32 val)
{
	switch (off) {
	case VIRTIO_MMIO_DEVICE_FEATURES_SEL:	vm->sel.dev_features = val; break;
	case VIRTIO_MMIO_DRIVER_FEATURES:
		virtio_select__set_driver_features(&vm->sel, vm->vdev, val);
		break;
	case VIRTIO_MMIO_DRIVER_FEATURES_SEL:	vm->sel.drv_features = val; break;
	case VIRTIO_MMIO_QUEUE_SEL:		vm->sel.queue = val; break;
	case VIRTIO_MMIO_STATUS:		virtio_mmio__status(vm, val); break;
	default:				virtio_mmio__queue_write(vm, off, val); break;
	}
}

/* --- config space --- */

static bool virtio_mmio__config_ok(struct virtio_mmio *vm, u64 off, unsigned int len)
{
	return off >= VIRTIO_MMIO_CONFIG && off - VIRTIO_MMIO_CONFIG + len <= vm->vdev->ops->config_size;
}

static void virtio_mmio__config_read(struct virtio_mmio *vm, u64 off, u8 *data, unsigned int len)
{
	struct virtio_dev *vdev = vm->vdev;

	if (!virtio_mmio__config_ok(vm, off, len) || !vdev->ops->config_read)
		return;
	pthread_mutex_lock(&vdev->lock);
	vdev->ops->config_read(vdev, (u32)(off - VIRTIO_MMIO_CONFIG), data, len);
	pthread_mutex_unlock(&vdev->lock);
}

static void virtio_mmio__config_write(struct virtio_mmio *vm, u64 off, const u8 *data,
				      unsigned int len)
{
	struct virtio_dev *vdev = vm->vdev;

	if (!virtio_mmio__config_ok(vm, off, len) || !vdev->ops->config_write)
		return;
	pthread_mutex_lock(&vdev->lock);
	vdev->ops->config_write(vdev, (u32)(off - VIRTIO_MMIO_CONFIG), data, len);
	pthread_mutex_unlock(&vdev->lock);
}

/* --- the MMIO region --- */

static void virtio_mmio__read(struct mmio_region *r, u64 off, u8 *data, unsigned int len)
{
	struct virtio_mmio *vm = container_of(r, struct virtio_mmio, mmio);
	u32 val;

	memset(data, 0, len);
	if (off >= VIRTIO_MMIO_CONFIG) {
		virtio_mmio__config_read(vm, off, data, len);
		return;
	}
	if (len != 4 || !IS_ALIGNED(off, 4))
		return;
	pthread_mutex_lock(&vm->vdev->lock);
	val = htole32(virtio_mmio__reg_read(vm, off));
	pthread_mutex_unlock(&vm->vdev->lock);
	memcpy(data, &val, sizeof(val));
}

static void virtio_mmio__notify(struct virtio_mmio *vm, u32 index)
{
	struct virtio_dev *vdev = vm->vdev;

	/* Without dev->lock: a device may take its time, or hand the work to another thread. */
	if (index < vdev->nr_vqs && vdev->ops->notify)
		vdev->ops->notify(vdev, &vdev->vqs[index]);
}

static void virtio_mmio__write(struct mmio_region *r, u64 off, const u8 *data, unsigned int len)
{
	struct virtio_mmio *vm = container_of(r, struct virtio_mmio, mmio);
	u32 val;

	if (off >= VIRTIO_MMIO_CONFIG) {
		virtio_mmio__config_write(vm, off, data, len);
		return;
	}
	if (len != 4 || !IS_ALIGNED(off, 4))
		return;
	memcpy(&val, data, sizeof(val));
	val = le32toh(val);
	if (off == VIRTIO_MMIO_QUEUE_NOTIFY) {
		virtio_mmio__notify(vm, val);
	} else if (off == VIRTIO_MMIO_INTERRUPT_ACK) {
		status_irq__ack(&vm->irq, val);
	} else {
		pthread_mutex_lock(&vm->vdev->lock);
		virtio_mmio__reg_write(vm, off, val);
		pthread_mutex_unlock(&vm->vdev->lock);
	}
}

static const struct mmio_ops virtio_mmio_ops = {
	.read = virtio_mmio__read,
	.write = virtio_mmio__write,
};

/* --- device tree --- */

static int virtio_mmio__fdt(const struct fdt_node_gen *self, const struct fdt_ctx *ctx)
{
	const struct virtio_mmio *vm = container_of(self, struct virtio_mmio, fdt);
	fdt64_t reg[2] = { cpu_to_fdt64(vm->mmio.base), cpu_to_fdt64(vm->mmio.size) };
	fdt32_t irq[3] = { cpu_to_fdt32(FDT_IRQ_TYPE_SPI), cpu_to_fdt32(vm->spi),
			   cpu_to_fdt32(FDT_IRQ_LEVEL_HIGH) };
	void *fdt = ctx->fdt;
	char name[32];
	int err;

	snprintf(name, sizeof(name), "virtio_mmio@%llx", (unsigned long long)vm->mmio.base);
	if ((err = fdt_begin_node(fdt, name)) ||
	    (err = fdt_property_string(fdt, "compatible", "virtio,mmio")) ||
	    (err = fdt_property(fdt, "reg", reg, sizeof(reg))) ||
	    (err = fdt_property(fdt, "interrupts", irq, sizeof(irq))) ||
	    (err = fdt_property(fdt, "dma-coherent", NULL, 0)))
		return err;
	return fdt_end_node(fdt);
}

/* LNRO0005: Linux's virtio-mmio driver's ACPI ID. */
static int virtio_mmio__acpi(const struct acpi_gen *self, struct acpi_ctx *ctx)
{
	const struct virtio_mmio *vm = container_of(self, struct virtio_mmio, acpi);
	unsigned int slot = (unsigned int)((vm->mmio.base - LKVM_VIRTIO_MMIO_BASE) /
					   LKVM_VIRTIO_MMIO_SIZE);
	char name[8];

	snprintf(name, sizeof(name), "VR%02X", slot & 0xff);
	acpi__mmio_device(ctx->dsdt, name, "LNRO0005", slot, (u32)vm->mmio.base,
			  (u32)vm->mmio.size, 32 + vm->spi);
	return 0;
}

/* --- registration --- */

/* The slot is the first free register window: what was registered before holds the others. */
static int virtio_mmio__free_slot(struct kvm *kvm)
{
	for (unsigned int n = 0; n < LKVM_VIRTIO_MMIO_MAX; n++) {
		u64 base = LKVM_VIRTIO_MMIO_BASE + n * LKVM_VIRTIO_MMIO_SIZE;
		struct mmio_region *r = kvm->mmio.regions;

		while (r && r->base != base)
			r = r->next;
		if (!r)
			return (int)n;
	}
	return -ENOSPC;
}

int virtio_mmio__init(struct kvm *kvm, struct virtio_dev *vdev)
{
	int slot = virtio_mmio__free_slot(kvm), err = -ENOMEM;
	struct virtio_mmio *vm;

	if (slot < 0 || vdev->ops->config_size > VIRTIO_MMIO_CONFIG_MAX) {
		pr_err("%s: cannot add it: %s", vdev->ops->name, slot < 0 ?
		       "all virtio-mmio slots are taken" : "config space too large");
		return slot < 0 ? slot : -EINVAL;
	}
	vm = calloc(1, sizeof(*vm));
	if (!vm)
		goto fail;
	vm->transport.ops = &virtio_mmio_transport_ops;
	vm->vdev = vdev;
	vm->kvm = kvm;
	vm->spi = LKVM_VIRTIO_SPI_BASE + (unsigned int)slot;
	vm->mmio = (struct mmio_region){
		.base = LKVM_VIRTIO_MMIO_BASE + (u64)slot * LKVM_VIRTIO_MMIO_SIZE,
		.size = LKVM_VIRTIO_MMIO_SIZE, .ops = &virtio_mmio_ops,
	};
	vm->fdt.gen = virtio_mmio__fdt;
	vm->acpi.gen = virtio_mmio__acpi;
	status_irq__init(&vm->irq, kvm, vm->spi, vdev->ops->name);
	vdev->transport = &vm->transport;
	err = mmio__register(&kvm->mmio, &vm->mmio);
	if (!err)
		err = kvm__add_fdt_gen(kvm, &vm->fdt);
	if (!err)
		err = kvm__add_acpi_gen(kvm, &vm->acpi);
	if (!err)
		return 0;
	virtio_mmio__detach(&vm->transport);
	vdev->transport = NULL;
fail:
	pr_err("%s: cannot add it: %s", vdev->ops->name, strerror(-err));
	return err;
}

static void virtio_mmio__detach(struct virtio_transport *t)
{
	struct virtio_mmio *vm = container_of(t, struct virtio_mmio, transport);

	mmio__unregister(&vm->kvm->mmio, &vm->mmio);
	virtio_mmio__del_ioevents(vm);
	status_irq__exit(&vm->irq);
	free(vm);
}
