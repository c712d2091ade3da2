/* mmio-bench: the cases measured through libmmio-client against a running mmiod. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <mmio/client.h>

#include "cases.h"
#include "run.h"
#include "stats.h"
#include "sys.h"
#include "tracer.h"

extern char **environ;

/* Single-op target: p50 at most this many times the raw ping-pong's. */
#define SINGLE_OP_RATIO 1.15

#define BATCH_4096_OPS_PER_S 15e6

/* Ring single-op targets: p50 at most 2 us, and at least 4x faster than the socket path. */
#define RING_P50_NS    2000.0
#define RING_MAX_RATIO 0.25

/* "Idle daemon at 0% CPU", allowing for the timer-free loop's few wake-ups: 0.1% of a CPU. */
#define IDLE_MAX_CPU_PERCENT 0.1

/* Splits the region (size bytes at device address) into the layout; -ENOSPC if too small. */
static int
plan_layout(struct layout *lay, uint64_t size, uint64_t address)
{
	/* Start on an 8-byte device address: alignment is judged on it. */
	uint64_t pad = (8 - address % 8) % 8;
	if (size < pad + 2048) {
		return -ENOSPC;
	}
	uint64_t usable = size - pad;
	lay->main_off = pad;
	lay->main_len = (usable / 2) & ~(uint64_t)7;
	if (lay->main_len > 0x8000) {
		lay->main_len = 0x8000; /* 4096 ops of up to 8 bytes each touch every byte once */
	}
	lay->mmioctl_off = lay->main_off + lay->main_len;
	lay->slot_off = lay->mmioctl_off + 8;
	lay->slot_len = ((size - lay->slot_off) / MAX_CLIENTS) & ~(uint64_t)7;
	if (lay->slot_len > 0x100) {
		lay->slot_len = 0x100;
	}
	return 0;
}

/* Fills a ring row's ratio (to the socket load32), target and verdict. */
static void
ring_verdict(struct run *r, struct row *row)
{
	row->ratio = row->p50_ns / r->load_p50_ns;
	snprintf(row->baseline, sizeof(row->baseline), "socket load32");
	snprintf(row->target, sizeof(row->target), "<= %.2fx, <= %.0f us", RING_MAX_RATIO,
		 RING_P50_NS / 1000);
	if (r->t->client_cpu >= 0) {
		row->verdict = row->ratio <= RING_MAX_RATIO && row->p50_ns <= RING_P50_NS
				       ? VERDICT_PASS
				       : VERDICT_MISS;
	}
}

/* Fills a socket row's ratio (to the raw ping-pong), target and verdict. */
static void
socket_verdict(struct run *r, struct row *row)
{
	row->ratio = row->p50_ns / r->t->pingpong_p50_ns;
	snprintf(row->baseline, sizeof(row->baseline), "ping-pong");
	snprintf(row->target, sizeof(row->target), "<= %.2fx", SINGLE_OP_RATIO);
	/* Unpinned, the two sides may share a CPU in one case and not in the other. */
	if (r->t->client_cpu >= 0) {
		row->verdict = row->ratio <= SINGLE_OP_RATIO ? VERDICT_PASS : VERDICT_MISS;
	}
}

/* A single-op case; traced: with one tracer attached that reads every record. */
static int
single_case(struct run *r, int store, int ring, int traced)
{
	int rc = mmio_set_fast_path(r->client, ring ? MMIO_FAST_PATH_ON : MMIO_FAST_PATH_OFF);
	if (rc < 0) {
		return run_fail(r->client, rc, ring ? "open the fast path" : "close the fast path");
	}
	struct samples s;
	samples_init(&s);
	uint64_t start = 0;
	struct daemon_usage cpu0 = {0};
	uint64_t client0 = 0;
	size_t total = r->p->single_warmup + r->p->single_iters;
	for (size_t i = 0; i < total && rc == 0; i++) {
		if (i == r->p->single_warmup) {
			cpu0 = run_daemon_usage(r);
			client0 = sys_thread_cpu_ns();
			start = sys_now_ns();
		}
		uint32_t v;
		uint64_t t0 = sys_now_ns();
		rc = store ? mmio_store32(r->lease, 0, (uint32_t)i) : mmio_load32(r->lease, 0, &v);
		uint64_t t1 = sys_now_ns();
		if (rc == 0 && i >= r->p->single_warmup) {
			rc = samples_add(&s, (double)(t1 - t0));
		}
	}
	double elapsed = (double)(sys_now_ns() - start);
	uint64_t client1 = sys_thread_cpu_ns();
	struct daemon_usage cpu1 = run_daemon_usage(r);
	static const char *const names[2][2][2] = {
		{{"mmiod load32", "mmiod store32"}, {"ring load32", "ring store32"}},
		{{"traced load32", "traced store32"},
		 {"traced ring load32", "traced ring store32"}},
	};
	const char *name = names[traced][ring][store];
	struct row *row = rc == 0 ? run_add_row(r, name) : NULL;
	if (rc < 0) {
		run_fail(r->client, rc, name);
	} else if (!row) {
		rc = -ENOMEM;
	} else {
		row->p50_ns = samples_quantile(&s, 0.5);
		row->p99_ns = samples_quantile(&s, 0.99);
		row->ops_per_s = (double)s.n / elapsed * 1e9;
		if (ring) {
			ring_verdict(r, row);
		} else {
			socket_verdict(r, row);
		}
		row->client_cpu_ns_per_op = (double)(client1 - client0) / (double)s.n;
		run_set_daemon_usage(r, row, &cpu0, &cpu1, (double)s.n);
		char prefix[48] = "";
		if (r->t->client_cpu < 0) {
			snprintf(prefix, sizeof(prefix), "unpinned: no verdict");
		} else if (ring) {
			snprintf(prefix, sizeof(prefix), "%.2fx shm ping-pong",
				 row->p50_ns / r->t->shm_pingpong_p50_ns);
		}
		report_note_cpu(row, prefix, "daemon");
		if (!store && !ring && !traced) {
			r->load_p50_ns = row->p50_ns;
			r->load_ops_per_s = row->ops_per_s;
		}
	}
	samples_finish(&s);
	return rc;
}

/*
 * The daemon's CPU while this client holds an open ring it does not use: after
 * mmiod's spin on it lapses it must sleep, using nothing.
 */
static int
idle_case(struct run *r)
{
	if (r->t->daemon_pid <= 0) {
		return 0;
	}
	/* Past the daemon's spin (tens of microseconds) with a wide margin. */
	nanosleep(&(struct timespec){.tv_nsec = 20000000}, NULL);
	struct daemon_usage cpu0 = run_daemon_usage(r);
	uint64_t t0 = sys_now_ns();
	double secs = r->p->idle_seconds;
	struct timespec d = {.tv_sec = (time_t)secs,
			     .tv_nsec = (long)((secs - (double)(time_t)secs) * 1e9)};
	while (nanosleep(&d, &d) < 0 && errno == EINTR) {
	}
	uint64_t elapsed = sys_now_ns() - t0;
	struct daemon_usage cpu1 = run_daemon_usage(r);
	struct row *row = run_add_row(r, "daemon idle");
	if (!row) {
		return -ENOMEM;
	}
	double percent = (double)(cpu1.cpu_ns - cpu0.cpu_ns) / (double)elapsed * 100;
	snprintf(row->target, sizeof(row->target), "<= %.1f %% CPU", IDLE_MAX_CPU_PERCENT);
	row->verdict = percent <= IDLE_MAX_CPU_PERCENT ? VERDICT_PASS : VERDICT_MISS;
	snprintf(row->note, sizeof(row->note),
		 "daemon CPU %.3f %% (%" PRIu64 " us over %.2f s) with 1 ring open, unused",
		 percent, (cpu1.cpu_ns - cpu0.cpu_ns) / 1000, (double)elapsed / 1e9);
	return 0;
}

/* Over the ring, a batch's ratio is to the socket's batch 16 (issue 18: >= 5x). */
#define RING_BATCH_RATIO 5.0

static int
batch_case(struct run *r, size_t n, bool ring, unsigned flags)
{
	struct mmio_op *ops = calloc(n, sizeof(*ops));
	if (!ops) {
		return -ENOMEM;
	}
	run_fill_batch(r, ops, n);
	struct samples s;
	samples_init(&s);
	int rc = 0;
	for (int i = 0; i < 3 && rc == 0; i++) {
		rc = mmio_batch(r->client, ops, n, flags);
	}
	struct daemon_usage cpu0 = run_daemon_usage(r);
	/* The client's CPU too: it looks for a big batch's reply before sleeping (mmio_batch). */
	uint64_t client0 = sys_thread_cpu_ns();
	uint64_t start = sys_now_ns();
	uint64_t min_ns = (uint64_t)(r->p->batch_seconds * 1e9);
	uint64_t now = start;
	while (rc == 0 && (now - start < min_ns || s.n < 5)) {
		rc = mmio_batch(r->client, ops, n, flags);
		uint64_t t1 = sys_now_ns();
		if (rc == 0) {
			rc = samples_add(&s, (double)(t1 - now));
		}
		now = t1;
	}
	uint64_t client1 = sys_thread_cpu_ns();
	struct daemon_usage cpu1 = run_daemon_usage(r);
	bool aon = flags & MMIO_BATCH_ALL_OR_NOTHING;
	char name[48];
	snprintf(name, sizeof(name), "%sbatch %zu%s", ring ? "ring " : "", n,
		 aon ? " all-or-nothing" : "");
	struct row *row = rc == 0 ? run_add_row(r, name) : NULL;
	if (rc != 0) {
		/* A positive count is ops that failed: the first one's status says why. */
		for (size_t i = 0; rc > 0 && i < n; i++) {
			if (ops[i].status < 0) {
				rc = ops[i].status;
			}
		}
		run_fail(r->client, rc > 0 ? -EPROTO : rc, name);
		rc = rc > 0 ? -EPROTO : rc;
	} else if (!row) {
		rc = -ENOMEM;
	} else {
		double total_ops = (double)s.n * (double)n;
		row->p50_ns = samples_quantile(&s, 0.5);
		row->p99_ns = samples_quantile(&s, 0.99);
		row->ops_per_s = total_ops / (double)(now - start) * 1e9;
		row->ratio = row->ops_per_s / r->load_ops_per_s;
		snprintf(row->baseline, sizeof(row->baseline), "load32 ops/s");
		if (n == 16 && !ring) {
			*(aon ? &r->batch16_aon_ops_per_s : &r->batch16_ops_per_s) = row->ops_per_s;
		}
		double socket_ops_per_s = aon ? r->batch16_aon_ops_per_s : r->batch16_ops_per_s;
		if (ring && socket_ops_per_s > 0) {
			row->ratio = row->ops_per_s / socket_ops_per_s;
			snprintf(row->baseline, sizeof(row->baseline), "batch 16%s",
				 aon ? " all-or-nothing" : "");
			snprintf(row->target, sizeof(row->target), ">= %.0fx", RING_BATCH_RATIO);
			row->verdict = row->ratio >= RING_BATCH_RATIO ? VERDICT_PASS : VERDICT_MISS;
		}
		if (n == 4096) {
			snprintf(row->target, sizeof(row->target), ">= %.0f M ops/s",
				 BATCH_4096_OPS_PER_S / 1e6);
			row->verdict = row->ops_per_s >= BATCH_4096_OPS_PER_S ? VERDICT_PASS
									      : VERDICT_MISS;
		}
		row->client_cpu_ns_per_op = (double)(client1 - client0) / total_ops;
		run_set_daemon_usage(r, row, &cpu0, &cpu1, total_ops);
		report_note_cpu(row, "", "daemon");
	}
	samples_finish(&s);
	free(ops);
	return rc;
}

/* Posted store32 (issue 18): spread at most this much per store, one CPU within 2x the shm
 * ping-pong's per-op cost. */
#define POSTED_SPREAD_NS 300.0
#define POSTED_SHM_RATIO 2.0

/*
 * Posted store32 back to back on the ring: each store returns once it is in the ring (a full
 * ring makes it wait for room); the time per store is the whole run's, the mmio_sync that
 * waits for the last ones included.
 */
static int
posted_case(struct run *r)
{
	int rc = mmio_set_posted(r->lease, 1);
	struct samples s;
	samples_init(&s);
	size_t n = r->p->single_iters * 4;
	for (size_t i = 0; i < r->p->single_warmup && rc == 0; i++) {
		rc = mmio_store32(r->lease, (i % 64) * 4, (uint32_t)i);
	}
	rc = rc == 0 ? mmio_sync(r->lease) : rc;
	struct daemon_usage cpu0 = run_daemon_usage(r);
	uint64_t client0 = sys_thread_cpu_ns();
	uint64_t start = sys_now_ns();
	for (size_t i = 0; i < n && rc == 0; i++) {
		uint64_t t0 = sys_now_ns();
		rc = mmio_store32(r->lease, (i % 64) * 4, (uint32_t)i);
		uint64_t t1 = sys_now_ns();
		if (rc == 0) {
			rc = samples_add(&s, (double)(t1 - t0));
		}
	}
	rc = rc == 0 ? mmio_sync(r->lease) : rc;
	double elapsed = (double)(sys_now_ns() - start);
	uint64_t client1 = sys_thread_cpu_ns();
	struct daemon_usage cpu1 = run_daemon_usage(r);
	int off = mmio_set_posted(r->lease, 0);
	rc = rc == 0 ? off : rc;
	struct row *row = rc == 0 ? run_add_row(r, "posted store32") : NULL;
	if (rc < 0) {
		run_fail(r->client, rc, "posted store32");
	} else if (!row) {
		rc = -ENOMEM;
	} else {
		double per_store = elapsed / (double)n;
		row->p50_ns = samples_quantile(&s, 0.5);
		row->p99_ns = samples_quantile(&s, 0.99);
		row->ops_per_s = (double)n / elapsed * 1e9;
		row->ratio = per_store / r->t->shm_pingpong_p50_ns;
		snprintf(row->baseline, sizeof(row->baseline), "shm ping-pong");
		bool spread = strcmp(r->t->placement, "spread") == 0;
		if (spread) {
			snprintf(row->target, sizeof(row->target), "<= %.1f us/store",
				 POSTED_SPREAD_NS / 1000);
		} else {
			snprintf(row->target, sizeof(row->target), "<= %.0fx", POSTED_SHM_RATIO);
		}
		if (r->t->client_cpu >= 0) {
			bool met = spread ? per_store <= POSTED_SPREAD_NS
					  : row->ratio <= POSTED_SHM_RATIO;
			row->verdict = met ? VERDICT_PASS : VERDICT_MISS;
		}
		row->client_cpu_ns_per_op = (double)(client1 - client0) / (double)n;
		run_set_daemon_usage(r, row, &cpu0, &cpu1, (double)n);
		char prefix[48];
		snprintf(prefix, sizeof(prefix), "%.0f ns/store with the sync", per_store);
		report_note_cpu(row, prefix, "daemon");
	}
	samples_finish(&s);
	return rc;
}

/* Runs `mmioctl -s SOCKET read REGION OFFSET` once, its stdout on /dev/null. */
static int
spawn_mmioctl(const struct run *r, const char *offset)
{
	char *argv[] = {(char *)r->t->mmioctl_path,
			"-s",
			(char *)r->t->socket_path,
			"read",
			(char *)r->t->region,
			(char *)offset,
			NULL};
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
	pid_t pid;
	int rc = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0) {
		fprintf(stderr, "mmio-bench: %s: %s\n", argv[0], strerror(rc));
		return -rc;
	}
	int status = 0;
	pid_t w;
	while ((w = waitpid(pid, &status, 0)) < 0 && errno == EINTR) {
	}
	if (w != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "mmio-bench: %s read %s %s failed (wait status %d)\n", argv[0],
			r->t->region, offset, status);
		return -ECHILD;
	}
	return 0;
}

static int
mmioctl_case(struct run *r)
{
	char offset[32];
	snprintf(offset, sizeof(offset), "0x%" PRIx64, r->lay.mmioctl_off);
	struct samples s;
	samples_init(&s);
	int rc = 0;
	for (int i = 0; i < 2 && rc == 0; i++) {
		rc = spawn_mmioctl(r, offset);
	}
	uint64_t start = sys_now_ns();
	for (size_t i = 0; i < r->p->mmioctl_runs && rc == 0; i++) {
		uint64_t t0 = sys_now_ns();
		rc = spawn_mmioctl(r, offset);
		if (rc == 0) {
			rc = samples_add(&s, (double)(sys_now_ns() - t0));
		}
	}
	double elapsed = (double)(sys_now_ns() - start);
	struct row *row = rc == 0 ? run_add_row(r, "mmioctl read") : NULL;
	if (rc == 0 && !row) {
		rc = -ENOMEM;
	}
	if (rc == 0) {
		row->p50_ns = samples_quantile(&s, 0.5);
		row->p99_ns = samples_quantile(&s, 0.99);
		row->ops_per_s = (double)s.n / elapsed * 1e9;
		row->ratio = row->p50_ns / r->load_p50_ns;
		snprintf(row->baseline, sizeof(row->baseline), "load32");
		snprintf(row->note, sizeof(row->note), "wall time per process");
	}
	samples_finish(&s);
	return rc;
}

static int
find_region(struct run *r, uint64_t *size, uint64_t *address)
{
	struct mmio_region_info *regions;
	int n = mmio_list_regions(r->client, &regions);
	if (n < 0) {
		return run_fail(r->client, n, "list regions");
	}
	int rc = -ENOENT;
	for (int i = 0; i < n; i++) {
		if (strcmp(regions[i].name, r->t->region) == 0) {
			*size = regions[i].size;
			*address = regions[i].address;
			rc = 0;
		}
	}
	free(regions);
	if (rc < 0) {
		fprintf(stderr, "mmio-bench: no region %s (that you may lease) at %s\n",
			r->t->region, r->t->socket_path);
	}
	return rc;
}

/*
 * The single ops again with one tracer attached (reading every record, so none is lost): the
 * rows above are the cost with nobody tracing, the path's one untaken branch. Tracing is for
 * admins: against a mmiod that does not take us for one (-s), no rows.
 */
static int
traced_cases(struct run *r, int ring)
{
	struct tracer tracer;
	int rc = tracer_start(&tracer, r->client, r->t->region);
	if (rc == -EACCES) {
		fprintf(stderr, "mmio-bench: not an admin of this mmiod: no traced rows\n");
		return 0;
	}
	if (rc < 0) {
		return run_fail(r->client, rc, "trace");
	}
	for (int path = 0; path < 1 + ring && rc == 0; path++) {
		for (int store = 0; store < 2 && rc == 0; store++) {
			rc = single_case(r, store, path, 1);
		}
	}
	if (rc == 0) {
		rc = mmio_set_fast_path(r->client, MMIO_FAST_PATH_OFF);
	}
	tracer_stop(&tracer);
	if (rc == 0 && tracer.dropped) {
		fprintf(stderr, "mmio-bench: the tracer lost %" PRIu64 " of %" PRIu64 " records\n",
			tracer.dropped, tracer.dropped + tracer.records);
	}
	return rc;
}

int
cases_run(const struct bench_target *t, const struct bench_params *p, struct report *rep)
{
	struct run r = {.t = t, .p = p, .rep = rep};
	uint64_t rss_start = 0;
	if (t->daemon_pid > 0 && sys_rss_kib(t->daemon_pid, &rss_start) < 0) {
		rss_start = 0;
	}
	int rc = mmio_connect(t->socket_path, &r.client);
	if (rc < 0) {
		char what[160];
		snprintf(what, sizeof(what), "connect to %s", t->socket_path);
		return run_fail(NULL, rc, what);
	}
	uint64_t size = 0;
	uint64_t address = 0;
	rc = find_region(&r, &size, &address);
	if (rc == 0 && (rc = plan_layout(&r.lay, size, address)) < 0) {
		fprintf(stderr, "mmio-bench: region %s: 0x%" PRIx64 " bytes is too small\n",
			t->region, size);
	}
	if (rc == 0) {
		rc = mmio_acquire(r.client, t->region, r.lay.main_off, r.lay.main_len, &r.lease);
		if (rc < 0) {
			run_fail(r.client, rc, "acquire");
		}
	}
	for (int store = 0; store < 2 && rc == 0; store++) {
		rc = single_case(&r, store, 0, 0);
	}
	/* The fast path needs mmiod to offer it: with -s it may not (max_rings = 0). */
	int ring = rc == 0 && mmio_set_fast_path(r.client, MMIO_FAST_PATH_ON) == 0;
	for (int store = 0; store < 2 && rc == 0 && ring; store++) {
		rc = single_case(&r, store, 1, 0);
	}
	if (rc == 0 && ring) {
		rc = idle_case(&r);
	}
	if (rc == 0) {
		rc = traced_cases(&r, ring);
	}
	if (rc == 0) {
		rc = mmio_set_fast_path(r.client, MMIO_FAST_PATH_OFF);
	}
	static const size_t batch_sizes[] = {16, 256, 4096};
	for (size_t i = 0; i < 3 && rc == 0; i++) {
		rc = batch_case(&r, batch_sizes[i], false, 0);
	}
	if (rc == 0) {
		rc = batch_case(&r, 16, false, MMIO_BATCH_ALL_OR_NOTHING);
	}
	/* Small batches go through the ring once it is open (mmio_batch), flags and all. */
	if (rc == 0 && ring && (rc = mmio_set_fast_path(r.client, MMIO_FAST_PATH_ON)) == 0) {
		rc = batch_case(&r, 16, true, 0);
		if (rc == 0) {
			rc = batch_case(&r, 16, true, MMIO_BATCH_ALL_OR_NOTHING);
		}
		if (rc == 0) {
			rc = posted_case(&r);
		}
		if (rc == 0) {
			rc = mmio_set_fast_path(r.client, MMIO_FAST_PATH_OFF);
		}
	}
	static const int client_counts[] = {1, 8, MAX_CLIENTS};
	for (int with_ring = 0; with_ring < 1 + ring; with_ring++) {
		for (size_t i = 0; i < 3 && rc == 0; i++) {
			rc = clients_run(&r, client_counts[i], with_ring);
		}
	}
	if (rc == 0) {
		rc = mmioctl_case(&r);
	}
	if (rc == 0) {
		rc = memory_run(&r, rss_start);
	}
	mmio_disconnect(r.client);
	return rc;
}
