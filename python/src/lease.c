/* mmio.Lease: a lease on a range of a region, and the accesses through it. */
#include "mmio_py.h"

#include <string.h>

/* mmio_poll's longest wait (include/mmio/client.h: more than 60000 ms is -EINVAL). */
#define POLL_MAX_MS 60000

MmioLease *
mmiopy_lease_alloc(MmioClient *c)
{
	MmioLease *l = PyObject_New(MmioLease, &MmioLease_Type);
	if (!l) {
		return NULL;
	}
	l->lease = NULL;
	Py_INCREF(c);
	l->client = c;
	l->prev = l->next = NULL;
	l->busy = l->irq_waiters = 0;
	l->irq = NULL;
	l->id = 0;
	l->region[0] = '\0';
	l->weakrefs = NULL;
	return l;
}

void
mmiopy_lease_attach(MmioLease *l, struct mmio_lease *handle)
{
	l->lease = handle;
	l->id = mmio_lease_id(handle);
	(void)PyOS_snprintf(l->region, sizeof(l->region), "%s", mmio_lease_region(handle));
	mmiopy_client_link(l->client, l);
}

struct mmio_lease *
mmiopy_lease_enter(MmioLease *l, struct mmio_client **client)
{
	if (!l->lease) {
		PyErr_Format(PyExc_ValueError, "lease %llu is released", (unsigned long long)l->id);
		return NULL;
	}
	*client = mmiopy_client_enter(l->client);
	if (!*client) {
		return NULL;
	}
	l->busy++;
	return l->lease;
}

void
mmiopy_lease_leave(MmioLease *l)
{
	l->busy--;
	mmiopy_client_leave(l->client);
}

void
mmiopy_lease_kill(MmioLease *l)
{
	l->lease = NULL;
	mmiopy_irq_detach(l);
}

static int
lease_idle(void *arg)
{
	return ((MmioLease *)arg)->busy == 0;
}

/*
 * Takes the handle away from l and releases it once no call is in flight on it.
 * Returns 0 or the error of mmio_release, with its detail.
 */
static int
lease_release_handle(MmioLease *l, char detail[MMIOPY_DETAIL_LEN])
{
	struct mmio_lease *h = l->lease;
	MmioClient *c = l->client;
	detail[0] = '\0';
	if (!h) {
		return 0;
	}
	l->lease = NULL;
	mmiopy_client_unlink(c, l);
	struct mmio_client *client = c->client;
	if (!client) {
		/* The client is closing in another thread: its disconnect frees the handle. */
		mmiopy_irq_detach(l);
		return 0;
	}
	c->busy++; /* close() waits for this release */
	if (l->irq_waiters) {
		/* Ends the waits in other threads (allowed during them): they return NotFound. */
		Py_BEGIN_ALLOW_THREADS(void)
			mmio_irq_unsubscribe(h);
		Py_END_ALLOW_THREADS
	}
	mmiopy_client_wait(c, lease_idle, l);
	int rc;
	Py_BEGIN_ALLOW_THREADS
		rc = mmio_release(h);
		mmiopy_detail(client, rc, detail);
	Py_END_ALLOW_THREADS
	mmiopy_irq_detach(l);
	mmiopy_client_leave(c);
	return rc;
}

static void
lease_dealloc(MmioLease *self)
{
	if (self->weakrefs) {
		PyObject_ClearWeakRefs((PyObject *)self);
	}
	/* Garbage collection of a lease never released; nothing is in flight (no reference). */
	char detail[MMIOPY_DETAIL_LEN];
	(void)lease_release_handle(self, detail);
	Py_CLEAR(self->client);
	PyObject_Free(self);
}

static PyObject *
lease_release(MmioLease *self, PyObject *Py_UNUSED(ignored))
{
	char detail[MMIOPY_DETAIL_LEN];
	int rc = lease_release_handle(self, detail);
	if (rc < 0) {
		return mmiopy_raise(rc, detail);
	}
	Py_RETURN_NONE;
}

static PyObject *
lease_enter_ctx(MmioLease *self, PyObject *Py_UNUSED(ignored))
{
	if (!self->lease) {
		PyErr_Format(PyExc_ValueError, "lease %llu is released",
			     (unsigned long long)self->id);
		return NULL;
	}
	Py_INCREF(self);
	return (PyObject *)self;
}

static PyObject *
lease_exit_ctx(MmioLease *self, PyObject *const *Py_UNUSED(args), Py_ssize_t Py_UNUSED(nargs))
{
	return lease_release(self, NULL);
}

/* One load of width bytes; the hot path of the module. */
static PyObject *
do_load(MmioLease *self, PyObject *offset_obj, unsigned width)
{
	uint64_t offset;
	if (mmiopy_u64(offset_obj, "offset", &offset) < 0) {
		return NULL;
	}
	struct mmio_client *client;
	struct mmio_lease *h = mmiopy_lease_enter(self, &client);
	if (!h) {
		return NULL;
	}
	uint64_t value = 0;
	char detail[MMIOPY_DETAIL_LEN];
	int rc;
	Py_BEGIN_ALLOW_THREADS
		rc = mmio_load(h, offset, width, &value);
		if (rc < 0) {
			mmiopy_detail(client, rc, detail);
		}
	Py_END_ALLOW_THREADS
	mmiopy_lease_leave(self);
	if (rc < 0) {
		return mmiopy_raise(rc, detail);
	}
	return PyLong_FromUnsignedLongLong(value);
}

static PyObject *
do_store(MmioLease *self, PyObject *offset_obj, unsigned width, PyObject *value_obj)
{
	uint64_t offset;
	uint64_t value;
	if (mmiopy_u64(offset_obj, "offset", &offset) < 0 ||
	    mmiopy_u64(value_obj, "value", &value) < 0 || mmiopy_fits(value, width, "value") < 0) {
		return NULL;
	}
	struct mmio_client *client;
	struct mmio_lease *h = mmiopy_lease_enter(self, &client);
	if (!h) {
		return NULL;
	}
	char detail[MMIOPY_DETAIL_LEN];
	int rc;
	Py_BEGIN_ALLOW_THREADS
		rc = mmio_store(h, offset, width, value);
		if (rc < 0) {
			mmiopy_detail(client, rc, detail);
		}
	Py_END_ALLOW_THREADS
	mmiopy_lease_leave(self);
	if (rc < 0) {
		return mmiopy_raise(rc, detail);
	}
	Py_RETURN_NONE;
}

static int
check_nargs(const char *name, Py_ssize_t nargs, Py_ssize_t want)
{
	if (nargs != want) {
		PyErr_Format(PyExc_TypeError, "%s() takes %zd arguments (%zd given)", name, want,
			     nargs);
		return -1;
	}
	return 0;
}

#define LOAD_STORE(bits)                                                                           \
	static PyObject *lease_load##bits(MmioLease *self, PyObject *offset)                       \
	{                                                                                          \
		return do_load(self, offset, (bits) / 8);                                          \
	}                                                                                          \
	static PyObject *lease_store##bits(MmioLease *self, PyObject *const *args,                 \
					   Py_ssize_t nargs)                                       \
	{                                                                                          \
		if (check_nargs("store" #bits, nargs, 2) < 0) {                                    \
			return NULL;                                                               \
		}                                                                                  \
		return do_store(self, args[0], (bits) / 8, args[1]);                               \
	}
LOAD_STORE(8)
LOAD_STORE(16)
LOAD_STORE(32)
LOAD_STORE(64)

static PyObject *
lease_load(MmioLease *self, PyObject *const *args, Py_ssize_t nargs)
{
	unsigned width;
	if (check_nargs("load", nargs, 2) < 0 || mmiopy_width(args[1], &width) < 0) {
		return NULL;
	}
	return do_load(self, args[0], width);
}

static PyObject *
lease_store(MmioLease *self, PyObject *const *args, Py_ssize_t nargs)
{
	unsigned width;
	if (check_nargs("store", nargs, 3) < 0 || mmiopy_width(args[1], &width) < 0) {
		return NULL;
	}
	return do_store(self, args[0], width, args[2]);
}

static PyObject *
do_modify(MmioLease *self, PyObject *args, PyObject *kwds, unsigned width)
{
	static char *kwlist_w[] = {"offset", "width", "mask", "value", NULL};
	static char *kwlist[] = {"offset", "mask", "value", NULL};
	PyObject *offset_obj;
	PyObject *width_obj = NULL;
	PyObject *mask_obj;
	PyObject *value_obj;
	uint64_t offset;
	uint64_t mask;
	uint64_t value;
	int parsed =
		width ? PyArg_ParseTupleAndKeywords(args, kwds, "OOO:modify", kwlist, &offset_obj,
						    &mask_obj, &value_obj)
		      : PyArg_ParseTupleAndKeywords(args, kwds, "OOOO:modify", kwlist_w,
						    &offset_obj, &width_obj, &mask_obj, &value_obj);
	if (!parsed || (width_obj && mmiopy_width(width_obj, &width) < 0) ||
	    mmiopy_u64(offset_obj, "offset", &offset) < 0 ||
	    mmiopy_u64(mask_obj, "mask", &mask) < 0 || mmiopy_fits(mask, width, "mask") < 0 ||
	    mmiopy_u64(value_obj, "value", &value) < 0 || mmiopy_fits(value, width, "value") < 0) {
		return NULL;
	}
	struct mmio_client *client;
	struct mmio_lease *h = mmiopy_lease_enter(self, &client);
	if (!h) {
		return NULL;
	}
	uint64_t old = 0;
	char detail[MMIOPY_DETAIL_LEN];
	int rc;
	Py_BEGIN_ALLOW_THREADS
		rc = mmio_modify(h, offset, width, mask, value, &old);
		mmiopy_detail(client, rc, detail);
	Py_END_ALLOW_THREADS
	mmiopy_lease_leave(self);
	if (rc < 0) {
		return mmiopy_raise(rc, detail);
	}
	return PyLong_FromUnsignedLongLong(old);
}

static PyObject *
do_poll(MmioLease *self, PyObject *args, PyObject *kwds, unsigned width)
{
	static char *kwlist_w[] = {"offset",     "width",       "mask", "value",
				   "timeout_ms", "interval_us", NULL};
	static char *kwlist[] = {"offset", "mask", "value", "timeout_ms", "interval_us", NULL};
	PyObject *offset_obj;
	PyObject *width_obj = NULL;
	PyObject *mask_obj;
	PyObject *value_obj;
	PyObject *timeout_obj = NULL;
	PyObject *interval_obj = NULL;
	uint64_t offset;
	uint64_t mask;
	uint64_t value;
	uint64_t interval = 0;
	long timeout = 0;
	int parsed = width ? PyArg_ParseTupleAndKeywords(args, kwds, "OOO|OO:poll", kwlist,
							 &offset_obj, &mask_obj, &value_obj,
							 &timeout_obj, &interval_obj)
			   : PyArg_ParseTupleAndKeywords(args, kwds, "OOOO|OO:poll", kwlist_w,
							 &offset_obj, &width_obj, &mask_obj,
							 &value_obj, &timeout_obj, &interval_obj);
	if (!parsed || (width_obj && mmiopy_width(width_obj, &width) < 0) ||
	    mmiopy_u64(offset_obj, "offset", &offset) < 0 ||
	    mmiopy_u64(mask_obj, "mask", &mask) < 0 || mmiopy_fits(mask, width, "mask") < 0 ||
	    mmiopy_u64(value_obj, "value", &value) < 0 || mmiopy_fits(value, width, "value") < 0 ||
	    (timeout_obj && mmiopy_timeout(timeout_obj, 0, POLL_MAX_MS, &timeout) < 0) ||
	    (interval_obj && mmiopy_u64(interval_obj, "interval_us", &interval) < 0)) {
		return NULL;
	}
	if (interval > UINT32_MAX) {
		PyErr_SetString(PyExc_ValueError, "interval_us must be at most 2**32-1");
		return NULL;
	}
	struct mmio_client *client;
	struct mmio_lease *h = mmiopy_lease_enter(self, &client);
	if (!h) {
		return NULL;
	}
	uint64_t last = 0;
	char detail[MMIOPY_DETAIL_LEN];
	int rc;
	Py_BEGIN_ALLOW_THREADS
		rc = mmio_poll(h, offset, width, mask, value, (unsigned)timeout, (unsigned)interval,
			       &last);
		mmiopy_detail(client, rc, detail);
	Py_END_ALLOW_THREADS
	mmiopy_lease_leave(self);
	if (rc == -ETIMEDOUT) {
		/* The value it last read goes with the timeout. */
		PyObject *exc = mmiopy_error_new(rc, detail);
		PyObject *last_obj = exc ? PyLong_FromUnsignedLongLong(last) : NULL;
		if (last_obj && PyObject_SetAttrString(exc, "last", last_obj) == 0) {
			PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
		}
		Py_XDECREF(last_obj);
		Py_XDECREF(exc);
		return NULL;
	}
	if (rc < 0) {
		return mmiopy_raise(rc, detail);
	}
	return PyLong_FromUnsignedLongLong(last);
}

#define MODIFY_POLL(bits)                                                                          \
	static PyObject *lease_modify##bits(MmioLease *self, PyObject *args, PyObject *kwds)       \
	{                                                                                          \
		return do_modify(self, args, kwds, (bits) / 8);                                    \
	}                                                                                          \
	static PyObject *lease_poll##bits(MmioLease *self, PyObject *args, PyObject *kwds)         \
	{                                                                                          \
		return do_poll(self, args, kwds, (bits) / 8);                                      \
	}
MODIFY_POLL(8)
MODIFY_POLL(16)
MODIFY_POLL(32)
MODIFY_POLL(64)

static PyObject *
lease_modify(MmioLease *self, PyObject *args, PyObject *kwds)
{
	return do_modify(self, args, kwds, 0);
}

static PyObject *
lease_poll(MmioLease *self, PyObject *args, PyObject *kwds)
{
	return do_poll(self, args, kwds, 0);
}

/* A call on the lease that takes nothing and gives nothing back: None, or its error raised. */
static PyObject *
lease_call(MmioLease *self, int (*call)(struct mmio_lease *))
{
	struct mmio_client *client;
	struct mmio_lease *h = mmiopy_lease_enter(self, &client);
	if (!h) {
		return NULL;
	}
	char detail[MMIOPY_DETAIL_LEN];
	int rc;
	Py_BEGIN_ALLOW_THREADS
		rc = call(h);
		mmiopy_detail(client, rc, detail);
	Py_END_ALLOW_THREADS
	mmiopy_lease_leave(self);
	if (rc < 0) {
		return mmiopy_raise(rc, detail);
	}
	Py_RETURN_NONE;
}

static PyObject *
lease_barrier(MmioLease *self, PyObject *Py_UNUSED(ignored))
{
	return lease_call(self, mmio_barrier);
}

static PyObject *
lease_renew(MmioLease *self, PyObject *Py_UNUSED(ignored))
{
	return lease_call(self, mmio_renew);
}

static PyObject *
lease_sync(MmioLease *self, PyObject *Py_UNUSED(ignored))
{
	return lease_call(self, mmio_sync);
}

static PyObject *
lease_set_posted(MmioLease *self, PyObject *arg)
{
	int posted = PyObject_IsTrue(arg);
	if (posted < 0) {
		return NULL;
	}
	struct mmio_client *client;
	struct mmio_lease *h = mmiopy_lease_enter(self, &client);
	if (!h) {
		return NULL;
	}
	/* Never waits for mmiod: no need to let other threads run meanwhile. */
	int rc = mmio_set_posted(h, posted);
	mmiopy_lease_leave(self);
	if (rc < 0) {
		return mmiopy_raise(rc, NULL);
	}
	Py_RETURN_NONE;
}

/* width bytes of v in the host's order: the bytes the device holds after a store of v. */
static void
put_value(unsigned char *dst, uint64_t v, unsigned width)
{
	uint8_t v8 = (uint8_t)v;
	uint16_t v16 = (uint16_t)v;
	uint32_t v32 = (uint32_t)v;
	const void *src = width == 1   ? (const void *)&v8
			  : width == 2 ? (const void *)&v16
			  : width == 4 ? (const void *)&v32
				       : (const void *)&v;
	memcpy(dst, src, width);
}

static uint64_t
get_value(const unsigned char *src, unsigned width)
{
	uint8_t v8;
	uint16_t v16;
	uint32_t v32;
	uint64_t v64;
	switch (width) {
	case 1:
		memcpy(&v8, src, 1);
		return v8;
	case 2:
		memcpy(&v16, src, 2);
		return v16;
	case 4:
		memcpy(&v32, src, 4);
		return v32;
	default:
		memcpy(&v64, src, 8);
		return v64;
	}
}

/* Accesses for a block of length bytes: 1..MMIOPY_MAX_OPS, a whole number of width. */
static int
block_count(Py_ssize_t length, unsigned width, size_t *count)
{
	if (length <= 0 || length % width != 0) {
		PyErr_Format(PyExc_ValueError,
			     "length must be a positive multiple of the width (%u), not %zd", width,
			     length);
		return -1;
	}
	if ((size_t)length / width > MMIOPY_MAX_OPS) {
		PyErr_Format(PyExc_ValueError, "a block is at most %d accesses, not %zd",
			     MMIOPY_MAX_OPS, length / (Py_ssize_t)width);
		return -1;
	}
	*count = (size_t)length / width;
	return 0;
}

static PyObject *
lease_read_block(MmioLease *self, PyObject *args, PyObject *kwds)
{
	static char *kwlist[] = {"offset", "length", "width", "repeat", NULL};
	PyObject *offset_obj;
	Py_ssize_t length;
	PyObject *width_obj = NULL;
	int repeat = 0;
	uint64_t offset;
	unsigned width = 4;
	size_t count;
	if (!PyArg_ParseTupleAndKeywords(args, kwds, "On|O$p:read_block", kwlist, &offset_obj,
					 &length, &width_obj, &repeat) ||
	    mmiopy_u64(offset_obj, "offset", &offset) < 0 ||
	    (width_obj && mmiopy_width(width_obj, &width) < 0) ||
	    block_count(length, width, &count) < 0) {
		return NULL;
	}
	uint64_t *values = PyMem_Calloc(count, sizeof(*values));
	if (!values) {
		return PyErr_NoMemory();
	}
	struct mmio_client *client;
	struct mmio_lease *h = mmiopy_lease_enter(self, &client);
	if (!h) {
		PyMem_Free(values);
		return NULL;
	}
	char detail[MMIOPY_DETAIL_LEN];
	int rc;
	Py_BEGIN_ALLOW_THREADS
		rc = mmio_read_block(h, offset, width, values, count, repeat ? MMIO_REPEAT : 0);
		mmiopy_detail(client, rc, detail);
	Py_END_ALLOW_THREADS
	mmiopy_lease_leave(self);
	PyObject *result = NULL;
	if (rc < 0) {
		mmiopy_raise(rc, detail);
	} else {
		result = PyBytes_FromStringAndSize(NULL, length);
		if (result) {
			unsigned char *out = (unsigned char *)PyBytes_AS_STRING(result);
			for (size_t i = 0; i < count; i++) {
				put_value(out + i * width, values[i], width);
			}
		}
	}
	PyMem_Free(values);
	return result;
}

/* data as count values of width bytes: a bytes-like object, or a sequence of ints. */
static uint64_t *
block_values(PyObject *data, unsigned width, size_t *count)
{
	uint64_t *values = NULL;
	if (PyObject_CheckBuffer(data)) {
		Py_buffer view;
		if (PyObject_GetBuffer(data, &view, PyBUF_SIMPLE) < 0) {
			return NULL;
		}
		if (block_count(view.len, width, count) == 0 &&
		    (values = PyMem_Calloc(*count, sizeof(*values))) == NULL) {
			PyErr_NoMemory();
		}
		for (size_t i = 0; values && i < *count; i++) {
			values[i] = get_value((const unsigned char *)view.buf + i * width, width);
		}
		PyBuffer_Release(&view);
		return values;
	}
	PyObject *seq =
		PySequence_Fast(data, "data must be a bytes-like object or a sequence of ints");
	if (!seq) {
		return NULL;
	}
	Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
	if (block_count(n * (Py_ssize_t)width, width, count) == 0 &&
	    (values = PyMem_Calloc(*count, sizeof(*values))) == NULL) {
		PyErr_NoMemory();
	}
	for (Py_ssize_t i = 0; values && i < n; i++) {
		if (mmiopy_u64(PySequence_Fast_GET_ITEM(seq, i), "value", &values[i]) < 0 ||
		    mmiopy_fits(values[i], width, "value") < 0) {
			PyMem_Free(values);
			values = NULL;
		}
	}
	Py_DECREF(seq);
	return values;
}

static PyObject *
lease_write_block(MmioLease *self, PyObject *args, PyObject *kwds)
{
	static char *kwlist[] = {"offset", "data", "width", "repeat", NULL};
	PyObject *offset_obj;
	PyObject *data;
	PyObject *width_obj = NULL;
	int repeat = 0;
	uint64_t offset;
	unsigned width = 4;
	size_t count = 0;
	if (!PyArg_ParseTupleAndKeywords(args, kwds, "OO|O$p:write_block", kwlist, &offset_obj,
					 &data, &width_obj, &repeat) ||
	    mmiopy_u64(offset_obj, "offset", &offset) < 0 ||
	    (width_obj && mmiopy_width(width_obj, &width) < 0)) {
		return NULL;
	}
	uint64_t *values = block_values(data, width, &count);
	if (!values) {
		return NULL;
	}
	struct mmio_client *client;
	struct mmio_lease *h = mmiopy_lease_enter(self, &client);
	if (!h) {
		PyMem_Free(values);
		return NULL;
	}
	char detail[MMIOPY_DETAIL_LEN];
	int rc;
	Py_BEGIN_ALLOW_THREADS
		rc = mmio_write_block(h, offset, width, values, count, repeat ? MMIO_REPEAT : 0);
		mmiopy_detail(client, rc, detail);
	Py_END_ALLOW_THREADS
	mmiopy_lease_leave(self);
	PyMem_Free(values);
	if (rc < 0) {
		return mmiopy_raise(rc, detail);
	}
	Py_RETURN_NONE;
}

static PyObject *
lease_split(MmioLease *self, PyObject *mid_obj)
{
	uint64_t mid;
	if (mmiopy_u64(mid_obj, "mid", &mid) < 0) {
		return NULL;
	}
	MmioLease *low = mmiopy_lease_alloc(self->client);
	if (!low) {
		return NULL;
	}
	struct mmio_client *client;
	struct mmio_lease *h = mmiopy_lease_enter(self, &client);
	if (!h) {
		Py_DECREF(low);
		return NULL;
	}
	struct mmio_lease *handle = NULL;
	char detail[MMIOPY_DETAIL_LEN];
	int rc;
	Py_BEGIN_ALLOW_THREADS
		rc = mmio_split(h, mid, &handle);
		mmiopy_detail(client, rc, detail);
	Py_END_ALLOW_THREADS
	mmiopy_lease_leave(self);
	if (rc < 0) {
		Py_DECREF(low);
		return mmiopy_raise(rc, detail);
	}
	mmiopy_lease_attach(low, handle);
	return (PyObject *)low;
}

static PyObject *
lease_batch(MmioLease *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
	return mmiopy_batch(self->client, self, args, nargs, kwnames);
}

static PyObject *
lease_irq_subscribe(MmioLease *self, PyObject *Py_UNUSED(ignored))
{
	return mmiopy_irq_subscribe(self);
}

/* Lease.reg and Lease.reg_load: one name, through regs.c on the entered handle. */
static PyObject *
reg_by_name(MmioLease *self, PyObject *name_obj,
	    PyObject *(*call)(struct mmio_lease *, struct mmio_client *, const char *))
{
	const char *name = mmiopy_text(name_obj, "name");
	if (!name) {
		return NULL;
	}
	struct mmio_client *client;
	struct mmio_lease *h = mmiopy_lease_enter(self, &client);
	if (!h) {
		return NULL;
	}
	PyObject *result = call(h, client, name);
	mmiopy_lease_leave(self);
	return result;
}

static PyObject *
lease_reg(MmioLease *self, PyObject *name)
{
	return reg_by_name(self, name, mmiopy_reg_find);
}

static PyObject *
lease_reg_load(MmioLease *self, PyObject *name)
{
	return reg_by_name(self, name, mmiopy_reg_load);
}

static PyObject *
lease_reg_store(MmioLease *self, PyObject *const *args, Py_ssize_t nargs)
{
	const char *name;
	uint64_t value;
	if (check_nargs("reg_store", nargs, 2) < 0 || !(name = mmiopy_text(args[0], "name")) ||
	    mmiopy_u64(args[1], "value", &value) < 0) {
		return NULL;
	}
	struct mmio_client *client;
	struct mmio_lease *h = mmiopy_lease_enter(self, &client);
	if (!h) {
		return NULL;
	}
	PyObject *result = mmiopy_reg_store(h, client, name, value);
	mmiopy_lease_leave(self);
	return result;
}

static PyObject *
lease_reg_store_fields(MmioLease *self, PyObject *const *args, Py_ssize_t nargs)
{
	struct mmiopy_assignments a;
	if (mmiopy_assignments_parse(args, nargs, &a) < 0) {
		return NULL;
	}
	struct mmio_client *client;
	struct mmio_lease *h = mmiopy_lease_enter(self, &client);
	PyObject *result = NULL;
	if (h) {
		result = mmiopy_reg_store_fields(h, client, &a);
		mmiopy_lease_leave(self);
	}
	mmiopy_assignments_clear(&a);
	return result;
}

static PyObject *
lease_get_id(MmioLease *self, void *Py_UNUSED(closure))
{
	return PyLong_FromUnsignedLongLong(self->id);
}

static PyObject *
lease_get_region(MmioLease *self, void *Py_UNUSED(closure))
{
	return PyUnicode_FromString(self->region);
}

/* start and length, read at once (a split in another thread changes both). */
static int
lease_range(MmioLease *self, uint64_t *start, uint64_t *length)
{
	if (!self->lease) {
		PyErr_Format(PyExc_ValueError, "lease %llu is released",
			     (unsigned long long)self->id);
		return -1;
	}
	mmio_lease_range(self->lease, start, length);
	return 0;
}

static PyObject *
lease_get_start(MmioLease *self, void *Py_UNUSED(closure))
{
	uint64_t start;
	return lease_range(self, &start, NULL) < 0 ? NULL : PyLong_FromUnsignedLongLong(start);
}

static PyObject *
lease_get_length(MmioLease *self, void *Py_UNUSED(closure))
{
	uint64_t length;
	return lease_range(self, NULL, &length) < 0 ? NULL : PyLong_FromUnsignedLongLong(length);
}

static PyObject *
lease_get_access(MmioLease *self, void *Py_UNUSED(closure))
{
	if (!self->lease) {
		PyErr_Format(PyExc_ValueError, "lease %llu is released",
			     (unsigned long long)self->id);
		return NULL;
	}
	return PyUnicode_FromString(mmiopy_access_name(mmio_lease_access(self->lease)));
}

static PyObject *
lease_get_released(MmioLease *self, void *Py_UNUSED(closure))
{
	return PyBool_FromLong(self->lease == NULL);
}

static PyObject *
lease_get_client(MmioLease *self, void *Py_UNUSED(closure))
{
	Py_INCREF(self->client);
	return (PyObject *)self->client;
}

static PyObject *
lease_repr(MmioLease *self)
{
	if (!self->lease) {
		return PyUnicode_FromFormat("<mmio.Lease %llu %s released>",
					    (unsigned long long)self->id, self->region);
	}
	uint64_t start;
	uint64_t length;
	mmio_lease_range(self->lease, &start, &length);
	char range[64];
	(void)PyOS_snprintf(range, sizeof(range), "0x%llx+0x%llx", (unsigned long long)start,
			    (unsigned long long)length);
	return PyUnicode_FromFormat("<mmio.Lease %llu %s %s %s>", (unsigned long long)self->id,
				    self->region, range,
				    mmiopy_access_name(mmio_lease_access(self->lease)));
}

#define ERRS_ACCESS                                                                                \
	"Raises OutOfRange (outside the lease), Unaligned (device address not aligned for\n"       \
	"the width), NotFound (lease revoked), IoError (device fault); ValueError if the\n"        \
	"lease is released or an argument does not fit, before any request.\n"
#define ERRS_NAME                                                                                  \
	"Raises NotFound (the region has no map, or no such register or field; the\n"              \
	"detail says 'did you mean LSR?' when a name is close), OutOfRange (the\n"                 \
	"register is not inside the lease), InvalidArgument (a name of no such shape, an\n"        \
	"array without [i]); TypeError or ValueError for a name that is no str or holds\n"         \
	"NUL, or a value that is not an int in 0..2**64-1, before any request.\n"
#define LOAD_DOC(bits)                                                                             \
	"load" #bits "($self, offset, /)\n--\n\n"                                                  \
	"The value of one " #bits                                                                  \
	"-bit load at offset (bytes, relative to the lease).\n" ERRS_ACCESS
#define STORE_DOC(bits)                                                                            \
	"store" #bits "($self, offset, value, /)\n--\n\n"                                          \
	"One " #bits "-bit store of value (0..2**" #bits "-1) at offset (bytes, relative to the\n" \
	"lease). PermissionDenied on a read-only lease.\n" ERRS_ACCESS
#define MODIFY_DOC(bits)                                                                           \
	"modify" #bits "($self, offset, mask, value)\n--\n\n"                                      \
	"Read-modify-write in mmiod, atomic against other clients: loads the " #bits               \
	"-bit\nregister at offset, stores (old & ~mask) | (value & mask), returns old.\n"          \
	"PermissionDenied on a read-only lease (nothing is loaded).\n" ERRS_ACCESS
#define POLL_DOC(bits)                                                                             \
	"poll" #bits "($self, offset, mask, value, timeout_ms=0, interval_us=0)\n--\n\n"           \
	"Load the " #bits "-bit register at offset every interval_us (0: 100 us) until\n"          \
	"(v & mask) == (value & mask), for up to timeout_ms (0: check once; at most\n"             \
	"60000); returns v. mmio.Timeout if it never held: its .last is the value read\n"          \
	"last. The GIL is released meanwhile; other calls on this client wait.\n" ERRS_ACCESS

#define SIZED_METHODS(bits)                                                                        \
	{"load" #bits, (PyCFunction)lease_load##bits, METH_O, LOAD_DOC(bits)},                     \
		{"store" #bits, (PyCFunction)(void (*)(void))lease_store##bits, METH_FASTCALL,     \
		 STORE_DOC(bits)},                                                                 \
		{"modify" #bits, (PyCFunction)(void (*)(void))lease_modify##bits,                  \
		 METH_VARARGS | METH_KEYWORDS, MODIFY_DOC(bits)},                                  \
	{                                                                                          \
		"poll" #bits, (PyCFunction)(void (*)(void))lease_poll##bits,                       \
			METH_VARARGS | METH_KEYWORDS, POLL_DOC(bits)                               \
	}

static PyMethodDef lease_methods[] = {
	SIZED_METHODS(8),
	SIZED_METHODS(16),
	SIZED_METHODS(32),
	SIZED_METHODS(64),
	{"load", (PyCFunction)(void (*)(void))lease_load, METH_FASTCALL,
	 "load($self, offset, width, /)\n--\n\n"
	 "One load of width bytes (1, 2, 4 or 8) at offset.\n" ERRS_ACCESS},
	{"store", (PyCFunction)(void (*)(void))lease_store, METH_FASTCALL,
	 "store($self, offset, width, value, /)\n--\n\n"
	 "One store of width bytes (1, 2, 4 or 8) at offset.\n" ERRS_ACCESS},
	{"modify", (PyCFunction)(void (*)(void))lease_modify, METH_VARARGS | METH_KEYWORDS,
	 "modify($self, offset, width, mask, value)\n--\n\n"
	 "modify32 and the others with the width (bytes) as an argument."},
	{"poll", (PyCFunction)(void (*)(void))lease_poll, METH_VARARGS | METH_KEYWORDS,
	 "poll($self, offset, width, mask, value, timeout_ms=0, interval_us=0)\n--\n\n"
	 "poll32 and the others with the width (bytes) as an argument."},
	{"barrier", (PyCFunction)lease_barrier, METH_NOARGS,
	 "barrier($self, /)\n--\n\n"
	 "Write barrier on the lease's region: stores before it are ordered before\n"
	 "stores after it. Works on an empty lease."},
	{"read_block", (PyCFunction)(void (*)(void))lease_read_block, METH_VARARGS | METH_KEYWORDS,
	 "read_block($self, offset, length, width=4, *, repeat=False)\n--\n\n"
	 "length bytes from offset, read as length/width loads of width bytes (at most\n"
	 "4096) in one request, in the host's byte order: the device's bytes. With\n"
	 "repeat=True every load is at offset (a FIFO register); the values are then\n"
	 "memoryview(data).cast('I') for width 4. mmiod checks every address before\n"
	 "the first load.\n" ERRS_ACCESS},
	{"write_block", (PyCFunction)(void (*)(void))lease_write_block,
	 METH_VARARGS | METH_KEYWORDS,
	 "write_block($self, offset, data, width=4, *, repeat=False)\n--\n\n"
	 "Stores data from offset in one request, width bytes at a time (at most 4096\n"
	 "stores): data is a bytes-like object (a multiple of width, host byte order)\n"
	 "or a sequence of ints that each fit the width. With repeat=True every store\n"
	 "is at offset (a FIFO register). A bad request touches nothing.\n" ERRS_ACCESS},
	{"batch", (PyCFunction)(void (*)(void))lease_batch, METH_FASTCALL | METH_KEYWORDS,
	 "batch($self, ops, *, all_or_nothing=False, stop_on_error=False)\n--\n\n"
	 "Runs ops in one request (at most 4096), without any other client's request\n"
	 "in between. Each op is a tuple: ('load', width, offset), ('store', width,\n"
	 "offset, value) or ('barrier',). Returns a list with, for each op, the value\n"
	 "a load read, or None.\n\n"
	 "If an op fails, raises the exception of the first failure (e.g. OutOfRange),\n"
	 "with .index (its position) and .results: the list above, with an exception\n"
	 "instance for each failed op (Cancelled for those not run). stop_on_error:\n"
	 "ops after the first failure are not run. all_or_nothing: every op is\n"
	 "checked before any runs; if one would fail, none runs."},
	{"split", (PyCFunction)lease_split, METH_O,
	 "split($self, mid, /)\n--\n\n"
	 "Splits at relative offset mid, as mmio_split(): returns a new Lease on the\n"
	 "low part [start, start+mid); this lease keeps the rest, and its offset 0\n"
	 "becomes the old offset mid. OutOfRange if mid > length."},
	{"set_posted", (PyCFunction)lease_set_posted, METH_O,
	 "set_posted($self, posted, /)\n--\n\n"
	 "Posted stores (libmmio-client's mmio_set_posted): with posted true, stores on\n"
	 "this lease return once in the fast path's ring (synchronous without one).\n"
	 "The first that fails is raised by the next load, modify, barrier or sync on\n"
	 "the lease, its offset in the message."},
	{"sync", (PyCFunction)lease_sync, METH_NOARGS,
	 "sync($self, /)\n--\n\n"
	 "Waits until the client's posted stores have run; raises the error of the\n"
	 "first posted store on this lease that failed since the last report."},
	{"renew", (PyCFunction)lease_renew, METH_NOARGS,
	 "renew($self, /)\n--\n\n"
	 "Starts the lease's time again, under a grant with max_lease_ms: unrenewed,\n"
	 "mmiod revokes it when the time runs out (a RevokeNotice with reason 'ttl').\n"
	 "Renew well before (at half the time, say). Nothing happens to a lease\n"
	 "without a time. Revoked once mmiod has taken it."},
	{"release", (PyCFunction)lease_release, METH_NOARGS,
	 "release($self, /)\n--\n\n"
	 "Releases the lease. Calls in flight in other threads finish first (IRQ waits\n"
	 "end with NotFound). Revoked if mmiod had revoked it (it is released all the same). "
	 "Releasing twice, or\n"
	 "after the client was closed, does nothing."},
	{"irq_subscribe", (PyCFunction)lease_irq_subscribe, METH_NOARGS,
	 "irq_subscribe($self, /)\n--\n\n"
	 "Subscribes to the interrupt of the lease's region (a UIO region served with\n"
	 "irq=yes); needs a read-write lease. Returns an Irq: fileno() for select or\n"
	 "asyncio, wait(), ack(), close(). InvalidArgument if the region has no\n"
	 "interrupt, Conflict if someone is subscribed already, PermissionDenied."},
	{"reg", (PyCFunction)lease_reg, METH_O,
	 "reg($self, name, /)\n--\n\n"
	 "The register or field name names in the region's register map (mmiod-regmap(5)):\n"
	 "'REG', 'REG.FIELD', 'ARR[i]' or 'ARR[i].FIELD'. Returns a Register(name, field,\n"
	 "access, index, offset, width, msb, lsb, mask, is_field); offset is relative to\n"
	 "the lease. The library fetches the map on the client's first name on the region\n"
	 "and keeps it until the client closes.\n" ERRS_NAME},
	{"reg_load", (PyCFunction)lease_reg_load, METH_O,
	 "reg_load($self, name, /)\n--\n\n"
	 "One load of the register name names, at its width; for a field, its bits\n"
	 "shifted down (LCR.WLS of 0x83 is 3).\n" ERRS_NAME ERRS_ACCESS},
	{"reg_store", (PyCFunction)(void (*)(void))lease_reg_store, METH_FASTCALL,
	 "reg_store($self, name, value, /)\n--\n\n"
	 "A register: one store of value at its width. A field: one masked modify of\n"
	 "just its bits (mmiod loads and stores with no other client in between), value\n"
	 "unshifted (reg_store('LCR.DLAB', 1)). InvalidArgument, nothing sent, if value\n"
	 "does not fit the register or field. PermissionDenied on a read-only lease.\n" ERRS_NAME
		 ERRS_ACCESS},
	{"reg_store_fields", (PyCFunction)(void (*)(void))lease_reg_store_fields, METH_FASTCALL,
	 "reg_store_fields($self, *assignments)\n--\n\n"
	 "Sets fields of one register in one masked modify, the other bits kept:\n"
	 "reg_store_fields('LCR.DLAB=1', 'LCR.WLS=8BIT'), or with one mapping\n"
	 "reg_store_fields({'LCR.DLAB': 1, 'LCR.WLS': '8BIT'}). A value is a number or\n"
	 "the name of one of the field's values. InvalidArgument, nothing sent, for\n"
	 "fields of two registers (or instances), a field given twice, a whole register,\n"
	 "an unknown value name (with 'did you mean ...?') or a value that does not "
	 "fit.\n" ERRS_NAME ERRS_ACCESS},
	{"__enter__", (PyCFunction)lease_enter_ctx, METH_NOARGS, "Return self."},
	{"__exit__", (PyCFunction)(void (*)(void))lease_exit_ctx, METH_FASTCALL,
	 "Release the lease."},
	{NULL, NULL, 0, NULL},
};

static PyGetSetDef lease_getset[] = {
	{"id", (getter)lease_get_id, NULL, "mmiod's id of the lease.", NULL},
	{"region", (getter)lease_get_region, NULL, "The region's name.", NULL},
	{"start", (getter)lease_get_start, NULL, "Offset of the lease in its region.", NULL},
	{"length", (getter)lease_get_length, NULL, "Length in bytes.", NULL},
	{"access", (getter)lease_get_access, NULL,
	 "'rw', or 'ro' for a lease granted read-only (stores raise PermissionDenied).", NULL},
	{"released", (getter)lease_get_released, NULL, "True once released (or its client closed).",
	 NULL},
	{"client", (getter)lease_get_client, NULL, "The Client the lease belongs to.", NULL},
	{NULL, NULL, NULL, NULL, NULL},
};

PyTypeObject MmioLease_Type = {
	PyVarObject_HEAD_INIT(NULL, 0).tp_name = "mmio.Lease",
	.tp_basicsize = sizeof(MmioLease),
	.tp_dealloc = (destructor)lease_dealloc,
	.tp_repr = (reprfunc)lease_repr,
	.tp_flags = Py_TPFLAGS_DEFAULT,
	.tp_doc = "A lease on [start, start+length) of a region, from Client.acquire() or\n"
		  "Lease.split(). Offsets are relative to the lease. Use it in a with\n"
		  "statement or call release(); a lease dropped without either is released\n"
		  "when it is garbage-collected, and every lease goes with its client.",
	.tp_weaklistoffset = offsetof(MmioLease, weakrefs),
	.tp_methods = lease_methods,
	.tp_getset = lease_getset,
};
