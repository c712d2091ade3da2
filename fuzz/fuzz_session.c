/*
 * libFuzzer harness (b): the connection state machine. Two connections, A and
 * B, send a stream of requests in any order (session_ops.h describes the
 * input): Hello or not, acquire, split, release, accesses, batches, polls left
 * pending while the other connection stores or revokes, hangups and
 * reconnects, raw and empty frames, listings page by page. Each request is
 * packed as a frame and sent over the connection's socket pair, with
 * descriptors attached if the input says so, possibly behind frames sent
 * earlier and not read yet; mmiod's side receives it as conn_read_cb() does
 * (wire_recv_keep_fds, every fd closed through fd_closer_close), unpacks,
 * dispatches, and its reply is checked (fuzz_common.c). After every frame the
 * lease tables must hold together; after the input, once both connections are
 * gone, no lease may be left, and no descriptor open or in flight
 * (fuzz_fds_close_check): queued frames and their fds go with the socket.
 */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/fd_closer.h"
#include "core/limits.h"
#include "fuzz_common.h"
#include "mmio_limits.h"
#include "session_ops.h"
#include "wire.h"

/* Small, so that the fuzzer reaches the lease limit. */
#define MAX_LEASES 16
#define MAX_KNOWN  64
#define MAX_BATCH  15
/* Frames a client may leave unread on a connection (the socket holds about 200). */
#define MAX_QUEUED 64

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

static uint32_t
take_width(struct reader *r)
{
	uint8_t w = take_u8(r);
	if (w < 0xf0) {
		return 1u << (w & 3);
	}
	return w == 0xff ? UINT32_MAX : (uint32_t)(w - 0xf0);
}

static char *
take_region(struct reader *r)
{
	static char long_name[MMIO_MAX_NAME + 2];
	static char *const names[] = {"ram", "regs", "", "ramx", long_name, "dev"};
	if (!long_name[0]) {
		memset(long_name, 'r', sizeof(long_name) - 1);
	}
	return names[take_u8(r) % (sizeof(names) / sizeof(names[0]))];
}

/* The descriptors a frame carries: n of the kinds pattern names (fuzz_fds_pick). */
struct attached {
	unsigned n;
	uint8_t pattern;
};

struct conn_state {
	struct session s;
	unsigned identity;
	bool refused;
	bool polling; /* a Poll is pending: the connection's next request waits for it */
	struct poll_state poll;
	int sock[2]; /* [0] mmiod's end (nonblocking, as accept4() gives it), [1] the client's */
	struct attached next; /* what the next frame sent carries */
	/* Per frame in the socket, oldest first. */
	struct attached queued[MAX_QUEUED];
	unsigned n_queued;
};

static struct {
	struct conn_state conns[2];
	struct session *all[2];
	uint64_t known[MAX_KNOWN]; /* lease ids granted in this input, oldest first */
	unsigned n_known;
	uint64_t base; /* the first lease id this input may see */
	uint64_t next_conn_id;
	uint64_t next_request_id;
	struct fuzz_fds fds; /* what the input attaches, all closed by its end */
	/* The last LeaseList received, for SOP_LIST_PAGE to ask for the next page. */
	bool page_seen;
	bool page_more;
	uint64_t page_last;
	/* The last RegisterMap received, for SOP_REGISTER_PAGES. */
	bool map_seen;
	bool map_more;
	uint32_t map_next;
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
connect_client(struct conn_state *c)
{
	session_init(&c->s, ++st.next_conn_id, &fuzz_world.svc, &fuzz_world.ids[c->identity]);
	c->s.refused = c->refused;
	c->polling = false;
	FUZZ_CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, c->sock) ==
		   0);
	c->next = (struct attached){0, 0};
	c->n_queued = 0;
}

/*
 * conn_destroy(): a pending poll ends unanswered, every lease is revoked, the
 * socket is closed through fd_closer with whatever the client left in it (the
 * kernel frees queued frames and their fds); the client's end closes too.
 */
static void
finish(struct conn_state *c)
{
	c->polling = false;
	session_finish(&c->s, LEASE_END_DISCONNECT);
	FUZZ_CHECK(c->s.leases.count == 0);
	fuzz_check_leases(st.all, 2);
	fd_closer_close(&c->sock[0]);
	FUZZ_CHECK(c->sock[0] == -1);
	close(c->sock[1]);
	c->sock[1] = -1;
}

/* The connection goes (either side ends it); the client connects again. */
static void
hang_up(struct conn_state *c)
{
	finish(c);
	connect_client(c);
}

static void
note_reply(const Mmio__Reply *reply)
{
	if (reply->status == MMIO__STATUS__OK && reply->body_case == MMIO__REPLY__BODY_LEASE &&
	    st.n_known < MAX_KNOWN) {
		st.known[st.n_known++] = reply->lease->id;
	}
	if (reply->status == MMIO__STATUS__OK && reply->body_case == MMIO__REPLY__BODY_LEASES) {
		const Mmio__LeaseList *list = reply->leases;
		st.page_seen = true;
		st.page_more = list->more;
		st.page_last = list->n_leases ? list->leases[list->n_leases - 1]->id : 0;
	}
	if (reply->status == MMIO__STATUS__OK &&
	    reply->body_case == MMIO__REPLY__BODY_REGISTER_MAP) {
		st.map_seen = true;
		st.map_more = reply->register_map->more;
		st.map_next = reply->register_map->next;
	}
}

/* One attempt of c's pending poll; last_chance: its deadline has passed. */
static void
poll_tick(struct conn_state *c, bool last_chance)
{
	if (!c->polling) {
		return;
	}
	struct fuzz_exchange x;
	fuzz_exchange_poll(&x, &c->s, &c->poll, last_chance);
	c->polling = x.res == DISPATCH_DEFER;
	fuzz_exchange_finish(&x);
	fuzz_check_leases(st.all, 2);
}

/* A frame mmiod received whole from c's client, as conn_read_cb() handles it. False: c went. */
static bool
handle(struct conn_state *c, const uint8_t *frame, size_t len)
{
	Mmio__Request *req = fuzz_unpack(frame, len);
	if (!req) {
		hang_up(c); /* an undecodable frame is a protocol error */
		return false;
	}
	fuzz_rebase_lease_ids(req, st.base);
	struct fuzz_exchange x;
	fuzz_exchange_run(&x, &c->s, req);
	note_reply(&x.reply);
	enum dispatch_result res = x.res;
	if (res == DISPATCH_DEFER) {
		c->polling = true;
		c->poll = x.scratch.poll;
	}
	fuzz_exchange_finish(&x);
	fuzz_free_unpacked(req);
	fuzz_check_leases(st.all, 2);
	if (res == DISPATCH_CLOSE || res == DISPATCH_REPLY_CLOSE) {
		hang_up(c);
		return false;
	}
	return true;
}

/*
 * mmiod reads what c's client queued, one frame at a time as conn_read_cb()
 * does, until none is left, a poll of c is pending (reading pauses) or c goes.
 */
static void
serve(struct conn_state *c)
{
	static uint8_t rx[MMIO_MAX_FRAME];
	while (!c->polling && c->n_queued > 0) {
		struct attached a = c->queued[0];
		memmove(&c->queued[0], &c->queued[1], --c->n_queued * sizeof(c->queued[0]));
		int sent[WIRE_MAX_RECV_FDS];
		fuzz_fds_pick(&st.fds, a.pattern, c->sock[1], sent, a.n);
		unsigned got;
		ssize_t n = fuzz_conn_recv(c->sock[0], rx, sizeof(rx), sent, a.n, UINT_MAX, &got);
		FUZZ_CHECK(got == a.n);
		/* Frames fit max_frame here: 0 is an empty frame, which reads as a hangup. */
		FUZZ_CHECK(n >= 0);
		if (n == 0) {
			hang_up(c);
			return;
		}
		if (!handle(c, rx, (size_t)n)) {
			return;
		}
	}
	if (!c->polling) {
		/* Everything sent was read. */
		errno = 0;
		FUZZ_CHECK(recv(c->sock[0], rx, 1, MSG_DONTWAIT) < 0 && errno == EAGAIN);
	}
}

/*
 * c's client sends a frame, carrying the descriptors SOP_FDS attached. It may
 * fail as it would for a client: its socket full (EAGAIN) or too many fds in
 * flight (ETOOMANYREFS); the frame is then dropped. True if sent.
 */
static bool
client_send(struct conn_state *c, const uint8_t *frame, size_t len)
{
	struct attached a = c->next;
	c->next = (struct attached){0, 0};
	if (c->n_queued == MAX_QUEUED) {
		return false;
	}
	int fds[WIRE_MAX_RECV_FDS];
	fuzz_fds_pick(&st.fds, a.pattern, c->sock[1], fds, a.n);
	ssize_t n = fuzz_send_fds(c->sock[1], frame, len, fds, a.n, 0);
	if (n < 0) {
		FUZZ_CHECK(n == -EAGAIN || n == -ETOOMANYREFS);
		return false;
	}
	FUZZ_CHECK((size_t)n == len);
	c->queued[c->n_queued++] = a;
	return true;
}

/* A frame from c's client: mmiod reads it after whatever c queued before it. */
static void
receive(struct conn_state *c, const uint8_t *frame, size_t len)
{
	/* conn.c reads nothing more from a client while its poll goes on. */
	poll_tick(c, true);
	client_send(c, frame, len);
	serve(c);
}

/*
 * Packs req as the client library would and hands the frame to c. Lease ids in
 * req are absolute; receive() rebases, so they are made relative here.
 */
static void
send_request(struct conn_state *c, Mmio__Request *req)
{
	static uint8_t frame[MMIO_MAX_FRAME];
	fuzz_rebase_lease_ids(req, 2 - st.base);
	req->id = ++st.next_request_id;
	size_t len = mmio__request__get_packed_size(req);
	FUZZ_CHECK(len <= sizeof(frame));
	mmio__request__pack(req, frame);
	receive(c, frame, len);
}

/* n little-endian elements of size bytes each into col. */
static void
put_column(uint8_t *col, const uint64_t *v, size_t n, size_t size)
{
	for (size_t i = 0; i < n; i++) {
		for (size_t k = 0; k < size; k++) {
			col[i * size + k] = (uint8_t)(v[i] >> (8 * k));
		}
	}
}

/* The smallest of 1, 2, 4 and 8 bytes that holds each of v's n numbers. */
static size_t
element_size(const uint64_t *v, size_t n)
{
	uint64_t any = 0;
	for (size_t i = 0; i < n; i++) {
		any |= v[i];
	}
	return any <= UINT8_MAX ? 1 : any <= UINT16_MAX ? 2 : any <= UINT32_MAX ? 4 : 8;
}

/*
 * flags: bits 0-3 the number of ops, 0x10 stop_on_error, 0x20 all_or_nothing, 0x40 one value
 * short (a ragged batch), 0x80 in the fixed columns (as libmmio-client sends them, but the lease
 * column always of 8 bytes, which fuzz_rebase_lease_ids rebases in place).
 */
static void
op_batch(struct conn_state *c, struct reader *r)
{
	Mmio__Request req = MMIO__REQUEST__INIT;
	uint8_t flags = take_u8(r);
	size_t n = flags & MAX_BATCH;
	uint64_t lease[MAX_BATCH];
	uint64_t offset[MAX_BATCH];
	uint64_t value[MAX_BATCH];
	Mmio__BatchOp op[MAX_BATCH];
	uint32_t width[MAX_BATCH];
	for (size_t i = 0; i < n; i++) {
		lease[i] = take_lease(r);
		op[i] = (Mmio__BatchOp)(take_u8(r) % 4);
		width[i] = take_width(r);
		offset[i] = take_u64(r);
		value[i] = take_u64(r);
	}
	Mmio__Batch body = MMIO__BATCH__INIT;
	uint8_t f_lease[MAX_BATCH * 8];
	uint8_t f_offset[MAX_BATCH * 8];
	uint8_t f_value[MAX_BATCH * 8];
	uint8_t f_op[MAX_BATCH];
	uint8_t f_width[MAX_BATCH];
	if (flags & 0x80) {
		size_t osize = element_size(offset, n);
		size_t vsize = element_size(value, n);
		put_column(f_lease, lease, n, 8);
		put_column(f_offset, offset, n, osize);
		put_column(f_value, value, n, vsize);
		for (size_t i = 0; i < n; i++) {
			f_op[i] = (uint8_t)op[i];
			f_width[i] = (uint8_t)width[i];
		}
		body.fixed_lease = (ProtobufCBinaryData){n * 8, f_lease};
		body.fixed_offset = (ProtobufCBinaryData){n * osize, f_offset};
		body.fixed_value = (ProtobufCBinaryData){n * vsize, f_value};
		body.fixed_op = (ProtobufCBinaryData){n, f_op};
		body.fixed_width = (ProtobufCBinaryData){n, f_width};
		if ((flags & 0x40) && n > 0) {
			body.fixed_value.len--;
		}
	} else {
		body.n_lease = body.n_op = body.n_width = body.n_offset = body.n_value = n;
		body.lease = lease;
		body.op = op;
		body.width = width;
		body.offset = offset;
		body.value = value;
		if ((flags & 0x40) && n > 0) {
			body.n_value--;
		}
	}
	body.stop_on_error = (flags & 0x10) != 0;
	body.all_or_nothing = (flags & 0x20) != 0;
	req.body_case = MMIO__REQUEST__BODY_BATCH;
	req.batch = &body;
	send_request(c, &req);
}

static void
op_block_write(struct conn_state *c, struct reader *r)
{
	Mmio__Request req = MMIO__REQUEST__INIT;
	Mmio__BlockWrite body = MMIO__BLOCK_WRITE__INIT;
	uint64_t values[MAX_BATCH];
	body.lease = take_lease(r);
	body.offset = take_u64(r);
	body.width = take_width(r);
	uint8_t flags = take_u8(r);
	body.n_values = flags & MAX_BATCH;
	body.repeat = (flags & 0x10) != 0;
	for (size_t i = 0; i < body.n_values; i++) {
		values[i] = take_u64(r);
	}
	body.values = values;
	req.body_case = MMIO__REQUEST__BODY_BLOCK_WRITE;
	req.block_write = &body;
	send_request(c, &req);
}

/* A frame of u8 length and that many bytes of the input. */
static const uint8_t *
take_frame(struct reader *r, size_t *len)
{
	*len = take_u8(r);
	if (*len > r->left) {
		*len = r->left;
	}
	const uint8_t *frame = r->p;
	r->p += *len;
	r->left -= *len;
	return frame;
}

/* ListLeases from after_id, max; and, if follow, the pages after it while more is set. */
static void
op_list_page(struct conn_state *c, struct reader *r)
{
	uint64_t after = take_lease(r);
	uint8_t m = take_u8(r);
	/* Each page lists at least one lease: more pages than leases is a loop. */
	for (unsigned page = 0; page <= MAX_KNOWN + 8; page++) {
		Mmio__ListLeases body = MMIO__LIST_LEASES__INIT;
		body.after_id = after;
		body.max = m & 0x3f;
		Mmio__Request req = MMIO__REQUEST__INIT;
		req.body_case = MMIO__REQUEST__BODY_LIST_LEASES;
		req.list_leases = &body;
		st.page_seen = false;
		send_request(c, &req);
		if (!(m & 0x80) || !st.page_seen || !st.page_more) {
			return;
		}
		FUZZ_CHECK(st.page_last > after);
		after = st.page_last;
	}
	fuzz_fail("ListLeases pages never end", __FILE__, __LINE__);
}

/* ListRegisters from first; and, if follow, the pages after it while more is set. */
static void
list_registers(struct conn_state *c, char *region, uint32_t first, bool follow)
{
	/* Every page lists at least one register, and a map has at most REGMAP_MAX_REGISTERS. */
	for (unsigned page = 0; page <= REGMAP_MAX_REGISTERS; page++) {
		Mmio__ListRegisters body = MMIO__LIST_REGISTERS__INIT;
		body.region = region;
		body.first = first;
		Mmio__Request req = MMIO__REQUEST__INIT;
		req.body_case = MMIO__REQUEST__BODY_LIST_REGISTERS;
		req.list_registers = &body;
		st.map_seen = false;
		send_request(c, &req);
		if (!follow || !st.map_seen || !st.map_more) {
			return;
		}
		FUZZ_CHECK(st.map_next > first);
		first = st.map_next;
	}
	fuzz_fail("ListRegisters pages never end", __FILE__, __LINE__);
}

/* One op of the input; the bodies live on the stack until the frame is handled. */
static void
run_op(struct reader *r)
{
	uint8_t code = take_u8(r);
	struct conn_state *c = &st.conns[(code & SOP_ON_B) ? 1 : 0];
	Mmio__Request req = MMIO__REQUEST__INIT;
	switch ((code & 0x7f) % SOP_COUNT) {
	case SOP_HELLO: {
		Mmio__Hello body = MMIO__HELLO__INIT;
		uint8_t v = take_u8(r);
		body.version = v ? v : MMIO_PROTOCOL_VERSION;
		req.body_case = MMIO__REQUEST__BODY_HELLO;
		req.hello = &body;
		send_request(c, &req);
		break;
	}
	case SOP_LIST_REGIONS: {
		Mmio__ListRegions body = MMIO__LIST_REGIONS__INIT;
		req.body_case = MMIO__REQUEST__BODY_LIST_REGIONS;
		req.list_regions = &body;
		send_request(c, &req);
		break;
	}
	case SOP_ACQUIRE: {
		Mmio__Acquire body = MMIO__ACQUIRE__INIT;
		body.region = take_region(r);
		body.offset = take_u64(r);
		body.length = take_u64(r);
		req.body_case = MMIO__REQUEST__BODY_ACQUIRE;
		req.acquire = &body;
		send_request(c, &req);
		break;
	}
	case SOP_SPLIT: {
		Mmio__Split body = MMIO__SPLIT__INIT;
		body.lease = take_lease(r);
		body.mid = take_u64(r);
		req.body_case = MMIO__REQUEST__BODY_SPLIT;
		req.split = &body;
		send_request(c, &req);
		break;
	}
	case SOP_RELEASE: {
		Mmio__Release body = MMIO__RELEASE__INIT;
		body.lease = take_lease(r);
		req.body_case = MMIO__REQUEST__BODY_RELEASE;
		req.release = &body;
		send_request(c, &req);
		break;
	}
	case SOP_LOAD: {
		Mmio__Load body = MMIO__LOAD__INIT;
		body.lease = take_lease(r);
		body.offset = take_u64(r);
		body.width = take_width(r);
		req.body_case = MMIO__REQUEST__BODY_LOAD;
		req.load = &body;
		send_request(c, &req);
		break;
	}
	case SOP_STORE: {
		Mmio__Store body = MMIO__STORE__INIT;
		body.lease = take_lease(r);
		body.offset = take_u64(r);
		body.width = take_width(r);
		body.value = take_u64(r);
		req.body_case = MMIO__REQUEST__BODY_STORE;
		req.store = &body;
		send_request(c, &req);
		break;
	}
	case SOP_BARRIER: {
		Mmio__Barrier body = MMIO__BARRIER__INIT;
		body.lease = take_lease(r);
		req.body_case = MMIO__REQUEST__BODY_BARRIER;
		req.barrier = &body;
		send_request(c, &req);
		break;
	}
	case SOP_LIST_LEASES: {
		Mmio__ListLeases body = MMIO__LIST_LEASES__INIT;
		req.body_case = MMIO__REQUEST__BODY_LIST_LEASES;
		req.list_leases = &body;
		send_request(c, &req);
		break;
	}
	case SOP_BATCH:
		op_batch(c, r);
		break;
	case SOP_REVOKE: {
		Mmio__Revoke body = MMIO__REVOKE__INIT;
		body.lease = take_lease(r);
		req.body_case = MMIO__REQUEST__BODY_REVOKE;
		req.revoke = &body;
		send_request(c, &req);
		break;
	}
	case SOP_IRQ: {
		Mmio__IrqSubscribe sub = MMIO__IRQ_SUBSCRIBE__INIT;
		Mmio__IrqAck ack = MMIO__IRQ_ACK__INIT;
		Mmio__IrqUnsubscribe unsub = MMIO__IRQ_UNSUBSCRIBE__INIT;
		uint8_t kind = take_u8(r) % 3;
		sub.lease = ack.lease = unsub.lease = take_lease(r);
		req.body_case = kind == 0   ? MMIO__REQUEST__BODY_IRQ_SUBSCRIBE
				: kind == 1 ? MMIO__REQUEST__BODY_IRQ_ACK
					    : MMIO__REQUEST__BODY_IRQ_UNSUBSCRIBE;
		req.irq_subscribe = &sub;
		if (kind == 1) {
			req.irq_ack = &ack;
		} else if (kind == 2) {
			req.irq_unsubscribe = &unsub;
		}
		send_request(c, &req);
		break;
	}
	case SOP_MODIFY: {
		Mmio__Modify body = MMIO__MODIFY__INIT;
		body.lease = take_lease(r);
		body.offset = take_u64(r);
		body.width = take_width(r);
		body.mask = take_u64(r);
		body.value = take_u64(r);
		req.body_case = MMIO__REQUEST__BODY_MODIFY;
		req.modify = &body;
		send_request(c, &req);
		break;
	}
	case SOP_POLL: {
		Mmio__Poll body = MMIO__POLL__INIT;
		body.lease = take_lease(r);
		body.offset = take_u64(r);
		body.width = take_width(r);
		body.mask = take_u64(r);
		body.value = take_u64(r);
		body.timeout_ms = take_u8(r);
		req.body_case = MMIO__REQUEST__BODY_POLL;
		req.poll = &body;
		send_request(c, &req);
		break;
	}
	case SOP_BLOCK_READ: {
		Mmio__BlockRead body = MMIO__BLOCK_READ__INIT;
		body.lease = take_lease(r);
		body.offset = take_u64(r);
		body.width = take_width(r);
		body.count = take_u8(r);
		body.repeat = take_u8(r) & 1;
		req.body_case = MMIO__REQUEST__BODY_BLOCK_READ;
		req.block_read = &body;
		send_request(c, &req);
		break;
	}
	case SOP_BLOCK_WRITE:
		op_block_write(c, r);
		break;
	case SOP_RAW: {
		size_t len;
		const uint8_t *frame = take_frame(r, &len);
		receive(c, frame, len);
		break;
	}
	case SOP_EMPTY:
		send_request(c, &req);
		break;
	case SOP_HANGUP:
		hang_up(c);
		break;
	case SOP_POLL_TICK:
		poll_tick(c, take_u8(r) & 1);
		serve(c); /* reading goes on once the poll is over */
		break;
	case SOP_LIST_REGISTERS:
	case SOP_REGISTER_PAGES: {
		char *region = take_region(r);
		list_registers(c, region, take_u8(r),
			       (code & 0x7f) % SOP_COUNT == SOP_REGISTER_PAGES);
		break;
	}
	case SOP_SIM_DEVICE: {
		Mmio__SimDevice body = MMIO__SIM_DEVICE__INIT;
		body.region = take_region(r);
		body.op = (Mmio__SimOp)(take_u8(r) % 5);
		body.offset = take_u64(r);
		body.width = take_width(r);
		body.mask = take_u64(r);
		body.value = take_u64(r);
		req.body_case = MMIO__REQUEST__BODY_SIM_DEVICE;
		req.sim_device = &body;
		send_request(c, &req);
		break;
	}
	case SOP_TRACE: {
		Mmio__TraceSubscribe body = MMIO__TRACE_SUBSCRIBE__INIT;
		body.region = take_region(r);
		req.body_case = MMIO__REQUEST__BODY_TRACE_SUBSCRIBE;
		req.trace_subscribe = &body;
		send_request(c, &req);
		break;
	}
	case SOP_STATS: {
		Mmio__Stats body = MMIO__STATS__INIT;
		req.body_case = MMIO__REQUEST__BODY_STATS;
		req.stats = &body;
		send_request(c, &req);
		break;
	}
	case SOP_FDS: {
		uint8_t n = take_u8(r);
		c->next.n = n < WIRE_MAX_RECV_FDS ? n : WIRE_MAX_RECV_FDS;
		c->next.pattern = take_u8(r);
		break;
	}
	case SOP_QUEUE: {
		size_t len;
		const uint8_t *frame = take_frame(r, &len);
		client_send(c, frame, len);
		break;
	}
	case SOP_LIST_PAGE:
		op_list_page(c, r);
		break;
	}
}

int
LLVMFuzzerInitialize(int *argc, char ***argv) /* NOLINT(readability-non-const-parameter) */
{
	(void)argc;
	(void)argv;
	fuzz_world_init(MAX_LEASES);
	st.all[0] = &st.conns[0].s;
	st.all[1] = &st.conns[1].s;
	/* Fds in flight count against RLIMIT_NOFILE (ETOOMANYREFS): as many as allowed. */
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	return 0;
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

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1) {
		return 0;
	}
	struct reader r = {data + 1, size - 1};
	fuzz_world_reset();
	fuzz_fds_open(&st.fds);
	if (data[0] & 0x20) {
		FUZZ_CHECK(fd_closer_start() == 0 && fd_closer_threaded());
	}
	st.n_known = 0;
	st.base = next_lease_id();
	st.conns[0].identity = data[0] & 3;
	st.conns[0].refused = false;
	st.conns[1].identity = (data[0] >> 2) & 3;
	st.conns[1].refused = (data[0] & 0x10) != 0;
	connect_client(&st.conns[0]);
	connect_client(&st.conns[1]);

	while (r.left > 0) {
		run_op(&r);
	}

	for (unsigned i = 0; i < 2; i++) {
		poll_tick(&st.conns[i], true);
		FUZZ_CHECK(!st.conns[i].polling);
	}
	finish(&st.conns[0]);
	finish(&st.conns[1]);
	fuzz_check_leases(st.all, 2);
	for (unsigned i = 0; i < fuzz_world.table.count; i++) {
		FUZZ_CHECK(TAILQ_EMPTY(&fuzz_world.table.regions[i]->space.leases));
	}
	fuzz_fds_close_check(&st.fds);
	fuzz_world_finish();
	return 0;
}
