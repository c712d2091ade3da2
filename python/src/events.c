/*
 * Revoke notices (Client.set_revoke_handler, event_fd, process_events): what the library
 * hands its handler, copied out with the GIL released and turned into RevokeNotice objects
 * afterwards. client.c enters the client around these calls; nothing here calls back.
 */
#include "mmio_py.h"

#include <stdlib.h>
#include <string.h>

static PyTypeObject notice_type;

static PyStructSequence_Field notice_fields[] = {
	{"lease_id", "the lease mmiod takes away"},
	{"reason", "'admin', 'ttl', 'policy', 'fault', 'shutdown' or 'unknown'"},
	{"grace_ms", "0: the lease is gone; > 0: release it within this many ms, or lose it"},
	{"detail", "mmiod's sentence: 'lease 7 was revoked: admin'"},
	{NULL, NULL},
};
static PyStructSequence_Desc notice_desc = {
	"mmio.RevokeNotice",
	"A lease mmiod takes away, as Client.process_events() hands it to the handler.",
	notice_fields, 4};

/* The notices of one mmio_process_events call, collected in its calling thread. */
struct collected {
	struct mmio_revoke_notice *notices; /* details copied into detail_copies */
	char (*detail_copies)[MMIOPY_DETAIL_LEN];
	size_t n;
	size_t cap;
	int no_memory;
};

/*
 * The library calls the handler from mmio_process_events in the thread that called it,
 * without the GIL (released around the call): the notices are only copied here, and the
 * Python handler runs once the GIL is back. A thread's collection is its own.
 */
static _Thread_local struct collected *collecting;

static void
collect_notice(struct mmio_client *Py_UNUSED(client), const struct mmio_revoke_notice *notice,
	       void *Py_UNUSED(userdata))
{
	struct collected *c = collecting;
	if (!c) {
		return; /* another caller of mmio_process_events: not ours to keep */
	}
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 8;
		struct mmio_revoke_notice *notices = realloc(c->notices, cap * sizeof(*notices));
		if (notices) {
			c->notices = notices;
		}
		char(*copies)[MMIOPY_DETAIL_LEN] =
			notices ? realloc(c->detail_copies, cap * sizeof(*copies)) : NULL;
		if (copies) {
			c->detail_copies = copies;
		}
		if (!notices || !copies) {
			c->no_memory = 1;
			return;
		}
		c->cap = cap;
	}
	c->notices[c->n] = *notice;
	(void)snprintf(c->detail_copies[c->n], MMIOPY_DETAIL_LEN, "%s",
		       notice->detail ? notice->detail : "");
	c->n++;
}

int
mmiopy_events_init(PyObject *module)
{
	if (PyStructSequence_InitType2(&notice_type, &notice_desc) < 0 ||
	    PyModule_AddObjectRef(module, "RevokeNotice", (PyObject *)&notice_type) < 0) {
		return -1;
	}
	return 0;
}

void
mmiopy_events_attach(struct mmio_client *client)
{
	mmio_set_revoke_handler(client, collect_notice, NULL);
}

static PyObject *
notice_object(const struct mmio_revoke_notice *n, const char *detail)
{
	PyObject *o = PyStructSequence_New(&notice_type);
	if (!o) {
		return NULL;
	}
	PyObject *fields[] = {
		PyLong_FromUnsignedLongLong(n->lease_id),
		PyUnicode_FromString(mmio_revoke_reason_name(n->reason)),
		PyLong_FromUnsignedLong(n->grace_ms),
		PyUnicode_DecodeASCII(detail, (Py_ssize_t)strlen(detail), "replace"),
	};
	int ok = 1;
	for (Py_ssize_t i = 0; i < 4; i++) {
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

int
mmiopy_events_collect(struct mmio_client *client, PyObject *pending)
{
	struct collected got = {0};
	char detail[MMIOPY_DETAIL_LEN];
	int rc;
	Py_BEGIN_ALLOW_THREADS
		collecting = &got;
		rc = mmio_process_events(client);
		collecting = NULL;
		mmiopy_detail(client, rc, detail);
	Py_END_ALLOW_THREADS
	int result = 0;
	/* Those that came before a dead connection are handled first, as the library does. */
	for (size_t i = 0; i < got.n && result == 0; i++) {
		PyObject *o = notice_object(&got.notices[i], got.detail_copies[i]);
		if (!o || PyList_Append(pending, o) < 0) {
			result = -1;
		}
		Py_XDECREF(o);
	}
	free(got.notices);
	free(got.detail_copies);
	if (result == 0 && got.no_memory) {
		PyErr_NoMemory();
		result = -1;
	}
	if (result == 0 && rc < 0) {
		(void)mmiopy_raise(rc, detail);
		result = -1;
	}
	return result;
}

Py_ssize_t
mmiopy_events_deliver(PyObject *handler, PyObject *pending)
{
	Py_ssize_t delivered = 0;
	while (PyList_GET_SIZE(pending) > 0) {
		/* Taken off first: a handler that raises does not see its notice again. */
		PyObject *notice = PyList_GET_ITEM(pending, 0);
		Py_INCREF(notice);
		if (PyList_SetSlice(pending, 0, 1, NULL) < 0) {
			Py_DECREF(notice);
			return -1;
		}
		delivered++;
		if (handler && handler != Py_None) {
			PyObject *r = PyObject_CallOneArg(handler, notice);
			Py_DECREF(notice);
			if (!r) {
				return -1;
			}
			Py_DECREF(r);
		} else {
			Py_DECREF(notice);
		}
	}
	return delivered;
}
