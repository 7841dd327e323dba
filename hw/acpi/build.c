/*
 * Lays out an --acpi guest's firmware region: the EFI stub, then the RSDP, the XSDT and every
 * table, each 8-byte aligned. The DSDT is \_SB with a processor device per vCPU and whatever
 * the registered generators add; they also add their own tables.
 */
#include "lkvm/acpi.h"
#include "lkvm/efi.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct acpi_tables {
	u8 *data[ACPI_MAX_TABLES];
	size_t len[ACPI_MAX_TABLES];
	unsigned int nr;
};

struct acpi_rsdp {
	char signature[8];
	u8 checksum;
	char oem_id[6];
	u8 revision;
	u32 rsdt_address;
	u32 length;
	u64 xsdt_address;
	u8 extended_checksum;
	u8 reserved[3];
} __attribute__((packed));

#define ACPI_RSDP_V1_SIZE	20	/* what the first checksum covers */

void acpi__checksum(void *p, size_t len, u8 *csum)
{
	u8 sum = 0;

	*csum = 0;
	for (size_t i = 0; i < len; i++)
		sum = (u8)(sum + ((u8 *)p)[i]);
	*csum = (u8)-sum;
}

void acpi__header(struct acpi_header *h, const char *sig, u32 len, u8 rev)
{
	memcpy(h->signature, sig, 4);
	h->length = len;
	h->revision = rev;
	h->checksum = 0;
	memcpy(h->oem_id, ACPI_OEM_ID, 6);
	memcpy(h->oem_table_id, ACPI_OEM_TABLE_ID, 8);
	h->oem_revision = 1;
	memcpy(h->creator_id, ACPI_CREATOR_ID, 4);
	h->creator_revision = 1;
}

int acpi__add_table(struct acpi_ctx *ctx, const void *table, size_t len)
{
	struct acpi_tables *t = ctx->tables;
	u8 *copy;

	if (t->nr == ACPI_MAX_TABLES)
		return -ENOSPC;
	copy = malloc(len);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, table, len);
	t->data[t->nr] = copy;
	t->len[t->nr++] = len;
	return 0;
}

static void acpi__free_tables(struct acpi_tables *t)
{
	for (unsigned int i = 0; i < t->nr; i++)
		free(t->data[i]);
}

/* A processor device per vCPU, _UID the MADT GICC's processor UID (the vCPU index). */
static void acpi__cpus(struct aml *a, const struct acpi_desc *d)
{
	for (unsigned int i = 0; i < d->nr_cpus; i++) {
		char name[8];

		snprintf(name, sizeof(name), "C%03X", i & 0xfff);	/* LKVM_MAX_CPUS fits */
		aml__device_begin(a, name);
		aml__name_string(a, "_HID", "ACPI0007");
		aml__name_integer(a, "_UID", i);
		if (d->cpu_aml)
			d->cpu_aml(a, i);
		else
			aml__method_return_integer(a, "_STA", 0xf);
		aml__end(a);
	}
}

/* The DSDT's AML: \_SB with the CPUs and every generator's objects; tables into t. */
static int acpi__gen_all(const struct acpi_desc *d, struct aml *a, struct acpi_tables *t)
{
	struct acpi_ctx ctx = { .dsdt = a, .tables = t, .nr_cpus = d->nr_cpus,
				.mpidrs = d->mpidrs, .gic_version = d->gic_version, .its = d->its,
				.cpu_enabled = d->cpu_enabled };
	/* The FADT first, as firmware usually lists it: acpi__layout points it at the DSDT. */
	int err = acpi__fadt(&ctx, d->psci_hvc);

	aml__scope_begin(a, "\\_SB");
	acpi__cpus(a, d);
	for (unsigned int i = 0; i < d->nr_gens && !err; i++)
		err = d->gens[i]->gen(d->gens[i], &ctx);
	aml__end(a);
	if (!err && ctx.gicd)
		err = acpi__madt(&ctx);
	if (!err)
		err = acpi__pptt(&ctx);
	if (!err && d->sdei)
		err = acpi__sdei(&ctx);
	return err ? err : aml__finish(a);
}

/* Places a table at *off (8-byte aligned), sets its checksum and records it. */
static int acpi__place(u8 *buf, size_t size, size_t *off, const void *data, size_t len, u64 gpa,
		       struct acpi_image *out)
{
	struct acpi_header *h;
	struct acpi_table_ref *r;

	*off = ALIGN_UP(*off, 8);
	if (len > size || *off > size - len)
		return -ENOSPC;
	memcpy(buf + *off, data, len);
	h = (struct acpi_header *)(buf + *off);
	h->length = (u32)len;
	acpi__checksum(h, len, &h->checksum);
	r = &out->tables[out->nr_tables++];
	memcpy(r->signature, h->signature, 4);
	r->signature[4] = '\0';
	r->addr = gpa + *off;
	r->offset = *off;
	r->len = (u32)len;
	*off += len;
	return 0;
}

/* The DSDT: a header before the builder's AML. */
static int acpi__dsdt(const struct aml *a, u8 **out, size_t *len)
{
	struct acpi_header h;

	*len = sizeof(h) + a->len;
	*out = malloc(*len);
	if (!*out)
		return -ENOMEM;
	acpi__header(&h, "DSDT", (u32)*len, 2);
	memcpy(*out, &h, sizeof(h));
	memcpy(*out + sizeof(h), a->buf, a->len);
	return 0;
}

static int acpi__layout(u8 *buf, u64 gpa, size_t size, struct acpi_tables *t, const struct aml *a,
			struct acpi_image *out)
{
	size_t rsdp_off = EFI_STUB_SIZE, xsdt_off = ALIGN_UP(rsdp_off + sizeof(struct acpi_rsdp), 8);
	size_t off;
	size_t xsdt_len = sizeof(struct acpi_header) + 8 * t->nr, dsdt_len;
	struct acpi_rsdp *rsdp = (struct acpi_rsdp *)(buf + rsdp_off);
	struct acpi_header *xsdt = (struct acpi_header *)(buf + xsdt_off);
	u8 *dsdt;
	int err;

	if (xsdt_off + xsdt_len > size)
		return -ENOSPC;
	err = acpi__dsdt(a, &dsdt, &dsdt_len);
	if (err)
		return err;
	out->tables[0] = (struct acpi_table_ref){ "RSDP", gpa + rsdp_off, rsdp_off,
						  sizeof(*rsdp) };
	out->tables[1] = (struct acpi_table_ref){ "XSDT", gpa + xsdt_off, xsdt_off, (u32)xsdt_len };
	out->nr_tables = 2;
	off = xsdt_off + xsdt_len;
	err = acpi__place(buf, size, &off, dsdt, dsdt_len, gpa, out);
	free(dsdt);
	if (!err)
		acpi__fadt_set_dsdt(t->data[0], out->tables[2].addr);
	for (unsigned int i = 0; i < t->nr && !err; i++) {
		err = acpi__place(buf, size, &off, t->data[i], t->len[i], gpa, out);
		if (!err)
			memcpy((u8 *)(xsdt + 1) + 8 * i, &out->tables[out->nr_tables - 1].addr, 8);
	}
	if (err)
		return err;
	acpi__header(xsdt, "XSDT", (u32)xsdt_len, 1);
	acpi__checksum(xsdt, xsdt_len, &xsdt->checksum);
	*rsdp = (struct acpi_rsdp){ .revision = 2, .length = sizeof(*rsdp),
				    .xsdt_address = gpa + xsdt_off };
	memcpy(rsdp->signature, "RSD PTR ", 8);
	memcpy(rsdp->oem_id, ACPI_OEM_ID, 6);
	acpi__checksum(rsdp, ACPI_RSDP_V1_SIZE, &rsdp->checksum);
	acpi__checksum(rsdp, sizeof(*rsdp), &rsdp->extended_checksum);
	out->rsdp = gpa + rsdp_off;
	out->reclaim_size = ALIGN_UP(off, SZ_64K);
	return out->reclaim_size <= size ? 0 : -ENOSPC;
}

int acpi__build(const struct acpi_desc *d, u8 *buf, u64 gpa, size_t size, struct acpi_image *out)
{
	struct acpi_tables t = { .nr = 0 };
	struct aml a;
	int err;

	if (!IS_ALIGNED(gpa, SZ_64K) || size < EFI_STUB_SIZE)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	aml__init(&a);
	err = acpi__gen_all(d, &a, &t);
	if (!err)
		err = acpi__layout(buf, gpa, size, &t, &a, out);
	if (!err) {
		struct efi_layout l = { .ram_base = d->ram_base, .ram_size = d->ram_size,
					.region = gpa, .reclaim_size = out->reclaim_size,
					.rsdp = out->rsdp };

		efi__build(buf, &l, out);
	}
	aml__release(&a);
	acpi__free_tables(&t);
	return err;
}
