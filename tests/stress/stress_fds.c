/*
 * Descriptors as a weapon (security issue): what a client of another uid can
 * do to mmiod with SCM_RIGHTS and with descriptors mmiod hands out, checked by
 * a victim's requests being answered while the attack goes on.
 *
 * - A passed descriptor whose close() sleeps: a TCP socket with SO_LINGER and
 *   unsent data. mmiod used to close such fds on its only thread (both those
 *   attached to a frame it read, and those still queued on a connection it
 *   closed), and every client waited for the linger time. Where the kernel can
 *   refuse them (SO_PASSRIGHTS, Linux >= 6.16), sending one must fail with
 *   EPERM; with $MMIOD_NO_SO_PASSRIGHTS (as on older kernels) mmiod must serve
 *   on while the close sleeps elsewhere.
 *
 * - Descriptors in replies left unread: each IrqSubscribe's reply carries a
 *   pipe end, and a client alternating subscribe and unsubscribe without
 *   reading made mmiod hold one more fd per pair (its fd table filled in about
 *   a second), all charged to mmiod's user once sent. Now limited per
 *   connection, per uid and in all (mmio_limits.h); a victim of another uid
 *   still gets its ring.
 * - Reply-queue memory: each reply of a few bytes is its own heap chunk of
 *   ~80 bytes, but was counted as its payload, so a client not reading held
 *   ~12x max_queued_bytes.
 *
 * Needs root (the attacker takes another uid); exits 77 (skipped) otherwise.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <arpa/inet.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "core/limits.h"
#include "daemon_fixture.h"
#include "hw_tree.h"
#include "linger_sock.h"
#include "mmio/client.h"
#include "mmio_limits.h"
#include "raw_client.h"
#include "run_as.h"
#include "stress_util.h"
#include "wire.h"

#define ATTACKER_UID 4711
#define VICTIM_UID   4712
/* Failure guards only: how long a victim waits before the test calls mmiod stuck. */
#define GUARD_MS 20000

static const char conf_text[] =
	"regions = ( { name = \"sim0\"; type = \"mem\"; size = 0x1000;\n"
	"    grants = ( { user = 4711; access = \"rw\"; offset = 0x0; length = 0x10; } ); } );\n";

struct env {
	struct daemon_fixture daemon;
	char conf_path[160];
	bool fallback; /* mmiod told not to use SO_PASSRIGHTS */
};

static int
start_conf(struct env *env, bool fallback, const char *conf)
{
	env->fallback = fallback;
	if (daemon_fixture_prepare(&env->daemon) < 0) {
		return -1;
	}
	snprintf(env->conf_path, sizeof(env->conf_path), "%s/mmiod.conf", env->daemon.dir);
	FILE *f = fopen(env->conf_path, "w");
	int rc = f && fputs(conf, f) >= 0 ? 0 : -1;
	if ((f && fclose(f) != 0) || rc < 0) {
		return -1;
	}
	/* -v: waits below count the per-connection lines, which are debug. */
	const char *const args[] = {"--config", env->conf_path, "-v", NULL};
	if (fallback) {
		setenv("MMIOD_NO_SO_PASSRIGHTS", "1", 1);
	}
	rc = daemon_fixture_start_args(&env->daemon, args);
	unsetenv("MMIOD_NO_SO_PASSRIGHTS");
	if (rc < 0 || chmod(env->daemon.dir, 0755) < 0 ||
	    chmod(env->daemon.socket_path, 0666) < 0) {
		return -1;
	}
	return 0;
}

static int
start(struct env *env, bool fallback)
{
	return start_conf(env, fallback, conf_text);
}

static void
stop(struct env *env)
{
	assert_int_equal(daemon_fixture_stop(&env->daemon), 0);
	unlink(env->conf_path);
}

/* The attacker, as another uid: what to do with the sleeper. */
enum attack {
	ATTACH_TO_FRAME, /* a ListRegions frame carrying it, which mmiod reads */
	QUEUE_AT_CLOSE,  /* a frame carrying it that mmiod never reads: it closes the connection */
};

/* Takes ATTACKER_UID for good (in a child). */
static int
become_attacker(void)
{
	gid_t gid = ATTACKER_UID;
	return setgroups(0, NULL) < 0 || setgid(gid) < 0 || setuid(ATTACKER_UID) < 0 ? -1 : 0;
}

static int
send_hello(int fd)
{
	return raw_hello(fd, MMIO_PROTOCOL_VERSION) == MMIO__STATUS__OK ? 0 : -1;
}

/*
 * Child: takes ATTACKER_UID, acquires a lease and starts a poll on it that
 * never succeeds, so mmiod reads nothing more of this connection meanwhile.
 * Then it sends tcp attached to a ListRegions frame, drops its own copy (from
 * then on mmiod holds the last one, whose close sleeps) and writes the lease id
 * to report_fd. ATTACH_TO_FRAME: it reads replies until the ListRegions one,
 * which comes once the parent revoked the lease (ending the poll) and mmiod
 * read the frame, and hangs up. QUEUE_AT_CLOSE: it hangs up at once, so mmiod
 * closes the connection with the frame unread. Where refuse says the kernel
 * refuses passed fds, the send must fail with EPERM. Exit 0 if all went so.
 */
static int
attacker(const char *path, int tcp, enum attack how, bool refuse, int report_fd)
{
	if (become_attacker() < 0) {
		return 1;
	}
	int fd = raw_connect(path);
	if (fd < 0 || send_hello(fd) < 0) {
		return 1;
	}
	Mmio__Request req = MMIO__REQUEST__INIT;
	Mmio__Acquire acq = MMIO__ACQUIRE__INIT;
	acq.region = "sim0";
	acq.length = 8;
	req.id = 2;
	req.body_case = MMIO__REQUEST__BODY_ACQUIRE;
	req.acquire = &acq;
	Mmio__Reply *reply = raw_send(fd, &req) == 0 ? raw_recv(fd) : NULL;
	if (!reply || reply->status != MMIO__STATUS__OK) {
		return 1;
	}
	uint64_t lease = reply->lease->id;
	mmio__reply__free_unpacked(reply, NULL);
	Mmio__Poll poll_req = MMIO__POLL__INIT;
	poll_req.lease = lease;
	poll_req.width = 4;
	poll_req.mask = 1;
	poll_req.value = 1; /* sim0 starts zeroed */
	poll_req.timeout_ms = 60000;
	req.id = 3;
	req.body_case = MMIO__REQUEST__BODY_POLL;
	req.poll = &poll_req;
	if (raw_send(fd, &req) < 0) {
		return 1;
	}
	Mmio__ListRegions list = MMIO__LIST_REGIONS__INIT;
	req.id = 4;
	req.body_case = MMIO__REQUEST__BODY_LIST_REGIONS;
	req.list_regions = &list;
	size_t len;
	const void *frame = raw_pack(&req, &len);
	int rc = raw_send_fds(fd, frame, len, &tcp, 1);
	if (refuse ? rc != -EPERM : rc < 0) {
		return 1;
	}
	if (!refuse) {
		close(tcp); /* mmiod's is the last copy now */
	} /* else ours is: it goes at exit, which does not linger (a close() would) */
	if (write(report_fd, &lease, sizeof(lease)) != (ssize_t)sizeof(lease)) {
		return 1;
	}
	if (how == ATTACH_TO_FRAME) {
		uint64_t last = refuse ? 3 : 4;
		while ((reply = raw_recv(fd)) != NULL) {
			bool done = reply->id == last;
			mmio__reply__free_unpacked(reply, NULL);
			if (done) {
				break;
			}
		}
	}
	close(fd);
	return 0;
}

static void
run_attack(struct env *env, enum attack how)
{
	bool refuse = !env->fallback && raw_kernel_refuses_fds();
	struct linger_sock s;
	linger_open(&s, 120); /* far longer than GUARD_MS: a late pass is a fail */
	int report[2];
	assert_int_equal(pipe2(report, O_CLOEXEC), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(report[0]);
		_exit(attacker(env->daemon.socket_path, s.tcp, how, refuse, report[1]));
	}
	close(report[1]);
	close(s.tcp);
	uint64_t lease = 0;
	struct pollfd pfd = {.fd = report[0], .events = POLLIN};
	assert_int_equal(poll(&pfd, 1, GUARD_MS), 1);
	assert_int_equal(read(report[0], &lease, sizeof(lease)), sizeof(lease));
	close(report[0]);
	if (how == ATTACH_TO_FRAME) {
		/* Ends the poll: mmiod reads on, and takes the frame with the sleeper. */
		struct mmio_client *admin;
		assert_int_equal(mmio_connect(env->daemon.socket_path, &admin), 0);
		assert_int_equal(mmio_revoke(admin, lease), 0);
		mmio_disconnect(admin);
	}
	/*
	 * mmiod logs the attacker's hangup once it has dropped the connection, after
	 * it let go of the sleeper: a loop that slept in its close() logs it late.
	 */
	int logged = daemon_fixture_wait_log(&env->daemon, "disconnected",
					     how == ATTACH_TO_FRAME ? 2 : 1, GUARD_MS);
	/* A victim of another uid (root here) is served while that close sleeps. */
	int served = 0;
	for (int i = 0; i < 3; i++) {
		served += raw_visit(env->daemon.socket_path, GUARD_MS) == 0;
	}
	linger_release(&s, GUARD_MS);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(logged, how == ATTACH_TO_FRAME ? 2 : 1);
	assert_int_equal(served, 3);
}

/* One attack on a fresh mmiod: the kernel refusing passed fds where it can, or told not to. */
static void
attack_case(bool fallback, enum attack how)
{
	struct env env;
	assert_int_equal(start(&env, fallback), 0);
	run_attack(&env, how);
	stop(&env);
}

static void
test_fd_attached_refused_or_closed_aside(void **state)
{
	(void)state;
	attack_case(false, ATTACH_TO_FRAME);
}

static void
test_fd_attached_closed_aside_without_passrights(void **state)
{
	(void)state;
	attack_case(true, ATTACH_TO_FRAME);
}

static void
test_fd_queued_at_close_refused_or_closed_aside(void **state)
{
	(void)state;
	attack_case(false, QUEUE_AT_CLOSE);
}

static void
test_fd_queued_at_close_closed_aside_without_passrights(void **state)
{
	(void)state;
	attack_case(true, QUEUE_AT_CLOSE);
}

/*
 * A connection mmiod refuses at accept (max_connections reached) is closed at
 * once, releasing what its client queued on it before it was accepted: a
 * sleeper among them made that close() sleep on the loop thread.
 */
static void
test_fd_queued_before_refusal_closed_aside_without_passrights(void **state)
{
	(void)state;
	static const char one_conn[] =
		"limits = { max_connections = 1; };\n"
		"regions = ( { name = \"sim0\"; type = \"mem\"; size = 0x1000; } );\n";
	struct env env;
	assert_int_equal(start_conf(&env, true, one_conn), 0);
	int holder = raw_connect(env.daemon.socket_path);
	assert_true(holder >= 0);
	assert_int_equal(send_hello(holder), 0);
	struct linger_sock s;
	linger_open(&s, 120);
	/* mmiod stopped: the attacker's connection waits to be accepted with the sleeper queued. */
	assert_int_equal(kill(env.daemon.pid, SIGSTOP), 0);
	int sent[2];
	assert_int_equal(pipe2(sent, O_CLOEXEC), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (become_attacker() < 0) {
			_exit(1);
		}
		int fd = raw_connect(env.daemon.socket_path);
		int rc = fd >= 0 ? raw_send_fds(fd, "x", 1, &s.tcp, 1) : -1;
		if (rc < 0) {
			_exit(1); /* ours is the last copy: exit, which does not linger */
		}
		close(s.tcp); /* the copy queued for mmiod is the last one now */
		_exit(write(sent[1], "s", 1) == 1 && raw_wait_closed(fd) ? 0 : 1);
	}
	close(s.tcp);
	close(sent[1]);
	char c;
	struct pollfd pfd = {.fd = sent[0], .events = POLLIN};
	bool queued = poll(&pfd, 1, GUARD_MS) == 1 && read(sent[0], &c, 1) == 1;
	close(sent[0]);
	assert_int_equal(kill(env.daemon.pid, SIGCONT), 0);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(queued);
	int logged = daemon_fixture_wait_log(&env.daemon, "connections already", 1, GUARD_MS);
	/* root keeps slots of its own: served while that close sleeps (or did not). */
	int served = raw_visit(env.daemon.socket_path, GUARD_MS);
	linger_release(&s, GUARD_MS);
	close(holder);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(logged, 1);
	assert_int_equal(served, 0);
	stop(&env);
}

/* ---- Descriptors in unread replies ---- */

/* The last finds its uid's limit reached. */
#define UNREAD_CONNS (MMIO_MAX_UNREAD_FDS_PER_UID / MMIO_MAX_UNREAD_FDS_PER_CONN + 1)
#define PAIRS        12 /* subscribe + unsubscribe, per connection, never read */

/* A fake UIO device (sysfs tree and /dev/uio0 as files) and a pty standing in for its interrupt. */
struct uio_dev {
	struct hw_tree tree;
	int master;
};

static void
uio_open(struct uio_dev *u)
{
	hw_tree_create(&u->tree);
	hw_tree_write(&u->tree, "sys/class/uio/uio0/name", "fakeuio\n");
	hw_tree_write(&u->tree, "sys/class/uio/uio0/maps/map0/addr", "0x10000000\n");
	hw_tree_write(&u->tree, "sys/class/uio/uio0/maps/map0/size", "0x1000\n");
	hw_tree_write(&u->tree, "sys/class/uio/uio0/maps/map0/offset", "0x0\n");
	hw_tree_file(&u->tree, "dev/uio0", 0x1000);
	u->master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	assert_true(u->master >= 0);
	assert_int_equal(grantpt(u->master), 0);
	assert_int_equal(unlockpt(u->master), 0);
	struct termios raw;
	assert_int_equal(tcgetattr(u->master, &raw), 0);
	cfmakeraw(&raw);
	assert_int_equal(tcsetattr(u->master, TCSANOW, &raw), 0);
}

static void
uio_close(struct uio_dev *u)
{
	close(u->master);
	hw_tree_destroy(&u->tree);
}

static int
send_req(int fd, uint64_t id, Mmio__Request__BodyCase kind, uint64_t lease)
{
	Mmio__IrqSubscribe sub = MMIO__IRQ_SUBSCRIBE__INIT;
	Mmio__IrqUnsubscribe unsub = MMIO__IRQ_UNSUBSCRIBE__INIT;
	Mmio__RingSetup ring = MMIO__RING_SETUP__INIT;
	Mmio__Request req = MMIO__REQUEST__INIT;
	req.id = id;
	req.body_case = kind;
	sub.lease = unsub.lease = lease;
	req.irq_subscribe = &sub;
	if (kind == MMIO__REQUEST__BODY_IRQ_UNSUBSCRIBE) {
		req.irq_unsubscribe = &unsub;
	} else if (kind == MMIO__REQUEST__BODY_RING_SETUP) {
		req.ring_setup = &ring;
	}
	return raw_send(fd, &req);
}

/* The next reply on fd: its status, and the fds it carried closed (counted in *n_fds). */
static int
take_reply(int fd, uint64_t *id, unsigned *n_fds)
{
	static uint8_t buf[MMIO_MAX_FRAME];
	int fds[WIRE_MAX_RECV_FDS];
	ssize_t n = wire_recv_keep_fds(fd, buf, sizeof(buf), fds, n_fds);
	for (unsigned i = 0; i < *n_fds; i++) {
		close(fds[i]);
	}
	Mmio__Reply *reply = n > 0 ? mmio__reply__unpack(NULL, (size_t)n, buf) : NULL;
	if (!reply) {
		return -1;
	}
	int status = (int)reply->status;
	*id = reply->id;
	mmio__reply__free_unpacked(reply, NULL);
	return status;
}

/* mmiod's count of requests served, this one included; 0 if it did not answer. */
static uint64_t
stats_requests(int fd)
{
	Mmio__Stats stats = MMIO__STATS__INIT;
	Mmio__Request req = MMIO__REQUEST__INIT;
	req.id = 3;
	req.body_case = MMIO__REQUEST__BODY_STATS;
	req.stats = &stats;
	Mmio__Reply *reply = raw_send(fd, &req) == 0 ? raw_recv(fd) : NULL;
	uint64_t n = reply && reply->stats ? reply->stats->requests : 0;
	if (reply) {
		mmio__reply__free_unpacked(reply, NULL);
	}
	return n;
}

/* A connection with Hello said and an empty lease of irqdev; its id in *lease. */
static int
irq_conn(const char *path, uint64_t *lease)
{
	int fd = raw_connect(path);
	if (fd < 0 || send_hello(fd) < 0) {
		return -1;
	}
	Mmio__Acquire acq = MMIO__ACQUIRE__INIT;
	acq.region = "irqdev";
	Mmio__Request req = MMIO__REQUEST__INIT;
	req.id = 2;
	req.body_case = MMIO__REQUEST__BODY_ACQUIRE;
	req.acquire = &acq;
	Mmio__Reply *reply = raw_send(fd, &req) == 0 ? raw_recv(fd) : NULL;
	if (!reply || reply->status != MMIO__STATUS__OK) {
		return -1;
	}
	*lease = reply->lease->id;
	mmio__reply__free_unpacked(reply, NULL);
	return fd;
}

/*
 * The attacker (child): PAIRS subscribe/unsubscribe pairs on each of
 * UNREAD_CONNS connections, reading nothing; a RingSetup on one more. Says
 * "ready" on ready_fd, waits for the parent on go_fd, then reads and checks
 * every reply: the first MMIO_MAX_UNREAD_FDS_PER_CONN subscriptions of the
 * first connections were granted, until the uid's limit; every later one was
 * RESOURCE_EXHAUSTED; and once read, a connection may subscribe again.
 */
static int
unread_attacker(const char *path, int ready_fd, int go_fd)
{
	CHILD_CHECK(become_attacker() == 0);
	int ring_fd = raw_connect(path);
	CHILD_CHECK(ring_fd >= 0 && send_hello(ring_fd) == 0);
	uint64_t requests_at_start = stats_requests(ring_fd);
	CHILD_CHECK(requests_at_start > 0);
	int fds[UNREAD_CONNS];
	uint64_t leases[UNREAD_CONNS];
	uint64_t sent = 0;
	uint64_t asked = 0;
	for (unsigned k = 0; k < UNREAD_CONNS; k++) {
		fds[k] = irq_conn(path, &leases[k]);
		CHILD_CHECK(fds[k] >= 0);
		for (unsigned i = 0; i < PAIRS; i++) {
			CHILD_CHECK(send_req(fds[k], 100 + 2 * i, MMIO__REQUEST__BODY_IRQ_SUBSCRIBE,
					     leases[k]) == 0);
			CHILD_CHECK(send_req(fds[k], 101 + 2 * i,
					     MMIO__REQUEST__BODY_IRQ_UNSUBSCRIBE, leases[k]) == 0);
		}
		/*
		 * mmiod takes one frame per connection in turn: before the next
		 * connection subscribes (it would find this one's subscription busy),
		 * wait on replies on ring_fd until mmiod's request count says it
		 * handled all of these.
		 */
		sent += 2 + 2 * PAIRS;
		while (stats_requests(ring_fd) < requests_at_start + sent + ++asked) {
		}
	}
	CHILD_CHECK(send_req(ring_fd, 7, MMIO__REQUEST__BODY_RING_SETUP, 0) == 0);
	uint64_t id;
	unsigned n_fds;
	CHILD_CHECK(take_reply(ring_fd, &id, &n_fds) == MMIO__STATUS__RESOURCE_EXHAUSTED);
	CHILD_CHECK(n_fds == 0);
	CHILD_CHECK(write(ready_fd, "r", 1) == 1);
	char go;
	CHILD_CHECK(read(go_fd, &go, 1) == 1);

	unsigned granted_total = 0;
	for (unsigned k = 0; k < UNREAD_CONNS; k++) {
		unsigned granted = 0;
		for (unsigned i = 0; i < 2 * PAIRS; i++) {
			int status = take_reply(fds[k], &id, &n_fds);
			CHILD_CHECK(status >= 0 && id == 100 + i);
			if (i % 2 == 0) {
				bool ok = status == MMIO__STATUS__OK;
				CHILD_CHECK(ok || status == MMIO__STATUS__RESOURCE_EXHAUSTED);
				CHILD_CHECK(n_fds == (ok ? 1u : 0u));
				/* Granted only while under both limits: a refusal is for good. */
				CHILD_CHECK(!ok || granted == i / 2);
				granted += ok;
			}
		}
		unsigned want = MMIO_MAX_UNREAD_FDS_PER_UID - granted_total;
		if (want > MMIO_MAX_UNREAD_FDS_PER_CONN) {
			want = MMIO_MAX_UNREAD_FDS_PER_CONN;
		}
		if (granted != want) {
			fprintf(stderr, "connection %u: %u subscriptions granted unread, want %u\n",
				k, granted, want);
			return 1;
		}
		granted_total += granted;
	}
	/* Every reply read: the same connection may subscribe again. */
	CHILD_CHECK(send_req(fds[0], 999, MMIO__REQUEST__BODY_IRQ_SUBSCRIBE, leases[0]) == 0);
	CHILD_CHECK(take_reply(fds[0], &id, &n_fds) == MMIO__STATUS__OK && n_fds == 1);
	return 0;
}

/* The victim (another uid): a lease and the ring, working. */
static int
ring_victim(void *arg)
{
	const char *path = arg;
	struct mmio_client *c;
	struct mmio_lease *l;
	uint32_t v = 0;
	CHILD_CHECK(mmio_connect(path, &c) == 0);
	CHILD_CHECK(mmio_acquire(c, "sim0", 0x100, 0x10, &l) == 0);
	CHILD_CHECK(mmio_set_fast_path(c, MMIO_FAST_PATH_ON) == 0);
	CHILD_CHECK(mmio_store32(l, 0, 0x5a5a) == 0);
	CHILD_CHECK(mmio_load32(l, 0, &v) == 0 && v == 0x5a5a);
	CHILD_CHECK(mmio_fast_path_active(c) == 1);
	mmio_disconnect(c);
	return 0;
}

static void
test_unread_descriptors_limited(void **state)
{
	(void)state;
	struct uio_dev u;
	uio_open(&u);
	char conf[1024];
	char sysfs[160], dev[160];
	snprintf(conf, sizeof(conf),
		 "regions = (\n"
		 "  { name = \"irqdev\"; type = \"uio\"; uio_name = \"fakeuio\"; map = 0; "
		 "size = 0x1000;\n"
		 "    sysfs = \"%s\"; dev = \"%s\"; irq = true; irq_dev = \"%s\";\n"
		 "    grants = ( { user = %d; access = \"rw\"; } ); },\n"
		 "  { name = \"sim0\"; type = \"mem\"; size = 0x1000;\n"
		 "    grants = ( { user = %d; access = \"rw\"; } ); }\n"
		 ");\n",
		 hw_tree_path(&u.tree, "sys", sysfs, sizeof(sysfs)),
		 hw_tree_path(&u.tree, "dev", dev, sizeof(dev)), ptsname(u.master), ATTACKER_UID,
		 VICTIM_UID);
	struct env env;
	assert_int_equal(start_conf(&env, false, conf), 0);
	int fds_before = proc_fd_count(env.daemon.pid);
	int ready[2], go[2];
	assert_int_equal(pipe2(ready, O_CLOEXEC), 0);
	assert_int_equal(pipe2(go, O_CLOEXEC), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		_exit(unread_attacker(env.daemon.socket_path, ready[1], go[0]));
	}
	close(ready[1]);
	close(go[0]);
	char r;
	struct pollfd pfd = {.fd = ready[0], .events = POLLIN};
	bool attacked = poll(&pfd, 1, GUARD_MS) == 1 && read(ready[0], &r, 1) == 1;
	/* The attacker holds every unread reply now. */
	int fds_during = proc_fd_count(env.daemon.pid);
	int victim = attacked ? run_as(VICTIM_UID, VICTIM_UID, NULL, 0, ring_victim,
				       env.daemon.socket_path)
			      : -1;
	/* (A failed attacker has exited: writing would raise SIGPIPE.) */
	assert_true(!attacked || write(go[1], "g", 1) == 1);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	close(ready[0]);
	close(go[1]);
	stress_report(
		"unread descriptors: %d connections of uid %d, %d subscribe/unsubscribe pairs "
		"each, never read: mmiod fds %d -> %d (limit per uid %d); victim's ring: %s; "
		"attacker's checks: %s",
		UNREAD_CONNS, ATTACKER_UID, PAIRS, fds_before, fds_during,
		MMIO_MAX_UNREAD_FDS_PER_UID, victim == 0 ? "ok" : "FAILED",
		WIFEXITED(status) && WEXITSTATUS(status) == 0 ? "ok" : "FAILED");
	assert_true(attacked);
	assert_int_equal(victim, 0);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	/* Queued or unread, never more than the uid's limit (and the connections themselves). */
	assert_true(fds_during - fds_before <= MMIO_MAX_UNREAD_FDS_PER_UID + UNREAD_CONNS + 1);
	stop(&env);
	uio_close(&u);
}

/* ---- Descriptors the kernel will not pass ---- */

#define NOBODY_UID 65534

/*
 * The flooder (child): as mmiod's user, puts descriptors in flight on a socket
 * pair nobody reads, past mmiod's fd limit (the kernel charges them to the
 * user), says so on ready_fd and holds them until go_fd closes.
 */
static int
inflight_flooder(int ready_fd, int go_fd)
{
	/* As many in flight as our hard limit lets us: more than mmiod's soft one (it is the same
	 * user). */
	struct rlimit big;
	gid_t gid = NOBODY_UID;
	CHILD_CHECK(getrlimit(RLIMIT_NOFILE, &big) == 0);
	big.rlim_cur = big.rlim_max;
	CHILD_CHECK(setrlimit(RLIMIT_NOFILE, &big) == 0);
	int pair[2];
	CHILD_CHECK(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, pair) == 0);
	/* Room for every message (root may force it; the uid change comes after). */
	int sndbuf = 64 << 20;
	CHILD_CHECK(setsockopt(pair[0], SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof(sndbuf)) == 0);
	CHILD_CHECK(setgroups(0, NULL) == 0 && setgid(gid) == 0 && setuid(NOBODY_UID) == 0);
	int copies[WIRE_MAX_RECV_FDS];
	for (unsigned i = 0; i < WIRE_MAX_RECV_FDS; i++) {
		copies[i] = pair[1];
	}
	unsigned sent = 0;
	while (sent < big.rlim_cur &&
	       raw_send_fds(pair[0], "f", 1, copies, WIRE_MAX_RECV_FDS) == 0) {
		sent += WIRE_MAX_RECV_FDS;
	}
	if (sent < 4096) {
		fprintf(stderr, "flooder: %u descriptors in flight: %s\n", sent, strerror(errno));
		return 1;
	}
	CHILD_CHECK(write(ready_fd, "r", 1) == 1);
	char go;
	(void)read(go_fd, &go, 1);
	return 0;
}

/* RingSetup on fd: its status; the descriptors that came with it closed, counted in *n_fds. */
static int
ring_setup_status(int fd, unsigned *n_fds)
{
	uint64_t id;
	if (send_req(fd, 8, MMIO__REQUEST__BODY_RING_SETUP, 0) < 0) {
		return -1;
	}
	return take_reply(fd, &id, n_fds);
}

/*
 * Descriptors in flight are charged to the sender's user: once mmiod's user
 * has more than its fd limit in flight, the kernel refuses every descriptor
 * mmiod sends (ETOOMANYREFS). mmiod then closed the connection of whoever
 * asked (another user's RingSetup; a library user lost its leases). Now that
 * client is answered RESOURCE_EXHAUSTED and keeps its connection, and the
 * ring is taken back, so it can have one later.
 */
static void
test_refused_descriptors_answered_not_closed(void **state)
{
	(void)state;
	static const char nobody_conf[] =
		"user = 65534;\n"
		"regions = ( { name = \"sim0\"; type = \"mem\"; size = 0x1000; } );\n";
	struct env env;
	assert_int_equal(start_conf(&env, false, nobody_conf), 0);
	int victim = raw_connect(env.daemon.socket_path);
	assert_true(victim >= 0);
	assert_int_equal(send_hello(victim), 0);
	int ready[2], go[2];
	assert_int_equal(pipe2(ready, O_CLOEXEC), 0);
	assert_int_equal(pipe2(go, O_CLOEXEC), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(ready[0]);
		close(go[1]);
		_exit(inflight_flooder(ready[1], go[0]));
	}
	close(ready[1]);
	close(go[0]);
	char r;
	struct pollfd pfd = {.fd = ready[0], .events = POLLIN};
	bool flooded = poll(&pfd, 1, GUARD_MS) == 1 && read(ready[0], &r, 1) == 1;
	unsigned n_fds = 99;
	int during = flooded ? ring_setup_status(victim, &n_fds) : -1;
	unsigned n_during = n_fds;
	/* The same connection is served on. */
	int visit = raw_visit(env.daemon.socket_path, GUARD_MS);
	close(go[1]); /* the flooder exits: its descriptors leave flight */
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	close(ready[0]);
	int after = ring_setup_status(victim, &n_fds);
	stress_report("descriptors refused by the kernel (ETOOMANYREFS): RingSetup answered %d "
		      "with %u fds, then %d with %u fds after the flood: %s",
		      during, n_during, after, n_fds,
		      during == MMIO__STATUS__RESOURCE_EXHAUSTED && after == MMIO__STATUS__OK
			      ? "PASS"
			      : "FAIL");
	assert_true(flooded);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(during, MMIO__STATUS__RESOURCE_EXHAUSTED);
	assert_int_equal(n_during, 0);
	/* It was the kernel's refusal, not one of mmiod's own caps. */
	assert_int_equal(daemon_fixture_log_count(&env.daemon, "the kernel refused to pass"), 1);
	assert_int_equal(visit, 0);
	assert_int_equal(after, MMIO__STATUS__OK);
	assert_int_equal(n_fds, 2);
	close(victim);
	stop(&env);
}

/* ---- Reply-queue memory ---- */

#define FLOOD_CONNS 4

/* The attacker (child, no grant): ListRegions (a reply of a few bytes) on each connection, never
 * read. */
static int
flood_attacker(const char *path)
{
	CHILD_CHECK(become_attacker() == 0);
	struct pollfd pfds[FLOOD_CONNS];
	for (unsigned k = 0; k < FLOOD_CONNS; k++) {
		int fd = raw_connect(path);
		CHILD_CHECK(fd >= 0 && send_hello(fd) == 0);
		CHILD_CHECK(fcntl(fd, F_SETFL, O_NONBLOCK) == 0);
		pfds[k] = (struct pollfd){.fd = fd, .events = POLLOUT};
	}
	Mmio__ListRegions list = MMIO__LIST_REGIONS__INIT;
	Mmio__Request req = MMIO__REQUEST__INIT;
	req.id = 5;
	req.body_case = MMIO__REQUEST__BODY_LIST_REGIONS;
	req.list_regions = &list;
	/* Until mmiod stops reading every connection (then poll sleeps until we are killed). */
	while (poll(pfds, FLOOD_CONNS, -1) > 0) {
		for (unsigned k = 0; k < FLOOD_CONNS; k++) {
			while ((pfds[k].revents & POLLOUT) && raw_send(pfds[k].fd, &req) == 0) {
			}
		}
	}
	return 1;
}

static void
test_reply_queue_memory_counted(void **state)
{
	(void)state;
	struct env env;
	assert_int_equal(start(&env, false), 0);
	assert_int_equal(raw_visit(env.daemon.socket_path, GUARD_MS), 0);
	long rss_before = proc_rss_kib(env.daemon.pid);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		_exit(flood_attacker(env.daemon.socket_path));
	}
	/* mmiod pauses each connection once its queued replies pass max_queued_bytes. */
	int paused = daemon_fixture_wait_log(&env.daemon, "pausing its requests", FLOOD_CONNS,
					     GUARD_MS * 3);
	long rss_during = proc_rss_kib(env.daemon.pid);
	int served = raw_visit(env.daemon.socket_path, GUARD_MS);
	assert_int_equal(kill(pid, SIGKILL), 0);
	assert_int_equal(waitpid(pid, NULL, 0), pid);
	/* The hangups revoke, free the queues and give the memory back. */
	assert_int_equal(
		daemon_fixture_wait_log(&env.daemon, "disconnected", FLOOD_CONNS + 2, GUARD_MS),
		FLOOD_CONNS + 2);
	assert_int_equal(raw_visit(env.daemon.socket_path, GUARD_MS), 0);
	long rss_after = proc_rss_kib(env.daemon.pid);
	long cap_kib = (long)MMIO_MAX_QUEUED_BYTES / 1024;
	/* Each connection may queue max_queued_bytes and one reply; 1 MiB for everything else. */
	long allowed = FLOOD_CONNS * cap_kib + 1024;
	bool pass = paused == FLOOD_CONNS && served == 0 &&
		    (!stress_assert_rss() ||
		     (rss_during - rss_before <= allowed && rss_after - rss_before <= 1024));
	stress_report("reply queues: %d connections not reading (%s): mmiod RSS %ld -> %ld KiB "
		      "(at most +%ld), %ld KiB after they left; bystander served: %s: %s",
		      FLOOD_CONNS, stress_build_name(), rss_before, rss_during, allowed, rss_after,
		      served == 0 ? "yes" : "no", pass ? "PASS" : "FAIL");
	assert_int_equal(paused, FLOOD_CONNS);
	assert_int_equal(served, 0);
	if (stress_assert_rss()) {
		assert_true(rss_during - rss_before <= allowed);
		assert_true(rss_after - rss_before <= 1024);
	}
	stop(&env);
}

int
main(void)
{
	if (geteuid() != 0) {
		fprintf(stderr, "needs root (the attacker takes another uid); skipped\n");
		return 77;
	}
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fd_attached_refused_or_closed_aside),
		cmocka_unit_test(test_fd_attached_closed_aside_without_passrights),
		cmocka_unit_test(test_fd_queued_at_close_refused_or_closed_aside),
		cmocka_unit_test(test_fd_queued_at_close_closed_aside_without_passrights),
		cmocka_unit_test(test_fd_queued_before_refusal_closed_aside_without_passrights),
		cmocka_unit_test(test_unread_descriptors_limited),
		cmocka_unit_test(test_refused_descriptors_answered_not_closed),
		cmocka_unit_test(test_reply_queue_memory_counted),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
