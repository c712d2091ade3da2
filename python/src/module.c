/*
 * mmio._mmio: the extension module behind the mmio package (python/mmio/__init__.py
 * re-exports it). Single-phase initialisation with static types: see mmio_py.h on
 * why nothing here is freed before the process ends.
 */
#include "mmio_py.h"

#include <time.h>

static PyObject *
mod_connect(PyObject *Py_UNUSED(module), PyObject *args, PyObject *kwds)
{
	return PyObject_Call((PyObject *)&MmioClient_Type, args, kwds);
}

static PyObject *
mod_error_for(PyObject *Py_UNUSED(module), PyObject *args)
{
	int err;
	const char *detail = "";
	if (!PyArg_ParseTuple(args, "i|s:_error_for", &err, &detail)) {
		return NULL;
	}
	return mmiopy_error_new(err > 0 ? -err : err, detail);
}

static uint64_t
elapsed_ns(const struct timespec *a, const struct timespec *b)
{
	return (uint64_t)(b->tv_sec - a->tv_sec) * 1000000000u + (uint64_t)b->tv_nsec -
	       (uint64_t)a->tv_nsec;
}

/*
 * For bench/python_bench.py only: the C side of its comparison, in the same
 * process and on the same lease. n mmio_load32() calls at offset, GIL released;
 * returns the nanoseconds they took.
 */
static PyObject *
mod_bench_c_load32(PyObject *Py_UNUSED(module), PyObject *args)
{
	MmioLease *l;
	unsigned long long n;
	unsigned long long offset;
	if (!PyArg_ParseTuple(args, "O!KK:_bench_c_load32", &MmioLease_Type, &l, &n, &offset)) {
		return NULL;
	}
	struct mmio_client *client;
	struct mmio_lease *h = mmiopy_lease_enter(l, &client);
	if (!h) {
		return NULL;
	}
	struct timespec t0;
	struct timespec t1;
	int rc = 0;
	uint32_t v;
	Py_BEGIN_ALLOW_THREADS
		clock_gettime(CLOCK_MONOTONIC, &t0);
		for (unsigned long long i = 0; i < n && rc == 0; i++) {
			rc = mmio_load32(h, offset, &v);
		}
		clock_gettime(CLOCK_MONOTONIC, &t1);
	Py_END_ALLOW_THREADS
	mmiopy_lease_leave(l);
	if (rc < 0) {
		return mmiopy_raise(rc, "");
	}
	return PyLong_FromUnsignedLongLong(elapsed_ns(&t0, &t1));
}

/*
 * For bench/python_bench.py only: reps mmio_batch() calls of nops 4-byte loads
 * at offsets 0, 4, 8, ... (wrapping at the lease's length), built once, as a C
 * program would. Returns the nanoseconds the calls took.
 */
static PyObject *
mod_bench_c_batch(PyObject *Py_UNUSED(module), PyObject *args)
{
	MmioLease *l;
	Py_ssize_t nops;
	unsigned long long reps;
	if (!PyArg_ParseTuple(args, "O!nK:_bench_c_batch", &MmioLease_Type, &l, &nops, &reps)) {
		return NULL;
	}
	if (nops < 1 || nops > MMIOPY_MAX_OPS) {
		PyErr_SetString(PyExc_ValueError, "nops must be 1..4096");
		return NULL;
	}
	struct mmio_client *client;
	struct mmio_lease *h = mmiopy_lease_enter(l, &client);
	if (!h) {
		return NULL;
	}
	uint64_t span = mmio_lease_length(h) / 4 * 4;
	struct mmio_op *ops = PyMem_Calloc((size_t)nops, sizeof(*ops));
	if (!ops || span == 0) {
		mmiopy_lease_leave(l);
		PyMem_Free(ops);
		return ops ? PyErr_Format(PyExc_ValueError, "the lease is too short")
			   : PyErr_NoMemory();
	}
	for (Py_ssize_t i = 0; i < nops; i++) {
		ops[i].lease = h;
		ops[i].kind = MMIO_OP_LOAD;
		ops[i].width = 4;
		ops[i].offset = ((uint64_t)i * 4) % span;
	}
	struct timespec t0;
	struct timespec t1;
	int rc = 0;
	Py_BEGIN_ALLOW_THREADS
		clock_gettime(CLOCK_MONOTONIC, &t0);
		for (unsigned long long i = 0; i < reps && rc == 0; i++) {
			rc = mmio_batch(client, ops, (size_t)nops, 0);
		}
		clock_gettime(CLOCK_MONOTONIC, &t1);
	Py_END_ALLOW_THREADS
	mmiopy_lease_leave(l);
	PyMem_Free(ops);
	if (rc != 0) {
		return mmiopy_raise(rc < 0 ? rc : -EIO, "");
	}
	return PyLong_FromUnsignedLongLong(elapsed_ns(&t0, &t1));
}

static PyMethodDef module_methods[] = {
	{"connect", (PyCFunction)(void (*)(void))mod_connect, METH_VARARGS | METH_KEYWORDS,
	 "connect($module, /, path=None)\n--\n\n"
	 "Connects to mmiod at path, else $MMIOD_SOCKET, else " MMIO_DEFAULT_SOCKET_PATH ".\n"
	 "Raises Unavailable if nobody answers there, VersionMismatch if mmiod speaks\n"
	 "another protocol. Use the Client in a with statement, or call close()."},
	{"_error_for", mod_error_for, METH_VARARGS,
	 "_error_for($module, errno, detail='', /)\n--\n\n"
	 "The exception a call failing with errno would raise (for tests)."},
	{"_bench_c_load32", mod_bench_c_load32, METH_VARARGS,
	 "_bench_c_load32($module, lease, n, offset, /)\n--\n\n"
	 "Benchmark helper: ns taken by n mmio_load32() calls in C, GIL released."},
	{"_bench_c_batch", mod_bench_c_batch, METH_VARARGS,
	 "_bench_c_batch($module, lease, nops, reps, /)\n--\n\n"
	 "Benchmark helper: ns taken by reps mmio_batch() calls of nops 4-byte loads in C."},
	{NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_def = {
	PyModuleDef_HEAD_INIT,
	.m_name = "mmio._mmio",
	.m_doc = "The C extension behind the mmio package; import mmio instead.",
	.m_size = -1, /* single-phase: static state, no sub-interpreters */
	.m_methods = module_methods,
};

PyMODINIT_FUNC PyInit__mmio(void);

PyMODINIT_FUNC
PyInit__mmio(void)
{
	static PyTypeObject *const types[] = {&MmioClient_Type, &MmioLease_Type, &MmioIrq_Type};
	static const char *const names[] = {"Client", "Lease", "Irq"};
	for (size_t i = 0; i < 3; i++) {
		if (PyType_Ready(types[i]) < 0) {
			return NULL;
		}
	}
	PyObject *m = PyModule_Create(&module_def);
	if (!m) {
		return NULL;
	}
	for (size_t i = 0; i < 3; i++) {
		if (PyModule_AddObjectRef(m, names[i], (PyObject *)types[i]) < 0) {
			goto fail;
		}
	}
	if (mmiopy_errors_init(m) < 0 || mmiopy_info_init(m) < 0 || mmiopy_regs_init(m) < 0 ||
	    mmiopy_events_init(m) < 0 || mmiopy_trace_init(m) < 0 || mmiopy_batch_init() < 0 ||
	    PyModule_AddStringConstant(m, "DEFAULT_SOCKET_PATH", MMIO_DEFAULT_SOCKET_PATH) < 0 ||
	    PyModule_AddStringConstant(m, "library_version",
				       mmio_client_version(NULL, NULL, NULL)) < 0 ||
	    PyModule_AddIntConstant(m, "MAX_OPS", MMIOPY_MAX_OPS) < 0) {
		goto fail;
	}
	return m;

fail:
	Py_DECREF(m);
	return NULL;
}
