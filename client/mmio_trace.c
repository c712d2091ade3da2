/* Tracing a region: TraceSubscribe for the pipe, and the decoding of its fixed-size records. */
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#include "client_internal.h"
#include "mmio_trace.h"
#include "status.h"
#include "wire.h"

int
mmio_trace_open(struct mmio_client *c, const char *region, int *fd)
{
	if (!c || !region || !fd) {
		return -EINVAL;
	}
	/* mmiod could know no such region: say so without a round trip, as mmio_acquire does. */
	if (strlen(region) > MMIO_MAX_NAME) {
		return -ENOENT;
	}
	Mmio__TraceSubscribe body = MMIO__TRACE_SUBSCRIBE__INIT;
	body.region = (char *)region;
	Mmio__Request req = MMIO__REQUEST__INIT;
	req.body_case = MMIO__REQUEST__BODY_TRACE_SUBSCRIBE;
	req.trace_subscribe = &body;
	Mmio__Reply *reply;
	pthread_mutex_lock(&c->lock);
	int rc = client_call(c, &req, &reply, MMIO__REPLY__BODY__NOT_SET);
	if (rc == 0) {
		*fd = c->passed_fds[0];
		c->passed_fds[0] = -1;
		if (*fd < 0) {
			client_log(MMIO_LOG_ERROR, "a trace came without its pipe");
			rc = -EPROTO;
		}
	}
	client_free_reply(reply);
	pthread_mutex_unlock(&c->lock);
	return rc;
}

int
mmio_trace_read(int fd, struct mmio_trace_record *rec)
{
	struct mmio_trace_wire w = {0};
	size_t got = 0;
	/* mmiod writes each record whole: a read gets one whole unless the trace ended early. */
	while (got < sizeof(w)) {
		ssize_t n = read(fd, (char *)&w + got, sizeof(w) - got);
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n < 0) {
			return got ? -EPROTO : -errno;
		}
		if (n == 0) {
			return got ? -EPROTO : 0;
		}
		got += (size_t)n;
	}
	if (w.op < MMIO_TRACE_WIRE_LOAD || w.op > MMIO_TRACE_WIRE_SIM_SET) {
		return -EPROTO;
	}
	*rec = (struct mmio_trace_record){
		.time_ns = w.time_ns,
		.conn = w.conn,
		.lease = w.lease,
		.offset = w.offset,
		.value = w.value,
		.mask = w.mask,
		.uid = (uid_t)w.uid,
		.pid = (pid_t)w.pid,
		.dropped = w.dropped,
		.status = status_to_errno((Mmio__Status)w.status),
		.op = (enum mmio_trace_op)w.op,
		.width = w.width,
	};
	return 1;
}

const char *
mmio_trace_op_name(enum mmio_trace_op op)
{
	switch (op) {
	case MMIO_TRACE_LOAD:
		return "load";
	case MMIO_TRACE_STORE:
		return "store";
	case MMIO_TRACE_SIM_GET:
		return "sim-get";
	case MMIO_TRACE_SIM_SET:
		return "sim-set";
	default:
		return NULL;
	}
}
