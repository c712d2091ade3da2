/*
 * wire.c over a real SOCK_SEQPACKET socketpair: frame boundaries, the size cap
 * in both directions, peer close without SIGPIPE, nonblocking behaviour, and
 * stray fds that must never stay open in the receiver.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "mmio_limits.h"
#include "wire.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

struct fixture {
	int sv[2]; /* sv[0] is the side under test, sv[1] the peer */
	uint8_t *out;
	uint8_t *in;
};

static int
setup(void **state)
{
	struct fixture *f = test_calloc(1, sizeof(*f));
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, f->sv), 0);
	/* Room for a frame over the cap, whatever the system default. */
	int sndbuf = 4 * MMIO_MAX_FRAME;
	for (int i = 0; i < 2; i++) {
		assert_int_equal(
			setsockopt(f->sv[i], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf)), 0);
	}
	f->out = test_malloc(MMIO_MAX_FRAME + 1);
	f->in = test_malloc(MMIO_MAX_FRAME + 1);
	for (size_t i = 0; i < MMIO_MAX_FRAME + 1; i++) {
		f->out[i] = (uint8_t)(i * 31 + 7);
	}
	/* A wire_send that raised SIGPIPE would kill the test instead of passing. */
	signal(SIGPIPE, SIG_DFL);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	wire_close_fd(&f->sv[0]);
	wire_close_fd(&f->sv[1]);
	test_free(f->out);
	test_free(f->in);
	test_free(f);
	return 0;
}

static void
set_nonblocking(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	assert_true(fl >= 0);
	assert_int_equal(fcntl(fd, F_SETFL, fl | O_NONBLOCK), 0);
}

static int
count_open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	assert_non_null(d);
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] != '.') {
			n++;
		}
	}
	closedir(d);
	return n;
}

/* Sends len bytes of buf from fd with nfds copies of pass attached (SCM_RIGHTS). */
static ssize_t
send_with_fds(int fd, const void *buf, size_t len, int pass, unsigned nfds)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * 16)];
		struct cmsghdr align;
	} control;
	assert_true(nfds >= 1 && nfds <= 16);
	memset(&control, 0, sizeof(control));
	struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = control.buf,
		.msg_controllen = CMSG_SPACE(sizeof(int) * nfds),
	};
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
	for (unsigned i = 0; i < nfds; i++) {
		memcpy(CMSG_DATA(c) + i * sizeof(int), &pass, sizeof(int));
	}
	return sendmsg(fd, &msg, MSG_NOSIGNAL);
}

/* The read end of a pipe sees EOF: every write end, including passed copies, is closed. */
static void
assert_pipe_eof(int rd)
{
	struct pollfd p = {.fd = rd, .events = POLLIN};
	assert_int_equal(poll(&p, 1, 10000), 1);
	assert_true(p.revents & (POLLHUP | POLLIN));
	char c;
	assert_int_equal(read(rd, &c, 1), 0);
}

static void
test_wire_round_trip(void **state)
{
	struct fixture *f = *state;
	static const size_t sizes[] = {1, 5, 100, 4096, 7};

	/* Frames keep their boundaries: no merging, no splitting. */
	for (size_t i = 0; i < ARRAY_LEN(sizes); i++) {
		assert_int_equal(wire_send(f->sv[1], f->out + i, sizes[i]), 0);
	}
	for (size_t i = 0; i < ARRAY_LEN(sizes); i++) {
		memset(f->in, 0, sizes[i] + 1);
		assert_int_equal(wire_recv(f->sv[0], f->in, MMIO_MAX_FRAME), (ssize_t)sizes[i]);
		assert_memory_equal(f->in, f->out + i, sizes[i]);
	}
	/* And back the other way. */
	assert_int_equal(wire_send(f->sv[0], f->out, 3), 0);
	assert_int_equal(wire_recv(f->sv[1], f->in, 3), 3);
	assert_memory_equal(f->in, f->out, 3);
}

static void
test_wire_max_frame_received_whole(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(wire_send(f->sv[1], f->out, MMIO_MAX_FRAME), 0);
	assert_int_equal(wire_recv(f->sv[0], f->in, MMIO_MAX_FRAME), MMIO_MAX_FRAME);
	assert_memory_equal(f->in, f->out, MMIO_MAX_FRAME);
}

static void
test_wire_oversize_frame_rejected(void **state)
{
	struct fixture *f = *state;

	/* A peer that ignores the cap. */
	assert_int_equal(send(f->sv[1], f->out, MMIO_MAX_FRAME + 1, 0), MMIO_MAX_FRAME + 1);
	assert_int_equal(wire_recv(f->sv[0], f->in, MMIO_MAX_FRAME), -EMSGSIZE);
	/* Any frame longer than the caller's buffer, too. */
	assert_int_equal(wire_send(f->sv[1], f->out, 10), 0);
	assert_int_equal(wire_recv(f->sv[0], f->in, 9), -EMSGSIZE);
	/* The cut frames are gone; the next one arrives intact. */
	assert_int_equal(wire_send(f->sv[1], f->out, 10), 0);
	assert_int_equal(wire_recv(f->sv[0], f->in, 10), 10);
	assert_memory_equal(f->in, f->out, 10);
}

static void
test_wire_send_size_limits(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(wire_send(f->sv[0], f->out, 0), -EMSGSIZE);
	assert_int_equal(wire_send(f->sv[0], f->out, MMIO_MAX_FRAME + 1), -EMSGSIZE);
	assert_int_equal(wire_send(f->sv[0], f->out, SIZE_MAX), -EMSGSIZE);
	/* Nothing was sent. */
	set_nonblocking(f->sv[1]);
	assert_int_equal(wire_recv(f->sv[1], f->in, MMIO_MAX_FRAME), -EAGAIN);
}

static void
test_wire_peer_closed(void **state)
{
	struct fixture *f = *state;

	/* What the peer sent before closing is still delivered, then the close. */
	assert_int_equal(wire_send(f->sv[1], f->out, 8), 0);
	wire_close_fd(&f->sv[1]);
	assert_int_equal(f->sv[1], -1);
	assert_int_equal(wire_recv(f->sv[0], f->in, MMIO_MAX_FRAME), 8);
	assert_int_equal(wire_recv(f->sv[0], f->in, MMIO_MAX_FRAME), 0);
	assert_int_equal(wire_recv(f->sv[0], f->in, MMIO_MAX_FRAME), 0);
	/* Sending to a closed peer fails without SIGPIPE, every time. */
	assert_int_equal(wire_send(f->sv[0], f->out, 8), -ECONNRESET);
	assert_int_equal(wire_send(f->sv[0], f->out, 8), -ECONNRESET);
}

static void
test_wire_nonblocking(void **state)
{
	struct fixture *f = *state;

	set_nonblocking(f->sv[0]);
	assert_int_equal(wire_recv(f->sv[0], f->in, MMIO_MAX_FRAME), -EAGAIN);
	/* Fill the peer's queue: a full nonblocking socket is -EAGAIN, not an error. */
	int rc = 0;
	for (int i = 0; i < 100000 && rc == 0; i++) {
		rc = wire_send(f->sv[0], f->out, 1024);
	}
	assert_int_equal(rc, -EAGAIN);
	/* Once the peer reads, sending works again. */
	assert_int_equal(wire_recv(f->sv[1], f->in, MMIO_MAX_FRAME), 1024);
	set_nonblocking(f->sv[1]);
	while (wire_recv(f->sv[1], f->in, MMIO_MAX_FRAME) == 1024) {
	}
	assert_int_equal(wire_recv(f->sv[1], f->in, MMIO_MAX_FRAME), -EAGAIN);
	assert_int_equal(wire_send(f->sv[0], f->out, 1024), 0);
}

static void
test_wire_stray_fd_closed(void **state)
{
	struct fixture *f = *state;
	int p[2];

	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	assert_int_equal(send_with_fds(f->sv[1], f->out, 4, p[1], 1), 4);
	wire_close_fd(&p[1]);
	assert_int_equal(wire_recv(f->sv[0], f->in, MMIO_MAX_FRAME), 4);
	assert_memory_equal(f->in, f->out, 4);
	/* Our copy is gone, so only the one wire_recv received could keep the pipe open. */
	assert_pipe_eof(p[0]);
	wire_close_fd(&p[0]);
}

static void
test_wire_stray_fds_never_leak(void **state)
{
	struct fixture *f = *state;
	int p[2];

	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	int before = count_open_fds();
	for (unsigned i = 0; i < 100; i++) {
		unsigned nfds = 1 + i % 3;
		size_t len = 1 + i;
		assert_int_equal(send_with_fds(f->sv[1], f->out, len, p[1], nfds), (ssize_t)len);
		assert_int_equal(wire_recv(f->sv[0], f->in, MMIO_MAX_FRAME), (ssize_t)len);
	}
	assert_int_equal(count_open_fds(), before);

	/* Alongside a frame that is rejected: more fds than fit, or a frame over the cap. */
	assert_int_equal(send_with_fds(f->sv[1], f->out, 4, p[1], 16), 4);
	assert_int_equal(wire_recv(f->sv[0], f->in, MMIO_MAX_FRAME), -EMSGSIZE);
	assert_int_equal(send_with_fds(f->sv[1], f->out, MMIO_MAX_FRAME + 1, p[1], 2),
			 MMIO_MAX_FRAME + 1);
	assert_int_equal(wire_recv(f->sv[0], f->in, MMIO_MAX_FRAME), -EMSGSIZE);
	assert_int_equal(count_open_fds(), before);

	wire_close_fd(&p[1]);
	assert_pipe_eof(p[0]);
	wire_close_fd(&p[0]);
}

static void
test_wire_close_fd(void **state)
{
	(void)state;
	int p[2];

	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	errno = EXDEV;
	wire_close_fd(&p[1]);
	assert_int_equal(p[1], -1);
	assert_int_equal(errno, EXDEV);
	wire_close_fd(&p[1]);
	assert_int_equal(p[1], -1);
	assert_int_equal(errno, EXDEV);
	assert_pipe_eof(p[0]);
	wire_close_fd(&p[0]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
		T(test_wire_round_trip),
		T(test_wire_max_frame_received_whole),
		T(test_wire_oversize_frame_rejected),
		T(test_wire_send_size_limits),
		T(test_wire_peer_closed),
		T(test_wire_nonblocking),
		T(test_wire_stray_fd_closed),
		T(test_wire_stray_fds_never_leak),
		cmocka_unit_test(test_wire_close_fd),
#undef T
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
