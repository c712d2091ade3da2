/* Leaving root for good before the first client byte is read. */
#ifndef MMIOD_PRIVDROP_H
#define MMIOD_PRIVDROP_H

#include <stddef.h>
#include <sys/types.h>

/*
 * Becomes uid/gid with no supplementary groups but gid, no capabilities and
 * no_new_privs, then proves that setuid(0) and setgid(0) fail. Returns 0, or a
 * negative errno with the reason in err (the caller must not serve then).
 */
int privdrop(uid_t uid, gid_t gid, char *err, size_t errlen);

#endif
