/* mmio-bench: the cases measured through libmmio-client against a running mmiod. */
#ifndef BENCH_CASES_H
#define BENCH_CASES_H

#include <stddef.h>
#include <sys/types.h>

#include "report.h"

/* How long each case runs: the full benchmark, or --quick. */
struct bench_params {
	size_t volatile_blocks; /* of 1024 accesses */
	size_t single_warmup;   /* round trips not timed */
	size_t single_iters;    /* round trips timed, one sample each */
	double batch_seconds;   /* per batch size, at least */
	double clients_seconds; /* per client count */
	size_t mmioctl_runs;
	size_t churn_rounds; /* of the daemon memory check */
	double idle_seconds; /* the daemon's CPU is watched this long with an idle ring open */
};

struct bench_target {
	const char *socket_path;
	const char *region;
	const char *mmioctl_path;
	pid_t daemon_pid;           /* -1: unknown, so no daemon CPU or memory figures */
	int client_cpu;             /* every client thread is pinned there; -1: unpinned */
	const char *placement;      /* the rows' placement column */
	double pingpong_p50_ns;     /* raw ping-pong of the same placement: single ops' baseline */
	double shm_pingpong_p50_ns; /* shared-memory ping-pong: the ring's floor */
};

/*
 * Measures, on one connection with one lease on t->region (plus up to 64 more
 * connections for the concurrent cases), single load32 and store32, batches
 * of 16, 256 and 4096 mixed ops, 1, 8 and 64 concurrent clients, `mmioctl
 * read`, and the daemon's memory over repeated connection churn; appends one
 * row per case to rep. Returns 0, or a negative errno after printing what
 * failed to stderr.
 */
int cases_run(const struct bench_target *t, const struct bench_params *p, struct report *rep);

#endif
