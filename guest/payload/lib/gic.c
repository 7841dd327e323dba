/* Just enough GICv3 for the virtual timer PPI to wake a vCPU from WFI-like suspend. */
#include "lib.h"

#define GICD_BASE		0x08000000UL
#define GICD_CTLR		0x0
#define GICD_CTLR_RWP		(1U << 31)
#define GICD_CTLR_ARE_NS	(1U << 4)
#define GICD_CTLR_GRP1NS	(1U << 1)

#define GICR_BASE		0x08020000UL
#define GICR_STRIDE		0x20000UL
#define GICR_WAKER		0x14
#define GICR_TYPER		0x8
#define GICR_TYPER_LAST		(1U << 4)
#define WAKER_PROC_SLEEP	(1U << 1)
#define WAKER_CHILDREN_ASLEEP	(1U << 2)
#define GICR_SGI		0x10000UL	/* SGI frame, after the RD frame */
#define GICR_IGROUPR0		0x80
#define GICR_ISENABLER0		0x100
#define GICR_IPRIORITYR		0x400

#define ICC_PMR_EL1		S3_0_C4_C6_0
#define ICC_SRE_EL1		S3_0_C12_C12_5
#define ICC_IGRPEN1_EL1		S3_0_C12_C12_7
/* One more expansion step, so that the names above become their encodings. */
#define xrd(r)			read_sysreg(r)
#define xwr(r, v)		write_sysreg(r, v)

static bool wait_clear(u64 addr, u32 bits)
{
	u64 end = now() + ms_to_ticks(1000);

	while (mmio_read32(addr) & bits)
		if (now() > end)
			return false;
	return true;
}

/* This vCPU's redistributor: the one whose GICR_TYPER affinity is our MPIDR's. */
static u64 gicr_base(void)
{
	u64 m = read_sysreg(mpidr_el1);
	u32 aff = (u32)((m & 0xffffff) | ((m >> 32) & 0xff) << 24);

	for (unsigned int i = 0; i < 512; i++) {
		u64 rd = GICR_BASE + i * GICR_STRIDE;

		if (mmio_read32(rd + GICR_TYPER + 4) == aff)
			return rd;
		if (mmio_read32(rd + GICR_TYPER) & GICR_TYPER_LAST)
			break;
	}
	return 0;
}

bool gic_init_timer(void)
{
	u64 rd, sgi, prio;

	mmio_write32(GICD_BASE + GICD_CTLR, GICD_CTLR_ARE_NS | GICD_CTLR_GRP1NS);
	if (!wait_clear(GICD_BASE + GICD_CTLR, GICD_CTLR_RWP))
		return false;
	rd = gicr_base();
	if (!rd)
		return false;
	mmio_write32(rd + GICR_WAKER, mmio_read32(rd + GICR_WAKER) & ~WAKER_PROC_SLEEP);
	if (!wait_clear(rd + GICR_WAKER, WAKER_CHILDREN_ASLEEP))
		return false;
	sgi = rd + GICR_SGI;
	mmio_write32(sgi + GICR_IGROUPR0, mmio_read32(sgi + GICR_IGROUPR0) | 1U << TIMER_PPI);
	prio = sgi + GICR_IPRIORITYR + (TIMER_PPI & ~3U);
	mmio_write32(prio, (mmio_read32(prio) & ~(0xffU << 24)) | 0x80U << 24);
	mmio_write32(sgi + GICR_ISENABLER0, 1U << TIMER_PPI);

	xwr(ICC_SRE_EL1, xrd(ICC_SRE_EL1) | 1);
	isb();
	xwr(ICC_PMR_EL1, 0xff);
	xwr(ICC_IGRPEN1_EL1, 1);
	isb();
	return true;
}

u64 timer_arm_ms(u64 ms)
{
	u64 deadline = now() + ms_to_ticks(ms);

	write_sysreg(cntv_cval_el0, deadline);
	write_sysreg(cntv_ctl_el0, 1);		/* ENABLE, IMASK clear */
	isb();
	return deadline;
}

bool timer_fired(void)
{
	isb();
	return read_sysreg(cntv_ctl_el0) & 4;	/* ISTATUS */
}

void timer_off(void)
{
	write_sysreg(cntv_ctl_el0, 0);
	isb();
}
