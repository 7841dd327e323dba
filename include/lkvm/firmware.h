/*
 * Firmware-call services and where each call (SMCCC function ID) goes for a given configuration:
 * KVM, one of lkvm's services, or KVM's NOT_SUPPORTED. Each service declares its ranges once, in
 * its own file, and registers itself with firmware_service(); `--list-firmware-calls`, the
 * `--smccc` overlap check and (hypercall.h) the SMCCC filter and the dispatcher are all derived
 * from those declarations. Pure: no KVM.
 */
#ifndef LKVM_FIRMWARE_H
#define LKVM_FIRMWARE_H

#include "lkvm/config.h"
#include "lkvm/smccc.h"

struct kvm;
struct kvm_cpu;
struct hc_call;
struct fw_service;

/* Who answers a range; FW_ABSENT: nobody lists it under this configuration. */
enum fw_owner { FW_KVM, FW_LKVM, FW_DENIED, FW_ABSENT };

/* A range as a service declares it. */
struct fw_decl {
	u32 first, last;
	const char *what;	/* in the listing and the overlap check's errors */
	bool fn64;		/* the same function numbers also as 64-bit calls: its SMCCC_FN64 twin */
	/*
	 * KVM denies it while lkvm answers the service, and it is not listed otherwise: IDs that
	 * KVM would still answer on its own once lkvm took the service over.
	 */
	bool deny_if_lkvm;
};

/* A range as a configuration routes it. */
struct fw_range {
	u32 first, last;
	enum fw_owner owner;
	const char *what;
	const struct fw_service *svc;	/* set by firmware__ranges */
};

/* One firmware service: a static const in its own file, then firmware_service(it). */
struct fw_service {
	const char *name;		/* for messages: the option that turns it on */
	const struct fw_decl *ranges;
	unsigned int nr_ranges;
	/* Who answers the declared ranges under cfg; NULL: always owner. */
	enum fw_owner (*route)(const struct lkvm_config *cfg);
	enum fw_owner owner;
	/*
	 * Ranges that come from the configuration (--smccc), each with its owner; may be NULL.
	 * Returns how many there are, writing at most max of them.
	 */
	unsigned int (*config_ranges)(const struct lkvm_config *cfg, struct fw_range *out,
				      unsigned int max);
	/* With a range lkvm answers: the argument registers (x1..xN) the call needs. */
	unsigned int (*nr_args)(u32 fid);
	/* Handles the call; returns how many of res[0..3] to write back, 0 if it does not return. */
	unsigned int (*call)(struct kvm_cpu *cpu, struct hc_call *call);
	/* Set up and torn down with each VM in which lkvm answers some of its ranges; may be NULL. */
	int (*init)(struct kvm *kvm);
	void (*exit)(struct kvm *kvm);
	/* Without KVM's SMCCC filter the service is quietly absent, instead of an error. */
	bool optional;
};

struct fw_registration {
	const struct fw_service *svc;
	struct fw_registration *next;
};

void firmware__register(struct fw_registration *reg);
/* Every registered service, in registration (link) order. */
const struct fw_registration *firmware__services(void);

/* Like dev_init (init.h): the service's file is all it takes; constructors run before main(). */
#define firmware_service(service)						\
	static struct fw_registration fw_registration_##service = { .svc = &service };	\
	__attribute__((constructor)) static void fw_register_##service(void)	\
	{									\
		firmware__register(&fw_registration_##service);		\
	}

/* Enough for every service's ranges with MAX_SMCCC_RULES rules; firmware__check_rules checks. */
#define FW_MAX_RANGES	64

/*
 * The ranges cfg routes to someone, in ID order: returns how many there are, writing at most
 * max of them (sorted among themselves).
 */
unsigned int firmware__ranges(const struct lkvm_config *cfg, struct fw_range *out,
			      unsigned int max);
/*
 * Parses one --smccc FID[-FID]:ACTION. Returns 0, or -EINVAL with why set.
 */
int firmware__parse_rule(const char *spec, struct smccc_rule *rule, const char **why);
/*
 * Checks cfg's --smccc rules against each other and every service's ranges (call it once every
 * other option is known). Returns 0, or -EINVAL with why set.
 */
int firmware__check_rules(const struct lkvm_config *cfg, char *why, size_t len);
/* Prints the routing table, for --list-firmware-calls. */
void firmware__print(const struct lkvm_config *cfg);

#endif
