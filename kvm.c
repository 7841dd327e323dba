/* VM lifecycle: KVM handles, guest RAM, vCPUs, the parts that register themselves, the run loop. */
#include "lkvm/kvm.h"
#include "lkvm/boot.h"
#include "lkvm/hugetlbfs.h"
#include "lkvm/init.h"
#include "lkvm/kvm-cpu.h"
#include "lkvm/memory-map.h"
#include "lkvm/term.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#define KVM_DEVICE	"/dev/kvm"
#define DEFAULT_IPA_BITS 40	/* what KVM gives a VM of type 0 */

static const struct { long cap; const char *name; } required_caps[] = {
	{ KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY" },
	{ KVM_CAP_ONE_REG, "KVM_CAP_ONE_REG" },
	{ KVM_CAP_IRQCHIP, "KVM_CAP_IRQCHIP" },
	{ KVM_CAP_DEVICE_CTRL, "KVM_CAP_DEVICE_CTRL" },
	{ KVM_CAP_ARM_PSCI_0_2, "KVM_CAP_ARM_PSCI_0_2" },
	{ KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT" },
};

static int kvm__open(struct kvm *kvm)
{
	int version;

	kvm->sys_fd = open(KVM_DEVICE, O_RDWR | O_CLOEXEC);
	if (kvm->sys_fd < 0) {
		int err = -errno;

		pr_err("%s: cannot open: %s%s", KVM_DEVICE, strerror(errno),
		       errno == ENOENT ? " (this host has no KVM: is it enabled in its kernel?)" : "");
		return err;
	}
	version = ioctl(kvm->sys_fd, KVM_GET_API_VERSION, 0);
	if (version != KVM_API_VERSION) {
		pr_err("%s: not a usable KVM device (API version %d, need %d)", KVM_DEVICE,
		       version, KVM_API_VERSION);
		return -ENODEV;
	}
	for (size_t i = 0; i < ARRAY_SIZE(required_caps); i++) {
		if (ioctl(kvm->sys_fd, KVM_CHECK_EXTENSION, required_caps[i].cap) <= 0) {
			pr_err("%s: the host's KVM lacks %s, which lkvm needs", KVM_DEVICE,
			       required_caps[i].name);
			return -ENODEV;
		}
	}
	return 0;
}

static int kvm__check_cpus(struct kvm *kvm)
{
	int max = ioctl(kvm->sys_fd, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS);

	if (max <= 0)
		max = ioctl(kvm->sys_fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_VCPUS);
	if (max <= 0)
		max = 4;	/* the API's documented floor */
	if (max > LKVM_MAX_CPUS)
		max = LKVM_MAX_CPUS;
	if (kvm->nr_cpus > (unsigned int)max) {
		pr_err("-c %u: more vCPUs than this host's KVM allows (at most %d)", kvm->nr_cpus, max);
		return -EINVAL;
	}
	return 0;
}

/* Chooses the VM type: the guest physical address size that RAM's top needs. */
static int kvm__vm_type(struct kvm *kvm, unsigned long *type)
{
	u64 top = LKVM_RAM_BASE + kvm->ram_size;
	int bits = 32, max;
	char a[32], b[32];

	while (bits < 64 && top > (1ULL << bits))
		bits++;
	*type = 0;
	if (bits <= DEFAULT_IPA_BITS)
		return 0;
	max = ioctl(kvm->sys_fd, KVM_CHECK_EXTENSION, KVM_CAP_ARM_VM_IPA_SIZE);
	if (max <= 0)
		max = DEFAULT_IPA_BITS;
	if (bits > max) {
		pr_err("-m %s: too large: this host's KVM gives guests %d-bit physical addresses, "
		       "room for at most %s of RAM", size_str(kvm->ram_size, a, sizeof(a)), max,
		       size_str((1ULL << max) - LKVM_RAM_BASE, b, sizeof(b)));
		return -E2BIG;
	}
	*type = KVM_VM_TYPE_ARM_IPA_SIZE(bits);
	return 0;
}

/* Guest RAM is only reserved, not committed, but more than the host has can never be backed. */
static int kvm__check_ram(struct kvm *kvm)
{
	long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
	u64 host = pages > 0 && page > 0 ? (u64)pages * (u64)page : 0;
	char a[32], b[32];

	if (host && kvm->ram_size > host) {
		pr_err("-m %s: too large: more than the host's memory (%s)",
		       size_str(kvm->ram_size, a, sizeof(a)), size_str(ALIGN_DOWN(host, SZ_1M), b, sizeof(b)));
		return -E2BIG;
	}
	return 0;
}

static int kvm__map_anon_ram(struct kvm *kvm)
{
	/* Over-map by 2M so RAM can start 2M-aligned and use transparent huge pages. */
	kvm->ram_map_size = kvm->ram_size + SZ_2M;
	kvm->ram_map = mmap(NULL, kvm->ram_map_size, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (kvm->ram_map == MAP_FAILED) {
		kvm->ram_map = NULL;
		pr_err("guest RAM: cannot map %llu MiB: %s",
		       (unsigned long long)(kvm->ram_size >> 20), strerror(errno));
		return -ENOMEM;
	}
	kvm->ram = (u8 *)(uintptr_t)ALIGN_UP((uintptr_t)kvm->ram_map, SZ_2M);
	madvise(kvm->ram, kvm->ram_size, MADV_HUGEPAGE);
	return 0;
}

/* Huge pages are naturally aligned: RAM is the whole mapping. */
static int kvm__map_hugetlbfs_ram(struct kvm *kvm)
{
	kvm->ram_map = hugetlbfs__map(kvm->cfg->hugetlbfs, kvm->ram_size);
	if (!kvm->ram_map)
		return -ENOMEM;
	kvm->ram_map_size = kvm->ram_size;
	kvm->ram = kvm->ram_map;
	return 0;
}

static int kvm__setup_ram(struct kvm *kvm)
{
	struct kvm_userspace_memory_region region;
	int err;

	err = kvm->cfg->hugetlbfs ? kvm__map_hugetlbfs_ram(kvm) : kvm__map_anon_ram(kvm);
	if (err)
		return err;
	region = (struct kvm_userspace_memory_region){
		.slot = 0,
		.guest_phys_addr = LKVM_RAM_BASE,
		.memory_size = kvm->ram_size,
		.userspace_addr = (u64)(uintptr_t)kvm->ram,
	};
	if (ioctl(kvm->vm_fd, KVM_SET_USER_MEMORY_REGION, &region)) {
		err = -errno;
		pr_err("guest RAM: KVM refused it: %s", strerror(-err));
		return err;
	}
	return 0;
}

static int kvm__create_cpus(struct kvm *kvm)
{
	kvm->cpus = calloc(kvm->nr_cpus, sizeof(*kvm->cpus));
	if (!kvm->cpus) {
		pr_err("vCPUs: out of memory");
		return -ENOMEM;
	}
	for (unsigned int i = 0; i < kvm->nr_cpus; i++) {
		int err = kvm_cpu__create(kvm, i, &kvm->cpus[i]);

		if (err)
			return err;
	}
	return 0;
}

static int kvm__create_vm(struct kvm *kvm)
{
	unsigned long type;
	int run_size, err = kvm__check_cpus(kvm);

	if (!err)
		err = kvm__check_ram(kvm);
	if (!err)
		err = kvm__vm_type(kvm, &type);
	if (err)
		return err;
	kvm->vm_fd = ioctl(kvm->sys_fd, KVM_CREATE_VM, type);
	if (kvm->vm_fd < 0) {
		err = -errno;
		pr_err("%s: cannot create a VM: %s", KVM_DEVICE, strerror(-err));
		return err;
	}
	run_size = ioctl(kvm->sys_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (run_size < (int)sizeof(struct kvm_run)) {
		err = run_size < 0 ? -errno : -EINVAL;
		pr_err("%s: no usable vCPU run area size (%d): %s", KVM_DEVICE, run_size,
		       strerror(-err));
		return err;
	}
	kvm->run_size = (size_t)run_size;
	kvm->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (kvm->stop_fd < 0) {
		err = -errno;
		pr_err("eventfd: %s", strerror(-err));
		return err;
	}
	err = kvm__setup_ram(kvm);
	if (!err)
		err = kvm__create_cpus(kvm);
	return err;
}

int kvm__create(struct kvm *kvm, const struct vm_context *ctx)
{
	int err;

	memset(kvm, 0, sizeof(*kvm));
	kvm->cfg = ctx->cfg;
	kvm->images = ctx->images;
	kvm->term = ctx->term;
	kvm->plan = ctx->plan;
	kvm->ctl = ctx->ctl;
	kvm->deadline_ns = ctx->deadline_ns;
	kvm->nr_cpus = ctx->cfg->nr_cpus;
	kvm->ram_size = ctx->cfg->ram_size;
	kvm->sys_fd = kvm->vm_fd = kvm->stop_fd = kvm->gic_fd = -1;
	pthread_mutex_init(&kvm->pause_lock, NULL);
	pthread_cond_init(&kvm->pause_cond, NULL);

	err = kvm__open(kvm);
	if (!err)
		err = kvm__create_vm(kvm);
	if (!err)
		err = init__run(kvm, &kvm->init);
	/*
	 * The guest's files are opened only now, as kvmtool does: what the host cannot provide (a
	 * GIC model, the SMCCC filter...) is reported before a kernel that cannot be opened, which
	 * is how the kvm-unit-tests runner tells a test it must skip from one it can run.
	 */
	if (!err && !kvm->images->opened)
		err = guest_images__open(kvm->images, kvm->cfg->kernel_path, kvm->cfg->initrd_path,
					 kvm->cfg->firmware_path);
	if (!err)
		err = guest_images__read(kvm->images, kvm->ram_size);
	if (!err)
		err = boot__setup(kvm);
	/* In guest RAM now: a second copy would only add to lkvm's footprint. */
	guest_images__drop(kvm->images);
	if (err)
		kvm__destroy(kvm);
	return err;
}

void kvm__destroy(struct kvm *kvm)
{
	init__exit(kvm, &kvm->init);
	for (unsigned int i = 0; kvm->cpus && i < kvm->nr_cpus; i++) {
		if (kvm->cpus[i])
			kvm_cpu__destroy(kvm->cpus[i]);
	}
	free(kvm->cpus);
	kvm->cpus = NULL;
	if (kvm->ram_map)
		munmap(kvm->ram_map, kvm->ram_map_size);
	kvm->ram_map = NULL;
	if (kvm->stop_fd >= 0)
		close(kvm->stop_fd);
	if (kvm->vm_fd >= 0)
		close(kvm->vm_fd);
	if (kvm->sys_fd >= 0)
		close(kvm->sys_fd);
	kvm->stop_fd = kvm->vm_fd = kvm->sys_fd = -1;
	pthread_cond_destroy(&kvm->pause_cond);
	pthread_mutex_destroy(&kvm->pause_lock);
}

void kvm__pause(struct kvm *kvm, bool pause)
{
	pthread_mutex_lock(&kvm->pause_lock);
	kvm->paused = pause;
	pthread_cond_broadcast(&kvm->pause_cond);
	pthread_mutex_unlock(&kvm->pause_lock);
	if (pause) {
		for (unsigned int i = 0; i < kvm->nr_cpus; i++)
			kvm_cpu__kick(kvm->cpus[i]);
	}
}

void kvm__wait_unpaused(struct kvm *kvm)
{
	pthread_mutex_lock(&kvm->pause_lock);
	while (kvm->paused && !kvm__stopping(kvm))
		pthread_cond_wait(&kvm->pause_cond, &kvm->pause_lock);
	pthread_mutex_unlock(&kvm->pause_lock);
}

void kvm__request_stop(struct kvm *kvm, enum vm_stop why)
{
	int expected = VM_RUNNING;
	u64 one = 1;

	if (atomic_compare_exchange_strong(&kvm->stop_reason, &expected, (int)why))
		write_all(kvm->stop_fd, &one, sizeof(one));
}

void kvm__post_vm_event(struct kvm *kvm, struct vm_event *ev)
{
	struct timespec ts;

	if (!kvm->ctl)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	ev->time_ns = (u64)ts.tv_sec * 1000000000ULL + (u64)ts.tv_nsec;
	kvm->ctl->event(kvm->ctl, ev);
}

void kvm__post_event(struct kvm *kvm, enum vm_event_type type, unsigned int vcpu,
		     unsigned int target)
{
	struct vm_event ev = { .type = type, .vcpu = vcpu, .target = target };

	kvm__post_vm_event(kvm, &ev);
}

int kvm__add_fdt_gen(struct kvm *kvm, const struct fdt_node_gen *gen)
{
	if (kvm->nr_fdt_gens == ARRAY_SIZE(kvm->fdt_gens))
		return -ENOSPC;
	kvm->fdt_gens[kvm->nr_fdt_gens++] = gen;
	return 0;
}

int kvm__add_acpi_gen(struct kvm *kvm, const struct acpi_gen *gen)
{
	if (kvm->nr_acpi_gens == ARRAY_SIZE(kvm->acpi_gens))
		return -ENOSPC;
	kvm->acpi_gens[kvm->nr_acpi_gens++] = gen;
	return 0;
}

/* A device that cannot interrupt its guest is broken: the VM stops, saying why. */
int kvm__irq_line(struct kvm *kvm, unsigned int spi, int level)
{
	struct kvm_irq_level irq = {
		.irq = (KVM_ARM_IRQ_TYPE_SPI << KVM_ARM_IRQ_TYPE_SHIFT) | (32 + spi),
		.level = (u32)level,
	};
	int err;

	if (kvm->vm_fd < 0)
		return 0;	/* a VM without KVM: the unit tests' */
	if (!ioctl(kvm->vm_fd, KVM_IRQ_LINE, &irq))
		return 0;
	err = -errno;
	pr_err("SPI %u: KVM cannot set its level: %s", spi, strerror(-err));
	kvm__request_stop(kvm, VM_STOP_ERROR);
	return err;
}

/* How long poll may sleep: until --timeout's deadline, and briefly when input must wait. */
static int kvm__poll_timeout(struct kvm *kvm, bool want_input)
{
	int ms = want_input || kvm->term->in_eof ? -1 : 10;
	u64 now;

	if (!kvm->deadline_ns)
		return ms;
	now = clock__now_ns();
	if (now >= kvm->deadline_ns) {
		kvm__request_stop(kvm, VM_STOP_TIMEOUT);
		return 0;
	}
	if (ms < 0 || (kvm->deadline_ns - now) / 1000000 < (u64)ms)
		ms = (int)((kvm->deadline_ns - now) / 1000000) + 1;
	return ms;
}

/* Waits in the main thread for a stop reason, a signal, console input or a control request. */
static void kvm__main_loop(struct kvm *kvm, int sig_fd)
{
	while (!kvm__stopping(kvm)) {
		struct pollfd fds[3 + VM_CONTROL_MAX_FDS] = {
			{ .fd = kvm->stop_fd, .events = POLLIN },
			{ .fd = sig_fd, .events = POLLIN },
			{ .fd = kvm->term->in_fd, .events = POLLIN },
		};
		bool want_input = term__wants_input(kvm->term);
		unsigned int nctl = kvm->ctl ? kvm->ctl->pollfds(kvm->ctl, fds + 3, VM_CONTROL_MAX_FDS) : 0;
		int n;

		/* stdin's slot is ignored (negative fd) while the guest cannot take input. */
		if (!want_input)
			fds[2].fd = -1;
		n = poll(fds, 3 + nctl, kvm__poll_timeout(kvm, want_input));

		if (n < 0 && errno != EINTR) {
			pr_err("poll: %s", strerror(errno));
			kvm__request_stop(kvm, VM_STOP_ERROR);
		}
		if (n <= 0)
			continue;
		if (fds[1].revents & POLLIN) {
			struct signalfd_siginfo si;

			if (read(sig_fd, &si, sizeof(si)) == sizeof(si)) {
				kvm->stop_signal = (int)si.ssi_signo;
				kvm__request_stop(kvm, VM_STOP_SIGNAL);
			}
		}
		if (want_input && (fds[2].revents & (POLLIN | POLLHUP | POLLERR)) &&
		    term__handle_input(kvm->term)) {
			kvm->stop_signal = SIGINT;	/* Ctrl-A x: as if interrupted */
			kvm__request_stop(kvm, VM_STOP_SIGNAL);
		}
		if (nctl)
			kvm->ctl->handle(kvm->ctl, kvm, fds + 3, nctl);
	}
}

enum vm_stop kvm__run(struct kvm *kvm, int sig_fd)
{
	int err = 0;

	for (unsigned int i = 0; i < kvm->nr_cpus && !err; i++)
		err = kvm_cpu__start(kvm->cpus[i]);
	if (err)
		kvm__request_stop(kvm, VM_STOP_ERROR);
	kvm__main_loop(kvm, sig_fd);
	if (kvm->power)
		kvm->power->stop(kvm);
	kvm__pause(kvm, false);
	for (unsigned int i = 0; i < kvm->nr_cpus; i++)
		kvm_cpu__kick(kvm->cpus[i]);
	for (unsigned int i = 0; i < kvm->nr_cpus; i++)
		kvm_cpu__join(kvm->cpus[i]);
	return (enum vm_stop)atomic_load(&kvm->stop_reason);
}
