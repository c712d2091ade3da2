/* TraceSubscribe: every access on a region, for root and the admin group. */
#include <errno.h>
#include <inttypes.h>

#include "base/log.h"
#include "device/region.h"
#include "device/region_table.h"
#include "mmio_limits.h"
#include "request/handlers.h"
#include "request/reply.h"
#include "request/service.h"
#include "request/trace.h"
#include "text.h"

void
handle_trace_subscribe(struct session *s, const Mmio__TraceSubscribe *req, Mmio__Reply *reply,
		       struct reply_scratch *scratch)
{
	char name[MMIO_MAX_NAME + 1];
	text_copy_printable(name, sizeof(name), req->region);
	/* Before the lookup: who may not trace learns nothing of which regions exist. */
	if (!service_is_admin(s->svc, &s->who)) {
		log_event(MSGID_ACCESS_DENIED, LOG_LEVEL_WARN,
			  CONN_FMT ": denied a trace of region '%s': not an admin", CONN_ARGS(s),
			  name);
		reply_status(reply, scratch, -EACCES,
			     "tracing region '%s' is for root and the admin group", name);
		return;
	}
	struct region *r = region_table_find(s->svc->regions, req->region);
	if (!r) {
		reply_status(reply, scratch, -ENOENT, "no region named '%s'", name);
		return;
	}
	int rc = trace_subscribe(r, s->conn_id, &scratch->pass_fds[0]);
	if (rc == -EBUSY) {
		reply_status(reply, scratch, -ENOSPC, "region %s has %d tracers already", r->name,
			     MMIO_TRACE_MAX_TRACERS);
		return;
	}
	if (rc < 0) {
		reply_status(reply, scratch, rc, NULL);
		return;
	}
	log_info(CONN_FMT ": tracing region %s", CONN_ARGS(s), r->name);
	reply_status(reply, scratch, 0, NULL);
}
