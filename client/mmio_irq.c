/* Interrupts: subscribe through a lease, wait on (or poll) a pipe, acknowledge. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <unistd.h>

#include "client_internal.h"
#include "wire.h"

/* Sends the IRQ request of kind for lease; returns the daemon's status. */
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
	pthread_mutex_lock(&c->lock);
	int rc = client_call(c, &req, &reply, MMIO__REPLY__BODY__NOT_SET);
	if (rc == 0 && passed_fd) {
		*passed_fd = c->passed_fds[0];
		c->passed_fds[0] = -1;
	}
	pthread_mutex_unlock(&c->lock);
	client_free_reply(reply);
	return rc;
}

int
mmio_irq_subscribe(struct mmio_lease *lease)
{
	if (lease->irq_fd >= 0) {
		return -EBUSY;
	}
	int fd = -1;
	int rc = irq_request(lease, MMIO__REQUEST__BODY_IRQ_SUBSCRIBE, &fd);
	if (rc < 0) {
		return rc;
	}
	if (fd < 0) {
		client_log(MMIO_LOG_ERROR, "interrupt subscription came without its pipe");
		return -EPROTO;
	}
	/* Waits poll first; reads then drain whatever is there without blocking. */
	int flags = fcntl(fd, F_GETFL);
	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
		rc = -errno;
		wire_close_fd(&fd);
		return rc;
	}
	lease->irq_fd = fd;
	return 0;
}

int
mmio_irq_fd(const struct mmio_lease *lease)
{
	return lease->irq_fd;
}

int
mmio_irq_wait(struct mmio_lease *lease, int timeout_ms, uint32_t *count)
{
	if (lease->irq_fd < 0) {
		return -EINVAL;
	}
	struct pollfd pfd = {.fd = lease->irq_fd, .events = POLLIN};
	int n;
	do {
		n = poll(&pfd, 1, timeout_ms);
	} while (n < 0 && errno == EINTR);
	if (n < 0) {
		return -errno;
	}
	if (n == 0) {
		return -ETIMEDOUT;
	}
	/* Sum every record waiting: each says how many interrupts arrived. */
	uint64_t total = 0;
	uint32_t rec;
	ssize_t got;
	while ((got = read(lease->irq_fd, &rec, sizeof(rec))) == (ssize_t)sizeof(rec)) {
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
mmio_irq_ack(struct mmio_lease *lease)
{
	return irq_request(lease, MMIO__REQUEST__BODY_IRQ_ACK, NULL);
}

int
mmio_irq_unsubscribe(struct mmio_lease *lease)
{
	int rc = irq_request(lease, MMIO__REQUEST__BODY_IRQ_UNSUBSCRIBE, NULL);
	wire_close_fd(&lease->irq_fd);
	return rc;
}
