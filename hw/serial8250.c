#include "lkvm/serial8250.h"

#include <string.h>

enum {
	REG_RBR_THR_DLL, REG_IER_DLM, REG_IIR_FCR, REG_LCR, REG_MCR, REG_LSR, REG_MSR, REG_SCR,
};

#define IER_RDI		0x01
#define IER_THRI	0x02
#define IER_RLSI	0x04
#define IER_MSI		0x08
#define IIR_NO_INT	0x01
#define IIR_THRI	0x02
#define IIR_RDI		0x04
#define IIR_RLSI	0x06
#define IIR_FIFO_ON	0xc0
#define FCR_ENABLE	0x01
#define FCR_CLEAR_RX	0x02
#define LCR_DLAB	0x80
#define MCR_DTR		0x01
#define MCR_RTS		0x02
#define MCR_OUT1	0x04
#define MCR_OUT2	0x08
#define MCR_LOOP	0x10
#define LSR_DR		0x01
#define LSR_OE		0x02
#define LSR_THRE	0x20
#define LSR_TEMT	0x40
#define LSR_ERRORS	0x1e
#define MSR_CTS		0x10
#define MSR_DSR		0x20
#define MSR_RI		0x40
#define MSR_DCD		0x80
#define MSR_DELTAS	0x0f

static u8 serial8250__iir(const struct serial8250 *s)
{
	u8 fifo = s->fcr & FCR_ENABLE ? IIR_FIFO_ON : 0;

	if ((s->ier & IER_RLSI) && (s->lsr & LSR_ERRORS))
		return fifo | IIR_RLSI;
	if ((s->ier & IER_RDI) && s->rx_count)
		return fifo | IIR_RDI;
	if ((s->ier & IER_THRI) && s->thr_ipending)
		return fifo | IIR_THRI;
	if ((s->ier & IER_MSI) && (s->msr & MSR_DELTAS))
		return fifo;
	return fifo | IIR_NO_INT;
}

static void serial8250__update_irq(struct serial8250 *s)
{
	int level = !(serial8250__iir(s) & IIR_NO_INT);

	/* OUT2 gates the interrupt output on PC-style 8250s, and Linux sets it; we do not rely on it. */
	if (level != s->irq_level) {
		s->irq_level = level;
		s->set_irq(s, level);
	}
}

/* In loopback mode the modem inputs mirror the modem outputs. */
static void serial8250__update_msr(struct serial8250 *s)
{
	u8 old = s->msr, msr;

	if (s->mcr & MCR_LOOP)
		msr = (s->mcr & MCR_RTS ? MSR_CTS : 0) | (s->mcr & MCR_DTR ? MSR_DSR : 0) |
		      (s->mcr & MCR_OUT1 ? MSR_RI : 0) | (s->mcr & MCR_OUT2 ? MSR_DCD : 0);
	else
		msr = MSR_DCD | MSR_DSR | MSR_CTS;
	/* Delta bits: CTS, DSR, trailing edge of RI, DCD. */
	s->msr = (u8)(msr | (s->msr & MSR_DELTAS) |
		      (((old ^ msr) & MSR_CTS) ? 0x01 : 0) | (((old ^ msr) & MSR_DSR) ? 0x02 : 0) |
		      ((old & MSR_RI) && !(msr & MSR_RI) ? 0x04 : 0) |
		      (((old ^ msr) & MSR_DCD) ? 0x08 : 0));
}

void serial8250__reset(struct serial8250 *s)
{
	s->dll = 12;	/* 9600 baud at 1.8432 MHz */
	s->dlm = s->ier = s->fcr = s->lcr = s->mcr = s->scr = 0;
	s->lsr = LSR_THRE | LSR_TEMT;
	s->msr = MSR_DCD | MSR_DSR | MSR_CTS;
	s->thr_ipending = false;
	s->rx_head = s->rx_count = 0;
	serial8250__update_irq(s);
}

size_t serial8250__rx_room(const struct serial8250 *s)
{
	return SERIAL8250_RX_SIZE - s->rx_count;
}

static size_t serial8250__queue(struct serial8250 *s, const u8 *buf, size_t len)
{
	size_t n = 0;

	for (; n < len && s->rx_count < SERIAL8250_RX_SIZE; n++) {
		s->rx[(s->rx_head + s->rx_count) % SERIAL8250_RX_SIZE] = buf[n];
		s->rx_count++;
	}
	if (n < len)
		s->lsr |= LSR_OE;
	return n;
}

size_t serial8250__receive(struct serial8250 *s, const u8 *buf, size_t len)
{
	size_t n;

	/* In loopback mode the line is disconnected from the outside. */
	if (s->mcr & MCR_LOOP)
		return len;
	n = serial8250__queue(s, buf, len);
	serial8250__update_irq(s);
	return n;
}

static u8 serial8250__pop(struct serial8250 *s)
{
	u8 c;

	if (!s->rx_count)
		return 0;
	c = s->rx[s->rx_head];
	s->rx_head = (s->rx_head + 1) % SERIAL8250_RX_SIZE;
	s->rx_count--;
	return c;
}

u8 serial8250__read(struct serial8250 *s, unsigned int reg)
{
	u8 v = 0;

	switch (reg) {
	case REG_RBR_THR_DLL:
		v = s->lcr & LCR_DLAB ? s->dll : serial8250__pop(s);
		break;
	case REG_IER_DLM:
		v = s->lcr & LCR_DLAB ? s->dlm : s->ier;
		break;
	case REG_IIR_FCR:
		v = serial8250__iir(s);
		/* Reading IIR acknowledges a THR-empty interrupt that it reports. */
		if ((v & 0x0f) == IIR_THRI)
			s->thr_ipending = false;
		break;
	case REG_LCR:
		v = s->lcr;
		break;
	case REG_MCR:
		v = s->mcr;
		break;
	case REG_LSR:
		v = s->lsr | (s->rx_count ? LSR_DR : 0);
		s->lsr &= (u8)~LSR_ERRORS;
		break;
	case REG_MSR:
		v = s->msr;
		s->msr &= (u8)~MSR_DELTAS;
		break;
	case REG_SCR:
		v = s->scr;
		break;
	}
	serial8250__update_irq(s);
	return v;
}

void serial8250__write(struct serial8250 *s, unsigned int reg, u8 val)
{
	switch (reg) {
	case REG_RBR_THR_DLL:
		if (s->lcr & LCR_DLAB) {
			s->dll = val;
			break;
		}
		/* Transmission is instant: THR is empty again at once. */
		if (s->mcr & MCR_LOOP)
			serial8250__queue(s, &val, 1);
		else
			s->tx(s, val);
		s->thr_ipending = true;
		break;
	case REG_IER_DLM:
		if (s->lcr & LCR_DLAB) {
			s->dlm = val;
			break;
		}
		/* Enabling the THR-empty interrupt while THR is empty raises it. */
		if ((val & IER_THRI) && !(s->ier & IER_THRI))
			s->thr_ipending = true;
		s->ier = val & 0x0f;
		break;
	case REG_IIR_FCR:
		s->fcr = val & 0xc9;
		if (val & FCR_CLEAR_RX)
			s->rx_head = s->rx_count = 0;
		break;
	case REG_LCR:
		s->lcr = val;
		break;
	case REG_MCR:
		s->mcr = val & 0x1f;
		serial8250__update_msr(s);
		break;
	case REG_LSR:
	case REG_MSR:
		break;	/* read-only */
	case REG_SCR:
		s->scr = val;
		break;
	}
	serial8250__update_irq(s);
}
