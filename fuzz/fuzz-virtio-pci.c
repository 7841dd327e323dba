/*
 * libFuzzer target for the virtio-pci transport (virtio/pci.c) with virtio-rng, -blk, -net and
 * -balloon behind it: a guest's register and config-space accesses of any offset and width,
 * the driver's set-up, chains in fuzzer-chosen rings and their notifications, interleaved with
 * the devices' workers and the host's side (fuzz/vguest.c has the script's language).
 */
#include "vguest.h"

int LLVMFuzzerTestOneInput(const u8 *data, size_t size);

static const struct vguest_target target = {
	.transport = VIRTIO_TRANSPORT_PCI,
	.devices = { [VG_RNG] = true, [VG_BLK] = true, [VG_NET] = true, [VG_BALLOON] = true },
};

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	vguest__run(&target, data, size);
	return 0;
}
