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
	return wire_send_fd(fd, buf, len, -1);
}

int
wire_send_fd(int fd, const void *buf, size_t len, int pass_fd)
{
	if (len == 0 || len > MMIO_MAX_FRAME) {
		return -EMSGSIZE;
	}
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} control;
	struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
	if (pass_fd >= 0) {
		memset(&control, 0, sizeof(control));
		msg.msg_control = control.buf;
		msg.msg_controllen = sizeof(control.buf);
		struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &pass_fd, sizeof(int));
	}
	for (;;) {
		ssize_t n = sendmsg(fd, &msg, MSG_NOSIGNAL);
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

/* Closes every fd that came with msg, except the first one if keep is not NULL: that goes to *keep.
 */
static void
close_passed_fds(struct msghdr *msg, int *keep)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(msg); c; c = CMSG_NXTHDR(msg, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) {
			continue;
		}
		size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < n; i++) {
			int stray;
			memcpy(&stray, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (keep && *keep < 0) {
				*keep = stray;
				continue;
			}
			wire_close_fd(&stray);
		}
	}
}

ssize_t
wire_recv(int fd, void *buf, size_t cap)
{
	return wire_recv_fd(fd, buf, cap, NULL);
}

ssize_t
wire_recv_fd(int fd, void *buf, size_t cap, int *passed_fd)
{
	if (passed_fd) {
		*passed_fd = -1;
	}
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
		close_passed_fds(&msg, passed_fd);
	}
	if (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
		if (passed_fd) {
			wire_close_fd(passed_fd);
		}
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
