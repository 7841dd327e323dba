/*
 * A small AML (ACPI Machine Language) builder: lkvm writes the DSDT's byte code itself at run
 * time, with no ASL compiler. AML is prefix notation, so most terms are written as they read:
 * an opcode, then its operands. Terms that carry a PkgLength (Scope, Device, Method, If, Else,
 * Package, Buffer, Field, resource templates) are opened with their aml__*_begin function and
 * closed with aml__end, which inserts the length once the contents are known.
 *
 * Errors are sticky: the first one (out of memory, a malformed name, unbalanced ends) is kept in
 * a->err and every later call does nothing, so a generator checks once, at aml__finish.
 * Encodings: ACPI 6.5, chapter 20 (AML specification); ACPICA's amlcode.h names the opcodes.
 */
#ifndef LKVM_AML_H
#define LKVM_AML_H

#include "lkvm/util.h"

#define AML_MAX_DEPTH	16

struct aml {
	u8 *buf;
	size_t len, cap;
	size_t open[AML_MAX_DEPTH];	/* where each open term's contents start */
	u8 open_kind[AML_MAX_DEPTH];	/* enum aml_open_kind (aml.c) */
	unsigned int depth;
	size_t if_end;			/* len right after the last If closed: an Else may follow */
	int err;			/* 0, or the first error (-ENOMEM, -EINVAL, -E2BIG) */
};

/* Opcodes written by aml__op: one byte, or 0x5b and a second byte (AML_EXT). */
#define AML_EXT(op)		(0x5b00 | (op))
enum aml_op {
	AML_RETURN = 0xa4, AML_STORE = 0x70, AML_NOTIFY = 0x86, AML_NOOP = 0xa3, AML_BREAK = 0xa5,
	AML_ADD = 0x72, AML_SUBTRACT = 0x74, AML_INCREMENT = 0x75, AML_DECREMENT = 0x76,
	AML_AND = 0x7b, AML_OR = 0x7d, AML_SHIFT_LEFT = 0x79, AML_SHIFT_RIGHT = 0x7a,
	AML_SIZEOF = 0x87, AML_INDEX = 0x88, AML_DEREF_OF = 0x83,
	AML_LAND = 0x90, AML_LOR = 0x91, AML_LNOT = 0x92, AML_LEQUAL = 0x93,
	AML_LGREATER = 0x94, AML_LLESS = 0x95,
	AML_ACQUIRE = AML_EXT(0x23), AML_RELEASE = AML_EXT(0x27), AML_SLEEP = AML_EXT(0x22),
};

/* OperationRegion spaces and Field flags (access type | lock rule | update rule). */
#define AML_REGION_SYSTEM_MEMORY	0x00
#define AML_FIELD_ANY_ACC		0x00
#define AML_FIELD_BYTE_ACC		0x01
#define AML_FIELD_WORD_ACC		0x02
#define AML_FIELD_DWORD_ACC		0x03
#define AML_FIELD_QWORD_ACC		0x04
#define AML_FIELD_LOCK			0x10
#define AML_FIELD_WRITE_AS_ZEROS	0x40

/* Interrupt() flags of an Extended Interrupt descriptor. */
#define AML_IRQ_CONSUMER	0x01
#define AML_IRQ_EDGE		0x02	/* else level */
#define AML_IRQ_ACTIVE_LOW	0x04	/* else active high */
#define AML_IRQ_SHARED		0x08	/* else exclusive */

void aml__init(struct aml *a);
void aml__release(struct aml *a);
/* 0 when everything was written and every term closed; else the error. */
int aml__finish(struct aml *a);

void aml__byte(struct aml *a, u8 b);
void aml__bytes(struct aml *a, const void *p, size_t n);
void aml__op(struct aml *a, enum aml_op op);

/* Data objects. */
void aml__integer(struct aml *a, u64 v);	/* Zero, One, or the smallest Byte..QWord */
void aml__string(struct aml *a, const char *s);
void aml__eisaid(struct aml *a, const char *id);	/* "PNP0A08" as its compressed DWord */
void aml__buffer(struct aml *a, const void *data, size_t n);
/*
 * A NameString: "_HID", "\\_SB.PCI0", "^^C001": a root or parent prefix, then 1-4 character
 * segments (shorter ones padded with '_') separated by dots.
 */
void aml__name_path(struct aml *a, const char *path);
void aml__local(struct aml *a, unsigned int n);	/* Local0-7 */
void aml__arg(struct aml *a, unsigned int n);	/* Arg0-6 */

/* Name(name, <the data object written next>). */
void aml__name(struct aml *a, const char *name);
/* Name(name, value) for the common cases. */
void aml__name_integer(struct aml *a, const char *name, u64 v);
void aml__name_string(struct aml *a, const char *name, const char *s);

/* Named objects and control flow, each closed by aml__end. */
void aml__scope_begin(struct aml *a, const char *path);
void aml__device_begin(struct aml *a, const char *name);
void aml__method_begin(struct aml *a, const char *name, unsigned int nargs, bool serialized);
void aml__if_begin(struct aml *a);		/* then the predicate, then the body */
void aml__else_begin(struct aml *a);		/* right after an If's end */
void aml__while_begin(struct aml *a);		/* then the predicate, then the body */
void aml__package_begin(struct aml *a, unsigned int nr_elements);
void aml__end(struct aml *a);

/* Method(name, 0) { Return(v) }, the shape of _STA, _UID and the like. */
void aml__method_return_integer(struct aml *a, const char *name, u64 v);

/* OperationRegion(name, space, offset, len) and its Field list. */
void aml__opregion(struct aml *a, const char *name, u8 space, u64 offset, u64 len);
void aml__field_begin(struct aml *a, const char *region, u8 flags);
void aml__field_unit(struct aml *a, const char *name, unsigned int bits);	/* 4 characters */
void aml__field_skip(struct aml *a, unsigned int bits);
void aml__mutex(struct aml *a, const char *name, unsigned int sync_level);
/* Acquire(mutex, timeout in ms, 0xffff: forever); Release(mutex). */
void aml__acquire(struct aml *a, const char *mutex, u16 timeout);
void aml__release_mutex(struct aml *a, const char *mutex);

/*
 * Resource templates: a Buffer of resource descriptors, closed by aml__rt_end (which adds the
 * End Tag). Address space descriptors describe [min, max] with no translation; the bridge's
 * windows are producers, a device's own registers consumers.
 */
void aml__rt_begin(struct aml *a);
void aml__rt_end(struct aml *a);
void aml__rt_memory32_fixed(struct aml *a, bool writable, u32 base, u32 len);
void aml__rt_interrupt(struct aml *a, u8 flags, u32 intid);
void aml__rt_word_bus_number(struct aml *a, u16 min, u16 max);
void aml__rt_dword_memory(struct aml *a, bool producer, bool cacheable, u32 min, u32 max);
void aml__rt_qword_memory(struct aml *a, bool producer, bool cacheable, u64 min, u64 max);

#endif
