/* One client connection: read, decode, dispatch, reply, teardown. */
#ifndef MMIOD_CONN_H
#define MMIOD_CONN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/types.h>

#include "dispatch.h"

struct server;
struct out_frame;
STAILQ_HEAD(out_queue, out_frame);

struct conn {
	struct server *server;
	int fd;
	struct event *read_ev;
	struct event *write_ev;
	struct session session;
	struct out_queue out; /* replies the client has not taken yet */
	size_t out_bytes;
	int reading; /* read_ev is armed; off while out_bytes is over the cap */
	TAILQ_ENTRY(conn) link;
};

/* Takes fd (even on error). Returns 0 and registers the connection, or a negative errno. */
int conn_create(struct server *srv, int fd, pid_t pid, uid_t uid, gid_t gid);

/* Revokes every lease of c, closes and frees it. The one teardown path. */
void conn_destroy(struct conn *c);

#endif
