/* aml: the AML builder's encodings, byte for byte (ACPI 6.5 chapter 20). */
#include <errno.h>
#include <string.h>

#include "lkvm/aml.h"
#include "suites.h"

#define EXPECT(a, ...)							\
	do {								\
		static const u8 want_[] = { __VA_ARGS__ };		\
		ck_assert_int_eq(aml__finish(a), 0);			\
		ck_assert_uint_eq((a)->len, sizeof(want_));		\
		ck_assert_mem_eq((a)->buf, want_, sizeof(want_));	\
	} while (0)

START_TEST(test_integers)
{
	struct aml a;

	aml__init(&a);
	aml__integer(&a, 0);
	aml__integer(&a, 1);
	aml__integer(&a, 2);
	aml__integer(&a, 0xff);
	aml__integer(&a, 0x100);
	aml__integer(&a, 0xffff);
	aml__integer(&a, 0x10000);
	aml__integer(&a, 0xffffffff);
	aml__integer(&a, 0x100000000ULL);
	EXPECT(&a, 0x00, 0x01, 0x0a, 0x02, 0x0a, 0xff, 0x0b, 0x00, 0x01, 0x0b, 0xff, 0xff,
	       0x0c, 0x00, 0x00, 0x01, 0x00, 0x0c, 0xff, 0xff, 0xff, 0xff,
	       0x0e, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00);
	aml__release(&a);
}
END_TEST

START_TEST(test_strings_and_eisaid)
{
	struct aml a;

	aml__init(&a);
	aml__string(&a, "AB");
	aml__eisaid(&a, "PNP0A08");
	EXPECT(&a, 0x0d, 'A', 'B', 0x00, 0x0c, 0x41, 0xd0, 0x0a, 0x08);
	aml__release(&a);
	aml__init(&a);
	aml__eisaid(&a, "pnp0A08");
	ck_assert_int_eq(aml__finish(&a), -EINVAL);
	aml__release(&a);
	aml__init(&a);
	aml__string(&a, "\xc3\xa9");
	ck_assert_int_eq(aml__finish(&a), -EINVAL);
	aml__release(&a);
}
END_TEST

START_TEST(test_name_paths)
{
	struct aml a;

	aml__init(&a);
	aml__name_path(&a, "_HID");
	aml__name_path(&a, "C1");
	aml__name_path(&a, "\\_SB.PCI0");
	aml__name_path(&a, "^^A.B.C");
	aml__name_path(&a, "\\");
	EXPECT(&a, '_', 'H', 'I', 'D', 'C', '1', '_', '_',
	       '\\', 0x2e, '_', 'S', 'B', '_', 'P', 'C', 'I', '0',
	       '^', '^', 0x2f, 3, 'A', '_', '_', '_', 'B', '_', '_', '_', 'C', '_', '_', '_',
	       '\\', 0x00);
	aml__release(&a);

	static const char *const bad[] = { "ABCDE", "1ABC", "a", "A..B", "A.", ".A", "A-B" };

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		aml__init(&a);
		aml__name_path(&a, bad[i]);
		ck_assert_msg(aml__finish(&a) == -EINVAL, "%s accepted", bad[i]);
		aml__release(&a);
	}
}
END_TEST

START_TEST(test_name_and_method)
{
	struct aml a;

	aml__init(&a);
	aml__name_integer(&a, "_UID", 5);
	aml__method_return_integer(&a, "_STA", 0xf);
	aml__method_begin(&a, "_EJ0", 1, true);
	aml__end(&a);
	EXPECT(&a, 0x08, '_', 'U', 'I', 'D', 0x0a, 0x05,
	       0x14, 0x09, '_', 'S', 'T', 'A', 0x00, 0xa4, 0x0a, 0x0f,
	       0x14, 0x06, '_', 'E', 'J', '0', 0x09);
	aml__release(&a);
}
END_TEST

/* Fills a Scope with n bytes of contents and checks its PkgLength's encoding. */
static void check_pkglen(size_t n, const u8 *want, size_t want_len)
{
	struct aml a;
	u8 filler[5000];

	memset(filler, 0xa3, sizeof(filler));	/* Noop */
	aml__init(&a);
	aml__scope_begin(&a, "\\");
	aml__bytes(&a, filler, n - 2);		/* with the name's 2 bytes */
	aml__end(&a);
	ck_assert_int_eq(aml__finish(&a), 0);
	ck_assert_uint_eq(a.len, 1 + want_len + n);
	ck_assert_mem_eq(a.buf + 1, want, want_len);
	aml__release(&a);
}

/* A PkgLength counts itself: 62 bytes of contents fit one byte (63), 63 need two (65). */
START_TEST(test_pkglen_boundaries)
{
	check_pkglen(62, (const u8[]){ 63 }, 1);
	check_pkglen(63, (const u8[]){ 0x41, 0x04 }, 2);		/* 65 */
	check_pkglen(4093, (const u8[]){ 0x4f, 0xff }, 2);		/* 4095 */
	check_pkglen(4094, (const u8[]){ 0x81, 0x00, 0x01 }, 3);	/* 4097 */
}
END_TEST

START_TEST(test_pkglen_large)
{
	struct aml a;
	static u8 big[(1 << 20) - 3];

	aml__init(&a);
	aml__scope_begin(&a, "\\");
	aml__bytes(&a, big, sizeof(big) - 2);
	aml__end(&a);
	ck_assert_int_eq(aml__finish(&a), 0);
	/* (1 << 20) - 3 + 4 bytes of PkgLength = 0x100001 */
	ck_assert_mem_eq(a.buf + 1, ((const u8[]){ 0xc1, 0x00, 0x00, 0x01 }), 4);
	aml__release(&a);
}
END_TEST

START_TEST(test_package_buffer)
{
	struct aml a;

	aml__init(&a);
	aml__package_begin(&a, 2);
	aml__integer(&a, 1);
	aml__string(&a, "");
	aml__end(&a);
	aml__buffer(&a, "\x01\x02", 2);
	EXPECT(&a, 0x12, 0x05, 0x02, 0x01, 0x0d, 0x00,
	       0x11, 0x05, 0x0a, 0x02, 0x01, 0x02);
	aml__release(&a);
}
END_TEST

START_TEST(test_resource_templates)
{
	struct aml a;

	aml__init(&a);
	aml__rt_begin(&a);
	aml__rt_memory32_fixed(&a, true, 0x01000000, 0x1000);
	aml__rt_interrupt(&a, AML_IRQ_CONSUMER, 32);
	aml__rt_end(&a);
	EXPECT(&a, 0x11, 0x1a, 0x0a, 0x17,
	       0x86, 0x09, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x10, 0x00, 0x00,
	       0x89, 0x06, 0x00, 0x01, 0x01, 0x20, 0x00, 0x00, 0x00,
	       0x79, 0x00);
	aml__release(&a);

	aml__init(&a);
	aml__rt_begin(&a);
	aml__rt_word_bus_number(&a, 0, 0xff);
	aml__rt_dword_memory(&a, true, false, 0x20000000, 0x3fffffff);
	aml__rt_qword_memory(&a, false, true, 0x8000000000ULL, 0x80ffffffffULL);
	aml__rt_end(&a);
	ck_assert_int_eq(aml__finish(&a), 0);
	/* Buffer, PkgLength (2 bytes: 16 + 26 + 46 + 2 + 4 > 63), BytePrefix, size */
	ck_assert_uint_eq(a.len, 1 + 2 + 2 + 16 + 26 + 46 + 2);
	ck_assert_mem_eq(a.buf + 5, ((const u8[]){ 0x88, 0x0d, 0x00, 0x02, 0x0c, 0x00,
						   0x00, 0x00, 0x00, 0x00, 0xff, 0x00,
						   0x00, 0x00, 0x00, 0x01 }), 16);
	ck_assert_mem_eq(a.buf + 21, ((const u8[]){ 0x87, 0x17, 0x00, 0x00, 0x0c, 0x01,
						    0, 0, 0, 0, 0, 0, 0, 0x20, 0xff, 0xff, 0xff,
						    0x3f, 0, 0, 0, 0, 0, 0, 0, 0x20 }), 26);
	ck_assert_mem_eq(a.buf + 47, ((const u8[]){ 0x8a, 0x2b, 0x00, 0x00, 0x0d, 0x03 }), 6);
	ck_assert_mem_eq(a.buf + 47 + 38, ((const u8[]){ 0, 0, 0, 0, 1, 0, 0, 0 }), 8);
	aml__release(&a);
}
END_TEST

START_TEST(test_control_flow_and_fields)
{
	struct aml a;

	aml__init(&a);
	aml__opregion(&a, "REGS", AML_REGION_SYSTEM_MEMORY, 0x1000, 0x10);
	aml__field_begin(&a, "REGS", AML_FIELD_DWORD_ACC);
	aml__field_unit(&a, "STAT", 32);
	aml__field_skip(&a, 64);
	aml__field_unit(&a, "CTRL", 1);
	aml__end(&a);
	aml__if_begin(&a);
	aml__op(&a, AML_LEQUAL);
	aml__arg(&a, 0);
	aml__integer(&a, 1);
	aml__op(&a, AML_NOTIFY);
	aml__name_path(&a, "C001");
	aml__integer(&a, 3);
	aml__end(&a);
	aml__else_begin(&a);
	aml__op(&a, AML_STORE);
	aml__local(&a, 0);
	aml__name_path(&a, "CTRL");
	aml__end(&a);
	EXPECT(&a, 0x5b, 0x80, 'R', 'E', 'G', 'S', 0x00, 0x0b, 0x00, 0x10, 0x0a, 0x10,
	       0x5b, 0x81, 0x13, 'R', 'E', 'G', 'S', 0x03, 'S', 'T', 'A', 'T', 0x20,
	       0x00, 0x40, 0x04, 'C', 'T', 'R', 'L', 0x01,
	       0xa0, 0x0b, 0x93, 0x68, 0x01, 0x86, 'C', '0', '0', '1', 0x0a, 0x03,
	       0xa1, 0x07, 0x70, 0x60, 'C', 'T', 'R', 'L');
	aml__release(&a);
}
END_TEST

START_TEST(test_mutex)
{
	struct aml a;

	aml__init(&a);
	aml__mutex(&a, "LOCK", 0);
	aml__acquire(&a, "LOCK", 0xffff);
	aml__release_mutex(&a, "LOCK");
	EXPECT(&a, 0x5b, 0x01, 'L', 'O', 'C', 'K', 0x00,
	       0x5b, 0x23, 'L', 'O', 'C', 'K', 0xff, 0xff,
	       0x5b, 0x27, 'L', 'O', 'C', 'K');
	aml__release(&a);
}
END_TEST

START_TEST(test_errors)
{
	struct aml a;

	/* An Else with no If right before it, an unbalanced end, a term left open. */
	aml__init(&a);
	aml__else_begin(&a);
	ck_assert_int_eq(aml__finish(&a), -EINVAL);
	aml__release(&a);
	aml__init(&a);
	aml__end(&a);
	ck_assert_int_eq(aml__finish(&a), -EINVAL);
	aml__release(&a);
	aml__init(&a);
	aml__device_begin(&a, "DEV0");
	ck_assert_int_eq(aml__finish(&a), -EINVAL);
	aml__release(&a);
	/* Too deep. */
	aml__init(&a);
	for (int i = 0; i <= AML_MAX_DEPTH; i++)
		aml__scope_begin(&a, "\\");
	ck_assert_int_eq(aml__finish(&a), -E2BIG);
	aml__release(&a);
	/* Sticky: nothing is written after the first error. */
	aml__init(&a);
	aml__local(&a, 8);
	aml__integer(&a, 5);
	ck_assert_int_eq(aml__finish(&a), -EINVAL);
	ck_assert_uint_eq(a.len, 0);
	aml__release(&a);
}
END_TEST

Suite *aml_suite(void)
{
	Suite *s = suite_create("aml");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_integers);
	tcase_add_test(tc, test_strings_and_eisaid);
	tcase_add_test(tc, test_name_paths);
	tcase_add_test(tc, test_name_and_method);
	tcase_add_test(tc, test_pkglen_boundaries);
	tcase_add_test(tc, test_pkglen_large);
	tcase_add_test(tc, test_package_buffer);
	tcase_add_test(tc, test_resource_templates);
	tcase_add_test(tc, test_control_flow_and_fields);
	tcase_add_test(tc, test_mutex);
	tcase_add_test(tc, test_errors);
	suite_add_tcase(s, tc);
	return s;
}
