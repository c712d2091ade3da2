/*
 * Writes the seed corpus: fuzz_gen_seeds DIR writes DIR/frame/<name> (inputs of
 * fuzz_frame.c: a setup byte, the fd bytes if it has them, and a packed Request)
 * and DIR/session/<name> (inputs of fuzz_session.c, in the language of
 * session_ops.h); those of the sim region and the register maps are
 * gen_seeds_sim.c's. The output is committed under fuzz/corpus/; regenerate it
 * when either input format changes:
 *   cmake --build build-fuzz --target fuzz_gen_seeds && build-fuzz/fuzz/fuzz_gen_seeds fuzz/corpus
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "gen_seeds.h"
#include "mmio.pb-c.h"
#include "mmio_limits.h"
#include "session_ops.h"

static const char *out_dir;

static void
write_file(const char *kind, const char *name, const uint8_t *data, size_t len)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", out_dir, kind);
	if (mkdir(path, 0755) < 0 && errno != EEXIST) {
		perror(path);
		exit(1);
	}
	snprintf(path, sizeof(path), "%s/%s/%s", out_dir, kind, name);
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

/* who is the caller, flags HELLO_DONE, REFUSED and the receive bits; n fds of kinds if FDS. */
static void
frame_fds(const char *name, unsigned who, unsigned flags, uint8_t n, uint8_t kinds,
	  Mmio__Request *req)
{
	static uint8_t buf[3 + MMIO_MAX_FRAME];
	size_t head = 1;
	buf[0] = (uint8_t)(who | flags);
	if (flags & FDS) {
		buf[1] = n;
		buf[2] = kinds;
		head = 3;
	}
	req->id = 7;
	size_t len = mmio__request__pack(req, buf + head);
	write_file("frame", name, buf, head + len);
}

void
frame(const char *name, unsigned who, unsigned flags, Mmio__Request *req)
{
	frame_fds(name, who, flags, 0, 0, req);
}

/* An Acquire from who, after Hello. */
static void
acquire_frame(const char *name, unsigned who, const char *region, uint64_t offset, uint64_t length)
{
	Mmio__Acquire acquire = MMIO__ACQUIRE__INIT;
	acquire.region = (char *)region;
	acquire.offset = offset;
	acquire.length = length;
	Mmio__Request req = MMIO__REQUEST__INIT;
	req.body_case = MMIO__REQUEST__BODY_ACQUIRE;
	req.acquire = &acquire;
	frame(name, who, HELLO_DONE, &req);
}

static void
frame_seeds(void)
{
	Mmio__Request req = MMIO__REQUEST__INIT;

	Mmio__Hello hello = MMIO__HELLO__INIT;
	hello.version = MMIO_PROTOCOL_VERSION;
	req.body_case = MMIO__REQUEST__BODY_HELLO;
	req.hello = &hello;
	frame("hello", USER, 0, &req);
	frame("hello_refused", USER, REFUSED, &req);
	frame("hello_twice", USER, HELLO_DONE, &req);
	hello.version = MMIO_PROTOCOL_VERSION + 1;
	frame("hello_wrong_version", ROOT, 0, &req);

	Mmio__ListRegions list_regions = MMIO__LIST_REGIONS__INIT;
	req.body_case = MMIO__REQUEST__BODY_LIST_REGIONS;
	req.list_regions = &list_regions;
	frame("list_regions_user", USER, HELLO_DONE, &req);
	frame("list_regions_before_hello", USER, 0, &req);

	acquire_frame("acquire_ram_root", ROOT, "ram", 0x300, 0x40);
	acquire_frame("acquire_conflict", ROOT, "ram", 0xf80, 0x40);
	acquire_frame("acquire_regs_stranger", STRANGER, "regs", 0x10, 0x10);

	Mmio__Split split = MMIO__SPLIT__INIT;
	split.lease = RAM_LEASE;
	split.mid = 0x80;
	req.body_case = MMIO__REQUEST__BODY_SPLIT;
	req.split = &split;
	frame("split", USER, HELLO_DONE, &req);

	Mmio__Release release = MMIO__RELEASE__INIT;
	release.lease = REGS_LEASE;
	req.body_case = MMIO__REQUEST__BODY_RELEASE;
	req.release = &release;
	frame("release", ROOT, HELLO_DONE, &req);
	release.lease = OTHER_LEASE;
	frame("release_not_ours", ROOT, HELLO_DONE, &req);

	Mmio__Load load = MMIO__LOAD__INIT;
	load.lease = REGS_LEASE;
	load.offset = 2;
	load.width = 4;
	req.body_case = MMIO__REQUEST__BODY_LOAD;
	req.load = &load;
	frame("load_regs", USER, HELLO_DONE, &req);
	load.offset = 0;
	frame("load_regs_unaligned", USER, HELLO_DONE, &req);

	Mmio__Store store = MMIO__STORE__INIT;
	store.lease = RAM_LEASE;
	store.offset = 8;
	store.width = 8;
	store.value = 0x1122334455667788;
	req.body_case = MMIO__REQUEST__BODY_STORE;
	req.store = &store;
	frame("store_ram", ROOT, HELLO_DONE, &req);
	store.lease = RAM_HIGH_LEASE;
	frame("store_read_only", USER, HELLO_DONE, &req);

	Mmio__Barrier barrier = MMIO__BARRIER__INIT;
	barrier.lease = EMPTY_LEASE;
	req.body_case = MMIO__REQUEST__BODY_BARRIER;
	req.barrier = &barrier;
	frame("barrier_empty_lease", ROOT, HELLO_DONE, &req);

	Mmio__ListLeases list_leases = MMIO__LIST_LEASES__INIT;
	req.body_case = MMIO__REQUEST__BODY_LIST_LEASES;
	req.list_leases = &list_leases;
	frame("list_leases_admin", ADMIN, HELLO_DONE, &req);
	frame("list_leases_user", USER, HELLO_DONE, &req);
	/* Pages: after the caller's first lease, two at most; one at most, from the start. */
	list_leases.after_id = RAM_LEASE;
	list_leases.max = 2;
	frame("list_leases_page", ADMIN, HELLO_DONE, &req);
	list_leases.after_id = 0;
	list_leases.max = 1;
	frame("list_leases_page_user", USER, HELLO_DONE, &req);
	/* As many fds as a frame carries, of every kind. */
	frame_fds("fds_list_leases", ADMIN, HELLO_DONE | FDS, 253, EVERY_KIND, &req);
	list_leases.max = 0;

	uint64_t b_lease[] = {RAM_LEASE, RAM_LEASE, REGS_LEASE, 99};
	Mmio__BatchOp b_op[] = {MMIO__BATCH_OP__BATCH_OP_STORE, MMIO__BATCH_OP__BATCH_OP_LOAD,
				MMIO__BATCH_OP__BATCH_OP_BARRIER, MMIO__BATCH_OP__BATCH_OP_LOAD};
	uint32_t b_width[] = {4, 4, 0, 1};
	uint64_t b_offset[] = {0x10, 0x10, 0, 0};
	uint64_t b_value[] = {0xdeadbeef, 0, 0, 0};
	Mmio__Batch batch = MMIO__BATCH__INIT;
	batch.n_lease = batch.n_op = batch.n_width = batch.n_offset = batch.n_value = 3;
	batch.lease = b_lease;
	batch.op = b_op;
	batch.width = b_width;
	batch.offset = b_offset;
	batch.value = b_value;
	req.body_case = MMIO__REQUEST__BODY_BATCH;
	req.batch = &batch;
	frame("batch", ROOT, HELLO_DONE, &req);
	/* Closed on fd_closer's thread. */
	frame_fds("fds_threaded_batch", ROOT, HELLO_DONE | FDS | THREAD, 253, EVERY_KIND, &req);
	/* mmiod short of descriptors: half of them arrive (MSG_CTRUNC), the frame is refused. */
	frame_fds("fds_few_left", ROOT, HELLO_DONE | FDS | FEW_FDS, 40, DEVNULL, &req);
	batch.n_lease = batch.n_op = batch.n_width = batch.n_offset = batch.n_value = 4;
	batch.all_or_nothing = true;
	frame("batch_all_or_nothing_fails", ROOT, HELLO_DONE, &req);

	/*
	 * The same ops in the fixed columns (mmio.proto): lease ids in 1 byte, offsets in 2,
	 * values in 4; then refused shapes: a value column one byte short, ops in both encodings.
	 */
	uint8_t f_lease[] = {RAM_LEASE, RAM_LEASE, REGS_LEASE, 99};
	uint8_t f_offset[] = {0x10, 0, 0x10, 0, 0, 0, 0, 0};
	uint8_t f_value[] = {0xef, 0xbe, 0xad, 0xde, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
	uint8_t f_op[] = {MMIO__BATCH_OP__BATCH_OP_STORE, MMIO__BATCH_OP__BATCH_OP_LOAD,
			  MMIO__BATCH_OP__BATCH_OP_BARRIER, MMIO__BATCH_OP__BATCH_OP_LOAD};
	uint8_t f_width[] = {4, 4, 0, 1};
	Mmio__Batch fixed = MMIO__BATCH__INIT;
	fixed.fixed_lease = (ProtobufCBinaryData){3, f_lease};
	fixed.fixed_offset = (ProtobufCBinaryData){6, f_offset};
	fixed.fixed_value = (ProtobufCBinaryData){12, f_value};
	fixed.fixed_op = (ProtobufCBinaryData){3, f_op};
	fixed.fixed_width = (ProtobufCBinaryData){3, f_width};
	req.batch = &fixed;
	frame("batch_fixed", ROOT, HELLO_DONE, &req);
	fixed.stop_on_error = true;
	fixed.fixed_value.len = 0; /* every value 0 */
	frame("batch_fixed_no_values_stop_on_error", USER, HELLO_DONE, &req);
	fixed.stop_on_error = false;
	fixed.fixed_lease.len = fixed.fixed_op.len = fixed.fixed_width.len = 4;
	fixed.fixed_offset.len = 8;
	fixed.fixed_value.len = 16;
	fixed.all_or_nothing = true;
	frame("batch_fixed_all_or_nothing_fails", ROOT, HELLO_DONE, &req);
	fixed.all_or_nothing = false;
	fixed.fixed_value.len = 15;
	frame("batch_fixed_ragged", ROOT, HELLO_DONE, &req);
	fixed.fixed_value.len = 16;
	fixed.n_lease = fixed.n_op = fixed.n_width = fixed.n_offset = fixed.n_value = 1;
	fixed.lease = b_lease;
	fixed.op = b_op;
	fixed.width = b_width;
	fixed.offset = b_offset;
	fixed.value = b_value;
	frame("batch_both_encodings", ROOT, HELLO_DONE, &req);
	req.batch = &batch;

	Mmio__Revoke revoke = MMIO__REVOKE__INIT;
	revoke.lease = OTHER_LEASE;
	req.body_case = MMIO__REQUEST__BODY_REVOKE;
	req.revoke = &revoke;
	frame("revoke_admin", ADMIN, HELLO_DONE, &req);
	frame("revoke_user_denied", USER, HELLO_DONE, &req);

	Mmio__IrqSubscribe irq = MMIO__IRQ_SUBSCRIBE__INIT;
	irq.lease = RAM_LEASE;
	req.body_case = MMIO__REQUEST__BODY_IRQ_SUBSCRIBE;
	req.irq_subscribe = &irq;
	frame("irq_subscribe_no_irq", ROOT, HELLO_DONE, &req);

	Mmio__Modify modify = MMIO__MODIFY__INIT;
	modify.lease = REGS_LEASE;
	modify.offset = 6;
	modify.width = 8;
	modify.mask = 0xff00;
	modify.value = 0x4200;
	req.body_case = MMIO__REQUEST__BODY_MODIFY;
	req.modify = &modify;
	frame("modify_regs", USER, HELLO_DONE, &req);

	Mmio__Poll poll = MMIO__POLL__INIT;
	poll.lease = RAM_LEASE;
	poll.offset = 0;
	poll.width = 1;
	poll.mask = 0xff;
	poll.value = 1; /* the first byte of ram's start pattern */
	req.body_case = MMIO__REQUEST__BODY_POLL;
	req.poll = &poll;
	frame("poll_holds", ROOT, HELLO_DONE, &req);
	poll.value = 0x55;
	poll.timeout_ms = 20;
	frame("poll_times_out", ROOT, HELLO_DONE, &req);

	Mmio__BlockRead block_read = MMIO__BLOCK_READ__INIT;
	block_read.lease = RAM_LEASE;
	block_read.offset = 0x20;
	block_read.width = 2;
	block_read.count = 16;
	req.body_case = MMIO__REQUEST__BODY_BLOCK_READ;
	req.block_read = &block_read;
	frame("block_read", ROOT, HELLO_DONE, &req);

	uint64_t values[] = {1, 2, 3};
	Mmio__BlockWrite block_write = MMIO__BLOCK_WRITE__INIT;
	block_write.lease = REGS_LEASE;
	block_write.offset = 14;
	block_write.width = 4;
	block_write.n_values = 3;
	block_write.values = values;
	block_write.repeat = true;
	req.body_case = MMIO__REQUEST__BODY_BLOCK_WRITE;
	req.block_write = &block_write;
	frame("block_write_fifo", USER, HELLO_DONE, &req);

	/* Over a max_frame of 256 bytes: cut (MSG_TRUNC), with its fds handed over all the same. */
	uint64_t many[40];
	for (unsigned i = 0; i < 40; i++) {
		many[i] = 0x01010101u * i;
	}
	block_write.lease = RAM_LEASE;
	block_write.offset = 0;
	block_write.n_values = 40;
	block_write.values = many;
	block_write.repeat = false;
	frame_fds("fds_frame_cut", USER, HELLO_DONE | FDS | SMALL_FRAME, 7, NESTED, &req);

	Mmio__Stats stats = MMIO__STATS__INIT;
	req.body_case = MMIO__REQUEST__BODY_STATS;
	req.stats = &stats;
	frame("stats_user", USER, HELLO_DONE, &req);
	frame("stats_admin", ADMIN, HELLO_DONE, &req);

	req.body_case = MMIO__REQUEST__BODY__NOT_SET;
	frame("no_body", ROOT, HELLO_DONE, &req);

	/* An empty frame reads as a hangup; its fds arrive all the same. */
	const uint8_t empty[] = {USER | FDS, 5, PEER};
	write_file("frame", "fds_empty_frame", empty, sizeof(empty));

	req.body_case = MMIO__REQUEST__BODY_HELLO;
	req.hello = &hello;
	frame_fds("fds_hello", USER, FDS, 4, EVERY_KIND, &req);
}

/* fuzz_session: an op stream (session_ops.h). */
void
put(struct stream *s, uint8_t b)
{
	if (s->len == sizeof(s->buf)) {
		fprintf(stderr, "gen_seeds: stream too long\n");
		exit(1);
	}
	s->buf[s->len++] = b;
}

/* An op of side (A or B). */
void
put_op(struct stream *s, enum session_op op, unsigned side)
{
	put(s, (uint8_t)(op | side));
}

void
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

void
put_width(struct stream *s, unsigned width)
{
	put(s, width == 1 ? 0 : width == 2 ? 1 : width == 4 ? 2 : 3);
}

void
put_hello(struct stream *s, unsigned who)
{
	put_op(s, SOP_HELLO, who);
	put(s, 0);
}

void
put_acquire(struct stream *s, unsigned who, uint8_t region, uint64_t offset, uint64_t length)
{
	put_op(s, SOP_ACQUIRE, who);
	put(s, region);
	put_u64(s, offset);
	put_u64(s, length);
}

/* lease is the index among the leases granted so far in the input. */
void
access_op(struct stream *s, unsigned who, enum session_op op, uint8_t lease, uint64_t offset,
	  unsigned width, uint64_t value)
{
	put_op(s, op, who);
	put(s, lease);
	put_u64(s, offset);
	put_width(s, width);
	if (op == SOP_STORE) {
		put_u64(s, value);
	}
}

void
lease_op(struct stream *s, unsigned who, enum session_op op, uint8_t lease)
{
	put_op(s, op, who);
	put(s, lease);
}

/* SOP_RAW or SOP_QUEUE: a frame as it comes off the socket. */
static void
put_frame(struct stream *s, enum session_op op, unsigned who, const uint8_t *frame, size_t len)
{
	put_op(s, op, who);
	put(s, (uint8_t)len);
	for (size_t i = 0; i < len; i++) {
		put(s, frame[i]);
	}
}

/* The next frame of who carries n fds of these kinds. */
static void
put_fds(struct stream *s, unsigned who, uint8_t n, uint8_t kinds)
{
	put_op(s, SOP_FDS, who);
	put(s, n);
	put(s, kinds);
}

/* ListLeases after lease (a lease ref), at most max (bits 0-5), following pages if bit 7. */
static void
put_list_page(struct stream *s, unsigned who, uint8_t after, uint8_t m)
{
	put_op(s, SOP_LIST_PAGE, who);
	put(s, after);
	put(s, m);
}

void
session(const char *name, const struct stream *s)
{
	write_file("session", name, s->buf, s->len);
}

static void
session_seeds(void)
{
	/* setup byte: A's identity in bits 0-1, B's in 2-3 (0 root, 1 user, 2 admin, 3 stranger) */
	struct stream s = {.len = 0};
	put(&s, 0x00);
	put_hello(&s, A);
	put_acquire(&s, A, RAM, 0, 0x100);
	put_op(&s, SOP_SPLIT, A);
	put(&s, 0);
	put_u64(&s, 0x40);
	access_op(&s, A, SOP_STORE, 1, 8, 4, 0xcafe);
	access_op(&s, A, SOP_LOAD, 1, 8, 4, 0);
	access_op(&s, A, SOP_LOAD, 0, 0, 8, 0);
	lease_op(&s, A, SOP_RELEASE, 1);
	access_op(&s, A, SOP_LOAD, 1, 8, 4, 0);
	put_op(&s, SOP_LIST_LEASES, A);
	session("acquire_split_access_release", &s);

	/* Root A revokes user B's lease; B's next access is NOT_FOUND. */
	s.len = 0;
	put(&s, 0x04);
	put_hello(&s, A);
	put_hello(&s, B);
	put_acquire(&s, B, REGS, 0, 0x40);
	put_acquire(&s, B, RAM, 0x800, 0x10);
	put_op(&s, SOP_LIST_LEASES, A);
	lease_op(&s, A, SOP_REVOKE, 0);
	access_op(&s, B, SOP_LOAD, 0, 2, 2, 0);
	access_op(&s, B, SOP_STORE, 1, 0, 4, 1);
	access_op(&s, A, SOP_LOAD, 1, 0, 4, 0);
	session("revoke_other_connection", &s);

	/* B polls its lease; A (admin) revokes it while the poll waits. */
	s.len = 0;
	put(&s, 0x06);
	put_hello(&s, A);
	put_hello(&s, B);
	put_acquire(&s, B, RAM, 0x10, 0x10);
	put_op(&s, SOP_POLL, B);
	put(&s, 0);
	put_u64(&s, 0);
	put_width(&s, 4);
	put_u64(&s, 0xff);
	put_u64(&s, 0x33);
	put(&s, 50);
	put_op(&s, SOP_POLL_TICK, B);
	put(&s, 0);
	lease_op(&s, A, SOP_REVOKE, 0);
	put_op(&s, SOP_POLL_TICK, B);
	put(&s, 0);
	put_op(&s, SOP_LIST_LEASES, B);
	session("poll_lease_revoked", &s);

	/* Stats as root and as a user, while user B holds leases. */
	s.len = 0;
	put(&s, 0x04);
	put_hello(&s, A);
	put_hello(&s, B);
	put_acquire(&s, B, RAM, 0x200, 0x20);
	put_acquire(&s, B, REGS, 0x20, 0x20);
	put_op(&s, SOP_STATS, A);
	put_op(&s, SOP_STATS, B);
	session("stats", &s);

	/* SimDevice: GET and SET as root, IRQ as a user, RESET on an unknown region: refused. */
	s.len = 0;
	put(&s, 0x04);
	put_hello(&s, A);
	put_hello(&s, B);
	put_op(&s, SOP_SIM_DEVICE, A);
	put(&s, RAM);
	put(&s, 1);
	put_u64(&s, 0x10);
	put_width(&s, 4);
	put_u64(&s, 0);
	put_u64(&s, 0);
	put_op(&s, SOP_SIM_DEVICE, A);
	put(&s, REGS);
	put(&s, 2);
	put_u64(&s, 0x4);
	put_width(&s, 1);
	put_u64(&s, 0xff);
	put_u64(&s, 0x1);
	put_op(&s, SOP_SIM_DEVICE, B);
	put(&s, REGS);
	put(&s, 3);
	put_u64(&s, 0);
	put_width(&s, 4);
	put_u64(&s, 0);
	put_u64(&s, 0);
	put_op(&s, SOP_SIM_DEVICE, A);
	put(&s, 3);
	put(&s, 4);
	put_u64(&s, 0);
	put_width(&s, 4);
	put_u64(&s, 0);
	put_u64(&s, 0);
	session("sim_device", &s);

	/* Requests before Hello close the connection; it reconnects and starts over. */
	s.len = 0;
	put(&s, 0x01);
	put_acquire(&s, A, RAM, 0, 8);
	put_hello(&s, A);
	put_op(&s, SOP_HELLO, A);
	put(&s, 9);
	put_hello(&s, A);
	put_acquire(&s, A, RAM, 0, 8);
	put_op(&s, SOP_HANGUP, A);
	put_hello(&s, A);
	put_acquire(&s, A, RAM, 0, 8);
	put_op(&s, SOP_EMPTY, A);
	session("hello_state_machine", &s);

	/* The lease limit (16), with empty leases that overlap nothing. */
	s.len = 0;
	put(&s, 0x00);
	put_hello(&s, A);
	for (unsigned i = 0; i < 18; i++) {
		put_acquire(&s, A, RAM, 0x100, 0);
	}
	put_acquire(&s, A, RAM, 0x80, 0x100);
	session("lease_limit", &s);

	/* Batch, modify, block read and write, on a lease over regs (address residue 2). */
	s.len = 0;
	put(&s, 0x05);
	put_hello(&s, A);
	put_hello(&s, B);
	put_acquire(&s, A, REGS, 2, 0x20);
	put_op(&s, SOP_BATCH, A);
	put(&s, 0x20 | 3);
	put(&s, 0);
	put(&s, 2); /* store */
	put_width(&s, 4);
	put_u64(&s, 0);
	put_u64(&s, 0xabcd);
	put(&s, 0);
	put(&s, 1); /* load */
	put_width(&s, 8);
	put_u64(&s, 6);
	put_u64(&s, 0);
	put(&s, 0);
	put(&s, 3); /* barrier */
	put_width(&s, 1);
	put_u64(&s, 0);
	put_u64(&s, 0);
	/* The same in the fixed columns, stop_on_error: the unaligned load cancels the rest. */
	put_op(&s, SOP_BATCH, A);
	put(&s, 0x80 | 0x10 | 3);
	put(&s, 0);
	put(&s, 1); /* load */
	put_width(&s, 4);
	put_u64(&s, 2);
	put_u64(&s, 0);
	put(&s, 0);
	put(&s, 2); /* store */
	put_width(&s, 2);
	put_u64(&s, 4);
	put_u64(&s, 0x55aa);
	put(&s, 0);
	put(&s, 1); /* load */
	put_width(&s, 2);
	put_u64(&s, 4);
	put_u64(&s, 0);
	put_op(&s, SOP_MODIFY, A);
	put(&s, 0);
	put_u64(&s, 0);
	put_width(&s, 2);
	put_u64(&s, 0xf0f0);
	put_u64(&s, 0x1234);
	put_op(&s, SOP_BLOCK_READ, A);
	put(&s, 0);
	put_u64(&s, 0);
	put_width(&s, 2);
	put(&s, 8);
	put(&s, 0);
	put_op(&s, SOP_BLOCK_WRITE, A);
	put(&s, 0);
	put_u64(&s, 4);
	put_width(&s, 1);
	put(&s, 0x10 | 3);
	put_u64(&s, 1);
	put_u64(&s, 2);
	put_u64(&s, 3);
	put_acquire(&s, B, REGS, 0x22, 0x1e);
	access_op(&s, B, SOP_LOAD, 1, 0, 2, 0);
	session("regs_ops", &s);

	/* A raw frame: a Load of lease 1 (relative), after Hello. */
	s.len = 0;
	put(&s, 0x00);
	put_hello(&s, A);
	put_acquire(&s, A, RAM, 0x40, 0x40);
	Mmio__Load load = MMIO__LOAD__INIT;
	load.lease = 1;
	load.offset = 4;
	load.width = 4;
	Mmio__Request req = MMIO__REQUEST__INIT;
	req.id = 1;
	req.body_case = MMIO__REQUEST__BODY_LOAD;
	req.load = &load;
	uint8_t raw[64];
	size_t len = mmio__request__pack(&req, raw);
	put_op(&s, SOP_RAW, A);
	put(&s, (uint8_t)len);
	for (size_t i = 0; i < len; i++) {
		put(&s, raw[i]);
	}
	put_op(&s, SOP_RAW, A);
	put(&s, 3);
	put(&s, 0xff);
	put(&s, 0xff);
	put(&s, 0xff);
	session("raw_frames", &s);

	/*
	 * Fds on frames (fd_closer's thread), frames queued unread behind an
	 * undecodable one: mmiod closes the connection there, the rest and their fds
	 * go with the socket.
	 */
	static const uint8_t garbage[] = {0xff, 0xff, 0xff};
	s.len = 0;
	put(&s, 0x20 | 0x04);
	put_fds(&s, A, 253, EVERY_KIND);
	put_hello(&s, A);
	put_fds(&s, A, 3, PEER);
	put_acquire(&s, A, RAM, 0x40, 0x40);
	put_fds(&s, A, 16, NESTED);
	put_frame(&s, SOP_QUEUE, A, raw, len);
	put_frame(&s, SOP_QUEUE, A, garbage, sizeof(garbage));
	put_fds(&s, A, 100, 0x1b);
	put_frame(&s, SOP_QUEUE, A, raw, len);
	put_op(&s, SOP_LIST_REGIONS, A);
	put_hello(&s, A);
	put_fds(&s, A, 1, DEVNULL);
	put_frame(&s, SOP_RAW, A, raw, 0);
	put_hello(&s, A);
	put_op(&s, SOP_LIST_REGIONS, A);
	session("fds_queued_frames", &s);

	/* Frames with fds queued while a poll waits; the client hangs up with them unread. */
	s.len = 0;
	put(&s, 0x06);
	put_hello(&s, A);
	put_hello(&s, B);
	put_acquire(&s, B, RAM, 0x10, 0x10);
	put_op(&s, SOP_POLL, B);
	put(&s, 0);
	put_u64(&s, 0);
	put_width(&s, 4);
	put_u64(&s, 0xff);
	put_u64(&s, 0x33);
	put(&s, 50);
	put_fds(&s, B, 50, PIPE);
	put_frame(&s, SOP_QUEUE, B, raw, len);
	put_list_page(&s, A, 0xf0, 0x81);
	put_op(&s, SOP_POLL_TICK, B);
	put(&s, 0);
	put_op(&s, SOP_HANGUP, B);
	put_hello(&s, B);
	put_list_page(&s, B, 0xf0, 0);
	session("fds_queued_behind_poll", &s);

	/* ListLeases page by page: root sees all, a user its own, from several places. */
	s.len = 0;
	put(&s, 0x04);
	put_hello(&s, A);
	put_hello(&s, B);
	for (unsigned i = 0; i < 5; i++) {
		put_acquire(&s, B, RAM, 0x100 + 0x10 * i, 0x10);
	}
	put_acquire(&s, A, RAM, 0x800, 0x10);
	put_list_page(&s, A, 0xf0, 0x82);
	put_list_page(&s, B, 0xf0, 0x80);
	put_list_page(&s, B, 1, 0x01);
	put_list_page(&s, A, 3, 0x83);
	put_list_page(&s, B, 5, 0);
	session("list_leases_pages", &s);
}

int
main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR (writes DIR/frame/ and DIR/session/)\n", argv[0]);
		return 2;
	}
	out_dir = argv[1];
	frame_seeds();
	session_seeds();
	sim_frame_seeds();
	sim_session_seeds();
	return 0;
}
