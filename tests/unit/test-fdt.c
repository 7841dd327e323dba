/* fdt: the generic device tree the guest kernel boots from, read back with libfdt. */
#include <libfdt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lkvm/fdt.h"
#include "suites.h"

#define FDT_BUF_SIZE 0x10000

static const u64 test_mpidrs[] = {
	0x80000000,			/* bit 31 is RES1 in MPIDR_EL1: not part of reg */
	0x80000001,
	0x81000102,			/* MT (bit 24) is not an affinity field either */
	0x0300000000ULL | 0x80000000,	/* Aff3 lives in bits [39:32] */
};
static const u8 test_rng[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };

static struct fdt_desc default_desc(void)
{
	struct fdt_desc d = {
		.ram_base = 0x80000000, .ram_size = 0x40000000,
		.nr_cpus = ARRAY_SIZE(test_mpidrs), .mpidrs = test_mpidrs,
		.gic_version = 3, .psci_method = "hvc",
		.bootargs = "console=ttyS0 earlycon", .stdout_path = "/uart@1000000",
		.initrd_start = 0x88000000, .initrd_end = 0x88123456,
		.kaslr_seed = 0x0123456789abcdefULL,
		.rng_seed = test_rng, .rng_seed_size = sizeof(test_rng),
	};
	return d;
}

/* Builds the tree into a new buffer and checks it is a valid blob. */
static void *build(const struct fdt_desc *d)
{
	void *fdt = malloc(FDT_BUF_SIZE);

	ck_assert_ptr_nonnull(fdt);
	ck_assert_int_eq(fdt__build(d, fdt, FDT_BUF_SIZE), 0);
	ck_assert_int_eq(fdt_check_header(fdt), 0);
	ck_assert_uint_le(fdt_totalsize(fdt), FDT_BUF_SIZE);
	return fdt;
}

static int node(const void *fdt, const char *path)
{
	int off = fdt_path_offset(fdt, path);

	ck_assert_msg(off >= 0, "%s: %s", path, fdt_strerror(off));
	return off;
}

/* Returns the property's value and checks its length. */
static const void *prop(const void *fdt, const char *path, const char *name, int len)
{
	int got;
	const void *p = fdt_getprop(fdt, node(fdt, path), name, &got);

	ck_assert_msg(p != NULL, "%s:%s missing", path, name);
	ck_assert_msg(got == len, "%s:%s has %d bytes, expected %d", path, name, got, len);
	return p;
}

static void assert_str_prop(const void *fdt, const char *path, const char *name, const char *val)
{
	ck_assert_mem_eq(prop(fdt, path, name, (int)strlen(val) + 1), val, strlen(val) + 1);
}

static u32 prop_u32(const void *fdt, const char *path, const char *name)
{
	return fdt32_ld(prop(fdt, path, name, 4));
}

static u64 prop_u64(const void *fdt, const char *path, const char *name)
{
	return fdt64_ld(prop(fdt, path, name, 8));
}

static bool has_prop(const void *fdt, const char *path, const char *name)
{
	return fdt_getprop(fdt, node(fdt, path), name, NULL) != NULL;
}

START_TEST(root_and_memory)
{
	struct fdt_desc d = default_desc();
	void *fdt = build(&d);
	const fdt64_t *reg;

	/* Two cells for addresses and sizes, or the 64-bit reg values below are misread. */
	ck_assert_uint_eq(prop_u32(fdt, "/", "#address-cells"), 2);
	ck_assert_uint_eq(prop_u32(fdt, "/", "#size-cells"), 2);
	ck_assert_uint_eq(prop_u32(fdt, "/", "interrupt-parent"), FDT_GIC_PHANDLE);
	assert_str_prop(fdt, "/memory@80000000", "device_type", "memory");
	reg = prop(fdt, "/memory@80000000", "reg", 16);
	ck_assert_uint_eq(fdt64_ld(&reg[0]), 0x80000000);
	ck_assert_uint_eq(fdt64_ld(&reg[1]), 0x40000000);
	free(fdt);
}
END_TEST

START_TEST(one_cpu_node_per_vcpu)
{
	static const char *const names[] = {
		"/cpus/cpu@0", "/cpus/cpu@1", "/cpus/cpu@102", "/cpus/cpu@300000000",
	};
	static const u64 regs[] = { 0, 1, 0x102, 0x300000000ULL };
	struct fdt_desc d = default_desc();
	void *fdt = build(&d);
	int n = 0, off;

	ck_assert_uint_eq(prop_u32(fdt, "/cpus", "#address-cells"), 2);
	ck_assert_uint_eq(prop_u32(fdt, "/cpus", "#size-cells"), 0);
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		/* reg is what the guest matches against its MPIDR to find its own node. */
		ck_assert_uint_eq(prop_u64(fdt, names[i], "reg"), regs[i]);
		assert_str_prop(fdt, names[i], "device_type", "cpu");
		assert_str_prop(fdt, names[i], "enable-method", "psci");
	}
	fdt_for_each_subnode(off, fdt, node(fdt, "/cpus"))
		n++;
	ck_assert_int_eq(n, ARRAY_SIZE(test_mpidrs));
	free(fdt);

	/* A single vCPU gets a single node. */
	d.nr_cpus = 1;
	fdt = build(&d);
	n = 0;
	fdt_for_each_subnode(off, fdt, node(fdt, "/cpus"))
		n++;
	ck_assert_int_eq(n, 1);
	free(fdt);
}
END_TEST

START_TEST(psci_node)
{
	static const char compat[] = "arm,psci-1.0\0arm,psci-0.2\0arm,psci";
	struct fdt_desc d = default_desc();
	void *fdt = build(&d);

	/* The whole list, so older guests that only know arm,psci-0.2 still find PSCI. */
	ck_assert_mem_eq(prop(fdt, "/psci", "compatible", sizeof(compat)), compat, sizeof(compat));
	assert_str_prop(fdt, "/psci", "method", "hvc");
	free(fdt);

	d.psci_method = "smc";
	fdt = build(&d);
	assert_str_prop(fdt, "/psci", "method", "smc");
	free(fdt);
}
END_TEST

/* --sdei: /firmware/sdei, through PSCI's conduit; nothing without it. */
START_TEST(sdei_node)
{
	struct fdt_desc d = default_desc();
	void *fdt = build(&d);

	ck_assert_int_lt(fdt_path_offset(fdt, "/firmware"), 0);
	free(fdt);
	d.sdei = true;
	fdt = build(&d);
	assert_str_prop(fdt, "/firmware/sdei", "compatible", "arm,sdei-1.0");
	assert_str_prop(fdt, "/firmware/sdei", "method", "hvc");
	free(fdt);
	d.psci_method = "smc";
	fdt = build(&d);
	assert_str_prop(fdt, "/firmware/sdei", "method", "smc");
	free(fdt);
}
END_TEST

START_TEST(chosen_node)
{
	struct fdt_desc d = default_desc();
	void *fdt = build(&d);

	assert_str_prop(fdt, "/chosen", "bootargs", "console=ttyS0 earlycon");
	assert_str_prop(fdt, "/chosen", "stdout-path", "/uart@1000000");
	/* 64-bit values: the kernel reads these with their length. */
	ck_assert_uint_eq(prop_u64(fdt, "/chosen", "linux,initrd-start"), 0x88000000);
	ck_assert_uint_eq(prop_u64(fdt, "/chosen", "linux,initrd-end"), 0x88123456);
	ck_assert_uint_eq(prop_u64(fdt, "/chosen", "kaslr-seed"), 0x0123456789abcdefULL);
	ck_assert_mem_eq(prop(fdt, "/chosen", "rng-seed", sizeof(test_rng)), test_rng,
			 sizeof(test_rng));
	free(fdt);
}
END_TEST

START_TEST(chosen_without_initrd_or_bootargs)
{
	struct fdt_desc d = default_desc();
	void *fdt;

	/* An initrd-start/end pair of zeros would make the kernel look for an initrd. */
	d.initrd_start = d.initrd_end = 0x88000000;
	d.bootargs = NULL;
	d.stdout_path = NULL;
	d.rng_seed = NULL;
	d.rng_seed_size = 0;
	fdt = build(&d);
	ck_assert(!has_prop(fdt, "/chosen", "linux,initrd-start"));
	ck_assert(!has_prop(fdt, "/chosen", "linux,initrd-end"));
	ck_assert(!has_prop(fdt, "/chosen", "bootargs"));
	ck_assert(!has_prop(fdt, "/chosen", "stdout-path"));
	ck_assert(!has_prop(fdt, "/chosen", "rng-seed"));
	ck_assert(has_prop(fdt, "/chosen", "kaslr-seed"));
	free(fdt);
}
END_TEST

/* A stand-in for the GIC/timer/UART generators, which need KVM. */
struct fake_gen {
	struct fdt_node_gen gen;
	const char *name;
	int ret;		/* returned instead of adding a node when < 0 */
	int calls;
	int order;		/* value of call_counter when called */
	struct fdt_ctx seen;
};

static int call_counter;

static int fake_gen(const struct fdt_node_gen *self, const struct fdt_ctx *ctx)
{
	struct fake_gen *g = container_of(self, struct fake_gen, gen);

	g->calls++;
	g->order = call_counter++;
	g->seen = *ctx;
	if (g->ret < 0)
		return g->ret;
	if (fdt_begin_node(ctx->fdt, g->name) < 0 ||
	    fdt_property_cell(ctx->fdt, "interrupt-parent", ctx->gic_phandle) < 0)
		return -FDT_ERR_NOSPACE;
	return fdt_end_node(ctx->fdt);
}

START_TEST(generators_add_their_nodes)
{
	struct fake_gen a = { .gen.gen = fake_gen, .name = "intc@8000000" };
	struct fake_gen b = { .gen.gen = fake_gen, .name = "uart@1000000" };
	const struct fdt_node_gen *const gens[] = { &a.gen, &b.gen };
	struct fdt_desc d = default_desc();
	void *fdt;

	d.gens = gens;
	d.nr_gens = ARRAY_SIZE(gens);
	call_counter = 0;
	fdt = build(&d);
	ck_assert_int_eq(a.calls, 1);
	ck_assert_int_eq(b.calls, 1);
	ck_assert_int_lt(a.order, b.order);
	/* Every generator learns what it needs to describe its device. */
	ck_assert_uint_eq(a.seen.gic_phandle, FDT_GIC_PHANDLE);
	ck_assert_uint_eq(a.seen.gic_version, 3);
	ck_assert_uint_eq(a.seen.nr_cpus, ARRAY_SIZE(test_mpidrs));
	ck_assert_uint_eq(b.seen.gic_phandle, FDT_GIC_PHANDLE);
	ck_assert_ptr_eq(a.seen.fdt, fdt);
	/* Their nodes are children of the root. */
	ck_assert_uint_eq(prop_u32(fdt, "/intc@8000000", "interrupt-parent"), FDT_GIC_PHANDLE);
	ck_assert_uint_eq(prop_u32(fdt, "/uart@1000000", "interrupt-parent"), FDT_GIC_PHANDLE);
	free(fdt);

	d.gic_version = 2;
	d.nr_cpus = 1;
	fdt = build(&d);
	ck_assert_uint_eq(a.seen.gic_version, 2);
	ck_assert_uint_eq(a.seen.nr_cpus, 1);
	free(fdt);
}
END_TEST

START_TEST(generator_error_fails_build)
{
	struct fake_gen a = { .gen.gen = fake_gen, .name = "a", .ret = -FDT_ERR_BADVALUE };
	struct fake_gen b = { .gen.gen = fake_gen, .name = "b" };
	const struct fdt_node_gen *const gens[] = { &a.gen, &b.gen };
	struct fdt_desc d = default_desc();
	void *fdt = malloc(FDT_BUF_SIZE);

	d.gens = gens;
	d.nr_gens = ARRAY_SIZE(gens);
	ck_assert_int_eq(fdt__build(&d, fdt, FDT_BUF_SIZE), -FDT_ERR_BADVALUE);
	free(fdt);
}
END_TEST

START_TEST(small_buffer_is_an_error)
{
	struct fdt_desc d = default_desc();
	void *fdt = build(&d);
	size_t need = fdt_totalsize(fdt);

	free(fdt);
	/* Every size too small for the result fails cleanly, without writing past the buffer. */
	for (size_t size = 0; size < need; size += 13) {
		u8 *buf = malloc(size + 64);

		memset(buf, 0xaa, size + 64);
		ck_assert_msg(fdt__build(&d, buf, size) < 0, "built in %zu bytes", size);
		for (size_t i = size; i < size + 64; i++)
			ck_assert_msg(buf[i] == 0xaa, "wrote at %zu of %zu", i, size);
		free(buf);
	}
}
END_TEST

/* --acpi: a stub with /chosen alone (Linux then picks ACPI), and the EFI stub's properties. */
START_TEST(uefi_stub)
{
	struct fdt_uefi u = { .system_table = 0x8fe10000, .mmap_start = 0x8fe10118,
			      .mmap_size = 120, .desc_size = 40, .desc_ver = 1 };
	struct fdt_desc d = default_desc();
	void *fdt;
	int n = 0, off;

	d.uefi = &u;
	fdt = build(&d);
	fdt_for_each_subnode(off, fdt, 0) {
		ck_assert_str_eq(fdt_get_name(fdt, off, NULL), "chosen");
		n++;
	}
	ck_assert_int_eq(n, 1);
	ck_assert_uint_eq(prop_u64(fdt, "/chosen", "linux,uefi-system-table"), 0x8fe10000);
	ck_assert_uint_eq(prop_u64(fdt, "/chosen", "linux,uefi-mmap-start"), 0x8fe10118);
	ck_assert_uint_eq(prop_u32(fdt, "/chosen", "linux,uefi-mmap-size"), 120);
	ck_assert_uint_eq(prop_u32(fdt, "/chosen", "linux,uefi-mmap-desc-size"), 40);
	ck_assert_uint_eq(prop_u32(fdt, "/chosen", "linux,uefi-mmap-desc-ver"), 1);
	ck_assert_uint_eq(prop_u32(fdt, "/chosen", "linux,uefi-secure-boot"), 2);
	assert_str_prop(fdt, "/chosen", "bootargs", "console=ttyS0 earlycon");
	ck_assert_uint_eq(prop_u64(fdt, "/chosen", "linux,initrd-start"), 0x88000000);
	ck_assert(has_prop(fdt, "/chosen", "kaslr-seed"));
	ck_assert(has_prop(fdt, "/chosen", "rng-seed"));
	free(fdt);
}
END_TEST

Suite *fdt_suite(void)
{
	Suite *s = suite_create("fdt");
	TCase *tc = tcase_create("fdt");

	tcase_add_test(tc, root_and_memory);
	tcase_add_test(tc, one_cpu_node_per_vcpu);
	tcase_add_test(tc, psci_node);
	tcase_add_test(tc, sdei_node);
	tcase_add_test(tc, chosen_node);
	tcase_add_test(tc, chosen_without_initrd_or_bootargs);
	tcase_add_test(tc, generators_add_their_nodes);
	tcase_add_test(tc, generator_error_fails_build);
	tcase_add_test(tc, small_buffer_is_an_error);
	tcase_add_test(tc, uefi_stub);
	suite_add_tcase(s, tc);
	return s;
}
