#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include <event2/event.h>

#include "base/log.h"
#include "base/named_fds.h"
#include "base/pool.h"
#include "device/region.h"
#include "device/region_table.h"
#include "net/conn.h"
#include "net/server.h"
#include "net/server_state.h"
#include "request/service.h"
#include "request/session_state.h"
#include "request/trace.h"

void
server_pause(struct server *srv)
{
	srv->paused = true;
	if (srv->accept_ev) {
		event_del(srv->accept_ev);
	}
	struct conn *c;
	TAILQ_FOREACH(c, &srv->conns, link)
	{
		conn_update_reading(c);
		conn_ring_detach(c);
	}
}

void
server_resume(struct server *srv)
{
	srv->paused = false;
	if (srv->accept_ev) {
		event_add(srv->accept_ev, NULL);
	}
	struct conn *c;
	TAILQ_FOREACH(c, &srv->conns, link)
	{
		conn_update_reading(c);
		if (c->session.ring && conn_ring_attach(c) < 0) {
			log_warn(CONN_FMT ": cannot serve its ring again", CONN_ARGS(&c->session));
		}
	}
}

static int
export_tracers(const struct server *srv, MmiodState__State *st, struct pool *p,
	       struct named_fds *fds)
{
	const struct region_table *regions = srv->svc->regions;
	unsigned n = 0;
	for (unsigned k = 0; k < regions->count; k++) {
		n += trace_count(regions->regions[k]);
	}
	st->tracers = pool_alloc(p, n * sizeof(MmiodState__Tracer *));
	if (!st->tracers) {
		return -ENOMEM;
	}
	for (unsigned k = 0; k < regions->count; k++) {
		const struct region *r = regions->regions[k];
		for (unsigned i = 0; i < trace_count(r); i++) {
			MmiodState__Tracer *m = pool_alloc(p, sizeof(*m));
			if (!m) {
				return -ENOMEM;
			}
			mmiod_state__tracer__init(m);
			int fd = trace_pipe_of(r, i, &m->conn_id);
			m->region = pool_strdup(p, r->name);
			m->pipe = pool_printf(p, "trace.%s.%u", r->name, i);
			if (!m->region || !m->pipe || named_fds_add(fds, m->pipe, fd) < 0) {
				return -ENOMEM;
			}
			st->tracers[st->n_tracers++] = m;
		}
	}
	return 0;
}

int
server_state_export(const struct server *srv, MmiodState__State *st, struct pool *p,
		    struct named_fds *fds, bool live)
{
	st->next_conn_id = srv->next_conn_id;
	st->listener = pool_strdup(p, "listener");
	st->socket_path = pool_strdup(p, srv->socket_path ? srv->socket_path : "");
	unsigned n = srv->n_conns + srv->n_refused;
	st->conns = pool_alloc(p, n * sizeof(MmiodState__Conn *));
	if (!st->listener || !st->socket_path || !st->conns ||
	    named_fds_add(fds, st->listener, srv->listen_fd) < 0) {
		return -ENOMEM;
	}
	const struct conn *c;
	TAILQ_FOREACH(c, &srv->conns, link)
	{
		MmiodState__Conn *m = pool_alloc(p, sizeof(*m));
		if (!m) {
			return -ENOMEM;
		}
		mmiod_state__conn__init(m);
		if (live && !STAILQ_EMPTY(&c->out)) {
			continue; /* owed replies change with every reply: closed after a crash */
		}
		size_t named = fds->n;
		m->fd = pool_printf(p, "conn.%" PRIu64, c->session.conn_id);
		if (!m->fd || named_fds_add(fds, m->fd, c->fd) < 0) {
			return -ENOMEM;
		}
		int rc = conn_state_export(c, m, p);
		if (rc == 0) {
			rc = session_state_export(&c->session, m, p, fds, live);
		}
		if (rc < 0 && rc != -ENOMEM && live) {
			named_fds_truncate(fds, named); /* left out: a crash closes it */
			continue;
		}
		if (rc < 0) {
			log_warn(CONN_FMT ": cannot be handed over: %s", CONN_ARGS(&c->session),
				 rc == -EAGAIN    ? "a reply with descriptors is not read yet"
				 : rc == -ENOTSUP ? "its ring's memory has no descriptor"
						  : strerror(-rc));
			return rc;
		}
		st->conns[st->n_conns++] = m;
	}
	return export_tracers(srv, st, p, fds);
}

static struct conn *
find_conn(const struct server *srv, uint64_t id)
{
	struct conn *c;
	TAILQ_FOREACH(c, &srv->conns, link)
	{
		if (c->session.conn_id == id) {
			return c;
		}
	}
	return NULL;
}

static void
import_conn(struct server *srv, const MmiodState__Conn *m, struct named_fds *fds,
	    const struct import_args *a, struct restore_counts *counts)
{
	int fd = named_fds_take(fds, m->fd ? m->fd : "");
	struct identity who;
	if (m->id == a->drop_conn) {
		/* Its request died with the predecessor: it will never be answered. */
		log_info("conn %" PRIu64 ": was being served when mmiod crashed; closed", m->id);
		if (fd >= 0) {
			named_fds_add(fds, "conn.lost", fd);
		}
		counts->conns_lost++;
		return;
	}
	/* A client gone during the pause has no peer to name: its leases are simply gone. */
	if (fd < 0 || server_peer_identity(fd, &who) < 0) {
		log_info("conn %" PRIu64 ": gone during the restart", m->id);
		if (fd >= 0) {
			named_fds_add(fds, "conn.lost", fd);
		}
		counts->conns_lost++;
		return;
	}
	struct conn *c = conn_restore(srv, fd, &who, m->id, m->hello_done, m->refused);
	if (!c) {
		log_error("conn %" PRIu64 ": cannot be restored: out of memory", m->id);
		counts->conns_lost++;
		return;
	}
	counts->conns++;
	unsigned lost = session_state_import(&c->session, m, fds, a->elapsed_ms, a->kept, a->arg);
	counts->leases += c->session.leases.count;
	counts->leases_lost += lost;
	if (conn_state_import(c, m) < 0) {
		log_error(CONN_FMT ": its queued replies or poll cannot be restored; closing",
			  CONN_ARGS(&c->session));
		conn_destroy(c);
		return;
	}
	/* A client whose ring is not served would wait on it for ever: better it hears why. */
	if ((m->ring && !c->session.ring) || (c->session.ring && conn_ring_attach(c) < 0)) {
		log_error(CONN_FMT ": cannot serve its ring; closing", CONN_ARGS(&c->session));
		conn_destroy(c);
	}
}

void
server_state_import(struct server *srv, const MmiodState__State *st, struct named_fds *fds,
		    const struct import_args *a, struct restore_counts *counts)
{
	memset(counts, 0, sizeof(*counts));
	if (st->next_conn_id > srv->next_conn_id) {
		srv->next_conn_id = st->next_conn_id;
	}
	for (size_t i = 0; i < st->n_conns; i++) {
		import_conn(srv, st->conns[i], fds, a, counts);
	}
	for (size_t i = 0; i < st->n_tracers; i++) {
		const MmiodState__Tracer *m = st->tracers[i];
		int fd = named_fds_take(fds, m->pipe ? m->pipe : "");
		struct region *r = region_table_find(srv->svc->regions, m->region ? m->region : "");
		const struct conn *c = find_conn(srv, m->conn_id);
		if (fd >= 0 && (!r || !c || trace_adopt(r, m->conn_id, &c->session.who, fd) < 0)) {
			named_fds_add(fds, "trace.lost", fd); /* closed: the tracer reads EOF */
		}
	}
}
