/* What the files of libmmio-client share; nothing here is exported. */
#ifndef MMIO_CLIENT_INTERNAL_H
#define MMIO_CLIENT_INTERNAL_H

#include <pthread.h>
#include <stdint.h>
#include <sys/queue.h>

#include "mmio.pb-c.h"
/* The library builds with hidden visibility: only the declarations of the API are exported. */
#pragma GCC visibility push(default)
#include "mmio/client.h"
#pragma GCC visibility pop
#include "mmio_limits.h"
#include "wire.h"

/* AUTO opens the ring at this many single ops of a connection: one-shot tools never pay for it. */
#define MMIO_FAST_PATH_AUTO_OPS 8

/*
 * An interrupt subscription. Waiters hold a reference across their poll, so
 * its fds stay open (their numbers never reused) until the last one is done.
 */
struct client_irq {
	int fd;        /* read end of the interrupt pipe */
	int wake_fd;   /* eventfd made readable when the subscription ends under waiters */
	unsigned refs; /* the lease's while subscribed, and one per waiter; c->irq_lock */
};

struct mmio_lease {
	struct mmio_client *client;
	uint64_t id;
	char region[MMIO_MAX_NAME + 1];
	/*
	 * A split changes both (under c->lock); getters read them without it
	 * under this seqlock (odd while written): they never wait for a request.
	 */
	uint32_t range_seq;
	uint64_t start;
	uint64_t length;
	enum mmio_access access;
	/* While subscribed, else NULL. Changed holding c->lock and c->irq_lock; read with either.
	 */
	struct client_irq *irq;
	/* mmio_set_posted: stores return once in the ring. c->lock, as the rest below. */
	int posted;
	/* The first posted store on it that failed since the last report (-errno), or 0. */
	int posted_error;
	char posted_detail[256];
	TAILQ_ENTRY(mmio_lease) link;
};

/* A region's register map, fetched on first use (regnames.c). */
struct client_regmap;

/* One thread's error detail on one client (error_detail.c). */
struct client_detail;

/* Revoke notices received and not yet handed to the handler (mmio_revoke.c); at most this many. */
#define CLIENT_MAX_PENDING_NOTICES 64

struct client_notice {
	uint64_t lease;
	enum mmio_revoke_reason reason;
	unsigned grace_ms;
	char detail[128];
};

struct mmio_client {
	int fd;
	pthread_mutex_t lock;
	/* Interrupt state only, never held across I/O: mmio_irq_wait never waits for a request. */
	pthread_mutex_t irq_lock;
	uint64_t next_id;
	int broken; /* set once the connection can no longer be trusted */
	/* fds that came with the last reply, until a caller takes them; else -1 */
	int passed_fds[WIRE_MAX_PASS_FDS];
	uint32_t features;             /* Hello.features of mmiod */
	enum mmio_fast_path fast_path; /* mode; the ring itself below */
	struct client_ring *ring;      /* ring_queue.h; NULL until opened */
	int ring_failed;     /* why opening the ring failed (then not tried again), or 0 */
	unsigned socket_ops; /* single ops sent over the socket, for AUTO */
	uint64_t serial;     /* unique in the process: threads find their detail by it */
	struct client_detail *details; /* every thread's detail on this client; c->lock */
	TAILQ_HEAD(, mmio_lease) leases;
	struct client_regmap *regmaps; /* the maps fetched so far; c->lock */
	/* Revoke notices (mmio_revoke.c); c->lock. */
	struct client_notice notices[CLIENT_MAX_PENDING_NOTICES];
	unsigned n_notices;
	mmio_revoke_handler revoke_handler;
	void *revoke_arg;
	int event_fd;  /* epoll over fd and notice_fd, once asked for (mmio_event_fd); else -1 */
	int notice_fd; /* eventfd: readable while notices wait; with event_fd */
	uint8_t buf[MMIO_MAX_FRAME];
};

/* Passes a message to the application's log handler, if any (log.c). */
void client_log(enum mmio_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * A mistake in the user's environment (not the application's): to the log
 * handler as a warning if one is set, else "libmmio-client: ..." on stderr, so
 * that it is never lost.
 */
void client_warn_user(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Sends req and waits for its reply, with c->lock held (call.c). Returns the
 * daemon's status as 0 or a negative errno with *reply set (free it with
 * client_free_reply), or a transport errno with *reply NULL. A successful reply
 * lacking a body of kind body_case (unless NOT_SET) is -EPROTO.
 */
int client_call(struct mmio_client *c, Mmio__Request *req, Mmio__Reply **reply,
		Mmio__Reply__BodyCase body_case);

/*
 * A reply mmiod sent unasked (id 0): a revoke notice is kept for the handler and 1 returned; 0
 * for anything else (mmio_revoke.c). c->lock held.
 */
int client_take_notice(struct mmio_client *c, const Mmio__Reply *r);

/* Closes what mmio_event_fd opened. */
void client_events_close(struct mmio_client *c);

/* client_call() taking and dropping c->lock around it. */
int client_call_locked(struct mmio_client *c, Mmio__Request *req, Mmio__Reply **reply,
		       Mmio__Reply__BodyCase body_case);

/*
 * client_call_locked() for a reply due in about due_ns (a big batch): the socket is looked at
 * that long, yielding the CPU between looks, before the caller sleeps for it.
 */
int client_call_due(struct mmio_client *c, Mmio__Request *req, Mmio__Reply **reply,
		    Mmio__Reply__BodyCase body_case, uint64_t due_ns);

void client_free_reply(Mmio__Reply *reply);

/* Closes the fds the last reply brought that nobody took. */
void client_drop_passed_fds(struct mmio_client *c);

/* Starts c with no details and a serial of its own, which threads find theirs by. */
void client_details_init(struct mmio_client *c);
/* Drops c's hold on every record, and this thread's on its own (so it goes now). */
void client_details_free(struct mmio_client *c);
/* The calling thread's detail on c: cleared as a request starts, set when it fails. Lock held. */
void client_detail_clear(struct mmio_client *c);
void client_detail_set(struct mmio_client *c, const char *src);

/*
 * 0 for a width mmiod accesses (1, 2, 4 or 8 bytes); else -EINVAL with the
 * detail mmiod would give ("width 3 is not 1, 2, 4 or 8 bytes") set as the
 * calling thread's on c, so a bad width fails before any round trip exactly
 * as it would after one. c->lock held.
 */
int client_check_width(struct mmio_client *c, unsigned width);

/* Frees the register maps c fetched (regnames.c). */
void client_regmaps_free(struct mmio_client *c);

/* Ends lease's subscription, if any: wakes its waiters; the last one closes. c->lock held. */
void client_irq_detach(struct mmio_lease *lease);

#endif
