/*
 * Arguments from Python, checked before any request is sent: a wrong type is a
 * TypeError, a negative number or one that does not fit is a ValueError.
 */
#include "mmio_py.h"

#include <string.h>

int
mmiopy_u64_slow(PyObject *o, const char *what, uint64_t *out)
{
	unsigned long long v;
	if (PyLong_CheckExact(o)) {
		v = PyLong_AsUnsignedLongLong(o);
	} else {
		/* bool, IntEnum, numpy integers: anything with __index__; floats are refused. */
		PyObject *i = PyNumber_Index(o);
		if (!i) {
			PyErr_Format(PyExc_TypeError, "%s must be an int, not %.100s", what,
				     Py_TYPE(o)->tp_name);
			return -1;
		}
		v = PyLong_AsUnsignedLongLong(i);
		Py_DECREF(i);
	}
	if (v == (unsigned long long)-1 && PyErr_Occurred()) {
		if (PyErr_ExceptionMatches(PyExc_OverflowError)) {
			PyErr_Clear();
			PyErr_Format(PyExc_ValueError, "%s must be in 0..2**64-1, not %R", what, o);
		}
		return -1;
	}
	*out = v;
	return 0;
}

int
mmiopy_width(PyObject *o, unsigned *out)
{
	uint64_t w;
	if (mmiopy_u64(o, "width", &w) < 0) {
		return -1;
	}
	if (w != 1 && w != 2 && w != 4 && w != 8) {
		PyErr_Format(PyExc_ValueError, "width must be 1, 2, 4 or 8 bytes, not %R", o);
		return -1;
	}
	*out = (unsigned)w;
	return 0;
}

int
mmiopy_fits(uint64_t v, unsigned width, const char *what)
{
	if (width < 8 && v >> (width * 8) != 0) {
		PyErr_Format(PyExc_ValueError, "%s 0x%llx does not fit in %u bits", what,
			     (unsigned long long)v, width * 8);
		return -1;
	}
	return 0;
}

int
mmiopy_timeout(PyObject *o, int allow_forever, long max, long *out)
{
	if (o == NULL || o == Py_None) {
		if (!allow_forever) {
			PyErr_SetString(PyExc_TypeError, "timeout_ms must be an int, not None");
			return -1;
		}
		*out = -1;
		return 0;
	}
	uint64_t v;
	if (mmiopy_u64(o, "timeout_ms", &v) < 0) {
		return -1;
	}
	if (v > (uint64_t)max) {
		PyErr_Format(PyExc_ValueError, "timeout_ms must be at most %ld, not %R", max, o);
		return -1;
	}
	*out = (long)v;
	return 0;
}

const char *
mmiopy_text(PyObject *o, const char *what)
{
	if (!PyUnicode_Check(o)) {
		PyErr_Format(PyExc_TypeError, "%s must be a str, not %.100s", what,
			     Py_TYPE(o)->tp_name);
		return NULL;
	}
	Py_ssize_t len;
	const char *text = PyUnicode_AsUTF8AndSize(o, &len);
	if (text && strlen(text) != (size_t)len) {
		/* The library takes C strings: a NUL would cut the name short unseen. */
		PyErr_Format(PyExc_ValueError, "%s must not contain NUL: %R", what, o);
		return NULL;
	}
	return text;
}
