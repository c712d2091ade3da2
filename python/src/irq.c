/* mmio.Irq: a lease's interrupt subscription, as a file descriptor and as blocking waits. */
#include "mmio_py.h"

#include <limits.h>
#include <time.h>

/*
 * A long wait is cut into waits of this many ms, each followed by a check for
 * signals: mmio_irq_wait retries on EINTR, and Ctrl-C must still interrupt it.
 * An interrupt ends a slice at once: slicing delays only KeyboardInterrupt.
 */
#define WAIT_SLICE_MS 200

PyObject *
mmiopy_irq_subscribe(MmioLease *l)
{
	MmioIrq *irq = PyObject_New(MmioIrq, &MmioIrq_Type);
	if (!irq) {
		return NULL;
	}
	Py_INCREF(l);
	irq->lease = l;
	irq->active = 0;
	struct mmio_client *client;
	struct mmio_lease *h = mmiopy_lease_enter(l, &client);
	if (!h) {
		Py_DECREF(irq);
		return NULL;
	}
	char detail[MMIOPY_DETAIL_LEN];
	int rc;
	Py_BEGIN_ALLOW_THREADS
		rc = mmio_irq_subscribe(h);
		mmiopy_detail(client, rc, detail);
	Py_END_ALLOW_THREADS
	mmiopy_lease_leave(l);
	if (rc < 0) {
		Py_DECREF(irq);
		return mmiopy_raise(rc, detail);
	}
	irq->active = 1;
	l->irq = irq;
	return (PyObject *)irq;
}

void
mmiopy_irq_detach(MmioLease *l)
{
	if (l->irq) {
		l->irq->active = 0;
		l->irq = NULL;
	}
}

/* Ends the subscription in mmiod and here; the object goes inactive first. */
static int
irq_end(MmioIrq *self, char detail[MMIOPY_DETAIL_LEN])
{
	MmioLease *l = self->lease;
	detail[0] = '\0';
	if (!self->active) {
		return 0;
	}
	/* Before the GIL is dropped: a new subscription made meanwhile is not ours to end. */
	mmiopy_irq_detach(l);
	if (!l->lease || !l->client->client) {
		return 0; /* released, or closing: that ends it */
	}
	struct mmio_client *client;
	struct mmio_lease *h = mmiopy_lease_enter(l, &client);
	if (!h) {
		PyErr_Clear();
		return 0;
	}
	int rc;
	Py_BEGIN_ALLOW_THREADS
		rc = mmio_irq_unsubscribe(h);
		mmiopy_detail(client, rc, detail);
	Py_END_ALLOW_THREADS
	mmiopy_lease_leave(l);
	return rc;
}

static void
irq_dealloc(MmioIrq *self)
{
	char detail[MMIOPY_DETAIL_LEN];
	(void)irq_end(self, detail);
	Py_CLEAR(self->lease);
	PyObject_Free(self);
}

static PyObject *
irq_close(MmioIrq *self, PyObject *Py_UNUSED(ignored))
{
	char detail[MMIOPY_DETAIL_LEN];
	int rc = irq_end(self, detail);
	if (rc < 0) {
		return mmiopy_raise(rc, detail);
	}
	Py_RETURN_NONE;
}

static int
irq_check(MmioIrq *self)
{
	if (!self->active || !self->lease->lease) {
		PyErr_SetString(PyExc_ValueError, "the interrupt subscription has ended");
		return -1;
	}
	return 0;
}

static PyObject *
irq_fileno(MmioIrq *self, PyObject *Py_UNUSED(ignored))
{
	if (irq_check(self) < 0) {
		return NULL;
	}
	/* Takes only the client's irq_lock, which nobody holds for long. */
	int fd = mmio_irq_fd(self->lease->lease);
	if (fd < 0) {
		PyErr_SetString(PyExc_ValueError, "the interrupt subscription has ended");
		return NULL;
	}
	return PyLong_FromLong(fd);
}

static long
now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static PyObject *
irq_wait(MmioIrq *self, PyObject *args, PyObject *kwds)
{
	static char *kwlist[] = {"timeout_ms", NULL};
	PyObject *timeout_obj = Py_None;
	long timeout;
	if (!PyArg_ParseTupleAndKeywords(args, kwds, "|O:wait", kwlist, &timeout_obj) ||
	    mmiopy_timeout(timeout_obj, 1, INT_MAX, &timeout) < 0 || irq_check(self) < 0) {
		return NULL;
	}
	MmioLease *l = self->lease;
	struct mmio_client *client;
	struct mmio_lease *h = mmiopy_lease_enter(l, &client);
	if (!h) {
		return NULL;
	}
	l->irq_waiters++;
	long deadline = timeout >= 0 ? now_ms() + timeout : 0;
	uint32_t count = 0;
	int rc;
	int interrupted = 0;
	for (;;) {
		long slice = WAIT_SLICE_MS;
		if (timeout >= 0) {
			long left = deadline - now_ms();
			slice = left < 0 ? 0 : left < slice ? left : slice;
		}
		Py_BEGIN_ALLOW_THREADS
			rc = mmio_irq_wait(h, (int)slice, &count);
		Py_END_ALLOW_THREADS
		if (rc != -ETIMEDOUT || (timeout >= 0 && now_ms() >= deadline)) {
			break;
		}
		if (PyErr_CheckSignals() < 0) {
			interrupted = 1;
			break;
		}
		if (!self->active || !l->lease) {
			rc = -ENOENT; /* ended by another thread between two slices */
			break;
		}
	}
	l->irq_waiters--;
	mmiopy_lease_leave(l);
	if (interrupted) {
		return NULL;
	}
	if (rc == -EINVAL && (!self->active || !l->lease)) {
		rc = -ENOENT; /* ended before this slice began: no subscription left to wait on */
	}
	if (rc < 0) {
		return mmiopy_raise(rc, "");
	}
	return PyLong_FromUnsignedLong(count);
}

static PyObject *
irq_ack(MmioIrq *self, PyObject *Py_UNUSED(ignored))
{
	if (irq_check(self) < 0) {
		return NULL;
	}
	struct mmio_client *client;
	struct mmio_lease *h = mmiopy_lease_enter(self->lease, &client);
	if (!h) {
		return NULL;
	}
	char detail[MMIOPY_DETAIL_LEN];
	int rc;
	Py_BEGIN_ALLOW_THREADS
		rc = mmio_irq_ack(h);
		mmiopy_detail(client, rc, detail);
	Py_END_ALLOW_THREADS
	mmiopy_lease_leave(self->lease);
	if (rc < 0) {
		return mmiopy_raise(rc, detail);
	}
	Py_RETURN_NONE;
}

static PyObject *
irq_enter_ctx(MmioIrq *self, PyObject *Py_UNUSED(ignored))
{
	Py_INCREF(self);
	return (PyObject *)self;
}

static PyObject *
irq_exit_ctx(MmioIrq *self, PyObject *const *Py_UNUSED(args), Py_ssize_t Py_UNUSED(nargs))
{
	return irq_close(self, NULL);
}

static PyObject *
irq_get_closed(MmioIrq *self, void *Py_UNUSED(closure))
{
	return PyBool_FromLong(!self->active || !self->lease->lease);
}

static PyObject *
irq_get_lease(MmioIrq *self, void *Py_UNUSED(closure))
{
	Py_INCREF(self->lease);
	return (PyObject *)self->lease;
}

static PyObject *
irq_repr(MmioIrq *self)
{
	return PyUnicode_FromFormat("<mmio.Irq of lease %llu%s>",
				    (unsigned long long)self->lease->id,
				    self->active && self->lease->lease ? "" : " closed");
}

static PyMethodDef irq_methods[] = {
	{"fileno", (PyCFunction)irq_fileno, METH_NOARGS,
	 "fileno($self, /)\n--\n\n"
	 "A descriptor that polls readable when interrupts arrived (or the subscription\n"
	 "ended): pass the Irq to select.select(), or fileno() to asyncio's\n"
	 "loop.add_reader(), then call wait(0). Owned by the library: do not close it,\n"
	 "and stop polling it before close() or the lease's release()."},
	{"wait", (PyCFunction)(void (*)(void))irq_wait, METH_VARARGS | METH_KEYWORDS,
	 "wait($self, timeout_ms=None)\n--\n\n"
	 "Waits up to timeout_ms (None: for ever, 0: just check) for interrupts and\n"
	 "returns how many arrived since the last wait (>= 1). mmio.Timeout if none\n"
	 "came; NotFound if the subscription ended (lease released or revoked, close()\n"
	 "in another thread, mmiod gone). Releases the GIL; Ctrl-C interrupts it."},
	{"ack", (PyCFunction)irq_ack, METH_NOARGS,
	 "ack($self, /)\n--\n\n"
	 "Re-enables the interrupt after handling it (UIO writes 1)."},
	{"close", (PyCFunction)irq_close, METH_NOARGS,
	 "close($self, /)\n--\n\n"
	 "Ends the subscription; waits in other threads raise NotFound at once.\n"
	 "Closing twice does nothing."},
	{"__enter__", (PyCFunction)irq_enter_ctx, METH_NOARGS, "Return self."},
	{"__exit__", (PyCFunction)(void (*)(void))irq_exit_ctx, METH_FASTCALL,
	 "End the subscription."},
	{NULL, NULL, 0, NULL},
};

static PyGetSetDef irq_getset[] = {
	{"closed", (getter)irq_get_closed, NULL,
	 "True once the subscription has ended here (close(), or the lease released).", NULL},
	{"lease", (getter)irq_get_lease, NULL, "The Lease subscribed through.", NULL},
	{NULL, NULL, NULL, NULL, NULL},
};

PyTypeObject MmioIrq_Type = {
	PyVarObject_HEAD_INIT(NULL, 0).tp_name = "mmio.Irq",
	.tp_basicsize = sizeof(MmioIrq),
	.tp_dealloc = (destructor)irq_dealloc,
	.tp_repr = (reprfunc)irq_repr,
	.tp_flags = Py_TPFLAGS_DEFAULT,
	.tp_doc = "An interrupt subscription, from Lease.irq_subscribe(). Usable with select\n"
		  "(it has fileno()) and asyncio (loop.add_reader(irq.fileno(), ...)). Use it\n"
		  "in a with statement or call close(); it also ends with its lease.",
	.tp_methods = irq_methods,
	.tp_getset = irq_getset,
};
