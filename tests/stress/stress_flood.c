/*
 * Target 5, floods: packet and length-field sizes {0, 1, MAX, MAX+1,
 * 2^32-1}, 10,000 oversize frames, and 1000 messages carrying fds
 * (SCM_RIGHTS). Each test starts its own mmiod and ends by asserting its
 * clean stop (exit 0; under ASan or valgrind that includes their leak check).
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
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mmio_limits.h"
#include "raw_client.h"
#include "stress_common.h"
#include "stress_util.h"
#include "wire.h"

#define RSS_BOUND_KIB 1024

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
	struct mmio_client *probe = stress_open_probe(f);
	int oversize_logged = daemon_fixture_log_count(f, "frame over");

	int fd = stress_connect_hello(f);
	assert_int_equal(send_packet(fd, big, 0), 0);
	int closed0 = raw_wait_closed(fd);
	close(fd);

	fd = stress_connect_hello(f);
	assert_int_equal(send_packet(fd, "\x08", 1), 0);
	int closed1 = raw_wait_closed(fd);
	close(fd);

	fd = stress_connect_hello(f);
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

	fd = stress_connect_hello(f);
	assert_int_equal(padded_list_regions(big, MMIO_MAX_FRAME + 1), MMIO_MAX_FRAME + 1);
	assert_int_equal(send_packet(fd, big, MMIO_MAX_FRAME + 1), 0);
	int closed_max1 = raw_wait_closed(fd);
	close(fd);

	fd = stress_connect_hello(f);
	int huge_default = send_packet(fd, big, UINT32_MAX);
	int want = INT32_MAX / 2;
	int forced = setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &want, sizeof(want));
	int huge_forced = forced == 0 ? send_packet(fd, big, UINT32_MAX) : 0;
	close(fd);
	int sndbuf = 0;
	memset(big, 0, MMIO_MAX_FRAME + 16);
	size_t largest = largest_packet(big, &sndbuf);
	fd = stress_connect_hello(f);
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &want, sizeof(want)) < 0) {
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &want, sizeof(want));
	}
	assert_int_equal(send_packet(fd, big, largest), 0);
	int closed_largest = raw_wait_closed(fd);
	close(fd);
	munmap(big, (size_t)UINT32_MAX + 1);

	assert_int_equal(stress_settle(probe), 0);
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
	stress_assert_serves(f);
	mmio_disconnect(probe);
	stress_assert_stops(f, "packet sizes");
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
			int fd = stress_connect_hello(f);
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
	stress_assert_serves(f);
	stress_assert_stops(f, "length fields");
}

/* n connections, each sends one oversize packet (half after Hello) and is closed. */
static unsigned
send_oversize_frames(const struct daemon_fixture *f, const uint8_t *buf, unsigned n)
{
	unsigned closed = 0;
	for (unsigned i = 0; i < n; i++) {
		int fd = i % 2 ? stress_connect_hello(f) : raw_connect(f->socket_path);
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
	struct mmio_client *probe = stress_open_probe(f);
	/* Warm-up: what the first oversize frames make malloc and libevent set up for good. */
	assert_int_equal(send_oversize_frames(f, buf, 100), 100);
	assert_int_equal(stress_settle(probe), 0);
	long rss_before = proc_rss_kib(f->pid);
	int fds_before = proc_fd_count(f->pid);
	uint64_t t0 = stress_now_ns();
	unsigned closed = send_oversize_frames(f, buf, n);
	uint64_t t1 = stress_now_ns();
	assert_int_equal(stress_settle(probe), 0);
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
	stress_assert_stops(f, "oversize frames");
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
	int copies[WIRE_MAX_RECV_FDS];
	for (unsigned i = 0; i < n_fds && i < WIRE_MAX_RECV_FDS; i++) {
		copies[i] = fd;
	}
	return raw_send_fds(sock, frame, len, copies, n_fds);
}

/*
 * 1000 messages carrying fds (SCM_RIGHTS), with mmiod told not to have the
 * kernel refuse them (as before Linux 6.16): a request with 1 to 253 fds (the
 * most a message carries) is answered, and mmiod closed them aside (never on
 * its loop: closing can sleep); on an oversize frame the connection is closed.
 * Every fd is a copy of one pipe's write end, so once the test closes its
 * own, the read end sees EOF only if mmiod and the kernel closed every copy;
 * and mmiod's fd count is what it was before.
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
	int sock = stress_connect_hello(f);
	int fds_before = proc_fd_count(f->pid);
	unsigned answered = 0, closed = 0, fds_sent = 0, wrong = 0;
	for (unsigned i = 0; i < n; i++) {
		unsigned k = n_fds[i % (sizeof(n_fds) / sizeof(n_fds[0]))];
		bool oversize = i % 50 == 49;
		bool should_close = oversize;
		assert_int_equal(
			send_with_fds(sock, pipefd[1], k, oversize ? MMIO_MAX_FRAME + 1 : 0, frame),
			0);
		fds_sent += k;
		if (should_close) {
			bool c = raw_wait_closed(sock);
			closed += c;
			wrong += !c;
			close(sock);
			sock = stress_connect_hello(f);
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
		"SCM_RIGHTS without SO_PASSRIGHTS: %u messages carrying %u fds (1, 2, 8, 9, 253 "
		"per message, every 50th on an oversize frame): %u answered, %u closed, %u "
		"wrong; mmiod fds %d -> %d; every copy closed (pipe EOF): %s: %s",
		n, fds_sent, answered, closed, wrong, fds_before, fds_after, eof ? "yes" : "no",
		pass ? "PASS" : "FAIL");
	assert_int_equal(wrong, 0);
	assert_int_equal(fds_after, fds_before);
	assert_true(eof);
	stress_assert_stops(f, "SCM_RIGHTS");
}

/*
 * Where the kernel can (Linux >= 6.16), mmiod has it refuse every message
 * carrying fds at the sender: nothing reaches mmiod, the connection is
 * untouched, and mmiod's fd count does not move.
 */
static void
test_flood_scm_rights_refused(void **state)
{
	struct daemon_fixture *f = *state;
	if (!raw_kernel_refuses_fds()) {
		stress_report("SCM_RIGHTS refused: this kernel cannot (SO_PASSRIGHTS): SKIP");
		stress_assert_stops(f, "SCM_RIGHTS refused");
		return;
	}
	static const unsigned n_fds[] = {1, 2, 8, 9, 253};
	unsigned n = stress_count(1000, 200);
	int pipefd[2];
	assert_int_equal(pipe2(pipefd, O_CLOEXEC), 0);
	uint8_t *frame = calloc(1, MMIO_MAX_FRAME + 1);
	assert_non_null(frame);
	int sock = stress_connect_hello(f);
	int fds_before = proc_fd_count(f->pid);
	unsigned refused = 0;
	for (unsigned i = 0; i < n; i++) {
		unsigned k = n_fds[i % (sizeof(n_fds) / sizeof(n_fds[0]))];
		refused += send_with_fds(sock, pipefd[1], k, 0, frame) == -EPERM;
	}
	/* The same frame without fds is answered: the connection is as it was. */
	Mmio__ListRegions list = MMIO__LIST_REGIONS__INIT;
	Mmio__Request req = MMIO__REQUEST__INIT;
	req.id = 9;
	req.body_case = MMIO__REQUEST__BODY_LIST_REGIONS;
	req.list_regions = &list;
	assert_int_equal(raw_send(sock, &req), 0);
	Mmio__Reply *reply = raw_recv(sock);
	assert_non_null(reply);
	assert_int_equal(reply->id, 9);
	assert_int_equal(reply->status, MMIO__STATUS__OK);
	mmio__reply__free_unpacked(reply, NULL);
	int fds_after = proc_fd_count(f->pid);
	close(sock);
	free(frame);
	close(pipefd[0]);
	close(pipefd[1]);
	bool pass = refused == n && fds_after == fds_before;
	stress_report("SCM_RIGHTS refused: %u of %u messages carrying fds refused (EPERM); "
		      "mmiod fds %d -> %d: %s",
		      refused, n, fds_before, fds_after, pass ? "PASS" : "FAIL");
	assert_int_equal(refused, n);
	assert_int_equal(fds_after, fds_before);
	stress_assert_stops(f, "SCM_RIGHTS refused");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, stress_setup, stress_teardown)
		T(test_flood_packet_sizes),
		T(test_flood_length_fields),
		T(test_flood_10000_oversize_frames),
		T(test_flood_scm_rights_refused),
		cmocka_unit_test_setup_teardown(test_flood_scm_rights_closed,
						stress_setup_no_passrights, stress_teardown),
#undef T
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
