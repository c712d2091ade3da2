/* The listening socket, accepting connections, and the set of live connections. */
#ifndef MMIOD_SERVER_H
#define MMIOD_SERVER_H

#include <stdint.h>
#include <sys/queue.h>

#include "mmio_limits.h"

struct conn;
struct event;
struct event_base;
struct region_table;

TAILQ_HEAD(conn_list, conn);

struct server {
	struct event_base *base;
	const struct region_table *regions;
	int listen_fd;
	char *socket_path; /* owned; unlinked at server_close */
	struct event *accept_ev;
	struct event *backoff_ev; /* re-enables accept after EMFILE */
	struct conn_list conns;
	unsigned n_conns;
	uint64_t next_conn_id;
	/* One receive and one send buffer for all connections: the loop is single-threaded. */
	uint8_t rx[MMIO_MAX_FRAME];
	uint8_t tx[MMIO_MAX_FRAME];
};

/*
 * Binds path (mode 0660 through umask), refusing to replace a live socket; a
 * stale one is removed. Returns 0 or a negative errno with the reason in err.
 */
int server_open(struct server *srv, struct event_base *base, const struct region_table *regions,
		const char *path, char *err, size_t errlen);

/* Closes every connection (revoking its leases), the listener, and unlinks the socket. */
void server_close(struct server *srv);

#endif
