/* Forwarding a region's interrupt to its one subscriber, through a pipe. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "base/log.h"
#include "device/backend.h"
#include "device/region.h"
#include "request/irq.h"
#include "request/service.h"
#include "wire.h"

struct irq_sub {
	struct region *region;
	/* The subscriber: who it is and the leases it holds (its session outlives this). */
	uint64_t conn_id;
	struct identity who;
	const struct lease_set *holder;
	uint64_t lease_id;
	int pipe_fd; /* write end; the subscriber holds the read end */
	struct event *ev;
	uint32_t last_count;
	bool have_count;
	uint32_t pending; /* interrupts the pipe had no room for yet */
};

static void
end_subscription(struct irq_sub *sub)
{
	sub->region->irq = NULL;
	if (sub->ev) {
		event_free(sub->ev);
	}
	/* The subscriber's read end now sees EOF: the subscription is over. */
	wire_close_fd(&sub->pipe_fd);
	free(sub);
}

/* The device's fd is readable: an interrupt (UIO: the 4-byte total count). */
static void
irq_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)what;
	struct irq_sub *sub = arg;
	uint32_t count;
	ssize_t n = read(fd, &count, sizeof(count));
	if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
		return;
	}
	if (n != (ssize_t)sizeof(count)) {
		log_warn("region %s: interrupt source %s; ending the subscription",
			 sub->region->name,
			 n == 0  ? "closed"
			 : n < 0 ? strerror(errno)
				 : "gave a short read");
		end_subscription(sub);
		return;
	}
	uint32_t delta = sub->have_count ? count - sub->last_count : 1;
	sub->last_count = count;
	sub->have_count = true;
	uint32_t total = sub->pending + (delta ? delta : 1);
	if (total < sub->pending) {
		total = UINT32_MAX;
	}
	if (write(sub->pipe_fd, &total, sizeof(total)) == (ssize_t)sizeof(total)) {
		sub->pending = 0;
	} else if (errno == EAGAIN) {
		/* The subscriber is not reading: fold these into the next record. */
		sub->pending = total;
	} else {
		log_info("region %s: subscriber went away (%s); ending the subscription",
			 sub->region->name, strerror(errno));
		end_subscription(sub);
	}
}

/* The rule of policy_may_own_irq, for who, holder of lease l, under the region's current policy. */
static bool
may_own(const struct service *svc, const struct identity *who, const struct lease *l)
{
	const struct region *r = region_of_lease(l);
	return policy_may_own_irq(&r->policy, who, svc->extra_uid, r->space.len, l->read_only);
}

/* Makes pipe_fd (the write end; taken, even on error) the subscription of conn_id through l. */
static int
subscribe(struct service *svc, uint64_t conn_id, const struct identity *who, const struct lease *l,
	  int pipe_fd)
{
	struct region *r = region_of_lease(l);
	/* Never block the loop on a subscriber that does not read. */
	int flags = fcntl(pipe_fd, F_GETFL);
	if (flags < 0 || fcntl(pipe_fd, F_SETFL, flags | O_NONBLOCK) < 0) {
		int rc = -errno;
		wire_close_fd(&pipe_fd);
		return rc;
	}
	struct irq_sub *sub = calloc(1, sizeof(*sub));
	if (!sub) {
		wire_close_fd(&pipe_fd);
		return -ENOMEM;
	}
	sub->region = r;
	sub->conn_id = conn_id;
	sub->who = *who;
	sub->holder = l->set;
	sub->lease_id = l->id;
	sub->pipe_fd = pipe_fd;
	sub->ev = event_new(svc->base, r->backend->irq_fd, EV_READ | EV_PERSIST, irq_cb, sub);
	if (!sub->ev || event_add(sub->ev, NULL) < 0) {
		if (sub->ev) {
			event_free(sub->ev);
		}
		wire_close_fd(&sub->pipe_fd);
		free(sub);
		return -ENOMEM;
	}
	r->irq = sub;
	return 0;
}

/* 0 if who, holder of l, may subscribe to its region's interrupt now; else why not. */
static int
may_subscribe(const struct service *svc, const struct identity *who, const struct lease *l)
{
	const struct region *r = region_of_lease(l);
	if (r->backend->irq_fd < 0) {
		return -EINVAL;
	}
	/* Before -EBUSY: who may not own it learns nothing of who does. */
	if (!may_own(svc, who, l)) {
		return -EACCES;
	}
	return r->irq ? -EBUSY : 0;
}

int
irq_subscribe(struct service *svc, uint64_t conn_id, const struct identity *who,
	      const struct lease *l, int *client_fd)
{
	int rc = may_subscribe(svc, who, l);
	if (rc < 0) {
		return rc;
	}
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0) {
		return -errno;
	}
	rc = subscribe(svc, conn_id, who, l, p[1]);
	if (rc < 0) {
		wire_close_fd(&p[0]);
		return rc;
	}
	*client_fd = p[0];
	return 0;
}

int
irq_adopt(struct service *svc, uint64_t conn_id, const struct identity *who, const struct lease *l,
	  int pipe_fd)
{
	int rc = may_subscribe(svc, who, l);
	if (rc < 0) {
		wire_close_fd(&pipe_fd); /* the subscriber sees EOF: its subscription is over */
		return rc;
	}
	return subscribe(svc, conn_id, who, l, pipe_fd);
}

/* The subscription made through l, or NULL (lease ids are never reused: l names its holder). */
static struct irq_sub *
find_subscription(const struct lease *l)
{
	struct irq_sub *sub = region_of_lease(l)->irq;
	return sub && sub->lease_id == l->id ? sub : NULL;
}

int
irq_ack(const struct lease *l)
{
	struct irq_sub *sub = find_subscription(l);
	if (!sub) {
		return -EINVAL;
	}
	return backend_irq_ack(sub->region->backend);
}

int
irq_unsubscribe(const struct lease *l)
{
	struct irq_sub *sub = find_subscription(l);
	if (!sub) {
		return -EINVAL;
	}
	end_subscription(sub);
	return 0;
}

int
irq_pipe_of(const struct lease *l)
{
	const struct irq_sub *sub = find_subscription(l);
	return sub ? sub->pipe_fd : -1;
}

void
irq_lease_gone(const struct lease *l)
{
	struct irq_sub *sub = find_subscription(l);
	if (sub) {
		end_subscription(sub);
	}
}

bool
irq_recheck(const struct service *svc, struct region *r)
{
	struct irq_sub *sub = r->irq;
	if (!sub) {
		return false;
	}
	const struct lease *l = lease_find(sub->holder, sub->lease_id);
	if (l && may_own(svc, &sub->who, l)) {
		return false;
	}
	log_info(CONN_FMT
		 ": lease %" PRIu64
		 ": unsubscribed from the interrupt of %s: the new policy does not let it own it",
		 CONN_ARGS(sub), sub->lease_id, r->name);
	end_subscription(sub);
	return true;
}
