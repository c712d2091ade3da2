/* The socket transport: a single op is one request and its reply (call.c). */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "client_internal.h"
#include "transport.h"
#include "wire.h"

int
client_socket_open(struct mmio_client *c, const char *path)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	size_t path_len = strlen(path);
	if (path_len >= sizeof(addr.sun_path)) {
		return -ENAMETOOLONG;
	}
	memcpy(addr.sun_path, path, path_len + 1);
	c->fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		return -errno;
	}
	if (connect(c->fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		int rc = -errno;
		char reason[64];
		client_log(MMIO_LOG_ERROR, "connect %s: %s", path,
			   strerror_r(-rc, reason, sizeof(reason)));
		return rc;
	}
	return 0;
}

static int
socket_op(struct mmio_client *c, const struct client_op *op, uint64_t *out)
{
	Mmio__Load load = MMIO__LOAD__INIT;
	Mmio__Store store = MMIO__STORE__INIT;
	Mmio__Modify modify = MMIO__MODIFY__INIT;
	Mmio__Barrier barrier = MMIO__BARRIER__INIT;
	Mmio__Request req = MMIO__REQUEST__INIT;
	/* Loads and modifies answer with the value read; stores and barriers with a status. */
	Mmio__Reply__BodyCase reply_body = MMIO__REPLY__BODY_LOAD;
	switch (op->kind) {
	case CLIENT_OP_LOAD:
		load.lease = op->lease;
		load.offset = op->offset;
		load.width = op->width;
		req.body_case = MMIO__REQUEST__BODY_LOAD;
		req.load = &load;
		break;
	case CLIENT_OP_STORE:
		store.lease = op->lease;
		store.offset = op->offset;
		store.width = op->width;
		store.value = op->value;
		req.body_case = MMIO__REQUEST__BODY_STORE;
		req.store = &store;
		reply_body = MMIO__REPLY__BODY__NOT_SET;
		break;
	case CLIENT_OP_MODIFY:
		modify.lease = op->lease;
		modify.offset = op->offset;
		modify.width = op->width;
		modify.mask = op->mask;
		modify.value = op->value;
		req.body_case = MMIO__REQUEST__BODY_MODIFY;
		req.modify = &modify;
		break;
	case CLIENT_OP_BARRIER:
		barrier.lease = op->lease;
		req.body_case = MMIO__REQUEST__BODY_BARRIER;
		req.barrier = &barrier;
		reply_body = MMIO__REPLY__BODY__NOT_SET;
		break;
	}
	Mmio__Reply *reply;
	int rc = client_call(c, &req, &reply, reply_body);
	if (rc == 0 && out && reply_body == MMIO__REPLY__BODY_LOAD) {
		*out = reply->load->value;
	}
	client_free_reply(reply);
	return rc;
}

/* The socket is the connection: closing it ends every request, not only single ops. */
static void
socket_close(struct mmio_client *c)
{
	client_drop_passed_fds(c);
	wire_close_fd(&c->fd);
}

const struct client_transport_ops client_socket_transport = {
	.op = socket_op,
	.close = socket_close,
};
