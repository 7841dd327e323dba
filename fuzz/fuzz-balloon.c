/*
 * libFuzzer target for virtio-balloon (virtio/balloon.c): inflate and deflate PFN arrays,
 * statistics buffers and config writes through virtio-mmio, and `lkvm balloon` from the host in
 * between. The script language is fuzz/vguest.c's, with this one device.
 */
#include "vguest.h"

int LLVMFuzzerTestOneInput(const u8 *data, size_t size);

static const struct vguest_target target = {
	.transport = VIRTIO_TRANSPORT_MMIO,
	.devices = { [VG_BALLOON] = true },
	.ready = true,
};

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	vguest__run(&target, data, size);
	return 0;
}
