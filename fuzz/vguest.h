/*
 * A hostile virtio guest for the fuzz targets (fuzz/vguest.c): a fake VM with guest RAM, real
 * virtio devices (rng, blk on a temporary file, net on a socket pair whose other end the input
 * writes and reads, balloon) on the real virtio-mmio or virtio-pci transport, and a script of
 * what a guest driver, the devices' workers and the host do. Each target picks the transport and
 * the devices; the script is the input. See vguest__run for its language.
 */
#ifndef FUZZ_VGUEST_H
#define FUZZ_VGUEST_H

#include <stddef.h>

#include "lkvm/config.h"
#include "lkvm/util.h"

enum vguest_device { VG_RNG, VG_BLK, VG_NET, VG_BALLOON, VG_NR_DEVICES };

struct vguest_target {
	enum virtio_transport_type transport;
	bool devices[VG_NR_DEVICES];
	/* The driver sets the first device up before the script (INIT, all features): the input
	 * goes to its requests, not to finding how. */
	bool ready;
};

/* Runs one input against a fresh VM with t's devices; a finding aborts. */
void vguest__run(const struct vguest_target *t, const u8 *data, size_t size);

#endif
