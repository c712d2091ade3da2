/*
 * A trace record as mmiod writes it to a tracer's pipe (TraceSubscribe): fixed size, native
 * endian, one write(2) each. Smaller than PIPE_BUF, so a record is never torn and every read
 * of MMIO_TRACE_RECORD_SIZE bytes gets exactly one.
 */
#ifndef MMIO_TRACE_H
#define MMIO_TRACE_H

#include <stdint.h>

/* What a record's op is: an access through a lease, or the device side of a sim region. */
enum mmio_trace_wire_op {
	MMIO_TRACE_WIRE_LOAD = 1,
	MMIO_TRACE_WIRE_STORE = 2,
	MMIO_TRACE_WIRE_SIM_GET = 3,
	MMIO_TRACE_WIRE_SIM_SET = 4,
};

struct mmio_trace_wire {
	uint64_t time_ns; /* CLOCK_REALTIME when mmiod made the access */
	uint64_t conn;    /* mmiod's connection id of the accessor */
	uint64_t lease;   /* 0 for the device side, which needs no lease */
	uint64_t offset;  /* from the region's start */
	uint64_t value;   /* loaded (0 if it failed) or stored */
	uint64_t mask;    /* the bits a sim-set sets (the rest kept); else all of width's */
	uint32_t uid;
	int32_t pid;
	uint32_t dropped; /* records lost before this one: the pipe was full */
	uint16_t status;  /* Mmio__Status of the access */
	uint8_t op;       /* enum mmio_trace_wire_op */
	uint8_t width;    /* bytes */
};

#define MMIO_TRACE_RECORD_SIZE 64

_Static_assert(sizeof(struct mmio_trace_wire) == MMIO_TRACE_RECORD_SIZE,
	       "a trace record is 64 bytes on every ABI");

/* Tracers one region may have at once (TraceSubscribe: RESOURCE_EXHAUSTED past it). */
#define MMIO_TRACE_MAX_TRACERS 4

#endif
