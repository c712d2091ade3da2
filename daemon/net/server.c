#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/event.h>

#include "base/fd_closer.h"
#include "base/log.h"
#include "core/limits.h"
#include "core/policy.h"
#include "net/conn.h"
#include "net/server.h"
#include "request/dispatch.h"
#include "request/service.h"
#include "wire.h"

/* After EMFILE/ENFILE, how long accept stays off so existing clients can finish. */
static const struct timeval accept_backoff = {.tv_sec = 1, .tv_usec = 0};

static int
fill_addr(struct sockaddr_un *addr, const char *path)
{
	memset(addr, 0, sizeof(*addr));
	addr->sun_family = AF_UNIX;
	size_t len = strlen(path);
	if (len >= sizeof(addr->sun_path)) {
		return -ENAMETOOLONG;
	}
	memcpy(addr->sun_path, path, len + 1);
	return 0;
}

/*
 * A socket file left by a dead mmiod is removed; a live one (something accepts
 * on it) or a non-socket at path is refused: never steal another daemon's clients.
 */
static int
clear_stale_socket(const struct sockaddr_un *addr, char *err, size_t errlen)
{
	struct stat st;
	if (lstat(addr->sun_path, &st) < 0) {
		return errno == ENOENT ? 0 : -errno;
	}
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen, "%s exists and is not a socket", addr->sun_path);
		return -EEXIST;
	}
	int probe = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (probe < 0) {
		return -errno;
	}
	int rc = connect(probe, (const struct sockaddr *)addr, sizeof(*addr));
	int saved = errno;
	wire_close_fd(&probe);
	if (rc == 0) {
		snprintf(err, errlen, "%s is live: another mmiod serves it", addr->sun_path);
		return -EADDRINUSE;
	}
	if (saved != ECONNREFUSED) {
		snprintf(err, errlen, "probe %s: %s", addr->sun_path, strerror(saved));
		return -saved;
	}
	if (unlink(addr->sun_path) < 0 && errno != ENOENT) {
		rc = -errno;
		snprintf(err, errlen, "remove stale %s: %s", addr->sun_path, strerror(-rc));
		return rc;
	}
	log_info("removed stale socket %s", addr->sun_path);
	return 0;
}

static void
backoff_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct server *srv = arg;
	event_add(srv->accept_ev, NULL);
}

/*
 * Identity is taken here, once, from the kernel; never from a request.
 * Supplementary groups come from SO_PEERGROUPS (as they were at connect).
 */
int
server_peer_identity(int fd, struct identity *who)
{
	memset(who, 0, sizeof(*who));
	struct ucred cred;
	socklen_t len = sizeof(cred);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
		return -errno;
	}
	who->pid = cred.pid;
	who->uid = cred.uid;
	who->gid = cred.gid;
	len = sizeof(who->groups);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, who->groups, &len) == 0) {
		who->n_groups = len / sizeof(gid_t);
	} else {
		/* ERANGE: more groups than we keep; grants then match the primary group only. */
		log_debug("pid %d: SO_PEERGROUPS: %s", (int)cred.pid, strerror(errno));
	}
	return 0;
}

/* Connections of uid that hold a slot (refused ones waiting to be told do not). */
static unsigned
count_conns_of(const struct server *srv, uid_t uid)
{
	unsigned n = 0;
	const struct conn *c;
	TAILQ_FOREACH(c, &srv->conns, link)
	{
		n += c->session.who.uid == uid && !c->session.refused;
	}
	return n;
}

static void
accept_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)what;
	struct server *srv = arg;

	/* cppcheck-suppress nullPointer ; gnu.cfg demands addrlen even with addr NULL */
	int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (cfd < 0) {
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
			log_warn("accept: %s; pausing new connections for %ld s", strerror(errno),
				 (long)accept_backoff.tv_sec);
			event_del(srv->accept_ev);
			evtimer_add(srv->backoff_ev, &accept_backoff);
		} else if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED) {
			log_error("accept: %s", strerror(errno));
		}
		return;
	}
	struct identity who;
	if (server_peer_identity(cfd, &who) < 0) {
		log_warn("SO_PEERCRED: %s; dropping connection", strerror(errno));
		fd_closer_close_socket(&cfd); /* it may hold fds queued before accept */
		return;
	}
	const struct limits *lim = &srv->svc->limits;
	bool super = policy_is_superuser(&who, srv->svc->extra_uid);
	/* Root keeps a few slots of its own: others filling the table must not lock it out. */
	unsigned cap = lim->max_connections + (super ? MMIO_SUPERUSER_CONNS : 0);
	if (srv->n_conns >= cap) {
		log_warn("pid %d uid %u refused: %u connections already", (int)who.pid,
			 (unsigned)who.uid, srv->n_conns);
		fd_closer_close_socket(&cfd);
		return;
	}
	bool refused = !super && count_conns_of(srv, who.uid) >= lim->max_connections_per_uid;
	if (refused) {
		log_warn("pid %d uid %u refused: uid has %u connections already", (int)who.pid,
			 (unsigned)who.uid, lim->max_connections_per_uid);
		/*
		 * It is told so at Hello, from a small pool that holds no connection slot;
		 * with the pool full it is just closed, so refusals cannot fill the table.
		 */
		if (srv->n_refused >= MMIO_MAX_REFUSED_PENDING) {
			fd_closer_close_socket(&cfd);
			return;
		}
	}
	if (conn_create(srv, cfd, &who, refused) < 0) {
		log_error("pid %d: cannot set up connection: out of memory", (int)who.pid);
	}
}

static void
server_init(struct server *srv, struct event_base *base, struct service *svc)
{
	srv->base = base;
	srv->svc = svc;
	svc->send_notice = conn_send_notice;
	srv->listen_fd = -1;
	srv->accept_ev = NULL;
	srv->backoff_ev = NULL;
	srv->socket_path = NULL;
	TAILQ_INIT(&srv->conns);
	TAILQ_INIT(&srv->hot_rings);
	srv->ring_spin_ev = NULL;
	srv->ring_beside_busy_until = 0;
	srv->ring_slices_given = 0;
	srv->ring_slices_since = 0;
	srv->n_conns = 0;
	srv->n_refused = 0;
	srv->fds_unread = 0;
	srv->next_conn_id = 1;
	srv->stopping = false;
	arena_init(&srv->arena);
}

static int
register_listener(struct server *srv, char *err, size_t errlen)
{
	int rc = fd_closer_guard(srv->listen_fd);
	if (rc < 0) {
		snprintf(err, errlen, "cannot start the descriptor closer: %s", strerror(-rc));
		return rc;
	}
	srv->accept_ev = event_new(srv->base, srv->listen_fd, EV_READ | EV_PERSIST, accept_cb, srv);
	srv->backoff_ev = evtimer_new(srv->base, backoff_cb, srv);
	if (!srv->accept_ev || !srv->backoff_ev || event_add(srv->accept_ev, NULL) < 0) {
		snprintf(err, errlen, "cannot register the listener with the event loop");
		return -ENOMEM;
	}
	return 0;
}

int
server_adopt(struct server *srv, struct event_base *base, struct service *svc, int fd, char *err,
	     size_t errlen)
{
	server_init(srv, base, svc);
	srv->listen_fd = fd;
	int flags = fcntl(fd, F_GETFL);
	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
		int rc = -errno;
		snprintf(err, errlen, "inherited socket: %s", strerror(-rc));
		server_close(srv);
		return rc;
	}
	int rc = register_listener(srv, err, errlen);
	if (rc < 0) {
		server_close(srv);
	}
	return rc;
}

int
server_open(struct server *srv, struct event_base *base, struct service *svc, const char *path,
	    mode_t mode, gid_t gid, char *err, size_t errlen)
{
	server_init(srv, base, svc);

	struct sockaddr_un addr;
	int rc = fill_addr(&addr, path);
	if (rc < 0) {
		snprintf(err, errlen, "socket path %s is longer than %zu bytes", path,
			 sizeof(addr.sun_path) - 1);
		return rc;
	}
	rc = clear_stale_socket(&addr, err, errlen);
	if (rc < 0) {
		if (!err[0]) {
			snprintf(err, errlen, "%s: %s", path, strerror(-rc));
		}
		return rc;
	}
	srv->listen_fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (srv->listen_fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "socket: %s", strerror(-rc));
		return rc;
	}
	/* bind creates the file with 0777 & ~umask: hold the complement of mode around it. */
	mode_t old_mask = umask(~mode & 0777);
	rc = bind(srv->listen_fd, (struct sockaddr *)&addr, sizeof(addr));
	int bind_errno = errno;
	umask(old_mask);
	if (rc < 0) {
		rc = -bind_errno;
		snprintf(err, errlen, "bind %s: %s", path, strerror(bind_errno));
		goto err_close_fd;
	}
	srv->socket_path = strdup(path);
	if (!srv->socket_path) {
		rc = -ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto err_unlink;
	}
	/* Before listen: nobody can connect while the group is still wrong. */
	if (gid != (gid_t)-1 && chown(path, (uid_t)-1, gid) < 0) {
		rc = -errno;
		snprintf(err, errlen, "chown %s to group %u: %s", path, (unsigned)gid,
			 strerror(-rc));
		goto err_unlink;
	}
	if (listen(srv->listen_fd, SOMAXCONN) < 0) {
		rc = -errno;
		snprintf(err, errlen, "listen %s: %s", path, strerror(-rc));
		goto err_unlink;
	}
	rc = register_listener(srv, err, errlen);
	if (rc < 0) {
		goto err_unlink;
	}
	return 0;

err_unlink:
	unlink(path);
	free(srv->socket_path);
	srv->socket_path = NULL;
	if (srv->accept_ev) {
		event_free(srv->accept_ev);
	}
	if (srv->backoff_ev) {
		event_free(srv->backoff_ev);
	}
	srv->accept_ev = srv->backoff_ev = NULL;
err_close_fd:
	wire_close_fd(&srv->listen_fd);
	return rc;
}

void
server_close(struct server *srv)
{
	struct conn *c;
	srv->stopping = true; /* the leases of the connections closed now end for a shutdown */
	while ((c = TAILQ_FIRST(&srv->conns))) {
		conn_destroy(c);
	}
	conn_ring_server_close(srv);
	if (srv->accept_ev) {
		event_free(srv->accept_ev);
		srv->accept_ev = NULL;
	}
	if (srv->backoff_ev) {
		event_free(srv->backoff_ev);
		srv->backoff_ev = NULL;
	}
	fd_closer_close(&srv->listen_fd); /* connections not yet accepted may hold fds */
	if (srv->socket_path) {
		/* After a privilege drop the directory may not let us: say so, do not fail. */
		if (unlink(srv->socket_path) < 0 && errno != ENOENT) {
			log_warn("cannot remove %s: %s", srv->socket_path, strerror(errno));
		}
		free(srv->socket_path);
		srv->socket_path = NULL;
	}
}
