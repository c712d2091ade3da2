/*
 * Descriptors by name, as a restart hands them over: systemd's file descriptor store keeps
 * them under FDNAME=, a re-exec lists their numbers under the same names. The state refers
 * to descriptors by these names only.
 */
#ifndef MMIOD_NAMED_FDS_H
#define MMIOD_NAMED_FDS_H

#include <stddef.h>

struct named_fd {
	char *name;
	int fd; /* -1 once taken */
};

struct named_fds {
	struct named_fd *v;
	size_t n;
	size_t cap;
	size_t cursor; /* where the next take starts looking */
};

void named_fds_init(struct named_fds *t);

/* Records fd (not taken: the caller still owns it) under a copy of name. 0 or -ENOMEM. */
int named_fds_add(struct named_fds *t, const char *name, int fd);

/* Forgets the entries from n on (added last), closing nothing: an export that gave up. */
void named_fds_truncate(struct named_fds *t, size_t n);

/* The fd recorded under name, now the caller's, or -1 (no such name, or taken already). */
int named_fds_take(struct named_fds *t, const char *name);

/* Closes every fd not taken and frees the table; returns how many it closed. */
size_t named_fds_finish(struct named_fds *t);

/* Forgets every entry without closing anything (the fds were someone else's). */
void named_fds_forget(struct named_fds *t);

#endif
