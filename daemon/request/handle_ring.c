/*
 * The shared-memory fast path: opening a connection's ring, and running the
 * ops submitted through it with exactly the checks of their socket requests.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
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
	/* Groups only for a client that asks: an older one may leave anything in the flags byte. */
	r->groups = (req->features & MMIO_RING_FEATURE_GROUPS) != 0;
	s->ring = r;
	s->svc->n_rings++;
	scratch->pass_fds[0] = memfd;
	scratch->pass_fds[1] = doorbell;
	scratch->grant.kind = FD_GRANT_RING;
	mmio__ring_info__init(&scratch->ring);
	scratch->ring.entries = r->entries;
	scratch->ring.size = r->size;
	scratch->ring.features = r->groups ? MMIO_RING_FEATURE_GROUPS : 0;
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

/*
 * What run_ring_op would refuse before touching the device, with the same status and detail:
 * the all-or-nothing pre-check of the socket's Batch (access_check) for ring entries.
 */
static int
check_ring_op(struct session *s, const struct mmio_ring_sqe *sqe, Mmio__Reply *reply,
	      struct reply_scratch *scratch)
{
	const struct lease *l = reply_find_lease(s, sqe->lease, reply, scratch);
	if (!l) {
		return -ENOENT;
	}
	int rc;
	switch (sqe->op) {
	case MMIO_RING_OP_LOAD:
	case MMIO_RING_OP_STORE:
		rc = access_check(l, sqe->op == MMIO_RING_OP_STORE, sqe->offset, sqe->width,
				  sqe->value);
		break;
	case MMIO_RING_OP_BARRIER:
		rc = 0;
		break;
	case MMIO_RING_OP_MODIFY:
		reply_status(reply, scratch, -EINVAL,
			     "a modify cannot be judged ahead in an all-or-nothing group");
		return -EINVAL;
	default:
		reply_status(reply, scratch, -EINVAL, "ring op %u is unknown", sqe->op);
		return -EINVAL;
	}
	access_reply_status(reply, scratch, rc, l, sqe->offset, sqe->width);
	return rc;
}

/* Completes one entry with reply's status (and its detail if it failed). */
static void
complete(struct session *s, const struct mmio_ring_sqe *sqe, struct mmio_ring_cqe *cqe,
	 const Mmio__Reply *reply)
{
	cqe->user_data = sqe->user_data;
	cqe->status = (uint32_t)reply->status;
	ring_put_completion(s->ring, cqe, reply->status != MMIO__STATUS__OK ? reply->detail : NULL);
	s->svc->requests++;
}

static void
run_one(struct session *s, const struct mmio_ring_sqe *sqe)
{
	Mmio__Reply reply = MMIO__REPLY__INIT;
	struct reply_scratch scratch;
	scratch.n_owned = 0;
	struct mmio_ring_cqe cqe = {0};
	run_ring_op(s, sqe, &cqe, &reply, &scratch);
	complete(s, sqe, &cqe, &reply);
}

/* Completes one entry CANCELLED, or with why it failed its check. */
static void
cancel_one(struct session *s, const struct mmio_ring_sqe *sqe, int status, const char *detail)
{
	Mmio__Reply reply = MMIO__REPLY__INIT;
	reply.status = status;
	reply.detail = (char *)detail;
	struct mmio_ring_cqe cqe = {0};
	complete(s, sqe, &cqe, &reply);
}

/*
 * A group of n entries, as handle_batch runs a Batch with the first entry's flags: with
 * ALL_OR_NOTHING every entry is checked first and, if one fails, none runs (the failing ones
 * complete with their errors, the others CANCELLED); with STOP_ON_ERROR the entries after the
 * first failure complete CANCELLED.
 */
static void
run_group(struct session *s, const struct mmio_ring_sqe *g, uint32_t n)
{
	uint8_t flags = g[0].flags;
	if (flags & MMIO_RING_F_ALL_OR_NOTHING) {
		/* Each checked once, all of them, as batch_all_valid does: a check may read. */
		int status[MMIO_RING_ATOMIC_OPS];
		char detail[MMIO_RING_ATOMIC_OPS][sizeof(((struct reply_scratch *)0)->detail)];
		bool ok = true;
		for (uint32_t i = 0; i < n; i++) {
			Mmio__Reply reply = MMIO__REPLY__INIT;
			struct reply_scratch scratch;
			scratch.n_owned = 0;
			bool passed = check_ring_op(s, &g[i], &reply, &scratch) == 0;
			ok &= passed;
			status[i] = reply.status;
			if (!passed) {
				snprintf(detail[i], sizeof(detail[i]), "%s",
					 reply.detail ? reply.detail : "");
			}
		}
		if (!ok) {
			for (uint32_t i = 0; i < n; i++) {
				bool passed = status[i] == MMIO__STATUS__OK;
				cancel_one(s, &g[i], passed ? MMIO__STATUS__CANCELLED : status[i],
					   passed ? NULL : detail[i]);
			}
			return;
		}
	}
	bool failed = false;
	for (uint32_t i = 0; i < n; i++) {
		if (failed && (flags & MMIO_RING_F_STOP_ON_ERROR)) {
			cancel_one(s, &g[i], MMIO__STATUS__CANCELLED, NULL);
			continue;
		}
		Mmio__Reply reply = MMIO__REPLY__INIT;
		struct reply_scratch scratch;
		scratch.n_owned = 0;
		struct mmio_ring_cqe cqe = {0};
		run_ring_op(s, &g[i], &cqe, &reply, &scratch);
		complete(s, &g[i], &cqe, &reply);
		failed |= reply.status != MMIO__STATUS__OK;
	}
}

/* Entries in the group starting at g[0]: its last one has no LINK. 0 if it ends beyond n. */
static uint32_t
group_length(const struct mmio_ring_sqe *g, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		if (!(g[i].flags & MMIO_RING_F_LINK)) {
			return i + 1;
		}
	}
	return 0;
}

static bool
is_group(const struct ring *r, const struct mmio_ring_sqe *sqe)
{
	return r->groups && sqe->flags & (MMIO_RING_F_LINK | MMIO_RING_F_STOP_ON_ERROR |
					  MMIO_RING_F_ALL_OR_NOTHING);
}

/*
 * Runs what g[0..n) starts with, at most room completions' worth: a single entry or a whole
 * group. How many entries it took; 0 to leave the rest to the next pass (a group that may end
 * beyond what was copied); -EPROTO if the client broke the protocol.
 */
static int
run_unit(struct session *s, const struct mmio_ring_sqe *g, uint32_t n, bool whole_pass,
	 uint32_t room)
{
	struct ring *r = s->ring;
	if (!is_group(r, &g[0])) {
		ring_consume(r, 1);
		run_one(s, &g[0]);
		return 1;
	}
	uint32_t len = group_length(g, n);
	if (len == 0 && !whole_pass) {
		return 0;
	}
	/* A client that reaps before it submits always has room for what it published. */
	if ((len == 0 ? n : len) > room) {
		log_warn(CONN_FMT ": ring group has no room for its completions, closing",
			 CONN_ARGS(s));
		return -EPROTO;
	}
	if (len == 0) {
		/* Its last entry is not published, or it is too long: nothing of it runs. */
		ring_consume(r, n);
		for (uint32_t i = 0; i < n; i++) {
			cancel_one(s, &g[i], MMIO__STATUS__INVALID_ARGUMENT,
				   "ring group not published whole, or longer than "
				   "MMIO_RING_ATOMIC_OPS entries");
		}
		return (int)n;
	}
	ring_consume(r, len);
	run_group(s, g, len);
	return (int)len;
}

int
dispatch_ring(struct session *s, unsigned max)
{
	struct ring *r = s->ring;
	struct mmio_ring_sqe window[MMIO_RING_ATOMIC_OPS];
	unsigned done = 0;
	while (done < max) {
		uint32_t want =
			max - done < MMIO_RING_ATOMIC_OPS ? max - done : MMIO_RING_ATOMIC_OPS;
		int n = ring_peek(r, window, want);
		if (n < 0) {
			log_warn(CONN_FMT ": ring indices out of step, closing", CONN_ARGS(s));
			return n;
		}
		uint32_t room = ring_cq_room(r);
		/*
		 * A group at the window's start that does not end in it is refused only if the
		 * window holds all that was published or the longest group: else it waits for the
		 * next pass, which starts with it.
		 */
		bool took_all_published = (uint32_t)n < want;
		bool whole_pass = want == MMIO_RING_ATOMIC_OPS || took_all_published;
		uint32_t i = 0;
		while (i < (uint32_t)n && room > 0) {
			int took = run_unit(s, window + i, (uint32_t)n - i, whole_pass && i == 0,
					    room);
			if (took < 0) {
				ring_publish(r);
				return took;
			}
			if (took == 0) {
				break;
			}
			i += (uint32_t)took;
			room -= (uint32_t)took;
		}
		/* The window's completions at once: one fence and wake-up check for all. */
		ring_publish(r);
		done += i;
		/* Left for later: what had no room, a group for the next pass, or nothing more. */
		if (i < (uint32_t)n || took_all_published) {
			break;
		}
	}
	return (int)done;
}
