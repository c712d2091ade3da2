/*
 * The shared-memory ring spoken by hand (proto/mmio_ring.h, the client's side
 * in tests/helpers/ring_client.h), without libmmio-client: setup, the sealed
 * memfd, submitting and waiting with futexes, the doorbell, what a hostile
 * client can and cannot do to mmiod, and the max_rings limit.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/futex.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "daemon_fixture.h"
#include "mmio/client.h"
#include "mmio_limits.h"
#include "mmio_ring.h"
#include "raw_client.h"
#include "ring_client.h"

/* Failure guards only: a wait that would otherwise hang a broken daemon's test. */
#define GUARD_MS    10000
#define LOG_WAIT_MS 60000

#define SIM0 "regions = ( { name = \"sim0\"; type = \"mem\"; size = 0x1000; } );\n"
static const char default_conf[] = SIM0;
static const char one_ring_conf[] = "limits = { max_rings = 1; };\n" SIM0;
static const char no_ring_conf[] = "limits = { max_rings = 0; };\n" SIM0;

struct env {
	struct daemon_fixture daemon;
	char conf_path[160];
};

/* Starts mmiod on the config text in *state (default_conf if none). */
static int
setup(void **state)
{
	const char *conf = *state ? *state : default_conf;
	struct env *env = calloc(1, sizeof(*env));
	*state = NULL;
	if (!env || daemon_fixture_prepare(&env->daemon) < 0) {
		free(env);
		return -1;
	}
	snprintf(env->conf_path, sizeof(env->conf_path), "%s/mmiod.conf", env->daemon.dir);
	/* -v: waits below count the per-connection lines, which are debug. */
	const char *const args[] = {"--config", env->conf_path, "-v", NULL};
	FILE *f = fopen(env->conf_path, "w");
	int rc = f && fputs(conf, f) >= 0 ? 0 : -1;
	if ((f && fclose(f) != 0) || rc < 0 || daemon_fixture_start_args(&env->daemon, args) < 0) {
		unlink(env->conf_path);
		daemon_fixture_cleanup(&env->daemon);
		free(env);
		return -1;
	}
	*state = env;
	return 0;
}

/* Only cleans up after a failed test: each test asserts its daemon's clean stop itself. */
static int
teardown(void **state)
{
	struct env *env = *state;
	if (env) {
		if (env->daemon.pid > 0) {
			daemon_fixture_stop(&env->daemon);
		}
		unlink(env->conf_path);
		daemon_fixture_cleanup(&env->daemon);
		free(env);
	}
	return 0;
}

static void
stop_daemon(struct env *env)
{
	assert_int_equal(daemon_fixture_stop(&env->daemon), 0);
	unlink(env->conf_path);
}

/* ---- The socket side, by hand ---- */

static uint64_t next_request_id = 1;

/* Sends req and returns its reply (never NULL: the connection must stay up). */
static Mmio__Reply *
call(int fd, Mmio__Request *req)
{
	req->id = next_request_id++;
	assert_int_equal(raw_send(fd, req), 0);
	Mmio__Reply *reply = raw_recv(fd);
	assert_non_null(reply);
	assert_int_equal(reply->id, req->id);
	return reply;
}

/* A connection past Hello; *features gets what mmiod offers. */
static int
connect_hello(const struct env *env, uint32_t *features)
{
	int fd = raw_connect(env->daemon.socket_path);
	assert_true(fd >= 0);
	Mmio__Hello hello = MMIO__HELLO__INIT;
	hello.version = MMIO_PROTOCOL_VERSION;
	Mmio__Request req = MMIO__REQUEST__INIT;
	req.body_case = MMIO__REQUEST__BODY_HELLO;
	req.hello = &hello;
	Mmio__Reply *reply = call(fd, &req);
	assert_int_equal(reply->status, MMIO__STATUS__OK);
	assert_int_equal(reply->body_case, MMIO__REPLY__BODY_HELLO);
	if (features) {
		*features = reply->hello->features;
	}
	mmio__reply__free_unpacked(reply, NULL);
	return fd;
}

static uint64_t
acquire(int fd, uint64_t offset, uint64_t length)
{
	Mmio__Acquire body = MMIO__ACQUIRE__INIT;
	body.region = "sim0";
	body.offset = offset;
	body.length = length;
	Mmio__Request req = MMIO__REQUEST__INIT;
	req.body_case = MMIO__REQUEST__BODY_ACQUIRE;
	req.acquire = &body;
	Mmio__Reply *reply = call(fd, &req);
	assert_int_equal(reply->status, MMIO__STATUS__OK);
	uint64_t id = reply->lease->id;
	mmio__reply__free_unpacked(reply, NULL);
	return id;
}

/* A 64-bit Load (store false) or Store over the socket, which must succeed: the value loaded. */
static uint64_t
sock_access(int fd, uint64_t lease, uint64_t offset, bool store, uint64_t value)
{
	Mmio__Load load = MMIO__LOAD__INIT;
	Mmio__Store st = MMIO__STORE__INIT;
	Mmio__Request req = MMIO__REQUEST__INIT;
	load.lease = st.lease = lease;
	load.offset = st.offset = offset;
	load.width = st.width = 8;
	st.value = value;
	req.body_case = store ? MMIO__REQUEST__BODY_STORE : MMIO__REQUEST__BODY_LOAD;
	if (store) {
		req.store = &st;
	} else {
		req.load = &load;
	}
	Mmio__Reply *reply = call(fd, &req);
	assert_int_equal(reply->status, MMIO__STATUS__OK);
	uint64_t v = store ? 0 : reply->load->value;
	mmio__reply__free_unpacked(reply, NULL);
	return v;
}

#define sock_store64(fd, lease, offset, value) sock_access(fd, lease, offset, true, value)
#define sock_load64(fd, lease, offset)         sock_access(fd, lease, offset, false, 0)

/* Blocks until mmiod closes fd (guarded): 1 if it did. */
static int
wait_closed(int fd)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN | POLLRDHUP};
	assert_int_equal(poll(&pfd, 1, GUARD_MS), 1);
	return raw_wait_closed(fd);
}

/* ---- The ring, by hand ---- */

struct rring {
	int fd; /* the connection */
	int memfd;
	struct ring_client c; /* its doorbell is ours to close */
	uint64_t next_user_data;
};

/*
 * Sends RingSetup and receives its reply with recvmsg, keeping every fd that
 * came along (at most 4) in fds, -1 where none. Returns the reply; *n_fds how many.
 */
/* RingSetup.features the next rings ask for (the groups tests set it). */
static uint32_t setup_features;

static Mmio__Reply *
ring_setup_call(int fd, uint32_t entries, int fds[4], unsigned *n_fds)
{
	Mmio__RingSetup body = MMIO__RING_SETUP__INIT;
	body.entries = entries;
	body.features = setup_features;
	Mmio__Request req = MMIO__REQUEST__INIT;
	req.id = next_request_id++;
	req.body_case = MMIO__REQUEST__BODY_RING_SETUP;
	req.ring_setup = &body;
	assert_int_equal(raw_send(fd, &req), 0);

	static uint8_t buf[MMIO_MAX_FRAME];
	struct iovec iov = {.iov_base = buf, .iov_len = sizeof(buf)};
	union {
		char buf[CMSG_SPACE(4 * sizeof(int))];
		struct cmsghdr align;
	} control;
	struct msghdr msg = {.msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = control.buf,
			     .msg_controllen = sizeof(control.buf)};
	ssize_t n = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC);
	assert_true(n > 0);
	assert_int_equal(msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC), 0);
	*n_fds = 0;
	for (unsigned i = 0; i < 4; i++) {
		fds[i] = -1;
	}
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
			unsigned k = (unsigned)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
			for (unsigned i = 0; i < k && *n_fds < 4; i++) {
				memcpy(&fds[(*n_fds)++], CMSG_DATA(c) + i * sizeof(int),
				       sizeof(int));
			}
		}
	}
	Mmio__Reply *reply = mmio__reply__unpack(NULL, (size_t)n, buf);
	assert_non_null(reply);
	assert_int_equal(reply->id, req.id);
	return reply;
}

/* RingSetup must fail with status, detail containing needle, and no fd. */
static void
ring_setup_refused(int fd, Mmio__Status status, const char *needle)
{
	int fds[4];
	unsigned n_fds;
	Mmio__Reply *reply = ring_setup_call(fd, 8, fds, &n_fds);
	assert_int_equal(reply->status, status);
	assert_non_null(strstr(reply->detail, needle));
	assert_int_equal(n_fds, 0);
	mmio__reply__free_unpacked(reply, NULL);
}

/* Opens and maps a ring of (asked) entries on connection fd, checking all mmiod says. */
static void
ring_open(struct rring *r, int fd, uint32_t ask, uint32_t want_entries)
{
	int fds[4];
	unsigned n_fds;
	Mmio__Reply *reply = ring_setup_call(fd, ask, fds, &n_fds);
	assert_int_equal(reply->status, MMIO__STATUS__OK);
	assert_int_equal(reply->body_case, MMIO__REPLY__BODY_RING);
	assert_int_equal(n_fds, 2);
	*r = (struct rring){.fd = fd, .memfd = fds[0], .next_user_data = 1};
	uint32_t entries = reply->ring->entries;
	uint32_t size = reply->ring->size;
	/* Granted exactly what was asked of what mmiod knows. */
	assert_int_equal(reply->ring->features, setup_features & MMIO_RING_FEATURE_GROUPS);
	mmio__reply__free_unpacked(reply, NULL);
	assert_int_equal(entries, want_entries);
	assert_int_equal(size, MMIO_RING_SIZE(want_entries));

	/* The memfd first, sealed, of the size announced; then the doorbell, a socket. */
	struct stat st;
	assert_int_equal(fstat(r->memfd, &st), 0);
	assert_int_equal(st.st_size, size);
	int seals = fcntl(r->memfd, F_GET_SEALS);
	assert_true(seals >= 0);
	assert_int_equal(seals & (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL),
			 F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL);
	assert_int_equal(fstat(fds[1], &st), 0);
	assert_true(S_ISSOCK(st.st_mode));

	/* Magic, version, offsets and size: ring_client_map() checks them. */
	ring_client_map(&r->c, r->memfd, fds[1]);
	assert_int_equal(r->c.hdr->entries, want_entries);
	assert_int_equal(r->c.hdr->size, size);
	assert_int_equal(r->c.hdr->sq_tail, 0);
	assert_int_equal(r->c.hdr->cq_head, 0);
	assert_int_equal(r->c.hdr->cq_tail, 0);
}

static void
ring_close(struct rring *r)
{
	ring_client_unmap(&r->c);
	close(r->memfd);
	close(r->c.doorbell);
}

/* A submission (user_data is ring_submit's); mask only matters to MODIFY. */
static struct mmio_ring_sqe
sqe_of(uint8_t op, uint64_t lease, uint64_t offset, uint8_t width, uint64_t value, uint64_t mask)
{
	return ring_client_sqe(op, lease, offset, width, value, mask, 0);
}

/* Publishes sqe (its user_data set here); rings the doorbell if mmiod sleeps. Returns whether. */
static bool
ring_submit(struct rring *r, struct mmio_ring_sqe sqe)
{
	sqe.user_data = r->next_user_data++;
	int rang = ring_client_submit(&r->c, sqe);
	assert_true(rang >= 0);
	return rang;
}

/* Waits (on the cq_tail futex) for the next completion and consumes it. */
static struct mmio_ring_cqe
ring_wait(struct rring *r)
{
	ring_client_wait(&r->c, 1, GUARD_MS);
	return ring_client_reap(&r->c);
}

/* One op through the ring: its completion, with the user_data checked. */
static struct mmio_ring_cqe
ring_run(struct rring *r, struct mmio_ring_sqe sqe)
{
	uint64_t user_data = r->next_user_data;
	ring_submit(r, sqe);
	struct mmio_ring_cqe cqe = ring_wait(r);
	assert_int_equal(cqe.user_data, user_data);
	return cqe;
}

/* The ring's detail, which must explain the completion just consumed. */
static const char *
ring_detail(const struct rring *r, const struct mmio_ring_cqe *cqe)
{
	assert_int_equal(r->c.hdr->detail_user_data, cqe->user_data);
	assert_non_null(memchr(r->c.hdr->detail, '\0', MMIO_RING_DETAIL));
	return r->c.hdr->detail;
}

/* A connection with a lease on [offset, +length) and a ring of 8 entries. */
static uint64_t
open_with_ring(const struct env *env, struct rring *r, uint64_t offset, uint64_t length)
{
	int fd = connect_hello(env, NULL);
	uint64_t lease = acquire(fd, offset, length);
	ring_open(r, fd, 8, 8);
	return lease;
}

/* A well-behaved library client on the ring, for the daemon's health after hostile acts. */
struct bystander {
	struct mmio_client *c;
	struct mmio_lease *l;
	uint64_t n;
};

static void
bystander_start(const struct env *env, struct bystander *b)
{
	assert_int_equal(mmio_connect(env->daemon.socket_path, &b->c), 0);
	assert_int_equal(mmio_acquire(b->c, "sim0", 0xf00, 0x10, &b->l), 0);
	assert_int_equal(mmio_set_fast_path(b->c, MMIO_FAST_PATH_ON), 0);
	b->n = 0;
}

static void
bystander_works(struct bystander *b)
{
	uint64_t v = 0;
	b->n++;
	assert_int_equal(mmio_store64(b->l, 0, b->n), 0);
	assert_int_equal(mmio_load64(b->l, 0, &v), 0);
	assert_int_equal(v, b->n);
	assert_int_equal(mmio_fast_path_active(b->c), 1);
}

/* ---- 5. The raw ring ---- */

static void
test_ring_raw_setup_load_and_doorbell(void **state)
{
	struct env *env = *state;
	uint32_t features = 0;
	int fd = connect_hello(env, &features);
	assert_true(features & MMIO_FEATURE_RING);
	uint64_t lease = acquire(fd, 0x100, 0x100);
	sock_store64(fd, lease, 0x10, 0x1122334455667788ULL);

	struct rring r;
	ring_open(&r, fd, 5, 8); /* rounded up to a power of two */
	/* Sealed: neither shrinking (mmiod would SIGBUS) nor growing, nor unsealing. */
	assert_int_equal(ftruncate(r.memfd, 0), -1);
	assert_int_equal(ftruncate(r.memfd, (off_t)r.c.size - 1), -1);
	assert_int_equal(ftruncate(r.memfd, (off_t)r.c.size * 2), -1);
	assert_int_equal(fcntl(r.memfd, F_ADD_SEALS, F_SEAL_WRITE), -1);

	struct mmio_ring_cqe cqe = ring_run(&r, sqe_of(MMIO_RING_OP_LOAD, lease, 0x10, 8, 0, 0));
	assert_int_equal(cqe.status, MMIO__STATUS__OK);
	assert_int_equal(cqe.value, 0x1122334455667788ULL);
	/* A store through the ring is what the socket reads. */
	cqe = ring_run(&r, sqe_of(MMIO_RING_OP_STORE, lease, 0x18, 4, 0xcafe, 0));
	assert_int_equal(cqe.status, MMIO__STATUS__OK);
	assert_int_equal(sock_load64(fd, lease, 0x18), 0xcafe);

	/*
	 * Idle, mmiod sleeps: only the doorbell brings it back. A late doorbell of
	 * an earlier submission may wake it for an instant, and then ours need not
	 * ring: try again until one did.
	 */
	bool rang = false;
	for (uint64_t tries = 0; tries < 100 && !rang; tries++) {
		ring_client_wait_sleeping(&r.c, GUARD_MS);
		uint64_t user_data = r.next_user_data;
		uint64_t old = sock_load64(fd, lease, 0x18);
		rang = ring_submit(&r, sqe_of(MMIO_RING_OP_MODIFY, lease, 0x18, 4, tries, 0xff));
		cqe = ring_wait(&r);
		assert_int_equal(cqe.user_data, user_data);
		assert_int_equal(cqe.status, MMIO__STATUS__OK);
		assert_int_equal(cqe.value, old);
		assert_int_equal(sock_load64(fd, lease, 0x18), 0xca00 | tries);
	}
	assert_true(rang);

	/* A full SQ at once, completed in order; twice more, reusing every slot. */
	for (unsigned round = 0; round < 3; round++) {
		uint64_t first = r.next_user_data;
		for (uint32_t i = 0; i < r.c.entries; i++) {
			ring_submit(&r, sqe_of(MMIO_RING_OP_STORE, lease, 0x20 + 8 * i, 8,
					       round * 100 + i, 0));
		}
		for (uint32_t i = 0; i < r.c.entries; i++) {
			cqe = ring_wait(&r);
			assert_int_equal(cqe.user_data, first + i);
			assert_int_equal(cqe.status, MMIO__STATUS__OK);
		}
		assert_int_equal(sock_load64(fd, lease, 0x20 + 8 * 7), round * 100 + 7);
	}
	/* Barrier needs no bounds. */
	cqe = ring_run(&r, sqe_of(MMIO_RING_OP_BARRIER, lease, 0, 0, 0, 0));
	assert_int_equal(cqe.status, MMIO__STATUS__OK);
	ring_close(&r);
	close(fd);
	stop_daemon(env);
}

static void
test_ring_raw_bad_ops_answered(void **state)
{
	struct env *env = *state;
	struct rring r;
	struct mmio_ring_cqe cqe;

	/* An op that does not exist (and 0, the unset op). */
	uint64_t lease = open_with_ring(env, &r, 0, 0x10);
	cqe = ring_run(&r, sqe_of(99, lease, 0, 4, 0, 0));
	assert_int_equal(cqe.status, MMIO__STATUS__INVALID_ARGUMENT);
	assert_non_null(strstr(ring_detail(&r, &cqe), "ring op 99 is unknown"));
	cqe = ring_run(&r, sqe_of(0, lease, 0, 4, 0, 0));
	assert_int_equal(cqe.status, MMIO__STATUS__INVALID_ARGUMENT);
	/* A success afterwards leaves the detail of the failure, which names another op. */
	cqe = ring_run(&r, sqe_of(MMIO_RING_OP_LOAD, lease, 0, 4, 0, 0));
	assert_int_equal(cqe.status, MMIO__STATUS__OK);
	assert_int_not_equal(r.c.hdr->detail_user_data, cqe.user_data);
	ring_close(&r);
	close(r.fd);

	/* Width 3, as a load and as a store. */
	lease = open_with_ring(env, &r, 0, 0x10);
	cqe = ring_run(&r, sqe_of(MMIO_RING_OP_LOAD, lease, 0, 3, 0, 0));
	assert_int_equal(cqe.status, MMIO__STATUS__INVALID_ARGUMENT);
	assert_non_null(strstr(ring_detail(&r, &cqe), "width 3 is not 1, 2, 4 or 8 bytes"));
	assert_int_equal(cqe.value, 0);
	cqe = ring_run(&r, sqe_of(MMIO_RING_OP_STORE, lease, 0, 3, 1, 0));
	assert_int_equal(cqe.status, MMIO__STATUS__INVALID_ARGUMENT);
	ring_close(&r);
	close(r.fd);

	/* Another connection's lease: NOT_FOUND, and its register untouched. */
	int owner = connect_hello(env, NULL);
	uint64_t theirs = acquire(owner, 0x200, 8);
	sock_store64(owner, theirs, 0, 0x55);
	lease = open_with_ring(env, &r, 0, 0x10);
	cqe = ring_run(&r, sqe_of(MMIO_RING_OP_STORE, theirs, 0, 8, 0xaa, 0));
	assert_int_equal(cqe.status, MMIO__STATUS__NOT_FOUND);
	char want[64];
	snprintf(want, sizeof(want), "no lease %" PRIu64 " on this connection", theirs);
	assert_non_null(strstr(ring_detail(&r, &cqe), want));
	cqe = ring_run(&r, sqe_of(MMIO_RING_OP_MODIFY, theirs, 0, 8, 0xaa, UINT64_MAX));
	assert_int_equal(cqe.status, MMIO__STATUS__NOT_FOUND);
	cqe = ring_run(&r, sqe_of(MMIO_RING_OP_LOAD, theirs, 0, 8, 0, 0));
	assert_int_equal(cqe.status, MMIO__STATUS__NOT_FOUND);
	assert_int_equal(cqe.value, 0);
	assert_int_equal(sock_load64(owner, theirs, 0), 0x55);
	ring_close(&r);
	close(r.fd);
	close(owner);

	/* A second RingSetup: refused, no fds, and the first ring serves on. */
	lease = open_with_ring(env, &r, 0, 0x10);
	ring_setup_refused(r.fd, MMIO__STATUS__INVALID_ARGUMENT, "has its ring already");
	cqe = ring_run(&r, sqe_of(MMIO_RING_OP_STORE, lease, 0, 8, 3, 0));
	assert_int_equal(cqe.status, MMIO__STATUS__OK);
	assert_int_equal(sock_load64(r.fd, lease, 0), 3);
	ring_close(&r);
	close(r.fd);
	stop_daemon(env);
}

/* mmiod keeps its own copies of the header's fixed fields: scribbling over them changes nothing. */
/* Writes n entries (user_data set here) and publishes them with one store of sq_tail. */
static void
ring_submit_many(struct rring *r, struct mmio_ring_sqe *sqes, uint32_t n)
{
	uint32_t tail = r->c.hdr->sq_tail;
	for (uint32_t i = 0; i < n; i++) {
		sqes[i].user_data = r->next_user_data++;
		r->c.sq[(tail + i) & (r->c.entries - 1)] = sqes[i];
	}
	__atomic_store_n(&r->c.hdr->sq_tail, tail + n, __ATOMIC_SEQ_CST);
	assert_true(ring_client_kick(&r->c) >= 0);
}

static struct mmio_ring_sqe
flagged(struct mmio_ring_sqe sqe, uint8_t flags)
{
	sqe.flags = flags;
	return sqe;
}

/*
 * Groups (MMIO_RING_FEATURE_GROUPS): a group whose last entry is not published, or that is
 * longer than MMIO_RING_ATOMIC_OPS, is refused whole and runs nothing; a failing all-or-nothing
 * group changes nothing; a modify cannot be in one; and without the feature the flags mean
 * nothing (an older client's bytes there).
 */
static void
test_ring_raw_groups(void **state)
{
	struct env *env = *state;
	struct rring r;
	struct mmio_ring_sqe g[MMIO_RING_ATOMIC_OPS + 1];
	const uint8_t aon = MMIO_RING_F_ALL_OR_NOTHING;
	const uint8_t link = MMIO_RING_F_LINK;

	setup_features = MMIO_RING_FEATURE_GROUPS | 0x80000000u; /* an unknown bit: ignored */
	uint64_t lease = open_with_ring(env, &r, 0, 0x10);
	/* Its last entry still LINKed: both refused, neither stored. */
	g[0] = flagged(sqe_of(MMIO_RING_OP_STORE, lease, 0, 8, 0x11, 0), aon | link);
	g[1] = flagged(sqe_of(MMIO_RING_OP_STORE, lease, 8, 8, 0x22, 0), aon | link);
	ring_submit_many(&r, g, 2);
	struct mmio_ring_cqe cqe;
	for (int i = 0; i < 2; i++) {
		cqe = ring_wait(&r);
		assert_int_equal(cqe.user_data, g[i].user_data);
		assert_int_equal(cqe.status, MMIO__STATUS__INVALID_ARGUMENT);
	}
	/* The detail explains the last failure (the first's may be gone already). */
	assert_non_null(strstr(ring_detail(&r, &cqe), "not published whole"));
	assert_int_equal(sock_load64(r.fd, lease, 0), 0);
	assert_int_equal(sock_load64(r.fd, lease, 8), 0);

	/* A failing all-or-nothing group: the failure says why, the rest CANCELLED, nothing ran. */
	g[0] = flagged(sqe_of(MMIO_RING_OP_STORE, lease, 0, 8, 0x11, 0), aon | link);
	g[1] = flagged(sqe_of(MMIO_RING_OP_STORE, lease, 0x10, 8, 0x22, 0), aon | link);
	g[2] = flagged(sqe_of(MMIO_RING_OP_LOAD, lease, 8, 8, 0, 0), aon);
	ring_submit_many(&r, g, 3);
	cqe = ring_wait(&r);
	assert_int_equal(cqe.status, MMIO__STATUS__CANCELLED);
	cqe = ring_wait(&r);
	assert_int_equal(cqe.status, MMIO__STATUS__OUT_OF_RANGE);
	assert_non_null(strstr(ring_detail(&r, &cqe), "does not fit lease"));
	cqe = ring_wait(&r);
	assert_int_equal(cqe.status, MMIO__STATUS__CANCELLED);
	assert_int_equal(sock_load64(r.fd, lease, 0), 0);

	/* A modify in one: refused, and so the group. */
	g[0] = flagged(sqe_of(MMIO_RING_OP_STORE, lease, 0, 8, 0x11, 0), aon | link);
	g[1] = flagged(sqe_of(MMIO_RING_OP_MODIFY, lease, 8, 8, 1, 1), aon);
	ring_submit_many(&r, g, 2);
	assert_int_equal(ring_wait(&r).status, MMIO__STATUS__CANCELLED);
	cqe = ring_wait(&r);
	assert_int_equal(cqe.status, MMIO__STATUS__INVALID_ARGUMENT);
	assert_non_null(strstr(ring_detail(&r, &cqe), "all-or-nothing"));
	assert_int_equal(sock_load64(r.fd, lease, 0), 0);

	/* Passing, it runs whole; then the 8-entry ring cannot hold a chain that ends. */
	g[0] = flagged(sqe_of(MMIO_RING_OP_STORE, lease, 0, 8, 0x11, 0), aon | link);
	g[1] = flagged(sqe_of(MMIO_RING_OP_LOAD, lease, 0, 8, 0, 0), aon);
	ring_submit_many(&r, g, 2);
	assert_int_equal(ring_wait(&r).status, MMIO__STATUS__OK);
	cqe = ring_wait(&r);
	assert_int_equal(cqe.status, MMIO__STATUS__OK);
	assert_int_equal(cqe.value, 0x11);
	for (int i = 0; i < 8; i++) {
		g[i] = flagged(sqe_of(MMIO_RING_OP_STORE, lease, 8, 8, 0x33, 0), link);
	}
	ring_submit_many(&r, g, 8);
	for (int i = 0; i < 8; i++) {
		assert_int_equal(ring_wait(&r).status, MMIO__STATUS__INVALID_ARGUMENT);
	}
	assert_int_equal(sock_load64(r.fd, lease, 8), 0);
	ring_close(&r);
	close(r.fd);

	/* Not asked for: the flags are ignored, each entry runs alone. */
	setup_features = 0;
	lease = open_with_ring(env, &r, 0, 0x10);
	g[0] = flagged(sqe_of(MMIO_RING_OP_STORE, lease, 0, 8, 0x11, 0), aon | link);
	g[1] = flagged(sqe_of(MMIO_RING_OP_STORE, lease, 0x10, 8, 0x22, 0), aon | link);
	ring_submit_many(&r, g, 2);
	assert_int_equal(ring_wait(&r).status, MMIO__STATUS__OK);
	assert_int_equal(ring_wait(&r).status, MMIO__STATUS__OUT_OF_RANGE);
	assert_int_equal(sock_load64(r.fd, lease, 0), 0x11);
	ring_close(&r);
	close(r.fd);
	stop_daemon(env);
}

static void
test_ring_raw_scribbled_header_ignored(void **state)
{
	struct env *env = *state;
	struct rring r;
	uint64_t lease = open_with_ring(env, &r, 0, 0x10);
	r.c.hdr->entries = 1u << 30;
	r.c.hdr->sq_offset = 0xfffff000;
	r.c.hdr->cq_offset = 0;
	r.c.hdr->size = 0;
	memset(r.c.hdr->detail, 'x', sizeof(r.c.hdr->detail));
	struct mmio_ring_cqe cqe = ring_run(&r, sqe_of(MMIO_RING_OP_STORE, lease, 0, 8, 0x77, 0));
	assert_int_equal(cqe.status, MMIO__STATUS__OK);
	cqe = ring_run(&r, sqe_of(MMIO_RING_OP_LOAD, lease, 2, 8, 0, 0));
	assert_int_equal(cqe.status, MMIO__STATUS__UNALIGNED);
	assert_non_null(strstr(ring_detail(&r, &cqe), "not 8-byte aligned"));
	assert_int_equal(sock_load64(r.fd, lease, 0), 0x77);
	ring_close(&r);
	close(r.fd);
	stop_daemon(env);
}

enum out_of_step {
	SQ_TAIL_FAR_AHEAD, /* sq_tail = sq_head + entries + 1: more waiting than the SQ holds */
	SQ_TAIL_BEHIND,    /* sq_tail = sq_head - 1 */
	CQ_HEAD_PAST_TAIL, /* cq_head = cq_tail + 1: more consumed than completed */
};

/* Moves one of the client's indices out of step and rings: mmiod closes only that connection. */
static void
out_of_step_closes(struct env *env, enum out_of_step how)
{
	struct bystander b;
	bystander_start(env, &b);
	bystander_works(&b);
	struct rring r;
	uint64_t lease = open_with_ring(env, &r, 0, 0x10);
	struct mmio_ring_cqe cqe = ring_run(&r, sqe_of(MMIO_RING_OP_STORE, lease, 0, 8, 1, 0));
	assert_int_equal(cqe.status, MMIO__STATUS__OK);
	int closed = daemon_fixture_log_count(&env->daemon, "ring indices out of step");

	uint32_t sq_head = __atomic_load_n(&r.c.hdr->sq_head, __ATOMIC_ACQUIRE);
	uint32_t cq_tail = __atomic_load_n(&r.c.hdr->cq_tail, __ATOMIC_ACQUIRE);
	switch (how) {
	case SQ_TAIL_FAR_AHEAD:
		__atomic_store_n(&r.c.hdr->sq_tail, sq_head + r.c.entries + 1, __ATOMIC_SEQ_CST);
		break;
	case SQ_TAIL_BEHIND:
		__atomic_store_n(&r.c.hdr->sq_tail, sq_head - 1, __ATOMIC_SEQ_CST);
		break;
	case CQ_HEAD_PAST_TAIL:
		__atomic_store_n(&r.c.hdr->cq_head, cq_tail + 1, __ATOMIC_SEQ_CST);
		break;
	}
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	assert_int_equal(ring_client_doorbell(&r.c), 0);
	assert_true(wait_closed(r.fd));
	assert_int_equal(daemon_fixture_wait_log(&env->daemon, "ring indices out of step",
						 closed + 1, LOG_WAIT_MS),
			 closed + 1);
	/* Its lease went with it; the bystander never noticed. */
	bystander_works(&b);
	int fd = connect_hello(env, NULL);
	acquire(fd, 0, 0x10);
	close(fd);
	bystander_works(&b);
	ring_close(&r);
	close(r.fd);
	mmio_disconnect(b.c);
	stop_daemon(env);
}

static void
test_ring_raw_sq_tail_far_ahead_closes(void **state)
{
	out_of_step_closes(*state, SQ_TAIL_FAR_AHEAD);
}

static void
test_ring_raw_sq_tail_behind_closes(void **state)
{
	out_of_step_closes(*state, SQ_TAIL_BEHIND);
}

static void
test_ring_raw_cq_head_past_tail_closes(void **state)
{
	out_of_step_closes(*state, CQ_HEAD_PAST_TAIL);
}

/*
 * A full CQ: mmiod takes no more submissions and sleeps, until the client
 * makes room and, seeing it asleep, rings.
 */
static void
test_ring_raw_full_cq_waits_for_room(void **state)
{
	struct env *env = *state;
	struct rring r;
	uint64_t lease = open_with_ring(env, &r, 0, 0x100);
	for (uint32_t i = 0; i < r.c.entries; i++) {
		ring_submit(&r, sqe_of(MMIO_RING_OP_STORE, lease, 8 * i, 8, i + 1, 0));
	}
	/* Wait for all of them without taking any: the CQ is then full. */
	ring_client_wait(&r.c, r.c.entries, GUARD_MS);
	struct mmio_ring_sqe load = {
		.op = MMIO_RING_OP_LOAD, .lease = lease, .offset = 8 * 3, .width = 8};
	ring_submit(&r, load);
	/* A full CQ is no work: mmiod goes idle with that submission left on the SQ. */
	ring_client_wait_sleeping(&r.c, GUARD_MS);
	assert_int_equal(__atomic_load_n(&r.c.hdr->sq_head, __ATOMIC_ACQUIRE), r.c.entries);
	assert_int_equal(__atomic_load_n(&r.c.hdr->cq_tail, __ATOMIC_ACQUIRE), r.c.entries);
	for (uint32_t i = 0; i < r.c.entries; i++) {
		struct mmio_ring_cqe cqe = ring_wait(&r);
		assert_int_equal(cqe.status, MMIO__STATUS__OK);
		assert_int_equal(cqe.user_data, i + 1);
	}
	/* Room made while mmiod sleeps: ring, as after a submission. */
	assert_true(ring_client_kick(&r.c) >= 0);
	struct mmio_ring_cqe cqe = ring_wait(&r);
	assert_int_equal(cqe.status, MMIO__STATUS__OK);
	assert_int_equal(cqe.value, 4);
	ring_close(&r);
	close(r.fd);
	stop_daemon(env);
}

/* ---- 6. max_rings ---- */

static void
test_ring_limit_one_ring(void **state)
{
	struct env *env = *state;
	uint32_t features = 0;
	int first = connect_hello(env, &features);
	assert_true(features & MMIO_FEATURE_RING);
	struct rring r;
	ring_open(&r, first, 0, MMIO_RING_DEFAULT_ENTRIES);

	int second = connect_hello(env, NULL);
	ring_setup_refused(second, MMIO__STATUS__RESOURCE_EXHAUSTED, "rings are in use");
	/* A library client in AUTO does without, over the socket. */
	struct mmio_client *c;
	struct mmio_lease *l;
	assert_int_equal(mmio_connect(env->daemon.socket_path, &c), 0);
	assert_int_equal(mmio_acquire(c, "sim0", 0, 8, &l), 0);
	for (uint64_t i = 0; i < 3 * 8; i++) {
		uint64_t v;
		assert_int_equal(mmio_store64(l, 0, i), 0);
		assert_int_equal(mmio_load64(l, 0, &v), 0);
		assert_int_equal(v, i);
	}
	assert_int_equal(mmio_fast_path_active(c), 0);
	assert_int_equal(mmio_set_fast_path(c, MMIO_FAST_PATH_ON), -ENOSPC);
	mmio_disconnect(c);
	/* ... and so does one that asks for it straight away. */
	assert_int_equal(mmio_connect(env->daemon.socket_path, &c), 0);
	assert_int_equal(mmio_set_fast_path(c, MMIO_FAST_PATH_ON), -ENOSPC);
	assert_int_equal(mmio_fast_path_active(c), 0);
	mmio_disconnect(c);

	/* The ring goes with its connection: the third to close (after both library clients). */
	assert_int_equal(daemon_fixture_wait_log(&env->daemon, "disconnected", 2, LOG_WAIT_MS), 2);
	ring_close(&r);
	close(first);
	assert_int_equal(daemon_fixture_wait_log(&env->daemon, "disconnected", 3, LOG_WAIT_MS), 3);
	assert_int_equal(mmio_connect(env->daemon.socket_path, &c), 0);
	assert_int_equal(mmio_acquire(c, "sim0", 0, 8, &l), 0);
	assert_int_equal(mmio_set_fast_path(c, MMIO_FAST_PATH_ON), 0);
	assert_int_equal(mmio_fast_path_active(c), 1);
	uint64_t v;
	assert_int_equal(mmio_load64(l, 0, &v), 0);
	assert_int_equal(v, 3 * 8 - 1);
	/* Still one at most. */
	ring_setup_refused(second, MMIO__STATUS__RESOURCE_EXHAUSTED, "rings are in use");
	mmio_disconnect(c);
	close(second);
	stop_daemon(env);
}

static void
test_ring_limit_no_rings(void **state)
{
	struct env *env = *state;
	uint32_t features = MMIO_FEATURE_RING;
	int fd = connect_hello(env, &features);
	assert_int_equal(features & MMIO_FEATURE_RING, 0);
	ring_setup_refused(fd, MMIO__STATUS__PERMISSION_DENIED, "max_rings = 0");
	close(fd);

	struct mmio_client *c;
	struct mmio_lease *l;
	assert_int_equal(mmio_connect(env->daemon.socket_path, &c), 0);
	assert_int_equal(mmio_acquire(c, "sim0", 0, 8, &l), 0);
	assert_int_equal(mmio_set_fast_path(c, MMIO_FAST_PATH_ON), -EOPNOTSUPP);
	assert_int_equal(mmio_fast_path_active(c), 0);
	/* AUTO past its eighth op: still the socket, and every op works. */
	assert_int_equal(mmio_set_fast_path(c, MMIO_FAST_PATH_AUTO), 0);
	for (uint64_t i = 0; i < 3 * 8; i++) {
		uint64_t v;
		assert_int_equal(mmio_store64(l, 0, i), 0);
		assert_int_equal(mmio_load64(l, 0, &v), 0);
		assert_int_equal(v, i);
	}
	assert_int_equal(mmio_fast_path_active(c), 0);
	assert_int_equal(daemon_fixture_log_count(&env->daemon, "entries open"), 0);
	mmio_disconnect(c);
	stop_daemon(env);
}

/* ---- mmiod beside a busy process ---- */

/* Ring ops the busy-process test runs with the hog on mmiod's CPU. */
#define BUSY_OPS 20000

/* How often pid left its CPU while it could have run on (sched_yield counts): 0 if unknown. */
static uint64_t
forced_switches(pid_t pid)
{
	char path[64], line[128];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "re");
	uint64_t n = 0;
	while (f && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "nonvoluntary_ctxt_switches: %" SCNu64, &n) == 1) {
			break;
		}
	}
	if (f) {
		fclose(f);
	}
	return n;
}

/* Waits, without asserting, until mmiod sleeps on r's ring; false after guard_ms. */
static bool
became_idle(struct rring *r, int guard_ms)
{
	struct timespec start;
	clock_gettime(CLOCK_MONOTONIC, &start);
	uint32_t *word = &r->c.hdr->daemon_sleeping;
	while (__atomic_load_n(word, __ATOMIC_SEQ_CST) == 0) {
		struct timespec now;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if ((now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000 >
		    guard_ms) {
			return false;
		}
		struct timespec slice = {.tv_nsec = 100000000};
		syscall(SYS_futex, word, FUTEX_WAIT, 0, &slice, NULL, 0);
	}
	return true;
}

/*
 * Regression: mmiod spinning on a busy ring yielded its CPU whenever a pass
 * found nothing new, and with a process that never sleeps on that CPU each
 * yield handed it a whole time slice: one per op (here 20,000 ops took about
 * 55 s). Beside a busy process mmiod must stop yielding, and still go to sleep
 * when the ring is idle.
 */
static void
test_ring_idle_beside_busy_process(void **state)
{
	struct env *env = *state;
	struct rring r;
	uint64_t lease = open_with_ring(env, &r, 0, 0x10);
	struct mmio_ring_cqe cqe = ring_run(&r, sqe_of(MMIO_RING_OP_LOAD, lease, 0, 4, 0, 0));
	assert_int_equal(cqe.status, MMIO__STATUS__OK);
	assert_true(became_idle(&r, GUARD_MS));

	/* mmiod and a process that never sleeps share one CPU: one of ours. */
	cpu_set_t ours, one;
	assert_int_equal(sched_getaffinity(0, sizeof(ours), &ours), 0);
	int cpu = 0;
	while (!CPU_ISSET(cpu, &ours)) {
		cpu++;
	}
	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	assert_int_equal(sched_setaffinity(env->daemon.pid, sizeof(one), &one), 0);
	pid_t hog = fork();
	assert_true(hog >= 0);
	if (hog == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (sched_setaffinity(0, sizeof(one), &one) < 0) {
			_exit(1);
		}
		for (;;) {
		}
	}
	/*
	 * Ops back to back, long enough that mmiod has had its share of the CPU
	 * (a process fresh from sleep would not yield to the hog at all); then,
	 * its spin over, it must sleep again, hog or not.
	 */
	uint64_t switched_before = forced_switches(env->daemon.pid);
	uint32_t failed = 0;
	unsigned doorbells = 0;
	for (unsigned i = 0; i < BUSY_OPS; i++) {
		doorbells += ring_submit(&r, sqe_of(MMIO_RING_OP_LOAD, lease, 0, 4, 0, 0));
		ring_client_spin(&r.c);
		uint32_t head = r.c.hdr->cq_head;
		failed += r.c.cq[head & (r.c.entries - 1)].status != MMIO__STATUS__OK;
		__atomic_store_n(&r.c.hdr->cq_head, head + 1, __ATOMIC_RELEASE);
	}
	uint64_t switched = forced_switches(env->daemon.pid) - switched_before;
	bool idle = became_idle(&r, GUARD_MS);
	print_message("%u of %u ops rang the doorbell; mmiod gave up its CPU %" PRIu64 " times\n",
		      doorbells, BUSY_OPS, switched);
	kill(hog, SIGKILL);
	assert_int_equal(waitpid(hog, NULL, 0), hog);
	assert_int_equal(failed, 0);
	/* Yielding to the hog once per op gave it up BUSY_OPS times; a few preemptions are fine. */
	assert_true(switched < BUSY_OPS / 10);
	assert_true(idle);
	ring_close(&r);
	close(r.fd);
	stop_daemon(env);
}

/*
 * Regression (security): the doorbell passed was a copy of mmiod's own
 * eventfd, sharing its open file description and so its O_NONBLOCK. A client
 * that cleared it, rang, and read the count back as soon as it was readable
 * won the race now and then (129 and 283 tries when found), and mmiod's read
 * then blocked its only thread for good. Here the client does that as hard as
 * it can; a bystander on another connection must be served all along, and the
 * doorbell never gives the client anything to read.
 */
static void
test_ring_doorbell_cannot_block_mmiod(void **state)
{
	struct env *env = *state;
	struct rring r;
	uint64_t lease = open_with_ring(env, &r, 0x100, 0x10);
	struct bystander b;
	bystander_start(env, &b);
	int bell = r.c.doorbell;
	assert_int_equal(fcntl(bell, F_SETFL, 0), 0); /* blocking, on the client's copy */
	unsigned took = 0;
	for (unsigned i = 0; i < 2000; i++) {
		uint64_t one = 1;
		assert_int_equal(write(bell, &one, sizeof(one)), sizeof(one));
		struct pollfd pfd = {.fd = bell, .events = POLLIN};
		if (poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLIN)) {
			uint64_t count;
			took += read(bell, &count, sizeof(count)) > 0;
		}
		if (i % 100 == 0) {
			/* Socket request and ring op of another client: mmiod is not stuck. */
			bystander_works(&b);
		}
	}
	assert_int_equal(took, 0);
	/* Our own ring still works after all that ringing. */
	struct mmio_ring_cqe cqe = ring_run(&r, sqe_of(MMIO_RING_OP_STORE, lease, 0, 4, 7, 0));
	assert_int_equal(cqe.status, MMIO__STATUS__OK);
	assert_int_equal(sock_load64(r.fd, lease, 0) & 0xffffffff, 7);
	bystander_works(&b);
	mmio_disconnect(b.c);
	ring_close(&r);
	close(r.fd);
	stop_daemon(env);
}

/*
 * A client that closes its end of the doorbell leaves mmiod's end at EOF, which
 * stays readable: mmiod must stop watching it rather than spin on it, and its
 * ring still runs while mmiod is up (and the connection is served).
 */
static void
test_ring_doorbell_closed_by_client(void **state)
{
	struct env *env = *state;
	struct rring r;
	uint64_t lease = open_with_ring(env, &r, 0x100, 0x10);
	ring_client_wait_sleeping(&r.c, GUARD_MS);
	close(r.c.doorbell);
	r.c.doorbell = -1;
	static const char closed[] = "closed its end of the ring's doorbell";
	assert_int_equal(daemon_fixture_wait_log(&env->daemon, closed, 1, LOG_WAIT_MS), 1);
	/* Many turns of the loop later it was seen once: mmiod is not spinning on the EOF. */
	for (unsigned i = 0; i < 100; i++) {
		sock_store64(r.fd, lease, 0, i);
		assert_int_equal(sock_load64(r.fd, lease, 0), i);
	}
	assert_int_equal(daemon_fixture_log_count(&env->daemon, closed), 1);
	ring_close(&r);
	close(r.fd);
	stop_daemon(env);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ring_raw_setup_load_and_doorbell, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_ring_raw_bad_ops_answered, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ring_raw_scribbled_header_ignored, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_ring_raw_sq_tail_far_ahead_closes, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_ring_raw_sq_tail_behind_closes, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_ring_raw_cq_head_past_tail_closes, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_ring_raw_full_cq_waits_for_room, setup,
						teardown),
		cmocka_unit_test_prestate_setup_teardown(test_ring_limit_one_ring, setup, teardown,
							 (void *)one_ring_conf),
		cmocka_unit_test_prestate_setup_teardown(test_ring_limit_no_rings, setup, teardown,
							 (void *)no_ring_conf),
		cmocka_unit_test_setup_teardown(test_ring_idle_beside_busy_process, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_ring_doorbell_cannot_block_mmiod, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_ring_raw_groups, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ring_doorbell_closed_by_client, setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
