/* mmio-bench: a tracer that keeps up, for the cases measured with one tracer attached. */
#ifndef BENCH_TRACER_H
#define BENCH_TRACER_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct mmio_client;

struct tracer {
	int fd;      /* the trace's pipe */
	int stop[2]; /* written to stop the reader */
	pthread_t thread;
	bool running;
	uint64_t records, dropped;
};

/* Opens a trace of region on client and reads it in a thread. 0 or a negative errno. */
int tracer_start(struct tracer *t, struct mmio_client *client, const char *region);

/* Stops the reader and closes the trace. */
void tracer_stop(struct tracer *t);

#endif
