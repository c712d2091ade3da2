/*
 * Target 5, floods and stalls: packet and length-field sizes {0, 1, MAX,
 * MAX+1, 2^32-1}; 10,000 oversize frames; clients that never read their
 * replies; idle and trickling attackers holding many sockets; fds passed with
 * SCM_RIGHTS; and the close-on-exec flag of every fd mmiod holds. Each test
 * starts its own mmiod and ends by asserting its clean stop (exit 0: not
 * killed by SIGPIPE, and under ASan or valgrind no leak).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "attacker.h"
#include "daemon_fixture.h"
#include "mmio/client.h"
#include "mmio_limits.h"
#include "raw_client.h"
#include "stress_util.h"
#include "wire.h"

#define RSS_BOUND_KIB         1024
#define LATENCY_P99_TARGET_NS 100000000u /* 100 ms */
#define ATTACKER_UID          4711
#define N_NON_READERS         10

static const char *const regions[] = {"sim0,type=mem,size=0x10000", NULL};

static int
setup(void **state)
{
	struct daemon_fixture *f = calloc(1, sizeof(*f));
	if (daemon_fixture_start(f, regions) < 0) {
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

/* Only cleans up after a failure: each test asserts its daemon's clean stop itself. */
static int
teardown(void **state)
{
	struct daemon_fixture *f = *state;
	int rc = f->pid > 0 ? daemon_fixture_stop(f) : 0;
	free(f);
	return rc == 0 ? 0 : -1;
}

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
	const char *const args[] = {"--region", regions[0], "--region", file_region, NULL};
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

static void
assert_stops_cleanly(struct daemon_fixture *f, const char *test)
{
	int rc = daemon_fixture_stop(f);
	stress_report("%s: mmiod stopped with status %d: %s", test, rc, rc == 0 ? "PASS" : "FAIL");
	assert_int_equal(rc, 0);
}

/* After every hostile act mmiod must still serve a well-behaved client. */
static void
assert_daemon_serves(const struct daemon_fixture *f)
{
	struct mmio_client *c;
	struct mmio_lease *l;
	assert_int_equal(mmio_connect(f->socket_path, &c), 0);
	assert_int_equal(mmio_acquire(c, "sim0", 0xf000, 8, &l), 0);
	assert_int_equal(mmio_store64(l, 0, 42), 0);
	mmio_disconnect(c);
}

/* A connection kept open across a test's measurements, so its own hangup never races them. */
static struct mmio_client *
open_probe(const struct daemon_fixture *f)
{
	struct mmio_client *probe;
	assert_int_equal(mmio_connect(f->socket_path, &probe), 0);
	return probe;
}

/*
 * A round trip on probe: every hangup that was readable before its request
 * has been handled by the time the reply comes (mmiod handles one frame per
 * wakeup). Returns the live leases (root sees all of them).
 */
static int
settle(struct mmio_client *probe)
{
	struct mmio_lease_info *leases;
	int n = mmio_list_leases(probe, &leases);
	free(leases);
	return n;
}

static int
connect_with_hello(const struct daemon_fixture *f)
{
	int fd = raw_connect(f->socket_path);
	assert_true(fd >= 0);
	assert_int_equal(raw_hello(fd, MMIO_PROTOCOL_VERSION), MMIO__STATUS__OK);
	return fd;
}

static size_t
put_varint(uint8_t *p, uint64_t v)
{
	size_t n = 0;
	do {
		p[n++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
		v >>= 7;
	} while (v);
	return n;
}

/*
 * Writes a ListRegions request of exactly total bytes into buf: id, an empty
 * list_regions, and an unknown length-delimited field 1000 as padding (which
 * protobuf keeps and ignores). total must be at least 16.
 */
static size_t
padded_list_regions(uint8_t *buf, size_t total)
{
	static const uint8_t head[] = {0x08, 0x07, 0x1a,
				       0x00, 0xc2, 0x3e}; /* id 7, {}, field 1000 */
	for (size_t vl = 1; vl <= 5; vl++) {
		size_t pad = total - sizeof(head) - vl;
		uint8_t tmp[10];
		if (put_varint(tmp, pad) == vl) {
			memcpy(buf, head, sizeof(head));
			memcpy(buf + sizeof(head), tmp, vl);
			memset(buf + sizeof(head) + vl, 0x5a, pad);
			return total;
		}
	}
	return 0;
}

/* Sends len bytes as one packet; the send(2) result as 0 or -errno. */
static int
send_packet(int fd, const void *buf, size_t len)
{
	ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
	if (n < 0) {
		return -errno;
	}
	return n == (ssize_t)len ? 0 : -EIO;
}

/*
 * The largest packet this kernel accepts on a SOCK_SEQPACKET socket whose send
 * buffer is raised as far as we may (SO_SNDBUFFORCE as root, else SO_SNDBUF up
 * to wmem_max). Binary search on a socketpair: the limit is the sender's.
 */
static size_t
largest_packet(const uint8_t *src, int *sndbuf_out)
{
	size_t lo = 1, hi = UINT32_MAX;
	int want = INT32_MAX / 2;
	while (lo < hi) {
		size_t mid = lo + (hi - lo + 1) / 2;
		int sv[2];
		assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
		if (setsockopt(sv[0], SOL_SOCKET, SO_SNDBUFFORCE, &want, sizeof(want)) < 0) {
			setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &want, sizeof(want));
		}
		socklen_t len = sizeof(*sndbuf_out);
		getsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, sndbuf_out, &len);
		if (send(sv[0], src, mid, MSG_DONTWAIT | MSG_NOSIGNAL) == (ssize_t)mid) {
			lo = mid;
		} else {
			hi = mid - 1;
		}
		close(sv[0]);
		close(sv[1]);
	}
	return lo;
}

/*
 * Packet sizes {0, 1, MAX, MAX+1, 2^32-1}, each on a connection that said
 * Hello. 0 bytes reads as end of stream and 1 byte is no request: closed.
 * Exactly MMIO_MAX_FRAME bytes is a request like any other. MAX+1 is closed
 * as oversize. 2^32-1 bytes cannot be sent at all (EMSGSIZE with the default
 * send buffer, ENOBUFS with SO_SNDBUFFORCE: the kernel cannot allocate it), so
 * the largest packet the kernel accepts is sent instead, and closed as oversize.
 */
static void
test_flood_packet_sizes(void **state)
{
	struct daemon_fixture *f = *state;
	/* 4 GiB of address space reading as zeros, no memory: send(2) may read it all. */
	uint8_t *big = mmap(NULL, (size_t)UINT32_MAX + 1, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	assert_true(big != MAP_FAILED);
	struct mmio_client *probe = open_probe(f);
	int oversize_logged = daemon_fixture_log_count(f, "frame over");

	int fd = connect_with_hello(f);
	assert_int_equal(send_packet(fd, big, 0), 0);
	int closed0 = raw_wait_closed(fd);
	close(fd);

	fd = connect_with_hello(f);
	assert_int_equal(send_packet(fd, "\x08", 1), 0);
	int closed1 = raw_wait_closed(fd);
	close(fd);

	fd = connect_with_hello(f);
	assert_int_equal(padded_list_regions(big, MMIO_MAX_FRAME), MMIO_MAX_FRAME);
	assert_int_equal(send_packet(fd, big, MMIO_MAX_FRAME), 0);
	Mmio__Reply *reply = raw_recv(fd);
	int max_status = reply ? (int)reply->status : -1;
	int max_regions = reply && reply->body_case == MMIO__REPLY__BODY_REGIONS
				  ? (int)reply->regions->n_regions
				  : -1;
	if (reply) {
		mmio__reply__free_unpacked(reply, NULL);
	}
	close(fd);

	fd = connect_with_hello(f);
	assert_int_equal(padded_list_regions(big, MMIO_MAX_FRAME + 1), MMIO_MAX_FRAME + 1);
	assert_int_equal(send_packet(fd, big, MMIO_MAX_FRAME + 1), 0);
	int closed_max1 = raw_wait_closed(fd);
	close(fd);

	fd = connect_with_hello(f);
	int huge_default = send_packet(fd, big, UINT32_MAX);
	int want = INT32_MAX / 2;
	int forced = setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &want, sizeof(want));
	int huge_forced = forced == 0 ? send_packet(fd, big, UINT32_MAX) : 0;
	close(fd);
	int sndbuf = 0;
	memset(big, 0, MMIO_MAX_FRAME + 16);
	size_t largest = largest_packet(big, &sndbuf);
	fd = connect_with_hello(f);
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &want, sizeof(want)) < 0) {
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &want, sizeof(want));
	}
	assert_int_equal(send_packet(fd, big, largest), 0);
	int closed_largest = raw_wait_closed(fd);
	close(fd);
	munmap(big, (size_t)UINT32_MAX + 1);

	assert_int_equal(settle(probe), 0);
	int oversize = daemon_fixture_log_count(f, "frame over") - oversize_logged;
	bool pass = closed0 && closed1 && max_status == MMIO__STATUS__OK && max_regions == 1 &&
		    closed_max1 && huge_default == -EMSGSIZE && closed_largest && oversize == 2;
	stress_report("packet sizes: 0 B %s, 1 B %s, %d B (MAX) status %d with %d region, %d B "
		      "(MAX+1) %s, %u B (2^32-1) send: %s (SO_SNDBUFFORCE: %s), largest the kernel "
		      "accepts (SO_SNDBUF %d): %zu B %s; %d oversize warnings: %s",
		      closed0 ? "closed" : "NOT closed", closed1 ? "closed" : "NOT closed",
		      MMIO_MAX_FRAME, max_status, max_regions, MMIO_MAX_FRAME + 1,
		      closed_max1 ? "closed" : "NOT closed", UINT32_MAX, strerror(-huge_default),
		      forced == 0 ? strerror(-huge_forced) : "not permitted", sndbuf, largest,
		      closed_largest ? "closed" : "NOT closed", oversize, pass ? "PASS" : "FAIL");
	assert_true(closed0);
	assert_true(closed1);
	assert_int_equal(max_status, MMIO__STATUS__OK);
	assert_int_equal(max_regions, 1);
	assert_true(closed_max1);
	assert_int_equal(huge_default, -EMSGSIZE);
	assert_true(forced != 0 || huge_forced == -ENOBUFS || huge_forced == -EMSGSIZE);
	assert_true(largest > MMIO_MAX_FRAME);
	assert_true(closed_largest);
	assert_int_equal(oversize, 2);
	assert_daemon_serves(f);
	mmio_disconnect(probe);
	assert_stops_cleanly(f, "packet sizes");
}

/*
 * Length fields inside a small frame declaring {0, 1, MAX, MAX+1, 2^32-1,
 * 2^64-1} bytes: the acquire's region name, and the acquire itself. The
 * short ones are well-formed requests (no such region: NOT_FOUND); the rest
 * run past the frame: undecodable, closed, and nothing is allocated for them.
 */
static void
test_flood_length_fields(void **state)
{
	struct daemon_fixture *f = *state;
	static const uint64_t lens[] = {
		0, 1, MMIO_MAX_FRAME, MMIO_MAX_FRAME + 1, UINT32_MAX, UINT64_MAX,
	};
	unsigned ok = 0, total = 0;
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		for (int outer = 0; outer < 2; outer++) {
			uint8_t buf[64];
			size_t n = 0;
			buf[n++] = 0x08; /* id 5 */
			buf[n++] = 0x05;
			buf[n++] = 0x22; /* acquire */
			if (outer) {
				n += put_varint(buf + n, lens[i]);
				buf[n++] = 0x0a; /* region: 1 byte "x" */
				buf[n++] = 0x01;
				buf[n++] = 'x';
			} else {
				uint8_t inner[16];
				size_t m = 0;
				inner[m++] = 0x0a; /* region, lens[i] bytes, at most 1 present */
				m += put_varint(inner + m, lens[i]);
				inner[m++] = 'x';
				if (lens[i] == 0) {
					m--;
				}
				n += put_varint(buf + n, m);
				memcpy(buf + n, inner, m);
				n += m;
			}
			/* Well-formed only when the declared length is what follows. */
			bool valid = outer ? lens[i] == 3 : lens[i] <= 1;
			int fd = connect_with_hello(f);
			assert_int_equal(send_packet(fd, buf, n), 0);
			bool as_expected;
			if (valid) {
				Mmio__Reply *reply = raw_recv(fd);
				as_expected = reply && reply->status == MMIO__STATUS__NOT_FOUND;
				if (reply) {
					mmio__reply__free_unpacked(reply, NULL);
				}
			} else {
				as_expected = raw_wait_closed(fd);
			}
			close(fd);
			if (!as_expected) {
				fprintf(stderr, "%s length %#" PRIx64 ": not %s\n",
					outer ? "acquire" : "region", lens[i],
					valid ? "answered NOT_FOUND" : "closed");
			}
			ok += as_expected;
			total++;
		}
	}
	stress_report("length fields: %u of %u declared lengths {0, 1, MAX, MAX+1, 2^32-1, "
		      "2^64-1} x {region name, acquire} answered or closed as expected: %s",
		      ok, total, ok == total ? "PASS" : "FAIL");
	assert_int_equal(ok, total);
	assert_daemon_serves(f);
	assert_stops_cleanly(f, "length fields");
}

/* n connections, each sends one oversize packet (half after Hello) and is closed. */
static unsigned
send_oversize_frames(const struct daemon_fixture *f, const uint8_t *buf, unsigned n)
{
	unsigned closed = 0;
	for (unsigned i = 0; i < n; i++) {
		int fd = i % 2 ? connect_with_hello(f) : raw_connect(f->socket_path);
		assert_true(fd >= 0);
		/* MAX+1, and the largest the default send buffer takes. */
		size_t len = i % 4 < 2 ? MMIO_MAX_FRAME + 1 : 212960;
		if (send_packet(fd, buf, len) == 0 && raw_wait_closed(fd)) {
			closed++;
		}
		close(fd);
	}
	return closed;
}

static void
test_flood_10000_oversize_frames(void **state)
{
	struct daemon_fixture *f = *state;
	unsigned n = stress_count(10000, 1000);
	uint8_t *buf = calloc(1, 212960);
	assert_non_null(buf);
	long rss_start = proc_rss_kib(f->pid);
	struct mmio_client *probe = open_probe(f);
	/* Warm-up: what the first oversize frames make malloc and libevent set up for good. */
	assert_int_equal(send_oversize_frames(f, buf, 100), 100);
	assert_int_equal(settle(probe), 0);
	long rss_before = proc_rss_kib(f->pid);
	int fds_before = proc_fd_count(f->pid);
	uint64_t t0 = stress_now_ns();
	unsigned closed = send_oversize_frames(f, buf, n);
	uint64_t t1 = stress_now_ns();
	assert_int_equal(settle(probe), 0);
	long rss_after = proc_rss_kib(f->pid);
	int fds_after = proc_fd_count(f->pid);
	free(buf);
	long grew = rss_after - rss_before;
	bool pass = closed == n && fds_after == fds_before &&
		    (!stress_assert_rss() || grew < RSS_BOUND_KIB);
	stress_report("oversize frames: %u frames of %d and 212960 B, %u closed, fds %d -> %d, "
		      "RSS %ld -> %ld -> %ld KiB (%+ld KiB after warm-up, bound %d%s), %.2f s, %s "
		      "build: %s",
		      n, MMIO_MAX_FRAME + 1, closed, fds_before, fds_after, rss_start, rss_before,
		      rss_after, grew, RSS_BOUND_KIB,
		      stress_assert_rss() ? "" : ", not asserted in this build",
		      (double)(t1 - t0) / 1e9, stress_build_name(), pass ? "PASS" : "FAIL");
	assert_int_equal(closed, n);
	assert_int_equal(fds_after, fds_before);
	if (stress_assert_rss()) {
		assert_true(grew < RSS_BOUND_KIB);
	}
	mmio_disconnect(probe);
	assert_stops_cleanly(f, "oversize frames");
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
test_flood_non_reader_capped(void **state)
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
	struct mmio_client *probe = open_probe(f);
	assert_int_equal(settle(probe), 0);

	long rss_before = proc_rss_kib(f->pid);
	int fds_before = proc_fd_count(f->pid);
	int fds[N_NON_READERS];
	unsigned sent[N_NON_READERS];
	long rss_one = 0;
	for (unsigned i = 0; i < N_NON_READERS; i++) {
		fds[i] = connect_with_hello(f);
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
	assert_daemon_serves(f);

	for (unsigned i = 0; i < N_NON_READERS; i++) {
		close(fds[i]);
	}
	int leases = settle(probe);
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
	assert_daemon_serves(f);
	mmio_disconnect(probe);
	/* Exit 0, not 128 + SIGPIPE. */
	assert_stops_cleanly(f, "non-readers");
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
test_flood_attackers_do_not_starve(void **state)
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
	struct mmio_client *probe = open_probe(f);
	assert_int_equal(settle(probe), 0);
	mmio_disconnect(probe);
	assert_stops_cleanly(f, "attackers");
}

/* Sends a ListRegions request with n_fds copies of fd attached; frame_len 0: the plain request. */
static int
send_with_fds(int sock, int fd, unsigned n_fds, size_t frame_len, uint8_t *frame)
{
	size_t len = frame_len;
	if (!len) {
		Mmio__ListRegions list = MMIO__LIST_REGIONS__INIT;
		Mmio__Request req = MMIO__REQUEST__INIT;
		req.id = 3;
		req.body_case = MMIO__REQUEST__BODY_LIST_REGIONS;
		req.list_regions = &list;
		len = mmio__request__pack(&req, frame);
	}
	union {
		char buf[CMSG_SPACE(sizeof(int) * 253)];
		struct cmsghdr align;
	} control;
	memset(&control, 0, sizeof(control));
	struct iovec iov = {.iov_base = frame, .iov_len = len};
	struct msghdr msg = {.msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = control.buf,
			     .msg_controllen = CMSG_SPACE(sizeof(int) * n_fds)};
	struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
	cmsg->cmsg_level = SOL_SOCKET;
	cmsg->cmsg_type = SCM_RIGHTS;
	cmsg->cmsg_len = CMSG_LEN(sizeof(int) * n_fds);
	for (unsigned i = 0; i < n_fds; i++) {
		memcpy(CMSG_DATA(cmsg) + i * sizeof(int), &fd, sizeof(int));
	}
	return sendmsg(sock, &msg, MSG_NOSIGNAL) == (ssize_t)len ? 0 : -errno;
}

/*
 * 1000 messages carrying fds (SCM_RIGHTS): a request with 1, 2 or 8 fds is
 * answered (mmiod closed them first); with 9 or 253 (more than mmiod's
 * control buffer: MSG_CTRUNC) or on an oversize frame the connection is
 * closed. Every fd is a copy of one pipe's write end, so once the test closes
 * its own, the read end sees EOF only if mmiod and the kernel closed every
 * copy; and mmiod's fd count is what it was before.
 */
static void
test_flood_scm_rights_closed(void **state)
{
	struct daemon_fixture *f = *state;
	static const unsigned n_fds[] = {1, 2, 8, 1, 9, 1, 253, 1};
	unsigned n = stress_count(1000, 200);
	int pipefd[2];
	assert_int_equal(pipe2(pipefd, O_CLOEXEC), 0);
	uint8_t *frame = calloc(1, MMIO_MAX_FRAME + 1);
	assert_non_null(frame);
	int sock = connect_with_hello(f);
	int fds_before = proc_fd_count(f->pid);
	unsigned answered = 0, closed = 0, fds_sent = 0, wrong = 0;
	for (unsigned i = 0; i < n; i++) {
		unsigned k = n_fds[i % (sizeof(n_fds) / sizeof(n_fds[0]))];
		bool oversize = i % 50 == 49;
		bool should_close = k > 8 || oversize;
		assert_int_equal(
			send_with_fds(sock, pipefd[1], k, oversize ? MMIO_MAX_FRAME + 1 : 0, frame),
			0);
		fds_sent += k;
		if (should_close) {
			bool c = raw_wait_closed(sock);
			closed += c;
			wrong += !c;
			close(sock);
			sock = connect_with_hello(f);
		} else {
			Mmio__Reply *reply = raw_recv(sock);
			bool ok = reply && reply->status == MMIO__STATUS__OK;
			answered += ok;
			wrong += !ok;
			if (reply) {
				mmio__reply__free_unpacked(reply, NULL);
			}
		}
	}
	/* The reconnect's Hello was read after every earlier hangup was handled. */
	int fds_after = proc_fd_count(f->pid);
	close(sock);
	free(frame);
	close(pipefd[1]);
	struct pollfd pfd = {.fd = pipefd[0], .events = POLLIN};
	char c;
	bool eof = poll(&pfd, 1, 60000) == 1 && read(pipefd[0], &c, 1) == 0;
	close(pipefd[0]);
	bool pass = wrong == 0 && fds_after == fds_before && eof;
	stress_report(
		"SCM_RIGHTS: %u messages carrying %u fds (1, 2, 8, 9, 253 per message, every "
		"50th on an oversize frame): %u answered, %u closed, %u wrong; mmiod fds %d -> "
		"%d; every copy closed (pipe EOF): %s: %s",
		n, fds_sent, answered, closed, wrong, fds_before, fds_after, eof ? "yes" : "no",
		pass ? "PASS" : "FAIL");
	assert_int_equal(wrong, 0);
	assert_int_equal(fds_after, fds_before);
	assert_true(eof);
	assert_stops_cleanly(f, "SCM_RIGHTS");
}

/*
 * Every fd mmiod holds while busy (listening socket, event loop, signal
 * plumbing, a file region, connections before and after Hello, one paused as
 * a non-reader, one in a server-side poll) is close-on-exec, read from the
 * flags in /proc/PID/fdinfo. mmiod starts with a clean fd table, as under
 * systemd; 0-2 are the stdio it was given and are exempt. Under valgrind the
 * tool's own fds (at the top of the range) are checked too: they comply.
 */
static void
test_flood_daemon_fds_cloexec(void **state)
{
	struct daemon_fixture *f = *state;
	struct mmio_client *c;
	struct mmio_lease *l;
	assert_int_equal(mmio_connect(f->socket_path, &c), 0);
	assert_int_equal(mmio_acquire(c, "regs", 0, 8, &l), 0);
	int pre_hello = raw_connect(f->socket_path);
	int poller = connect_with_hello(f);
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
	int non_reader = connect_with_hello(f);
	uint8_t br[64];
	size_t br_len = pack_block_read(br, raw_lease(non_reader, 0x200));
	flood_until_paused(f, non_reader, br, br_len, 1);
	/* The poll request was read before this round trip's. */
	struct mmio_client *probe = open_probe(f);
	assert_int_equal(settle(probe), 3);

	int fds[1024];
	int n = proc_fd_list(f->pid, fds, 1024);
	assert_true(n > 3 && n <= 1024);
	unsigned checked = 0, cloexec = 0;
	for (int i = 0; i < n; i++) {
		if (fds[i] < 3) {
			continue;
		}
		unsigned long flags = 0;
		char target[128];
		proc_fd_target(f->pid, fds[i], target, sizeof(target));
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
	close(non_reader);
	close(poller);
	close(pre_hello);
	mmio_disconnect(c);
	mmio_disconnect(probe);
	assert_stops_cleanly(f, "CLOEXEC");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
		T(test_flood_packet_sizes),
		T(test_flood_length_fields),
		T(test_flood_10000_oversize_frames),
		T(test_flood_non_reader_capped),
		T(test_flood_attackers_do_not_starve),
		T(test_flood_scm_rights_closed),
		cmocka_unit_test_setup_teardown(test_flood_daemon_fds_cloexec,
						setup_clean_with_file, teardown_clean_with_file),
#undef T
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
