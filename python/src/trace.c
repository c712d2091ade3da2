/*
 * mmio.Trace: a region's trace (Client.trace), its pipe read record by record. Opened on a
 * client handle that client.c has entered; afterwards it needs no client: the pipe is ours,
 * and the register names are copied from the region's map at open.
 */
#include "mmio_py.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A blocking read waits in slices of this many ms, so that Ctrl-C still interrupts it. */
#define WAIT_SLICE_MS 200

/* Room for "ARR[i]+0x..." in a record's register name. */
#define REG_NAME_LEN 192

typedef struct {
	PyObject_HEAD int fd; /* -1 once closed */
	unsigned reading;     /* reads in flight without the GIL: they close a closed fd */
	int close_pending;    /* close() came during a read: the last reader closes fd */
	/* What mmio_regmap_name_at needs of the map, copied: the trace outlives its client. */
	struct mmio_regmap_register *regs;
	size_t n_regs;
	PyObject *region;
} MmioTrace;

static PyTypeObject record_type;

static PyStructSequence_Field record_fields[] = {
	{"time_ns", "CLOCK_REALTIME when mmiod made the access"},
	{"uid", "the accessor's uid"},
	{"pid", "the accessor's pid"},
	{"lease", "the lease's id; 0 for the device side of a sim region"},
	{"op", "'load', 'store', 'sim-get' or 'sim-set'"},
	{"width", "bytes"},
	{"offset", "from the region's start"},
	{"register", "the register of the region's map there (REG, ARR[i], REG+0x2), or None"},
	{"value", "loaded (0 if the load failed) or stored"},
	{"status", "'OK', or the failure's status name ('OUT_OF_RANGE', ...)"},
	{"mask", "the bits a sim-set sets; else every bit of the width"},
	{"dropped", "records lost just before this one (mmiod never waits for a tracer)"},
	{"conn", "mmiod's id of the accessor's connection"},
	{NULL, NULL},
};
static PyStructSequence_Desc record_desc = {"mmio.TraceRecord",
					    "One access on a traced region (iterating a Trace).",
					    record_fields, 13};

PyTypeObject MmioTrace_Type;

int
mmiopy_trace_init(PyObject *module)
{
	if (PyType_Ready(&MmioTrace_Type) < 0 ||
	    PyModule_AddObjectRef(module, "Trace", (PyObject *)&MmioTrace_Type) < 0 ||
	    PyStructSequence_InitType2(&record_type, &record_desc) < 0 ||
	    PyModule_AddObjectRef(module, "TraceRecord", (PyObject *)&record_type) < 0) {
		return -1;
	}
	return 0;
}

static void
free_regs(struct mmio_regmap_register *regs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free((char *)regs[i].name);
	}
	free(regs);
}

/* The map's registers copied (map may be NULL: none); 0 or -ENOMEM. Without the GIL. */
static int
copy_regs(const struct mmio_regmap *map, struct mmio_regmap_register **out, size_t *n_out)
{
	*out = NULL;
	*n_out = 0;
	if (!map || map->n_registers == 0) {
		return 0;
	}
	struct mmio_regmap_register *regs = calloc(map->n_registers, sizeof(*regs));
	if (!regs) {
		return -ENOMEM;
	}
	for (size_t i = 0; i < map->n_registers; i++) {
		const struct mmio_regmap_register *r = &map->registers[i];
		regs[i] = (struct mmio_regmap_register){.name = strdup(r->name),
							.offset = r->offset,
							.count = r->count,
							.stride = r->stride,
							.width = r->width};
		if (!regs[i].name) {
			free_regs(regs, i);
			return -ENOMEM;
		}
	}
	*out = regs;
	*n_out = map->n_registers;
	return 0;
}

PyObject *
mmiopy_trace_open(struct mmio_client *client, PyObject *region_obj)
{
	const char *region = mmiopy_text(region_obj, "region");
	if (!region) {
		return NULL;
	}
	MmioTrace *t = PyObject_New(MmioTrace, &MmioTrace_Type);
	if (!t) {
		return NULL;
	}
	t->fd = -1;
	t->reading = 0;
	t->close_pending = 0;
	t->regs = NULL;
	t->n_regs = 0;
	t->region = Py_NewRef(region_obj);
	char detail[MMIOPY_DETAIL_LEN];
	int fd = -1;
	int rc;
	Py_BEGIN_ALLOW_THREADS
		rc = mmio_trace_open(client, region, &fd);
		mmiopy_detail(client, rc, detail);
		if (rc == 0) {
			/* Names as mmioctl trace shows them; a region without a map has none. */
			const struct mmio_regmap *map = NULL;
			if (mmio_regmap_get(client, region, &map) < 0) {
				map = NULL;
			}
			rc = copy_regs(map, &t->regs, &t->n_regs);
		}
	Py_END_ALLOW_THREADS
	t->fd = fd;
	if (rc < 0) {
		Py_DECREF(t); /* closes the pipe if it came */
		return mmiopy_raise(rc, detail);
	}
	return (PyObject *)t;
}

/* The name of the register at offset (REG, ARR[i], REG+0x2 inside one) into buf, or NULL. */
static const char *
register_at(const MmioTrace *t, uint64_t offset, char *buf, size_t len)
{
	const struct mmio_regmap map = {.n_registers = t->n_regs, .registers = t->regs};
	return mmio_regmap_name_at(&map, offset, buf, len);
}

static PyObject *
record_object(const MmioTrace *t, const struct mmio_trace_record *rec)
{
	PyObject *o = PyStructSequence_New(&record_type);
	if (!o) {
		return NULL;
	}
	char name[REG_NAME_LEN];
	const char *reg = register_at(t, rec->offset, name, sizeof(name));
	const char *status = rec->status == 0 ? "OK" : mmio_status_name(rec->status);
	const char *op = mmio_trace_op_name(rec->op);
	PyObject *fields[] = {
		PyLong_FromUnsignedLongLong(rec->time_ns),
		PyLong_FromUnsignedLong((unsigned long)rec->uid),
		PyLong_FromLong((long)rec->pid),
		PyLong_FromUnsignedLongLong(rec->lease),
		PyUnicode_FromString(op ? op : "unknown"),
		PyLong_FromUnsignedLong(rec->width),
		PyLong_FromUnsignedLongLong(rec->offset),
		reg ? PyUnicode_FromString(reg) : Py_NewRef(Py_None),
		PyLong_FromUnsignedLongLong(rec->value),
		PyUnicode_FromString(status ? status : "UNKNOWN"),
		PyLong_FromUnsignedLongLong(rec->mask),
		PyLong_FromUnsignedLong(rec->dropped),
		PyLong_FromUnsignedLongLong(rec->conn),
	};
	int ok = 1;
	for (Py_ssize_t i = 0; i < (Py_ssize_t)(sizeof(fields) / sizeof(fields[0])); i++) {
		/* An item left unset stays NULL, which the deallocator skips. */
		ok = ok && fields[i];
		if (fields[i]) {
			PyStructSequence_SET_ITEM(o, i, fields[i]);
		}
	}
	if (!ok) {
		Py_DECREF(o);
		return NULL;
	}
	return o;
}

static void
trace_close_fd(MmioTrace *self)
{
	if (self->fd < 0) {
		return;
	}
	if (self->reading) {
		/* Another thread reads it without the GIL: closed when that read returns. */
		self->close_pending = 1;
		return;
	}
	(void)close(self->fd);
	self->fd = -1;
}

static PyObject *
trace_next(MmioTrace *self)
{
	if (self->fd < 0 || self->close_pending) {
		PyErr_SetString(PyExc_ValueError, "the trace is closed");
		return NULL;
	}
	int fd = self->fd;
	struct mmio_trace_record rec = {0};
	int got = 0;
	self->reading++;
	for (;;) {
		int ready;
		Py_BEGIN_ALLOW_THREADS
			struct pollfd pfd = {.fd = fd, .events = POLLIN};
			ready = poll(&pfd, 1, WAIT_SLICE_MS);
			if (ready > 0) {
				got = mmio_trace_read(fd, &rec);
			}
		Py_END_ALLOW_THREADS
		if (ready > 0 && got != -EAGAIN) {
			break;
		}
		if (ready < 0 && errno != EINTR) {
			got = -errno;
			break;
		}
		if (self->close_pending || PyErr_CheckSignals() < 0) {
			got = 0;
			break;
		}
	}
	self->reading--;
	int closing = self->close_pending;
	if (closing && self->reading == 0) {
		(void)close(self->fd);
		self->fd = -1;
	}
	if (PyErr_Occurred()) {
		return NULL; /* a signal handler's exception */
	}
	if (closing) {
		PyErr_SetString(PyExc_ValueError, "the trace was closed");
		return NULL;
	}
	if (got == 0) {
		return NULL; /* mmiod ended the trace: StopIteration */
	}
	if (got < 0) {
		return mmiopy_raise(got, "");
	}
	return record_object(self, &rec);
}

static PyObject *
trace_close(MmioTrace *self, PyObject *Py_UNUSED(ignored))
{
	trace_close_fd(self);
	Py_RETURN_NONE;
}

static PyObject *
trace_fileno(MmioTrace *self, PyObject *Py_UNUSED(ignored))
{
	if (self->fd < 0 || self->close_pending) {
		PyErr_SetString(PyExc_ValueError, "the trace is closed");
		return NULL;
	}
	return PyLong_FromLong(self->fd);
}

static PyObject *
trace_enter_ctx(MmioTrace *self, PyObject *Py_UNUSED(ignored))
{
	return Py_NewRef(self);
}

static PyObject *
trace_exit_ctx(MmioTrace *self, PyObject *const *Py_UNUSED(args), Py_ssize_t Py_UNUSED(nargs))
{
	return trace_close(self, NULL);
}

static PyObject *
trace_get_closed(MmioTrace *self, void *Py_UNUSED(closure))
{
	return PyBool_FromLong(self->fd < 0 || self->close_pending);
}

static PyObject *
trace_get_region(MmioTrace *self, void *Py_UNUSED(closure))
{
	return Py_NewRef(self->region);
}

static PyObject *
trace_repr(MmioTrace *self)
{
	return PyUnicode_FromFormat("<mmio.Trace %R%s>", self->region,
				    self->fd < 0 || self->close_pending ? " closed" : "");
}

static void
trace_dealloc(MmioTrace *self)
{
	/* No read is in flight: a reader holds a reference through its call. */
	if (self->fd >= 0) {
		(void)close(self->fd);
	}
	free_regs(self->regs, self->n_regs);
	Py_CLEAR(self->region);
	PyObject_Free(self);
}

static PyMethodDef trace_methods[] = {
	{"close", (PyCFunction)trace_close, METH_NOARGS,
	 "close($self, /)\n--\n\n"
	 "Stops the trace (mmiod notices at the region's next access). A read in\n"
	 "another thread ends with ValueError. Closing twice does nothing."},
	{"fileno", (PyCFunction)trace_fileno, METH_NOARGS,
	 "fileno($self, /)\n--\n\n"
	 "The pipe's read end, for select, selectors or asyncio: readable when a record\n"
	 "(or the end of the trace) waits. Owned by the Trace."},
	{"__enter__", (PyCFunction)trace_enter_ctx, METH_NOARGS, "Return self."},
	{"__exit__", (PyCFunction)(void (*)(void))trace_exit_ctx, METH_FASTCALL,
	 "Close the trace."},
	{NULL, NULL, 0, NULL},
};

static PyGetSetDef trace_getset[] = {
	{"closed", (getter)trace_get_closed, NULL, "True once close() has run.", NULL},
	{"region", (getter)trace_get_region, NULL, "The traced region's name.", NULL},
	{NULL, NULL, NULL, NULL, NULL},
};

PyTypeObject MmioTrace_Type = {
	PyVarObject_HEAD_INIT(NULL, 0).tp_name = "mmio.Trace",
	.tp_basicsize = sizeof(MmioTrace),
	.tp_dealloc = (destructor)trace_dealloc,
	.tp_repr = (reprfunc)trace_repr,
	.tp_flags = Py_TPFLAGS_DEFAULT,
	.tp_doc = "A region's trace, from Client.trace(region): iterate it for TraceRecords,\n"
		  "each read as mmiod writes it (blocking, the GIL released); the iteration\n"
		  "ends when mmiod ends the trace (its client closed). fileno() for select;\n"
		  "close(), or use it in a with statement. mmiod never waits for a tracer: one\n"
		  "that does not keep up loses records, and the next one says how many.",
	.tp_iter = PyObject_SelfIter,
	.tp_iternext = (iternextfunc)trace_next,
	.tp_methods = trace_methods,
	.tp_getset = trace_getset,
};
