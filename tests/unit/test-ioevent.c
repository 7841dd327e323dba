/*
 * The virtio I/O thread (sources, their removal while handlers run), the fallbacks of ioeventfd
 * and irqfd when there is no KVM (the transport then keeps its MMIO-exit path), and the
 * status-backed level interrupt of virtio-mmio and virtio-pci over a stand-in irqfd.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "lkvm/kvm.h"
#include "lkvm/memory-map.h"
#include "lkvm/term.h"
#include "lkvm/virtio-console.h"
#include "lkvm/virtio-ioevent.h"
#include "lkvm/virtio.h"
#include "suites.h"
#include "vdriver.h"

struct probe {
	struct virtio_io_source src;
	_Atomic unsigned int calls;
	_Atomic bool in_handler, done;
	unsigned int sleep_ms;		/* how long the handler takes */
	bool unwatch_self;
};

static struct {
	struct kvm kvm;
} t;

static void sleep_ms(unsigned int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static void probe__handle(struct virtio_io_source *src)
{
	struct probe *p = container_of(src, struct probe, src);
	u64 count;

	/* No ck_assert here: this is the I/O thread; a missed call fails the test anyway. */
	if (read(src->fd, &count, sizeof(count)) != sizeof(count))
		return;
	atomic_store(&p->in_handler, true);
	sleep_ms(p->sleep_ms);
	if (p->unwatch_self)
		virtio_io__unwatch(&t.kvm, src);	/* must not wait for itself */
	atomic_fetch_add(&p->calls, 1);
	atomic_store(&p->done, true);
}

static void probe__init(struct probe *p)
{
	memset(p, 0, sizeof(*p));
	p->src.fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ck_assert_int_ge(p->src.fd, 0);
	p->src.handle = probe__handle;
}

static void kick(int fd)
{
	u64 one = 1;

	ck_assert_int_eq(write_all(fd, &one, sizeof(one)), 0);
}

/* Waits up to 5 s for the handler to have run n times in all. */
static bool wait_calls(struct probe *p, unsigned int n)
{
	for (int i = 0; i < 500 && atomic_load(&p->calls) < n; i++)
		sleep_ms(10);
	return atomic_load(&p->calls) >= n;
}

static void setup(void)
{
	memset(&t, 0, sizeof(t));
	t.kvm.vm_fd = -1;		/* no KVM: no ioeventfd, no irqfd */
	ck_assert_int_eq(virtio_io__start(&t.kvm), 0);
	ck_assert_ptr_nonnull(t.kvm.vio);
}

static void teardown(void)
{
	virtio_io__stop(&t.kvm);
	ck_assert_ptr_null(t.kvm.vio);
}

/* --- the I/O thread --- */

START_TEST(handler_runs_on_the_io_thread)
{
	struct probe p;

	probe__init(&p);
	ck_assert_int_eq(virtio_io__watch(&t.kvm, &p.src), 0);
	kick(p.src.fd);
	ck_assert(wait_calls(&p, 1));
	kick(p.src.fd);
	ck_assert(wait_calls(&p, 2));
	virtio_io__unwatch(&t.kvm, &p.src);
	kick(p.src.fd);
	sleep_ms(100);
	ck_assert_uint_eq(atomic_load(&p.calls), 2);	/* removed: not called again */
	close(p.src.fd);
}
END_TEST

START_TEST(many_sources)
{
	struct probe p[8];

	for (unsigned int i = 0; i < 8; i++) {
		probe__init(&p[i]);
		ck_assert_int_eq(virtio_io__watch(&t.kvm, &p[i].src), 0);
	}
	for (unsigned int i = 0; i < 8; i += 2)
		kick(p[i].src.fd);
	for (unsigned int i = 0; i < 8; i += 2)
		ck_assert(wait_calls(&p[i], 1));
	for (unsigned int i = 0; i < 8; i++) {
		ck_assert_uint_eq(atomic_load(&p[i].calls), i % 2 ? 0 : 1);
		virtio_io__unwatch(&t.kvm, &p[i].src);
		close(p[i].src.fd);
	}
}
END_TEST

/* What a transport's teardown relies on: after unwatch the owner may free the source. */
START_TEST(unwatch_waits_for_a_running_handler)
{
	struct probe p;

	probe__init(&p);
	p.sleep_ms = 300;
	ck_assert_int_eq(virtio_io__watch(&t.kvm, &p.src), 0);
	kick(p.src.fd);
	for (int i = 0; i < 500 && !atomic_load(&p.in_handler); i++)
		sleep_ms(10);
	ck_assert(atomic_load(&p.in_handler));
	virtio_io__unwatch(&t.kvm, &p.src);
	ck_assert(atomic_load(&p.done));
	close(p.src.fd);
}
END_TEST

START_TEST(handler_may_unwatch_itself)
{
	struct probe p;

	probe__init(&p);
	p.unwatch_self = true;
	ck_assert_int_eq(virtio_io__watch(&t.kvm, &p.src), 0);
	kick(p.src.fd);
	ck_assert(wait_calls(&p, 1));
	kick(p.src.fd);
	sleep_ms(100);
	ck_assert_uint_eq(atomic_load(&p.calls), 1);
	virtio_io__unwatch(&t.kvm, &p.src);	/* twice is harmless */
	close(p.src.fd);
}
END_TEST

START_TEST(bad_fd_is_refused)
{
	struct probe p;

	probe__init(&p);
	close(p.src.fd);
	p.src.fd = -1;
	ck_assert_int_lt(virtio_io__watch(&t.kvm, &p.src), 0);
	virtio_io__unwatch(&t.kvm, &p.src);	/* never added: a no-op */
}
END_TEST

START_TEST(no_thread_no_sources)
{
	struct probe p;

	virtio_io__stop(&t.kvm);
	virtio_io__stop(&t.kvm);		/* twice is harmless */
	probe__init(&p);
	ck_assert_int_eq(virtio_io__watch(&t.kvm, &p.src), -ENODEV);
	virtio_io__unwatch(&t.kvm, &p.src);
	close(p.src.fd);
}
END_TEST

/* --- fallbacks without KVM --- */

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
	virtio_io__stop(&t.kvm);
	ck_assert_int_eq(virtio_ioevent__add(&vq, LKVM_VIRTIO_MMIO_BASE + 0x50, 4, true, 0),
			 -EOPNOTSUPP);
	virtio_dev__destroy(&dev);
}
END_TEST

static void no_resample(struct virtio_irq *irq)
{
	(void)irq;
	ck_abort_msg("resampled without an irqfd");
}

START_TEST(irq_without_kvm_uses_the_irq_line)
{
	struct virtio_irq irq;

	ck_assert(!virtio_irq__init(&irq, &t.kvm, LKVM_VIRTIO_SPI_BASE, no_resample));
	ck_assert_int_eq(irq.fd, -1);
	ck_assert_int_eq(irq.resample.fd, -1);
	virtio_irq__set(&irq, true);		/* KVM_IRQ_LINE on no VM: fails quietly */
	virtio_irq__set(&irq, false);
	virtio_irq__exit(&irq);
}
END_TEST

/* --- status-backed level interrupts --- */

/* What an irqfd got written since the last look: the raises through it. */
static u64 raises(int fd)
{
	u64 count = 0;

	if (read(fd, &count, sizeof(count)) != sizeof(count))
		return 0;
	return count;
}

/*
 * A virtio_status_irq whose irqfd is an eventfd of the test's (KVM would own the other end): a
 * write to it is a raise; lowering goes to KVM_IRQ_LINE, which has no VM here.
 */
static void fake_irqfd(struct virtio_status_irq *si)
{
	virtio_status_irq__init(si, &t.kvm, LKVM_VIRTIO_SPI_BASE, "test");
	ck_assert_int_eq(si->irq.fd, -1);			/* no KVM: KVM_IRQ_LINE */
	si->irq.fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ck_assert_int_ge(si->irq.fd, 0);
}

static void fake_irqfd_exit(struct virtio_status_irq *si)
{
	close(si->irq.fd);
	si->irq.fd = -1;
	virtio_status_irq__exit(si);
}

static void resample(struct virtio_status_irq *si)
{
	si->irq.resampled(&si->irq);
}

/* Up once while the status is not 0; up again at each EOI until the guest acknowledged it all. */
START_TEST(status_irq_raises_and_resamples)
{
	struct virtio_status_irq si;

	fake_irqfd(&si);
	resample(&si);
	ck_assert_uint_eq(raises(si.irq.fd), 0);		/* nothing pending */
	virtio_status_irq__raise(&si, 1);
	ck_assert_uint_eq(raises(si.irq.fd), 1);
	virtio_status_irq__raise(&si, 2);			/* already up */
	virtio_status_irq__raise(&si, 1);
	ck_assert_uint_eq(raises(si.irq.fd), 0);
	ck_assert_uint_eq(virtio_status_irq__status(&si), 3);
	resample(&si);						/* EOI, nothing acknowledged */
	ck_assert_uint_eq(raises(si.irq.fd), 1);
	ck_assert_uint_eq(virtio_status_irq__ack(&si, 1), 3);
	resample(&si);						/* bit 1 still pending */
	ck_assert_uint_eq(raises(si.irq.fd), 1);
	ck_assert_uint_eq(virtio_status_irq__ack(&si, ~0U), 2);
	ck_assert_uint_eq(virtio_status_irq__status(&si), 0);
	resample(&si);
	ck_assert_uint_eq(raises(si.irq.fd), 0);
	ck_assert_uint_eq(virtio_status_irq__ack(&si, ~0U), 0);	/* twice: nothing to lower */
	virtio_status_irq__raise(&si, 2);			/* and up again from 0 */
	ck_assert_uint_eq(raises(si.irq.fd), 1);
	ck_assert_uint_eq(si.irq.raises, 4);
	fake_irqfd_exit(&si);
}
END_TEST

/* Masked (INTx Disable): the status stays, the line does not go up, nor on resample. */
START_TEST(status_irq_masked)
{
	struct virtio_status_irq si;

	fake_irqfd(&si);
	virtio_status_irq__mask(&si, true);
	virtio_status_irq__raise(&si, 1);
	resample(&si);
	ck_assert_uint_eq(raises(si.irq.fd), 0);
	ck_assert_uint_eq(virtio_status_irq__status(&si), 1);
	virtio_status_irq__mask(&si, false);			/* pending: up now */
	ck_assert_uint_eq(raises(si.irq.fd), 1);
	virtio_status_irq__mask(&si, false);			/* no change: no raise */
	ck_assert_uint_eq(raises(si.irq.fd), 0);
	virtio_status_irq__mask(&si, true);			/* lowered, not raised */
	resample(&si);
	ck_assert_uint_eq(raises(si.irq.fd), 0);
	ck_assert_uint_eq(virtio_status_irq__ack(&si, 1), 1);	/* acknowledged while masked */
	virtio_status_irq__mask(&si, false);
	resample(&si);
	ck_assert_uint_eq(raises(si.irq.fd), 0);
	fake_irqfd_exit(&si);
}
END_TEST

/* The resample comes from the I/O thread: KVM signals the resamplefd at the guest's EOI. */
START_TEST(status_irq_resample_on_the_io_thread)
{
	struct virtio_status_irq si;
	u64 n = 0;

	fake_irqfd(&si);
	si.irq.resample.fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ck_assert_int_ge(si.irq.resample.fd, 0);
	ck_assert_int_eq(virtio_io__watch(&t.kvm, &si.irq.resample), 0);
	virtio_status_irq__raise(&si, 1);
	ck_assert_uint_eq(raises(si.irq.fd), 1);
	kick(si.irq.resample.fd);
	for (int i = 0; i < 500 && !n; i++) {
		sleep_ms(10);
		n = raises(si.irq.fd);
	}
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(si.irq.resamples, 1);
	virtio_io__unwatch(&t.kvm, &si.irq.resample);
	close(si.irq.resample.fd);
	si.irq.resample.fd = -1;
	fake_irqfd_exit(&si);
}
END_TEST

/* Without an irqfd the same through KVM_IRQ_LINE (no VM here: it fails quietly). */
START_TEST(status_irq_without_kvm)
{
	struct virtio_status_irq si;

	virtio_status_irq__init(&si, &t.kvm, LKVM_VIRTIO_SPI_BASE, "test");
	ck_assert_int_eq(si.irq.fd, -1);
	virtio_status_irq__raise(&si, 4);
	virtio_status_irq__mask(&si, true);
	virtio_status_irq__mask(&si, false);
	ck_assert_uint_eq(virtio_status_irq__ack(&si, 4), 4);
	ck_assert_uint_eq(si.irq.raises, 0);
	virtio_status_irq__raise(&si, 1);
	virtio_status_irq__exit(&si);				/* lowers it on the way out */
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
	ck_assert_int_eq(virtio_io__start(&dv.kvm), 0);		/* the thread, and no KVM */
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
	virtio_io__stop(&dv.kvm);
	term__restore(&term);
	close(pipefd[0]);
	close(pipefd[1]);
	vdrv__teardown(&dv);
}
END_TEST

Suite *ioevent_suite(void)
{
	Suite *s = suite_create("ioevent");
	TCase *io = tcase_create("io-thread");
	TCase *fb = tcase_create("fallback");

	tcase_add_checked_fixture(io, setup, teardown);
	tcase_add_test(io, handler_runs_on_the_io_thread);
	tcase_add_test(io, many_sources);
	tcase_add_test(io, unwatch_waits_for_a_running_handler);
	tcase_add_test(io, handler_may_unwatch_itself);
	tcase_add_test(io, bad_fd_is_refused);
	tcase_add_test(io, no_thread_no_sources);
	suite_add_tcase(s, io);

	tcase_add_checked_fixture(fb, setup, teardown);
	tcase_add_test(fb, ioevent_without_kvm_is_refused);
	tcase_add_test(fb, irq_without_kvm_uses_the_irq_line);
	tcase_add_test(fb, console_falls_back_to_mmio_exits);
	tcase_add_test(fb, status_irq_raises_and_resamples);
	tcase_add_test(fb, status_irq_masked);
	tcase_add_test(fb, status_irq_resample_on_the_io_thread);
	tcase_add_test(fb, status_irq_without_kvm);
	suite_add_tcase(s, fb);
	return s;
}
