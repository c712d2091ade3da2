#include <errno.h>
#include <limits.h>
#include <string.h>

#include "status.h"

struct status_entry {
	Mmio__Status status;
	int err;
	const char *name;
	const char *message;
};

static const struct status_entry status_table[] = {
	{MMIO__STATUS__OK, 0, "OK", "success"},
	{MMIO__STATUS__OUT_OF_RANGE, -ERANGE, "OUT_OF_RANGE",
	 "outside the bounds of the region or lease"},
	{MMIO__STATUS__UNALIGNED, -EFAULT, "UNALIGNED",
	 "device address is not aligned for the access width"},
	{MMIO__STATUS__CONFLICT, -EBUSY, "CONFLICT", "range overlaps a live lease"},
	{MMIO__STATUS__NOT_FOUND, -ENOENT, "NOT_FOUND", "no such region or lease"},
	{MMIO__STATUS__PERMISSION_DENIED, -EACCES, "PERMISSION_DENIED", "permission denied"},
	{MMIO__STATUS__INVALID_ARGUMENT, -EINVAL, "INVALID_ARGUMENT", "invalid argument"},
	{MMIO__STATUS__IO_ERROR, -EIO, "IO_ERROR", "device access failed"},
	{MMIO__STATUS__RESOURCE_EXHAUSTED, -ENOSPC, "RESOURCE_EXHAUSTED",
	 "a daemon limit was reached"},
	{MMIO__STATUS__CANCELLED, -ECANCELED, "CANCELLED",
	 "not run: an earlier operation of the batch failed"},
	{MMIO__STATUS__VERSION_MISMATCH, -EPROTONOSUPPORT, "VERSION_MISMATCH",
	 "daemon speaks another protocol version"},
	{MMIO__STATUS__TIMEOUT, -ETIMEDOUT, "TIMEOUT", "timed out"},
	{MMIO__STATUS__REVOKED, -EKEYREVOKED, "REVOKED", "the lease was revoked"},
};

#define STATUS_COUNT (sizeof(status_table) / sizeof(status_table[0]))

/* Client-side errors that have no wire status. */
static const struct status_entry local_table[] = {
	{MMIO__STATUS__STATUS_UNSPECIFIED, -EPROTO, "PROTOCOL_ERROR",
	 "protocol error: unexpected or malformed reply"},
	{MMIO__STATUS__STATUS_UNSPECIFIED, -ECONNRESET, "DISCONNECTED", "connection to mmiod lost"},
	{MMIO__STATUS__STATUS_UNSPECIFIED, -EMSGSIZE, "TOO_LARGE",
	 "request larger than the frame limit"},
	{MMIO__STATUS__STATUS_UNSPECIFIED, -ENOMEM, "NO_MEMORY", "out of memory"},
};

#define LOCAL_COUNT (sizeof(local_table) / sizeof(local_table[0]))

static const struct status_entry *
entry_of_errno(int err)
{
	for (size_t i = 0; i < STATUS_COUNT; i++) {
		if (status_table[i].err == err) {
			return &status_table[i];
		}
	}
	for (size_t i = 0; i < LOCAL_COUNT; i++) {
		if (local_table[i].err == err) {
			return &local_table[i];
		}
	}
	return NULL;
}

int
status_to_errno(Mmio__Status status)
{
	for (size_t i = 0; i < STATUS_COUNT; i++) {
		if (status_table[i].status == status) {
			return status_table[i].err;
		}
	}
	return -EPROTO;
}

Mmio__Status
status_from_errno(int err)
{
	if (err == -ENOMEM) {
		return MMIO__STATUS__RESOURCE_EXHAUSTED;
	}
	for (size_t i = 0; i < STATUS_COUNT; i++) {
		if (status_table[i].err == err) {
			return status_table[i].status;
		}
	}
	return MMIO__STATUS__IO_ERROR;
}

const char *
status_name_of_errno(int err)
{
	const struct status_entry *e = entry_of_errno(err);
	return e ? e->name : NULL;
}

const char *
status_message(int err)
{
	const struct status_entry *e = entry_of_errno(err);
	if (e) {
		return e->message;
	}
	/* -INT_MIN does not exist; no real errno is that large anyway. */
	if (err == INT_MIN) {
		return "unknown error";
	}
	/* strerror() is not thread-safe and libmmio-client is: same text, per-thread buffer. */
	static _Thread_local char buf[64];
	return strerror_r(err < 0 ? -err : err, buf, sizeof(buf));
}
