/* mmio_batch(): many operations in one request, encoded as packed arrays. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "client_internal.h"
#include "status.h"
#include "transport.h"

/* Per-op arrays of the request, in one allocation. */
struct batch_arrays {
	uint64_t *lease;
	uint64_t *offset;
	uint64_t *value;
	uint32_t *width;
	Mmio__BatchOp *op;
};

static void *
batch_arrays_alloc(struct batch_arrays *a, size_t n)
{
	char *block = malloc(n * (3 * sizeof(uint64_t) + sizeof(uint32_t) + sizeof(Mmio__BatchOp)));
	if (!block) {
		return NULL;
	}
	a->lease = (uint64_t *)block;
	a->offset = a->lease + n;
	a->value = a->offset + n;
	a->width = (uint32_t *)(a->value + n);
	a->op = (Mmio__BatchOp *)(a->width + n);
	return block;
}

static int
op_kind_to_wire(enum mmio_op_kind kind, Mmio__BatchOp *op)
{
	switch (kind) {
	case MMIO_OP_LOAD:
		*op = MMIO__BATCH_OP__BATCH_OP_LOAD;
		return 0;
	case MMIO_OP_STORE:
		*op = MMIO__BATCH_OP__BATCH_OP_STORE;
		return 0;
	case MMIO_OP_BARRIER:
		*op = MMIO__BATCH_OP__BATCH_OP_BARRIER;
		return 0;
	}
	return -EINVAL;
}

int
mmio_batch(struct mmio_client *c, struct mmio_op *ops, size_t n, unsigned flags)
{
	if (!c || (n && !ops) ||
	    (flags & ~(MMIO_BATCH_STOP_ON_ERROR | MMIO_BATCH_ALL_OR_NOTHING))) {
		return -EINVAL;
	}
	if (n > MMIO_MAX_BATCH_OPS) {
		return -EMSGSIZE;
	}
	if (n == 0) {
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		if (!ops[i].lease || ops[i].lease->client != c) {
			return -EINVAL;
		}
	}
	/* Small batches through the ring when it is open: no socket round trip. */
	pthread_mutex_lock(&c->lock);
	if (client_ring_takes_batch(c, ops, n, flags)) {
		int rc = client_ring_batch(c, ops, n, flags);
		pthread_mutex_unlock(&c->lock);
		return rc;
	}
	pthread_mutex_unlock(&c->lock);
	struct batch_arrays a;
	void *block = batch_arrays_alloc(&a, n);
	if (!block) {
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		if (!ops[i].lease || ops[i].lease->client != c ||
		    op_kind_to_wire(ops[i].kind, &a.op[i]) < 0) {
			free(block);
			return -EINVAL;
		}
		a.lease[i] = ops[i].lease->id;
		a.offset[i] = ops[i].offset;
		a.value[i] = ops[i].kind == MMIO_OP_STORE ? ops[i].value : 0;
		a.width[i] = ops[i].kind == MMIO_OP_BARRIER ? 0 : ops[i].width;
	}
	Mmio__Batch body = MMIO__BATCH__INIT;
	body.n_lease = body.n_offset = body.n_value = body.n_width = body.n_op = n;
	body.lease = a.lease;
	body.offset = a.offset;
	body.value = a.value;
	body.width = a.width;
	body.op = a.op;
	body.stop_on_error = (flags & MMIO_BATCH_STOP_ON_ERROR) != 0;
	body.all_or_nothing = (flags & MMIO_BATCH_ALL_OR_NOTHING) != 0;
	Mmio__Request req = MMIO__REQUEST__INIT;
	req.body_case = MMIO__REQUEST__BODY_BATCH;
	req.batch = &body;
	Mmio__Reply *reply;

	int rc = client_call_locked(c, &req, &reply, MMIO__REPLY__BODY_BATCH);
	free(block);
	if (rc < 0) {
		client_free_reply(reply);
		return rc;
	}
	const Mmio__BatchResult *res = reply->batch;
	if (res->n_status != n || res->n_value != n) {
		client_log(MMIO_LOG_ERROR, "batch reply has %zu results for %zu ops", res->n_status,
			   n);
		client_free_reply(reply);
		return -EPROTO;
	}
	int failed = 0;
	for (size_t i = 0; i < n; i++) {
		ops[i].status = status_to_errno(res->status[i]);
		if (ops[i].status < 0) {
			failed++;
		} else if (ops[i].kind == MMIO_OP_LOAD) {
			ops[i].value = res->value[i];
		}
	}
	client_free_reply(reply);
	return failed;
}
