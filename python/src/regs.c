/*
 * Registers by name: Lease.reg, reg_load, reg_store and reg_store_fields over libmmio-client's
 * mmio_reg_*() (the region's register map, fetched by the library on first use). The library
 * checks names and values and says what is wrong in its detail ("did you mean LSR?"), so
 * its -EINVAL, -ENOENT and -ERANGE become InvalidArgument, NotFound and OutOfRange here.
 */
#include "mmio_py.h"

#include <stdio.h>
#include <string.h>

/* Longest "=VALUE" made from a mapping's int: "=" and 20 digits. */
#define VALUE_TEXT_LEN 24

static PyTypeObject register_type;

static PyStructSequence_Field register_fields[] = {
	{"name", "the register as the map names it (no [i], no .FIELD)"},
	{"field", "the field, or None for the whole register"},
	{"access", "'rw', 'ro', 'wo', 'w1c', 'w1s' or 'rc': the field's, else the register's"},
	{"index", "the instance of an array register, else 0"},
	{"offset", "the register's offset in bytes, relative to the lease"},
	{"width", "the register's width in bytes: 1, 2, 4 or 8"},
	{"msb", "the field's highest bit; for a whole register width * 8 - 1"},
	{"lsb", "the field's lowest bit; for a whole register 0"},
	{"mask", "bits msb..lsb set, in place"},
	{"is_field", "True for a field"},
	{NULL, NULL},
};
static PyStructSequence_Desc register_desc = {
	"mmio.Register", "A register or field of a lease's region, found by name (Lease.reg()).",
	register_fields, 10};

int
mmiopy_regs_init(PyObject *module)
{
	if (PyStructSequence_InitType2(&register_type, &register_desc) < 0) {
		return -1;
	}
	return PyModule_AddObjectRef(module, "Register", (PyObject *)&register_type);
}

/* The map's text: names and access kinds, which mmiod sent (shown even if not UTF-8). */
static PyObject *
map_text(const char *s)
{
	return PyUnicode_DecodeUTF8(s, (Py_ssize_t)strlen(s), "replace");
}

static PyObject *
register_to_object(const struct mmio_reg *r)
{
	PyObject *o = PyStructSequence_New(&register_type);
	if (!o) {
		return NULL;
	}
	PyObject *field = r->field ? map_text(r->field) : Py_NewRef(Py_None);
	PyObject *items[] = {
		map_text(r->name),
		field,
		map_text(r->access),
		PyLong_FromUnsignedLongLong(r->index),
		PyLong_FromUnsignedLongLong(r->offset),
		PyLong_FromUnsignedLong(r->width),
		PyLong_FromUnsignedLong(r->msb),
		PyLong_FromUnsignedLong(r->lsb),
		PyLong_FromUnsignedLongLong(r->mask),
		PyBool_FromLong(r->is_field),
	};
	int ok = 1;
	for (Py_ssize_t i = 0; i < (Py_ssize_t)(sizeof(items) / sizeof(items[0])); i++) {
		if (!items[i]) {
			ok = 0;
			continue;
		}
		PyStructSequence_SET_ITEM(o, i, items[i]); /* the sequence owns it, even on error */
	}
	if (!ok) {
		Py_DECREF(o);
		return NULL;
	}
	return o;
}

PyObject *
mmiopy_reg_find(struct mmio_lease *h, struct mmio_client *client, const char *name)
{
	struct mmio_reg r;
	char detail[MMIOPY_DETAIL_LEN];
	int rc;
	Py_BEGIN_ALLOW_THREADS
		rc = mmio_reg_find(h, name, &r);
		mmiopy_detail(client, rc, detail);
	Py_END_ALLOW_THREADS
	if (rc < 0) {
		return mmiopy_raise(rc, detail);
	}
	return register_to_object(&r);
}

PyObject *
mmiopy_reg_load(struct mmio_lease *h, struct mmio_client *client, const char *name)
{
	uint64_t value = 0;
	char detail[MMIOPY_DETAIL_LEN];
	int rc;
	Py_BEGIN_ALLOW_THREADS
		rc = mmio_reg_load(h, name, &value);
		mmiopy_detail(client, rc, detail);
	Py_END_ALLOW_THREADS
	if (rc < 0) {
		return mmiopy_raise(rc, detail);
	}
	return PyLong_FromUnsignedLongLong(value);
}

PyObject *
mmiopy_reg_store(struct mmio_lease *h, struct mmio_client *client, const char *name, uint64_t value)
{
	char detail[MMIOPY_DETAIL_LEN];
	int rc;
	Py_BEGIN_ALLOW_THREADS
		rc = mmio_reg_store(h, name, value);
		mmiopy_detail(client, rc, detail);
	Py_END_ALLOW_THREADS
	if (rc < 0) {
		return mmiopy_raise(rc, detail);
	}
	Py_RETURN_NONE;
}

/* One item of a mapping: "KEY=VALUE" as a new bytes object, VALUE an int or a value's name. */
static PyObject *
assignment_from_item(PyObject *key, PyObject *value)
{
	const char *name = mmiopy_text(key, "a field's name");
	if (!name) {
		return NULL;
	}
	if (strchr(name, '=')) {
		PyErr_Format(PyExc_ValueError, "a field's name has no '=': %R", key);
		return NULL;
	}
	if (PyUnicode_Check(value)) {
		const char *text = mmiopy_text(value, "a value's name");
		return text ? PyBytes_FromFormat("%s=%s", name, text) : NULL;
	}
	uint64_t v;
	if (mmiopy_u64(value, "a field's value", &v) < 0) {
		if (PyErr_ExceptionMatches(PyExc_TypeError)) {
			PyErr_Clear();
			PyErr_Format(PyExc_TypeError,
				     "the value of %R must be an int or the name of one of the "
				     "field's values, not %.100s",
				     key, Py_TYPE(value)->tp_name);
		}
		return NULL;
	}
	char digits[VALUE_TEXT_LEN];
	(void)snprintf(digits, sizeof(digits), "%llu", (unsigned long long)v);
	return PyBytes_FromFormat("%s=%s", name, digits);
}

/* The mapping form: one "KEY=VALUE" per item, in the mapping's order. */
static int
assignments_from_mapping(PyObject *mapping, struct mmiopy_assignments *a)
{
	PyObject *items = PyMapping_Items(mapping);
	if (!items) {
		return -1;
	}
	Py_ssize_t n = PyList_GET_SIZE(items);
	a->made = PyList_New(0);
	a->texts = PyMem_Calloc(n ? (size_t)n : 1, sizeof(*a->texts));
	if (!a->made || !a->texts) {
		Py_DECREF(items);
		if (a->made) {
			PyErr_NoMemory();
		}
		return -1;
	}
	for (Py_ssize_t i = 0; i < n; i++) {
		PyObject *item = PyList_GET_ITEM(items, i);
		PyObject *text = PyTuple_Check(item) && PyTuple_GET_SIZE(item) == 2
					 ? assignment_from_item(PyTuple_GET_ITEM(item, 0),
								PyTuple_GET_ITEM(item, 1))
					 : NULL;
		if (!text) {
			if (!PyErr_Occurred()) {
				PyErr_SetString(
					PyExc_TypeError,
					"the mapping's items() must give (key, value) pairs");
			}
			Py_DECREF(items);
			return -1;
		}
		int added = PyList_Append(a->made, text);
		Py_DECREF(text); /* the list holds it, and so its buffer, until cleared */
		if (added < 0) {
			Py_DECREF(items);
			return -1;
		}
		a->texts[a->n++] = PyBytes_AS_STRING(text);
	}
	Py_DECREF(items);
	return 0;
}

void
mmiopy_assignments_clear(struct mmiopy_assignments *a)
{
	PyMem_Free(a->texts);
	a->texts = NULL;
	a->n = 0;
	Py_CLEAR(a->made);
}

int
mmiopy_assignments_parse(PyObject *const *args, Py_ssize_t nargs, struct mmiopy_assignments *a)
{
	memset(a, 0, sizeof(*a));
	/* One mapping, as dict(m) would take it: anything with keys() but a str. */
	if (nargs == 1 && !PyUnicode_Check(args[0]) && PyObject_HasAttrString(args[0], "keys")) {
		if (assignments_from_mapping(args[0], a) < 0) {
			mmiopy_assignments_clear(a);
			return -1;
		}
		return 0;
	}
	a->texts = PyMem_Calloc(nargs ? (size_t)nargs : 1, sizeof(*a->texts));
	if (!a->texts) {
		PyErr_NoMemory();
		return -1;
	}
	for (Py_ssize_t i = 0; i < nargs; i++) {
		if (!PyUnicode_Check(args[i])) {
			PyErr_Format(PyExc_TypeError,
				     "reg_store_fields() takes 'REG.FIELD=VALUE' strs or one "
				     "mapping, not %.100s",
				     Py_TYPE(args[i])->tp_name);
			mmiopy_assignments_clear(a);
			return -1;
		}
		/* Owned by the argument, which the caller holds until the call returns. */
		const char *text = mmiopy_text(args[i], "an assignment");
		if (!text) {
			mmiopy_assignments_clear(a);
			return -1;
		}
		a->texts[a->n++] = text;
	}
	return 0;
}

PyObject *
mmiopy_reg_store_fields(struct mmio_lease *h, struct mmio_client *client,
			const struct mmiopy_assignments *a)
{
	char detail[MMIOPY_DETAIL_LEN];
	int rc;
	Py_BEGIN_ALLOW_THREADS
		rc = mmio_reg_store_fields(h, a->texts, a->n);
		mmiopy_detail(client, rc, detail);
	Py_END_ALLOW_THREADS
	if (rc < 0) {
		return mmiopy_raise(rc, detail);
	}
	Py_RETURN_NONE;
}
