/*
 * The request switch: Hello first, then each request to its handler. A
 * request before Hello, a second Hello or an unknown kind is a protocol
 * error (the connection closes); everything else is answered with a status.
 */
#include <errno.h>
#include <inttypes.h>
#include <time.h>

#include "base/log.h"
#include "core/lease.h"
#include "device/region.h"
#include "mmio_limits.h"
#include "mmio_ring.h"
#include "request/access.h"
#include "request/dispatch.h"
#include "request/handlers.h"
#include "request/reply.h"
#include "request/service.h"

static enum dispatch_result
handle_hello(struct session *s, const Mmio__Hello *hello, Mmio__Reply *reply,
	     struct reply_scratch *scratch)
{
	if (s->hello_done) {
		log_warn(CONN_FMT ": second Hello", CONN_ARGS(s));
		return DISPATCH_CLOSE;
	}
	mmio__hello__init(&scratch->hello);
	scratch->hello.version = MMIO_PROTOCOL_VERSION;
	scratch->hello.features = MMIO_FEATURE_BATCH_FIXED;
	if (s->svc->limits.max_rings > 0) {
		scratch->hello.features |= MMIO_FEATURE_RING;
	}
	reply->body_case = MMIO__REPLY__BODY_HELLO;
	reply->hello = &scratch->hello;
	if (hello->version != MMIO_PROTOCOL_VERSION) {
		log_warn(CONN_FMT ": protocol version %u, we speak %d", CONN_ARGS(s),
			 hello->version, MMIO_PROTOCOL_VERSION);
		reply_status(reply, scratch, -EPROTONOSUPPORT, "mmiod speaks protocol version %d",
			     MMIO_PROTOCOL_VERSION);
		return DISPATCH_REPLY_CLOSE;
	}
	if (s->refused) {
		reply_status(reply, scratch, -ENOSPC, "uid %u has too many connections to mmiod",
			     (unsigned)s->who.uid);
		return DISPATCH_REPLY_CLOSE;
	}
	s->hello_done = true;
	reply_status(reply, scratch, 0, NULL);
	return DISPATCH_REPLY;
}

/*
 * The lease whose figures get the time of an access request: its one lease (a batch's first
 * op's), looked up again after the handler (it cannot have released it). 0: not timed.
 */
static uint64_t
timed_lease(const Mmio__Request *req)
{
	switch (req->body_case) {
	case MMIO__REQUEST__BODY_LOAD:
		return req->load->lease;
	case MMIO__REQUEST__BODY_STORE:
		return req->store->lease;
	case MMIO__REQUEST__BODY_MODIFY:
		return req->modify->lease;
	case MMIO__REQUEST__BODY_BLOCK_READ:
		return req->block_read->lease;
	case MMIO__REQUEST__BODY_BLOCK_WRITE:
		return req->block_write->lease;
	case MMIO__REQUEST__BODY_BATCH:
		return batch_first_lease(req->batch);
	default:
		return 0;
	}
}

static uint64_t
now_ns(void)
{
	struct timespec t;
	(void)clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* The time since t0 in the latency histograms of lease id (if still the session's) and its region.
 */
static void
count_latency(const struct session *s, uint64_t id, uint64_t t0)
{
	const struct lease *l = lease_find(&s->leases, id);
	if (l) {
		uint64_t ns = now_ns() - t0;
		figures_add_latency(access_figures_of(l), ns);
		figures_add_latency(&region_of_lease(l)->figures, ns);
	}
}

enum dispatch_result
dispatch(struct session *s, const Mmio__Request *req, Mmio__Reply *reply,
	 struct reply_scratch *scratch)
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
		reply_status(reply, scratch, -ENOSPC, "%s", s->fd_room_why);
		return DISPATCH_REPLY;
	}
	uint64_t timed = timed_lease(req);
	uint64_t t0 = timed ? now_ns() : 0;
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
	case MMIO__REQUEST__BODY_RENEW:
		handle_renew(s, req->renew, reply, scratch);
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
	case MMIO__REQUEST__BODY_LIST_REGISTERS:
		handle_list_registers(s, req->list_registers, reply, scratch);
		break;
	case MMIO__REQUEST__BODY_SIM_DEVICE:
		handle_sim_device(s, req->sim_device, reply, scratch);
		break;
	case MMIO__REQUEST__BODY_TRACE_SUBSCRIBE:
		/* No grant to undo if the fd is not delivered: its closed read end ends the trace.
		 */
		handle_trace_subscribe(s, req->trace_subscribe, reply, scratch);
		break;
	case MMIO__REQUEST__BODY_POLL:
		handle_poll(s, req->poll, reply, scratch);
		return scratch->poll.pending ? DISPATCH_DEFER : DISPATCH_REPLY;
	default:
		log_warn(CONN_FMT ": request %" PRIu64 " has no known body", CONN_ARGS(s), req->id);
		return DISPATCH_CLOSE;
	}
	if (timed) {
		count_latency(s, timed, t0);
	}
	return DISPATCH_REPLY;
}

bool
dispatch_changes_state(const Mmio__Request *req)
{
	switch (req->body_case) {
	case MMIO__REQUEST__BODY_LOAD:
	case MMIO__REQUEST__BODY_STORE:
	case MMIO__REQUEST__BODY_MODIFY:
	case MMIO__REQUEST__BODY_BLOCK_READ:
	case MMIO__REQUEST__BODY_BLOCK_WRITE:
	case MMIO__REQUEST__BODY_BATCH:
	case MMIO__REQUEST__BODY_BARRIER:
	case MMIO__REQUEST__BODY_LIST_REGIONS:
	case MMIO__REQUEST__BODY_LIST_LEASES:
	case MMIO__REQUEST__BODY_LIST_REGISTERS:
	case MMIO__REQUEST__BODY_STATS:
	case MMIO__REQUEST__BODY_IRQ_ACK:
		return false;
	default:
		return true;
	}
}

unsigned
dispatch_fds_needed(const Mmio__Request *req)
{
	switch (req->body_case) {
	case MMIO__REQUEST__BODY_RING_SETUP:
		return 2;
	case MMIO__REQUEST__BODY_IRQ_SUBSCRIBE:
	case MMIO__REQUEST__BODY_TRACE_SUBSCRIBE:
		return 1;
	default:
		return 0;
	}
}
