/*
 * a32-test: a bare-metal AArch32 (A32) payload for `lkvm run --aarch32`, loaded and entered at
 * RAM + 0x8000. It checks the entry state of the 32-bit ARM boot protocol (SVC mode, IRQ and
 * FIQ masked, r0 = 0, r1 = ~0, r2 = the device tree), prints a banner and the verdict on the
 * 16550 UART, then powers off with PSCI SYSTEM_OFF, or ends with LKVM_EXIT(1) (lkvm exits 65)
 * if the entry state is wrong. Assembled with binutils-arm-linux-gnueabihf.
 */
	.arch	armv7-a
	.arch_extension virt
	.syntax	unified
	.arm

	.equ	UART, 0x01000000		/* LKVM_UART_BASE: THR at +0, LSR at +5 */
	.equ	LSR_THRE, 0x20
	.equ	PSCI_SYSTEM_OFF, 0x84000008
	.equ	LKVM_EXIT, 0x86000082
	.equ	FDT_MAGIC_LE, 0xedfe0dd0	/* 0xd00dfeed, big-endian in memory */

	.text
	.globl	_start
_start:
	mrs	r8, cpsr
	mov	r9, r0
	mov	r10, r1
	mov	r11, r2
	adr	r0, banner
	bl	puts
	mov	r7, #0				/* r7: the entry state is right */
	and	r3, r8, #0xdf			/* mode, I, F (A and T aside) */
	cmp	r3, #0xd3
	bne	1f
	cmp	r9, #0
	bne	1f
	cmn	r10, #1
	bne	1f
	ldr	r3, [r11]
	ldr	r4, =FDT_MAGIC_LE
	cmp	r3, r4
	moveq	r7, #1
1:	cmp	r7, #1
	adreq	r0, good
	adrne	r0, bad
	bl	puts
	cmp	r7, #1
	ldreq	r0, =PSCI_SYSTEM_OFF
	ldrne	r0, =LKVM_EXIT
	mov	r1, #1
	hvc	#0
2:	wfi
	b	2b

/* puts(r0): the NUL-terminated string at r0, on the UART. */
puts:
	ldr	r1, =UART
1:	ldrb	r2, [r0], #1
	cmp	r2, #0
	bxeq	lr
2:	ldrb	r3, [r1, #5]
	tst	r3, #LSR_THRE
	beq	2b
	strb	r2, [r1]
	b	1b

banner:	.asciz	"a32-test: hello from AArch32 EL1\n"
good:	.asciz	"a32-test: entry state ok (SVC, r0 = 0, r1 = ~0, r2 = the device tree)\n"
bad:	.asciz	"a32-test: entry state wrong\n"
	.balign	4
	.ltorg
