/*
 * The VM's I/O thread (sources, their removal while handlers run), the fallback of an irq_line
 * when there is no KVM, and the status-backed level interrupt of virtio-mmio and PCI's INTx over a
 * stand-in irqfd.
 */
#include <errno.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "lkvm/io-thread.h"
#include "lkvm/irq.h"
#include "lkvm/kvm.h"
#include "lkvm/memory-map.h"
#include "suites.h"

struct probe {
	struct io_source src;
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

static void probe__handle(struct io_source *src)
{
	struct probe *p = container_of(src, struct probe, src);
	u64 count;

	/* No ck_assert here: this is the I/O thread; a missed call fails the test anyway. */
	if (read(src->fd, &count, sizeof(count)) != sizeof(count))
		return;
	atomic_store(&p->in_handler, true);
	sleep_ms(p->sleep_ms);
	if (p->unwatch_self)
		io_thread__unwatch(&t.kvm, src);	/* must not wait for itself */
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
	ck_assert_int_eq(io_thread__start(&t.kvm), 0);
	ck_assert_ptr_nonnull(t.kvm.io_thread);
}

static void teardown(void)
{
	io_thread__stop(&t.kvm);
	ck_assert_ptr_null(t.kvm.io_thread);
}

/* --- the I/O thread --- */

START_TEST(handler_runs_on_the_io_thread)
{
	struct probe p;

	probe__init(&p);
	ck_assert_int_eq(io_thread__watch(&t.kvm, &p.src), 0);
	kick(p.src.fd);
	ck_assert(wait_calls(&p, 1));
	kick(p.src.fd);
	ck_assert(wait_calls(&p, 2));
	io_thread__unwatch(&t.kvm, &p.src);
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
		ck_assert_int_eq(io_thread__watch(&t.kvm, &p[i].src), 0);
	}
	for (unsigned int i = 0; i < 8; i += 2)
		kick(p[i].src.fd);
	for (unsigned int i = 0; i < 8; i += 2)
		ck_assert(wait_calls(&p[i], 1));
	for (unsigned int i = 0; i < 8; i++) {
		ck_assert_uint_eq(atomic_load(&p[i].calls), i % 2 ? 0 : 1);
		io_thread__unwatch(&t.kvm, &p[i].src);
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
	ck_assert_int_eq(io_thread__watch(&t.kvm, &p.src), 0);
	kick(p.src.fd);
	for (int i = 0; i < 500 && !atomic_load(&p.in_handler); i++)
		sleep_ms(10);
	ck_assert(atomic_load(&p.in_handler));
	io_thread__unwatch(&t.kvm, &p.src);
	ck_assert(atomic_load(&p.done));
	close(p.src.fd);
}
END_TEST

START_TEST(handler_may_unwatch_itself)
{
	struct probe p;

	probe__init(&p);
	p.unwatch_self = true;
	ck_assert_int_eq(io_thread__watch(&t.kvm, &p.src), 0);
	kick(p.src.fd);
	ck_assert(wait_calls(&p, 1));
	kick(p.src.fd);
	sleep_ms(100);
	ck_assert_uint_eq(atomic_load(&p.calls), 1);
	io_thread__unwatch(&t.kvm, &p.src);	/* twice is harmless */
	close(p.src.fd);
}
END_TEST

START_TEST(bad_fd_is_refused)
{
	struct probe p;

	probe__init(&p);
	close(p.src.fd);
	p.src.fd = -1;
	ck_assert_int_lt(io_thread__watch(&t.kvm, &p.src), 0);
	io_thread__unwatch(&t.kvm, &p.src);	/* never added: a no-op */
}
END_TEST

START_TEST(no_thread_no_sources)
{
	struct probe p;

	io_thread__stop(&t.kvm);
	io_thread__stop(&t.kvm);		/* twice is harmless */
	probe__init(&p);
	ck_assert_int_eq(io_thread__watch(&t.kvm, &p.src), -ENODEV);
	io_thread__unwatch(&t.kvm, &p.src);
	close(p.src.fd);
}
END_TEST

/* --- level-triggered interrupts --- */

static void no_resample(struct irq_line *line)
{
	(void)line;
	ck_abort_msg("resampled without an irqfd");
}

START_TEST(irq_without_kvm_uses_the_irq_line)
{
	struct irq_line line;

	ck_assert(!irq_line__init(&line, &t.kvm, LKVM_VIRTIO_SPI_BASE, no_resample));
	ck_assert_int_eq(line.fd, -1);
	ck_assert_int_eq(line.resample.fd, -1);
	irq_line__set(&line, true);		/* KVM_IRQ_LINE on no VM: fails quietly */
	irq_line__set(&line, false);
	irq_line__exit(&line);
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
 * A status_irq whose irqfd is an eventfd of the test's (KVM would own the other end): a
 * write to it is a raise; lowering goes to KVM_IRQ_LINE, which has no VM here.
 */
static void fake_irqfd(struct status_irq *si)
{
	status_irq__init(si, &t.kvm, LKVM_VIRTIO_SPI_BASE, "test");
	ck_assert_int_eq(si->line.fd, -1);			/* no KVM: KVM_IRQ_LINE */
	si->line.fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ck_assert_int_ge(si->line.fd, 0);
}

static void fake_irqfd_exit(struct status_irq *si)
{
	close(si->line.fd);
	si->line.fd = -1;
	status_irq__exit(si);
}

static void resample(struct status_irq *si)
{
	si->line.resampled(&si->line);
}

/* Up once while the status is not 0; up again at each EOI until the guest acknowledged it all. */
START_TEST(status_irq_raises_and_resamples)
{
	struct status_irq si;

	fake_irqfd(&si);
	resample(&si);
	ck_assert_uint_eq(raises(si.line.fd), 0);		/* nothing pending */
	status_irq__raise(&si, 1);
	ck_assert_uint_eq(raises(si.line.fd), 1);
	status_irq__raise(&si, 2);			/* already up */
	status_irq__raise(&si, 1);
	ck_assert_uint_eq(raises(si.line.fd), 0);
	ck_assert_uint_eq(status_irq__status(&si), 3);
	resample(&si);						/* EOI, nothing acknowledged */
	ck_assert_uint_eq(raises(si.line.fd), 1);
	ck_assert_uint_eq(status_irq__ack(&si, 1), 3);
	resample(&si);						/* bit 1 still pending */
	ck_assert_uint_eq(raises(si.line.fd), 1);
	ck_assert_uint_eq(status_irq__ack(&si, ~0U), 2);
	ck_assert_uint_eq(status_irq__status(&si), 0);
	resample(&si);
	ck_assert_uint_eq(raises(si.line.fd), 0);
	ck_assert_uint_eq(status_irq__ack(&si, ~0U), 0);	/* twice: nothing to lower */
	status_irq__raise(&si, 2);			/* and up again from 0 */
	ck_assert_uint_eq(raises(si.line.fd), 1);
	ck_assert_uint_eq(si.line.raises, 4);
	fake_irqfd_exit(&si);
}
END_TEST

/* Masked (INTx Disable): the status stays, the line does not go up, nor on resample. */
START_TEST(status_irq_masked)
{
	struct status_irq si;

	fake_irqfd(&si);
	status_irq__mask(&si, true);
	status_irq__raise(&si, 1);
	resample(&si);
	ck_assert_uint_eq(raises(si.line.fd), 0);
	ck_assert_uint_eq(status_irq__status(&si), 1);
	status_irq__mask(&si, false);			/* pending: up now */
	ck_assert_uint_eq(raises(si.line.fd), 1);
	status_irq__mask(&si, false);			/* no change: no raise */
	ck_assert_uint_eq(raises(si.line.fd), 0);
	status_irq__mask(&si, true);			/* lowered, not raised */
	resample(&si);
	ck_assert_uint_eq(raises(si.line.fd), 0);
	ck_assert_uint_eq(status_irq__ack(&si, 1), 1);	/* acknowledged while masked */
	status_irq__mask(&si, false);
	resample(&si);
	ck_assert_uint_eq(raises(si.line.fd), 0);
	fake_irqfd_exit(&si);
}
END_TEST

/* The resample comes from the I/O thread: KVM signals the resamplefd at the guest's EOI. */
START_TEST(status_irq_resample_on_the_io_thread)
{
	struct status_irq si;
	u64 n = 0;

	fake_irqfd(&si);
	si.line.resample.fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ck_assert_int_ge(si.line.resample.fd, 0);
	ck_assert_int_eq(io_thread__watch(&t.kvm, &si.line.resample), 0);
	status_irq__raise(&si, 1);
	ck_assert_uint_eq(raises(si.line.fd), 1);
	kick(si.line.resample.fd);
	for (int i = 0; i < 500 && !n; i++) {
		sleep_ms(10);
		n = raises(si.line.fd);
	}
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(si.line.resamples, 1);
	io_thread__unwatch(&t.kvm, &si.line.resample);
	close(si.line.resample.fd);
	si.line.resample.fd = -1;
	fake_irqfd_exit(&si);
}
END_TEST

/* Without an irqfd the same through KVM_IRQ_LINE (no VM here: it fails quietly). */
START_TEST(status_irq_without_kvm)
{
	struct status_irq si;

	status_irq__init(&si, &t.kvm, LKVM_VIRTIO_SPI_BASE, "test");
	ck_assert_int_eq(si.line.fd, -1);
	status_irq__raise(&si, 4);
	status_irq__mask(&si, true);
	status_irq__mask(&si, false);
	ck_assert_uint_eq(status_irq__ack(&si, 4), 4);
	ck_assert_uint_eq(si.line.raises, 0);
	status_irq__raise(&si, 1);
	status_irq__exit(&si);				/* lowers it on the way out */
}
END_TEST

Suite *io_thread_suite(void)
{
	Suite *s = suite_create("io-thread");
	TCase *io = tcase_create("io-thread");
	TCase *irq = tcase_create("irq");

	tcase_add_checked_fixture(io, setup, teardown);
	tcase_add_test(io, handler_runs_on_the_io_thread);
	tcase_add_test(io, many_sources);
	tcase_add_test(io, unwatch_waits_for_a_running_handler);
	tcase_add_test(io, handler_may_unwatch_itself);
	tcase_add_test(io, bad_fd_is_refused);
	tcase_add_test(io, no_thread_no_sources);
	suite_add_tcase(s, io);

	tcase_add_checked_fixture(irq, setup, teardown);
	tcase_add_test(irq, irq_without_kvm_uses_the_irq_line);
	tcase_add_test(irq, status_irq_raises_and_resamples);
	tcase_add_test(irq, status_irq_masked);
	tcase_add_test(irq, status_irq_resample_on_the_io_thread);
	tcase_add_test(irq, status_irq_without_kvm);
	suite_add_tcase(s, irq);
	return s;
}
