/* The 16550 console, a small printf, and TAP-like checks. Only vCPU 0 prints, bar errors. */
#include "lib.h"

#define UART_BASE	0x01000000UL
#define UART_THR	0
#define UART_LSR	5
#define UART_LSR_THRE	0x20

unsigned int n_pass, n_fail;

void putc_(char c)
{
	while (!(mmio_read8(UART_BASE + UART_LSR) & UART_LSR_THRE))
		;
	mmio_write8(UART_BASE + UART_THR, (u8)c);
}

static void put_u(u64 v, unsigned int base)
{
	char buf[24];
	int i = 0;

	do {
		buf[i++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	while (i)
		putc_(buf[--i]);
}

/* %s %c %d %u %x %%, with l/ll for 64-bit integers. */
void vprint(const char *fmt, va_list ap)
{
	for (; *fmt; fmt++) {
		int l = 0;

		if (*fmt != '%') {
			putc_(*fmt);
			continue;
		}
		while (*++fmt == 'l')
			l++;
		switch (*fmt) {
		case 's': {
			const char *s = va_arg(ap, const char *);

			while (*s)
				putc_(*s++);
			break;
		}
		case 'c':
			putc_((char)va_arg(ap, int));
			break;
		case 'd': {
			s64 v = l ? va_arg(ap, s64) : va_arg(ap, s32);

			if (v < 0)
				putc_('-');
			put_u(v < 0 ? -(u64)v : (u64)v, 10);
			break;
		}
		case 'u':
		case 'x':
			put_u(l ? va_arg(ap, u64) : va_arg(ap, u32), *fmt == 'u' ? 10 : 16);
			break;
		case '\0':
			return;
		default:
			putc_(*fmt);
			break;
		}
	}
}

void print(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprint(fmt, ap);
	va_end(ap);
}

bool check(bool ok, u64 got, u64 want, const char *fmt, ...)
{
	va_list ap;

	if (ok)
		n_pass++;
	else
		n_fail++;
	print("%sok %u - ", ok ? "" : "not ", n_pass + n_fail);
	va_start(ap, fmt);
	vprint(fmt, ap);
	va_end(ap);
	if (!ok)
		print(": got 0x%lx, want 0x%lx", got, want);
	print("\n");
	return ok;
}

void halt(void)
{
	for (;;)
		__asm__ volatile("wfi");
}

void finish(void)
{
	u64 r;

	print("%s: %u passed, %u failed\n", payload_name, n_pass, n_fail);
	r = psci(PSCI_FN(SYSTEM_OFF), 0, 0, 0);
	print("%s: SYSTEM_OFF returned 0x%lx\n", payload_name, r);
	halt();
}

void delay_us(u64 us)
{
	u64 end = now() + us * timer_freq() / 1000000;

	while (now() < end)
		cpu_relax();
}

/* From start.S's vectors: every exception is a bug. vCPU 0 ends the run; others park. */
void exception_handler(u64 vector, u64 esr, u64 elr, u64 far);
void exception_handler(u64 vector, u64 esr, u64 elr, u64 far)
{
	unsigned int cpu = this_cpu();

	if (cpu) {
		print("%s: vCPU %u: exception %lu ESR 0x%lx ELR 0x%lx FAR 0x%lx\n", payload_name,
		      cpu, vector, esr, elr, far);
		halt();
	}
	check(false, esr, 0, "unexpected exception %lu on vCPU 0 at ELR 0x%lx, FAR 0x%lx",
	      vector, elr, far);
	finish();
}
