/* Requests that touch the device: load, store, barrier, batch and the server-side operations. */
#include <errno.h>
#include <inttypes.h>
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
#include "request/service.h"
#include "status.h"

void
dispatch_access_status(Mmio__Reply *reply, struct dispatch_scratch *scratch, int rc,
		       const struct lease *l, uint64_t off, unsigned width)
{
	switch (rc) {
	case 0:
		dispatch_status(reply, scratch, 0, NULL);
		break;
	case -EACCES:
		dispatch_status(reply, scratch, rc, "lease %" PRIu64 " was granted read-only",
				l->id);
		break;
	case -EFAULT:
		dispatch_status(reply, scratch, rc,
				"offset 0x%" PRIx64 " of lease %" PRIu64
				" is device address 0x%" PRIx64 ", not %u-byte aligned",
				off, l->id, l->space->addr + l->start + off, width);
		break;
	case -ERANGE:
		dispatch_status(reply, scratch, rc,
				"%u-byte access at offset 0x%" PRIx64 " does not fit lease %" PRIu64
				" of length 0x%" PRIx64,
				width, off, l->id, l->len);
		break;
	case -EINVAL:
		if (!lease_width_valid(width)) {
			dispatch_status(reply, scratch, rc, "width %u is not 1, 2, 4 or 8 bytes",
					width);
		} else {
			dispatch_status(reply, scratch, rc, "value is wider than %u bits",
					width * 8);
		}
		break;
	default:
		dispatch_status(reply, scratch, rc, NULL);
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
int
dispatch_checked_store(const struct session *s, const struct lease *l, uint64_t off, unsigned width,
		       uint64_t value)
{
	int rc = l->read_only ? -EACCES : region_store(l, off, width, value);
	audit_access(s, l, true, width, off, value, rc);
	return rc;
}

int
dispatch_checked_load(const struct session *s, const struct lease *l, uint64_t off, unsigned width,
		      uint64_t *value)
{
	int rc = region_load(l, off, width, value);
	audit_access(s, l, false, width, off, rc == 0 ? *value : 0, rc);
	return rc;
}

void
handle_load(struct session *s, const Mmio__Load *req, Mmio__Reply *reply,
	    struct dispatch_scratch *scratch)
{
	struct lease *l = dispatch_find_lease(s, req->lease, reply, scratch);
	if (!l) {
		return;
	}
	uint64_t value = 0;
	int rc = dispatch_checked_load(s, l, req->offset, req->width, &value);
	dispatch_access_status(reply, scratch, rc, l, req->offset, req->width);
	if (rc == 0) {
		mmio__load_result__init(&scratch->load);
		scratch->load.value = value;
		reply->body_case = MMIO__REPLY__BODY_LOAD;
		reply->load = &scratch->load;
	}
}

void
handle_store(struct session *s, const Mmio__Store *req, Mmio__Reply *reply,
	     struct dispatch_scratch *scratch)
{
	struct lease *l = dispatch_find_lease(s, req->lease, reply, scratch);
	if (!l) {
		return;
	}
	int rc = dispatch_checked_store(s, l, req->offset, req->width, req->value);
	dispatch_access_status(reply, scratch, rc, l, req->offset, req->width);
}

void
handle_barrier(struct session *s, const Mmio__Barrier *req, Mmio__Reply *reply,
	       struct dispatch_scratch *scratch)
{
	struct lease *l = dispatch_find_lease(s, req->lease, reply, scratch);
	if (!l) {
		return;
	}
	region_write_barrier(l);
	dispatch_status(reply, scratch, 0, NULL);
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
		return dispatch_checked_load(s, l, req->offset[i], req->width[i], value);
	case MMIO__BATCH_OP__BATCH_OP_STORE:
		return dispatch_checked_store(s, l, req->offset[i], req->width[i], req->value[i]);
	case MMIO__BATCH_OP__BATCH_OP_BARRIER:
		region_write_barrier(l);
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
		return -ENOENT;
	}
	switch (req->op[i]) {
	case MMIO__BATCH_OP__BATCH_OP_LOAD:
		return lease_check_access(l, req->offset[i], req->width[i]);
	case MMIO__BATCH_OP__BATCH_OP_STORE: {
		if (l->read_only) {
			return -EACCES;
		}
		int rc = lease_check_access(l, req->offset[i], req->width[i]);
		unsigned w = req->width[i];
		return rc < 0 ? rc : w == 8 || (req->value[i] >> (w * 8)) == 0 ? 0 : -EINVAL;
	}
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
	     struct dispatch_scratch *scratch)
{
	size_t n = req->n_lease;
	if (req->n_op != n || req->n_width != n || req->n_offset != n || req->n_value != n) {
		dispatch_status(reply, scratch, -EINVAL, "batch arrays differ in length");
		return;
	}
	if (n > MMIO_MAX_BATCH_OPS) {
		dispatch_status(reply, scratch, -ENOSPC, "a batch holds at most %d operations",
				MMIO_MAX_BATCH_OPS);
		return;
	}
	Mmio__Status *statuses = dispatch_alloc(scratch, n, sizeof(*statuses));
	uint64_t *values = dispatch_alloc(scratch, n, sizeof(*values));
	if (!statuses || !values) {
		dispatch_status(reply, scratch, -ENOMEM, NULL);
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
	dispatch_status(reply, scratch, 0, NULL);
}
