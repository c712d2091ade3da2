/*
 * libmmio-client: talk to mmiod, the device-register lease daemon.
 *
 * A client is one connection to mmiod. Through it you acquire leases on byte
 * ranges of the daemon's regions, split them, and run loads, stores and write
 * barriers that mmiod checks against the lease (bounds, and alignment on the
 * absolute device address) before touching the device. Leases of different
 * clients never overlap; every lease of a client is revoked when its
 * connection closes, however the process ends.
 *
 * Errors: every function that can fail returns a negative errno; each daemon
 * status has its own (see mmio_strerror() and mmio_status_name()):
 *   -ERANGE           OUT_OF_RANGE        not inside the region or lease
 *   -EFAULT           UNALIGNED           device address not aligned for the width
 *   -EBUSY            CONFLICT            range overlaps a live lease
 *   -ENOENT           NOT_FOUND           no such region, or no such lease
 *   -EACCES           PERMISSION_DENIED
 *   -EINVAL           INVALID_ARGUMENT    bad width, value wider than the width, ...
 *   -EIO              IO_ERROR            the device access failed
 *   -ENOSPC           RESOURCE_EXHAUSTED  a daemon limit was reached
 *   -ECANCELED        CANCELLED           batch op skipped after an earlier failure
 *   -EPROTONOSUPPORT  VERSION_MISMATCH    daemon speaks another protocol version
 *   -EPROTO           malformed or unexpected reply
 *   -ECONNRESET       the daemon closed the connection or went away
 *   -EMSGSIZE         request larger than the frame limit
 *   -ETIMEDOUT        TIMEOUT             mmio_poll: never true in time;
 *                                         mmio_irq_wait: no interrupt in time
 *   -EKEYREVOKED      REVOKED             mmiod took the lease away; the detail
 *                                         says why: "lease 7 was revoked: admin"
 *   -ENOMEM           out of memory in this process
 * A connection that failed with -ECONNRESET or -EPROTO is dead: every later
 * call on it returns -ECONNRESET.
 *
 * Blocking: every call that talks to mmiod sends one request and blocks until
 * its reply arrives.
 *
 * Fast path: single loads, stores, modifies and barriers may go through a
 * shared-memory ring mmiod offers instead of the socket (see
 * mmio_set_fast_path); mmiod checks them exactly as over the socket, and the
 * results, errors and details are the same.
 *
 * Threads: calls on one client are serialised by a mutex inside it, so a client
 * and its leases may be used from several threads. A lease must not be used
 * while, or after, another thread releases it. Each thread has its own error
 * detail (mmio_error_detail). The lease getters, mmio_irq_fd and mmio_irq_wait
 * never wait for another thread's request. The log handler is process-wide
 * (mmio_set_log_handler). After fork(), use a client in one of the two
 * processes only: they share its connection and its ring.
 *
 * The library never prints and never aborts; messages go to the handler set
 * with mmio_set_log_handler(). The one exception is a mistake in the user's
 * environment: an unknown $MMIO_FAST_PATH is reported once per process, as a
 * warning to the handler if one is set, else on stderr.
 */
#ifndef MMIO_CLIENT_H
#define MMIO_CLIENT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

struct mmio_client;
struct mmio_lease;

/*
 * The release of libmmio-client this header belongs to (0.5.0). Test them in
 * the preprocessor to use an API only a later release has; mmio_client_version()
 * gives the release of the library a program runs with.
 */
#define MMIO_CLIENT_VERSION_MAJOR 0
#define MMIO_CLIENT_VERSION_MINOR 5
#define MMIO_CLIENT_VERSION_PATCH 2

/*
 * The release of the library running, which may be newer than the header the
 * program was built with: "MAJOR.MINOR.PATCH" (static storage, never NULL),
 * and its three numbers in *major, *minor and *patch, each unless NULL. Since
 * 0.3.
 */
const char *mmio_client_version(unsigned *major, unsigned *minor, unsigned *patch);

/* Socket used when neither an argument nor $MMIOD_SOCKET names one. */
#define MMIO_DEFAULT_SOCKET_PATH "/run/mmiod/mmiod.sock"

/*
 * Connects to mmiod at path (NULL: $MMIOD_SOCKET, else MMIO_DEFAULT_SOCKET_PATH)
 * and exchanges protocol versions. Returns 0 and *out, or a negative errno:
 * the connect(2) error (-ENOENT, -ECONNREFUSED, -EACCES, ...), -ENAMETOOLONG,
 * -EPROTONOSUPPORT, -ECONNRESET, -EPROTO, -ENOMEM. Free with mmio_disconnect().
 */
int mmio_connect(const char *path, struct mmio_client **out);

/*
 * Closes the connection (mmiod revokes every lease of it) and frees the client
 * and every lease handle still open on it. Accepts NULL.
 */
void mmio_disconnect(struct mmio_client *client);

enum mmio_access {
	MMIO_ACCESS_RO = 1, /* loads only: stores are -EACCES */
	MMIO_ACCESS_RW = 2,
};

/* A range of a region the caller may lease. */
struct mmio_grant {
	uint64_t offset;
	uint64_t length;
	enum mmio_access access;
};

/* A region mmiod serves, as the caller sees it. */
struct mmio_region_info {
	char name[65];
	char type[16];                   /* backend: "mem", "file", ... */
	uint64_t size;                   /* bytes */
	uint64_t address;                /* absolute device address of offset 0 */
	uint64_t faults;                 /* accesses the device answered with a bus error (-EIO) */
	size_t n_grants;                 /* >= 1: regions the caller may not lease are not listed */
	const struct mmio_grant *grants; /* in the same allocation as the array */
};

/* A live lease, as mmiod reports it. */
struct mmio_lease_info {
	uint64_t id;
	char region[65];
	uint64_t start; /* offset of the lease in its region */
	uint64_t length;
	pid_t pid; /* holder */
	uid_t uid;
	enum mmio_access access;
};

/*
 * Lists the regions the caller may lease something of, each with the caller's
 * grants. On success returns the count and sets *out to an array that one
 * free() releases, grants included (NULL when the count is 0).
 */
int mmio_list_regions(struct mmio_client *client, struct mmio_region_info **out);

/*
 * Lists live leases as mmio_list_regions() does regions: every lease for root
 * and the admin group, those held by the caller's uid (on any connection) for anyone else.
 * Fetched a page at a time, by ascending id (-EPROTO if mmiod's pages make no progress);
 * leases acquired or released meanwhile may or may not be listed, none twice.
 */
int mmio_list_leases(struct mmio_client *client, struct mmio_lease_info **out);

/*
 * mmio_list_leases(), plus in *ttl_ms (since 0.4; a separate array, as struct mmio_lease_info
 * keeps its size) each lease's time left before mmiod revokes it unrenewed (its grant's
 * max_lease_ms): milliseconds, 0 for a lease without a TTL. One free() each; NULL for none.
 */
int mmio_list_leases_ttl(struct mmio_client *client, struct mmio_lease_info **out,
			 uint64_t **ttl_ms);

/* One region's figures in struct mmio_stats. */
struct mmio_region_stats {
	char name[65];
	uint64_t leases; /* live leases on the region, anyone's */
	uint64_t faults; /* device faults since mmiod started, as mmio_region_info.faults */
};

/* Latency buckets of struct mmio_access_figures (since 0.4). */
#define MMIO_LATENCY_BUCKETS 32

/* The most distinct statuses struct mmio_access_figures counts. */
#define MMIO_STATS_MAX_STATUSES 16

/*
 * What a lease or a region has done since it began (since 0.4). loads and stores count every
 * access on every path (a modify is one of each, a block access one per value); modifies,
 * polls and block_bytes count those requests. errors: the failed accesses by status.
 * latency[i]: socket access requests (load, store, modify, block; a batch once, for its first
 * op's lease) on which mmiod spent [2^i, 2^(i+1)) ns, the last bucket all longer.
 */
struct mmio_access_figures {
	uint64_t loads;
	uint64_t stores;
	uint64_t modifies;
	uint64_t polls;
	uint64_t block_bytes;
	size_t n_errors;
	struct {
		int status; /* negative errno, as mmio_status_name() takes */
		uint64_t count;
	} errors[MMIO_STATS_MAX_STATUSES];
	uint64_t latency[MMIO_LATENCY_BUCKETS];
	uint64_t latency_sum_ns;
};

/* One live lease's figures (since 0.4). */
struct mmio_lease_stats {
	uint64_t id;
	char region[65];
	uid_t uid; /* of its holder */
	pid_t pid;
	struct mmio_access_figures figures;
};

/* The daemon's figures, as mmio_stats() reports them. */
struct mmio_stats {
	uint64_t connections; /* live client connections (not those refused over a limit) */
	uint64_t leases;      /* live leases over every region */
	uint64_t faults;      /* device faults since start over every region */
	uint64_t requests;    /* requests mmiod served since start, this one included */
	uint64_t uptime_ms;   /* since mmiod started (monotonic clock) */
	uint64_t rings;       /* open shared-memory rings (see mmio_set_fast_path) */
	size_t n_regions;
	const struct mmio_region_stats *regions; /* in the same allocation */
	/* Since 0.4 (the library allocates this struct: new fields only ever go last). */
	const struct mmio_access_figures *region_figures; /* n_regions, in regions' order */
	size_t n_leases; /* every live lease for root and the admin group, else the caller's uid's
			  */
	const struct mmio_lease_stats *lease_stats; /* by ascending id */
	int lease_stats_more; /* 1: more leases than one reply holds; the first listed only */
};

/*
 * The daemon's figures. Anyone may ask. The totals cover every region; the
 * regions listed are those mmio_list_regions() lists to the caller (every
 * region for root and the admin group). Returns 0 and *out, which one free()
 * releases, or -ENOMEM, or a transport error (-ECONNRESET from a daemon too
 * old to know the request).
 */
int mmio_stats(struct mmio_client *client, struct mmio_stats **out);

/*
 * Admin only: ends any connection's lease by id, running its region's park
 * sequence (mmiod.conf(5)); its holder is sent a revoke notice (reason admin)
 * and its next use of it fails with -EKEYREVOKED. Returns (after the park) 0,
 * -EACCES (not an admin), -ENOENT (no such lease), or a transport error.
 */
int mmio_revoke(struct mmio_client *client, uint64_t lease_id);

/*
 * Admin only (0.4): mmio_revoke with grace: the holder is sent a notice with
 * grace_ms and may release the lease in that time (then nothing is parked);
 * else mmiod revokes it at the end (reason admin, parked). Returns once the
 * holder is told: 0, -EINVAL (grace_ms over 60000), or as mmio_revoke. 0 is
 * mmio_revoke.
 */
int mmio_revoke_grace(struct mmio_client *client, uint64_t lease_id, unsigned grace_ms);

/*
 * Starts the time of a lease under a grant with max_lease_ms (mmiod.conf(5))
 * again (0.4): unrenewed, mmiod revokes it when the time runs out (reason ttl).
 * Renew well before (at half the time, say). A lease without a TTL: 0, nothing
 * changes. Returns 0, -EKEYREVOKED, -ENOENT, or a transport error.
 */
int mmio_renew(struct mmio_lease *lease);

/*
 * Leases [offset, offset+length) of region. Returns 0 and *out, or -ENOENT (no
 * such region, or none the caller has a grant on), -EACCES (no grant of the
 * caller covers the range), -ERANGE, -EBUSY, -ENOSPC, or a transport error. A zero length
 * is legal: the lease owns no bytes and every access to it is -ERANGE.
 */
int mmio_acquire(struct mmio_client *client, const char *region, uint64_t offset, uint64_t length,
		 struct mmio_lease **out);

/*
 * Splits lease at relative offset mid: *low is a new lease on the low part
 * [start, start+mid); lease keeps [start+mid, end), and its offset 0 becomes
 * the old offset mid. -ERANGE iff mid > length (nothing changes). mid == 0
 * and mid == length are legal and give an empty lease.
 */
int mmio_split(struct mmio_lease *lease, uint64_t mid, struct mmio_lease **low);

/*
 * Releases lease and frees the handle, whatever the outcome. Returns 0, or the
 * daemon's error (-EKEYREVOKED if mmiod revoked it) or a transport error.
 */
int mmio_release(struct mmio_lease *lease);

/*
 * The daemon's id of the lease, its region, start offset and length. None
 * waits for a request in flight. Start and length change together when the
 * lease is split; each getter returns a value the lease had, but two calls
 * may straddle another thread's split: mmio_lease_range reads both at once.
 */
uint64_t mmio_lease_id(const struct mmio_lease *lease);
const char *mmio_lease_region(const struct mmio_lease *lease);
uint64_t mmio_lease_start(const struct mmio_lease *lease);
uint64_t mmio_lease_length(const struct mmio_lease *lease);
/*
 * Start and length (either pointer may be NULL) as one pair: both from before
 * a concurrent split, or both from after it, never one of each.
 */
void mmio_lease_range(const struct mmio_lease *lease, uint64_t *start, uint64_t *length);
/* MMIO_ACCESS_RO if the lease was granted read-only (stores fail with -EACCES). */
enum mmio_access mmio_lease_access(const struct mmio_lease *lease);

/*
 * One device access of exactly the named width at offset (relative to the
 * lease). Errors: -EFAULT (unaligned: judged on the absolute device address,
 * checked first), -ERANGE, -ENOENT (lease revoked), -EIO, transport errors.
 * On failure nothing was accessed and *value is untouched.
 */
int mmio_load8(struct mmio_lease *lease, uint64_t offset, uint8_t *value);
int mmio_load16(struct mmio_lease *lease, uint64_t offset, uint16_t *value);
int mmio_load32(struct mmio_lease *lease, uint64_t offset, uint32_t *value);
int mmio_load64(struct mmio_lease *lease, uint64_t offset, uint64_t *value);
int mmio_store8(struct mmio_lease *lease, uint64_t offset, uint8_t value);
int mmio_store16(struct mmio_lease *lease, uint64_t offset, uint16_t value);
int mmio_store32(struct mmio_lease *lease, uint64_t offset, uint32_t value);
int mmio_store64(struct mmio_lease *lease, uint64_t offset, uint64_t value);

/*
 * Width-generic forms, width in bytes: 1, 2, 4 or 8, else -EINVAL at once,
 * before any round trip, with mmiod's detail ("width 3 is not 1, 2, 4 or 8
 * bytes"; so also for mmio_modify, mmio_poll and the block calls). A store
 * value wider than width is -EINVAL, never truncated.
 */
int mmio_load(struct mmio_lease *lease, uint64_t offset, unsigned width, uint64_t *value);
int mmio_store(struct mmio_lease *lease, uint64_t offset, unsigned width, uint64_t value);

/*
 * Server-side operations: each is one request, run by mmiod without any other
 * client's request in between (mmiod serves everyone from one event loop).
 *
 * mmio_modify: one load, then one store of (old & ~mask) | (value & mask) at
 * the same width; no store if the load fails; *old (if not NULL) gets the
 * value loaded. Bits of value outside mask are ignored. Atomic against other
 * clients, not against the device itself. -EACCES on a read-only lease
 * (nothing is loaded), else as mmio_load/mmio_store.
 */
int mmio_modify(struct mmio_lease *lease, uint64_t offset, unsigned width, uint64_t mask,
		uint64_t value, uint64_t *old);

/*
 * Loads every interval_us (0: 100 us; shorter than 50 us counts as 50) until
 * (v & mask) == (value & mask), for up to timeout_ms (0: check once; more
 * than 60000 is -EINVAL). Returns 0, or -ETIMEDOUT
 * (TIMEOUT), or an access error; *last (if not NULL) gets the last value read
 * in both first cases. mmiod serves other clients between the loads; this
 * client's next request waits for the poll to end.
 */
int mmio_poll(struct mmio_lease *lease, uint64_t offset, unsigned width, uint64_t mask,
	      uint64_t value, unsigned timeout_ms, unsigned interval_us, uint64_t *last);

/* Flag for the block calls: every access at offset (a FIFO register), not offset + i*width. */
#define MMIO_REPEAT 0x1u

/*
 * count (1..4096) accesses of width bytes from offset upwards (or, with
 * MMIO_REPEAT, all at offset). Every address, and for writes every value, is
 * checked before the first access: a bad request touches nothing. A device
 * fault mid-way stops there with -EIO.
 */
int mmio_read_block(struct mmio_lease *lease, uint64_t offset, unsigned width, uint64_t *values,
		    size_t count, unsigned flags);
int mmio_write_block(struct mmio_lease *lease, uint64_t offset, unsigned width,
		     const uint64_t *values, size_t count, unsigned flags);

/*
 * The shared-memory fast path. AUTO (the default, or $MMIO_FAST_PATH=auto)
 * opens it at a connection's 8th single load/store/modify/barrier if mmiod
 * offers it, so one-shot tools never pay for setting it up; ON
 * ($MMIO_FAST_PATH=on) opens it now (the environment: at the first op); OFF
 * ($MMIO_FAST_PATH=off) sends everything over the socket. Another value of
 * $MMIO_FAST_PATH means AUTO and is reported once (see the top of this file). While the ring is in
 * use, a client waiting for a result of an mmiod that is awake spins
 * briefly, yielding its CPU, before it sleeps. mmio_set_fast_path returns 0, -EINVAL (no such
 * mode), or for ON -EOPNOTSUPP (mmiod offers no ring), -ENOSPC (mmiod has max_rings open), a
 * transport error, or the error of the first failed attempt (none is retried).
 */
enum mmio_fast_path {
	MMIO_FAST_PATH_AUTO = 0,
	MMIO_FAST_PATH_OFF = 1,
	MMIO_FAST_PATH_ON = 2,
};
int mmio_set_fast_path(struct mmio_client *client, enum mmio_fast_path mode);

/* 1 if single ops now go through the ring, else 0. */
int mmio_fast_path_active(struct mmio_client *client);

/*
 * Write barrier on the lease's region: every store before it is ordered before
 * every store after it. Needs no bounds; works on an empty lease. It first reports a failed
 * posted store on the lease, as mmio_sync does.
 */
int mmio_barrier(struct mmio_lease *lease);

/*
 * Posted stores (libmmio-client 0.5). With posted nonzero, mmio_store and mmio_store8..64 on
 * the lease return as soon as the store is in the fast path's ring, without waiting for mmiod
 * to run it; with the ring not in use (mmio_fast_path_active() 0) stores stay synchronous.
 * Order is kept: mmiod runs the ring's entries in order, and any later op or request of the
 * client (on any lease, over the ring or the socket) waits for the posted stores before it to
 * be run. A full ring makes the next store wait for room. mmiod checks a posted store as any
 * other; if one fails, the next mmio_load*, mmio_modify or mmio_barrier on that lease, or
 * mmio_sync, returns its error (that op does not run) with a detail naming its width and
 * offset (mmio_error_detail); only the first failure since the last report is kept, and the
 * stores after it did run. Releasing the lease or disconnecting drops an unreported error.
 * mmio_set_posted: 0 or -EINVAL.
 */
int mmio_set_posted(struct mmio_lease *lease, int posted);

/*
 * Waits until every posted store of the lease's client has run; returns the error of the
 * first posted store on this lease that failed since the last report (and clears it), else 0.
 */
int mmio_sync(struct mmio_lease *lease);

/*
 * Interrupts. A region served with irq = yes (UIO) forwards its interrupt to
 * one subscriber. Each mmio_irq_ack writes to the device, so the subscriber
 * needs a read-write lease on the region (an empty one will do) and a
 * read-write grant that covers the whole region or has irq = true (root and
 * the user who started mmiod need none). mmio_irq_subscribe returns 0,
 * -EINVAL (the region has no interrupt), -EACCES (PERMISSION_DENIED: a
 * read-only lease, or no such grant; said before -EBUSY), -EBUSY (someone,
 * or this lease, is subscribed already), -ENOSPC (RESOURCE_EXHAUSTED: too
 * many descriptors in replies this client has not read), or a transport
 * error. The subscription ends with mmio_irq_unsubscribe, when the lease is
 * released or revoked, when the connection closes, or when a reload takes
 * the right away.
 */
int mmio_irq_subscribe(struct mmio_lease *lease);

/*
 * A file descriptor that polls readable when interrupts arrived (or the
 * subscription ended), for event loops: then call mmio_irq_wait(lease, 0, ..).
 * -1 when lease holds no subscription. Owned by the library, and closed when
 * the subscription ends in this process (mmio_irq_unsubscribe, mmio_release,
 * mmio_disconnect): do not poll it across those calls in other threads; use
 * mmio_irq_wait there.
 */
int mmio_irq_fd(const struct mmio_lease *lease);

/*
 * Waits up to timeout_ms (-1: forever, 0: just check) for interrupts. Returns
 * 0 with *count the number that arrived since the last wait (>= 1), or
 * -ETIMEDOUT, -ENOENT (the subscription ended: lease revoked, daemon gone),
 * -EINVAL (no subscription). Does not talk to mmiod, and never waits for
 * another thread's request on the client. If another thread calls
 * mmio_irq_unsubscribe meanwhile, every wait in progress returns -ENOENT at
 * once (or, having already seen them, the interrupts that came before); the
 * subscription's descriptors stay open until the last such wait has returned,
 * so a wait never touches a closed or reused descriptor.
 */
int mmio_irq_wait(struct mmio_lease *lease, int timeout_ms, uint32_t *count);

/* Re-enables the interrupt after handling it (UIO writes 1). 0, -EINVAL, -EIO, transport errors. */
int mmio_irq_ack(struct mmio_lease *lease);

/*
 * Ends the subscription (in this process whatever mmiod answers; waits in
 * other threads return -ENOENT, see mmio_irq_wait). 0, -EINVAL (none),
 * transport errors.
 */
int mmio_irq_unsubscribe(struct mmio_lease *lease);

enum mmio_op_kind {
	MMIO_OP_LOAD = 1,
	MMIO_OP_STORE = 2,
	MMIO_OP_BARRIER = 3,
};

/* One operation of a batch. status and (for loads) value are filled in. */
struct mmio_op {
	struct mmio_lease *lease;
	enum mmio_op_kind kind;
	unsigned width; /* bytes: 1, 2, 4, 8; ignored for barriers */
	uint64_t offset;
	uint64_t value; /* store: in; load: out */
	int status;     /* out: 0 or a negative errno as for single accesses */
};

/* mmio_batch flag: ops after the first failure are not run (status -ECANCELED). */
#define MMIO_BATCH_STOP_ON_ERROR 0x1u
/*
 * mmio_batch flag: check every op against its lease before running any; if
 * one would fail, none runs (it gets its error, the others -ECANCELED). A
 * device fault (-EIO) mid-way cannot be undone.
 */
#define MMIO_BATCH_ALL_OR_NOTHING 0x2u

/*
 * Runs n operations, in order, in one request (n <= 4096). The daemon runs
 * them one after another without serving any other client in between. With
 * the fast path open, up to 32 ops go through the ring instead (with flags too,
 * as a group, where mmiod offers groups), with the same statuses and guarantee
 * (proto/mmio_ring.h). Over the socket, the caller looks for the reply for up to
 * 30 ns an op (at most 200 us), yielding its CPU between looks, before it sleeps:
 * a reply that comes meanwhile needs no wake-up. Every
 * lease must belong to client. Returns the number of ops whose status is not
 * 0 (so 0 means all succeeded), or a negative errno if the request as a whole
 * failed (-EINVAL bad arguments, -EMSGSIZE too many ops, transport errors),
 * in which case no status was filled in.
 */
int mmio_batch(struct mmio_client *client, struct mmio_op *ops, size_t n, unsigned flags);

/*
 * The daemon's explanation of the last request the calling thread made on
 * client, if it failed with a daemon status (e.g. "offset 0x2 of lease 5 is
 * device address 0x1002, not 4-byte aligned"); "" after a success or a local
 * error, and before the thread's first request on client. Printable ASCII
 * only. Each thread has its own detail for each client it uses: requests of
 * other threads, or on other clients, never change it. Valid until the
 * calling thread's next call on client, mmio_disconnect(client), or the
 * thread's exit. (If memory for it cannot be allocated, it stays "".)
 */
const char *mmio_error_detail(struct mmio_client *client);

/*
 * Copies the calling thread's mmio_error_detail(client) into buf (len bytes,
 * always NUL-terminated if len > 0; buf may be NULL if len is 0). Returns its
 * length, like snprintf: len or more means it was cut short.
 */
int mmio_error_detail_copy(struct mmio_client *client, char *buf, size_t len);

/* A sentence describing err (a negative errno from this library). Never NULL. */
const char *mmio_strerror(int err);

/*
 * The daemon status name for err ("OUT_OF_RANGE", "UNALIGNED", ...), or for
 * errors of this library "DISCONNECTED", "PROTOCOL_ERROR", "TOO_LARGE",
 * "NO_MEMORY"; NULL for any other errno.
 */
const char *mmio_status_name(int err);

enum mmio_log_level {
	MMIO_LOG_ERROR = 0,
	MMIO_LOG_WARN = 1,
	MMIO_LOG_DEBUG = 2,
};

/*
 * Registers by name (since 0.3). A region whose config names a register map
 * (mmiod-regmap(5)) serves it to the clients it is listed to; the library
 * fetches it on a client's first use of a name on that region (one or more
 * ListRegisters round trips, under the client's lock) and keeps it until
 * mmio_disconnect. Names are "REG", "REG.FIELD", "ARR[i]", "ARR[i].FIELD".
 */
struct mmio_reg {
	const char *name;   /* the register as the map names it (no [i], no .FIELD) */
	const char *field;  /* the field, or NULL for the whole register */
	const char *access; /* "rw", "ro", "wo", "w1c", "w1s" or "rc": the field's or register's */
	uint64_t index;     /* the instance of an array, else 0 */
	uint64_t offset;    /* of the register, relative to the lease */
	unsigned width;     /* of the register, in bytes: 1, 2, 4 or 8 */
	unsigned msb, lsb;  /* the field's bits; a whole register: width * 8 - 1 and 0 */
	uint64_t mask;      /* bits msb..lsb set, in place */
	int is_field;       /* 1 for a field */
};

/*
 * Resolves name on the lease's region into *out (its strings live as long as
 * the client). 0; -ENOENT when the region has no map or the name none of it
 * (the error detail says which, and "did you mean LSR?" when a name is
 * close); -EINVAL for a name of no such shape (an array without [i]);
 * -ERANGE when the register is not inside the lease; or what fetching the
 * map met.
 */
int mmio_reg_find(struct mmio_lease *lease, const char *name, struct mmio_reg *out);

/* One load of the register's width; a field's value is shifted down and masked. */
int mmio_reg_load(struct mmio_lease *lease, const char *name, uint64_t *value);

/*
 * A register: one store of its width. A field: one masked modify (Modify,
 * done by mmiod with no other client in between) of just its bits. A value
 * that does not fit the register or field: -EINVAL with a detail, nothing
 * sent.
 */
int mmio_reg_store(struct mmio_lease *lease, const char *name, uint64_t value);

/*
 * Sets n fields of one register in one masked modify: assignments like
 * "LCR.DLAB=1", "LCR.WLS=8BIT" (a number, or the name of one of the field's
 * values). -EINVAL with a detail, nothing sent, for fields of two registers
 * (or instances), a field given twice, a whole register, an unknown value
 * name or a value that does not fit its field.
 */
int mmio_reg_store_fields(struct mmio_lease *lease, const char *const *assignments, size_t n);

/*
 * The map of a region as a whole, without a lease: what a tool needs to know (a register's
 * offset and width) before it leases exactly that register. Read-only, owned by the client:
 * valid until mmio_disconnect. Strings are never NULL ("" for no description); widths are
 * in bytes; offsets are the region's.
 */
struct mmio_regmap_value {
	const char *name; /* "8BIT" */
	uint64_t value;   /* the field's value it names, not shifted */
};

struct mmio_regmap_field {
	const char *name;
	unsigned msb, lsb;  /* bits msb..lsb of the register */
	const char *access; /* the field's, else the register's: as mmio_reg.access */
	const char *description;
	size_t n_values;
	const struct mmio_regmap_value *values;
};

struct mmio_regmap_register {
	const char *name;
	uint64_t offset;    /* of instance 0, from the region's start */
	unsigned width;     /* bytes: 1, 2, 4 or 8 */
	const char *access; /* "rw", "ro", "wo", "w1c", "w1s" or "rc" */
	int has_reset;
	uint64_t reset;
	int side_effects; /* 1: reading it changes the device, as rc does */
	uint64_t count;   /* instances NAME[0]..NAME[count-1]; 1 for a plain register */
	uint64_t stride;  /* bytes between instances; 0 for a plain register */
	const char *description;
	size_t n_fields;
	const struct mmio_regmap_field *fields;
};

struct mmio_regmap {
	const char *region;
	const char *name;   /* the map's */
	unsigned width;     /* its default register width in bytes (0: mmiod did not say) */
	size_t n_registers; /* in the map's order */
	const struct mmio_regmap_register *registers;
};

/*
 * The map of region into *out, fetched on first use as for mmio_reg_find. 0; -ENOENT (no such
 * region for the caller, or it has no map: the detail says which); or a transport error.
 */
int mmio_regmap_get(struct mmio_client *client, const char *region, const struct mmio_regmap **out);

/*
 * The register of map at offset (since 0.4), as a trace names it: "REG", "ARR[i]" for an
 * instance of an array, "REG+0x2" for a byte inside one; into buf (cut to len, NUL-ended).
 * Returns buf, or NULL if no register covers offset (or map is NULL). Reads only the
 * registers' name, offset, width, count and stride.
 */
const char *mmio_regmap_name_at(const struct mmio_regmap *map, uint64_t offset, char *buf,
				size_t len);

/*
 * mmio_reg_find on the region instead of a lease: the same names, errors and details ("did
 * you mean"), but out->offset is the register's offset in the region, and no range is
 * checked (so never -ERANGE).
 */
int mmio_regmap_find(struct mmio_client *client, const char *region, const char *name,
		     struct mmio_reg *out);

/*
 * Encodes the assignments of mmio_reg_store_fields ("LCR.DLAB=1", "LCR.WLS=8BIT") on the
 * region, without a lease and without touching the device: *reg gets the register (the
 * whole of it: field NULL, offset the region's), *mask the bits the fields cover and *value
 * their new bits, both in place, ready for one masked modify. Errors as
 * mmio_reg_store_fields: -EINVAL with a detail for fields of two registers (or instances),
 * a field given twice, a whole register, an unknown value name or a value that does not fit
 * its field; -ENOENT for an unknown name.
 */
int mmio_regmap_encode_fields(struct mmio_client *client, const char *region,
			      const char *const *assignments, size_t n, struct mmio_reg *reg,
			      uint64_t *mask, uint64_t *value);

/*
 * The device side of a simulated region (since 0.3): a region of type "sim"
 * (mmiod.conf(5)) holds its registers in mmiod and applies its register map's
 * rules to every access through a lease. These calls act as the hardware
 * instead, by region name and with no lease (they conflict with none): for
 * root, the user mmiod was started by, the admin group and a grant with
 * access = "device" on the region (-EACCES for anyone else, whether or not the
 * region exists). A region that is not a sim: -EINVAL. offset and width (1, 2,
 * 4 or 8 bytes) are checked as any access's are (-ERANGE, -EFAULT, -EINVAL).
 * Bytes outside every register of the map stay 0 whoever writes them.
 */

/* The raw bits at offset: no access rule applied, and no read side effect (rc). */
int mmio_sim_get(struct mmio_client *client, const char *region, uint64_t offset, unsigned width,
		 uint64_t *value);

/*
 * Sets the raw bits of mask to those of value, past every access rule (as the
 * hardware would: a status bit set, a byte arrived): (cur & ~mask) |
 * (value & mask), bits beyond the width ignored.
 */
int mmio_sim_set(struct mmio_client *client, const char *region, uint64_t offset, unsigned width,
		 uint64_t mask, uint64_t value);

/* Raises the region's interrupt to its subscriber (mmio_irq_subscribe), if any. */
int mmio_sim_irq(struct mmio_client *client, const char *region);

/* Every register of the region back to its reset value. */
int mmio_sim_reset(struct mmio_client *client, const char *region);

/*
 * Tracing (since 0.4): every access on a region as it happens, for root and the admin group.
 * mmio_trace_open returns 0 with *fd, a pipe's read end the caller owns (close it to stop),
 * or -EACCES (not an admin, whether or not the region exists), -ENOENT (no such region),
 * -ENOSPC (the region has as many tracers as it may have, or too many descriptors in
 * replies not read yet) or a transport error. The trace goes on, independently of later
 * calls on client, until the fd is closed (mmiod notices at the next access) or client
 * disconnects; then the fd reads EOF. Read it with mmio_trace_read, blocking or not: mmiod
 * never waits for a tracer, so one that does not keep up loses records, and the next
 * record it gets says how many (dropped).
 */
enum mmio_trace_op {
	MMIO_TRACE_LOAD = 1,    /* through a lease, on any path; a modify is a load and a store */
	MMIO_TRACE_STORE = 2,   /* through a lease */
	MMIO_TRACE_SIM_GET = 3, /* the device side of a sim region (mmio_sim_get): no lease */
	MMIO_TRACE_SIM_SET = 4, /* mmio_sim_set: value holds the bits of mask it set */
};

struct mmio_trace_record {
	uint64_t time_ns; /* CLOCK_REALTIME when mmiod made the access */
	uint64_t conn;    /* mmiod's id of the accessor's connection */
	uint64_t lease;   /* 0 for the device side */
	uint64_t offset;  /* from the region's start */
	uint64_t value;   /* loaded (0 if the load failed) or stored */
	uint64_t mask;    /* the bits a sim-set sets; else every bit of the width */
	uid_t uid;        /* of the accessor */
	pid_t pid;        /* of the accessor */
	uint32_t dropped; /* records lost just before this one */
	int status;       /* 0, or the access's negative errno (see mmio_status_name) */
	enum mmio_trace_op op;
	unsigned width; /* bytes */
};

int mmio_trace_open(struct mmio_client *client, const char *region, int *fd);

/*
 * The next record from a trace fd into *rec: 1, 0 at the end of the trace (EOF), -EAGAIN
 * (a nonblocking fd with nothing to read), -EPROTO (a record this library cannot read: a
 * short one, or an unknown op) or another negative errno. Retries on EINTR.
 */
int mmio_trace_read(int fd, struct mmio_trace_record *rec);

/* "load", "store", "sim-get", "sim-set"; NULL for anything else. */
const char *mmio_trace_op_name(enum mmio_trace_op op);

typedef void (*mmio_log_handler)(enum mmio_log_level level, const char *message, void *userdata);

/*
 * Routes the library's messages to handler (NULL: silent, the default).
 * Process-wide. Every call of a handler gets the userdata it was set with.
 * It may run in several threads at once, each holding the lock of the client
 * whose call logs: it must not call functions on clients or leases. When
 * mmio_set_log_handler returns, no call of the previous handler is running in
 * another thread and none will start: its userdata may then be freed. It waits
 * for such calls to finish, so do not call it holding a lock the handler
 * takes; from within a handler it returns at once (that call goes on).
 */
void mmio_set_log_handler(mmio_log_handler handler, void *userdata);

/*
 * Revocation (0.4). When mmiod takes a lease away from its holder (not when
 * the holder releases it, nor when the connection closes), it tells the holder
 * at once with a notice on the connection, and later calls naming the lease
 * fail with -EKEYREVOKED (mmiod remembers a connection's last 64 revoked leases;
 * older ones are -ENOENT). The notice carries the reason:
 */
enum mmio_revoke_reason {
	MMIO_REVOKE_UNKNOWN = 0, /* a reason this library does not know */
	MMIO_REVOKE_ADMIN = 1,   /* an admin revoked it (mmio_revoke, mmioctl revoke) */
	MMIO_REVOKE_TTL = 2,     /* the lease's time (its grant's max_lease_ms) ran out unrenewed */
	MMIO_REVOKE_POLICY = 3,  /* a reload of mmiod's config withdrew its grant */
	MMIO_REVOKE_FAULT = 4,   /* its device faulted (a region with revoke_on_fault) */
	MMIO_REVOKE_SHUTDOWN = 5, /* mmiod is stopping (the connection closes next) */
};

/* "admin", "ttl", "policy", "fault", "shutdown"; "unknown" for anything else. */
const char *mmio_revoke_reason_name(enum mmio_revoke_reason reason);

/* One notice: valid for the handler's call only. */
struct mmio_revoke_notice {
	uint64_t lease_id;
	enum mmio_revoke_reason reason;
	/*
	 * 0: the lease is gone. > 0: an admin asks the holder to release it within this many
	 * milliseconds (mmio_revoke_grace); if it has not by then, mmiod revokes it and a second
	 * notice, with 0, follows.
	 */
	unsigned grace_ms;
	const char *detail; /* mmiod's: "lease 7 was revoked: admin" */
};

typedef void (*mmio_revoke_handler)(struct mmio_client *client,
				    const struct mmio_revoke_notice *notice, void *userdata);

/*
 * Sets the handler of client's revoke notices (NULL: none; notices are then
 * dropped when processed). Notices that arrive during any call on client are
 * kept (at most 64; more are logged and dropped); the handler is called only
 * from mmio_process_events, in the calling thread, without the client's lock
 * held: it may call the library, on this client too. The lease object stays
 * valid (mmio_release frees it; its calls fail with -EKEYREVOKED).
 */
void mmio_set_revoke_handler(struct mmio_client *client, mmio_revoke_handler handler,
			     void *userdata);

/*
 * A descriptor that polls readable (POLLIN) while client has revoke notices
 * waiting, whether they arrived during a call or are still on the connection:
 * add it to a poll/epoll loop and call mmio_process_events when it is
 * readable. It may also wake when nothing waits (a reply in flight in another
 * thread); mmio_process_events then handles nothing. Owned by client (do not
 * close it); the same one on every call. Returns it, or a negative errno.
 */
int mmio_event_fd(struct mmio_client *client);

/*
 * Reads the notices waiting on the connection without blocking and calls the
 * handler for each, in the order mmiod sent them. Returns how many, or a
 * negative errno (-ECONNRESET once the connection is gone, after the handler
 * has had the notices that came before: at shutdown, reason shutdown).
 */
int mmio_process_events(struct mmio_client *client);

#ifdef __cplusplus
}
#endif

#endif
