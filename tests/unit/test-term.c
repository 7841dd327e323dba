/* The console's output path: a bounded buffer, its writer thread, and a reader that stalls. */
#include <check.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lkvm/term.h"
#include "suites.h"

#define PIECE 1000
#define TOTAL (300 * PIECE)	/* several times the buffer and a pipe */

static struct term t;
static int pfd[2];

static void setup(void)
{
	signal(SIGPIPE, SIG_IGN);	/* as lkvm run does */
	ck_assert_int_eq(pipe(pfd), 0);
	ck_assert_int_eq(term__init(&t, -1, pfd[1], NULL), 0);
	t.stall_ns = 300000000;
}

static void teardown(void)
{
	term__restore(&t);
	close(pfd[0]);
	if (pfd[1] >= 0)
		close(pfd[1]);
}

/* Piece i of the output: bytes that tell where they belong. */
static void piece(u8 *buf, unsigned int i)
{
	for (unsigned int j = 0; j < PIECE; j++)
		buf[j] = (u8)(i * 7 + j);
}

/* Writes pieces from..to-1 as a device does: wait while busy, then write. */
static void produce(unsigned int from, unsigned int to)
{
	u8 buf[PIECE];

	for (unsigned int i = from; i < to; i++) {
		while (term__busy(&t, 100))
			;
		piece(buf, i);
		term__write(&t, buf, sizeof(buf));
	}
}

static u64 now_ms(void)
{
	return clock__now_ns() / 1000000;
}

/* The writer thread updates stalled and dropped under out_lock: read them the same way. */
static u64 dropped_bytes(bool *stalled)
{
	u64 d;

	pthread_mutex_lock(&t.out_lock);
	d = t.dropped;
	if (stalled)
		*stalled = t.stalled;
	pthread_mutex_unlock(&t.out_lock);
	return d;
}

static bool stalled(void)
{
	bool s;

	dropped_bytes(&s);
	return s;
}

static void *reader(void *arg)
{
	u8 *got = arg;

	ck_assert_int_eq(read_wait(pfd[0], got, TOTAL), TOTAL);
	return NULL;
}

/* A reader that keeps up gets every byte in order, however far ahead the guest writes. */
START_TEST(slow_reader_gets_everything)
{
	u8 *got = malloc(TOTAL), want[PIECE];
	pthread_t r;

	pthread_create(&r, NULL, reader, got);
	produce(0, TOTAL / PIECE);
	term__restore(&t);		/* flushes */
	pthread_join(r, NULL);
	for (unsigned int i = 0; i < TOTAL / PIECE; i++) {
		piece(want, i);
		ck_assert_msg(!memcmp(got + i * PIECE, want, PIECE), "piece %u differs", i);
	}
	ck_assert_uint_eq(t.dropped, 0);
	free(got);
}
END_TEST

/*
 * Nobody reads: the writer blocks in write(), but writing never blocks a device for longer than
 * the stall time; then output is dropped and counted, and teardown does not hang.
 */
START_TEST(stalled_reader_drops_output)
{
	u64 start = now_ms();

	produce(0, TOTAL / PIECE);
	ck_assert_uint_lt(now_ms() - start, 3000);
	ck_assert(stalled());
	ck_assert_uint_gt(dropped_bytes(NULL), 0);
	start = now_ms();
	term__restore(&t);
	ck_assert_uint_lt(now_ms() - start, 3000);
}
END_TEST

/* After a stall, a reader that comes back gets the new output again. */
START_TEST(reader_comes_back)
{
	u8 *buf = malloc(TOTAL), want[PIECE];
	u64 dropped;

	u64 start;

	produce(0, TOTAL / PIECE);
	ck_assert(stalled());
	dropped = dropped_bytes(NULL);
	/* Everything that was not dropped is still on its way: the pipe, then the buffer. */
	ck_assert_int_eq(read_wait(pfd[0], buf, TOTAL - dropped), TOTAL - dropped);
	/* The writer notes its progress just after its last write() returned. */
	start = now_ms();
	while (stalled() && now_ms() - start < 3000)
		usleep(1000);
	ck_assert(!stalled());
	piece(want, 12345);
	term__write(&t, want, sizeof(want));
	term__restore(&t);
	ck_assert_int_eq(read_wait(pfd[0], buf, PIECE), PIECE);
	ck_assert(!memcmp(buf, want, PIECE));
	ck_assert_uint_eq(t.dropped, dropped);
	free(buf);
}
END_TEST

/* A closed stdout: the guest goes on, its output is dropped at once. */
START_TEST(closed_stdout)
{
	u64 start = now_ms();

	close(pfd[0]);
	pfd[0] = open("/dev/null", O_RDONLY);
	produce(0, 100);
	ck_assert_uint_lt(now_ms() - start, 2000);
	ck_assert(t.gone);
	ck_assert(!term__busy(&t, 0));
}
END_TEST

/*
 * A device that waits while the console is busy sleeps the time it asked for: the wait is on
 * CLOCK_MONOTONIC, so it neither spins (a deadline in the past) nor sleeps too long.
 */
START_TEST(busy_waits_instead_of_spinning)
{
	u8 buf[PIECE] = { 0 };
	u64 start;

	t.stall_ns = 30ULL * 1000000000;	/* no stall during the test */
	/* The pipe full first, so that the writer takes nothing from the buffer while we wait. */
	fcntl(pfd[1], F_SETFL, O_NONBLOCK);
	while (write(pfd[1], buf, sizeof(buf)) > 0)
		;
	fcntl(pfd[1], F_SETFL, 0);
	while (!term__busy(&t, 0))
		term__write(&t, buf, sizeof(buf));
	start = now_ms();
	ck_assert(term__busy(&t, 200));
	ck_assert_uint_ge(now_ms() - start, 190);
	ck_assert_uint_lt(now_ms() - start, 2000);
	t.stall_ns = 0;				/* lets teardown drop the rest at once */
}
END_TEST

/* The console log has every byte, even those stdout's reader never took. */
START_TEST(log_has_everything)
{
	char *path = temp_file("", 0);
	struct stat st;

	term__restore(&t);
	ck_assert_int_eq(term__init(&t, -1, pfd[1], path), 0);
	t.stall_ns = 300000000;
	produce(0, TOTAL / PIECE);
	ck_assert_uint_gt(dropped_bytes(NULL), 0);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_size, TOTAL);
	unlink(path);
	free(path);
}
END_TEST

Suite *term_suite(void)
{
	Suite *s = suite_create("term");
	TCase *tc = tcase_create("output");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, slow_reader_gets_everything);
	tcase_add_test(tc, stalled_reader_drops_output);
	tcase_add_test(tc, reader_comes_back);
	tcase_add_test(tc, closed_stdout);
	tcase_add_test(tc, log_has_everything);
	tcase_add_test(tc, busy_waits_instead_of_spinning);
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);
	return s;
}
