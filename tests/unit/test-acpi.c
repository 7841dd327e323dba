/* acpi: the tables and EFI structures of an --acpi guest, read back field by field. */
#include <string.h>

#include "lkvm/acpi.h"
#include "lkvm/efi.h"
#include "suites.h"

Suite *acpi_suite(void)
{
	Suite *s = suite_create("acpi");

	return s;
}
