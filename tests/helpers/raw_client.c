#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "mmio_limits.h"
#include "raw_client.h"
#include "wire.h"

int
raw_connect(const char *path)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	strncpy(addr.sun_path, path, sizeof(addr.sun_path) - 1);
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

int
raw_listen(const char *path)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(addr.sun_path)) {
		return -1;
	}
	memcpy(addr.sun_path, path, strlen(path) + 1);
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		return -1;
	}
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(fd, 8) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

int
raw_send(int fd, const Mmio__Request *req)
{
	static uint8_t buf[MMIO_MAX_FRAME];
	size_t len = mmio__request__get_packed_size(req);
	if (len > sizeof(buf)) {
		return -EMSGSIZE;
	}
	mmio__request__pack(req, buf);
	return wire_send(fd, buf, len);
}

Mmio__Reply *
raw_recv(int fd)
{
	static uint8_t buf[MMIO_MAX_FRAME];
	ssize_t n = wire_recv(fd, buf, sizeof(buf));
	if (n <= 0) {
		return NULL;
	}
	return mmio__reply__unpack(NULL, (size_t)n, buf);
}

int
raw_hello(int fd, unsigned version)
{
	Mmio__Hello hello = MMIO__HELLO__INIT;
	hello.version = version;
	Mmio__Request req = MMIO__REQUEST__INIT;
	req.id = 1;
	req.body_case = MMIO__REQUEST__BODY_HELLO;
	req.hello = &hello;
	if (raw_send(fd, &req) < 0) {
		return -1;
	}
	Mmio__Reply *reply = raw_recv(fd);
	if (!reply) {
		return -1;
	}
	int status = (int)reply->status;
	mmio__reply__free_unpacked(reply, NULL);
	return status;
}

int
raw_wait_closed(int fd)
{
	static uint8_t buf[MMIO_MAX_FRAME];
	ssize_t n = wire_recv(fd, buf, sizeof(buf));
	return n == 0 || n == -ECONNRESET;
}

int
raw_send_fds(int fd, const void *frame, size_t len, const int *fds, unsigned n_fds)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * 253)];
		struct cmsghdr align;
	} control;
	if (n_fds == 0 || n_fds > 253) {
		return -EINVAL;
	}
	memset(&control, 0, sizeof(control));
	struct iovec iov = {.iov_base = (void *)frame, .iov_len = len};
	struct msghdr msg = {.msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = control.buf,
			     .msg_controllen = CMSG_SPACE(sizeof(int) * n_fds)};
	struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
	cmsg->cmsg_level = SOL_SOCKET;
	cmsg->cmsg_type = SCM_RIGHTS;
	cmsg->cmsg_len = CMSG_LEN(sizeof(int) * n_fds);
	memcpy(CMSG_DATA(cmsg), fds, sizeof(int) * n_fds);
	return sendmsg(fd, &msg, MSG_NOSIGNAL) == (ssize_t)len ? 0 : -errno;
}

const void *
raw_pack(const Mmio__Request *req, size_t *len)
{
	static uint8_t buf[MMIO_MAX_FRAME];
	*len = mmio__request__pack(req, buf);
	return buf;
}

#ifndef SO_PASSRIGHTS
#define SO_PASSRIGHTS 83
#endif

int
raw_kernel_refuses_fds(void)
{
	int pair[2];
	static const int off = 0;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0) {
		return 0;
	}
	int ok = setsockopt(pair[1], SOL_SOCKET, SO_PASSRIGHTS, &off, sizeof(off)) == 0 &&
		 raw_send_fds(pair[0], "x", 1, &pair[0], 1) == -EPERM;
	close(pair[0]);
	close(pair[1]);
	return ok;
}

/* Waits at most guard_ms for fd to have a frame (or EOF). */
static int
readable(int fd, int guard_ms)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	return poll(&pfd, 1, guard_ms) == 1 ? 0 : -1;
}

int
raw_visit(const char *path, int guard_ms)
{
	int fd = raw_connect(path);
	if (fd < 0) {
		return -1;
	}
	Mmio__Hello hello = MMIO__HELLO__INIT;
	hello.version = MMIO_PROTOCOL_VERSION;
	Mmio__ListRegions list = MMIO__LIST_REGIONS__INIT;
	Mmio__Request req = MMIO__REQUEST__INIT;
	req.id = 1;
	req.body_case = MMIO__REQUEST__BODY_HELLO;
	req.hello = &hello;
	int rc = -1;
	for (int i = 0; i < 2; i++) {
		if (raw_send(fd, &req) < 0 || readable(fd, guard_ms) < 0) {
			goto out;
		}
		Mmio__Reply *reply = raw_recv(fd);
		bool ok = reply && reply->status == MMIO__STATUS__OK;
		if (reply) {
			mmio__reply__free_unpacked(reply, NULL);
		}
		if (!ok) {
			goto out;
		}
		req.id = 2;
		req.body_case = MMIO__REQUEST__BODY_LIST_REGIONS;
		req.list_regions = &list;
	}
	rc = 0;
out:
	close(fd);
	return rc;
}
