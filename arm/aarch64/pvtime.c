/*
 * Stolen time (Arm DEN0057 PV_TIME), on by default as in kvmtool (--no-pvtime): KVM keeps each
 * vCPU's structure in a small memory region of lkvm's and answers the guest's PV_TIME calls.
 */
#include "lkvm/firmware.h"
#include "lkvm/init.h"
#include "lkvm/kvm-cpu.h"
#include "lkvm/kvm.h"
#include "lkvm/memory-map.h"

#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#define PV_TIME_FN(n)	(SMCCC_ID(SMCCC_OWNER_STANDARD_HYP, n) | SMCCC_FN64)

/* The region's host memory: one VM at a time has it (a reset makes the next). */
static void *pvtime_mem;

static int pvtime__slot(struct kvm *kvm, u64 size)
{
	struct kvm_userspace_memory_region region = {
		.slot = LKVM_PVTIME_SLOT, .guest_phys_addr = LKVM_PVTIME_BASE,
		.memory_size = size, .userspace_addr = (u64)(uintptr_t)pvtime_mem,
	};

	return ioctl(kvm->vm_fd, KVM_SET_USER_MEMORY_REGION, &region) ? -errno : 0;
}

static void pvtime__exit(struct kvm *kvm)
{
	if (!pvtime_mem)
		return;
	pvtime__slot(kvm, 0);
	munmap(pvtime_mem, LKVM_PVTIME_SIZE);
	pvtime_mem = NULL;
}

static int pvtime__set_ipa(struct kvm_cpu *cpu)
{
	u64 ipa = LKVM_PVTIME_BASE + cpu->id * LKVM_PVTIME_STRUCT_SIZE;
	struct kvm_device_attr attr = {
		.group = KVM_ARM_VCPU_PVTIME_CTRL, .attr = KVM_ARM_VCPU_PVTIME_IPA,
		.addr = (u64)(uintptr_t)&ipa,
	};

	return ioctl(cpu->fd, KVM_SET_DEVICE_ATTR, &attr) ? -errno : 0;
}

/* Without KVM_CAP_STEAL_TIME the guest simply has no stolen time, as in kvmtool. */
static int pvtime__init(struct kvm *kvm)
{
	int err;

	/* PV_TIME is SMC64 only: a 32-bit guest cannot call it. */
	if (kvm->cfg->no_pvtime || kvm->cfg->aarch32 ||
	    ioctl(kvm->vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_STEAL_TIME) <= 0)
		return 0;
	pvtime_mem = mmap(NULL, LKVM_PVTIME_SIZE, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (pvtime_mem == MAP_FAILED) {
		err = -errno;
		pvtime_mem = NULL;
		pr_err("stolen time: cannot map its region: %s (--no-pvtime does without)",
		       strerror(-err));
		return err;
	}
	err = pvtime__slot(kvm, LKVM_PVTIME_SIZE);
	for (unsigned int i = 0; i < kvm->nr_cpus && !err; i++)
		err = pvtime__set_ipa(kvm->cpus[i]);
	if (err) {
		pr_err("stolen time: KVM cannot set it up: %s (--no-pvtime does without)",
		       strerror(-err));
		pvtime__exit(kvm);
	}
	return err;
}
base_init(pvtime__init, pvtime__exit)

/*
 * KVM answers PV_TIME_FEATURES and PV_TIME_ST itself (NOT_SUPPORTED with --no-pvtime): listed
 * by --list-firmware-calls, and kept from --smccc, which would take them from KVM.
 */
static const struct fw_decl pvtime_ranges[] = {
	{ .first = PV_TIME_FN(0x20), .last = PV_TIME_FN(0x21),
	  .what = "PV_TIME_FEATURES, PV_TIME_ST (stolen time)" },
};

static const struct fw_service pvtime_calls = {
	.name = "stolen time",
	.ranges = pvtime_ranges, .nr_ranges = ARRAY_SIZE(pvtime_ranges),
	.owner = FW_KVM,
};
firmware_service(pvtime_calls)
