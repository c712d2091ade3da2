/* A region's tracers: pipes written with one record per access, never blocking the loop. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "core/policy.h"
#include "device/region.h"
#include "device/region_table.h"
#include "request/service.h"
#include "request/trace.h"
#include "status.h"
#include "wire.h"

struct tracer {
	uint64_t conn_id;
	const struct identity *who; /* its session's */
	int pipe_fd;                /* write end, O_NONBLOCK; -1: the slot is free */
	uint32_t dropped; /* records the pipe had no room for since the last one written */
};

struct region_trace {
	struct tracer tracers[MMIO_TRACE_MAX_TRACERS];
	unsigned n;
};

static void
end_tracer(struct region *r, unsigned i)
{
	struct region_trace *t = r->trace;
	/* The tracer's read end now sees EOF. */
	wire_close_fd(&t->tracers[i].pipe_fd);
	t->tracers[i] = t->tracers[--t->n];
	if (t->n == 0) {
		/* Nobody traces: the access path is back to its one untaken branch. */
		free(t);
		r->trace = NULL;
	}
}

int
trace_subscribe(struct region *r, uint64_t conn_id, const struct identity *who, int *client_fd)
{
	if (r->trace && r->trace->n == MMIO_TRACE_MAX_TRACERS) {
		return -EBUSY;
	}
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0) {
		return -errno;
	}
	/* Never block the loop on a tracer that does not read. */
	int flags = fcntl(p[1], F_GETFL);
	int rc = -ENOMEM;
	if (flags < 0 || fcntl(p[1], F_SETFL, flags | O_NONBLOCK) < 0) {
		rc = -errno;
		goto err;
	}
	if (!r->trace && !(r->trace = calloc(1, sizeof(*r->trace)))) {
		goto err;
	}
	r->trace->tracers[r->trace->n++] = (struct tracer){
		.conn_id = conn_id,
		.who = who,
		.pipe_fd = p[1],
	};
	*client_fd = p[0];
	return 0;
err:
	wire_close_fd(&p[0]);
	wire_close_fd(&p[1]);
	return rc;
}

int
trace_adopt(struct region *r, uint64_t conn_id, const struct identity *who, int pipe_fd)
{
	int flags = fcntl(pipe_fd, F_GETFL);
	if ((r->trace && r->trace->n == MMIO_TRACE_MAX_TRACERS) || flags < 0 ||
	    fcntl(pipe_fd, F_SETFL, flags | O_NONBLOCK) < 0 ||
	    (!r->trace && !(r->trace = calloc(1, sizeof(*r->trace))))) {
		wire_close_fd(&pipe_fd); /* the tracer reads EOF */
		return -ENOMEM;
	}
	r->trace->tracers[r->trace->n++] = (struct tracer){
		.conn_id = conn_id,
		.who = who,
		.pipe_fd = pipe_fd,
	};
	return 0;
}

unsigned
trace_count(const struct region *r)
{
	return r->trace ? r->trace->n : 0;
}

int
trace_pipe_of(const struct region *r, unsigned i, uint64_t *conn_id)
{
	*conn_id = r->trace->tracers[i].conn_id;
	return r->trace->tracers[i].pipe_fd;
}

void
trace_access(struct region *r, const struct trace_who *by, enum mmio_trace_wire_op op,
	     unsigned width, uint64_t offset, uint64_t value, uint64_t mask, int rc)
{
	struct timespec now;
	(void)clock_gettime(CLOCK_REALTIME, &now);
	struct mmio_trace_wire rec = {
		.time_ns = (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec,
		.conn = by->conn,
		.lease = by->lease,
		.offset = offset,
		.value = value,
		.mask = mask,
		.uid = (uint32_t)by->who->uid,
		.pid = (int32_t)by->who->pid,
		.status = (uint16_t)status_from_errno(rc),
		.op = (uint8_t)op,
		.width = (uint8_t)width,
	};
	for (unsigned i = 0; r->trace && i < r->trace->n;) {
		struct tracer *t = &r->trace->tracers[i];
		rec.dropped = t->dropped;
		/* Smaller than PIPE_BUF: written whole or not at all. */
		if (write(t->pipe_fd, &rec, sizeof(rec)) == (ssize_t)sizeof(rec)) {
			t->dropped = 0;
		} else if (errno == EAGAIN) {
			if (t->dropped < UINT32_MAX) {
				t->dropped++;
			}
		} else {
			log_info("region %s: tracer of conn %" PRIu64 " went away (%s)", r->name,
				 t->conn_id, strerror(errno));
			end_tracer(r, i);
			continue; /* slot i now holds the last tracer */
		}
		i++;
	}
}

void
trace_conn_gone(const struct region_table *regions, uint64_t conn_id)
{
	for (unsigned k = 0; k < regions->count; k++) {
		struct region *r = regions->regions[k];
		for (unsigned i = 0; r->trace && i < r->trace->n;) {
			if (r->trace->tracers[i].conn_id == conn_id) {
				end_tracer(r, i);
			} else {
				i++;
			}
		}
	}
}

unsigned
trace_recheck(const struct service *svc, struct region *r)
{
	unsigned ended = 0;
	for (unsigned i = 0; r->trace && i < r->trace->n;) {
		const struct tracer *t = &r->trace->tracers[i];
		if (service_is_admin(svc, t->who)) {
			i++;
			continue;
		}
		log_info("conn %" PRIu64 ": trace of region %s ended: not an admin any more",
			 t->conn_id, r->name);
		end_tracer(r, i);
		ended++;
	}
	return ended;
}
