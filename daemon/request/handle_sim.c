/*
 * SimDevice: the device side of a simulated region (device/backend_sim.h), for a test harness
 * acting as the hardware. By region name, with no lease: it neither needs one nor conflicts
 * with any. Only root, the starting uid, the admin group and a device grant on the region may
 * use it; SET, IRQ and RESET are audited as stores are (GET as a load), under the region's audit
 * policy.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/log.h"
#include "core/lease.h"
#include "core/policy.h"
#include "core/width.h"
#include "device/backend.h"
#include "device/backend_sim.h"
#include "device/region.h"
#include "device/region_table.h"
#include "mmio_limits.h"
#include "request/handlers.h"
#include "request/reply.h"
#include "request/service.h"
#include "request/trace.h"
#include "status.h"
#include "text.h"

static const char *
op_name(Mmio__SimOp op)
{
	switch (op) {
	case MMIO__SIM_OP__SIM_OP_GET:
		return "sim-get";
	case MMIO__SIM_OP__SIM_OP_SET:
		return "sim-set";
	case MMIO__SIM_OP__SIM_OP_IRQ:
		return "sim-irq";
	case MMIO__SIM_OP__SIM_OP_RESET:
		return "sim-reset";
	default:
		return NULL;
	}
}

/* The record of one device-side operation, whatever its outcome, if r's policy audits it. */
static void
audit(const struct session *s, const struct region *r, const Mmio__SimDevice *req, bool reads,
      uint64_t value, int rc)
{
	enum audit_mode mode = r->policy.audit;
	if (mode == AUDIT_NONE || (reads && mode != AUDIT_ALL)) {
		return;
	}
	bool sized = req->op == MMIO__SIM_OP__SIM_OP_GET || req->op == MMIO__SIM_OP__SIM_OP_SET;
	const char *status = status_name_of_errno(rc);
	struct audit_record rec = {
		.conn_id = s->conn_id,
		.pid = s->who.pid,
		.uid = s->who.uid,
		.lease = 0, /* none: the device side needs none */
		.region = r->name,
		.op = op_name(req->op),
		.width = sized ? req->width : 0,
		.offset = sized ? req->offset : 0,
		.value = value,
		.status = status ? status : "IO_ERROR",
	};
	log_audit(&rec);
}

/* A trace record of a GET or SET: the value got, or the bits SET asked for. */
static void
trace_sim(const struct session *s, struct region *r, const Mmio__SimDevice *req, uint64_t value,
	  int rc)
{
	struct trace_who by = {.conn = s->conn_id, .lease = 0, .who = &s->who};
	bool get = req->op == MMIO__SIM_OP__SIM_OP_GET;
	uint64_t mask = get ? width_mask(req->width) : req->mask & width_mask(req->width);
	trace_access(r, &by, get ? MMIO_TRACE_WIRE_SIM_GET : MMIO_TRACE_WIRE_SIM_SET, req->width,
		     req->offset, get ? (rc == 0 ? value : 0) : req->value & mask, mask, rc);
}

/* The check of a GET or SET's offset and width, with the detail an access's would have. */
static int
check_access(const struct region *r, const Mmio__SimDevice *req, Mmio__Reply *reply,
	     struct reply_scratch *scratch)
{
	int rc = sim_device_check(r->backend, req->offset, req->width);
	switch (rc) {
	case 0:
		break;
	case -EINVAL:
		reply_status(reply, scratch, rc, "width %" PRIu32 " is not 1, 2, 4 or 8 bytes",
			     req->width);
		break;
	case -EFAULT:
		reply_status(reply, scratch, rc,
			     "%s offset 0x%" PRIx64 " is not %" PRIu32 "-byte aligned", r->name,
			     req->offset, req->width);
		break;
	default:
		reply_status(reply, scratch, rc,
			     "%" PRIu32 "-byte access at offset 0x%" PRIx64
			     " does not fit region %s of size 0x%" PRIx64,
			     req->width, req->offset, r->name, r->space.len);
		break;
	}
	return rc;
}

void
handle_sim_device(struct session *s, const Mmio__SimDevice *req, Mmio__Reply *reply,
		  struct reply_scratch *scratch)
{
	char name[MMIO_MAX_NAME + 1];
	struct region *r = region_table_find(s->svc->regions, req->region);
	bool admin = service_is_admin(s->svc, &s->who);
	/* Who may not act as any device learns nothing of which regions exist. */
	if (!admin && (!r || !policy_may_drive_device(&r->policy, &s->who, s->svc->extra_uid))) {
		reply_status(reply, scratch, -EACCES,
			     "the device side of region '%s' is for root, the admin group and a "
			     "grant with access = \"device\" on it",
			     text_copy_printable(name, sizeof(name), req->region));
		return;
	}
	if (!r) {
		reply_status(reply, scratch, -ENOENT, "no region named '%s'",
			     text_copy_printable(name, sizeof(name), req->region));
		return;
	}
	struct backend *b = r->backend;
	if (!backend_is_sim(b)) {
		reply_status(reply, scratch, -EINVAL,
			     "region %s is of type %s: only a sim region has a device side",
			     r->name, b->type);
		return;
	}
	if (!op_name(req->op)) {
		reply_status(reply, scratch, -EINVAL, "op %d is not GET, SET, IRQ or RESET",
			     (int)req->op);
		return;
	}
	uint64_t value = 0;
	int rc = 0;
	switch (req->op) {
	case MMIO__SIM_OP__SIM_OP_GET:
		if ((rc = check_access(r, req, reply, scratch)) == 0) {
			rc = sim_device_get(b, req->offset, req->width, &value);
		}
		break;
	case MMIO__SIM_OP__SIM_OP_SET:
		if ((rc = check_access(r, req, reply, scratch)) == 0) {
			rc = sim_device_set(b, req->offset, req->width,
					    req->mask & width_mask(req->width), req->value, &value);
		}
		break;
	case MMIO__SIM_OP__SIM_OP_IRQ:
		rc = sim_device_irq(b);
		value = sim_device_irq_count(b);
		if (rc < 0) {
			reply_status(reply, scratch, rc,
				     "region %s: its interrupt could not be raised", r->name);
		}
		break;
	default:
		rc = sim_device_reset(b);
		break;
	}
	if (rc == -EIO && sim_device_fault(b)) {
		reply_status(reply, scratch, rc, "region %s: its model failed: %s", r->name,
			     sim_device_fault(b));
	}
	audit(s, r, req, req->op == MMIO__SIM_OP__SIM_OP_GET,
	      req->op == MMIO__SIM_OP__SIM_OP_SET ? req->value : value, rc);
	if (r->trace &&
	    (req->op == MMIO__SIM_OP__SIM_OP_GET || req->op == MMIO__SIM_OP__SIM_OP_SET)) {
		trace_sim(s, r, req, value, rc);
	}
	if (rc < 0) {
		return;
	}
	reply_status(reply, scratch, 0, NULL);
	if (req->op != MMIO__SIM_OP__SIM_OP_RESET) {
		reply_value(reply, scratch, value);
	}
}
