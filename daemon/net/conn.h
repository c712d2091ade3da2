/* One client connection: read, decode, dispatch, reply, teardown. */
#ifndef MMIOD_CONN_H
#define MMIOD_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/types.h>

#include "core/policy.h"
#include "mmiod_state.pb-c.h"
#include "request/dispatch.h"

struct server;
struct out_frame;
struct pool;
struct poll_job;
STAILQ_HEAD(out_queue, out_frame);

struct conn {
	struct server *server;
	int fd;
	struct event *read_ev;
	struct event *write_ev;
	struct event *hello_timer; /* closes a connection that never says Hello */
	/* The connection is over: a hangup while a poll keeps read_ev off, or (made active by
	 * conn_ring.c) a ring whose client broke its protocol. Its callback tears c down. */
	struct event *closed_ev;
	struct session session;
	struct out_queue out; /* replies the client has not taken yet */
	size_t out_bytes;
	int reading; /* read_ev is armed: off while out_bytes is over the cap or a poll runs */
	struct poll_job *poll; /* a Poll request in progress, or NULL */
	/* Descriptors in replies: queued in out, and sent but maybe not read yet (conn_fds.c). */
	unsigned fds_queued;
	unsigned fds_sent;
	TAILQ_ENTRY(conn) link;
	/* The shared-memory ring, once session.ring is open (conn_ring.c). */
	struct event *doorbell_ev;
	bool ring_hot;            /* in server.hot_rings: served by spinning, not the doorbell */
	uint64_t ring_spin_until; /* CLOCK_MONOTONIC ns: past it, an idle hot ring goes cold */
	uint64_t ring_last_op;    /* CLOCK_MONOTONIC ns of its last op (or of the attach) */
	TAILQ_ENTRY(conn) hot_link;
};

/*
 * Takes fd (even on error). Returns 0 and registers the connection, or a
 * negative errno. A refused connection (over its uid's limit) is told so in
 * the reply to its Hello, then closed.
 */
int conn_create(struct server *srv, int fd, const struct identity *who, bool refused);

/*
 * A connection a predecessor served (a restart), under its id, its handshake as it was.
 * Takes fd. The connection, or NULL (out of memory: fd closed).
 */
struct conn *conn_restore(struct server *srv, int fd, const struct identity *who, uint64_t conn_id,
			  bool hello_done, bool refused);

/* Reads c's requests again if nothing holds them back (the server paused, a poll, a full queue). */
void conn_update_reading(struct conn *c);

/*
 * What the connection itself owes its client, for a successor: replies not taken yet, and a
 * poll in progress. 0, -EAGAIN (a queued reply carries descriptors: try again once it has
 * gone), -ENOMEM. Import queues them again and resumes the poll. 0 or a negative errno.
 */
int conn_state_export(const struct conn *c, MmiodState__Conn *out, struct pool *p);
int conn_state_import(struct conn *c, const MmiodState__Conn *in);

/* Revokes every lease of c, closes and frees it. The one teardown path. */
void conn_destroy(struct conn *c);

/* Sends notice (an unasked reply, id 0) on the connection of session s, or queues it. */
void conn_send_notice(struct session *s, Mmio__Reply *notice);

/*
 * conn_fds.c: descriptors in replies a client may leave unread, limited per
 * connection, per uid and in all (core/limits.h). passed counts n more, queued
 * in c->out or already sent; left_queue moves n from queued to sent; forget
 * drops c's at teardown; make_room sets c->session.fd_room for a request
 * whose reply needs need of them.
 */
void conn_fds_passed(struct conn *c, unsigned n, bool queued);
void conn_fds_left_queue(struct conn *c, unsigned n);
void conn_fds_forget(struct conn *c);
void conn_fds_make_room(struct conn *c, unsigned need);

/*
 * conn_ring.c: serving a connection's ring. attach registers the doorbell once
 * dispatch opened session.ring (0 or -ENOMEM); detach undoes it before teardown.
 */
int conn_ring_attach(struct conn *c);
void conn_ring_detach(struct conn *c);
/* Frees what the server keeps for rings; every connection is gone by then. */
void conn_ring_server_close(struct server *srv);

#endif
