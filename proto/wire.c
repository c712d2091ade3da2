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
	return wire_send_fds(fd, buf, len, NULL, 0);
}

int
wire_send_fds(int fd, const void *buf, size_t len, const int *pass_fds, unsigned n_fds)
{
	if (len == 0 || len > MMIO_MAX_FRAME || n_fds > WIRE_MAX_PASS_FDS) {
		return -EMSGSIZE;
	}
	union {
		char buf[CMSG_SPACE(sizeof(int) * WIRE_MAX_PASS_FDS)];
		struct cmsghdr align;
	} control;
	struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
	if (n_fds > 0) {
		memset(&control, 0, sizeof(control));
		msg.msg_control = control.buf;
		msg.msg_controllen = CMSG_SPACE(sizeof(int) * n_fds);
		struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * n_fds);
		memcpy(CMSG_DATA(c), pass_fds, sizeof(int) * n_fds);
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

/* Keeps the first max fds that came with msg in keep[] (counted in *n_kept), closes the rest. */
static void
close_passed_fds(struct msghdr *msg, int *keep, unsigned max, unsigned *n_kept)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(msg); c; c = CMSG_NXTHDR(msg, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) {
			continue;
		}
		size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < n; i++) {
			int stray;
			memcpy(&stray, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (*n_kept < max) {
				keep[(*n_kept)++] = stray;
				continue;
			}
			wire_close_fd(&stray);
		}
	}
}

ssize_t
wire_recv(int fd, void *buf, size_t cap)
{
	int none[1];
	return wire_recv_fds(fd, buf, cap, none, 0);
}

/*
 * One recvmsg into buf with room for control_fds fds of ancillary data; the
 * first max_keep fds are kept in keep[] (*n_kept), the rest closed.
 */
static ssize_t
recv_frame(int fd, void *buf, size_t cap, int *keep, unsigned max_keep, unsigned *n_kept,
	   void *control, size_t control_len)
{
	*n_kept = 0;
	struct iovec iov = {.iov_base = buf, .iov_len = cap};
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = control,
		.msg_controllen = control_len,
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
		close_passed_fds(&msg, keep, max_keep, n_kept);
	}
	if (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
		return -EMSGSIZE;
	}
	return n;
}

ssize_t
wire_recv_fds(int fd, void *buf, size_t cap, int *passed_fds, unsigned max_fds)
{
	for (unsigned i = 0; i < max_fds; i++) {
		passed_fds[i] = -1;
	}
	union {
		char buf[CMSG_SPACE(sizeof(int) * WIRE_MAX_STRAY_FDS)];
		struct cmsghdr align;
	} control;
	unsigned n_kept;
	ssize_t n = recv_frame(fd, buf, cap, passed_fds, max_fds, &n_kept, control.buf,
			       sizeof(control));
	if (n == -EMSGSIZE) {
		for (unsigned i = 0; i < n_kept; i++) {
			wire_close_fd(&passed_fds[i]);
		}
	}
	return n;
}

ssize_t
wire_recv_keep_fds(int fd, void *buf, size_t cap, int fds[WIRE_MAX_RECV_FDS], unsigned *n_fds)
{
	/* Room for every fd a frame can carry: any the kernel had to drop it would close here. */
	union {
		char buf[CMSG_SPACE(sizeof(int) * WIRE_MAX_RECV_FDS)];
		struct cmsghdr align;
	} control;
	return recv_frame(fd, buf, cap, fds, WIRE_MAX_RECV_FDS, n_fds, control.buf,
			  sizeof(control));
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
