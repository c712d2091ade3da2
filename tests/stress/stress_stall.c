/*
 * Target 5, stalls: clients that never read their replies, idle and
 * trickling attackers holding many sockets, and the close-on-exec flag of
 * every fd mmiod holds while such clients hang on. Each test starts its own
 * mmiod and ends by asserting its clean stop (exit 0: not killed by SIGPIPE;
 * under ASan or valgrind that includes their leak check).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "attacker.h"
#include "core/limits.h"
#include "mmio_limits.h"
#include "raw_client.h"
#include "stress_common.h"
#include "stress_util.h"

#define LATENCY_P99_TARGET_NS 100000000u /* 100 ms */
#define ATTACKER_UID          4711
#define N_NON_READERS         10

struct file_env {
	struct daemon_fixture f; /* first: tests take *state as the fixture */
	char file_path[64];
};

/* mmiod with a clean fd table, serving sim0 and a file region. */
static int
setup_clean_with_file(void **state)
{
	struct file_env *env = calloc(1, sizeof(*env));
	if (!env) {
		return -1;
	}
	snprintf(env->file_path, sizeof(env->file_path), "/tmp/mmiod-stress-regs-XXXXXX");
	int fd = mkstemp(env->file_path);
	if (fd < 0 || ftruncate(fd, 0x1000) < 0) {
		free(env);
		return -1;
	}
	close(fd);
	char file_region[128];
	snprintf(file_region, sizeof(file_region), "regs,type=file,path=%s,size=0x1000",
		 env->file_path);
	const char *const args[] = {"--region", stress_regions[0], "--region", file_region, NULL};
	if (daemon_fixture_start_clean(&env->f, args) < 0) {
		unlink(env->file_path);
		free(env);
		return -1;
	}
	*state = env;
	return 0;
}

static int
teardown_clean_with_file(void **state)
{
	struct file_env *env = *state;
	int rc = env->f.pid > 0 ? daemon_fixture_stop(&env->f) : 0;
	unlink(env->file_path);
	free(env);
	return rc == 0 ? 0 : -1;
}

/* A BlockRead of one 8-byte register 4096 times: a ~41 KB reply for a few bytes asked. */
static size_t
pack_block_read(uint8_t *buf, uint64_t lease)
{
	Mmio__BlockRead br = MMIO__BLOCK_READ__INIT;
	br.lease = lease;
	br.width = 8;
	br.count = MMIO_MAX_BATCH_OPS;
	br.repeat = 1;
	Mmio__Request req = MMIO__REQUEST__INIT;
	req.id = 9;
	req.body_case = MMIO__REQUEST__BODY_BLOCK_READ;
	req.block_read = &br;
	return mmio__request__pack(&req, buf);
}

/* Hello, then an 8-byte lease at off over a raw socket; the lease id. */
static uint64_t
raw_lease(int fd, uint64_t off)
{
	Mmio__Acquire acquire = MMIO__ACQUIRE__INIT;
	acquire.region = "sim0";
	acquire.offset = off;
	acquire.length = 8;
	Mmio__Request req = MMIO__REQUEST__INIT;
	req.id = 2;
	req.body_case = MMIO__REQUEST__BODY_ACQUIRE;
	req.acquire = &acquire;
	assert_int_equal(raw_send(fd, &req), 0);
	Mmio__Reply *reply = raw_recv(fd);
	assert_non_null(reply);
	assert_int_equal(reply->status, MMIO__STATUS__OK);
	uint64_t id = reply->lease->id;
	mmio__reply__free_unpacked(reply, NULL);
	return id;
}

/* Sends req without reading a reply until the socket takes no more; returns how many. */
static unsigned
flood_until_full(int fd, const uint8_t *req, size_t len)
{
	unsigned sent = 0;
	while (send(fd, req, len, MSG_DONTWAIT | MSG_NOSIGNAL) == (ssize_t)len) {
		sent++;
	}
	assert_int_equal(errno, EAGAIN);
	return sent;
}

/*
 * Sends req on fd, never reading a reply, until mmiod's log has paused
 * lines containing "pausing its requests": a full socket alone may only
 * mean mmiod is behind. Waits on the socket becoming writable and on inotify
 * for the log, so nothing sleeps. Returns the requests sent.
 */
static unsigned
flood_until_paused(const struct daemon_fixture *f, int fd, const uint8_t *req, size_t len,
		   int paused)
{
	int ino = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	assert_true(ino >= 0);
	assert_true(inotify_add_watch(ino, f->log_path, IN_MODIFY) >= 0);
	unsigned sent = 0;
	while (daemon_fixture_log_count(f, "pausing its requests") < paused) {
		sent += flood_until_full(fd, req, len);
		struct pollfd pfds[2] = {{.fd = fd, .events = POLLOUT},
					 {.fd = ino, .events = POLLIN}};
		/* A minute without a change of either is a daemon that stopped answering. */
		assert_true(poll(pfds, 2, 60000) > 0);
		char events[4096];
		while (read(ino, events, sizeof(events)) > 0) {
		}
	}
	close(ino);
	return sent;
}

/*
 * Clients that never read their replies (each reply ~41 KB): mmiod queues at
 * most max_queued_bytes (plus the reply that crossed it) per connection,
 * then stops reading that client, says so in its log, and serves everyone
 * else. When the clients then close with replies still queued, the sends fail
 * with EPIPE, which must not kill mmiod (SIGPIPE): it serves on and exits 0.
 */
static void
test_stall_non_reader_capped(void **state)
{
	struct daemon_fixture *f = *state;
	/* Every register read all-ones, so each of the 4096 values takes 10 bytes on the wire. */
	struct mmio_client *c;
	struct mmio_lease *l;
	assert_int_equal(mmio_connect(f->socket_path, &c), 0);
	assert_int_equal(mmio_acquire(c, "sim0", 0, 8 * N_NON_READERS, &l), 0);
	for (unsigned i = 0; i < N_NON_READERS; i++) {
		assert_int_equal(mmio_store64(l, 8 * i, UINT64_MAX), 0);
	}
	mmio_disconnect(c);
	struct mmio_client *probe = stress_open_probe(f);
	assert_int_equal(stress_settle(probe), 0);

	long rss_before = proc_rss_kib(f->pid);
	int fds_before = proc_fd_count(f->pid);
	int fds[N_NON_READERS];
	unsigned sent[N_NON_READERS];
	long rss_one = 0;
	for (unsigned i = 0; i < N_NON_READERS; i++) {
		fds[i] = stress_connect_hello(f);
		uint8_t req[64];
		size_t len = pack_block_read(req, raw_lease(fds[i], 8 * i));
		sent[i] = flood_until_paused(f, fds[i], req, len, (int)i + 1);
		/* Then fill the kernel's queue too: those requests wait there, not in mmiod. */
		sent[i] += flood_until_full(fds[i], req, len);
		if (i == 0) {
			rss_one = proc_rss_kib(f->pid) - rss_before;
		}
	}
	/* Paused for good: it logged each once, and resumes only when the client reads. */
	int paused = daemon_fixture_log_count(f, "pausing its requests");
	long rss_all = proc_rss_kib(f->pid) - rss_before;
	/* The others are served meanwhile. */
	stress_assert_serves(f);

	for (unsigned i = 0; i < N_NON_READERS; i++) {
		close(fds[i]);
	}
	int leases = stress_settle(probe);
	int fds_after = proc_fd_count(f->pid);
	long per_conn_kib = (MMIO_MAX_QUEUED_BYTES + MMIO_MAX_FRAME) / 1024;
	/* What a paused client may cost: its cap and one reply past it, plus 256 KiB of heap slack.
	 */
	long bound_one = per_conn_kib + 256;
	long bound_all = N_NON_READERS * per_conn_kib + 256;
	bool rss_ok = rss_one <= bound_one && rss_all <= bound_all;
	bool pass = paused == N_NON_READERS && leases == 0 && fds_after == fds_before &&
		    (rss_ok || !stress_assert_rss());
	stress_report(
		"non-readers: %d clients sent %u-%u block reads of ~41 KB replies each and "
		"read none, %d paused by mmiod; RSS +%ld KiB for one (bound %ld), +%ld KiB for "
		"%d (bound %ld%s); closed with replies queued: mmiod alive, fds %d -> %d, "
		"leases %d, %s build: %s",
		N_NON_READERS, sent[0], sent[N_NON_READERS - 1], paused, rss_one, bound_one,
		rss_all, N_NON_READERS, bound_all,
		stress_assert_rss() ? "" : ", not asserted in this build", fds_before, fds_after,
		leases, stress_build_name(), pass ? "PASS" : "FAIL");
	assert_int_equal(paused, N_NON_READERS);
	assert_int_equal(leases, 0);
	assert_int_equal(fds_after, fds_before);
	if (stress_assert_rss()) {
		assert_true(rss_one <= bound_one);
		assert_true(rss_all <= bound_all);
	}
	stress_assert_serves(f);
	mmio_disconnect(probe);
	/* Exit 0, not 128 + SIGPIPE. */
	stress_assert_stops(f, "non-readers");
}

/* Makes the fixture's socket reachable for another uid. */
static void
open_socket_to_all(const struct daemon_fixture *f)
{
	assert_int_equal(chmod(f->dir, 0755), 0);
	assert_int_equal(chmod(f->socket_path, 0666), 0);
}

/* One legitimate client's whole visit: connect, acquire, load, disconnect. Its time, or 0. */
static uint64_t
legit_visit(const struct daemon_fixture *f)
{
	uint64_t t0 = stress_now_ns();
	struct mmio_client *c;
	struct mmio_lease *l;
	uint32_t v;
	int rc = mmio_connect(f->socket_path, &c);
	if (rc < 0) {
		return 0;
	}
	rc = mmio_acquire(c, "sim0", 0xf000, 8, &l);
	if (rc == 0) {
		rc = mmio_load32(l, 0, &v);
	}
	mmio_disconnect(c);
	return rc == 0 ? stress_now_ns() - t0 : 0;
}

/*
 * Another uid holds as many sockets as its per-uid limit allows (256): 206
 * that never say Hello (reconnecting when mmiod closes them after its
 * handshake timeout) and 50 that trickle one small request every ms between
 * them and never read a reply. SOCK_SEQPACKET has no partial frames, so this
 * is the nearest thing to a slowloris. Meanwhile 200 visits of a legitimate
 * client (root) are timed, from connect to its last reply: p99 <= 100 ms.
 */
static void
test_stall_attackers_do_not_starve(void **state)
{
	struct daemon_fixture *f = *state;
	open_socket_to_all(f);
	struct attacker a = {
		.idle = MMIO_MAX_CONNS_PER_UID - 50, .trickle = 50, .uid = ATTACKER_UID};
	if (geteuid() != 0) {
		/* Without root the attacker is our own uid: leave room under the limit for us. */
		a.idle -= 10;
	}
	uint64_t t0 = stress_now_ns();
	assert_int_equal(attacker_start(f->socket_path, &a), 0);
	uint64_t first = legit_visit(f);
	uint64_t t_first = stress_now_ns() - t0;
	unsigned n = stress_count(200, 50);
	uint64_t *times = calloc(n, sizeof(*times));
	assert_non_null(times);
	unsigned failed = first == 0;
	for (unsigned i = 0; i < n; i++) {
		times[i] = legit_visit(f);
		failed += times[i] == 0;
	}
	assert_int_equal(attacker_stop(&a), 0);
	uint64_t p50 = stress_percentile(times, n, 50);
	uint64_t p99 = stress_percentile(times, n, 99);
	uint64_t max = times[n - 1];
	free(times);
	bool timing_ok = p99 <= LATENCY_P99_TARGET_NS && first <= LATENCY_P99_TARGET_NS;
	bool pass = failed == 0 && (timing_ok || !stress_assert_timing());
	stress_report("attackers: uid %d holds %u idle + %u trickling sockets; a legitimate client "
		      "first served %.3f ms after they all connected (%.3f ms from the attack's "
		      "start), then %u visits p50 %.3f ms p99 %.3f ms max %.3f ms, %u failed "
		      "(target p99 <= 100 ms%s), %s build: %s",
		      geteuid() == 0 ? ATTACKER_UID : (int)geteuid(), a.idle, a.trickle,
		      (double)first / 1e6, (double)t_first / 1e6, n, (double)p50 / 1e6,
		      (double)p99 / 1e6, (double)max / 1e6, failed,
		      stress_assert_timing() ? "" : ", not asserted here", stress_build_name(),
		      pass ? "PASS" : "FAIL");
	assert_int_equal(failed, 0);
	if (stress_assert_timing()) {
		assert_true(first <= LATENCY_P99_TARGET_NS);
		assert_true(p99 <= LATENCY_P99_TARGET_NS);
	}
	struct mmio_client *probe = stress_open_probe(f);
	assert_int_equal(stress_settle(probe), 0);
	mmio_disconnect(probe);
	stress_assert_stops(f, "attackers");
}

/*
 * Opens a ring for c (mmiod keeps its doorbell), then has a raw connection ask
 * for one behind 8 BlockReads it never reads: their ~41 KB replies fill the
 * socket, so the RingSetup reply, with the memfd and a doorbell fd to pass,
 * waits in mmiod's queue. Returns that connection (kept open: closing it would
 * drop the queue) once mmiod has logged both rings.
 */
static int
queue_ring_reply(const struct daemon_fixture *f, struct mmio_client *c)
{
	struct mmio_lease *ones;
	assert_int_equal(mmio_acquire(c, "sim0", 0x300, 8, &ones), 0);
	assert_int_equal(mmio_store64(ones, 0, UINT64_MAX), 0);
	assert_int_equal(mmio_release(ones), 0);
	assert_int_equal(mmio_set_fast_path(c, MMIO_FAST_PATH_ON), 0);
	assert_int_equal(daemon_fixture_wait_log(f, "entries open", 1, 60000), 1);

	int waiter = stress_connect_hello(f);
	uint8_t br[64];
	size_t br_len = pack_block_read(br, raw_lease(waiter, 0x300));
	for (int i = 0; i < 8; i++) {
		assert_int_equal(send(waiter, br, br_len, MSG_NOSIGNAL), (ssize_t)br_len);
	}
	Mmio__RingSetup setup = MMIO__RING_SETUP__INIT;
	Mmio__Request req = MMIO__REQUEST__INIT;
	req.id = 10;
	req.body_case = MMIO__REQUEST__BODY_RING_SETUP;
	req.ring_setup = &setup;
	assert_int_equal(raw_send(waiter, &req), 0);
	assert_int_equal(daemon_fixture_wait_log(f, "entries open", 2, 60000), 2);
	return waiter;
}

/*
 * Every fd mmiod holds while busy (listening socket, event loop, signal
 * plumbing, a file region, connections before and after Hello, one paused as
 * a non-reader, one in a server-side poll, a ring's doorbell, and the memfd and
 * doorbell of a RingSetup reply queued behind unread replies) is close-on-exec, read from the
 * flags in /proc/PID/fdinfo. mmiod starts with a clean fd table, as under
 * systemd; 0-2 are the stdio it was given and are exempt. Under valgrind the
 * tool's own fds (at the top of the range) are checked too: they comply.
 */
static void
test_stall_daemon_fds_cloexec(void **state)
{
	struct daemon_fixture *f = *state;
	struct mmio_client *c;
	struct mmio_lease *l;
	assert_int_equal(mmio_connect(f->socket_path, &c), 0);
	assert_int_equal(mmio_acquire(c, "regs", 0, 8, &l), 0);
	int pre_hello = raw_connect(f->socket_path);
	int poller = stress_connect_hello(f);
	Mmio__Poll poll_req = MMIO__POLL__INIT;
	poll_req.lease = raw_lease(poller, 0x100);
	poll_req.width = 4;
	poll_req.mask = 1;
	poll_req.value = 1;
	poll_req.timeout_ms = 60000;
	poll_req.interval_us = 100000;
	Mmio__Request req = MMIO__REQUEST__INIT;
	req.id = 4;
	req.body_case = MMIO__REQUEST__BODY_POLL;
	req.poll = &poll_req;
	assert_int_equal(raw_send(poller, &req), 0);
	int non_reader = stress_connect_hello(f);
	uint8_t br[64];
	size_t br_len = pack_block_read(br, raw_lease(non_reader, 0x200));
	flood_until_paused(f, non_reader, br, br_len, 1);
	/* The poll request was read before this round trip's. */
	struct mmio_client *probe = stress_open_probe(f);
	assert_int_equal(stress_settle(probe), 3);
	int ring_waiter = queue_ring_reply(f, c);

	int fds[1024];
	int n = proc_fd_list(f->pid, fds, 1024);
	assert_true(n > 3 && n <= 1024);
	unsigned checked = 0, cloexec = 0, ring_memfds = 0;
	for (int i = 0; i < n; i++) {
		if (fds[i] < 3) {
			continue;
		}
		unsigned long flags = 0;
		char target[128];
		proc_fd_target(f->pid, fds[i], target, sizeof(target));
		ring_memfds += strstr(target, "mmiod-ring") != NULL;
		int rc = proc_fd_flags(f->pid, fds[i], &flags);
		checked++;
		if (rc == 0 && (flags & O_CLOEXEC)) {
			cloexec++;
		} else {
			fprintf(stderr, "fd %d (%s): flags %#lo, no O_CLOEXEC\n", fds[i], target,
				flags);
		}
	}
	stress_report("CLOEXEC: %u of %u mmiod fds (3 and up, %d open in all) are close-on-exec, "
		      "%s build: %s",
		      cloexec, checked, n, stress_build_name(),
		      cloexec == checked ? "PASS" : "FAIL");
	assert_int_equal(cloexec, checked);
	assert_true(checked >= 8);
	/* The queued RingSetup reply still holds its memfd: its fds were among those checked. */
	assert_true(ring_memfds >= 1);
	close(ring_waiter);
	close(non_reader);
	close(poller);
	close(pre_hello);
	mmio_disconnect(c);
	mmio_disconnect(probe);
	stress_assert_stops(f, "CLOEXEC");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_stall_non_reader_capped, stress_setup,
						stress_teardown),
		cmocka_unit_test_setup_teardown(test_stall_attackers_do_not_starve, stress_setup,
						stress_teardown),
		cmocka_unit_test_setup_teardown(test_stall_daemon_fds_cloexec,
						setup_clean_with_file, teardown_clean_with_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
