/*
 * libFuzzer target for virtio-blk (virtio/blk.c): request headers and descriptor chains of any
 * shape, as a guest sends them through virtio-mmio, against a disk image in a temporary file.
 * The script language is fuzz/vguest.c's, with this one device behind the transport.
 */
#include "vguest.h"

int LLVMFuzzerTestOneInput(const u8 *data, size_t size);

static const struct vguest_target target = {
	.transport = VIRTIO_TRANSPORT_MMIO,
	.devices = { [VG_BLK] = true },
	.ready = true,
};

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	vguest__run(&target, data, size);
	return 0;
}
