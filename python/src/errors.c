/*
 * The exception hierarchy: mmio.Error, and one subclass per status name that
 * libmmio-client knows (mmio_status_name(), whose table is include/mmio/client.h's),
 * plus Unavailable for a daemon that cannot be reached (as mmioctl says).
 */
#include "mmio_py.h"

#include <string.h>

/* Errnos probed for a status name: every status maps to an errno below this. */
#define ERRNO_PROBE_MAX 256

struct status_class {
	int err; /* positive errno */
	PyObject *cls;
};

/* Set once at import, never released: deallocators at shutdown may still raise through them. */
static PyObject *error_base;
static PyObject *unavailable;
static struct status_class classes[ERRNO_PROBE_MAX];
static size_t n_classes;

/* "OUT_OF_RANGE" -> "OutOfRange", into buf (at least 2 * strlen(status) bytes). */
static void
class_name(const char *status, char *buf, size_t len)
{
	size_t n = 0;
	int upper = 1;
	for (const char *p = status; *p && n + 1 < len; p++) {
		if (*p == '_') {
			upper = 1;
			continue;
		}
		char ch = *p;
		if (!upper && ch >= 'A' && ch <= 'Z') {
			ch = (char)(ch - 'A' + 'a');
		}
		buf[n++] = ch;
		upper = 0;
	}
	buf[n] = '\0';
}

/* A subclass of base named mmio.NAME with class attribute status, set in module. */
static PyObject *
add_class(PyObject *module, PyObject *base, const char *status, const char *doc)
{
	char name[96];
	char qualified[112];
	class_name(status, name, sizeof(name));
	(void)PyOS_snprintf(qualified, sizeof(qualified), "mmio.%s", name);
	PyObject *dict = Py_BuildValue("{s:s}", "status", status);
	if (!dict) {
		return NULL;
	}
	PyObject *cls = PyErr_NewExceptionWithDoc(qualified, doc, base, dict);
	Py_DECREF(dict);
	if (!cls) {
		return NULL;
	}
	/* The module's reference is separate from ours: ours is never dropped. */
	if (PyModule_AddObjectRef(module, name, cls) < 0) {
		Py_DECREF(cls);
		return NULL;
	}
	return cls;
}

int
mmiopy_errors_init(PyObject *module)
{
	PyObject *dict =
		Py_BuildValue("{s:O,s:s,s:O}", "status", Py_None, "detail", "", "errno", Py_None);
	if (!dict) {
		return -1;
	}
	error_base = PyErr_NewExceptionWithDoc(
		"mmio.Error",
		"An error reported by mmiod or libmmio-client.\n\n"
		"status: the status name ('OUT_OF_RANGE', 'CONFLICT', ...), as mmioctl prints it.\n"
		"detail: mmiod's explanation of this failure ('' if it gave none).\n"
		"errno: the positive errno libmmio-client returned for it.\n"
		"Each status has its own subclass (mmio.OutOfRange, ...).",
		PyExc_Exception, dict);
	Py_DECREF(dict);
	if (!error_base || PyModule_AddObjectRef(module, "Error", error_base) < 0) {
		return -1;
	}
	PyObject *by_name = PyDict_New();
	if (!by_name || PyModule_AddObject(module, "_error_classes", by_name) < 0) {
		Py_XDECREF(by_name);
		return -1;
	}
	for (int e = 1; e < ERRNO_PROBE_MAX; e++) {
		const char *status = mmio_status_name(-e);
		if (!status) {
			continue;
		}
		char doc[256];
		(void)PyOS_snprintf(doc, sizeof(doc), "%s: %s (errno %d).", status,
				    mmio_strerror(-e), e);
		PyObject *cls = add_class(module, error_base, status, doc);
		if (!cls || PyDict_SetItemString(by_name, status, cls) < 0) {
			return -1;
		}
		/* Revoked says why, as the detail does ("lease 7 was revoked: admin"). */
		if (e == EKEYREVOKED && PyObject_SetAttrString(cls, "reason", Py_None) < 0) {
			return -1;
		}
		classes[n_classes].err = e;
		classes[n_classes].cls = cls;
		n_classes++;
	}
	unavailable =
		add_class(module, error_base, "UNAVAILABLE",
			  "UNAVAILABLE: mmiod cannot be reached (no socket, nothing listening, no "
			  "permission to connect); errno is connect(2)'s.");
	if (!unavailable || PyDict_SetItemString(by_name, "UNAVAILABLE", unavailable) < 0) {
		return -1;
	}
	return 0;
}

static PyObject *
error_new(PyObject *cls, int err, const char *status, const char *detail, const char *message)
{
	PyObject *exc = PyObject_CallFunction(cls, "s", message);
	if (!exc) {
		return NULL;
	}
	PyObject *status_obj = PyUnicode_FromString(status);
	PyObject *detail_obj = PyUnicode_DecodeASCII(detail, (Py_ssize_t)strlen(detail), "replace");
	PyObject *errno_obj = PyLong_FromLong(-(long)err);
	if (!status_obj || !detail_obj || !errno_obj ||
	    PyObject_SetAttrString(exc, "status", status_obj) < 0 ||
	    PyObject_SetAttrString(exc, "detail", detail_obj) < 0 ||
	    PyObject_SetAttrString(exc, "errno", errno_obj) < 0) {
		Py_CLEAR(exc);
	}
	Py_XDECREF(status_obj);
	Py_XDECREF(detail_obj);
	Py_XDECREF(errno_obj);
	return exc;
}

/* The reason at the end of mmiod's detail ("lease 7 was revoked: ttl") as exc.reason. */
static int
set_revoke_reason(PyObject *exc, const char *detail)
{
	static const char *const reasons[] = {"admin", "ttl", "policy", "fault", "shutdown"};
	const char *sep = strrchr(detail, ':');
	const char *said = sep ? sep + 1 + (sep[1] == ' ') : "";
	for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++) {
		if (strcmp(said, reasons[i]) == 0) {
			PyObject *reason = PyUnicode_FromString(reasons[i]);
			int rc = reason ? PyObject_SetAttrString(exc, "reason", reason) : -1;
			Py_XDECREF(reason);
			return rc;
		}
	}
	return 0; /* no reason we know: the class's None */
}

PyObject *
mmiopy_error_new(int err, const char *detail)
{
	PyObject *cls = error_base;
	const char *status = mmio_status_name(err);
	for (size_t i = 0; i < n_classes; i++) {
		if (classes[i].err == -err) {
			cls = classes[i].cls;
			break;
		}
	}
	/* Not a status (e.g. -EOPNOTSUPP from set_fast_path): the errno's own name. */
	if (!status) {
		status = strerrorname_np(-err);
	}
	if (!status) {
		status = "UNKNOWN";
	}
	if (!detail) {
		detail = "";
	}
	char message[MMIOPY_DETAIL_LEN + 64];
	(void)PyOS_snprintf(message, sizeof(message), "%s: %s", status,
			    detail[0] ? detail : mmio_strerror(err));
	PyObject *exc = error_new(cls, err, status, detail, message);
	if (exc && err == -EKEYREVOKED && set_revoke_reason(exc, detail) < 0) {
		Py_CLEAR(exc);
	}
	return exc;
}

PyObject *
mmiopy_raise(int err, const char *detail)
{
	PyObject *exc = mmiopy_error_new(err, detail);
	if (exc) {
		PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
		Py_DECREF(exc);
	}
	return NULL;
}

PyObject *
mmiopy_raise_connect(int err, const char *path)
{
	/* What the handshake says is a status; what connect(2) says means nobody to talk to. */
	if (err == -EPROTONOSUPPORT || err == -ECONNRESET || err == -EPROTO || err == -ENOMEM) {
		return mmiopy_raise(err, "");
	}
	char message[512];
	(void)PyOS_snprintf(message, sizeof(message), "UNAVAILABLE: cannot connect to %s: %s", path,
			    mmio_strerror(err));
	PyObject *exc = error_new(unavailable, err, "UNAVAILABLE", "", message);
	if (exc) {
		PyErr_SetObject(unavailable, exc);
		Py_DECREF(exc);
	}
	return NULL;
}

void
mmiopy_detail(struct mmio_client *client, int rc, char buf[MMIOPY_DETAIL_LEN])
{
	buf[0] = '\0';
	if (rc < 0 && client) {
		(void)mmio_error_detail_copy(client, buf, MMIOPY_DETAIL_LEN);
	}
}
