/*
 * fd_closer: closes made inline until threads start, then queued to them and
 * never waited for; a socket set to linger is told not to first, and stopping
 * waits for every queued close.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/fd_closer.h"
#include "linger_sock.h"
#include "raw_client.h"

#define GUARD_MS 20000

/* True once every copy of the pipe's write end is closed: its read end sees EOF. */
static bool
write_end_gone(int read_end)
{
	struct pollfd pfd = {.fd = read_end, .events = POLLIN};
	char c;
	return poll(&pfd, 1, GUARD_MS) == 1 && read(read_end, &c, 1) == 0;
}

static void
test_inline_until_started(void **state)
{
	(void)state;
	int p[2];
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	assert_false(fd_closer_threaded());
	errno = 1234;
	fd_closer_close(&p[1]);
	assert_int_equal(p[1], -1);
	assert_int_equal(errno, 1234);
	/* Closed already, before any wait: inline. */
	struct pollfd pfd = {.fd = p[0], .events = POLLIN};
	assert_int_equal(poll(&pfd, 1, 0), 1);
	fd_closer_close(&p[1]); /* -1: nothing */
	close(p[0]);
}

static void
test_threaded_closes_all(void **state)
{
	(void)state;
	int p[2];
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	assert_int_equal(fd_closer_start(), 0);
	assert_true(fd_closer_threaded());
	/* Many copies, more than the queue first holds: all closed, none leaked. */
	for (int i = 0; i < 1000; i++) {
		int copy = fcntl(p[1], F_DUPFD_CLOEXEC, 0);
		assert_true(copy >= 0);
		fd_closer_close(&copy);
		assert_int_equal(copy, -1);
	}
	fd_closer_close(&p[1]);
	assert_true(write_end_gone(p[0]));
	close(p[0]);
	fd_closer_stop(GUARD_MS);
	assert_false(fd_closer_threaded());
}

/*
 * A passed TCP socket set to linger for minutes, with unsent data and a peer
 * not reading: its close would sleep on the closer thread for all that time.
 * It is told not to linger first, so stopping (which waits for every close)
 * returns, and closes queued behind it are made too.
 */
static void
test_lingering_socket_defused(void **state)
{
	(void)state;
	struct linger_sock s;
	linger_open(&s, 600);
	int p[2];
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	assert_int_equal(fd_closer_start(), 0);
	fd_closer_close(&s.tcp);
	fd_closer_close(&p[1]);
	assert_true(write_end_gone(p[0]));
	fd_closer_stop(GUARD_MS);
	assert_false(fd_closer_threaded());
	close(p[0]);
	linger_release(&s, GUARD_MS);
}

/*
 * The same socket queued inside a connection (sent to it, never read): closing
 * the connection would release it, lingering, on a closer thread. It is taken
 * out and defused first, so stopping returns here too.
 */
static void
test_socket_drained_before_close(void **state)
{
	(void)state;
	struct linger_sock s;
	linger_open(&s, 600);
	int pair[2];
	assert_int_equal(
		socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, pair), 0);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(raw_send_fds(pair[1], "x", 1, &s.tcp, 1), 0);
	}
	close(s.tcp);
	close(pair[1]);
	assert_int_equal(fd_closer_start(), 0);
	fd_closer_close_socket(&pair[0]);
	assert_int_equal(pair[0], -1);
	fd_closer_stop(GUARD_MS);
	assert_false(fd_closer_threaded());
	linger_release(&s, GUARD_MS);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_inline_until_started),
		cmocka_unit_test(test_threaded_closes_all),
		cmocka_unit_test(test_lingering_socket_defused),
		cmocka_unit_test(test_socket_drained_before_close),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
