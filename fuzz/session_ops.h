/*
 * The input language of fuzz_session: a small op-code stream from which the
 * harness builds valid Requests with fuzzed fields, so that the fuzzer reaches
 * deep connection states (leases split and released, polls pending while the
 * other connection stores or revokes) without first learning protobuf.
 *
 * Input: one setup byte, then ops until the input ends. A field the input
 * runs out of reads as 0.
 *   setup  bits 0-1: identity of connection A, bits 2-3: of connection B
 *          (root, user, admin, stranger: fuzz_common.h); bit 4: B is over a
 *          connection limit (its Hello is refused); bit 5: fd_closer runs its
 *          helper thread (stopped, every close made, before the leak check).
 *   op     bits 0-6: enum session_op (mod SOP_COUNT); bit 7 (SOP_ON_B): B sends it.
 *
 * Fields:
 *   lease  1 byte r: r < 0xf0 names the (r mod n)th of the n lease ids granted
 *          so far in this input, to either connection, released or not (0 if none);
 *          r >= 0xf0 is the relative id r - 0xf0 (see fuzz_rebase_lease_ids).
 *   u64    1 byte t: t < 0xc0 is t; 0xc0..0xdf: ((t - 0xc0) << 8) | next byte;
 *          0xe0..0xef: UINT64_MAX - (t - 0xe0); 0xf0..0xff: 8 bytes, little-endian.
 *   width  1 byte w: w < 0xf0 is 1, 2, 4 or 8 (w & 3); else w - 0xf0 (0, 3, 5...),
 *          0xff: UINT32_MAX.
 *   region 1 byte mod 6: "ram", "regs", "", "ramx", a name over MMIO_MAX_NAME, "dev"
 *          (the sim region, fuzz_sim.h).
 *   u8     1 byte.
 *
 * Every frame goes over the connection's own socket pair (SOCK_SEQPACKET) and
 * is received as conn_read_cb() receives it; mmiod reads what is queued there
 * in order, except while a poll of that connection is pending.
 */
#ifndef MMIO_FUZZ_SESSION_OPS_H
#define MMIO_FUZZ_SESSION_OPS_H

enum session_op {
	SOP_HELLO,          /* u8: 0 our version, else that version */
	SOP_LIST_REGIONS,   /* */
	SOP_ACQUIRE,        /* region, u64 offset, u64 length */
	SOP_SPLIT,          /* lease, u64 mid */
	SOP_RELEASE,        /* lease */
	SOP_LOAD,           /* lease, u64 offset, width */
	SOP_STORE,          /* lease, u64 offset, width, u64 value */
	SOP_BARRIER,        /* lease */
	SOP_LIST_LEASES,    /* */
	SOP_BATCH,          /* u8 flags (0-3: ops, 4: stop_on_error, 5: all_or_nothing, 6: one value
			       short, 7: the fixed columns), ops x (lease, u8 op (mod 4: unspecified load
			       store barrier),	  width, u64 offset, u64 value) */
	SOP_REVOKE,         /* lease */
	SOP_IRQ,            /* u8 kind (mod 3: subscribe, ack, unsubscribe), lease */
	SOP_MODIFY,         /* lease, u64 offset, width, u64 mask, u64 value */
	SOP_POLL,           /* lease, u64 offset, width, u64 mask, u64 value, u8 timeout_ms */
	SOP_BLOCK_READ,     /* lease, u64 offset, width, u8 count, u8 repeat */
	SOP_BLOCK_WRITE,    /* lease, u64 offset, width, u8 flags (0-3: count, 4: repeat), values */
	SOP_RAW,            /* u8 length, that many bytes: a frame as it comes off the socket */
	SOP_EMPTY,          /* a Request without a body */
	SOP_HANGUP,         /* the client goes away (what it queued is never read); it reconnects
			       with the same identity */
	SOP_POLL_TICK,      /* u8: bit 0 the deadline has passed; a pending poll loads again */
	SOP_STATS,          /* */
	SOP_FDS,            /* u8 n (over 253 reads as 253), u8 kinds (enum fuzz_fd_kind, 2 bits
			       each): the connection's next frame carries n descriptors (SCM_RIGHTS) */
	SOP_QUEUE,          /* u8 length, that many bytes: a frame the client sends that mmiod
			       reads later, before the connection's next one, or never: it goes
			       with the connection */
	SOP_LIST_PAGE,      /* lease after_id, u8 m: ListLeases with max = m & 0x3f; bit 7: and
			       the pages after it, while more is set */
	SOP_LIST_REGISTERS, /* region, u8 first: ListRegisters */
	SOP_SIM_DEVICE,     /* region, u8 op (mod 5), u64 offset, width, u64 mask, u64 value:
			       SimDevice */
	SOP_REGISTER_PAGES, /* region, u8 first: ListRegisters, then the pages after it while
			       more is set */
	SOP_TRACE,          /* region: TraceSubscribe (the pipe's read end closed at once) */
	SOP_COUNT,
};

#define SOP_ON_B 0x80

#endif
