/* Interrupts: subscribe through a lease, wait on (or poll) a pipe, acknowledge. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "client_internal.h"
#include "wire.h"

/* Sends the IRQ request of kind for lease; returns the daemon's status. c->lock held. */
static int
irq_request(struct mmio_lease *lease, Mmio__Request__BodyCase kind, int *passed_fd)
{
	struct mmio_client *c = lease->client;
	Mmio__IrqSubscribe sub = MMIO__IRQ_SUBSCRIBE__INIT;
	Mmio__IrqAck ack = MMIO__IRQ_ACK__INIT;
	Mmio__IrqUnsubscribe unsub = MMIO__IRQ_UNSUBSCRIBE__INIT;
	Mmio__Request req = MMIO__REQUEST__INIT;
	req.body_case = kind;
	sub.lease = ack.lease = unsub.lease = lease->id;
	if (kind == MMIO__REQUEST__BODY_IRQ_SUBSCRIBE) {
		req.irq_subscribe = &sub;
	} else if (kind == MMIO__REQUEST__BODY_IRQ_ACK) {
		req.irq_ack = &ack;
	} else {
		req.irq_unsubscribe = &unsub;
	}
	Mmio__Reply *reply;
	int rc = client_call(c, &req, &reply, MMIO__REPLY__BODY__NOT_SET);
	if (rc == 0 && passed_fd) {
		*passed_fd = c->passed_fds[0];
		c->passed_fds[0] = -1;
	}
	client_free_reply(reply);
	return rc;
}

static void
irq_free(struct client_irq *irq)
{
	wire_close_fd(&irq->fd);
	wire_close_fd(&irq->wake_fd);
	free(irq);
}

/* Drops a reference; the last closes the fds. c->irq_lock held. */
static void
irq_unref(struct client_irq *irq)
{
	if (--irq->refs == 0) {
		irq_free(irq);
	}
}

void
client_irq_detach(struct mmio_lease *lease)
{
	struct mmio_client *c = lease->client;
	pthread_mutex_lock(&c->irq_lock);
	struct client_irq *irq = lease->irq;
	if (irq) {
		lease->irq = NULL;
		if (irq->refs > 1) {
			/* Waiters poll it: wake them for good (never read, it stays readable). */
			uint64_t one = 1;
			(void)!write(irq->wake_fd, &one, sizeof(one));
		}
		irq_unref(irq);
	}
	pthread_mutex_unlock(&c->irq_lock);
}

int
mmio_irq_subscribe(struct mmio_lease *lease)
{
	struct mmio_client *c = lease->client;
	/* Made before asking: a subscription mmiod granted is never dropped for want of it. */
	struct client_irq *irq = calloc(1, sizeof(*irq));
	if (!irq) {
		return -ENOMEM;
	}
	irq->fd = -1;
	irq->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (irq->wake_fd < 0) {
		int rc = -errno;
		free(irq);
		return rc;
	}
	pthread_mutex_lock(&c->lock);
	int rc = lease->irq ? -EBUSY
			    : irq_request(lease, MMIO__REQUEST__BODY_IRQ_SUBSCRIBE, &irq->fd);
	if (rc == 0 && irq->fd < 0) {
		client_log(MMIO_LOG_ERROR, "interrupt subscription came without its pipe");
		rc = -EPROTO;
	}
	if (rc == 0) {
		/* Waits poll first; reads then drain whatever is there without blocking. */
		int flags = fcntl(irq->fd, F_GETFL);
		if (flags < 0 || fcntl(irq->fd, F_SETFL, flags | O_NONBLOCK) < 0) {
			rc = -errno;
		}
	}
	if (rc < 0) {
		pthread_mutex_unlock(&c->lock);
		irq_free(irq);
		return rc;
	}
	irq->refs = 1;
	pthread_mutex_lock(&c->irq_lock);
	lease->irq = irq; /* the lease owns it now */
	pthread_mutex_unlock(&c->irq_lock);
	pthread_mutex_unlock(&c->lock);
	return 0;
}

int
mmio_irq_fd(const struct mmio_lease *lease)
{
	struct mmio_client *c = lease->client;
	pthread_mutex_lock(&c->irq_lock);
	int fd = lease->irq ? lease->irq->fd : -1;
	pthread_mutex_unlock(&c->irq_lock);
	return fd;
}

/* Waits on a subscription the caller holds a reference to. */
static int
irq_wait(const struct client_irq *irq, int timeout_ms, uint32_t *count)
{
	struct pollfd pfd[2] = {{.fd = irq->fd, .events = POLLIN},
				{.fd = irq->wake_fd, .events = POLLIN}};
	int n;
	do {
		n = poll(pfd, 2, timeout_ms);
	} while (n < 0 && errno == EINTR);
	if (n < 0) {
		return -errno;
	}
	if (n == 0) {
		return -ETIMEDOUT;
	}
	if (pfd[1].revents) {
		/* Unsubscribed (or released) by another thread meanwhile. */
		return -ENOENT;
	}
	/* Sum every record waiting: each says how many interrupts arrived. */
	uint64_t total = 0;
	uint32_t rec;
	ssize_t got;
	while ((got = read(irq->fd, &rec, sizeof(rec))) == (ssize_t)sizeof(rec)) {
		total += rec;
	}
	if (total == 0) {
		/* EOF: mmiod ended the subscription (lease released or revoked, daemon gone). */
		return got == 0 ? -ENOENT : got < 0 && errno != EAGAIN ? -errno : -EPROTO;
	}
	*count = total > UINT32_MAX ? UINT32_MAX : (uint32_t)total;
	return 0;
}

int
mmio_irq_wait(struct mmio_lease *lease, int timeout_ms, uint32_t *count)
{
	/* Only c and irq after this: the wait never touches what an unsubscribe frees. */
	struct mmio_client *c = lease->client;
	pthread_mutex_lock(&c->irq_lock);
	struct client_irq *irq = lease->irq;
	if (irq) {
		irq->refs++;
	}
	pthread_mutex_unlock(&c->irq_lock);
	if (!irq) {
		return -EINVAL;
	}
	int rc = irq_wait(irq, timeout_ms, count);
	pthread_mutex_lock(&c->irq_lock);
	irq_unref(irq);
	pthread_mutex_unlock(&c->irq_lock);
	return rc;
}

int
mmio_irq_ack(struct mmio_lease *lease)
{
	struct mmio_client *c = lease->client;
	pthread_mutex_lock(&c->lock);
	int rc = irq_request(lease, MMIO__REQUEST__BODY_IRQ_ACK, NULL);
	pthread_mutex_unlock(&c->lock);
	return rc;
}

int
mmio_irq_unsubscribe(struct mmio_lease *lease)
{
	struct mmio_client *c = lease->client;
	pthread_mutex_lock(&c->lock);
	int rc = irq_request(lease, MMIO__REQUEST__BODY_IRQ_UNSUBSCRIBE, NULL);
	/* Whatever mmiod said: this side is done with it. */
	client_irq_detach(lease);
	pthread_mutex_unlock(&c->lock);
	return rc;
}
