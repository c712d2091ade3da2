/*
 * libFuzzer harness (a): one frame as conn.c receives it. protobuf-c unpacks it
 * with the arena allocator, dispatch() handles it against mem regions, the reply
 * is packed (and must fit a frame and decode again), then everything is freed;
 * a deferred Poll gets its last attempt. fuzz_common.c checks the outcome.
 *
 * Input: one setup byte, then the frame (at most MMIO_MAX_FRAME bytes).
 *   bits 0-1  the caller: root, user, admin or stranger (fuzz_common.h)
 *   bit 2     the connection has said Hello (without it, anything but Hello closes it)
 *   bit 3     the connection is over a limit: Hello is answered RESOURCE_EXHAUSTED
 * Every input starts from the same state: another connection (uid 1000) holds
 * ram [0xf00, +0x100); after Hello, the caller holds what its grants allow of
 * ram [0, +0x100), ram [0x100, +0), regs [0, +0x40) and ram [0x800, +0x100),
 * acquired in that order. Lease ids in the frame are relative to the first of
 * these leases (fuzz_rebase_lease_ids): 1 is the other connection's, 2.. the
 * caller's, 0 one released before. All leases are revoked after each input.
 */
#include <stdint.h>
#include <string.h>

#include "fuzz_common.h"
#include "mmio_limits.h"

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

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* conn.c drops a larger frame before decoding it. */
	if (size < 1 || size - 1 > MMIO_MAX_FRAME) {
		return 0;
	}
	uint8_t setup = data[0];
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
	}
	caller.refused = (setup & 8) != 0;
	fuzz_check_leases(all, 2);

	one_frame(&caller, all, data + 1, size - 1, base);

	session_finish(&caller);
	session_finish(&other);
	fuzz_check_leases(all, 2);
	for (unsigned i = 0; i < fuzz_world.table.count; i++) {
		FUZZ_CHECK(TAILQ_EMPTY(&fuzz_world.table.regions[i]->space.leases));
	}
	return 0;
}
