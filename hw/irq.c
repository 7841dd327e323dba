/* Level-triggered SPIs through KVM irqfds with resampling, and the status-backed line on them. */
#include "lkvm/irq.h"
#include "lkvm/kvm.h"

#include <errno.h>
#include <inttypes.h>
#include <linux/kvm.h>
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

/*
 * Lowering goes through KVM_IRQ_LINE either way: the vgic keeps one level per SPI whoever drives
 * it, and an irqfd can only raise. The resampler lowers the line at EOI on its own too.
 */
void irq_line__set(struct irq_line *line, bool level)
{
	u64 one = 1;

	if (level && line->fd >= 0) {
		write_all(line->fd, &one, sizeof(one));
		line->raises++;
	} else {
		kvm__irq_line(line->kvm, line->spi, level);
	}
}

void irq_line__exit(struct irq_line *line)
{
	int err;

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
