#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/log.h"
#include "device/backend.h"
#include "device/region.h"
#include "mmio_limits.h"
#include "request/dispatch.h"
#include "request/dispatch_internal.h"
#include "request/irq.h"
#include "request/ring.h"
#include "request/service.h"
#include "status.h"

void
session_init(struct session *s, uint64_t conn_id, struct service *svc, const struct identity *who)
{
	s->conn_id = conn_id;
	s->svc = svc;
	s->who = *who;
	s->hello_done = false;
	s->refused = false;
	s->ring = NULL;
	s->fd_room = UINT_MAX;
	s->fd_room_why[0] = '\0';
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
	if (s->ring) {
		ring_destroy(s->ring);
		s->ring = NULL;
		s->svc->n_rings--;
	}
	return lease_revoke_all(&s->leases);
}

void *
dispatch_alloc(struct dispatch_scratch *scratch, size_t n, size_t size)
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
void
dispatch_status(Mmio__Reply *reply, struct dispatch_scratch *scratch, int err, const char *fmt, ...)
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

void
dispatch_fill_lease_info(Mmio__LeaseInfo *info, const struct lease *l)
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
	scratch->hello.features = s->svc->limits.max_rings > 0 ? MMIO_FEATURE_RING : 0;
	reply->body_case = MMIO__REPLY__BODY_HELLO;
	reply->hello = &scratch->hello;
	if (hello->version != MMIO_PROTOCOL_VERSION) {
		log_warn(CONN_FMT ": protocol version %u, we speak %d", CONN_ARGS(s),
			 hello->version, MMIO_PROTOCOL_VERSION);
		dispatch_status(reply, scratch, -EPROTONOSUPPORT,
				"mmiod speaks protocol version %d", MMIO_PROTOCOL_VERSION);
		return DISPATCH_REPLY_CLOSE;
	}
	if (s->refused) {
		dispatch_status(reply, scratch, -ENOSPC, "uid %u has too many connections to mmiod",
				(unsigned)s->who.uid);
		return DISPATCH_REPLY_CLOSE;
	}
	s->hello_done = true;
	dispatch_status(reply, scratch, 0, NULL);
	return DISPATCH_REPLY;
}

/* The caller's lease with this id, or NULL with NOT_FOUND set on the reply. */
struct lease *
dispatch_find_lease(struct session *s, uint64_t id, Mmio__Reply *reply,
		    struct dispatch_scratch *scratch)
{
	struct lease *l = lease_find(&s->leases, id);
	if (!l) {
		dispatch_status(reply, scratch, -ENOENT, "no lease %" PRIu64 " on this connection",
				id);
	}
	return l;
}

enum dispatch_result
dispatch(struct session *s, const Mmio__Request *req, Mmio__Reply *reply,
	 struct dispatch_scratch *scratch)
{
	reply->id = req->id;
	scratch->n_owned = 0;
	for (unsigned i = 0; i < WIRE_MAX_PASS_FDS; i++) {
		scratch->pass_fds[i] = -1;
	}
	scratch->grant.kind = FD_GRANT_NONE;
	scratch->poll.pending = false;
	s->svc->requests++;
	if (req->body_case == MMIO__REQUEST__BODY_HELLO) {
		return handle_hello(s, req->hello, reply, scratch);
	}
	if (!s->hello_done) {
		log_warn(CONN_FMT ": request %" PRIu64 " before Hello", CONN_ARGS(s), req->id);
		return DISPATCH_CLOSE;
	}
	log_debug(CONN_FMT ": request %" PRIu64 " kind %d", CONN_ARGS(s), req->id,
		  (int)req->body_case);
	if (dispatch_fds_needed(req) > s->fd_room) {
		dispatch_status(reply, scratch, -ENOSPC, "%s", s->fd_room_why);
		return DISPATCH_REPLY;
	}
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
		handle_list_leases(s, req->list_leases, reply, scratch);
		break;
	case MMIO__REQUEST__BODY_BATCH:
		handle_batch(s, req->batch, reply, scratch);
		break;
	case MMIO__REQUEST__BODY_REVOKE:
		handle_revoke(s, req->revoke, reply, scratch);
		break;
	case MMIO__REQUEST__BODY_IRQ_SUBSCRIBE:
		handle_irq(s, req->body_case, req->irq_subscribe->lease, reply, scratch);
		if (scratch->pass_fds[0] >= 0) {
			scratch->grant.kind = FD_GRANT_IRQ;
			scratch->grant.lease = req->irq_subscribe->lease;
		}
		break;
	case MMIO__REQUEST__BODY_IRQ_ACK:
		handle_irq(s, req->body_case, req->irq_ack->lease, reply, scratch);
		break;
	case MMIO__REQUEST__BODY_IRQ_UNSUBSCRIBE:
		handle_irq(s, req->body_case, req->irq_unsubscribe->lease, reply, scratch);
		break;
	case MMIO__REQUEST__BODY_MODIFY:
		handle_modify(s, req->modify, reply, scratch);
		break;
	case MMIO__REQUEST__BODY_BLOCK_READ:
		handle_block_read(s, req->block_read, reply, scratch);
		break;
	case MMIO__REQUEST__BODY_BLOCK_WRITE:
		handle_block_write(s, req->block_write, reply, scratch);
		break;
	case MMIO__REQUEST__BODY_STATS:
		handle_stats(s, reply, scratch);
		break;
	case MMIO__REQUEST__BODY_RING_SETUP:
		handle_ring_setup(s, req->ring_setup, reply, scratch);
		break;
	case MMIO__REQUEST__BODY_POLL:
		handle_poll(s, req->poll, reply, scratch);
		return scratch->poll.pending ? DISPATCH_DEFER : DISPATCH_REPLY;
	default:
		log_warn(CONN_FMT ": request %" PRIu64 " has no known body", CONN_ARGS(s), req->id);
		return DISPATCH_CLOSE;
	}
	return DISPATCH_REPLY;
}

unsigned
dispatch_fds_needed(const Mmio__Request *req)
{
	switch (req->body_case) {
	case MMIO__REQUEST__BODY_RING_SETUP:
		return 2;
	case MMIO__REQUEST__BODY_IRQ_SUBSCRIBE:
		return 1;
	default:
		return 0;
	}
}

void
dispatch_fds_undelivered(struct session *s, const struct fd_grant *grant)
{
	switch (grant->kind) {
	case FD_GRANT_RING:
		if (s->ring) {
			ring_destroy(s->ring);
			s->ring = NULL;
			s->svc->n_rings--;
		}
		break;
	case FD_GRANT_IRQ: {
		const struct lease *l = lease_find(&s->leases, grant->lease);
		if (l) {
			irq_unsubscribe(s, l);
		}
		break;
	}
	default:
		break;
	}
}
