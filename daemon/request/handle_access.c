/*
 * Requests that touch the device one access at a time: load, store, barrier
 * and batches of them. The server-side operations (modify, poll, block) are in
 * handle_ops.c; the checked access itself is access.c's.
 */
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/lease.h"
#include "mmio_limits.h"
#include "request/access.h"
#include "request/handlers.h"
#include "request/reply.h"
#include "status.h"

void
handle_load(struct session *s, const Mmio__Load *req, Mmio__Reply *reply,
	    struct reply_scratch *scratch)
{
	struct lease *l = reply_find_lease(s, req->lease, reply, scratch);
	if (!l) {
		return;
	}
	uint64_t value = 0;
	int rc = access_load(s, l, req->offset, req->width, &value);
	access_reply_status(reply, scratch, rc, l, req->offset, req->width);
	if (rc == 0) {
		mmio__load_result__init(&scratch->load);
		scratch->load.value = value;
		reply->body_case = MMIO__REPLY__BODY_LOAD;
		reply->load = &scratch->load;
	}
}

void
handle_store(struct session *s, const Mmio__Store *req, Mmio__Reply *reply,
	     struct reply_scratch *scratch)
{
	struct lease *l = reply_find_lease(s, req->lease, reply, scratch);
	if (!l) {
		return;
	}
	int rc = access_store(s, l, req->offset, req->width, req->value);
	access_reply_status(reply, scratch, rc, l, req->offset, req->width);
}

void
handle_barrier(struct session *s, const Mmio__Barrier *req, Mmio__Reply *reply,
	       struct reply_scratch *scratch)
{
	struct lease *l = reply_find_lease(s, req->lease, reply, scratch);
	if (!l) {
		return;
	}
	access_barrier(l);
	reply_status(reply, scratch, 0, NULL);
}

/* One batch op: returns 0 or a negative errno, never touching anything on failure. */
static int
run_batch_op(struct session *s, const Mmio__Batch *req, size_t i, uint64_t *value)
{
	struct lease *l = lease_find(&s->leases, req->lease[i]);
	if (!l) {
		return session_missing_lease(s, req->lease[i]);
	}
	switch (req->op[i]) {
	case MMIO__BATCH_OP__BATCH_OP_LOAD:
		return access_load(s, l, req->offset[i], req->width[i], value);
	case MMIO__BATCH_OP__BATCH_OP_STORE:
		return access_store(s, l, req->offset[i], req->width[i], req->value[i]);
	case MMIO__BATCH_OP__BATCH_OP_BARRIER:
		access_barrier(l);
		return 0;
	default:
		return -EINVAL;
	}
}

/* What run_batch_op would refuse before touching the device: 0 or its negative errno. */
static int
check_batch_op(struct session *s, const Mmio__Batch *req, size_t i)
{
	const struct lease *l = lease_find(&s->leases, req->lease[i]);
	if (!l) {
		return session_missing_lease(s, req->lease[i]);
	}
	switch (req->op[i]) {
	case MMIO__BATCH_OP__BATCH_OP_LOAD:
		return access_check(l, false, req->offset[i], req->width[i], 0);
	case MMIO__BATCH_OP__BATCH_OP_STORE:
		return access_check(l, true, req->offset[i], req->width[i], req->value[i]);
	case MMIO__BATCH_OP__BATCH_OP_BARRIER:
		return 0;
	default:
		return -EINVAL;
	}
}

/*
 * All-or-nothing: true if every op would pass its checks. Otherwise fills
 * statuses (the failing ops' errors, CANCELLED for the rest) and returns false.
 */
static bool
batch_all_valid(struct session *s, const Mmio__Batch *req, Mmio__Status *statuses)
{
	bool ok = true;
	for (size_t i = 0; i < req->n_lease; i++) {
		int rc = check_batch_op(s, req, i);
		statuses[i] = rc < 0 ? status_from_errno(rc) : MMIO__STATUS__CANCELLED;
		ok &= rc == 0;
	}
	return ok;
}

void
handle_batch(struct session *s, const Mmio__Batch *req, Mmio__Reply *reply,
	     struct reply_scratch *scratch)
{
	size_t n = req->n_lease;
	if (req->n_op != n || req->n_width != n || req->n_offset != n || req->n_value != n) {
		reply_status(reply, scratch, -EINVAL, "batch arrays differ in length");
		return;
	}
	if (n > MMIO_MAX_BATCH_OPS) {
		reply_status(reply, scratch, -ENOSPC, "a batch holds at most %d operations",
			     MMIO_MAX_BATCH_OPS);
		return;
	}
	Mmio__Status *statuses = reply_alloc(scratch, n, sizeof(*statuses));
	uint64_t *values = reply_alloc(scratch, n, sizeof(*values));
	if (!statuses || !values) {
		reply_status(reply, scratch, -ENOMEM, NULL);
		return;
	}
	if (req->all_or_nothing && !batch_all_valid(s, req, statuses)) {
		goto done;
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
done:
	mmio__batch_result__init(&scratch->batch);
	scratch->batch.n_status = n;
	scratch->batch.status = statuses;
	scratch->batch.n_value = n;
	scratch->batch.value = values;
	reply->body_case = MMIO__REPLY__BODY_BATCH;
	reply->batch = &scratch->batch;
	/* The request as a whole succeeded; per-op outcomes are in the result. */
	reply_status(reply, scratch, 0, NULL);
}
