/*
 * libFuzzer target for the SDEI state machine (include/lkvm/sdei.h): the input is a script of
 * steps acted by four PEs and the host, against a fresh state machine with fake ops, checked
 * against a shadow of what was dispatched. Each step is an opcode byte and its operands (bytes
 * past the end read as 0):
 *   0 PE CALL  A1..A5   an SDEI call from PE: function CALL % 0x24 (0x13 and above are
 *                       reserved), xN = arg(AN) (a table of interesting values, see arg())
 *   1 PE SEED           sdei__dispatch on PE with a context made from SEED
 *   2 EV CPU            the host signals event arg(EV) to CPU % 5 - 1 (-1: as routed)
 *   3 PE POWER          sdei__cpu_power(PE, POWER % 4)
 *   4                   sdei__reset
 *   5 PE                COMPLETE on PE if it runs a handler, else PE_UNMASK (moves things on)
 * After every step: a shared event runs on at most one PE, the one it names, and only if a
 * shadow handler stack holds it; a private event runs on a PE only if that PE's stack holds it;
 * every PE whose work flag another thread set was kicked, and no PE kicked itself; an event
 * that is deliverable (by the rules, from the snapshots) has a PE flagged for it. On every
 * dispatch: the PE was on and unmasked, its stack holds at most a normal handler under a critical
 * one; EVENT_CONTEXT and COMPLETE return exactly the context that dispatch saved. At the end,
 * PEs dispatch and complete while their work flags say so; then no PE finds anything more to
 * dispatch: no deliverable event was left without a flag (lost).
 *
 * Build (x86_64 or arm64):
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -std=c11 -D_GNU_SOURCE -Iinclude \
 *	fuzz/fuzz-sdei.c sdei/sdei.c -o build/fuzz-sdei
 */
#include <stdlib.h>
#include <string.h>

#include "lkvm/sdei.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NR_PES		4
#define RAM_START	0x80000000ULL
#define RAM_END		0x80100000ULL
#define NO_CALLER	(-1)
#define MAX_STEPS	256

struct frame {
	u32 event;
	bool critical;
	struct sdei_context ctx;
};

static struct {
	struct sdei sdei;
	bool kicked[NR_PES];
	u64 now;
	struct frame stack[NR_PES][2];
	unsigned int depth[NR_PES];
	enum sdei_pe_power power[NR_PES];	/* ON, OFF or ABSENT */
} F;

static const u64 mpidrs[NR_PES] = { 0x80000000, 0x80000001, 0x80000100, 0x80010000 };

static bool fake_valid_entry(struct sdei *s, u64 addr)
{
	(void)s;
	return addr >= RAM_START && addr <= RAM_END - 4;
}

static void fake_kick(struct sdei *s, unsigned int cpu)
{
	(void)s;
	if (cpu >= NR_PES)
		abort();
	F.kicked[cpu] = true;
}

static u64 fake_now(struct sdei *s)
{
	(void)s;
	return F.now += 10;
}

static void fake_event(struct sdei *s, enum vm_event_type ev, unsigned int cpu, u32 event,
		       u64 duration)
{
	(void)s;
	(void)duration;
	if (cpu >= NR_PES || !sdei__event(event) ||
	    (ev != VM_EV_SDEI_DISPATCH && ev != VM_EV_SDEI_COMPLETE))
		abort();
}

static const struct sdei_ops fake_ops = {
	.valid_entry = fake_valid_entry, .kick = fake_kick, .now_ns = fake_now,
	.event = fake_event,
};

struct reader {
	const uint8_t *p, *end;
};

static uint8_t next(struct reader *r)
{
	return r->p < r->end ? *r->p++ : 0;
}

/*
 * Argument values that reach every branch: events, entries, flags, affinities, intids. Bytes
 * below 0xc0 pick one of them (each about as likely), the others are the values 0 to 63.
 */
static u64 arg(uint8_t b)
{
	static const u64 table[] = {
		0, 1000, 1001, 2000, 2001, 1, 2, 3, 4, 5, 17, 18, 16, 1019, 1020,
		RAM_START, RAM_START + 0x100, RAM_END - 4, RAM_END - 2, 0x1000,
		0x80000000, 0x100, 0x10000, 0x101, 1ULL << 32, ~0ULL, 0xff00ffffffULL,
	};

	return b < 0xc0 ? table[b % ARRAY_SIZE(table)] : (u64)(b - 0xc0);
}

static struct sdei_context make_ctx(uint8_t seed)
{
	struct sdei_context c;

	for (int i = 0; i < SDEI_SAVED_REGS; i++)
		c.x[i] = (u64)seed << 8 | (u64)i;
	c.pc = RAM_START + seed * 4ULL;
	c.pstate = seed;
	return c;
}

static bool frames_hold(unsigned int pe, u32 event)
{
	for (unsigned int i = 0; i < F.depth[pe]; i++) {
		if (F.stack[pe][i].event == event)
			return true;
	}
	return false;
}

static void clear_stack(unsigned int pe)
{
	F.depth[pe] = 0;
}

/* What sdei.c must find deliverable, from its snapshot and the shadow stacks alone. */
static bool model_deliverable(const struct sdei_event_desc *ev, const struct sdei_event_state *st,
			      unsigned int pe, bool masked)
{
	const struct frame *bottom = &F.stack[pe][0];

	if (!st->registered || !st->enabled || !st->pending || st->running)
		return false;
	if (F.power[pe] != SDEI_PE_ON || masked)
		return false;
	if (F.depth[pe] && (F.depth[pe] > 1 || bottom->critical || !ev->critical))
		return false;
	if (!ev->shared)
		return true;
	if (st->route_mode == SDEI_RM_PE)
		return st->route_affinity == (mpidrs[pe] & 0xff00ffffffULL);
	return !st->pending_cpu_valid || st->pending_cpu == (int)pe;
}

/*
 * The states agree with the shadow stacks, and no event is deliverable without a flag to find
 * it: on its PE, or for an RM_ANY event on one of the PEs where it is deliverable.
 */
static void check_states(void)
{
	unsigned int n;
	const struct sdei_event_desc *evs = sdei__events(&n);
	bool masked[NR_PES];

	for (unsigned int pe = 0; pe < NR_PES; pe++)
		masked[pe] = sdei__cpu_masked(&F.sdei, pe);
	for (unsigned int e = 0; e < n; e++) {
		struct sdei_event_state st;
		int holders = 0, holder = -1;
		bool somewhere = false, found = false;

		for (unsigned int pe = 0; pe < NR_PES; pe++) {
			bool held = frames_hold(pe, evs[e].num), d;

			if (!sdei__event_state(&F.sdei, evs[e].num, pe, &st))
				abort();
			holders += held;
			holder = held ? (int)pe : holder;
			if ((!evs[e].shared && st.running != held) ||
			    (st.unregister_pending && (st.registered || !st.running)) ||
			    (st.enabled && !st.registered))
				abort();
			d = model_deliverable(&evs[e], &st, pe, masked[pe]);
			somewhere |= d;
			found |= d && sdei__may_dispatch(&F.sdei, pe);
			if (d && !sdei__may_dispatch(&F.sdei, pe) && !evs[e].shared)
				abort();
		}
		if (somewhere && !found)
			abort();
		if (!evs[e].shared)
			continue;
		if (holders > 1 || st.running != (holders == 1) || st.running_cpu != holder)
			abort();
		if (st.pending_cpu_valid && (st.pending_cpu < 0 || st.pending_cpu >= NR_PES))
			abort();
	}
}

/* A vCPU's step kicks no PE it flags itself; the host's kick every PE they flag. */
static void check_kicks(const bool *before, int caller)
{
	for (unsigned int pe = 0; pe < NR_PES; pe++) {
		bool now = sdei__may_dispatch(&F.sdei, pe);

		if ((int)pe == caller && F.kicked[pe])
			abort();
		if (!before[pe] && now && (int)pe != caller && !F.kicked[pe])
			abort();
	}
}

static void do_dispatch(unsigned int pe, uint8_t seed, bool flag_required)
{
	struct sdei_context c = make_ctx(seed);
	bool masked = sdei__cpu_masked(&F.sdei, pe), flag = sdei__may_dispatch(&F.sdei, pe);
	struct sdei_dispatch d;
	struct frame *f;

	if (!sdei__dispatch(&F.sdei, pe, &c, &d))
		return;
	if (masked || F.power[pe] != SDEI_PE_ON || F.depth[pe] >= 2)
		abort();
	if (F.depth[pe] == 1 && (F.stack[pe][0].critical || !d.critical))
		abort();
	if (!sdei__event(d.event) || sdei__event(d.event)->critical != d.critical ||
	    !fake_valid_entry(&F.sdei, d.entry))
		abort();
	/* Without its flag a PE can only have taken a shared event offered to another. */
	if (!flag && (flag_required || !sdei__event(d.event)->shared))
		abort();
	f = &F.stack[pe][F.depth[pe]++];
	*f = (struct frame){ .event = d.event, .critical = d.critical, .ctx = c };
}

static void do_call(unsigned int pe, struct sdei_call *call)
{
	unsigned int fn = call->fid - SDEI_FN_FIRST;
	enum sdei_outcome out = sdei__call(&F.sdei, pe, call);
	s64 ret = (s64)call->res[0];
	const struct frame *top = F.depth[pe] ? &F.stack[pe][F.depth[pe] - 1] : NULL;

	if (out == SDEI_RESUME) {
		if ((fn != SDEI_NR_EVENT_COMPLETE && fn != SDEI_NR_EVENT_COMPLETE_AND_RESUME) ||
		    !top || memcmp(&call->ctx, &top->ctx, sizeof(top->ctx)) ||
		    call->resume_at != (fn == SDEI_NR_EVENT_COMPLETE_AND_RESUME) ||
		    (call->resume_at && call->resume_addr != call->arg[1]))
			abort();
		F.depth[pe]--;
		return;
	}
	if (fn == SDEI_NR_EVENT_COMPLETE && top)
		abort();
	if (fn == SDEI_NR_EVENT_CONTEXT && call->arg[1] < SDEI_SAVED_REGS &&
	    (top ? (u64)ret != top->ctx.x[call->arg[1]] : ret != SDEI_DENIED))
		abort();
	if (fn != SDEI_NR_VERSION && fn != SDEI_NR_EVENT_CONTEXT && fn != SDEI_NR_EVENT_GET_INFO &&
	    (ret > 7 || ret < SDEI_OUT_OF_RESOURCE || !sdei__ret_name(ret < 0 ? ret : 0)))
		abort();
	if (!sdei__fn_name(call->fid))
		abort();
}

static void power(unsigned int pe, enum sdei_pe_power p)
{
	sdei__cpu_power(&F.sdei, pe, p);
	if (p == SDEI_PE_PRESENT) {
		if (F.power[pe] == SDEI_PE_ABSENT)
			F.power[pe] = SDEI_PE_OFF;
		return;
	}
	F.power[pe] = p;
	clear_stack(pe);
}

static void reset(void)
{
	sdei__reset(&F.sdei);
	for (unsigned int pe = 0; pe < NR_PES; pe++) {
		clear_stack(pe);
		if (!pe)
			F.power[pe] = SDEI_PE_ON;
		else if (F.power[pe] != SDEI_PE_ABSENT)
			F.power[pe] = SDEI_PE_OFF;
	}
}

static void complete_or_unmask(unsigned int pe)
{
	struct sdei_call c = { .fid = SDEI_FN(F.depth[pe] ? SDEI_NR_EVENT_COMPLETE :
					       SDEI_NR_PE_UNMASK) };

	do_call(pe, &c);
}

static void step(struct reader *r)
{
	uint8_t op = next(r) % 6, a = next(r);
	unsigned int pe = a % NR_PES;
	bool before[NR_PES];
	int caller = (int)pe;
	struct sdei_call c;

	for (unsigned int i = 0; i < NR_PES; i++)
		before[i] = sdei__may_dispatch(&F.sdei, i);
	memset(F.kicked, 0, sizeof(F.kicked));
	switch (op) {
	case 0:
		c = (struct sdei_call){ .fid = SDEI_FN(next(r) % 0x24) };
		for (unsigned int i = 1; i <= SDEI_MAX_ARGS; i++)
			c.arg[i] = i <= sdei__nr_args(c.fid) ? arg(next(r)) : 0;
		do_call(pe, &c);
		break;
	case 1:
		do_dispatch(pe, next(r), false);
		break;
	case 2:
		caller = NO_CALLER;
		sdei__signal(&F.sdei, (u32)arg(a), (int)(next(r) % (NR_PES + 1)) - 1);
		break;
	case 3:
		caller = NO_CALLER;
		power(pe, (enum sdei_pe_power)(next(r) % 4));
		break;
	case 4:
		caller = NO_CALLER;
		reset();
		break;
	default:
		complete_or_unmask(pe);
		break;
	}
	check_kicks(before, caller);
	check_states();
}

/* What the flags promise: followed to the end, they leave nothing deliverable behind. */
static void drain(void)
{
	for (int rounds = 0;; rounds++) {
		bool busy = false;

		if (rounds > 1000)
			abort();	/* a flag that never settles */
		for (unsigned int pe = 0; pe < NR_PES; pe++) {
			if (sdei__may_dispatch(&F.sdei, pe)) {
				busy = true;
				do_dispatch(pe, (uint8_t)rounds, true);
			} else if (F.depth[pe]) {
				busy = true;
				complete_or_unmask(pe);
			}
		}
		check_states();
		if (!busy)
			break;
	}
	for (unsigned int pe = 0; pe < NR_PES; pe++) {
		struct sdei_context ctx = make_ctx(0);
		struct sdei_dispatch d;

		if (sdei__dispatch(&F.sdei, pe, &ctx, &d))
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct reader r = { data, data + size };
	bool present[NR_PES] = { true, true, true, size % 2 == 0 };

	memset(&F, 0, sizeof(F));
	if (sdei__init(&F.sdei, &fake_ops, NR_PES, mpidrs, present))
		abort();
	for (unsigned int pe = 0; pe < NR_PES; pe++)
		F.power[pe] = !pe ? SDEI_PE_ON : present[pe] ? SDEI_PE_OFF : SDEI_PE_ABSENT;
	/* Long scripts add little but time: the fuzzer is faster with more short ones. */
	for (int steps = 0; r.p < r.end && steps < MAX_STEPS; steps++)
		step(&r);
	drain();
	sdei__exit(&F.sdei);
	return 0;
}
