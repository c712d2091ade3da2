/* mmio_stats(): the daemon's figures in one allocation. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "client_internal.h"

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
		calloc(1, sizeof(*s) + st->n_regions * sizeof(struct mmio_region_stats));
	if (!s) {
		client_free_reply(reply);
		return -ENOMEM;
	}
	struct mmio_region_stats *regions = (struct mmio_region_stats *)(s + 1);
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
	}
	client_free_reply(reply);
	*out = s;
	return 0;
}
