/*
 * The one table that maps wire Status <-> negative errno <-> name. Every
 * status maps to a distinct errno, so nothing is lost on the way back to the
 * client; errors cross the wire only through this table.
 */
#ifndef MMIO_STATUS_H
#define MMIO_STATUS_H

#include "mmio.pb-c.h"

/* 0 for OK; -EPROTO for UNSPECIFIED or a value this build does not know. */
int status_to_errno(Mmio__Status status);

/* 0 -> OK; an errno from the table -> its status; -ENOMEM -> RESOURCE_EXHAUSTED; else IO_ERROR. */
Mmio__Status status_from_errno(int err);

/* "OUT_OF_RANGE", ...; for errnos outside the table, NULL. */
const char *status_name_of_errno(int err);

/* A sentence for err (negative errno), from the table or strerror. Never NULL. */
const char *status_message(int err);

#endif
