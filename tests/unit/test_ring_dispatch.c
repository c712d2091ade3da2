/*
 * dispatch_ring() end to end on a session, as conn_ring.c calls it: every op,
 * its errors against what the socket request says (status and detail), unknown
 * ops, the max per call, a full CQ, client indices out of step, and a second
 * RingSetup. The client's side is played through its own mapping of the memfd
 * RingSetup passed (tests/helpers/ring_client.h). ring.c alone: test_ring.c.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config/conf.h"
#include "core/lease.h"
#include "device/backend.h"
#include "device/region.h"
#include "device/region_table.h"
#include "mmio.pb-c.h"
#include "mmio_ring.h"
#include "request/dispatch.h"
#include "request/ring.h"
#include "request/service.h"
#include "ring_client.h"
#include "service_config.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#define MEM_SIZE 256
#define ENTRIES  16

struct session_fixture {
	struct region_table table;
	struct service svc;
	struct session s;
	struct session other;
	uint8_t *mem;          /* the region's bytes */
	struct lease *rw;      /* [0, 0x80), read-write, acquired through dispatch() */
	struct lease *ro;      /* [0x80, 0xc0), read-only */
	struct lease *odd;     /* [0xc1, 0xd1), read-write, odd absolute start */
	struct lease *other_l; /* [0xe0, 0x100), held by the other session */
	struct ring_client c;  /* never rings: nothing runs dispatch_ring() but the test */
	int doorbell;
	uint64_t next_id;
};

static Mmio__Reply
run(struct session_fixture *f, struct session *s, Mmio__Request *req, struct reply_scratch *scratch)
{
	Mmio__Reply reply = MMIO__REPLY__INIT;
	req->id = ++f->next_id;
	assert_int_equal(dispatch(s, req, &reply, scratch), DISPATCH_REPLY);
	assert_int_equal(reply.id, req->id);
	return reply;
}

static void
hello(struct session_fixture *f, struct session *s)
{
	Mmio__Hello body = MMIO__HELLO__INIT;
	body.version = MMIO_PROTOCOL_VERSION;
	Mmio__Request req = MMIO__REQUEST__INIT;
	req.body_case = MMIO__REQUEST__BODY_HELLO;
	req.hello = &body;
	struct reply_scratch scratch;
	Mmio__Reply reply = run(f, s, &req, &scratch);
	assert_int_equal(reply.status, MMIO__STATUS__OK);
	assert_true(reply.hello->features & MMIO_FEATURE_RING);
	reply_finish(&scratch);
}

static struct lease *
acquire(struct session_fixture *f, struct session *s, uint64_t offset, uint64_t length)
{
	Mmio__Acquire body = MMIO__ACQUIRE__INIT;
	body.region = "mem";
	body.offset = offset;
	body.length = length;
	Mmio__Request req = MMIO__REQUEST__INIT;
	req.body_case = MMIO__REQUEST__BODY_ACQUIRE;
	req.acquire = &body;
	struct reply_scratch scratch;
	Mmio__Reply reply = run(f, s, &req, &scratch);
	assert_int_equal(reply.status, MMIO__STATUS__OK);
	struct lease *l = lease_find(&s->leases, reply.lease->id);
	assert_non_null(l);
	reply_finish(&scratch);
	return l;
}

static int
setup_session(void **state)
{
	struct session_fixture *f = test_calloc(1, sizeof(*f));
	struct backend *b;
	char err[256] = "";
	assert_int_equal(backend_open(&(struct region_spec){.type = "mem", .size = MEM_SIZE}, &b,
				      err, sizeof(err)),
			 0);
	assert_int_equal(b->addr % 4096, 0);
	f->mem = b->base;
	for (unsigned i = 0; i < MEM_SIZE; i++) {
		f->mem[i] = (uint8_t)(i * 7 + 1);
	}
	f->table.regions[0] = region_create("mem", b);
	assert_non_null(f->table.regions[0]);
	f->table.count = 1;
	struct mmiod_config cfg;
	conf_init(&cfg);
	service_init(&f->svc, &f->table, &cfg, (uid_t)-1);
	conf_finish(&cfg);
	assert_true(f->svc.limits.max_rings > 0);

	/* root: may lease anything read-write without a grant. */
	struct identity root = {.pid = 10, .uid = 0, .gid = 0};
	session_init(&f->s, 1, &f->svc, &root);
	session_init(&f->other, 2, &f->svc, &root);
	hello(f, &f->s);
	hello(f, &f->other);

	Mmio__RingSetup body = MMIO__RING_SETUP__INIT;
	body.entries = ENTRIES;
	Mmio__Request req = MMIO__REQUEST__INIT;
	req.body_case = MMIO__REQUEST__BODY_RING_SETUP;
	req.ring_setup = &body;
	struct reply_scratch scratch;
	Mmio__Reply reply = run(f, &f->s, &req, &scratch);
	assert_int_equal(reply.status, MMIO__STATUS__OK);
	assert_int_equal(reply.body_case, MMIO__REPLY__BODY_RING);
	assert_int_equal(reply.ring->entries, ENTRIES);
	assert_int_equal(reply.ring->size, MMIO_RING_SIZE(ENTRIES));
	assert_non_null(f->s.ring);
	assert_int_equal(f->svc.n_rings, 1);
	assert_true(scratch.pass_fds[0] >= 0 && scratch.pass_fds[1] >= 0);
	ring_client_map(&f->c, scratch.pass_fds[0], -1);
	close(scratch.pass_fds[0]);
	f->doorbell = scratch.pass_fds[1];
	reply_finish(&scratch);

	f->rw = acquire(f, &f->s, 0, 0x80);
	assert_int_equal(
		lease_acquire(&f->table.regions[0]->space, &f->s.leases, 0x80, 0x40, &f->ro), 0);
	f->ro->read_only = true;
	f->odd = acquire(f, &f->s, 0xc1, 0x10);
	f->other_l = acquire(f, &f->other, 0xe0, 0x20);
	*state = f;
	return 0;
}

static int
teardown_session(void **state)
{
	struct session_fixture *f = *state;
	assert_int_equal(ring_client_unmap(&f->c), 0);
	close(f->doorbell);
	session_finish(&f->s, LEASE_END_DISCONNECT);
	session_finish(&f->other, LEASE_END_DISCONNECT);
	assert_int_equal(f->svc.n_rings, 0);
	assert_null(f->s.ring);
	region_table_close(&f->table);
	test_free(f);
	return 0;
}

/* The little-endian value of width bytes at off of the region. */
static uint64_t
peek(const struct session_fixture *f, uint64_t off, unsigned width)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < width; i++) {
		v |= (uint64_t)f->mem[off + i] << (8 * i);
	}
	return v;
}

static void
test_dispatch_ring_ops(void **state)
{
	struct session_fixture *f = *state;
	struct ring_client *c = &f->c;
	uint64_t rw = f->rw->id;
	uint64_t requests = f->svc.requests;

	ring_client_submit(c,
			   ring_client_sqe(MMIO_RING_OP_STORE, rw, 8, 8, 0x1122334455667788, 0, 1));
	ring_client_submit(c, ring_client_sqe(MMIO_RING_OP_LOAD, rw, 8, 8, 0, 0, 2));
	ring_client_submit(c, ring_client_sqe(MMIO_RING_OP_LOAD, rw, 12, 4, 0, 0, 3));
	ring_client_submit(c, ring_client_sqe(MMIO_RING_OP_LOAD, rw, 15, 1, 0, 0, 4));
	ring_client_submit(
		c, ring_client_sqe(MMIO_RING_OP_MODIFY, rw, 8, 4, 0xabcd0000, 0xffff0000, 5));
	ring_client_submit(c, ring_client_sqe(MMIO_RING_OP_BARRIER, rw, 0, 0, 0, 0, 6));
	ring_client_submit(c, ring_client_sqe(MMIO_RING_OP_STORE, rw, 0x7e, 2, 0xbeef, 0, 7));
	ring_client_submit(c, ring_client_sqe(MMIO_RING_OP_LOAD, f->ro->id, 0x38, 8, 0, 0, 8));
	ring_client_submit(c, ring_client_sqe(MMIO_RING_OP_LOAD, f->odd->id, 1, 2, 0, 0, 9));
	uint64_t ro_value = peek(f, 0xb8, 8);
	uint64_t odd_value = peek(f, 0xc2, 2);
	memset(c->hdr->detail, 'X', sizeof(c->hdr->detail) - 1);

	assert_int_equal(dispatch_ring(&f->s, 100), 9);
	assert_int_equal(f->svc.requests, requests + 9);
	assert_int_equal(c->hdr->sq_head, 9);
	assert_int_equal(c->hdr->cq_tail, 9);

	static const uint64_t values[] = {
		0, 0x1122334455667788, 0x11223344, 0x11, 0x55667788, 0, 0,
	};
	for (uint64_t i = 0; i < ARRAY_LEN(values); i++) {
		struct mmio_ring_cqe cqe = ring_client_reap(c);
		assert_int_equal(cqe.user_data, i + 1);
		assert_int_equal(cqe.status, MMIO__STATUS__OK);
		assert_int_equal(cqe.value, values[i]);
	}
	struct mmio_ring_cqe cqe = ring_client_reap(c);
	assert_int_equal(cqe.status, MMIO__STATUS__OK);
	assert_int_equal(cqe.value, ro_value);
	cqe = ring_client_reap(c);
	assert_int_equal(cqe.status, MMIO__STATUS__OK);
	assert_int_equal(cqe.value, odd_value);

	/* The device saw exactly that. */
	assert_int_equal(peek(f, 8, 4), 0xabcd7788);
	assert_int_equal(peek(f, 12, 4), 0x11223344);
	assert_int_equal(peek(f, 0x7e, 2), 0xbeef);
	/* No op failed, so no detail was written. */
	assert_int_equal(c->hdr->detail[0], 'X');
	assert_int_equal(dispatch_ring(&f->s, 100), 0);
	assert_int_equal(f->svc.requests, requests + 9);
}

/* The socket request an sqe stands for, run on the same session: its status and detail. */
static Mmio__Status
socket_status(struct session_fixture *f, const struct mmio_ring_sqe *sqe, char *detail,
	      size_t detail_len)
{
	Mmio__Request req = MMIO__REQUEST__INIT;
	Mmio__Load load = MMIO__LOAD__INIT;
	Mmio__Store store = MMIO__STORE__INIT;
	Mmio__Modify modify = MMIO__MODIFY__INIT;
	Mmio__Barrier barrier = MMIO__BARRIER__INIT;
	switch (sqe->op) {
	case MMIO_RING_OP_LOAD:
		load.lease = sqe->lease;
		load.offset = sqe->offset;
		load.width = sqe->width;
		req.body_case = MMIO__REQUEST__BODY_LOAD;
		req.load = &load;
		break;
	case MMIO_RING_OP_STORE:
		store.lease = sqe->lease;
		store.offset = sqe->offset;
		store.width = sqe->width;
		store.value = sqe->value;
		req.body_case = MMIO__REQUEST__BODY_STORE;
		req.store = &store;
		break;
	case MMIO_RING_OP_MODIFY:
		modify.lease = sqe->lease;
		modify.offset = sqe->offset;
		modify.width = sqe->width;
		modify.mask = sqe->mask;
		modify.value = sqe->value;
		req.body_case = MMIO__REQUEST__BODY_MODIFY;
		req.modify = &modify;
		break;
	case MMIO_RING_OP_BARRIER:
		barrier.lease = sqe->lease;
		req.body_case = MMIO__REQUEST__BODY_BARRIER;
		req.barrier = &barrier;
		break;
	default:
		fail_msg("op %u has no socket request", sqe->op);
	}
	struct reply_scratch scratch;
	Mmio__Reply reply = run(f, &f->s, &req, &scratch);
	snprintf(detail, detail_len, "%s", reply.detail ? reply.detail : "");
	reply_finish(&scratch);
	return reply.status;
}

static void
test_dispatch_ring_errors(void **state)
{
	struct session_fixture *f = *state;
	struct ring_client *c = &f->c;
	uint64_t rw = f->rw->id, ro = f->ro->id, odd = f->odd->id;
	uint64_t gone = f->other_l->id + 1000;
	const struct {
		struct mmio_ring_sqe sqe;
		Mmio__Status want;
	} cases[] = {
		{ring_client_sqe(MMIO_RING_OP_LOAD, rw, 0, 3, 0, 0, 0),
		 MMIO__STATUS__INVALID_ARGUMENT},
		{ring_client_sqe(MMIO_RING_OP_LOAD, rw, 0, 0, 0, 0, 0),
		 MMIO__STATUS__INVALID_ARGUMENT},
		{ring_client_sqe(MMIO_RING_OP_LOAD, rw, 0, 16, 0, 0, 0),
		 MMIO__STATUS__INVALID_ARGUMENT},
		{ring_client_sqe(MMIO_RING_OP_STORE, rw, 0, 255, 0, 0, 0),
		 MMIO__STATUS__INVALID_ARGUMENT},
		{ring_client_sqe(MMIO_RING_OP_LOAD, rw, 2, 4, 0, 0, 0), MMIO__STATUS__UNALIGNED},
		{ring_client_sqe(MMIO_RING_OP_STORE, rw, 1, 8, 0, 0, 0), MMIO__STATUS__UNALIGNED},
		{ring_client_sqe(MMIO_RING_OP_MODIFY, rw, 6, 4, 0, 0, 0), MMIO__STATUS__UNALIGNED},
		/* Alignment is judged on the absolute address: odd starts at 0xc1. */
		{ring_client_sqe(MMIO_RING_OP_LOAD, odd, 0, 2, 0, 0, 0), MMIO__STATUS__UNALIGNED},
		{ring_client_sqe(MMIO_RING_OP_STORE, odd, 1, 4, 0, 0, 0), MMIO__STATUS__UNALIGNED},
		{ring_client_sqe(MMIO_RING_OP_LOAD, odd, 3, 4, 0, 0, 0), MMIO__STATUS__OK},
		{ring_client_sqe(MMIO_RING_OP_LOAD, odd, 15, 1, 0, 0, 0), MMIO__STATUS__OK},
		{ring_client_sqe(MMIO_RING_OP_LOAD, rw, 0x80, 1, 0, 0, 0),
		 MMIO__STATUS__OUT_OF_RANGE},
		{ring_client_sqe(MMIO_RING_OP_LOAD, rw, 0x7c, 8, 0, 0, 0), MMIO__STATUS__UNALIGNED},
		{ring_client_sqe(MMIO_RING_OP_LOAD, rw, 0x80, 8, 0, 0, 0),
		 MMIO__STATUS__OUT_OF_RANGE},
		{ring_client_sqe(MMIO_RING_OP_STORE, rw, 0x80, 4, 0, 0, 0),
		 MMIO__STATUS__OUT_OF_RANGE},
		{ring_client_sqe(MMIO_RING_OP_MODIFY, rw, 0x100, 4, 0, ~0ull, 0),
		 MMIO__STATUS__OUT_OF_RANGE},
		{ring_client_sqe(MMIO_RING_OP_LOAD, rw, UINT64_MAX - 7, 8, 0, 0, 0),
		 MMIO__STATUS__OUT_OF_RANGE},
		{ring_client_sqe(MMIO_RING_OP_STORE, rw, UINT64_MAX, 1, 0, 0, 0),
		 MMIO__STATUS__OUT_OF_RANGE},
		{ring_client_sqe(MMIO_RING_OP_STORE, rw, 0, 1, 0x100, 0, 0),
		 MMIO__STATUS__INVALID_ARGUMENT},
		{ring_client_sqe(MMIO_RING_OP_STORE, rw, 0, 4, 1ull << 32, 0, 0),
		 MMIO__STATUS__INVALID_ARGUMENT},
		/* Read-only: stores and modifies refused before any other check; loads run. */
		{ring_client_sqe(MMIO_RING_OP_STORE, ro, 0, 4, 0, 0, 0),
		 MMIO__STATUS__PERMISSION_DENIED},
		{ring_client_sqe(MMIO_RING_OP_STORE, ro, 1, 3, 0x1ff, 0, 0),
		 MMIO__STATUS__PERMISSION_DENIED},
		{ring_client_sqe(MMIO_RING_OP_MODIFY, ro, 0, 4, 0, ~0ull, 0),
		 MMIO__STATUS__PERMISSION_DENIED},
		{ring_client_sqe(MMIO_RING_OP_MODIFY, ro, 0x1000, 3, 0, 0, 0),
		 MMIO__STATUS__PERMISSION_DENIED},
		{ring_client_sqe(MMIO_RING_OP_LOAD, ro, 0, 4, 0, 0, 0), MMIO__STATUS__OK},
		{ring_client_sqe(MMIO_RING_OP_BARRIER, ro, 0x1000, 3, 0, 0, 0), MMIO__STATUS__OK},
		/* Leases that are not this connection's. */
		{ring_client_sqe(MMIO_RING_OP_LOAD, gone, 0, 4, 0, 0, 0), MMIO__STATUS__NOT_FOUND},
		{ring_client_sqe(MMIO_RING_OP_STORE, 0, 0, 4, 0, 0, 0), MMIO__STATUS__NOT_FOUND},
		{ring_client_sqe(MMIO_RING_OP_MODIFY, UINT64_MAX, 0, 4, 0, 0, 0),
		 MMIO__STATUS__NOT_FOUND},
		{ring_client_sqe(MMIO_RING_OP_BARRIER, gone, 0, 0, 0, 0, 0),
		 MMIO__STATUS__NOT_FOUND},
		{ring_client_sqe(MMIO_RING_OP_LOAD, f->other_l->id, 0, 4, 0, 0, 0),
		 MMIO__STATUS__NOT_FOUND},
		{ring_client_sqe(MMIO_RING_OP_STORE, f->other_l->id, 0, 4, 0, 0, 0),
		 MMIO__STATUS__NOT_FOUND},
	};
	uint8_t before[MEM_SIZE];
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		struct mmio_ring_sqe sqe = cases[i].sqe;
		sqe.user_data = 1000 + i;
		memcpy(before, f->mem, MEM_SIZE);
		memset(c->hdr->detail, 'X', sizeof(c->hdr->detail));
		c->hdr->detail_user_data = 0;
		ring_client_submit(c, sqe);
		assert_int_equal(dispatch_ring(&f->s, 1), 1);
		struct mmio_ring_cqe cqe = ring_client_reap(c);
		if (cqe.status != (uint32_t)cases[i].want) {
			print_error("case %zu: status %u\n", i, cqe.status);
		}
		assert_int_equal(cqe.user_data, 1000 + i);
		assert_int_equal(cqe.status, cases[i].want);
		if (cases[i].want != MMIO__STATUS__OK) {
			assert_int_equal(cqe.value, 0);
			assert_memory_equal(f->mem, before, MEM_SIZE);
			assert_int_equal(c->hdr->detail_user_data, 1000 + i);
			assert_true(strnlen(c->hdr->detail, MMIO_RING_DETAIL) < MMIO_RING_DETAIL);
		} else {
			assert_int_equal(c->hdr->detail_user_data, 0);
			assert_int_equal(c->hdr->detail[0], 'X');
		}
		/* The socket request says the same, to the letter. */
		char detail[256];
		Mmio__Status st = socket_status(f, &sqe, detail, sizeof(detail));
		if (st != cases[i].want) {
			print_error("case %zu: socket status %d\n", i, st);
		}
		assert_int_equal(st, cases[i].want);
		if (cases[i].want != MMIO__STATUS__OK) {
			assert_string_equal(c->hdr->detail, detail);
		}
	}
}

static void
test_dispatch_ring_unknown_op(void **state)
{
	struct session_fixture *f = *state;
	struct ring_client *c = &f->c;
	static const uint8_t ops[] = {0, 5, 0x80, 0xff};
	for (size_t i = 0; i < ARRAY_LEN(ops); i++) {
		ring_client_submit(c, ring_client_sqe(ops[i], f->rw->id, 0, 4, 0, 0, i));
		/* The lease is looked up first. */
		ring_client_submit(c, ring_client_sqe(ops[i], 12345678, 0, 4, 0, 0, 100 + i));
	}
	uint8_t before[MEM_SIZE];
	memcpy(before, f->mem, MEM_SIZE);
	assert_int_equal(dispatch_ring(&f->s, 100), 2 * ARRAY_LEN(ops));
	for (size_t i = 0; i < ARRAY_LEN(ops); i++) {
		struct mmio_ring_cqe cqe = ring_client_reap(c);
		assert_int_equal(cqe.user_data, i);
		assert_int_equal(cqe.status, MMIO__STATUS__INVALID_ARGUMENT);
		assert_int_equal(cqe.value, 0);
		cqe = ring_client_reap(c);
		assert_int_equal(cqe.user_data, 100 + i);
		assert_int_equal(cqe.status, MMIO__STATUS__NOT_FOUND);
	}
	assert_memory_equal(f->mem, before, MEM_SIZE);
	/* The last failure is the one the detail explains. */
	assert_int_equal(c->hdr->detail_user_data, 100 + ARRAY_LEN(ops) - 1);
	assert_non_null(strstr(c->hdr->detail, "no lease 12345678"));
}

static void
test_dispatch_ring_max(void **state)
{
	struct session_fixture *f = *state;
	struct ring_client *c = &f->c;
	uint64_t requests = f->svc.requests;
	for (uint64_t i = 0; i < 6; i++) {
		ring_client_submit(
			c, ring_client_sqe(MMIO_RING_OP_LOAD, f->rw->id, 8 * i, 8, 0, 0, i));
	}
	assert_int_equal(dispatch_ring(&f->s, 0), 0);
	assert_int_equal(c->hdr->sq_head, 0);
	assert_int_equal(c->hdr->cq_tail, 0);
	assert_int_equal(dispatch_ring(&f->s, 2), 2);
	assert_int_equal(c->hdr->sq_head, 2);
	assert_int_equal(c->hdr->cq_tail, 2);
	assert_int_equal(f->svc.requests, requests + 2);
	assert_int_equal(dispatch_ring(&f->s, 1), 1);
	assert_int_equal(dispatch_ring(&f->s, UINT32_MAX), 3);
	assert_int_equal(dispatch_ring(&f->s, UINT32_MAX), 0);
	assert_int_equal(f->svc.requests, requests + 6);
	for (uint64_t i = 0; i < 6; i++) {
		struct mmio_ring_cqe cqe = ring_client_reap(c);
		assert_int_equal(cqe.user_data, i);
		assert_int_equal(cqe.status, MMIO__STATUS__OK);
		assert_int_equal(cqe.value, peek(f, 8 * i, 8));
	}
}

static void
test_dispatch_ring_cq_full(void **state)
{
	struct session_fixture *f = *state;
	struct ring_client *c = &f->c;
	for (uint64_t i = 0; i < ENTRIES; i++) {
		ring_client_submit(c,
				   ring_client_sqe(MMIO_RING_OP_BARRIER, f->rw->id, 0, 0, 0, 0, i));
	}
	assert_int_equal(dispatch_ring(&f->s, 100), ENTRIES);
	for (uint64_t i = 0; i < 3; i++) {
		ring_client_submit(
			c, ring_client_sqe(MMIO_RING_OP_BARRIER, f->rw->id, 0, 0, 0, 0, 100 + i));
	}
	uint64_t requests = f->svc.requests;
	/* The CQ is full: nothing runs, and that is no protocol error. */
	assert_int_equal(dispatch_ring(&f->s, 100), 0);
	assert_int_equal(f->svc.requests, requests);
	ring_client_reap(c);
	ring_client_reap(c);
	assert_int_equal(dispatch_ring(&f->s, 100), 2);
	assert_int_equal(dispatch_ring(&f->s, 100), 0);
	for (uint64_t i = 2; i < ENTRIES; i++) {
		assert_int_equal(ring_client_reap(c).user_data, i);
	}
	assert_int_equal(ring_client_reap(c).user_data, 100);
	assert_int_equal(ring_client_reap(c).user_data, 101);
	assert_int_equal(dispatch_ring(&f->s, 100), 1);
	assert_int_equal(ring_client_reap(c).user_data, 102);
	assert_int_equal(f->svc.requests, requests + 3);
}

static void
test_dispatch_ring_out_of_step(void **state)
{
	struct session_fixture *f = *state;
	struct ring_client *c = &f->c;
	uint64_t requests = f->svc.requests;
	uint8_t before[MEM_SIZE];
	memcpy(before, f->mem, MEM_SIZE);
	ring_client_submit(c, ring_client_sqe(MMIO_RING_OP_STORE, f->rw->id, 0, 1, 0xaa, 0, 1));
	c->hdr->sq_tail = ENTRIES + 1;
	assert_int_equal(dispatch_ring(&f->s, 100), -EPROTO);
	assert_int_equal(f->svc.requests, requests);
	assert_int_equal(c->hdr->cq_tail, 0);
	assert_memory_equal(f->mem, before, MEM_SIZE);

	c->hdr->sq_tail = 1;
	c->hdr->cq_head = 7;
	assert_int_equal(dispatch_ring(&f->s, 100), -EPROTO);
	/* max 0 looks at nothing. */
	assert_int_equal(dispatch_ring(&f->s, 0), 0);
	assert_int_equal(f->svc.requests, requests);
	assert_memory_equal(f->mem, before, MEM_SIZE);
	/* teardown: session_finish() closes the ring as conn_destroy() would. */
}

/* A store of value at off of the rw lease, with flags. */
static struct mmio_ring_sqe
flagged_store(const struct session_fixture *f, uint64_t off, uint64_t value, uint8_t flags,
	      uint64_t user_data)
{
	struct mmio_ring_sqe sqe =
		ring_client_sqe(MMIO_RING_OP_STORE, f->rw->id, off, 1, value, 0, user_data);
	sqe.flags = flags;
	return sqe;
}

/*
 * Groups (the ring's MMIO_RING_FEATURE_GROUPS): one never runs in part. A dispatch whose budget
 * cannot hold it leaves it whole for the next; so does a window it does not end in, after the
 * singles before it ran; one needing more completions than the CQ has room for is a protocol
 * error, with nothing of it run.
 */
static void
test_dispatch_ring_groups(void **state)
{
	struct session_fixture *f = *state;
	struct ring_client *c = &f->c;
	const uint8_t aon = MMIO_RING_F_ALL_OR_NOTHING;
	const uint8_t link = MMIO_RING_F_LINK;
	f->s.ring->groups = true;
	uint64_t requests = f->svc.requests;

	for (uint64_t i = 0; i < 4; i++) {
		ring_client_submit(c, flagged_store(f, i, 0xa0 + i, aon | (i < 3 ? link : 0), i));
	}
	assert_int_equal(dispatch_ring(&f->s, 2), 0);
	assert_int_equal(c->hdr->sq_head, 0);
	assert_int_equal(f->mem[0], 1); /* as setup filled it: i * 7 + 1 */
	assert_int_equal(dispatch_ring(&f->s, 32), 4);
	for (uint64_t i = 0; i < 4; i++) {
		assert_int_equal(ring_client_reap(c).status, MMIO__STATUS__OK);
		assert_int_equal(f->mem[i], 0xa0 + i);
	}

	/* Two singles, then a group of three the budget of three cuts. */
	ring_client_submit(c, flagged_store(f, 8, 0xb0, 0, 10));
	ring_client_submit(c, flagged_store(f, 9, 0xb1, 0, 11));
	for (uint64_t i = 0; i < 3; i++) {
		ring_client_submit(
			c, flagged_store(f, 10 + i, 0xc0, aon | (i < 2 ? link : 0), 12 + i));
	}
	assert_int_equal(dispatch_ring(&f->s, 3), 2);
	assert_int_equal(f->mem[9], 0xb1);
	assert_int_not_equal(f->mem[10], 0xc0);
	assert_int_equal(dispatch_ring(&f->s, 3), 3);
	assert_int_equal(f->mem[12], 0xc0);
	for (uint64_t i = 0; i < 5; i++) {
		assert_int_equal(ring_client_reap(c).user_data, 10 + i);
	}
	assert_int_equal(f->svc.requests, requests + 9);

	/* CQ room for two: a group of three breaks the protocol and runs nothing. */
	for (uint64_t i = 0; i < ENTRIES - 2; i++) {
		ring_client_submit(c,
				   ring_client_sqe(MMIO_RING_OP_BARRIER, f->rw->id, 0, 0, 0, 0, i));
	}
	assert_int_equal(dispatch_ring(&f->s, 100), ENTRIES - 2);
	for (uint64_t i = 0; i < 3; i++) {
		ring_client_submit(c, flagged_store(f, 20 + i, 0xd0, aon | (i < 2 ? link : 0), i));
	}
	uint8_t before[MEM_SIZE];
	memcpy(before, f->mem, MEM_SIZE);
	assert_int_equal(dispatch_ring(&f->s, 100), -EPROTO);
	assert_memory_equal(f->mem, before, MEM_SIZE);
}

static void
test_ring_setup_twice(void **state)
{
	struct session_fixture *f = *state;
	Mmio__RingSetup body = MMIO__RING_SETUP__INIT;
	Mmio__Request req = MMIO__REQUEST__INIT;
	req.body_case = MMIO__REQUEST__BODY_RING_SETUP;
	req.ring_setup = &body;
	struct ring *r = f->s.ring;
	struct reply_scratch scratch;
	Mmio__Reply reply = run(f, &f->s, &req, &scratch);
	assert_int_equal(reply.status, MMIO__STATUS__INVALID_ARGUMENT);
	assert_int_equal(scratch.pass_fds[0], -1);
	assert_int_equal(scratch.pass_fds[1], -1);
	assert_ptr_equal(f->s.ring, r);
	assert_int_equal(f->svc.n_rings, 1);
	reply_finish(&scratch);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_dispatch_ring_ops, setup_session,
						teardown_session),
		cmocka_unit_test_setup_teardown(test_dispatch_ring_groups, setup_session,
						teardown_session),
		cmocka_unit_test_setup_teardown(test_dispatch_ring_errors, setup_session,
						teardown_session),
		cmocka_unit_test_setup_teardown(test_dispatch_ring_unknown_op, setup_session,
						teardown_session),
		cmocka_unit_test_setup_teardown(test_dispatch_ring_max, setup_session,
						teardown_session),
		cmocka_unit_test_setup_teardown(test_dispatch_ring_cq_full, setup_session,
						teardown_session),
		cmocka_unit_test_setup_teardown(test_dispatch_ring_out_of_step, setup_session,
						teardown_session),
		cmocka_unit_test_setup_teardown(test_ring_setup_twice, setup_session,
						teardown_session),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
