/* Runs every unit test suite; exits non-zero if any test failed. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lkvm/util.h"
#include "suites.h"

char *temp_file(const void *data, size_t len)
{
	char *path = strdup("/tmp/lkvm-unit-XXXXXX");
	int fd;

	ck_assert_ptr_nonnull(path);
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write_all(fd, data, len), 0);
	close(fd);
	return path;
}

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
	srunner_add_suite(sr, virtio_balloon_suite());
	srunner_add_suite(sr, pci_suite());
	srunner_add_suite(sr, virtio_blk_suite());
	srunner_add_suite(sr, virtio_rng_suite());
	srunner_add_suite(sr, virtio_net_suite());
	srunner_add_suite(sr, hotplug_suite());
	srunner_add_suite(sr, control_suite());
	srunner_add_suite(sr, firmware_suite());
	srunner_add_suite(sr, devspec_suite());
	srunner_add_suite(sr, ioevent_suite());
	srunner_add_suite(sr, p9_suite());
	srunner_add_suite(sr, limits_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
