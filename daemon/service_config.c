/*
 * The service from the configuration: at start (limits fitted to the fd
 * limit) and at reload (the policy replaced, every live lease re-checked).
 */
#include <errno.h>
#include <inttypes.h>
#include <sys/resource.h>
#include <time.h>

#include "base/log.h"
#include "config/conf.h"
#include "core/limits.h"
#include "device/region.h"
#include "device/region_table.h"
#include "request/irq.h"
#include "request/service.h"
#include "request/session.h"
#include "request/trace.h"
#include "service_config.h"

/*
 * Every connection is an fd: make the fd limit cover the connection limits,
 * so accept() never meets EMFILE (which would stall every client at once).
 * Raises the soft limit if the hard one allows, else sheds, in this order,
 * descriptors in unread replies (down to a floor), rings, connections.
 */
static void
fit_fd_limit(struct limits *l)
{
	rlim_t extra = MMIO_SUPERUSER_CONNS + MMIO_MAX_REFUSED_PENDING + MMIO_FD_RESERVE;
	rlim_t need = l->max_connections + l->max_rings + l->max_unread_fds + extra;
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= need) {
		return;
	}
	struct rlimit raised = {.rlim_cur = need < rl.rlim_max ? need : rl.rlim_max,
				.rlim_max = rl.rlim_max};
	if (setrlimit(RLIMIT_NOFILE, &raised) == 0) {
		rl.rlim_cur = raised.rlim_cur;
	}
	if (rl.rlim_cur >= need) {
		return;
	}
	/* Unread descriptors first: a client that reads its replies does not need many. */
	rlim_t rest = need - l->max_unread_fds;
	unsigned floor =
		l->max_unread_fds < MMIO_MIN_UNREAD_FDS ? l->max_unread_fds : MMIO_MIN_UNREAD_FDS;
	unsigned unread = rl.rlim_cur > rest + floor ? (unsigned)(rl.rlim_cur - rest) : floor;
	log_warn("max_unread_fds %u needs more fds than the limit %llu allows: %u (raise "
		 "LimitNOFILE=)",
		 l->max_unread_fds, (unsigned long long)rl.rlim_cur, unread);
	l->max_unread_fds = unread;
	if (rl.rlim_cur >= rest + unread) {
		return;
	}
	extra += unread;
	/* Rings are a speed-up: shed them before connections. */
	if (l->max_rings > 0 && rl.rlim_cur >= l->max_connections + extra) {
		unsigned rings = (unsigned)(rl.rlim_cur - l->max_connections - extra);
		log_warn("max_rings %u needs more fds than the limit %llu allows: %u rings "
			 "(raise LimitNOFILE=)",
			 l->max_rings, (unsigned long long)rl.rlim_cur, rings);
		l->max_rings = rings;
		return;
	}
	l->max_rings = 0;
	unsigned fit = rl.rlim_cur > extra + 1 ? (unsigned)(rl.rlim_cur - extra) : 1;
	log_warn("max_connections %u needs %llu fds, the limit is %llu: serving at most %u "
		 "connections (raise LimitNOFILE=)",
		 l->max_connections, (unsigned long long)need, (unsigned long long)rl.rlim_cur,
		 fit);
	l->max_connections = fit;
}

void
service_init(struct service *svc, struct region_table *regions, const struct mmiod_config *cfg,
	     uid_t extra_uid)
{
	svc->regions = regions;
	svc->limits = cfg->limits;
	fit_fd_limit(&svc->limits);
	svc->extra_uid = extra_uid;
	svc->has_admin_gid = cfg->has_admin_gid;
	svc->admin_gid = cfg->admin_gid;
	svc->n_clients = 0;
	svc->requests = 0;
	svc->n_rings = 0;
	clock_gettime(CLOCK_MONOTONIC, &svc->started);
	svc->on_figures_changed = NULL;
	svc->on_figures_arg = NULL;
	svc->send_notice = NULL;
}

/* Re-checks the leases of r against its (new) policy; returns how many were revoked. */
static int
recheck_leases(const struct service *svc, struct region *r)
{
	int revoked = 0;
	struct lease *l;
	struct lease *next;
	for (l = TAILQ_FIRST(&r->space.leases); l; l = next) {
		next = TAILQ_NEXT(l, space_link);
		const struct session *holder = session_of_lease_set(l->set);
		bool read_only;
		const struct grant *by;
		if (policy_check_range(&r->policy, &holder->who, svc->extra_uid, l->start, l->len,
				       &read_only, &by) == 0) {
			if (read_only && !l->read_only) {
				log_info(CONN_FMT ": lease %" PRIu64
						  " is read-only under the new policy",
					 CONN_ARGS(holder), l->id);
			}
			l->read_only = read_only;
			/* The old tables are gone with the old policy: narrowed rules bind the
			 * next access. */
			l->rules = region_rules_for(r, by);
			l->park = region_park_for(by);
			continue;
		}
		log_event(MSGID_LEASE_REVOKED, LOG_LEVEL_INFO,
			  CONN_FMT ": lease %" PRIu64 " revoked: no grant covers it any more",
			  CONN_ARGS(holder), l->id);
		session_end_lease(l, LEASE_END_POLICY);
		revoked++;
	}
	return revoked;
}

int
service_recheck_leases(struct service *svc)
{
	int revoked = 0;
	for (unsigned i = 0; i < svc->regions->count; i++) {
		struct region *r = svc->regions->regions[i];
		revoked += recheck_leases(svc, r);
		irq_recheck(svc, r);
		trace_recheck(svc, r);
	}
	return revoked;
}

int
service_apply_config(struct service *svc, const struct mmiod_config *cfg)
{
	svc->limits = cfg->limits;
	fit_fd_limit(&svc->limits);
	svc->has_admin_gid = cfg->has_admin_gid;
	svc->admin_gid = cfg->admin_gid;
	int revoked = 0;
	int rc = 0;
	for (unsigned i = 0; i < svc->regions->count; i++) {
		struct region *r = svc->regions->regions[i];
		const struct region_config *rcfg = conf_find_region(cfg, r->name);
		static const struct region_policy none = {0};
		if (!rcfg) {
			log_warn("region %s is not in the new configuration: it keeps serving, for "
				 "root only, until mmiod restarts",
				 r->name);
		}
		char why[256];
		struct region_policy retired = {0};
		int set = region_set_policy(r, rcfg ? &rcfg->policy : &none, &retired, why,
					    sizeof(why));
		if (set < 0) {
			log_error("region %s: %s: policy not reloaded", r->name,
				  set == -EINVAL ? why : "out of memory");
			rc = set;
			continue;
		}
		revoked += recheck_leases(svc, r);
		/* Only now: a lease revoked above parked with its old grant's sequence. */
		policy_finish(&retired);
		/* After the leases: one now read-only no longer holds the interrupt either. */
		irq_recheck(svc, r);
		trace_recheck(svc, r);
	}
	for (unsigned i = 0; i < cfg->n_regions; i++) {
		if (!region_table_find(svc->regions, cfg->regions[i].spec.name)) {
			log_warn("region %s is new: it is served after mmiod restarts",
				 cfg->regions[i].spec.name);
		}
	}
	return rc < 0 ? rc : revoked;
}
