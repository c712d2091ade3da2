/*
 * What every connection shares: the regions with their policies, the limits,
 * and who besides root may do everything. Reload replaces the policy here and
 * re-checks every live lease against it.
 */
#ifndef MMIOD_SERVICE_H
#define MMIOD_SERVICE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "config/conf.h"
#include "core/policy.h"
#include "status_notify.h"

struct event_base;
struct lease;
struct region_table;

struct service {
	struct event_base *base;
	struct region_table *regions;
	struct limits limits;
	uid_t extra_uid; /* the uid mmiod was started by; may lease everything, as root may */
	bool has_admin_gid;
	gid_t admin_gid;
	/* Figures for Stats and STATUS=. */
	unsigned n_clients;      /* live connections holding a slot (conn.c) */
	unsigned n_rings;        /* open shared-memory rings, at most limits.max_rings */
	uint64_t requests;       /* requests dispatched since start */
	struct timespec started; /* CLOCK_MONOTONIC at service_init */
	struct status_notify status;
};

/* Fills svc from cfg (limits, admin group) for regions already opened from it. */
void service_init(struct service *svc, struct region_table *regions, const struct mmiod_config *cfg,
		  uid_t extra_uid);

/* root, the starting uid, or a member of the admin group. */
bool service_is_admin(const struct service *svc, const struct identity *who);

/* The live lease with this id, whoever holds it, or NULL. */
struct lease *service_find_lease(const struct service *svc, uint64_t id);

/*
 * Takes the policy, limits and admin group of cfg (regions matched by name; a
 * region cfg no longer names keeps no grants) and re-checks every live lease:
 * one no grant covers any more is revoked, one now under ro only becomes
 * read-only. Returns how many leases were revoked, or -ENOMEM (nothing changed
 * for the region that failed).
 */
int service_apply_config(struct service *svc, const struct mmiod_config *cfg);

#endif
