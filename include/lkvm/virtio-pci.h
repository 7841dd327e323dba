/*
 * The virtio-pci transport, modern devices only (virtio 1.2 section 4.1): a device on the PCI bus
 * (hw/pci.c) with vendor 0x1af4, device 0x1040 + its virtio device id, revision 1, one 32-bit
 * memory BAR holding the common, ISR, device and notify structures, the five vendor capabilities
 * that point into it, and INTx through the ISR register. In a VM with a GICv3 ITS also MSI-X: a
 * vector per queue and one for config changes (at most LKVM_PCI_MSIX_MAX), table and PBA in BAR 1
 * (the bus's, pci.h). Where KVM offers them, queue doorbells go through ioeventfds that follow
 * BAR 0, and INTx and MSIs through irqfds.
 *
 * BAR 0 layout (VIRTIO_PCI_BAR_SIZE):
 *   0x0000 common configuration (0x40 bytes: the 1.2 fields up to queue_reset, then zeros)
 *   0x1000 ISR status (1 byte, read-to-clear)
 *   0x2000 device configuration (the device's config_size, at most 4K)
 *   0x3000 notifications: queue n at 0x3000 + 4 * n (notify_off_multiplier 4)
 */
#ifndef LKVM_VIRTIO_PCI_H
#define LKVM_VIRTIO_PCI_H

#include "lkvm/virtio.h"

struct kvm;

#define VIRTIO_PCI_VENDOR_ID		0x1af4
#define VIRTIO_PCI_DEVICE_ID_BASE	0x1040
#define VIRTIO_PCI_BAR_SIZE		0x4000
#define VIRTIO_PCI_COMMON_OFF		0x0000
#define VIRTIO_PCI_COMMON_LEN		0x40
#define VIRTIO_PCI_ISR_OFF		0x1000
#define VIRTIO_PCI_DEVICE_OFF		0x2000
#define VIRTIO_PCI_NOTIFY_OFF		0x3000
#define VIRTIO_PCI_NOTIFY_MULT		4
#define VIRTIO_PCI_REGION_SIZE		0x1000
/* With an ITS (pci__msix_capable): the MSI-X table and PBA (pci.h), in BAR 1. */
#define VIRTIO_PCI_MSIX_BAR		1
/* The capabilities in config space: common, notify, ISR, device (if any), PCI config access. */
#define VIRTIO_PCI_CAP_BASE		0x40

/* Puts an initialised device on the PCI bus (virtio__attach's pci case). Logs errors. */
int virtio_pci__init(struct kvm *kvm, struct virtio_dev *vdev);

#endif
