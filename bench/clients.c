/* mmio-bench: concurrent clients, and the daemon's memory over connection churn. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mmio/client.h>

#include "run.h"
#include "stats.h"
#include "sys.h"

/* KiB of "daemon memory flat": RSS growth from the first churn round to the last. */
#define RSS_FLAT_KIB 64

/*
 * The start line of the concurrent clients: each reports ready (connected,
 * leased, or failed), and none starts its loop before the main thread says go.
 */
struct gate {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int ready;
	int go;
};

struct client_thread {
	pthread_t thread;
	const struct run *r;
	int index;
	struct gate *gate;
	atomic_int *stop;
	int ring;
	struct samples lat;
	uint64_t ops;
	uint64_t end_ns;
	int rc;
	char what[64];
};

static void
gate_pass(struct gate *g)
{
	pthread_mutex_lock(&g->lock);
	g->ready++;
	pthread_cond_broadcast(&g->cond);
	while (!g->go) {
		pthread_cond_wait(&g->cond, &g->lock);
	}
	pthread_mutex_unlock(&g->lock);
}

/* Waits until n threads are ready, then lets them go. */
static void
gate_open(struct gate *g, int n)
{
	pthread_mutex_lock(&g->lock);
	while (g->ready < n) {
		pthread_cond_wait(&g->cond, &g->lock);
	}
	g->go = 1;
	pthread_cond_broadcast(&g->cond);
	pthread_mutex_unlock(&g->lock);
}

/*
 * One concurrent client: its own connection and its own lease, single
 * load32s from the gate's go until *stop. Passes the gate even when it failed
 * to connect, so it cannot hold the others up.
 */
static void *
client_main(void *arg)
{
	struct client_thread *ct = arg;
	const struct run *r = ct->r;
	struct mmio_client *c = NULL;
	struct mmio_lease *l = NULL;
	int reported = 0;
	if (r->t->client_cpu >= 0 && (ct->rc = sys_pin(0, r->t->client_cpu)) < 0) {
		reported = 1;
		fprintf(stderr, "mmio-bench: client %d: pin to CPU %d: %s\n", ct->index,
			r->t->client_cpu, strerror(-ct->rc));
	}
	snprintf(ct->what, sizeof(ct->what), "client %d: connect", ct->index);
	if (ct->rc == 0) {
		ct->rc = mmio_connect(r->t->socket_path, &c);
	}
	if (ct->rc == 0) {
		snprintf(ct->what, sizeof(ct->what), "client %d: fast path", ct->index);
		ct->rc = mmio_set_fast_path(c, ct->ring ? MMIO_FAST_PATH_ON : MMIO_FAST_PATH_OFF);
	}
	if (ct->rc == 0) {
		snprintf(ct->what, sizeof(ct->what), "client %d: acquire", ct->index);
		uint64_t off = r->lay.slot_off + (uint64_t)ct->index * r->lay.slot_len;
		ct->rc = mmio_acquire(c, r->t->region, off, r->lay.slot_len, &l);
	}
	gate_pass(ct->gate);
	if (ct->rc == 0) {
		snprintf(ct->what, sizeof(ct->what), "client %d: load32", ct->index);
	}
	while (ct->rc == 0 && !atomic_load_explicit(ct->stop, memory_order_relaxed)) {
		uint32_t v;
		uint64_t t0 = sys_now_ns();
		ct->rc = mmio_load32(l, 0, &v);
		uint64_t t1 = sys_now_ns();
		if (ct->rc == 0) {
			ct->ops++;
			ct->end_ns = t1;
			ct->rc = samples_add(&ct->lat, (double)(t1 - t0));
		}
	}
	if (ct->rc < 0 && !reported) {
		run_fail(c, ct->rc, ct->what);
	}
	mmio_disconnect(c);
	return NULL;
}

static void
sleep_seconds(double secs)
{
	struct timespec d = {.tv_sec = (time_t)secs,
			     .tv_nsec = (long)((secs - (double)(time_t)secs) * 1e9)};
	while (nanosleep(&d, &d) < 0 && errno == EINTR) {
	}
}

static void
clients_row(struct run *r, struct row *row, int n, int ring, struct samples *lat, uint64_t ops,
	    uint64_t elapsed)
{
	row->p50_ns = samples_quantile(lat, 0.5);
	row->p99_ns = samples_quantile(lat, 0.99);
	row->ops_per_s = elapsed ? (double)ops / (double)elapsed * 1e9 : NAN;
	if (n == 1) {
		r->one_client_ops_per_s = row->ops_per_s;
	} else {
		row->ratio = row->ops_per_s / r->one_client_ops_per_s;
		snprintf(row->baseline, sizeof(row->baseline), ring ? "1 ring client" : "1 client");
	}
	if (n == MAX_CLIENTS) {
		snprintf(row->target, sizeof(row->target), ">= 1.00x");
		row->verdict = row->ratio >= 1.0 ? VERDICT_PASS : VERDICT_MISS;
	}
}

int
clients_run(struct run *r, int n, int ring)
{
	struct client_thread ct[MAX_CLIENTS];
	struct gate gate = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};
	atomic_int stop = 0;
	int err = 0;
	int started = 0;
	for (; started < n; started++) {
		ct[started] = (struct client_thread){
			.r = r, .index = started, .gate = &gate, .stop = &stop, .ring = ring};
		samples_init(&ct[started].lat);
		int rc = pthread_create(&ct[started].thread, NULL, client_main, &ct[started]);
		if (rc != 0) {
			fprintf(stderr, "mmio-bench: start client %d: %s\n", started, strerror(rc));
			samples_finish(&ct[started].lat);
			atomic_store(&stop, 1);
			err = -rc;
			break;
		}
	}
	gate_open(&gate, started);
	struct daemon_usage cpu0 = run_daemon_usage(r);
	uint64_t t0 = sys_now_ns();
	if (err == 0) {
		sleep_seconds(r->p->clients_seconds);
	}
	atomic_store(&stop, 1);
	struct daemon_usage cpu1 = run_daemon_usage(r);

	struct samples all;
	samples_init(&all);
	uint64_t ops = 0;
	uint64_t end = t0;
	for (int i = 0; i < started; i++) {
		pthread_join(ct[i].thread, NULL);
		if (err == 0) {
			err = ct[i].rc < 0 ? ct[i].rc : samples_merge(&all, &ct[i].lat);
		}
		ops += ct[i].ops;
		end = ct[i].end_ns > end ? ct[i].end_ns : end;
		samples_finish(&ct[i].lat);
	}
	pthread_cond_destroy(&gate.cond);
	pthread_mutex_destroy(&gate.lock);
	char name[32];
	snprintf(name, sizeof(name), "%d %sclient%s", n, ring ? "ring " : "", n == 1 ? "" : "s");
	struct row *row = err == 0 ? run_add_row(r, name) : NULL;
	if (err == 0 && !row) {
		err = -ENOMEM;
	}
	if (err == 0) {
		clients_row(r, row, n, ring, &all, ops, end - t0);
		run_set_daemon_usage(r, row, &cpu0, &cpu1, (double)ops);
		report_note_cpu(row, "", "daemon");
	}
	samples_finish(&all);
	return err < 0 ? err : run_wait_revoked(r);
}

/*
 * One round of churn: MAX_CLIENTS connections each acquire their slot, split
 * it, load through both halves and release one; a 4096-op batch on the main
 * connection; then every new connection closes.
 */
static int
churn_round(struct run *r, struct mmio_op *ops)
{
	struct mmio_client *c[MAX_CLIENTS] = {0};
	int rc = 0;
	for (int k = 0; k < MAX_CLIENTS && rc == 0; k++) {
		struct mmio_lease *l;
		struct mmio_lease *low;
		uint32_t v;
		rc = mmio_connect(r->t->socket_path, &c[k]);
		if (rc < 0) {
			run_fail(NULL, rc, "churn: connect");
			break;
		}
		uint64_t off = r->lay.slot_off + (uint64_t)k * r->lay.slot_len;
		rc = mmio_acquire(c[k], r->t->region, off, r->lay.slot_len, &l);
		if (rc == 0) {
			rc = mmio_split(l, 4, &low);
		}
		if (rc == 0) {
			rc = mmio_load32(low, 0, &v);
		}
		if (rc == 0 && r->lay.slot_len > 4) {
			rc = mmio_load32(l, 0, &v);
		}
		if (rc == 0) {
			rc = mmio_release(low);
		}
		if (rc < 0) {
			run_fail(c[k], rc, "churn");
		}
	}
	if (rc == 0) {
		rc = mmio_batch(r->client, ops, 4096, 0);
		if (rc != 0) {
			rc = run_fail(r->client, rc < 0 ? rc : -EPROTO, "churn: batch 4096");
		}
	}
	for (int k = 0; k < MAX_CLIENTS; k++) {
		mmio_disconnect(c[k]);
	}
	return rc < 0 ? rc : run_wait_revoked(r);
}

/* Daemon memory: RSS before the cases, after them, and across churn rounds. */
int
memory_run(struct run *r, uint64_t rss_start)
{
	struct row *row = run_add_row(r, "daemon RSS");
	struct mmio_op *ops = calloc(4096, sizeof(*ops));
	if (!row || !ops) {
		free(ops);
		return -ENOMEM;
	}
	run_fill_batch(r, ops, 4096);
	uint64_t rss[4] = {rss_start, 0, 0, 0};
	int known = r->t->daemon_pid > 0 && sys_rss_kib(r->t->daemon_pid, &rss[1]) == 0;
	int rc = 0;
	for (size_t i = 0; i < r->p->churn_rounds && rc == 0; i++) {
		rc = churn_round(r, ops);
		if (rc == 0 && known && (i == 0 || i + 1 == r->p->churn_rounds)) {
			known = sys_rss_kib(r->t->daemon_pid, &rss[i == 0 ? 2 : 3]) == 0;
		}
	}
	free(ops);
	if (rc < 0) {
		return rc;
	}
	if (r->p->churn_rounds < 2) {
		rss[3] = rss[2];
	}
	if (!known || rss_start == 0) {
		snprintf(row->note, sizeof(row->note), "daemon pid unknown: no RSS");
		return 0;
	}
	for (int i = 0; i < 4; i++) {
		row->rss_kib[i] = (double)rss[i];
	}
	double growth = (double)rss[3] - (double)rss[2];
	row->ratio = (double)rss[3] / (double)rss[2];
	snprintf(row->baseline, sizeof(row->baseline), "churn round 1");
	snprintf(row->target, sizeof(row->target), "growth <= %d KiB", RSS_FLAT_KIB);
	row->verdict = growth <= RSS_FLAT_KIB ? VERDICT_PASS : VERDICT_MISS;
	snprintf(row->note, sizeof(row->note),
		 "VmRSS KiB: %" PRIu64 " start, %" PRIu64 " after cases, %" PRIu64 " -> %" PRIu64
		 " over %zu churn rounds",
		 rss[0], rss[1], rss[2], rss[3], r->p->churn_rounds);
	return 0;
}
