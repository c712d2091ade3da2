/*
 * Revoke notices: replies mmiod sends unasked (id 0) when it takes a lease away. They arrive
 * during any call (call.c hands them here) or between calls (left on the socket); both make
 * the event fd readable: an epoll set over the socket and an eventfd this file signals.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "client_internal.h"
#include "wire.h"

const char *
mmio_revoke_reason_name(enum mmio_revoke_reason reason)
{
	switch (reason) {
	case MMIO_REVOKE_ADMIN:
		return "admin";
	case MMIO_REVOKE_TTL:
		return "ttl";
	case MMIO_REVOKE_POLICY:
		return "policy";
	case MMIO_REVOKE_FAULT:
		return "fault";
	case MMIO_REVOKE_SHUTDOWN:
		return "shutdown";
	default:
		return "unknown";
	}
}

static enum mmio_revoke_reason
reason_from_wire(Mmio__RevokeReason reason)
{
	return reason >= MMIO__REVOKE_REASON__REVOKE_REASON_ADMIN &&
			       reason <= MMIO__REVOKE_REASON__REVOKE_REASON_SHUTDOWN
		       ? (enum mmio_revoke_reason)reason
		       : MMIO_REVOKE_UNKNOWN;
}

int
client_take_notice(struct mmio_client *c, const Mmio__Reply *r)
{
	if (r->body_case != MMIO__REPLY__BODY_REVOKE_NOTICE) {
		return 0;
	}
	const Mmio__RevokeNotice *n = r->revoke_notice;
	if (c->n_notices == CLIENT_MAX_PENDING_NOTICES) {
		client_log(MMIO_LOG_WARN, "lease %llu revoked (%s): notice dropped, %d waiting",
			   (unsigned long long)n->lease,
			   mmio_revoke_reason_name(reason_from_wire(n->reason)),
			   CLIENT_MAX_PENDING_NOTICES);
		return 1;
	}
	struct client_notice *slot = &c->notices[c->n_notices++];
	slot->lease = n->lease;
	slot->reason = reason_from_wire(n->reason);
	slot->grace_ms = n->grace_ms;
	snprintf(slot->detail, sizeof(slot->detail), "%s", n->detail ? n->detail : "");
	client_log(MMIO_LOG_WARN, "%s", slot->detail);
	if (c->notice_fd >= 0) {
		uint64_t one = 1;
		(void)!write(c->notice_fd, &one, sizeof(one));
	}
	return 1;
}

void
mmio_set_revoke_handler(struct mmio_client *c, mmio_revoke_handler handler, void *userdata)
{
	pthread_mutex_lock(&c->lock);
	c->revoke_handler = handler;
	c->revoke_arg = userdata;
	pthread_mutex_unlock(&c->lock);
}

void
client_events_close(struct mmio_client *c)
{
	if (c->event_fd >= 0) {
		close(c->event_fd);
	}
	if (c->notice_fd >= 0) {
		close(c->notice_fd);
	}
	c->event_fd = c->notice_fd = -1;
}

static int
open_events(struct mmio_client *c)
{
	c->notice_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	c->event_fd = epoll_create1(EPOLL_CLOEXEC);
	if (c->notice_fd < 0 || c->event_fd < 0) {
		int err = -errno;
		client_events_close(c);
		return err;
	}
	struct epoll_event sock = {.events = EPOLLIN | EPOLLRDHUP, .data.fd = c->fd};
	struct epoll_event notice = {.events = EPOLLIN, .data.fd = c->notice_fd};
	if (epoll_ctl(c->event_fd, EPOLL_CTL_ADD, c->fd, &sock) < 0 ||
	    epoll_ctl(c->event_fd, EPOLL_CTL_ADD, c->notice_fd, &notice) < 0) {
		int err = -errno;
		client_events_close(c);
		return err;
	}
	if (c->n_notices > 0) {
		uint64_t one = 1;
		(void)!write(c->notice_fd, &one, sizeof(one));
	}
	return 0;
}

int
mmio_event_fd(struct mmio_client *c)
{
	pthread_mutex_lock(&c->lock);
	int rc = c->event_fd >= 0 ? 0 : open_events(c);
	int fd = c->event_fd;
	pthread_mutex_unlock(&c->lock);
	return rc < 0 ? rc : fd;
}

/* Reads what waits on the socket, with c->lock held: notices only, no call being in flight. */
static int
drain_socket(struct mmio_client *c)
{
	if (c->broken) {
		return -ECONNRESET;
	}
	for (;;) {
		struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
		if (poll(&pfd, 1, 0) <= 0) {
			return 0;
		}
		ssize_t n = wire_recv_fds(c->fd, c->buf, sizeof(c->buf), c->passed_fds,
					  WIRE_MAX_PASS_FDS);
		if (n <= 0) {
			c->broken = 1;
			return -ECONNRESET;
		}
		Mmio__Reply *r = mmio__reply__unpack(NULL, (size_t)n, c->buf);
		int taken = r && r->id == 0 && client_take_notice(c, r);
		if (r) {
			mmio__reply__free_unpacked(r, NULL);
		}
		if (!taken) {
			client_log(MMIO_LOG_ERROR, "unasked reply that is no revoke notice");
			c->broken = 1;
			return -EPROTO;
		}
	}
}

int
mmio_process_events(struct mmio_client *c)
{
	pthread_mutex_lock(&c->lock);
	int rc = drain_socket(c);
	unsigned n = c->n_notices;
	struct client_notice *taken = n ? malloc(n * sizeof(*taken)) : NULL;
	if (n && !taken) {
		pthread_mutex_unlock(&c->lock);
		return -ENOMEM;
	}
	for (unsigned i = 0; i < n; i++) {
		taken[i] = c->notices[i];
	}
	c->n_notices = 0;
	if (c->notice_fd >= 0) {
		uint64_t count;
		(void)!read(c->notice_fd, &count, sizeof(count));
	}
	mmio_revoke_handler handler = c->revoke_handler;
	void *arg = c->revoke_arg;
	pthread_mutex_unlock(&c->lock);
	for (unsigned i = 0; i < n; i++) {
		struct mmio_revoke_notice notice = {.lease_id = taken[i].lease,
						    .reason = taken[i].reason,
						    .grace_ms = taken[i].grace_ms,
						    .detail = taken[i].detail};
		if (handler) {
			handler(c, &notice, arg);
		}
	}
	free(taken);
	return rc < 0 ? rc : (int)n;
}
