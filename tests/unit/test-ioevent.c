/*
 * Queue doorbells through ioeventfds when there is no KVM: adding one is refused and the transport
 * keeps its MMIO-exit path.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "lkvm/io-thread.h"
#include "lkvm/kvm.h"
#include "lkvm/memory-map.h"
#include "lkvm/term.h"
#include "lkvm/virtio-console.h"
#include "lkvm/virtio-ioevent.h"
#include "lkvm/virtio.h"
#include "suites.h"
#include "vdriver.h"

static struct {
	struct kvm kvm;
} t;

static void setup(void)
{
	memset(&t, 0, sizeof(t));
	t.kvm.vm_fd = -1;		/* no KVM: no ioeventfd */
	ck_assert_int_eq(io_thread__start(&t.kvm), 0);
	ck_assert_ptr_nonnull(t.kvm.io_thread);
}

static void teardown(void)
{
	io_thread__stop(&t.kvm);
	ck_assert_ptr_null(t.kvm.io_thread);
}

static const struct virtio_dev_ops dummy_ops = { .name = "dummy" };

START_TEST(ioevent_without_kvm_is_refused)
{
	struct virtio_dev dev;
	struct virtq vq;

	virtio_dev__init(&dev, &t.kvm, &dummy_ops, &vq, 1);
	ck_assert_int_eq(virtio_ioevent__add(&vq, LKVM_VIRTIO_MMIO_BASE + 0x50, 4, true, 0),
			 -EOPNOTSUPP);
	ck_assert_ptr_null(vq.ioevent);
	virtio_ioevent__del(&vq);		/* none: a no-op */
	io_thread__stop(&t.kvm);
	ck_assert_int_eq(virtio_ioevent__add(&vq, LKVM_VIRTIO_MMIO_BASE + 0x50, 4, true, 0),
			 -EOPNOTSUPP);
	virtio_dev__destroy(&dev);
}
END_TEST

/* With the I/O thread there but no ioeventfd, QueueNotify still works through the MMIO exit. */
START_TEST(console_falls_back_to_mmio_exits)
{
	static struct vdrv dv;
	const u64 buf = G(0x8000);
	struct term term;
	char out[8] = { 0 };
	int pipefd[2];

	vdrv__setup(&dv, 1 << 20);
	dv.qsize = 4;
	dv.cfg.console = CONSOLE_VIRTIO;
	ck_assert_int_eq(io_thread__start(&dv.kvm), 0);		/* the thread, and no KVM */
	ck_assert_int_eq(pipe2(pipefd, O_NONBLOCK), 0);
	ck_assert_int_eq(term__init(&term, -1, pipefd[1], NULL), 0);
	dv.kvm.term = &term;
	ck_assert_int_eq(virtio_console__init(&dv.kvm), 0);
	vdrv__negotiate(&dv, 0);
	vdrv__setup_queue(&dv, 1);				/* the transmit queue only */
	vdrv__driver_ok(&dv);
	ck_assert_ptr_null(dv.kvm.virtio_devs->vqs[1].ioevent);
	memcpy(vdrv__host(&dv, buf), "hi\n", 3);
	vdrv__desc(&dv, 1, 0, buf, 3, 0, 0);
	vdrv__post(&dv, 1, 0);
	ck_assert_uint_eq(vdrv__used(&dv, 1)->idx, 1);	/* done on this thread, during the write */
	ck_assert_int_eq(read_wait(pipefd[0], out, 3), 3);
	ck_assert_str_eq(out, "hi\n");
	virtio_console__exit(&dv.kvm);
	io_thread__stop(&dv.kvm);
	term__restore(&term);
	close(pipefd[0]);
	close(pipefd[1]);
	vdrv__teardown(&dv);
}
END_TEST

Suite *ioevent_suite(void)
{
	Suite *s = suite_create("ioevent");
	TCase *fb = tcase_create("fallback");

	tcase_add_checked_fixture(fb, setup, teardown);
	tcase_add_test(fb, ioevent_without_kvm_is_refused);
	tcase_add_test(fb, console_falls_back_to_mmio_exits);
	suite_add_tcase(s, fb);
	return s;
}
