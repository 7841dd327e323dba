/* mmio: routing guest MMIO exits to the device that owns the address. */
#include <errno.h>
#include <string.h>

#include "lkvm/mmio.h"
#include "suites.h"

struct fake_dev {
	struct mmio_region r;
	u8 regs[0x1000];
	int reads, writes;
	u64 last_offset;
	unsigned int last_len;
};

static void fake_read(struct mmio_region *r, u64 offset, u8 *data, unsigned int len)
{
	struct fake_dev *d = container_of(r, struct fake_dev, r);

	d->reads++;
	d->last_offset = offset;
	d->last_len = len;
	memcpy(data, d->regs + offset, len);
}

static void fake_write(struct mmio_region *r, u64 offset, const u8 *data, unsigned int len)
{
	struct fake_dev *d = container_of(r, struct fake_dev, r);

	d->writes++;
	d->last_offset = offset;
	d->last_len = len;
	memcpy(d->regs + offset, data, len);
}

static const struct mmio_ops fake_ops = { .read = fake_read, .write = fake_write };

static void fake_init(struct fake_dev *d, u64 base, u64 size)
{
	memset(d, 0, sizeof(*d));
	d->r.base = base;
	d->r.size = size;
	d->r.ops = &fake_ops;
	for (size_t i = 0; i < sizeof(d->regs); i++)
		d->regs[i] = (u8)(i ^ 0x5a);
}

START_TEST(register_rejects_overlaps)
{
	static const struct { u64 base, size; } clash[] = {
		{ 0x1000, 0x1000 },	/* identical */
		{ 0x0800, 0x0801 },	/* covers the first byte */
		{ 0x1fff, 0x0100 },	/* covers the last byte */
		{ 0x1400, 0x0010 },	/* inside */
		{ 0x0000, 0x10000 },	/* around */
	};
	struct mmio_bus bus = { 0 };
	struct fake_dev a, below, above, c;
	u8 data[4];

	fake_init(&a, 0x1000, 0x1000);
	ck_assert_int_eq(mmio__register(&bus, &a.r), 0);
	for (size_t i = 0; i < ARRAY_SIZE(clash); i++) {
		fake_init(&c, clash[i].base, clash[i].size);
		ck_assert_msg(mmio__register(&bus, &c.r) == -EEXIST, "[%#llx, +%#llx) accepted",
			      (unsigned long long)clash[i].base, (unsigned long long)clash[i].size);
	}
	/* The rejected regions are not on the bus: their addresses stay unbacked. */
	ck_assert(!mmio__access(&bus, 0x0800, data, 1, false));
	ck_assert(!mmio__access(&bus, 0x2000, data, 1, false));
	/* Neighbours touching either end are fine. */
	fake_init(&below, 0x0000, 0x1000);
	fake_init(&above, 0x2000, 0x1000);
	ck_assert_int_eq(mmio__register(&bus, &below.r), 0);
	ck_assert_int_eq(mmio__register(&bus, &above.r), 0);
}
END_TEST

START_TEST(register_rejects_empty_and_wrapping)
{
	struct mmio_bus bus = { 0 };
	struct fake_dev d;

	fake_init(&d, 0x1000, 0);
	ck_assert_int_eq(mmio__register(&bus, &d.r), -EINVAL);
	fake_init(&d, UINT64_MAX - 0xfff, 0x2000);
	ck_assert_int_eq(mmio__register(&bus, &d.r), -EINVAL);
	ck_assert_ptr_null(bus.regions);
}
END_TEST

START_TEST(access_dispatches_with_relative_offsets)
{
	static const unsigned int lens[] = { 1, 2, 4, 8 };
	struct mmio_bus bus = { 0 };
	struct fake_dev a, b;

	fake_init(&a, 0x01000000, 0x1000);
	fake_init(&b, 0x08000800, 0x800);	/* not page aligned: offsets are from the base */
	ck_assert_int_eq(mmio__register(&bus, &a.r), 0);
	ck_assert_int_eq(mmio__register(&bus, &b.r), 0);

	for (size_t i = 0; i < ARRAY_SIZE(lens); i++) {
		unsigned int len = lens[i];
		u8 data[8] = { 1, 2, 3, 4, 5, 6, 7, 8 }, back[8];

		ck_assert(mmio__access(&bus, 0x08000810, data, len, true));
		ck_assert_uint_eq(b.last_offset, 0x10);
		ck_assert_uint_eq(b.last_len, len);
		ck_assert(mmio__access(&bus, 0x08000810, back, len, false));
		ck_assert_uint_eq(b.last_offset, 0x10);
		ck_assert_mem_eq(back, data, len);
	}
	ck_assert_int_eq(b.writes, 4);
	ck_assert_int_eq(b.reads, 4);
	ck_assert_int_eq(a.reads + a.writes, 0);

	/* The last bytes of a region belong to it. */
	{
		u8 data[8];

		ck_assert(mmio__access(&bus, 0x01000ff8, data, 8, false));
		ck_assert_uint_eq(a.last_offset, 0xff8);
		ck_assert_mem_eq(data, a.regs + 0xff8, 8);
		ck_assert(mmio__access(&bus, 0x01000fff, data, 1, false));
		ck_assert_uint_eq(a.last_offset, 0xfff);
	}
}
END_TEST

START_TEST(unbacked_and_straddling_accesses)
{
	struct mmio_bus bus = { 0 };
	struct fake_dev d;
	u8 data[8];
	static const u8 zeros[8];

	fake_init(&d, 0x1000, 0x100);
	ck_assert_int_eq(mmio__register(&bus, &d.r), 0);

	/* Nothing there: reads give zeros, so the guest never sees stale stack contents. */
	memset(data, 0xff, sizeof(data));
	ck_assert(!mmio__access(&bus, 0x5000, data, 8, false));
	ck_assert_mem_eq(data, zeros, 8);
	ck_assert(!mmio__access(&bus, 0x5000, data, 4, true));

	/* Straddling the region's end or start is not the device's business. */
	memset(data, 0xff, sizeof(data));
	ck_assert(!mmio__access(&bus, 0x10fe, data, 4, false));
	ck_assert_mem_eq(data, zeros, 4);
	ck_assert(!mmio__access(&bus, 0x0fff, data, 2, false));
	ck_assert(!mmio__access(&bus, 0x10fc, data, 8, true));
	/* Near the top of the address space, addr + len must not wrap into the region. */
	ck_assert(!mmio__access(&bus, UINT64_MAX - 3, data, 8, false));
	ck_assert_int_eq(d.reads + d.writes, 0);
}
END_TEST

START_TEST(bad_lengths_rejected)
{
	struct mmio_bus bus = { 0 };
	struct fake_dev d;
	u8 data[16] = { 0 };

	fake_init(&d, 0x1000, 0x100);
	ck_assert_int_eq(mmio__register(&bus, &d.r), 0);
	ck_assert(!mmio__access(&bus, 0x1000, data, 0, false));
	ck_assert(!mmio__access(&bus, 0x1000, data, 0, true));
	ck_assert(!mmio__access(&bus, 0x1000, data, 9, false));
	ck_assert(!mmio__access(&bus, 0x1000, data, 16, true));
	ck_assert_int_eq(d.reads + d.writes, 0);
}
END_TEST

Suite *mmio_suite(void)
{
	Suite *s = suite_create("mmio");
	TCase *tc = tcase_create("mmio");

	tcase_add_test(tc, register_rejects_overlaps);
	tcase_add_test(tc, register_rejects_empty_and_wrapping);
	tcase_add_test(tc, access_dispatches_with_relative_offsets);
	tcase_add_test(tc, unbacked_and_straddling_accesses);
	tcase_add_test(tc, bad_lengths_rejected);
	suite_add_tcase(s, tc);
	return s;
}
