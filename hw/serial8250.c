#include "lkvm/serial8250.h"

#include <string.h>

static u8 serial8250__iir(const struct serial8250 *s)
{
	u8 fifo = s->fcr & UART_FCR_ENABLE ? UART_IIR_FIFO_ON : 0;

	if ((s->ier & UART_IER_RLSI) && (s->lsr & UART_LSR_ERRORS))
		return fifo | UART_IIR_RLSI;
	if ((s->ier & UART_IER_RDI) && s->rx_count)
		return fifo | UART_IIR_RDI;
	if ((s->ier & UART_IER_THRI) && s->thr_ipending)
		return fifo | UART_IIR_THRI;
	if ((s->ier & UART_IER_MSI) && (s->msr & UART_MSR_DELTAS))
		return fifo;
	return fifo | UART_IIR_NO_INT;
}

static void serial8250__update_irq(struct serial8250 *s)
{
	int level = !(serial8250__iir(s) & UART_IIR_NO_INT);

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

	if (s->mcr & UART_MCR_LOOP)
		msr = (s->mcr & UART_MCR_RTS ? UART_MSR_CTS : 0) | (s->mcr & UART_MCR_DTR ? UART_MSR_DSR : 0) |
		      (s->mcr & UART_MCR_OUT1 ? UART_MSR_RI : 0) | (s->mcr & UART_MCR_OUT2 ? UART_MSR_DCD : 0);
	else
		msr = UART_MSR_DCD | UART_MSR_DSR | UART_MSR_CTS;
	/* Delta bits: CTS, DSR, trailing edge of RI, DCD. */
	s->msr = (u8)(msr | (s->msr & UART_MSR_DELTAS) |
		      (((old ^ msr) & UART_MSR_CTS) ? 0x01 : 0) | (((old ^ msr) & UART_MSR_DSR) ? 0x02 : 0) |
		      ((old & UART_MSR_RI) && !(msr & UART_MSR_RI) ? 0x04 : 0) |
		      (((old ^ msr) & UART_MSR_DCD) ? 0x08 : 0));
}

void serial8250__reset(struct serial8250 *s)
{
	s->dll = 12;	/* 9600 baud at 1.8432 MHz */
	s->dlm = s->ier = s->fcr = s->lcr = s->mcr = s->scr = 0;
	s->lsr = UART_LSR_THRE | UART_LSR_TEMT;
	s->msr = UART_MSR_DCD | UART_MSR_DSR | UART_MSR_CTS;
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
		s->lsr |= UART_LSR_OE;
	return n;
}

size_t serial8250__receive(struct serial8250 *s, const u8 *buf, size_t len)
{
	size_t n;

	/* In loopback mode the line is disconnected from the outside. */
	if (s->mcr & UART_MCR_LOOP)
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
	case UART_REG_RBR_THR_DLL:
		v = s->lcr & UART_LCR_DLAB ? s->dll : serial8250__pop(s);
		break;
	case UART_REG_IER_DLM:
		v = s->lcr & UART_LCR_DLAB ? s->dlm : s->ier;
		break;
	case UART_REG_IIR_FCR:
		v = serial8250__iir(s);
		/* Reading IIR acknowledges a THR-empty interrupt that it reports. */
		if ((v & 0x0f) == UART_IIR_THRI)
			s->thr_ipending = false;
		break;
	case UART_REG_LCR:
		v = s->lcr;
		break;
	case UART_REG_MCR:
		v = s->mcr;
		break;
	case UART_REG_LSR:
		v = s->lsr | (s->rx_count ? UART_LSR_DR : 0);
		s->lsr &= (u8)~UART_LSR_ERRORS;
		break;
	case UART_REG_MSR:
		v = s->msr;
		s->msr &= (u8)~UART_MSR_DELTAS;
		break;
	case UART_REG_SCR:
		v = s->scr;
		break;
	}
	serial8250__update_irq(s);
	return v;
}

void serial8250__write(struct serial8250 *s, unsigned int reg, u8 val)
{
	switch (reg) {
	case UART_REG_RBR_THR_DLL:
		if (s->lcr & UART_LCR_DLAB) {
			s->dll = val;
			break;
		}
		/* Transmission is instant: THR is empty again at once. */
		if (s->mcr & UART_MCR_LOOP)
			serial8250__queue(s, &val, 1);
		else
			s->tx(s, val);
		s->thr_ipending = true;
		break;
	case UART_REG_IER_DLM:
		if (s->lcr & UART_LCR_DLAB) {
			s->dlm = val;
			break;
		}
		/* Enabling the THR-empty interrupt while THR is empty raises it. */
		if ((val & UART_IER_THRI) && !(s->ier & UART_IER_THRI))
			s->thr_ipending = true;
		s->ier = val & 0x0f;
		break;
	case UART_REG_IIR_FCR:
		s->fcr = val & 0xc9;
		if (val & UART_FCR_CLEAR_RX)
			s->rx_head = s->rx_count = 0;
		break;
	case UART_REG_LCR:
		s->lcr = val;
		break;
	case UART_REG_MCR:
		s->mcr = val & 0x1f;
		serial8250__update_msr(s);
		break;
	case UART_REG_LSR:
	case UART_REG_MSR:
		break;	/* read-only */
	case UART_REG_SCR:
		s->scr = val;
		break;
	}
	serial8250__update_irq(s);
}
