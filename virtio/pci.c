/*
 * The virtio-pci transport, modern only (virtio 1.2 section 4.1): the capabilities in config
 * space, the common configuration, ISR, device configuration and notification structures in
 * BAR 0, INTx, and with an ITS the MSI-X vectors of config changes and queues. The PCI side
 * (config header, BAR decoding, the interrupt line, MSI-X's capability, table and PBA) is
 * hw/pci.c's.
 *
 * Common configuration fields take their own width only; the 64-bit queue addresses also take
 * two 32-bit halves, as Linux writes them. Other accesses read as zero and are ignored on write,
 * as are writes to read-only fields. Device configuration takes any width within its size.
 *
 * Where KVM offers them (virtio-ioevent.h, irq.h):
 *  - an enabled queue's doorbell is a KVM ioeventfd for 2-byte writes (Linux's) at its address,
 *    while BAR 0 decodes in the window: the bus tells us of every BAR and Command write
 *    (decoding_changed), and the ioeventfd is taken away and put where the doorbell went, or
 *    just taken away while memory decoding is off; also at device reset and teardown. Any
 *    write that still reaches the BAR (other widths, the PCI_CFG window, no ioeventfd) goes to
 *    notify__write as before;
 *  - INTx is the bus's status_irq with the ISR as its status: an irqfd with resampling,
 *    raised again after the guest's EOI while the ISR is not 0 and INTx is not disabled.
 *    KVM_IRQ_LINE otherwise;
 *  - while the driver has MSI-X enabled, an event goes to its vector instead (none for
 *    NO_VECTOR), an irqfd that KVM routes as the vector's MSI (pci__msix_raise).
 *
 * Locking: the bus lock (config space, BAR and Command writes), then vdev->lock (registers,
 * doorbells), then vq->lock; virtio_ioevent__add/del run under vdev->lock, never under vq->lock.
 */
#include "lkvm/virtio-pci.h"
#include "lkvm/virtio-ioevent.h"
#include "lkvm/kvm.h"
#include "lkvm/pci.h"

#include <errno.h>
#include <linux/pci_regs.h>
#include <linux/virtio_ids.h>
#define VIRTIO_PCI_NO_LEGACY
#include <linux/virtio_pci.h>
#include <stdlib.h>
#include <string.h>

#define VIRTIO_PCI_ISR_QUEUE	0x1
#define VIRTIO_PCI_REVISION	1	/* non-transitional */
#define VIRTIO_PCI_CAP_SIZE	16	/* struct virtio_pci_cap */
#define VIRTIO_PCI_CAP_SIZE_EXT	20	/* the notify and PCI config access capabilities */
#define VIRTIO_PCI_CFG_DATA	16	/* pci_cfg_data in the PCI config access capability */

struct virtio_pci {
	struct virtio_transport transport;
	struct pci_dev pdev;
	struct virtio_dev *vdev;
	struct virtio_select sel;		/* under vdev->lock; its queue a u16 here */
	/* Config space from VIRTIO_PCI_CAP_BASE on, under the bus lock. */
	u8 caps[PCI_CFG_SIZE - VIRTIO_PCI_CAP_BASE];
	u8 pci_cfg_cap;				/* where the PCI config access capability is */
	/*
	 * Under vdev->lock: where the notification structure decodes (0: nowhere), as the bus
	 * last said, and where each queue's ioeventfd is meant to be (0: none). The latter is
	 * what the transport asked for, whether KVM took it or not.
	 */
	u64 notify_base;
	/*
	 * MSI-X vectors (VIRTIO_MSI_NO_VECTOR: none) of config changes and of each queue, written
	 * under vdev->lock, read atomically by the data paths that signal.
	 */
	_Atomic u16 config_vector;
	_Atomic u16 *queue_vector;
	u64 doorbell[];
};

static struct virtio_pci *to_vp(struct pci_dev *pdev)
{
	return container_of(pdev, struct virtio_pci, pdev);
}

/*
 * --- interrupts: MSI-X while the driver has it enabled (4.1.4.3: the event's vector, none for
 * NO_VECTOR), else INTx, the bus's, with the ISR as its status ---
 */

/* No ISR bit for a queue with MSI-X enabled (4.1.4.5.1). */
static void virtio_pci__signal_vq(struct virtio_transport *t, struct virtq *vq)
{
	struct virtio_pci *vp = container_of(t, struct virtio_pci, transport);

	if (!pci__msix_raise(&vp->pdev, atomic_load(&vp->queue_vector[vq->index])))
		pci__irq_raise(&vp->pdev, VIRTIO_PCI_ISR_QUEUE);
}

/* The ISR's config bit is set either way (4.1.4.5.1); with MSI-X enabled INTx stays low. */
static void virtio_pci__signal_config(struct virtio_transport *t)
{
	struct virtio_pci *vp = container_of(t, struct virtio_pci, transport);

	pci__irq_raise(&vp->pdev, VIRTIO_PCI_ISR_CONFIG);
	pci__msix_raise(&vp->pdev, atomic_load(&vp->config_vector));
}

/* A vector the driver maps an event to: one of the table's, else NO_VECTOR (4.1.5.1.2). */
static u16 virtio_pci__vector(const struct virtio_pci *vp, u64 val)
{
	return val < vp->pdev.msix.nr ? (u16)val : VIRTIO_MSI_NO_VECTOR;
}

/* Under vdev->lock: a device reset unmaps every vector. */
static void virtio_pci__reset_vectors(struct virtio_pci *vp)
{
	atomic_store(&vp->config_vector, VIRTIO_MSI_NO_VECTOR);
	for (unsigned int i = 0; i < vp->vdev->nr_vqs; i++)
		atomic_store(&vp->queue_vector[i], VIRTIO_MSI_NO_VECTOR);
}

/*
 * With MSI-X enabled, vhost gets the queue's vector's irqfd, which KVM routes as that MSI. INTx
 * is level-triggered: one the kernel raised while the guest handles it would be lowered at the
 * guest's EOI and lost, so there vhost gets none (-1) and lkvm raises INTx for it.
 */
static int virtio_pci__vq_irqfd(struct virtio_transport *t, struct virtq *vq)
{
	struct virtio_pci *vp = container_of(t, struct virtio_pci, transport);
	struct pci_msix *m = &vp->pdev.msix;
	unsigned int vector = atomic_load(&vp->queue_vector[vq->index]);
	bool msix = false;

	if (m->nr) {
		pthread_mutex_lock(&m->lock);
		msix = m->control & PCI_MSIX_FLAGS_ENABLE;
		pthread_mutex_unlock(&m->lock);
	}
	return msix && vector < m->nr ? m->lines[vector].fd : -1;
}

static void virtio_pci__detach(struct virtio_transport *t);

static const struct virtio_transport_ops virtio_pci_transport_ops = {
	.signal_vq = virtio_pci__signal_vq,
	.signal_config = virtio_pci__signal_config,
	.detach = virtio_pci__detach,
	.vq_irqfd = virtio_pci__vq_irqfd,
};

/* --- doorbells through ioeventfd --- */

/*
 * Where queue vq's doorbell is in guest-physical memory while the guest can reach it there (the
 * queue enabled, BAR 0 decoding in the window), else 0. queue_notify_off is the queue's index.
 */
static u64 virtio_pci__doorbell(const struct virtio_pci *vp, struct virtq *vq)
{
	if (!vp->notify_base || !atomic_load(&vq->ready))
		return 0;
	return vp->notify_base + (u64)vq->index * VIRTIO_PCI_NOTIFY_MULT;
}

/*
 * Moves vq's ioeventfd to where its doorbell is now, or takes it away. One address per queue:
 * no datamatch. KVM matches the width too: Linux's vp_notify writes 2 bytes (iowrite16), what a
 * driver writes otherwise still exits to notify__write. Under vdev->lock.
 */
static void virtio_pci__sync_doorbell(struct virtio_pci *vp, struct virtq *vq)
{
	u64 addr = virtio_pci__doorbell(vp, vq);

	if (addr == vp->doorbell[vq->index])
		return;
	virtio_ioevent__del(vq);
	vp->doorbell[vq->index] = addr;
	if (!addr) {
		pr_debug("%s: queue %u: no doorbell", vp->vdev->ops->name, vq->index);
		return;
	}
	pr_debug("%s: queue %u: doorbell at 0x%llx", vp->vdev->ops->name, vq->index,
		 (unsigned long long)addr);
	virtio_ioevent__add(vq, addr, 2, false, 0);
}

static void virtio_pci__sync_doorbells(struct virtio_pci *vp)
{
	for (unsigned int i = 0; i < vp->vdev->nr_vqs; i++)
		virtio_pci__sync_doorbell(vp, &vp->vdev->vqs[i]);
}

/* Under vdev->lock: for reset and teardown, whatever the guest set up. */
static void virtio_pci__del_doorbells(struct virtio_pci *vp)
{
	for (unsigned int i = 0; i < vp->vdev->nr_vqs; i++) {
		virtio_ioevent__del(&vp->vdev->vqs[i]);
		if (vp->doorbell[i])
			pr_debug("%s: queue %u: no doorbell", vp->vdev->ops->name, i);
		vp->doorbell[i] = 0;
	}
}

/* The guest moved BAR 0 or toggled memory decoding (under the bus lock): the doorbells follow. */
static void virtio_pci__decoding_changed(struct pci_dev *pdev)
{
	struct virtio_pci *vp = to_vp(pdev);
	u64 base = pci__bar_base(pdev, 0);

	pthread_mutex_lock(&vp->vdev->lock);
	vp->notify_base = base ? base + VIRTIO_PCI_NOTIFY_OFF : 0;
	virtio_pci__sync_doorbells(vp);
	pthread_mutex_unlock(&vp->vdev->lock);
}

/* --- common configuration --- */

/* The width of the field starting at off, 0 if none does. */
static unsigned int common__field_size(u32 off)
{
	switch (off) {
	case VIRTIO_PCI_COMMON_DFSELECT:
	case VIRTIO_PCI_COMMON_DF:
	case VIRTIO_PCI_COMMON_GFSELECT:
	case VIRTIO_PCI_COMMON_GF:
		return 4;
	case VIRTIO_PCI_COMMON_STATUS:
	case VIRTIO_PCI_COMMON_CFGGENERATION:
		return 1;
	case VIRTIO_PCI_COMMON_Q_DESCLO:
	case VIRTIO_PCI_COMMON_Q_AVAILLO:
	case VIRTIO_PCI_COMMON_Q_USEDLO:
		return 8;
	default:
		/* The 16-bit fields, up to the 1.2 admin queue fields that end the structure. */
		return off >= VIRTIO_PCI_COMMON_MSIX && off < VIRTIO_PCI_COMMON_LEN && !(off & 1) &&
		       (off < VIRTIO_PCI_COMMON_Q_DESCLO || off >= VIRTIO_PCI_COMMON_Q_NDATA) ? 2 : 0;
	}
}

/* Which field [off, off + len) is, or half of: false if it is not a whole field or half. */
static bool common__field(u32 off, unsigned int len, u32 *field)
{
	unsigned int size = common__field_size(off);

	if (size && (len == size || (size == 8 && len == 4))) {
		*field = off;
		return true;
	}
	if (len == 4 && off >= 4 && common__field_size(off - 4) == 8) {
		*field = off - 4;
		return true;
	}
	return false;
}

/* Under vdev->lock. */
static u64 common__read(struct virtio_pci *vp, u32 field)
{
	struct virtio_dev *vdev = vp->vdev;
	struct virtq *vq = virtio_select__vq(&vp->sel, vp->vdev);

	switch (field) {
	case VIRTIO_PCI_COMMON_DFSELECT:	return vp->sel.dev_features;
	case VIRTIO_PCI_COMMON_DF:		return virtio_select__device_features(&vp->sel, vdev);
	case VIRTIO_PCI_COMMON_GFSELECT:	return vp->sel.drv_features;
	case VIRTIO_PCI_COMMON_GF:		return virtio_select__driver_features(&vp->sel, vdev);
	/* Without MSI-X no vector is ever in use: they stay NO_VECTOR. */
	case VIRTIO_PCI_COMMON_MSIX:		return atomic_load(&vp->config_vector);
	case VIRTIO_PCI_COMMON_NUMQ:		return vdev->nr_vqs;
	case VIRTIO_PCI_COMMON_STATUS:		return (u8)atomic_load(&vdev->status);
	case VIRTIO_PCI_COMMON_CFGGENERATION:	return (u8)atomic_load(&vdev->config_generation);
	case VIRTIO_PCI_COMMON_Q_SELECT:	return vp->sel.queue;
	/* A queue size of 0 tells the driver the queue does not exist. */
	case VIRTIO_PCI_COMMON_Q_SIZE:		return vq ? vq->num : 0;
	case VIRTIO_PCI_COMMON_Q_MSIX:
		return vq ? atomic_load(&vp->queue_vector[vq->index]) : VIRTIO_MSI_NO_VECTOR;
	case VIRTIO_PCI_COMMON_Q_ENABLE:	return vq && atomic_load(&vq->ready);
	case VIRTIO_PCI_COMMON_Q_NOFF:		return vq ? vp->sel.queue : 0;
	case VIRTIO_PCI_COMMON_Q_DESCLO:	return vq ? vq->desc_gpa : 0;
	case VIRTIO_PCI_COMMON_Q_AVAILLO:	return vq ? vq->avail_gpa : 0;
	case VIRTIO_PCI_COMMON_Q_USEDLO:	return vq ? vq->used_gpa : 0;
	default:				return 0;
	}
}

/* A 64-bit field takes a whole value, or one 32-bit half (at byte 0 or 4 of it). */
static void set_part(u64 *v, u64 val, unsigned int len, unsigned int at)
{
	u64 mask = len == 8 ? ~0ULL : 0xffffffffULL << (8 * at);

	*v = (*v & ~mask) | ((val << (8 * at)) & mask);
}

/* Queue setup: the driver may change it only while the queue is not enabled. */
static void common__queue_write(struct virtio_pci *vp, u32 field, u64 val, unsigned int len,
				unsigned int at)
{
	struct virtq *vq = virtio_select__vq(&vp->sel, vp->vdev);

	if (!vq)
		return;
	if (field == VIRTIO_PCI_COMMON_Q_MSIX) {
		atomic_store(&vp->queue_vector[vq->index], virtio_pci__vector(vp, val));
		return;
	}
	if (field == VIRTIO_PCI_COMMON_Q_ENABLE) {
		/* 0 is not the driver's to write (4.1.4.3.2): queues stop with a device reset. */
		if (val == 1 && !virtq__enable(vq))
			virtio_pci__sync_doorbell(vp, vq);
		return;
	}
	if (atomic_load(&vq->ready))
		return;
	switch (field) {
	case VIRTIO_PCI_COMMON_Q_SIZE:		vq->num = (u32)val; break;	/* checked at enable */
	case VIRTIO_PCI_COMMON_Q_DESCLO:	set_part(&vq->desc_gpa, val, len, at); break;
	case VIRTIO_PCI_COMMON_Q_AVAILLO:	set_part(&vq->avail_gpa, val, len, at); break;
	case VIRTIO_PCI_COMMON_Q_USEDLO:	set_part(&vq->used_gpa, val, len, at); break;
	}
}

static void common__status(struct virtio_pci *vp, u8 val)
{
	/* Doorbells first: once the device is reset, no notify runs on the I/O thread any more. */
	if (!val)
		virtio_pci__del_doorbells(vp);
	if (virtio_select__write_status(&vp->sel, vp->vdev, val)) {
		pci__irq_ack(&vp->pdev, ~0U);
		virtio_pci__reset_vectors(vp);
	}
}

/* Under vdev->lock. */
static void common__write(struct virtio_pci *vp, u32 field, u64 val, unsigned int len,
			  unsigned int at)
{
	switch (field) {
	case VIRTIO_PCI_COMMON_DFSELECT:	vp->sel.dev_features = (u32)val; break;
	case VIRTIO_PCI_COMMON_GFSELECT:	vp->sel.drv_features = (u32)val; break;
	case VIRTIO_PCI_COMMON_GF:
		virtio_select__set_driver_features(&vp->sel, vp->vdev, (u32)val);
		break;
	case VIRTIO_PCI_COMMON_STATUS:		common__status(vp, (u8)val); break;
	case VIRTIO_PCI_COMMON_Q_SELECT:	vp->sel.queue = (u16)val; break;
	case VIRTIO_PCI_COMMON_MSIX:
		atomic_store(&vp->config_vector, virtio_pci__vector(vp, val));
		break;
	case VIRTIO_PCI_COMMON_Q_MSIX:
	case VIRTIO_PCI_COMMON_Q_SIZE:
	case VIRTIO_PCI_COMMON_Q_ENABLE:
	case VIRTIO_PCI_COMMON_Q_DESCLO:
	case VIRTIO_PCI_COMMON_Q_AVAILLO:
	case VIRTIO_PCI_COMMON_Q_USEDLO:
		common__queue_write(vp, field, val, len, at);
		break;
	default:				break;	/* read-only */
	}
}

static void common__access(struct virtio_pci *vp, u32 off, u8 *data, unsigned int len,
			   bool is_write)
{
	u32 field;

	if (!common__field(off, len, &field))
		return;
	pthread_mutex_lock(&vp->vdev->lock);
	if (is_write)
		common__write(vp, field, get_le(data, len), len, off - field);
	else
		put_le(data, common__read(vp, field) >> (8 * (off - field)), len);
	pthread_mutex_unlock(&vp->vdev->lock);
}

/* --- device configuration, ISR, notifications --- */

static void device__access(struct virtio_pci *vp, u32 off, u8 *data, unsigned int len,
			   bool is_write)
{
	struct virtio_dev *vdev = vp->vdev;

	if (len > vdev->ops->config_size || off > vdev->ops->config_size - len)
		return;
	if (is_write ? !vdev->ops->config_write : !vdev->ops->config_read)
		return;
	pthread_mutex_lock(&vdev->lock);
	if (is_write)
		vdev->ops->config_write(vdev, off, data, len);
	else
		vdev->ops->config_read(vdev, off, data, len);
	pthread_mutex_unlock(&vdev->lock);
}

/* Queue n's doorbell is at 4 * n; what the driver writes there (n again) is not needed. */
static void notify__write(struct virtio_pci *vp, u32 off, unsigned int len)
{
	struct virtio_dev *vdev = vp->vdev;
	u32 index = off / VIRTIO_PCI_NOTIFY_MULT;

	if ((len != 2 && len != 4) || off % VIRTIO_PCI_NOTIFY_MULT)
		return;
	/* Without dev->lock: a device may take its time, or hand the work to another thread. */
	if (index < vdev->nr_vqs && vdev->ops->notify)
		vdev->ops->notify(vdev, &vdev->vqs[index]);
}

/* An access within BAR 0; data holds len bytes to write, or gets them (zeroed first). */
static void virtio_pci__bar_access(struct virtio_pci *vp, u64 off, u8 *data, unsigned int len,
				   bool is_write)
{
	u32 roff = (u32)(off % VIRTIO_PCI_REGION_SIZE);

	if (!is_write)
		memset(data, 0, len);
	if (off >= VIRTIO_PCI_BAR_SIZE || roff + len > VIRTIO_PCI_REGION_SIZE)
		return;
	switch (off - roff) {
	case VIRTIO_PCI_COMMON_OFF:
		common__access(vp, roff, data, len, is_write);
		break;
	case VIRTIO_PCI_ISR_OFF:
		if (!is_write && roff == 0 && len == 1)
			data[0] = (u8)pci__irq_ack(&vp->pdev, ~0U);
		break;
	case VIRTIO_PCI_DEVICE_OFF:
		device__access(vp, roff, data, len, is_write);
		break;
	case VIRTIO_PCI_NOTIFY_OFF:
		if (is_write)
			notify__write(vp, roff, len);
		break;
	}
}

static void virtio_pci__bar_read(struct pci_dev *pdev, unsigned int bar, u64 off, u8 *data,
				 unsigned int len)
{
	(void)bar;	/* BAR 0 is the only one */
	virtio_pci__bar_access(to_vp(pdev), off, data, len, false);
}

static void virtio_pci__bar_write(struct pci_dev *pdev, unsigned int bar, u64 off,
				  const u8 *data, unsigned int len)
{
	u8 buf[8];

	(void)bar;
	memcpy(buf, data, len);
	virtio_pci__bar_access(to_vp(pdev), off, buf, len, true);
}

/* --- capabilities --- */

/*
 * The PCI config access capability: the driver picks bar, offset and length, and reading or
 * writing pci_cfg_data does that access to the BAR. Anything but an aligned 1, 2 or 4 bytes
 * within BAR 0 does nothing.
 */
static void virtio_pci__cfg_window(struct virtio_pci *vp, bool is_write)
{
	u8 *cap = vp->caps + vp->pci_cfg_cap - VIRTIO_PCI_CAP_BASE;
	u32 off = (u32)get_le(cap + VIRTIO_PCI_CAP_OFFSET, 4);
	u32 len = (u32)get_le(cap + VIRTIO_PCI_CAP_LENGTH, 4);

	if (cap[VIRTIO_PCI_CAP_BAR] != 0 || (len != 1 && len != 2 && len != 4) ||
	    !IS_ALIGNED(off, len) || off >= VIRTIO_PCI_BAR_SIZE)
		return;
	virtio_pci__bar_access(vp, off, cap + VIRTIO_PCI_CFG_DATA, len, is_write);
}

/* Whether [reg, reg + len) touches pci_cfg_data. */
static bool virtio_pci__hits_cfg_data(const struct virtio_pci *vp, u32 reg, unsigned int len)
{
	u32 data = vp->pci_cfg_cap + VIRTIO_PCI_CFG_DATA;

	return reg < data + 4 && data < reg + len;
}

/* Only bar, offset, length and pci_cfg_data of the PCI config access capability are writable. */
static bool virtio_pci__cfg_writable(const struct virtio_pci *vp, u32 reg)
{
	u32 rel = reg - vp->pci_cfg_cap;

	return reg >= vp->pci_cfg_cap && (rel == VIRTIO_PCI_CAP_BAR ||
	       (rel >= VIRTIO_PCI_CAP_OFFSET && rel < VIRTIO_PCI_CAP_SIZE_EXT));
}

static void virtio_pci__cfg_read(struct pci_dev *pdev, u32 reg, u8 *data, unsigned int len)
{
	struct virtio_pci *vp = to_vp(pdev);

	if (virtio_pci__hits_cfg_data(vp, reg, len))
		virtio_pci__cfg_window(vp, false);
	memcpy(data, vp->caps + (reg - VIRTIO_PCI_CAP_BASE), len);
}

static void virtio_pci__cfg_write(struct pci_dev *pdev, u32 reg, const u8 *data, unsigned int len)
{
	struct virtio_pci *vp = to_vp(pdev);

	for (unsigned int i = 0; i < len; i++) {
		if (virtio_pci__cfg_writable(vp, reg + i))
			vp->caps[reg + i - VIRTIO_PCI_CAP_BASE] = data[i];
	}
	if (virtio_pci__hits_cfg_data(vp, reg, len))
		virtio_pci__cfg_window(vp, true);
}

static const struct pci_dev_ops virtio_pci_dev_ops = {
	.cfg_read = virtio_pci__cfg_read,
	.cfg_write = virtio_pci__cfg_write,
	.bar_read = virtio_pci__bar_read,
	.bar_write = virtio_pci__bar_write,
	.decoding_changed = virtio_pci__decoding_changed,
};

/* Appends a capability pointing at [off, off + length) of BAR 0; returns where the next goes. */
static u8 virtio_pci__add_cap(struct virtio_pci *vp, u8 pos, u8 *prev, u8 len, u8 type, u32 off,
			      u32 length)
{
	u8 *cap = vp->caps + pos - VIRTIO_PCI_CAP_BASE;

	cap[VIRTIO_PCI_CAP_VNDR] = PCI_CAP_ID_VNDR;
	cap[VIRTIO_PCI_CAP_LEN] = len;
	cap[VIRTIO_PCI_CAP_CFG_TYPE] = type;
	put_le(cap + VIRTIO_PCI_CAP_OFFSET, off, 4);
	put_le(cap + VIRTIO_PCI_CAP_LENGTH, length, 4);
	if (*prev)
		vp->caps[*prev - VIRTIO_PCI_CAP_BASE + VIRTIO_PCI_CAP_NEXT] = pos;
	*prev = pos;
	return (u8)(pos + ALIGN_UP(len, 4));
}

static void virtio_pci__build_caps(struct virtio_pci *vp)
{
	const struct virtio_dev *vdev = vp->vdev;
	u32 notify_len = (vdev->nr_vqs ? vdev->nr_vqs : 1) * VIRTIO_PCI_NOTIFY_MULT;
	u8 pos = VIRTIO_PCI_CAP_BASE, prev = 0, notify;

	pos = virtio_pci__add_cap(vp, pos, &prev, VIRTIO_PCI_CAP_SIZE, VIRTIO_PCI_CAP_COMMON_CFG,
				  VIRTIO_PCI_COMMON_OFF, VIRTIO_PCI_COMMON_LEN);
	notify = pos;
	pos = virtio_pci__add_cap(vp, pos, &prev, VIRTIO_PCI_CAP_SIZE_EXT, VIRTIO_PCI_CAP_NOTIFY_CFG,
				  VIRTIO_PCI_NOTIFY_OFF, notify_len);
	put_le(vp->caps + notify - VIRTIO_PCI_CAP_BASE + VIRTIO_PCI_NOTIFY_CAP_MULT,
	       VIRTIO_PCI_NOTIFY_MULT, 4);
	pos = virtio_pci__add_cap(vp, pos, &prev, VIRTIO_PCI_CAP_SIZE, VIRTIO_PCI_CAP_ISR_CFG,
				  VIRTIO_PCI_ISR_OFF, 1);
	if (vdev->ops->config_size)
		pos = virtio_pci__add_cap(vp, pos, &prev, VIRTIO_PCI_CAP_SIZE,
					  VIRTIO_PCI_CAP_DEVICE_CFG, VIRTIO_PCI_DEVICE_OFF,
					  vdev->ops->config_size);
	vp->pci_cfg_cap = pos;
	pos = virtio_pci__add_cap(vp, pos, &prev, VIRTIO_PCI_CAP_SIZE_EXT, VIRTIO_PCI_CAP_PCI_CFG,
				  0, 0);
	/* MSI-X last: the bus implements it (pci.h), the chain only points there. */
	if (vp->pdev.msix.nr) {
		vp->caps[prev - VIRTIO_PCI_CAP_BASE + VIRTIO_PCI_CAP_NEXT] = pos;
		vp->pdev.msix.cap = pos;
	}
}

/* --- registration --- */

static u16 virtio_pci__class(u32 device_id)
{
	switch (device_id) {
	case VIRTIO_ID_NET:		return PCI_CLASS_CODE_ETHERNET;
	case VIRTIO_ID_BLOCK:		return PCI_CLASS_CODE_STORAGE_SCSI;
	case VIRTIO_ID_9P:		return PCI_CLASS_CODE_STORAGE_OTHER;
	case VIRTIO_ID_CONSOLE:		return PCI_CLASS_CODE_COMM_OTHER;
	default:			return PCI_CLASS_CODE_OTHER;
	}
}

int virtio_pci__init(struct kvm *kvm, struct virtio_dev *vdev)
{
	const struct virtio_dev_ops *ops = vdev->ops;
	struct virtio_pci *vp;
	int err;

	if (ops->config_size > VIRTIO_PCI_REGION_SIZE ||
	    vdev->nr_vqs > VIRTIO_PCI_REGION_SIZE / VIRTIO_PCI_NOTIFY_MULT ||
	    ops->device_id > 0x3f) {
		pr_err("%s: cannot add it: too many queues, or config space too large", ops->name);
		return -EINVAL;
	}
	vp = calloc(1, sizeof(*vp) + vdev->nr_vqs * sizeof(vp->doorbell[0]));
	if (vp) {
		vp->queue_vector = calloc(vdev->nr_vqs ? vdev->nr_vqs : 1, sizeof(vp->queue_vector[0]));
		if (!vp->queue_vector) {
			free(vp);
			vp = NULL;
		}
	}
	if (!vp) {
		pr_err("%s: cannot add it: out of memory", ops->name);
		return -ENOMEM;
	}
	vp->transport.ops = &virtio_pci_transport_ops;
	vp->vdev = vdev;
	vp->pdev = (struct pci_dev){
		.ops = &virtio_pci_dev_ops, .name = ops->name,
		.vendor_id = VIRTIO_PCI_VENDOR_ID,
		.device_id = (u16)(VIRTIO_PCI_DEVICE_ID_BASE + ops->device_id),
		.subsys_vendor_id = VIRTIO_PCI_VENDOR_ID,
		.subsys_id = (u16)(VIRTIO_PCI_DEVICE_ID_BASE + ops->device_id),	/* >= 0x40 */
		.revision = VIRTIO_PCI_REVISION, .class_code = virtio_pci__class(ops->device_id),
		.cap_ptr = VIRTIO_PCI_CAP_BASE, .bar_size = { VIRTIO_PCI_BAR_SIZE },
	};
	/* A vector per queue and one for config changes, as Linux asks first; BAR 1 for them. */
	if (pci__msix_capable(kvm)) {
		vp->pdev.msix.nr = vdev->nr_vqs < LKVM_PCI_MSIX_MAX ? vdev->nr_vqs + 1 : LKVM_PCI_MSIX_MAX;
		vp->pdev.msix.bar = VIRTIO_PCI_MSIX_BAR;
		vp->pdev.bar_size[VIRTIO_PCI_MSIX_BAR] = PCI_MSIX_BAR_SIZE;
	}
	virtio_pci__reset_vectors(vp);
	virtio_pci__build_caps(vp);
	vdev->transport = &vp->transport;
	err = pci__register(kvm, &vp->pdev);
	if (err) {
		vdev->transport = NULL;
		free(vp->queue_vector);
		free(vp);
	}
	return err;
}

static void virtio_pci__detach(struct virtio_transport *t)
{
	struct virtio_pci *vp = container_of(t, struct virtio_pci, transport);

	pthread_mutex_lock(&vp->vdev->lock);
	virtio_pci__del_doorbells(vp);
	pthread_mutex_unlock(&vp->vdev->lock);
	pci__unregister(&vp->pdev);
	free(vp->queue_vector);
	free(vp);
}
