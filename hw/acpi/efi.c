/*
 * What the EFI stub would hand Linux, without UEFI firmware: a system table whose configuration
 * table points at the RSDP, and a memory map. Linux reads them through /chosen's linux,uefi-*
 * properties (drivers/firmware/efi/fdtparams.c, efi-init.c).
 *
 * There are no runtime services: the system table's pointer is NULL and an EFI_RT_PROPERTIES
 * table says that none is supported. Without that table Linux (arm-runtime.c) would turn runtime
 * services on, as nothing in the memory map needs a virtual mapping, and would then call
 * ResetSystem through the NULL pointer at reboot and power-off (efi_reboot, efi_power_off).
 *
 * As the stub does, the configuration table also has an empty Linux memreserve list: the GICv3
 * ITS driver records its LPI tables there (efi_mem_reserve_persistent) and warns without it.
 */
#include "lkvm/acpi.h"
#include "lkvm/efi.h"

#include <string.h>
#include <zlib.h>

#define EFI_SYSTEM_TABLE_SIGNATURE	0x5453595320494249ULL	/* "IBI SYST" */
#define EFI_2_70_SYSTEM_TABLE_REVISION	((2U << 16) | 70)
#define EFI_RT_PROPERTIES_TABLE_VERSION	1

struct efi_guid {
	u32 a;
	u16 b, c;
	u8 d[8];
};

static const struct efi_guid efi_acpi20_guid = {
	0x8868e871, 0xe4f1, 0x11d3, { 0xbc, 0x22, 0x00, 0x80, 0xc7, 0x3c, 0x88, 0x81 } };
static const struct efi_guid efi_rt_properties_guid = {
	0xeb66918a, 0x7eef, 0x402a, { 0x84, 0x2e, 0x93, 0x1d, 0x21, 0xc3, 0x8a, 0xe9 } };
static const struct efi_guid linux_memreserve_guid = {
	0x888eb0c6, 0x8ede, 0x4ff5, { 0xa8, 0xf0, 0x9a, 0xee, 0x5c, 0xb9, 0x77, 0xc2 } };

struct efi_table_hdr {
	u64 signature;
	u32 revision;
	u32 headersize;
	u32 crc32;
	u32 reserved;
};

struct efi_system_table {
	struct efi_table_hdr hdr;
	u64 fw_vendor;
	u32 fw_revision;
	u32 pad;
	u64 con_in_handle, con_in, con_out_handle, con_out, stderr_handle, stderr;
	u64 runtime, boottime;
	u64 nr_tables;
	u64 tables;
};

struct efi_config_table {
	struct efi_guid guid;
	u64 table;
};

struct efi_rt_properties {
	u16 version;
	u16 length;
	u32 runtime_services_supported;
};

/* struct linux_efi_memreserve's head: Linux links its lists from next. */
struct efi_memreserve {
	int32_t size;
	int32_t count;
	u64 next;
};

/* The stub's layout, from the start of the firmware region. */
struct efi_stub {
	struct efi_system_table systab;
	u16 vendor[8];
	struct efi_config_table config[3];
	struct efi_rt_properties rt_prop;
	struct efi_memreserve memreserve;
	struct efi_memory_desc mmap[EFI_MMAP_MAX];
};
_Static_assert(sizeof(struct efi_stub) <= EFI_STUB_SIZE, "EFI_STUB_SIZE too small");
_Static_assert(sizeof(struct efi_system_table) == 120, "EFI system table layout");
_Static_assert(sizeof(struct efi_memory_desc) == 40, "EFI memory descriptor layout");

#define EFI_OFF(member)	((u64)offsetof(struct efi_stub, member))

static unsigned int efi__mmap(struct efi_memory_desc *md, const struct efi_layout *l)
{
	struct { u32 type; u64 start, end; } r[EFI_MMAP_MAX] = {
		{ EFI_CONVENTIONAL_MEMORY, l->ram_base, l->region },
		{ EFI_ACPI_RECLAIM_MEMORY, l->region, l->region + l->reclaim_size },
		{ EFI_CONVENTIONAL_MEMORY, l->region + l->reclaim_size, l->ram_base + l->ram_size },
	};
	unsigned int n = 0;

	for (unsigned int i = 0; i < EFI_MMAP_MAX; i++) {
		if (r[i].end <= r[i].start)
			continue;
		md[n++] = (struct efi_memory_desc){
			.type = r[i].type, .phys_addr = r[i].start,
			.num_pages = (r[i].end - r[i].start) >> EFI_PAGE_SHIFT,
			.attribute = EFI_MEMORY_WB,
		};
	}
	return n;
}

void efi__build(void *buf, const struct efi_layout *l, struct acpi_image *out)
{
	static const char vendor[] = "lkvm";
	struct efi_stub *s = buf;
	unsigned int nr;

	memset(s, 0, sizeof(*s));
	for (size_t i = 0; i < sizeof(vendor); i++)
		s->vendor[i] = (u16)vendor[i];		/* UCS-2 */
	s->config[0] = (struct efi_config_table){ efi_acpi20_guid, l->rsdp };
	s->config[1] = (struct efi_config_table){ efi_rt_properties_guid,
						  l->region + EFI_OFF(rt_prop) };
	s->config[2] = (struct efi_config_table){ linux_memreserve_guid,
						  l->region + EFI_OFF(memreserve) };
	s->rt_prop = (struct efi_rt_properties){
		.version = EFI_RT_PROPERTIES_TABLE_VERSION, .length = sizeof(s->rt_prop),
		.runtime_services_supported = 0,
	};
	nr = efi__mmap(s->mmap, l);
	s->systab = (struct efi_system_table){
		.hdr = { .signature = EFI_SYSTEM_TABLE_SIGNATURE,
			 .revision = EFI_2_70_SYSTEM_TABLE_REVISION,
			 .headersize = sizeof(s->systab) },
		.fw_vendor = l->region + EFI_OFF(vendor),
		.fw_revision = 1,
		.nr_tables = ARRAY_SIZE(s->config),
		.tables = l->region + EFI_OFF(config),
	};
	s->systab.hdr.crc32 = (u32)crc32(0, (const Bytef *)&s->systab, sizeof(s->systab));
	out->efi_systab = l->region + EFI_OFF(systab);
	out->efi_mmap = l->region + EFI_OFF(mmap);
	out->efi_mmap_size = nr * sizeof(struct efi_memory_desc);
	out->efi_desc_size = sizeof(struct efi_memory_desc);
	out->efi_desc_ver = EFI_MMAP_DESC_VERSION;
}
