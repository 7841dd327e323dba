#include "lkvm/boot.h"
#include "lkvm/kvm-cpu.h"
#include "lkvm/kvm.h"
#include "lkvm/memory-map.h"

#include <errno.h>
#include <fcntl.h>
#include <libfdt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/*
 * kvmtool's rootfs mode: a 9p root gets ip=dhcp (unless --no-dhcp), here when the network that
 * answers DHCP, -n mode=user, is there.
 */
static bool boot__dhcp(const struct lkvm_config *cfg)
{
	for (unsigned int i = 0; !cfg->no_dhcp && i < cfg->nr_nets; i++) {
		if (cfg->nets[i].mode == NET_USER)
			return true;
	}
	return false;
}

/* Without an initrd the guest boots from what lkvm has: -d DIR over 9p, else the first disk. */
static const char *boot__root(const struct lkvm_config *cfg)
{
	if (cfg->initrd_path)
		return "";
	for (unsigned int i = 0; i < cfg->nr_shares; i++) {
		if (!strcmp(cfg->shares[i].tag, SHARE_ROOT_TAG))
			return boot__dhcp(cfg) ? " " BOOT_ROOT_PARAMS_9P " " BOOT_ROOT_PARAMS_DHCP :
						 " " BOOT_ROOT_PARAMS_9P;
	}
	return cfg->nr_disks ? " " BOOT_ROOT_PARAMS_DISK : "";
}

static char *boot__cmdline(const struct lkvm_config *cfg)
{
	const char *console = cfg->nodefaults ? "" :
			      cfg->console == CONSOLE_VIRTIO ? BOOT_DEFAULT_PARAMS_VIRTIO :
			      BOOT_DEFAULT_PARAMS;
	const char *root = cfg->nodefaults ? "" : boot__root(cfg);
	const char *params = cfg->params ? cfg->params : "";
	size_t len = strlen(console) + strlen(root) + strlen(params) + 2;
	char *s = malloc(len);

	if (s)
		snprintf(s, len, "%s%s%s%s", console, root, *console && *params ? " " : "", params);
	return s;
}

static int boot__dump_dtb(const char *path, const void *fdt)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	int err;

	if (fd < 0) {
		err = -errno;
		pr_err("--dump-dtb %s: %s", path, strerror(-err));
		return err;
	}
	err = write_all(fd, fdt, fdt_totalsize(fdt));
	if (close(fd) && !err)
		err = -errno;
	if (err)
		pr_err("--dump-dtb %s: %s", path, strerror(-err));
	return err;
}

static int boot__fdt(struct kvm *kvm, const struct boot_layout *l)
{
	u64 *mpidrs = calloc(kvm->nr_cpus, sizeof(*mpidrs));
	void *fdt = kvm->ram + (l->fdt_addr - LKVM_RAM_BASE);
	char *cmdline = boot__cmdline(kvm->cfg);
	struct fdt_desc d = {
		.ram_base = LKVM_RAM_BASE, .ram_size = kvm->ram_size,
		.nr_cpus = kvm->nr_cpus, .mpidrs = mpidrs,
		.gic_version = kvm->gic, .psci_method = kvm->cfg->psci_conduit == CONDUIT_SMC ? "smc" : "hvc",
		.bootargs = cmdline,
		/* earlycon's, even when console=hvc0 */
		.stdout_path = kvm->serial ? "/uart@1000000" : NULL,
		.initrd_start = l->initrd_addr, .initrd_end = l->initrd_end,
		.rng_seed = kvm->rng_seed, .rng_seed_size = sizeof(kvm->rng_seed),
		.gens = kvm->fdt_gens, .nr_gens = kvm->nr_fdt_gens,
	};
	int err = -ENOMEM;

	if (!mpidrs || !cmdline) {
		pr_err("device tree: out of memory");
		goto out;
	}
	for (unsigned int i = 0; i < kvm->nr_cpus; i++)
		mpidrs[i] = kvm->cpus[i]->mpidr;
	err = random__fill(&kvm->kaslr_seed, sizeof(kvm->kaslr_seed));
	if (!err)
		err = random__fill(kvm->rng_seed, sizeof(kvm->rng_seed));
	if (err) {
		pr_err("getrandom: %s", strerror(-err));
		goto out;
	}
	d.kaslr_seed = kvm->kaslr_seed;
	err = fdt__build(&d, fdt, LKVM_FDT_MAX_SIZE);
	if (err) {
		pr_err("device tree: cannot build it: %s", fdt_strerror(err));
		goto out;
	}
	if (kvm->cfg->dump_dtb)
		err = boot__dump_dtb(kvm->cfg->dump_dtb, fdt);
out:
	free(cmdline);
	free(mpidrs);
	return err;
}

int boot__setup(struct kvm *kvm)
{
	const struct guest_images *img = kvm->images;
	struct boot_layout l;
	int err = boot__layout(img, LKVM_RAM_BASE, kvm->ram_size, LKVM_FDT_MAX_SIZE, &l);

	if (err)
		return err;
	memcpy(kvm->ram + (l.kernel_addr - LKVM_RAM_BASE), img->kernel.data, img->kernel.size);
	if (img->initrd)
		memcpy(kvm->ram + (l.initrd_addr - LKVM_RAM_BASE), img->initrd, img->initrd_size);
	err = boot__fdt(kvm, &l);
	if (!err)
		err = kvm_cpu__set_boot_regs(kvm->cpus[0], l.kernel_addr, l.fdt_addr);
	return err;
}
