/*
 * Entry points and the few things C cannot do: the boot entry (vCPU 0, x0 = device tree),
 * the PSCI entry point (CPU_ON and powerdown resume, x0 = context_id), the SMCCC conduits,
 * saving a context to resume in, and the exception vectors.
 */
#include "config.h"

/* \rd = this vCPU's index (Aff0 + 16 * Aff1) */
.macro cpu_idx rd, tmp
	mrs	\tmp, mpidr_el1
	and	\rd, \tmp, #0xf
	ubfx	\tmp, \tmp, #8, #8
	add	\rd, \rd, \tmp, lsl #4
.endm

/* sp = top of the stack of vCPU \idx */
.macro set_stack idx, tmp
	adrp	\tmp, stacks
	add	\tmp, \tmp, :lo12:stacks
	add	\tmp, \tmp, \idx, lsl #STACK_SHIFT
	add	\tmp, \tmp, #(STACK_SIZE >> 12), lsl #12
	mov	sp, \tmp
.endm

.macro set_vbar tmp
	adrp	\tmp, vectors
	add	\tmp, \tmp, :lo12:vectors
	msr	vbar_el1, \tmp
	isb
.endm

	.section .text.start, "ax"
	.globl	_start
_start:
	mov	x19, x0				/* device tree */
	cpu_idx	x20, x1
	cbnz	x20, park			/* only vCPU 0 boots here */
	adrp	x1, __bss_start
	add	x1, x1, :lo12:__bss_start
	adrp	x2, __bss_end
	add	x2, x2, :lo12:__bss_end
1:	cmp	x1, x2
	b.hs	2f
	str	xzr, [x1], #8
	b	1b
2:	set_stack x20, x1
	set_vbar x1
	mov	x0, x19
	bl	boot_main
park:	wfi
	b	park

	.text
/*
 * The PSCI entry point. Its first instruction reads the counter (for the CPU_ON latency
 * benchmark). A vCPU whose resume_ctxs slot is armed with x0 == its address resumes there
 * (ctx_save returns x0); anything else is a start: secondary_main(x0, counter, index) on the
 * vCPU's own fresh stack. Nothing here may touch the stack before the resume check: a
 * resumed context still lives on it.
 */
	.globl	cpu_entry
	.balign	8
cpu_entry:
	mrs	x20, cntvct_el0
	mov	x19, x0
	cpu_idx	x21, x1
	cmp	x21, #MAX_CPUS
	b.hs	park
	set_vbar x1
	adrp	x2, resume_ctxs
	add	x2, x2, :lo12:resume_ctxs
	add	x2, x2, x21, lsl #RC_SHIFT
	ldr	x3, [x2, #RC_MAGIC]
	ldr	x4, =RESUME_MAGIC
	cmp	x3, x4
	b.ne	1f
	cmp	x19, x2
	b.ne	1f
	str	xzr, [x2, #RC_MAGIC]		/* one resume per save */
	mov	x0, x19
	ldp	x19, x20, [x2, #0]
	ldp	x21, x22, [x2, #16]
	ldp	x23, x24, [x2, #32]
	ldp	x25, x26, [x2, #48]
	ldp	x27, x28, [x2, #64]
	ldp	x29, x30, [x2, #80]
	ldr	x3, [x2, #RC_SP]
	mov	sp, x3
	ret					/* from ctx_save, returning context_id */
1:	set_stack x21, x2
	mov	x0, x19
	mov	x1, x20
	mov	x2, x21
	bl	secondary_main
	b	park

/* u64 ctx_save(struct resume_ctx *rc): 0 now; context_id when resumed by cpu_entry */
	.globl	ctx_save
ctx_save:
	stp	x19, x20, [x0, #0]
	stp	x21, x22, [x0, #16]
	stp	x23, x24, [x0, #32]
	stp	x25, x26, [x0, #48]
	stp	x27, x28, [x0, #64]
	stp	x29, x30, [x0, #80]
	mov	x1, sp
	str	x1, [x0, #RC_SP]
	mov	x0, #0
	ret

/*
 * u64 hvc_call(u64 fid, u64 a1, u64 a2, u64 a3, u64 res[4]) and smc_call: x0..x3 in and out;
 * res (may be NULL) gets x0..x3. SMCCC 1.0 lets the callee clobber x4..x17: keep res on the stack.
 */
.macro conduit name, insn
	.globl	\name
\name:
	str	x4, [sp, #-16]!
	\insn	#0
	ldr	x4, [sp], #16
	cbz	x4, 1f
	stp	x0, x1, [x4]
	stp	x2, x3, [x4, #16]
1:	ret
.endm
	conduit	hvc_call, hvc
	conduit	smc_call, smc

/* Every exception is unexpected: exception_handler(vector, esr, elr, far) reports it. */
	.balign	2048
vectors:
	.irp	n, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15
	.balign	128
	mov	x0, #\n
	b	exc_common
	.endr
exc_common:
	mrs	x1, esr_el1
	mrs	x2, elr_el1
	mrs	x3, far_el1
	bl	exception_handler
	b	park

	.ltorg
