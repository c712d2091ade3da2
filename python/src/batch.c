/* Lease.batch and Client.batch: ops tuples -> one mmio_batch() request -> a list of results. */
#include "mmio_py.h"

/* Interned at import: ops name their kind with string literals, which Python interns too. */
static PyObject *str_load;
static PyObject *str_store;
static PyObject *str_barrier;

static int
kind_is(PyObject *kind, PyObject *name)
{
	return kind == name || (PyUnicode_Check(kind) && PyUnicode_Compare(kind, name) == 0);
}

static int
op_error(PyObject *exc, Py_ssize_t i, const char *what)
{
	PyErr_Format(exc, "ops[%zd]: %s", i, what);
	return -1;
}

/*
 * Parses ops[i] into op. For a client's batch (*lease NULL on entry) the tuple
 * starts with its Lease, returned in *lease (borrowed).
 */
static int
parse_op(const MmioClient *c, PyObject *item, Py_ssize_t i, struct mmio_op *op, MmioLease **lease)
{
	if (!PyTuple_Check(item) && !PyList_Check(item)) {
		return op_error(PyExc_TypeError, i, "an op is a tuple such as ('load', 4, 0x0)");
	}
	PyObject **f = PySequence_Fast_ITEMS(item);
	Py_ssize_t n = PySequence_Fast_GET_SIZE(item);
	Py_ssize_t at = 0;
	if (!*lease) {
		if (n < 1 || !PyObject_TypeCheck(f[0], &MmioLease_Type)) {
			return op_error(PyExc_TypeError, i,
					"an op of Client.batch starts with its Lease");
		}
		*lease = (MmioLease *)f[0];
		if ((*lease)->client != c) {
			return op_error(PyExc_ValueError, i, "the lease belongs to another client");
		}
		at = 1;
	}
	if (n <= at) {
		return op_error(PyExc_TypeError, i,
				"an op starts with 'load', 'store' or 'barrier'");
	}
	PyObject *kind = f[at];
	Py_ssize_t args = n - at - 1;
	uint64_t width = 0;
	op->value = 0;
	op->offset = 0;
	op->width = 0;
	if (kind_is(kind, str_barrier)) {
		op->kind = MMIO_OP_BARRIER;
		return args == 0 ? 0
				 : op_error(PyExc_TypeError, i, "('barrier',) takes no arguments");
	}
	if (kind_is(kind, str_load)) {
		op->kind = MMIO_OP_LOAD;
		if (args != 2) {
			return op_error(PyExc_TypeError, i, "('load', width, offset)");
		}
	} else if (kind_is(kind, str_store)) {
		op->kind = MMIO_OP_STORE;
		if (args != 3) {
			return op_error(PyExc_TypeError, i, "('store', width, offset, value)");
		}
	} else {
		return op_error(PyExc_ValueError, i, "the kind is 'load', 'store' or 'barrier'");
	}
	if (mmiopy_u64(f[at + 1], "width", &width) < 0 ||
	    mmiopy_u64(f[at + 2], "offset", &op->offset) < 0) {
		return -1;
	}
	if (width != 1 && width != 2 && width != 4 && width != 8) {
		return op_error(PyExc_ValueError, i, "width must be 1, 2, 4 or 8 bytes");
	}
	op->width = (unsigned)width;
	if (op->kind == MMIO_OP_STORE && (mmiopy_u64(f[at + 3], "value", &op->value) < 0 ||
					  mmiopy_fits(op->value, op->width, "value") < 0)) {
		return -1;
	}
	return 0;
}

/* The result list; for failed ops an exception instance (the first failure's gets detail). */
static PyObject *
results(const struct mmio_op *ops, Py_ssize_t n, Py_ssize_t first, const char *detail)
{
	PyObject *list = PyList_New(n);
	if (!list) {
		return NULL;
	}
	for (Py_ssize_t i = 0; i < n; i++) {
		PyObject *r;
		if (ops[i].status < 0) {
			r = mmiopy_error_new(ops[i].status, i == first ? detail : "");
		} else if (ops[i].kind == MMIO_OP_LOAD) {
			r = PyLong_FromUnsignedLongLong(ops[i].value);
		} else {
			Py_INCREF(Py_None);
			r = Py_None;
		}
		if (!r) {
			Py_DECREF(list);
			return NULL;
		}
		PyList_SET_ITEM(list, i, r);
	}
	return list;
}

/* Raises the first failure's exception (the first one not CANCELLED if any). */
static PyObject *
raise_failure(const struct mmio_op *ops, Py_ssize_t n, const char *detail)
{
	Py_ssize_t first = -1;
	for (Py_ssize_t i = 0; i < n; i++) {
		if (ops[i].status < 0 && ops[i].status != -ECANCELED) {
			first = i;
			break;
		}
		if (ops[i].status < 0 && first < 0) {
			first = i;
		}
	}
	PyObject *list = results(ops, n, first, detail);
	if (!list) {
		return NULL;
	}
	PyObject *exc = PyList_GET_ITEM(list, first);
	PyObject *index = PyLong_FromSsize_t(first);
	if (index && PyObject_SetAttrString(exc, "index", index) == 0 &&
	    PyObject_SetAttrString(exc, "results", list) == 0) {
		PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
	}
	Py_XDECREF(index);
	Py_DECREF(list);
	return NULL;
}

static int
parse_flags(PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames, unsigned *flags)
{
	Py_ssize_t nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
	*flags = 0;
	for (Py_ssize_t k = 0; k < nkw; k++) {
		const char *name = PyUnicode_AsUTF8(PyTuple_GET_ITEM(kwnames, k));
		int on = PyObject_IsTrue(args[nargs + k]);
		if (!name || on < 0) {
			return -1;
		}
		if (strcmp(name, "all_or_nothing") == 0) {
			*flags |= on ? MMIO_BATCH_ALL_OR_NOTHING : 0;
		} else if (strcmp(name, "stop_on_error") == 0) {
			*flags |= on ? MMIO_BATCH_STOP_ON_ERROR : 0;
		} else {
			PyErr_Format(PyExc_TypeError,
				     "batch() got an unexpected keyword argument '%s'", name);
			return -1;
		}
	}
	return 0;
}

PyObject *
mmiopy_batch(MmioClient *c, MmioLease *lease, PyObject *const *args, Py_ssize_t nargs,
	     PyObject *kwnames)
{
	unsigned flags;
	if (nargs != 1) {
		PyErr_Format(PyExc_TypeError, "batch() takes 1 positional argument (%zd given)",
			     nargs);
		return NULL;
	}
	if (parse_flags(args, nargs, kwnames, &flags) < 0) {
		return NULL;
	}
	PyObject *seq = PySequence_Fast(args[0], "ops must be a sequence of tuples");
	if (!seq) {
		return NULL;
	}
	Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
	if (n > MMIOPY_MAX_OPS) {
		Py_DECREF(seq);
		PyErr_Format(PyExc_ValueError, "a batch is at most %d ops, not %zd", MMIOPY_MAX_OPS,
			     n);
		return NULL;
	}
	if (n == 0) {
		/* Nothing to send; the lease or client must still be usable. */
		Py_DECREF(seq);
		if (lease ? !lease->lease || !c->client : !c->client) {
			PyErr_SetString(PyExc_ValueError,
					lease ? "the lease is released" : "the client is closed");
			return NULL;
		}
		return PyList_New(0);
	}
	/*
	 * Not zeroed (parse_op sets every field mmio_batch reads): 4096 ops are 160 KiB, and
	 * this is the path whose throughput is measured against C's (bench/python_bench.py).
	 * leases[] only for a client's batch: a lease's batch has one lease, entered once.
	 */
	struct mmio_op *ops = PyMem_Malloc((size_t)n * sizeof(*ops));
	/* NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers, sized by element */
	MmioLease **leases = lease ? NULL : PyMem_Malloc((size_t)n * sizeof(*leases));
	PyObject *result = NULL;
	if (!ops || (!lease && !leases)) {
		PyErr_NoMemory();
		goto out;
	}
	PyObject **items = PySequence_Fast_ITEMS(seq);
	for (Py_ssize_t i = 0; i < n; i++) {
		MmioLease *l = lease;
		if (parse_op(c, items[i], i, &ops[i], &l) < 0) {
			goto out;
		}
		ops[i].status = 0;
		if (leases) {
			leases[i] = l;
		}
	}
	/* Entered with the GIL held: nothing is released between here and the call. */
	struct mmio_client *client = NULL;
	Py_ssize_t entered = 0;
	if (lease) {
		struct mmio_lease *h = mmiopy_lease_enter(lease, &client);
		for (Py_ssize_t i = 0; h && i < n; i++) {
			ops[i].lease = h;
		}
		entered = h ? n : 0;
	} else {
		for (; entered < n; entered++) {
			ops[entered].lease = mmiopy_lease_enter(leases[entered], &client);
			if (!ops[entered].lease) {
				break;
			}
		}
	}
	if (entered < n) {
		while (!lease && entered > 0) {
			mmiopy_lease_leave(leases[--entered]);
		}
		goto out;
	}
	char detail[MMIOPY_DETAIL_LEN];
	int rc;
	Py_BEGIN_ALLOW_THREADS
		rc = mmio_batch(client, ops, (size_t)n, flags);
		mmiopy_detail(client, rc, detail);
	Py_END_ALLOW_THREADS
	if (lease) {
		mmiopy_lease_leave(lease);
	}
	for (Py_ssize_t i = 0; !lease && i < n; i++) {
		mmiopy_lease_leave(leases[i]);
	}
	if (rc < 0) {
		mmiopy_raise(rc, detail);
	} else if (rc > 0) {
		/* Per-op failures leave mmio_error_detail set by the batch request itself. */
		(void)raise_failure(ops, n, detail);
	} else {
		result = results(ops, n, -1, "");
	}

out:
	PyMem_Free(ops);
	PyMem_Free(leases);
	Py_DECREF(seq);
	return result;
}

int
mmiopy_batch_init(void)
{
	str_load = PyUnicode_InternFromString("load");
	str_store = PyUnicode_InternFromString("store");
	str_barrier = PyUnicode_InternFromString("barrier");
	return str_load && str_store && str_barrier ? 0 : -1;
}
