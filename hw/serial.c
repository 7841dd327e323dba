/* The console UART: the 16550 model on the MMIO bus, its interrupt, and the host terminal. */
#include "lkvm/init.h"
#include "lkvm/kvm.h"
#include "lkvm/memory-map.h"
#include "lkvm/serial8250.h"
#include "lkvm/term.h"

#include <errno.h>
#include <libfdt.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define UART_CLOCK 1843200

struct serial_dev {
	struct serial8250 uart;
	struct mmio_region mmio;
	struct console_sink sink;
	struct fdt_node_gen fdt;
	struct acpi_gen acpi;
	struct kvm *kvm;
	pthread_mutex_t lock;
};

static void serial__set_irq(struct serial8250 *s, int level)
{
	struct serial_dev *dev = container_of(s, struct serial_dev, uart);

	kvm__irq_line(dev->kvm, LKVM_UART_SPI, level);
}

static void serial__tx(struct serial8250 *s, u8 byte)
{
	struct serial_dev *dev = container_of(s, struct serial_dev, uart);

	term__write(dev->kvm->term, &byte, 1);
}

static void serial__mmio_read(struct mmio_region *r, u64 off, u8 *data, unsigned int len)
{
	struct serial_dev *dev = container_of(r, struct serial_dev, mmio);

	pthread_mutex_lock(&dev->lock);
	data[0] = off < 8 ? serial8250__read(&dev->uart, (unsigned int)off) : 0;
	pthread_mutex_unlock(&dev->lock);
	for (unsigned int i = 1; i < len; i++)
		data[i] = 0;
}

static void serial__mmio_write(struct mmio_region *r, u64 off, const u8 *data, unsigned int len)
{
	struct serial_dev *dev = container_of(r, struct serial_dev, mmio);

	(void)len;	/* wider writes reach the register through their low byte */
	if (off >= 8)
		return;
	pthread_mutex_lock(&dev->lock);
	serial8250__write(&dev->uart, (unsigned int)off, data[0]);
	pthread_mutex_unlock(&dev->lock);
	/* A reader slower than the guest holds the vCPU here, where it holds no lock. */
	while (term__busy(dev->kvm->term, 100) && !kvm__stopping(dev->kvm))
		;
}

static const struct mmio_ops serial_mmio_ops = {
	.read = serial__mmio_read,
	.write = serial__mmio_write,
};

static size_t serial__room(struct console_sink *sink)
{
	struct serial_dev *dev = container_of(sink, struct serial_dev, sink);
	size_t room;

	pthread_mutex_lock(&dev->lock);
	room = serial8250__rx_room(&dev->uart);
	pthread_mutex_unlock(&dev->lock);
	return room;
}

static void serial__input(struct console_sink *sink, const u8 *buf, size_t len)
{
	struct serial_dev *dev = container_of(sink, struct serial_dev, sink);

	pthread_mutex_lock(&dev->lock);
	serial8250__receive(&dev->uart, buf, len);
	pthread_mutex_unlock(&dev->lock);
}

static int serial__fdt(const struct fdt_node_gen *self, const struct fdt_ctx *ctx)
{
	fdt64_t reg[2] = { cpu_to_fdt64(LKVM_UART_BASE), cpu_to_fdt64(LKVM_UART_SIZE) };
	fdt32_t irq[3] = { cpu_to_fdt32(FDT_IRQ_TYPE_SPI), cpu_to_fdt32(LKVM_UART_SPI),
			   cpu_to_fdt32(FDT_IRQ_LEVEL_HIGH) };
	void *fdt = ctx->fdt;
	int err;

	(void)self;
	if ((err = fdt_begin_node(fdt, "uart@1000000")) ||
	    (err = fdt_property_string(fdt, "compatible", "ns16550a")) ||
	    (err = fdt_property(fdt, "reg", reg, sizeof(reg))) ||
	    (err = fdt_property(fdt, "interrupts", irq, sizeof(irq))) ||
	    (err = fdt_property_cell(fdt, "clock-frequency", UART_CLOCK)))
		return err;
	return fdt_end_node(fdt);
}

/* ACPI: the SPCR names it as the console; PNP0501 binds 8250_pnp to it (ttyS0). */
static int serial__acpi(const struct acpi_gen *self, struct acpi_ctx *ctx)
{
	(void)self;
	acpi__mmio_device(ctx->dsdt, "COM0", "PNP0501", 0, LKVM_UART_BASE, LKVM_UART_SIZE,
			  32 + LKVM_UART_SPI);
	return acpi__spcr(ctx, LKVM_UART_BASE, 32 + LKVM_UART_SPI);
}

static void serial__exit(struct kvm *kvm)
{
	struct serial_dev *dev = kvm->serial;

	if (!dev)
		return;
	if (kvm->term->sink == &dev->sink)
		kvm->term->sink = NULL;
	mmio__unregister(&kvm->mmio, &dev->mmio);
	pthread_mutex_destroy(&dev->lock);
	free(dev);
	kvm->serial = NULL;
}

static int serial__init(struct kvm *kvm)
{
	struct serial_dev *dev;
	int err;

	/* The UART is always there for earlycon, unless --nodefaults and another console. */
	if (kvm->cfg->nodefaults && kvm->cfg->console != CONSOLE_SERIAL)
		return 0;
	dev = calloc(1, sizeof(*dev));
	if (!dev) {
		pr_err("serial: out of memory");
		return -ENOMEM;
	}
	dev->kvm = kvm;
	dev->uart.set_irq = serial__set_irq;
	dev->uart.tx = serial__tx;
	dev->mmio = (struct mmio_region){ .base = LKVM_UART_BASE, .size = LKVM_UART_SIZE,
					  .ops = &serial_mmio_ops };
	dev->sink = (struct console_sink){ .room = serial__room, .input = serial__input };
	dev->fdt.gen = serial__fdt;
	dev->acpi.gen = serial__acpi;
	pthread_mutex_init(&dev->lock, NULL);
	serial8250__reset(&dev->uart);
	kvm->serial = dev;
	err = mmio__register(&kvm->mmio, &dev->mmio);
	if (!err)
		err = kvm__add_fdt_gen(kvm, &dev->fdt);
	if (!err)
		err = kvm__add_acpi_gen(kvm, &dev->acpi);
	if (err) {
		pr_err("serial: cannot register: %s", strerror(-err));
		serial__exit(kvm);
		return err;
	}
	if (kvm->cfg->console == CONSOLE_SERIAL)
		kvm->term->sink = &dev->sink;
	return 0;
}

dev_init(serial__init, serial__exit)
