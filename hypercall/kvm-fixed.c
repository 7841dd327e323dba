/*
 * The calls KVM answers itself whatever lkvm's options: listed, and kept from --smccc, never
 * forwarded.
 */
#include "lkvm/firmware.h"

#define ARCH_FN(n)	SMCCC_ID(SMCCC_OWNER_ARCH, n)
#define VENDOR_FN(n)	SMCCC_ID(SMCCC_OWNER_VENDOR_HYP, n)

static const struct fw_decl kvm_ranges[] = {
	/* SMCCC_VERSION, SMCCC_ARCH_FEATURES, the workarounds: the filter cannot take them. */
	{ ARCH_FN(0), ARCH_FN(0xffff), "Arm architecture calls (always KVM's)", .fn64 = true },
	/* Function numbers 0-127 of the vendor hypervisor owner: its features, ptp_kvm. */
	{ VENDOR_FN(0), VENDOR_FN(0x7f), "KVM's vendor hypervisor services", .fn64 = true },
	{ VENDOR_FN(0xff00), VENDOR_FN(0xffff), "KVM's vendor hypervisor UID and count", .fn64 = true },
};

static const struct fw_service kvm_fixed = {
	.name = "KVM",
	.ranges = kvm_ranges, .nr_ranges = ARRAY_SIZE(kvm_ranges),
	.owner = FW_KVM,
};
firmware_service(kvm_fixed)
