/* mmio-bench: what a run of the mmiod cases is and shares (cases.c, clients.c; run.c). */
#ifndef BENCH_RUN_H
#define BENCH_RUN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <mmio/client.h>

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
#define MAX_CLIENTS 64

/*
 * Where the cases work in the region: the main lease [main_off, +main_len)
 * for single ops and batches, 8 bytes at mmioctl_off for `mmioctl read`, and
 * slot k [slot_off + k * slot_len, +slot_len) for concurrent client k.
 */
struct layout {
	uint64_t main_off;
	uint64_t main_len;
	uint64_t mmioctl_off;
	uint64_t slot_off;
	uint64_t slot_len;
};

struct run {
	const struct bench_target *t;
	const struct bench_params *p;
	struct report *rep;
	struct mmio_client *client;
	struct mmio_lease *lease;
	struct layout lay;
	double load_p50_ns;
	double load_ops_per_s;
	double batch16_ops_per_s;     /* over the socket: the ring batch's baseline */
	double batch16_aon_ops_per_s; /* all-or-nothing over the socket: the ring's baseline */
	double one_client_ops_per_s;  /* of the path (socket or ring) being measured */
};

/* Prints "mmio-bench: WHAT: STATUS: detail" for a library error rc. */

/*
 * Prints "mmio-bench: WHAT: STATUS: reason: daemon's detail" for a library
 * error of client (NULL: of mmio_connect) and returns rc.
 */
int run_fail(struct mmio_client *client, int rc, const char *what);

/* What the daemon has used so far: all 0 when it is not known (no pid, no /proc). */
struct daemon_usage {
	uint64_t cpu_ns;
	uint64_t minflt; /* minor page faults */
	int has_minflt;
};

struct daemon_usage run_daemon_usage(const struct run *r);

/*
 * Sets the row's daemon CPU and page faults per op from two run_daemon_usage()
 * readings around ops operations (when the daemon is known); report_note_cpu() shows them.
 */
void run_set_daemon_usage(const struct run *r, struct row *row, const struct daemon_usage *before,
			  const struct daemon_usage *after, double ops);

/* Appends a row of r's placement; prints and returns NULL when out of memory. */
struct row *run_add_row(struct run *r, const char *name);

/*
 * Waits (polling mmio_list_leases) until no connection of this process but the
 * main one holds a lease: mmiod revokes a closed connection's leases when it
 * reads the close, which may be after the next connection's acquire. 0,
 * -ETIMEDOUT or a library error (printed).
 */
int run_wait_revoked(struct run *r);

/* Op i of a mixed batch on the main lease: loads and stores alternate, widths cycle 1, 2, 4, 8. */
void run_fill_batch(struct run *r, struct mmio_op *ops, size_t n);

/*
 * n concurrent clients (n <= MAX_CLIENTS), over the socket or (ring) the fast
 * path; appends their row. 0 or a negative errno (printed).
 */
int clients_run(struct run *r, int n, int ring);

/*
 * The daemon's memory: RSS at rss_start (KiB, 0: unknown), now, and after the
 * first and last of p->churn_rounds rounds of connection and lease churn;
 * appends its row. 0 or a negative errno (printed).
 */
int memory_run(struct run *r, uint64_t rss_start);

#endif
