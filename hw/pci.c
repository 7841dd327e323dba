/*
 * The generic ECAM host bridge of --virtio-transport pci: config space of bus 0, BAR decoding
 * in the 32-bit memory window, INTx, and the bridge's device tree node.
 *
 * Linux reassigns every BAR of a pci-host-ecam-generic bridge unless told to keep them
 * (linux,pci-probe-only), so the bus decodes each BAR wherever the guest puts it: one MMIO region
 * covers the whole window and looks up which BAR, if any, the address falls in.
 *
 * Config accesses must be 1, 2 or 4 bytes, naturally aligned; anything else, and any access to
 * a function nobody implements, reads as all ones (as a master abort does) and is dropped on
 * write. So are window accesses no enabled BAR decodes.
 *
 * INTx is a status_irq (irq.h): an irqfd with resampling where KVM has one, the device's
 * interrupt status behind it and Command's INTx Disable (or MSI-X Enable) as its mask. With a
 * GICv3 ITS a device may have MSI-X (pci.h): the bus implements its capability, table and PBA,
 * and each vector is an MSI line on the VM's GSI routing table, which the bus owns. A device that puts KVM
 * ioeventfds in its BARs hears of every BAR and Command write (decoding_changed) to move them.
 *
 * Locking: the bus lock, then a device's own locks (virtio-pci: vdev->lock, then vq->lock);
 * INTx's lock is innermost, taken from any of them.
 */
#include "lkvm/pci.h"
#include "lkvm/init.h"
#include "lkvm/kvm.h"
#include "lkvm/memory-map.h"

#include <errno.h>
#include <inttypes.h>
#include <libfdt.h>
#include <linux/pci_regs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What the guest may set in Command; no I/O space: lkvm's devices have no I/O BARs. */
#define PCI_COMMAND_WRITABLE						\
	(PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | PCI_COMMAND_PARITY |	\
	 PCI_COMMAND_SERR | PCI_COMMAND_INTX_DISABLE)

#define PCI_ECAM_FN_SHIFT	12	/* ECAM offset: bus << 20 | device << 15 | function << 12 */
#define PCI_ECAM_DEV_SHIFT	15
#define PCI_INTX_PIN_A		1

/* interrupt-map: the bridge's 3 address cells, 1 pin cell, the GIC's phandle, 2 address and
 * 3 interrupt cells (the GIC node's #address-cells and #interrupt-cells). */
#define PCI_IRQ_MAP_CELLS	10

struct pci_bus {
	struct kvm *kvm;
	struct irq_routing routing;	/* MSI-X vectors' routes, set up with the first */
	bool routing_ready;
	struct mmio_region ecam;	/* config space */
	struct mmio_region window;	/* where BARs decode */
	struct fdt_node_gen fdt;
	struct acpi_gen acpi;
	pthread_mutex_t lock;		/* config space; devs[] */
	struct pci_dev *devs[LKVM_PCI_MAX_DEVS];
};

static const struct mmio_ops pci_ecam_ops;

/* The VM's bus is the one owning the ECAM region: struct kvm need not know about PCI. */
static struct pci_bus *pci__bus(struct kvm *kvm)
{
	for (struct mmio_region *r = kvm->mmio.regions; r; r = r->next) {
		if (r->ops == &pci_ecam_ops)
			return container_of(r, struct pci_bus, ecam);
	}
	return NULL;
}

/* --- INTx --- */

void pci__irq_raise(struct pci_dev *pdev, u32 bits)
{
	status_irq__raise(&pdev->intx, bits);
}

u32 pci__irq_ack(struct pci_dev *pdev, u32 bits)
{
	return status_irq__ack(&pdev->intx, bits);
}

/* --- MSI-X --- */

/*
 * Under the bus lock, which serialises every change of both: INTx is masked by Command's INTx
 * Disable, and while MSI-X is enabled (a function that has it enabled must not use INTx).
 */
static void pci__intx_mask(struct pci_dev *pdev)
{
	status_irq__mask(&pdev->intx, (pdev->command & PCI_COMMAND_INTX_DISABLE) ||
			 (pdev->msix.control & PCI_MSIX_FLAGS_ENABLE));
}

bool pci__msix_capable(struct kvm *kvm)
{
	return kvm->its && pci__bus(kvm);
}

/* Under the MSI-X lock. */
static bool pci__msix_can_send(const struct pci_msix *m, unsigned int v)
{
	return (m->control & PCI_MSIX_FLAGS_ENABLE) && !(m->control & PCI_MSIX_FLAGS_MASKALL) &&
	       !(m->table[v].ctrl & PCI_MSIX_ENTRY_CTRL_MASKBIT);
}

/* Under the MSI-X lock: a vector that can send gets its route, and what it has pending. */
static void pci__msix_update(struct pci_dev *pdev, unsigned int v)
{
	struct pci_msix *m = &pdev->msix;
	const struct pci_msix_entry *e = &m->table[v];
	struct irq_msi msg = {
		.addr = e->addr_lo | (u64)e->addr_hi << 32, .data = e->data,
		.devid = pdev->slot << 3,	/* the requester ID: bus 0, function 0 */
	};

	if (!pci__msix_can_send(m, v))
		return;
	irq_line__set_msi(&m->lines[v], &msg);
	if (m->pba & (1ULL << v)) {
		m->pba &= ~(1ULL << v);
		irq_line__set(&m->lines[v], true);
	}
}

bool pci__msix_raise(struct pci_dev *pdev, unsigned int vector)
{
	struct pci_msix *m = &pdev->msix;
	bool on;

	if (!m->nr)
		return false;
	pthread_mutex_lock(&m->lock);
	on = m->control & PCI_MSIX_FLAGS_ENABLE;
	if (on && vector < m->nr) {
		if (pci__msix_can_send(m, vector))
			irq_line__set(&m->lines[vector], true);
		else
			m->pba |= 1ULL << vector;
	}
	pthread_mutex_unlock(&m->lock);
	return on;
}

/* The capability's dword at rel (0, 4 or 8). */
static u32 pci__msix_cap_read(struct pci_dev *pdev, u32 rel)
{
	struct pci_msix *m = &pdev->msix;
	u32 val;

	switch (rel) {
	case 0:
		pthread_mutex_lock(&m->lock);
		val = PCI_CAP_ID_MSIX | (u32)m->next << 8 |
		      (u32)(m->control | (m->nr - 1)) << 16;
		pthread_mutex_unlock(&m->lock);
		return val;
	case PCI_MSIX_TABLE:
		return m->bar;				/* offset 0 */
	default:
		return PCI_MSIX_PBA_OFF | m->bar;
	}
}

/* Only Message Control's enable and function mask are writable. */
static void pci__msix_cap_write(struct pci_dev *pdev, u32 rel, u32 val, u32 mask)
{
	struct pci_msix *m = &pdev->msix;
	u32 writable = (u32)(PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL) << 16;

	if (rel != 0 || !(mask & writable))
		return;
	pthread_mutex_lock(&m->lock);
	val = ((((u32)m->control << 16) & ~mask) | (val & mask)) & writable;
	m->control = (u16)(val >> 16);
	for (unsigned int v = 0; v < m->nr; v++)
		pci__msix_update(pdev, v);
	pthread_mutex_unlock(&m->lock);
	pci__intx_mask(pdev);
}

static bool pci__is_msix_cap(const struct pci_dev *pdev, u32 reg)
{
	return pdev->msix.nr && reg >= pdev->msix.cap && reg - pdev->msix.cap < (u32)PCI_MSIX_CAP_SIZE;
}

/* Table and PBA: aligned 4 or 8 bytes (a table entry's two halves at once). */
static bool pci__msix_access_ok(const struct pci_msix *m, u64 off, unsigned int len)
{
	u64 end = off < PCI_MSIX_PBA_OFF ? m->nr * sizeof(m->table[0]) : PCI_MSIX_PBA_OFF + 8;

	return (len == 4 || len == 8) && IS_ALIGNED(off, len) && off + len <= end;
}

static void pci__msix_bar_read(struct pci_dev *pdev, u64 off, u8 *data, unsigned int len)
{
	struct pci_msix *m = &pdev->msix;

	memset(data, 0, len);
	if (!pci__msix_access_ok(m, off, len))
		return;
	pthread_mutex_lock(&m->lock);
	if (off >= PCI_MSIX_PBA_OFF) {
		put_le(data, m->pba >> (8 * (off - PCI_MSIX_PBA_OFF)), len);
	} else {
		const u32 *words = (const u32 *)&m->table[off / sizeof(m->table[0])];
		unsigned int w = (unsigned int)(off % sizeof(m->table[0])) / 4;

		put_le(data, words[w], 4);
		if (len == 8)
			put_le(data + 4, words[w + 1], 4);
	}
	pthread_mutex_unlock(&m->lock);
}

/* The PBA is read-only; of Vector Control only the mask bit is writable. */
static void pci__msix_bar_write(struct pci_dev *pdev, u64 off, const u8 *data, unsigned int len)
{
	struct pci_msix *m = &pdev->msix;
	unsigned int v = (unsigned int)(off / sizeof(m->table[0]));
	unsigned int w = (unsigned int)(off % sizeof(m->table[0])) / 4;
	u32 *words;

	if (off >= PCI_MSIX_PBA_OFF || !pci__msix_access_ok(m, off, len))
		return;
	pthread_mutex_lock(&m->lock);
	words = (u32 *)&m->table[v];
	for (unsigned int i = 0; i < len / 4; i++, w++)
		words[w] = (u32)get_le(data + 4 * i, 4) &
			   (w == 3 ? PCI_MSIX_ENTRY_CTRL_MASKBIT : ~0U);
	pci__msix_update(pdev, v);
	pthread_mutex_unlock(&m->lock);
}

/* Under the bus lock: checks what the device asked for and gives each vector its MSI line. */
static int pci__msix_init(struct pci_bus *bus, struct pci_dev *pdev)
{
	struct pci_msix *m = &pdev->msix;

	if (!m->nr)
		return 0;
	if (!bus->kvm->its || m->nr > LKVM_PCI_MSIX_MAX || m->bar >= PCI_NR_BARS ||
	    pdev->bar_size[m->bar] != PCI_MSIX_BAR_SIZE || m->cap < PCI_CFG_HEADER_SIZE ||
	    m->cap > PCI_CFG_SIZE - PCI_MSIX_CAP_SIZE || (m->cap & 3))
		return -EINVAL;
	if (!bus->routing_ready) {
		irq_routing__init(&bus->routing, bus->kvm);
		bus->routing_ready = true;
	}
	pthread_mutex_init(&m->lock, NULL);
	m->control = 0;
	m->pba = 0;
	for (unsigned int v = 0; v < m->nr; v++) {
		m->table[v] = (struct pci_msix_entry){ .ctrl = PCI_MSIX_ENTRY_CTRL_MASKBIT };
		irq_line__init_msi(&m->lines[v], bus->kvm, &bus->routing);
	}
	pr_debug("%s: MSI-X, %u vectors, device ID 0x%x", pdev->name, m->nr, pdev->slot << 3);
	return 0;
}

static void pci__msix_exit(struct pci_dev *pdev)
{
	struct pci_msix *m = &pdev->msix;

	if (!m->nr)
		return;
	for (unsigned int v = 0; v < m->nr; v++) {
		if (m->lines[v].raises)
			pr_debug("%s: MSI-X vector %u: %" PRIu64 " MSIs through %s", pdev->name, v,
				 m->lines[v].raises,
				 m->lines[v].fd >= 0 ? "its irqfd" : "KVM_SIGNAL_MSI");
		irq_line__exit(&m->lines[v]);
	}
	pthread_mutex_destroy(&m->lock);
}

/* --- the type 0 header --- */

static bool pci__is_bar(u32 reg)
{
	return reg >= PCI_BASE_ADDRESS_0 && reg <= PCI_BASE_ADDRESS_5;
}

static u32 pci__header_read(struct pci_dev *pdev, u32 reg)
{
	u32 status;

	/* 32-bit non-prefetchable memory BARs: the type bits are all zero. */
	if (pci__is_bar(reg))
		return pdev->bar_addr[(reg - PCI_BASE_ADDRESS_0) / 4];
	switch (reg) {
	case PCI_VENDOR_ID:
		return pdev->vendor_id | (u32)pdev->device_id << 16;
	case PCI_COMMAND:
		/* Interrupt Status shows the device's INTx whatever INTx Disable says. */
		status = (pdev->cap_ptr ? PCI_STATUS_CAP_LIST : 0) |
			 (status_irq__status(&pdev->intx) ? PCI_STATUS_INTERRUPT : 0);
		return pdev->command | status << 16;
	case PCI_CLASS_REVISION:
		return pdev->revision | (u32)pdev->class_code << 16;
	case PCI_CACHE_LINE_SIZE:
		return pdev->cache_line_size;	/* latency 0, header type 0, no BIST */
	case PCI_SUBSYSTEM_VENDOR_ID:
		return pdev->subsys_vendor_id | (u32)pdev->subsys_id << 16;
	case PCI_CAPABILITY_LIST:
		return pdev->cap_ptr;
	case PCI_INTERRUPT_LINE:
		return pdev->irq_line | PCI_INTX_PIN_A << 8;
	default:
		return 0;
	}
}

static void pci__command_write(struct pci_dev *pdev, u16 cmd)
{
	pdev->command = cmd & PCI_COMMAND_WRITABLE;
	pci__intx_mask(pdev);
}

static void pci__decoding_changed(struct pci_dev *pdev)
{
	if (pdev->ops->decoding_changed)
		pdev->ops->decoding_changed(pdev);
}

/* A write of the bytes in mask (of the dword at reg); only a few fields are writable. */
static void pci__header_write(struct pci_dev *pdev, u32 reg, u32 val, u32 mask)
{
	/* The bits below the size read as zero: writing all ones sizes the BAR. */
	if (pci__is_bar(reg)) {
		unsigned int bar = (reg - PCI_BASE_ADDRESS_0) / 4;

		if (pdev->bar_size[bar])
			pdev->bar_addr[bar] = ((pdev->bar_addr[bar] & ~mask) | (val & mask)) &
					      ~(pdev->bar_size[bar] - 1);
		pci__decoding_changed(pdev);
		return;
	}
	switch (reg) {
	case PCI_COMMAND:
		if (mask & 0xffff) {
			pci__command_write(pdev, (u16)((pdev->command & ~mask) | (val & mask)));
			pci__decoding_changed(pdev);
		}
		break;	/* Status has no bits a write clears: no error is ever reported */
	case PCI_CACHE_LINE_SIZE:
		if (mask & 0xff)
			pdev->cache_line_size = (u8)val;
		break;
	case PCI_INTERRUPT_LINE:
		if (mask & 0xff)
			pdev->irq_line = (u8)val;
		break;
	}
}

/* --- config space --- */

/* Under the bus lock: reg is within the function's 4K, len 1, 2 or 4 and aligned. */
static void pci__cfg_read(struct pci_dev *pdev, u32 reg, u8 *data, unsigned int len)
{
	memset(data, 0, len);
	if (reg < PCI_CFG_HEADER_SIZE)
		put_le(data, pci__header_read(pdev, reg & ~3U) >> (8 * (reg & 3)), len);
	else if (pci__is_msix_cap(pdev, reg))
		put_le(data, pci__msix_cap_read(pdev, (reg & ~3U) - pdev->msix.cap) >> (8 * (reg & 3)),
		       len);
	else if (reg < PCI_CFG_SIZE && pdev->ops->cfg_read)
		pdev->ops->cfg_read(pdev, reg, data, len);
}

static void pci__cfg_write(struct pci_dev *pdev, u32 reg, const u8 *data, unsigned int len)
{
	unsigned int shift = 8 * (reg & 3);

	if (reg < PCI_CFG_HEADER_SIZE)
		pci__header_write(pdev, reg & ~3U, get_le(data, len) << shift,
				  (u32)((1ULL << (8 * len)) - 1) << shift);
	else if (pci__is_msix_cap(pdev, reg))
		pci__msix_cap_write(pdev, (reg & ~3U) - pdev->msix.cap, get_le(data, len) << shift,
				    (u32)((1ULL << (8 * len)) - 1) << shift);
	else if (reg < PCI_CFG_SIZE && pdev->ops->cfg_write)
		pdev->ops->cfg_write(pdev, reg, data, len);
}

/* Under the bus lock: only function 0 of each device exists. */
static struct pci_dev *pci__cfg_dev(struct pci_bus *bus, u64 off)
{
	if ((off >> PCI_ECAM_FN_SHIFT) & 7)
		return NULL;
	return bus->devs[(off >> PCI_ECAM_DEV_SHIFT) % LKVM_PCI_MAX_DEVS];
}

static bool pci__cfg_access_ok(u64 off, unsigned int len)
{
	return (len == 1 || len == 2 || len == 4) && IS_ALIGNED(off, len);
}

static void pci__ecam_read(struct mmio_region *r, u64 off, u8 *data, unsigned int len)
{
	struct pci_bus *bus = container_of(r, struct pci_bus, ecam);
	struct pci_dev *pdev;

	memset(data, 0xff, len);
	if (!pci__cfg_access_ok(off, len))
		return;
	pthread_mutex_lock(&bus->lock);
	pdev = pci__cfg_dev(bus, off);
	if (pdev)
		pci__cfg_read(pdev, (u32)(off & 0xfff), data, len);
	pthread_mutex_unlock(&bus->lock);
}

static void pci__ecam_write(struct mmio_region *r, u64 off, const u8 *data, unsigned int len)
{
	struct pci_bus *bus = container_of(r, struct pci_bus, ecam);
	struct pci_dev *pdev;

	if (!pci__cfg_access_ok(off, len))
		return;
	pthread_mutex_lock(&bus->lock);
	pdev = pci__cfg_dev(bus, off);
	if (pdev)
		pci__cfg_write(pdev, (u32)(off & 0xfff), data, len);
	pthread_mutex_unlock(&bus->lock);
}

static const struct mmio_ops pci_ecam_ops = {
	.read = pci__ecam_read,
	.write = pci__ecam_write,
};

/* --- the memory window --- */

/* The same rule for MMIO exits (pci__decode) and for what a device registers with KVM. */
u64 pci__bar_base(const struct pci_dev *pdev, unsigned int bar)
{
	u64 base, size;

	if (bar >= PCI_NR_BARS || !(pdev->command & PCI_COMMAND_MEMORY))
		return 0;
	base = pdev->bar_addr[bar];
	size = pdev->bar_size[bar];
	if (!size || base < LKVM_PCI_MMIO_BASE ||
	    base - LKVM_PCI_MMIO_BASE > LKVM_PCI_MMIO_SIZE - size)
		return 0;
	return base;
}

/*
 * Which device's BAR decodes [addr, addr + len), if any. The device is not held: devices leave
 * the bus only when the VM is stopped; a BAR that moves meanwhile is a race the guest made.
 */
static struct pci_dev *pci__decode(struct pci_bus *bus, u64 addr, unsigned int len,
				   unsigned int *bar, u64 *off)
{
	struct pci_dev *found = NULL;

	pthread_mutex_lock(&bus->lock);
	for (unsigned int s = 0; s < LKVM_PCI_MAX_DEVS && !found; s++) {
		struct pci_dev *pdev = bus->devs[s];

		if (!pdev)
			continue;
		for (unsigned int b = 0; b < PCI_NR_BARS; b++) {
			u64 base = pci__bar_base(pdev, b), size = pdev->bar_size[b];

			if (base && addr >= base && addr - base < size && len <= size - (addr - base)) {
				found = pdev;
				*bar = b;
				*off = addr - base;
				break;
			}
		}
	}
	pthread_mutex_unlock(&bus->lock);
	return found;
}

static void pci__window_read(struct mmio_region *r, u64 off, u8 *data, unsigned int len)
{
	struct pci_bus *bus = container_of(r, struct pci_bus, window);
	struct pci_dev *pdev;
	unsigned int bar;
	u64 bar_off;

	pdev = pci__decode(bus, r->base + off, len, &bar, &bar_off);
	if (pdev && pdev->msix.nr && bar == pdev->msix.bar)
		pci__msix_bar_read(pdev, bar_off, data, len);
	else if (pdev)
		pdev->ops->bar_read(pdev, bar, bar_off, data, len);
	else
		memset(data, 0xff, len);
}

static void pci__window_write(struct mmio_region *r, u64 off, const u8 *data, unsigned int len)
{
	struct pci_bus *bus = container_of(r, struct pci_bus, window);
	struct pci_dev *pdev;
	unsigned int bar;
	u64 bar_off;

	pdev = pci__decode(bus, r->base + off, len, &bar, &bar_off);
	if (pdev && pdev->msix.nr && bar == pdev->msix.bar)
		pci__msix_bar_write(pdev, bar_off, data, len);
	else if (pdev)
		pdev->ops->bar_write(pdev, bar, bar_off, data, len);
}

static const struct mmio_ops pci_window_ops = {
	.read = pci__window_read,
	.write = pci__window_write,
};

/* --- device tree --- */

static void fdt_cells64(fdt32_t *cells, u64 val)
{
	cells[0] = cpu_to_fdt32((u32)(val >> 32));
	cells[1] = cpu_to_fdt32((u32)val);
}

/* INTA of each device to its SPI; no swizzling, as every device sits on the root bus. */
static int pci__fdt_irq_map(void *fdt, const struct pci_bus *bus, const struct fdt_ctx *ctx)
{
	fdt32_t map[LKVM_PCI_MAX_DEVS * PCI_IRQ_MAP_CELLS];
	fdt32_t mask[4] = { cpu_to_fdt32(0x1f << 11), 0, 0, cpu_to_fdt32(7) };
	unsigned int n = 0;
	int err;

	for (unsigned int s = 0; s < LKVM_PCI_MAX_DEVS; s++) {
		const struct pci_dev *pdev = bus->devs[s];
		u32 cells[PCI_IRQ_MAP_CELLS] = {
			s << 11, 0, 0, PCI_INTX_PIN_A, ctx->gic_phandle, 0, 0,
			FDT_IRQ_TYPE_SPI, 0, FDT_IRQ_LEVEL_HIGH,
		};

		if (!pdev)
			continue;
		cells[8] = pdev->spi;
		for (unsigned int i = 0; i < PCI_IRQ_MAP_CELLS; i++)
			map[n++] = cpu_to_fdt32(cells[i]);
	}
	if (!n)
		return 0;
	if ((err = fdt_property(fdt, "interrupt-map", map, (int)(n * sizeof(map[0])))))
		return err;
	return fdt_property(fdt, "interrupt-map-mask", mask, sizeof(mask));
}

/*
 * With an ITS, MSIs go there with the requester ID as DeviceID (Linux's pci-msi binding): msi-map
 * maps bus 0's 256 IDs 1:1. No msi-parent: the ITS's one msi-cell would have to be one DeviceID.
 */
static int pci__fdt_msi(void *fdt, const struct fdt_ctx *ctx)
{
	fdt32_t map[4] = { 0, cpu_to_fdt32(ctx->its_phandle), 0, cpu_to_fdt32(0x100) };

	if (!ctx->its_phandle)
		return 0;
	return fdt_property(fdt, "msi-map", map, sizeof(map));
}

static int pci__fdt(const struct fdt_node_gen *self, const struct fdt_ctx *ctx)
{
	const struct pci_bus *bus = container_of(self, struct pci_bus, fdt);
	fdt64_t reg[2] = { cpu_to_fdt64(LKVM_PCI_CFG_BASE), cpu_to_fdt64(LKVM_PCI_CFG_SIZE) };
	fdt32_t bus_range[2] = { 0, 0 };
	/* 32-bit non-prefetchable memory, mapped 1:1: PCI address, CPU address, size. */
	fdt32_t ranges[7] = { cpu_to_fdt32(0x02000000) };
	void *fdt = ctx->fdt;
	char name[32];
	int err;

	fdt_cells64(&ranges[1], LKVM_PCI_MMIO_BASE);
	fdt_cells64(&ranges[3], LKVM_PCI_MMIO_BASE);
	fdt_cells64(&ranges[5], LKVM_PCI_MMIO_SIZE);
	snprintf(name, sizeof(name), "pcie@%llx", (unsigned long long)LKVM_PCI_CFG_BASE);
	if ((err = fdt_begin_node(fdt, name)) ||
	    (err = fdt_property_string(fdt, "compatible", "pci-host-ecam-generic")) ||
	    (err = fdt_property_string(fdt, "device_type", "pci")) ||
	    (err = fdt_property_cell(fdt, "#address-cells", 3)) ||
	    (err = fdt_property_cell(fdt, "#size-cells", 2)) ||
	    (err = fdt_property_cell(fdt, "#interrupt-cells", 1)) ||
	    (err = fdt_property(fdt, "reg", reg, sizeof(reg))) ||
	    (err = fdt_property(fdt, "bus-range", bus_range, sizeof(bus_range))) ||
	    (err = fdt_property(fdt, "ranges", ranges, sizeof(ranges))) ||
	    (err = pci__fdt_irq_map(fdt, bus, ctx)) ||
	    (err = pci__fdt_msi(fdt, ctx)) ||
	    (err = fdt_property(fdt, "dma-coherent", NULL, 0)))
		return err;
	return fdt_end_node(fdt);
}

static int pci__acpi(const struct acpi_gen *self, struct acpi_ctx *ctx)
{
	(void)self;
	return acpi__pci_host(ctx);
}

/* --- devices --- */

/* Each BAR naturally aligned, one after the other in the device's slot of the window. */
static int pci__place_bars(struct pci_dev *pdev)
{
	u64 base = LKVM_PCI_MMIO_BASE + (u64)pdev->slot * LKVM_PCI_BAR_SIZE, off = 0;

	for (unsigned int b = 0; b < PCI_NR_BARS; b++) {
		u64 size = pdev->bar_size[b];

		pdev->bar_addr[b] = 0;
		if (!size)
			continue;
		if (size < 16 || (size & (size - 1)))
			return -EINVAL;
		off = ALIGN_UP(off, size);
		if (off + size > LKVM_PCI_BAR_SIZE)
			return -EINVAL;
		pdev->bar_addr[b] = (u32)(base + off);
		off += size;
	}
	return 0;
}

int pci__register(struct kvm *kvm, struct pci_dev *pdev)
{
	struct pci_bus *bus = pci__bus(kvm);
	unsigned int slot = 0;
	int err;

	if (!bus) {
		pr_err("%s: cannot add it: there is no PCI bus", pdev->name);
		return -ENODEV;
	}
	pthread_mutex_lock(&bus->lock);
	while (slot < LKVM_PCI_MAX_DEVS && bus->devs[slot])
		slot++;
	pdev->slot = slot;
	err = slot < LKVM_PCI_MAX_DEVS ? pci__place_bars(pdev) : -ENOSPC;
	if (!err)
		err = pci__msix_init(bus, pdev);
	if (!err) {
		pdev->bus = bus;
		pdev->spi = LKVM_PCI_SPI_BASE + slot;
		pdev->command = 0;
		pdev->cache_line_size = pdev->irq_line = 0;
		status_irq__init(&pdev->intx, kvm, pdev->spi, pdev->name);
		bus->devs[slot] = pdev;
	}
	pthread_mutex_unlock(&bus->lock);
	if (err)
		pr_err("%s: cannot add it: %s", pdev->name,
		       err == -ENOSPC ? "all PCI slots are taken" :
		       pdev->msix.nr ? "its BARs or its MSI-X do not fit" : "its BARs do not fit");
	return err;
}

void pci__unregister(struct pci_dev *pdev)
{
	struct pci_bus *bus = pdev->bus;

	if (!bus)
		return;
	pthread_mutex_lock(&bus->lock);
	bus->devs[pdev->slot] = NULL;
	pthread_mutex_unlock(&bus->lock);
	status_irq__exit(&pdev->intx);
	pci__msix_exit(pdev);
	pdev->bus = NULL;
}

/* --- the bridge --- */

static void pci__free(struct pci_bus *bus)
{
	if (bus->routing_ready)
		irq_routing__exit(&bus->routing);
	mmio__unregister(&bus->kvm->mmio, &bus->ecam);
	mmio__unregister(&bus->kvm->mmio, &bus->window);
	pthread_mutex_destroy(&bus->lock);
	free(bus);
}

int pci__init(struct kvm *kvm)
{
	struct pci_bus *bus;
	int err;

	if (kvm->cfg->virtio_transport != VIRTIO_TRANSPORT_PCI)
		return 0;
	bus = calloc(1, sizeof(*bus));
	if (!bus) {
		pr_err("PCI bus: out of memory");
		return -ENOMEM;
	}
	bus->kvm = kvm;
	bus->ecam = (struct mmio_region){
		.base = LKVM_PCI_CFG_BASE, .size = LKVM_PCI_CFG_SIZE, .ops = &pci_ecam_ops,
	};
	bus->window = (struct mmio_region){
		.base = LKVM_PCI_MMIO_BASE, .size = LKVM_PCI_MMIO_SIZE, .ops = &pci_window_ops,
	};
	bus->fdt.gen = pci__fdt;
	bus->acpi.gen = pci__acpi;
	pthread_mutex_init(&bus->lock, NULL);
	err = mmio__register(&kvm->mmio, &bus->ecam);
	if (!err)
		err = mmio__register(&kvm->mmio, &bus->window);
	if (!err)
		err = kvm__add_fdt_gen(kvm, &bus->fdt);
	if (!err)
		err = kvm__add_acpi_gen(kvm, &bus->acpi);
	if (err) {
		pr_err("PCI bus: cannot add it: %s", strerror(-err));
		pci__free(bus);
	}
	return err;
}

void pci__exit(struct kvm *kvm)
{
	struct pci_bus *bus = pci__bus(kvm);

	if (bus)
		pci__free(bus);
}
/* At the base level: the bus is there before any device, and outlives them all. */
base_init(pci__init, pci__exit)
