/* The AML builder (aml.h): byte code for the DSDT, lengths inserted when a term closes. */
#include "lkvm/aml.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

enum aml_open_kind {
	AML_OPEN_PKG,		/* PkgLength before the contents */
	AML_OPEN_BUFFER,	/* PkgLength, then BufferSize, before the contents */
	AML_OPEN_IF,		/* an If: an Else may follow its end */
};

#define AML_SCOPE_OP		0x10
#define AML_NAME_OP		0x08
#define AML_BUFFER_OP		0x11
#define AML_PACKAGE_OP		0x12
#define AML_METHOD_OP		0x14
#define AML_IF_OP		0xa0
#define AML_ELSE_OP		0xa1
#define AML_WHILE_OP		0xa2
#define AML_STRING_PREFIX	0x0d
#define AML_DEVICE_OP		AML_EXT(0x82)
#define AML_OPREGION_OP		AML_EXT(0x80)
#define AML_FIELD_OP		AML_EXT(0x81)
#define AML_MUTEX_OP		AML_EXT(0x01)
#define AML_DUAL_NAME_PREFIX	0x2e
#define AML_MULTI_NAME_PREFIX	0x2f
#define AML_ROOT_PREFIX		'\\'
#define AML_PARENT_PREFIX	'^'

/* A PkgLength holds at most 28 bits. */
#define AML_PKG_MAX		((1U << 28) - 1)

static void aml__fail(struct aml *a, int err)
{
	if (!a->err)
		a->err = err;
}

void aml__init(struct aml *a)
{
	memset(a, 0, sizeof(*a));
}

void aml__release(struct aml *a)
{
	free(a->buf);
	aml__init(a);
}

int aml__finish(struct aml *a)
{
	if (!a->err && a->depth)
		a->err = -EINVAL;
	return a->err;
}

static bool aml__reserve(struct aml *a, size_t n)
{
	size_t cap = a->cap ? a->cap : 256;
	u8 *p;

	if (a->err)
		return false;
	if (n > AML_PKG_MAX || a->len + n > AML_PKG_MAX) {
		aml__fail(a, -E2BIG);
		return false;
	}
	if (a->len + n <= a->cap)
		return true;
	while (cap < a->len + n)
		cap *= 2;
	p = realloc(a->buf, cap);
	if (!p) {
		aml__fail(a, -ENOMEM);
		return false;
	}
	a->buf = p;
	a->cap = cap;
	return true;
}

void aml__bytes(struct aml *a, const void *p, size_t n)
{
	if (!aml__reserve(a, n))
		return;
	memcpy(a->buf + a->len, p, n);
	a->len += n;
}

void aml__byte(struct aml *a, u8 b)
{
	aml__bytes(a, &b, 1);
}

/* Little-endian, as every multi-byte AML and ACPI value. */
static void aml__le(struct aml *a, u64 v, unsigned int size)
{
	u8 b[8];

	for (unsigned int i = 0; i < size; i++)
		b[i] = (u8)(v >> (8 * i));
	aml__bytes(a, b, size);
}

void aml__op(struct aml *a, enum aml_op op)
{
	if (op > 0xff)
		aml__byte(a, (u8)(op >> 8));
	aml__byte(a, (u8)op);
}

/* Inserts n bytes at pos, moving what follows. */
static void aml__insert(struct aml *a, size_t pos, const u8 *p, size_t n)
{
	if (!aml__reserve(a, n))
		return;
	memmove(a->buf + pos + n, a->buf + pos, a->len - pos);
	memcpy(a->buf + pos, p, n);
	a->len += n;
}

/*
 * A PkgLength's encoding of v (20.2.4): one byte below 64, else a lead byte with the count of
 * following bytes in bits 7-6 and v's low nibble, then v >> 4 in 1 to 3 bytes.
 */
static unsigned int aml__pkglen_encode(u32 v, u8 out[4])
{
	unsigned int n = v < (1U << 6) ? 1 : v < (1U << 12) ? 2 : v < (1U << 20) ? 3 : 4;

	if (n == 1) {
		out[0] = (u8)v;
		return 1;
	}
	out[0] = (u8)(((n - 1) << 6) | (v & 0xf));
	for (unsigned int i = 1; i < n; i++)
		out[i] = (u8)(v >> (4 + 8 * (i - 1)));
	return n;
}

/* A package's PkgLength counts its own bytes too: the smallest encoding that fits both. */
static unsigned int aml__pkglen_self(size_t len, u8 out[4])
{
	for (unsigned int n = 1; n < 4; n++) {
		if (len + n < (1U << (n == 1 ? 6 : 4 + 8 * (n - 1))))
			return aml__pkglen_encode((u32)(len + n), out);
	}
	return aml__pkglen_encode((u32)(len + 4), out);
}

static void aml__open(struct aml *a, enum aml_open_kind kind)
{
	if (a->err)
		return;
	if (a->depth == AML_MAX_DEPTH) {
		aml__fail(a, -E2BIG);
		return;
	}
	a->open_kind[a->depth] = (u8)kind;
	a->open[a->depth++] = a->len;
}

void aml__end(struct aml *a)
{
	size_t start;
	u8 pkg[4];

	if (a->err)
		return;
	if (!a->depth) {
		aml__fail(a, -EINVAL);
		return;
	}
	start = a->open[--a->depth];
	if (a->open_kind[a->depth] == AML_OPEN_BUFFER) {
		struct aml size;

		/* BufferSize is an Integer term: encode it on the side, then insert it. */
		aml__init(&size);
		aml__integer(&size, a->len - start);
		if (size.err)
			aml__fail(a, size.err);
		else
			aml__insert(a, start, size.buf, size.len);
		aml__release(&size);
	}
	aml__insert(a, start, pkg, aml__pkglen_self(a->len - start, pkg));
	if (a->open_kind[a->depth] == AML_OPEN_IF)
		a->if_end = a->len;
}

void aml__integer(struct aml *a, u64 v)
{
	if (v <= 1) {
		aml__byte(a, (u8)v);	/* ZeroOp, OneOp */
	} else if (v <= 0xff) {
		aml__byte(a, 0x0a);
		aml__le(a, v, 1);
	} else if (v <= 0xffff) {
		aml__byte(a, 0x0b);
		aml__le(a, v, 2);
	} else if (v <= 0xffffffff) {
		aml__byte(a, 0x0c);
		aml__le(a, v, 4);
	} else {
		aml__byte(a, 0x0e);
		aml__le(a, v, 8);
	}
}

void aml__string(struct aml *a, const char *s)
{
	for (const char *c = s; *c; c++) {
		if ((u8)*c > 0x7f) {
			aml__fail(a, -EINVAL);	/* AsciiChar: 0x01-0x7f */
			return;
		}
	}
	aml__byte(a, AML_STRING_PREFIX);
	aml__bytes(a, s, strlen(s) + 1);
}

static int aml__hex(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* EISAID("PNP0A08"): three letters in 5 bits each, four hex digits, stored big-endian. */
void aml__eisaid(struct aml *a, const char *id)
{
	u32 v = 0;

	if (strlen(id) != 7) {
		aml__fail(a, -EINVAL);
		return;
	}
	for (int i = 0; i < 3; i++) {
		if (id[i] < 'A' || id[i] > 'Z') {
			aml__fail(a, -EINVAL);
			return;
		}
		v = v << 5 | (u32)(id[i] - '@');
	}
	for (int i = 3; i < 7; i++) {
		if (aml__hex(id[i]) < 0) {
			aml__fail(a, -EINVAL);
			return;
		}
		v = v << 4 | (u32)aml__hex(id[i]);
	}
	aml__integer(a, __builtin_bswap32(v));
}

void aml__buffer(struct aml *a, const void *data, size_t n)
{
	aml__byte(a, AML_BUFFER_OP);
	aml__open(a, AML_OPEN_BUFFER);
	aml__bytes(a, data, n);
	aml__end(a);
}

/* One segment of a name, padded to 4 characters; false if it is not a valid NameSeg. */
static bool aml__name_seg(const char *s, size_t n, u8 seg[4])
{
	if (!n || n > 4 || !((s[0] >= 'A' && s[0] <= 'Z') || s[0] == '_'))
		return false;
	for (size_t i = 0; i < 4; i++) {
		char c = i < n ? s[i] : '_';

		if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'))
			return false;
		seg[i] = (u8)c;
	}
	return true;
}

void aml__name_path(struct aml *a, const char *path)
{
	u8 segs[4 * 255];
	size_t nr = 0;
	const char *p = path;

	if (*p == AML_ROOT_PREFIX) {
		aml__byte(a, AML_ROOT_PREFIX);
		p++;
	} else {
		for (; *p == AML_PARENT_PREFIX; p++)
			aml__byte(a, AML_PARENT_PREFIX);
	}
	while (*p) {
		size_t n = strcspn(p, ".");

		if (nr == 255 || !aml__name_seg(p, n, segs + 4 * nr)) {
			aml__fail(a, -EINVAL);
			return;
		}
		nr++;
		p += n;
		if (*p == '.' && !*++p) {
			aml__fail(a, -EINVAL);	/* a trailing dot */
			return;
		}
	}
	if (nr == 0)
		aml__byte(a, 0x00);		/* NullName: "\\" alone */
	else if (nr == 2)
		aml__byte(a, AML_DUAL_NAME_PREFIX);
	else if (nr > 2) {
		aml__byte(a, AML_MULTI_NAME_PREFIX);
		aml__byte(a, (u8)nr);
	}
	aml__bytes(a, segs, 4 * nr);
}

void aml__local(struct aml *a, unsigned int n)
{
	if (n > 7)
		aml__fail(a, -EINVAL);
	else
		aml__byte(a, (u8)(0x60 + n));
}

void aml__arg(struct aml *a, unsigned int n)
{
	if (n > 6)
		aml__fail(a, -EINVAL);
	else
		aml__byte(a, (u8)(0x68 + n));
}

void aml__name(struct aml *a, const char *name)
{
	aml__byte(a, AML_NAME_OP);
	aml__name_path(a, name);
}

void aml__name_integer(struct aml *a, const char *name, u64 v)
{
	aml__name(a, name);
	aml__integer(a, v);
}

void aml__name_string(struct aml *a, const char *name, const char *s)
{
	aml__name(a, name);
	aml__string(a, s);
}

/* An opcode, then a PkgLength over everything up to its aml__end. */
static void aml__begin(struct aml *a, u16 op, enum aml_open_kind kind)
{
	aml__op(a, (enum aml_op)op);
	aml__open(a, kind);
}

void aml__scope_begin(struct aml *a, const char *path)
{
	aml__begin(a, AML_SCOPE_OP, AML_OPEN_PKG);
	aml__name_path(a, path);
}

void aml__device_begin(struct aml *a, const char *name)
{
	aml__begin(a, AML_DEVICE_OP, AML_OPEN_PKG);
	aml__name_path(a, name);
}

void aml__method_begin(struct aml *a, const char *name, unsigned int nargs, bool serialized)
{
	aml__begin(a, AML_METHOD_OP, AML_OPEN_PKG);
	aml__name_path(a, name);
	if (nargs > 7)
		aml__fail(a, -EINVAL);
	aml__byte(a, (u8)((nargs & 7) | (serialized ? 0x08 : 0)));
}

void aml__if_begin(struct aml *a)
{
	aml__begin(a, AML_IF_OP, AML_OPEN_IF);
}

void aml__else_begin(struct aml *a)
{
	/* An Else belongs to the If that ends right before it. */
	if (!a->err && (!a->if_end || a->len != a->if_end)) {
		aml__fail(a, -EINVAL);
		return;
	}
	aml__begin(a, AML_ELSE_OP, AML_OPEN_PKG);
}

void aml__while_begin(struct aml *a)
{
	aml__begin(a, AML_WHILE_OP, AML_OPEN_PKG);
}

void aml__package_begin(struct aml *a, unsigned int nr_elements)
{
	aml__begin(a, AML_PACKAGE_OP, AML_OPEN_PKG);
	if (nr_elements > 255)
		aml__fail(a, -EINVAL);
	aml__byte(a, (u8)nr_elements);
}

void aml__method_return_integer(struct aml *a, const char *name, u64 v)
{
	aml__method_begin(a, name, 0, false);
	aml__op(a, AML_RETURN);
	aml__integer(a, v);
	aml__end(a);
}

void aml__opregion(struct aml *a, const char *name, u8 space, u64 offset, u64 len)
{
	aml__op(a, (enum aml_op)AML_OPREGION_OP);
	aml__name_path(a, name);
	aml__byte(a, space);
	aml__integer(a, offset);
	aml__integer(a, len);
}

void aml__field_begin(struct aml *a, const char *region, u8 flags)
{
	aml__begin(a, AML_FIELD_OP, AML_OPEN_PKG);
	aml__name_path(a, region);
	aml__byte(a, flags);
}

/* A field list entry: its bit count in PkgLength's encoding (not counting itself). */
static void aml__field_bits(struct aml *a, unsigned int bits)
{
	u8 pkg[4];

	if (!bits || bits > AML_PKG_MAX) {
		aml__fail(a, -EINVAL);
		return;
	}
	aml__bytes(a, pkg, aml__pkglen_encode(bits, pkg));
}

void aml__field_unit(struct aml *a, const char *name, unsigned int bits)
{
	u8 seg[4];

	if (strlen(name) != 4 || !aml__name_seg(name, 4, seg)) {
		aml__fail(a, -EINVAL);
		return;
	}
	aml__bytes(a, seg, 4);
	aml__field_bits(a, bits);
}

void aml__field_skip(struct aml *a, unsigned int bits)
{
	aml__byte(a, 0x00);	/* ReservedField */
	aml__field_bits(a, bits);
}

void aml__mutex(struct aml *a, const char *name, unsigned int sync_level)
{
	aml__op(a, (enum aml_op)AML_MUTEX_OP);
	aml__name_path(a, name);
	if (sync_level > 15)
		aml__fail(a, -EINVAL);
	aml__byte(a, (u8)(sync_level & 15));
}

void aml__acquire(struct aml *a, const char *mutex, u16 timeout)
{
	aml__op(a, AML_ACQUIRE);
	aml__name_path(a, mutex);
	aml__le(a, timeout, 2);
}

void aml__release_mutex(struct aml *a, const char *mutex)
{
	aml__op(a, AML_RELEASE);
	aml__name_path(a, mutex);
}

/* --- resource templates (ACPI 6.5, 6.4: resource data types) --- */

#define AML_RT_END_TAG		0x79
#define AML_RT_MEMORY32_FIXED	0x86
#define AML_RT_DWORD_ADDR	0x87
#define AML_RT_WORD_ADDR	0x88
#define AML_RT_EXT_IRQ		0x89
#define AML_RT_QWORD_ADDR	0x8a
#define AML_RT_TYPE_MEMORY	0
#define AML_RT_TYPE_BUS		2
/* General flags: _MIF and _MAF (the range is fixed), bit 0 consumer. */
#define AML_RT_FIXED		0x0c
#define AML_RT_CONSUMER		0x01
/* Memory type-specific flags: bit 0 read-write, bits 2-1 cacheable. */
#define AML_RT_MEM_RW		0x01
#define AML_RT_MEM_CACHEABLE	0x02

void aml__rt_begin(struct aml *a)
{
	aml__byte(a, AML_BUFFER_OP);
	aml__open(a, AML_OPEN_BUFFER);
}

void aml__rt_end(struct aml *a)
{
	/* End Tag, with a checksum of 0: "the template is correct" (6.4.2.9). */
	aml__byte(a, AML_RT_END_TAG);
	aml__byte(a, 0);
	aml__end(a);
}

void aml__rt_memory32_fixed(struct aml *a, bool writable, u32 base, u32 len)
{
	aml__byte(a, AML_RT_MEMORY32_FIXED);
	aml__le(a, 9, 2);
	aml__byte(a, writable ? 1 : 0);
	aml__le(a, base, 4);
	aml__le(a, len, 4);
}

void aml__rt_interrupt(struct aml *a, u8 flags, u32 intid)
{
	aml__byte(a, AML_RT_EXT_IRQ);
	aml__le(a, 6, 2);
	aml__byte(a, flags);
	aml__byte(a, 1);	/* one interrupt */
	aml__le(a, intid, 4);
}

/*
 * An address space descriptor of size-byte fields: granularity 0, [min, max], translation 0,
 * length max - min + 1.
 */
static void aml__rt_addr(struct aml *a, u8 tag, unsigned int size, u8 type, u8 flags,
			 u8 type_flags, u64 min, u64 max)
{
	if (max < min) {
		aml__fail(a, -EINVAL);
		return;
	}
	aml__byte(a, tag);
	aml__le(a, 3 + 5 * size, 2);
	aml__byte(a, type);
	aml__byte(a, flags);
	aml__byte(a, type_flags);
	aml__le(a, 0, size);
	aml__le(a, min, size);
	aml__le(a, max, size);
	aml__le(a, 0, size);
	aml__le(a, max - min + 1, size);
}

void aml__rt_word_bus_number(struct aml *a, u16 min, u16 max)
{
	aml__rt_addr(a, AML_RT_WORD_ADDR, 2, AML_RT_TYPE_BUS, AML_RT_FIXED, 0, min, max);
}

static u8 aml__rt_mem_flags(bool producer)
{
	return (u8)(AML_RT_FIXED | (producer ? 0 : AML_RT_CONSUMER));
}

void aml__rt_dword_memory(struct aml *a, bool producer, bool cacheable, u32 min, u32 max)
{
	aml__rt_addr(a, AML_RT_DWORD_ADDR, 4, AML_RT_TYPE_MEMORY, aml__rt_mem_flags(producer),
		     AML_RT_MEM_RW | (cacheable ? AML_RT_MEM_CACHEABLE : 0), min, max);
}

void aml__rt_qword_memory(struct aml *a, bool producer, bool cacheable, u64 min, u64 max)
{
	aml__rt_addr(a, AML_RT_QWORD_ADDR, 8, AML_RT_TYPE_MEMORY, aml__rt_mem_flags(producer),
		     AML_RT_MEM_RW | (cacheable ? AML_RT_MEM_CACHEABLE : 0), min, max);
}
