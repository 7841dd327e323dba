/*
 * A 16550A UART register model (byte-wide registers, reg-shift 0). Pure: the owner supplies the
 * interrupt line and the transmitter, and serialises calls.
 */
#ifndef LKVM_SERIAL8250_H
#define LKVM_SERIAL8250_H

#include "lkvm/util.h"

#define SERIAL8250_RX_SIZE 1024	/* host-side receive buffer; the guest sees a 16550 FIFO */

struct serial8250 {
	/* Called with the new level when the interrupt output changes. */
	void (*set_irq)(struct serial8250 *s, int level);
	/* Called for every byte the guest transmits (not in loopback mode). */
	void (*tx)(struct serial8250 *s, u8 byte);

	u8 dll, dlm, ier, fcr, lcr, mcr, lsr, msr, scr;
	bool thr_ipending;		/* THR-empty interrupt pending until IIR read or THR write */
	int irq_level;
	u8 rx[SERIAL8250_RX_SIZE];
	unsigned int rx_head, rx_count;
};

void serial8250__reset(struct serial8250 *s);
u8 serial8250__read(struct serial8250 *s, unsigned int reg);
void serial8250__write(struct serial8250 *s, unsigned int reg, u8 val);
/* Queues received bytes; returns how many fit. */
size_t serial8250__receive(struct serial8250 *s, const u8 *buf, size_t len);
size_t serial8250__rx_room(const struct serial8250 *s);

#endif
