/* mmioctl stats: the daemon's figures as text, JSON or a Prometheus textfile. */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mmio/client.h>

#include "mmioctl.h"

const char mmioctl_stats_help[] =
	"Print mmiod's figures: live client connections, open shared-memory rings,\n"
	"live leases, device faults and requests served since it started, its uptime,\n"
	"and the leases and faults of each region you may lease from (of every region\n"
	"for root and the admin group). The totals cover every region. Then what each\n"
	"such region and each live lease (every one for admins, else your uid's) has\n"
	"done: loads and stores on every path (a modify is one of each), modify and\n"
	"poll requests, block bytes, failed accesses by status, and the time mmiod\n"
	"spent on socket access requests (count and mean; a log2 histogram in json\n"
	"and prometheus).\n"
	"\n"
	"  -o, --output FORMAT  text (default), json, or prometheus: the text\n"
	"                       exposition format, for node_exporter's textfile\n"
	"                       collector (metrics mmiod_connections, mmiod_rings,\n"
	"                       mmiod_leases, mmiod_faults_total, mmiod_requests_total,\n"
	"                       mmiod_uptime_seconds, mmiod_region_leases{region=...},\n"
	"                       mmiod_region_faults_total{region=...}; per region\n"
	"                       {region} and lease {lease,region}: mmiod_*_ops_total\n"
	"                       {op=load|store|modify|poll}, mmiod_*_block_bytes_total,\n"
	"                       mmiod_*_errors_total{status}, and the histogram\n"
	"                       mmiod_*_request_seconds)\n";

/* A label value of the exposition format: backslash, double quote and newline escaped. */
static void
prometheus_label(const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"') {
			printf("\\%c", *s);
		} else if (*s == '\n') {
			fputs("\\n", stdout);
		} else {
			putchar(*s);
		}
	}
}

static void
prometheus_header(const char *name, const char *type, const char *help)
{
	printf("# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* Requests the histogram counts. */
static uint64_t
latency_count(const struct mmio_access_figures *f)
{
	uint64_t n = 0;
	for (unsigned i = 0; i < MMIO_LATENCY_BUCKETS; i++) {
		n += f->latency[i];
	}
	return n;
}

/* The labels of region i or lease i ({region="R"} or {lease="ID",region="R"}), without braces. */
static void
prometheus_who(const struct mmio_stats *st, bool lease, size_t i)
{
	if (lease) {
		printf("lease=\"%" PRIu64 "\",region=\"", st->lease_stats[i].id);
		prometheus_label(st->lease_stats[i].region);
	} else {
		fputs("region=\"", stdout);
		prometheus_label(st->regions[i].name);
	}
	putchar('"');
}

/* The figures of every region (lease false) or every lease, one metric family at a time. */
static void
prometheus_figures(const struct mmio_stats *st, bool lease)
{
	const char *kind = lease ? "lease" : "region";
	size_t n = lease ? st->n_leases : st->n_regions;
	char name[64];
#define FIGURES(i) (lease ? &st->lease_stats[i].figures : &st->region_figures[i])
	snprintf(name, sizeof(name), "mmiod_%s_ops_total", kind);
	prometheus_header(name, "counter", "Accesses (load, store) and requests (modify, poll).");
	static const char *const ops[] = {"load", "store", "modify", "poll"};
	for (size_t i = 0; i < n; i++) {
		const struct mmio_access_figures *f = FIGURES(i);
		const uint64_t counts[] = {f->loads, f->stores, f->modifies, f->polls};
		for (size_t k = 0; k < 4; k++) {
			printf("%s{", name);
			prometheus_who(st, lease, i);
			printf(",op=\"%s\"} %" PRIu64 "\n", ops[k], counts[k]);
		}
	}
	snprintf(name, sizeof(name), "mmiod_%s_block_bytes_total", kind);
	prometheus_header(name, "counter", "Bytes of block reads and writes.");
	for (size_t i = 0; i < n; i++) {
		printf("%s{", name);
		prometheus_who(st, lease, i);
		printf("} %" PRIu64 "\n", FIGURES(i)->block_bytes);
	}
	snprintf(name, sizeof(name), "mmiod_%s_errors_total", kind);
	prometheus_header(name, "counter", "Failed accesses by status.");
	for (size_t i = 0; i < n; i++) {
		const struct mmio_access_figures *f = FIGURES(i);
		for (size_t e = 0; e < f->n_errors; e++) {
			printf("%s{", name);
			prometheus_who(st, lease, i);
			printf(",status=\"%s\"} %" PRIu64 "\n",
			       mmioctl_status_name(f->errors[e].status), f->errors[e].count);
		}
	}
	snprintf(name, sizeof(name), "mmiod_%s_request_seconds", kind);
	prometheus_header(name, "histogram", "Time mmiod spent on socket access requests.");
	for (size_t i = 0; i < n; i++) {
		const struct mmio_access_figures *f = FIGURES(i);
		uint64_t cum = 0;
		for (unsigned b = 0; b + 1 < MMIO_LATENCY_BUCKETS; b++) {
			cum += f->latency[b];
			printf("%s_bucket{", name);
			prometheus_who(st, lease, i);
			/* Bucket b holds [2^b, 2^(b+1)) ns: le is its upper bound, in seconds. */
			printf(",le=\"%.9g\"} %" PRIu64 "\n", (double)(2ull << b) / 1e9, cum);
		}
		printf("%s_bucket{", name);
		prometheus_who(st, lease, i);
		printf(",le=\"+Inf\"} %" PRIu64 "\n", latency_count(f));
		printf("%s_sum{", name);
		prometheus_who(st, lease, i);
		printf("} %.9f\n", (double)f->latency_sum_ns / 1e9);
		printf("%s_count{", name);
		prometheus_who(st, lease, i);
		printf("} %" PRIu64 "\n", latency_count(f));
	}
#undef FIGURES
}

static void
print_prometheus(const struct mmio_stats *st)
{
	prometheus_header("mmiod_connections", "gauge", "Live client connections.");
	printf("mmiod_connections %" PRIu64 "\n", st->connections);
	prometheus_header("mmiod_rings", "gauge", "Open shared-memory rings (fast paths).");
	printf("mmiod_rings %" PRIu64 "\n", st->rings);
	prometheus_header("mmiod_leases", "gauge", "Live leases over every region.");
	printf("mmiod_leases %" PRIu64 "\n", st->leases);
	prometheus_header("mmiod_faults_total", "counter",
			  "Device faults (bus errors) since mmiod started, every region.");
	printf("mmiod_faults_total %" PRIu64 "\n", st->faults);
	prometheus_header("mmiod_requests_total", "counter",
			  "Requests served since mmiod started.");
	printf("mmiod_requests_total %" PRIu64 "\n", st->requests);
	prometheus_header("mmiod_uptime_seconds", "gauge", "Seconds since mmiod started.");
	printf("mmiod_uptime_seconds %" PRIu64 ".%03u\n", st->uptime_ms / 1000,
	       (unsigned)(st->uptime_ms % 1000));
	prometheus_header("mmiod_region_leases", "gauge", "Live leases on the region.");
	for (size_t i = 0; i < st->n_regions; i++) {
		fputs("mmiod_region_leases{region=\"", stdout);
		prometheus_label(st->regions[i].name);
		printf("\"} %" PRIu64 "\n", st->regions[i].leases);
	}
	prometheus_header("mmiod_region_faults_total", "counter",
			  "Device faults (bus errors) on the region since mmiod started.");
	for (size_t i = 0; i < st->n_regions; i++) {
		fputs("mmiod_region_faults_total{region=\"", stdout);
		prometheus_label(st->regions[i].name);
		printf("\"} %" PRIu64 "\n", st->regions[i].faults);
	}
	prometheus_figures(st, false);
	prometheus_figures(st, true);
}

static void
json_figures(const struct mmio_access_figures *f)
{
	printf("{\"loads\": %" PRIu64 ", \"stores\": %" PRIu64 ", \"modifies\": %" PRIu64
	       ", \"polls\": %" PRIu64 ", \"block_bytes\": %" PRIu64 ", \"errors\": {",
	       f->loads, f->stores, f->modifies, f->polls, f->block_bytes);
	for (size_t e = 0; e < f->n_errors; e++) {
		printf("%s\"%s\": %" PRIu64, e ? ", " : "",
		       mmioctl_status_name(f->errors[e].status), f->errors[e].count);
	}
	/* Bucket i: requests of [2^i, 2^(i+1)) ns; up to the last one with a count. */
	fputs("}, \"latency_buckets\": [", stdout);
	unsigned n = MMIO_LATENCY_BUCKETS;
	while (n > 0 && f->latency[n - 1] == 0) {
		n--;
	}
	for (unsigned b = 0; b < n; b++) {
		printf("%s%" PRIu64, b ? ", " : "", f->latency[b]);
	}
	printf("], \"latency_sum_ns\": %" PRIu64 "}", f->latency_sum_ns);
}

static void
print_json(const struct mmio_stats *st)
{
	printf("{\"connections\": %" PRIu64 ", \"rings\": %" PRIu64 ", \"leases\": %" PRIu64
	       ", \"faults\": %" PRIu64 ", \"requests\": %" PRIu64 ", \"uptime_ms\": %" PRIu64
	       ", \"regions\": [",
	       st->connections, st->rings, st->leases, st->faults, st->requests, st->uptime_ms);
	for (size_t i = 0; i < st->n_regions; i++) {
		fputs(i ? ", {\"name\": " : "{\"name\": ", stdout);
		mmioctl_json_string(st->regions[i].name);
		printf(", \"leases\": %" PRIu64 ", \"faults\": %" PRIu64 ", \"figures\": ",
		       st->regions[i].leases, st->regions[i].faults);
		json_figures(&st->region_figures[i]);
		putchar('}');
	}
	fputs("], \"lease_stats\": [", stdout);
	for (size_t i = 0; i < st->n_leases; i++) {
		const struct mmio_lease_stats *l = &st->lease_stats[i];
		printf("%s{\"id\": %" PRIu64 ", \"region\": ", i ? ", " : "", l->id);
		mmioctl_json_string(l->region);
		printf(", \"uid\": %u, \"pid\": %d, \"figures\": ", (unsigned)l->uid, (int)l->pid);
		json_figures(&l->figures);
		putchar('}');
	}
	printf("], \"lease_stats_more\": %s}\n", st->lease_stats_more ? "true" : "false");
}

/* One row of the figures table: who, the counts, requests timed and their mean, errors. */
static void
figures_row(const char *who, int w, const struct mmio_access_figures *f)
{
	uint64_t n = latency_count(f);
	printf("%-*s  %8" PRIu64 "  %8" PRIu64 "  %8" PRIu64 "  %6" PRIu64 "  %11" PRIu64
	       "  %8" PRIu64 "  %7" PRIu64 "  ",
	       w, who, f->loads, f->stores, f->modifies, f->polls, f->block_bytes, n,
	       n ? f->latency_sum_ns / n : 0);
	for (size_t e = 0; e < f->n_errors; e++) {
		printf("%s%s=%" PRIu64, e ? "," : "", mmioctl_status_name(f->errors[e].status),
		       f->errors[e].count);
	}
	puts(f->n_errors ? "" : "-");
}

static void
print_figures_text(const struct mmio_stats *st, int w)
{
	char who[96];
	for (size_t i = 0; i < st->n_leases; i++) {
		int len = snprintf(who, sizeof(who), "%s lease %" PRIu64, st->lease_stats[i].region,
				   st->lease_stats[i].id);
		w = len > w ? len : w;
	}
	printf("\n%-*s  %8s  %8s  %8s  %6s  %11s  %8s  %7s  %s\n", w, "FIGURES", "LOADS", "STORES",
	       "MODIFIES", "POLLS", "BLOCK_BYTES", "REQUESTS", "MEAN_NS", "ERRORS");
	for (size_t i = 0; i < st->n_regions; i++) {
		figures_row(st->regions[i].name, w, &st->region_figures[i]);
	}
	for (size_t i = 0; i < st->n_leases; i++) {
		snprintf(who, sizeof(who), "%s lease %" PRIu64, st->lease_stats[i].region,
			 st->lease_stats[i].id);
		figures_row(who, w, &st->lease_stats[i].figures);
	}
	if (st->lease_stats_more) {
		puts("(more leases than one reply holds)");
	}
}

static void
print_text(const struct mmio_stats *st)
{
	printf("connections  %" PRIu64 "\nrings        %" PRIu64 "\nleases       %" PRIu64
	       "\nfaults       %" PRIu64 "\nrequests     %" PRIu64 "\nuptime       %" PRIu64
	       ".%03us\n",
	       st->connections, st->rings, st->leases, st->faults, st->requests,
	       st->uptime_ms / 1000, (unsigned)(st->uptime_ms % 1000));
	if (st->n_regions == 0) {
		return;
	}
	int w = 6;
	for (size_t i = 0; i < st->n_regions; i++) {
		int len = (int)strlen(st->regions[i].name);
		w = len > w ? len : w;
	}
	printf("\n%-*s  %8s  %8s\n", w, "REGION", "LEASES", "FAULTS");
	for (size_t i = 0; i < st->n_regions; i++) {
		printf("%-*s  %8" PRIu64 "  %8" PRIu64 "\n", w, st->regions[i].name,
		       st->regions[i].leases, st->regions[i].faults);
	}
	print_figures_text(st, w);
}

int
mmioctl_stats(const struct invocation *inv)
{
	struct mmio_client *client;
	int rc = mmioctl_connect(inv->socket_path, &client);
	if (rc != 0) {
		return rc;
	}
	struct mmio_stats *st = NULL;
	rc = mmio_stats(client, &st);
	if (rc < 0) {
		rc = mmioctl_fail(client, rc, "stats");
		goto out;
	}
	switch (mmioctl_output) {
	case MMIOCTL_OUTPUT_PROMETHEUS:
		print_prometheus(st);
		break;
	case MMIOCTL_OUTPUT_JSON:
		print_json(st);
		break;
	case MMIOCTL_OUTPUT_TEXT:
		print_text(st);
		break;
	}
	free(st);
	rc = 0;
out:
	mmio_disconnect(client);
	return rc;
}
