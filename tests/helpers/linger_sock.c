#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <arpa/inet.h>
#include <cmocka.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "linger_sock.h"

void
linger_open(struct linger_sock *s, int linger_s)
{
	int small = 4096;
	struct sockaddr_in addr = {.sin_family = AF_INET,
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(addr);
	s->listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(s->listener >= 0);
	/* A small receive window, set before the connection exists, fills quickly. */
	assert_int_equal(setsockopt(s->listener, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)), 0);
	assert_int_equal(bind(s->listener, (struct sockaddr *)&addr, sizeof(addr)), 0);
	assert_int_equal(getsockname(s->listener, (struct sockaddr *)&addr, &len), 0);
	assert_int_equal(listen(s->listener, 1), 0);
	s->tcp = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(s->tcp >= 0);
	assert_int_equal(setsockopt(s->tcp, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small)), 0);
	assert_int_equal(connect(s->tcp, (struct sockaddr *)&addr, sizeof(addr)), 0);
	s->peer = accept4(s->listener, NULL, NULL, SOCK_CLOEXEC);
	assert_true(s->peer >= 0);
	char junk[4096];
	memset(junk, 'j', sizeof(junk));
	while (send(s->tcp, junk, sizeof(junk), MSG_DONTWAIT) > 0) {
	}
	assert_int_equal(errno, EAGAIN);
	struct linger lg = {.l_onoff = 1, .l_linger = linger_s};
	assert_int_equal(setsockopt(s->tcp, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)), 0);
}

/* Reads the peer to its end, letting a sleeping close of the sleeper finish; closes the rest. */
void
linger_release(struct linger_sock *s, int guard_ms)
{
	char buf[65536];
	for (;;) {
		struct pollfd pfd = {.fd = s->peer, .events = POLLIN};
		assert_int_equal(poll(&pfd, 1, guard_ms), 1);
		ssize_t n = read(s->peer, buf, sizeof(buf));
		assert_true(n >= 0);
		if (n == 0) {
			break;
		}
	}
	close(s->peer);
	close(s->listener);
}
