/*
 * A freestanding aarch64 payload for lkvm's raw-binary boot: loaded and entered at
 * 0x80080000 with the MMU off (x0 = DTB, unused). Prints one line on the ns16550a UART at
 * 0x01000000, then asks PSCI to power the machine off. Position-independent (adr only).
 * MMIO uses plain ldrb/strb without writeback, which KVM can decode and forward to lkvm.
 */
	.equ	UART, 0x01000000
	.equ	UART_LSR, 5
	.equ	LSR_THRE, 5		/* bit: transmit holding register empty */
	.equ	PSCI_SYSTEM_OFF, 0x84000008

	.text
	.globl	_start
_start:
	adr	x1, msg
	mov	x2, #UART
1:	ldrb	w3, [x1], #1
	cbz	w3, 3f
2:	ldrb	w4, [x2, #UART_LSR]
	tbz	w4, #LSR_THRE, 2b
	strb	w3, [x2]
	b	1b

3:	movz	w0, #(PSCI_SYSTEM_OFF >> 16), lsl #16
	movk	w0, #(PSCI_SYSTEM_OFF & 0xffff)
	hvc	#0
	/* SYSTEM_OFF does not return; if it does, stay here rather than run off the end. */
4:	wfi
	b	4b

msg:	.asciz	"hello from a raw binary\r\n"
