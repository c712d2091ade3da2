#include <errno.h>
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
