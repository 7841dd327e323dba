/* Runs every unit test suite; exits non-zero if any test failed. */
#include <stdlib.h>

#include "suites.h"

int main(void)
{
	SRunner *sr = srunner_create(util_suite());
	int failed;

	srunner_add_suite(sr, kernel_suite());
	srunner_add_suite(sr, fdt_suite());
	srunner_add_suite(sr, serial8250_suite());
	srunner_add_suite(sr, mmio_suite());
	srunner_add_suite(sr, psci_suite());
	srunner_add_suite(sr, virtqueue_suite());
	srunner_add_suite(sr, virtio_console_suite());
	srunner_add_suite(sr, hotplug_suite());
	srunner_add_suite(sr, control_suite());
	srunner_add_suite(sr, firmware_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
