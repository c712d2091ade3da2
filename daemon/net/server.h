/* The listening socket, accepting connections, and the set of live connections. */
#ifndef MMIOD_SERVER_H
#define MMIOD_SERVER_H

#include <stdint.h>
#include <sys/queue.h>
#include <sys/types.h>

#include "arena.h"
#include "mmio_limits.h"
#include "net/journal.h"

struct conn;
struct event;
struct event_base;
struct service;

TAILQ_HEAD(conn_list, conn);

struct server {
	struct event_base *base;
	struct service *svc;
	int listen_fd;
	char *socket_path; /* owned; unlinked at server_close; NULL for an inherited socket */
	struct event *accept_ev;
	struct event *backoff_ev; /* re-enables accept after EMFILE */
	struct conn_list conns;
	/* Connections whose rings we spin on; ring_spin_ev runs while there are any. */
	TAILQ_HEAD(hot_ring_list, conn) hot_rings;
	struct event *ring_spin_ev;
	/* Beside a busy process (conn_ring.c): until then, sleep rather than yield. */
	uint64_t ring_beside_busy_until;
	uint64_t ring_slices_since; /* start of the window ring_slices_given counts in */
	unsigned ring_slices_given; /* whole time slices our yields gave away lately */
	unsigned n_conns;           /* holding a slot of max_connections */
	unsigned n_refused;         /* over their uid's limit, waiting to be told at Hello */
	unsigned fds_unread;        /* in replies clients may not have read (conn_fds.c) */
	uint64_t next_conn_id;
	bool stopping;          /* in server_close: the leases still held end for a shutdown */
	bool paused;            /* a restart: no accepts, no requests read, no ring served */
	struct journal journal; /* the state kept for a successor after a crash (journal.h) */
	/* One receive buffer, send buffer and decoding arena for all connections: one thread. */
	uint8_t rx[MMIO_MAX_FRAME];
	uint8_t tx[MMIO_MAX_FRAME];
	struct arena arena;
};

/*
 * Binds path with mode (held through umask, so the socket never exists with
 * another mode) and, unless gid is -1, that group; refuses to replace a live
 * socket, removes a stale one. Returns 0 or a negative errno with the reason in err.
 */
int server_open(struct server *srv, struct event_base *base, struct service *svc, const char *path,
		mode_t mode, gid_t gid, char *err, size_t errlen);

/*
 * Serves on an already listening socket (systemd socket activation); takes fd.
 * It is not unlinked at close: its owner made it.
 */
int server_adopt(struct server *srv, struct event_base *base, struct service *svc, int fd,
		 char *err, size_t errlen);

/* The peer of connection fd, from the kernel (SO_PEERCRED, SO_PEERGROUPS). 0 or -errno. */
struct identity;
int server_peer_identity(int fd, struct identity *who);

/* Closes every connection (revoking its leases), the listener, and unlinks the socket. */
void server_close(struct server *srv);

#endif
