/*
 * libFuzzer target for lkvm's AML builder (hw/acpi/aml.c), the code that writes the DSDT at run
 * time: each input is a program of builder calls with arguments from the input (names and name
 * paths of any bytes and length, integers of every size, nesting up to and past the limit, Else
 * without If, ends without begins, resource descriptors, fields, mutexes). Besides the
 * sanitizers, it checks what Linux's AML parser relies on: every term the builder closes carries
 * a PkgLength that covers exactly its contents (re-read from the output after each end, through
 * the insertions of the terms around it), a finished builder has closed everything, and an error
 * is sticky.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lkvm/aml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct input {
	const u8 *p;
	size_t n;
};

static u8 take(struct input *in)
{
	if (!in->n)
		return 0;
	in->n--;
	return *in->p++;
}

static u64 take64(struct input *in)
{
	u64 v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | take(in);
	return v;
}

/* A string of up to 15 bytes of the input, any bytes but NUL. */
static const char *take_str(struct input *in, char *buf)
{
	size_t len = take(in) % 16;

	for (size_t i = 0; i < len; i++)
		buf[i] = (char)(take(in) | 1);
	buf[len] = '\0';
	return buf;
}

/* An open term as the fuzzer saw it begin: where its opcode starts and how long that is. */
struct open_term {
	size_t start;
	unsigned int oplen;
};

/* The PkgLength at off, or ~0 if it is malformed. */
static size_t pkg_length(const u8 *b, size_t off, size_t len)
{
	unsigned int follow;
	size_t v;

	if (off >= len)
		return ~(size_t)0;
	follow = b[off] >> 6;
	if (!follow)
		return b[off] & 0x3f;
	if (off + follow >= len || (b[off] & 0x30))
		return ~(size_t)0;
	v = b[off] & 0x0f;
	for (unsigned int i = 1; i <= follow; i++)
		v |= (size_t)b[off + i] << (4 + 8 * (i - 1));
	return v;
}

static void begin(struct aml *a, struct open_term *stack, unsigned int *depth, size_t start,
		  unsigned int oplen)
{
	if (a->err)
		return;
	if (*depth >= AML_MAX_DEPTH)
		abort();	/* the builder must have refused it */
	stack[(*depth)++] = (struct open_term){ start, oplen };
}

/* After a successful close: the innermost open term's PkgLength covers exactly its contents. */
static void closed(struct aml *a, struct open_term *stack, unsigned int *depth)
{
	struct open_term t;

	if (a->err)
		return;
	if (!*depth)
		abort();	/* an end without a begin went through */
	t = stack[--*depth];
	if (pkg_length(a->buf, t.start + t.oplen, a->len) != a->len - (t.start + t.oplen))
		abort();
}

static void step(struct aml *a, struct input *in, struct open_term *stack, unsigned int *depth)
{
	char s1[16], s2[16];
	size_t start = a->len;
	u8 op = take(in);

	switch (op % 24) {
	case 0: aml__integer(a, take64(in) >> (take(in) % 64)); break;
	case 1: aml__string(a, take_str(in, s1)); break;
	case 2: aml__name_path(a, take_str(in, s1)); break;
	case 3: aml__scope_begin(a, take_str(in, s1)); begin(a, stack, depth, start, 1); break;
	case 4: aml__device_begin(a, take_str(in, s1)); begin(a, stack, depth, start, 2); break;
	case 5:
		aml__method_begin(a, take_str(in, s1), take(in) % 9, take(in) & 1);
		begin(a, stack, depth, start, 1);
		break;
	case 6: aml__if_begin(a); begin(a, stack, depth, start, 1); break;
	case 7: aml__else_begin(a); begin(a, stack, depth, start, 1); break;
	case 8: aml__while_begin(a); begin(a, stack, depth, start, 1); break;
	case 9: aml__package_begin(a, take(in)); begin(a, stack, depth, start, 1); break;
	case 10: case 11: aml__end(a); closed(a, stack, depth); break;
	case 12: {
		u8 buf[64];
		size_t n = take(in) % sizeof(buf);

		for (size_t i = 0; i < n; i++)
			buf[i] = take(in);
		aml__buffer(a, buf, n);
		break;
	}
	case 13: aml__rt_begin(a); begin(a, stack, depth, start, 1); break;
	case 14: aml__rt_end(a); closed(a, stack, depth); break;
	case 15: aml__rt_memory32_fixed(a, take(in) & 1, (u32)take64(in), (u32)take64(in)); break;
	case 16: aml__rt_interrupt(a, take(in), (u32)take64(in)); break;
	case 17: aml__rt_qword_memory(a, take(in) & 1, take(in) & 1, take64(in), take64(in)); break;
	case 18:
		aml__opregion(a, take_str(in, s1), take(in), take64(in), take64(in));
		break;
	case 19:
		aml__field_begin(a, take_str(in, s1), take(in));
		begin(a, stack, depth, start, 2);
		break;
	case 20:
		if (take(in) & 1)
			aml__field_unit(a, take_str(in, s1), take(in));
		else
			aml__field_skip(a, (unsigned int)take64(in));
		break;
	case 21: aml__name_integer(a, take_str(in, s1), take64(in)); break;
	case 22: aml__eisaid(a, take_str(in, s1)); break;
	default:
		aml__mutex(a, take_str(in, s1), take(in));
		aml__acquire(a, take_str(in, s2), (u16)take64(in));
		aml__local(a, take(in) % 10);
		aml__arg(a, take(in) % 9);
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, size };
	struct open_term stack[AML_MAX_DEPTH];
	unsigned int depth = 0;
	struct aml a;

	aml__init(&a);
	while (in.n && !a.err)
		step(&a, &in, stack, &depth);
	if (a.err) {
		int err = a.err;
		size_t len = a.len;

		aml__integer(&a, 1);	/* sticky: nothing more is written */
		if (a.err != err || a.len != len || aml__finish(&a) != err)
			abort();
	} else if ((aml__finish(&a) == 0) != (depth == 0)) {
		abort();
	}
	aml__release(&a);
	return 0;
}
