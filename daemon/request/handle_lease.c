/* Requests about leases and regions: list, acquire, split, release, revoke, interrupts, stats. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "device/backend.h"
#include "device/region.h"
#include "device/region_table.h"
#include "mmio_limits.h"
#include "request/dispatch.h"
#include "request/handlers.h"
#include "request/irq.h"
#include "request/service.h"
#include "status.h"
#include "text.h"

unsigned
count_grants(const struct session *s, const struct region *r)
{
	if (policy_is_superuser(&s->who, s->svc->extra_uid)) {
		return 1;
	}
	unsigned n = 0;
	for (unsigned i = 0; i < r->policy.n_grants; i++) {
		n += policy_grant_leases(&r->policy.grants[i], &s->who);
	}
	return n;
}

static void
fill_grant(Mmio__Grant *g, uint64_t offset, uint64_t length, bool read_only)
{
	mmio__grant__init(g);
	g->offset = offset;
	g->length = length;
	g->access = read_only ? MMIO__ACCESS__ACCESS_RO : MMIO__ACCESS__ACCESS_RW;
}

/* Lists only the regions the caller may lease something of, with its grants. */
void
handle_list_regions(struct session *s, Mmio__Reply *reply, struct reply_scratch *scratch)
{
	const struct region_table *regions = s->svc->regions;
	unsigned n_grants = 0;
	for (unsigned i = 0; i < regions->count; i++) {
		n_grants += count_grants(s, regions->regions[i]);
	}
	Mmio__RegionInfo *infos = reply_alloc(scratch, regions->count, sizeof(*infos));
	/* NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers, sized by element */
	Mmio__RegionInfo **ptrs = reply_alloc(scratch, regions->count, sizeof(*ptrs));
	Mmio__Grant *grants = reply_alloc(scratch, n_grants, sizeof(*grants));
	/* NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers, sized by element */
	Mmio__Grant **grant_ptrs = reply_alloc(scratch, n_grants, sizeof(*grant_ptrs));
	if (!infos || !ptrs || !grants || !grant_ptrs) {
		reply_status(reply, scratch, -ENOMEM, NULL);
		return;
	}
	unsigned n = 0;
	unsigned g = 0;
	for (unsigned i = 0; i < regions->count; i++) {
		const struct region *r = regions->regions[i];
		unsigned first = g;
		if (policy_is_superuser(&s->who, s->svc->extra_uid)) {
			fill_grant(&grants[g], 0, r->space.len, false);
			grant_ptrs[g] = &grants[g];
			g++;
		} else {
			for (unsigned k = 0; k < r->policy.n_grants; k++) {
				const struct grant *pg = &r->policy.grants[k];
				if (policy_grant_leases(pg, &s->who)) {
					fill_grant(&grants[g], pg->offset, pg->length,
						   pg->read_only);
					grant_ptrs[g] = &grants[g];
					g++;
				}
			}
		}
		if (g == first) {
			continue;
		}
		mmio__region_info__init(&infos[n]);
		infos[n].name = (char *)r->name;
		infos[n].type = (char *)r->backend->type;
		infos[n].size = r->space.len;
		infos[n].address = r->space.addr;
		infos[n].faults = r->faults;
		infos[n].n_grants = g - first;
		infos[n].grants = &grant_ptrs[first];
		ptrs[n] = &infos[n];
		n++;
	}
	mmio__region_list__init(&scratch->regions);
	scratch->regions.n_regions = n;
	scratch->regions.regions = ptrs;
	reply->body_case = MMIO__REPLY__BODY_REGIONS;
	reply->regions = &scratch->regions;
	reply_status(reply, scratch, 0, NULL);
}

static void
reply_lease(Mmio__Reply *reply, struct reply_scratch *scratch, const struct lease *l)
{
	reply_fill_lease_info(&scratch->lease, l);
	reply->body_case = MMIO__REPLY__BODY_LEASE;
	reply->lease = &scratch->lease;
	reply_status(reply, scratch, 0, NULL);
}

/* The short name of process pid (its comm), printable, or "" if it cannot be read. */
static void
process_name(pid_t pid, char *out, size_t cap)
{
	char path[32];
	char comm[32] = "";
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	/* procfs: the read does not wait on the process. It may be hidden (ProtectProc=). */
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		ssize_t n = read(fd, comm, sizeof(comm) - 1);
		comm[n > 0 ? n : 0] = '\0';
		comm[strcspn(comm, "\n")] = '\0';
		close(fd);
	}
	text_copy_printable(out, cap, comm);
}

/*
 * Who holds met, for the caller of a refused acquire: lease, range, pid, uid
 * and process name when the caller may see them (its own uid, or an admin),
 * else only that another client does.
 */
static void
describe_holder(const struct session *s, const struct lease *met, char *out, size_t cap)
{
	if (!met || (met->set->uid != s->who.uid && !service_is_admin(s->svc, &s->who))) {
		snprintf(out, cap, "held by another client");
		return;
	}
	char name[32];
	process_name(met->set->pid, name, sizeof(name));
	snprintf(out, cap,
		 "lease %" PRIu64 " [0x%" PRIx64 ", +0x%" PRIx64 ") held by pid %d uid %u%s%s%s",
		 met->id, met->start, met->len, (int)met->set->pid, (unsigned)met->set->uid,
		 name[0] ? " (" : "", name, name[0] ? ")" : "");
}

/*
 * CONFLICT's detail: the lease met is on r, or on a region that aliases these
 * bytes of r, named only to a caller it is listed to (as NOT_FOUND does not
 * confirm a region the caller has no grant on); then who holds it.
 */
static void
reply_conflict(const struct session *s, const struct region *r, const Mmio__Acquire *req,
	       Mmio__Reply *reply, struct reply_scratch *scratch)
{
	const struct lease *met = lease_find_conflict(&r->space, req->offset, req->length);
	const struct region *other = met ? region_of_lease(met) : r;
	char holder[128];
	describe_holder(s, met, holder, sizeof(holder));
	if (other == r) {
		reply_status(reply, scratch, -EBUSY, "range overlaps a live lease on %s: %s",
			     r->name, holder);
	} else if (count_grants(s, other) > 0) {
		reply_status(
			reply, scratch, -EBUSY,
			"range overlaps a live lease on %s, which aliases these bytes of %s: %s",
			other->name, r->name, holder);
	} else {
		reply_status(reply, scratch, -EBUSY,
			     "range overlaps a live lease on another region, which aliases these "
			     "bytes of %s: %s",
			     r->name, holder);
	}
}

/* A lease under a grant with max_lease_ms: its time starts now. 0, or -ENOMEM. */
static int
start_ttl(struct session *s, const struct region *r, const struct lease *l)
{
	uint32_t ttl = policy_lease_ttl(&r->policy, &s->who, s->svc->extra_uid, l->start, l->len);
	return ttl ? session_set_deadline(s->svc, l, LEASE_END_TTL, ttl) : 0;
}

void
handle_acquire(struct session *s, const Mmio__Acquire *req, Mmio__Reply *reply,
	       struct reply_scratch *scratch)
{
	struct region *r = region_table_find(s->svc->regions, req->region);
	/* A region the caller has no grant on is not listed to it: do not confirm it exists. */
	if (!r || count_grants(s, r) == 0) {
		char name[MMIO_MAX_NAME + 1];
		reply_status(reply, scratch, -ENOENT, "no region named '%s'",
			     text_copy_printable(name, sizeof(name), req->region));
		return;
	}
	bool read_only;
	const struct grant *by;
	if (policy_check_range(&r->policy, &s->who, s->svc->extra_uid, req->offset, req->length,
			       &read_only, &by) < 0) {
		log_event(MSGID_ACCESS_DENIED, LOG_LEVEL_WARN,
			  CONN_FMT ": denied %s [0x%" PRIx64 ", +0x%" PRIx64
				   "): outside its grants",
			  CONN_ARGS(s), r->name, req->offset, req->length);
		reply_status(reply, scratch, -EACCES,
			     "no grant of uid %u covers offset 0x%" PRIx64 " length 0x%" PRIx64
			     " of %s",
			     (unsigned)s->who.uid, req->offset, req->length, r->name);
		return;
	}
	struct lease *l;
	int rc = lease_acquire(&r->space, &s->leases, req->offset, req->length, &l);
	switch (rc) {
	case 0:
		l->read_only = read_only;
		l->rules = region_rules_for(r, by);
		if (start_ttl(s, r, l) < 0) {
			lease_release(l);
			reply_status(reply, scratch, -ENOMEM, NULL);
			return;
		}
		log_event(MSGID_LEASE_GRANTED, LOG_LEVEL_DEBUG,
			  CONN_FMT ": lease %" PRIu64 " granted: %s [0x%" PRIx64 ", +0x%" PRIx64
				   ")",
			  CONN_ARGS(s), l->id, r->name, l->start, l->len);
		reply_lease(reply, scratch, l);
		return;
	case -ERANGE:
		reply_status(reply, scratch, rc,
			     "offset 0x%" PRIx64 " length 0x%" PRIx64 " is not inside region %s of "
			     "size 0x%" PRIx64,
			     req->offset, req->length, r->name, r->space.len);
		return;
	case -EBUSY:
		reply_conflict(s, r, req, reply, scratch);
		return;
	case -ENOSPC:
		log_warn(CONN_FMT ": lease limit %u reached", CONN_ARGS(s), s->leases.max);
		reply_status(reply, scratch, rc, "a connection may hold at most %u leases",
			     s->leases.max);
		return;
	default:
		reply_status(reply, scratch, rc, NULL);
		return;
	}
}

void
handle_split(struct session *s, const Mmio__Split *req, Mmio__Reply *reply,
	     struct reply_scratch *scratch)
{
	struct lease *l = reply_find_lease(s, req->lease, reply, scratch);
	if (!l) {
		return;
	}
	struct lease *low;
	int rc = lease_split(l, req->mid, &low);
	if (rc == -ERANGE) {
		reply_status(reply, scratch, rc,
			     "mid 0x%" PRIx64 " is past lease length 0x%" PRIx64, req->mid, l->len);
		return;
	}
	if (rc < 0) {
		reply_status(reply, scratch, rc, NULL);
		return;
	}
	/* The low part lives as long as the lease it came from (and has the same grace). */
	static const enum lease_end kinds[] = {LEASE_END_TTL, LEASE_END_ADMIN};
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		uint64_t left = session_deadline_left(l, kinds[i]);
		if (left && session_set_deadline(s->svc, low, kinds[i], (uint32_t)left) < 0) {
			session_release_lease(low);
			reply_status(reply, scratch, -ENOMEM, NULL);
			return;
		}
	}
	log_debug(CONN_FMT ": lease %" PRIu64 ": split at 0x%" PRIx64
			   ", low part is lease %" PRIu64,
		  CONN_ARGS(s), l->id, req->mid, low->id);
	reply_lease(reply, scratch, low);
}

void
handle_release(struct session *s, const Mmio__Release *req, Mmio__Reply *reply,
	       struct reply_scratch *scratch)
{
	struct lease *l = reply_find_lease(s, req->lease, reply, scratch);
	if (!l) {
		return;
	}
	log_debug(CONN_FMT ": lease %" PRIu64 " released", CONN_ARGS(s), l->id);
	session_release_lease(l);
	reply_status(reply, scratch, 0, NULL);
}

static size_t
varint_size(uint64_t v)
{
	size_t n = 1;
	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

/* Bytes l adds to a LeaseList: tag, length, message. */
static size_t
listed_size(const struct lease *l)
{
	Mmio__LeaseInfo info;
	reply_fill_lease_info(&info, l);
	size_t n = mmio__lease_info__get_packed_size(&info);
	return 1 + varint_size(n) + n;
}

static bool
lease_visible(const struct session *s, bool all, const struct lease *l)
{
	return all || l->set->uid == s->who.uid;
}

/*
 * Admins see every lease; anyone else those of its own uid (any of its
 * connections). One page, in ascending id order from after_id: as many as fit
 * in a frame (at most max), with more set if any remain, so that no number of
 * leases can make the listing fail.
 */
void
handle_list_leases(struct session *s, const Mmio__ListLeases *req, Mmio__Reply *reply,
		   struct reply_scratch *scratch)
{
	bool all = service_is_admin(s->svc, &s->who);
	size_t max = req->max ? req->max : SIZE_MAX;
	/*
	 * Measured with no lease listed and more set: the body's length prefix grows by at
	 * most 2 bytes as leases are added (a varint under MMIO_MAX_FRAME takes at most 3).
	 */
	mmio__lease_list__init(&scratch->leases);
	scratch->leases.more = true;
	reply->body_case = MMIO__REPLY__BODY_LEASES;
	reply->leases = &scratch->leases;
	reply_status(reply, scratch, 0, NULL);
	size_t budget = MMIO_MAX_FRAME - mmio__reply__get_packed_size(reply) - 2;

	const struct lease *first = lease_first_after(req->after_id);
	size_t n = 0;
	size_t used = 0;
	bool more = false;
	for (const struct lease *l = first; l; l = lease_next_by_id(l)) {
		if (!lease_visible(s, all, l)) {
			continue;
		}
		size_t cost = listed_size(l);
		if (n == max || cost > budget - used) {
			more = true;
			break;
		}
		used += cost;
		n++;
	}
	Mmio__LeaseInfo *infos = reply_alloc(scratch, n, sizeof(*infos));
	/* NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers, sized by element */
	Mmio__LeaseInfo **ptrs = reply_alloc(scratch, n, sizeof(*ptrs));
	if (!infos || !ptrs) {
		reply->body_case = MMIO__REPLY__BODY__NOT_SET;
		reply_status(reply, scratch, -ENOMEM, NULL);
		return;
	}
	size_t k = 0;
	for (const struct lease *l = first; k < n; l = lease_next_by_id(l)) {
		if (lease_visible(s, all, l)) {
			reply_fill_lease_info(&infos[k], l);
			ptrs[k] = &infos[k];
			k++;
		}
	}
	scratch->leases.n_leases = n;
	scratch->leases.leases = ptrs;
	scratch->leases.more = more;
}

void
handle_revoke(struct session *s, const Mmio__Revoke *req, Mmio__Reply *reply,
	      struct reply_scratch *scratch)
{
	if (!service_is_admin(s->svc, &s->who)) {
		log_event(MSGID_ACCESS_DENIED, LOG_LEVEL_WARN,
			  CONN_FMT ": denied revoke of lease %" PRIu64 ": not an admin",
			  CONN_ARGS(s), req->lease);
		reply_status(reply, scratch, -EACCES, "only the admin group may revoke leases");
		return;
	}
	if (req->grace_ms > MMIO_MAX_GRACE_MS) {
		reply_status(reply, scratch, -EINVAL, "grace %" PRIu32 " ms: at most %d",
			     req->grace_ms, MMIO_MAX_GRACE_MS);
		return;
	}
	struct lease *l = service_find_lease(s->svc, req->lease);
	if (!l) {
		reply_status(reply, scratch, -ENOENT, "no lease %" PRIu64, req->lease);
		return;
	}
	const struct session *holder = session_of_lease_set(l->set);
	if (req->grace_ms > 0) {
		log_event(MSGID_LEASE_REVOKED, LOG_LEVEL_INFO,
			  CONN_FMT ": revoking lease %" PRIu64 " of conn %" PRIu64
				   " (pid %d uid %u) in %" PRIu32 " ms unless released",
			  CONN_ARGS(s), l->id, holder->conn_id, (int)holder->who.pid,
			  (unsigned)holder->who.uid, req->grace_ms);
		reply_status(reply, scratch, session_ask_release(s->svc, l, req->grace_ms), NULL);
		return;
	}
	log_event(MSGID_LEASE_REVOKED, LOG_LEVEL_INFO,
		  CONN_FMT ": revoked lease %" PRIu64 " of conn %" PRIu64 " (pid %d uid %u)",
		  CONN_ARGS(s), l->id, holder->conn_id, (int)holder->who.pid,
		  (unsigned)holder->who.uid);
	session_end_lease(l, LEASE_END_ADMIN);
	reply_status(reply, scratch, 0, NULL);
}

void
handle_renew(struct session *s, const Mmio__Renew *req, Mmio__Reply *reply,
	     struct reply_scratch *scratch)
{
	struct lease *l = reply_find_lease(s, req->lease, reply, scratch);
	if (!l) {
		return;
	}
	if (start_ttl(s, region_of_lease(l), l) < 0) {
		reply_status(reply, scratch, -ENOMEM, NULL);
		return;
	}
	reply_lease(reply, scratch, l);
}

void
handle_irq(struct session *s, Mmio__Request__BodyCase kind, uint64_t lease_id, Mmio__Reply *reply,
	   struct reply_scratch *scratch)
{
	struct lease *l = reply_find_lease(s, lease_id, reply, scratch);
	if (!l) {
		return;
	}
	const char *name = region_of_lease(l)->name;
	int rc;
	switch (kind) {
	case MMIO__REQUEST__BODY_IRQ_SUBSCRIBE:
		rc = irq_subscribe(s->svc, s->conn_id, &s->who, l, &scratch->pass_fds[0]);
		if (rc == 0) {
			log_info(CONN_FMT ": lease %" PRIu64 ": subscribed to the interrupt of %s",
				 CONN_ARGS(s), l->id, name);
		}
		break;
	case MMIO__REQUEST__BODY_IRQ_ACK:
		rc = irq_ack(l);
		break;
	default:
		rc = irq_unsubscribe(l);
		break;
	}
	if (rc == -EINVAL && kind == MMIO__REQUEST__BODY_IRQ_SUBSCRIBE) {
		reply_status(reply, scratch, rc, "region %s has no interrupt (irq=yes)", name);
	} else if (rc == -EINVAL) {
		reply_status(reply, scratch, rc,
			     "lease %" PRIu64 " holds no interrupt subscription", l->id);
	} else if (rc == -EACCES) {
		log_event(MSGID_ACCESS_DENIED, LOG_LEVEL_WARN,
			  CONN_FMT ": denied the interrupt of %s to lease %" PRIu64, CONN_ARGS(s),
			  name, l->id);
		if (l->read_only) {
			reply_status(reply, scratch, rc,
				     "subscribing to the interrupt of %s needs a read-write "
				     "lease; lease %" PRIu64 " is read-only",
				     name, l->id);
		} else {
			reply_status(reply, scratch, rc,
				     "subscribing to the interrupt of %s needs a read-write "
				     "grant of the whole region or one with irq = true",
				     name);
		}
	} else if (rc == -EBUSY) {
		reply_status(reply, scratch, rc,
			     "another client is subscribed to the interrupt of %s", name);
	} else {
		reply_status(reply, scratch, rc, NULL);
	}
}

/* Bytes of a Stats reply the leases' figures may take: the regions' fit in the rest. */
#define LEASE_STATS_BUDGET (MMIO_MAX_FRAME / 2)

/* The StatusCounts of every AccessFigures of one reply, allocated at once. */
struct error_pool {
	Mmio__StatusCount *counts;
	Mmio__StatusCount **ptrs;
	size_t used, cap;
};

static size_t
count_errors(const struct access_figures *f)
{
	size_t n = 0;
	for (unsigned i = 0; i < FIGURES_STATUSES; i++) {
		n += f->errors[i] != 0;
	}
	return n;
}

static bool
error_pool_init(struct error_pool *pool, size_t cap, struct reply_scratch *scratch)
{
	*pool = (struct error_pool){.cap = cap};
	if (cap == 0) {
		return true;
	}
	pool->counts = reply_alloc(scratch, cap, sizeof(*pool->counts));
	/* NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers, sized by element */
	pool->ptrs = reply_alloc(scratch, cap, sizeof(*pool->ptrs));
	return pool->counts && pool->ptrs;
}

/* f into out, its errors from pool (counted for it by count_errors). */
static void
fill_figures(Mmio__AccessFigures *out, const struct access_figures *f, struct error_pool *pool)
{
	mmio__access_figures__init(out);
	out->loads = f->loads;
	out->stores = f->stores;
	out->modifies = f->modifies;
	out->polls = f->polls;
	out->block_bytes = f->block_bytes;
	out->latency_sum_ns = f->latency_sum_ns;
	/* Up to the last bucket with a count: an idle lease costs the reply nothing there. */
	size_t n_buckets = FIGURES_LATENCY_BUCKETS;
	while (n_buckets > 0 && f->latency[n_buckets - 1] == 0) {
		n_buckets--;
	}
	out->n_latency_buckets = n_buckets;
	out->latency_buckets = (uint64_t *)f->latency;
	out->errors = pool->ptrs ? pool->ptrs + pool->used : NULL;
	for (unsigned i = 0; i < FIGURES_STATUSES && pool->used < pool->cap; i++) {
		if (f->errors[i]) {
			Mmio__StatusCount *c = &pool->counts[pool->used];
			mmio__status_count__init(c);
			c->status = (Mmio__Status)i;
			c->count = f->errors[i];
			pool->ptrs[pool->used++] = c;
			out->n_errors++;
		}
	}
}

/*
 * The figures of every lease s may see (lease_visible), by ascending id, as many as fit in
 * LEASE_STATS_BUDGET (*more then set). false for lack of memory.
 */
static bool
fill_lease_stats(struct session *s, bool all, size_t n, Mmio__StatsReply *st,
		 struct error_pool *pool, struct reply_scratch *scratch)
{
	if (n == 0) {
		return true;
	}
	/* One block per kind: reply_alloc keeps a few blocks only. */
	Mmio__LeaseStats *items = reply_alloc(scratch, n, sizeof(*items));
	Mmio__AccessFigures *figs = reply_alloc(scratch, n, sizeof(*figs));
	/* NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers, sized by element */
	Mmio__LeaseStats **ptrs = reply_alloc(scratch, n, sizeof(*ptrs));
	if (!items || !figs || !ptrs) {
		return false;
	}
	size_t k = 0;
	size_t used = 0;
	for (const struct lease *l = lease_first_after(0); l && k < n; l = lease_next_by_id(l)) {
		if (!lease_visible(s, all, l)) {
			continue;
		}
		Mmio__LeaseStats *item = &items[k];
		mmio__lease_stats__init(item);
		item->id = l->id;
		item->region = (char *)region_of_lease(l)->name;
		item->uid = (uint32_t)l->set->uid;
		item->pid = (int32_t)l->set->pid;
		size_t pool_mark = pool->used;
		fill_figures(&figs[k], &l->figures, pool);
		item->figures = &figs[k];
		size_t cost = mmio__lease_stats__get_packed_size(item) + 4;
		if (used + cost > LEASE_STATS_BUDGET) {
			pool->used = pool_mark;
			st->lease_stats_more = true;
			break;
		}
		used += cost;
		ptrs[k++] = item;
	}
	st->n_lease_stats = k;
	st->lease_stats = ptrs;
	return true;
}

void
handle_stats(struct session *s, Mmio__Reply *reply, struct reply_scratch *scratch)
{
	const struct service *svc = s->svc;
	const struct region_table *regions = svc->regions;
	bool all = service_is_admin(svc, &s->who);
	Mmio__RegionStats *rs = reply_alloc(scratch, regions->count, sizeof(*rs));
	Mmio__AccessFigures *figs = reply_alloc(scratch, regions->count, sizeof(*figs));
	/* NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers, sized by element */
	Mmio__RegionStats **ptrs = reply_alloc(scratch, regions->count, sizeof(*ptrs));
	if (!rs || !figs || !ptrs) {
		reply_status(reply, scratch, -ENOMEM, NULL);
		return;
	}
	/* Every status count of the reply, regions' and leases', in one pool. */
	size_t n_errors = 0;
	size_t n_leases = 0;
	for (unsigned i = 0; i < regions->count; i++) {
		if (all || count_grants(s, regions->regions[i]) > 0) {
			n_errors += count_errors(&regions->regions[i]->figures);
		}
	}
	for (const struct lease *l = lease_first_after(0); l; l = lease_next_by_id(l)) {
		if (lease_visible(s, all, l)) {
			n_leases++;
			n_errors += count_errors(&l->figures);
		}
	}
	struct error_pool pool;
	if (!error_pool_init(&pool, n_errors, scratch)) {
		reply_status(reply, scratch, -ENOMEM, NULL);
		return;
	}
	struct service_figures fig;
	service_figures(svc, &fig);
	unsigned n = 0;
	for (unsigned i = 0; i < regions->count; i++) {
		const struct region *r = regions->regions[i];
		/* The visibility rule of handle_list_regions: no grant, not listed (but to admins).
		 */
		if (!all && count_grants(s, r) == 0) {
			continue;
		}
		mmio__region_stats__init(&rs[n]);
		rs[n].name = (char *)r->name;
		rs[n].leases = r->space.count;
		rs[n].faults = r->faults;
		fill_figures(&figs[n], &r->figures, &pool);
		rs[n].figures = &figs[n];
		ptrs[n] = &rs[n];
		n++;
	}
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	int64_t up_ms = (int64_t)(now.tv_sec - svc->started.tv_sec) * 1000 +
			(now.tv_nsec - svc->started.tv_nsec) / 1000000;
	Mmio__StatsReply *st = &scratch->stats;
	mmio__stats_reply__init(st);
	st->connections = fig.clients;
	st->leases = fig.leases;
	st->faults = fig.faults;
	st->requests = svc->requests;
	st->uptime_ms = up_ms < 0 ? 0 : (uint64_t)up_ms;
	st->rings = svc->n_rings;
	st->n_regions = n;
	st->regions = ptrs;
	if (!fill_lease_stats(s, all, n_leases, st, &pool, scratch)) {
		reply_status(reply, scratch, -ENOMEM, NULL);
		return;
	}
	reply->body_case = MMIO__REPLY__BODY_STATS;
	reply->stats = st;
	reply_status(reply, scratch, 0, NULL);
}
