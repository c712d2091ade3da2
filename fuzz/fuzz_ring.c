/*
 * libFuzzer harness (c): the shared-memory ring (proto/mmio_ring.h) with the
 * client as the enemy. A connection of uid 1000 says Hello, opens its ring
 * through dispatch() and maps the memfd as a client would; the input is then a
 * program of client steps: submissions, arbitrary bytes written anywhere in the
 * shared mapping (indices, flags, detail, slots), completions taken, the
 * doorbell rung, and mmiod's steps: dispatch_ring(), going to sleep, waking,
 * with leases released, split and acquired over the socket in between.
 *
 * Each dispatch_ring(n) is first worked out by a model of the ring and of
 * the device, independent of ring.c and handle_ring.c: how many ops run (0..n)
 * or -EPROTO, and per op the status its socket request would get (read-only,
 * width, alignment on the absolute address, range, value width), the value read
 * and the bytes written. Then it must match exactly: return value, every
 * completion (a known mmio.Status), the indices mmiod publishes, the detail of
 * the last failure, the request counter and every device byte; bytes outside the
 * connection's read-write leases (read-only leases included) must not change.
 * After -EPROTO the connection goes as conn_destroy() ends it (session_finish)
 * and a new one starts. The ring count must follow the rings, and no fd may be
 * left open after the input. One thread: the client never writes while mmiod
 * runs, so the copy-once of each sqe (a race) is left to tests/integration.
 * FUZZ_TRACE=1 prints one line per dispatch_ring() besides the requests.
 *
 * Input: one setup byte, then steps until the input ends; a field the input
 * runs out of reads as 0.
 *   setup  bits 0-2: the entries asked for: 0 (default), 1, 2, 3, 4, 8, 16, 1000;
 *          bit 3: mmiod's and the client's indices start at 2^32 - 8 (as after a
 *          long life: they wrap within a few ops); bits 4-7: start of lease A.
 *   step   1 byte, mod RING_STEP_COUNT (enum ring_step below).
 * Each connection holds, in this order: A = ram [setup >> 4, +0x40) rw,
 * B = ram [0x808, +0x40) ro, C = regs [0, +0x40) rw (regs sits 2 bytes past an
 * 8-byte boundary, so alignment on the absolute address matters).
 * Fields:
 *   lease  1 byte r: r < 0xf0 names the (r mod n)th of the n lease ids granted
 *          so far in this input, on this connection or an earlier one, released
 *          or not; r >= 0xf0: the id r - 0xf0 + first id of the input - 1.
 *   op     1 byte t: t < 0xf0: load, store, modify, barrier (t & 3); else t - 0xf0
 *          as is (0, 5.. are unknown ops).
 *   width  1 byte w: w < 0xf0: 1, 2, 4 or 8 (w & 3); else w - 0xf0, 0xff: 255.
 *   u64    as fuzz_session (session_ops.h): t < 0xc0 is t; 0xc0..0xdf:
 *          ((t - 0xc0) << 8) | next byte; 0xe0..0xef: UINT64_MAX - (t - 0xe0);
 *          0xf0..0xff: 8 bytes, little-endian.
 *
 * FUZZ_RING_WRITE_SEEDS=DIR fuzz_ring writes the seed corpus (DIR/<name>) and
 * exits: cmake --build build-fuzz --target fuzz_ring &&
 *   FUZZ_RING_WRITE_SEEDS=fuzz/corpus/ring build-fuzz/fuzz/fuzz_ring
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fault.h"
#include "fuzz_common.h"
#include "mmio_limits.h"
#include "mmio_ring.h"
#include "ring.h"

enum ring_step {
	RS_SUBMIT,     /* lease, op, width, u64 offset, u64 value, u64 mask: one sqe, published */
	RS_SUBMIT_RUN, /* u8 k, lease, op, width, u64 offset, u64 value: k+1 sqes, offset += width
			*/
	RS_POKE,       /* u8 lo, u8 hi (offset mod size), u8 len (mod 33), len bytes */
	RS_SET_WORD,   /* u8 which (header word), u8 m: m < 0x80: word += m - 0x40; else 4 bytes */
	RS_DISPATCH,   /* u8 n: dispatch_ring(n) */
	RS_REAP,       /* u8 k: the client takes up to k completions (cq_head += k at most) */
	RS_SLEEP,      /* ring_prepare_sleep() */
	RS_WAKE,       /* ring_wake() */
	RS_DOORBELL,   /* the client rings */
	RS_RELEASE,    /* lease: Release over the socket */
	RS_SPLIT,      /* lease, u64 mid: Split */
	RS_ACQUIRE,    /* u8 region (ram, regs), u64 offset, u64 length: Acquire */
	RS_HANGUP,     /* the client hangs up and connects again */
	RS_SETUP,      /* u8 how, u8 entries: a RingSetup refused (step_setup_again) */
	RING_STEP_COUNT,
};

#define MAX_LEASES 16
#define MAX_KNOWN  64
#define SNAP_SIZE  (FUZZ_RAM_SIZE + FUZZ_REGS_SIZE)

static const uint32_t entries_asked[8] = {0, 1, 2, 3, 4, 8, 16, 1000};
#define WRAP_START (UINT32_MAX - 7)

struct reader {
	const uint8_t *p;
	size_t left;
};

static uint8_t
take_u8(struct reader *r)
{
	if (r->left == 0) {
		return 0;
	}
	r->left--;
	return *r->p++;
}

static uint64_t
take_u64(struct reader *r)
{
	uint8_t t = take_u8(r);
	if (t < 0xc0) {
		return t;
	}
	if (t < 0xe0) {
		return (uint64_t)(t - 0xc0) << 8 | take_u8(r);
	}
	if (t < 0xf0) {
		return UINT64_MAX - (t - 0xe0);
	}
	uint64_t v = 0;
	for (unsigned i = 0; i < 8; i++) {
		v |= (uint64_t)take_u8(r) << (8 * i);
	}
	return v;
}

static uint8_t
take_width(struct reader *r)
{
	uint8_t w = take_u8(r);
	if (w < 0xf0) {
		return (uint8_t)(1u << (w & 3));
	}
	return w == 0xff ? 255 : (uint8_t)(w - 0xf0);
}

static uint8_t
take_op(struct reader *r)
{
	uint8_t t = take_u8(r);
	return t < 0xf0 ? (uint8_t)(MMIO_RING_OP_LOAD + (t & 3)) : (uint8_t)(t - 0xf0);
}

/* The connection and the client's side of its ring. */
static struct {
	struct session s;
	struct session *all[1];
	bool connected;
	/* The client's mapping of the memfd, and its end of the doorbell. */
	struct mmio_ring_header *hdr;
	struct mmio_ring_sqe *sq;
	struct mmio_ring_cqe *cq;
	size_t size;
	int doorbell;
	uint32_t entries;
	/* mmiod's own indices, as the model says they must be. */
	uint32_t sq_head;
	uint32_t cq_tail;
	/* The input. */
	uint8_t setup;
	uint64_t known[MAX_KNOWN];
	unsigned n_known;
	uint64_t base;
	uint64_t next_conn_id;
	uint64_t next_request_id;
	uint64_t next_user_data;
	bool trace; /* FUZZ_TRACE=1: one line per dispatch_ring() */
} st;

static uint64_t
take_lease(struct reader *r)
{
	uint8_t ref = take_u8(r);
	if (ref >= 0xf0) {
		return st.base + (ref - 0xf0) - 1;
	}
	return st.n_known ? st.known[ref % st.n_known] : 0;
}

static void
note_lease(const Mmio__Reply *reply)
{
	if (reply->status == MMIO__STATUS__OK && reply->body_case == MMIO__REPLY__BODY_LEASE &&
	    st.n_known < MAX_KNOWN) {
		st.known[st.n_known++] = reply->lease->id;
	}
}

/* A socket request on the connection, checked by fuzz_common.c. */
static void
request(Mmio__Request *req)
{
	req->id = ++st.next_request_id;
	struct fuzz_exchange x;
	fuzz_exchange_run(&x, &st.s, req);
	FUZZ_CHECK(x.res == DISPATCH_REPLY);
	note_lease(&x.reply);
	fuzz_exchange_finish(&x);
	fuzz_check_leases(st.all, 1);
}

static void
acquire(const char *region, uint64_t offset, uint64_t length)
{
	Mmio__Acquire body = MMIO__ACQUIRE__INIT;
	body.region = (char *)region;
	body.offset = offset;
	body.length = length;
	Mmio__Request req = MMIO__REQUEST__INIT;
	req.body_case = MMIO__REQUEST__BODY_ACQUIRE;
	req.acquire = &body;
	request(&req);
}

static uint32_t
rounded_entries(uint32_t asked)
{
	if (asked == 0) {
		return MMIO_RING_DEFAULT_ENTRIES;
	}
	uint32_t e = 1;
	while (e < asked && e < MMIO_RING_MAX_ENTRIES) {
		e *= 2;
	}
	return e;
}

/* What RingSetup hands the client: the fds (-1 if refused), the queue size and memfd size. */
struct ring_grant {
	int memfd;
	int doorbell;
	uint32_t entries;
	uint32_t size;
};

/* RingSetup through dispatch(), as conn.c handles it; the fds as the client receives them. */
static Mmio__Status
ring_setup(struct session *s, uint32_t asked, struct ring_grant *g)
{
	Mmio__RingSetup body = MMIO__RING_SETUP__INIT;
	body.entries = asked;
	Mmio__Request req = MMIO__REQUEST__INIT;
	req.body_case = MMIO__REQUEST__BODY_RING_SETUP;
	req.ring_setup = &body;
	req.id = ++st.next_request_id;
	FUZZ_CHECK(fuzz_expected_result(s, &req) == DISPATCH_REPLY);
	struct fuzz_snapshot before;
	fuzz_snapshot_take(&before);
	Mmio__Reply reply = MMIO__REPLY__INIT;
	struct dispatch_scratch scratch;
	FUZZ_CHECK(dispatch(s, &req, &reply, &scratch) == DISPATCH_REPLY);
	fuzz_check_reply(&reply, req.id);
	FUZZ_CHECK(fuzz_snapshot_same(&before));
	*g = (struct ring_grant){.memfd = scratch.pass_fds[0], .doorbell = scratch.pass_fds[1]};
	if (reply.status == MMIO__STATUS__OK) {
		FUZZ_CHECK(reply.body_case == MMIO__REPLY__BODY_RING);
		g->entries = reply.ring->entries;
		g->size = reply.ring->size;
		FUZZ_CHECK(g->memfd >= 0 && g->doorbell >= 0);
	} else {
		FUZZ_CHECK(g->memfd < 0 && g->doorbell < 0);
	}
	dispatch_reply_finish(&scratch);
	return reply.status;
}

static void
connect_client(void)
{
	session_init(&st.s, ++st.next_conn_id, &fuzz_world.svc, &fuzz_world.ids[FUZZ_ID_USER]);
	st.connected = true;
	Mmio__Hello hello = MMIO__HELLO__INIT;
	hello.version = MMIO_PROTOCOL_VERSION;
	Mmio__Request req = MMIO__REQUEST__INIT;
	req.body_case = MMIO__REQUEST__BODY_HELLO;
	req.hello = &hello;
	request(&req);
	FUZZ_CHECK(st.s.hello_done);

	uint32_t asked = entries_asked[st.setup & 7];
	struct ring_grant g;
	unsigned rings = fuzz_world.svc.n_rings;
	FUZZ_CHECK(ring_setup(&st.s, asked, &g) == MMIO__STATUS__OK);
	FUZZ_CHECK(st.s.ring != NULL && fuzz_world.svc.n_rings == rings + 1);
	FUZZ_CHECK(g.entries == rounded_entries(asked));
	FUZZ_CHECK(g.size == MMIO_RING_SIZE(g.entries));

	/* What a client may rely on before it maps the memfd: its size, sealed. */
	struct stat sb;
	FUZZ_CHECK(fstat(g.memfd, &sb) == 0 && sb.st_size == (off_t)g.size);
	int seals = fcntl(g.memfd, F_GET_SEALS);
	FUZZ_CHECK(seals >= 0 && (seals & (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL)) ==
					 (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL));
	void *map = mmap(NULL, g.size, PROT_READ | PROT_WRITE, MAP_SHARED, g.memfd, 0);
	FUZZ_CHECK(map != MAP_FAILED);
	close(g.memfd);
	st.hdr = map;
	st.size = g.size;
	st.doorbell = g.doorbell;
	st.entries = g.entries;
	FUZZ_CHECK(st.hdr->magic == MMIO_RING_MAGIC && st.hdr->version == MMIO_RING_VERSION);
	FUZZ_CHECK(st.hdr->entries == g.entries && st.hdr->size == g.size);
	FUZZ_CHECK(st.hdr->sq_offset == MMIO_RING_SQ_OFFSET &&
		   st.hdr->cq_offset == MMIO_RING_CQ_OFFSET(g.entries));
	FUZZ_CHECK(st.hdr->sq_tail == 0 && st.hdr->cq_head == 0 && st.hdr->sq_head == 0 &&
		   st.hdr->cq_tail == 0 && st.hdr->daemon_sleeping == 0);
	st.sq = (struct mmio_ring_sqe *)((char *)map + st.hdr->sq_offset);
	st.cq = (struct mmio_ring_cqe *)((char *)map + st.hdr->cq_offset);

	st.sq_head = st.cq_tail = 0;
	if (st.setup & 8) {
		/* A ring that has run 2^32 - 8 ops: mmiod's copies and what it published. */
		st.sq_head = st.cq_tail = WRAP_START;
		st.s.ring->sq_head = st.s.ring->cq_tail = WRAP_START;
		st.hdr->sq_head = st.hdr->cq_tail = WRAP_START;
		st.hdr->sq_tail = st.hdr->cq_head = WRAP_START;
	}

	acquire("ram", st.setup >> 4, 0x40);
	acquire("ram", 0x808, 0x40);
	acquire("regs", 0, 0x40);
}

static int
lowest_free_fd(void)
{
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	FUZZ_CHECK(fd >= 0);
	close(fd);
	return fd;
}

/* conn_destroy(): every lease revoked, the ring closed; the client unmaps and closes. */
static void
hang_up(void)
{
	session_finish(&st.s);
	st.connected = false;
	FUZZ_CHECK(st.s.ring == NULL && st.s.leases.count == 0);
	FUZZ_CHECK(fuzz_world.svc.n_rings == 0);
	fuzz_check_leases(NULL, 0);
	munmap(st.hdr, st.size);
	close(st.doorbell);
	st.hdr = NULL;
}

/* ---- the model ---- */

static uint64_t
width_mask(unsigned width)
{
	return width >= 8 ? UINT64_MAX : (UINT64_C(1) << (8 * width)) - 1;
}

/* Where lease l's byte off lies in a snapshot (ram, then regs). */
static size_t
snap_at(const struct lease *l, uint64_t off)
{
	const struct region *ram = fuzz_world.table.regions[FUZZ_REGION_RAM];
	return (region_of_lease(l) == ram ? 0 : FUZZ_RAM_SIZE) + l->start + off;
}

static uint64_t
model_load(const uint8_t *mem, const struct lease *l, uint64_t off, unsigned width)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < width; i++) {
		v |= (uint64_t)mem[snap_at(l, off) + i] << (8 * i);
	}
	return v;
}

static void
model_store(uint8_t *mem, const struct lease *l, uint64_t off, unsigned width, uint64_t v)
{
	for (unsigned i = 0; i < width; i++) {
		mem[snap_at(l, off) + i] = (uint8_t)(v >> (8 * i));
	}
}

/*
 * The status of an access through l by the rules of mmio.proto and lease.h,
 * as fuzz_oracle.c works it out for the socket requests: read-only first
 * (stores), then width, alignment of the absolute address, range, value width.
 */
static Mmio__Status
access_status(const struct lease *l, uint64_t off, unsigned width, bool is_store, uint64_t value)
{
	if (is_store && l->read_only) {
		return MMIO__STATUS__PERMISSION_DENIED;
	}
	if (width != 1 && width != 2 && width != 4 && width != 8) {
		return MMIO__STATUS__INVALID_ARGUMENT;
	}
	if ((l->space->addr + l->start + off) % width != 0) {
		return MMIO__STATUS__UNALIGNED;
	}
	if (off > l->len || l->len - off < width) {
		return MMIO__STATUS__OUT_OF_RANGE;
	}
	if (is_store && width < 8 && value >> (8 * width) != 0) {
		return MMIO__STATUS__INVALID_ARGUMENT;
	}
	return MMIO__STATUS__OK;
}

/* What one op must complete with; applies its writes to mem. */
static struct mmio_ring_cqe
model_op(uint8_t *mem, const struct mmio_ring_sqe *sqe)
{
	struct mmio_ring_cqe cqe = {.user_data = sqe->user_data};
	const struct lease *l = lease_find(&st.s.leases, sqe->lease);
	Mmio__Status status;
	if (!l) {
		status = MMIO__STATUS__NOT_FOUND;
	} else {
		switch (sqe->op) {
		case MMIO_RING_OP_LOAD:
			status = access_status(l, sqe->offset, sqe->width, false, 0);
			if (status == MMIO__STATUS__OK) {
				cqe.value = model_load(mem, l, sqe->offset, sqe->width);
			}
			break;
		case MMIO_RING_OP_STORE:
			status = access_status(l, sqe->offset, sqe->width, true, sqe->value);
			if (status == MMIO__STATUS__OK) {
				model_store(mem, l, sqe->offset, sqe->width, sqe->value);
			}
			break;
		case MMIO_RING_OP_MODIFY:
			/* As Modify: refused on a read-only lease before the load. */
			status = l->read_only ? MMIO__STATUS__PERMISSION_DENIED
					      : access_status(l, sqe->offset, sqe->width, false, 0);
			if (status == MMIO__STATUS__OK) {
				uint64_t old = model_load(mem, l, sqe->offset, sqe->width);
				uint64_t next = ((old & ~sqe->mask) | (sqe->value & sqe->mask)) &
						width_mask(sqe->width);
				model_store(mem, l, sqe->offset, sqe->width, next);
				cqe.value = old;
			}
			break;
		case MMIO_RING_OP_BARRIER:
			status = MMIO__STATUS__OK;
			break;
		default:
			status = MMIO__STATUS__INVALID_ARGUMENT;
			break;
		}
	}
	cqe.status = (uint32_t)status;
	return cqe;
}

/* Bytes of the snapshot the connection may write: those of its read-write leases. */
static void
writable_bytes(bool *rw)
{
	memset(rw, 0, SNAP_SIZE * sizeof(*rw));
	const struct lease *l;
	TAILQ_FOREACH(l, &st.s.leases.leases, set_link)
	{
		if (!l->read_only && l->len > 0) {
			for (uint64_t i = 0; i < l->len; i++) {
				rw[snap_at(l, i)] = true;
			}
		}
	}
}

static bool
status_known(uint32_t status)
{
	return status != MMIO__STATUS__STATUS_UNSPECIFIED &&
	       protobuf_c_enum_descriptor_get_value(&mmio__status__descriptor, (int)status) != NULL;
}

/* What dispatch_ring(n) must do, worked out before it runs. */
struct expectation {
	int rc;                                          /* ops run, or -EPROTO */
	struct mmio_ring_cqe cqe[MMIO_RING_MAX_ENTRIES]; /* their completions */
	bool failed;                                     /* some op failed: the detail is ... */
	uint64_t failed_user_data;                       /* ... the last failure's */
	struct fuzz_snapshot before;
	struct fuzz_snapshot after; /* the device after the ops */
};

static void
expect_dispatch(struct expectation *x, unsigned n)
{
	fuzz_snapshot_take(&x->before);
	x->after = x->before;
	x->failed = false;
	/* What the client has published, as mmiod will read it (nothing else runs meanwhile). */
	uint32_t e = st.entries;
	uint32_t waiting = st.hdr->sq_tail - st.sq_head;
	uint32_t unread = st.cq_tail - st.hdr->cq_head;
	if (n == 0) {
		x->rc = 0;
	} else if (waiting > e || unread > e) {
		x->rc = -EPROTO;
	} else {
		uint32_t room = e - unread;
		uint32_t k = n < waiting ? n : waiting;
		x->rc = (int)(k < room ? k : room);
	}
	for (int i = 0; i < x->rc; i++) {
		struct mmio_ring_sqe sqe = st.sq[(st.sq_head + (uint32_t)i) & (e - 1)];
		x->cqe[i] = model_op(x->after.bytes, &sqe);
		if (x->cqe[i].status != MMIO__STATUS__OK) {
			x->failed = true;
			x->failed_user_data = x->cqe[i].user_data;
		}
	}
}

/* The device: outside the connection's read-write leases nothing changed; inside, the ops. */
static void
check_device(const struct expectation *x)
{
	static bool rw[SNAP_SIZE];
	writable_bytes(rw);
	struct fuzz_snapshot now;
	fuzz_snapshot_take(&now);
	for (size_t i = 0; i < SNAP_SIZE; i++) {
		FUZZ_CHECK(rw[i] || now.bytes[i] == x->before.bytes[i]);
	}
	FUZZ_CHECK(memcmp(now.bytes, x->after.bytes, SNAP_SIZE) == 0);
}

static void
check_completions(const struct expectation *x)
{
	for (int i = 0; i < x->rc; i++) {
		const struct mmio_ring_cqe *got =
			&st.cq[(st.cq_tail + (uint32_t)i) & (st.entries - 1)];
		FUZZ_CHECK(status_known(got->status));
		FUZZ_CHECK(got->user_data == x->cqe[i].user_data);
		FUZZ_CHECK(got->status == x->cqe[i].status);
		FUZZ_CHECK(got->value == x->cqe[i].value);
		FUZZ_CHECK(got->reserved == 0);
	}
	if (x->failed) {
		/* The detail explains the last failure: NUL-terminated printable ASCII. */
		FUZZ_CHECK(st.hdr->detail_user_data == x->failed_user_data);
		size_t len = strnlen(st.hdr->detail, MMIO_RING_DETAIL);
		FUZZ_CHECK(len < MMIO_RING_DETAIL);
		for (size_t i = 0; i < len; i++) {
			FUZZ_CHECK(st.hdr->detail[i] >= 0x20 && st.hdr->detail[i] < 0x7f);
		}
	}
}

static void
trace_dispatch(unsigned n, const struct expectation *x)
{
	fprintf(stderr, "fuzz: conn %" PRIu64 " dispatch_ring(%u) -> %d:", st.s.conn_id, n, x->rc);
	for (int i = 0; i < x->rc; i++) {
		const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(
			&mmio__status__descriptor, (int)x->cqe[i].status);
		fprintf(stderr, " %s", v ? v->name : "?");
	}
	fprintf(stderr, "\n");
}

static void
step_dispatch(unsigned n)
{
	static struct expectation x;
	expect_dispatch(&x, n);
	uint64_t requests = fuzz_world.svc.requests;
	int rc = dispatch_ring(&st.s, n);
	FUZZ_CHECK(rc == -EPROTO || (rc >= 0 && (unsigned)rc <= n));
	FUZZ_CHECK(rc == x.rc);
	FUZZ_CHECK(fuzz_world.svc.requests == requests + (uint64_t)(rc > 0 ? rc : 0));
	FUZZ_CHECK(fault_jump == NULL);
	check_device(&x);
	if (st.trace) {
		trace_dispatch(n, &x);
	}
	if (rc < 0) {
		/* Nothing taken, nothing completed; the connection must go. */
		FUZZ_CHECK(st.s.ring->sq_head == st.sq_head && st.s.ring->cq_tail == st.cq_tail);
		hang_up();
		connect_client();
		return;
	}
	check_completions(&x);
	st.sq_head += (uint32_t)rc;
	st.cq_tail += (uint32_t)rc;
	FUZZ_CHECK(st.s.ring->sq_head == st.sq_head && st.s.ring->cq_tail == st.cq_tail);
	if (rc > 0) {
		/* Published over whatever the client wrote there. */
		FUZZ_CHECK(st.hdr->sq_head == st.sq_head && st.hdr->cq_tail == st.cq_tail);
	}
}

/* ---- the steps ---- */

static void
submit(uint8_t op, uint64_t lease, uint64_t offset, uint8_t width, uint64_t value, uint64_t mask)
{
	struct mmio_ring_sqe sqe = {
		.user_data = ++st.next_user_data,
		.lease = lease,
		.offset = offset,
		.value = value,
		.mask = mask,
		.op = op,
		.width = width,
	};
	uint32_t tail = st.hdr->sq_tail;
	st.sq[tail & (st.entries - 1)] = sqe;
	__atomic_store_n(&st.hdr->sq_tail, tail + 1, __ATOMIC_RELEASE);
}

static void
step_poke(struct reader *r)
{
	size_t off = ((size_t)take_u8(r) | (size_t)take_u8(r) << 8) % st.size;
	size_t len = take_u8(r) % 33;
	for (size_t i = 0; i < len && off + i < st.size; i++) {
		((uint8_t *)st.hdr)[off + i] = take_u8(r);
	}
}

static void
step_set_word(struct reader *r)
{
	static const size_t words[] = {
		offsetof(struct mmio_ring_header, sq_tail),
		offsetof(struct mmio_ring_header, cq_head),
		offsetof(struct mmio_ring_header, client_waiting),
		offsetof(struct mmio_ring_header, sq_head),
		offsetof(struct mmio_ring_header, cq_tail),
		offsetof(struct mmio_ring_header, daemon_sleeping),
		offsetof(struct mmio_ring_header, entries),
		offsetof(struct mmio_ring_header, detail),
	};
	uint8_t *w = (uint8_t *)st.hdr + words[take_u8(r) % (sizeof(words) / sizeof(words[0]))];
	uint8_t m = take_u8(r);
	uint32_t v;
	if (m < 0x80) {
		memcpy(&v, w, sizeof(v));
		v += (uint32_t)m - 0x40;
	} else {
		v = 0;
		for (unsigned i = 0; i < 4; i++) {
			v |= (uint32_t)take_u8(r) << (8 * i);
		}
	}
	memcpy(w, &v, sizeof(v));
}

/* The client takes up to k completions, as far as the cq_tail it reads. */
static void
step_reap(unsigned k)
{
	uint32_t head = st.hdr->cq_head;
	uint32_t avail = __atomic_load_n(&st.hdr->cq_tail, __ATOMIC_ACQUIRE) - head;
	__atomic_store_n(&st.hdr->cq_head, head + (k < avail ? k : avail), __ATOMIC_RELEASE);
}

static void
step_sleep(void)
{
	uint32_t unread = st.cq_tail - st.hdr->cq_head;
	bool work = st.hdr->sq_tail != st.sq_head && unread != st.entries;
	bool slept = ring_prepare_sleep(st.s.ring);
	FUZZ_CHECK(slept == !work);
	FUZZ_CHECK(st.hdr->daemon_sleeping == (slept ? 1u : 0u));
}

static void
step_wake(void)
{
	ring_wake(st.s.ring);
	FUZZ_CHECK(st.hdr->daemon_sleeping == 0);
	uint64_t count;
	errno = 0;
	FUZZ_CHECK(read(st.s.ring->doorbell_fd, &count, sizeof(count)) < 0 && errno == EAGAIN);
}

static void
step_doorbell(void)
{
	uint64_t one = 1;
	FUZZ_CHECK(write(st.doorbell, &one, sizeof(one)) == sizeof(one));
}

static void
step_release(struct reader *r)
{
	Mmio__Release body = MMIO__RELEASE__INIT;
	body.lease = take_lease(r);
	Mmio__Request req = MMIO__REQUEST__INIT;
	req.body_case = MMIO__REQUEST__BODY_RELEASE;
	req.release = &body;
	request(&req);
}

static void
step_split(struct reader *r)
{
	Mmio__Split body = MMIO__SPLIT__INIT;
	body.lease = take_lease(r);
	body.mid = take_u64(r);
	Mmio__Request req = MMIO__REQUEST__INIT;
	req.body_case = MMIO__REQUEST__BODY_SPLIT;
	req.split = &body;
	request(&req);
}

/*
 * RingSetup refused: a second one on the connection; or, from another
 * connection, one over max_rings (all in use) or with max_rings = 0 (none offered).
 */
static void
step_setup_again(struct reader *r)
{
	uint8_t how = take_u8(r);
	uint32_t asked = take_u8(r);
	struct ring_grant g;
	struct ring *ring = st.s.ring;
	if (how % 3 == 0) {
		FUZZ_CHECK(ring_setup(&st.s, asked, &g) == MMIO__STATUS__INVALID_ARGUMENT);
		FUZZ_CHECK(st.s.ring == ring && fuzz_world.svc.n_rings == 1);
		return;
	}
	struct limits *lim = &fuzz_world.svc.limits;
	unsigned max_rings = lim->max_rings;
	lim->max_rings = how % 3 == 1 ? fuzz_world.svc.n_rings : 0;
	struct session other;
	session_init(&other, ++st.next_conn_id, &fuzz_world.svc, &fuzz_world.ids[FUZZ_ID_USER]);
	other.hello_done = true;
	FUZZ_CHECK(ring_setup(&other, asked, &g) == (lim->max_rings == 0
							     ? MMIO__STATUS__PERMISSION_DENIED
							     : MMIO__STATUS__RESOURCE_EXHAUSTED));
	FUZZ_CHECK(other.ring == NULL && fuzz_world.svc.n_rings == 1);
	session_finish(&other);
	lim->max_rings = max_rings;
}

static void
run_step(struct reader *r)
{
	switch (take_u8(r) % RING_STEP_COUNT) {
	case RS_SUBMIT: {
		uint64_t lease = take_lease(r);
		uint8_t op = take_op(r);
		uint8_t width = take_width(r);
		uint64_t offset = take_u64(r);
		uint64_t value = take_u64(r);
		submit(op, lease, offset, width, value, take_u64(r));
		break;
	}
	case RS_SUBMIT_RUN: {
		unsigned k = take_u8(r) % 64;
		uint64_t lease = take_lease(r);
		uint8_t op = take_op(r);
		uint8_t width = take_width(r);
		uint64_t offset = take_u64(r);
		uint64_t value = take_u64(r);
		for (unsigned i = 0; i <= k; i++) {
			submit(op, lease, offset + (uint64_t)i * width, width, value, UINT64_MAX);
		}
		break;
	}
	case RS_POKE:
		step_poke(r);
		break;
	case RS_SET_WORD:
		step_set_word(r);
		break;
	case RS_DISPATCH:
		step_dispatch(take_u8(r));
		break;
	case RS_REAP:
		step_reap(take_u8(r));
		break;
	case RS_SLEEP:
		step_sleep();
		break;
	case RS_WAKE:
		step_wake();
		break;
	case RS_DOORBELL:
		step_doorbell();
		break;
	case RS_RELEASE:
		step_release(r);
		break;
	case RS_SPLIT:
		step_split(r);
		break;
	case RS_ACQUIRE: {
		const char *region = take_u8(r) & 1 ? "regs" : "ram";
		uint64_t offset = take_u64(r);
		acquire(region, offset, take_u64(r));
		break;
	}
	case RS_HANGUP:
		hang_up();
		connect_client();
		break;
	case RS_SETUP:
		step_setup_again(r);
		break;
	}
	FUZZ_CHECK(st.s.ring != NULL && fuzz_world.svc.n_rings == 1);
}

/* The id the next lease will get: ids are global, so every input learns where it starts. */
static uint64_t
next_lease_id(void)
{
	struct lease_set probe;
	struct lease *l;
	lease_set_init(&probe, 1, 0, 0);
	FUZZ_CHECK(lease_acquire(&fuzz_world.table.regions[FUZZ_REGION_RAM]->space, &probe, 0, 0,
				 &l) == 0);
	uint64_t id = l->id;
	lease_release(l);
	return id + 1;
}

static void write_seeds(const char *dir);

int
LLVMFuzzerInitialize(int *argc, char ***argv) /* NOLINT(readability-non-const-parameter) */
{
	(void)argc;
	(void)argv;
	const char *seeds = getenv("FUZZ_RING_WRITE_SEEDS");
	if (seeds) {
		write_seeds(seeds);
		exit(0);
	}
	fuzz_world_init(MAX_LEASES);
	st.all[0] = &st.s;
	st.trace = getenv("FUZZ_TRACE") != NULL;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1) {
		return 0;
	}
	int free_fd = lowest_free_fd();
	struct reader r = {data + 1, size - 1};
	fuzz_world_reset();
	st.setup = data[0];
	st.n_known = 0;
	st.base = next_lease_id();
	st.next_user_data = 0;
	connect_client();
	while (r.left > 0) {
		run_step(&r);
	}
	hang_up();
	for (unsigned i = 0; i < fuzz_world.table.count; i++) {
		FUZZ_CHECK(TAILQ_EMPTY(&fuzz_world.table.regions[i]->space.leases));
	}
	FUZZ_CHECK(lowest_free_fd() == free_fd);
	return 0;
}

/* ---- the seed corpus, in the language above ---- */

struct stream {
	uint8_t buf[1024];
	size_t len;
};

static void
put(struct stream *s, uint8_t b)
{
	if (s->len == sizeof(s->buf)) {
		fprintf(stderr, "fuzz_ring: seed too long\n");
		exit(1);
	}
	s->buf[s->len++] = b;
}

static void
put_u64(struct stream *s, uint64_t v)
{
	if (v < 0xc0) {
		put(s, (uint8_t)v);
	} else if (v <= 0x1fff) {
		put(s, (uint8_t)(0xc0 + (v >> 8)));
		put(s, (uint8_t)v);
	} else {
		put(s, 0xf0);
		for (unsigned i = 0; i < 8; i++) {
			put(s, (uint8_t)(v >> (8 * i)));
		}
	}
}

static uint8_t
width_code(unsigned width)
{
	return width == 1 ? 0 : width == 2 ? 1 : width == 4 ? 2 : width == 8 ? 3 : 0xf0 + width;
}

/* Lease refs: the leases of the first connection, in the order it acquired them. */
enum { LEASE_A = 0, LEASE_B = 1, LEASE_C = 2, LEASE_GONE = 0xf0 };

static void
put_submit(struct stream *s, uint8_t lease, uint8_t op, unsigned width, uint64_t offset,
	   uint64_t value, uint64_t mask)
{
	put(s, RS_SUBMIT);
	put(s, lease);
	put(s, op >= MMIO_RING_OP_LOAD && op <= MMIO_RING_OP_BARRIER ? op - MMIO_RING_OP_LOAD
								     : 0xf0 + op);
	put(s, width_code(width));
	put_u64(s, offset);
	put_u64(s, value);
	put_u64(s, mask);
}

static void
put_step(struct stream *s, enum ring_step step, int arg)
{
	put(s, step);
	if (arg >= 0) {
		put(s, (uint8_t)arg);
	}
}

static void
put_set_word(struct stream *s, unsigned which, uint32_t value)
{
	put(s, RS_SET_WORD);
	put(s, (uint8_t)which);
	put(s, 0x80);
	for (unsigned i = 0; i < 4; i++) {
		put(s, (uint8_t)(value >> (8 * i)));
	}
}

static void
seed(const char *dir, const char *name, const struct stream *s)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(s->buf, 1, s->len, f) != s->len || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

static void
write_seeds(const char *dir)
{
	if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
		perror(dir);
		exit(1);
	}
	struct stream s = {.len = 0};

	/* Every op on every lease, and the errors of each. */
	put(&s, 5); /* 8 entries */
	put_submit(&s, LEASE_A, MMIO_RING_OP_STORE, 8, 8, 0x1122334455667788, 0);
	put_submit(&s, LEASE_A, MMIO_RING_OP_LOAD, 4, 12, 0, 0);
	put_submit(&s, LEASE_A, MMIO_RING_OP_MODIFY, 2, 8, 0xab00, 0xff00);
	put_submit(&s, LEASE_A, MMIO_RING_OP_BARRIER, 1, 0, 0, 0);
	put_submit(&s, LEASE_B, MMIO_RING_OP_LOAD, 8, 0, 0, 0);
	put_submit(&s, LEASE_B, MMIO_RING_OP_STORE, 4, 0, 1, 0);
	put_submit(&s, LEASE_C, MMIO_RING_OP_LOAD, 2, 0, 0, 0);
	put_submit(&s, LEASE_C, MMIO_RING_OP_STORE, 2, 2, 0xbeef, 0);
	put_step(&s, RS_DISPATCH, 8);
	put_step(&s, RS_REAP, 8);
	put_submit(&s, LEASE_A, MMIO_RING_OP_LOAD, 3, 0, 0, 0);
	put_submit(&s, LEASE_A, MMIO_RING_OP_LOAD, 8, 0x40, 0, 0);
	put_submit(&s, LEASE_A, MMIO_RING_OP_STORE, 1, 0, 0x100, 0);
	put_submit(&s, LEASE_B, MMIO_RING_OP_MODIFY, 4, 0, 0, ~0u);
	put_submit(&s, LEASE_GONE, MMIO_RING_OP_LOAD, 4, 0, 0, 0);
	put_submit(&s, LEASE_A, 0, 4, 0, 0, 0);
	put_submit(&s, LEASE_A, 9, 4, 0, 0, 0);
	put_submit(&s, LEASE_C, MMIO_RING_OP_LOAD, 4, 0, 0, 0);
	put_step(&s, RS_DISPATCH, 3);
	put_step(&s, RS_DISPATCH, 200);
	put_step(&s, RS_REAP, 255);
	seed(dir, "ops_and_errors", &s);

	/* A full CQ holds submissions back; mmiod sleeps on it and the doorbell wakes it. */
	s.len = 0;
	put(&s, 4); /* 4 entries */
	put(&s, RS_SUBMIT_RUN);
	put(&s, 3);
	put(&s, LEASE_A);
	put(&s, 0); /* load */
	put(&s, width_code(4));
	put_u64(&s, 0);
	put_u64(&s, 0);
	put_step(&s, RS_DISPATCH, 255);
	put_submit(&s, LEASE_A, MMIO_RING_OP_STORE, 4, 0x10, 7, 0);
	put_step(&s, RS_DISPATCH, 255);
	put_step(&s, RS_SLEEP, -1);
	put_step(&s, RS_REAP, 1);
	put_step(&s, RS_DOORBELL, -1);
	put_step(&s, RS_WAKE, -1);
	put_step(&s, RS_SLEEP, -1);
	put_step(&s, RS_DISPATCH, 255);
	put_step(&s, RS_REAP, 255);
	put_step(&s, RS_SLEEP, -1);
	put_step(&s, RS_WAKE, -1);
	seed(dir, "cq_full_sleep_wake", &s);

	/* Indices across 2^32. */
	s.len = 0;
	put(&s, 8 | 2); /* wrapping, 2 entries */
	for (unsigned i = 0; i < 8; i++) {
		put_submit(&s, LEASE_A, MMIO_RING_OP_STORE, 1, i, i + 1, 0);
		put_submit(&s, LEASE_A, MMIO_RING_OP_LOAD, 1, i, 0, 0);
		put_step(&s, RS_DISPATCH, 2);
		put_step(&s, RS_REAP, 2);
	}
	seed(dir, "wrap", &s);

	/* The client breaks the ring: sq_tail too far, then cq_head past cq_tail. */
	s.len = 0;
	put(&s, 3); /* 3 entries: 4 */
	put_set_word(&s, 0, 5);
	put_step(&s, RS_DISPATCH, 1);
	put_submit(&s, LEASE_A, MMIO_RING_OP_LOAD, 8, 0, 0, 0);
	put_step(&s, RS_DISPATCH, 1);
	put_set_word(&s, 1, 2);
	put_step(&s, RS_DISPATCH, 1);
	put_submit(&s, LEASE_A, MMIO_RING_OP_LOAD, 8, 0, 0, 0);
	put_step(&s, RS_DISPATCH, 1);
	seed(dir, "out_of_step", &s);

	/* Leases change under the ring: release, split, acquire, then ops on each. */
	s.len = 0;
	put(&s, 0x36); /* lease A at 3, 16 entries */
	put_step(&s, RS_SPLIT, LEASE_A);
	put_u64(&s, 0x10);
	put_step(&s, RS_RELEASE, LEASE_C);
	put_step(&s, RS_ACQUIRE, 0);
	put_u64(&s, 0x100);
	put_u64(&s, 0x20);
	put_submit(&s, LEASE_A, MMIO_RING_OP_STORE, 1, 0, 0x5a, 0);
	put_submit(&s, 3, MMIO_RING_OP_STORE, 1, 0, 0xa5, 0);
	put_submit(&s, LEASE_C, MMIO_RING_OP_LOAD, 4, 0, 0, 0);
	put_submit(&s, 4, MMIO_RING_OP_STORE, 8, 0x18, UINT64_MAX, 0);
	put_step(&s, RS_DISPATCH, 16);
	put_step(&s, RS_SETUP, 0);
	put(&s, 0);
	put_step(&s, RS_SETUP, 1);
	put(&s, 4);
	put_step(&s, RS_SETUP, 2);
	put(&s, 0);
	put_step(&s, RS_HANGUP, -1);
	put_submit(&s, LEASE_A, MMIO_RING_OP_LOAD, 1, 0, 0, 0);
	put_submit(&s, 5, MMIO_RING_OP_LOAD, 1, 0, 0, 0);
	put_step(&s, RS_DISPATCH, 16);
	seed(dir, "leases_change", &s);

	/* The client scribbles: over mmiod's words, the detail, a slot after publishing it. */
	s.len = 0;
	put(&s, 4);
	put_submit(&s, LEASE_A, MMIO_RING_OP_LOAD, 4, 0, 0, 0);
	put_set_word(&s, 3, 0xffffffff); /* sq_head */
	put_set_word(&s, 4, 3);          /* cq_tail */
	put_set_word(&s, 2, 1);          /* client_waiting */
	put(&s, RS_POKE);
	put(&s, (uint8_t)MMIO_RING_SQ_OFFSET);
	put(&s, (uint8_t)(MMIO_RING_SQ_OFFSET >> 8));
	put(&s, 16);
	for (unsigned i = 0; i < 16; i++) {
		put(&s, 0xff);
	}
	put_step(&s, RS_DISPATCH, 4);
	put(&s, RS_POKE);
	put(&s, 192);
	put(&s, 0);
	put(&s, 8);
	for (unsigned i = 0; i < 8; i++) {
		put(&s, 0x80 + i);
	}
	put_submit(&s, LEASE_B, MMIO_RING_OP_STORE, 4, 0, 1, 0);
	put_step(&s, RS_DISPATCH, 4);
	put_step(&s, RS_REAP, 9);
	put_step(&s, RS_DISPATCH, 4);
	seed(dir, "scribbles", &s);
}
