/* mmio_stats(): the daemon's figures in one allocation. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "client_internal.h"
#include "status.h"

static void
copy_figures(struct mmio_access_figures *out, const Mmio__AccessFigures *f)
{
	if (!f) {
		return;
	}
	out->loads = f->loads;
	out->stores = f->stores;
	out->modifies = f->modifies;
	out->polls = f->polls;
	out->block_bytes = f->block_bytes;
	out->latency_sum_ns = f->latency_sum_ns;
	for (size_t i = 0; i < f->n_latency_buckets && i < MMIO_LATENCY_BUCKETS; i++) {
		out->latency[i] = f->latency_buckets[i];
	}
	for (size_t i = 0; i < f->n_errors && out->n_errors < MMIO_STATS_MAX_STATUSES; i++) {
		const Mmio__StatusCount *e = f->errors[i];
		out->errors[out->n_errors].status = status_to_errno(e->status);
		out->errors[out->n_errors].count = e->count;
		out->n_errors++;
	}
}

int
mmio_stats(struct mmio_client *c, struct mmio_stats **out)
{
	if (!c || !out) {
		return -EINVAL;
	}
	*out = NULL;
	Mmio__Stats body = MMIO__STATS__INIT;
	Mmio__Request req = MMIO__REQUEST__INIT;
	req.body_case = MMIO__REQUEST__BODY_STATS;
	req.stats = &body;
	Mmio__Reply *reply;
	int rc = client_call_locked(c, &req, &reply, MMIO__REPLY__BODY_STATS);
	if (rc < 0) {
		client_free_reply(reply);
		return rc;
	}
	const Mmio__StatsReply *st = reply->stats;
	/* One block, so that one free() releases the figures and the regions. */
	struct mmio_stats *s =
		calloc(1, sizeof(*s) + st->n_regions * sizeof(struct mmio_region_stats) +
				  st->n_regions * sizeof(struct mmio_access_figures) +
				  st->n_lease_stats * sizeof(struct mmio_lease_stats));
	if (!s) {
		client_free_reply(reply);
		return -ENOMEM;
	}
	struct mmio_region_stats *regions = (struct mmio_region_stats *)(s + 1);
	/* Both element types hold uint64_t first: each array starts aligned after the last. */
	struct mmio_access_figures *figures =
		(struct mmio_access_figures *)(regions + st->n_regions);
	struct mmio_lease_stats *leases = (struct mmio_lease_stats *)(figures + st->n_regions);
	s->connections = st->connections;
	s->leases = st->leases;
	s->faults = st->faults;
	s->requests = st->requests;
	s->uptime_ms = st->uptime_ms;
	s->rings = st->rings;
	s->n_regions = st->n_regions;
	s->regions = regions;
	for (size_t i = 0; i < st->n_regions; i++) {
		const Mmio__RegionStats *r = st->regions[i];
		snprintf(regions[i].name, sizeof(regions[i].name), "%s", r->name ? r->name : "");
		regions[i].leases = r->leases;
		regions[i].faults = r->faults;
		copy_figures(&figures[i], r->figures);
	}
	s->region_figures = figures;
	s->n_leases = st->n_lease_stats;
	s->lease_stats = leases;
	s->lease_stats_more = st->lease_stats_more;
	for (size_t i = 0; i < st->n_lease_stats; i++) {
		const Mmio__LeaseStats *l = st->lease_stats[i];
		leases[i].id = l->id;
		snprintf(leases[i].region, sizeof(leases[i].region), "%s",
			 l->region ? l->region : "");
		leases[i].uid = (uid_t)l->uid;
		leases[i].pid = (pid_t)l->pid;
		copy_figures(&leases[i].figures, l->figures);
	}
	client_free_reply(reply);
	*out = s;
	return 0;
}
