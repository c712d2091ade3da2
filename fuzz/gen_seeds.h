/*
 * What the seed writer's files share (gen_seeds.c, gen_seeds_sim.c): the inputs of fuzz_frame
 * (a setup byte and a packed Request) and of fuzz_session (an op stream, session_ops.h).
 */
#ifndef MMIO_FUZZ_GEN_SEEDS_H
#define MMIO_FUZZ_GEN_SEEDS_H

#include <stddef.h>
#include <stdint.h>

#include "mmio.pb-c.h"
#include "session_ops.h"

/* fuzz_frame: setup byte (fuzz_frame.c) + req. */
enum { ROOT = 0, USER = 1, ADMIN = 2, STRANGER = 3, HELLO_DONE = 4, REFUSED = 8 };
/* The setup bits of the receive path: fds attached, fd_closer's thread, max_frame 256, few fds. */
enum { FDS = 0x10, THREAD = 0x20, SMALL_FRAME = 0x40, FEW_FDS = 0x80 };
/* Kinds of fd (fuzz_common.h), 2 bits each: pipe, /dev/null, peer, nested; all four in turn. */
enum { PIPE = 0x00, DEVNULL = 0x55, PEER = 0xaa, NESTED = 0xff, EVERY_KIND = 0xe4 };

/* Relative lease ids of fuzz_frame: 1 the other connection's, 2.. the caller's. */
enum {
	OTHER_LEASE = 1,
	RAM_LEASE = 2,
	EMPTY_LEASE = 3,
	REGS_LEASE = 4,
	RAM_HIGH_LEASE = 5,
	DEV_LEASE = 6
};

/* DIR/frame/name: who is the caller, flags HELLO_DONE, REFUSED and the receive bits. */
void frame(const char *name, unsigned who, unsigned flags, Mmio__Request *req);

/* fuzz_session: an op stream (session_ops.h). */
struct stream {
	uint8_t buf[4096];
	size_t len;
};

/* The connections, and the region bytes of session_ops.h. */
enum { A = 0, B = SOP_ON_B };
enum { RAM, REGS, NO_NAME, UNKNOWN, LONG_NAME, DEV };

void put(struct stream *s, uint8_t b);
/* An op of side (A or B). */
void put_op(struct stream *s, enum session_op op, unsigned side);
void put_u64(struct stream *s, uint64_t v);
void put_width(struct stream *s, unsigned width);
void put_hello(struct stream *s, unsigned who);
void put_acquire(struct stream *s, unsigned who, uint8_t region, uint64_t offset, uint64_t length);
/* lease is the index among the leases granted so far in the input. */
void access_op(struct stream *s, unsigned who, enum session_op op, uint8_t lease, uint64_t offset,
	       unsigned width, uint64_t value);
void lease_op(struct stream *s, unsigned who, enum session_op op, uint8_t lease);
/* DIR/session/name. */
void session(const char *name, const struct stream *s);

/* The seeds of the sim region "dev" and the register maps (gen_seeds_sim.c). */
void sim_frame_seeds(void);
void sim_session_seeds(void);

#endif
