#include <errno.h>
#include <inttypes.h>

#include "base/log.h"
#include "core/lease.h"
#include "core/regrules.h"
#include "core/width.h"
#include "device/region.h"
#include "request/access.h"
#include "request/session.h"
#include "request/trace.h"
#include "status.h"

/*
 * Why a register rule refused the last access: the loop runs one access at a time, and its
 * reply (access_reply_status) is built before the next.
 */
static char rule_refusal[256];

void
access_reply_status(Mmio__Reply *reply, struct reply_scratch *scratch, int rc,
		    const struct lease *l, uint64_t off, unsigned width)
{
	switch (rc) {
	case 0:
		reply_status(reply, scratch, 0, NULL);
		break;
	case -EACCES:
		if (!l->read_only && l->rules) {
			reply_status(reply, scratch, rc, "%s", rule_refusal);
			break;
		}
		reply_status(reply, scratch, rc, "lease %" PRIu64 " was granted read-only", l->id);
		break;
	case -EFAULT:
		/* The region's terms first: mmioctl's users name a region and never see the lease.
		 */
		reply_status(reply, scratch, rc,
			     "%s offset 0x%" PRIx64 " (lease %" PRIu64 " offset 0x%" PRIx64
			     ") is device address 0x%" PRIx64 ", not %u-byte aligned",
			     region_of_lease(l)->name, l->start + off, l->id, off,
			     l->space->addr + l->start + off, width);
		break;
	case -ERANGE:
		reply_status(reply, scratch, rc,
			     "%u-byte access at offset 0x%" PRIx64 " does not fit lease %" PRIu64
			     " of length 0x%" PRIx64 " (%s [0x%" PRIx64 ", +0x%" PRIx64 "))",
			     width, off, l->id, l->len, region_of_lease(l)->name, l->start, l->len);
		break;
	case -EINVAL:
		if (!lease_width_valid(width)) {
			reply_status(reply, scratch, rc, "width %u is not 1, 2, 4 or 8 bytes",
				     width);
		} else {
			reply_status(reply, scratch, rc, "value is wider than %u bits", width * 8);
		}
		break;
	default:
		reply_status(reply, scratch, rc, NULL);
		break;
	}
}

void
access_audit(const struct session *s, const struct lease *l, bool is_store, unsigned width,
	     uint64_t off, uint64_t value, int rc)
{
	const struct region *r = region_of_lease(l);
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

void
access_trace(const struct session *s, const struct lease *l, bool is_store, unsigned width,
	     uint64_t off, uint64_t value, int rc)
{
	struct trace_who by = {.conn = s->conn_id, .lease = l->id, .who = &s->who};
	trace_access(region_of_lease(l), &by,
		     is_store ? MMIO_TRACE_WIRE_STORE : MMIO_TRACE_WIRE_LOAD, width, l->start + off,
		     value, width_mask(width), rc);
}

void
access_count_error(const struct lease *l, int rc)
{
	unsigned status = (unsigned)status_from_errno(rc);
	figures_add_error(access_figures_of(l), status);
	figures_add_error(&region_of_lease(l)->figures, status);
	if (rc == -EIO && region_of_lease(l)->policy.revoke_on_fault) {
		/* On the loop's next turn: the request that faulted still holds l. */
		struct session *holder = session_of_lease_set(l->set);
		(void)session_set_deadline(holder->svc, l, LEASE_END_FAULT, 0);
	}
}

int
access_armed_fault(const struct session *s, const struct lease *l, bool is_store, unsigned width,
		   uint64_t off, uint64_t value)
{
	int rc = region_fault(l, off, width, is_store);
	uint64_t shown = is_store ? value : 0; /* a failed load has no value */
	access_count_error(l, rc);
	if (access_audited(l, is_store)) {
		access_audit(s, l, is_store, width, off, shown, rc);
	}
	if (access_traced(l)) {
		access_trace(s, l, is_store, width, off, shown, rc);
	}
	return rc;
}

/* What access_load/access_store do after the access: figures, audit and trace. */
static void
account(const struct session *s, const struct lease *l, bool is_store, unsigned width, uint64_t off,
	uint64_t value, int rc)
{
	if (is_store) {
		access_figures_of(l)->stores++;
		region_of_lease(l)->figures.stores++;
	} else {
		access_figures_of(l)->loads++;
		region_of_lease(l)->figures.loads++;
	}
	if (rc != 0) {
		access_count_error(l, rc);
	}
	if (access_audited(l, is_store)) {
		access_audit(s, l, is_store, width, off, value, rc);
	}
	if (access_traced(l)) {
		access_trace(s, l, is_store, width, off, value, rc);
	}
}

/* Bounds, alignment and the value's width: what region_load/region_store check first. */
static int
plain_checks(const struct lease *l, bool is_store, uint64_t off, unsigned width, uint64_t value)
{
	int rc = lease_check_access(l, off, width);
	if (rc == 0 && is_store && !width_value_fits(width, value)) {
		rc = -EINVAL;
	}
	return rc;
}

int
access_load_ruled(const struct session *s, const struct lease *l, uint64_t off, unsigned width,
		  uint64_t *value)
{
	int rc = plain_checks(l, false, off, width, 0);
	if (rc == 0) {
		rc = regrules_check_load(l->rules, l->start + off, width, rule_refusal,
					 sizeof(rule_refusal));
	}
	if (rc == 0) {
		rc = region_load(l, off, width, value);
	}
	account(s, l, false, width, off, rc == 0 ? *value : 0, rc);
	return rc;
}

/* The store the rules allow, with old the register's value now if the caller has read it. */
static int
store_ruled(const struct session *s, const struct lease *l, uint64_t off, unsigned width,
	    uint64_t value, const uint64_t *old)
{
	int rc = l->read_only ? -EACCES : plain_checks(l, true, off, width, value);
	uint64_t out = value;
	uint64_t now;
	if (rc == 0) {
		rc = regrules_check_store(l->rules, l->start + off, width, value, old, &out,
					  rule_refusal, sizeof(rule_refusal));
	}
	if (rc == REGRULES_NEED_OLD) {
		/* Not audited: the client asked for a store; the read is mmiod's, to judge it. */
		rc = region_load(l, off, width, &now);
		if (rc == 0) {
			rc = regrules_check_store(l->rules, l->start + off, width, value, &now,
						  &out, rule_refusal, sizeof(rule_refusal));
		}
	}
	if (rc == 0) {
		rc = region_store(l, off, width, out);
	}
	account(s, l, true, width, off, out, rc);
	return rc;
}

int
access_store_ruled(const struct session *s, const struct lease *l, uint64_t off, unsigned width,
		   uint64_t value)
{
	return store_ruled(s, l, off, width, value, NULL);
}

int
access_modify(const struct session *s, const struct lease *l, uint64_t off, unsigned width,
	      uint64_t mask, uint64_t value, uint64_t *old)
{
	access_figures_of(l)->modifies++;
	region_of_lease(l)->figures.modifies++;
	/* Refuse before the load: reading a register can have side effects. */
	if (l->read_only) {
		access_count_error(l, -EACCES);
		return -EACCES;
	}
	int rc = access_load(s, l, off, width, old);
	if (rc == 0) {
		uint64_t next = ((*old & ~mask) | (value & mask)) & width_mask(width);
		/* With rules, judged on the bits it changes from what was just read. */
		rc = l->rules ? store_ruled(s, l, off, width, next, old)
			      : access_store(s, l, off, width, next);
	}
	return rc;
}

void
access_barrier(const struct lease *l)
{
	region_write_barrier(l);
}

/*
 * A store's check ahead of it, on what its register holds now, as the store itself will be
 * judged: no other client runs in between, and the batch's earlier stores, allowed, changed no
 * protected bit. A write mask that only preserves never refuses: nothing is read for it.
 */
static int
check_store_on_now(const struct lease *l, uint64_t off, unsigned width, uint64_t value)
{
	if (!regrules_store_judged_on_old(l->rules, l->start + off, width)) {
		return 0;
	}
	uint64_t now;
	uint64_t out;
	int rc = region_load(l, off, width, &now);
	return rc < 0 ? rc
		      : regrules_check_store(l->rules, l->start + off, width, value, &now, &out,
					     rule_refusal, sizeof(rule_refusal));
}

int
access_check(const struct lease *l, bool is_store, uint64_t off, unsigned width, uint64_t value)
{
	if (is_store && l->read_only) {
		return -EACCES;
	}
	int rc = plain_checks(l, is_store, off, width, value);
	if (rc == 0 && l->rules && !is_store) {
		rc = regrules_check_load(l->rules, l->start + off, width, rule_refusal,
					 sizeof(rule_refusal));
	} else if (rc == 0 && l->rules) {
		uint64_t out;
		rc = regrules_check_store(l->rules, l->start + off, width, value, NULL, &out,
					  rule_refusal, sizeof(rule_refusal));
		if (rc == REGRULES_NEED_OLD) {
			rc = check_store_on_now(l, off, width, value);
		}
	}
	return rc;
}
