#include "lkvm/mmio.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

int mmio__register(struct mmio_bus *bus, struct mmio_region *r)
{
	struct mmio_region **p = &bus->regions;

	if (!r->size || r->base + r->size < r->base)
		return -EINVAL;
	for (; *p; p = &(*p)->next) {
		if (r->base < (*p)->base + (*p)->size && (*p)->base < r->base + r->size)
			return -EEXIST;
	}
	r->next = NULL;
	*p = r;
	return 0;
}

void mmio__unregister(struct mmio_bus *bus, struct mmio_region *r)
{
	for (struct mmio_region **p = &bus->regions; *p; p = &(*p)->next) {
		if (*p == r) {
			*p = r->next;
			return;
		}
	}
}

static struct mmio_region *mmio__find(struct mmio_bus *bus, u64 addr, unsigned int len)
{
	for (struct mmio_region *r = bus->regions; r; r = r->next) {
		if (addr >= r->base && addr - r->base < r->size && len <= r->size - (addr - r->base))
			return r;
	}
	return NULL;
}

bool mmio__access(struct mmio_bus *bus, u64 addr, u8 *data, unsigned int len, bool is_write)
{
	struct mmio_region *r;

	if (len == 0 || len > 8)
		return false;
	r = mmio__find(bus, addr, len);
	if (!r) {
		/* A guest probing empty space is normal; say so a few times, not forever. */
		if (log__first(&bus->unbacked_warnings, 8))
			pr_debug("guest %s of %u bytes at 0x%" PRIx64 ": no device there",
				 is_write ? "write" : "read", len, addr);
		if (!is_write)
			memset(data, 0, len);
		return false;
	}
	if (is_write)
		r->ops->write(r, addr - r->base, data, len);
	else
		r->ops->read(r, addr - r->base, data, len);
	return true;
}
