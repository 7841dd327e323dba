/*
 * A 16550A UART register model (byte-wide registers, reg-shift 0). Pure: the owner supplies the
 * interrupt line and the transmitter, and serialises calls.
 */
#ifndef LKVM_SERIAL8250_H
#define LKVM_SERIAL8250_H

#include "lkvm/util.h"

/* Registers (byte offsets) and their bits. */
enum {
	UART_REG_RBR_THR_DLL, UART_REG_IER_DLM, UART_REG_IIR_FCR, UART_REG_LCR, UART_REG_MCR,
	UART_REG_LSR, UART_REG_MSR, UART_REG_SCR,
};

#define UART_IER_RDI		0x01
#define UART_IER_THRI	0x02
#define UART_IER_RLSI	0x04
#define UART_IER_MSI		0x08
#define UART_IIR_NO_INT	0x01
#define UART_IIR_THRI	0x02
#define UART_IIR_RDI		0x04
#define UART_IIR_RLSI	0x06
#define UART_IIR_FIFO_ON	0xc0
#define UART_FCR_ENABLE	0x01
#define UART_FCR_CLEAR_RX	0x02
#define UART_LCR_DLAB	0x80
#define UART_MCR_DTR		0x01
#define UART_MCR_RTS		0x02
#define UART_MCR_OUT1	0x04
#define UART_MCR_OUT2	0x08
#define UART_MCR_LOOP	0x10
#define UART_LSR_DR		0x01
#define UART_LSR_OE		0x02
#define UART_LSR_THRE	0x20
#define UART_LSR_TEMT	0x40
#define UART_LSR_ERRORS	0x1e
#define UART_MSR_CTS		0x10
#define UART_MSR_DSR		0x20
#define UART_MSR_RI		0x40
#define UART_MSR_DCD		0x80
#define UART_MSR_DELTAS	0x0f

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
