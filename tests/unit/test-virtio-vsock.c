/*
 * virtio-vsock's side of lkvm that needs no vhost: --vsock's CID parser, a VM without --vsock,
 * and a VM without lkvm's I/O thread (nothing would pass vhost's interrupts on) refused in one
 * line. The data path is the host kernel's: tests/system/t-vsock.sh.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "lkvm/kvm.h"
#include "lkvm/virtio-vsock.h"
#include "lkvm/virtio.h"
#include "suites.h"
#include "vdriver.h"

START_TEST(cid_parse)
{
	static const struct { const char *val; u64 cid; } good[] = {
		{ "3", 3 }, { "0x10", 16 }, { "4294967294", 0xfffffffe }, { "0xfffffffe", 0xfffffffe },
	};
	static const char *const bad[] = {
		"0", "1", "2", "4294967295", "0xffffffff", "0x100000000", "-3", "3x", "", "abc",
		"18446744073709551616",
	};
	const char *why;
	u64 cid;

	for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
		ck_assert_int_eq(virtio_vsock__parse_cid(good[i].val, &cid, &why), 0);
		ck_assert_uint_eq(cid, good[i].cid);
	}
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		why = NULL;
		ck_assert_msg(virtio_vsock__parse_cid(bad[i], &cid, &why) == -EINVAL, "%s", bad[i]);
		ck_assert_ptr_nonnull(why);
	}
}
END_TEST

START_TEST(no_vsock_no_device)
{
	static struct vdrv v;

	vdrv__setup(&v, 1 << 20);
	ck_assert_int_eq(virtio_vsock__init(&v.kvm), 0);
	ck_assert_ptr_null(v.kvm.virtio_devs);
	virtio_vsock__exit(&v.kvm);
	vdrv__teardown(&v);
}
END_TEST

/* vhost's interrupts go through the I/O thread: without one (no KVM here), --vsock is an error. */
START_TEST(no_io_thread_refused)
{
	static struct vdrv v;
	const char *err;

	vdrv__setup(&v, 1 << 20);
	v.cfg.vsock_cid = 3;
	capture_begin(STDERR_FILENO);
	ck_assert_int_eq(virtio_vsock__init(&v.kvm), -EOPNOTSUPP);
	err = capture_end(STDERR_FILENO);
	ck_assert_str_eq(err, "lkvm: --vsock 3: needs lkvm's I/O thread, which passes vhost-vsock's "
			 "interrupts on (KVM has neither ioeventfd nor irqfd)\n");
	ck_assert_ptr_null(v.kvm.virtio_devs);
	vdrv__teardown(&v);
}
END_TEST

Suite *virtio_vsock_suite(void)
{
	Suite *s = suite_create("virtio_vsock");
	TCase *tc = tcase_create("vsock");

	tcase_add_test(tc, cid_parse);
	tcase_add_test(tc, no_vsock_no_device);
	tcase_add_test(tc, no_io_thread_refused);
	suite_add_tcase(s, tc);
	return s;
}
