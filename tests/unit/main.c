/* Runs every unit test suite; exits non-zero if any test failed. */
#include <poll.h>
#include <stdio.h>
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

ssize_t read_wait(int fd, void *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&pfd, 1, 5000) <= 0)
			break;
		n = read(fd, (char *)buf + got, len - got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

static char captured[1 << 20];
static int saved_fd = -1;
static FILE *cap;

void capture_begin(int fdno)
{
	fflush(stdout);
	cap = tmpfile();
	ck_assert_ptr_nonnull(cap);
	saved_fd = dup(fdno);
	ck_assert_int_eq(dup2(fileno(cap), fdno), fdno);
}

const char *capture_peek(void)
{
	size_t n = (size_t)pread(fileno(cap), captured, sizeof(captured) - 1, 0);

	captured[n < sizeof(captured) ? n : 0] = '\0';
	return captured;
}

const char *capture_end(int fdno)
{
	size_t n;

	fflush(stdout);
	ck_assert_int_eq(dup2(saved_fd, fdno), fdno);
	close(saved_fd);
	rewind(cap);
	n = fread(captured, 1, sizeof(captured) - 1, cap);
	captured[n] = '\0';
	fclose(cap);
	return captured;
}

int main(void)
{
	SRunner *sr = srunner_create(util_suite());
	int failed;

	srunner_add_suite(sr, help_suite());
	srunner_add_suite(sr, kernel_suite());
	srunner_add_suite(sr, fdt_suite());
	srunner_add_suite(sr, serial8250_suite());
	srunner_add_suite(sr, mmio_suite());
	srunner_add_suite(sr, psci_suite());
	srunner_add_suite(sr, sdei_suite());
	srunner_add_suite(sr, sdei_kvm_suite());
	srunner_add_suite(sr, virtqueue_suite());
	srunner_add_suite(sr, virtio_console_suite());
	srunner_add_suite(sr, virtio_balloon_suite());
	srunner_add_suite(sr, pci_suite());
	srunner_add_suite(sr, virtio_blk_suite());
	srunner_add_suite(sr, virtio_rng_suite());
	srunner_add_suite(sr, virtio_vsock_suite());
	srunner_add_suite(sr, aml_suite());
	srunner_add_suite(sr, acpi_suite());
	srunner_add_suite(sr, acpi_cpuhp_suite());
	srunner_add_suite(sr, virtio_net_suite());
	srunner_add_suite(sr, hotplug_suite());
	srunner_add_suite(sr, control_suite());
	srunner_add_suite(sr, firmware_suite());
	srunner_add_suite(sr, devspec_suite());
	srunner_add_suite(sr, io_thread_suite());
	srunner_add_suite(sr, ioevent_suite());
	srunner_add_suite(sr, p9_suite());
	srunner_add_suite(sr, term_suite());
	srunner_add_suite(sr, limits_suite());
	srunner_add_suite(sr, worker_suite());
	srunner_add_suite(sr, vcpu_features_suite());
	srunner_add_suite(sr, timeline_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
