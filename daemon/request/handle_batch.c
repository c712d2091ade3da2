/*
 * Batch: up to MMIO_MAX_BATCH_OPS loads, stores and barriers in one request, in either of its
 * two encodings (mmio.proto: packed varint arrays, or fixed-width little-endian columns). Both
 * are read through one view (struct batch_in) into the same run, so their semantics cannot
 * drift apart; the reply answers in the encoding the request came in.
 */
#include <endian.h>
#include <errno.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/lease.h"
#include "device/fault.h"
#include "device/region_armed.h"
#include "mmio_limits.h"
#include "request/access.h"
#include "request/handlers.h"
#include "request/reply.h"
#include "status.h"

/* A batch's ops, whichever encoding carried them. */
struct batch_in {
	const Mmio__Batch *req;
	size_t n;
	bool fixed;
	/* The fixed encoding's element sizes (1, 2, 4 or 8 bytes; value: 0 when empty). */
	unsigned lease_size;
	unsigned offset_size;
	unsigned value_size;
};

/* One op, decoded. */
struct batch_op {
	uint64_t lease;
	uint64_t offset;
	uint64_t value;
	unsigned kind; /* Mmio__BatchOp, possibly unknown */
	unsigned width;
};

/* Element i of a little-endian column of size-byte elements (0: an empty column, all 0). */
static inline __attribute__((always_inline)) uint64_t
fixed_at(const ProtobufCBinaryData *col, unsigned size, size_t i)
{
	if (size == 0) {
		return 0; /* col->data may be NULL */
	}
	const uint8_t *p = col->data + i * size;
	switch (size) {
	case 1:
		return *p;
	case 2: {
		uint16_t v;
		memcpy(&v, p, sizeof(v));
		return le16toh(v);
	}
	case 4: {
		uint32_t v;
		memcpy(&v, p, sizeof(v));
		return le32toh(v);
	}
	case 8: {
		uint64_t v;
		memcpy(&v, p, sizeof(v));
		return le64toh(v);
	}
	default:
		return 0;
	}
}

static inline __attribute__((always_inline)) void
batch_op_at(const struct batch_in *b, size_t i, struct batch_op *op)
{
	const Mmio__Batch *req = b->req;
	if (b->fixed) {
		op->lease = fixed_at(&req->fixed_lease, b->lease_size, i);
		op->offset = fixed_at(&req->fixed_offset, b->offset_size, i);
		op->value = fixed_at(&req->fixed_value, b->value_size, i);
		op->kind = req->fixed_op.data[i];
		op->width = req->fixed_width.data[i];
	} else {
		op->lease = req->lease[i];
		op->offset = req->offset[i];
		op->value = req->value[i];
		op->kind = (unsigned)req->op[i];
		/* An out-of-range width stays out of range: lease_check_access refuses it. */
		op->width = req->width[i];
	}
}

static bool
has_fixed(const Mmio__Batch *req)
{
	return req->fixed_lease.len || req->fixed_offset.len || req->fixed_value.len ||
	       req->fixed_op.len || req->fixed_width.len;
}

static bool
has_varint(const Mmio__Batch *req)
{
	return req->n_lease || req->n_op || req->n_width || req->n_offset || req->n_value;
}

/*
 * A fixed column's element size: its length / n, which must be 1, 2, 4 or 8 (or 0 where
 * empty_ok and the column is empty). 0 and *size, or -EINVAL.
 */
static int
column_size(const ProtobufCBinaryData *col, size_t n, bool empty_ok, unsigned *size)
{
	if (empty_ok && col->len == 0) {
		*size = 0;
		return 0;
	}
	if (n == 0 || col->len % n != 0) {
		return -EINVAL;
	}
	size_t s = col->len / n;
	if (s != 1 && s != 2 && s != 4 && s != 8) {
		return -EINVAL;
	}
	*size = (unsigned)s;
	return 0;
}

/* The fixed encoding's shape: 0, or -EINVAL with *why. */
static int
fixed_init(const Mmio__Batch *req, struct batch_in *b, const char **why)
{
	b->n = req->fixed_op.len;
	if (req->fixed_width.len != b->n) {
		*why = "fixed_width and fixed_op differ in length";
		return -EINVAL;
	}
	if (column_size(&req->fixed_lease, b->n, false, &b->lease_size) < 0) {
		*why = "fixed_lease is not fixed_op's length times 1, 2, 4 or 8 bytes";
		return -EINVAL;
	}
	if (column_size(&req->fixed_offset, b->n, false, &b->offset_size) < 0) {
		*why = "fixed_offset is not fixed_op's length times 1, 2, 4 or 8 bytes";
		return -EINVAL;
	}
	if (column_size(&req->fixed_value, b->n, true, &b->value_size) < 0) {
		*why = "fixed_value is not empty nor fixed_op's length times 1, 2, 4 or 8 bytes";
		return -EINVAL;
	}
	return 0;
}

/*
 * Reads req's shape into b: 0, or -EINVAL (both encodings, ragged arrays, a column of no
 * element size) or -ENOSPC (too many ops), with *why for the detail.
 */
static int
batch_in_init(const Mmio__Batch *req, struct batch_in *b, const char **why)
{
	*b = (struct batch_in){.req = req, .fixed = has_fixed(req)};
	if (b->fixed && has_varint(req)) {
		*why = "a batch carries its ops in one encoding, not both";
		return -EINVAL;
	}
	if (b->fixed) {
		int rc = fixed_init(req, b, why);
		if (rc < 0) {
			return rc;
		}
	} else {
		b->n = req->n_lease;
		if (req->n_op != b->n || req->n_width != b->n || req->n_offset != b->n ||
		    req->n_value != b->n) {
			*why = "batch arrays differ in length";
			return -EINVAL;
		}
	}
	if (b->n > MMIO_MAX_BATCH_OPS) {
		*why = NULL;
		return -ENOSPC;
	}
	return 0;
}

uint64_t
batch_first_lease(const Mmio__Batch *req)
{
	if (req->n_lease) {
		return req->lease[0];
	}
	struct batch_in b;
	const char *why;
	if (!req->fixed_op.len || batch_in_init(req, &b, &why) < 0) {
		return 0;
	}
	return fixed_at(&req->fixed_lease, b.lease_size, 0);
}

/*
 * The running side of a batch: the last lease looked up (a batch mostly names one lease over
 * and over, and the list lease_find walks grows with the client's leases) and the loads and
 * stores through it not yet added to its figures (added once per run of ops on one lease, not
 * per op). A lease found stays valid for the whole batch: nothing in it releases one (a fault's
 * revocation waits for the loop's next turn). Volatile: a device fault jumps back into
 * batch_run_ops (siglongjmp), which must see them as the faulting op left them, not as a
 * register held them at its sigsetjmp.
 */
struct batch_run {
	struct session *s;
	struct lease *volatile l;
	volatile uint64_t id;
	volatile uint64_t loads;
	volatile uint64_t stores;
	struct region_view view; /* of l; made again after a fault (run_lease_again) */
};

static void
run_flush_figures(struct batch_run *run)
{
	if (!run->l) {
		return;
	}
	struct access_figures *lf = access_figures_of(run->l);
	struct access_figures *rf = &region_of_lease(run->l)->figures;
	lf->loads += run->loads;
	rf->loads += run->loads;
	lf->stores += run->stores;
	rf->stores += run->stores;
	run->loads = 0;
	run->stores = 0;
}

/* The session's lease id, through the one-entry cache; NULL if it has none by that id. */
static inline struct lease *
run_lease(struct batch_run *run, uint64_t id)
{
	if (run->l && run->id == id) {
		return run->l;
	}
	struct lease *l = lease_find(&run->s->leases, id);
	if (l) {
		run_flush_figures(run);
		run->l = l;
		run->id = id;
		region_view_of(l, &run->view);
	}
	return l;
}

/* After a fault's jump back: the view as of run->l, whatever the jump left of it. */
static void
run_lease_again(struct batch_run *run)
{
	if (run->l) {
		region_view_of(run->l, &run->view);
	}
}

/* One op: returns 0 or a negative errno, never touching anything on failure. */
static inline int
run_batch_op(struct batch_run *run, const struct batch_op *op, uint64_t *value, sigjmp_buf *env)
{
	struct lease *l = run_lease(run, op->lease);
	if (!l) {
		return session_missing_lease(run->s, op->lease);
	}
	/* A lease with register rules counts its own accesses (access_*_ruled). */
	bool ruled = l->rules != NULL;
	switch (op->kind) {
	case MMIO__BATCH_OP__BATCH_OP_LOAD:
		if (ruled) {
			return access_load(run->s, l, op->offset, op->width, value);
		}
		run->loads++;
		return access_load_uncounted(run->s, &run->view, op->offset, op->width, value, env);
	case MMIO__BATCH_OP__BATCH_OP_STORE:
		if (ruled) {
			return access_store(run->s, l, op->offset, op->width, op->value);
		}
		run->stores++;
		return access_store_uncounted(run->s, &run->view, op->offset, op->width, op->value,
					      env);
	case MMIO__BATCH_OP__BATCH_OP_BARRIER:
		access_barrier(l);
		return 0;
	default:
		return -EINVAL;
	}
}

/* What run_batch_op would refuse before touching the device: 0 or its negative errno. */
static int
check_batch_op(struct batch_run *run, const struct batch_op *op)
{
	const struct lease *l = run_lease(run, op->lease);
	if (!l) {
		return session_missing_lease(run->s, op->lease);
	}
	switch (op->kind) {
	case MMIO__BATCH_OP__BATCH_OP_LOAD:
		return access_check(l, false, op->offset, op->width, 0);
	case MMIO__BATCH_OP__BATCH_OP_STORE:
		return access_check(l, true, op->offset, op->width, op->value);
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
batch_all_valid(struct batch_run *run, const struct batch_in *b, uint8_t *statuses)
{
	bool ok = true;
	for (size_t i = 0; i < b->n; i++) {
		struct batch_op op;
		batch_op_at(b, i, &op);
		int rc = check_batch_op(run, &op);
		statuses[i] = (uint8_t)(rc < 0 ? status_from_errno(rc) : MMIO__STATUS__CANCELLED);
		ok &= rc == 0;
	}
	return ok;
}

/*
 * Runs b's ops: statuses[i] and values[i] (0 unless a load succeeded) for each, under one
 * fault guard for them all (a sigsetjmp per access cost as much as a third of the checks): an
 * op whose device access faults comes back here by siglongjmp, is ended as its access would
 * have ended it (IO_ERROR, counted, audited, traced), and the ops after it run on (or are
 * CANCELLED with stop_on_error), as with a guard each.
 */
static void
batch_run_ops(struct batch_run *run, const struct batch_in *b, uint8_t *statuses, uint64_t *values)
{
	bool stop_on_error = b->req->stop_on_error;
	/* What the jump back must find as the faulting op left it: volatile, in memory. */
	volatile size_t i = 0;
	volatile bool failed = false;
	sigjmp_buf env;
	if (sigsetjmp(env, FAULT_SAVE_SIGMASK) != 0) {
		/* Op i faulted in its device access, its lease run->l (looked up for it). */
		struct batch_op op;
		batch_op_at(b, i, &op);
		bool is_store = op.kind == MMIO__BATCH_OP__BATCH_OP_STORE;
		int rc =
			access_armed_fault(run->s, run->l, is_store, op.width, op.offset, op.value);
		statuses[i] = (uint8_t)status_from_errno(rc);
		failed = true;
		i++;
		run_lease_again(run);
	}
	for (; i < b->n; i++) {
		if (failed && stop_on_error) {
			statuses[i] = MMIO__STATUS__CANCELLED;
			continue;
		}
		struct batch_op op;
		batch_op_at(b, i, &op);
		int rc = run_batch_op(run, &op, &values[i], &env);
		/* Most ops succeed: no call to map their 0. */
		statuses[i] = rc == 0 ? MMIO__STATUS__OK : (uint8_t)status_from_errno(rc);
		if (rc < 0) {
			failed = true;
		}
	}
}

/* Runs b's ops, all_or_nothing's checks first. */
static void
batch_run(struct session *s, const struct batch_in *b, uint8_t *statuses, uint64_t *values)
{
	struct batch_run run = {.s = s};
	if (b->req->all_or_nothing && !batch_all_valid(&run, b, statuses)) {
		return;
	}
	batch_run_ops(&run, b, statuses, values);
	run_flush_figures(&run);
}

/* The results as the varint encoding carries them; false for lack of memory. */
static bool
reply_varint(Mmio__BatchResult *res, struct reply_scratch *scratch, size_t n,
	     const uint8_t *statuses, uint64_t *values)
{
	Mmio__Status *wide = reply_alloc(scratch, n, sizeof(*wide));
	if (!wide) {
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		wide[i] = (Mmio__Status)statuses[i];
	}
	res->n_status = n;
	res->status = wide;
	res->n_value = n;
	res->value = values;
	return true;
}

/*
 * value as size (1, 2, 4 or 8) little-endian bytes at p, stored at that width: a memcpy of a
 * variable size goes through bytes, which the CPU cannot forward to a wider load after it.
 */
static inline void
put_le(uint8_t *p, unsigned size, uint64_t value)
{
	switch (size) {
	case 1:
		*p = (uint8_t)value;
		break;
	case 2: {
		uint16_t le = htole16((uint16_t)value);
		memcpy(p, &le, sizeof(le));
		break;
	}
	case 4: {
		uint32_t le = htole32((uint32_t)value);
		memcpy(p, &le, sizeof(le));
		break;
	}
	default: {
		uint64_t le = htole64(value);
		memcpy(p, &le, sizeof(le));
		break;
	}
	}
}

/*
 * The results as the fixed encoding carries them, in place: statuses (none if all are OK),
 * and the values of the loads that succeeded packed in their widths over values' own bytes
 * (value i, read before anything is written, is written at or before its own slot).
 */
static void
reply_fixed(Mmio__BatchResult *res, const struct batch_in *b, uint8_t *statuses, uint64_t *values)
{
	bool all_ok = true;
	uint8_t *out = (uint8_t *)values;
	size_t len = 0;
	for (size_t i = 0; i < b->n; i++) {
		if (statuses[i] != MMIO__STATUS__OK) {
			all_ok = false;
			continue;
		}
		if (b->req->fixed_op.data[i] != MMIO__BATCH_OP__BATCH_OP_LOAD) {
			continue;
		}
		/* A load that succeeded had a width of 1, 2, 4 or 8. */
		unsigned width = b->req->fixed_width.data[i];
		put_le(out + len, width, values[i]);
		len += width;
	}
	res->fixed_status.data = statuses;
	res->fixed_status.len = all_ok ? 0 : b->n;
	res->fixed_value.data = out;
	res->fixed_value.len = len;
}

void
handle_batch(struct session *s, const Mmio__Batch *req, Mmio__Reply *reply,
	     struct reply_scratch *scratch)
{
	struct batch_in b;
	const char *why = NULL;
	int rc = batch_in_init(req, &b, &why);
	if (rc == -ENOSPC) {
		reply_status(reply, scratch, rc, "a batch holds at most %d operations",
			     MMIO_MAX_BATCH_OPS);
		return;
	}
	if (rc < 0) {
		reply_status(reply, scratch, rc, "%s", why);
		return;
	}
	uint8_t *statuses = reply_alloc(scratch, b.n, sizeof(*statuses));
	uint64_t *values = reply_alloc(scratch, b.n, sizeof(*values));
	if (!statuses || !values) {
		reply_status(reply, scratch, -ENOMEM, NULL);
		return;
	}
	batch_run(s, &b, statuses, values);
	mmio__batch_result__init(&scratch->batch);
	if (b.fixed) {
		reply_fixed(&scratch->batch, &b, statuses, values);
	} else if (!reply_varint(&scratch->batch, scratch, b.n, statuses, values)) {
		reply_status(reply, scratch, -ENOMEM, NULL);
		return;
	}
	reply->body_case = MMIO__REPLY__BODY_BATCH;
	reply->batch = &scratch->batch;
	/* The request as a whole succeeded; per-op outcomes are in the result. */
	reply_status(reply, scratch, 0, NULL);
}
