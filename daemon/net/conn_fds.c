/*
 * Descriptors mmiod hands out in replies (an interrupt subscription's pipe, a
 * ring's memfd and doorbell) stay mmiod's burden until the client reads the
 * reply: in mmiod's fd table while queued, and charged to mmiod's user while
 * in the socket (past RLIMIT_NOFILE the kernel refuses to pass any more, to
 * every client). A client that asks and never reads must hit a limit of its
 * own first.
 *
 * A sent reply is known read once the client has taken everything we sent
 * (SIOCOUTQ of our end is 0); until then its descriptors count as unread.
 * That only ever overcounts, and a client that reads its replies is at zero
 * again at its next request.
 */
#include <linux/sockios.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/queue.h>

#include "core/limits.h"
#include "net/conn.h"
#include "net/server.h"
#include "request/service.h"

static unsigned
held(const struct conn *c)
{
	return c->fds_queued + c->fds_sent;
}

/* Forgets c's sent descriptors once the client has read every byte we sent it. */
static void
refresh(struct conn *c)
{
	int unread;
	if (c->fds_sent > 0 && ioctl(c->fd, SIOCOUTQ, &unread) == 0 && unread == 0) {
		c->server->fds_unread -= c->fds_sent;
		c->fds_sent = 0;
	}
}

void
conn_fds_passed(struct conn *c, unsigned n, bool queued)
{
	if (queued) {
		c->fds_queued += n;
	} else {
		c->fds_sent += n;
	}
	c->server->fds_unread += n;
}

void
conn_fds_left_queue(struct conn *c, unsigned n)
{
	c->fds_queued -= n;
	c->fds_sent += n;
}

void
conn_fds_forget(struct conn *c)
{
	c->server->fds_unread -= held(c);
	c->fds_queued = 0;
	c->fds_sent = 0;
}

static unsigned
room(unsigned used, unsigned max)
{
	return used < max ? max - used : 0;
}

void
conn_fds_make_room(struct conn *c, unsigned need)
{
	struct server *srv = c->server;
	struct session *s = &c->session;
	refresh(c);
	unsigned mine = held(c);
	unsigned uid_total = 0;
	struct conn *o;
	TAILQ_FOREACH(o, &srv->conns, link)
	{
		if (o->session.who.uid == s->who.uid) {
			refresh(o);
			uid_total += held(o);
		}
	}
	unsigned max_all = srv->svc->limits.max_unread_fds;
	if (srv->fds_unread + need > max_all) {
		TAILQ_FOREACH(o, &srv->conns, link)
		{
			refresh(o);
		}
	}
	unsigned r_conn = room(mine, MMIO_MAX_UNREAD_FDS_PER_CONN);
	unsigned r_uid = room(uid_total, MMIO_MAX_UNREAD_FDS_PER_UID);
	unsigned r_all = room(srv->fds_unread, max_all);
	s->fd_room = r_conn;
	if (r_conn < need) {
		snprintf(s->fd_room_why, sizeof(s->fd_room_why),
			 "this connection has %u descriptors in replies it has not read (at most "
			 "%u): read them first",
			 mine, (unsigned)MMIO_MAX_UNREAD_FDS_PER_CONN);
	} else if (r_uid < need) {
		s->fd_room = r_uid;
		snprintf(s->fd_room_why, sizeof(s->fd_room_why),
			 "uid %u has %u descriptors in replies it has not read (at most %u)",
			 (unsigned)s->who.uid, uid_total, (unsigned)MMIO_MAX_UNREAD_FDS_PER_UID);
	} else if (r_all < need) {
		s->fd_room = r_all;
		snprintf(s->fd_room_why, sizeof(s->fd_room_why),
			 "%u descriptors in replies are unread by clients (at most %u)",
			 srv->fds_unread, max_all);
	} else {
		s->fd_room = need;
	}
}
