/*
 * Filling the service (request/service.h) from the configuration, at start and
 * at reload: process set-up, above the layers that serve requests.
 */
#ifndef MMIOD_SERVICE_CONFIG_H
#define MMIOD_SERVICE_CONFIG_H

#include <sys/types.h>

struct mmiod_config;
struct region_table;
struct service;

/*
 * Fills svc from cfg (limits, admin group) for regions already opened from it;
 * the limits are fitted to RLIMIT_NOFILE (raising its soft limit if it can).
 */
void service_init(struct service *svc, struct region_table *regions, const struct mmiod_config *cfg,
		  uid_t extra_uid);

/*
 * Takes the policy, limits and admin group of cfg (regions matched by name; a
 * region cfg no longer names keeps no grants) and re-checks every live lease:
 * one no grant covers any more is revoked, one now under ro only becomes
 * read-only. Returns how many leases were revoked, or -ENOMEM (nothing changed
 * for the region that failed).
 */
int service_apply_config(struct service *svc, const struct mmiod_config *cfg);

/*
 * Re-checks every live lease (and interrupt subscriber and tracer) against the current
 * policy, as a reload does: after a restart restored them. Returns how many were revoked.
 */
int service_recheck_leases(struct service *svc);

#endif
