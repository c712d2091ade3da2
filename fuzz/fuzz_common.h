/*
 * What both libFuzzer harnesses share: one small world of regions, grants and
 * identities, the exchange of one request as conn.c does it, and the checks
 * that turn a broken invariant into a crash the fuzzer reports.
 */
#ifndef MMIO_FUZZ_COMMON_H
#define MMIO_FUZZ_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "device/region.h"
#include "device/region_table.h"
#include "mmio.pb-c.h"
#include "request/dispatch.h"
#include "request/service.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A broken invariant: say which, then trap so libFuzzer saves the input. */
#define FUZZ_CHECK(cond)                                                                           \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fuzz_fail(#cond, __FILE__, __LINE__);                                      \
		}                                                                                  \
	} while (0)

void fuzz_fail(const char *what, const char *file, int line) __attribute__((noreturn));

/*
 * Regions: "ram", 4 KiB at a page (address residue 0 mod 8), and "regs", 64
 * bytes at residue 2, both mem backends with ASan-poisoned bytes around them so
 * an access outside a region is reported even though the memory is mapped;
 * "regs" has a register map (fuzz_maps.h). "dev", FUZZ_DEV_SIZE bytes at
 * address 0: a sim region with a register map and a Lua model (fuzz_sim.h).
 */
#define FUZZ_RAM_SIZE  4096
#define FUZZ_REGS_SIZE 64
#define FUZZ_REGS_SKEW 2
enum { FUZZ_REGION_RAM, FUZZ_REGION_REGS, FUZZ_REGION_DEV, FUZZ_N_REGIONS };

/*
 * Callers, as the kernel would name them at accept:
 * root: everything read-write, an admin.
 * user (uid 1000, groups 1000 and 2000): ram [0, 0x800) rw and [0x800, 0x1000) ro;
 *   regs [0x10, 0x20) ro for uid 1000 and all of regs rw for group 2000;
 *   dev [0, 0x60) rw with its interrupt and [0x60, 0x80) ro.
 * admin (uid 1001, admin group 50): lists and revokes every lease, acts as any sim
 *   device, may lease nothing.
 * stranger (uid 1002): no grant but a device grant on dev: it may act as dev's
 *   device (SimDevice) and list dev's registers, and lease nothing.
 */
enum { FUZZ_ID_ROOT, FUZZ_ID_USER, FUZZ_ID_ADMIN, FUZZ_ID_STRANGER, FUZZ_N_IDS };

struct fuzz_world {
	struct region_table table;
	struct service svc;
	struct identity ids[FUZZ_N_IDS];
};

extern struct fuzz_world fuzz_world;

/* Builds the world once per process; a connection may hold max_leases leases. */
void fuzz_world_init(unsigned max_leases);

/*
 * Refills the mem regions with their start pattern, so that every input starts alike; dev must
 * be as fuzz_world_finish() left it, and no interrupt subscription left from the last input.
 */
void fuzz_world_reset(void);

/*
 * The end of an input, every connection gone: dev reset (registers and model) if the input
 * used it. Here rather than at the start, so that what its model allocated while the input
 * ran is freed within it: libFuzzer counts mallocs and frees per input, and runs an input
 * with more mallocs again to look for a leak.
 */
void fuzz_world_finish(void);

/*
 * A frame decoded as conn.c decodes it: protobuf-c with arena.c's allocator,
 * whose free bytes ASan keeps poisoned (a piece becomes addressable up to the
 * size asked for). NULL if undecodable. fuzz_free_unpacked() poisons the whole
 * arena again, so nothing may keep a pointer into a request.
 */
Mmio__Request *fuzz_unpack(const uint8_t *frame, size_t len);
void fuzz_free_unpacked(Mmio__Request *req);

/* One request handled as conn.c handles it. */
struct fuzz_exchange {
	Mmio__Reply reply;
	struct reply_scratch scratch;
	enum dispatch_result res;
};

/*
 * Dispatches req on s and checks the outcome: the protocol class (close, reply,
 * reply-then-close) is what s's state and req call for, and a reply that is
 * sent has a status, echoes the id, fits a frame and decodes again. Closes any
 * fd the reply would pass. The caller reads x, then calls fuzz_exchange_finish().
 */
void fuzz_exchange_run(struct fuzz_exchange *x, struct session *s, const Mmio__Request *req);

/* One later attempt of a deferred poll, checked like a reply; last_chance must end it. */
void fuzz_exchange_poll(struct fuzz_exchange *x, struct session *s, const struct poll_state *p,
			bool last_chance);

void fuzz_exchange_finish(struct fuzz_exchange *x);

/*
 * What conn.c must do with req in s's state: close (before Hello, a second
 * Hello, no known body), reply then close (Hello of another version, or over a
 * limit), reply, or for a Poll DISPATCH_DEFER (it may also reply at once).
 */
enum dispatch_result fuzz_expected_result(const struct session *s, const Mmio__Request *req);

/* A reply as the client receives it: a known status, the request's id, one frame, decodable. */
void fuzz_check_reply(const Mmio__Reply *reply, uint64_t request_id);

/*
 * Lease ids are global and never reused, so an input cannot name a lease by
 * its absolute id and replay the same way. Inputs name them relative to base
 * (1 is base, 0 the id before it): this rewrites every lease id in req.
 */
void fuzz_rebase_lease_ids(Mmio__Request *req, uint64_t base);

/*
 * The lease tables: every region's list is sorted by start, inside the region,
 * its non-empty leases pairwise disjoint, and each lease is held by one of the n
 * sessions, whose sets list exactly the leases the regions do. No access is left
 * armed for SIGBUS.
 */
void fuzz_check_leases(struct session *const *sessions, unsigned n);

/*
 * Descriptors a client attaches (SCM_RIGHTS) to what it sends mmiod, and the
 * oracle that none of them leaks. Where the kernel cannot refuse them (before
 * Linux 6.16, or a socket not guarded by fd_closer_guard()), mmiod receives
 * every one with wire_recv_keep_fds() and closes it through fd_closer_close().
 *
 * An input names up to WIRE_MAX_RECV_FDS of them with a count and a pattern
 * byte: the i-th is of kind (pattern >> (2 * (i % 4))) & 3.
 */
enum fuzz_fd_kind {
	FUZZ_FD_PIPE,   /* the write end of the input's pipe: EOF on its read end, all closed */
	FUZZ_FD_NULL,   /* /dev/null */
	FUZZ_FD_PEER,   /* the sender's own socket (its end of the connection or the doorbell) */
	FUZZ_FD_NESTED, /* a socket with the pipe's write end in flight: closing it frees that */
};

/* What one input attaches, opened lazily; every copy must be gone at fuzz_fds_close_check(). */
struct fuzz_fds {
	unsigned open_before; /* the process's open fds before fuzz_fds_open() */
	int pipe_r;
	int pipe_w;
	int null_fd;
	int nested;
};

/* The process's open descriptors (/proc/self/fd). */
unsigned fuzz_fd_count(void);

/* The lowest descriptor number not in use. */
int fuzz_lowest_free_fd(void);

/* Settles the fd closer, counts the open fds, opens the input's pipe. */
void fuzz_fds_open(struct fuzz_fds *f);

/* fds[0..n) (n <= WIRE_MAX_RECV_FDS) as pattern says; peer is the sender's own socket. */
void fuzz_fds_pick(struct fuzz_fds *f, uint8_t pattern, int peer, int *fds, unsigned n);

/* sendmsg() of len bytes with fds[0..n) attached, MSG_NOSIGNAL | flags: bytes sent or -errno. */
ssize_t fuzz_send_fds(int sock, const void *buf, size_t len, const int *fds, unsigned n, int flags);

/*
 * Every close asked of fd_closer so far is done, and it closes inline again:
 * its thread (if fd_closer_start() or fd_closer_guard() started one) is stopped.
 */
void fuzz_fds_settle(void);

/*
 * Closes the harness's own copies, settles the fd closer and checks that no
 * copy of the pipe's write end is left anywhere (its read end sees EOF: none
 * open in this process, none in flight in a socket) and that exactly as many
 * fds are open as before fuzz_fds_open(). The caller has closed its sockets.
 */
void fuzz_fds_close_check(struct fuzz_fds *f);

/*
 * One frame received from sock as conn_read_cb() receives one: wire_recv_keep_fds()
 * into buf (cap bytes: limits.max_frame), then every descriptor that came with
 * it closed through fd_closer_close(). sent[0..n_sent) is what the client
 * attached; each must arrive, in order, close-on-exec and the same object.
 * room (UINT_MAX: no limit) lowers RLIMIT_NOFILE during the receive to leave
 * room for that many new fds: the kernel drops the rest (MSG_CTRUNC), and the
 * receive must then fail -EMSGSIZE with the fds that did arrive handed over.
 * Returns what wire_recv_keep_fds() did; *n_got the fds it handed over.
 */
ssize_t fuzz_conn_recv(int sock, void *buf, size_t cap, const int *sent, unsigned n_sent,
		       unsigned room, unsigned *n_got);

#endif
