#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "device/region.h"
#include "request/reply.h"
#include "status.h"

void *
reply_alloc(struct reply_scratch *scratch, size_t n, size_t size)
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
reply_finish(struct reply_scratch *scratch)
{
	for (unsigned i = 0; i < scratch->n_owned; i++) {
		free(scratch->owned[i]);
	}
	scratch->n_owned = 0;
}

void
reply_status(Mmio__Reply *reply, struct reply_scratch *scratch, int err, const char *fmt, ...)
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
reply_value(Mmio__Reply *reply, struct reply_scratch *scratch, uint64_t value)
{
	mmio__load_result__init(&scratch->load);
	scratch->load.value = value;
	reply->body_case = MMIO__REPLY__BODY_LOAD;
	reply->load = &scratch->load;
}

void
reply_fill_lease_info(Mmio__LeaseInfo *info, const struct lease *l)
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
	info->ttl_ms = session_deadline_left(l, LEASE_END_TTL);
}

struct lease *
reply_find_lease(struct session *s, uint64_t id, Mmio__Reply *reply, struct reply_scratch *scratch)
{
	struct lease *l = lease_find(&s->leases, id);
	enum lease_end why;
	if (!l && session_was_revoked(s, id, &why)) {
		reply_status(reply, scratch, -EKEYREVOKED, "lease %" PRIu64 " was revoked: %s", id,
			     lease_end_name(why));
	} else if (!l) {
		reply_status(reply, scratch, -ENOENT, "no lease %" PRIu64 " on this connection",
			     id);
	}
	return l;
}
