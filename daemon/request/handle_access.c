/*
 * Requests that touch the device one access at a time: load, store, barrier.
 * Batches of them are handle_batch.c's; the server-side operations (modify, poll,
 * block) are in handle_ops.c; the checked access itself is access.c's.
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
