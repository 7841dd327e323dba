/* Which transport a device goes on (--virtio-transport), and the VM's list of virtio devices. */
#include "lkvm/kvm.h"
#include "lkvm/virtio-mmio.h"
#include "lkvm/virtio-pci.h"
#include "lkvm/virtio.h"

int virtio__attach(struct kvm *kvm, struct virtio_dev *vdev)
{
	int err = kvm->cfg->virtio_transport == VIRTIO_TRANSPORT_PCI ? virtio_pci__init(kvm, vdev) :
		  virtio_mmio__init(kvm, vdev);

	if (err)
		return err;
	vdev->next = kvm->virtio_devs;
	kvm->virtio_devs = vdev;
	return 0;
}

void virtio__detach(struct virtio_dev *vdev)
{
	for (struct virtio_dev **p = &vdev->kvm->virtio_devs; *p; p = &(*p)->next) {
		if (*p == vdev) {
			*p = vdev->next;
			break;
		}
	}
	if (vdev->transport)
		vdev->transport->ops->detach(vdev->transport);
	vdev->transport = NULL;
}

struct virtio_dev *virtio__find(struct kvm *kvm, const struct virtio_dev_ops *ops)
{
	for (struct virtio_dev *v = kvm->virtio_devs; v; v = v->next) {
		if (v->ops == ops)
			return v;
	}
	return NULL;
}
