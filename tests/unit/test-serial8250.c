/* serial8250: the 16550A register model the guest's 8250 driver programs. */
#include <string.h>

#include "lkvm/serial8250.h"
#include "suites.h"

enum { RBR = 0, THR = 0, DLL = 0, IER = 1, DLM = 1, IIR = 2, FCR = 2, LCR = 3, MCR = 4,
       LSR = 5, MSR = 6, SCR = 7 };

#define UART_IIR_ID_MASK	0x0f
#define UART_LCR_8N1		0x03

struct uart {
	struct serial8250 s;
	u8 tx[64];
	size_t ntx;
	int level;		/* the interrupt line, as last set */
	int irq_calls;
};

static void uart_set_irq(struct serial8250 *s, int level)
{
	struct uart *u = container_of(s, struct uart, s);

	/* A redundant call would make the owner re-inject an interrupt for nothing. */
	ck_assert_msg(level != u->level, "set_irq(%d) without a level change", level);
	u->level = level;
	u->irq_calls++;
}

static void uart_tx(struct serial8250 *s, u8 byte)
{
	struct uart *u = container_of(s, struct uart, s);

	ck_assert_uint_lt(u->ntx, sizeof(u->tx));
	u->tx[u->ntx++] = byte;
}

static void uart_init(struct uart *u)
{
	memset(u, 0, sizeof(*u));
	u->s.set_irq = uart_set_irq;
	u->s.tx = uart_tx;
	serial8250__reset(&u->s);
}

static u8 rd(struct uart *u, unsigned int reg)
{
	return serial8250__read(&u->s, reg);
}

static void wr(struct uart *u, unsigned int reg, u8 val)
{
	serial8250__write(&u->s, reg, val);
}

static size_t rx(struct uart *u, const char *str)
{
	return serial8250__receive(&u->s, (const u8 *)str, strlen(str));
}

START_TEST(reset_state)
{
	struct uart u;

	uart_init(&u);
	/* An idle transmitter and no interrupt: what the driver expects after probing. */
	ck_assert_uint_eq(rd(&u, LSR), UART_LSR_THRE | UART_LSR_TEMT);
	ck_assert_uint_eq(rd(&u, IIR), UART_IIR_NO_INT);
	ck_assert_uint_eq(rd(&u, IER), 0);
	ck_assert_uint_eq(rd(&u, LCR), 0);
	ck_assert_uint_eq(rd(&u, MCR), 0);
	ck_assert_int_eq(u.irq_calls, 0);
	ck_assert_int_eq(u.level, 0);

	/* Reset from a busy state lowers the interrupt and drops queued input. */
	wr(&u, IER, UART_IER_RDI);
	ck_assert_uint_eq(rx(&u, "xyz"), 3);
	ck_assert_int_eq(u.level, 1);
	serial8250__reset(&u.s);
	ck_assert_int_eq(u.level, 0);
	ck_assert_uint_eq(rd(&u, LSR), UART_LSR_THRE | UART_LSR_TEMT);
	ck_assert_uint_eq(rd(&u, IER), 0);
	ck_assert_uint_eq(serial8250__rx_room(&u.s), SERIAL8250_RX_SIZE);
}
END_TEST

START_TEST(scratch_register)
{
	struct uart u;

	/* Linux tells a 16450+ from an 8250 by the scratch register holding a value. */
	uart_init(&u);
	wr(&u, SCR, 0xa5);
	ck_assert_uint_eq(rd(&u, SCR), 0xa5);
	wr(&u, SCR, 0x5a);
	ck_assert_uint_eq(rd(&u, SCR), 0x5a);
}
END_TEST

START_TEST(tx_writes_reach_tx)
{
	struct uart u;

	uart_init(&u);
	wr(&u, LCR, UART_LCR_8N1);
	wr(&u, THR, 'h');
	wr(&u, THR, 'i');
	wr(&u, THR, 0);
	ck_assert_uint_eq(u.ntx, 3);
	ck_assert_mem_eq(u.tx, "hi\0", 3);
	/* Transmission is instant, so a polling driver never waits. */
	ck_assert_uint_eq(rd(&u, LSR) & (UART_LSR_THRE | UART_LSR_TEMT), UART_LSR_THRE | UART_LSR_TEMT);
	/* No interrupt was enabled. */
	ck_assert_int_eq(u.irq_calls, 0);
}
END_TEST

START_TEST(dlab_selects_divisor_latch)
{
	struct uart u;

	uart_init(&u);
	wr(&u, IER, UART_IER_RDI);
	wr(&u, LCR, UART_LCR_DLAB | UART_LCR_8N1);
	wr(&u, DLL, 0x01);
	wr(&u, DLM, 0x02);
	ck_assert_uint_eq(rd(&u, DLL), 0x01);
	ck_assert_uint_eq(rd(&u, DLM), 0x02);
	ck_assert_uint_eq(rd(&u, LCR), UART_LCR_DLAB | UART_LCR_8N1);
	/* Setting the baud rate neither transmits nor touches IER. */
	ck_assert_uint_eq(u.ntx, 0);
	wr(&u, LCR, UART_LCR_8N1);
	ck_assert_uint_eq(rd(&u, IER), UART_IER_RDI);
	wr(&u, THR, 'a');
	ck_assert_uint_eq(u.ntx, 1);
	/* The divisor survives clearing DLAB. */
	wr(&u, LCR, UART_LCR_DLAB | UART_LCR_8N1);
	ck_assert_uint_eq(rd(&u, DLL), 0x01);
	ck_assert_uint_eq(rd(&u, DLM), 0x02);
}
END_TEST

START_TEST(rx_in_order)
{
	struct uart u;

	uart_init(&u);
	ck_assert_uint_eq(rd(&u, LSR) & UART_LSR_DR, 0);
	ck_assert_uint_eq(rx(&u, "abc"), 3);
	ck_assert_uint_eq(rd(&u, LSR) & UART_LSR_DR, UART_LSR_DR);
	ck_assert_uint_eq(rd(&u, RBR), 'a');
	ck_assert_uint_eq(rd(&u, RBR), 'b');
	ck_assert_uint_eq(rd(&u, LSR) & UART_LSR_DR, UART_LSR_DR);
	ck_assert_uint_eq(rd(&u, RBR), 'c');
	ck_assert_uint_eq(rd(&u, LSR) & UART_LSR_DR, 0);
	ck_assert_uint_eq(serial8250__rx_room(&u.s), SERIAL8250_RX_SIZE);
}
END_TEST

START_TEST(rx_order_across_buffer_wrap)
{
	struct uart u;
	u8 buf[700];

	uart_init(&u);
	/* Two rounds of 700 bytes go around the 1024-byte ring. */
	for (int round = 0; round < 2; round++) {
		for (size_t i = 0; i < sizeof(buf); i++)
			buf[i] = (u8)(i + round * 7);
		ck_assert_uint_eq(serial8250__receive(&u.s, buf, sizeof(buf)), sizeof(buf));
		ck_assert_uint_eq(serial8250__rx_room(&u.s), SERIAL8250_RX_SIZE - sizeof(buf));
		for (size_t i = 0; i < sizeof(buf); i++)
			ck_assert_uint_eq(rd(&u, RBR), buf[i]);
	}
	ck_assert_uint_eq(rd(&u, LSR) & UART_LSR_DR, 0);
}
END_TEST

START_TEST(rdi_interrupt)
{
	struct uart u;

	uart_init(&u);
	/* Data without UART_IER_RDI: no interrupt, the driver is polling. */
	rx(&u, "a");
	ck_assert_int_eq(u.level, 0);
	ck_assert_uint_eq(rd(&u, RBR), 'a');

	wr(&u, IER, UART_IER_RDI);
	ck_assert_int_eq(u.level, 0);
	ck_assert_uint_eq(rx(&u, "xy"), 2);
	ck_assert_int_eq(u.level, 1);
	ck_assert_uint_eq(rd(&u, IIR) & UART_IIR_ID_MASK, UART_IIR_RDI);
	/* Reading IIR does not acknowledge received data: only draining it does. */
	ck_assert_int_eq(u.level, 1);
	ck_assert_uint_eq(rd(&u, RBR), 'x');
	ck_assert_int_eq(u.level, 1);
	ck_assert_uint_eq(rd(&u, RBR), 'y');
	ck_assert_int_eq(u.level, 0);
	ck_assert_uint_eq(rd(&u, IIR), UART_IIR_NO_INT);

	/* Data already waiting raises the interrupt as soon as it is enabled. */
	wr(&u, IER, 0);
	rx(&u, "z");
	ck_assert_int_eq(u.level, 0);
	wr(&u, IER, UART_IER_RDI);
	ck_assert_int_eq(u.level, 1);
	wr(&u, IER, 0);
	ck_assert_int_eq(u.level, 0);
}
END_TEST

START_TEST(thri_interrupt)
{
	struct uart u;

	uart_init(&u);
	/* Enabling THRI while THR is empty raises it: the driver's way to start sending. */
	wr(&u, IER, UART_IER_THRI);
	ck_assert_int_eq(u.level, 1);
	/* Reading IIR reports and acknowledges it. */
	ck_assert_uint_eq(rd(&u, IIR) & UART_IIR_ID_MASK, UART_IIR_THRI);
	ck_assert_int_eq(u.level, 0);
	ck_assert_uint_eq(rd(&u, IIR), UART_IIR_NO_INT);
	/* Each byte written makes THR empty again: another interrupt. */
	wr(&u, THR, 'a');
	ck_assert_int_eq(u.level, 1);
	ck_assert_uint_eq(u.ntx, 1);
	/* Another byte while one interrupt is pending keeps the line up. */
	wr(&u, THR, 'b');
	ck_assert_int_eq(u.level, 1);
	ck_assert_uint_eq(rd(&u, IIR) & UART_IIR_ID_MASK, UART_IIR_THRI);
	ck_assert_int_eq(u.level, 0);
	/* Disabling THRI lowers a pending one. */
	wr(&u, THR, 'c');
	ck_assert_int_eq(u.level, 1);
	wr(&u, IER, 0);
	ck_assert_int_eq(u.level, 0);
}
END_TEST

START_TEST(rdi_has_priority_over_thri)
{
	struct uart u;

	uart_init(&u);
	wr(&u, IER, UART_IER_RDI | UART_IER_THRI);
	rx(&u, "ab");
	ck_assert_int_eq(u.level, 1);
	ck_assert_uint_eq(rd(&u, IIR) & UART_IIR_ID_MASK, UART_IIR_RDI);
	/* The IIR read reported RDI, so the THR-empty interrupt is still pending. */
	rd(&u, RBR);
	rd(&u, RBR);
	ck_assert_int_eq(u.level, 1);
	ck_assert_uint_eq(rd(&u, IIR) & UART_IIR_ID_MASK, UART_IIR_THRI);
	ck_assert_int_eq(u.level, 0);
}
END_TEST

START_TEST(fifo_identifies_as_16550a)
{
	struct uart u;

	uart_init(&u);
	/* Linux's autoconfig reads IIR bits 7:6 == 11 after enabling the FIFO to detect a 16550A. */
	wr(&u, FCR, 0x01);
	ck_assert_uint_eq(rd(&u, IIR), 0xc0 | UART_IIR_NO_INT);
	wr(&u, FCR, 0x00);
	ck_assert_uint_eq(rd(&u, IIR), UART_IIR_NO_INT);
}
END_TEST

START_TEST(fcr_clears_rx_fifo)
{
	struct uart u;

	uart_init(&u);
	wr(&u, IER, UART_IER_RDI);
	rx(&u, "abcd");
	ck_assert_int_eq(u.level, 1);
	wr(&u, FCR, 0x07);	/* enable, clear RX, clear TX */
	ck_assert_uint_eq(rd(&u, LSR) & UART_LSR_DR, 0);
	ck_assert_int_eq(u.level, 0);
	ck_assert_uint_eq(serial8250__rx_room(&u.s), SERIAL8250_RX_SIZE);
	/* New data after the clear comes through normally. */
	rx(&u, "e");
	ck_assert_uint_eq(rd(&u, RBR), 'e');
	/* FCR without the clear bit keeps queued data. */
	rx(&u, "f");
	wr(&u, FCR, 0x01);
	ck_assert_uint_eq(rd(&u, RBR), 'f');
}
END_TEST

START_TEST(loopback)
{
	struct uart u;

	uart_init(&u);
	wr(&u, MCR, UART_MCR_LOOP);
	/* Linux's probe: with loopback and no outputs set, the modem inputs all read 0. */
	ck_assert_uint_eq(rd(&u, MSR) & 0xf0, 0);
	wr(&u, MCR, UART_MCR_LOOP | UART_MCR_OUT2 | UART_MCR_RTS);
	ck_assert_uint_eq(rd(&u, MSR) & 0xf0, UART_MSR_DCD | UART_MSR_CTS);
	wr(&u, MCR, UART_MCR_LOOP | UART_MCR_OUT1 | UART_MCR_DTR);
	ck_assert_uint_eq(rd(&u, MSR) & 0xf0, UART_MSR_RI | UART_MSR_DSR);
	ck_assert_uint_eq(rd(&u, MCR), UART_MCR_LOOP | UART_MCR_OUT1 | UART_MCR_DTR);

	/* Bytes sent come back to the receiver, not out to the host. */
	wr(&u, THR, 'x');
	wr(&u, THR, 'y');
	ck_assert_uint_eq(u.ntx, 0);
	ck_assert_uint_eq(rd(&u, LSR) & UART_LSR_DR, UART_LSR_DR);
	ck_assert_uint_eq(rd(&u, RBR), 'x');
	ck_assert_uint_eq(rd(&u, RBR), 'y');
	/* And the host's input does not get in while the line is looped back. */
	rx(&u, "host");
	ck_assert_uint_eq(rd(&u, LSR) & UART_LSR_DR, 0);

	/* Back to normal: the modem lines read as a connected terminal, bytes go out. */
	wr(&u, MCR, UART_MCR_OUT2 | UART_MCR_RTS | UART_MCR_DTR);
	ck_assert_uint_eq(rd(&u, MSR) & 0xf0, UART_MSR_DCD | UART_MSR_DSR | UART_MSR_CTS);
	wr(&u, THR, 'z');
	ck_assert_uint_eq(u.ntx, 1);
	ck_assert_uint_eq(u.tx[0], 'z');
	ck_assert_uint_eq(rd(&u, LSR) & UART_LSR_DR, 0);
}
END_TEST

START_TEST(rx_overflow)
{
	static u8 buf[SERIAL8250_RX_SIZE + 10];
	struct uart u;

	uart_init(&u);
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (u8)i;
	/* A short count tells the caller what was not taken... */
	ck_assert_uint_eq(serial8250__receive(&u.s, buf, sizeof(buf)), SERIAL8250_RX_SIZE);
	ck_assert_uint_eq(serial8250__rx_room(&u.s), 0);
	/* ...and the guest learns it lost input through LSR OE, cleared by reading LSR. */
	ck_assert_uint_eq(rd(&u, LSR) & (UART_LSR_OE | UART_LSR_DR), UART_LSR_OE | UART_LSR_DR);
	ck_assert_uint_eq(rd(&u, LSR) & UART_LSR_OE, 0);
	/* What was queued is intact, in order. */
	for (size_t i = 0; i < SERIAL8250_RX_SIZE; i++)
		ck_assert_uint_eq(rd(&u, RBR), buf[i]);
	ck_assert_uint_eq(rd(&u, LSR) & UART_LSR_DR, 0);
}
END_TEST

START_TEST(irq_only_on_level_changes)
{
	struct uart u;

	uart_init(&u);
	wr(&u, IER, UART_IER_RDI | UART_IER_THRI);	/* raise (THRI) */
	rx(&u, "a");				/* still high */
	rx(&u, "b");
	rd(&u, IIR);				/* reports RDI: still high */
	rd(&u, LSR);
	rd(&u, RBR);
	rd(&u, RBR);				/* THRI still pending: still high */
	ck_assert_int_eq(u.irq_calls, 1);
	rd(&u, IIR);				/* acknowledges THRI: low */
	rd(&u, IIR);
	wr(&u, SCR, 1);
	ck_assert_int_eq(u.irq_calls, 2);
	ck_assert_int_eq(u.level, 0);
}
END_TEST

Suite *serial8250_suite(void)
{
	Suite *s = suite_create("serial8250");
	TCase *tc = tcase_create("serial8250");

	tcase_add_test(tc, reset_state);
	tcase_add_test(tc, scratch_register);
	tcase_add_test(tc, tx_writes_reach_tx);
	tcase_add_test(tc, dlab_selects_divisor_latch);
	tcase_add_test(tc, rx_in_order);
	tcase_add_test(tc, rx_order_across_buffer_wrap);
	tcase_add_test(tc, rdi_interrupt);
	tcase_add_test(tc, thri_interrupt);
	tcase_add_test(tc, rdi_has_priority_over_thri);
	tcase_add_test(tc, fifo_identifies_as_16550a);
	tcase_add_test(tc, fcr_clears_rx_fifo);
	tcase_add_test(tc, loopback);
	tcase_add_test(tc, rx_overflow);
	tcase_add_test(tc, irq_only_on_level_changes);
	suite_add_tcase(s, tc);
	return s;
}
