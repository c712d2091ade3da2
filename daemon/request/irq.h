/*
 * Forwarding a region's interrupt (UIO) to the one client subscribed to it.
 * mmiod reads the device's 4-byte interrupt count on the event loop and
 * writes how many arrived to a pipe whose read end the subscriber holds;
 * closing our end tells it the subscription is over.
 */
#ifndef MMIOD_IRQ_H
#define MMIOD_IRQ_H

#include <stdbool.h>

#include <stdint.h>

struct identity;
struct lease;
struct region;
struct service;

/*
 * Subscribes connection conn_id (who), holder of l, to the interrupt of l's
 * region. Returns 0 with *client_fd the pipe's read end to pass to the client
 * (the caller closes it after sending), or -EINVAL (the region has no
 * interrupt), -EACCES (who may not own it through l: policy_may_own_irq),
 * -EBUSY (another subscriber), -ENOMEM or another negative errno. The caller
 * ends the subscription (irq_lease_gone) before l or its holder goes.
 */
int irq_subscribe(struct service *svc, uint64_t conn_id, const struct identity *who,
		  const struct lease *l, int *client_fd);

/*
 * A predecessor's subscription through l (a restart): the same checks as irq_subscribe, with
 * pipe_fd, the write end the subscriber's read end already belongs to. Takes pipe_fd: refused,
 * it is closed and the subscriber reads EOF. 0 or the errors of irq_subscribe.
 */
int irq_adopt(struct service *svc, uint64_t conn_id, const struct identity *who,
	      const struct lease *l, int pipe_fd);

/* The write end of the subscription made through l, for a successor, or -1. */
int irq_pipe_of(const struct lease *l);

/* Re-enables the interrupt (writes 1 to the device). -EINVAL if l has no subscription; -EIO. */
int irq_ack(const struct lease *l);

/* Ends the subscription made through l. -EINVAL if there is none. */
int irq_unsubscribe(const struct lease *l);

/* The lease l is going away: end any subscription made through it. */
void irq_lease_gone(const struct lease *l);

/*
 * r's policy (or its leases' access) changed: ends the subscription to r's
 * interrupt if its holder may no longer own it (its pipe reads EOF). Returns
 * true if it ended one.
 */
bool irq_recheck(const struct service *svc, struct region *r);

#endif
