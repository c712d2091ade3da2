/*
 * Tracing a region: every access on it, as it happens, written as fixed-size
 * records (proto/mmio_trace.h) to a pipe per tracer whose read end the tracer
 * holds. A region nobody traces has trace == NULL: the access path pays one
 * branch on it (request/access.h). Writes never block: a full pipe loses the
 * record, and the next one that fits says how many were lost.
 */
#ifndef MMIOD_TRACE_H
#define MMIOD_TRACE_H

#include <stdint.h>

#include "mmio_trace.h"

struct identity;
struct region;
struct region_table;
struct service;

/* Who made an access, as a record names it. */
struct trace_who {
	uint64_t conn;
	uint64_t lease; /* 0: the device side */
	const struct identity *who;
};

/*
 * Adds a tracer (connection conn_id, whose identity who outlives the trace: trace_conn_gone
 * ends it first) to r. 0 with *client_fd the pipe's read end to pass to the tracer (the caller
 * closes it after sending); -EBUSY with MMIO_TRACE_MAX_TRACERS already; -ENOMEM or another
 * negative errno.
 */
int trace_subscribe(struct region *r, uint64_t conn_id, const struct identity *who, int *client_fd);

/*
 * One record of an access to every tracer of r (r->trace not NULL): op, width,
 * offset from the region's start, value (loaded or stored), mask (of a sim-set) and rc (0 or the
 * negative errno the access gave). Tracers whose read end is closed are ended.
 */
/*
 * A predecessor's tracer of r (a restart): pipe_fd is the write end its read end belongs to;
 * who its session's identity. Takes pipe_fd (closed when refused: the tracer reads EOF).
 * 0 or -ENOMEM.
 */
int trace_adopt(struct region *r, uint64_t conn_id, const struct identity *who, int pipe_fd);

/* r's tracers, for a successor: how many, and tracer i's write end and connection. */
unsigned trace_count(const struct region *r);
int trace_pipe_of(const struct region *r, unsigned i, uint64_t *conn_id);

void trace_access(struct region *r, const struct trace_who *by, enum mmio_trace_wire_op op,
		  unsigned width, uint64_t offset, uint64_t value, uint64_t mask, int rc);

/* Connection conn_id is going: end its traces (their pipes read EOF). */
void trace_conn_gone(const struct region_table *regions, uint64_t conn_id);

/* After a reload: ends the traces of r whose tracer is no longer an admin. Returns how many. */
unsigned trace_recheck(const struct service *svc, struct region *r);

#endif
