/* TRNG (Arm DEN0098 1.0) in userspace, --trng=user; --trng=off has KVM deny the whole range. */
#include "lkvm/hypercall.h"
#include "lkvm/kvm-cpu.h"
#include "lkvm/kvm.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define TRNG_FN(n)		SMCCC_ID(SMCCC_OWNER_STANDARD, 0x50 + (n))
#define TRNG_VERSION_FN		TRNG_FN(0)
#define TRNG_FEATURES_FN	TRNG_FN(1)
#define TRNG_GET_UUID_FN	TRNG_FN(2)
#define TRNG_RND32_FN		TRNG_FN(3)
#define TRNG_RND64_FN		(TRNG_FN(3) | SMCCC_FN64)

/* lkvm's own TRNG UUID, 6c6b766d-7472-6e67-a31c-5e3b1d2f0a47: not KVM's. */
static const u32 trng_uuid[4] = { 0x6c6b766d, 0x74726e67, 0xa31c5e3b, 0x1d2f0a47 };

struct trng {
	pthread_mutex_t lock;
	bool seeded;
	u64 s[4];	/* xoshiro256** state, with --trng-seed */
};

static u64 rotl(u64 x, int k)
{
	return (x << k) | (x >> (64 - k));
}

/* xoshiro256**: fine for reproducible tests, which is all --trng-seed is for. */
static u64 trng__next(struct trng *t)
{
	u64 r = rotl(t->s[1] * 5, 7) * 9, x = t->s[1] << 17;

	t->s[2] ^= t->s[0];
	t->s[3] ^= t->s[1];
	t->s[1] ^= t->s[2];
	t->s[0] ^= t->s[3];
	t->s[2] ^= x;
	t->s[3] = rotl(t->s[3], 45);
	return r;
}

static void trng__seed(struct trng *t, const u8 *seed, size_t len)
{
	u64 z = 0x9e3779b97f4a7c15ULL * (len + 1);

	for (size_t i = 0; i < len; i++)
		z = (z ^ seed[i]) * 0x100000001b3ULL;
	/* SplitMix64 spreads the folded seed over the state. */
	for (int i = 0; i < 4; i++) {
		u64 v = (z += 0x9e3779b97f4a7c15ULL);

		v = (v ^ (v >> 30)) * 0xbf58476d1ce4e5b9ULL;
		v = (v ^ (v >> 27)) * 0x94d049bb133111ebULL;
		t->s[i] = v ^ (v >> 31);
	}
}

/* 192 bits of entropy, most significant word first. Returns false if the host has none. */
static bool trng__fill(struct trng *t, u64 r[3])
{
	if (t->seeded) {
		pthread_mutex_lock(&t->lock);
		for (int i = 0; i < 3; i++)
			r[i] = trng__next(t);
		pthread_mutex_unlock(&t->lock);
		return true;
	}
	return !random__fill(r, 3 * sizeof(u64));
}

/* Keeps the low `bits` bits of the 192-bit (or 96-bit) value in r[0..2], word size `w`. */
static void trng__mask(u64 r[3], unsigned int bits, unsigned int w)
{
	for (int i = 2; i >= 0; i--) {
		unsigned int lo = (unsigned int)(2 - i) * w;
		u64 mask = w == 64 ? ~0ULL : 0xffffffffULL;

		if (bits <= lo)
			r[i] = 0;
		else if (bits - lo < w)
			r[i] &= mask >> (w - (bits - lo));
		else
			r[i] &= mask;
	}
}

static unsigned int trng__rnd(struct kvm_cpu *cpu, struct hc_call *c, unsigned int max,
			      unsigned int w)
{
	struct trng *t = cpu->kvm->trng;
	u64 n = c->arg[1], r[3];

	if (n == 0 || n > max) {
		c->res[0] = SMCCC_RET_INVALID_PARAMETERS;
		return 4;	/* x1..x3 zeroed, as DEN0098 asks */
	}
	if (!trng__fill(t, r)) {
		c->res[0] = SMCCC_RET_DENIED;	/* TRNG's NO_ENTROPY */
		return 4;
	}
	trng__mask(r, (unsigned int)n, w);
	c->res[0] = 0;
	memcpy(&c->res[1], r, sizeof(r));
	return 4;
}

static unsigned int trng__call(struct kvm_cpu *cpu, struct hc_call *c)
{
	/* SMC32 arguments are 32 bits wide: what the guest left above them means nothing. */
	if (!(c->fid & SMCCC_FN64))
		c->arg[1] &= 0xffffffffULL;
	switch (c->fid) {
	case TRNG_VERSION_FN:
		c->res[0] = 0x10000;
		return 1;
	case TRNG_FEATURES_FN:
		c->res[0] = c->arg[1] >= TRNG_VERSION_FN && c->arg[1] <= TRNG_RND32_FN ? 0 :
			    c->arg[1] == TRNG_RND64_FN ? 0 : SMCCC_RET_NOT_SUPPORTED;
		return 1;
	case TRNG_GET_UUID_FN:
		for (int i = 0; i < 4; i++)
			c->res[i] = trng_uuid[i];
		return 4;
	case TRNG_RND32_FN:
		return trng__rnd(cpu, c, 96, 32);
	case TRNG_RND64_FN:
		return trng__rnd(cpu, c, 192, 64);
	default:
		c->res[0] = SMCCC_RET_NOT_SUPPORTED;
		return 1;
	}
}

static unsigned int trng__nr_args(u32 fid)
{
	return fid == TRNG_FEATURES_FN || fid == TRNG_RND32_FN || fid == TRNG_RND64_FN;
}

static void trng__exit(struct kvm *kvm)
{
	pthread_mutex_destroy(&kvm->trng->lock);
	free(kvm->trng);
	kvm->trng = NULL;
}

/* Set up only with --trng=user: its route is the only one that has lkvm answer. */
static int trng__init(struct kvm *kvm)
{
	const struct lkvm_config *cfg = kvm->cfg;
	struct trng *t = calloc(1, sizeof(*t));

	if (!t) {
		pr_err("--trng=user: out of memory");
		return -ENOMEM;
	}
	pthread_mutex_init(&t->lock, NULL);
	t->seeded = cfg->trng_seeded;
	if (t->seeded) {
		trng__seed(t, cfg->trng_seed, cfg->trng_seed_len);
		pr_warn("--trng-seed: the guest's TRNG numbers are deterministic, not random: for tests only");
	}
	kvm->trng = t;
	return 0;
}

/* --trng=off: KVM itself answers NOT_SUPPORTED; lkvm sees no exit. */
static enum fw_owner trng__route(const struct lkvm_config *cfg)
{
	return cfg->trng == TRNG_USER ? FW_LKVM : cfg->trng == TRNG_OFF ? FW_DENIED : FW_KVM;
}

static const struct fw_decl trng_ranges[] = {
	{ TRNG_FN(0), TRNG_FN(0xf), "TRNG", .fn64 = true },
};

static const struct fw_service trng_service = {
	.name = "--trng",
	.ranges = trng_ranges, .nr_ranges = ARRAY_SIZE(trng_ranges),
	.route = trng__route,
	.nr_args = trng__nr_args,
	.call = trng__call,
	.init = trng__init, .exit = trng__exit,
};
firmware_service(trng_service)
