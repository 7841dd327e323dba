#include "lkvm/acpi.h"
#include "lkvm/acpi-cpuhp.h"
#include "lkvm/hotplug.h"
#include "lkvm/boot.h"
#include "lkvm/kvm-cpu.h"
#include "lkvm/kvm.h"
#include "lkvm/memory-map.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
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

/* Whether the kernel's part of params (before "--") has the word quiet. */
static bool boot__quiet(const char *params)
{
	size_t n;

	for (const char *w = params; *(w += strspn(w, " ")); w += n) {
		n = strcspn(w, " ");
		if (n == 2 && !strncmp(w, "--", 2))
			break;
		if (n == 5 && !strncmp(w, "quiet", 5))
			return true;
	}
	return false;
}

static char *boot__cmdline(const struct lkvm_config *cfg)
{
	const char *params = cfg->params ? cfg->params : "";
	const char *console = cfg->nodefaults ? "" :
			      cfg->console == CONSOLE_VIRTIO ? BOOT_DEFAULT_PARAMS_VIRTIO :
			      BOOT_DEFAULT_PARAMS;
	const char *early = cfg->nodefaults || boot__quiet(params) ? "" : " " BOOT_EARLYCON;
	const char *root = cfg->nodefaults ? "" : boot__root(cfg);
	size_t len = strlen(console) + strlen(early) + strlen(root) + strlen(params) + 2;
	char *s = malloc(len);

	if (s)
		snprintf(s, len, "%s%s%s%s%s", console, early, root, *console && *params ? " " : "",
			 params);
	return s;
}

static int boot__dump_dtb(const char *path, const void *fdt)
{
	int fd = file__create(path, 0644, 0);
	int err;

	if (fd < 0) {
		pr_err("--dump-dtb %s: %s", path, file__create_strerror(fd));
		return fd;
	}
	err = write_all(fd, fdt, fdt_totalsize(fdt));
	if (close(fd) && !err)
		err = -errno;
	if (err)
		pr_err("--dump-dtb %s: %s", path, strerror(-err));
	return err;
}

/*
 * --acpi: the tables and EFI stub go in the DTB's 2M block, after the stub tree's
 * LKVM_ACPI_FDT_SIZE (memory-map.h); /chosen points Linux at them.
 */
static int boot__acpi(struct kvm *kvm, const struct boot_layout *l, const u64 *mpidrs,
		      struct fdt_uefi *uefi)
{
	u64 region = l->fdt_addr + LKVM_ACPI_FDT_SIZE;
	u8 *buf = kvm->ram + (region - LKVM_RAM_BASE);
	struct acpi_desc d = {
		.ram_base = LKVM_RAM_BASE, .ram_size = kvm->ram_size,
		.nr_cpus = kvm->nr_cpus, .mpidrs = mpidrs,
		.gic_version = kvm->gic, .its = kvm->its,
		.psci_hvc = kvm->cfg->psci_conduit == CONDUIT_HVC, .sdei = kvm->sdei != NULL,
		.gens = kvm->acpi_gens, .nr_gens = kvm->nr_acpi_gens,
		.cpu_aml = kvm->cpuhp ? acpi_cpuhp__cpu_aml : NULL,
	};
	struct acpi_image img;
	bool enabled[LKVM_MAX_CPUS];
	int err;

	/* vCPU hot-add: the MADT enables the vCPUs plugged as this boot starts. */
	if (kvm->cpuhp) {
		pthread_mutex_lock(&kvm->plan->lock);
		memcpy(enabled, kvm->plan->plugged, kvm->nr_cpus * sizeof(*enabled));
		pthread_mutex_unlock(&kvm->plan->lock);
		d.cpu_enabled = enabled;
	}
	err = acpi__build(&d, buf, region, LKVM_ACPI_SIZE, &img);
	if (err) {
		pr_err("ACPI tables: cannot build them: %s", strerror(-err));
		return err;
	}
	*uefi = (struct fdt_uefi){
		.system_table = img.efi_systab, .mmap_start = img.efi_mmap,
		.mmap_size = img.efi_mmap_size, .desc_size = img.efi_desc_size,
		.desc_ver = img.efi_desc_ver,
	};
	pr_debug("ACPI: RSDP at 0x%" PRIx64 ", EFI system table at 0x%" PRIx64, img.rsdp,
		 img.efi_systab);
	return kvm->cfg->dump_acpi ? acpi__dump(kvm->cfg->dump_acpi, buf, &img) : 0;
}

static int boot__fdt(struct kvm *kvm, const struct boot_layout *l)
{
	u64 *mpidrs = calloc(kvm->nr_cpus, sizeof(*mpidrs));
	void *fdt = kvm->ram + (l->fdt_addr - LKVM_RAM_BASE);
	char *cmdline = boot__cmdline(kvm->cfg);
	u64 fdt_max = kvm->cfg->acpi ? LKVM_ACPI_FDT_SIZE : LKVM_FDT_MAX_SIZE;
	struct fdt_uefi uefi;
	struct fdt_desc d = {
		.ram_base = LKVM_RAM_BASE, .ram_size = kvm->ram_size,
		.nr_cpus = kvm->nr_cpus, .mpidrs = mpidrs,
		.gic_version = kvm->gic, .psci_method = kvm->cfg->psci_conduit == CONDUIT_SMC ? "smc" : "hvc",
		.its = kvm->its, .sdei = kvm->sdei != NULL,
		.bootargs = cmdline,
		/* earlycon's, even when console=hvc0; the SPCR says it under --acpi */
		.stdout_path = kvm->serial && !kvm->cfg->acpi ? "/uart@1000000" : NULL,
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
	/* A --kaslr-seed repeats the guest kernel's layout; otherwise a new one per boot. */
	kvm->kaslr_seed = kvm->cfg->kaslr_seed;
	err = kvm->cfg->kaslr_seed_given ? 0 :
	      random__fill(&kvm->kaslr_seed, sizeof(kvm->kaslr_seed));
	if (!err)
		err = random__fill(kvm->rng_seed, sizeof(kvm->rng_seed));
	if (err) {
		pr_err("getrandom: %s", strerror(-err));
		goto out;
	}
	d.kaslr_seed = kvm->kaslr_seed;
	if (kvm->cfg->acpi) {
		err = boot__acpi(kvm, l, mpidrs, &uefi);
		if (err)
			goto out;
		d.uefi = &uefi;
	}
	/*
	 * libfdt zeroes the whole buffer it is given: start small, so that a DTB of a few KiB
	 * does not make lkvm touch (and keep resident) 2M of guest RAM.
	 */
	for (size_t size = SZ_64K;; size *= 2) {
		err = fdt__build(&d, fdt, size);
		if (err != -FDT_ERR_NOSPACE || size >= fdt_max)
			break;
	}
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

/* --aarch32: a 32-bit kernel (zImage) or raw binary goes at RAM + 0x8000, as in kvmtool. */
static int boot__layout32(const struct guest_images *img, u64 ram_size, struct boot_layout *l)
{
	struct guest_images a32 = *img;

	if (img->kernel.format != KERNEL_RAW) {
		pr_err("--aarch32: the kernel is an arm64 Image, not a 32-bit kernel");
		return -EINVAL;
	}
	a32.kernel.text_offset = LKVM_AARCH32_OFFSET;
	return boot__layout(&a32, LKVM_RAM_BASE, ram_size, LKVM_FDT_MAX_SIZE, l);
}

int boot__setup(struct kvm *kvm)
{
	const struct guest_images *img = kvm->images;
	struct boot_layout l = { 0 };
	int err = 0;

	if (img->kernel.data)
		err = kvm->cfg->aarch32 ? boot__layout32(img, kvm->ram_size, &l) :
		      boot__layout(img, LKVM_RAM_BASE, kvm->ram_size, LKVM_FDT_MAX_SIZE, &l);
	if (!err && img->firmware)
		err = boot__firmware_layout(img, kvm->cfg->firmware_addr, LKVM_RAM_BASE,
					    kvm->ram_size, LKVM_FDT_MAX_SIZE, &l);
	if (err)
		return err;
	if (img->kernel.data)
		memcpy(kvm->ram + (l.kernel_addr - LKVM_RAM_BASE), img->kernel.data, img->kernel.size);
	if (img->initrd)
		memcpy(kvm->ram + (l.initrd_addr - LKVM_RAM_BASE), img->initrd, img->initrd_size);
	if (img->firmware)
		memcpy(kvm->ram + (l.entry - LKVM_RAM_BASE), img->firmware, img->firmware_size);
	err = boot__fdt(kvm, &l);
	pr_debug("vCPU 0: entry 0x%" PRIx64 ", DTB at 0x%" PRIx64, l.entry, l.fdt_addr);
	if (!err)
		err = kvm_cpu__set_boot_regs(kvm->cpus[0], l.entry, l.fdt_addr);
	return err;
}
