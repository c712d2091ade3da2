/* Operations the ring does not carry: poll, block and repeated reads and writes. */
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "client_internal.h"

/*
 * Sends req about lease, an access of width bytes, and waits; reply as
 * client_call_locked gives it. A width mmiod would refuse fails here, with its
 * detail, and *reply NULL.
 */
static int
lease_call(struct mmio_lease *lease, unsigned width, Mmio__Request *req, Mmio__Reply **reply,
	   Mmio__Reply__BodyCase body_case)
{
	struct mmio_client *c = lease->client;
	pthread_mutex_lock(&c->lock);
	int rc = client_check_width(c, width);
	if (rc == 0) {
		rc = client_call(c, req, reply, body_case);
	} else {
		*reply = NULL;
	}
	pthread_mutex_unlock(&c->lock);
	return rc;
}

int
mmio_poll(struct mmio_lease *lease, uint64_t offset, unsigned width, uint64_t mask, uint64_t value,
	  unsigned timeout_ms, unsigned interval_us, uint64_t *last)
{
	Mmio__Poll body = MMIO__POLL__INIT;
	body.lease = lease->id;
	body.offset = offset;
	body.width = width;
	body.mask = mask;
	body.value = value;
	body.timeout_ms = timeout_ms;
	body.interval_us = interval_us;
	Mmio__Request req = MMIO__REQUEST__INIT;
	req.body_case = MMIO__REQUEST__BODY_POLL;
	req.poll = &body;
	Mmio__Reply *reply;
	int rc = lease_call(lease, width, &req, &reply, MMIO__REPLY__BODY_LOAD);
	/* A timeout also says what the register held last. */
	if (last && reply && reply->body_case == MMIO__REPLY__BODY_LOAD &&
	    (rc == 0 || rc == -ETIMEDOUT)) {
		*last = reply->load->value;
	}
	client_free_reply(reply);
	return rc;
}

int
mmio_read_block(struct mmio_lease *lease, uint64_t offset, unsigned width, uint64_t *values,
		size_t count, unsigned flags)
{
	if (!values || count == 0 || count > MMIO_MAX_BATCH_OPS || (flags & ~MMIO_REPEAT)) {
		return -EINVAL;
	}
	Mmio__BlockRead body = MMIO__BLOCK_READ__INIT;
	body.lease = lease->id;
	body.offset = offset;
	body.width = width;
	body.count = (uint32_t)count;
	body.repeat = (flags & MMIO_REPEAT) != 0;
	Mmio__Request req = MMIO__REQUEST__INIT;
	req.body_case = MMIO__REQUEST__BODY_BLOCK_READ;
	req.block_read = &body;
	Mmio__Reply *reply;
	int rc = lease_call(lease, width, &req, &reply, MMIO__REPLY__BODY_VALUES);
	if (rc == 0) {
		if (reply->values->n_values != count) {
			client_log(MMIO_LOG_ERROR, "block read: %zu values for %zu",
				   reply->values->n_values, count);
			rc = -EPROTO;
		} else {
			memcpy(values, reply->values->values, count * sizeof(*values));
		}
	}
	client_free_reply(reply);
	return rc;
}

int
mmio_write_block(struct mmio_lease *lease, uint64_t offset, unsigned width, const uint64_t *values,
		 size_t count, unsigned flags)
{
	if (!values || count == 0 || count > MMIO_MAX_BATCH_OPS || (flags & ~MMIO_REPEAT)) {
		return -EINVAL;
	}
	Mmio__BlockWrite body = MMIO__BLOCK_WRITE__INIT;
	body.lease = lease->id;
	body.offset = offset;
	body.width = width;
	body.n_values = count;
	body.values = (uint64_t *)values;
	body.repeat = (flags & MMIO_REPEAT) != 0;
	Mmio__Request req = MMIO__REQUEST__INIT;
	req.body_case = MMIO__REQUEST__BODY_BLOCK_WRITE;
	req.block_write = &body;
	Mmio__Reply *reply;
	int rc = lease_call(lease, width, &req, &reply, MMIO__REPLY__BODY__NOT_SET);
	client_free_reply(reply);
	return rc;
}
