// SPDX-License-Identifier: GPL-2.0
/*
 * sdei_nmi: lkvm's NMI test module (Documentation/sdei-linux.md).
 *
 * Registers lkvm's SDEI event 1000 ("nmi": private, critical; `lkvm nmi` signals it) through
 * Linux's SDEI client, which registers and enables a private event on every online CPU (and on
 * CPUs coming online). The handler runs in NMI context: it prints a marker naming the CPU,
 * "lkvm-sdei-nmi: NMI on CPU N (...)", a backtrace (dump_stack(), as NMI backtraces do) and
 * "lkvm-sdei-nmi: end of NMI on CPU N", and counts the deliveries:
 * /sys/module/sdei_nmi/parameters/count (all CPUs) and .../per_cpu ("CPU:count" for each CPU
 * that took one). rmmod disables and unregisters the event.
 *
 * Linux 6.12 exports neither its SDEI API (sdei_event_register() and the others) nor
 * kallsyms_lookup_name() to modules. The loader reads kallsyms_lookup_name's address from
 * /proc/kallsyms and passes it as the parameter kallsyms_lookup_name=0x...; the module checks
 * with sprint_symbol() (exported) that the address does name that function before calling it,
 * then looks the SDEI API up with it.
 *
 *   insmod sdei_nmi.ko kallsyms_lookup_name=0x$(awk '$3 == "kallsyms_lookup_name" { print $1 }' /proc/kallsyms)
 */
#define pr_fmt(fmt) "lkvm-sdei-nmi: " fmt

#include <linux/arm_sdei.h>
#include <linux/atomic.h>
#include <linux/kallsyms.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/printk.h>
#include <linux/ptrace.h>
#include <linux/smp.h>
#include <linux/string.h>

/* lkvm's NMI request event (include/lkvm/sdei.h, SDEI_EVENT_NMI) */
#define LKVM_SDEI_EVENT_NMI	1000U

static unsigned long lookup_addr;
module_param_named(kallsyms_lookup_name, lookup_addr, ulong, 0);
MODULE_PARM_DESC(kallsyms_lookup_name, "address of kallsyms_lookup_name, from /proc/kallsyms");

/* Deliveries, per CPU: the handler runs on the CPU that took the event. */
static atomic_t counts[NR_CPUS];

/* The SDEI client's API, as found through kallsyms. */
static struct {
	int (*reg)(u32 event_num, sdei_event_callback *cb, void *arg);
	int (*unreg)(u32 event_num);
	int (*enable)(u32 event_num);
	int (*disable)(u32 event_num);
} sdei;

static int sdei_nmi_handler(u32 event_num, struct pt_regs *regs, void *arg)
{
	unsigned int cpu = smp_processor_id();

	atomic_inc(&counts[cpu]);
	pr_info("NMI on CPU %u (event %u, interrupted %s at %pS)\n", cpu, event_num,
		user_mode(regs) ? "user" : "kernel", (void *)instruction_pointer(regs));
	dump_stack();
	/* The console shows this last: then the CPU is done printing (from an irq_work) too. */
	pr_info("end of NMI on CPU %u\n", cpu);
	return 0;
}

static int count_get(char *buf, const struct kernel_param *kp)
{
	unsigned int cpu, total = 0;

	for (cpu = 0; cpu < NR_CPUS; cpu++)
		total += atomic_read(&counts[cpu]);
	return scnprintf(buf, PAGE_SIZE, "%u\n", total);
}

static int per_cpu_get(char *buf, const struct kernel_param *kp)
{
	unsigned int cpu;
	int len = 0;

	for (cpu = 0; cpu < NR_CPUS; cpu++) {
		int n = atomic_read(&counts[cpu]);

		if (n)
			len += scnprintf(buf + len, PAGE_SIZE - len, "%s%u:%d", len ? " " : "", cpu, n);
	}
	return len + scnprintf(buf + len, PAGE_SIZE - len, "\n");
}

/* insmod would call a NULL set() for count=N: the counts are not for setting. */
static int read_only_set(const char *val, const struct kernel_param *kp)
{
	return -EPERM;
}

static const struct kernel_param_ops count_ops = { .set = read_only_set, .get = count_get };
static const struct kernel_param_ops per_cpu_ops = { .set = read_only_set, .get = per_cpu_get };
module_param_cb(count, &count_ops, NULL, 0444);
MODULE_PARM_DESC(count, "events handled, on all CPUs");
module_param_cb(per_cpu, &per_cpu_ops, NULL, 0444);
MODULE_PARM_DESC(per_cpu, "events handled, as CPU:count for each CPU that took any");

/* Whether addr is the start of the function name (sprint_symbol: "name+0x0/0x..."). */
static bool names(unsigned long addr, const char *name)
{
	char sym[KSYM_SYMBOL_LEN];
	size_t len = strlen(name);

	sprint_symbol(sym, addr);
	return !strncmp(sym, name, len) && !strncmp(sym + len, "+0x0/", 5);
}

static int find_sdei_api(void)
{
	unsigned long (*lookup)(const char *name) = (void *)lookup_addr;
	static const char *const fns[] = { "sdei_event_register", "sdei_event_unregister",
					   "sdei_event_enable", "sdei_event_disable" };
	void **slots[] = { (void **)&sdei.reg, (void **)&sdei.unreg, (void **)&sdei.enable,
			   (void **)&sdei.disable };
	unsigned int i;

	if (!lookup_addr || !names(lookup_addr, "kallsyms_lookup_name")) {
		pr_err("kallsyms_lookup_name=%#lx is not that function's address (see /proc/kallsyms)\n",
		       lookup_addr);
		return -EINVAL;
	}
	for (i = 0; i < ARRAY_SIZE(fns); i++) {
		*slots[i] = (void *)lookup(fns[i]);
		if (!*slots[i]) {
			pr_err("%s: not in this kernel (CONFIG_ARM_SDE_INTERFACE?)\n", fns[i]);
			return -ENOENT;
		}
	}
	return 0;
}

static int __init sdei_nmi_init(void)
{
	int err = find_sdei_api();

	if (err)
		return err;
	err = sdei.reg(LKVM_SDEI_EVENT_NMI, sdei_nmi_handler, NULL);
	if (err) {
		/* -EIO: the client found no firmware interface; -EINVAL: the firmware has no such event. */
		pr_err("cannot register SDEI event %u: %d%s\n", LKVM_SDEI_EVENT_NMI, err,
		       err == -EIO ? " (no SDEI firmware: run lkvm with --psci=user --sdei)" : "");
		return err;
	}
	err = sdei.enable(LKVM_SDEI_EVENT_NMI);
	if (err) {
		pr_err("cannot enable SDEI event %u: %d\n", LKVM_SDEI_EVENT_NMI, err);
		sdei.unreg(LKVM_SDEI_EVENT_NMI);
		return err;
	}
	pr_info("SDEI event %u registered on every CPU\n", LKVM_SDEI_EVENT_NMI);
	return 0;
}

static void __exit sdei_nmi_exit(void)
{
	int err;

	/*
	 * Each CPU disables its own registration, from an IPI, which cannot run while the handler
	 * does (it runs with every interrupt masked): once disable returns, no CPU runs the handler
	 * nor will, so unregister has no running handler to answer PENDING (-EINPROGRESS) for.
	 */
	err = sdei.disable(LKVM_SDEI_EVENT_NMI);
	if (err)
		pr_err("cannot disable SDEI event %u: %d\n", LKVM_SDEI_EVENT_NMI, err);
	err = sdei.unreg(LKVM_SDEI_EVENT_NMI);
	if (err)
		pr_err("cannot unregister SDEI event %u: %d\n", LKVM_SDEI_EVENT_NMI, err);
	else
		pr_info("SDEI event %u unregistered\n", LKVM_SDEI_EVENT_NMI);
}

module_init(sdei_nmi_init);
module_exit(sdei_nmi_exit);
MODULE_DESCRIPTION("lkvm's NMI test module: takes lkvm's SDEI NMI event and prints a backtrace");
MODULE_LICENSE("GPL");
