/* `lkvm run`: options compatible with kvmtool's, then the VM's life: boot, restarts, exit code. */
#include "lkvm/builtin.h"
#include "lkvm/config.h"
#include "lkvm/control-server.h"
#include "lkvm/devspec.h"
#include "lkvm/exit-codes.h"
#include "lkvm/firmware.h"
#include "lkvm/help.h"
#include "lkvm/hotplug.h"
#include "lkvm/kernel.h"
#include "lkvm/kvm-cpu.h"
#include "lkvm/kvm.h"
#include "lkvm/memory-map.h"
#include "lkvm/term.h"
#include "lkvm/virtio-vsock.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <unistd.h>

#define DEFAULT_RAM (256ULL << 20)
#define NAME_MAX_LEN 64

enum {
	OPT_NAME = 256, OPT_CONSOLE, OPT_IRQCHIP, OPT_ON_RESET, OPT_NODEFAULTS, OPT_DUMP_DTB,
	OPT_LOGLEVEL, OPT_DEBUG, OPT_PSCI, OPT_PSCI_CONDUIT, OPT_DEBUG_PSCI, OPT_MAX_CPUS,
	OPT_PLUGGED_CPUS, OPT_TRNG, OPT_TRNG_SEED, OPT_SMCCC, OPT_LIST_FW, OPT_TIMEOUT,
	OPT_CONSOLE_LOG, OPT_EVENTS_LOG, OPT_DEBUG_FW, OPT_9P, OPT_RNG, OPT_BALLOON,
	OPT_VIRTIO_TRANSPORT,
	OPT_HUGETLBFS, OPT_KASLR_SEED, OPT_VCPU_AFFINITY, OPT_FORCE_PCI, OPT_VIRTIO_LEGACY,
	OPT_FIRMWARE_ADDR,
	OPT_PMU, OPT_DISABLE_SVE, OPT_SVE_MAX_VL, OPT_DISABLE_MTE, OPT_NO_PVTIME, OPT_NESTED,
	OPT_AARCH32,
	OPT_NO_DHCP,
	OPT_VSOCK,
	OPT_ACPI, OPT_DUMP_ACPI,
	OPT_SDEI,
};

/* Options that are checked against each other once all are read. */
struct run_args {
	struct lkvm_config *cfg;	/* filled in place: it owns what the options allocate */
	bool cpus_given;
	bool list_firmware_calls;
	unsigned int max_cpus;		/* 0: no --max-cpus */
	const char *plugged_list;
};

struct run_option {
	struct option opt;
	const char *arg;	/* for help: the argument's name, or NULL */
	const char *help;
};

static const struct run_option run_options[] = {
	{ { "kernel", required_argument, NULL, 'k' }, "FILE",
	  "kernel: arm64 Image, gzip'ed Image, or raw binary (entered at RAM + 0x80000)" },
	{ { "initrd", required_argument, NULL, 'i' }, "FILE", "initial RAM disk" },
	{ { "params", required_argument, NULL, 'p' }, "PARAMS",
	  "kernel command line, after the defaults \"console=ttyS0 earlycon\" (console=hvc0 with "
	  "--console virtio; no earlycon if PARAMS has quiet)" },
	{ { "cpus", required_argument, NULL, 'c' }, "N",
	  "number of vCPUs (default: the host's online CPUs)" },
	{ { "max-cpus", required_argument, NULL, OPT_MAX_CPUS }, "N",
	  "vCPUs that exist, of which -c start plugged; CPU_ON of the others is DENIED until "
	  "`lkvm cpu plug` (needs --psci=user)" },
	{ { "plugged-cpus", required_argument, NULL, OPT_PLUGGED_CPUS }, "LIST",
	  "which vCPUs start plugged, as in 0,3,5-7 (with --max-cpus; default the first -c)" },
	{ { "mem", required_argument, NULL, 'm' }, "SIZE",
	  "guest RAM, with suffix K, M, G or T; no suffix means M (default 256M)" },
	{ { "name", required_argument, NULL, OPT_NAME }, "NAME",
	  "the VM's name (default guest-PID)" },
	{ { "disk", required_argument, NULL, 'd' }, "FILE[,ro][,direct]",
	  "virtio-blk disk on a raw image (repeatable); a directory instead is shared over 9p as "
	  "the root file system when there is no initrd" },
	{ { "9p", required_argument, NULL, OPT_9P }, "DIR[,TAG]",
	  "share a host directory with the guest over virtio-9p (tag default: DIR's name); shares "
	  "may not overlap" },
	{ { "network", required_argument, NULL, 'n' }, "mode=tap|user|none[,...]",
	  "virtio-net: mode=tap[,tapif=NAME][,guest_mac=MAC], mode=user[,guest_ip=IP][,host_ip=IP]"
	  "[,guest_mac=MAC] (NAT, DHCP, DNS; one at most), or mode=none (repeatable)" },
	{ { "rng", no_argument, NULL, OPT_RNG }, NULL, "virtio-rng, fed from the host's getrandom()" },
	{ { "balloon", no_argument, NULL, OPT_BALLOON }, NULL,
	  "virtio-balloon, driven by `lkvm balloon`" },
	{ { "virtio-transport", required_argument, NULL, OPT_VIRTIO_TRANSPORT }, "mmio|pci",
	  "how virtio devices attach: virtio-mmio (default) or virtio-pci on a PCI host bridge" },
	{ { "force-pci", no_argument, NULL, OPT_FORCE_PCI }, NULL,
	  "same as --virtio-transport=pci (kvmtool's older spelling)" },
	{ { "virtio-legacy", no_argument, NULL, OPT_VIRTIO_LEGACY }, NULL,
	  "not supported: lkvm's virtio devices are virtio 1.0 (Documentation/kvmtool.md)" },
	{ { "firmware", required_argument, NULL, 'f' }, "FILE",
	  "boot this firmware image instead of a kernel: loaded at --firmware-address, the DTB "
	  "after it" },
	{ { "firmware-address", required_argument, NULL, OPT_FIRMWARE_ADDR }, "ADDR",
	  "guest-physical address in RAM for --firmware (default: the start of RAM)" },
	{ { "hugetlbfs", required_argument, NULL, OPT_HUGETLBFS }, "DIR",
	  "back guest RAM with huge pages from the hugetlbfs mounted at DIR" },
	{ { "vcpu-affinity", required_argument, NULL, OPT_VCPU_AFFINITY }, "CPULIST",
	  "host CPUs the vCPU threads may run on, as in 0,2-3" },
	{ { "kaslr-seed", required_argument, NULL, OPT_KASLR_SEED }, "N",
	  "the device tree's kaslr-seed, so the guest kernel's layout repeats (default: random)" },
	{ { "console", required_argument, NULL, OPT_CONSOLE }, "serial|virtio",
	  "guest console on stdin/stdout: the 16550 UART (ttyS0, default) or virtio-console (hvc0)" },
	{ { "irqchip", required_argument, NULL, OPT_IRQCHIP }, "gicv3|gicv3-its|gicv2|auto",
	  "interrupt controller (default auto: GICv3, else GICv2); gicv3-its adds an ITS, and "
	  "virtio-pci then interrupts with MSI-X" },
	{ { "on-reset", required_argument, NULL, OPT_ON_RESET }, "restart|exit",
	  "on guest reboot: boot again (default), or exit with code 3" },
	{ { "psci", optional_argument, NULL, OPT_PSCI }, "[=user|kernel]",
	  "who answers the guest's PSCI calls: KVM (kernel, default) or lkvm (user, or no value)" },
	{ { "psci-conduit", required_argument, NULL, OPT_PSCI_CONDUIT }, "hvc|smc",
	  "the PSCI conduit the device tree advertises (default hvc)" },
	{ { "debug-psci", no_argument, NULL, OPT_DEBUG_PSCI }, NULL,
	  "log every PSCI call lkvm answers: vCPU, function, arguments, result, time" },
	{ { "sdei", no_argument, NULL, OPT_SDEI }, NULL,
	  "lkvm answers SDEI 1.1: NMI-like events for the guest (`lkvm sdei`, `lkvm nmi`); needs "
	  "--psci=user" },
	{ { "trng", required_argument, NULL, OPT_TRNG }, "user|kernel|off",
	  "who answers the guest's TRNG calls: KVM (default), lkvm, or nobody (NOT_SUPPORTED)" },
	{ { "trng-seed", required_argument, NULL, OPT_TRNG_SEED }, "HEX",
	  "with --trng=user: a deterministic stream from this seed (not random!), for tests" },
	{ { "smccc", required_argument, NULL, OPT_SMCCC }, "FID[-FID]:ACTION",
	  "what other firmware calls get: ignore (0), deny (-3) or unsupported (-1); repeatable" },
	{ { "list-firmware-calls", no_argument, NULL, OPT_LIST_FW }, NULL,
	  "print which firmware calls go where with these options, and exit" },
	{ { "debug-firmware", no_argument, NULL, OPT_DEBUG_FW }, NULL,
	  "log every firmware call lkvm answers: vCPU, conduit, ID, arguments, results" },
	{ { "timeout", required_argument, NULL, OPT_TIMEOUT }, "SECONDS",
	  "stop the VM after this long; lkvm then exits 124" },
	{ { "console-log", required_argument, NULL, OPT_CONSOLE_LOG }, "FILE",
	  "also write the guest console's output to FILE" },
	{ { "events-log", required_argument, NULL, OPT_EVENTS_LOG }, "FILE",
	  "every event from the first to FILE, as lkvm events prints them (mode 0600, no symlink)" },
	{ { "nodefaults", no_argument, NULL, OPT_NODEFAULTS }, NULL,
	  "nothing implicit: the command line is exactly -p, and with --console virtio no UART" },
	{ { "dump-dtb", required_argument, NULL, OPT_DUMP_DTB }, "FILE",
	  "write the generated device tree blob to FILE" },
	{ { "acpi", no_argument, NULL, OPT_ACPI }, NULL,
	  "describe the machine to the guest with ACPI tables (and a minimal EFI), not a device tree" },
	{ { "dump-acpi", required_argument, NULL, OPT_DUMP_ACPI }, "DIR",
	  "with --acpi: write every generated ACPI table to DIR (made if missing), one file each" },
	{ { "loglevel", required_argument, NULL, OPT_LOGLEVEL }, "error|warning|info|debug",
	  "which of lkvm's messages it prints: from this level up (default warning)" },
	{ { "debug", no_argument, NULL, OPT_DEBUG }, NULL, "same as --loglevel=debug" },
	{ { "no-dhcp", no_argument, NULL, OPT_NO_DHCP }, NULL,
	  "no ip=dhcp on the command line of a guest whose root is -d DIR, on -n mode=user" },
	{ { "help", no_argument, NULL, 'h' }, NULL, "this help" },
	{ { "pmu", no_argument, NULL, OPT_PMU }, NULL,
	  "give the vCPUs KVM's PMUv3 (overflow interrupt: PPI 7)" },
	{ { "disable-sve", no_argument, NULL, OPT_DISABLE_SVE }, NULL,
	  "no SVE (default: SVE whenever the host's KVM has it)" },
	{ { "sve-max-vl", required_argument, NULL, OPT_SVE_MAX_VL }, "BITS",
	  "the longest SVE vector length (a power of 2, from 128) the vCPUs get" },
	{ { "disable-mte", no_argument, NULL, OPT_DISABLE_MTE }, NULL,
	  "no Memory Tagging Extension (default: MTE whenever the host's KVM has it)" },
	{ { "no-pvtime", no_argument, NULL, OPT_NO_PVTIME }, NULL,
	  "no stolen time (default: each vCPU has a PV_TIME stolen-time structure)" },
	{ { "nested", no_argument, NULL, OPT_NESTED }, NULL,
	  "start the vCPUs at EL2, for nested virtualisation (needs KVM_CAP_ARM_EL2)" },
	{ { "aarch32", no_argument, NULL, OPT_AARCH32 }, NULL,
	  "a 32-bit (AArch32) guest: loaded at RAM + 0x8000, entered in SVC mode" },
	{ { "vsock", required_argument, NULL, OPT_VSOCK }, "CID",
	  "virtio-vsock with guest CID 3-4294967294, served by the host's /dev/vhost-vsock" },
};

void cmd_run_help(void)
{
	help__usage(stdout, "run [<options>] [<kernel image>]",
		    "Boot a guest: a Linux kernel or a bare-metal image, with kvmtool's options.");
	for (size_t i = 0; i < ARRAY_SIZE(run_options); i++) {
		const struct run_option *o = &run_options[i];
		char term[64], shortopt[8] = "";

		if (o->opt.val < 256)
			snprintf(shortopt, sizeof(shortopt), "-%c, ", o->opt.val);
		snprintf(term, sizeof(term), "%s--%s%s%s", shortopt, o->opt.name,
			 o->arg && o->arg[0] != '[' ? " " : "", o->arg ? o->arg : "");
		help__item(stdout, term, o->help);
	}
	help__para(stdout, "Exit codes: 0 guest powered off, 1 error, 2 bad command line, 3 guest "
		   "reset with --on-reset=exit, 4 guest crashed, 5 lkvm stop, 124 --timeout, 128+N "
		   "stopped by signal N; a guest's LKVM_EXIT(status) call: 0 for 0, 64+status for "
		   "1-59. Console: Ctrl-A x quits, Ctrl-A Ctrl-A sends Ctrl-A.");
}

static int usage_error(const char *opt, const char *val, const char *why)
{
	pr_err("%s %s: %s", opt, val, why);
	return -LKVM_EXIT_USAGE;
}

static int choose(const char *opt, const char *val, const char *const *names, size_t n, int *out)
{
	char why[128] = "expected one of:";

	for (size_t i = 0; i < n; i++) {
		if (!strcmp(val, names[i])) {
			*out = (int)i;
			return 0;
		}
		snprintf(why + strlen(why), sizeof(why) - strlen(why), " %s", names[i]);
	}
	return usage_error(opt, val, why);
}
#define CHOOSE(opt, val, names, out) choose(opt, val, names, ARRAY_SIZE(names), (int *)(out))

static int parse_mem(const char *val, u64 *out)
{
	if (parse_size(val, out))
		return usage_error("-m", val, "not a size (examples: 512M, 2G)");
	if (*out < LKVM_RAM_MIN)
		return usage_error("-m", val, "too small: the guest needs at least 16M");
	if (!IS_ALIGNED(*out, SZ_64K))
		return usage_error("-m", val, "must be a multiple of 64K");
	return 0;
}

/* --trng-seed: up to 64 hex digits. */
static int parse_seed(struct lkvm_config *cfg, const char *val)
{
	size_t len = strlen(val);

	if (!len || len > 2 * sizeof(cfg->trng_seed) || strspn(val, "0123456789abcdefABCDEF") != len)
		return usage_error("--trng-seed", val, "need 1 to 64 hex digits");
	memset(cfg->trng_seed, 0, sizeof(cfg->trng_seed));
	for (size_t i = 0; i < len; i++) {
		char c = val[i];
		u8 d = (u8)(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);

		cfg->trng_seed[i / 2] |= (u8)(i % 2 ? d : d << 4);
	}
	cfg->trng_seed_len = (len + 1) / 2;
	cfg->trng_seeded = true;
	return 0;
}

/* --vcpu-affinity: a host CPU list, as in 0,2-3. */
static int parse_cpuset(const char *val, cpu_set_t *set, const char **why)
{
	bool cpus[CPU_SETSIZE];
	unsigned int count;
	int err = parse_cpu_list(val, CPU_SETSIZE, cpus, &count);

	if (err) {
		*why = err == -EINVAL ? "expected host CPU numbers or ranges, as in 0,2-3" :
		       "a CPU number beyond what the C library can name";
		return err;
	}
	CPU_ZERO(set);
	for (unsigned int i = 0; i < CPU_SETSIZE; i++) {
		if (cpus[i])
			CPU_SET(i, set);
	}
	return 0;
}

static bool valid_name(const char *s)
{
	size_t n = strlen(s);

	if (!n || n > NAME_MAX_LEN)
		return false;
	for (; *s; s++) {
		if (!(*s >= 'a' && *s <= 'z') && !(*s >= 'A' && *s <= 'Z') &&
		    !(*s >= '0' && *s <= '9') && !strchr("._-", *s))
			return false;
	}
	return true;
}

static int parse_option(struct run_args *a, int c, const char *val)
{
	struct lkvm_config *cfg = a->cfg;
	static const char *const consoles[] = { "serial", "virtio" };
	static const char *const irqchips[] = { "auto", "gicv3", "gicv2", "gicv3-its" };
	static const char *const resets[] = { "restart", "exit" };
	static const char *const psci_modes[] = { "kernel", "user" };
	static const char *const conduits[] = { "hvc", "smc" };
	static const char *const trng_modes[] = { "kernel", "user", "off" };
	static const char *const transports[] = { "mmio", "pci" };
	const char *why;
	static const enum irqchip_type irqchip_of[] = { IRQCHIP_AUTO, IRQCHIP_GICV3, IRQCHIP_GICV2,
							 IRQCHIP_GICV3_ITS };
	int i, err;

	switch (c) {
	case 'k': cfg->kernel_path = val; return 0;
	case 'd':
		return devspec__disk_or_dir(cfg, val, &why) ? usage_error("-d", val, why) : 0;
	case OPT_9P:
		return devspec__share(cfg, val, &why) ? usage_error("--9p", val, why) : 0;
	case 'n':
		return devspec__net(cfg, val, &why) ? usage_error("-n", val, why) : 0;
	case OPT_RNG: cfg->rng = true; return 0;
	case OPT_BALLOON: cfg->balloon = true; return 0;
	case OPT_VIRTIO_TRANSPORT:
		return CHOOSE("--virtio-transport", val, transports, &cfg->virtio_transport);
	case OPT_FORCE_PCI: cfg->virtio_transport = VIRTIO_TRANSPORT_PCI; return 0;
	case OPT_VIRTIO_LEGACY:
		pr_err("--virtio-legacy: not supported: lkvm's devices are virtio 1.0, which every "
		       "arm64 Linux drives (see Documentation/kvmtool.md)");
		return -LKVM_EXIT_USAGE;
	case 'f': cfg->firmware_path = val; return 0;
	case OPT_FIRMWARE_ADDR:
		return parse_u64(val, &cfg->firmware_addr) ? usage_error("--firmware-address", val,
			"not an address (decimal, or hex with 0x)") : 0;
	case OPT_HUGETLBFS: cfg->hugetlbfs = val; return 0;
	case OPT_VCPU_AFFINITY:
		cfg->pin_vcpus = true;
		return parse_cpuset(val, &cfg->vcpu_affinity, &why) ?
		       usage_error("--vcpu-affinity", val, why) : 0;
	case OPT_KASLR_SEED:
		cfg->kaslr_seed_given = true;
		return parse_u64(val, &cfg->kaslr_seed) ? usage_error("--kaslr-seed", val,
			"not a 64-bit number (decimal, or hex with 0x)") : 0;
	case 'i': cfg->initrd_path = val; return 0;
	case 'p': cfg->params = val; return 0;
	case 'c':
		if (parse_uint(val, 1, UINT32_MAX, &cfg->nr_cpus))
			return usage_error("-c", val, "need a number of vCPUs, at least 1");
		a->cpus_given = true;
		return 0;
	case OPT_MAX_CPUS:
		if (parse_uint(val, 1, LKVM_MAX_CPUS, &a->max_cpus))
			return usage_error("--max-cpus", val, "need a number of vCPUs, 1 to 512");
		return 0;
	case OPT_PLUGGED_CPUS: a->plugged_list = val; return 0;
	case OPT_TRNG: return CHOOSE("--trng", val, trng_modes, &cfg->trng);
	case OPT_TRNG_SEED: return parse_seed(cfg, val);
	case OPT_SMCCC:
		if (cfg->nr_smccc == MAX_SMCCC_RULES)
			return usage_error("--smccc", val, "too many --smccc options");
		if (firmware__parse_rule(val, &cfg->smccc[cfg->nr_smccc], &why))
			return usage_error("--smccc", val, why);
		cfg->nr_smccc++;
		return 0;
	case OPT_LIST_FW: a->list_firmware_calls = true; return 0;
	case OPT_DEBUG_FW: cfg->debug_firmware = true; return 0;
	case OPT_TIMEOUT:
		if (parse_uint(val, 1, 86400 * 365, &cfg->timeout))
			return usage_error("--timeout", val, "need a number of seconds, at least 1");
		return 0;
	case OPT_CONSOLE_LOG: cfg->console_log = val; return 0;
	case OPT_EVENTS_LOG: cfg->events_log = val; return 0;
	case 'm': return parse_mem(val, &cfg->ram_size);
	case OPT_NAME:
		cfg->name = val;
		return valid_name(val) ? 0 : usage_error("--name", val,
			"use 1 to 64 letters, digits, '.', '_' or '-'");
	case OPT_CONSOLE:
		return CHOOSE("--console", val, consoles, &cfg->console);
	case OPT_IRQCHIP:
		err = CHOOSE("--irqchip", val, irqchips, &i);
		if (!err)
			cfg->irqchip = irqchip_of[i];
		return err;
	case OPT_ON_RESET: return CHOOSE("--on-reset", val, resets, &cfg->on_reset);
	case OPT_NODEFAULTS: cfg->nodefaults = true; return 0;
	case OPT_DUMP_DTB: cfg->dump_dtb = val; return 0;
	case OPT_ACPI: cfg->acpi = true; return 0;
	case OPT_DUMP_ACPI: cfg->dump_acpi = val; return 0;
	case OPT_LOGLEVEL:
		return choose("--loglevel", val, log_level_names, LOG_NR_LEVELS, (int *)&log_level);
	case OPT_DEBUG: log_level = LOG_DEBUG; return 0;
	/* A bare --psci means user, as kvmtool spells it. */
	case OPT_PSCI: return CHOOSE("--psci", val ? val : "user", psci_modes, &cfg->psci);
	case OPT_PSCI_CONDUIT: return CHOOSE("--psci-conduit", val, conduits, &cfg->psci_conduit);
	case OPT_DEBUG_PSCI: cfg->debug_psci = true; return 0;
	case OPT_SDEI: cfg->sdei = true; return 0;
	case OPT_PMU: cfg->pmu = true; return 0;
	case OPT_DISABLE_SVE: cfg->disable_sve = true; return 0;
	case OPT_SVE_MAX_VL:
		return kvm_cpu__parse_sve_vl(val, &cfg->sve_max_vq, &why) ?
		       usage_error("--sve-max-vl", val, why) : 0;
	case OPT_DISABLE_MTE: cfg->disable_mte = true; return 0;
	case OPT_NO_PVTIME: cfg->no_pvtime = true; return 0;
	case OPT_NESTED: cfg->nested = true; return 0;
	case OPT_AARCH32: cfg->aarch32 = true; return 0;
	case OPT_NO_DHCP: cfg->no_dhcp = true; return 0;
	case OPT_VSOCK:
		if (cfg->vsock_cid)
			return usage_error("--vsock", val, "only one --vsock: a VM has one CID");
		return virtio_vsock__parse_cid(val, &cfg->vsock_cid, &why) ?
		       usage_error("--vsock", val, why) : 0;
	default: return -LKVM_EXIT_USAGE;	/* getopt already said what is wrong */
	}
}

/* --max-cpus and --plugged-cpus: which of the vCPUs start plugged. */
static int parse_cpu_plan(struct run_args *a)
{
	struct lkvm_config *cfg = a->cfg;
	unsigned int count;
	const char *why;
	char n[16];

	if (!a->max_cpus) {
		if (a->plugged_list)
			return usage_error("--plugged-cpus", a->plugged_list, "needs --max-cpus");
		return 0;
	}
	snprintf(n, sizeof(n), "%u", a->max_cpus);
	if (cfg->psci != PSCI_USER)
		return usage_error("--max-cpus", n, "needs --psci=user: lkvm's PSCI gates CPU_ON");
	if (!a->cpus_given && !a->plugged_list)
		cfg->nr_cpus = 1;
	if (cfg->nr_cpus > a->max_cpus) {
		snprintf(n, sizeof(n), "%u", cfg->nr_cpus);
		return usage_error("-c", n, "more plugged vCPUs than --max-cpus");
	}
	cfg->plugged = calloc(a->max_cpus, sizeof(*cfg->plugged));
	if (!cfg->plugged)
		return -LKVM_EXIT_ERROR;
	if (!a->plugged_list) {
		for (unsigned int i = 0; i < cfg->nr_cpus; i++)
			cfg->plugged[i] = true;
	} else if (cpu_plan__parse_list(a->plugged_list, a->max_cpus, cfg->plugged, &count, &why)) {
		return usage_error("--plugged-cpus", a->plugged_list, why);
	} else if (a->cpus_given && count != cfg->nr_cpus) {
		return usage_error("--plugged-cpus", a->plugged_list, "lists another number of vCPUs than -c");
	}
	cfg->nr_cpus = a->max_cpus;
	return 0;
}

#define PARSED_HELP 1
#define PARSED_LIST 2

/* Fills cfg from argv. Returns 0, PARSED_HELP for --help, or -exit code. */
/* --acpi boots a 64-bit Linux kernel directly: it is lkvm that plays the firmware. */
static int check_acpi(const struct lkvm_config *cfg)
{
	if (cfg->dump_acpi && !cfg->acpi)
		pr_err("--dump-acpi: needs --acpi");
	else if (cfg->acpi && (cfg->firmware_path || cfg->aarch32))
		pr_err("--acpi: not with %s: lkvm's ACPI tables are for an arm64 kernel it boots",
		       cfg->firmware_path ? "--firmware" : "--aarch32");
	else
		return 0;
	return -1;
}

static int parse_args(int argc, char **argv, struct lkvm_config *cfg)
{
	struct run_args a = { .cfg = cfg };
	struct option longopts[ARRAY_SIZE(run_options) + 1];
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	char why[160];
	int c, err;

	for (size_t i = 0; i < ARRAY_SIZE(run_options); i++)
		longopts[i] = run_options[i].opt;
	memset(&longopts[ARRAY_SIZE(run_options)], 0, sizeof(struct option));
	*cfg = (struct lkvm_config){ .ram_size = DEFAULT_RAM,
				     .nr_cpus = ncpu > 0 ? (unsigned int)ncpu : 1 };

	opterr = 0;
	optind = 1;
	err = 0;
	while (!err && (c = getopt_long(argc, argv, ":k:i:p:c:m:d:n:f:h", longopts, NULL)) != -1) {
		if (c == 'h') {
			err = PARSED_HELP;
		} else if (c == '?' || c == ':') {
			pr_err("%s: %s (see 'lkvm run --help')", argv[optind - 1],
			       c == '?' ? "unknown option" : "needs a value");
			err = -LKVM_EXIT_USAGE;
		} else {
			err = parse_option(&a, c, optarg);
		}
	}
	if (err)
		return err;
	if (firmware__check_rules(cfg, why, sizeof(why))) {
		pr_err("--smccc: %s", why);
		return -LKVM_EXIT_USAGE;
	}
	if (cfg->sdei && cfg->psci != PSCI_USER) {
		/* SDEI follows PSCI's power states: CPU_ON masks, CPU_OFF drops, reset clears. */
		pr_err("--sdei: needs --psci=user (lkvm's own PSCI)");
		return -LKVM_EXIT_USAGE;
	}
	if (cfg->sdei && cfg->nested) {
		/* Handlers are entered at EL1h: a guest at EL2 would be dropped out of it. */
		pr_err("--sdei: handlers run at EL1: not with --nested");
		return -LKVM_EXIT_USAGE;
	}
	if (a.list_firmware_calls)
		return PARSED_LIST;
	if (cfg->trng_seeded && cfg->trng != TRNG_USER) {
		pr_err("--trng-seed: only lkvm's TRNG takes a seed: add --trng=user");
		return -LKVM_EXIT_USAGE;
	}
	if (kvm_cpu__check_features(cfg, why, sizeof(why))) {
		pr_err("%s", why);
		return -LKVM_EXIT_USAGE;
	}
	/* kvmtool accepts the kernel as a lone argument. */
	if (optind < argc && !cfg->kernel_path)
		cfg->kernel_path = argv[optind++];
	if (optind < argc) {
		pr_err("%s: unexpected argument (see 'lkvm run --help')", argv[optind]);
		return -LKVM_EXIT_USAGE;
	}
	if (!cfg->kernel_path && !cfg->firmware_path) {
		pr_err("run: no kernel given: use -k FILE or --firmware FILE (see 'lkvm run --help')");
		return -LKVM_EXIT_USAGE;
	}
	if (cfg->initrd_path && !cfg->kernel_path) {
		pr_err("-i %s: an initrd needs a kernel (-k)", cfg->initrd_path);
		return -LKVM_EXIT_USAGE;
	}
	if (cfg->firmware_addr && !cfg->firmware_path) {
		pr_err("--firmware-address: needs --firmware FILE");
		return -LKVM_EXIT_USAGE;
	}
	if (check_acpi(cfg))
		return -LKVM_EXIT_USAGE;
	return parse_cpu_plan(&a);
}

static int run_exit_code(const struct kvm *kvm, enum vm_stop why)
{
	switch (why) {
	case VM_STOP_POWEROFF:
		pr_info("guest powered off");
		return LKVM_EXIT_POWEROFF;
	case VM_STOP_RESET:
		pr_info("guest reset; exiting as --on-reset=exit asks");
		return LKVM_EXIT_RESET;
	case VM_STOP_CRASH:
		pr_err("guest: reported a crash");
		return LKVM_EXIT_CRASH;
	case VM_STOP_GUEST_EXIT:
		pr_info("the guest called LKVM_EXIT(%d): exit %d", kvm->guest_status,
			LKVM_EXIT_GUEST(kvm->guest_status));
		return LKVM_EXIT_GUEST(kvm->guest_status);
	case VM_STOP_TIMEOUT:
		pr_err("--timeout %u: the guest ran out of time", kvm->cfg->timeout);
		return LKVM_EXIT_TIMEOUT;
	case VM_STOP_USER:
		pr_info("stopped by lkvm stop");
		return LKVM_EXIT_STOPPED;
	case VM_STOP_SIGNAL:
		pr_info("stopped by signal %d (%s)", kvm->stop_signal, strsignal(kvm->stop_signal));
		return LKVM_EXIT_SIGNAL + kvm->stop_signal;
	default:
		return LKVM_EXIT_ERROR;
	}
}

/* lkvm's own memory, for benchmarks: guest RAM the guest touched counts too. */
static void log_peak_rss(void)
{
	struct rusage ru;

	if (!getrusage(RUSAGE_SELF, &ru))
		pr_info("peak RSS %ld KiB", ru.ru_maxrss);
}

/* Boots the guest, again after each reset when asked to, and returns lkvm's exit code. */
static int run_vm(struct vm_context *ctx, int sig_fd)
{
	const struct lkvm_config *cfg = ctx->cfg;
	struct term term;
	struct kvm kvm;
	enum vm_stop why;
	int code;

	if (term__init(&term, STDIN_FILENO, STDOUT_FILENO, cfg->console_log))
		return LKVM_EXIT_ERROR;
	ctx->term = &term;
	do {
		if (kvm__create(&kvm, ctx)) {
			term__restore(&term);
			return LKVM_EXIT_ERROR;
		}
		why = kvm__run(&kvm, sig_fd);
		code = run_exit_code(&kvm, why);
		kvm__destroy(&kvm);
		if (why == VM_STOP_RESET && cfg->on_reset == RESET_RESTART)
			pr_info("guest reset: booting it again");
	} while (why == VM_STOP_RESET && cfg->on_reset == RESET_RESTART);
	term__restore(&term);
	return code;
}

/*
 * --events-log FILE: made 0600 (the VM's events are its user's business), emptied if it exists,
 * as --console-log does; a symlink is refused, whoever planted it, and so is a FIFO or a device.
 * An error is the command line's: the caller exits 2.
 */
static int open_events_log(const char *path)
{
	int fd = file__create(path, 0600, O_APPEND);

	if (fd < 0)
		pr_err("--events-log %s: %s", path, file__create_strerror(fd));
	return fd;
}

/* The control socket and the vCPU plan live as long as lkvm, across guest resets. */
static int run_with_context(const struct lkvm_config *cfg, struct guest_images *img,
			    int sig_fd)
{
	struct vm_context ctx = { .cfg = cfg, .images = img };
	struct cpu_plan plan;
	struct ctl_server ctl;
	int code, log_fd = -1;

	if (cfg->events_log && (log_fd = open_events_log(cfg->events_log)) < 0)
		return LKVM_EXIT_USAGE;
	if (cfg->psci == PSCI_USER) {
		if (cpu_plan__init(&plan, cfg->nr_cpus, cfg->plugged)) {
			pr_err("vCPU plan: out of memory");
			if (log_fd >= 0)
				close(log_fd);
			return LKVM_EXIT_ERROR;
		}
		ctx.plan = &plan;
	}
	if (ctl_server__init(&ctl, cfg->name)) {
		if (log_fd >= 0)
			close(log_fd);
		if (ctx.plan)
			cpu_plan__exit(&plan);
		return LKVM_EXIT_ERROR;
	}
	if (log_fd >= 0)
		ctl_server__log_events(&ctl, log_fd);
	ctx.ctl = &ctl.vc;
	if (cfg->timeout)
		ctx.deadline_ns = clock__now_ns() + (u64)cfg->timeout * 1000000000ULL;
	code = run_vm(&ctx, sig_fd);
	ctl_server__exit(&ctl);
	if (ctx.plan)
		cpu_plan__exit(&plan);
	return code;
}

/* Loads the guest's files, sets up signals and runs the VM: lkvm's exit code. */
static int run_config(struct lkvm_config *cfg)
{
	char default_name[32];
	struct guest_images img = { 0 };	/* the first boot opens them */
	sigset_t sigs;
	int sig_fd, code;

	if (!cfg->name) {
		snprintf(default_name, sizeof(default_name), "guest-%d", (int)getpid());
		cfg->name = default_name;
	}

	/* Termination signals arrive through a signalfd in the main loop, in no other thread. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	signal(SIGPIPE, SIG_IGN);
	if (pthread_sigmask(SIG_BLOCK, &sigs, NULL) || kvm_cpu__init_signals() ||
	    (sig_fd = signalfd(-1, &sigs, SFD_CLOEXEC)) < 0) {
		pr_err("signals: cannot set up: %s", strerror(errno));
		return LKVM_EXIT_ERROR;
	}
	code = run_with_context(cfg, &img, sig_fd);
	close(sig_fd);
	guest_images__close(&img);
	log_peak_rss();
	return code;
}

int cmd_run(int argc, char **argv)
{
	struct lkvm_config cfg;
	int code = parse_args(argc, argv, &cfg);

	if (code == PARSED_HELP || code == PARSED_LIST) {
		if (code == PARSED_HELP)
			cmd_run_help();
		else
			firmware__print(&cfg);
		code = 0;
	} else {
		code = code < 0 ? -code : run_config(&cfg);
	}
	free(cfg.plugged);
	devspec__free(&cfg);
	return code;
}
