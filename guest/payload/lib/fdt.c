/* The boot path: a small device tree walker, and the key=value words of /chosen/bootargs. */
#include "lib.h"

#define FDT_MAGIC	0xd00dfeedU
#define FDT_BEGIN_NODE	1
#define FDT_END_NODE	2
#define FDT_PROP	3
#define FDT_NOP		4

struct boot_info boot;
struct params par = { .user = true, .test = "all" };
struct resume_ctx resume_ctxs[MAX_CPUS] __attribute__((aligned(1 << RC_SHIFT)));
static char bootargs[512];

size_t strlen(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

bool streq(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return *a == *b;
}

static bool prefix(const char *s, const char *p)
{
	while (*p && *s == *p)
		s++, p++;
	return !*p;
}

void *memset(void *d, int c, size_t n)
{
	u8 *p = d;

	while (n--)
		*p++ = (u8)c;
	return d;
}

void *memcpy(void *d, const void *s, size_t n)
{
	u8 *p = d;
	const u8 *q = s;

	while (n--)
		*p++ = *q++;
	return d;
}

/* The device tree is big-endian and only 4-byte aligned: read bytes (MMU off, strict align). */
static u32 be32(const void *p)
{
	const u8 *b = p;

	return (u32)b[0] << 24 | (u32)b[1] << 16 | (u32)b[2] << 8 | b[3];
}

static u64 be64(const void *p)
{
	return (u64)be32(p) << 32 | be32((const u8 *)p + 4);
}

static void copy_str(char *d, size_t size, const char *s, u32 len)
{
	size_t n = len < size ? len : size - 1;

	memcpy(d, s, n);
	d[n] = '\0';
}

static void fdt_prop(const char *path, const char *name, const u8 *val, u32 len)
{
	if (streq(path, "/chosen") && streq(name, "bootargs"))
		copy_str(bootargs, sizeof(bootargs), (const char *)val, len);
	else if (prefix(path, "/memory") && streq(name, "reg") && len >= 16) {
		/* lkvm's root has #address-cells = #size-cells = 2 */
		boot.ram_base = be64(val);
		boot.ram_size = be64(val + 8);
	} else if (streq(path, "/psci") && streq(name, "method"))
		copy_str(boot.psci_method, sizeof(boot.psci_method), (const char *)val, len);
	else if (streq(path, "/firmware/sdei") && streq(name, "method"))
		copy_str(boot.sdei_method, sizeof(boot.sdei_method), (const char *)val, len);
	else if (streq(path, "/firmware/sdei") && streq(name, "compatible"))
		copy_str(boot.sdei_compat, sizeof(boot.sdei_compat), (const char *)val, len);
	else if (prefix(path, "/virtio_mmio@") && streq(name, "reg") && len >= 8 &&
		 boot.nr_virtio_mmio < ARRAY_SIZE(boot.virtio_mmio))
		boot.virtio_mmio[boot.nr_virtio_mmio++] = be64(val);
	else if (prefix(path, "/pcie@") && streq(name, "reg") && len >= 8)
		boot.pci_ecam = be64(val);
	else if (prefix(path, "/pcie@") && streq(name, "ranges") && len >= 28)
		boot.pci_mmio = be64(val + 12);	/* PCI address (3 cells), CPU address */
}

void fdt_parse(u64 dtb)
{
	const u8 *fdt = (const u8 *)dtb, *p;
	const char *strings;
	char path[256] = "";
	size_t plen[16];
	int depth = 0;

	boot.dtb = dtb;
	if (!dtb || be32(fdt) != FDT_MAGIC) {
		print("%s: no device tree at 0x%lx\n", payload_name, dtb);
		return;
	}
	p = fdt + be32(fdt + 8);
	strings = (const char *)fdt + be32(fdt + 12);
	for (;;) {
		u32 tok = be32(p);

		p += 4;
		if (tok == FDT_BEGIN_NODE) {
			const char *name = (const char *)p;
			size_t len = strlen(name), at = strlen(path);

			p += (len + 4) & ~3UL;
			if (depth >= (int)ARRAY_SIZE(plen))
				return;
			plen[depth] = at;
			if (depth == 2 && streq(path, "/cpus") && prefix(name, "cpu@"))
				boot.dt_cpus++;
			if (depth > 0 && at + len + 2 < sizeof(path)) {
				path[at] = '/';
				memcpy(path + at + 1, name, len + 1);
			}
			depth++;
		} else if (tok == FDT_END_NODE) {
			if (--depth < 0)
				return;
			path[plen[depth]] = '\0';
		} else if (tok == FDT_PROP) {
			u32 len = be32(p);

			fdt_prop(path, strings + be32(p + 4), p + 8, len);
			p += 8 + ((len + 3) & ~3U);
		} else if (tok != FDT_NOP) {
			return;		/* FDT_END, or garbage */
		}
	}
}

static u64 parse_num(const char *s, bool *ok)
{
	u64 v = 0, base = 10;

	*ok = *s != '\0';
	if (s[0] == '0' && s[1] == 'x')
		base = 16, s += 2;
	for (; *s; s++) {
		unsigned int d = *s >= '0' && *s <= '9' ? (unsigned int)(*s - '0') :
				 *s >= 'a' && *s <= 'f' ? (unsigned int)(*s - 'a' + 10) : 99;
		if (d >= base)
			*ok = false;
		v = v * base + d;
	}
	return v;
}

static void parse_word(char *w)
{
	bool ok;
	u64 v;

	if (prefix(w, "mode="))
		par.user = !streq(w + 5, "kernel");
	else if (prefix(w, "conduit="))
		par.smc = streq(w + 8, "smc");
	else if (prefix(w, "test="))
		par.test = w + 5;
	else if (prefix(w, "n=")) {
		v = parse_num(w + 2, &ok);
		if (ok)
			par.n = v;
	} else if (prefix(w, "cpus=")) {
		v = parse_num(w + 5, &ok);
		if (ok)
			par.cpus = (unsigned int)v;
	} else {
		v = parse_num(w, &ok);
		if (ok)
			par.n = v;
	}
}

static void parse_bootargs(void)
{
	char *s = bootargs;

	while (*s) {
		char *w;

		while (*s == ' ')
			s++;
		w = s;
		while (*s && *s != ' ')
			s++;
		if (*s)
			*s++ = '\0';
		if (*w)
			parse_word(w);
	}
}

/* From _start on vCPU 0. */
void boot_main(u64 dtb);
void boot_main(u64 dtb)
{
	fdt_parse(dtb);
	parse_bootargs();
	print("%s: mode=%s conduit=%s test=%s, %u CPUs and %lu MiB RAM in the device tree\n",
	      payload_name, par.user ? "user" : "kernel", par.smc ? "smc" : "hvc", par.test,
	      boot.dt_cpus, boot.ram_size >> 20);
	payload_main();
	finish();
}
