#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "base/log.h"
#include "base/named_fds.h"
#include "base/pool.h"
#include "core/lease.h"
#include "device/region.h"
#include "device/region_table.h"
#include "request/irq.h"
#include "request/ring.h"
#include "request/service.h"
#include "request/session.h"
#include "request/session_state.h"

/* Records fd under name (made from fmt) in fds and returns the name, or NULL. */
static char *
add_fd(struct pool *p, struct named_fds *fds, int fd, const char *kind, uint64_t id)
{
	char *name = pool_printf(p, "%s.%" PRIu64, kind, id);
	return name && named_fds_add(fds, name, fd) == 0 ? name : NULL;
}

static int
export_lease(const struct lease *l, MmiodState__Lease *out, struct pool *p, struct named_fds *fds)
{
	mmiod_state__lease__init(out);
	out->id = l->id;
	out->region = pool_strdup(p, region_of_lease(l)->name);
	out->start = l->start;
	out->len = l->len;
	out->read_only = l->read_only;
	out->ttl_ms = (uint32_t)session_deadline_left(l, LEASE_END_TTL);
	out->grace_ms = (uint32_t)session_deadline_left(l, LEASE_END_ADMIN);
	int pipe_fd = irq_pipe_of(l);
	if (!out->region ||
	    (pipe_fd >= 0 && !(out->irq_pipe = add_fd(p, fds, pipe_fd, "irq", l->id)))) {
		return -ENOMEM;
	}
	return 0;
}

static int
export_ring(const struct session *s, MmiodState__Conn *out, struct pool *p, struct named_fds *fds,
	    bool live)
{
	const struct ring *r = s->ring;
	if (r->memfd < 0) {
		return -ENOTSUP; /* no /proc when it opened: nothing to hand its memory over with */
	}
	MmiodState__Ring *ring = pool_alloc(p, sizeof(*ring));
	if (!ring) {
		return -ENOMEM;
	}
	mmiod_state__ring__init(ring);
	ring->entries = r->entries;
	ring->sq_head = r->sq_head;
	ring->cq_tail = r->cq_tail;
	ring->groups = r->groups;
	ring->indices_in_memory = live; /* these move with every op: the header has them */
	ring->memory = add_fd(p, fds, r->memfd, "ring", s->conn_id);
	ring->doorbell = add_fd(p, fds, r->doorbell_fd, "bell", s->conn_id);
	if (!ring->memory || !ring->doorbell) {
		return -ENOMEM;
	}
	out->ring = ring;
	return 0;
}

int
session_state_export(const struct session *s, MmiodState__Conn *out, struct pool *p,
		     struct named_fds *fds, bool live)
{
	out->id = s->conn_id;
	out->hello_done = s->hello_done;
	out->refused = s->refused;
	out->leases = pool_alloc(p, s->leases.count * sizeof(MmiodState__Lease *));
	out->revoked = pool_alloc(p, s->n_revoked * sizeof(MmiodState__Revoked *));
	if (!out->leases || !out->revoked) {
		return -ENOMEM;
	}
	const struct lease *l;
	TAILQ_FOREACH(l, &s->leases.leases, set_link)
	{
		MmiodState__Lease *m = pool_alloc(p, sizeof(*m));
		if (!m || export_lease(l, m, p, fds) < 0) {
			return -ENOMEM;
		}
		out->leases[out->n_leases++] = m;
	}
	/* Oldest first, so that the successor's memory ends in the same order. */
	for (unsigned i = 0; i < s->n_revoked; i++) {
		unsigned at = (s->revoked_next + SESSION_REVOKED_MEMORY - s->n_revoked + i) %
			      SESSION_REVOKED_MEMORY;
		MmiodState__Revoked *m = pool_alloc(p, sizeof(*m));
		if (!m) {
			return -ENOMEM;
		}
		mmiod_state__revoked__init(m);
		m->id = s->revoked[at].id;
		m->why = (uint32_t)s->revoked[at].why;
		out->revoked[out->n_revoked++] = m;
	}
	return s->ring ? export_ring(s, out, p, fds, live) : 0;
}

static void
import_deadline(struct session *s, const struct lease *l, enum lease_end why, uint32_t left_ms,
		uint64_t elapsed_ms)
{
	if (left_ms == 0) {
		return;
	}
	/* Passed during the pause: due now (1 ms, on the loop, not in the middle of adoption). */
	uint32_t ms = left_ms > elapsed_ms ? (uint32_t)(left_ms - elapsed_ms) : 1;
	if (session_set_deadline(s->svc, l, why, ms) < 0) {
		log_warn(CONN_FMT ": lease %" PRIu64 ": cannot restore its %s deadline",
			 CONN_ARGS(s), l->id, lease_end_name(why));
	}
}

/* One lease; false if it could not be restored (the holder has been told). */
static bool
import_lease(struct session *s, const MmiodState__Lease *m, struct named_fds *fds,
	     uint64_t elapsed_ms, region_kept_fn kept, void *arg)
{
	int irq_pipe = m->irq_pipe && m->irq_pipe[0] ? named_fds_take(fds, m->irq_pipe) : -1;
	struct region *r = region_table_find(s->svc->regions, m->region);
	struct lease *l = NULL;
	int rc = -ENOENT;
	if (r && kept(m->region, arg)) {
		rc = lease_restore(&r->space, &s->leases, m->id, m->start, m->len, &l);
	}
	if (rc < 0) {
		log_event(MSGID_LEASE_REVOKED, LOG_LEVEL_INFO,
			  CONN_FMT ": lease %" PRIu64 " of %s revoked at restart: %s", CONN_ARGS(s),
			  m->id, m->region,
			  rc == -ENOENT ? "the region is gone or no longer the same bytes"
					: strerror(-rc));
		if (irq_pipe >= 0) {
			named_fds_add(fds, "irq.lost", irq_pipe); /* closed with the table */
		}
		session_lost_lease(s, m->id, LEASE_END_POLICY);
		return false;
	}
	l->read_only = m->read_only;
	import_deadline(s, l, LEASE_END_TTL, m->ttl_ms, elapsed_ms);
	import_deadline(s, l, LEASE_END_ADMIN, m->grace_ms, elapsed_ms);
	if (irq_pipe >= 0 && irq_adopt(s->svc, s->conn_id, &s->who, l, irq_pipe) < 0) {
		log_info(CONN_FMT ": lease %" PRIu64
				  ": its interrupt subscription ended at restart",
			 CONN_ARGS(s), l->id);
	}
	return true;
}

static void
import_ring(struct session *s, const MmiodState__Ring *m, struct named_fds *fds)
{
	int memfd = named_fds_take(fds, m->memory ? m->memory : "");
	int bell = named_fds_take(fds, m->doorbell ? m->doorbell : "");
	struct ring *r = NULL;
	int rc = memfd < 0 || bell < 0 ? -EBADF
				       : ring_adopt(memfd, bell, m->entries, m->sq_head, m->cq_tail,
						    m->groups, &r);
	if (rc < 0) {
		log_warn(CONN_FMT ": its ring cannot be re-attached (%s): it is closed",
			 CONN_ARGS(s), strerror(-rc));
		named_fds_add(fds, "ring.lost", memfd);
		named_fds_add(fds, "bell.lost", bell);
		return;
	}
	if (m->indices_in_memory) {
		ring_take_published_indices(r);
	}
	s->ring = r;
	s->svc->n_rings++;
}

unsigned
session_state_import(struct session *s, const MmiodState__Conn *in, struct named_fds *fds,
		     uint64_t elapsed_ms, region_kept_fn kept, void *arg)
{
	s->hello_done = in->hello_done;
	s->refused = in->refused;
	for (size_t i = 0; i < in->n_revoked; i++) {
		struct revoked_lease *slot = &s->revoked[s->revoked_next];
		slot->id = in->revoked[i]->id;
		slot->why = in->revoked[i]->why <= LEASE_END_SHUTDOWN ? in->revoked[i]->why
								      : LEASE_END_POLICY;
		s->revoked_next = (s->revoked_next + 1) % SESSION_REVOKED_MEMORY;
		if (s->n_revoked < SESSION_REVOKED_MEMORY) {
			s->n_revoked++;
		}
	}
	unsigned lost = 0;
	for (size_t i = 0; i < in->n_leases; i++) {
		lost += !import_lease(s, in->leases[i], fds, elapsed_ms, kept, arg);
	}
	if (in->ring) {
		import_ring(s, in->ring, fds);
	}
	return lost;
}
