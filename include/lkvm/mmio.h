/* Dispatch of guest MMIO exits to the device that owns the address. */
#ifndef LKVM_MMIO_H
#define LKVM_MMIO_H

#include <stdatomic.h>

#include "lkvm/util.h"

struct kvm_cpu;
struct mmio_region;

struct mmio_ops {
	/* offset is from the region's base; len is 1, 2, 4 or 8. */
	void (*read)(struct mmio_region *r, u64 offset, u8 *data, unsigned int len);
	void (*write)(struct mmio_region *r, u64 offset, const u8 *data, unsigned int len);
};

struct mmio_region {
	u64 base;
	u64 size;
	const struct mmio_ops *ops;
	struct mmio_region *next;
};

struct mmio_bus {
	struct mmio_region *regions;	/* fixed once the VM runs: lookups need no lock */
	_Atomic unsigned int unbacked_warnings;
};

/* Adds a region; -EEXIST if it overlaps one already there. */
int mmio__register(struct mmio_bus *bus, struct mmio_region *r);
/* Removes a region, if it is there. */
void mmio__unregister(struct mmio_bus *bus, struct mmio_region *r);
/* Handles one access; returns false if no device owns it (reads then return zeros). */
bool mmio__access(struct mmio_bus *bus, u64 addr, u8 *data, unsigned int len, bool is_write);

#endif
