/* Layout constants shared by start.S, the linker script and the C code. */
#ifndef PAYLOAD_CONFIG_H
#define PAYLOAD_CONFIG_H

#define LOAD_ADDR	0x80080000	/* lkvm loads a raw binary at RAM + 0x80000 */
#define MAX_CPUS	64		/* vCPU index = Aff0 + 16 * Aff1 */
#define STACK_SHIFT	14		/* 16K of stack per vCPU */
#define STACK_SIZE	(1 << STACK_SHIFT)

/* struct resume_ctx: x19..x30, sp, magic; 128 bytes per vCPU */
#define RC_SHIFT	7
#define RC_SP		96
#define RC_MAGIC	104
#define RESUME_MAGIC	0x524553554d452121	/* "RESUME!!" */

#endif
