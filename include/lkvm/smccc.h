/*
 * SMCCC (Arm DEN0028) function IDs and return codes, once for every firmware service of lkvm.
 * A function ID: bit 31 fast call, bit 30 64-bit call, [29:24] owner, [15:0] function number.
 * KVM-free, like psci/psci.c that uses it.
 */
#ifndef LKVM_SMCCC_H
#define LKVM_SMCCC_H

#include "lkvm/util.h"

#define SMCCC_FAST_CALL		(1U << 31)
#define SMCCC_FN64		(1U << 30)	/* SMC64/HVC64: 64-bit arguments and results */
#define SMCCC_OWNER_SHIFT	24
#define SMCCC_FN_MASK		0xffffU		/* the function number */

enum smccc_owner {
	SMCCC_OWNER_ARCH = 0,
	SMCCC_OWNER_CPU = 1,
	SMCCC_OWNER_SIP = 2,
	SMCCC_OWNER_OEM = 3,
	SMCCC_OWNER_STANDARD = 4,	/* PSCI, SDEI, TRNG */
	SMCCC_OWNER_STANDARD_HYP = 5,
	SMCCC_OWNER_VENDOR_HYP = 6,	/* KVM's services, then lkvm's own calls */
};

/* The 32-bit fast-call ID of function n of owner; | SMCCC_FN64 makes its 64-bit twin. */
#define SMCCC_ID(owner, n)	(SMCCC_FAST_CALL | (u32)(owner) << SMCCC_OWNER_SHIFT | (u32)(n))

#define SMCCC_VERSION		SMCCC_ID(SMCCC_OWNER_ARCH, 0)

/*
 * Return codes in x0, sign-extended (an SMC32 call sees w0). PSCI's are in <linux/psci.h> as
 * ints: SMCCC_RET() turns one into x0. TRNG calls -3 NO_ENTROPY.
 */
#define SMCCC_RET(code)			((u64)(s64)(code))
#define SMCCC_RET_NOT_SUPPORTED		SMCCC_RET(-1)
#define SMCCC_RET_INVALID_PARAMETERS	SMCCC_RET(-2)
#define SMCCC_RET_DENIED		SMCCC_RET(-3)
#define SMCCC_RET_INVALID_ADDRESS	SMCCC_RET(-9)

#endif
