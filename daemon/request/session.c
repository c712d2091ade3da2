#include <limits.h>
#include <stddef.h>

#include "request/irq.h"
#include "request/ring.h"
#include "request/service.h"
#include "request/session.h"
#include "request/trace.h"

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
session_finish(struct session *s)
{
	struct lease *l;
	TAILQ_FOREACH(l, &s->leases.leases, set_link)
	{
		irq_lease_gone(l);
	}
	session_close_ring(s);
	trace_conn_gone(s->svc->regions, s->conn_id);
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
