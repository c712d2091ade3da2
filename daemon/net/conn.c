#include <errno.h>
#include <inttypes.h>
#include <malloc.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "base/fd_closer.h"
#include "base/log.h"
#include "base/pool.h"
#include "core/limits.h"
#include "mmio_limits.h"
#include "net/conn.h"
#include "net/server.h"
#include "request/service.h"
#include "status.h"
#include "wire.h"

struct out_frame {
	STAILQ_ENTRY(out_frame) link;
	int fds[WIRE_MAX_PASS_FDS]; /* passed with the frame, then closed; -1 for none */
	struct fd_grant grant;      /* what the fds give: taken back if they cannot be passed */
	uint64_t reply_id;
	size_t charged; /* what it counts in out_bytes: the memory it really holds */
	size_t len;
	uint8_t data[];
};

/*
 * Reads a client's requests only while it takes its replies (unread bytes
 * under the cap) and no poll of it is in progress (its replies stay in order).
 */
static void
update_reading(struct conn *c)
{
	bool over = c->out_bytes > c->server->svc->limits.max_queued_bytes;
	int on = !over && !c->poll && !c->server->paused;
	if (on == c->reading) {
		return;
	}
	if (on) {
		event_add(c->read_ev, NULL);
	} else {
		event_del(c->read_ev);
		if (over) {
			log_warn(CONN_FMT ": %zu reply bytes unread, pausing its requests",
				 CONN_ARGS(&c->session), c->out_bytes);
		}
	}
	c->reading = on;
}

static void
close_fds(int *fds)
{
	for (unsigned i = 0; i < WIRE_MAX_PASS_FDS; i++) {
		wire_close_fd(&fds[i]);
	}
}

/* The leading fds that are open: passed fds are filled from the front. */
static unsigned
count_fds(const int *fds)
{
	unsigned n = 0;
	while (n < WIRE_MAX_PASS_FDS && fds[n] >= 0) {
		n++;
	}
	return n;
}

/* A frame of data; its fds none yet. NULL when out of memory. */
static struct out_frame *
frame_new(const uint8_t *data, size_t len, uint64_t reply_id)
{
	struct out_frame *f = malloc(sizeof(*f) + len);
	if (!f) {
		return NULL;
	}
	for (unsigned i = 0; i < WIRE_MAX_PASS_FDS; i++) {
		f->fds[i] = -1;
	}
	f->grant.kind = FD_GRANT_NONE;
	f->reply_id = reply_id;
	/* A reply of a few bytes costs a whole heap chunk: count that, with its header. */
	f->charged = malloc_usable_size(f) + sizeof(size_t);
	f->len = len;
	memcpy(f->data, data, len);
	return f;
}

static void
enqueue(struct conn *c, struct out_frame *f, bool at_head)
{
	bool first = STAILQ_EMPTY(&c->out);
	if (at_head) {
		STAILQ_INSERT_HEAD(&c->out, f, link);
	} else {
		STAILQ_INSERT_TAIL(&c->out, f, link);
	}
	c->out_bytes += f->charged;
	event_add(c->write_ev, NULL);
	update_reading(c);
	if (first) {
		/* A crash now would lose what waits here: the successor closes c instead. */
		journal_changed(c->server);
		journal_settle(c->server);
	}
}

/* Takes pass_fds (even on error). */
static int
queue_frame(struct conn *c, const uint8_t *data, size_t len, uint64_t reply_id, int *pass_fds,
	    const struct fd_grant *grant)
{
	struct out_frame *f = frame_new(data, len, reply_id);
	if (!f) {
		close_fds(pass_fds);
		return -ENOMEM;
	}
	memcpy(f->fds, pass_fds, sizeof(f->fds));
	f->grant = *grant;
	conn_fds_passed(c, count_fds(f->fds), true);
	enqueue(c, f, false);
	return 0;
}

/*
 * The kernel would not pass the descriptors of reply id (ETOOMANYREFS: too many
 * in flight for mmiod's user). The client is told so, in the reply's place,
 * and keeps its connection; what the descriptors gave is taken back.
 */
static struct out_frame *
undeliverable(struct conn *c, uint64_t reply_id, const struct fd_grant *grant)
{
	log_warn(CONN_FMT ": the kernel refused to pass the descriptors of reply %" PRIu64
			  " (too many in flight)",
		 CONN_ARGS(&c->session), reply_id);
	if (grant->kind == FD_GRANT_RING) {
		conn_ring_detach(c);
	}
	session_fds_undelivered(&c->session, grant);
	Mmio__Reply reply = MMIO__REPLY__INIT;
	reply.id = reply_id;
	reply.status = status_from_errno(-ENOSPC);
	reply.detail = "the kernel refused to pass the descriptors of this reply: too many are "
		       "in flight; try again later";
	uint8_t buf[256];
	size_t len = mmio__reply__get_packed_size(&reply);
	mmio__reply__pack(&reply, buf);
	return frame_new(buf, len, reply_id);
}

/*
 * Packs reply and sends it now, or queues it behind earlier replies. Takes
 * pass_fds, which give the client grant.
 */
static int
send_reply(struct conn *c, Mmio__Reply *reply, int *pass_fds, const struct fd_grant *grant)
{
	journal_settle(c->server); /* no client hears of a change a crash could still undo */
	size_t len = mmio__reply__get_packed_size(reply);
	if (len > MMIO_MAX_FRAME) {
		/* Only a listing can grow this large; answer with a bodiless error instead. */
		log_warn(CONN_FMT ": reply to %" PRIu64 " would take %zu bytes",
			 CONN_ARGS(&c->session), reply->id, len);
		reply->body_case = MMIO__REPLY__BODY__NOT_SET;
		reply->status = status_from_errno(-ENOSPC);
		reply->detail = "reply exceeds the frame limit";
		len = mmio__reply__get_packed_size(reply);
	}
	uint8_t *buf = c->server->tx;
	mmio__reply__pack(reply, buf);
	if (STAILQ_EMPTY(&c->out)) {
		unsigned n = count_fds(pass_fds);
		int rc = wire_send_fds(c->fd, buf, len, pass_fds, n);
		if (rc != -EAGAIN) {
			close_fds(pass_fds);
		}
		if (rc == 0) {
			conn_fds_passed(c, n, false);
		} else if (rc == -ETOOMANYREFS && n > 0) {
			struct out_frame *f = undeliverable(c, reply->id, grant);
			if (!f) {
				return -ENOMEM;
			}
			enqueue(c, f, false);
			return 0;
		}
		if (rc != -EAGAIN) {
			return rc;
		}
	}
	return queue_frame(c, buf, len, reply->id, pass_fds, grant);
}

static void
free_frame(struct conn *c, struct out_frame *f)
{
	STAILQ_REMOVE_HEAD(&c->out, link);
	c->out_bytes -= f->charged;
	free(f);
}

static void
conn_write_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct conn *c = arg;
	struct out_frame *f;

	while ((f = STAILQ_FIRST(&c->out))) {
		unsigned n = count_fds(f->fds);
		int rc = wire_send_fds(c->fd, f->data, f->len, f->fds, n);
		if (rc == -EAGAIN) {
			return;
		}
		close_fds(f->fds);
		if (rc == -ETOOMANYREFS && n > 0) {
			/* Not this client's doing, nor a reason to drop it: it gets an error
			 * instead. */
			c->fds_queued -= n;
			c->server->fds_unread -= n;
			struct out_frame *instead = undeliverable(c, f->reply_id, &f->grant);
			free_frame(c, f);
			if (!instead) {
				conn_destroy(c);
				return;
			}
			enqueue(c, instead, true);
			continue;
		}
		if (rc < 0) {
			log_info(CONN_FMT ": send failed: %s", CONN_ARGS(&c->session),
				 strerror(-rc));
			conn_destroy(c);
			return;
		}
		conn_fds_left_queue(c, n);
		free_frame(c, f);
	}
	event_del(c->write_ev);
	update_reading(c);
	journal_changed(c->server); /* nothing owed any more: c survives a crash again */
}

struct poll_job {
	struct poll_state state;
	struct timespec deadline;
	struct event *timer;
};

static struct timespec
monotonic_now(void)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return now;
}

static bool
reached(const struct timespec *now, const struct timespec *t)
{
	return now->tv_sec > t->tv_sec || (now->tv_sec == t->tv_sec && now->tv_nsec >= t->tv_nsec);
}

static void
end_poll(struct conn *c)
{
	if (c->poll) {
		event_free(c->poll->timer);
		free(c->poll);
		c->poll = NULL;
		event_del(c->closed_ev);
	}
}

/* Sleeps the poll for its interval, or to its deadline if that is sooner. */
static void
arm_poll(struct conn *c)
{
	struct poll_job *job = c->poll;
	uint32_t us = job->state.interval_us ? job->state.interval_us : MMIO_POLL_INTERVAL_US;
	/* A client may not turn the loop into its own busy-wait: other clients share it. */
	if (us < MMIO_POLL_MIN_INTERVAL_US) {
		us = MMIO_POLL_MIN_INTERVAL_US;
	}
	struct timespec now = monotonic_now();
	int64_t left_us = (int64_t)(job->deadline.tv_sec - now.tv_sec) * 1000000 +
			  (job->deadline.tv_nsec - now.tv_nsec) / 1000;
	if (left_us < (int64_t)us) {
		us = left_us > 0 ? (uint32_t)left_us : 0;
	}
	struct timeval tv = {.tv_sec = us / 1000000, .tv_usec = us % 1000000};
	evtimer_add(job->timer, &tv);
}

static void
poll_tick_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct conn *c = arg;
	struct timespec now = monotonic_now();
	Mmio__Reply reply = MMIO__REPLY__INIT;
	struct reply_scratch scratch = {.pass_fds = {-1, -1}};
	enum dispatch_result res = dispatch_poll_step(
		&c->session, &c->poll->state, reached(&now, &c->poll->deadline), &reply, &scratch);
	if (res == DISPATCH_DEFER) {
		arm_poll(c);
		return;
	}
	end_poll(c);
	journal_changed(c->server);
	journal_serving(&c->server->journal, c->session.conn_id);
	int rc = send_reply(c, &reply, scratch.pass_fds, &scratch.grant);
	journal_serving(&c->server->journal, 0);
	reply_finish(&scratch);
	service_figures_changed(c->server->svc); /* a poll's loads may have faulted */
	if (rc < 0) {
		conn_destroy(c);
		return;
	}
	update_reading(c);
}

/* The poll dispatch started goes on from the event loop; this client's later requests wait. */
static int
start_poll(struct conn *c, const struct poll_state *state)
{
	/*
	 * A client that hung up already must go now: the hangup event registered
	 * below would only queue behind requests other clients sent after it.
	 */
	struct pollfd pfd = {.fd = c->fd, .events = POLLRDHUP};
	if (poll(&pfd, 1, 0) == 1 && (pfd.revents & (POLLRDHUP | POLLHUP | POLLERR))) {
		return -ECONNRESET;
	}
	struct poll_job *job = calloc(1, sizeof(*job));
	if (!job) {
		return -ENOMEM;
	}
	job->state = *state;
	job->timer = evtimer_new(c->server->base, poll_tick_cb, c);
	if (!job->timer) {
		free(job);
		return -ENOMEM;
	}
	uint32_t ms = state->timeout_ms; /* dispatch refused more than MMIO_POLL_MAX_MS */
	job->deadline = monotonic_now();
	job->deadline.tv_sec += ms / 1000;
	job->deadline.tv_nsec += (long)(ms % 1000) * 1000000;
	if (job->deadline.tv_nsec >= 1000000000) {
		job->deadline.tv_sec++;
		job->deadline.tv_nsec -= 1000000000;
	}
	c->poll = job;
	arm_poll(c);
	update_reading(c);
	/* Requests are not read meanwhile, but a hangup must still revoke at once. */
	event_add(c->closed_ev, NULL);
	return 0;
}

static void
conn_closed_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	conn_destroy(arg);
}

/*
 * One frame per wakeup: a synchronous client has nothing more to read anyway,
 * and the level-triggered loop comes back for pipelined ones. It also keeps
 * connections fair and makes a peer's hangup visible before any later request
 * of another connection (tests rely on that ordering).
 */
static void
read_request(struct conn *c)
{
	struct server *srv = c->server;

	int fds[WIRE_MAX_RECV_FDS];
	unsigned n_fds;
	ssize_t n = wire_recv_keep_fds(c->fd, srv->rx, srv->svc->limits.max_frame, fds, &n_fds);
	/* We take none, and where the kernel still lets clients pass them, closing can sleep. */
	for (unsigned i = 0; i < n_fds; i++) {
		fd_closer_close(&fds[i]);
	}
	if (n == -EAGAIN) {
		return;
	}
	if (n == 0 || n == -ECONNRESET) {
		conn_destroy(c);
		return;
	}
	if (n < 0) {
		if (n == -EMSGSIZE) {
			log_warn(CONN_FMT ": frame over %zu bytes, closing", CONN_ARGS(&c->session),
				 srv->svc->limits.max_frame);
		} else {
			log_warn(CONN_FMT ": receive failed: %s", CONN_ARGS(&c->session),
				 strerror((int)-n));
		}
		conn_destroy(c);
		return;
	}
	arena_reset(&srv->arena);
	Mmio__Request *req = mmio__request__unpack(&srv->arena.allocator, (size_t)n, srv->rx);
	if (!req) {
		log_warn(CONN_FMT ": undecodable frame of %zd bytes, closing",
			 CONN_ARGS(&c->session), n);
		conn_destroy(c);
		return;
	}
	unsigned fds_needed = dispatch_fds_needed(req);
	if (fds_needed > 0) {
		conn_fds_make_room(c, fds_needed);
	}
	Mmio__Reply reply = MMIO__REPLY__INIT;
	struct reply_scratch scratch;
	enum dispatch_result res = dispatch(&c->session, req, &reply, &scratch);
	if (dispatch_changes_state(req)) {
		journal_changed(srv);
	}
	if (c->session.hello_done && c->hello_timer) {
		event_free(c->hello_timer);
		c->hello_timer = NULL;
	}
	int rc = 0;
	if (res == DISPATCH_DEFER) {
		rc = start_poll(c, &scratch.poll);
		res = DISPATCH_REPLY;
	} else if (res != DISPATCH_CLOSE) {
		rc = send_reply(c, &reply, scratch.pass_fds, &scratch.grant);
	} else {
		close_fds(scratch.pass_fds);
	}
	reply_finish(&scratch);
	mmio__request__free_unpacked(req, &srv->arena.allocator);
	service_figures_changed(srv->svc);
	if (rc < 0 && rc != -ECONNRESET) {
		log_warn(CONN_FMT ": cannot reply: %s", CONN_ARGS(&c->session), strerror(-rc));
	}
	if (res == DISPATCH_REPLY && rc == 0 && c->session.ring && !c->doorbell_ev) {
		rc = conn_ring_attach(c);
		if (rc < 0) {
			log_warn(CONN_FMT ": cannot serve its ring: %s", CONN_ARGS(&c->session),
				 strerror(-rc));
		}
	}
	if (res != DISPATCH_REPLY || rc < 0) {
		conn_destroy(c);
	}
}

static void
conn_read_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct conn *c = arg;
	struct server *srv = c->server;
	/* From the read on: a crash before the reply leaves this request undone. */
	journal_serving(&srv->journal, c->session.conn_id);
	read_request(c);
	journal_settle(srv); /* a poll started, or c closed: no reply told of it */
	journal_serving(&srv->journal, 0);
}

static void
hello_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct conn *c = arg;
	log_warn(CONN_FMT ": no Hello within %u ms, closing", CONN_ARGS(&c->session),
		 c->server->svc->limits.handshake_timeout_ms);
	conn_destroy(c);
}

static void
free_event(struct event **ev)
{
	if (*ev) {
		event_free(*ev);
		*ev = NULL;
	}
}

/* conn_id 0: the next new one; hello_done: no handshake deadline (a restored connection). */
static struct conn *
conn_new(struct server *srv, int fd, const struct identity *who, bool refused, uint64_t conn_id,
	 bool hello_done)
{
	struct conn *c = calloc(1, sizeof(*c));
	if (!c) {
		fd_closer_close_socket(&fd);
		return NULL;
	}
	c->server = srv;
	c->fd = fd;
	STAILQ_INIT(&c->out);
	session_init(&c->session, conn_id ? conn_id : srv->next_conn_id++, srv->svc, who);
	c->session.refused = refused;
	c->session.hello_done = hello_done;
	c->read_ev = event_new(srv->base, fd, EV_READ | EV_PERSIST, conn_read_cb, c);
	c->write_ev = event_new(srv->base, fd, EV_WRITE | EV_PERSIST, conn_write_cb, c);
	c->hello_timer = hello_done ? NULL : evtimer_new(srv->base, hello_timeout_cb, c);
	c->closed_ev = event_new(srv->base, fd, EV_CLOSED | EV_PERSIST, conn_closed_cb, c);
	unsigned ms = srv->svc->limits.handshake_timeout_ms;
	if (refused && ms > MMIO_REFUSED_HELLO_MS) {
		ms = MMIO_REFUSED_HELLO_MS;
	}
	struct timeval hello_deadline = {.tv_sec = ms / 1000,
					 .tv_usec = (suseconds_t)(ms % 1000) * 1000};
	if (!c->read_ev || !c->write_ev || (!hello_done && !c->hello_timer) || !c->closed_ev ||
	    (!srv->paused && event_add(c->read_ev, NULL) < 0) ||
	    (c->hello_timer && evtimer_add(c->hello_timer, &hello_deadline) < 0)) {
		free_event(&c->read_ev);
		free_event(&c->write_ev);
		free_event(&c->hello_timer);
		free_event(&c->closed_ev);
		fd_closer_close_socket(&c->fd);
		free(c);
		return NULL;
	}
	c->reading = !srv->paused;
	TAILQ_INSERT_TAIL(&srv->conns, c, link);
	if (refused) {
		srv->n_refused++;
	} else {
		srv->n_conns++;
		srv->svc->n_clients++;
	}
	service_figures_changed(srv->svc);
	return c;
}

int
conn_create(struct server *srv, int fd, const struct identity *who, bool refused)
{
	struct conn *c = conn_new(srv, fd, who, refused, 0, false);
	if (!c) {
		return -ENOMEM;
	}
	/* Per connection: debug (one mmioctl call would otherwise write four lines). */
	log_event(MSGID_CONNECTED, LOG_LEVEL_DEBUG, CONN_FMT ": connected", CONN_ARGS(&c->session));
	return 0;
}

struct conn *
conn_restore(struct server *srv, int fd, const struct identity *who, uint64_t conn_id,
	     bool hello_done, bool refused)
{
	return conn_new(srv, fd, who, refused, conn_id, hello_done);
}

void
conn_update_reading(struct conn *c)
{
	update_reading(c);
}

int
conn_state_export(const struct conn *c, MmiodState__Conn *out, struct pool *p)
{
	const struct out_frame *f;
	size_t n = 0;
	STAILQ_FOREACH(f, &c->out, link)
	{
		if (count_fds(f->fds) > 0) {
			return -EAGAIN; /* descriptors cannot wait in a byte string: a later try */
		}
		n++;
	}
	out->queued = pool_alloc(p, n * sizeof(*out->queued));
	if (!out->queued) {
		return -ENOMEM;
	}
	STAILQ_FOREACH(f, &c->out, link)
	{
		uint8_t *copy = pool_alloc(p, f->len);
		if (!copy) {
			return -ENOMEM;
		}
		memcpy(copy, f->data, f->len);
		out->queued[out->n_queued++] = (ProtobufCBinaryData){.len = f->len, .data = copy};
	}
	if (!c->poll) {
		return 0;
	}
	MmiodState__Poll *m = pool_alloc(p, sizeof(*m));
	if (!m) {
		return -ENOMEM;
	}
	mmiod_state__poll__init(m);
	const struct poll_state *ps = &c->poll->state;
	struct timespec now = monotonic_now();
	int64_t left_ms = (int64_t)(c->poll->deadline.tv_sec - now.tv_sec) * 1000 +
			  (c->poll->deadline.tv_nsec - now.tv_nsec) / 1000000;
	*m = (MmiodState__Poll){.base = m->base,
				.request_id = ps->request_id,
				.lease_id = ps->lease_id,
				.offset = ps->offset,
				.width = ps->width,
				.mask = ps->mask,
				.value = ps->value,
				.timeout_ms = ps->timeout_ms,
				.interval_us = ps->interval_us,
				.left_ms = left_ms > 0 ? (uint32_t)left_ms : 0};
	out->poll = m;
	return 0;
}

int
conn_state_import(struct conn *c, const MmiodState__Conn *in)
{
	for (size_t i = 0; i < in->n_queued; i++) {
		struct out_frame *f = frame_new(in->queued[i].data, in->queued[i].len, 0);
		if (!f) {
			return -ENOMEM;
		}
		enqueue(c, f, false);
	}
	if (!in->poll) {
		return 0;
	}
	const MmiodState__Poll *m = in->poll;
	struct poll_state ps = {
		.pending = true,
		.request_id = m->request_id,
		.lease_id = m->lease_id,
		.offset = m->offset,
		.width = m->width,
		.mask = m->mask,
		.value = m->value,
		/* What was left of it: its deadline does not move with the restart. */
		.timeout_ms = m->left_ms < MMIO_POLL_MAX_MS ? m->left_ms : MMIO_POLL_MAX_MS,
		.interval_us = m->interval_us,
	};
	return start_poll(c, &ps);
}

void
conn_send_notice(struct session *s, Mmio__Reply *notice)
{
	struct conn *c = (struct conn *)((char *)s - offsetof(struct conn, session));
	int none[WIRE_MAX_PASS_FDS];
	for (unsigned i = 0; i < WIRE_MAX_PASS_FDS; i++) {
		none[i] = -1;
	}
	/* A connection that cannot take it is failing anyway: its own read says so. */
	const struct fd_grant nothing = {.kind = FD_GRANT_NONE};
	journal_changed(c->server); /* a revocation, written before its holder hears of it */
	if (send_reply(c, notice, none, &nothing) < 0) {
		log_debug(CONN_FMT ": revoke notice not sent", CONN_ARGS(s));
	}
}

void
conn_destroy(struct conn *c)
{
	if (!c) {
		return;
	}
	conn_ring_detach(c);
	unsigned revoked = session_finish(&c->session, c->server->stopping ? LEASE_END_SHUTDOWN
									   : LEASE_END_DISCONNECT);
	/* Leases revoked because their holder left are news; an orderly goodbye is not. */
	log_event(MSGID_DISCONNECTED, revoked ? LOG_LEVEL_INFO : LOG_LEVEL_DEBUG,
		  CONN_FMT ": disconnected, %u lease%s revoked", CONN_ARGS(&c->session), revoked,
		  revoked == 1 ? "" : "s");
	end_poll(c);
	free_event(&c->read_ev);
	free_event(&c->write_ev);
	free_event(&c->hello_timer);
	free_event(&c->closed_ev);
	if (c->server->journal.write) {
		/* systemd's store holds a copy until told otherwise: the client must see the end
		 * now. */
		(void)shutdown(c->fd, SHUT_RDWR);
	}
	/* Descriptors a client left queued on the connection are released with it. */
	fd_closer_close_socket(&c->fd);
	struct out_frame *f;
	size_t held = c->out_bytes;
	while ((f = STAILQ_FIRST(&c->out))) {
		close_fds(f->fds);
		free_frame(c, f);
	}
	conn_fds_forget(c);
	TAILQ_REMOVE(&c->server->conns, c, link);
	if (c->session.refused) {
		c->server->n_refused--;
	} else {
		c->server->n_conns--;
		c->server->svc->n_clients--;
	}
	struct service *svc = c->server->svc;
	journal_changed(c->server);
	free(c);
	if (held > MMIO_MAX_QUEUED_BYTES / 8) {
		/* Freed small chunks stay with the process otherwise, after the client is gone. */
		malloc_trim(0);
	}
	service_figures_changed(svc);
}
