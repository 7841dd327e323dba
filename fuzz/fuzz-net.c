/*
 * libFuzzer target for virtio-net (virtio/net.c): the guest's transmit headers and frames and its
 * receive buffers, through virtio-mmio, and frames from a backend (a socket pair) that the input
 * writes and reads. The script language is fuzz/vguest.c's, with this one device.
 */
#include "vguest.h"

int LLVMFuzzerTestOneInput(const u8 *data, size_t size);

static const struct vguest_target target = {
	.transport = VIRTIO_TRANSPORT_MMIO,
	.devices = { [VG_NET] = true },
	.ready = true,
};

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	vguest__run(&target, data, size);
	return 0;
}
