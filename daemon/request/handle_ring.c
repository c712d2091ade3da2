/*
 * The shared-memory fast path: opening a connection's ring, and running the
 * ops submitted through it with exactly the checks of their socket requests.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <unistd.h>

#include "base/log.h"
#include "core/lease.h"
#include "request/access.h"
#include "request/dispatch.h"
#include "request/handlers.h"
#include "request/reply.h"
#include "request/ring.h"
#include "request/service.h"
#include "status.h"

void
handle_ring_setup(struct session *s, const Mmio__RingSetup *req, Mmio__Reply *reply,
		  struct reply_scratch *scratch)
{
	const struct limits *lim = &s->svc->limits;
	if (lim->max_rings == 0) {
		reply_status(reply, scratch, -EACCES,
			     "this mmiod offers no shared-memory ring (max_rings = 0)");
		return;
	}
	if (s->ring) {
		reply_status(reply, scratch, -EINVAL, "this connection has its ring already");
		return;
	}
	if (s->svc->n_rings >= lim->max_rings) {
		reply_status(reply, scratch, -ENOSPC, "all %u rings are in use", lim->max_rings);
		return;
	}
	struct ring *r;
	int memfd;
	int doorbell;
	int rc = ring_create(req->entries, &r, &memfd, &doorbell);
	if (rc < 0) {
		log_warn(CONN_FMT ": cannot open a ring: %s", CONN_ARGS(s), status_message(rc));
		reply_status(reply, scratch, rc == -EMFILE || rc == -ENFILE ? -ENOSPC : rc,
			     "cannot open a ring");
		return;
	}
	s->ring = r;
	s->svc->n_rings++;
	scratch->pass_fds[0] = memfd;
	scratch->pass_fds[1] = doorbell;
	scratch->grant.kind = FD_GRANT_RING;
	mmio__ring_info__init(&scratch->ring);
	scratch->ring.entries = r->entries;
	scratch->ring.size = r->size;
	reply->body_case = MMIO__REPLY__BODY_RING;
	reply->ring = &scratch->ring;
	reply_status(reply, scratch, 0, NULL);
	log_info(CONN_FMT ": ring of %u entries open", CONN_ARGS(s), r->entries);
}

/* One op; the reply-shaped status and detail come from the socket path's own code. */
static void
run_ring_op(struct session *s, const struct mmio_ring_sqe *sqe, struct mmio_ring_cqe *cqe,
	    Mmio__Reply *reply, struct reply_scratch *scratch)
{
	struct lease *l = reply_find_lease(s, sqe->lease, reply, scratch);
	if (!l) {
		return;
	}
	int rc;
	switch (sqe->op) {
	case MMIO_RING_OP_LOAD:
		rc = access_load(s, l, sqe->offset, sqe->width, &cqe->value);
		break;
	case MMIO_RING_OP_STORE:
		rc = access_store(s, l, sqe->offset, sqe->width, sqe->value);
		break;
	case MMIO_RING_OP_MODIFY:
		rc = access_modify(s, l, sqe->offset, sqe->width, sqe->mask, sqe->value,
				   &cqe->value);
		break;
	case MMIO_RING_OP_BARRIER:
		access_barrier(l);
		rc = 0;
		break;
	default:
		reply_status(reply, scratch, -EINVAL, "ring op %u is unknown", sqe->op);
		return;
	}
	access_reply_status(reply, scratch, rc, l, sqe->offset, sqe->width);
	if (rc < 0) {
		cqe->value = 0;
	}
}

int
dispatch_ring(struct session *s, unsigned max)
{
	struct ring *r = s->ring;
	unsigned done = 0;
	while (done < max) {
		struct mmio_ring_sqe sqe;
		int rc = ring_next(r, &sqe);
		if (rc < 0) {
			log_warn(CONN_FMT ": ring indices out of step, closing", CONN_ARGS(s));
			return rc;
		}
		if (rc == 0) {
			break;
		}
		Mmio__Reply reply = MMIO__REPLY__INIT;
		struct reply_scratch scratch;
		scratch.n_owned = 0;
		struct mmio_ring_cqe cqe = {.user_data = sqe.user_data};
		run_ring_op(s, &sqe, &cqe, &reply, &scratch);
		cqe.status = (uint32_t)reply.status;
		ring_complete(r, &cqe, reply.status != MMIO__STATUS__OK ? reply.detail : NULL);
		s->svc->requests++;
		done++;
	}
	return (int)done;
}
