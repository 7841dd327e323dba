/*
 * Level-triggered SPIs through KVM irqfds with resampling, the status-backed line on them, and MSI
 * lines through irqfds with MSI routes.
 */
#include "lkvm/irq.h"
#include "lkvm/kvm.h"
#include "lkvm/memory-map.h"

#include <errno.h>
#include <inttypes.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

/* --- one line --- */

static void irq_line__handle_resample(struct io_source *src)
{
	struct irq_line *line = container_of(src, struct irq_line, resample);
	u64 count;

	if (read(src->fd, &count, sizeof(count)) != sizeof(count))
		return;
	line->resamples += count;
	line->resampled(line);
}

static int irq_line__kvm(struct irq_line *line, u32 flags)
{
	/* An SPI's irqfd GSI is its number from 0: arm64's default routing adds the 32 (vgic). */
	struct kvm_irqfd req = {
		.fd = (u32)line->fd, .gsi = line->spi, .flags = flags,
		.resamplefd = (u32)line->resample.fd,
	};

	return ioctl(line->kvm->vm_fd, KVM_IRQFD, &req) ? -errno : 0;
}

static void irq_line__close(struct irq_line *line)
{
	if (line->fd >= 0)
		close(line->fd);
	if (line->resample.fd >= 0)
		close(line->resample.fd);
	line->fd = line->resample.fd = -1;
}

bool irq_line__init(struct irq_line *line, struct kvm *kvm, unsigned int spi,
		    void (*resampled)(struct irq_line *line))
{
	int err;

	*line = (struct irq_line){
		.kvm = kvm, .spi = spi, .fd = -1, .resampled = resampled,
		.resample = { .fd = -1, .handle = irq_line__handle_resample },
	};
	if (!io_thread__has_irqfd(kvm))
		return false;
	line->fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	line->resample.fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (line->fd < 0 || line->resample.fd < 0 || io_thread__watch(kvm, &line->resample)) {
		irq_line__close(line);
		return false;
	}
	err = irq_line__kvm(line, KVM_IRQFD_FLAG_RESAMPLE);
	if (err) {
		pr_debug("SPI %u: interrupts through KVM_IRQ_LINE: irqfd: %s", spi, strerror(-err));
		io_thread__unwatch(kvm, &line->resample);
		irq_line__close(line);
		return false;
	}
	return true;
}

/* An MSI without irqfd or route: 0 if the guest blocked it (no ITS mapping yet), which is fine. */
static void irq_line__signal_msi(struct irq_line *line)
{
	struct kvm_msi msi = {
		.address_lo = (u32)line->msg.addr, .address_hi = (u32)(line->msg.addr >> 32),
		.data = line->msg.data, .flags = KVM_MSI_VALID_DEVID, .devid = line->msg.devid,
	};

	if (line->kvm->vm_fd >= 0 && ioctl(line->kvm->vm_fd, KVM_SIGNAL_MSI, &msi) < 0)
		pr_debug("MSI 0x%x to 0x%llx (device 0x%x): KVM_SIGNAL_MSI: %s", msi.data,
			 (unsigned long long)line->msg.addr, msi.devid, strerror(errno));
}

static void irq_line__raise_msi(struct irq_line *line)
{
	u64 one = 1;

	line->raises++;
	if (line->fd >= 0 && line->routed)
		write_all(line->fd, &one, sizeof(one));
	else
		irq_line__signal_msi(line);
}

/*
 * Lowering goes through KVM_IRQ_LINE either way: the vgic keeps one level per SPI whoever drives
 * it, and an irqfd can only raise. The resampler lowers the line at EOI on its own too.
 */
void irq_line__set(struct irq_line *line, bool level)
{
	u64 one = 1;

	if (line->routing) {
		if (level)
			irq_line__raise_msi(line);
		return;
	}
	if (level && line->fd >= 0) {
		write_all(line->fd, &one, sizeof(one));
		line->raises++;
	} else {
		kvm__irq_line(line->kvm, line->spi, level);
	}
}

static void irq_line__exit_msi(struct irq_line *line);

void irq_line__exit(struct irq_line *line)
{
	int err;

	if (line->routing) {
		irq_line__exit_msi(line);
		return;
	}
	if (line->fd < 0)
		return;
	err = irq_line__kvm(line, KVM_IRQFD_FLAG_DEASSIGN);

	if (err)
		pr_warn("SPI %u: cannot remove its irqfd: %s", line->spi, strerror(-err));
	io_thread__unwatch(line->kvm, &line->resample);
	pr_debug("SPI %u: raised %" PRIu64 " times through its irqfd, resampled %" PRIu64 " times",
		 line->spi, line->raises, line->resamples);
	irq_line__close(line);
}

/* --- MSI lines and the routing table --- */

#define IRQ_MAX_MSIS	(LKVM_PCI_MAX_DEVS * LKVM_PCI_MSIX_MAX)

/* Room for the SPIs' routes and every MSI line's: the table KVM gets is built in it. */
struct irq_routing_table {
	struct kvm_irq_routing hdr;
	struct kvm_irq_routing_entry entries[LKVM_NR_SPIS + IRQ_MAX_MSIS];
};

void irq_routing__init(struct irq_routing *r, struct kvm *kvm)
{
	struct irq_routing_table *t;

	*r = (struct irq_routing){ .kvm = kvm };
	pthread_mutex_init(&r->lock, NULL);
	if (!io_thread__has_irqfd(kvm) ||
	    ioctl(kvm->vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_IRQ_ROUTING) <= 0 ||
	    ioctl(kvm->vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_MSI_DEVID) <= 0) {
		pr_debug("MSIs through KVM_SIGNAL_MSI: no irqfd or no GSI routing with device IDs");
		return;
	}
	t = calloc(1, sizeof(*t));
	if (!t) {
		pr_warn("GSI routing: out of memory: MSIs go through KVM_SIGNAL_MSI");
		return;
	}
	/* KVM's default routing, which a table of ours replaces: GSI n is SPI n. */
	for (unsigned int i = 0; i < LKVM_NR_SPIS; i++)
		t->entries[i] = (struct kvm_irq_routing_entry){
			.gsi = i, .type = KVM_IRQ_ROUTING_IRQCHIP, .u.irqchip = { .irqchip = 0, .pin = i },
		};
	r->table = &t->hdr;
}

void irq_routing__exit(struct irq_routing *r)
{
	free(r->table);
	r->table = NULL;
	pthread_mutex_destroy(&r->lock);
}

/* Under r->lock: gives KVM the SPIs' routes and the MSI routes that are set. */
static int irq_routing__commit(struct irq_routing *r)
{
	struct irq_routing_table *t = container_of(r->table, struct irq_routing_table, hdr);
	struct irq_routing_table *out = malloc(sizeof(*out));
	unsigned int n = LKVM_NR_SPIS;
	int err = 0;

	if (!out)
		return -ENOMEM;
	memcpy(out->entries, t->entries, LKVM_NR_SPIS * sizeof(out->entries[0]));
	for (unsigned int i = 0; i < r->nr_msis; i++) {
		if (t->entries[LKVM_MSI_GSI_BASE + i].type == KVM_IRQ_ROUTING_MSI)
			out->entries[n++] = t->entries[LKVM_MSI_GSI_BASE + i];
	}
	out->hdr = (struct kvm_irq_routing){ .nr = n };
	if (ioctl(r->kvm->vm_fd, KVM_SET_GSI_ROUTING, &out->hdr))
		err = -errno;
	free(out);
	return err;
}

bool irq_line__init_msi(struct irq_line *line, struct kvm *kvm, struct irq_routing *r)
{
	struct kvm_irqfd req = { .flags = 0 };
	bool ok = false;

	*line = (struct irq_line){
		.kvm = kvm, .fd = -1, .resample = { .fd = -1 }, .routing = r,
	};
	pthread_mutex_lock(&r->lock);
	if (r->table && r->nr_msis < IRQ_MAX_MSIS) {
		line->gsi = LKVM_MSI_GSI_BASE + r->nr_msis++;
		line->fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		req.fd = (u32)line->fd;
		req.gsi = line->gsi;
		/* No route yet: KVM looks it up again whenever the table changes. */
		ok = line->fd >= 0 && !ioctl(kvm->vm_fd, KVM_IRQFD, &req);
		if (!ok) {
			pr_debug("GSI %u: MSIs through KVM_SIGNAL_MSI: irqfd: %s", line->gsi,
				 strerror(errno));
			if (line->fd >= 0)
				close(line->fd);
			line->fd = -1;
		}
	}
	pthread_mutex_unlock(&r->lock);
	return ok;
}

void irq_line__set_msi(struct irq_line *line, const struct irq_msi *msg)
{
	struct irq_routing *r = line->routing;
	struct kvm_irq_routing_entry *e;
	int err;

	if (line->routed && !memcmp(&line->msg, msg, sizeof(*msg)))
		return;
	line->msg = *msg;
	line->routed = false;
	if (line->fd < 0)
		return;
	pthread_mutex_lock(&r->lock);
	e = &r->table->entries[line->gsi];	/* GSI n's route is entry n; type 0: none */
	*e = (struct kvm_irq_routing_entry){
		.gsi = line->gsi, .type = KVM_IRQ_ROUTING_MSI, .flags = KVM_MSI_VALID_DEVID,
		.u.msi = { .address_lo = (u32)msg->addr, .address_hi = (u32)(msg->addr >> 32),
			   .data = msg->data, .devid = msg->devid },
	};
	err = irq_routing__commit(r);
	if (err) {
		e->type = 0;
		/* What the guest programs: said once, not each time it tries again. */
		pr_warn_once(&r->warned, "GSI %u: KVM refuses the MSI route (0x%llx, 0x%x, device "
			     "0x%x): %s; KVM_SIGNAL_MSI instead", line->gsi,
			     (unsigned long long)msg->addr, msg->data, msg->devid, strerror(-err));
	} else {
		pr_debug("GSI %u: routed as MSI 0x%x to 0x%llx, device 0x%x", line->gsi, msg->data,
			 (unsigned long long)msg->addr, msg->devid);
	}
	line->routed = !err;
	pthread_mutex_unlock(&r->lock);
}

/* The VM is stopped: the irqfd goes; the route stays in KVM's table until the VM goes. */
static void irq_line__exit_msi(struct irq_line *line)
{
	struct kvm_irqfd req = { .fd = (u32)line->fd, .gsi = line->gsi,
				 .flags = KVM_IRQFD_FLAG_DEASSIGN };

	if (line->fd < 0)
		return;
	if (ioctl(line->kvm->vm_fd, KVM_IRQFD, &req))
		pr_warn("GSI %u: cannot remove its irqfd: %s", line->gsi, strerror(errno));
	close(line->fd);
	line->fd = -1;
}

/* --- status-backed lines --- */

/* Under si->lock. */
static bool status_irq__level(const struct status_irq *si)
{
	return si->status && !si->masked;
}

/* Under si->lock: was is the level before the change. */
static void status_irq__drive(struct status_irq *si, bool was)
{
	bool level = status_irq__level(si);

	if (level != was)
		irq_line__set(&si->line, level);
}

/* KVM lowered the line at the guest's EOI: up again if it still should be. */
static void status_irq__resampled(struct irq_line *line)
{
	struct status_irq *si = container_of(line, struct status_irq, line);

	pthread_mutex_lock(&si->lock);
	if (status_irq__level(si))
		irq_line__set(&si->line, true);
	pthread_mutex_unlock(&si->lock);
}

void status_irq__init(struct status_irq *si, struct kvm *kvm, unsigned int spi, const char *name)
{
	si->status = 0;
	si->masked = false;
	pthread_mutex_init(&si->lock, NULL);
	if (irq_line__init(&si->line, kvm, spi, status_irq__resampled))
		pr_debug("%s: interrupts through irqfd", name);
}

void status_irq__raise(struct status_irq *si, u32 bits)
{
	bool was;

	pthread_mutex_lock(&si->lock);
	was = status_irq__level(si);
	si->status |= bits;
	status_irq__drive(si, was);
	pthread_mutex_unlock(&si->lock);
}

u32 status_irq__ack(struct status_irq *si, u32 bits)
{
	u32 before;
	bool was;

	pthread_mutex_lock(&si->lock);
	was = status_irq__level(si);
	before = si->status;
	si->status &= ~bits;
	status_irq__drive(si, was);
	pthread_mutex_unlock(&si->lock);
	return before;
}

u32 status_irq__status(struct status_irq *si)
{
	u32 status;

	pthread_mutex_lock(&si->lock);
	status = si->status;
	pthread_mutex_unlock(&si->lock);
	return status;
}

void status_irq__mask(struct status_irq *si, bool masked)
{
	bool was;

	pthread_mutex_lock(&si->lock);
	was = status_irq__level(si);
	si->masked = masked;
	status_irq__drive(si, was);
	pthread_mutex_unlock(&si->lock);
}

/* Not under si->lock: irq_line__exit waits for a resample handler, which takes it. */
void status_irq__exit(struct status_irq *si)
{
	irq_line__exit(&si->line);
	if (status_irq__level(si))
		irq_line__set(&si->line, false);
	pthread_mutex_destroy(&si->lock);
}
