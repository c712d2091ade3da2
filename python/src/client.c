/* mmio.Client: one connection to mmiod, and the bookkeeping of calls in flight (mmio_py.h). */
#include "mmio_py.h"

#include <stdlib.h>

struct mmio_client *
mmiopy_client_enter(MmioClient *c)
{
	if (!c->client) {
		PyErr_SetString(PyExc_ValueError, "the client is closed");
		return NULL;
	}
	c->busy++;
	return c->client;
}

void
mmiopy_client_leave(MmioClient *c)
{
	c->busy--;
	if (c->waiters) {
		/* A waiter holds idle_lock from its check until it sleeps: no wakeup is lost. */
		pthread_mutex_lock(&c->idle_lock);
		pthread_cond_broadcast(&c->idle);
		pthread_mutex_unlock(&c->idle_lock);
	}
}

void
mmiopy_client_wait(MmioClient *c, int (*done)(void *arg), void *arg)
{
	c->waiters++;
	while (!done(arg)) {
		/*
		 * Locked before the GIL is dropped: a thread leaving a call needs the GIL
		 * to get here, then idle_lock to broadcast, which it gets once we sleep.
		 * Never wait for the GIL holding idle_lock (the leaver holds the GIL).
		 */
		pthread_mutex_lock(&c->idle_lock);
		Py_BEGIN_ALLOW_THREADS
			pthread_cond_wait(&c->idle, &c->idle_lock);
			pthread_mutex_unlock(&c->idle_lock);
		Py_END_ALLOW_THREADS
	}
	c->waiters--;
}

void
mmiopy_client_link(MmioClient *c, MmioLease *l)
{
	l->prev = NULL;
	l->next = c->leases;
	if (c->leases) {
		c->leases->prev = l;
	}
	c->leases = l;
}

void
mmiopy_client_unlink(MmioClient *c, MmioLease *l)
{
	if (l->prev) {
		l->prev->next = l->next;
	} else if (c->leases == l) {
		c->leases = l->next;
	}
	if (l->next) {
		l->next->prev = l->prev;
	}
	l->prev = l->next = NULL;
}

static PyObject *
client_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
	static char *kwlist[] = {"path", NULL};
	PyObject *path = Py_None;
	if (!PyArg_ParseTupleAndKeywords(args, kwds, "|O:connect", kwlist, &path)) {
		return NULL;
	}
	PyObject *bytes = NULL;
	if (path != Py_None && !PyUnicode_FSConverter(path, &bytes)) {
		return NULL;
	}
	MmioClient *self = (MmioClient *)type->tp_alloc(type, 0);
	if (!self) {
		Py_XDECREF(bytes);
		return NULL;
	}
	/* Before anything can fail: the deallocator destroys them. */
	pthread_mutex_init(&self->idle_lock, NULL);
	pthread_cond_init(&self->idle, NULL);
	const char *cpath = bytes ? PyBytes_AS_STRING(bytes) : NULL;
	struct mmio_client *client = NULL;
	int rc;
	Py_BEGIN_ALLOW_THREADS
		rc = mmio_connect(cpath, &client);
	Py_END_ALLOW_THREADS
	if (rc < 0) {
		const char *shown = cpath ? cpath : getenv("MMIOD_SOCKET");
		mmiopy_raise_connect(rc, shown && shown[0] ? shown : MMIO_DEFAULT_SOCKET_PATH);
		Py_XDECREF(bytes);
		Py_DECREF(self);
		return NULL;
	}
	self->client = client;
	Py_INCREF(path);
	self->path = path;
	Py_XDECREF(bytes);
	self->pending = PyList_New(0);
	if (!self->pending) {
		Py_DECREF(self); /* disconnects */
		return NULL;
	}
	mmiopy_events_attach(client);
	return (PyObject *)self;
}

static void
client_dealloc(MmioClient *self)
{
	if (self->weakrefs) {
		PyObject_ClearWeakRefs((PyObject *)self);
	}
	/* Every Lease holds a reference: none is left, and no call is in flight. */
	struct mmio_client *client = self->client;
	self->client = NULL;
	if (client) {
		Py_BEGIN_ALLOW_THREADS
			mmio_disconnect(client);
		Py_END_ALLOW_THREADS
	}
	pthread_cond_destroy(&self->idle);
	pthread_mutex_destroy(&self->idle_lock);
	Py_CLEAR(self->path);
	Py_CLEAR(self->revoke_handler);
	Py_CLEAR(self->pending);
	Py_TYPE(self)->tp_free((PyObject *)self);
}

static int
client_idle(void *arg)
{
	return ((MmioClient *)arg)->busy == 0;
}

/* Ends the subscriptions that threads wait on, so that their waits return. */
static void
wake_irq_waiters(MmioClient *self)
{
	size_t n = 0;
	for (MmioLease *l = self->leases; l; l = l->next) {
		n += l->irq_waiters && l->lease ? 1 : 0;
	}
	if (n == 0) {
		return;
	}
	/* NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers, sized by element */
	MmioLease **wake = PyMem_Calloc(n, sizeof(*wake));
	if (!wake) {
		/* Without the list the waits still end, at their timeout; close() waits. */
		return;
	}
	size_t k = 0;
	for (MmioLease *l = self->leases; l && k < n; l = l->next) {
		if (l->irq_waiters && l->lease) {
			/* Busy and referenced: another thread's release() waits for us. */
			Py_INCREF(l);
			l->busy++;
			wake[k++] = l;
		}
	}
	Py_BEGIN_ALLOW_THREADS
		for (size_t i = 0; i < k; i++) {
			(void)mmio_irq_unsubscribe(wake[i]->lease);
		}
	Py_END_ALLOW_THREADS
	for (size_t i = 0; i < k; i++) {
		wake[i]->busy--;
		mmiopy_irq_detach(wake[i]);
		Py_DECREF(wake[i]);
	}
	PyMem_Free(wake);
	/* The releases waiting on those leases' busy counts. */
	if (self->waiters) {
		pthread_mutex_lock(&self->idle_lock);
		pthread_cond_broadcast(&self->idle);
		pthread_mutex_unlock(&self->idle_lock);
	}
}

static PyObject *
client_close(MmioClient *self, PyObject *Py_UNUSED(ignored))
{
	struct mmio_client *client = self->client;
	if (!client) {
		Py_RETURN_NONE;
	}
	/* New calls fail from here on; the ones in flight finish first. */
	self->client = NULL;
	Py_INCREF(self);
	wake_irq_waiters(self);
	mmiopy_client_wait(self, client_idle, self);
	/* mmio_disconnect frees every lease handle: their objects must not touch them. */
	while (self->leases) {
		MmioLease *l = self->leases;
		mmiopy_client_unlink(self, l);
		mmiopy_lease_kill(l);
	}
	Py_BEGIN_ALLOW_THREADS
		mmio_disconnect(client);
	Py_END_ALLOW_THREADS
	/* A handler that refers to this client would otherwise keep it alive for ever. */
	Py_CLEAR(self->revoke_handler);
	if (self->pending) {
		(void)PyList_SetSlice(self->pending, 0, PY_SSIZE_T_MAX, NULL);
	}
	Py_DECREF(self);
	Py_RETURN_NONE;
}

static PyObject *
client_enter_ctx(MmioClient *self, PyObject *Py_UNUSED(ignored))
{
	if (!self->client) {
		PyErr_SetString(PyExc_ValueError, "the client is closed");
		return NULL;
	}
	Py_INCREF(self);
	return (PyObject *)self;
}

static PyObject *
client_exit_ctx(MmioClient *self, PyObject *const *Py_UNUSED(args), Py_ssize_t Py_UNUSED(nargs))
{
	return client_close(self, NULL);
}

static PyObject *
client_regions(MmioClient *self, PyObject *Py_UNUSED(ignored))
{
	struct mmio_client *client = mmiopy_client_enter(self);
	if (!client) {
		return NULL;
	}
	struct mmio_region_info *infos = NULL;
	char detail[MMIOPY_DETAIL_LEN];
	int n;
	Py_BEGIN_ALLOW_THREADS
		n = mmio_list_regions(client, &infos);
		mmiopy_detail(client, n, detail);
	Py_END_ALLOW_THREADS
	mmiopy_client_leave(self);
	if (n < 0) {
		return mmiopy_raise(n, detail);
	}
	PyObject *list = mmiopy_regions_to_list(infos, n);
	free(infos);
	return list;
}

static PyObject *
client_leases(MmioClient *self, PyObject *Py_UNUSED(ignored))
{
	struct mmio_client *client = mmiopy_client_enter(self);
	if (!client) {
		return NULL;
	}
	struct mmio_lease_info *infos = NULL;
	uint64_t *ttl_ms = NULL;
	char detail[MMIOPY_DETAIL_LEN];
	int n;
	Py_BEGIN_ALLOW_THREADS
		n = mmio_list_leases_ttl(client, &infos, &ttl_ms);
		mmiopy_detail(client, n, detail);
	Py_END_ALLOW_THREADS
	mmiopy_client_leave(self);
	if (n < 0) {
		return mmiopy_raise(n, detail);
	}
	PyObject *list = mmiopy_leases_to_list(infos, ttl_ms, n);
	free(infos);
	free(ttl_ms);
	return list;
}

static PyObject *
client_stats(MmioClient *self, PyObject *Py_UNUSED(ignored))
{
	struct mmio_client *client = mmiopy_client_enter(self);
	if (!client) {
		return NULL;
	}
	struct mmio_stats *stats = NULL;
	char detail[MMIOPY_DETAIL_LEN];
	int rc;
	Py_BEGIN_ALLOW_THREADS
		rc = mmio_stats(client, &stats);
		mmiopy_detail(client, rc, detail);
	Py_END_ALLOW_THREADS
	mmiopy_client_leave(self);
	if (rc < 0) {
		return mmiopy_raise(rc, detail);
	}
	PyObject *result = mmiopy_stats_to_object(stats);
	free(stats);
	return result;
}

static PyObject *
client_acquire(MmioClient *self, PyObject *args, PyObject *kwds)
{
	static char *kwlist[] = {"region", "offset", "length", NULL};
	const char *region;
	PyObject *offset_obj;
	PyObject *length_obj;
	uint64_t offset;
	uint64_t length;
	if (!PyArg_ParseTupleAndKeywords(args, kwds, "sOO:acquire", kwlist, &region, &offset_obj,
					 &length_obj) ||
	    mmiopy_u64(offset_obj, "offset", &offset) < 0 ||
	    mmiopy_u64(length_obj, "length", &length) < 0) {
		return NULL;
	}
	/* Made first: a lease mmiod granted always gets its object. */
	MmioLease *l = mmiopy_lease_alloc(self);
	if (!l) {
		return NULL;
	}
	struct mmio_client *client = mmiopy_client_enter(self);
	if (!client) {
		Py_DECREF(l);
		return NULL;
	}
	struct mmio_lease *handle = NULL;
	char detail[MMIOPY_DETAIL_LEN];
	int rc;
	/* region points into the str argument, which the caller keeps alive meanwhile. */
	Py_BEGIN_ALLOW_THREADS
		rc = mmio_acquire(client, region, offset, length, &handle);
		mmiopy_detail(client, rc, detail);
	Py_END_ALLOW_THREADS
	mmiopy_client_leave(self);
	if (rc < 0) {
		Py_DECREF(l);
		return mmiopy_raise(rc, detail);
	}
	mmiopy_lease_attach(l, handle);
	return (PyObject *)l;
}

/* mmio_revoke_grace's longest grace (include/mmio/client.h: more is -EINVAL). */
#define REVOKE_GRACE_MAX_MS 60000

static PyObject *
client_revoke(MmioClient *self, PyObject *args, PyObject *kwds)
{
	static char *kwlist[] = {"lease_id", "grace_ms", NULL};
	PyObject *id_obj;
	PyObject *grace_obj = NULL;
	uint64_t id;
	long grace_ms = 0;
	if (!PyArg_ParseTupleAndKeywords(args, kwds, "O|O:revoke", kwlist, &id_obj, &grace_obj) ||
	    mmiopy_u64(id_obj, "lease_id", &id) < 0 ||
	    (grace_obj && mmiopy_timeout(grace_obj, 0, REVOKE_GRACE_MAX_MS, &grace_ms) < 0)) {
		return NULL;
	}
	struct mmio_client *client = mmiopy_client_enter(self);
	if (!client) {
		return NULL;
	}
	char detail[MMIOPY_DETAIL_LEN];
	int rc;
	Py_BEGIN_ALLOW_THREADS
		rc = grace_ms > 0 ? mmio_revoke_grace(client, id, (unsigned)grace_ms)
				  : mmio_revoke(client, id);
		mmiopy_detail(client, rc, detail);
	Py_END_ALLOW_THREADS
	mmiopy_client_leave(self);
	if (rc < 0) {
		return mmiopy_raise(rc, detail);
	}
	Py_RETURN_NONE;
}

static PyObject *
client_set_revoke_handler(MmioClient *self, PyObject *handler)
{
	if (handler != Py_None && !PyCallable_Check(handler)) {
		PyErr_Format(PyExc_TypeError, "the handler must be callable or None, not %.100s",
			     Py_TYPE(handler)->tp_name);
		return NULL;
	}
	if (!self->client) {
		PyErr_SetString(PyExc_ValueError, "the client is closed");
		return NULL;
	}
	/* Only the Python side changes: the library's handler collects for every client. */
	PyObject *old = self->revoke_handler;
	self->revoke_handler = handler == Py_None ? NULL : Py_NewRef(handler);
	Py_XDECREF(old);
	Py_RETURN_NONE;
}

static PyObject *
client_event_fd(MmioClient *self, PyObject *Py_UNUSED(ignored))
{
	struct mmio_client *client = mmiopy_client_enter(self);
	if (!client) {
		return NULL;
	}
	int fd;
	/* Opened on first use under the client's lock, which a request may hold. */
	Py_BEGIN_ALLOW_THREADS
		fd = mmio_event_fd(client);
	Py_END_ALLOW_THREADS
	mmiopy_client_leave(self);
	if (fd < 0) {
		return mmiopy_raise(fd, "");
	}
	return PyLong_FromLong(fd);
}

static PyObject *
client_process_events(MmioClient *self, PyObject *Py_UNUSED(ignored))
{
	struct mmio_client *client = mmiopy_client_enter(self);
	if (!client) {
		return NULL;
	}
	int rc = mmiopy_events_collect(client, self->pending);
	mmiopy_client_leave(self);
	/* The handler runs with no call in flight: it may release leases, even close us. */
	PyObject *handler = Py_XNewRef(self->revoke_handler);
	PyObject *pending = Py_NewRef(self->pending);
	PyObject *exc_type = NULL;
	PyObject *exc = NULL;
	PyObject *exc_tb = NULL;
	if (rc < 0) {
		/* The notices that came before a broken connection are handled first. */
		PyErr_Fetch(&exc_type, &exc, &exc_tb);
	}
	Py_ssize_t n = mmiopy_events_deliver(handler, pending);
	Py_XDECREF(handler);
	Py_DECREF(pending);
	if (n < 0) {
		/* The handler's exception is the one to see. */
		Py_XDECREF(exc_type);
		Py_XDECREF(exc);
		Py_XDECREF(exc_tb);
		return NULL;
	}
	if (exc_type) {
		PyErr_Restore(exc_type, exc, exc_tb);
		return NULL;
	}
	return PyLong_FromSsize_t(n);
}

static PyObject *
client_trace(MmioClient *self, PyObject *region)
{
	struct mmio_client *client = mmiopy_client_enter(self);
	if (!client) {
		return NULL;
	}
	PyObject *trace = mmiopy_trace_open(client, region);
	mmiopy_client_leave(self);
	return trace;
}

static PyObject *
client_set_fast_path(MmioClient *self, PyObject *arg)
{
	static const char *const names[] = {"auto", "off", "on"};
	static const enum mmio_fast_path modes[] = {MMIO_FAST_PATH_AUTO, MMIO_FAST_PATH_OFF,
						    MMIO_FAST_PATH_ON};
	const char *name = PyUnicode_Check(arg) ? PyUnicode_AsUTF8(arg) : NULL;
	if (!name) {
		if (!PyErr_Occurred()) {
			PyErr_Format(PyExc_TypeError, "mode must be a str, not %.100s",
				     Py_TYPE(arg)->tp_name);
		}
		return NULL;
	}
	size_t i = 0;
	while (i < 3 && strcmp(name, names[i]) != 0) {
		i++;
	}
	if (i == 3) {
		PyErr_Format(PyExc_ValueError, "mode must be 'auto', 'on' or 'off', not %R", arg);
		return NULL;
	}
	struct mmio_client *client = mmiopy_client_enter(self);
	if (!client) {
		return NULL;
	}
	char detail[MMIOPY_DETAIL_LEN];
	int rc;
	Py_BEGIN_ALLOW_THREADS
		rc = mmio_set_fast_path(client, modes[i]);
		mmiopy_detail(client, rc, detail);
	Py_END_ALLOW_THREADS
	mmiopy_client_leave(self);
	if (rc < 0) {
		return mmiopy_raise(rc, detail);
	}
	Py_RETURN_NONE;
}

static PyObject *
client_fast_path_active(MmioClient *self, PyObject *Py_UNUSED(ignored))
{
	struct mmio_client *client = mmiopy_client_enter(self);
	if (!client) {
		return NULL;
	}
	int active;
	/* Takes the client's lock, which a request in another thread holds meanwhile. */
	Py_BEGIN_ALLOW_THREADS
		active = mmio_fast_path_active(client);
	Py_END_ALLOW_THREADS
	mmiopy_client_leave(self);
	return PyBool_FromLong(active);
}

static PyObject *
client_batch(MmioClient *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
	return mmiopy_batch(self, NULL, args, nargs, kwnames);
}

static PyObject *
client_get_closed(MmioClient *self, void *Py_UNUSED(closure))
{
	return PyBool_FromLong(self->client == NULL);
}

static PyObject *
client_get_path(MmioClient *self, void *Py_UNUSED(closure))
{
	PyObject *path = self->path ? self->path : Py_None;
	Py_INCREF(path);
	return path;
}

static PyObject *
client_repr(MmioClient *self)
{
	PyObject *path = self->path ? self->path : Py_None;
	return PyUnicode_FromFormat("<mmio.Client %R%s>", path, self->client ? "" : " closed");
}

static PyMethodDef client_methods[] = {
	{"close", (PyCFunction)client_close, METH_NOARGS,
	 "close($self, /)\n--\n\n"
	 "Disconnect: mmiod revokes every lease of this client. Calls in flight in other\n"
	 "threads finish first (IRQ waits end with NotFound); every Lease of the client is\n"
	 "released with it and raises ValueError if used. Closing twice does nothing."},
	{"__enter__", (PyCFunction)client_enter_ctx, METH_NOARGS, "Return self."},
	{"__exit__", (PyCFunction)(void (*)(void))client_exit_ctx, METH_FASTCALL,
	 "Close the client."},
	{"regions", (PyCFunction)client_regions, METH_NOARGS,
	 "regions($self, /)\n--\n\n"
	 "The regions you may lease something of: Region(name, type, size, address,\n"
	 "faults, access, grants). access is 'rw' if a grant of yours allows stores,\n"
	 "else 'ro'; grants lists each as Grant(offset, length, access)."},
	{"leases", (PyCFunction)client_leases, METH_NOARGS,
	 "leases($self, /)\n--\n\n"
	 "Live leases: every one for root and the admin group, your uid's for others.\n"
	 "LeaseInfo(id, region, start, length, pid, uid, access), and .ttl_ms (None: no TTL)."},
	{"stats", (PyCFunction)client_stats, METH_NOARGS,
	 "stats($self, /)\n--\n\n"
	 "mmiod's figures: Stats(connections, leases, faults, requests, uptime_ms,\n"
	 "rings, regions), regions a tuple of RegionStats(name, leases, faults), each\n"
	 "with .figures: AccessFigures(loads, stores, modifies, polls, block_bytes,\n"
	 "errors, latency, latency_sum_ns). .lease_stats: LeaseStats(id, region, uid,\n"
	 "pid, figures) of every live lease (admins) or your uid's."},
	{"acquire", (PyCFunction)(void (*)(void))client_acquire, METH_VARARGS | METH_KEYWORDS,
	 "acquire($self, region, offset, length)\n--\n\n"
	 "Lease [offset, offset+length) of region. Use it in a with statement, or call\n"
	 "release(). NotFound (no such region), PermissionDenied (no grant covers it),\n"
	 "OutOfRange, Conflict (another lease overlaps), ResourceExhausted."},
	{"revoke", (PyCFunction)(void (*)(void))client_revoke, METH_VARARGS | METH_KEYWORDS,
	 "revoke($self, lease_id, grace_ms=0)\n--\n\n"
	 "Admin only: take any client's lease by id (LeaseInfo.id, Lease.id); its\n"
	 "holder gets a RevokeNotice (reason 'admin') and its next use raises Revoked.\n"
	 "grace_ms > 0 (up to 60000): the holder is asked to release it within that\n"
	 "time, else mmiod revokes it then; returns once the holder is told.\n"
	 "PermissionDenied for others, NotFound if there is no such lease."},
	{"set_revoke_handler", (PyCFunction)client_set_revoke_handler, METH_O,
	 "set_revoke_handler($self, handler, /)\n--\n\n"
	 "handler(notice) is called by process_events() for each lease mmiod takes away\n"
	 "(admin revoke, TTL run out, policy reload, shutdown): notice is a\n"
	 "RevokeNotice(lease_id, reason, grace_ms, detail). None: notices are dropped.\n"
	 "The handler may call the client (release the lease in its grace, say)."},
	{"event_fd", (PyCFunction)client_event_fd, METH_NOARGS,
	 "event_fd($self, /)\n--\n\n"
	 "A descriptor that polls readable while revoke notices wait: for select,\n"
	 "selectors or asyncio's add_reader; then call process_events(). It may wake\n"
	 "with nothing to handle. Owned by the client (do not close it); the same one\n"
	 "each time."},
	{"process_events", (PyCFunction)client_process_events, METH_NOARGS,
	 "process_events($self, /)\n--\n\n"
	 "Reads the revoke notices waiting, without blocking, and calls the handler for\n"
	 "each in order; returns how many. An exception the handler raises comes out of\n"
	 "here; the notices after it wait for the next call. Disconnected once mmiod is\n"
	 "gone, after the notices that came before (reason 'shutdown')."},
	{"trace", (PyCFunction)client_trace, METH_O,
	 "trace($self, region, /)\n--\n\n"
	 "Admin only: every access on region as it happens, as a Trace: iterate it for\n"
	 "TraceRecord(time_ns, uid, pid, lease, op, width, offset, register, value,\n"
	 "status, mask, dropped, conn); fileno() for select; close() ends it.\n"
	 "PermissionDenied for others (whether or not the region exists), NotFound,\n"
	 "ResourceExhausted (the region has as many tracers as it may)."},
	{"batch", (PyCFunction)(void (*)(void))client_batch, METH_FASTCALL | METH_KEYWORDS,
	 "batch($self, ops, *, all_or_nothing=False, stop_on_error=False)\n--\n\n"
	 "Lease.batch over several leases of this client: each op starts with its\n"
	 "lease, e.g. (lease, 'load', 4, 0x0), (lease, 'store', 2, 0x8, 7),\n"
	 "(lease, 'barrier')."},
	{"set_fast_path", (PyCFunction)client_set_fast_path, METH_O,
	 "set_fast_path($self, mode, /)\n--\n\n"
	 "'auto' (the default: the shared-memory ring from the 8th single op), 'on'\n"
	 "(now; an error if mmiod offers none) or 'off' (everything over the socket)."},
	{"fast_path_active", (PyCFunction)client_fast_path_active, METH_NOARGS,
	 "fast_path_active($self, /)\n--\n\n"
	 "Whether single ops now go through the shared-memory ring."},
	{NULL, NULL, 0, NULL},
};

static PyGetSetDef client_getset[] = {
	{"closed", (getter)client_get_closed, NULL, "True once close() has run.", NULL},
	{"path", (getter)client_get_path, NULL,
	 "The socket path given to connect(), or None for $MMIOD_SOCKET or the default.", NULL},
	{NULL, NULL, NULL, NULL, NULL},
};

PyTypeObject MmioClient_Type = {
	PyVarObject_HEAD_INIT(NULL, 0).tp_name = "mmio.Client",
	.tp_basicsize = sizeof(MmioClient),
	.tp_dealloc = (destructor)client_dealloc,
	.tp_repr = (reprfunc)client_repr,
	.tp_flags = Py_TPFLAGS_DEFAULT,
	.tp_doc = "Client(path=None)\n--\n\n"
		  "A connection to mmiod (mmio.connect() makes one). path: the socket, else\n"
		  "$MMIOD_SOCKET, else " MMIO_DEFAULT_SOCKET_PATH ". Unavailable if nobody\n"
		  "answers there. Use it in a with statement, or call close(). A Client and\n"
		  "its leases may be used from several threads; each call releases the GIL.",
	.tp_weaklistoffset = offsetof(MmioClient, weakrefs),
	.tp_methods = client_methods,
	.tp_getset = client_getset,
	.tp_new = client_new,
};
