/* mmioctl stats: the daemon's figures as text, JSON or a Prometheus textfile. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mmio/client.h>

#include "mmioctl.h"

const char mmioctl_stats_help[] =
	"Print mmiod's figures: live client connections, open shared-memory rings,\n"
	"live leases, device faults and requests served since it started, its uptime,\n"
	"and the leases and faults of each region you may lease from (of every region\n"
	"for root and the admin group). The totals cover every region.\n"
	"\n"
	"  -o, --output FORMAT  text (default), json, or prometheus: the text\n"
	"                       exposition format, for node_exporter's textfile\n"
	"                       collector (metrics mmiod_connections, mmiod_rings,\n"
	"                       mmiod_leases, mmiod_faults_total, mmiod_requests_total,\n"
	"                       mmiod_uptime_seconds, mmiod_region_leases{region=...},\n"
	"                       mmiod_region_faults_total{region=...})\n";

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
		printf(", \"leases\": %" PRIu64 ", \"faults\": %" PRIu64 "}", st->regions[i].leases,
		       st->regions[i].faults);
	}
	fputs("]}\n", stdout);
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
