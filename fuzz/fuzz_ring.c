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
 * the devices (fuzz_model.h), independent of ring.c and handle_ring.c: how many
 * ops run (0..n) or -EPROTO, and per op the status its socket request would get
 * (read-only, width, alignment on the absolute address, range, value width; the
 * sim region's model failing), the value read and the bytes written (the sim's
 * registers under their access rules, fuzz_sim.h). With MMIO_RING_FEATURE_GROUPS
 * granted the model also runs groups by the protocol's rules (docs/PROTOCOL.md,
 * mmio_ring.h; model_unit() below): all-or-nothing, stop-on-error, a MODIFY in an
 * all-or-nothing group, a group not published whole or longer than 32 refused, one
 * short of completion room closing the connection; without it the flags mean
 * nothing. Then it must match exactly:
 * return value, every completion (a known mmio.Status), the indices mmiod
 * publishes, the detail of the last failure, the request counter and every
 * device byte; bytes of the mem regions outside the connection's read-write
 * leases (read-only leases included) must not change.
 * After -EPROTO the connection goes as conn_destroy() ends it (session_finish)
 * and a new one starts. The ring count must follow the rings. One thread: the
 * client never writes while mmiod runs, so the copy-once of each sqe (a race)
 * is left to tests/integration. FUZZ_TRACE=1 prints one line per dispatch_ring()
 * besides the requests.
 *
 * The doorbell is a stream socket pair whose other end the client holds: it
 * writes any bytes into it, with descriptors attached (SCM_RIGHTS) or out of
 * band (MSG_OOB), and may shut it down or close it. ring_wake() must never
 * block (the fuzzer would hang), return -EPIPE when, and only when, the client
 * can ring no more and everything it rang was read, empty a doorbell of plain
 * bytes (up to its bound of 16 reads of 256 bytes), and leave nothing that
 * keeps the event loop coming back for nothing: called again while the
 * doorbell reads ready, as the loop would, it gets to the end. How the doorbell
 * is guarded is a step: the kernel refuses descriptors (SO_PASSRIGHTS, where it
 * can), or they pass and are closed inline or on fd_closer's thread. After the
 * input no fd may be left open or in flight (fuzz_fds_close_check).
 *
 * Input: one setup byte, then steps until the input ends; a field the input
 * runs out of reads as 0.
 *   setup  bits 0-2: the entries asked for: 0 (default), 1, 2, 3, 4, 8, 16, 1000;
 *          bit 3: mmiod's and the client's indices start at 2^32 - 8 (as after a
 *          long life: they wrap within a few ops); bits 4-7: start of lease A.
 *          The doorbell passes descriptors, closed inline, until RS_GUARD says
 *          otherwise; RingSetup asks for no feature until RS_GROUPS says otherwise.
 *   step   1 byte, mod RING_STEP_COUNT (enum ring_step below).
 * Each connection holds, in this order: A = ram [setup >> 4, +0x40) rw,
 * B = ram [0x808, +0x40) ro, C = regs [0, +0x40) rw (regs sits 2 bytes past an
 * 8-byte boundary, so alignment on the absolute address matters), D = dev
 * [0, +0x60) rw (the sim region: every access kind, TICK and TRAP).
 * Fields:
 *   flags  1 byte f: bits 0-2 LINK, STOP_ON_ERROR, ALL_OR_NOTHING of a group's first
 *          entry (the later ones get LINK, the last none); bit 3: the last gets LINK
 *          too (a group that does not end); bit 4: the last is written but not
 *          published (step_submit_group).
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
#include <linux/sockios.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fd_closer.h"
#include "device/fault.h"
#include "fuzz_common.h"
#include "fuzz_model.h"
#include "mmio_limits.h"
#include "mmio_ring.h"
#include "request/ring.h"
#include "wire.h"

/* Linux 6.16's asm-generic value, as fd_closer.c has it; Debian 12's headers predate it. */
#ifndef SO_PASSRIGHTS
#define SO_PASSRIGHTS 83
#endif

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
	RS_ACQUIRE,    /* u8 region (mod 3: ram, regs, dev), u64 offset, u64 length: Acquire */
	RS_HANGUP,     /* the client hangs up and connects again */
	RS_SETUP,      /* u8 how, u8 entries: a RingSetup refused (step_setup_again) */
	RS_BELL,       /* u8 k, u8 fill, u8 n, u8 kinds, u8 flags: the client writes k bytes
			  (k >= 0x80: (k - 0x7f) * 512) of fill into its doorbell, with n fds
			  attached (over 253 reads as 253; enum fuzz_fd_kind, 2 bits each);
			  flags bit 0: MSG_OOB (step_bell) */
	RS_BELL_CLOSE, /* u8 how: bit 0: shutdown(SHUT_WR), else close() of the client's end */
	RS_GUARD,      /* u8 g: how the next doorbells are guarded (enum guard, g mod 3); the
			  client hangs up and connects again */
	RS_GROUPS,     /* u8 f: RingSetup.features the next rings ask for (unknown bits too);
			  the client hangs up and connects again */
	RS_SUBMIT_GROUP, /* u8 k, flags, lease, op, width, u64 offset, u64 value: k mod 40 + 1
			    sqes as RS_SUBMIT_RUN, linked as flags says */
	RS_FLAGS,        /* u8 back, u8 f: the flags byte of the sqe written last but back
			    (mod entries), published or not, becomes f */
	RING_STEP_COUNT,
};

/* How the doorbell of a new ring is guarded (fd_closer_guard() in ring_create()). */
enum guard {
	GUARD_KERNEL, /* as mmiod on Linux >= 6.16: the kernel refuses descriptors */
	GUARD_INLINE, /* they pass (MMIOD_NO_SO_PASSRIGHTS) and are closed inline */
	GUARD_THREAD, /* they pass and are closed on fd_closer's thread */
};

/* The client's end of the doorbell. */
enum bell_state { BELL_OPEN, BELL_SHUT, BELL_CLOSED };

#define MAX_LEASES 16
#define MAX_KNOWN  64
#define MEM_BYTES  (FUZZ_RAM_SIZE + FUZZ_REGS_SIZE)

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
	uint32_t written; /* the client's sq_tail had it published everything it wrote */
	/* mmiod's own indices, as the model says they must be. */
	uint32_t sq_head;
	uint32_t cq_tail;
	/* RingSetup.features asked for, and whether GROUPS was granted. */
	uint32_t features;
	bool groups;
	/* The input. */
	uint8_t setup;
	uint64_t known[MAX_KNOWN];
	unsigned n_known;
	uint64_t base;
	uint64_t next_conn_id;
	uint64_t next_request_id;
	uint64_t next_user_data;
	bool trace; /* FUZZ_TRACE=1: one line per dispatch_ring() */
	/* The doorbell. */
	bool kernel_refuses; /* SO_PASSRIGHTS works on this kernel */
	enum guard guard;
	enum bell_state bell;
	/*
	 * Writes with fds or out of band since the doorbell was last seen empty:
	 * reads stop at them, and an OOB byte is never read inline.
	 */
	unsigned bell_marks;
	bool bell_sent_self; /* the client's end went through itself: EOF waits for that copy */
	struct fuzz_fds fds; /* what the input attaches */
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

/*
 * What RingSetup hands the client: the fds (-1 if refused), the queue size, memfd size and
 * features granted.
 */
struct ring_grant {
	int memfd;
	int doorbell;
	uint32_t entries;
	uint32_t size;
	uint32_t features;
};

/* RingSetup through dispatch(), as conn.c handles it; the fds as the client receives them. */
static Mmio__Status
ring_setup(struct session *s, uint32_t asked, uint32_t features, struct ring_grant *g)
{
	Mmio__RingSetup body = MMIO__RING_SETUP__INIT;
	body.entries = asked;
	body.features = features;
	Mmio__Request req = MMIO__REQUEST__INIT;
	req.body_case = MMIO__REQUEST__BODY_RING_SETUP;
	req.ring_setup = &body;
	req.id = ++st.next_request_id;
	FUZZ_CHECK(fuzz_expected_result(s, &req) == DISPATCH_REPLY);
	struct fuzz_snapshot before;
	fuzz_snapshot_take(&before);
	Mmio__Reply reply = MMIO__REPLY__INIT;
	struct reply_scratch scratch;
	FUZZ_CHECK(dispatch(s, &req, &reply, &scratch) == DISPATCH_REPLY);
	fuzz_check_reply(&reply, req.id);
	FUZZ_CHECK(fuzz_snapshot_same(&before));
	*g = (struct ring_grant){.memfd = scratch.pass_fds[0], .doorbell = scratch.pass_fds[1]};
	if (reply.status == MMIO__STATUS__OK) {
		FUZZ_CHECK(reply.body_case == MMIO__REPLY__BODY_RING);
		g->entries = reply.ring->entries;
		g->size = reply.ring->size;
		g->features = reply.ring->features;
		FUZZ_CHECK(g->memfd >= 0 && g->doorbell >= 0);
	} else {
		FUZZ_CHECK(g->memfd < 0 && g->doorbell < 0);
	}
	reply_finish(&scratch);
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
	fuzz_fds_settle();
	if (st.guard == GUARD_THREAD || !st.kernel_refuses) {
		setenv(FD_CLOSER_NO_PASSRIGHTS_ENV, "1", 1);
	} else {
		unsetenv(FD_CLOSER_NO_PASSRIGHTS_ENV);
	}
	FUZZ_CHECK(ring_setup(&st.s, asked, st.features, &g) == MMIO__STATUS__OK);
	/* Exactly the known features asked for: unknown bits are ignored. */
	FUZZ_CHECK(g.features == (st.features & MMIO_RING_FEATURE_GROUPS));
	st.groups = g.features & MMIO_RING_FEATURE_GROUPS;
	/* Where the kernel cannot refuse fds, they are closed on the thread the guard started. */
	FUZZ_CHECK(fd_closer_threaded() == (st.guard == GUARD_THREAD || !st.kernel_refuses));
	if (st.guard == GUARD_INLINE) {
		/*
		 * Not a state mmiod is ever in (where fds pass, its closes are threaded),
		 * but the cheap and deterministic one to fuzz ring_wake() in: the guard
		 * undone by hand, or the thread it had to start stopped.
		 */
		static const int on = 1;
		FUZZ_CHECK(!st.kernel_refuses || setsockopt(st.s.ring->doorbell_fd, SOL_SOCKET,
							    SO_PASSRIGHTS, &on, sizeof(on)) == 0);
		fuzz_fds_settle();
	}
	st.bell = BELL_OPEN;
	st.bell_marks = 0;
	st.bell_sent_self = false;
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
	st.written = 0;
	if (st.setup & 8) {
		/* A ring that has run 2^32 - 8 ops: mmiod's copies and what it published. */
		st.sq_head = st.cq_tail = WRAP_START;
		st.s.ring->sq_head = st.s.ring->cq_tail = st.s.ring->cq_published = WRAP_START;
		st.hdr->sq_head = st.hdr->cq_tail = WRAP_START;
		st.hdr->sq_tail = st.hdr->cq_head = WRAP_START;
		st.written = WRAP_START;
	}

	acquire("ram", st.setup >> 4, 0x40);
	acquire("ram", 0x808, 0x40);
	acquire("regs", 0, 0x40);
	acquire("dev", 0, FUZZ_DEV_RW);
}

static void bell_drain_to_eof(void);

/* conn_destroy(): every lease revoked, the ring closed; the client unmaps and closes. */
static void
hang_up(void)
{
	if (st.bell != BELL_OPEN) {
		bell_drain_to_eof();
	}
	session_finish(&st.s, LEASE_END_DISCONNECT);
	st.connected = false;
	FUZZ_CHECK(st.s.ring == NULL && st.s.leases.count == 0);
	FUZZ_CHECK(fuzz_world.svc.n_rings == 0);
	fuzz_check_leases(NULL, 0);
	munmap(st.hdr, st.size);
	if (st.bell != BELL_CLOSED) {
		close(st.doorbell);
	}
	st.bell = BELL_CLOSED;
	st.hdr = NULL;
}

/* ---- the model ---- */

/* What one op must complete with; runs it on m. */
static struct mmio_ring_cqe
model_op(struct fuzz_snapshot *m, const struct mmio_ring_sqe *sqe)
{
	struct mmio_ring_cqe cqe = {.user_data = sqe->user_data};
	const struct lease *l = lease_find(&st.s.leases, sqe->lease);
	Mmio__Status status;
	uint64_t v = sqe->value;
	enum lease_end why;
	if (!l) {
		status = session_was_revoked(&st.s, sqe->lease, &why) ? MMIO__STATUS__REVOKED
								      : MMIO__STATUS__NOT_FOUND;
	} else {
		switch (sqe->op) {
		case MMIO_RING_OP_LOAD:
		case MMIO_RING_OP_STORE:
			status = fuzz_model_checked(m, l, sqe->offset, sqe->width,
						    sqe->op == MMIO_RING_OP_STORE, &v);
			cqe.value =
				status == MMIO__STATUS__OK && sqe->op == MMIO_RING_OP_LOAD ? v : 0;
			break;
		case MMIO_RING_OP_MODIFY: {
			/* As Modify: refused on a read-only lease before the load. */
			uint64_t old = 0;
			status = l->read_only ? MMIO__STATUS__PERMISSION_DENIED
					      : fuzz_model_checked(m, l, sqe->offset, sqe->width,
								   false, &old);
			if (status == MMIO__STATUS__OK) {
				uint64_t next = ((old & ~sqe->mask) | (sqe->value & sqe->mask)) &
						fuzz_width_mask(sqe->width);
				status = fuzz_model_access(m, l, sqe->offset, sqe->width, true,
							   &next);
			}
			cqe.value = status == MMIO__STATUS__OK ? old : 0;
			break;
		}
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

/* Where lease l's byte off lies among the mem regions' bytes of a snapshot; l not on dev. */
static size_t
mem_at(const struct lease *l, uint64_t off)
{
	const struct region *ram = fuzz_world.table.regions[FUZZ_REGION_RAM];
	return (region_of_lease(l) == ram ? 0 : FUZZ_RAM_SIZE) + l->start + off;
}

/* Bytes of the mem regions the connection may write: those of its read-write leases. */
static void
writable_bytes(bool *rw)
{
	memset(rw, 0, MEM_BYTES * sizeof(*rw));
	const struct region *dev = fuzz_world.table.regions[FUZZ_REGION_DEV];
	const struct lease *l;
	TAILQ_FOREACH(l, &st.s.leases.leases, set_link)
	{
		if (!l->read_only && l->len > 0 && region_of_lease(l) != dev) {
			for (uint64_t i = 0; i < l->len; i++) {
				rw[mem_at(l, i)] = true;
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
	uint32_t n;                                      /* entries completed (before -EPROTO) */
	struct mmio_ring_cqe cqe[MMIO_RING_MAX_ENTRIES]; /* their completions */
	bool failed;               /* some op failed (CANCELLED is no failure): the detail is ... */
	uint64_t failed_user_data; /* ... the last failure's */
	struct fuzz_snapshot before;
	struct fuzz_snapshot after; /* the device after the ops */
};

static void
expect_completion(struct expectation *x, struct mmio_ring_cqe cqe)
{
	x->cqe[x->n++] = cqe;
	/* An entry cancelled never ran: nothing to explain. */
	if (cqe.status != MMIO__STATUS__OK && cqe.status != MMIO__STATUS__CANCELLED) {
		x->failed = true;
		x->failed_user_data = cqe.user_data;
	}
}

/* The sqe at position i of this dispatch, as mmiod will copy it. */
static struct mmio_ring_sqe
sqe_at(uint32_t i)
{
	return st.sq[(st.sq_head + i) & (st.entries - 1)];
}

/* Does the sqe start a group? Only where GROUPS was granted; else its flags mean nothing. */
static bool
starts_group(const struct mmio_ring_sqe *sqe)
{
	return st.groups && (sqe->flags & (MMIO_RING_F_LINK | MMIO_RING_F_STOP_ON_ERROR |
					   MMIO_RING_F_ALL_OR_NOTHING)) != 0;
}

/*
 * An all-or-nothing group's verdict on one entry before anything runs, as a Batch's: the
 * lease, then the lease and register rules of a load or store (not the device: its failure
 * comes when it runs); a barrier passes; a MODIFY cannot be judged ahead (it reads), and an
 * unknown op is no op: INVALID_ARGUMENT.
 */
static Mmio__Status
judge_ahead(const struct mmio_ring_sqe *sqe)
{
	const struct lease *l = lease_find(&st.s.leases, sqe->lease);
	enum lease_end why;
	if (!l) {
		return session_was_revoked(&st.s, sqe->lease, &why) ? MMIO__STATUS__REVOKED
								    : MMIO__STATUS__NOT_FOUND;
	}
	switch (sqe->op) {
	case MMIO_RING_OP_LOAD:
	case MMIO_RING_OP_STORE:
		return fuzz_access_status(l, sqe->offset, sqe->width, sqe->op == MMIO_RING_OP_STORE,
					  sqe->value);
	case MMIO_RING_OP_BARRIER:
		return MMIO__STATUS__OK;
	default:
		return MMIO__STATUS__INVALID_ARGUMENT;
	}
}

/*
 * A group of len entries from position at, as a Batch with its first entry's flags: with
 * ALL_OR_NOTHING, if any entry fails its judgement ahead none runs (those get their status,
 * the others CANCELLED, nothing is written); then in order, and with STOP_ON_ERROR every entry
 * after the first failure (the device's included) is CANCELLED.
 */
static void
model_group(struct expectation *x, uint32_t at, uint32_t len)
{
	struct mmio_ring_sqe first = sqe_at(at);
	bool all_or_nothing = first.flags & MMIO_RING_F_ALL_OR_NOTHING;
	bool stop_on_error = first.flags & MMIO_RING_F_STOP_ON_ERROR;
	Mmio__Status judged[MMIO_RING_ATOMIC_OPS];
	bool none_runs = false;
	for (uint32_t i = 0; i < len && all_or_nothing; i++) {
		struct mmio_ring_sqe sqe = sqe_at(at + i);
		judged[i] = judge_ahead(&sqe);
		none_runs |= judged[i] != MMIO__STATUS__OK;
	}
	bool failed = false;
	for (uint32_t i = 0; i < len; i++) {
		struct mmio_ring_sqe sqe = sqe_at(at + i);
		struct mmio_ring_cqe cqe = {.user_data = sqe.user_data};
		if (none_runs) {
			cqe.status =
				judged[i] == MMIO__STATUS__OK ? MMIO__STATUS__CANCELLED : judged[i];
		} else if (failed && stop_on_error) {
			cqe.status = MMIO__STATUS__CANCELLED;
		} else {
			cqe = model_op(&x->after, &sqe);
		}
		failed |= cqe.status != MMIO__STATUS__OK;
		expect_completion(x, cqe);
	}
}

/* An entry of a group refused: not published whole, or too long. */
static struct mmio_ring_cqe
refused(const struct mmio_ring_sqe *sqe)
{
	return (struct mmio_ring_cqe){.user_data = sqe->user_data,
				      .status = MMIO__STATUS__INVALID_ARGUMENT};
}

/*
 * The unit at position at of this dispatch, in a pass whose entries end at pass_end (what is
 * published, within the call's budget): a single entry, or a group. A group must end (an entry
 * without LINK) within the pass it starts in. One that does not is refused (each entry of it
 * in the pass INVALID_ARGUMENT, none runs) if it starts the pass and the pass holds the
 * longest group or everything published (refuse); else it waits for a later call. A unit
 * needs a completion per entry: with the completion queue full mmiod takes nothing more, and a
 * group needing more than the room left breaks the protocol. Entries it took; 0: the call ends
 * here; -1: -EPROTO.
 */
static int
model_unit(struct expectation *x, uint32_t at, uint32_t pass_end, bool refuse, uint32_t room)
{
	struct mmio_ring_sqe sqe = sqe_at(at);
	if (!starts_group(&sqe)) {
		if (room == 0) {
			return 0;
		}
		expect_completion(x, model_op(&x->after, &sqe));
		return 1;
	}
	uint32_t end = at;
	while (end < pass_end && (sqe_at(end).flags & MMIO_RING_F_LINK)) {
		end++;
	}
	bool ends = end < pass_end;
	if (!ends && !refuse) {
		return 0;
	}
	uint32_t len = ends ? end + 1 - at : pass_end - at;
	if (room == 0) {
		return 0;
	}
	if (len > room) {
		return -1;
	}
	if (!ends) {
		for (uint32_t i = 0; i < len; i++) {
			struct mmio_ring_sqe in_group = sqe_at(at + i);
			expect_completion(x, refused(&in_group));
		}
		/* What follows them, published later or past the 32nd, is read afresh
		 * (docs/PROTOCOL.md). */
		return (int)len;
	}
	model_group(x, at, len);
	return (int)len;
}

/*
 * mmiod reads up to n published entries in passes of MMIO_RING_ATOMIC_OPS from the first one
 * of the call (the last pass cut by n or by what is published) and runs them unit by unit
 * while the completion queue has room.
 */
static void
expect_dispatch(struct expectation *x, unsigned n)
{
	fuzz_snapshot_take(&x->before);
	x->after = x->before;
	x->failed = false;
	x->n = 0;
	x->rc = 0;
	/* What the client has published, as mmiod will read it (nothing else runs meanwhile). */
	uint32_t e = st.entries;
	uint32_t waiting = st.hdr->sq_tail - st.sq_head;
	uint32_t unread = st.cq_tail - st.hdr->cq_head;
	if (n == 0) {
		return;
	}
	if (waiting > e || unread > e) {
		x->rc = -EPROTO;
		return;
	}
	uint32_t room = e - unread;
	uint32_t at = 0;
	while (at < n && at < waiting) {
		uint32_t pass = at - at % MMIO_RING_ATOMIC_OPS;
		uint32_t budget_end =
			n - pass < MMIO_RING_ATOMIC_OPS ? n : pass + MMIO_RING_ATOMIC_OPS;
		uint32_t pass_end = budget_end < waiting ? budget_end : waiting;
		bool holds_longest = budget_end - pass == MMIO_RING_ATOMIC_OPS;
		bool holds_all = waiting < budget_end;
		int took = model_unit(x, at, pass_end, at == pass && (holds_longest || holds_all),
				      room);
		if (took < 0) {
			x->rc = -EPROTO;
			return;
		}
		if (took == 0) {
			break;
		}
		at += (uint32_t)took;
		room -= (uint32_t)took;
	}
	x->rc = (int)at;
}

/*
 * The devices: exactly as the ops left the model; and, whatever the model says, no byte of a
 * mem region outside the connection's read-write leases changed.
 */
static void
check_device(const struct expectation *x)
{
	static bool rw[MEM_BYTES];
	static struct fuzz_snapshot now;
	writable_bytes(rw);
	fuzz_snapshot_take(&now);
	for (size_t i = 0; i < MEM_BYTES; i++) {
		FUZZ_CHECK(rw[i] || now.bytes[i] == x->before.bytes[i]);
	}
	FUZZ_CHECK(fuzz_snapshot_same(&x->after));
}

static void
check_completions(const struct expectation *x)
{
	for (uint32_t i = 0; i < x->n; i++) {
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
	fprintf(stderr, "fuzz: conn %" PRIu64 " dispatch_ring(%u) -> %d%s:", st.s.conn_id, n, x->rc,
		st.groups ? " (groups)" : "");
	for (uint32_t i = 0; i < x->n; i++) {
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
	FUZZ_CHECK(fuzz_world.svc.requests == requests + x.n);
	FUZZ_CHECK(fault_jump == NULL);
	check_device(&x);
	if (st.trace) {
		trace_dispatch(n, &x);
	}
	check_completions(&x);
	st.sq_head += x.n;
	st.cq_tail += x.n;
	if (rc < 0) {
		/* Taken and completed only what ran before the breach; the connection must go. */
		FUZZ_CHECK(st.s.ring->sq_head == st.sq_head && st.s.ring->cq_tail == st.cq_tail);
		hang_up();
		connect_client();
		return;
	}
	FUZZ_CHECK(st.s.ring->sq_head == st.sq_head && st.s.ring->cq_tail == st.cq_tail);
	if (rc > 0) {
		/* Published over whatever the client wrote there. */
		FUZZ_CHECK(st.hdr->sq_head == st.sq_head && st.hdr->cq_tail == st.cq_tail);
	}
}

/* ---- the steps ---- */

/* Writes one sqe into the slot after the last written (unpublished ones included). */
static void
write_sqe(uint8_t op, uint64_t lease, uint64_t offset, uint8_t width, uint64_t value, uint64_t mask,
	  uint8_t flags)
{
	struct mmio_ring_sqe sqe = {
		.user_data = ++st.next_user_data,
		.lease = lease,
		.offset = offset,
		.value = value,
		.mask = mask,
		.op = op,
		.width = width,
		.flags = flags,
	};
	st.sq[st.written & (st.entries - 1)] = sqe;
	st.written++;
}

/* Publishes what was written, but the last hold entries. */
static void
publish(uint32_t hold)
{
	__atomic_store_n(&st.hdr->sq_tail, st.written - hold, __ATOMIC_RELEASE);
}

static void
submit(uint8_t op, uint64_t lease, uint64_t offset, uint8_t width, uint64_t value, uint64_t mask)
{
	st.written = st.hdr->sq_tail;
	write_sqe(op, lease, offset, width, value, mask, 0);
	publish(0);
}

/* RS_SUBMIT_GROUP: k + 1 sqes as RS_SUBMIT_RUN, linked into a group as flags says. */
static void
step_submit_group(struct reader *r)
{
	unsigned k = take_u8(r) % 40;
	uint8_t flags = take_u8(r);
	uint64_t lease = take_lease(r);
	uint8_t op = take_op(r);
	uint8_t width = take_width(r);
	uint64_t offset = take_u64(r);
	uint64_t value = take_u64(r);
	st.written = st.hdr->sq_tail;
	for (unsigned i = 0; i <= k; i++) {
		uint8_t f = i == 0 ? flags & 7 : 0;
		if (i < k || (flags & 8)) {
			f |= MMIO_RING_F_LINK;
		}
		write_sqe(op, lease, offset + (uint64_t)i * width, width, value, UINT64_MAX, f);
	}
	publish(flags & 16 ? 1 : 0);
}

/* RS_FLAGS: the client rewrites the flags of an entry it wrote, published or not. */
static void
step_flags(struct reader *r)
{
	uint32_t back = take_u8(r);
	uint8_t f = take_u8(r);
	st.sq[(st.written - 1 - back) & (st.entries - 1)].flags = f;
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

/* Bytes waiting in mmiod's end of the doorbell (out-of-band ones included). */
static int
bell_unread(void)
{
	int n;
	FUZZ_CHECK(ioctl(st.s.ring->doorbell_fd, SIOCINQ, &n) == 0 && n >= 0);
	return n;
}

/* The event loop would call doorbell_cb(): EV_READ, or a hangup or error (epoll reports both). */
static bool
bell_ready(void)
{
	struct pollfd p = {.fd = st.s.ring->doorbell_fd, .events = POLLIN};
	FUZZ_CHECK(poll(&p, 1, 0) >= 0);
	return (p.revents & (POLLIN | POLLHUP | POLLERR)) != 0;
}

/* Bytes one ring_wake() reads at most: 16 reads of 256 (ring.c). */
#define WAKE_READS 4096

/* ring_wake(), checked; its result. */
static int
wake_once(void)
{
	int before = bell_unread();
	if (before == 0) {
		st.bell_marks = 0;
	}
	int rc = ring_wake(st.s.ring);
	FUZZ_CHECK(st.hdr->daemon_sleeping == 0);
	FUZZ_CHECK(rc == 0 || rc == -EPIPE);
	int after = bell_unread();
	if (st.trace) {
		fprintf(stderr, "fuzz: ring_wake -> %d, unread %d -> %d (bell %d, marks %u)\n", rc,
			before, after, (int)st.bell, st.bell_marks);
	}
	if (rc == -EPIPE) {
		/* Only once the client can ring no more, and everything it rang inline was read. */
		FUZZ_CHECK(st.bell != BELL_OPEN);
		FUZZ_CHECK(after == 0 || st.bell_marks > 0);
	}
	if (st.bell_marks == 0) {
		/* Plain bytes: read as far as the bound, 256 at a time. */
		FUZZ_CHECK(after == (before > WAKE_READS ? before - WAKE_READS : 0));
		/* Then the end, if it is there to see: no copy of the client's end is left. */
		bool eof_known = st.bell != BELL_OPEN && !st.bell_sent_self;
		if (eof_known && before < WAKE_READS && before % 256 == 0) {
			FUZZ_CHECK(rc == -EPIPE);
		}
	}
	return rc;
}

/*
 * Back from sleep: ring_wake() once, then again while the doorbell reads ready,
 * as the level-triggered loop calls doorbell_cb() (conn_ring.c) until -EPIPE
 * makes it stop watching. Each call must make progress: the loop must not come
 * back forever for a doorbell it cannot empty.
 */
static void
step_wake(void)
{
	int before = bell_unread();
	int rc = wake_once();
	unsigned calls = (unsigned)before / 256 + st.bell_marks + 4;
	while (rc == 0 && bell_ready() && calls-- > 0) {
		rc = wake_once();
	}
	if (rc == 0 && bell_ready()) {
		/* An EOF that came after: a closer thread closed the client's last copy meanwhile.
		 */
		fuzz_fds_settle();
		for (calls = 4; rc == 0 && bell_ready() && calls-- > 0;) {
			rc = wake_once();
		}
	}
	/*
	 * The client's end sent inside itself is released by the kernel's garbage
	 * collector for sockets in flight, when it runs: its EOF may come later
	 * still, and then the loop calls us again (seen once in CI).
	 */
	FUZZ_CHECK(rc == -EPIPE || !bell_ready() || st.bell_sent_self);
}

/*
 * Before teardown, once the client can ring no more: with every close made,
 * ring_wake() gets to -EPIPE within as many calls as bytes are left.
 */
static void
bell_drain_to_eof(void)
{
	fuzz_fds_settle();
	unsigned calls = (unsigned)bell_unread() + 4;
	int rc;
	while ((rc = wake_once()) == 0 && calls-- > 0) {
	}
	FUZZ_CHECK(rc == -EPIPE);
}

static void
step_doorbell(void)
{
	if (st.bell != BELL_OPEN) {
		return;
	}
	uint64_t one = 1;
	ssize_t n = send(st.doorbell, &one, sizeof(one), MSG_NOSIGNAL);
	/* A stream socket: part of it, or nothing while the doorbell is full. */
	FUZZ_CHECK(n > 0 || (n < 0 && errno == EAGAIN));
}

/*
 * The client writes what it likes into its end of the doorbell: bytes, out of
 * band, with descriptors attached. Refused only where the guard has the kernel
 * refuse descriptors, or the doorbell is full.
 */
static void
step_bell(struct reader *r)
{
	static uint8_t bytes[128 * 512];
	uint8_t k = take_u8(r);
	size_t len = k < 0x80 ? k : (size_t)(k - 0x7f) * 512;
	uint8_t fill = take_u8(r);
	uint8_t n = take_u8(r);
	unsigned n_fds = n < WIRE_MAX_RECV_FDS ? n : WIRE_MAX_RECV_FDS;
	uint8_t pattern = take_u8(r);
	int flags = take_u8(r) & 1 ? MSG_OOB : 0;
	if (st.bell != BELL_OPEN) {
		return;
	}
	memset(bytes, fill, len);
	int fds[WIRE_MAX_RECV_FDS];
	fuzz_fds_pick(&st.fds, pattern, st.doorbell, fds, n_fds);
	ssize_t sent = fuzz_send_fds(st.doorbell, bytes, len, fds, n_fds, flags);
	if (n_fds > 0 && len > 0 && st.guard == GUARD_KERNEL && st.kernel_refuses) {
		/* Refused; a full doorbell says EAGAIN before it looks at the fds. */
		FUZZ_CHECK(sent == -EPERM || (sent == -EAGAIN && bell_unread() > 0));
		return;
	}
	if (sent < 0) {
		/* Full, too many fds in flight for this user, or no MSG_OOB in this kernel. */
		FUZZ_CHECK(sent == -EAGAIN || sent == -ETOOMANYREFS || sent == -EOPNOTSUPP);
		return;
	}
	FUZZ_CHECK((size_t)sent <= len);
	if (st.trace) {
		fprintf(stderr, "fuzz: doorbell: %zd of %zu bytes%s, %u fds\n", sent, len,
			flags ? " (OOB)" : "", n_fds);
	}
	if (sent > 0 && (n_fds > 0 || flags)) {
		st.bell_marks++;
		for (unsigned i = 0; i < n_fds; i++) {
			st.bell_sent_self |= fds[i] == st.doorbell;
		}
	}
}

static void
step_bell_close(struct reader *r)
{
	uint8_t how = take_u8(r);
	if (st.bell == BELL_CLOSED) {
		return;
	}
	if ((how & 1) && st.bell == BELL_OPEN) {
		FUZZ_CHECK(shutdown(st.doorbell, SHUT_WR) == 0);
		st.bell = BELL_SHUT;
		return;
	}
	close(st.doorbell);
	st.bell = BELL_CLOSED;
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
		FUZZ_CHECK(ring_setup(&st.s, asked, st.features, &g) ==
			   MMIO__STATUS__INVALID_ARGUMENT);
		FUZZ_CHECK(st.s.ring == ring && fuzz_world.svc.n_rings == 1);
		return;
	}
	struct limits *lim = &fuzz_world.svc.limits;
	unsigned max_rings = lim->max_rings;
	lim->max_rings = how % 3 == 1 ? fuzz_world.svc.n_rings : 0;
	struct session other;
	session_init(&other, ++st.next_conn_id, &fuzz_world.svc, &fuzz_world.ids[FUZZ_ID_USER]);
	other.hello_done = true;
	FUZZ_CHECK(ring_setup(&other, asked, st.features, &g) ==
		   (lim->max_rings == 0 ? MMIO__STATUS__PERMISSION_DENIED
					: MMIO__STATUS__RESOURCE_EXHAUSTED));
	FUZZ_CHECK(other.ring == NULL && fuzz_world.svc.n_rings == 1);
	session_finish(&other, LEASE_END_DISCONNECT);
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
	case RS_SUBMIT_GROUP:
		step_submit_group(r);
		break;
	case RS_FLAGS:
		step_flags(r);
		break;
	case RS_GROUPS:
		st.features = take_u8(r);
		hang_up();
		connect_client();
		break;
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
		static const char *const regions[] = {"ram", "regs", "dev"};
		const char *region = regions[take_u8(r) % 3];
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
	case RS_BELL:
		step_bell(r);
		break;
	case RS_BELL_CLOSE:
		step_bell_close(r);
		break;
	case RS_GUARD:
		st.guard = (enum guard)(take_u8(r) % 3);
		hang_up();
		connect_client();
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
	/*
	 * Where SO_PASSRIGHTS works (Linux >= 6.16), GUARD_KERNEL doorbells refuse
	 * descriptors; MMIOD_NO_SO_PASSRIGHTS in the environment fuzzes as on an older kernel.
	 */
	int sp[2];
	static const int off = 0;
	FUZZ_CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) == 0);
	st.kernel_refuses = !getenv(FD_CLOSER_NO_PASSRIGHTS_ENV) &&
			    setsockopt(sp[0], SOL_SOCKET, SO_PASSRIGHTS, &off, sizeof(off)) == 0;
	close(sp[0]);
	close(sp[1]);
	/* Fds in flight count against RLIMIT_NOFILE (ETOOMANYREFS): as many as allowed. */
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1) {
		return 0;
	}
	int free_fd = fuzz_lowest_free_fd();
	fuzz_fds_open(&st.fds);
	struct reader r = {data + 1, size - 1};
	fuzz_world_reset();
	st.setup = data[0];
	st.guard = GUARD_INLINE;
	st.features = 0;
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
	fuzz_fds_close_check(&st.fds);
	FUZZ_CHECK(fuzz_lowest_free_fd() == free_fd);
	fuzz_world_finish();
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
enum { LEASE_A = 0, LEASE_B = 1, LEASE_C = 2, LEASE_D = 3, LEASE_GONE = 0xf0 };

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

/* RS_SUBMIT_GROUP: k + 1 entries from offset, linked as flags says (the flags field). */
static void
put_group(struct stream *s, uint8_t k, uint8_t flags, uint8_t lease, uint8_t op, unsigned width,
	  uint64_t offset, uint64_t value)
{
	put(s, RS_SUBMIT_GROUP);
	put(s, k);
	put(s, flags);
	put(s, lease);
	put(s, op - MMIO_RING_OP_LOAD);
	put(s, width_code(width));
	put_u64(s, offset);
	put_u64(s, value);
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

/* RS_BELL: k bytes of fill (k >= 0x80: (k - 0x7f) * 512), n fds of kinds, MSG_OOB if oob. */
static void
put_bell(struct stream *s, uint8_t k, uint8_t fill, uint8_t n, uint8_t kinds, bool oob)
{
	put(s, RS_BELL);
	put(s, k);
	put(s, fill);
	put(s, n);
	put(s, kinds);
	put(s, oob ? 1 : 0);
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

enum {
	GF_LINK = MMIO_RING_F_LINK,
	GF_STOP = MMIO_RING_F_STOP_ON_ERROR,
	GF_ALL = MMIO_RING_F_ALL_OR_NOTHING,
	GF_UNENDED = 8,
	GF_HOLD_LAST = 16,
};

/* Rings with MMIO_RING_FEATURE_GROUPS: a group of each kind, and the flags without it. */
static void
write_group_seeds(const char *dir)
{
	struct stream s = {.len = 0};

	/*
	 * Each RS_GROUPS, and the -EPROTO, connects again: lease refs 4 + LEASE_A and on name
	 * the second connection's leases, 8 + the third's, 12 + the fourth's. Lease A is [0, 0x40):
	 * 8-byte stores from 0x30 pass twice, then run out of range. A plain group; all-or-nothing
	 * passing, then failing (nothing written); stop-on-error; a MODIFY in an all-or-nothing
	 * group and in a plain one; a group of one; ops mixed by RS_FLAGS.
	 */
	put(&s, 0); /* 64 entries */
	put_step(&s, RS_GROUPS, MMIO_RING_FEATURE_GROUPS);
	put_group(&s, 3, 0, 4 + LEASE_A, MMIO_RING_OP_STORE, 4, 0, 0x11);
	put_group(&s, 3, GF_ALL, 4 + LEASE_A, MMIO_RING_OP_LOAD, 4, 0, 0);
	put_group(&s, 3, GF_ALL, 4 + LEASE_A, MMIO_RING_OP_STORE, 8, 0x30, 0x22);
	put_group(&s, 3, GF_STOP, 4 + LEASE_A, MMIO_RING_OP_STORE, 8, 0x30, 0x33);
	put_group(&s, 1, GF_ALL | GF_STOP, 4 + LEASE_A, MMIO_RING_OP_MODIFY, 4, 0, 0x44);
	put_group(&s, 1, GF_STOP, 4 + LEASE_A, MMIO_RING_OP_MODIFY, 4, 0, 0x55);
	put_group(&s, 0, GF_ALL, 4 + LEASE_B, MMIO_RING_OP_STORE, 4, 0, 1);
	put_step(&s, RS_DISPATCH, 255);
	put_step(&s, RS_REAP, 255);
	put_submit(&s, 4 + LEASE_A, MMIO_RING_OP_STORE, 4, 0x20, 0x66, 0);
	put_submit(&s, 4 + LEASE_D, MMIO_RING_OP_LOAD, 4, 0x14, 0, 0);
	put_submit(&s, 4 + LEASE_C, MMIO_RING_OP_LOAD, 4, 0, 0, 0); /* unaligned */
	put_submit(&s, 4 + LEASE_A, MMIO_RING_OP_BARRIER, 1, 0, 0, 0);
	put_step(&s, RS_FLAGS, 3);
	put(&s, GF_LINK | GF_ALL);
	put_step(&s, RS_FLAGS, 2);
	put(&s, GF_LINK);
	put_step(&s, RS_FLAGS, 1);
	put(&s, GF_LINK);
	put_step(&s, RS_DISPATCH, 255);
	put_submit(&s, 4 + LEASE_A, MMIO_RING_OP_STORE, 4, 0x20, 0x77, 0);
	put_submit(&s, 4 + LEASE_C, MMIO_RING_OP_LOAD, 4, 0, 0, 0); /* unaligned */
	put_submit(&s, 4 + LEASE_A, MMIO_RING_OP_STORE, 4, 0x24, 0x88, 0);
	put_step(&s, RS_FLAGS, 2);
	put(&s, GF_LINK | GF_STOP | GF_ALL);
	put_step(&s, RS_FLAGS, 1);
	put(&s, GF_LINK);
	put_step(&s, RS_FLAGS, 0);
	put(&s, GF_STOP); /* ignored: only the first entry's count */
	put_step(&s, RS_DISPATCH, 255);
	put_step(&s, RS_REAP, 255);
	seed(dir, "groups_kinds", &s);

	/*
	 * A group published but its last entry (refused, then the last runs alone); one that
	 * never ends; a group of 33 and one of 40; a group across the end of a pass of 32
	 * (waits for the next call) and one longer than the call's budget.
	 */
	s.len = 0;
	put(&s, 0);
	put_step(&s, RS_GROUPS, MMIO_RING_FEATURE_GROUPS | 0xf0);
	put_group(&s, 2, GF_ALL | GF_HOLD_LAST, 4 + LEASE_A, MMIO_RING_OP_STORE, 1, 0, 0x77);
	put_step(&s, RS_DISPATCH, 255);
	put_step(&s, RS_SET_WORD, 0);
	put(&s, 0x41);
	put_step(&s, RS_DISPATCH, 255);
	put_group(&s, 2, GF_UNENDED, 4 + LEASE_A, MMIO_RING_OP_LOAD, 1, 0, 0);
	put_step(&s, RS_DISPATCH, 255);
	put_step(&s, RS_REAP, 255);
	put_group(&s, 32, GF_ALL, 4 + LEASE_A, MMIO_RING_OP_STORE, 1, 0, 0x88);
	put_step(&s, RS_DISPATCH, 255);
	put_step(&s, RS_REAP, 255);
	put_group(&s, 39, GF_STOP, 4 + LEASE_A, MMIO_RING_OP_LOAD, 1, 0, 0);
	put_step(&s, RS_DISPATCH, 32);
	put_step(&s, RS_DISPATCH, 32);
	put_step(&s, RS_REAP, 255);
	put(&s, RS_SUBMIT_RUN);
	put(&s, 27); /* 28 single loads */
	put(&s, 4 + LEASE_A);
	put(&s, 0);
	put(&s, width_code(1));
	put_u64(&s, 0);
	put_u64(&s, 0);
	put_group(&s, 7, GF_ALL, 4 + LEASE_A, MMIO_RING_OP_STORE, 1, 0x10, 0x99);
	put_step(&s, RS_DISPATCH, 255);
	put_step(&s, RS_DISPATCH, 4);
	put_step(&s, RS_DISPATCH, 255);
	seed(dir, "groups_refused", &s);

	/*
	 * A group needing more completions than the queue has room for closes the connection,
	 * after the single before it ran; groups of one on 4 entries; without GROUPS the flags
	 * mean nothing, whatever they say.
	 */
	s.len = 0;
	put(&s, 4); /* 4 entries */
	put_step(&s, RS_GROUPS, MMIO_RING_FEATURE_GROUPS);
	put_submit(&s, 4 + LEASE_A, MMIO_RING_OP_STORE, 1, 1, 0xaa, 0);
	put_step(&s, RS_DISPATCH, 255);
	put_submit(&s, 4 + LEASE_A, MMIO_RING_OP_STORE, 1, 2, 0xbb, 0);
	put_group(&s, 2, GF_ALL, 4 + LEASE_A, MMIO_RING_OP_STORE, 1, 3, 0xcc);
	put_step(&s, RS_DISPATCH, 255);
	put_group(&s, 0, GF_STOP, 8 + LEASE_A, MMIO_RING_OP_LOAD, 3, 0, 0);
	put_group(&s, 0, GF_ALL, 8 + LEASE_A, MMIO_RING_OP_LOAD, 8, 0x40, 0);
	put_step(&s, RS_DISPATCH, 255);
	put_step(&s, RS_GROUPS, 0xfe);
	put_group(&s, 1, GF_ALL, 12 + LEASE_A, MMIO_RING_OP_STORE, 8, 0x38, 0xdd);
	put_group(&s, 1, GF_UNENDED | GF_STOP, 12 + LEASE_A, MMIO_RING_OP_STORE, 8, 0x38, 0xee);
	put_step(&s, RS_DISPATCH, 255);
	seed(dir, "groups_room_and_off", &s);
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
	put_submit(&s, 4, MMIO_RING_OP_STORE, 1, 0, 0xa5, 0);
	put_submit(&s, LEASE_C, MMIO_RING_OP_LOAD, 4, 0, 0, 0);
	put_submit(&s, 5, MMIO_RING_OP_STORE, 8, 0x18, UINT64_MAX, 0);
	put_step(&s, RS_DISPATCH, 16);
	put_step(&s, RS_SETUP, 0);
	put(&s, 0);
	put_step(&s, RS_SETUP, 1);
	put(&s, 4);
	put_step(&s, RS_SETUP, 2);
	put(&s, 0);
	put_step(&s, RS_HANGUP, -1);
	put_submit(&s, LEASE_A, MMIO_RING_OP_LOAD, 1, 0, 0, 0);
	put_submit(&s, 6, MMIO_RING_OP_LOAD, 1, 0, 0, 0);
	put_step(&s, RS_DISPATCH, 16);
	seed(dir, "leases_change", &s);

	/*
	 * The sim region through the ring: every access kind (rc read twice, w1c and w1s written,
	 * wo read back as 0), widths over several registers and gaps, modify, TICK counting; then
	 * TRAP written 0xa5 faults the model and every later op fails (IO_ERROR).
	 */
	s.len = 0;
	put(&s, 5);                                                /* 8 entries */
	put_submit(&s, LEASE_D, MMIO_RING_OP_LOAD, 4, 0x14, 0, 0); /* FIFO: rc but HI */
	put_submit(&s, LEASE_D, MMIO_RING_OP_LOAD, 4, 0x14, 0, 0);
	put_submit(&s, LEASE_D, MMIO_RING_OP_STORE, 4, 0x04, 0x3, 0); /* STATUS.DONE, ERR: w1c */
	put_submit(&s, LEASE_D, MMIO_RING_OP_STORE, 4, 0x10, 0x10000002, 0); /* SETR: w1s, w1c */
	put_submit(&s, LEASE_D, MMIO_RING_OP_STORE, 4, 0x08, 0xffffffff, 0); /* DATA: wo */
	put_submit(&s, LEASE_D, MMIO_RING_OP_LOAD, 8, 0x08, 0, 0);
	put_submit(&s, LEASE_D, MMIO_RING_OP_LOAD, 8, 0x18, 0, 0); /* HALF, BYTE0, BYTE1, gap */
	put_submit(&s, LEASE_D, MMIO_RING_OP_MODIFY, 8, 0x40, 0xffff, 0xffffffffffff);
	put_step(&s, RS_DISPATCH, 8);
	put_step(&s, RS_REAP, 8);
	put_submit(&s, LEASE_D, MMIO_RING_OP_LOAD, 2, 0x48, 0, 0); /* TICK and TRAP */
	put_submit(&s, LEASE_D, MMIO_RING_OP_LOAD, 1, 0x48, 0, 0);
	put_submit(&s, LEASE_D, MMIO_RING_OP_MODIFY, 4, 0x20, 0x30002, 0xffffffff); /* CH[0] */
	put_submit(&s, LEASE_D, MMIO_RING_OP_STORE, 1, 0x49, 0xa5, 0);              /* TRAP */
	put_submit(&s, LEASE_D, MMIO_RING_OP_LOAD, 4, 0x00, 0, 0);
	put_submit(&s, LEASE_D, MMIO_RING_OP_STORE, 2, 0x4c, 0xffff, 0);
	put_submit(&s, LEASE_D, MMIO_RING_OP_LOAD, 8, 0x58, 0, 0); /* LONG[0]: fails all the same */
	put_submit(&s, LEASE_A, MMIO_RING_OP_LOAD, 4, 0, 0, 0);
	put_step(&s, RS_DISPATCH, 8);
	put_step(&s, RS_REAP, 8);
	put_step(&s, RS_ACQUIRE, 2);
	put_u64(&s, 0x60);
	put_u64(&s, 0x10);
	seed(dir, "sim_ops", &s);

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

	/*
	 * The doorbell as the client likes it: fds of every kind (its own end among
	 * them), more bytes than one wake reads, out of band; then closed.
	 */
	s.len = 0;
	put(&s, 4);
	put_bell(&s, 10, 'x', 253, 0xe4, false);
	put_step(&s, RS_SLEEP, -1);
	put_step(&s, RS_WAKE, -1);
	put_bell(&s, 0x90, 0, 0, 0, false);
	put_step(&s, RS_DOORBELL, -1);
	put_step(&s, RS_WAKE, -1);
	put_bell(&s, 1, 'o', 3, 0xaa, true);
	put_bell(&s, 3, 'y', 0, 0, false);
	put_step(&s, RS_WAKE, -1);
	put_submit(&s, LEASE_A, MMIO_RING_OP_LOAD, 4, 0, 0, 0);
	put_step(&s, RS_DISPATCH, 1);
	put_step(&s, RS_BELL_CLOSE, 0);
	put_step(&s, RS_WAKE, -1);
	put_step(&s, RS_WAKE, -1);
	put_submit(&s, LEASE_A, MMIO_RING_OP_LOAD, 4, 4, 0, 0);
	put_step(&s, RS_DISPATCH, 1);
	seed(dir, "doorbell_fds", &s);

	/* Closes on fd_closer's thread; the client shuts its end down, then hangs up. */
	s.len = 0;
	put(&s, 3);
	put_step(&s, RS_GUARD, GUARD_THREAD);
	put_bell(&s, 200, 'z', 100, 0x1b, false);
	put_step(&s, RS_DOORBELL, -1);
	put_step(&s, RS_WAKE, -1);
	put_bell(&s, 4, 'w', 2, 0xa, false);
	put_step(&s, RS_BELL_CLOSE, 1);
	put_step(&s, RS_WAKE, -1);
	put_step(&s, RS_HANGUP, -1);
	put_bell(&s, 0x81, 1, 7, 0xff, false);
	put_step(&s, RS_BELL_CLOSE, 0);
	seed(dir, "doorbell_threaded", &s);

	/* Where the kernel refuses descriptors (SO_PASSRIGHTS), a doorbell refuses them. */
	s.len = 0;
	put(&s, 2);
	put_step(&s, RS_GUARD, GUARD_KERNEL);
	put_bell(&s, 8, 1, 2, 0, false);
	put_bell(&s, 8, 1, 0, 0, false);
	put_step(&s, RS_WAKE, -1);
	put_step(&s, RS_BELL_CLOSE, 0);
	put_step(&s, RS_WAKE, -1);
	seed(dir, "doorbell_refused", &s);

	/* A flood: far more than one wake reads, the doorbell full; then a close behind it. */
	s.len = 0;
	put(&s, 0);
	put_bell(&s, 0xff, 0xaa, 0, 0, false);
	put_bell(&s, 0xff, 0xbb, 0, 0, false);
	put_bell(&s, 0xff, 0xcc, 0, 0, false);
	put_bell(&s, 0xff, 0xdd, 0, 0, false);
	put_step(&s, RS_DOORBELL, -1);
	put_step(&s, RS_WAKE, -1);
	put_step(&s, RS_BELL_CLOSE, 0);
	put_step(&s, RS_WAKE, -1);
	seed(dir, "doorbell_flood", &s);

	write_group_seeds(dir);
}
