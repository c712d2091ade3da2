#include <inttypes.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>

#include "request/irq.h"
#include "request/ring.h"
#include "request/service.h"
#include "request/session.h"

void
session_init(struct session *s, uint64_t conn_id, struct service *svc, const struct identity *who)
{
	s->conn_id = conn_id;
	s->svc = svc;
	s->who = *who;
	s->hello_done = false;
	s->refused = false;
	s->ring = NULL;
	s->fd_room = UINT_MAX;
	s->fd_room_why[0] = '\0';
	s->n_revoked = 0;
	s->revoked_next = 0;
	lease_set_init(&s->leases, svc->limits.max_leases_per_connection, who->pid, who->uid);
}

struct session *
session_of_lease_set(const struct lease_set *set)
{
	return (struct session *)((char *)set - offsetof(struct session, leases));
}

void
session_release_lease(struct lease *l)
{
	irq_lease_gone(l);
	lease_release(l);
}

static Mmio__RevokeReason
reason_on_wire(enum lease_end why)
{
	switch (why) {
	case LEASE_END_ADMIN:
		return MMIO__REVOKE_REASON__REVOKE_REASON_ADMIN;
	case LEASE_END_TTL:
		return MMIO__REVOKE_REASON__REVOKE_REASON_TTL;
	case LEASE_END_POLICY:
		return MMIO__REVOKE_REASON__REVOKE_REASON_POLICY;
	case LEASE_END_FAULT:
		return MMIO__REVOKE_REASON__REVOKE_REASON_FAULT;
	default:
		return MMIO__REVOKE_REASON__REVOKE_REASON_SHUTDOWN;
	}
}

/* Before the lease goes: the holder hears it from mmiod first, then finds it gone. */
static void
tell_holder(struct session *s, const struct lease *l, enum lease_end why)
{
	struct revoked_lease *slot = &s->revoked[s->revoked_next];
	slot->id = l->id;
	slot->why = why;
	s->revoked_next = (s->revoked_next + 1) % SESSION_REVOKED_MEMORY;
	if (s->n_revoked < SESSION_REVOKED_MEMORY) {
		s->n_revoked++;
	}
	if (!s->svc->send_notice) {
		return;
	}
	char detail[96];
	snprintf(detail, sizeof(detail), "lease %" PRIu64 " was revoked: %s", l->id,
		 lease_end_name(why));
	Mmio__RevokeNotice notice = MMIO__REVOKE_NOTICE__INIT;
	notice.lease = l->id;
	notice.reason = reason_on_wire(why);
	notice.detail = detail;
	Mmio__Reply reply = MMIO__REPLY__INIT;
	reply.id = 0;
	reply.status = MMIO__STATUS__OK;
	reply.body_case = MMIO__REPLY__BODY_REVOKE_NOTICE;
	reply.revoke_notice = &notice;
	s->svc->send_notice(s, &reply);
}

void
session_end_lease(struct lease *l, enum lease_end why)
{
	if (why != LEASE_END_DISCONNECT) {
		tell_holder(session_of_lease_set(l->set), l, why);
	}
	park_lease(l, why);
	session_release_lease(l);
}

bool
session_was_revoked(const struct session *s, uint64_t id, enum lease_end *why)
{
	for (unsigned i = 0; i < s->n_revoked; i++) {
		if (s->revoked[i].id == id) {
			*why = s->revoked[i].why;
			return true;
		}
	}
	return false;
}

void
session_close_ring(struct session *s)
{
	if (s->ring) {
		ring_destroy(s->ring);
		s->ring = NULL;
		s->svc->n_rings--;
	}
}

unsigned
session_finish(struct session *s, enum lease_end why)
{
	struct lease *l;
	TAILQ_FOREACH(l, &s->leases.leases, set_link)
	{
		irq_lease_gone(l);
	}
	session_close_ring(s);
	/* Parked before any is freed: none of their ranges can be leased again in between. At
	 * shutdown the holder is still there to be told. */
	TAILQ_FOREACH(l, &s->leases.leases, set_link)
	{
		if (why != LEASE_END_DISCONNECT) {
			tell_holder(s, l, why);
		}
		park_lease(l, why);
	}
	return lease_revoke_all(&s->leases);
}

void
session_fds_undelivered(struct session *s, const struct fd_grant *grant)
{
	switch (grant->kind) {
	case FD_GRANT_RING:
		session_close_ring(s);
		break;
	case FD_GRANT_IRQ: {
		const struct lease *l = lease_find(&s->leases, grant->lease);
		if (l) {
			irq_unsubscribe(l);
		}
		break;
	}
	default:
		break;
	}
}
