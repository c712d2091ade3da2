#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mmio_limits.h"
#include "wire.h"

/* Room for a few fds: more than that sets MSG_CTRUNC and the kernel closes the rest. */
#define WIRE_MAX_STRAY_FDS 8

int
wire_send(int fd, const void *buf, size_t len)
{
	if (len == 0 || len > MMIO_MAX_FRAME) {
		return -EMSGSIZE;
	}
	for (;;) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
		if (n >= 0) {
			/* SOCK_SEQPACKET sends a packet whole or not at all. */
			return 0;
		}
		if (errno == EINTR) {
			continue;
		}
		if (errno == EWOULDBLOCK) {
			return -EAGAIN;
		}
		if (errno == EPIPE || errno == ECONNRESET || errno == ENOTCONN) {
			return -ECONNRESET;
		}
		return -errno;
	}
}

static void
close_passed_fds(struct msghdr *msg)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(msg); c; c = CMSG_NXTHDR(msg, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) {
			continue;
		}
		size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < n; i++) {
			int stray;
			memcpy(&stray, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			wire_close_fd(&stray);
		}
	}
}

ssize_t
wire_recv(int fd, void *buf, size_t cap)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * WIRE_MAX_STRAY_FDS)];
		struct cmsghdr align;
	} control;
	struct iovec iov = {.iov_base = buf, .iov_len = cap};
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = control.buf,
		.msg_controllen = sizeof(control.buf),
	};
	ssize_t n;
	do {
		n = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC);
	} while (n < 0 && errno == EINTR);
	if (n < 0) {
		if (errno == EWOULDBLOCK) {
			return -EAGAIN;
		}
		return errno == ECONNRESET ? -ECONNRESET : -errno;
	}
	if (msg.msg_controllen > 0) {
		close_passed_fds(&msg);
	}
	if (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
		return -EMSGSIZE;
	}
	return n;
}

void
wire_close_fd(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;
		close(*fd);
		errno = saved;
		*fd = -1;
	}
}
