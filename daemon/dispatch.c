#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include "backend.h"
#include "dispatch.h"
#include "irq.h"
#include "log.h"
#include "mmio_limits.h"
#include "region.h"
#include "service.h"
#include "status.h"

#define CONN_FMT     "conn %" PRIu64 " (pid %d uid %u)"
#define CONN_ARGS(s) (s)->conn_id, (int)(s)->who.pid, (unsigned)(s)->who.uid

void
session_init(struct session *s, uint64_t conn_id, struct service *svc, const struct identity *who)
{
	s->conn_id = conn_id;
	s->svc = svc;
	s->who = *who;
	s->hello_done = false;
	s->refused = false;
	lease_set_init(&s->leases, svc->limits.max_leases_per_connection, who->pid, who->uid);
}

struct session *
session_of_lease_set(const struct lease_set *set)
{
	return (struct session *)((char *)set - offsetof(struct session, leases));
}

void
session_release_lease(struct lease *l)
{
	irq_lease_gone(l);
	lease_release(l);
}

unsigned
session_finish(struct session *s)
{
	struct lease *l;
	TAILQ_FOREACH(l, &s->leases.leases, set_link)
	{
		irq_lease_gone(l);
	}
	return lease_revoke_all(&s->leases);
}

static void *
scratch_alloc(struct dispatch_scratch *scratch, size_t n, size_t size)
{
	if (scratch->n_owned == sizeof(scratch->owned) / sizeof(scratch->owned[0])) {
		return NULL;
	}
	void *p = calloc(n ? n : 1, size);
	if (p) {
		scratch->owned[scratch->n_owned++] = p;
	}
	return p;
}

void
dispatch_reply_finish(struct dispatch_scratch *scratch)
{
	for (unsigned i = 0; i < scratch->n_owned; i++) {
		free(scratch->owned[i]);
	}
	scratch->n_owned = 0;
}

/* Sets the reply's status from err and, when fmt is given, its detail. */
static void __attribute__((format(printf, 4, 5)))
set_status(Mmio__Reply *reply, struct dispatch_scratch *scratch, int err, const char *fmt, ...)
{
	reply->status = status_from_errno(err);
	if (fmt) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(scratch->detail, sizeof(scratch->detail), fmt, ap);
		va_end(ap);
		reply->detail = scratch->detail;
	}
}

static void
fill_lease_info(Mmio__LeaseInfo *info, const struct lease *l)
{
	mmio__lease_info__init(info);
	info->id = l->id;
	/* The reply is packed before any lease changes, so pointing at the name is safe. */
	info->region = region_of_lease(l)->name;
	info->start = l->start;
	info->length = l->len;
	info->pid = (int32_t)l->set->pid;
	info->uid = (uint32_t)l->set->uid;
	info->access = l->read_only ? MMIO__ACCESS__ACCESS_RO : MMIO__ACCESS__ACCESS_RW;
}

static enum dispatch_result
handle_hello(struct session *s, const Mmio__Hello *hello, Mmio__Reply *reply,
	     struct dispatch_scratch *scratch)
{
	if (s->hello_done) {
		log_warn(CONN_FMT ": second Hello", CONN_ARGS(s));
		return DISPATCH_CLOSE;
	}
	mmio__hello__init(&scratch->hello);
	scratch->hello.version = MMIO_PROTOCOL_VERSION;
	reply->body_case = MMIO__REPLY__BODY_HELLO;
	reply->hello = &scratch->hello;
	if (hello->version != MMIO_PROTOCOL_VERSION) {
		log_warn(CONN_FMT ": protocol version %u, we speak %d", CONN_ARGS(s),
			 hello->version, MMIO_PROTOCOL_VERSION);
		set_status(reply, scratch, -EPROTONOSUPPORT, "mmiod speaks protocol version %d",
			   MMIO_PROTOCOL_VERSION);
		return DISPATCH_REPLY_CLOSE;
	}
	if (s->refused) {
		set_status(reply, scratch, -ENOSPC, "uid %u has too many connections to mmiod",
			   (unsigned)s->who.uid);
		return DISPATCH_REPLY_CLOSE;
	}
	s->hello_done = true;
	set_status(reply, scratch, 0, NULL);
	return DISPATCH_REPLY;
}

/* How many grants of r apply to the caller (root and the starting uid: one, the whole region). */
static unsigned
count_grants(const struct session *s, const struct region *r)
{
	if (policy_is_superuser(&s->who, s->svc->extra_uid)) {
		return 1;
	}
	unsigned n = 0;
	for (unsigned i = 0; i < r->policy.n_grants; i++) {
		n += policy_grant_applies(&r->policy.grants[i], &s->who);
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
static void
handle_list_regions(struct session *s, Mmio__Reply *reply, struct dispatch_scratch *scratch)
{
	const struct region_table *regions = s->svc->regions;
	unsigned n_grants = 0;
	for (unsigned i = 0; i < regions->count; i++) {
		n_grants += count_grants(s, regions->regions[i]);
	}
	Mmio__RegionInfo *infos = scratch_alloc(scratch, regions->count, sizeof(*infos));
	Mmio__RegionInfo **ptrs = scratch_alloc(scratch, regions->count, sizeof(*ptrs));
	Mmio__Grant *grants = scratch_alloc(scratch, n_grants, sizeof(*grants));
	Mmio__Grant **grant_ptrs = scratch_alloc(scratch, n_grants, sizeof(*grant_ptrs));
	if (!infos || !ptrs || !grants || !grant_ptrs) {
		set_status(reply, scratch, -ENOMEM, NULL);
		return;
	}
	unsigned n = 0, g = 0;
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
				if (policy_grant_applies(pg, &s->who)) {
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
	set_status(reply, scratch, 0, NULL);
}

static void
reply_lease(Mmio__Reply *reply, struct dispatch_scratch *scratch, const struct lease *l)
{
	fill_lease_info(&scratch->lease, l);
	reply->body_case = MMIO__REPLY__BODY_LEASE;
	reply->lease = &scratch->lease;
	set_status(reply, scratch, 0, NULL);
}

static void
handle_acquire(struct session *s, const Mmio__Acquire *req, Mmio__Reply *reply,
	       struct dispatch_scratch *scratch)
{
	struct region *r = region_table_find(s->svc->regions, req->region);
	/* A region the caller has no grant on is not listed to it: do not confirm it exists. */
	if (!r || count_grants(s, r) == 0) {
		set_status(reply, scratch, -ENOENT, "no region named '%.64s'", req->region);
		return;
	}
	bool read_only;
	if (policy_check_range(&r->policy, &s->who, s->svc->extra_uid, req->offset, req->length,
			       &read_only) < 0) {
		log_warn(CONN_FMT ": denied %s [0x%" PRIx64 ", +0x%" PRIx64 "): outside its grants",
			 CONN_ARGS(s), r->name, req->offset, req->length);
		set_status(reply, scratch, -EACCES,
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
		log_info(CONN_FMT ": lease %" PRIu64 " granted: %s [0x%" PRIx64 ", +0x%" PRIx64 ")",
			 CONN_ARGS(s), l->id, r->name, l->start, l->len);
		reply_lease(reply, scratch, l);
		return;
	case -ERANGE:
		set_status(reply, scratch, rc,
			   "offset 0x%" PRIx64 " length 0x%" PRIx64 " is not inside region %s of "
			   "size 0x%" PRIx64,
			   req->offset, req->length, r->name, r->space.len);
		return;
	case -EBUSY:
		set_status(reply, scratch, rc, "range overlaps a live lease on %s", r->name);
		return;
	case -ENOSPC:
		log_warn(CONN_FMT ": lease limit %u reached", CONN_ARGS(s), s->leases.max);
		set_status(reply, scratch, rc, "a connection may hold at most %u leases",
			   s->leases.max);
		return;
	default:
		set_status(reply, scratch, rc, NULL);
		return;
	}
}

/* The caller's lease with this id, or NULL with NOT_FOUND set on the reply. */
static struct lease *
find_lease(struct session *s, uint64_t id, Mmio__Reply *reply, struct dispatch_scratch *scratch)
{
	struct lease *l = lease_find(&s->leases, id);
	if (!l) {
		set_status(reply, scratch, -ENOENT, "no lease %" PRIu64 " on this connection", id);
	}
	return l;
}

static void
handle_split(struct session *s, const Mmio__Split *req, Mmio__Reply *reply,
	     struct dispatch_scratch *scratch)
{
	struct lease *l = find_lease(s, req->lease, reply, scratch);
	if (!l) {
		return;
	}
	struct lease *low;
	int rc = lease_split(l, req->mid, &low);
	if (rc == -ERANGE) {
		set_status(reply, scratch, rc, "mid 0x%" PRIx64 " is past lease length 0x%" PRIx64,
			   req->mid, l->len);
		return;
	}
	if (rc < 0) {
		set_status(reply, scratch, rc, NULL);
		return;
	}
	log_info(CONN_FMT ": lease %" PRIu64 ": split at 0x%" PRIx64 ", low part is lease %" PRIu64,
		 CONN_ARGS(s), l->id, req->mid, low->id);
	reply_lease(reply, scratch, low);
}

static void
handle_release(struct session *s, const Mmio__Release *req, Mmio__Reply *reply,
	       struct dispatch_scratch *scratch)
{
	struct lease *l = find_lease(s, req->lease, reply, scratch);
	if (!l) {
		return;
	}
	log_info(CONN_FMT ": lease %" PRIu64 " released", CONN_ARGS(s), l->id);
	session_release_lease(l);
	set_status(reply, scratch, 0, NULL);
}

static void
set_access_status(Mmio__Reply *reply, struct dispatch_scratch *scratch, int rc,
		  const struct lease *l, uint64_t off, unsigned width)
{
	switch (rc) {
	case 0:
		set_status(reply, scratch, 0, NULL);
		break;
	case -EACCES:
		set_status(reply, scratch, rc, "lease %" PRIu64 " was granted read-only", l->id);
		break;
	case -EFAULT:
		set_status(reply, scratch, rc,
			   "offset 0x%" PRIx64 " of lease %" PRIu64 " is device address 0x%" PRIx64
			   ", not %u-byte aligned",
			   off, l->id, l->space->addr + l->start + off, width);
		break;
	case -ERANGE:
		set_status(reply, scratch, rc,
			   "%u-byte access at offset 0x%" PRIx64 " does not fit lease %" PRIu64
			   " of length 0x%" PRIx64,
			   width, off, l->id, l->len);
		break;
	case -EINVAL:
		if (!lease_width_valid(width)) {
			set_status(reply, scratch, rc, "width %u is not 1, 2, 4 or 8 bytes", width);
		} else {
			set_status(reply, scratch, rc, "value is wider than %u bits", width * 8);
		}
		break;
	default:
		set_status(reply, scratch, rc, NULL);
		break;
	}
}

/* One audit record per access to a region audited for it, whatever the outcome. */
static void
audit_access(const struct session *s, const struct lease *l, bool is_store, unsigned width,
	     uint64_t off, uint64_t value, int rc)
{
	const struct region *r = region_of_lease(l);
	if (r->policy.audit == AUDIT_NONE || (r->policy.audit == AUDIT_STORES && !is_store)) {
		return;
	}
	const char *status = status_name_of_errno(rc);
	struct audit_record rec = {
		.conn_id = s->conn_id,
		.pid = s->who.pid,
		.uid = s->who.uid,
		.lease = l->id,
		.region = r->name,
		.op = is_store ? "store" : "load",
		.width = width,
		.offset = l->start + off,
		.value = value,
		.status = status ? status : "IO_ERROR",
	};
	log_audit(&rec);
}

/* Stores through a lease granted read-only are refused before any check. */
static int
checked_store(const struct session *s, const struct lease *l, uint64_t off, unsigned width,
	      uint64_t value)
{
	int rc = l->read_only ? -EACCES : region_store(l, off, width, value);
	audit_access(s, l, true, width, off, value, rc);
	return rc;
}

static int
checked_load(const struct session *s, const struct lease *l, uint64_t off, unsigned width,
	     uint64_t *value)
{
	int rc = region_load(l, off, width, value);
	audit_access(s, l, false, width, off, rc == 0 ? *value : 0, rc);
	return rc;
}

static void
handle_load(struct session *s, const Mmio__Load *req, Mmio__Reply *reply,
	    struct dispatch_scratch *scratch)
{
	struct lease *l = find_lease(s, req->lease, reply, scratch);
	if (!l) {
		return;
	}
	uint64_t value = 0;
	int rc = checked_load(s, l, req->offset, req->width, &value);
	set_access_status(reply, scratch, rc, l, req->offset, req->width);
	if (rc == 0) {
		mmio__load_result__init(&scratch->load);
		scratch->load.value = value;
		reply->body_case = MMIO__REPLY__BODY_LOAD;
		reply->load = &scratch->load;
	}
}

static void
handle_store(struct session *s, const Mmio__Store *req, Mmio__Reply *reply,
	     struct dispatch_scratch *scratch)
{
	struct lease *l = find_lease(s, req->lease, reply, scratch);
	if (!l) {
		return;
	}
	int rc = checked_store(s, l, req->offset, req->width, req->value);
	set_access_status(reply, scratch, rc, l, req->offset, req->width);
}

static void
handle_barrier(struct session *s, const Mmio__Barrier *req, Mmio__Reply *reply,
	       struct dispatch_scratch *scratch)
{
	struct lease *l = find_lease(s, req->lease, reply, scratch);
	if (!l) {
		return;
	}
	region_write_barrier(l);
	set_status(reply, scratch, 0, NULL);
}

/* Admins see every lease; anyone else those of its own uid (any of its connections). */
static void
handle_list_leases(struct session *s, Mmio__Reply *reply, struct dispatch_scratch *scratch)
{
	const struct region_table *regions = s->svc->regions;
	bool all = service_is_admin(s->svc, &s->who);
	size_t n = 0;
	for (unsigned i = 0; i < regions->count; i++) {
		const struct lease *l;
		TAILQ_FOREACH(l, &regions->regions[i]->space.leases, space_link)
		{
			n += all || l->set->uid == s->who.uid;
		}
	}
	Mmio__LeaseInfo *infos = scratch_alloc(scratch, n, sizeof(*infos));
	Mmio__LeaseInfo **ptrs = scratch_alloc(scratch, n, sizeof(*ptrs));
	if (!infos || !ptrs) {
		set_status(reply, scratch, -ENOMEM, NULL);
		return;
	}
	size_t k = 0;
	for (unsigned i = 0; i < regions->count; i++) {
		const struct lease *l;
		TAILQ_FOREACH(l, &regions->regions[i]->space.leases, space_link)
		{
			if (all || l->set->uid == s->who.uid) {
				fill_lease_info(&infos[k], l);
				ptrs[k] = &infos[k];
				k++;
			}
		}
	}
	mmio__lease_list__init(&scratch->leases);
	scratch->leases.n_leases = n;
	scratch->leases.leases = ptrs;
	reply->body_case = MMIO__REPLY__BODY_LEASES;
	reply->leases = &scratch->leases;
	set_status(reply, scratch, 0, NULL);
}

static void
handle_revoke(struct session *s, const Mmio__Revoke *req, Mmio__Reply *reply,
	      struct dispatch_scratch *scratch)
{
	if (!service_is_admin(s->svc, &s->who)) {
		log_warn(CONN_FMT ": denied revoke of lease %" PRIu64 ": not an admin",
			 CONN_ARGS(s), req->lease);
		set_status(reply, scratch, -EACCES, "only the admin group may revoke leases");
		return;
	}
	struct lease *l = service_find_lease(s->svc, req->lease);
	if (!l) {
		set_status(reply, scratch, -ENOENT, "no lease %" PRIu64, req->lease);
		return;
	}
	const struct session *holder = session_of_lease_set(l->set);
	log_info(CONN_FMT ": revoked lease %" PRIu64 " of conn %" PRIu64 " (pid %d uid %u)",
		 CONN_ARGS(s), l->id, holder->conn_id, (int)holder->who.pid,
		 (unsigned)holder->who.uid);
	session_release_lease(l);
	set_status(reply, scratch, 0, NULL);
}

static void
handle_irq(struct session *s, Mmio__Request__BodyCase kind, uint64_t lease_id, Mmio__Reply *reply,
	   struct dispatch_scratch *scratch)
{
	struct lease *l = find_lease(s, lease_id, reply, scratch);
	if (!l) {
		return;
	}
	const char *name = region_of_lease(l)->name;
	int rc;
	switch (kind) {
	case MMIO__REQUEST__BODY_IRQ_SUBSCRIBE:
		rc = irq_subscribe(s->svc, s, l, &scratch->pass_fd);
		if (rc == 0) {
			log_info(CONN_FMT ": lease %" PRIu64 ": subscribed to the interrupt of %s",
				 CONN_ARGS(s), l->id, name);
		}
		break;
	case MMIO__REQUEST__BODY_IRQ_ACK:
		rc = irq_ack(s, l);
		break;
	default:
		rc = irq_unsubscribe(s, l);
		break;
	}
	if (rc == -EINVAL && kind == MMIO__REQUEST__BODY_IRQ_SUBSCRIBE) {
		set_status(reply, scratch, rc, "region %s has no interrupt (irq=yes)", name);
	} else if (rc == -EINVAL) {
		set_status(reply, scratch, rc, "lease %" PRIu64 " holds no interrupt subscription",
			   l->id);
	} else if (rc == -EBUSY) {
		set_status(reply, scratch, rc,
			   "another client is subscribed to the interrupt of %s", name);
	} else {
		set_status(reply, scratch, rc, NULL);
	}
}

/* One batch op: returns 0 or a negative errno, never touching anything on failure. */
static int
run_batch_op(struct session *s, const Mmio__Batch *req, size_t i, uint64_t *value)
{
	struct lease *l = lease_find(&s->leases, req->lease[i]);
	if (!l) {
		return -ENOENT;
	}
	switch (req->op[i]) {
	case MMIO__BATCH_OP__BATCH_OP_LOAD:
		return checked_load(s, l, req->offset[i], req->width[i], value);
	case MMIO__BATCH_OP__BATCH_OP_STORE:
		return checked_store(s, l, req->offset[i], req->width[i], req->value[i]);
	case MMIO__BATCH_OP__BATCH_OP_BARRIER:
		region_write_barrier(l);
		return 0;
	default:
		return -EINVAL;
	}
}

static void
handle_batch(struct session *s, const Mmio__Batch *req, Mmio__Reply *reply,
	     struct dispatch_scratch *scratch)
{
	size_t n = req->n_lease;
	if (req->n_op != n || req->n_width != n || req->n_offset != n || req->n_value != n) {
		set_status(reply, scratch, -EINVAL, "batch arrays differ in length");
		return;
	}
	if (n > MMIO_MAX_BATCH_OPS) {
		set_status(reply, scratch, -ENOSPC, "a batch holds at most %d operations",
			   MMIO_MAX_BATCH_OPS);
		return;
	}
	Mmio__Status *statuses = scratch_alloc(scratch, n, sizeof(*statuses));
	uint64_t *values = scratch_alloc(scratch, n, sizeof(*values));
	if (!statuses || !values) {
		set_status(reply, scratch, -ENOMEM, NULL);
		return;
	}
	bool failed = false;
	for (size_t i = 0; i < n; i++) {
		if (failed && req->stop_on_error) {
			statuses[i] = MMIO__STATUS__CANCELLED;
			continue;
		}
		int rc = run_batch_op(s, req, i, &values[i]);
		statuses[i] = status_from_errno(rc);
		failed |= rc < 0;
	}
	mmio__batch_result__init(&scratch->batch);
	scratch->batch.n_status = n;
	scratch->batch.status = statuses;
	scratch->batch.n_value = n;
	scratch->batch.value = values;
	reply->body_case = MMIO__REPLY__BODY_BATCH;
	reply->batch = &scratch->batch;
	/* The request as a whole succeeded; per-op outcomes are in the result. */
	set_status(reply, scratch, 0, NULL);
}

enum dispatch_result
dispatch(struct session *s, const Mmio__Request *req, Mmio__Reply *reply,
	 struct dispatch_scratch *scratch)
{
	reply->id = req->id;
	scratch->n_owned = 0;
	scratch->pass_fd = -1;
	if (req->body_case == MMIO__REQUEST__BODY_HELLO) {
		return handle_hello(s, req->hello, reply, scratch);
	}
	if (!s->hello_done) {
		log_warn(CONN_FMT ": request %" PRIu64 " before Hello", CONN_ARGS(s), req->id);
		return DISPATCH_CLOSE;
	}
	log_debug(CONN_FMT ": request %" PRIu64 " kind %d", CONN_ARGS(s), req->id,
		  (int)req->body_case);
	switch (req->body_case) {
	case MMIO__REQUEST__BODY_LIST_REGIONS:
		handle_list_regions(s, reply, scratch);
		break;
	case MMIO__REQUEST__BODY_ACQUIRE:
		handle_acquire(s, req->acquire, reply, scratch);
		break;
	case MMIO__REQUEST__BODY_SPLIT:
		handle_split(s, req->split, reply, scratch);
		break;
	case MMIO__REQUEST__BODY_RELEASE:
		handle_release(s, req->release, reply, scratch);
		break;
	case MMIO__REQUEST__BODY_LOAD:
		handle_load(s, req->load, reply, scratch);
		break;
	case MMIO__REQUEST__BODY_STORE:
		handle_store(s, req->store, reply, scratch);
		break;
	case MMIO__REQUEST__BODY_BARRIER:
		handle_barrier(s, req->barrier, reply, scratch);
		break;
	case MMIO__REQUEST__BODY_LIST_LEASES:
		handle_list_leases(s, reply, scratch);
		break;
	case MMIO__REQUEST__BODY_BATCH:
		handle_batch(s, req->batch, reply, scratch);
		break;
	case MMIO__REQUEST__BODY_REVOKE:
		handle_revoke(s, req->revoke, reply, scratch);
		break;
	case MMIO__REQUEST__BODY_IRQ_SUBSCRIBE:
		handle_irq(s, req->body_case, req->irq_subscribe->lease, reply, scratch);
		break;
	case MMIO__REQUEST__BODY_IRQ_ACK:
		handle_irq(s, req->body_case, req->irq_ack->lease, reply, scratch);
		break;
	case MMIO__REQUEST__BODY_IRQ_UNSUBSCRIBE:
		handle_irq(s, req->body_case, req->irq_unsubscribe->lease, reply, scratch);
		break;
	default:
		log_warn(CONN_FMT ": request %" PRIu64 " has no known body", CONN_ARGS(s), req->id);
		return DISPATCH_CLOSE;
	}
	return DISPATCH_REPLY;
}
