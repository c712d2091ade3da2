/*
 * The ring in mmiod's event loop (conn_ring.c): a client keeping its ring busy
 * must not keep the loop from its other fds. A real conn and event_base; the
 * ring's client is a thread of the test submitting loads back to back.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>

#include "config/conf.h"
#include "device/backend.h"
#include "device/region.h"
#include "device/region_table.h"
#include "mmio_limits.h"
#include "mmio_ring.h"
#include "net/conn.h"
#include "net/server.h"
#include "request/dispatch.h"
#include "request/service.h"
#include "ring_client.h"
#include "service_config.h"

/* Loads the client thread runs; each needs a round trip, so they span many spin slices. */
#define CLIENT_OPS 100000u
/*
 * The loop must look at its fds at least this often while the ring is busy.
 * A slice lasts 50 us and a round trip through shared memory takes more than
 * 100 ns, so a slice runs at most ~500 loads: CLIENT_OPS / 500 = 200 looks at
 * the least; this asks for a quarter of that.
 */
#define MIN_LOOKS_WHILE_BUSY 50

struct loop_fixture {
	struct region_table table;
	struct service svc;
	struct server srv;
	struct event_base *base;
	struct conn *conn;
	int client_fd;
	uint64_t lease_id;
	struct ring_client ring;   /* the client's own mapping; its doorbell is ours to close */
	_Atomic uint32_t done_ops; /* the client thread's progress */
	int done_pipe[2];          /* the client thread writes one byte when it is through */
	int busy_pipe[2];          /* always readable: the loop runs its callback each time round */
	unsigned looks_while_busy;
	int client_rc;
};

static Mmio__Reply
run(struct loop_fixture *f, Mmio__Request *req, struct reply_scratch *scratch)
{
	Mmio__Reply reply = MMIO__REPLY__INIT;
	assert_int_equal(dispatch(&f->conn->session, req, &reply, scratch), DISPATCH_REPLY);
	assert_int_equal(reply.status, MMIO__STATUS__OK);
	return reply;
}

/* Hello, Acquire and RingSetup on the conn, as conn_read_cb would run them. */
static void
open_session(struct loop_fixture *f)
{
	struct reply_scratch scratch;
	Mmio__Hello hello = MMIO__HELLO__INIT;
	hello.version = MMIO_PROTOCOL_VERSION;
	Mmio__Request req = MMIO__REQUEST__INIT;
	req.body_case = MMIO__REQUEST__BODY_HELLO;
	req.hello = &hello;
	run(f, &req, &scratch);
	reply_finish(&scratch);
	/*
	 * conn_read_cb disarms the handshake timer after Hello; left armed, it closes
	 * the conn 5 s in, which a slow run (TSan on a busy CPU) outlasts.
	 */
	event_free(f->conn->hello_timer);
	f->conn->hello_timer = NULL;

	Mmio__Acquire acquire = MMIO__ACQUIRE__INIT;
	acquire.region = "mem";
	acquire.length = 64;
	req.body_case = MMIO__REQUEST__BODY_ACQUIRE;
	req.acquire = &acquire;
	Mmio__Reply reply = run(f, &req, &scratch);
	f->lease_id = reply.lease->id;
	reply_finish(&scratch);

	Mmio__RingSetup setup = MMIO__RING_SETUP__INIT;
	req.body_case = MMIO__REQUEST__BODY_RING_SETUP;
	req.ring_setup = &setup;
	run(f, &req, &scratch);
	ring_client_map(&f->ring, scratch.pass_fds[0], scratch.pass_fds[1]);
	close(scratch.pass_fds[0]);
	reply_finish(&scratch);
	assert_int_equal(conn_ring_attach(f->conn), 0);
}

static int
setup(void **state)
{
	struct loop_fixture *f = test_calloc(1, sizeof(*f));
	struct backend *b;
	char err[256] = "";
	assert_int_equal(backend_open(&(struct region_spec){.type = "mem", .size = 4096}, &b, err,
				      sizeof(err)),
			 0);
	f->table.regions[0] = region_create("mem", b);
	assert_non_null(f->table.regions[0]);
	f->table.count = 1;
	struct mmiod_config cfg;
	conf_init(&cfg);
	service_init(&f->svc, &f->table, &cfg, (uid_t)-1);
	conf_finish(&cfg);
	f->base = event_base_new();
	assert_non_null(f->base);
	f->svc.base = f->base;
	f->srv.base = f->base;
	f->srv.svc = &f->svc;
	f->srv.listen_fd = -1;
	f->srv.next_conn_id = 1;
	TAILQ_INIT(&f->srv.conns);
	TAILQ_INIT(&f->srv.hot_rings);
	arena_init(&f->srv.arena);

	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv),
			 0);
	f->client_fd = sv[1];
	struct identity root = {.pid = getpid(), .uid = 0, .gid = 0};
	assert_int_equal(conn_create(&f->srv, sv[0], &root, false), 0);
	f->conn = TAILQ_FIRST(&f->srv.conns);
	open_session(f);
	assert_int_equal(pipe2(f->done_pipe, O_CLOEXEC), 0);
	assert_int_equal(pipe2(f->busy_pipe, O_CLOEXEC), 0);
	assert_int_equal(write(f->busy_pipe[1], "x", 1), 1);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct loop_fixture *f = *state;
	ring_client_unmap(&f->ring);
	close(f->ring.doorbell);
	server_close(&f->srv);
	close(f->client_fd);
	close(f->done_pipe[0]);
	close(f->done_pipe[1]);
	close(f->busy_pipe[0]);
	close(f->busy_pipe[1]);
	event_base_free(f->base);
	region_table_close(&f->table);
	test_free(f);
	return 0;
}

/* The ring's client: CLIENT_OPS loads back to back, each awaited by spinning. */
static void *
client_main(void *arg)
{
	struct loop_fixture *f = arg;
	for (uint32_t i = 0; i < CLIENT_OPS && f->client_rc == 0; i++) {
		int rang = ring_client_submit(
			&f->ring, ring_client_sqe(MMIO_RING_OP_LOAD, f->lease_id, 0, 4, 0, 0, i));
		if (rang < 0) {
			f->client_rc = rang;
		}
		/* Spinning, not sleeping: the ring stays busy for mmiod's loop. */
		ring_client_spin(&f->ring);
		struct mmio_ring_cqe cqe = ring_client_reap(&f->ring);
		if (cqe.status != MMIO__STATUS__OK || cqe.user_data != i) {
			f->client_rc = -EPROTO;
		}
		atomic_store(&f->done_ops, i + 1);
	}
	if (write(f->done_pipe[1], "x", 1) != 1) {
		f->client_rc = -errno;
	}
	return NULL;
}

/* Runs every time the loop looks at its fds: it counts the looks made mid-run. */
static void
busy_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct loop_fixture *f = arg;
	uint32_t done = atomic_load(&f->done_ops);
	if (done > 0 && done < CLIENT_OPS) {
		f->looks_while_busy++;
	}
}

static void
done_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	event_base_loopbreak(arg);
}

/*
 * Regression: the spin re-armed itself with event_active(), which libevent
 * runs again within the same pass, so while one client kept its ring busy
 * mmiod looked at no fd: other clients, signals and timers waited until the
 * client paused.
 */
static void
test_busy_ring_leaves_the_loop_its_fds(void **state)
{
	struct loop_fixture *f = *state;
	struct event *busy = event_new(f->base, f->busy_pipe[0], EV_READ | EV_PERSIST, busy_cb, f);
	struct event *done = event_new(f->base, f->done_pipe[0], EV_READ, done_cb, f->base);
	assert_non_null(busy);
	assert_non_null(done);
	assert_int_equal(event_add(busy, NULL), 0);
	assert_int_equal(event_add(done, NULL), 0);
	pthread_t client;
	assert_int_equal(pthread_create(&client, NULL, client_main, f), 0);
	assert_int_equal(event_base_dispatch(f->base), 0);
	assert_int_equal(pthread_join(client, NULL), 0);
	event_free(busy);
	event_free(done);
	assert_int_equal(f->client_rc, 0);
	assert_int_equal(atomic_load(&f->done_ops), CLIENT_OPS);
	print_message("loop looked at its fds %u times while the ring was busy\n",
		      f->looks_while_busy);
	assert_true(f->looks_while_busy >= MIN_LOOKS_WHILE_BUSY);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_busy_ring_leaves_the_loop_its_fds, setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
