/* The payloads' shared library: console, checks, device tree, PSCI calls, GIC and timer. */
#ifndef PAYLOAD_LIB_H
#define PAYLOAD_LIB_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "config.h"

typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef int s32;
typedef unsigned long u64;
typedef long s64;

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define __printf(a, b)	__attribute__((format(printf, a, b)))
#define __noreturn	__attribute__((noreturn))

/* ---- barriers, MMIO (plain [reg] addressing: KVM needs a valid syndrome), counter ---- */
static inline void dsb(void) { __asm__ volatile("dsb sy" ::: "memory"); }
static inline void isb(void) { __asm__ volatile("isb" ::: "memory"); }
static inline void cpu_relax(void) { __asm__ volatile("yield" ::: "memory"); }

#define MMIO_ACCESSORS(bits, type, sfx)							\
static inline type mmio_read##bits(u64 a)						\
{											\
	u32 v;										\
	__asm__ volatile("ldr" sfx " %w0, [%1]" : "=r"(v) : "r"(a) : "memory");		\
	return (type)v;									\
}											\
static inline void mmio_write##bits(u64 a, type v)					\
{											\
	__asm__ volatile("str" sfx " %w0, [%1]" :: "rZ"((u32)v), "r"(a) : "memory");	\
}
MMIO_ACCESSORS(8, u8, "b")
MMIO_ACCESSORS(16, u16, "h")
MMIO_ACCESSORS(32, u32, "")

#define read_sysreg(r) ({ u64 v_; __asm__ volatile("mrs %0, " #r : "=r"(v_)); v_; })
#define write_sysreg(r, v) __asm__ volatile("msr " #r ", %0" :: "r"((u64)(v)) : "memory")

static inline u64 now(void)
{
	isb();
	return read_sysreg(cntvct_el0);
}
static inline u64 timer_freq(void) { return read_sysreg(cntfrq_el0); }
static inline u64 ms_to_ticks(u64 ms) { return ms * timer_freq() / 1000; }
void delay_us(u64 us);

/* ---- vCPUs ---- */
static inline unsigned int this_cpu(void)
{
	u64 m = read_sysreg(mpidr_el1);

	return (unsigned int)((m & 0xf) + ((m >> 8) & 0xff) * 16);
}
/* The MPIDR affinity lkvm gives vCPU n. */
static inline u64 cpu_mpidr(unsigned int n) { return (n & 0xf) | (u64)((n >> 4) & 0xff) << 8; }

/* ---- start.S ---- */
struct resume_ctx {
	u64 regs[12];	/* x19..x30 */
	u64 sp;
	u64 magic;	/* RESUME_MAGIC while a resume at cpu_entry is expected */
	u64 pad[2];
};
extern struct resume_ctx resume_ctxs[MAX_CPUS];
void cpu_entry(void);
u64 ctx_save(struct resume_ctx *rc) __attribute__((returns_twice));
u64 hvc_call(u64 fid, u64 a1, u64 a2, u64 a3, u64 res[4]);
u64 smc_call(u64 fid, u64 a1, u64 a2, u64 a3, u64 res[4]);

/* ---- each payload provides ---- */
void payload_main(void);
/* A vCPU entered at cpu_entry (not a resume): x0, the counter at entry, its index. */
void secondary_main(u64 ctx, u64 t_entry, unsigned int cpu);
extern const char payload_name[];

/* ---- print.c: UART console, TAP checks ---- */
void putc_(char c);
void vprint(const char *fmt, va_list ap);
void print(const char *fmt, ...) __printf(1, 2);
extern unsigned int n_pass, n_fail;
/* "ok N - what" or "not ok N - what: got 0x.., want 0x.." */
bool check(bool ok, u64 got, u64 want, const char *fmt, ...) __printf(4, 5);
/* Prints "<payload>: N passed, M failed", then SYSTEM_OFF. */
void __noreturn finish(void);
void __noreturn halt(void);

/* ---- fdt.c: the device tree and the parameters in /chosen/bootargs ---- */
struct boot_info {
	u64 dtb, ram_base, ram_size;
	unsigned int dt_cpus;		/* /cpus/cpu@* nodes */
	char psci_method[8];		/* /psci method */
	char sdei_method[8];		/* /firmware/sdei method, "" if there is none */
	char sdei_compat[16];		/* /firmware/sdei compatible */
	u64 virtio_mmio[32];		/* /virtio_mmio@* reg */
	unsigned int nr_virtio_mmio;
	u64 pci_ecam, pci_mmio;		/* /pcie@*: reg, and the memory window of ranges */
};
struct params {
	bool user;			/* mode=user (default) | kernel */
	bool smc;			/* conduit=hvc (default) | smc */
	const char *test;		/* test=NAME, default "all" */
	u64 n;				/* n=N or a bare number */
	unsigned int cpus;		/* cpus=N, 0 if not given */
};
extern struct boot_info boot;
extern struct params par;
void fdt_parse(u64 dtb);
bool streq(const char *a, const char *b);
size_t strlen(const char *s);
void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);

/* ---- psci.c: calls and expectations ---- */
#define PSCI_FN(n)		(0x84000000U + (n))
#define PSCI_FN64(n)		(0xC4000000U + (n))
#define FN64_BIT		(1U << 30)
#define SMCCC_VERSION		0x80000000U
enum {
	VERSION = 0x00, CPU_SUSPEND = 0x01, CPU_OFF = 0x02, CPU_ON = 0x03, AFFINITY_INFO = 0x04,
	MIGRATE = 0x05, MIGRATE_INFO_TYPE = 0x06, MIGRATE_INFO_UP_CPU = 0x07, SYSTEM_OFF = 0x08,
	SYSTEM_RESET = 0x09, FEATURES = 0x0A, NODE_HW_STATE = 0x0D, SYSTEM_SUSPEND = 0x0E,
	STAT_RESIDENCY = 0x10, STAT_COUNT = 0x11, SYSTEM_RESET2 = 0x12,
};
enum {
	SUCCESS = 0, NOT_SUPPORTED = -1, INVALID_PARAMETERS = -2, DENIED = -3, ALREADY_ON = -4,
	ON_PENDING = -5, INTERNAL_FAILURE = -6, NOT_PRESENT = -7, DISABLED = -8,
	INVALID_ADDRESS = -9,
};
#define PS_POWERDOWN		(1U << 16)

/* Through the advertised conduit, or (other) the other one. */
u64 psci(u32 fid, u64 a1, u64 a2, u64 a3);
u64 psci_via(bool other, u32 fid, u64 a1, u64 a2, u64 a3);
/*
 * Whether a result is the expected return code: SMC64 results exactly; SMC32 results as
 * 32-bit values: narrowed under mode=user, only the low half under mode=kernel (KVM
 * sign-extends).
 */
bool ret_is(u32 fid, u64 got, s64 want);
/* Calls fid, checks the result, and names the call in the check: returns the result. */
u64 expect(u32 fid, u64 a1, u64 a2, u64 a3, s64 want, const char *why);
u64 expect_via(bool other, u32 fid, u64 a1, u64 a2, u64 a3, s64 want, const char *why);
const char *ret_name(s64 ret);
const char *fn_name(u32 fid);

/* SDEI calls (0xC4000020 + n, SMC64): x1..x5 in, x0 out, through PSCI's conduit or the other. */
#define SDEI_FN(n)		(0xC4000020U + (n))
enum {
	S_VERSION, S_REGISTER, S_ENABLE, S_DISABLE, S_CONTEXT, S_COMPLETE, S_COMPLETE_RESUME,
	S_UNREGISTER, S_STATUS, S_GET_INFO, S_ROUTING_SET, S_PE_MASK, S_PE_UNMASK, S_BIND,
	S_RELEASE, S_SIGNAL, S_FEATURES, S_PRIVATE_RESET, S_SHARED_RESET,
};
u64 sdei_via(bool other, u32 fid, u64 a1, u64 a2, u64 a3, u64 a4, u64 a5);
u64 sdei(u32 n, u64 a1, u64 a2, u64 a3, u64 a4, u64 a5);
void __noreturn cpu_off(void);

/* ---- gic.c: GICv3 and the virtual timer ---- */
#define TIMER_PPI	27
/* Routes the virtual timer PPI to this vCPU's interface, enabled (PSTATE.I stays masked). */
bool gic_init_timer(void);
/* Arms the virtual timer ms from now; returns the deadline in counter ticks. */
u64 timer_arm_ms(u64 ms);
bool timer_fired(void);
void timer_off(void);

#endif
