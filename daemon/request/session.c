#include <inttypes.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>

#include <event2/event.h>
#include <stdlib.h>
#include <sys/queue.h>
#include <time.h>

#include "base/log.h"
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
	s->n_revoked = 0;
	s->revoked_next = 0;
	lease_set_init(&s->leases, svc->limits.max_leases_per_connection, who->pid, who->uid);
}

struct session *
session_of_lease_set(const struct lease_set *set)
{
	return (struct session *)((char *)set - offsetof(struct session, leases));
}

/*
 * Deadlines of leases (TTL, grace), few: a lease without one costs a look at an empty list when
 * it ends. Ids, not pointers: a deadline outliving its lease by mistake finds nothing.
 */
struct lease_deadline {
	uint64_t lease_id;
	enum lease_end why;
	struct service *svc;
	struct event *ev;
	struct timespec at; /* CLOCK_MONOTONIC */
	LIST_ENTRY(lease_deadline) link;
};
static LIST_HEAD(deadline_list, lease_deadline) deadlines = LIST_HEAD_INITIALIZER(deadlines);

static void
deadline_free(struct lease_deadline *d)
{
	LIST_REMOVE(d, link);
	event_free(d->ev);
	free(d);
}

static struct lease_deadline *
deadline_find(uint64_t lease_id, enum lease_end why)
{
	struct lease_deadline *d;
	LIST_FOREACH(d, &deadlines, link)
	{
		if (d->lease_id == lease_id && d->why == why) {
			return d;
		}
	}
	return NULL;
}

static void
drop_deadlines(const struct lease *l)
{
	struct lease_deadline *d = LIST_FIRST(&deadlines);
	while (d) {
		struct lease_deadline *next = LIST_NEXT(d, link);
		if (d->lease_id == l->id) {
			deadline_free(d);
		}
		d = next;
	}
}

static void
deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct lease_deadline *d = arg;
	struct service *svc = d->svc;
	uint64_t id = d->lease_id;
	enum lease_end why = d->why;
	deadline_free(d);
	struct lease *l = service_find_lease(svc, id);
	if (!l) {
		return;
	}
	const struct session *holder = session_of_lease_set(l->set);
	log_event(MSGID_LEASE_REVOKED, LOG_LEVEL_INFO, CONN_FMT ": lease %" PRIu64 " revoked: %s",
		  CONN_ARGS(holder), id,
		  why == LEASE_END_TTL     ? "its time ran out unrenewed"
		  : why == LEASE_END_FAULT ? "its device faulted"
					   : "not released within the grace an admin gave");
	session_end_lease(l, why);
	service_figures_changed(svc);
}

int
session_set_deadline(struct service *svc, const struct lease *l, enum lease_end why, uint32_t ms)
{
	if (!svc->base) {
		return -ENOTSUP;
	}
	struct lease_deadline *d = deadline_find(l->id, why);
	if (!d) {
		if (!(d = calloc(1, sizeof(*d)))) {
			return -ENOMEM;
		}
		if (!(d->ev = evtimer_new(svc->base, deadline_cb, d))) {
			free(d);
			return -ENOMEM;
		}
		d->lease_id = l->id;
		d->why = why;
		d->svc = svc;
		LIST_INSERT_HEAD(&deadlines, d, link);
	}
	struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (long)(ms % 1000) * 1000};
	clock_gettime(CLOCK_MONOTONIC, &d->at);
	d->at.tv_sec += tv.tv_sec;
	d->at.tv_nsec += tv.tv_usec * 1000;
	if (d->at.tv_nsec >= 1000000000) {
		d->at.tv_sec++;
		d->at.tv_nsec -= 1000000000;
	}
	if (evtimer_add(d->ev, &tv) < 0) {
		deadline_free(d);
		return -ENOMEM;
	}
	return 0;
}

uint64_t
session_deadline_left(const struct lease *l, enum lease_end why)
{
	if (LIST_EMPTY(&deadlines)) {
		return 0;
	}
	const struct lease_deadline *d = deadline_find(l->id, why);
	if (!d) {
		return 0;
	}
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	int64_t ms = (int64_t)(d->at.tv_sec - now.tv_sec) * 1000 +
		     (d->at.tv_nsec - now.tv_nsec) / 1000000;
	return ms < 1 ? 1 : (uint64_t)ms;
}

void
session_release_lease(struct lease *l)
{
	if (!LIST_EMPTY(&deadlines)) {
		drop_deadlines(l);
	}
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

/*
 * Before the lease goes: the holder hears it from mmiod first, then finds it gone. With grace,
 * it is only asked to release it: not gone yet.
 */
static void
tell_holder(struct session *s, uint64_t id, enum lease_end why, uint32_t grace_ms)
{
	if (grace_ms == 0) {
		struct revoked_lease *slot = &s->revoked[s->revoked_next];
		slot->id = id;
		slot->why = why;
		s->revoked_next = (s->revoked_next + 1) % SESSION_REVOKED_MEMORY;
		if (s->n_revoked < SESSION_REVOKED_MEMORY) {
			s->n_revoked++;
		}
	}
	if (!s->svc->send_notice) {
		return;
	}
	char detail[128];
	if (grace_ms > 0) {
		snprintf(detail, sizeof(detail),
			 "lease %" PRIu64 " is revoked in %" PRIu32 " ms unless released: %s", id,
			 grace_ms, lease_end_name(why));
	} else {
		snprintf(detail, sizeof(detail), "lease %" PRIu64 " was revoked: %s", id,
			 lease_end_name(why));
	}
	Mmio__RevokeNotice notice = MMIO__REVOKE_NOTICE__INIT;
	notice.lease = id;
	notice.reason = reason_on_wire(why);
	notice.detail = detail;
	notice.grace_ms = grace_ms;
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
		tell_holder(session_of_lease_set(l->set), l->id, why, 0);
	}
	park_lease(l, why);
	session_release_lease(l);
}

void
session_lost_lease(struct session *s, uint64_t id, enum lease_end why)
{
	tell_holder(s, id, why, 0);
}

int
session_ask_release(struct service *svc, struct lease *l, uint32_t grace_ms)
{
	int rc = session_set_deadline(svc, l, LEASE_END_ADMIN, grace_ms);
	if (rc == -ENOTSUP) {
		session_end_lease(l, LEASE_END_ADMIN);
		return 0;
	}
	if (rc == 0) {
		tell_holder(session_of_lease_set(l->set), l->id, LEASE_END_ADMIN, grace_ms);
	}
	return rc;
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

int
session_missing_lease(const struct session *s, uint64_t id)
{
	enum lease_end why;
	return session_was_revoked(s, id, &why) ? -EKEYREVOKED : -ENOENT;
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
	trace_conn_gone(s->svc->regions, s->conn_id);
	/* Parked before any is freed: none of their ranges can be leased again in between. At
	 * shutdown the holder is still there to be told. */
	TAILQ_FOREACH(l, &s->leases.leases, set_link)
	{
		if (why != LEASE_END_DISCONNECT) {
			tell_holder(s, l->id, why, 0);
		}
		park_lease(l, why);
		if (!LIST_EMPTY(&deadlines)) {
			drop_deadlines(l);
		}
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
