/*
 * Seeds that reach the sim region "dev" (fuzz_sim.h) and the register maps (fuzz_maps.h) on
 * every path: loads and stores of every access kind, batch, block, modify, poll, the interrupt,
 * the model failing and reset, the device side as each caller, ListRegisters page by page.
 * Written by fuzz_gen_seeds with the others (gen_seeds.c).
 */
#include <stdbool.h>
#include <stdint.h>

#include "gen_seeds.h"
#include "mmio.pb-c.h"

/* The registers of dev (fuzz_maps.c) by offset. */
enum {
	CTRL = 0x00,
	STATUS = 0x04,
	DATA = 0x08,
	INTR = 0x0c,
	SETR = 0x10,
	FIFO = 0x14,
	HALF = 0x18,
	BYTE0 = 0x1a,
	CH0 = 0x20,
	WIDE = 0x40,
	TICK = 0x48,
	TRAP = 0x49,
	Q0 = 0x4c,
	LONG0 = 0x50,
	BIG0 = 0x60,
	GAP = 0x78,
};

static void
put_modify(struct stream *s, unsigned who, uint8_t lease, uint64_t offset, unsigned width,
	   uint64_t mask, uint64_t value)
{
	put_op(s, SOP_MODIFY, who);
	put(s, lease);
	put_u64(s, offset);
	put_width(s, width);
	put_u64(s, mask);
	put_u64(s, value);
}

/* SimDevice: op 1 GET, 2 SET, 3 IRQ, 4 RESET (0: unspecified). */
static void
put_sim(struct stream *s, unsigned who, uint8_t region, uint8_t op, uint64_t offset, unsigned width,
	uint64_t mask, uint64_t value)
{
	put_op(s, SOP_SIM_DEVICE, who);
	put(s, region);
	put(s, op);
	put_u64(s, offset);
	if (width == 1 || width == 2 || width == 4 || width == 8) {
		put_width(s, width);
	} else {
		put(s, (uint8_t)(0xf0 + width)); /* session_ops.h: any other width */
	}
	put_u64(s, mask);
	put_u64(s, value);
}

enum { SIM_GET = 1, SIM_SET = 2, SIM_IRQ = 3, SIM_RESET = 4 };

/* A batch: n ops of (lease, op (1 load, 2 store, 3 barrier), width, offset, value). */
struct batch_op {
	uint8_t lease, op;
	unsigned width;
	uint64_t offset, value;
};

static void
put_batch(struct stream *s, unsigned who, uint8_t flags, const struct batch_op *ops, size_t n)
{
	put_op(s, SOP_BATCH, who);
	put(s, (uint8_t)(flags | n));
	for (size_t i = 0; i < n; i++) {
		put(s, ops[i].lease);
		put(s, ops[i].op);
		put_width(s, ops[i].width);
		put_u64(s, ops[i].offset);
		put_u64(s, ops[i].value);
	}
}

static void
put_register_pages(struct stream *s, unsigned who, enum session_op op, uint8_t region,
		   uint8_t first)
{
	put_op(s, op, who);
	put(s, region);
	put(s, first);
}

/* fuzz_frame on the sim region: its lease (DEV_LEASE, dev [0, 0x60)), device side, maps. */
void
sim_frame_seeds(void)
{
	Mmio__Request req = MMIO__REQUEST__INIT;

	Mmio__Load load = MMIO__LOAD__INIT;
	load.lease = DEV_LEASE;
	load.offset = FIFO;
	load.width = 4;
	req.body_case = MMIO__REQUEST__BODY_LOAD;
	req.load = &load;
	frame("sim_load_fifo", USER, HELLO_DONE, &req);

	Mmio__Store store = MMIO__STORE__INIT;
	store.lease = DEV_LEASE;
	store.offset = TRAP;
	store.width = 1;
	store.value = 0xa5;
	req.body_case = MMIO__REQUEST__BODY_STORE;
	req.store = &store;
	frame("sim_store_trap", ROOT, HELLO_DONE, &req);

	Mmio__Modify modify = MMIO__MODIFY__INIT;
	modify.lease = DEV_LEASE;
	modify.offset = CH0;
	modify.width = 4;
	modify.mask = 0x30003;
	modify.value = 0x20002;
	req.body_case = MMIO__REQUEST__BODY_MODIFY;
	req.modify = &modify;
	frame("sim_modify_ch", USER, HELLO_DONE, &req);

	uint64_t b_lease[] = {DEV_LEASE, DEV_LEASE, DEV_LEASE, DEV_LEASE};
	Mmio__BatchOp b_op[] = {MMIO__BATCH_OP__BATCH_OP_LOAD, MMIO__BATCH_OP__BATCH_OP_STORE,
				MMIO__BATCH_OP__BATCH_OP_LOAD, MMIO__BATCH_OP__BATCH_OP_LOAD};
	uint32_t b_width[] = {8, 2, 2, 4};
	uint64_t b_offset[] = {TICK, TICK, TICK, FIFO};
	uint64_t b_value[] = {0, 0xeeff, 0, 0};
	Mmio__Batch batch = MMIO__BATCH__INIT;
	batch.n_lease = batch.n_op = batch.n_width = batch.n_offset = batch.n_value = 4;
	batch.lease = b_lease;
	batch.op = b_op;
	batch.width = b_width;
	batch.offset = b_offset;
	batch.value = b_value;
	req.body_case = MMIO__REQUEST__BODY_BATCH;
	req.batch = &batch;
	frame("sim_batch_trap_load", ROOT, HELLO_DONE, &req);

	Mmio__BlockRead block_read = MMIO__BLOCK_READ__INIT;
	block_read.lease = DEV_LEASE;
	block_read.offset = TICK;
	block_read.width = 1;
	block_read.count = 5;
	block_read.repeat = true;
	req.body_case = MMIO__REQUEST__BODY_BLOCK_READ;
	req.block_read = &block_read;
	frame("sim_block_read_tick", USER, HELLO_DONE, &req);

	Mmio__Poll poll = MMIO__POLL__INIT;
	poll.lease = DEV_LEASE;
	poll.offset = TICK;
	poll.width = 1;
	poll.mask = 0xff;
	poll.value = 1; /* the first load counts to 1 */
	req.body_case = MMIO__REQUEST__BODY_POLL;
	req.poll = &poll;
	frame("sim_poll_tick", ROOT, HELLO_DONE, &req);

	Mmio__IrqSubscribe irq = MMIO__IRQ_SUBSCRIBE__INIT;
	irq.lease = DEV_LEASE;
	req.body_case = MMIO__REQUEST__BODY_IRQ_SUBSCRIBE;
	req.irq_subscribe = &irq;
	frame("sim_irq_subscribe", USER, HELLO_DONE, &req);

	Mmio__SimDevice sim = MMIO__SIM_DEVICE__INIT;
	sim.region = "dev";
	sim.op = MMIO__SIM_OP__SIM_OP_GET;
	sim.offset = TICK;
	sim.width = 2;
	req.body_case = MMIO__REQUEST__BODY_SIM_DEVICE;
	req.sim_device = &sim;
	frame("sim_device_get", STRANGER, HELLO_DONE, &req);
	frame("sim_device_get_user", USER, HELLO_DONE, &req);
	sim.op = MMIO__SIM_OP__SIM_OP_SET;
	sim.offset = WIDE;
	sim.width = 8;
	sim.mask = 0xffff0000ffff0000;
	sim.value = 0x123456789abcdef0;
	frame("sim_device_set", ADMIN, HELLO_DONE, &req);
	sim.op = MMIO__SIM_OP__SIM_OP_IRQ;
	frame("sim_device_irq", ROOT, HELLO_DONE, &req);

	Mmio__ListRegisters regs = MMIO__LIST_REGISTERS__INIT;
	regs.region = "dev";
	req.body_case = MMIO__REQUEST__BODY_LIST_REGISTERS;
	req.list_registers = &regs;
	frame("list_registers_dev", USER, HELLO_DONE, &req);
	frame("list_registers_small_frame", USER, HELLO_DONE | SMALL_FRAME, &req);
	regs.region = "regs";
	regs.first = 1;
	frame("list_registers_too_big", USER, HELLO_DONE, &req);
}

/* The sim region "dev": every access kind, every path, its model, its device side, its map. */
void
sim_session_seeds(void)
{
	/* Root loads every register of dev, stores all ones and zeros, loads again. */
	struct stream s = {.len = 0};
	put(&s, 0x00);
	put_hello(&s, A);
	put_acquire(&s, A, DEV, 0, 0x80);
	static const uint64_t words[] = {CTRL, STATUS,   DATA, INTR,    SETR,
					 FIFO, HALF,     CH0,  CH0 + 4, CH0 + 8,
					 WIDE, WIDE + 4, Q0,   LONG0,   LONG0 + 8};
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		access_op(&s, A, SOP_LOAD, 0, words[i], 4, 0);
		access_op(&s, A, SOP_STORE, 0, words[i], 4, 0xffffffff);
		access_op(&s, A, SOP_LOAD, 0, words[i], 4, 0);
		access_op(&s, A, SOP_STORE, 0, words[i], 4, 0);
		access_op(&s, A, SOP_LOAD, 0, words[i], 4, 0);
	}
	access_op(&s, A, SOP_LOAD, 0, HALF, 8, 0); /* HALF, BYTE0, BYTE1 and a gap */
	access_op(&s, A, SOP_LOAD, 0, BYTE0, 1, 0);
	access_op(&s, A, SOP_LOAD, 0, BYTE0 + 1, 1, 0);
	access_op(&s, A, SOP_STORE, 0, WIDE, 8, UINT64_MAX);
	access_op(&s, A, SOP_LOAD, 0, WIDE, 8, 0);
	access_op(&s, A, SOP_LOAD, 0, LONG0, 8, 0);
	for (unsigned i = 0; i < 3; i++) { /* a bit of every kind next to every other */
		access_op(&s, A, SOP_LOAD, 0, BIG0 + 8 * i, 8, 0);
		access_op(&s, A, SOP_STORE, 0, BIG0 + 8 * i, 8, UINT64_MAX);
		access_op(&s, A, SOP_LOAD, 0, BIG0 + 8 * i, 8, 0);
		access_op(&s, A, SOP_STORE, 0, BIG0 + 8 * i + 4, 4, 0);
		access_op(&s, A, SOP_LOAD, 0, BIG0 + 8 * i + 2, 2, 0);
	}
	access_op(&s, A, SOP_LOAD, 0, GAP, 8, 0); /* no register there */
	access_op(&s, A, SOP_STORE, 0, GAP, 8, UINT64_MAX);
	access_op(&s, A, SOP_LOAD, 0, GAP, 8, 0);
	session("sim_access_kinds", &s);

	/*
	 * User B on dev: batch, modify, block reads of rc registers and a write of w1c ones, a
	 * read-only lease refused; a poll of TICK that holds once the count gets there.
	 */
	s.len = 0;
	put(&s, 0x04);
	put_hello(&s, A);
	put_hello(&s, B);
	put_acquire(&s, B, DEV, 0, 0x60);
	put_acquire(&s, B, DEV, 0x60, 0x20); /* read only */
	const struct batch_op ops[] = {
		{0, 1, 4, FIFO, 0},        {0, 1, 4, FIFO, 0},        {0, 2, 4, INTR, 0xff},
		{0, 1, 4, INTR, 0},        {0, 2, 2, Q0 + 2, 0x00ff}, {1, 2, 1, 0, 1},
		{0, 1, 8, CH0, 0},         {0, 3, 1, 0, 0},           {1, 1, 8, 0, 0},
		{0, 2, 4, SETR, 0x800000}, {0, 1, 1, TICK, 0},
	};
	put_batch(&s, B, 0, ops, sizeof(ops) / sizeof(ops[0]));
	put_batch(&s, B, 0x20, ops, sizeof(ops) / sizeof(ops[0])); /* all or nothing: refused */
	put_batch(&s, B, 0x10, ops + 4, 4);                        /* stops at the read-only */
	put_modify(&s, B, 0, CTRL, 4, 0xff, 0x0b);
	put_modify(&s, B, 0, CH0 + 8, 4, 0xffffffff, 0x00f30002);
	put_modify(&s, B, 0, WIDE, 8, 0xff00ffff0000ffff, UINT64_MAX);
	put_modify(&s, B, 1, 0, 1, 0xff, 0);
	put_op(&s, SOP_BLOCK_READ, B);
	put(&s, 0);
	put_u64(&s, FIFO);
	put_width(&s, 1);
	put(&s, 4);
	put(&s, 1); /* repeat */
	put_op(&s, SOP_BLOCK_READ, B);
	put(&s, 0);
	put_u64(&s, CH0);
	put_width(&s, 4);
	put(&s, 8);
	put(&s, 0);
	put_op(&s, SOP_BLOCK_WRITE, B);
	put(&s, 0);
	put_u64(&s, INTR);
	put_width(&s, 1);
	put(&s, 4);
	put_u64(&s, 0x01);
	put_u64(&s, 0x02);
	put_u64(&s, 0x04);
	put_u64(&s, 0x08);
	access_op(&s, B, SOP_LOAD, 0, INTR, 4, 0);
	put_op(&s, SOP_POLL, B);
	put(&s, 0);
	put_u64(&s, TICK);
	put_width(&s, 1);
	put_u64(&s, 0xff);
	put_u64(&s, 4);
	put(&s, 50);
	for (unsigned i = 0; i < 3; i++) {
		put_op(&s, SOP_POLL_TICK, B);
		put(&s, 0);
	}
	session("sim_ops", &s);

	/*
	 * The model fails: TRAP written 0xa5; then every path on dev fails (IO_ERROR), the device
	 * side's GET too, until a RESET. Then a device-side SET of TRAP to 0xee makes the next load
	 * of it fail, and one to 0x5a fails at once.
	 */
	s.len = 0;
	put(&s, 0x08); /* A root, B admin */
	put_hello(&s, A);
	put_hello(&s, B);
	put_acquire(&s, A, DEV, 0, 0x80);
	access_op(&s, A, SOP_LOAD, 0, TICK, 2, 0);
	access_op(&s, A, SOP_STORE, 0, TRAP - 1, 2, 0xa500);
	access_op(&s, A, SOP_LOAD, 0, CTRL, 4, 0);
	access_op(&s, A, SOP_STORE, 0, CTRL, 4, 1);
	put_modify(&s, A, 0, CTRL, 4, 1, 1);
	put_batch(&s, A, 0x10, ops, 3);
	access_op(&s, A, SOP_LOAD, 0, GAP, 8, 0);
	put_sim(&s, B, DEV, SIM_GET, CTRL, 4, 0, 0);
	put_sim(&s, B, DEV, SIM_SET, TICK, 2, 0xffff, 0x1111);
	put_op(&s, SOP_STATS, A);
	put_sim(&s, B, DEV, SIM_RESET, 0, 0, 0, 0);
	access_op(&s, A, SOP_LOAD, 0, CTRL, 4, 0);
	put_sim(&s, B, DEV, SIM_SET, TICK, 2, 0xff00, 0xee00);
	access_op(&s, A, SOP_LOAD, 0, TRAP, 1, 0);
	access_op(&s, A, SOP_LOAD, 0, TICK, 1, 0);
	put_sim(&s, A, DEV, SIM_RESET, 0, 0, 0, 0);
	put_sim(&s, A, DEV, SIM_SET, TRAP - 1, 2, 0xff00, 0x5a00);
	put_sim(&s, A, DEV, SIM_GET, TRAP - 1, 2, 0, 0);
	put_sim(&s, A, DEV, SIM_RESET, 0, 0, 0, 0);
	put_op(&s, SOP_LIST_REGIONS, A);
	session("sim_model_fault", &s);

	/*
	 * The device side, as the stranger (a device grant on dev), the user (none), the admin
	 * and root: GET and SET of every width, unaligned, out of range, of an unknown op, on a
	 * region that is not a sim, on an unknown one; IRQ and RESET.
	 */
	s.len = 0;
	put(&s, 0x0d); /* A user, B stranger */
	put_hello(&s, A);
	put_hello(&s, B);
	put_sim(&s, A, DEV, SIM_GET, CTRL, 4, 0, 0);
	put_sim(&s, B, DEV, SIM_GET, CTRL, 4, 0, 0);
	put_sim(&s, B, DEV, SIM_GET, TICK, 8, 0, 0);
	put_sim(&s, B, DEV, SIM_GET, DATA, 4, 0, 0); /* write only to a driver, not raw */
	put_sim(&s, B, DEV, SIM_SET, STATUS, 4, 0xffffffff, 0x5555aaaa);
	put_sim(&s, B, DEV, SIM_GET, STATUS, 4, 0, 0);
	put_sim(&s, B, DEV, SIM_SET, 0x1c, 4, 0xffffffff, 0xffffffff); /* a gap stays 0 */
	put_sim(&s, B, DEV, SIM_SET, WIDE, 8, 0x00ff00ff00ff00ff, UINT64_MAX);
	put_sim(&s, B, DEV, SIM_SET, HALF, 2, 0x0ff0, 0x1234);
	put_sim(&s, B, DEV, SIM_GET, HALF, 1, 0, 0);
	put_sim(&s, B, DEV, SIM_SET, HALF, 2, 0xffff, 0x12ff); /* GET adds 1: a carry */
	put_sim(&s, B, DEV, SIM_GET, HALF + 1, 1, 0, 0);
	put_sim(&s, B, DEV, SIM_GET, HALF, 1, 0, 0);
	put_sim(&s, B, DEV, SIM_GET, 2, 4, 0, 0);    /* unaligned */
	put_sim(&s, B, DEV, SIM_GET, 0x80, 1, 0, 0); /* out of range */
	put_sim(&s, B, DEV, SIM_GET, 0x7c, 8, 0, 0);
	put_sim(&s, B, DEV, SIM_GET, 0, 3, 0, 0); /* no such width */
	put_sim(&s, B, DEV, 0, 0, 4, 0, 0);       /* no such op */
	put_sim(&s, B, DEV, SIM_IRQ, 0, 0, 0, 0);
	put_sim(&s, B, RAM, SIM_GET, 0, 4, 0, 0);
	put_sim(&s, B, UNKNOWN, SIM_GET, 0, 4, 0, 0);
	put_sim(&s, B, DEV, SIM_RESET, 0, 0, 0, 0);
	put_hello(&s, B); /* a second Hello: B's connection closes */
	session("sim_device_side", &s);

	s.len = 0;
	put(&s, 0x02 | 0x00); /* A admin, B root */
	put_hello(&s, A);
	put_hello(&s, B);
	put_sim(&s, A, RAM, SIM_GET, 0, 4, 0, 0);
	put_sim(&s, A, UNKNOWN, SIM_GET, 0, 4, 0, 0);
	put_sim(&s, A, LONG_NAME, SIM_IRQ, 0, 0, 0, 0);
	put_sim(&s, A, DEV, SIM_SET, FIFO, 4, 0xffff0000, 0x12340000);
	put_sim(&s, B, DEV, SIM_IRQ, 0, 0, 0, 0);
	put_sim(&s, B, DEV, SIM_GET, FIFO, 4, 0, 0);
	session("sim_device_admin", &s);

	/*
	 * dev's interrupt: user B subscribes through its read-write lease, root A is refused
	 * (one subscriber), acks go through the subscribed lease only, the device raises it; a
	 * read-only lease may not own it; releasing the lease ends the subscription.
	 */
	s.len = 0;
	put(&s, 0x04);
	put_hello(&s, A);
	put_hello(&s, B);
	put_acquire(&s, B, DEV, 0, 0x40);
	put_acquire(&s, B, DEV, 0x60, 0x10);
	put_acquire(&s, A, DEV, 0x70, 0x10);
	put_acquire(&s, A, RAM, 0, 0x10);
	put_op(&s, SOP_IRQ, B);
	put(&s, 0);
	put(&s, 1); /* subscribe through the read-only lease: refused */
	put_op(&s, SOP_IRQ, B);
	put(&s, 0);
	put(&s, 0);
	put_op(&s, SOP_IRQ, A);
	put(&s, 0);
	put(&s, 2);
	put_op(&s, SOP_IRQ, A);
	put(&s, 0);
	put(&s, 3); /* ram has no interrupt */
	put_sim(&s, A, DEV, SIM_IRQ, 0, 0, 0, 0);
	put_op(&s, SOP_IRQ, A);
	put(&s, 1);
	put(&s, 2); /* ack through a lease that did not subscribe */
	put_op(&s, SOP_IRQ, B);
	put(&s, 1);
	put(&s, 0);
	put_op(&s, SOP_SPLIT, B);
	put(&s, 0);
	put_u64(&s, 0x10);
	put_op(&s, SOP_IRQ, B);
	put(&s, 1);
	put(&s, 0);
	lease_op(&s, B, SOP_RELEASE, 0);
	put_op(&s, SOP_IRQ, A);
	put(&s, 0);
	put(&s, 2);
	put_op(&s, SOP_IRQ, A);
	put(&s, 2);
	put(&s, 2);
	put_op(&s, SOP_IRQ, A);
	put(&s, 0);
	put(&s, 2);
	put_op(&s, SOP_HANGUP, A);
	session("sim_irq", &s);

	/*
	 * Register maps: dev's in pages, followed (root) and from the middle (the stranger sees it
	 * through its device grant); regs' as the user: a register too big for a reply, the one
	 * after it, the end, past the end; ram has none.
	 */
	s.len = 0;
	put(&s, 0x0c); /* A root, B stranger */
	put_hello(&s, A);
	put_hello(&s, B);
	put_register_pages(&s, A, SOP_REGISTER_PAGES, DEV, 0);
	put_register_pages(&s, B, SOP_REGISTER_PAGES, DEV, 16);
	put_register_pages(&s, B, SOP_LIST_REGISTERS, REGS, 0);
	put_register_pages(&s, A, SOP_REGISTER_PAGES, REGS, 0);
	put_register_pages(&s, A, SOP_LIST_REGISTERS, REGS, 1);
	put_register_pages(&s, A, SOP_LIST_REGISTERS, REGS, 2);
	put_register_pages(&s, A, SOP_LIST_REGISTERS, REGS, 3);
	put_register_pages(&s, A, SOP_LIST_REGISTERS, REGS, 4);
	put_register_pages(&s, A, SOP_LIST_REGISTERS, DEV, 18);
	put_register_pages(&s, A, SOP_LIST_REGISTERS, DEV, 19);
	put_register_pages(&s, A, SOP_LIST_REGISTERS, RAM, 0);
	put_register_pages(&s, B, SOP_LIST_REGISTERS, UNKNOWN, 0);
	put_op(&s, SOP_LIST_REGIONS, B);
	put_op(&s, SOP_STATS, B);
	put_acquire(&s, B, DEV, 0, 4);
	session("register_pages", &s);
}
