/*
 * Requests and replies over the connection's socket, one in flight at a time:
 * every request goes through here, single ops on the socket transport too.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stddef.h>
#include <sys/types.h>

#include "client_internal.h"
#include "clock.h"
#include "mmio_limits.h"
#include "ring_queue.h"
#include "status.h"
#include "wire.h"

void
client_drop_passed_fds(struct mmio_client *c)
{
	for (unsigned i = 0; i < WIRE_MAX_PASS_FDS; i++) {
		wire_close_fd(&c->passed_fds[i]);
	}
}

/* A transport failure leaves the stream out of step: every later call fails fast. */
static int
mark_broken(struct mmio_client *c, int err)
{
	c->broken = 1;
	return err;
}

/*
 * Looks for something to read on fd for up to due_ns, yielding the CPU between looks (mmiod may
 * share it), before the caller sleeps in recv: a reply that comes within it needs no wake-up of
 * ours, which costs mmiod an interrupt to our CPU and us its latency (tens of us on a VM).
 */
static void
poll_until_due(int fd, uint64_t due_ns)
{
	uint64_t start = now_ns();
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	while (poll(&pfd, 1, 0) == 0 && now_ns() - start < due_ns) {
		sched_yield();
	}
}

/*
 * Sends req and waits for its reply, with c->lock held, looking for it for due_ns before
 * sleeping. On success returns the daemon's status as 0 or a negative errno and sets *reply
 * (caller frees with mmio__reply__free_unpacked); on a transport failure returns its errno
 * with *reply NULL.
 */
static int
call(struct mmio_client *c, Mmio__Request *req, Mmio__Reply **reply, uint64_t due_ns)
{
	*reply = NULL;
	client_detail_clear(c);
	/* Only the reply that brought them may hand them out; any later call drops them. */
	client_drop_passed_fds(c);
	if (c->broken) {
		return -ECONNRESET;
	}
	/* Posted stores come first: they run, and their errors wait on their leases. */
	int drained = client_ring_drain(c);
	if (drained < 0) {
		return drained;
	}
	req->id = c->next_id++;
	size_t len = mmio__request__get_packed_size(req);
	if (len > MMIO_MAX_FRAME) {
		return -EMSGSIZE;
	}
	mmio__request__pack(req, c->buf);
	int rc = wire_send(c->fd, c->buf, len);
	if (rc < 0) {
		client_log(MMIO_LOG_ERROR, "send request %llu: %s", (unsigned long long)req->id,
			   status_message(rc));
		return mark_broken(c, rc == -EMSGSIZE ? rc : -ECONNRESET);
	}
	if (due_ns) {
		poll_until_due(c->fd, due_ns);
	}
	Mmio__Reply *r;
	for (;;) {
		ssize_t n = wire_recv_fds(c->fd, c->buf, sizeof(c->buf), c->passed_fds,
					  WIRE_MAX_PASS_FDS);
		if (n <= 0) {
			client_log(MMIO_LOG_ERROR, "reply to request %llu: %s",
				   (unsigned long long)req->id,
				   n == 0 ? "daemon closed the connection"
					  : status_message((int)n));
			return mark_broken(c, n == -EMSGSIZE ? -EPROTO : -ECONNRESET);
		}
		r = mmio__reply__unpack(NULL, (size_t)n, c->buf);
		/* mmio may say something unasked (a lease revoked) before it answers. */
		if (!r || r->id != 0 || !client_take_notice(c, r)) {
			break;
		}
		mmio__reply__free_unpacked(r, NULL);
	}
	if (!r || r->id != req->id) {
		client_log(MMIO_LOG_ERROR, "reply to request %llu: %s", (unsigned long long)req->id,
			   r ? "id does not match" : "undecodable");
		if (r) {
			mmio__reply__free_unpacked(r, NULL);
		}
		return mark_broken(c, -EPROTO);
	}
	rc = status_to_errno(r->status);
	if (rc < 0 && r->detail && r->detail[0]) {
		client_detail_set(c, r->detail);
		client_log(MMIO_LOG_DEBUG, "request %llu: %s: %s", (unsigned long long)req->id,
			   status_name_of_errno(rc) ? status_name_of_errno(rc) : "?", r->detail);
	}
	*reply = r;
	return rc;
}

/* client_call, looking for the reply for due_ns before sleeping (client_call_due). */
static int
call_checked(struct mmio_client *c, Mmio__Request *req, Mmio__Reply **reply,
	     Mmio__Reply__BodyCase body_case, uint64_t due_ns)
{
	int rc = call(c, req, reply, due_ns);
	if (rc == 0 && body_case != MMIO__REPLY__BODY__NOT_SET &&
	    (*reply)->body_case != body_case) {
		client_log(MMIO_LOG_ERROR, "reply to request %llu lacks its body",
			   (unsigned long long)req->id);
		mmio__reply__free_unpacked(*reply, NULL);
		*reply = NULL;
		return mark_broken(c, -EPROTO);
	}
	return rc;
}

int
client_call(struct mmio_client *c, Mmio__Request *req, Mmio__Reply **reply,
	    Mmio__Reply__BodyCase body_case)
{
	return call_checked(c, req, reply, body_case, 0);
}

int
client_call_locked(struct mmio_client *c, Mmio__Request *req, Mmio__Reply **reply,
		   Mmio__Reply__BodyCase body_case)
{
	return client_call_due(c, req, reply, body_case, 0);
}

int
client_call_due(struct mmio_client *c, Mmio__Request *req, Mmio__Reply **reply,
		Mmio__Reply__BodyCase body_case, uint64_t due_ns)
{
	pthread_mutex_lock(&c->lock);
	int rc = call_checked(c, req, reply, body_case, due_ns);
	pthread_mutex_unlock(&c->lock);
	return rc;
}

void
client_free_reply(Mmio__Reply *reply)
{
	if (reply) {
		mmio__reply__free_unpacked(reply, NULL);
	}
}
