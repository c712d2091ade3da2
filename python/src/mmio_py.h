/*
 * The mmio extension module (mmio._mmio): what its files share.
 *
 * Lifetime and threads. Every libmmio-client call that talks to mmiod runs with
 * the GIL released. The bookkeeping below is only read and written with the
 * GIL held, which is what makes it consistent:
 *   - A Lease holds a strong reference to its Client, so a client is freed after
 *     its leases. A Client lists its live Lease objects (borrowed links), so that
 *     close() can mark them dead before mmio_disconnect() frees their handles.
 *   - busy counts the calls in flight without the GIL (on a lease, and on its
 *     client for calls through either). release() and close() take the handle
 *     away first (new calls raise ValueError), then wait on the client's
 *     condition variable until the calls in flight have returned, and only then
 *     free it: libmmio-client forbids using a lease while another thread
 *     releases it, and a client while it is disconnected.
 *   - An IRQ wait can last forever, so release() and close() first end the
 *     subscription of a lease with waiters (mmio_irq_unsubscribe may run during
 *     a wait: the wait returns at once).
 * The types are static and never freed, and the exception classes are held in
 * static variables: a Lease or Client collected during interpreter shutdown,
 * after the module itself, still finds everything its deallocator uses.
 */
#ifndef MMIO_PY_H
#define MMIO_PY_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <pthread.h>
#include <stdint.h>

#include <mmio/client.h>

/* Accesses per block call and ops per batch: the limit include/mmio/client.h documents. */
#define MMIOPY_MAX_OPS 4096

/* Room for mmio_error_detail(): mmiod's details are a line or two. */
#define MMIOPY_DETAIL_LEN 1024

typedef struct MmioLease MmioLease;
typedef struct MmioIrq MmioIrq;

typedef struct {
	PyObject_HEAD struct mmio_client *client; /* NULL once closed */
	MmioLease *leases;                        /* live Lease objects, linked through prev/next */
	unsigned busy;                            /* calls in flight on the client or its leases */
	unsigned waiters;                         /* threads in mmiopy_client_wait_idle */
	pthread_mutex_t idle_lock;
	pthread_cond_t idle;
	PyObject *path;           /* str, or None for the default */
	PyObject *revoke_handler; /* the callable of set_revoke_handler, or NULL */
	PyObject *pending;        /* list: RevokeNotices taken from the library, not yet handled */
	PyObject *weakrefs;
} MmioClient;

struct MmioLease {
	PyObject_HEAD struct mmio_lease
		*lease;     /* NULL once released, revoked with its client or closed */
	MmioClient *client; /* strong: the client outlives its leases */
	MmioLease *prev;
	MmioLease *next;
	unsigned busy;        /* calls in flight on this lease */
	unsigned irq_waiters; /* of those, IRQ waits */
	MmioIrq *irq;         /* the live subscription's object (borrowed), or NULL */
	uint64_t id;
	char region[65];
	PyObject *weakrefs;
};

struct MmioIrq {
	PyObject_HEAD MmioLease *lease; /* strong */
	int active;                     /* this object's subscription is the lease's current one */
};

extern PyTypeObject MmioClient_Type;
extern PyTypeObject MmioLease_Type;
extern PyTypeObject MmioIrq_Type;

/* errors.c: the exception hierarchy. */
int mmiopy_errors_init(PyObject *module);
/* An exception instance for err (negative errno) with detail; NULL with an error set. */
PyObject *mmiopy_error_new(int err, const char *detail);
/* Raises mmiopy_error_new(err, detail); returns NULL. */
PyObject *mmiopy_raise(int err, const char *detail);
/* For mmio_connect: a connect(2) error is Unavailable, the rest as mmiopy_raise. */
PyObject *mmiopy_raise_connect(int err, const char *path);
/* The calling thread's detail for client after a failed call, into buf. */
void mmiopy_detail(struct mmio_client *client, int rc, char buf[MMIOPY_DETAIL_LEN]);

/* args.c: arguments checked before any request. 0, or -1 with TypeError/ValueError set. */
int mmiopy_u64_slow(PyObject *o, const char *what, uint64_t *out);
/* An int in 0..2**64-1; inline for the common case, a plain int in range. */
static inline int
mmiopy_u64(PyObject *o, const char *what, uint64_t *out)
{
	if (PyLong_CheckExact(o)) {
		unsigned long long v = PyLong_AsUnsignedLongLong(o);
		if (v != (unsigned long long)-1 || !PyErr_Occurred()) {
			*out = v;
			return 0;
		}
		PyErr_Clear(); /* the slow path raises the ValueError */
	}
	return mmiopy_u64_slow(o, what, out);
}
int mmiopy_width(PyObject *o, unsigned *out);
int mmiopy_fits(uint64_t v, unsigned width, const char *what);
/* timeout in ms: None is -1 (forever) when allow_forever, else a non-negative int <= max. */
int mmiopy_timeout(PyObject *o, int allow_forever, long max, long *out);
/*
 * A str as UTF-8 (no NUL inside), owned by o: valid while o lives; NULL with TypeError or
 * ValueError set.
 */
const char *mmiopy_text(PyObject *o, const char *what);

/* client.c: call bookkeeping. enter: the handle, or NULL with ValueError set. */
struct mmio_client *mmiopy_client_enter(MmioClient *c);
void mmiopy_client_leave(MmioClient *c);
/* Blocks (GIL released) until done(arg) is true; done is evaluated with the GIL. */
void mmiopy_client_wait(MmioClient *c, int (*done)(void *arg), void *arg);
void mmiopy_client_link(MmioClient *c, MmioLease *l);
void mmiopy_client_unlink(MmioClient *c, MmioLease *l);

/* lease.c */
MmioLease *mmiopy_lease_alloc(MmioClient *c);
/* Wraps a new handle in l (from mmiopy_lease_alloc) and links it into its client. */
void mmiopy_lease_attach(MmioLease *l, struct mmio_lease *handle);
/* The handle, and its client's in *client; NULL with ValueError if released or closed. */
struct mmio_lease *mmiopy_lease_enter(MmioLease *l, struct mmio_client **client);
void mmiopy_lease_leave(MmioLease *l);
/* The client closed: the handle is gone with it. */
void mmiopy_lease_kill(MmioLease *l);

/* batch.c: Lease.batch and Client.batch. */
int mmiopy_batch_init(void);
PyObject *mmiopy_batch(MmioClient *c, MmioLease *lease, PyObject *const *args, Py_ssize_t nargs,
		       PyObject *kwnames);

/* irq.c */
PyObject *mmiopy_irq_subscribe(MmioLease *l);
/* The lease is going away: its subscription object goes dead. */
void mmiopy_irq_detach(MmioLease *l);

/*
 * regs.c: registers by name (Lease.reg and the others), through mmio_reg_*(). Each call
 * runs on a handle the caller (lease.c) has entered and leaves afterwards, so that
 * nothing here calls back into lease.c; the result is built before that leave, while the
 * client, which owns the map's strings, cannot be closed.
 */
int mmiopy_regs_init(PyObject *module);
PyObject *mmiopy_reg_find(struct mmio_lease *h, struct mmio_client *client, const char *name);
PyObject *mmiopy_reg_load(struct mmio_lease *h, struct mmio_client *client, const char *name);
PyObject *mmiopy_reg_store(struct mmio_lease *h, struct mmio_client *client, const char *name,
			   uint64_t value);
/* Lease.reg_store_fields' arguments as "REG.FIELD=VALUE" texts, checked before any request. */
struct mmiopy_assignments {
	const char **texts; /* PyMem_Malloc'd; each owned by an argument or by made */
	size_t n;
	PyObject *made; /* a list of the bytes objects made from a mapping's items, or NULL */
};
/* 0, or -1 with TypeError/ValueError set (nothing to clear then). */
int mmiopy_assignments_parse(PyObject *const *args, Py_ssize_t nargs, struct mmiopy_assignments *a);
void mmiopy_assignments_clear(struct mmiopy_assignments *a);
PyObject *mmiopy_reg_store_fields(struct mmio_lease *h, struct mmio_client *client,
				  const struct mmiopy_assignments *a);

/*
 * events.c: revoke notices. attach: the library's handler, which only collects (set once per
 * connection). collect: mmio_process_events (GIL released), its notices appended to pending;
 * 0, or -1 with an exception set (after appending those that came first). deliver: pending
 * handed to handler (None: dropped) in order; the count, or -1 with the handler's exception
 * (the notices after it stay pending).
 */
int mmiopy_events_init(PyObject *module);
void mmiopy_events_attach(struct mmio_client *client);
int mmiopy_events_collect(struct mmio_client *client, PyObject *pending);
Py_ssize_t mmiopy_events_deliver(PyObject *handler, PyObject *pending);

/*
 * trace.c: mmio.Trace. open: TraceSubscribe for region on a handle client.c has entered (the
 * Trace needs no client afterwards); a Trace, or NULL with an exception set.
 */
int mmiopy_trace_init(PyObject *module);
PyObject *mmiopy_trace_open(struct mmio_client *client, PyObject *region);

/* info.c: regions(), leases(), stats() results. */
int mmiopy_info_init(PyObject *module);
PyObject *mmiopy_regions_to_list(const struct mmio_region_info *r, int n);
PyObject *mmiopy_leases_to_list(const struct mmio_lease_info *l, const uint64_t *ttl_ms, int n);
PyObject *mmiopy_stats_to_object(const struct mmio_stats *s);
const char *mmiopy_access_name(enum mmio_access access);

#endif
