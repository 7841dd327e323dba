/* One check suite per module under test; main.c runs them all. */
#ifndef LKVM_TESTS_UNIT_SUITES_H
#define LKVM_TESTS_UNIT_SUITES_H

#include <check.h>
#include <stddef.h>
#include <sys/types.h>

Suite *util_suite(void);
Suite *help_suite(void);
Suite *kernel_suite(void);
Suite *fdt_suite(void);
Suite *serial8250_suite(void);
Suite *mmio_suite(void);
Suite *psci_suite(void);
Suite *sdei_suite(void);
Suite *sdei_kvm_suite(void);
Suite *virtqueue_suite(void);
Suite *virtio_console_suite(void);
Suite *virtio_balloon_suite(void);
Suite *pci_suite(void);
Suite *virtio_blk_suite(void);
Suite *virtio_rng_suite(void);
Suite *virtio_net_suite(void);
Suite *hotplug_suite(void);
Suite *control_suite(void);
Suite *firmware_suite(void);
Suite *devspec_suite(void);
Suite *io_thread_suite(void);
Suite *ioevent_suite(void);
Suite *p9_suite(void);
Suite *term_suite(void);
Suite *limits_suite(void);
Suite *worker_suite(void);
Suite *vcpu_features_suite(void);
Suite *virtio_vsock_suite(void);
Suite *aml_suite(void);
Suite *acpi_suite(void);
Suite *acpi_cpuhp_suite(void);
Suite *timeline_suite(void);

/*
 * Reads len bytes from fd, waiting up to 5 s for each piece (the console's output thread writes
 * them a moment later); returns how many arrived.
 */
ssize_t read_wait(int fd, void *buf, size_t len);
/* Sends fdno (stdout or stderr) to a file until capture_end, which returns what was written. */
void capture_begin(int fdno);
const char *capture_end(int fdno);
/* What was written so far, while the capture goes on. */
const char *capture_peek(void);
/* Writes data to a new temporary file; returns its malloc'ed path. */
char *temp_file(const void *data, size_t len);

#endif
