/*
 * Where each firmware call (SMCCC function ID) goes for a given configuration: KVM, one of
 * lkvm's services, or KVM's NOT_SUPPORTED. One table serves `--smccc` validation,
 * `--list-firmware-calls` and, through the services' own ranges, the SMCCC filter. Pure: no KVM.
 */
#ifndef LKVM_FIRMWARE_H
#define LKVM_FIRMWARE_H

#include "lkvm/config.h"

enum fw_owner { FW_KVM, FW_LKVM, FW_DENIED };

struct fw_range {
	u32 first, last;
	enum fw_owner owner;
	const char *what;
};

/* The 32- and 64-bit ranges in use for cfg, in ID order; returns how many (at most max). */
unsigned int firmware__ranges(const struct lkvm_config *cfg, struct fw_range *out, unsigned int max);
/*
 * Parses one --smccc FID[-FID]:ACTION and checks it against cfg's rules and services (call it once
 * every other option is known). Returns 0, or -EINVAL with why set.
 */
int firmware__parse_rule(const char *spec, struct smccc_rule *rule, const char **why);
int firmware__check_rules(const struct lkvm_config *cfg, char *why, size_t len);
/* Prints the routing table, for --list-firmware-calls. */
void firmware__print(const struct lkvm_config *cfg);

#endif
