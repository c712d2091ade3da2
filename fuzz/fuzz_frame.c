/*
 * libFuzzer harness (a): one frame as conn.c receives it. The client sends it
 * over a real socket pair (SOCK_SEQPACKET), with descriptors attached if the
 * input says so; it is received as conn_read_cb() receives it (wire_recv_keep_fds
 * into a buffer of limits.max_frame bytes, every fd closed through
 * fd_closer_close()), then protobuf-c unpacks it with the arena allocator,
 * dispatch() handles it against the world's regions (mem and sim), the reply is
 * packed (and must fit a frame and decode again), then everything is freed; a
 * deferred Poll gets its last attempt. fuzz_common.c checks the outcome; after
 * the input no descriptor may be left open, in this process or in flight
 * (fuzz_fds_close_check).
 *
 * Input: one setup byte, two more if bit 4 says so, then the frame (at most
 * MMIO_MAX_FRAME + 1 bytes).
 *   bits 0-1  the caller: root, user, admin or stranger (fuzz_common.h)
 *   bit 2     the connection has said Hello (without it, anything but Hello closes it)
 *   bit 3     the connection is over a limit: Hello is answered RESOURCE_EXHAUSTED
 *   bit 4     descriptors come with the frame: the next byte is how many (over
 *             WIRE_MAX_RECV_FDS reads as that), the byte after it their kinds
 *             (enum fuzz_fd_kind, a pattern of 2 bits each)
 *   bit 5     fd_closer runs its helper thread (fd_closer_start()); it is stopped,
 *             every close made, before the leak check
 *   bit 6     limits.max_frame is 256, the least mmiod.conf allows: a longer frame is
 *             cut (MSG_TRUNC) and closes the connection
 *   bit 7     mmiod is short of descriptors: RLIMIT_NOFILE leaves room for half of
 *             those attached while it receives (MSG_CTRUNC: the kernel drops the rest)
 * An empty frame reads as the client's hangup, as in conn.c. Every input starts
 * from the same state: another connection (uid 1000) holds
 * ram [0xf00, +0x100); after Hello, the caller holds what its grants allow of
 * ram [0, +0x100), ram [0x100, +0), regs [0, +0x40), ram [0x800, +0x100) and
 * dev [0, +0x60) (the sim region), acquired in that order. Lease ids in the
 * frame are relative to the first of these leases (fuzz_rebase_lease_ids): 1 is
 * the other connection's, 2.. the caller's, 0 one released before. All leases
 * are revoked after each input, and dev is reset (fuzz_world_finish).
 */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sanitizer/asan_interface.h>

#include "base/fd_closer.h"
#include "core/limits.h"
#include "fuzz_common.h"
#include "fuzz_maps.h"
#include "mmio_limits.h"
#include "wire.h"

enum {
	SETUP_FDS = 0x10,
	SETUP_THREAD = 0x20,
	SETUP_SMALL_FRAME = 0x40,
	SETUP_FEW_FDS = 0x80,
};

/* The least max_frame mmiod.conf allows (conf.c). */
#define SMALL_MAX_FRAME 256

/* Acquires [offset, offset+length) of region for s; its id, or 0 if not granted. */
static uint64_t
acquire(struct session *s, const char *region, uint64_t offset, uint64_t length)
{
	Mmio__Acquire body = MMIO__ACQUIRE__INIT;
	body.region = (char *)region;
	body.offset = offset;
	body.length = length;
	Mmio__Request req = MMIO__REQUEST__INIT;
	req.body_case = MMIO__REQUEST__BODY_ACQUIRE;
	req.acquire = &body;
	struct fuzz_exchange x;
	fuzz_exchange_run(&x, s, &req);
	uint64_t id = x.reply.status == MMIO__STATUS__OK ? x.reply.lease->id : 0;
	fuzz_exchange_finish(&x);
	return id;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv) /* NOLINT(readability-non-const-parameter) */
{
	(void)argc;
	(void)argv;
	fuzz_world_init(MMIO_MAX_LEASES_PER_CONN);
	return 0;
}

/* One frame from s's client, handled as conn_read_cb() does. */
static void
one_frame(struct session *s, struct session *const *all, const uint8_t *frame, size_t len,
	  uint64_t base)
{
	Mmio__Request *req = fuzz_unpack(frame, len);
	if (!req) {
		return;
	}
	fuzz_rebase_lease_ids(req, base);
	struct fuzz_exchange x;
	fuzz_exchange_run(&x, s, req);
	enum dispatch_result res = x.res;
	struct poll_state poll = x.scratch.poll;
	fuzz_exchange_finish(&x);
	fuzz_free_unpacked(req);
	fuzz_check_leases(all, 2);
	if (res == DISPATCH_DEFER) {
		fuzz_exchange_poll(&x, s, &poll, true);
		fuzz_exchange_finish(&x);
		fuzz_check_leases(all, 2);
	}
}

/*
 * frame[0..len) from the client, with n_fds descriptors of the kinds pattern
 * names, over a fresh connection received as conn_read_cb() receives it; a
 * frame that comes through whole is handled by one_frame(). The connection is
 * closed as conn_destroy() closes it.
 */
static void
deliver(struct session *s, struct session *const *all, const uint8_t *frame, size_t len,
	uint64_t base, uint8_t setup, unsigned n_fds, uint8_t pattern)
{
	static uint8_t rx[MMIO_MAX_FRAME];
	struct fuzz_fds fds;
	fuzz_fds_open(&fds);
	if (setup & SETUP_THREAD) {
		FUZZ_CHECK(fd_closer_start() == 0 && fd_closer_threaded());
	}
	size_t cap = setup & SETUP_SMALL_FRAME ? SMALL_MAX_FRAME : MMIO_MAX_FRAME;
	fuzz_world.svc.limits.max_frame = cap;
	/* [0] mmiod's end, as accept4() gives it; [1] the client's. */
	int sp[2];
	FUZZ_CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sp) == 0);
	int sent[WIRE_MAX_RECV_FDS];
	fuzz_fds_pick(&fds, pattern, sp[1], sent, n_fds);
	FUZZ_CHECK(fuzz_send_fds(sp[1], frame, len, sent, n_fds, 0) == (ssize_t)len);

	unsigned room = setup & SETUP_FEW_FDS ? n_fds / 2 : UINT_MAX;
	unsigned got;
	ssize_t n = fuzz_conn_recv(sp[0], rx, cap, sent, n_fds, room, &got);
	if (got == n_fds) {
		FUZZ_CHECK(n == (len > cap ? -EMSGSIZE : (ssize_t)len));
	}
	/* One frame in, one out: nothing else is queued. */
	errno = 0;
	FUZZ_CHECK(recv(sp[0], rx, 1, MSG_DONTWAIT) < 0 && errno == EAGAIN);
	if (n > 0) {
		/* conn.c decodes from its receive buffer: past the frame, nothing may be read. */
		ASAN_POISON_MEMORY_REGION(rx + n, cap - (size_t)n);
		one_frame(s, all, rx, (size_t)n, base);
		ASAN_UNPOISON_MEMORY_REGION(rx + n, cap - (size_t)n);
	}
	/* n <= 0: the client hung up (an empty frame reads so) or sent too much; conn_destroy(). */
	session_finish(s, LEASE_END_DISCONNECT);
	fd_closer_close(&sp[0]);
	close(sp[1]);
	fuzz_fds_close_check(&fds);
	fuzz_world.svc.limits.max_frame = MMIO_MAX_FRAME;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1) {
		return 0;
	}
	uint8_t setup = data[0];
	size_t head = 1;
	unsigned n_fds = 0;
	uint8_t pattern = 0;
	if (setup & SETUP_FDS) {
		if (size < 3) {
			return 0;
		}
		n_fds = data[1] < WIRE_MAX_RECV_FDS ? data[1] : WIRE_MAX_RECV_FDS;
		pattern = data[2];
		head = 3;
	}
	/* Past one byte over the limit, a longer frame tells nothing new. */
	if (size - head > MMIO_MAX_FRAME + 1) {
		return 0;
	}
	fuzz_world_reset();

	struct session caller;
	struct session other;
	struct session *const all[] = {&caller, &other};
	session_init(&other, 1, &fuzz_world.svc, &fuzz_world.ids[FUZZ_ID_USER]);
	other.hello_done = true;
	session_init(&caller, 2, &fuzz_world.svc, &fuzz_world.ids[setup & 3]);
	uint64_t base = acquire(&other, "ram", 0xf00, 0x100);
	FUZZ_CHECK(base != 0);
	if (setup & 4) {
		caller.hello_done = true;
		acquire(&caller, "ram", 0, 0x100);
		acquire(&caller, "ram", 0x100, 0);
		acquire(&caller, "regs", 0, 0x40);
		acquire(&caller, "ram", 0x800, 0x100);
		acquire(&caller, "dev", 0, FUZZ_DEV_RW);
	}
	caller.refused = (setup & 8) != 0;
	fuzz_check_leases(all, 2);

	deliver(&caller, all, data + head, size - head, base, setup, n_fds, pattern);

	session_finish(&other, LEASE_END_DISCONNECT);
	fuzz_check_leases(all, 2);
	for (unsigned i = 0; i < fuzz_world.table.count; i++) {
		FUZZ_CHECK(TAILQ_EMPTY(&fuzz_world.table.regions[i]->space.leases));
	}
	fuzz_world_finish();
	return 0;
}
