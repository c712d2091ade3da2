/*
 * Serving shared-memory rings from the event loop. A ring that had work lately
 * is "hot": we spin on it, yielding the CPU between empty passes so that a
 * client on the same CPU can run, and returning to the loop every slice so
 * socket clients are served too. Once no ring has spin left, rings go cold: we
 * tell their clients to ring the doorbell and sleep in the loop. With every
 * ring cold, mmiod uses no CPU.
 *
 * Spin is earned: each op earns its ring RING_SPIN_PER_OP_NS more, up to
 * RING_SPIN_NS ahead, so a client that keeps submitting keeps us spinning
 * while one that submits now and then costs at most that much per op (a client
 * cannot buy our CPU cheaply). While some ring has spin left we are up anyway
 * and looking at another ring costs next to nothing: rings out of spin stay
 * hot then, for up to RING_KEEP_HOT_NS, so many clients that each wait their
 * turn for a CPU need no doorbells. Spin is our CPU time: time a yield gave to
 * clients on our CPU does not use it up. A yield that took a whole time slice
 * went to a busy process sharing our CPU, and yielding to it again would hand
 * it a slice per op: for RING_BESIDE_BUSY_NS we then spin only briefly without
 * yielding and sleep, so that doorbells wake us ahead of it.
 * Whatever else holds, a ring idle for RING_KEEP_HOT_NS goes cold.
 */
#include <errno.h>
#include <inttypes.h>
#include <sched.h>
#include <time.h>

#include <event2/event.h>

#include "base/log.h"
#include "clock.h"
#include "mmio_ring.h"
#include "net/conn.h"
#include "net/server.h"
#include "request/dispatch.h"
#include "request/ring.h"
#include "request/service.h"

/* The most spinning a ring may have ahead; what each op earns it. */
#define RING_SPIN_NS        50000
#define RING_SPIN_PER_OP_NS 20000
/* How long a ring out of spin may stay hot while others keep us spinning; the most any may idle. */
#define RING_KEEP_HOT_NS 1000000
/* A sched_yield() longer than this ran someone else (a bare one takes well under 1 us). */
#define RING_YIELD_GAVE_NS 2000
/*
 * A yield this long went to something that used a whole time slice; after
 * RING_SLICES_TO_BUSY of them within RING_SLICES_WINDOW_NS, for RING_BESIDE_BUSY_NS we stop
 * yielding, spin RING_BESIDE_BUSY_SPIN_NS after a ring's last op, and sleep.
 */
#define RING_YIELD_TO_BUSY_NS    500000
#define RING_SLICES_TO_BUSY      3
#define RING_SLICES_WINDOW_NS    50000000
#define RING_BESIDE_BUSY_NS      20000000
#define RING_BESIDE_BUSY_SPIN_NS 5000
/* Spinning longer than this in one go would delay socket clients and timers. */
#define RING_SLICE_NS 50000
/* Ops of one ring per pass: the others get their turn (what a pass runs at once, a protocol
 * promise: proto/mmio_ring.h). */
#define RING_OPS_PER_PASS MMIO_RING_ATOMIC_OPS

/*
 * Runs ring_spin_cb once the loop has looked at every fd and timer again. Not
 * event_active(): an event activated from its own callback runs again at once,
 * and a busy ring would then starve every other client, signal and timer.
 */
static void
schedule_spin(struct server *srv)
{
	static const struct timeval now = {0, 0};
	if (!event_pending(srv->ring_spin_ev, EV_TIMEOUT, NULL)) {
		evtimer_add(srv->ring_spin_ev, &now);
	}
}

static void
make_hot(struct conn *c)
{
	struct server *srv = c->server;
	if (!c->ring_hot) {
		c->ring_hot = true;
		TAILQ_INSERT_TAIL(&srv->hot_rings, c, hot_link);
	}
	schedule_spin(srv);
}

static void
make_cold(struct conn *c)
{
	if (c->ring_hot) {
		c->ring_hot = false;
		TAILQ_REMOVE(&c->server->hot_rings, c, hot_link);
	}
}

/*
 * One pass over c's ring: ops run (>= 0), or -1 when the client broke the
 * ring's protocol. Its connection is over then: the ring is served no more,
 * and the teardown runs from the loop, as for a hangup (conn.c's closed event).
 */
static int
serve(struct conn *c, uint64_t now)
{
	/* A crash in the middle of a pass leaves its ops undone (net/journal.h). */
	bool busy = c->server->journal.serving && ring_pending(c->session.ring);
	if (busy) {
		journal_serving(&c->server->journal, c->session.conn_id);
	}
	int n = dispatch_ring(&c->session, RING_OPS_PER_PASS);
	if (busy) {
		journal_serving(&c->server->journal, 0);
	}
	if (n < 0) {
		conn_ring_detach(c);
		event_active(c->closed_ev, EV_CLOSED, 1);
		return -1;
	}
	if (n > 0) {
		c->ring_last_op = now;
		uint64_t from = c->ring_spin_until > now ? c->ring_spin_until : now;
		uint64_t until = from + (uint64_t)n * RING_SPIN_PER_OP_NS;
		c->ring_spin_until = until < now + RING_SPIN_NS ? until : now + RING_SPIN_NS;
	}
	return n;
}

/* The hot rings' spin lasts ns longer: we did not run for that long. */
static void
give_back_spin(struct server *srv, uint64_t ns)
{
	struct conn *c;
	TAILQ_FOREACH(c, &srv->hot_rings, hot_link)
	{
		c->ring_spin_until += ns;
	}
}

/*
 * A yield of ns ended at now. Short ones went to clients sharing our CPU: the
 * time does not use up spin. Several whole time slices within a short while
 * went to a busy process beside us: yielding again would hand it one per op,
 * while sleeping lets a doorbell wake us ahead of it. (Clients sharing our
 * CPU take a whole slice now and then, seldom several so close together.)
 */
static void
note_yield(struct server *srv, uint64_t ns, uint64_t now)
{
	if (ns <= RING_YIELD_TO_BUSY_NS) {
		if (ns > RING_YIELD_GAVE_NS) {
			give_back_spin(srv, ns);
		}
		return;
	}
	if (now - srv->ring_slices_since > RING_SLICES_WINDOW_NS) {
		srv->ring_slices_since = now;
		srv->ring_slices_given = 0;
	}
	if (++srv->ring_slices_given >= RING_SLICES_TO_BUSY) {
		srv->ring_slices_given = 0;
		srv->ring_beside_busy_until = now + RING_BESIDE_BUSY_NS;
	}
}

static void
ring_spin_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct server *srv = arg;
	uint64_t start = now_ns();
	uint64_t now = start;
	bool any_work = false;
	while (!TAILQ_EMPTY(&srv->hot_rings)) {
		bool progress = false;
		bool spin_left = false;
		struct conn *next;
		for (struct conn *c = TAILQ_FIRST(&srv->hot_rings); c; c = next) {
			next = TAILQ_NEXT(c, hot_link);
			int n = serve(c, now);
			progress |= n > 0;
			spin_left |= n >= 0 && now <= c->ring_spin_until;
		}
		bool beside_busy = now < srv->ring_beside_busy_until;
		for (struct conn *c = TAILQ_FIRST(&srv->hot_rings); c; c = next) {
			next = TAILQ_NEXT(c, hot_link);
			uint64_t cold_at = c->ring_spin_until + (spin_left ? RING_KEEP_HOT_NS : 0);
			uint64_t idle = now - c->ring_last_op;
			if ((now > cold_at || idle > RING_KEEP_HOT_NS ||
			     (beside_busy && idle > RING_BESIDE_BUSY_SPIN_NS)) &&
			    ring_prepare_sleep(c->session.ring)) {
				make_cold(c);
			}
		}
		any_work |= progress;
		now = now_ns();
		if (now - start > RING_SLICE_NS) {
			break;
		}
		if (!progress && !beside_busy && !TAILQ_EMPTY(&srv->hot_rings)) {
			/* A client sharing our CPU cannot submit while we spin: let it run. */
			sched_yield();
			uint64_t back = now_ns();
			note_yield(srv, back - now, back);
			now = back;
		}
	}
	if (any_work) {
		service_figures_changed(srv->svc); /* ring loads may have faulted */
	}
	if (!TAILQ_EMPTY(&srv->hot_rings)) {
		schedule_spin(srv);
	}
}

static void
doorbell_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct conn *c = arg;
	if (ring_wake(c->session.ring) < 0) {
		/* The client closed its end: it can ring no more, and EOF would keep us here. */
		event_del(c->doorbell_ev);
		log_info(CONN_FMT ": closed its end of the ring's doorbell",
			 CONN_ARGS(&c->session));
	}
	int n = serve(c, now_ns());
	if (n < 0) {
		return;
	}
	/* A doorbell with nothing behind it buys no spinning. */
	if (c->ring_hot || n > 0 || !ring_prepare_sleep(c->session.ring)) {
		make_hot(c);
	}
}

int
conn_ring_attach(struct conn *c)
{
	struct server *srv = c->server;
	if (!srv->ring_spin_ev) {
		srv->ring_spin_ev = event_new(srv->base, -1, 0, ring_spin_cb, srv);
		if (!srv->ring_spin_ev) {
			return -ENOMEM;
		}
	}
	c->doorbell_ev = event_new(srv->base, c->session.ring->doorbell_fd, EV_READ | EV_PERSIST,
				   doorbell_cb, c);
	if (!c->doorbell_ev || event_add(c->doorbell_ev, NULL) < 0) {
		return -ENOMEM;
	}
	/* Hot from the start: the client opened it to submit right away. */
	c->ring_last_op = now_ns();
	c->ring_spin_until = c->ring_last_op + RING_SPIN_NS;
	make_hot(c);
	return 0;
}

void
conn_ring_detach(struct conn *c)
{
	make_cold(c);
	if (c->doorbell_ev) {
		event_free(c->doorbell_ev);
		c->doorbell_ev = NULL;
	}
}

void
conn_ring_server_close(struct server *srv)
{
	if (srv->ring_spin_ev) {
		event_free(srv->ring_spin_ev);
		srv->ring_spin_ev = NULL;
	}
}
